"""The firmware's own USB console (headroom_fw/console.py) on the model of rp2's CDC port
(sim/cdc.py): a host that stops reading costs the knob nothing and never trips the
watchdog, gets the latest state when it reads again, and no command is lost; on the
MicroPython Unix port the console allocates nothing while idle or sending."""
import json
import os
import subprocess
import sys

import pytest

from headroom.bench_latency import _percentile, measure
from headroom.sim.cost import CALL
from headroom.sim.simboard import FIRMWARE_DIR, SimBoard

from helpers import SE, ask, await_reply, no_display, playing, until_playing

MICROPYTHON = os.path.join(os.path.dirname(sys.executable), "micropython")


@pytest.fixture
def board():
    b = playing(SE, decoder="irq")
    yield b
    b.close()


def _events(b):
    return [json.loads(x) for x in b.console.out if x.startswith('{"event"')]


def test_a_host_that_stops_reading_for_a_minute_costs_the_knob_nothing():
    """Monitor on, then the host stops reading for 61 s of virtual time while the knob
    turns (12 detents at 50/s, back and forth): every detent's latency (its last edge to
    the PGA2311 frame) is no worse than with no host at all or with a host that reads,
    no write ever waits for the host, and the watchdog never resets the board."""
    stalled_info, reading_info = {}, {}
    # Without the display: its spans fall between detents as they come in each run, and
    # its own cost is bench_display's (knob latency with and without it, side by side).
    board = no_display(SE)
    stalled = measure(board, "irq", 50, 12, repeats=35, host="stalled", info=stalled_info)
    reading = measure(board, "irq", 50, 12, repeats=6, host="reading", info=reading_info)
    alone = measure(board, "irq", 50, 12, repeats=6)
    assert stalled_info["virtual_s"] >= 60 and len(stalled) == 35 * 12
    assert stalled_info["resets"] == 0 and stalled_info["waited_ms"] == 0
    assert stalled_info["events"] == 0     # the host read nothing meanwhile
    assert reading_info["events"] > 0      # the reading host did get events
    for p in (50, 99):
        assert _percentile(stalled, p) <= _percentile(alone, p), p
        assert _percentile(stalled, p) <= _percentile(reading, p), p
    # The loop sleeps between detents now: a detent that lands while a pass sets up its
    # sleep (the waker's Timer, a few calls) waits for them, wherever the host is. A
    # write that waited for the host would cost milliseconds.
    assert max(stalled) <= max(reading) + 3 * CALL[0]


def test_a_host_that_reads_again_gets_the_latest_state_not_a_backlog(board):
    assert ask(board, "monitor on") == {"ok": True, "monitor": True}
    board.console.stop_reading()
    changes = board.app.ctl.changes
    for i in range(6):                      # a minute of turns the host does not read
        board.run_us(board.turn(+3 if i % 2 == 0 else -1, rate=5))
        board.run_ms(10000)
    changes = board.app.ctl.changes - changes
    assert board.sim.resets == 0 and board.console.waited_us == 0
    n = len(board.console.out)
    board.console.start_reading()
    board.run_ms(200)
    late = [json.loads(x) for x in board.console.out[n:]]
    # What the port's 256-byte FIFO held and the line that was going out when it filled,
    # then the latest state once: not one event per change.
    shortest = min(len(x) + 1 for x in board.console.out[n:])
    assert 1 <= len(late) <= 256 // shortest + 2 < changes, (late, changes)
    assert late[-1]["event"] == "state" and late[-1]["volume"] == board.app.ctl.volume / 2
    s = ask(board, "status")
    assert s["volume"] == late[-1]["volume"] > -30.0    # the turns moved it; the host saw where to


def test_commands_sent_while_the_host_does_not_read_are_answered_once_it_does(board):
    assert ask(board, "monitor on")["ok"]
    board.console.stop_reading()
    board.run_us(board.turn(+2, rate=5))    # events fill the port's FIFO: nothing goes out
    board.run_ms(500)
    n = len(board.console.replies())
    board.console.send("set volume -40\nget volume\n")
    board.run_ms(2000)
    board.console.start_reading()
    first = json.loads(await_reply(board, n))
    second = json.loads(await_reply(board, n + 1))
    assert first == {"ok": True, "volume": -40.0} and second == {"ok": True, "volume": -40.0}
    assert board.sim.resets == 0


def test_lines_sent_together_get_one_reply_each_in_order(board):
    n = len(board.console.replies())
    board.console.send("get volume\nget limit\nversion\nbogus\nget mute\n")
    replies = [json.loads(await_reply(board, n + i)) for i in range(5)]
    assert replies[0] == {"ok": True, "volume": -30.0}
    assert replies[1] == {"ok": True, "limit": 6.0}
    assert replies[2]["protocol"] == 1
    assert replies[3]["ok"] is False and "bogus" in replies[3]["error"]
    assert replies[4] == {"ok": True, "mute": False}


def test_a_reply_is_never_cut_by_an_event(board):
    """A long reply goes out over several passes; a turn meanwhile does not put an event
    inside it: every line the host receives is whole JSON."""
    assert ask(board, "monitor on")["ok"]
    n = len(board.console.out)
    board.console.send("status\n")
    board.run_us(board.turn(+4, rate=50))
    board.run_ms(300)
    lines = board.console.out[n:]
    assert any('"uptime_s"' in x for x in lines)
    assert [json.loads(x) for x in lines]
    assert _events(board)[-1]["volume"] == board.app.ctl.volume / 2 > -30.0


