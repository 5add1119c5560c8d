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
    # A repeat of a key whose press was not seen (another key's) does nothing.
    assert r.event(code(NEC, 0x00, 0x15) | REPEAT, 1432) == 0 and r.steps == 0
    assert r.event(code(NEC, 0x00, 0x15), 1500) == R.VOLUME_DOWN and r.steps == -1


# ---- learning

def learned(b):
    return ask(b, "remote")["remote"]


def test_a_learned_key_does_its_function_and_the_old_one_nothing():
    b = playing(no_display(SE))
    assert ask(b, "remote learn volume_up")["remote"]["learning"] == "volume_up"
    key(b, ("sony", 1, 0x12))              # a TV remote's key, pressed while it waits
    r = learned(b)
    assert r["learning"] is None and r["learned_ok"] is True
    assert r["learned"] == "volume_up: sony 0x01 0x12" and ["volume_up", "sony 0x01 0x12"] in r["keys"]
    v = volume(b)
    key(b, ("sony", 1, 0x12))
    assert volume(b) == v + 0.5
    key(b, VOL_UP)                         # the kit remote's VOL+ was volume_up's: gone
    assert volume(b) == v + 0.5 and b.app.remote.unknown == 1
    # Kept on the board's flash, and read again at the next power-on.
    b.power(False)
    b.run_ms(500)
    b.power(True)
    b.run_ms(3000)
    assert ["volume_up", "sony 0x01 0x12"] in learned(b)["keys"]


def test_a_key_another_function_has_is_refused_and_nothing_changes():
    b = playing(no_display(SE))
    keys = learned(b)["keys"]
    ask(b, "remote learn mute")
    key(b, VOL_DOWN)                       # volume_down's key
    r = learned(b)
    assert r["learned_ok"] is False and "volume_down's key" in r["learned"]
    assert r["keys"] == keys
    import os
    assert not os.path.exists(os.path.join(b.flash_dir, "remote.json"))   # nothing written


def test_no_key_within_ten_seconds_ends_the_learning_and_the_keys_work_again():
    b = playing(no_display(SE))
    ask(b, "remote learn menu")
    b.run_ms(10200)
    r = learned(b)
    assert r["learning"] is None and r["learned"] == "menu: no key came within 10 s"
    v = volume(b)
    key(b, VOL_UP)
    assert volume(b) == v + 0.5


def test_a_damaged_key_file_gives_the_defaults_and_says_why(tmp_path):
    from headroom.sim.simboard import SimBoard
    b = SimBoard(no_display(SE), flash_dir=str(tmp_path))
    (tmp_path / "remote.json").write_text('{"v": 1, "keys": [[5, "louder"]]}')
    b.power(True)
    b.run_ms(3000)
    assert learned(b)["keys"][0] == ["volume_up", "apple 0x0b"]
    log = ask(b, "log")["log"]
    assert "remote.json: a key is not [CODE, FUNCTION]: [5, 'louder']: the default keys" in log


def test_clear_forgets_every_key_and_defaults_brings_them_back():
    b = playing(no_display(SE))
    assert ask(b, "remote clear")["remote"]["keys"] == []
    v = volume(b)
    key(b, VOL_UP)
    assert volume(b) == v
    r = ask(b, "remote defaults")["remote"]
    assert len(r["keys"]) == len(R.DEFAULT_KEYS)
    key(b, VOL_UP)
    assert volume(b) == v + 0.5


def test_bad_remote_lines_are_refused():
    b = playing(no_display(SE))
    for line in ("remote learn louder", "remote learn", "remote forget", "remote learn mute x"):
        r = ask(b, line)
        assert r["ok"] is False and r["error"].startswith("use: remote"), line
    assert learned(b)["learning"] is None


def test_a_key_still_held_after_it_was_learnt_does_nothing_more():
    """Learning takes the press; its repeats, the key still down, are not a press."""
    b = playing(no_display(SE))
    ask(b, "remote learn volume_up")
    v = volume(b)
    key(b, ("nec", 0x22, 0x33), hold_ms=1500)
    assert learned(b)["learned"] == "volume_up: nec 0x22 0x33"
    assert volume(b) == v
