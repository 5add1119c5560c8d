"""The knob menu (firmware/headroom_fw/menu.py) and the gesture scheme of a board with a
display (docs/knob.md), on the simulated boards under the trace checker.

Every entry walked on both boards by the hands alone (turns, clicks, long presses), its
effect read back through the control protocol (`get`, `status`) and at the jack: a
lowered limit at once, a raised one only after the long press (a turn cancels it), the
headphone from the board's own profile file, the start-up cap after a power cycle, the
display's settings, the defaults, a refusal in words. A turn in the menu never moves the
level; a menu left alone closes and the knob is the volume again. Without a display the
long press is balance mode, as before. Then hypothesis drives random gestures (turns at
any speed, clicks, long presses, time passing) on both boards under every rule of the
checker (the hands alone: the checker models the limits from the host's lines and the
long press, and no host line is sent here, so a menu's own change is never one it
cannot see).
"""
import json
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from headroom.sim.invariants import Checker
from headroom.sim.simboard import SimBoard
from headroom_fw import menu as M

from helpers import BALANCED, SE, ask, no_display, until_playing

PICO_W = os.path.join(os.path.dirname(BALANCED), "pico-w-balanced.json")

PROFILES = {"headphones": 1, "profiles": [
    {"name": "My IEM", "impedance": {"ohm": 16}, "sensitivity": {"value": 112, "unit": "dB/mW"}},
    {"name": "Big Can", "impedance": {"ohm": 300}, "sensitivity": {"value": 97, "unit": "dB/V"}},
    {"name": "A Very Long Headphone Name", "impedance": {"ohm": 32},
     "sensitivity": {"value": 100, "unit": "dB/mW"}}]}


def put_profiles(b, profiles=PROFILES):
    with open(os.path.join(b.flash_dir, "headphones.json"), "w") as f:
        json.dump(profiles, f)


# ---- the hands
def click(b):
    b.press(True)
    b.run_ms(150)
    b.press(False)
    b.run_ms(100)


def hold(b):
    b.press(True)
    b.run_ms(b.board.long_press_ms + 100)
    b.press(False)
    b.run_ms(100)


def turn(b, n, rate=5):
    """Slow (5 detents/s): 0.5 dB a detent where the knob sets a level."""
    b.run_us(b.turn(n, rate=rate))
    b.run_ms(60)


def enter(b, entry):
    """Open the menu (if closed), turn to `entry`'s row, click into it."""
    m = b.app.menu
    if not m.open:
        hold(b)
    assert m.open and m.entry == -1
    turn(b, m.rows.index(entry) - m.cursor)
    assert m.cursor == m.rows.index(entry)
    click(b)
    assert m.entry == entry or m.title() == "Not done" or entry == M.E_EXIT


def choose(b, label):
    """In a list entry: turn to `label` and click it."""
    m = b.app.menu
    options = [m.label(i) for i in range(m.count())]
    turn(b, options.index(label) - m.cursor)
    click(b)


def rows(m):
    return [(m.label(i), m.value_text(i)) for i in range(m.count())]


def get(b, name):
    return ask(b, "get " + name)[name]


@pytest.fixture(params=[SE, BALANCED], ids=["pico-se", "pico-balanced"])
def board(request, checked):
    b = checked(request.param, before_power=put_profiles, run_ms=0)
    return until_playing(b)


def test_the_top_level_and_what_the_screen_reads(board):
    b = board
    m = b.app.menu
    assert m is not None and not m.open
    n = m.changes
    hold(b)
    assert m.open and m.changes != n and m.title() == "MENU"
    want = ["Headphone", "SPL limit", "Vol limit", "Gain"] + \
        (["Output"] if len(b.board.outputs) > 1 else []) + \
        ["Headroom", "Balance", "Start max", "Brightness", "Dim after", "Dark mode",
         "Defaults", "About"] + \
        (["Input", "Input trim"] if len(b.board.input_names) > 1 else []) + \
        ["Remote", "Standby"] + (["Auto stdby"] if b.board.dac == "pcm5122" else []) + ["Exit"]
    assert [r[0] for r in rows(m)] == want
    assert dict(rows(m))["SPL limit"] == "100 dB" and dict(rows(m))["Vol limit"] == "6.0"
    assert all(len(v) <= 7 for _, v in rows(m))
    assert all(len(lab) <= 16 for lab, _ in rows(m))
    assert m.first_row() == 0
    turn(b, 20)                                  # clamped at the last row, scrolled
    assert m.cursor == m.count() - 1 and m.first_row() == m.count() - M.ROWS
    assert get(b, "volume") == -30.0             # the turn was the menu's
    click(b)                                     # Exit
    assert not m.open