_ALLOC = r"""
import gc, sys
sys.path.insert(0, %r)
from headroom_fw import protocol
from headroom_fw.console import UsbConsole
con = UsbConsole()
reader = protocol.LineReader()
def answer(line):
    return REPLY
REPLY = '{"ok": true, "volume": -30.0, "x": "%%s"}' %% ("y" * 400)
def idle(n):
    for _ in range(n):
        protocol.serve(con, reader, answer)
        con.flush()
idle(3)
gc.collect()
a = gc.mem_alloc()
idle(1000)
idle_bytes = gc.mem_alloc() - a
# A reply made beforehand, then sent through the real stdout a share a pass
con.write_line(REPLY)
gc.collect()
a = gc.mem_alloc()
while con.busy():
    con.flush()
send_bytes = gc.mem_alloc() - a
sys.stderr.write("%%d %%d\n" %% (idle_bytes, send_bytes))
"""


def test_the_console_allocates_nothing_on_the_micropython_unix_port(tmp_path):
    """The real UsbConsole on the Unix port's own sys.stdin, sys.stdout and select (pipes):
    1000 idle passes of protocol.serve, and a 439-byte line sent, allocate 0 bytes."""
    script = tmp_path / "alloc.py"
    script.write_text(_ALLOC % FIRMWARE_DIR)
    # stdin a pipe kept open with nothing in it (idle, not end of file)
    p = subprocess.Popen([MICROPYTHON, str(script)], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert p.wait(timeout=60) == 0
        out, err = p.stdout.read(), p.stderr.read()
    finally:
        p.kill()
        for f in (p.stdin, p.stdout, p.stderr):
            f.close()
        p.wait()
    idle_bytes, send_bytes = (int(x) for x in err.split())
    assert (idle_bytes, send_bytes) == (0, 0)
    assert out == b'{"ok": true, "volume": -30.0, "x": "%s"}\n' % (b"y" * 400)


class _Port:
    """A console for protocol.serve alone: bytes waiting, lines taken, a line that stays
    `busy` until flushed."""

    def __init__(self, data):
        self.data = bytearray(data)
        self.out = []
        self.line = None

    def read_byte(self):
        return self.data.pop(0) if self.data else None

    def busy(self):
        return self.line is not None

    def write_line(self, text, n=-1):
        if self.line is not None:
            return False
        self.line = text if n < 0 else bytes(text[:n]).decode()  # a copy (JsonOut)
        return True

    def flush(self):
        if self.line is not None:
            self.out.append(self.line)
            self.line = None
        return True


def test_one_reply_a_pass_and_nothing_read_while_a_line_goes_out():
    from headroom_fw import protocol
    port = _Port(b"version\nversion\nversion\n")
    reader = protocol.LineReader()
    answered = []

    def answer(line):
        answered.append(line)
        return "{}"

    protocol.serve(port, reader, answer)
    assert answered == ["version"] and port.data == b"version\nversion\n"
    protocol.serve(port, reader, answer)        # the reply has not gone: nothing read
    assert answered == ["version"] and port.data == b"version\nversion\n"
    port.flush()
    protocol.serve(port, reader, answer)
    assert answered == ["version"] * 2 and port.data == b"version\n"


def test_a_long_line_keeps_the_board_deaf_no_longer_than_it_takes_to_read(board):
    """100 KB without a newline, then `status`: the overlong line is refused whole and
    `status` answered in time proportional to the line (a share of the bytes a pass, the
    next pass 1 ms later while more wait, the dropped rest at half cost), not one share
    per 10 ms idle sleep (15.7 s on the virtual board before). Virtual time, both replies
    counted on the host's side."""
    n = len(board.console.replies())
    t0 = board.now_us()
    board.console.send("x" * 100_000 + "\nstatus\n")
    err = json.loads(await_reply(board, n, within_ms=20000))
    st = json.loads(await_reply(board, n + 1, within_ms=20000))
    took_ms = (board.now_us() - t0) / 1000
    assert err["ok"] is False and "too long" in err["error"], err
    assert st["phase"] == "playing" and board.sim.resets == 0
    assert took_ms < 6000, took_ms      # 100 KB at >= 16 KB/s of virtual time


@pytest.mark.parametrize("release,written,waited_ms", [
    ((1, 24, 1), 10, 1000),   # waits for room for a whole 64-byte chunk, twice
    ((1, 26, 1), 10, 500),    # writes the 10 that fit at once, then waits for the rest
])
def test_the_ports_write_to_a_host_that_stopped_reading_by_release(release, written, waited_ms):
    """mp_usbd_cdc_tx_strn differs between releases (1.26.1 rewrote its TX loop): a 64-byte
    write with 10 bytes of room in the FIFO of a connected host that reads nothing."""
    b = SimBoard(SE, decoder="irq")
    try:
        b.sim.micropython = release
        cdc = b.console
        cdc.stop_reading()
        cdc.fifo.extend(bytes(246))
        t0 = b.sim.now()
        assert cdc.tx(b"x" * 64, 0, 64) == written
        assert (b.sim.now() - t0) // 1000 == waited_ms == cdc.waited_us // 1000
        assert len(cdc.fifo) == 256
    finally:
        b.close()


@pytest.mark.parametrize("release", [(1, 24, 1), (1, 26, 1)])
def test_the_firmware_never_waits_for_a_stalled_host_on_either_release(release):
    """The console writes a byte per POLLOUT, so neither release's TX loop ever waits."""
    b = SimBoard(SE, decoder="irq")
    try:
        b.sim.micropython = release
        b.power(True)
        until_playing(b)
        assert ask(b, "monitor on")["ok"]
        b.console.stop_reading()
        for i in range(4):
            b.run_us(b.turn(+3 if i % 2 == 0 else -1, rate=5))
            b.run_ms(2000)
        assert len(b.console.fifo) == 256                  # the FIFO did fill
        assert b.console.waited_us == 0 and b.sim.resets == 0
    finally:
        b.close()
