"""Stuck and noisy inputs: the firmware stays safe (every rule of the trace checker) and
usable, and does nothing the user did not do.

- an encoder contact chattering for seconds (no detent turned): no level change at all;
- a gain switch bouncing for seconds, or between positions back and forth: relays move
  only under mute, it ends where the switch rests, and the knob still works;
- the button held down from power-on: it confirms nothing (a raised limit stays refused),
  enters no balance mode, and its release is no click;
- a relay whose contacts never move: undetectable on the shipped boards (no sense pin):
  see docs/reliability.md.

Each time `status` says what it saw: the bounces each input filtered out, the encoder's
skipped edges, a button held since power-on.
"""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from headroom.readable import state_line
from headroom.sim.models.controls import Rng
from headroom_fw import board as boardfile

from helpers import BALANCED, SE, ask


def chatter(b, contact, seconds, seed=7):
    """The contact opens and closes at random, 0.1 to 15 ms apart, for `seconds`; returns
    the time that takes (us). `b.toggles` counts the changes."""
    rng = Rng(seed)
    t = b.sim.clock.now_us
    end = t + seconds * 1000000
    state = contact.closed
    while True:
        t += 100 + rng.below(15000)
        if t >= end:
            break            # none after the contact comes to rest at end + 1
        state = not state
        b.sim.clock.at(t, contact._set_event, state)
        b.toggles = getattr(b, "toggles", 0) + 1
    b.sim.clock.at(end + 1, contact._set_event, contact.target)
    return end - b.sim.clock.now_us


def levels_seen(b):
    seen = []
    b.trace.listeners.append(lambda t, kind, f: kind == "chip" and dict(f)["chip"] == "jack"
                             and seen.append(t))
    return seen


def inputs(b):
    return ask(b, "status")["inputs"]


@pytest.mark.parametrize("decoder", ["pio", "irq"])
@pytest.mark.parametrize("path", [SE, BALANCED], ids=["se", "balanced"])
def test_an_encoder_contact_chattering_for_seconds_changes_nothing(checked, path, decoder):
    b = checked(path, decoder=decoder)
    assert inputs(b)["encoder"] == {"bounces": 0, "skips": None if decoder == "pio" else 0,
                                    "refused": 0}
    before = b.jack.levels
    seen = levels_seen(b)
    b.run_us(chatter(b, b.encoder.a, 3) + 100000)
    assert b.jack.levels == before and seen == []
    # Status says what it saw: every contact closing (a step out of the detent) came
    # back before a detent completed: one bounce per pair of changes (B never moved).
    enc = inputs(b)["encoder"]
    assert enc["bounces"] == b.toggles // 2, (enc, b.toggles)
    assert enc["skips"] == (None if decoder == "pio" else 0)
    line = state_line(ask(b, "status"))
    assert "the knob's contacts bounced %d times (filtered)" % enc["bounces"] in line, line
    # Still usable: a real turn moves the level, and is no bounce.
    b.run_us(b.turn(+2, rate=5) + 100000)
    assert b.jack.levels[0] > before[0]
    assert inputs(b)["encoder"]["bounces"] == enc["bounces"]


def test_a_gain_switch_bouncing_for_seconds_ends_where_it_rests(checked):
    b = checked(SE)
    moves = []
    b.trace.listeners.append(lambda t, kind, f: kind == "chip" and dict(f)["chip"] == "relay.gain"
                             and moves.append(t))
    b.set_gain("high")
    b.run_ms(2000)
    assert inputs(b)["gain_switch"] == {"bounces": 0}
    b.run_us(chatter(b, b.gain_switch.contact, 3) + 2000000)
    assert b.relays["gain"].energized and ask(b, "get gain")["gain"] == "high"
    # Sampled every pass, it saw some of the bounces: each one a change it did not take.
    seen = inputs(b)["gain_switch"]["bounces"]
    assert 0 < seen <= b.toggles, (seen, b.toggles)
    # Back and forth between the positions for seconds, ending low.
    for pos in ("low", "high", "low"):
        b.set_gain(pos)
        b.run_us(chatter(b, b.gain_switch.contact, 1, seed=len(moves) + 3))
    b.run_ms(2000)
    assert not b.relays["gain"].energized and ask(b, "get gain")["gain"] == "low"
    assert b.jack.levels[0] is not None        # playing again, faded in
    # Sampled every 10 ms, chatter now and then looks stable for the 20 ms debounce: the
    # relay moves (under mute, the checker's rule) a few times, not with every bounce.
    assert len(moves) <= b.toggles // 20, (len(moves), b.toggles)


