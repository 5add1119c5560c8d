"""Choosing the input (board `inputs`: names, a selector on GPIOs, `source`), each input's
level trim, remembered; under the muting order and the checker."""
import pytest

from headroom_fw import board as boardfile

from helpers import BALANCED, SE, ask, board_dict, no_display, until_playing, watched


def test_a_change_of_input_moves_the_selector_under_mute_and_fades_back_in():
    b, c, pins = watched(no_display(BALANCED))
    bd = b.board
    assert bd.source == "external" and bd.input_names == ("USB", "S/PDIF")
    sel = bd.input_select[0]
    v = ask(b, "status")["volume"]
    n = len(pins)
    r = ask(b, "set input s/pdif")                 # a name in any case
    assert r == {"ok": True, "input": "S/PDIF"}
    b.run_ms(3000)
    moves = [p for _, p, _ in pins[n:] if p in (bd.dac_xsmt, bd.pga_mute, bd.mute_relay.pin, sel)]
    # Muted in order, the selector moved, unmuted in the reverse order.
    assert moves == [bd.dac_xsmt, bd.pga_mute, bd.mute_relay.pin, sel, bd.mute_relay.pin,
                     bd.pga_mute, bd.dac_xsmt]
    s = ask(b, "status")
    assert (s["input"], s["trim"], s["volume"], s["phase"]) == ("S/PDIF", 0.0, v, "playing")
    c.finish(b.now_us())
    assert c.ok(), c.report()


def test_each_input_keeps_its_trim_and_a_change_is_never_louder_at_once():
    b, c, _ = watched(no_display(BALANCED))
    b.run_ms(100)                                         # the last ramp step's zero crossing
    top = max(b.jack.levels)
    assert ask(b, "set trim -6")["trim"] == -6.0          # USB 6 dB down: at once
    b.run_ms(300)
    assert max(b.jack.levels) == top - 600
    ask(b, "set input S/PDIF")                            # its own trim: 0
    b.run_ms(3000)
    assert max(b.jack.levels) == top                      # faded back in, never a jump
    ask(b, "set input USB")
    b.run_ms(3000)
    assert ask(b, "status")["trim"] == -6.0 and max(b.jack.levels) == top - 600
    assert ask(b, "set trim 0")["ok"]                     # a raise: faded in
    b.run_ms(2000)
    assert max(b.jack.levels) == top
    # Kept across a power cycle, with the input chosen.
    ask(b, "set trim -2.5")
    ask(b, "set input S/PDIF")
    b.run_ms(b.board.save_delay_ms + 3000)
    b.power(False)
    b.run_ms(500)
    b.power(True)
    until_playing(b)
    s = ask(b, "status")
    assert (s["input"], s["trim"]) == ("S/PDIF", 0.0)
    ask(b, "set input USB")
    b.run_ms(3000)
    assert ask(b, "status")["trim"] == -2.5
    c.finish(b.now_us())
    assert c.ok(), c.report()


def test_the_remotes_input_key_steps_through_the_inputs():
    b, c, _ = watched(no_display(BALANCED))
    b.run_us(b.ir("apple", 0, 0x07) + 300000)            # right: the next input
    assert ask(b, "get input")["input"] == "S/PDIF"
    b.run_us(b.ir("nec", 0x00, 0x44) + 300000)           # the kit remote's |<<: on round
    assert ask(b, "get input")["input"] == "USB"
    c.finish(b.now_us())
    assert c.ok(), c.report()


def test_bad_inputs_and_trims_are_refused_and_change_nothing():
    b, _, _ = watched(no_display(BALANCED))
    for line, why in (("set input tape", "input: USB, S/PDIF"), ("set trim 1", "-20.0..0.0"),
                      ("set trim -20.5", "-20.0..0.0"), ("set trim x", "0.5 dB grid")):
        r = ask(b, line)
        assert r["ok"] is False and why in r["error"], (line, r)
    s = ask(b, "status")
    assert (s["input"], s["trim"]) == ("USB", 0.0)
    se, _, _ = watched(no_display(SE))                      # one input, the Pico's
    assert ask(se, "get input") == {"ok": True, "input": ""}
    assert ask(se, "set input usb")["error"] == "input: this board has one"


@pytest.mark.parametrize("edit,why", [
    ({"names": ["USB"] * 2, "select": [0]}, "inputs.names: a name is given twice"),
    ({"names": ["USB", "S/PDIF", "AES"], "select": [0]}, "inputs.select: 3 inputs need 2 select"),
    ({"names": ["a b"], "select": []}, "inputs.names: one to four names"),
    ({"names": ["USB", "Coax"], "select": [4]}, "inputs.select.0: GP4 is already used"),
    ({"names": ["USB"], "source": "tape"}, 'inputs.source: "pico" or "external"'),
    ({"names": ["USB", "Coax"], "select": [0], "switch_ms": 5000}, "inputs.switch_ms"),
    ({"names": ["USB"], "selekt": []}, "selekt"),
])
def test_a_bad_inputs_section_is_refused_naming_the_field(edit, why):
    d = board_dict(BALANCED)
    d["inputs"] = edit
    with pytest.raises(boardfile.BoardError) as e:
        boardfile.parse(d)
    assert why in str(e.value)
