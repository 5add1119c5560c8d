"""The front panel (`headroom panel`): keys change what the chip models decode and the screen
shows it; a saved session replays to the same trace, byte for byte; both boards open.

Virtual time is stepped by the tests (the wall clock is a fake that moves only when told,
and the app runs without its timer), so nothing here races the wall clock.
"""
import asyncio
import os
import subprocess
import sys

import pytest
from textual import events

from headroom import cli
from headroom.panel.app import PanelApp
from headroom.panel.screenshot import svg_text
from headroom.panel.session import KnobSpeed, Refused, Session
from headroom.sim.invariants import Checker
from headroom.sim.run import run_script

from conftest import BALANCED, REPO, SE


class Wall:
    """A wall clock that moves when the test says so."""

    def __init__(self):
        self.t = 100.0

    def __call__(self):
        return self.t


# Power-on to the end of the fade-in: boot (cost.BOOT, 0.67 s), settle 1.5 s, fade-in 0.8 s.
PLAYING_MS = 3000

def run(coro):
    return asyncio.run(coro)


def screen(app):
    return "\n".join(svg_text(app.export_screenshot()))


async def settle(app, pilot):
    app.refresh_panel()
    await pilot.pause()


def replayed(board, text):
    r = run_script(board, text)
    assert r.failures == [] and not r.crashes
    return r.board.trace.text()


# ---- the recording

def _play(s, wall):
    """A session of every kind of input, with time let pass by the wall clock in uneven
    slices, as the panel's timer does."""
    def wait(sec, tick=0.037):
        end = wall.t + sec
        while wall.t < end:
            wall.t = min(end, wall.t + tick)
            s.tick()
            tick = 0.011 if tick > 0.03 else 0.041   # uneven, like a busy event loop

    wait(2.7)
    for _ in range(3):
        s.turn_now(+1)
        wait(0.3)
    for _ in range(8):                 # key repeat: fast
        s.turn_now(+1)
        wait(0.031)
    wait(0.5)
    s.turn(-6, 60000)                  # PgDn: a spin
    wait(0.4)
    s.click()
    wait(0.6)
    s.click()
    wait(1.3)
    s.press()                          # the button held as long as the person likes
    wait(0.977)
    s.release()
    wait(0.2)
    s.toggle("gain")
    wait(1.5)
    if s.board.output_switch is not None:
        s.toggle("output")
        wait(1.5)
    s.long_press()
    wait(1.2)
    s.dip()
    wait(3.0)
    s.power(False)
    wait(0.25)
    s.power(True)
    wait(2.9)
    s.turn_now(-1)
    s.press()                          # still down when the session is saved


@pytest.mark.parametrize("board", [SE, BALANCED], ids=["se", "balanced"])
def test_a_saved_session_replays_to_the_same_trace(board, tmp_path):
    wall = Wall()
    s = Session(board, wall=wall)
    _play(s, wall)
    path = s.save(str(tmp_path / "session.scn"))
    text = open(path).read()
    live = s.board.trace.text()
    assert replayed(board, text) == live
    assert s.checker.violations == []
    lines = text.splitlines()
    assert lines[3] == "power on"
    for want in ("turn +1 at 10/s", "turn -6 at 60/s", "press", "switch gain high", "power off",
                 "wait 10", "power on"):
        assert want in lines, want
    assert any(x.startswith("hold ") and x != "hold 1000" for x in lines)   # the `b` hold
    assert "hold 1000" in lines                                             # the long press
    assert lines[-1].startswith("hold ")                                    # let go at the save
    # The command line's replay writes the same bytes.
    out = tmp_path / "replay.trace.jsonl"
    assert cli.main(["sim", "--board", board, "--script", path, "--trace", str(out)]) == 0
    assert out.read_text() == live


def test_a_replayed_session_goes_on_and_saves_again(tmp_path):
    wall = Wall()
    first = Session(SE, wall=wall)
    first.step_ms(PLAYING_MS)
    first.turn_now(+1)
    first.step_ms(500)
    first.toggle("gain")
    first.step_ms(1500)
    text1 = open(first.save(str(tmp_path / "a.scn"))).read()
    live1 = first.board.trace.text()

    s = Session(SE, replay=text1, wall=wall)
    s.turn_now(+1)                     # queued after the script
    s.step_ms(6000)
    s.click()
    s.step_ms(700)
    text2 = open(s.save(str(tmp_path / "b.scn"))).read()
    assert text2.startswith(text1)     # the script's own lines, then what came after
    live2 = s.board.trace.text()
    assert live2.startswith(live1)     # the replay is the first session, record for record
    assert replayed(SE, text2) == live2