@pytest.mark.parametrize("path", [SE, BALANCED], ids=["se", "balanced"])
def test_a_button_held_from_power_on_confirms_nothing(checked, path):
    b = checked(path, lambda b: b.press(True))
    assert inputs(b)["button"] == {"bounces": 0, "held_since_boot": True}
    assert "the button held since power-on (ignored until released)" in state_line(ask(b, "status"))
    assert ask(b, "set limit -30")["ok"]
    r = ask(b, "set limit 0")
    assert not r["ok"] and "long press" in r["error"]
    b.run_ms(10000)                            # held all along: never a new press
    assert ask(b, "get limit")["limit"] == -30.0
    before = b.jack.levels
    b.run_us(b.turn(-2, rate=5) + 100000)      # the knob still sets the volume, not balance
    assert b.jack.levels[0] < before[0] and b.jack.levels[0] == b.jack.levels[1]
    b.press(False)                             # let go: no click, no mute
    b.run_ms(500)
    assert ask(b, "get mute")["mute"] is False and b.jack.levels[0] is not None
    assert inputs(b)["button"]["held_since_boot"] is False
    assert "button" not in state_line(ask(b, "status"))


# ---------------------------------------------------------------- fast turns with bounce

@settings(max_examples=20)
@given(seed=st.integers(1, 2 ** 16), detents=st.integers(3, 20),
       rate=st.sampled_from([20, 50, 100, 200, 300]), share=st.floats(0.3, 0.95),
       decoder=st.sampled_from(["pio", "irq"]), path=st.sampled_from([SE, BALANCED]))
def test_a_fast_turn_down_with_bounce_never_gets_louder(seed, detents, rate, share, decoder, path):
    """Bounce up to 95 % of the time between two edges (at 300 detents/s, 0.8 ms), on the
    jittered costs: the level only goes down. (Bounce that outlasts the next edge is
    outside any encoder's rating: `make reliability` measures what it does.)"""
    from headroom import knobmisreads
    edge_us = 1000000 // (rate * boardfile.load(path).edges_per_detent)
    rise, end, _ = knobmisreads.one(path, seed, detents, rate, int(edge_us * share), decoder)
    assert rise == 0 and end < 0, (rise, end)


def test_the_out_of_rating_measure_sees_a_clean_turn_as_one():
    from headroom import knobmisreads
    rise, end, refused = knobmisreads.one(SE, 7, 6, 5, 0, "pio")      # slow, no bounce
    assert rise == 0 and end == -300 and refused == 0                # 6 single 0.5 dB steps
    r = knobmisreads.run(SE, 3, seed=1)
    assert sorted(r) == ["irq", "pio"] and all(m["runs"] == 3 for m in r.values())


def test_status_says_each_input_figure_that_is_not_zero_in_a_sentence():
    from headroom.readable import inputs_notes
    assert inputs_notes({"encoder": {"bounces": 0, "skips": None, "refused": 0},
                         "button": {"bounces": 0, "held_since_boot": False}}) == []
    assert inputs_notes({"encoder": {"bounces": 1, "skips": 2, "refused": 3},
                         "gain_switch": {"bounces": 4}}) == [
        "the knob's contacts bounced 1 time (filtered)", "the knob's contacts skipped 2 edges",
        "the knob's contacts: 3 louder detents within 50 ms of a quieter one refused as bounce",
        "the gain switch bounced 4 times (filtered)"]
    assert inputs_notes(None) == []
