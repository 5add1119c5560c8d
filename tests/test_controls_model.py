"""Front-panel models: rotary encoder Gray code, contact bounce, the seeded generator, switches."""
import machine
import pytest
from hypothesis import given
from hypothesis import strategies as st

from headroom.sim.models.controls import GRAY, PowerSense, Rng, RotaryEncoder, Switch

from simkit import bare_sim

Pin = machine.Pin
A, B, BTN = 10, 11, 12


def enc_rig(epd=4, seed=1):
    sim = bare_sim()
    for n in (A, B, BTN):
        Pin(n, Pin.IN, Pin.PULL_UP)
    enc = sim.add_part(RotaryEncoder(sim, A, B, epd, Rng(seed)))
    log = []   # (t_us, A level, B level) after every change of either contact

    def watch(g):
        log.append((sim.now(), sim.gpio[A].level, sim.gpio[B].level))

    sim.gpio[A].listeners.append(watch)
    sim.gpio[B].listeners.append(watch)
    return sim, enc, log


def levels(sim):
    return sim.gpio[A].level, sim.gpio[B].level


# ---- Rng

def test_rng_xorshift32_reference():
    r = Rng(1)
    assert [r.next() for _ in range(3)] == [270369, 67634689, 2647435461]


@given(st.integers(0, 2 ** 32 - 1))
def test_rng_deterministic_per_seed(seed):
    a, b = Rng(seed), Rng(seed)
    xs = [a.next() for _ in range(20)]
    assert xs == [b.next() for _ in range(20)]
    assert all(0 < x < 2 ** 32 for x in xs)


def test_rng_seeds_differ_and_zero_is_usable():
    assert [Rng(1).next() for _ in range(1)] != [Rng(2).next()]
    z = Rng(0)
    assert z.next() != 0      # xorshift would stick at 0: seed 0 is replaced


@given(st.integers(1, 2 ** 32 - 1), st.integers(0, 1000))
def test_rng_below(seed, n):
    r = Rng(seed)
    for _ in range(10):
        v = r.below(n)
        assert 0 <= v < max(n, 1)


# ---- RotaryEncoder

def test_gray_table_changes_one_contact_per_step():
    assert GRAY[0] == 3      # a detent rests with both contacts open
    for i in range(4):
        x = GRAY[i] ^ GRAY[(i + 1) % 4]
        assert x in (1, 2)


@pytest.mark.parametrize("detents,expected", [
    (+1, [(0, 1), (0, 0), (1, 0), (1, 1)]),     # clockwise: A closes first
    (-1, [(1, 0), (0, 0), (0, 1), (1, 1)]),     # counter-clockwise: B closes first
])
def test_one_detent_sequence(detents, expected):
    sim, enc, log = enc_rig()
    d = enc.turn(detents, 10000)
    sim.run_for(d)
    assert [(a, b) for _, a, b in log] == expected


@given(st.integers(-20, 20).filter(lambda n: n != 0), st.integers(100, 2000000),
       st.sampled_from([1, 2, 4]))
