"""A three-position gain switch (an ON-OFF-ON toggle): low, auto in the middle, high.

The board file gives it two pins (`gain_switch.low_pin`, `.high_pin`); the firmware reads
both as one debounced value. In the middle, gain is `auto` (staged by the level, under
the mute sequence, the PGA2311 compensating); at either end it is that gain, manual. The
trace checker runs on every simulated board here (relays only under mute, no click, no
rise the user did not ask for).
"""
import json

import pytest

from headroom.sim.scenario import Runner, parse
from headroom.vboard import inputs as vinputs
from headroom_fw import board as boardfile
from headroom_fw import controller as C

from helpers import SE, THREE_POS, ask

THREE_B = boardfile.load(THREE_POS)


def lever_board(checked, path=THREE_POS, position="low", volume=None):
    """A board powered on with the lever at `position`, at `volume` (dBV) if given."""
    def lever(b):
        b.set_gain(position)
        b.run_ms(20)

    b = checked(path, lever)
    if volume is not None:
        assert ask(b, "set volume %s" % volume)["ok"]
        b.run_ms(1500)
    return b


def gain(b):
    s = ask(b, "status")
    return s["gain"], s["gain_stage"]


def jack(b):
    return max(x for x in b.jack.levels if x is not None)


def moves_of(b):
    moves = []
    b.trace.listeners.append(lambda t, kind, f: kind == "chip" and dict(f)["chip"] == "relay.gain"
                             and moves.append(t))
    return moves


def edit(d, **gs):
    d = json.loads(json.dumps(d))
    d["gain_switch"] = gs
    return d


def test_the_board_file_takes_two_pins_and_names_each_mistake():
    assert THREE_B.gain_switch_pins == (13, 9) and THREE_B.gain_switch_high_level is None
    # Levels: low_pin in bit 0, high_pin in bit 1; a closed throw reads 0.
    pos = THREE_B.gain_position
    assert (pos(0b10), pos(0b01), pos(0b11), pos(0b00)) == (
        boardfile.GAIN_LOW, boardfile.GAIN_HIGH, boardfile.GAIN_AUTO, boardfile.GAIN_LOW)
    assert boardfile.GAIN_AUTO == C.GAIN_AUTO
    se = boardfile.load(SE)           # two positions: one pin, as before
    assert se.gain_switch_pins == (13,) and se.gain_position(0) == boardfile.GAIN_HIGH
    d = json.load(open(THREE_POS))
    for gs, want in (
            ({"pin": 13, "low_pin": 13, "high_pin": 9}, "gain_switch.pin: a two-position"),
            ({"low_pin": 13, "high_pin": 9, "high_level": 0}, "gain_switch.high_level"),
            ({"low_pin": 13}, "gain_switch.high_pin: missing"),
            ({"low_pin": 13, "high_pin": 14}, "GP14 is already used by gain_switch.high_pin"),
            ({"low_pin": 13, "hihg_pin": 9}, "did you mean gain_switch.high_pin"),
            ({"low_pin": 13, "high_pin": 30}, "gain_switch.high_pin: GP30 is not a usable")):
        with pytest.raises(boardfile.BoardError, match=want):
            boardfile.parse(edit(d, **gs))
    no_relay = edit(d, low_pin=13, high_pin=9)
    no_relay["relays"].pop("gain")
    no_relay["analog"]["gain_high_db"] = no_relay["analog"]["gain_low_db"]
    with pytest.raises(boardfile.BoardError, match="middle is auto gain, which needs relays.gain"):
        boardfile.parse(no_relay)


def test_the_middle_at_power_on_is_auto_and_an_end_wins_over_a_saved_auto(checked):
    b = lever_board(checked, position="auto")
    assert gain(b) == ("auto", "low")                 # the default level needs no more
    b.run_ms(b.board.save_delay_ms + 200)
    b.power(False)
    b.run_ms(200)
    b.set_gain("high")
    b.power(True)
    b.run_ms(3000)
    assert gain(b) == ("high", "high") and b.relays["gain"].energized