def test_every_value_text_fits_its_seven_characters():
    """The screen right-aligns a row's value in 7 characters of 8 pixels."""
    texts = [M.spl_text(h) for h in range(M.SPL_MIN_HDB, M.SPL_MAX_HDB + 1)]
    texts += [M.db_text(h) for h in range(-160, 41)]            # every board's range
    texts += [M.balance_text(h) for h in range(-M.BALANCE_MAX_HDB, M.BALANCE_MAX_HDB + 1)]
    texts += [M.timeout_text(s) for s in M.TIMEOUTS_S]
    texts += [M.uptime_text(s) for s in (0, 59, 3599, 3600, 86399, 86400, 2 ** 30, 2 ** 31)]
    texts += [M.size_text(n) for n in (0, 9999, 10000, 10 * 2 ** 20)]
    assert max(len(t) for t in texts) <= 7, [t for t in texts if len(t) > 7]
    assert M.spl_text(201) == "100.5dB" and M.balance_text(-5) == "L 2.5"
    assert M.uptime_text(90061) == "1d01h" and M.timeout_text(0) == "never"


@given(st.text(alphabet="ab ./-", max_size=80))
def test_a_message_wraps_into_rows_that_fit_and_keeps_every_character(text):
    lines = M.wrap(text)
    assert all(0 < len(x) <= 15 for x in lines)
    assert "".join(lines).replace(" ", "") == text.replace(" ", "")


