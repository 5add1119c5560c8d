"""A person's hands on the virtual board: the scenario language's input lines on its control
socket (`headroom virtual-board --send`), run on the simulated board's pins while the
flashed firmware runs, and what the firmware then reports (`status`, `monitor`) and the
hardware did (the trace: the encoder's step, the jack's level).

Every wait is for an event (an answer, a reply that changed, a line of output) with a
time-out only a hang reaches; none is a guessed duration. An input is answered once it is
over on the board's clock.
"""
import json
import os
import select
import subprocess
import sys
import time

import pytest
from test_flash import HEADROOM, flash, headroom, no_traceback
from test_vboard import VBoard, needs_tools
from test_vboard import status as vstatus

from helpers import trace_records

pytestmark = needs_tools


@pytest.fixture(scope="module")
def board(tmp_path_factory):
    """One flashed virtual board for the module, with its trace; the tests change its
    state only relative to what they find."""
    folder = tmp_path_factory.mktemp("inputs")
    trace = folder / "trace.jsonl"
    vb = VBoard(folder / "flash.img", args=["--trace", str(trace)])
    vb.trace = str(trace)
    try:
        rc, out = flash(vb.path)
        assert rc == 0, out
        yield vb
    finally:
        vb.stop()


def send(vb, *lines, timeout=120):
    args = ["virtual-board", "--port", vb.path]
    for line in lines:
        args += ["--send", line]
    return headroom(*args, timeout=timeout)


def playing(vb):
    return vstatus(vb, until=lambda s: s.get("phase") == "playing")


def jack_levels(recs):
    """The jack model's (left, right) levels, in order."""
    return [(r["state"]["left"], r["state"]["right"]) for r in recs
            if r["kind"] == "chip" and r["chip"] == "jack"]


def jack_at(vb, volume, timeout=30):
    """Wait until the jack model's level (both channels) is the volume's: at most 0.5 dB
    under it, never over (a fade-in over); the trace records up to then."""
    end = time.monotonic() + timeout
    while True:
        recs = trace_records(vb.trace)
        levels = jack_levels(recs)
        if levels and all(isinstance(x, float) and volume - 0.5 < x <= volume
                          for x in levels[-1]):
            return recs
        assert time.monotonic() < end, ("the jack never reached %.1f dBV" % volume, levels[-3:])
        time.sleep(0.05)


def test_a_turn_over_the_control_path_moves_the_volume_status_reports(board):
    v0 = playing(board)["volume"]
    n0 = len(jack_at(board, v0))
    rc, out, err = send(board, "turn +4")     # 10 detents/s: slow, 0.5 dB a detent
    assert (rc, out) == (0, "turn +4: done\n"), err
    s = vstatus(board, until=lambda s: s["volume"] != v0)
    assert s["volume"] == v0 + 2.0, s
    # The hardware did it: the step, the encoder's contacts, and the jack 2 dB louder.
    recs = jack_at(board, v0 + 2.0)[n0:]
    steps = [r for r in recs if r["kind"] == "step"]
    assert [r["text"] for r in steps] == ["turn +4"]
    assert any(r["kind"] == "input" and r["what"] == "turn" and r["detents"] == 4 for r in recs)
    # ...through the PGA2311: its code 4 steps (of 0.5 dB) up, on both channels.
    pga = [r["state"] for r in recs if r["kind"] == "chip" and r["chip"] == "pga2311.0"]
    first = [r["state"] for r in trace_records(board.trace)[:n0]
             if r["kind"] == "chip" and r["chip"] == "pga2311.0"][-1]
    assert pga[-1]["left"] - first["left"] == 2.0 and pga[-1]["right"] - first["right"] == 2.0


class Lines:
    """A process's output a line at a time, each waited for (select on the pipe itself: no
    line kept unseen in a reader's buffer)."""

    def __init__(self, proc):
        self.fd = proc.stdout.fileno()
        self.buf = b""

    def next(self, timeout=60):
        end = time.monotonic() + timeout
        while b"\n" not in self.buf:
            r, _, _ = select.select([self.fd], [], [], max(0, end - time.monotonic()))
            assert r, "no line from the monitor"
            data = os.read(self.fd, 4096)
            assert data, "the monitor stopped"
            self.buf += data
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)


