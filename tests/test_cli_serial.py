"""`headroom status/get/set/monitor` end to end: the real command line, pyserial and a
pseudo-terminal, against the firmware running on a simulated board."""
import json
import os
import pty
import signal
import subprocess
import sys
import threading
import time
import tty

import pytest

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
    t.join(30)   # a loaded machine: the thread may be inside a pass still
    b.close()
    os.close(master)
    os.close(slave)


def run(*args, timeout=20):
    return subprocess.run(HEADROOM + list(args), capture_output=True, text=True, timeout=timeout)


def test_status_get_set(port):
    port = port[0]
    p = run("status", "--port", port)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == ("volume -30.0 dBV · balance 0.0 dB · gain low · output SE · "
                                "limit 6.0 dBV · playing")
    assert json.loads(run("status", "--json", "--port", port).stdout)["volume"] == -30.0
    p = run("set", "volume", "-24.5", "--port", port)
    assert p.returncode == 0 and p.stdout.strip() == "volume -24.5 dBV", p.stderr
    p = run("set", "volume", "-24.5", "--json", "--port", port)
    assert p.returncode == 0 and json.loads(p.stdout) == {"volume": -24.5}, p.stderr
    p = run("get", "volume", "--json", "--port", port)
    assert json.loads(p.stdout) == {"volume": -24.5}
    p = run("set", "balance", "1.5", "--port", port)
    assert p.stdout.strip() == "balance 1.5 dB towards the right"


def test_refused_set_exits_1_with_the_reason(port):
    port = port[0]
    p = run("set", "volume", "-24.3", "--port", port)
    assert p.returncode == 1 and "0.5 dB grid" in p.stderr
    p = run("set", "volume", "12", "--port", port)
    assert p.returncode == 1 and "outside -80.0..6.0 dBV" in p.stderr
    p = run("set", "limit", "12", "--port", port)
    assert p.returncode == 1


@pytest.mark.parametrize("args", [
    ["set", "loudness", "3", "--port", "/dev/null"], ["set", "volume", "--port", "/dev/null"],
    ["set", "defaults", "now", "--port", "/dev/null"], ["frobnicate"], ["status", "--bogus"],
    ["flash", "--board", "/nope/board.json", "--port", "/dev/null"],
    ["sim", "--board", "/nope/board.json"], ["boards", "check"],
    ["install-micropython", "--uf2", "/nope.uf2"],
])
def test_bad_input_exits_2_with_a_line_not_a_traceback(args):
    p = run(*args)
    assert p.returncode == 2, (args, p.stderr)
    assert "Traceback" not in p.stderr and p.stderr.strip(), p.stderr
    assert len(p.stderr.strip().splitlines()) <= 3, p.stderr


def test_missing_port_exits_3_after_waiting_for_it():
    p = run("status", "--port", "/dev/does-not-exist")
    assert p.returncode == 3 and "no such port: /dev/does-not-exist" in p.stderr
    assert "waiting for" in p.stderr and "Traceback" not in p.stderr


def test_monitor_prints_changes(port):
    port, actions = port
    mon = subprocess.Popen(HEADROOM + ["monitor", "--port", port], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
    import threading
    guard = threading.Timer(60, mon.kill)   # only a hang reaches it: readline then ends
    guard.start()
    first = mon.stdout.readline()      # the state, printed once it has asked for events
    actions.append(lambda b: b.turn(4, rate=20))  # someone turns the knob up 2 dB
    seen = []
    while not any(x.startswith("volume -28.0 dBV") for x in seen):
        line = mon.stdout.readline()   # an event line
        if not line:
            break
        seen.append(line.rstrip("\n"))
    guard.cancel()
    mon.send_signal(2)
    out, err = mon.communicate(timeout=10)
    lines = [first.rstrip("\n")] + seen + out.splitlines()
    assert lines[0].startswith(port + ": volume -30.0 dBV"), out  # the state first
    assert "Ctrl-C stops" in err
    assert any(x.startswith("volume -28.0 dBV") for x in lines[1:]), (out, err)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["sigint", "sigterm"])