def test_every_entry_by_the_knob(board):
    b = board
    m = b.app.menu
    balanced = len(b.board.outputs) > 1
    # Headphone: the board's own profiles, and none.
    enter(b, M.E_HEADPHONE)
    assert rows(m) == [("none", "*"), ("My IEM", ""), ("Big Can", ""),
                       ("A Very Long He", "")]          # 14 characters, and its mark
    choose(b, "My IEM")
    assert m.entry == -1 and get(b, "headphone")["name"] == "My IEM"
    assert dict(rows(m))["Headphone"] == "My IEM"
    enter(b, M.E_HEADPHONE)
    assert m.cursor == 1 and m.value_text(1) == "*"
    choose(b, "A Very Long He")                     # the whole name is asked for
    assert get(b, "headphone")["name"] == "A Very Long Headphone Name"
    enter(b, M.E_HEADPHONE)
    assert m.cursor == 3 and m.value_text(3) == "*"
    choose(b, "none")
    assert get(b, "headphone") is None
    # SPL limit: lower at once...
    enter(b, M.E_SPL)
    assert m.title() == "SPL limit dB" and rows(m)[:2] == [("Set", "100 dB"), ("Now", "100 dB")]
    turn(b, -20)
    assert m.value_text(0) == "90 dB" and get(b, "spl_limit") == 100.0   # not before the click
    click(b)
    assert get(b, "spl_limit") == 90.0
    # ...higher only with the long press.
    enter(b, M.E_SPL)
    turn(b, 9)
    click(b)
    assert b.app.ctl.pending() == (2, 189)   # what the screen asks to hold for
    assert get(b, "spl_limit") == 90.0
    hold(b)
    assert get(b, "spl_limit") == 94.5 and m.open and m.entry == -1
    # Volume limit: lower at once, the level follows.
    enter(b, M.E_LIMIT)
    turn(b, -70)   # 6.0 - 35 = -29.0 dBV, under the level
    click(b)
    assert get(b, "limit") == -29.0 and get(b, "volume") == -30.0
    enter(b, M.E_LIMIT)
    turn(b, -4)
    click(b)
    assert get(b, "limit") == -31.0 and get(b, "volume") == -31.0
    b.run_ms(100)
    assert max(b.jack.levels) <= -3100 + 1
    # A raise waits; a turn cancels it; asked again, the long press confirms it.
    enter(b, M.E_LIMIT)
    turn(b, 10)
    click(b)
    assert b.app.ctl.pending() is not None and get(b, "limit") == -31.0
    turn(b, 1)
    assert b.app.ctl.pending() is None and m.cursor == m.rows.index(M.E_LIMIT)
    hold(b)                                   # nothing waits: the long press closes the menu
    assert not m.open and get(b, "limit") == -31.0
    enter(b, M.E_LIMIT)
    turn(b, 10)
    click(b)
    hold(b)
    assert get(b, "limit") == -26.0
    # Gain: high, auto, low (the switch moved wins again, as for the host).
    for g in ("high", "auto", "low"):
        enter(b, M.E_GAIN)
        choose(b, g)
        assert get(b, "gain") == g
    if balanced:
        enter(b, M.E_OUTPUT)
        assert rows(m) == [("SE", "*"), ("balanced", "")]
        choose(b, "balanced")
        assert get(b, "output") == "balanced"
    # Auto gain's headroom: a detent is 0.5 dB.
    enter(b, M.E_HEADROOM)
    turn(b, 3)
    click(b)
    assert get(b, "gain_headroom") == 4.5
    # Balance: heard as it is turned, kept by the click; a long press goes back.
    enter(b, M.E_BALANCE)
    turn(b, 4)
    assert get(b, "balance") == 2.0 and m.value_text(0) == "R 2.0"
    b.run_ms(500)
    left, right = b.jack.levels
    assert right - left == 200
    click(b)
    enter(b, M.E_BALANCE)
    turn(b, -10)
    assert get(b, "balance") == -3.0 and rows(m)[1] == ("Was", "R 2.0")
    hold(b)
    assert get(b, "balance") == 2.0 and m.entry == -1
    # The start-up cap.
    enter(b, M.E_STARTUP)
    assert rows(m)[0] == ("Set", "-20.0")
    turn(b, -8)
    click(b)
    assert get(b, "startup_cap") == -24.0
    # The display's settings.
    enter(b, M.E_BRIGHTNESS)
    assert m.value_text(2) == "*"
    choose(b, "1")
    assert get(b, "display_brightness") == 1
    enter(b, M.E_TIMEOUT)
    choose(b, "5 min")
    assert get(b, "display_timeout_s") == 300
    enter(b, M.E_TIMEOUT)
    choose(b, "never")
    assert get(b, "display_timeout_s") == 0
    enter(b, M.E_DARK)
    choose(b, "on")
    assert get(b, "display_dark") is True
    assert dict(rows(m))["Dark mode"] == "on" and dict(rows(m))["Dim after"] == "never"
    # About: to read; a click goes back.
    enter(b, M.E_ABOUT)
    about = dict(rows(m))
    assert about["Version"] == ask(b, "version")["firmware"]
    assert about["Faults"] == "0" and about["Log"].endswith(" B")
    assert about["Uptime"].endswith("s") and m.cursor == -1
    click(b)
    # Defaults: they raise the limit, so they wait for the long press.
    enter(b, M.E_DEFAULTS)
    assert rows(m) == [("keep", ""), ("reset", "")] and m.cursor == 0
    choose(b, "keep")
    assert get(b, "limit") == -26.0
    enter(b, M.E_DEFAULTS)
    choose(b, "reset")
    assert get(b, "limit") == -26.0 and b.app.ctl.pending() is not None
    hold(b)
    s = ask(b, "status")
    assert (s["limit"], s["spl_limit"], s["balance"], s["volume"]) == (6.0, 100.0, 0.0, -30.0)
    # Exit: closed, the knob is the volume.
    enter(b, M.E_EXIT)
    assert not m.open
    turn(b, 4)
    assert get(b, "volume") == -28.0


