"""The virtual clock: event order, cancel, run_until, and MicroPython's ticks arithmetic."""
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from headroom.sim import clock as clockmod
from headroom.sim.clock import TICKS_MAX, TICKS_PERIOD, Clock, ticks_add, ticks_diff

from simkit import bare_sim

HALF = TICKS_PERIOD // 2


# ---- the event queue

@given(st.lists(st.integers(0, 50), min_size=1, max_size=30))
def test_events_run_in_time_order_ties_in_scheduling_order(times):
    c = Clock()
    ran = []
    for i, t in enumerate(times):
        c.at(t, lambda arg: ran.append((c.now_us, arg)), (t, i))
    c.run_until(100)
    expected = sorted((t, i) for i, t in enumerate(times))  # stable: ties keep their index order
    assert [arg for _, arg in ran] == expected
    # each event saw the clock at its own time
    assert [now for now, _ in ran] == [t for t, _ in expected]


def test_after_is_relative_to_now():
    c = Clock(start_us=5000)
    c.run_until(6000)
    seen = []
    c.after(250, lambda _: seen.append(c.now_us))
    c.run_until(7000)
    assert seen == [6250]


def test_event_in_the_past_runs_now_not_before():
    c = Clock()
    c.run_until(1000)
    seen = []
    c.at(10, lambda _: seen.append(c.now_us))
    c.run_until(1000)
    assert seen == [1000]
    assert c.now_us == 1000


def test_cancelled_event_never_runs():
    c = Clock()
    ran = []
    a = c.at(10, ran.append, "a")
    c.at(20, ran.append, "b")
    a.cancel()
    assert c.next_time() == 20
    c.run_until(100)
    assert ran == ["b"]


def test_cancel_from_an_earlier_event():
    c = Clock()
    ran = []
    later = c.at(30, ran.append, "later")
    c.at(10, lambda _: later.cancel())
    c.run_until(100)
    assert ran == []


def test_cancel_everything_empties_the_queue():
    c = Clock()
    evs = [c.at(t, lambda _: None) for t in (1, 2, 3)]
    for e in evs:
        e.cancel()
    assert c.next_time() is None


def test_run_until_sets_time_without_events():
    c = Clock()
    c.run_until(12345)
    assert c.now_us == 12345
    assert c.elapsed_us() == 12345


def test_run_until_includes_its_end_and_leaves_later_events():
    c = Clock()
    ran = []
    c.at(100, ran.append, 100)
    c.at(101, ran.append, 101)
    c.run_until(100)
    assert ran == [100]
    assert c.now_us == 100
    assert c.next_time() == 101
    c.run_until(101)
    assert ran == [100, 101]


def test_run_until_never_moves_time_back():
    c = Clock()
    c.run_until(500)
    c.run_until(100)
    assert c.now_us == 500


def test_event_scheduled_by_an_event_at_the_same_time_runs_in_the_same_run():
    c = Clock()
    ran = []

    def first(_):
        ran.append("first")
        c.after(0, ran.append, "child")

    c.at(50, first)
    c.at(50, ran.append, "sibling")
    c.run_until(50)
    # the child was scheduled after the sibling: ties in scheduling order
    assert ran == ["first", "sibling", "child"]


def test_between_is_called_after_each_event():
    c = Clock()
    log = []
    c.at(1, log.append, "e1")
    c.at(2, log.append, "e2")
    c.run_until(10, lambda: log.append("between@%d" % c.now_us))
    assert log == ["e1", "between@1", "e2", "between@2"]


@given(st.integers(0, 10 ** 12), st.integers(0, 10 ** 9))
def test_elapsed_counts_from_the_start(start, dt):
    c = Clock(start)
    c.run_until(start + dt)
    assert c.elapsed_us() == dt


# ---- ticks arithmetic (MicroPython: period 2**30 on rp2)

def test_ticks_constants():
    assert TICKS_PERIOD == 2 ** 30
    assert TICKS_MAX == 2 ** 30 - 1


@given(st.integers(0, TICKS_MAX), st.integers(-(HALF - 1), HALF - 1))
def test_ticks_diff_of_ticks_add_is_delta(t, d):
    t2 = ticks_add(t, d)
    assert 0 <= t2 <= TICKS_MAX
    assert ticks_diff(t2, t) == d
    assert ticks_diff(t, t2) == -d


@given(st.integers(0, TICKS_MAX), st.integers(0, TICKS_MAX))
def test_ticks_diff_range_and_reference(a, b):
    d = ticks_diff(a, b)
    assert -HALF <= d < HALF
    # MicroPython extmod/modtime.c: ((end - start + PERIOD/2) & (PERIOD-1)) - PERIOD/2
    assert d == ((a - b + HALF) % TICKS_PERIOD) - HALF
    assert ticks_add(b, d) == a


def test_ticks_wrap_points():
    assert ticks_add(TICKS_MAX, 1) == 0
    assert ticks_add(0, -1) == TICKS_MAX
    assert ticks_diff(0, TICKS_MAX) == 1
    assert ticks_diff(TICKS_MAX, 0) == -1
    assert ticks_diff(HALF - 1, 0) == HALF - 1
    assert ticks_diff(HALF, 0) == -HALF  # the half period itself reads as negative


@pytest.mark.parametrize("delta", [HALF, -HALF, TICKS_PERIOD, 3 * HALF])
def test_ticks_add_rejects_half_period_deltas(delta):
    with pytest.raises(OverflowError):
        ticks_add(0, delta)


@given(st.integers(0, 2 ** 40), st.integers(0, 10 ** 7))
def test_clock_ticks_wrap(start, dt):
    c = Clock(start)
    t0_ms, t0_us = c.ticks_ms(), c.ticks_us()
    c.run_until(start + dt)
    assert c.ticks_us() == (start + dt) % TICKS_PERIOD
    assert c.ticks_ms() == ((start + dt) // 1000) % TICKS_PERIOD
    assert ticks_diff(c.ticks_us(), t0_us) == dt
    assert ticks_diff(c.ticks_ms(), t0_ms) == (start + dt) // 1000 - start // 1000


def test_time_shim_reads_the_virtual_clock():
    sim = bare_sim()
    t0 = time.ticks_ms()
    u0 = time.ticks_us()
    sim.run_for(2500000)
    assert time.ticks_diff(time.ticks_ms(), t0) == 2500
    assert time.ticks_diff(time.ticks_us(), u0) == 2500000
    assert time.ticks_add is clockmod.ticks_add
    assert time.ticks_diff is clockmod.ticks_diff


def test_sleep_ms_advances_the_virtual_clock_and_runs_events():
    sim = bare_sim()
    seen = []
    sim.clock.after(1500, lambda _: seen.append(sim.now()))
    before = sim.now()
    time.sleep_ms(2)
    assert sim.now() - before == 2000
    assert seen == [before + 1500]