def test_a_knob_turned_on_the_virtual_board_shows_up_in_headroom_monitor(board):
    v0 = playing(board)["volume"]
    mon = subprocess.Popen(HEADROOM + ["monitor", "--json", "--port", board.path],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines = Lines(mon)
    try:
        first = lines.next()        # the state first: the monitor holds the port
        assert first["volume"] == v0
        rc, out, err = send(board, "turn -2", "press")
        assert rc == 0 and out == "turn -2: done\npress: done\n", err
        seen = []
        while not (seen and seen[-1]["volume"] == v0 - 1.0 and seen[-1]["mute"]):
            ev = lines.next()
            assert ev["event"] == "state"
            seen.append(ev)
        # The turn first (one event per detent), then the click's mute.
        assert [e["volume"] for e in seen if not e["mute"]][-1] == v0 - 1.0
        # `status` beside the monitor (through it) says the same.
        rc, out, err = headroom("status", "--json", "--port", board.path)
        assert rc == 0 and json.loads(out)["mute"] is True, err
        rc, out, err = send(board, "press")
        assert rc == 0, err
        while seen[-1]["mute"]:
            seen.append(lines.next())
    finally:
        mon.send_signal(2)
        _, err = mon.communicate(timeout=30)
        assert "Traceback" not in err, err


def test_a_raised_limit_is_confirmed_by_a_long_press_over_the_control_path(board):
    lim = playing(board)["limit"]
    low = lim - 3.0
    rc, out, err = headroom("set", "limit", "%.1f" % low, "--port", board.path)
    assert rc == 0 and out.strip() == "limit %.1f dBV" % low, err
    # Raising it back is only asked for: refused until the long press...
    rc, out, err = headroom("set", "limit", "%.1f" % lim, "--port", board.path)
    assert rc == 1 and "needs a long press on the board within 10 s" in err, err
    assert vstatus(board)["limit"] == low
    # ...which the board's button gives: held 1 s (the board's long press is 0.8 s).
    rc, out, err = send(board, "hold 1000")
    assert (rc, out) == (0, "hold 1000: done\n"), err
    s = vstatus(board, until=lambda s: s["limit"] != low)
    assert s["limit"] == lim and s["mode"] == "volume", s   # a confirmation, not balance mode


def test_a_bad_input_line_gets_a_clear_error_and_changes_nothing(board):
    before = playing(board)
    n0 = len(trace_records(board.trace))
    for line, code, words in (("turn 5", 2, "sign required"),
                              ("turn +2 at 0/s", 2, "rate must be 0.1/s to 2000/s"),
                              ("hold", 2, "use 'hold MS'"),
                              ("expect muted", 2, "is for scenario scripts, not an input"),
                              ("boil the kettle", 2, "unknown command 'boil'"),
                              ("switch output balanced", 1, "this board has no output switch")):
        rc, out, err = send(board, line)
        assert rc == code and words in err and out == "", (line, rc, out, err)
        no_traceback(err)
    # The socket itself says the same to any client, and the first bad line of several
    # stops the rest before anything is sent.
    assert board.control("turn 5").startswith("error: use 'turn +N' or 'turn -N'")
    assert board.control("").startswith("error: an empty line")
    rc, out, err = send(board, "turn +1", "turn")
    assert rc == 2 and out == "", err
    # No option of a board's own with --send, and no port: bad input.
    rc, out, err = headroom("virtual-board", "--send", "press")
    assert rc == 2 and "--port" in err, err
    rc, out, err = headroom("virtual-board", "--port", board.path, "--image", "x.img",
                            "--send", "press")
    assert rc == 2 and "--image" in err, err
    # No virtual board there: no board to talk to.
    rc, out, err = headroom("virtual-board", "--port", board.path + "-gone", "--send", "press")
    assert rc == 3 and "no virtual board's control socket" in err, err
    # Nothing reached the board: no step in the trace, the state as it was.
    assert not [r for r in trace_records(board.trace)[n0:] if r["kind"] in ("step", "input")]
    after = vstatus(board)
    assert {k: after[k] for k in ("volume", "mute", "limit", "gain", "output")} == \
        {k: before[k] for k in ("volume", "mute", "limit", "gain", "output")}


def test_an_input_needs_the_firmware_running(tmp_path):
    """Off, or at its REPL, the board refuses an input at once (exit 1), saying why."""
    vb = VBoard(tmp_path / "off.img", args=["--lenient-watchdog"])
    try:
        # An empty image: no main.py, so the board sits at its REPL.
        vb.wait_port()
        end = time.monotonic() + 60
        while True:
            rc, out, err = send(vb, "press")
            if "not running" in err or time.monotonic() > end:
                break
        assert rc == 1 and "the firmware is not running" in err, err
        assert vb.control("power off") == "ok"
        rc, out, err = send(vb, "turn +1")
        assert rc == 1 and "the board is off (power on first)" in err, err
        assert not os.path.exists(vb.path)
    finally:
        vb.stop()


def test_the_attached_panel_turns_the_knob_and_shows_what_the_firmware_reports(board):
    """`headroom panel --attach PORT` in Textual's headless pilot: the keys go to the
    virtual board as inputs, the screen shows its firmware's state, and other commands
    still reach the board (through the panel's relay)."""
    import asyncio

    from headroom.panel.attached import Attached
    from headroom.panel.attached_app import AttachedApp
    from headroom.panel.screenshot import svg_text

    v0 = playing(board)["volume"]

    def screen(app):
        return "\n".join(svg_text(app.export_screenshot()))

    async def until(app, pilot, cond, what, timeout=60):
        end = time.monotonic() + timeout
        while True:
            if cond():
                # What made it true may have come after the last refresh: show it, and let
                # the app draw it, before the caller reads the screen.
                app.refresh_panel()
                await pilot.pause()
                return
            assert time.monotonic() < end, what
            app.refresh_panel()
            await pilot.pause(0.05)

    def volume(hands):
        s = hands.watcher.state
        return s.get("volume") if s else None

    async def go():
        hands = Attached(board.path)
        app = AttachedApp(hands)              # live: its own timer polls the board too
        async with app.run_test(size=(120, 32)) as pilot:
            await until(app, pilot, lambda: volume(hands) == v0, "the board's state")
            assert "volume  %+.1f dBV" % v0 in screen(app)
            await pilot.press("right")
            await pilot.press("right")          # the first two detents: 0.5 dB each
            await until(app, pilot, lambda: not hands.in_flight, "the answers")
            await until(app, pilot, lambda: volume(hands) == v0 + 1.0, "the new volume")
            text = screen(app)
            assert "volume  %+.1f dBV" % (v0 + 1.0) in text
            assert "input turn +1 at 10/s" in text and " done" in text
            # Beside the attached panel, `headroom status` gets its reply through it.
            rc, out, err = headroom("status", "--json", "--port", board.path)
            assert rc == 0 and json.loads(out)["volume"] == v0 + 1.0, err
            # What the board refuses shows as the panel's message, and changes nothing.
            await pilot.press("o")              # pico-se has no output switch
            await until(app, pilot, lambda: not hands.in_flight, "the refusal")
            assert "this board has no output switch" in screen(app)
            await pilot.press("m")              # pico-se's music is the Pico's own
            await until(app, pilot, lambda: not hands.in_flight, "the refusal")
            assert "this board's music comes from the Pico" in screen(app)
            await pilot.press("r")              # the Apple remote's up, at the receiver
            await until(app, pilot, lambda: volume(hands) == v0 + 1.5, "the remote's step")
            await until(app, pilot, lambda: not hands.in_flight, "the remote's answer")
            assert "input ir apple up" in screen(app)
            await pilot.press("b")              # no held button on an attached board
            assert "needs the simulated panel" in screen(app)
            assert volume(hands) == v0 + 1.5
    asyncio.run(go())


def test_attach_refuses_what_is_not_for_it(tmp_path):
    """Without a terminal, or with the simulated panel's own options: bad input, exit 2."""
    port = str(tmp_path / "ttyACM0")
    for args, words in ((["--attach", port], "--attach needs a terminal"),
                        (["--attach", port, "--save", str(tmp_path / "s.scn")],
                         "--save: for the simulated panel, not with --attach"),
                        (["--control", port + ".control"], "--control goes with --attach")):
        rc, out, err = headroom("panel", *args)
        assert rc == 2 and words in err, (args, rc, err)
        no_traceback(err)


def test_an_input_cut_short_by_a_power_cycle_is_answered_so(board):
    import socket
    playing(board)
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(60)
        s.connect(board.control_path)
        s.sendall(b"hold 20000\n")            # 20 s: the power goes long before it is over
        rc, out, err = send(board, "power cycle")
        assert (rc, out) == (0, "power cycle: done\n"), err
        answer = s.recv(4096).decode()
    assert answer == "error: the board restarted (power, reset) before the input was over\n"
    assert playing(board)["phase"] == "playing"   # and the board is back, taking inputs
    rc, out, err = send(board, "press", "press")
    assert rc == 0, err


def test_a_full_flash_on_the_virtual_board_never_stops_the_music(board):
    """`fault flash full` on the control socket: the image refuses every program and erase
    with ENOSPC (littlefs raises OSError 28). The knob still moves the jack, the firmware
    does not restart, `headroom status` says the settings are not saved and why; after
    `fault flash ok` the next retry saves, and the log has the failure once."""
    s0 = playing(board)
    v0 = s0["volume"]
    try:
        rc, out, err = send(board, "fault flash full", "turn +2")
        assert (rc, out) == (0, "fault flash full: done\nturn +2: done\n"), err
        jack_at(board, v0 + 1.0)                       # the level moved at the jack
        s = vstatus(board, until=lambda s: s.get("settings_error"))
        assert s["settings_error"].startswith("the flash is full (OSError "), s
        assert s["phase"] == "playing" and s["uptime_s"] >= s0["uptime_s"]  # no restart
        rc, out, err = headroom("status", "--port", board.path)
        assert rc == 0 and "settings not saved: the flash is full" in out, (out, err)
    finally:
        rc, out, err = send(board, "fault flash ok")
        assert (rc, out) == (0, "fault flash ok: done\n"), err
    s = vstatus(board, timeout=90, until=lambda s: s.get("settings_error") is None)
    assert s["settings_error"] is None and s["uptime_s"] >= s0["uptime_s"], s
    rc, out, err = headroom("log", "--port", board.path)
    assert rc == 0 and out.count("settings not saved: the flash is full") == 1, out


def test_any_line_gets_a_short_error_and_the_board_lives_on(board):
    """A number past int()'s 4300 digits, on the control socket and with --send, and a
    10 MB token: a short error each, no traceback, and the same board answers after."""
    huge = "turn +" + "9" * 5000
    answer = board.control(huge)
    assert answer.startswith("error: detents ") and len(answer) < 300, answer[:400]
    answer = board.control("boil " + "x" * 10_000_000)
    assert answer.startswith("error: ") and len(answer) < 400, answer[:500]
    rc, out, err = send(board, huge)
    assert rc == 2 and out == "" and len(err) < 400, (rc, err[:500])
    no_traceback(err)
    assert board.proc.poll() is None, board.stop()
    assert board.control("turn +0") == "ok"     # the board takes inputs still


def test_the_levers_stay_where_they_are_across_a_power_cycle(board):
    """A switch is a lever: `power cycle` does not move it, and the firmware finds it
    where it was at power-on (as in `headroom sim`)."""
    before = playing(board)["gain"]
    other = "high" if before == "low" else "low"
    try:
        rc, out, err = send(board, "switch gain " + other)
        assert rc == 0, err
        assert vstatus(board, until=lambda s: s["gain"] == other)["gain"] == other
        rc, out, err = send(board, "power cycle")
        assert rc == 0, err
        s = playing(board)
        assert s["gain"] == other, s
    finally:
        send(board, "switch gain " + before)


def test_a_second_virtual_board_on_the_same_port_is_refused(board, tmp_path):
    """The first board keeps its port and its control socket (as it keeps its image)."""
    p = subprocess.run([sys.executable, "-m", "headroom.vboard", "--image",
                        str(tmp_path / "other.img"), "--port", board.path],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 2 and "port of another virtual board" in p.stderr, p.stderr
    assert os.path.islink(board.path) and board.control("turn +0") == "ok"


def test_a_long_line_is_refused_and_the_next_one_answered(board):
    """10 KB without a newline on the serial port, then `status`: the overlong line is
    refused whole and `status` answered, on the real MicroPython port over a pty. How
    fast is measured on the virtual clock (test_console.py: 100 KB in 4.7 s of the
    board's time, 21.7 s before), not here: wall time depends on the machine."""
    playing(board)
    ser = board.serial()
    try:
        t0 = time.monotonic()
        ser.write(b"x" * 10_000 + b"\nstatus\n")
        got = b""
        end = t0 + 60
        while b'"phase"' not in got and time.monotonic() < end:
            got += ser.read(4096)
        took = time.monotonic() - t0
    finally:
        ser.close()
    assert b"line too long" in got and b'"phase"' in got, (round(took, 2), got[-300:])


def test_headroom_remote_learn_takes_a_key_sent_on_the_virtual_board(board):
    """`headroom remote learn volume_up` arms the board; the key comes from a remote on
    the virtual board's IR receiver (an input line); the CLI says what it learned, the
    key then turns the volume, and `headroom remote` lists it. Every wait is an event:
    the CLI's prompt, the input's answer, the reply that changed."""
    v0 = playing(board)["volume"]
    learn = subprocess.Popen(HEADROOM + ["remote", "learn", "volume_up", "--port", board.path],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        prompt = learn.stderr.readline()
        assert "press the remote's key for volume up" in prompt, prompt
        rc, out, err = send(board, "ir sony 0x01 0x12")
        assert rc == 0 and out == "ir sony 0x01 0x12: done\n", err
        out, err = learn.communicate(timeout=60)
        assert learn.returncode == 0, err
        assert out == "volume_up: sony 0x01 0x12\n"
    finally:
        if learn.poll() is None:
            learn.kill()
            learn.wait()
    rc, out, err = send(board, "ir sony 0x01 0x12", "ir nec 0x00 0x46")
    assert rc == 0, err
    s = vstatus(board, until=lambda s: s["volume"] != v0)
    assert s["volume"] == v0 + 0.5          # the new key; the kit remote's VOL+ is no more
    rc, out, err = headroom("remote", "--port", board.path)
    assert rc == 0 and "volume up    sony 0x01 0x12\n" in out, (out, err)
    no_traceback(out + err)
    rc, out, err = headroom("remote", "defaults", "--port", board.path)
    assert rc == 0 and "volume up    apple 0x0b, nec 0x00 0x46" in out, (out, err)
    rc, out, err = headroom("remote", "learn", "louder", "--port", board.path)
    assert rc == 2 and "no function louder" in err and not out


def test_headroom_standby_sleeps_and_wakes_the_virtual_board(board):
    playing(board)
    rc, out, err = headroom("standby", "on", "--port", board.path)
    assert (rc, out) == (0, "standby on\n"), err
    s = vstatus(board, until=lambda s: s.get("phase") == "standby")
    assert s["trigger"] is False
    rc, out, err = headroom("standby", "--port", board.path)
    assert (rc, out) == (0, "standby on\n"), err
    rc, out, err = send(board, "press")          # a press wakes it
    assert rc == 0, err
    s = vstatus(board, until=lambda s: s.get("phase") == "playing" and s.get("trigger"))
    assert s["standby"] is False
    rc, out, err = headroom("input", "--port", board.path)
    assert rc == 0 and out == "input (one: the board has no inputs section)\n", err
    rc, out, err = headroom("input", "usb", "--port", board.path)
    assert rc == 1 and "this board has one" in err and not out


def test_a_source_line_is_refused_on_the_virtual_board_and_says_where_it_works(board):
    """The VM cannot take an external source's frames at a board's pace (under load its
    watchdog reset it): the line is refused, naming where it works, and nothing changes."""
    v0 = playing(board)["volume"]
    rc, out, err = send(board, "source usb play sine 1k -10 dBFS")
    assert rc == 2 and "for scenario scripts and the simulated panel" in err, (rc, out, err)
    no_traceback(out + err)
    assert playing(board)["volume"] == v0