def test_the_start_up_cap_after_a_power_cycle(board):
    b = board
    enter(b, M.E_STARTUP)
    turn(b, -12)
    click(b)
    hold(b)
    turn(b, 10)                   # -25.0 dBV: above the cap of -26, under the board's -20
    assert get(b, "volume") == -25.0
    b.run_ms(b.board.save_delay_ms + 500)
    b.power(False)
    b.run_ms(500)
    b.power(True)
    until_playing(b)
    assert get(b, "volume") == -26.0 and get(b, "startup_cap") == -26.0
    assert max(b.jack.levels) <= -2600 + 1


def test_a_turn_in_the_menu_never_moves_the_level_and_the_menu_closes_alone(board):
    b = board
    m = b.app.menu
    enter(b, M.E_LIMIT)
    before = b.jack.levels
    assert before == (-3006, -3006)      # -30 dBV and the jack's load
    turn(b, -12, rate=40)
    assert m.value_text(0) != "6.0"
    assert b.jack.levels == before and get(b, "volume") == -30.0
    b.run_ms(M.TIMEOUT_MS - 1000)
    assert m.open
    b.run_ms(1100)
    assert not m.open and get(b, "limit") == 6.0       # the edit was dropped
    turn(b, 4)
    assert get(b, "volume") == -28.0


def test_a_refusal_is_shown_in_words(board):
    b = board
    m = b.app.menu
    put_profiles(b, {"headphones": 1, "profiles": [
        {"name": "Bad", "impedance": {"ohm": 16}, "sensitivity": {"value": 112}}]})
    enter(b, M.E_HEADPHONE)
    assert m.title() == "Not done" and m.cursor == -1
    text = "".join(m.label(i) for i in range(m.count()))    # a long word split, not cut
    assert "sensitivity.unit" in text
    assert all(len(m.label(i)) <= 15 for i in range(m.count()))
    click(b)
    assert m.entry == -1 and m.open and get(b, "headphone") is None


def test_without_a_display_the_long_press_is_balance_mode(checked):
    b = until_playing(checked(no_display(SE), run_ms=0))
    assert b.app.menu is None
    hold(b)
    assert ask(b, "status")["mode"] == "balance"
    turn(b, 4)
    assert get(b, "balance") == 2.0 and get(b, "volume") == -30.0


def test_the_host_sets_what_the_menu_sets(board):
    b = board
    m = b.app.menu
    assert ask(b, "set startup_cap -40") == {"ok": True, "startup_cap": -40.0}
    assert ask(b, "set display_brightness 4") == {"ok": True, "display_brightness": 4}
    assert ask(b, "set display_timeout_s 0") == {"ok": True, "display_timeout_s": 0}
    assert ask(b, "set display_dark on") == {"ok": True, "display_dark": True}
    for line, why in (("set startup_cap -19.5", "startup_cap: outside -80.0..-20.0 dBV"),
                      ("set startup_cap x", "not a number"),
                      ("set display_brightness 5", "display_brightness: 1..4"),
                      ("set display_brightness 0", "display_brightness: 1..4"),
                      ("set display_brightness -1", "a whole number"),
                      ("set display_timeout_s 3601", "0..3600"),
                      ("set display_timeout_s 1.5", "a whole number"),
                      ("set display_dark yes", "on or off")):
        r = ask(b, line)
        assert r["ok"] is False and why in r["error"], (line, r)
    s = [get(b, n) for n in ("startup_cap", "display_brightness", "display_timeout_s",
                             "display_dark")]
    assert s == [-40.0, 4, 0, True]                 # the refusals changed nothing
    hold(b)                                          # the menu shows the host's values
    top = dict(rows(m))
    assert (top["Start max"], top["Brightness"], top["Dim after"], top["Dark mode"]) == \
        ("-40.0", "4", "never", "on")
    c = b.app.ctl
    assert (c.startup_cap, c.display_brightness, c.display_timeout_s, c.display_dark) == \
        (-80, 4, 0, True)                            # plain attributes, for display.py
    b.run_ms(b.board.save_delay_ms + 500)
    b.power(False)
    b.run_ms(500)
    b.power(True)
    until_playing(b)
    assert get(b, "volume") == -40.0 and get(b, "display_dark") is True


