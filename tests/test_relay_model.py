"""The relay model: contacts follow the coil after the operate/release time; no supply, no coil."""
import machine
import pytest
from hypothesis import given
from hypothesis import strategies as st

from headroom.sim.models.relay import Relay

from simkit import bare_sim, records

Pin = machine.Pin
GP = 14


def rig(active_high=True, operate_ms=5, release_ms=3):
    sim = bare_sim(powered=False)
    relay = sim.add_part(Relay(sim, "mute", GP, active_high, operate_ms, release_ms))
    sim.power(True)
    sim.mcu_powered = True
    return sim, relay


def contact_records(sim):
    return [(r["t_us"], r["state"]["energized"]) for r in records(sim, "chip", chip="relay.mute")]


def test_starts_released_and_traced():
    sim, relay = rig()
    assert relay.energized is False and relay.coil is False
    assert contact_records(sim) == [(0, False)]


def test_contacts_follow_operate_time():
    sim, relay = rig(operate_ms=5)
    sim.run_for(1000)
    Pin(GP, Pin.OUT, value=1)
    assert relay.coil is True
    sim.run_for(4999)
    assert relay.energized is False
    sim.run_for(1)
    assert relay.energized is True
    assert contact_records(sim)[-1] == (6000, True)
    assert relay.moves == 1


def test_contacts_follow_release_time():
    sim, relay = rig(operate_ms=5, release_ms=3)
    p = Pin(GP, Pin.OUT, value=1)
    sim.run_for(10000)
    p.value(0)
    t = sim.now()
    assert relay.coil is False and relay.energized is True
    sim.run_for(2999)
    assert relay.energized is True
    sim.run_for(1)
    assert relay.energized is False
    assert contact_records(sim)[-1] == (t + 3000, False)
    assert relay.moves == 2


def test_listeners_hear_each_move():
    sim, relay = rig()
    heard = []
    relay.listeners.append(lambda: heard.append((sim.now(), relay.energized)))
    p = Pin(GP, Pin.OUT, value=1)
    sim.run_for(10000)
    p.value(0)
    sim.run_for(10000)
    assert heard == [(5000, True), (13000, False)]


def test_coil_toggled_back_before_operate_cancels_the_move():
    sim, relay = rig(operate_ms=5)
    p = Pin(GP, Pin.OUT, value=1)
    sim.run_for(2000)
    p.value(0)
    sim.run_for(20000)
    assert relay.energized is False and relay.moves == 0
    assert contact_records(sim) == [(0, False)]


def test_coil_toggled_back_before_release_cancels_the_move():
    sim, relay = rig(operate_ms=5, release_ms=3)
    p = Pin(GP, Pin.OUT, value=1)
    sim.run_for(10000)
    p.value(0)
    sim.run_for(2000)
    p.value(1)
    sim.run_for(20000)
    assert relay.energized is True and relay.moves == 1


def test_operate_time_restarts_after_a_cancelled_pulse():
    sim, relay = rig(operate_ms=5)
    p = Pin(GP, Pin.OUT, value=1)
    sim.run_for(4000)
    p.value(0)
    sim.run_for(1000)
    p.value(1)           # t = 5 ms: the operate time starts again
    sim.run_for(4999)
    assert relay.energized is False
    sim.run_for(1)
    assert relay.energized is True
    assert contact_records(sim)[-1] == (10000, True)


@given(st.lists(st.tuples(st.booleans(), st.integers(0, 12000)), min_size=1, max_size=12),
       st.integers(0, 10), st.integers(0, 10))
def test_contacts_settle_to_the_coil(pulses, operate_ms, release_ms):
    sim, relay = rig(operate_ms=operate_ms, release_ms=release_ms)
    p = Pin(GP, Pin.OUT, value=0)
    changes, level = [], False      # (time, new coil state)
    for on, dt in pulses:
        if on != level:
            changes.append((sim.now(), on))
            level = on
        p.value(1 if on else 0)
        sim.run_for(dt)
    sim.run_for(max(operate_ms, release_ms) * 1000)
    assert relay.coil is level
    assert relay.energized is level
    moves = contact_records(sim)[1:]
    assert relay.moves == len(moves)
    for t, state in moves:
        # each move is exactly the operate/release time after the coil change that caused it,
        # and the coil did not change again in between
        delay = (operate_ms if state else release_ms) * 1000
        cause = [c for c in changes if c[0] == t - delay and c[1] == state]
        assert cause, (t, state, changes)
        assert not [c for c in changes if t - delay < c[0] < t]
    # contact states alternate
    assert all(a[1] != b[1] for a, b in zip(moves, moves[1:]))


def test_no_supply_means_coil_off():
    sim, relay = rig(release_ms=3)
    Pin(GP, Pin.OUT, value=1)
    sim.run_for(10000)
    assert relay.energized is True
    t = sim.now()
    sim.power(False)
    assert relay.coil is False
    sim.run_for(3000)
    assert relay.energized is False
    assert contact_records(sim)[-1] == (t + 3000, False)
    # with the supply off, a high coil pin (driven from outside) does not energize it
    sim.gpio[GP].drive("bench", 1)
    sim.run_for(20000)
    assert relay.coil is False and relay.energized is False


def test_supply_on_with_pin_already_active_energizes():
    sim = bare_sim(powered=False)
    relay = sim.add_part(Relay(sim, "mute", GP, True, 5, 3))
    sim.gpio[GP].drive("bench", 1)
    assert relay.coil is False
    sim.power(True)
    assert relay.coil is True
    sim.run_for(5000)
    assert relay.energized is True


@pytest.mark.parametrize("active_high", [True, False])
def test_polarity(active_high):
    sim, relay = rig(active_high=active_high, operate_ms=5)
    on, off = (1, 0) if active_high else (0, 1)
    # undriven, the driver's input resistor holds the coil off
    assert sim.gpio[GP].board_pull == off
    p = Pin(GP, Pin.OUT, value=off)
    sim.run_for(10000)
    assert relay.energized is False
    p.value(on)
    sim.run_for(5000)
    assert relay.coil is True and relay.energized is True
    p.value(off)
    sim.run_for(10000)
    assert relay.energized is False


def test_active_low_coil_released_when_mcu_lets_go():
    sim, relay = rig(active_high=False, release_ms=3)
    Pin(GP, Pin.OUT, value=0)
    sim.run_for(10000)
    assert relay.energized is True
    sim.mcu_set(GP, mode=Pin.IN)     # pin back to input: the board resistor pulls it high
    assert sim.gpio[GP].level == 1
    sim.run_for(3000)
    assert relay.energized is False