def test_turn_is_gray_code_with_epd_transitions_per_detent(n, rate_mhz, epd):
    sim, enc, log = enc_rig(epd)
    t0 = sim.now()
    d = enc.turn(n, rate_mhz)
    # duration: n detents at rate_mhz/1000 per second
    assert d == abs(n) * (10 ** 9 // rate_mhz)
    assert abs(d - abs(n) * 10 ** 9 / rate_mhz) < abs(n)
    sim.run_for(d)
    assert len(log) == abs(n) * epd
    prev = (1, 1)
    for t, a, b in log:
        assert t0 <= t < t0 + d
        assert (a != prev[0]) + (b != prev[1]) == 1     # exactly one contact moves
        prev = (a, b)
    assert [t for t, _, _ in log] == sorted(t for t, _, _ in log)
    if epd == 4:
        assert levels(sim) == (1, 1)                     # back at rest at a detent
    assert enc.turned == n


@given(st.lists(st.integers(-5, 5).filter(bool), min_size=1, max_size=6))
def test_direction_decodes_from_the_sequence(turns):
    sim, enc, log = enc_rig(4)
    for n in turns:
        sim.run_for(enc.turn(n, 20000))
    # decode the quadrature like the firmware would: +1 per CW step, -1 per CCW step
    order = {GRAY[i]: i for i in range(4)}
    pos, prev = 0, order[3]
    for _, a, b in log:
        cur = order[(a << 1) | b]
        step = (cur - prev) % 4
        assert step in (1, 3)
        pos += 1 if step == 1 else -1
        prev = cur
    assert pos == 4 * sum(turns)


def _final_after_turns(turns, rate_mhz, bounce, seed):
    sim, enc, log = enc_rig(4, seed)
    for n in turns:
        sim.run_for(enc.turn(n, rate_mhz, bounce))
    sim.run_for(bounce + 1000)
    return levels(sim), log, enc


@given(st.lists(st.integers(-6, 6).filter(bool), min_size=1, max_size=4),
       st.integers(100, 200000), st.data(), st.integers(1, 2 ** 31))
def test_bounce_ends_in_the_same_contact_states(turns, rate_mhz, data, seed):
    # bounce shorter than the time between two changes of the same contact (2 steps)
    step_us = (10 ** 9 // rate_mhz) // 4
    bounce = data.draw(st.integers(1, max(1, 2 * step_us - 2)))
    clean, clean_log, _ = _final_after_turns(turns, rate_mhz, 0, seed)
    bouncy, bouncy_log, _ = _final_after_turns(turns, rate_mhz, bounce, seed)
    assert bouncy == clean == (1, 1)
    assert len(bouncy_log) >= len(clean_log)


def test_bounce_adds_chatter():
    _, clean_log, _ = _final_after_turns([3], 10000, 0, 7)
    _, bouncy_log, _ = _final_after_turns([3], 10000, 2000, 7)
    assert len(bouncy_log) > len(clean_log)


def test_bounce_is_repeatable_for_a_seed():
    _, log1, _ = _final_after_turns([2, -1], 30000, 1500, 42)
    _, log2, _ = _final_after_turns([2, -1], 30000, 1500, 42)
    _, log3, _ = _final_after_turns([2, -1], 30000, 1500, 43)
    assert log1 == log2
    assert log1 != log3


def test_long_bounce_still_ends_at_rest():
    final, _, _ = _final_after_turns([3], 40000, 20000, 1)
    assert final == (1, 1)


# ---- Switch

def sw_rig(seed=1):
    sim = bare_sim()
    Pin(BTN, Pin.IN, Pin.PULL_UP)
    sw = sim.add_part(Switch(sim, BTN, "button", Rng(seed)))
    log = []
    sim.gpio[BTN].listeners.append(lambda g: log.append((sim.now(), g.level)))
    return sim, sw, log


def test_switch_without_bounce_is_one_edge():
    sim, sw, log = sw_rig()
    sim.run_for(1000)
    sw.set(True)
    sim.run_for(1000)
    assert log == [(1000, 0)]
    sw.set(True)          # already closed: nothing
    sim.run_for(1000)
    assert log == [(1000, 0)]
    sw.set(False)
    sim.run_for(1000)
    assert log == [(1000, 0), (3000, 1)]


@given(st.lists(st.booleans(), min_size=1, max_size=6), st.integers(0, 5000),
       st.integers(1, 2 ** 31))
def test_switch_with_bounce_ends_in_requested_state(states, bounce, seed):
    sim, sw, log = sw_rig(seed)
    for closed in states:
        before = len(log)
        t = sim.now()
        sw.set(closed, bounce)
        sim.run_for(bounce + 1000)       # settle before the next change
        assert sim.gpio[BTN].level == (0 if closed else 1)
        assert sw.contact.closed is closed
        # all chatter of this change lies within its bounce time
        assert all(t <= tt <= t + bounce for tt, _ in log[before:])


def test_switch_bounce_chatters_then_settles():
    sim, sw, log = sw_rig(3)
    t = sim.now()
    sw.set(True, 3000)
    sim.run_for(5000)
    assert log[0] == (t, 0)
    assert len(log) >= 3 and len(log) % 2 == 1       # 1..3 open/re-close pairs
    assert all(t < tt <= t + 3000 for tt, _ in log[1:])
    assert log[-1][1] == 0


def test_switch_at_a_given_time():
    sim, sw, log = sw_rig()
    sw.set(True, 0, t_us=7000)
    sim.run_for(10000)
    assert log == [(7000, 0)]


def test_quick_release_within_bounce_ends_open():
    sim, sw, log = sw_rig(5)
    sw.set(True, 5000)
    sim.run_for(1000)
    sw.set(False, 5000)
    sim.run_for(20000)
    assert sim.gpio[BTN].level == 1


# ---- PowerSense

def test_power_sense_follows_supply_and_sets_holdup():
    sim = bare_sim(powered=False)
    sim.add_part(PowerSense(sim, 22, 20))
    assert sim.holdup_us == 20000
    sim.power(True)
    assert sim.gpio[22].level == 1
    sim.mcu_powered = True
    sim.power(False)
    assert sim.gpio[22].level == 0       # falls at once
    assert sim.mcu_powered               # the MCU lives on for the hold-up time
    sim.run_for(19999)
    assert sim.mcu_powered
    sim.run_for(1)
    assert not sim.mcu_powered
