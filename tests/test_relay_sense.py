"""A relay whose contacts never move, seen by the optional `sense` pin of the board file:
a fault (everything muted, `status` names the relay and its pin), and the sense field
validated like every other."""
import json

import pytest

from headroom_fw import board as boardfile

from helpers import SE, ask, board_variant

SENSE_GPIO = 6   # free on pico-se


def sensed_relays(d):
    d["name"] = d["name"] + "-sensed"
    d["relays"]["gain"]["sense"] = SENSE_GPIO
    d["relays"]["mute"]["sense"] = 3


SENSED = board_variant(SE, sensed_relays)


def test_contacts_that_follow_their_coil_are_no_fault(checked):
    b = checked(SENSED)
    b.set_gain("high")
    b.run_ms(2000)
    s = ask(b, "status")
    assert s["faults"] == [] and s["phase"] == "playing" and b.jack.levels[0] is not None


def test_a_gain_relay_that_does_not_move_is_a_fault_and_mutes(checked):
    b = checked(SENSED)
    b.fault("relay.gain")                 # its contacts stay released
    b.set_gain("high")
    b.run_ms(2000)
    s = ask(b, "status")
    assert s["phase"] == "held" and b.jack.levels == (None, None)
    assert s["faults"] == ["relay.gain: its contacts do not follow the coil (sense GP6 reads "
                           "them released, the coil is on)"]
    b.fault("relay.gain", False)          # freed: still not trusted until the next boot
    b.run_ms(3000)
    assert ask(b, "status")["phase"] == "held"


def test_a_welded_mute_relay_is_a_fault(checked):
    b = checked(SENSED)
    b.fault("relay.mute")                 # welded closed
    b.power(False)
    b.run_ms(500)
    b.power(True)                         # its coil is off for the settle delay: seen then
    b.run_ms(3000)
    s = ask(b, "status")
    assert s["faults"] and s["faults"][0].startswith("relay.mute: its contacts do not follow")
    assert s["phase"] == "held"


def test_the_sense_field_is_validated_like_the_others():
    d = json.load(open(SE))
    d["relays"]["gain"]["sense"] = 14     # the mute relay's coil
    with pytest.raises(boardfile.BoardError, match="relays.gain.sense: GP14 is already used"):
        boardfile.parse(d)
    d["relays"]["gain"]["sense"] = 29
    with pytest.raises(boardfile.BoardError, match="relays.gain.sense: GP29 is not a usable"):
        boardfile.parse(d)
    del d["relays"]["gain"]["sense"]
    d["relays"]["gain"]["sens"] = 6
    with pytest.raises(boardfile.BoardError, match="did you mean relays.gain.sense"):
        boardfile.parse(d)