def test_waits_are_whole_milliseconds_and_long_ones_split():
    wall = Wall()
    s = Session(SE, wall=wall)
    start = s.idle_since
    s.step_ms(2500)
    s.board.run_us(333)                # the board between two milliseconds...
    t = s.board.now_us()               # ...or later, if a pass was still running
    assert (t - start) % 1000
    s.click()
    s.finish()
    want = -(-(t - start) // 1000)     # the wait rounded up to a whole millisecond
    assert 2501 <= want and s.lines[-2:] == ["wait %d" % want, "press"]
    assert replayed(SE, s.script()) == s.board.trace.text()


def test_knob_speed_from_the_time_between_detents():
    k = KnobSpeed()
    assert k.rate_mhz(0) == KnobSpeed.SLOW_MHZ             # a first detent is a slow one
    assert k.rate_mhz(33000) == 30300                       # 33 ms later: 30.3/s
    assert k.rate_mhz(53000) == 50000
    assert k.rate_mhz(53000 + 400000) == KnobSpeed.SLOW_MHZ  # a pause: a new gesture
    assert k.rate_mhz(453000 + 1000) == KnobSpeed.MAX_MHZ


def test_refused_inputs_change_nothing():
    s = Session(SE, wall=Wall())
    n = len(s.lines)
    with pytest.raises(Refused):
        s.toggle("output")             # pico-se has no output switch
    s.press()
    with pytest.raises(Refused):
        s.turn_now(+1)                 # the button is down: one thing at a time
    s.release()
    with pytest.raises(Refused):
        s.release()
    s.step_ms(100)
    assert len(s.lines) == n + 2       # power on, then the hold
    assert s.lines[-1] == "hold 1"


# ---- the screen

def test_keys_change_what_the_chips_decode_and_the_screen_shows_it():
    async def go():
        s = Session(SE, wall=Wall())
        app = PanelApp(s, live=False)
        async with app.run_test(size=(150, 46)) as pilot:
            s.step_ms(PLAYING_MS)
            await settle(app, pilot)
            assert s.board.jack.levels == (-3006, -3006)
            assert "-30.06 dBV" in screen(app)
            codes = list(s.board.pga.chips[0].codes)
            for _ in range(4):                       # slow: 0.5 dB a detent
                await pilot.press("right")
                s.step_ms(300)
            await settle(app, pilot)
            assert s.board.jack.levels == (-2806, -2806)
            assert s.board.pga.chips[0].codes == [codes[0] + 4, codes[1] + 4]
            text = screen(app)
            assert "-28.06 dBV" in text and "code %3d" % (codes[0] + 4) in text

            await pilot.press("g")                   # the gain switch
            s.step_ms(1500)
            await settle(app, pilot)
            assert s.board.relays["gain"].energized
            assert s.board.jack.levels == (-2806, -2806)   # as loud as before
            assert "high gain" in screen(app)

            await pilot.press("space")               # click: mute
            s.step_ms(400)
            await settle(app, pilot)
            assert s.board.jack.levels == (None, None)
            b = s.board.board
            gpio = s.board.sim.gpio
            assert gpio[b.pga_mute].level == 0 or gpio[b.dac_xsmt].level == 0
            text = screen(app)
            assert "muted" in text and "MUTED" in text

            await pilot.press("x")                   # power off
            s.step_ms(100)
            await settle(app, pilot)
            assert not s.board.sim.supply_on
            text = screen(app)
            assert "supply OFF" in text and "safety rules hold" in text
            assert s.lines[-1] == "power off" and "switch gain high" in s.lines
    run(go())


def test_held_keys_turn_fast_and_the_firmware_accelerates():
    async def go():
        s = Session(SE, wall=Wall())
        app = PanelApp(s, live=False)
        async with app.run_test(size=(150, 46)) as pilot:
            s.step_ms(PLAYING_MS)
            for _ in range(10):                      # key repeat, 30 ms apart
                await pilot.press("up")
                s.step_ms(30)
            s.step_ms(400)
            await settle(app, pilot)
            # The first two detents of a gesture are 0.5 dB, then 1 dB each (25-60 ms).
            assert s.board.jack.levels[0] == -3006 + 2 * 50 + 8 * 100
            assert "turn +1 at 33.3/s" in s.lines
    run(go())


def test_the_wheel_turns_the_knob_and_pause_stops_time():
    async def go():
        wall = Wall()
        s = Session(SE, wall=wall)
        app = PanelApp(s, live=False)
        async with app.run_test(size=(150, 46)) as pilot:
            s.step_ms(PLAYING_MS)
            jack = app.query_one("#jack")
            jack.post_message(events.MouseScrollUp(jack, 2, 1, 0, -1, 0, False, False, False))
            await pilot.pause()
            s.step_ms(300)
            assert s.board.jack.levels[0] == -3006 + 50
            await pilot.press("p")
            wall.t += 5
            s.tick()
            t = s.board.now_us()
            wall.t += 5
            s.tick()
            assert s.board.now_us() == t             # paused
            await settle(app, pilot)
            assert "PAUSED" in screen(app)
            await pilot.press("p")
            wall.t += 0.5
            s.tick()
            # real time again, from where it stood (the board finishes the pass it is in)
            assert t + 500000 <= s.board.now_us() < t + 500000 + 5000
            await pilot.press("right_square_bracket")
            assert s.clock.speed == 2
    run(go())


def test_a_broken_safety_rule_and_a_misused_part_are_shown():
    async def go():
        s = Session(SE, wall=Wall())
        app = PanelApp(s, live=False)
        async with app.run_test(size=(150, 46)) as pilot:
            s.step_ms(PLAYING_MS)
            await settle(app, pilot)
            assert "safety rules hold" in screen(app)
            # A record as the simulator makes one when the firmware raises.
            s.board.sim.emit("crash", [("error", "RuntimeError: boom")])
            await settle(app, pilot)
            text = screen(app)
            assert "SAFETY RULE BROKEN" in text and "crash: RuntimeError: boom" in text
            sim = s.board.sim
            sim.clock.after(1000, lambda _: sim.fault("GP15: a test fault"))
            s.step_ms(10)
            await settle(app, pilot)
            assert s.stopped == "GP15: a test fault"
            assert "SIMULATION STOPPED: GP15: a test fault" in screen(app)
    run(go())


@pytest.mark.parametrize("board", [SE, BALANCED], ids=["se", "balanced"])
def test_both_boards_open(board):
    async def go():
        s = Session(board, wall=Wall())
        app = PanelApp(s, live=False)
        async with app.run_test(size=(150, 46)) as pilot:
            s.step_ms(PLAYING_MS)
            await settle(app, pilot)
            text = screen(app)
            assert "Headroom front panel" in text and os.path.basename(board) in text
            assert "-30.06 dBV" in text and "MUTE pin GP20: high, playing" in text
            balanced = board == BALANCED
            assert ("#1 " in text) == balanced
            assert ("output GP8" in text) == balanced
            assert ("PCM5122" in text) == balanced and ("PCM5102A" in text) != balanced
            if balanced:
                await pilot.press("o")
                s.step_ms(1500)
                await settle(app, pilot)
                assert s.board.relays["output"].energized
                assert "Jack balanced" in screen(app)
            else:
                await pilot.press("o")               # no output switch: no such key
                assert s.lines[-1] == "power on"
    run(go())


def test_the_i2c_writes_are_in_the_bus_log():
    async def go():
        s = Session(BALANCED, wall=Wall())
        app = PanelApp(s, live=False)
        async with app.run_test(size=(150, 46)):
            s.step_ms(1000)
            lines = app.buslog.take()
            assert any("I2C0 0x4C page 0 register" in x and "<-" in x for x in lines)
            assert any("SPI0 CS GP17" in x and "PGA2311 codes #0" in x for x in lines)
    run(go())


# ---- the command line and the picture

def test_without_a_terminal_make_sim_s_panel_is_the_scripted_timeline():
    def out(*args):
        p = subprocess.run([sys.executable, "-m", "headroom"] + list(args), cwd=REPO,
                           stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120)
        return p.returncode, p.stdout
    assert out("panel", "--board", SE) == out("sim", "--check", "--board", SE)
    code, _ = out("panel", "--board", SE, "--save", "x.scn")
    assert code == 2


def test_make_screenshot_writes_the_svg(tmp_path):
    shot = tmp_path / "pics" / "panel.svg"
    p = subprocess.run(["make", "-s", "screenshot", "SHOT=%s" % shot], cwd=REPO,
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    svg = shot.read_text()
    assert svg.startswith("<svg")
    text = "\n".join(svg_text(svg))
    for want in ("Headroom front panel", "pico-balanced.json", "Jack", "dBV", "PGA2311",
                 "Relays", "Mute stages", "safety rules hold", "bus events", "SPI0 CS GP17",
                 "gain relay coil"):
        assert want in text, want


def test_the_checker_agrees_with_the_recording():
    """The saved session's trace, read back from the file, passes the same rules."""
    import json
    wall = Wall()
    s = Session(BALANCED, wall=wall)
    s.step_ms(PLAYING_MS)
    s.toggle("output")
    s.step_ms(1500)
    s.dip()
    s.step_ms(3000)
    s.finish()
    c = Checker(s.board.board)
    for line in s.board.trace.text().splitlines()[1:]:
        c.feed(json.loads(line))
    assert c.violations == [] and s.checker.violations == []


def test_the_button_pressed_again_before_the_first_hold_ended():
    s = Session(SE, wall=Wall())
    s.step_ms(100)
    s.press()
    s.step_ms(300)
    s.release()
    s.press()                          # down again before the release has run
    s.step_ms(500)
    assert s.button_down
    s.release()
    s.finish()
    holds = [x for x in s.lines if x.startswith("hold")]
    # The second hold starts once the first one's 100 ms after it has run on the board's
    # clock (at the end of the pass running then: a few ms), and lasts to the release.
    assert holds[0] == "hold 300" and 395 <= int(holds[1].split()[1]) <= 405, holds
    assert replayed(SE, s.script()) == s.board.trace.text()


def test_a_broken_rule_is_a_banner_at_once_that_stays():
    async def go():
        s = Session(SE, wall=Wall())
        app = PanelApp(s, live=False)
        async with app.run_test(size=(150, 46)) as pilot:
            s.step_ms(PLAYING_MS)
            await settle(app, pilot)
            banner = app.query_one("#banner")
            assert not banner.has_class("broken") and "SAFETY RULE BROKEN at" not in screen(app)
            t = s.board.now_us()
            s.board.sim.emit("crash", [("error", "RuntimeError: boom")])
            await settle(app, pilot)
            first = "SAFETY RULE BROKEN at %d.%03d s: crash: RuntimeError: boom" % (
                t // 1000000, t // 1000 % 1000)
            assert banner.has_class("broken") and first in screen(app)
            # Time goes on, another rule breaks: the first stays at the top, counted.
            s.step_ms(2000)
            s.board.sim.emit("crash", [("error", "RuntimeError: again")])
            s.step_ms(2000)
            await settle(app, pilot)
            text = screen(app)
            assert first in text and "(2 rules broken in all; the latest below)" in text
            assert "crash: RuntimeError: again" in text
    run(go())


def test_m_starts_and_stops_the_chosen_inputs_music_and_the_firmware_sees_it():
    """pico-balanced: `m` plays the chosen input (USB) at the external source, the
    firmware reads the PCM5122's signal (status), `m` again stops it; the session's
    script replays to the same trace. A board whose music comes from the Pico refuses."""
    s = Session(BALANCED, wall=Wall())
    s.step_ms(3000)
    s.music()
    s.step_ms(3000)
    assert s.board.app.ctl.signal is True
    s.music()
    s.step_ms(3000)
    assert s.board.app.ctl.signal is False
    s.finish()
    assert [x for x in s.lines if x.startswith("source")] == [
        "source usb play sine 1k -10 dBFS", "source usb stop"]
    assert replayed(BALANCED, s.script()) == s.board.trace.text()
    with pytest.raises(Refused, match="comes from the Pico"):
        Session(SE, wall=Wall()).music()


def test_a_pico_w_board_shows_the_web_remotes_address():
    """The Pico W board opens with its network set (as `headroom wifi set` leaves it):
    the title shows the page's address once it has joined, and the page answers there
    (fetched from a thread of its own while the board runs until the reply is in)."""
    import threading
    import urllib.request
    board = os.path.join(os.path.dirname(BALANCED), "pico-w-balanced.json")
    got = {}

    async def go():
        s = Session(board, wall=Wall())
        app = PanelApp(s, live=False)
        try:
            async with app.run_test(size=(170, 46)) as pilot:
                s.step_ms(PLAYING_MS)
                await settle(app, pilot)
                url = s.board.web_url
                assert url and url.startswith("http://127.0.0.1:")
                assert "web remote: %s" % url in screen(app)

                def fetch():
                    with urllib.request.urlopen(url, timeout=30) as r:
                        got["status"] = r.status
                t = threading.Thread(target=fetch)
                t.start()
                for _ in range(3000):
                    if not t.is_alive():
                        break
                    s.step_ms(10)
                t.join(30)
                assert got.get("status") == 200, got
        finally:
            s.board.close()
    run(go())
