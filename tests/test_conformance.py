"""The same firmware and simulator on CPython and on the MicroPython VM give the same trace.

Every scenario file and a seeded sample of random scripts run three ways:
CPython with firmware/*.py, the MicroPython Unix port with firmware/*.py, and
the MicroPython Unix port with the .mpy files mpy-cross makes for the board.
The traces must be identical byte for byte. On MicroPython every hard IRQ
handler runs with the heap locked, so an allocation in one fails the run.

`make test` runs every leg on the golden cases (the scenario files and the
three-position lever) and the first SHORT_SEEDS random scripts per board on the
two source legs (the .mpy files are the same code compiled: the golden cases
show the compiler keeps the traces). `make reliability` (HEADROOM_CONFORMANCE=all,
set by headroom.reliability) runs all SEEDS random scripts on all three legs.
"""
import os
import shutil
import subprocess
import sys

import pytest

from headroom import mpy
from headroom.sim import golden
from headroom.sim.run import run_script

from helpers import THREE_POS
from scriptgen import random_script

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
MICROPYTHON = os.path.join(os.path.dirname(sys.executable), "micropython")
MP_RUN = os.path.join(REPO, "host_tools", "headroom", "sim", "mp_run.py")
SEEDS = range(1, 41)  # 40 random scripts per board (make reliability)
SHORT_SEEDS = 4       # of those in make test (the time it has: 150 s in all; six until the Pico W)
ALL = os.environ.get("HEADROOM_CONFORMANCE") == "all"


@pytest.fixture(scope="session")
def mpy_dir(tmp_path_factory):
    d = str(tmp_path_factory.mktemp("mpy"))
    mpy.build(d)
    return d


def cpython_trace(board, text, tmp):
    path = os.path.join(tmp, "cp.trace")
    with open(path, "w") as sink:
        # The IRQ decoder on both VMs: the PIO emulator runs on CPython only.
        res = run_script(board, text, trace_sink=sink, keep_trace=False,
                         flash_dir=_fresh(tmp, "cpflash"), decoder="irq")
    assert not res.crashes and not res.faults
    with open(path) as f:
        return f.read()


def micropython_trace(board, text, tmp, firmware=None, tag="mp"):
    script = os.path.join(tmp, tag + ".scn")
    with open(script, "w") as f:
        f.write(text)
    out = os.path.join(tmp, tag + ".trace")
    args = [MICROPYTHON, "-X", "heapsize=8M", MP_RUN, board, script, out, _fresh(tmp, tag + "flash")]
    if firmware:
        args.append(firmware)
    p = subprocess.run(args, capture_output=True, text=True, timeout=120)
    with open(out) as f:
        trace = f.read()
    return p, trace


def _fresh(tmp, name):
    d = os.path.join(tmp, name)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    return d


def _same(label, cp, mp):
    diff = golden.first_difference(cp, mp)
    assert diff is None, "%s: MicroPython trace differs from CPython's\n%s" % (label, diff)


# (label, board, script, with the .mpy leg)
CASES = [(c[0], c[1], open(c[2]).read(), True) for c in golden.cases()]
for board_name in ("pico-se", "pico-balanced"):
    for seed in SEEDS if ALL else SEEDS[:SHORT_SEEDS]:
        CASES.append(("%s-random-%d" % (board_name, seed), os.path.join(REPO, "boards", board_name + ".json"),
                      random_script(seed * 7919 + len(board_name), board_name == "pico-balanced"),
                      ALL))


# A three-position gain switch: the middle's auto staging, a flick across it, bounce.
CASES.append(("pico-se-3pos-lever", THREE_POS, "\n".join((
    "power on", "wait 3000", "turn +40 at 50/s", "switch gain auto", "wait 1500", "expect gain high",
    "switch gain high bounce 2000", "wait 1500", "switch gain auto", "turn -30 at 20/s",
    "wait 1500", "switch gain low bounce 1500", "wait 1500", "expect gain low", "")), True))


@pytest.mark.parametrize("label,board,text,compiled", CASES, ids=[c[0] for c in CASES])
def test_micropython_vm_gives_the_cpython_trace(label, board, text, compiled, tmp_path, request):
    tmp = str(tmp_path)
    cp = cpython_trace(board, text, tmp)
    p, mp = micropython_trace(board, text, tmp)
    assert p.returncode in (0, 1) and "FAULT" not in p.stdout and "Traceback" not in p.stderr, (
        p.stdout + p.stderr)
    _same(label + " (.py)", cp, mp)
    if not compiled:
        return
    mpy_dir = request.getfixturevalue("mpy_dir")   # built only when a case needs it
    p, mpy_trace = micropython_trace(board, text, tmp, firmware=mpy_dir, tag="mpy")
    assert "FAULT" not in p.stdout and "Traceback" not in p.stderr, p.stdout + p.stderr
    _same(label + " (.mpy)", cp, mpy_trace)


def test_an_allocating_hard_irq_handler_is_caught(tmp_path):
    """The heap-lock check is real: a firmware whose encoder IRQ allocates fails on the VM."""
    fw = str(tmp_path / "fw")
    shutil.copytree(os.path.join(REPO, "firmware"), fw)
    enc = os.path.join(fw, "headroom_fw", "encoder.py")
    src = open(enc).read()
    bad = src.replace("    def _edge(self, pin):\n", "    def _edge(self, pin):\n        self.log = [pin]\n")
    assert bad != src
    with open(enc, "w") as f:
        f.write(bad)
    text = "power on\nwait 2000\nturn +2 at 5/s\n"
    board = os.path.join(REPO, "boards", "pico-se.json")
    p, trace = micropython_trace(board, text, str(tmp_path), firmware=fw)
    assert p.returncode == 1
    assert "hard IRQ handler" in p.stdout and "allocated memory" in p.stdout, p.stdout + p.stderr
    assert '"kind": "fault"' in trace