def test_a_monitor_stops_on_sigint_and_sigterm_and_tells_the_board(port, sig):
    """Started the way a script's background job is (SIGINT ignored, inherited), the
    monitor still stops on `kill -INT`, and on SIGTERM, saying `monitor off` first."""
    port, actions = port
    mon = subprocess.Popen(HEADROOM + ["monitor", "--port", port], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True,
                           preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    guard = threading.Timer(60, mon.kill)   # only a hang reaches it
    guard.start()
    first = mon.stdout.readline()           # it holds the port and has asked for events
    mon.send_signal(sig)
    out, err = mon.communicate()
    guard.cancel()
    assert first.startswith(port + ": volume -30.0 dBV") and mon.returncode == 0, (first, err)
    assert "Traceback" not in err, err
    replies = []
    done = threading.Event()
    actions.append(lambda b: (replies.extend(b.console.out), done.set()))
    assert done.wait(10), "the board's thread stopped"
    assert any(json.loads(x).get("monitor") is False for x in replies if x.startswith("{")), replies


def test_bad_files_given_to_sim_exit_2_with_a_line(tmp_path):
    latin = tmp_path / "latin.scn"
    latin.write_bytes(b"power on\nwait 10 # caf\xe9\n")
    for args, words in (
            (["sim", "--script", str(latin)], "not UTF-8 text"),
            (["sim", "--trace", "/nonexistent/dir/x.jsonl"], "cannot write the trace"),
            (["sim", "--board", str(tmp_path / "missing.json"), "--script", str(latin)], "cannot read"),
    ):
        p = run(*args)
        assert p.returncode == 2 and words in p.stderr, (args, p.stderr)
        assert "Traceback" not in p.stderr


def test_a_misspelt_board_key_is_named_with_the_closest_known_one(tmp_path):
    d = json.load(open(SE))
    d["gain_swich"] = d.pop("gain_switch")
    bad = tmp_path / "typo.json"
    bad.write_text(json.dumps(d))
    for args in (["boards", "check", str(bad)], ["sim", "--board", str(bad)],
                 ["flash", "--board", str(bad), "--port", "/dev/null"]):
        p = run(*args)
        assert p.returncode == 2, (args, p.stderr)
        assert "gain_swich: unknown field (did you mean gain_switch?)" in p.stderr, p.stderr


def test_set_headphone_sends_the_figures_and_prints_the_spl(port, tmp_path):
    port = port[0]
    p = run("set", "headphone", "hd600", "--port", port)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "headphone Sennheiser HD 600 · volume -30.0 dBV · SPL 72.2 dB SPL"
    p = run("status", "--port", port)
    assert "headphone Sennheiser HD 600 · SPL 72.2 dB SPL · SPL limit 100.0 dB SPL" in p.stdout
    p = run("set", "spl_limit", "110", "--port", port)
    assert p.returncode == 1 and "long press" in p.stderr
    # An unknown name: neither the host's profiles nor the board's file have it.
    p = run("set", "headphone", "HD 60O", "--port", port)
    assert p.returncode == 2 and "did you mean HD 600?" in p.stderr and "the board:" in p.stderr
    own = tmp_path / "mine.json"
    own.write_text('{"headphones": 1, "profiles": [{"name": "Mine", "impedance": {"ohm": 0},'
                   ' "sensitivity": {"value": 100, "unit": "dB/mW"}}]}')
    p = run("set", "headphone", "Mine", "--profiles", str(own), "--port", port)
    assert p.returncode == 2 and "impedance.ohm" in p.stderr and "Traceback" not in p.stderr
    p = run("set", "headphone", "none", "--json", "--port", port)
    assert p.returncode == 0 and json.loads(p.stdout)["headphone"] is None
    p = run("set", "gain", "auto", "--port", port)
    assert p.returncode == 0 and p.stdout.strip() == "gain auto"


def test_negative_values_reach_the_board_and_minus_inf_is_refused_like_any_bad_value(port):
    port = port[0]
    p = run("set", "volume", "-20", "--port", port)
    assert p.returncode == 0 and p.stdout.strip() == "volume -20.0 dBV", p.stderr
    p = run("set", "volume", "-inf", "--port", port)
    assert p.returncode == 1 and "unrecognized" not in p.stderr, p.stderr
    assert p.stderr.startswith("headroom set: volume: not a number of dB"), p.stderr


def test_monitor_whose_reader_stops_exits_0(port):
    """`headroom monitor | head -1`: the reader goes after one line; the next event the
    monitor prints ends it, with 0 and no complaint about the board's port."""
    port, actions = port
    mon = subprocess.Popen(HEADROOM + ["monitor", "--port", port], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
    guard = threading.Timer(60, mon.kill)   # only a hang reaches it
    guard.start()
    first = mon.stdout.readline()           # what `head -1` takes
    mon.stdout.close()                      # and goes
    actions.append(lambda b: b.turn(2, rate=20))   # an event for the monitor to print
    err = mon.stderr.read()
    mon.wait()
    guard.cancel()
    assert first.startswith(port + ": volume"), first
    assert mon.returncode == 0, err
    assert "port failed" not in err and "Traceback" not in err and "Exception" not in err, err
