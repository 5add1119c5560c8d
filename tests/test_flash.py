"""`headroom flash` and the board commands end to end: the real mpremote transport and the
real command line against the virtual board (MicroPython VM, littlefs image), from an
empty image to a running firmware; the incremental cases, a power cut at a counted block,
a board resetting under a command, one program on the port at a time, a firmware that
does not start.

Every wait here is for an event (a reply, a line of output, a file) with a time-out only
a hang reaches; none is a guessed duration.
"""
import json
import os
import shutil
import subprocess
import sys
import time

from test_vboard import VBoard, needs_tools

from helpers import trace_records

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SE = os.path.join(REPO, "boards", "pico-se.json")
HEADROOM = [sys.executable, "-m", "headroom"]


def headroom(*args, timeout=180):
    p = subprocess.run(HEADROOM + list(args), capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def flash(port, board=SE, *more):
    rc, out, err = headroom("flash", "--board", board, "--port", port, *more)
    return rc, out + err


def copied(out):
    line = [x for x in out.splitlines() if "files to copy" in x]
    assert line, out
    return int(line[0].split(": ")[1].split(" of ")[0])


def status(port):
    rc, out, err = headroom("status", "--json", "--port", port, timeout=60)
    assert rc == 0, err
    return json.loads(out)


def no_traceback(text):
    assert "Traceback" not in text, text


@needs_tools
def test_flash_installs_then_copies_only_what_changed(tmp_path):
    vb = VBoard(tmp_path / "flash.img")
    try:
        rc, out = flash(vb.path)
        assert rc == 0, out
        no_traceback(out)
        total = copied(out)
        assert total >= 15 and "verified %d files" % total in out
        assert "Headroom 0.2.0 running" in out and "volume -30.0 dBV" in out  # it answered
        assert status(vb.path)["volume"] == -30.0

        rc, out = flash(vb.path)
        assert rc == 0 and copied(out) == 0 and "up to date" in out, out

        board = tmp_path / "pico-se.json"
        shutil.copy(SE, board)
        board.write_text(board.read_text().replace('"default_dbv": -30.0', '"default_dbv": -35.0'))
        rc, out = flash(vb.path, str(board))
        assert rc == 0 and copied(out) == 1, out         # only board.json

        # A file damaged on the board is found by its hash and copied again. The flash
        # waited for the board to answer, so mpremote can go straight on.
        vb.mpremote("exec", "f = open('headroom_fw/volume.mpy', 'wb'); f.write(b'junk'); f.close()")
        rc, out = flash(vb.path, str(board))
        assert rc == 0 and copied(out) == 1, out
    finally:
        vb.stop()


@needs_tools
def test_flash_then_status_ten_times_never_fails(tmp_path):
    vb = VBoard(tmp_path / "loop.img")
    try:
        for i in range(10):
            rc, out = flash(vb.path)
            assert rc == 0, (i, out)
            no_traceback(out)
            rc, sout, serr = headroom("status", "--port", vb.path)
            assert rc == 0 and "volume -30.0 dBV" in sout, (i, sout, serr)
            no_traceback(sout + serr)
    finally:
        vb.stop()


@needs_tools
def test_a_power_cut_at_a_block_of_a_flash_is_repaired_by_the_next_flash(tmp_path):
    vb = VBoard(tmp_path / "cut.img")
    try:
        # The power goes in the middle of the 30th block operation of the copy.
        assert vb.control("cut after 30 blocks") == "ok"
        rc, out = flash(vb.path)
        assert rc != 0, out
        no_traceback(out)
        vb.wait_stderr("power cut in the middle of a flash block operation")
        rc, out = flash(vb.path)
        assert rc == 0 and "verified" in out, out
        assert status(vb.path)["phase"] in ("boot", "unmuting", "playing")
    finally:
        vb.stop()


@needs_tools
def test_flash_keeps_a_setting_made_just_before_and_is_quiet_in_order(tmp_path):
    trace = tmp_path / "trace.jsonl"
    vb = VBoard(tmp_path / "quiet.img", args=["--trace", str(trace)])
    try:
        assert flash(vb.path)[0] == 0
        # Wait until the firmware plays, then change the volume and flash at once: well
        # inside the 3 s the firmware waits before it saves.
        from test_vboard import playing
        from test_vboard import status as vstatus
        vstatus(vb, until=playing)
        rc, out, err = headroom("set", "volume", "-24", "--port", vb.path)
        assert rc == 0 and out.strip() == "volume -24.0 dBV", err
        rc, out = flash(vb.path)
        assert rc == 0, out
        assert status(vb.path)["volume"] == -24.0         # saved on the way out, restored
    finally:
        vb.stop()
    recs = trace_records(trace)
    b = json.load(open(SE))
    xsmt, mute, relay = b["dac"]["xsmt"], b["pga2311"]["mute"], b["relays"]["mute"]["pin"]
    # The second flash's interrupt: the last time XSMT fell before the second-to-last boot.
    boots = [i for i, r in enumerate(recs) if r["kind"] == "boot"]
    last_boot = boots[-1]
    falls = [i for i, r in enumerate(recs[:last_boot])
             if r["kind"] == "pin" and r["pin"] == xsmt and r["level"] == 0]
    start = falls[-1]
    window = recs[start:last_boot]
    t = {}
    for r in window:
        if r["kind"] == "pin" and r["level"] == 0 and r["pin"] not in t:
            t[r["pin"]] = r["t_us"]
        if r["kind"] == "pin" and r["pin"] in (xsmt, mute, relay):
            assert r["level"] != 1, ("an output was unmuted between the interrupt and the new "
                                     "boot", r)
    # DAC first, the PGA2311 once the DAC's ramp is done, the relay once the PGA is quiet.
    assert t[xsmt] < t[mute] < t[relay], t
    assert t[mute] - t[xsmt] >= 2000 and t[relay] - t[mute] >= 16000, t
    jack = [r for r in window if r["kind"] == "chip" and r["chip"] == "jack"]
    assert jack and jack[-1]["state"]["left"] == "mute" and jack[-1]["state"]["right"] == "mute"


@needs_tools
def test_a_soft_reset_keeps_the_pins_driving_and_boot_py_mutes_in_order(tmp_path):
    # rp2: a soft reset (mpremote's raw REPL) leaves every GPIO as it was; boot.py, run
    # after every reset, mutes in order. GP25 (the Pico's LED, not on the board) shows
    # that a pin set in one session is still driven in the next.
    trace = tmp_path / "trace.jsonl"
    vb = VBoard(tmp_path / "soft.img", args=["--trace", str(trace)])
    try:
        rc, out = flash(vb.path)
        assert rc == 0, out
        from test_vboard import playing
        from test_vboard import status as vstatus
        vstatus(vb, until=playing)
        vb.mpremote("exec", "from machine import Pin; Pin(25, Pin.OUT, value=1)")
        out = vb.mpremote("exec", "from machine import Pin; print(Pin(25).value())")
        assert out.strip() == "1", out
        assert flash(vb.path)[0] == 0                       # and the firmware comes back
    finally:
        vb.stop()
    recs = trace_records(trace)
    soft = [i for i, r in enumerate(recs) if r["kind"] == "reset" and r["cause"] == "soft"]
    assert len(soft) >= 2, "no soft reset in the trace"
    # from the first soft reset to the next hard one, no pin was let go
    hard = [i for i, r in enumerate(recs) if r["kind"] == "reset" and r["cause"] != "soft"
            and i > soft[0]]
    end = hard[0] if hard else len(recs)
    assert not [r for r in recs[soft[0]:end] if r["kind"] == "pin" and r["level"] is None]
    from headroom.sim.invariants import Checker
    from headroom.sim.simboard import use_firmware
    use_firmware()
    from headroom_fw import board as boardfile
    c = Checker(boardfile.load(SE))
    for r in recs:
        c.feed(r)
    assert c.ok(), c.report()


@needs_tools
def test_one_program_on_the_port_and_set_beside_a_monitor(tmp_path):
    vb = VBoard(tmp_path / "busy.img")
    mon = None
    try:
        assert flash(vb.path)[0] == 0
        mon = subprocess.Popen(HEADROOM + ["monitor", "--port", vb.path], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
        first = mon.stdout.readline()          # the current state, printed first
        assert "volume -30.0 dBV" in first, first
        # The monitor holds the port: a flash and mpremote are turned away, and nothing of
        # theirs reaches the board; `set` goes through the monitor and gets its reply.
        rc, out = flash(vb.path)
        assert rc == 3 and "port busy" in out and "headroom monitor" in out, out
        p = subprocess.run([os.path.join(os.path.dirname(sys.executable), "mpremote"), "connect",
                            vb.path, "exec", "print(1)"], capture_output=True, text=True, timeout=60)
        assert p.returncode != 0
        rc, out, err = headroom("set", "volume", "-20", "--port", vb.path)
        assert rc == 0 and out.strip() == "volume -20.0 dBV", (rc, out, err)
        # ...and the monitor, undisturbed, prints the change.
        line = mon.stdout.readline()
        while "volume -20.0 dBV" not in line:
            assert line, "the monitor stopped"
            line = mon.stdout.readline()
        rc, out, err = headroom("status", "--port", vb.path)
        assert rc == 0 and "volume -20.0 dBV" in out
    finally:
        if mon is not None:
            mon.send_signal(2)
            out, err = mon.communicate(timeout=30)
            assert mon.returncode == 0 and "Traceback" not in err, err
        vb.stop()
    assert not os.path.exists(relay_sock(vb.path))


def relay_sock(port):
    from headroom.control import relay_path
    return relay_path(port)


def broken_firmware(tmp_path, module, old, new):
    fw = tmp_path / ("firmware-" + module)
    shutil.copytree(os.path.join(REPO, "firmware"), fw)
    path = fw / "headroom_fw" / module
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    return str(fw)


@needs_tools
def test_a_firmware_that_does_not_start_is_reported_with_what_the_board_printed(tmp_path):
    # main.py itself dies (an import fails): flash shows the board's own traceback.
    fw = broken_firmware(tmp_path, "lifecycle.py", "import time\n",
                         "import time\nraise RuntimeError('broken on purpose')\n")
    vb = VBoard(tmp_path / "broken.img")
    try:
        rc, out = flash(vb.path, SE, "--firmware", fw)
        assert rc == 1, out
        assert "the firmware did not start" in out and "broken on purpose" in out, out
        assert "headroom_fw/lifecycle.py" in out  # the .mpy names its source relative to firmware/
        assert str(REPO) not in out.split("did not start")[1]
        # Mended, it flashes and answers.
        rc, out = flash(vb.path)
        assert rc == 0 and "Headroom 0.2.0 running" in out, out
    finally:
        vb.stop()


@needs_tools
def test_a_firmware_that_keeps_failing_stays_up_muted_and_says_why(tmp_path):
    # The App fails at every boot: three muted restarts, then the fault state, which
    # answers `status` with the reason; flash reports it and exits 1.
    fw = broken_firmware(tmp_path, "app.py", "        self.waker = Waker()\n",
                         "        self.waker = Waker()\n        raise RuntimeError('broken on purpose')\n")
    vb = VBoard(tmp_path / "failing.img")
    try:
        rc, out = flash(vb.path, SE, "--firmware", fw)
        assert rc == 1, out
        assert "with faults" in out and "broken on purpose" in out and "3 failures in a row" in out, out
        no_traceback(out.split("faults")[0])
        s = status(vb.path)
        assert s["phase"] == "fault"
        rc, log, err = headroom("log", "--port", vb.path)
        assert rc == 0 and log.count("RuntimeError: broken on purpose") == 3, (log, err)
    finally:
        vb.stop()


@needs_tools
def test_commands_wait_for_a_board_that_resets(tmp_path):
    vb = VBoard(tmp_path / "reset.img")
    try:
        assert flash(vb.path)[0] == 0
        assert vb.control("power cycle") == "ok"
        # Issued while the board is away: each waits for it and answers.
        rc, out, err = headroom("status", "--port", vb.path)
        assert rc == 0 and "volume" in out, err
        no_traceback(err)
        assert vb.control("power off") == "ok"
        t0 = time.monotonic()
        rc, out, err = headroom("status", "--port", vb.path)
        assert rc == 3 and "no such port" in err and "waiting for" in err, err
        assert time.monotonic() - t0 < 30
        no_traceback(err)
    finally:
        vb.stop()
