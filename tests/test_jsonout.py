"""Replies written into a buffer made once (headroom_fw/jsonout.py): the same text as the
`%` formatting they replace, and nothing allocated for `status` or a state event on the
MicroPython VM - the whole App, its real UsbConsole on the model of rp2's USB port.

Before, a `status` reply allocated about 3.9 KB on the Unix port (2.75 KB on the rp2
tier): a host polling it made the GC run under the knob."""
import json
import os
import subprocess
import sys
import tempfile

import pytest
from hypothesis import given
from hypothesis import strategies as st

from headroom_fw import protocol
from headroom_fw.jsonout import JsonOut

from helpers import BALANCED, SE

MICROPYTHON = os.path.join(os.path.dirname(sys.executable), "micropython")
MP_BENCH = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                        "host_tools", "headroom", "sim", "mp_bench.py")


def _written(fn, v):
    out = JsonOut(4)  # smaller than any number: every write grows it
    out.raw(b"[")
    fn(out, v)
    out.raw(b"]")
    return out.line()


@given(st.integers(min_value=-(2 ** 30), max_value=2 ** 30 - 1))
def test_numbers_read_as_the_formatting_they_replace(v):
    assert _written(JsonOut.int, v) == "[%d]" % v
    assert _written(JsonOut.hdb, v) == "[%s]" % protocol.db_text(v)
    assert _written(JsonOut.cdb, v) == "[%s]" % protocol.cdb_text(v)
    assert json.loads(_written(JsonOut.hdb, v)) == [v / 2]


def test_null_and_booleans():
    out = JsonOut()
    out.cdb(None)
    out.bool(True)
    out.bool(False)
    assert out.line() == "nulltruefalse"


def test_a_reply_longer_than_the_buffer_grows_it_and_keeps_every_byte():
    out = JsonOut(8)
    for i in range(100):
        out.raw(b"ab")
        out.int(i)
    want = "".join("ab%d" % i for i in range(100))
    assert out.line() == want and len(out.buf) >= len(want)
    out.clear()
    out.raw(b"x")
    assert out.line() == "x"


def test_the_line_a_host_polls_is_read_in_place():
    """LineReader hands back the STATUS constant for `status` (spaces around it too),
    and a str for anything else."""
    for raw, want in ((b"status\n", "status"), (b"  status \n", "status"),
                      (b"statusx\n", "statusx"), (b"stat\n", "stat"), (b"status 1\n", "status 1")):
        reader = protocol.LineReader()
        got = [reader.feed(c) for c in raw][-1]
        assert got == want, raw
        assert (got is protocol.STATUS) == (want == "status"), raw


@pytest.mark.parametrize("board", [SE, BALANCED])
def test_status_and_state_events_allocate_nothing_on_the_micropython_vm(board):
    """The App on the MicroPython Unix port inside the simulator (mp_bench's `status`
    mode): 10 `status` replies with a headphone set and a host monitoring, then a turn's
    state events; the simulator's own bytes taken out."""
    with tempfile.TemporaryDirectory() as flash:
        # The simulator shares the VM's heap with the firmware: 1 MB was just enough until
        # the Pico W's parts came (the App then failed a `set headphone` for memory and
        # restarted, over and over); a larger heap is slower to collect. The firmware's
        # own heap is `make bench`'s figure.
        p = subprocess.run([MICROPYTHON, "-X", "heapsize=1250000", MP_BENCH, "status", board,
                            flash, "-", "10"], capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stdout + p.stderr
    r = json.loads(p.stdout.strip().splitlines()[-1])
    assert r["faults"] == 0 and r["status_passes"] > 10 and r["turn_passes"] > 20, r
    assert r["events"] >= 3, r
    last = json.loads(r["last"])
    assert last["event"] == "state" and last["headphone"]["name"] == "HD 600", last
    assert (r["status_bytes"], r["turn_bytes"]) == (0, 0), (board, r)