def test_the_middle_stages_the_gain_and_the_loudness_stays(checked):
    b = lever_board(checked, volume=6.5)   # low gain tops out at 7.5 dBV: no 3 dB to spare
    assert gain(b) == ("low", "low")
    before = jack(b)
    assert 600 < before <= 650                        # 6.5 dBV, on the PGA2311's 0.5 dB grid
    moves = moves_of(b)
    b.set_gain("auto")
    b.run_ms(2000)
    assert gain(b) == ("auto", "high") and b.relays["gain"].energized
    assert jack(b) == before and len(moves) == 1      # the PGA2311 took the stage's 12 dB off
    assert ask(b, "set volume -20")["ok"]
    b.run_ms(1500)
    assert gain(b) == ("auto", "low") and -2050 < jack(b) <= -2000   # down: below the band
    b.set_gain("high")                # an end of the lever: manual, whatever the level
    b.run_ms(2000)
    assert gain(b) == ("high", "high") and -2050 < jack(b) <= -2000
    b.set_gain("auto")
    b.run_ms(2000)
    assert gain(b) == ("auto", "low")
    assert ask(b, "set gain high")["ok"]              # the host, until the switch moves
    b.run_ms(1500)
    assert gain(b) == ("high", "high")
    b.set_gain("low")
    b.run_ms(1500)
    assert gain(b) == ("low", "low") and not b.relays["gain"].energized
    b.run_ms(b.board.save_delay_ms + 200)
    assert json.loads(b.settings_text())["gain"] == "low"


def test_a_flick_from_end_to_end_crosses_the_middle_unseen(checked):
    b = lever_board(checked, volume=-20)
    seen = []
    ctl = b.app.ctl
    real = ctl.set_gain
    ctl.set_gain = lambda g, now: (seen.append(g), real(g, now))
    b.set_gain("high", bounce_us=1500)   # the lever passes the middle for 8 ms: < debounce
    b.run_ms(2000)
    assert seen == [boardfile.GAIN_HIGH] and gain(b) == ("high", "high")
    assert ask(b, "status")["inputs"]["gain_switch"] == {"bounces": 0}   # travel, not bounce
    b.set_gain("auto")                   # resting in the middle: auto
    b.run_ms(500)
    b.set_gain("low")
    b.run_ms(2000)
    assert seen == [boardfile.GAIN_HIGH, boardfile.GAIN_AUTO, boardfile.GAIN_LOW]


def test_auto_is_an_input_only_where_the_switch_has_a_middle(checked):
    script = "power on\nwait 3000\nswitch gain auto\nwait 1500\nexpect gain low\n"
    b = lever_board(checked, SE)
    runner = Runner(b)
    runner.run(parse(script.replace("power on\nwait 3000\n", "")))
    assert runner.failures and "two positions" in runner.failures[0][2]
    with pytest.raises(ValueError, match="low or high"):
        b.set_gain("auto")
    with pytest.raises(vinputs.InputError, match="two positions"):
        vinputs.parse("switch gain auto", b.board)
    assert vinputs.parse("switch gain auto", THREE_B).args[1] == "auto"
    b3 = lever_board(checked)
    runner = Runner(b3)
    runner.run(parse("switch gain auto\nwait 1500\nexpect gain low\n"))
    assert runner.failures == [] and gain(b3) == ("auto", "low")


def test_the_panels_gain_key_walks_the_lever(tmp_path):
    from headroom.panel.session import Session

    class Wall:
        t = 0.0

        def __call__(self):
            return self.t

    s = Session(THREE_POS, wall=Wall())
    s.power(True)
    walked = []
    for _ in range(5):
        s.toggle("gain")
        walked.append(s.gain)
    assert walked == ["auto", "high", "auto", "low", "auto"]