# A walk through the menu as a scenario (no profile file: the headphone list is "none"):
# SPL limit down, then up with the long press; gain auto; the start-up cap; about; the
# defaults with the long press; the time-out; the knob the volume again.
WALK = """power on
wait 3000
hold 1000
press
press
turn +1 at 5/s
press
turn -10 at 5/s
press
press
turn +4 at 5/s
press
hold 1000
turn +2 at 5/s
press
turn +2 at 5/s
press
turn +4 at 5/s
press
turn -6 at 5/s
press
turn +5 at 5/s
press
wait 2000
press
turn -1 at 5/s
press
turn +1 at 5/s
press
hold 1000
wait 16000
turn +4 at 5/s
wait 500
expect volume -28
"""


def test_the_menu_on_the_micropython_vm_gives_the_cpython_trace(tmp_path):
    """The menu's code (its strings, its formatting) on the VM that runs on the board: a
    walk through it, with the checker on CPython, the same trace byte for byte."""
    from test_conformance import _same, micropython_trace

    from headroom.sim.run import run_script
    path = str(tmp_path / "cp.trace")
    os.makedirs(str(tmp_path / "cpflash"))
    with open(path, "w") as sink:
        res = run_script(BALANCED, WALK, trace_sink=sink, keep_trace=False, decoder="irq",
                         flash_dir=str(tmp_path / "cpflash"), check=True)
    assert not res.failures and not res.crashes and not res.faults, res.failures
    assert not res.violations, res.violations
    with open(path) as f:
        cp = f.read()
    p, mp = micropython_trace(BALANCED, WALK, str(tmp_path))
    assert p.returncode == 0 and "Traceback" not in p.stderr, p.stdout + p.stderr
    _same("menu walk (.py)", cp, mp)


# ---- random gestures under the checker
GESTURES = st.lists(st.one_of(
    st.tuples(st.just("turn"), st.integers(-12, 12).filter(bool),
              st.sampled_from([2, 5, 10, 40, 200])),
    st.tuples(st.just("click"), st.just(0), st.just(0)),
    st.tuples(st.just("hold"), st.just(0), st.just(0)),
    st.tuples(st.just("wait"), st.sampled_from([30, 1000, 4000, 16000]), st.just(0))),
    min_size=1, max_size=30)


