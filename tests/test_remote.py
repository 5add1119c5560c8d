"""The IR remote on the simulated board: the receiver model's frames through the
firmware's IRQ, decoder, key map (remote.py) and the controller, at the jack."""
from hypothesis import given
from hypothesis import strategies as st

from headroom_fw import remote as R
from headroom_fw.irdecode import NEC, REPEAT, code

from helpers import BALANCED, SE, ask, long_press, no_display, playing

VOL_UP = ("nec", 0x00, 0x46)     # the kit remote's VOL+
VOL_DOWN = ("nec", 0x00, 0x15)
PLAY = ("nec", 0x00, 0x40)       # mute
FUNC = ("nec", 0x00, 0x47)       # the menu
UNKNOWN = ("nec", 0x55, 0x12)


def key(b, k, hold_ms=0, after_ms=300):
    us = b.ir(k[0], k[1], k[2], hold_ms=hold_ms)
    b.run_us(us + after_ms * 1000)


def volume(b):
    return ask(b, "status")["volume"]


def test_a_press_is_half_a_db_and_a_hold_goes_faster_with_time():
    b = playing(no_display(SE))
    v0 = volume(b)
    key(b, VOL_UP)
    assert volume(b) == v0 + 0.5
    key(b, VOL_DOWN, hold_ms=3000)
    # Held from the first frame's end (67.5 ms in) to the last repeat's (NEC repeats every
    # 108 ms: the last of a 3 s hold starts 2.916 s in and lasts 11.8 ms): 17 steps.
    steps = R.held_steps(2916 + 12 - 68)
    assert steps == 17 and volume(b) == v0 + 0.5 - steps / 2


def test_a_held_key_stops_at_the_limit_as_the_knob_does():
    b = playing(no_display(SE))
    assert ask(b, "set limit -25")["ok"]
    key(b, VOL_UP, hold_ms=6000)
    assert volume(b) == -25.0
    assert max(v for v in b.jack.levels if v is not None) <= -2500


def test_the_remote_never_confirms_a_raise():
    """A raise of the limit waits for the long press on the knob: no key of the remote
    (menu, mute, a hold) stands in for it."""
    b = playing(no_display(SE))
    assert ask(b, "set limit -20")["ok"]
    r = ask(b, "set limit 0")
    assert not r["ok"] and "long press" in r["error"]
    for k in (FUNC, PLAY, PLAY, VOL_UP):
        key(b, k, hold_ms=1200)
    assert ask(b, "status")["limit"] == -20.0
    assert ask(b, "set limit 0")["ok"] is False
    long_press(b)
    assert ask(b, "status")["limit"] == 0.0


def test_mute_acts_once_per_press_however_long_it_is_held():
    b = playing(no_display(SE))
    key(b, PLAY, hold_ms=2000)
    assert ask(b, "status")["mute"] is True
    assert b.jack.levels == (None, None)
    key(b, PLAY)
    assert ask(b, "status")["mute"] is False


def test_an_unknown_key_does_nothing():
    b = playing(no_display(SE))
    before = ask(b, "status")
    key(b, UNKNOWN, hold_ms=800)
    after = ask(b, "status")
    assert (after["volume"], after["mute"]) == (before["volume"], before["mute"])
    assert b.app.remote.unknown == 1 and b.app.ir.dec.frames == 8


def test_the_menu_key_opens_the_knob_menu_and_the_volume_keys_move_in_it():
    b = playing(SE)
    menu = b.app.menu
    key(b, FUNC)
    assert menu.open
    first = menu.cursor
    key(b, VOL_UP)
    assert menu.cursor == first + 1
    v = b.app.ctl.volume
    key(b, FUNC)            # back: at the top, the menu closes
    assert not menu.open and b.app.ctl.volume == v
    key(b, VOL_UP)
    assert b.app.ctl.volume == v + 1


def test_a_receiver_held_low_is_a_fault_that_never_mutes():
    b = playing(no_display(BALANCED))
    b.sim.gpio[b.board.ir_pin].drive("ir", 0)          # the receiver's output, stuck
    b.run_ms(1500)
    s = ask(b, "status")
    assert s["faults"] == ["IR receiver: GP%d held low for over a second: check the receiver's "
                           "supply and wiring" % b.board.ir_pin]
    assert s["phase"] == "playing" and b.jack.levels[0] is not None
    b.sim.gpio[b.board.ir_pin].drive("ir", 1)
    b.run_ms(100)
    assert ask(b, "status")["faults"] == []


@given(held=st.integers(0, 10 ** 6))
def test_held_steps_never_fall_and_stay_small_ints(held):
    assert R.held_steps(held) <= R.held_steps(held + 1) < 2 ** 30
    assert R.held_steps(0) == 1


def test_the_key_map_gives_each_code_one_function_and_repeats_only_turn():
    codes = [c for c, _ in R.DEFAULT_KEYS]
    assert len(codes) == len(set(codes))
    r = R.Remote()
    up = code(NEC, 0x00, 0x46)
    mute = code(NEC, 0x00, 0x40)
    assert r.event(mute, 0) == R.MUTE
    assert r.event(mute | REPEAT, 108) == 0
    assert r.event(up, 1000) == R.VOLUME_UP and r.steps == 1
    assert r.event(up | REPEAT, 1108) == 0          # 4 steps a second: not yet
    assert r.event(up | REPEAT, 1324) == R.VOLUME_UP and r.steps == 1
    assert r.event(code(NEC, 0x00, 0x15) | REPEAT, 1432) == R.VOLUME_DOWN and r.steps == -1
