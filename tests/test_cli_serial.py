"""`headroom status/get/set/monitor` end to end: the real command line, pyserial and a
pseudo-terminal, against the firmware running on a simulated board."""
import json
import os
import pty
import subprocess
import sys
import threading
import time
import tty

import pytest

from headroom.sim import world
from headroom.sim.simboard import SimBoard

from helpers import SE

HEADROOM = [sys.executable, "-m", "headroom"]


@pytest.fixture
def port():
    """A pty whose other end is the simulated board's USB serial port, in real time."""
    master, slave = pty.openpty()
    tty.setraw(slave)
    name = os.ttyname(slave)
    b = SimBoard(SE, keep_trace=False)
    b.power(True)
    b.run_ms(2600)
    stop = threading.Event()
    actions = []  # callables run in the serving thread (the simulator is not thread-safe)

    def serve():
        sent = 0
        os.set_blocking(master, False)
        while not stop.is_set():
            try:
                data = os.read(master, 1024)
            except (BlockingIOError, OSError):
                data = b""
            if data:
                b.console.send(data)
            while actions:
                actions.pop(0)(b)
            b.run_ms(10)
            out = b.console.out
            while sent < len(out):
                os.write(master, out[sent].encode() + b"\r\n")
                sent += 1
            time.sleep(0.005)

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    yield name, actions
    stop.set()
    t.join(2)
    b.close()
    world.current = None
    os.close(master)
    os.close(slave)


def run(*args, timeout=20):
    return subprocess.run(HEADROOM + list(args), capture_output=True, text=True, timeout=timeout)


def test_status_get_set(port):
    port = port[0]
    p = run("status", "--port", port)
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["volume"] == -30.0
    p = run("set", "volume", "-24.5", "--port", port)
    assert p.returncode == 0 and json.loads(p.stdout) == {"volume": -24.5}, p.stderr
    p = run("get", "volume", "--port", port)
    assert json.loads(p.stdout) == {"volume": -24.5}


def test_refused_set_exits_1_with_the_reason(port):
    port = port[0]
    p = run("set", "volume", "-24.3", "--port", port)
    assert p.returncode == 1 and "0.5 dB grid" in p.stderr
    p = run("set", "limit", "12", "--port", port)
    assert p.returncode == 1


def test_bad_argument_exits_2():
    p = run("set", "loudness", "3", "--port", "/dev/null")
    assert p.returncode == 2


def test_missing_port_exits_3():
    p = run("status", "--port", "/dev/does-not-exist")
    assert p.returncode == 3 and "cannot open" in p.stderr


def test_monitor_prints_changes(port):
    port, actions = port
    mon = subprocess.Popen(HEADROOM + ["monitor", "--port", port], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
    time.sleep(2.0)  # let it ask for events
    actions.append(lambda b: b.turn(4, rate=20))  # someone turns the knob up 2 dB
    time.sleep(2.0)
    mon.send_signal(2)
    out, err = mon.communicate(timeout=10)
    events = [json.loads(x) for x in out.splitlines() if x.strip()]
    assert any(e.get("volume") == -28.0 for e in events), (out, err)