@pytest.mark.parametrize("path", [SE, BALANCED], ids=["pico-se", "pico-balanced"])
@settings(max_examples=max(4, settings.default.max_examples // 5), deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(gestures=GESTURES, seed=st.integers(1, 2 ** 16))
def test_random_gestures_keep_every_rule(path, gestures, seed):
    from headroom.sim.cost import CostModel
    b = SimBoard(path, seed=seed, keep_trace=False, cost=CostModel(jitter=seed))
    checker = Checker(b.board)
    b.trace.listeners.append(checker.live)
    put_profiles(b)
    b.power(True)
    until_playing(b)
    m = b.app.menu
    for what, n, rate in gestures:
        if what == "turn":
            opened = m.open
            volume = get(b, "volume") if not opened and n < 0 else None
            turn(b, n, rate)
            if volume is not None and not m.open:
                assert get(b, "volume") <= volume     # closed: the knob is the volume
        elif what == "click":
            click(b)
        elif what == "hold":
            hold(b)
        else:
            b.run_ms(n)
        if m.open:
            assert m.title() and m.count() >= 0
            assert 0 <= m.first_row() < max(1, m.count())
            for i in range(m.first_row(), min(m.first_row() + M.ROWS, m.count())):
                assert len(m.label(i)) <= 16 and len(m.value_text(i)) <= 7
    # Left alone, the menu closes and the knob is the volume again.
    b.run_ms(M.TIMEOUT_MS + 100)
    assert not m.open
    volume = get(b, "volume")
    turn(b, -2)
    assert get(b, "volume") < volume or volume * 2 == b.board.min_hdb
    checker.finish(b.now_us())
    assert not checker.violations, checker.violations


def test_the_remote_entry_learns_a_key_and_gives_the_defaults_back(board):
    """Remote: a function's row waits for its key (the screen asks for it, then says
    what came); the last row gives the default keys back."""
    b = board
    m = b.app.menu
    enter(b, M.E_REMOTE)
    assert m.title() == "Learn a key" and [r[0] for r in rows(m)][:2] == ["volume up", "volume down"]
    click(b)                                      # volume up
    assert " ".join(m.lines) == "Press the remote's key for volume up (10 s)"
    b.run_us(b.ir("sony", 1, 0x12) + 100000)      # a TV remote's key
    assert " ".join(m.lines) == "volume_up: sony 0x01 0x12"
    assert b.app.remote.function(b.app.remote.last) == 1
    click(b)                                      # read: back to the top
    enter(b, M.E_REMOTE)
    turn(b, 10)                                   # the last row: the default keys
    click(b)
    assert ["volume_up", "nec 0x00 0x46"] in ask(b, "remote")["remote"]["keys"]
    assert m.open and m.entry == -1               # set: back at the top
    hold(b)
    assert not m.open


def test_leaving_the_question_stops_the_wait_for_a_key(board):
    b = board
    m = b.app.menu
    enter(b, M.E_REMOTE)
    turn(b, 2)
    click(b)                                      # mute
    assert b.app.remote.learning == 3
    hold(b)                                       # back: no key is waited for
    assert b.app.remote.learning == 0 and m.open
    v = get(b, "volume")
    hold(b)                                       # closed
    b.run_us(b.ir("nec", 0x00, 0x46) + 300000)    # the kit remote's VOL+, as it was
    assert get(b, "volume") == v + 0.5


def test_the_standby_entry_puts_it_to_sleep_and_a_turn_wakes_it(board):
    b = board
    m = b.app.menu
    hold(b)
    turn(b, m.rows.index(M.E_STANDBY))
    click(b)
    assert not m.open
    b.run_ms(b.board.trigger_delay_ms + 500)
    assert ask(b, "status")["phase"] == "standby" and not b.display.on
    v = get(b, "volume")
    turn(b, 1)
    b.run_ms(6000)
    s = ask(b, "status")
    assert (s["phase"], s["volume"]) == ("playing", v) and b.display.on


def test_the_input_and_its_trim_from_the_menu(board):
    b = board
    m = b.app.menu
    hold(b)                                       # opened (the menu loads on first use)
    if len(b.board.input_names) < 2:
        assert M.E_INPUT not in m.rows            # one input: nothing to choose
        return
    enter(b, M.E_INPUT)
    assert [r[0] for r in rows(m)] == ["USB", "S/PDIF"] and rows(m)[0][1] == "*"
    choose(b, "S/PDIF")
    b.run_ms(3000)
    assert get(b, "input") == "S/PDIF"
    enter(b, M.E_TRIM)
    turn(b, -4)                                   # -2 dB
    click(b)
    assert get(b, "trim") == -2.0 and dict(rows(m))["Input trim"] == "-2.0"


def test_the_phones_entry_shows_a_pairing_code_and_forgets_every_phone(checked):
    """Phones (a Pico W board): "pair a phone" opens a code, which the display shows over
    the menu in large digits (read back from the panel's pixels); "forget all" unpairs
    every phone, so a paired page is refused again."""
    import webkit

    from headroom.sim.rules_display import read_level
    b = until_playing(checked(PICO_W, run_ms=0))
    webkit.join(b)
    page = webkit.Client(b)
    page.pair()
    assert page.request("GET", "/api/state").status == 200
    m = b.app.menu
    enter(b, M.E_PHONES)
    assert m.title() == "Web remote" and [r[0] for r in rows(m)] == ["pair a phone", "forget all"]
    click(b)
    code = ask(b, "wifi")["wifi"]["pairing_code"]
    assert code is not None and len(code) == 6
    b.run_ms(300)
    img = b.display.lit_pages()
    assert read_level(img) is None        # the code's view, not the level's
    lit = sum(sum(r) for r in b.display.lit())
    assert lit > 600, lit                 # six 16x32 digits drawn
    click(b)                              # the message read: back at the top
    enter(b, M.E_PHONES)
    choose(b, "forget all")
    assert " ".join(m.lines) == "No phone paired now: each must pair again"
    assert ask(b, "wifi")["wifi"]["devices"] == 0
    assert page.request("GET", "/api/state").status == 403
