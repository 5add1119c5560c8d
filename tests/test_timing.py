"""Real time on the simulated board (the cost model): the knob's speed is the knob's, not
the main loop's; waits count from when the pins moved; the knob reaches the PGA2311 within
a couple of milliseconds.

The firmware's own work costs virtual time here (headroom.sim.cost): `slow=N` makes every
pass N times slower (2 to 20 ms), jitter draws every cost within its bounds.
"""
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from headroom.sim.cost import CostModel
from headroom.sim.invariants import Checker
from headroom.sim.rules_display import DISPLAY_LAG_US
from headroom.sim.simboard import SimBoard

from helpers import BALANCED, SE, no_display

# Detent intervals of 500, 200, 100, 50, 33, 20, 10 and 5 ms: none sits on a speed tier's
# boundary (21/29 and 56/64 ms with the hysteresis), where a microsecond decides. Each
# turn is a gesture of its own (the knob still for over a second after it, so the next
# starts slow): turns run together, at two speeds or with a short pause, make a mean
# interval anywhere - 55-56 ms against the 56 ms boundary for 20/s then 30/s - where one
# interrupt held off for a moment by a critical section (a frame going out) moves a
# detent's time by a millisecond and the tier with it.
RATES = [2, 5, 10, 20, 30, 50, 100, 200]
SLOW_20MS = 13   # CostModel(slow=...) for main-loop passes of up to about 20 ms
GESTURE = st.lists(st.tuples(st.integers(-15, 15).filter(bool), st.sampled_from(RATES),
                             st.sampled_from([1500, 3000])), min_size=1, max_size=5)


def final_volume(path, gesture, cost, decoder):
    b = SimBoard(path, keep_trace=False, cost=cost, decoder=decoder)
    try:
        b.power(True)
        b.run_ms(3000)
        # Every turn at a set time, queued in the encoder before the board runs on (a pass
        # that runs past the end of a wait must not move a turn): the same detent times
        # on every run.
        t = 3100000
        for detents, rate, pause_ms in gesture:
            t += b.turn(detents, rate=rate, at_us=t) + pause_ms * 1000
        b.run_until(t + 2000000)   # any fade-in finished
        assert not b.sim.faults and not b.sim.crashes
        return b.app.ctl.volume, b.pga.chips[0].codes
    finally:
        b.close()


@settings(max_examples=12)
@given(st.sampled_from([SE, BALANCED]), GESTURE, st.sampled_from(["pio", "irq"]),
       st.integers(1, 2 ** 16))
def test_the_same_gesture_gives_the_same_level_at_any_loop_speed(path, gesture, decoder, seed):
    want = final_volume(path, gesture, CostModel(), decoder)
    for cost in (CostModel(slow=2), CostModel(slow=SLOW_20MS), CostModel(jitter=seed),
                 CostModel(jitter=seed, slow=SLOW_20MS // 2)):
        assert final_volume(path, gesture, cost, decoder) == want, (cost.slow, cost.rng)


def test_loop_speed_spans_two_to_twenty_milliseconds():
    """What `slow` does to a pass (so the property above spans what it claims): the typical
    costs give the emulated board's pass (1.5 ms idle, 2.7-3 ms turning), SLOW_20MS about 20."""
    for slow, lo, hi in ((1, 1500, 5000), (SLOW_20MS, 15000, 25000)):
        # The loop's own passes: a display's frame adds its spans to a pass (in its idle
        # time, the knob first: bench_display measures that).
        b = SimBoard(no_display(SE), keep_trace=False, cost=CostModel(slow=slow))
        b.power(True)
        b.run_ms(3000)
        b.console.send("status\n")
        b.run_ms(200)
        worst = json.loads(b.console.replies()[-1])["worst_pass_us"]
        assert lo <= worst <= hi, (slow, worst)
        b.close()


@pytest.mark.parametrize("path,switch", [(SE, "gain"), (BALANCED, "gain"), (BALANCED, "output")])
def test_relays_settle_as_long_as_the_board_says_even_when_passes_run_late(path, switch):
    """From a gain/output relay's coil moving to the mute relay's coil: at least its operate
    (or release) time plus relay_settle_ms, on the trace, with slow, jittery passes."""
    for cost in (CostModel(slow=20), CostModel(jitter=7), CostModel(jitter=8, slow=10)):
        b = SimBoard(path, cost=cost)
        # The display's 50 ms are for a firmware at its own speed: as many times longer
        # as its passes are made slower.
        c = Checker(b.board, display_lag_us=DISPLAY_LAG_US * cost.slow)
        b.trace.listeners.append(c.live)
        coil = b.board.gain_relay.pin if switch == "gain" else b.board.output_relay.pin
        pins = (coil, b.board.mute_relay.pin)
        moves = [r for r in b.trace.lines]  # counted from the kept trace below
        b.power(True)
        b.run_ms(3000)
        for pos in (("high", "low") * 2 if switch == "gain" else ("balanced", "se") * 2):
            (b.set_gain if switch == "gain" else b.set_output)(pos)
            b.run_ms(400)
        assert c.ok(), c.report()
        moved = [r for r in b.trace.lines[len(moves):] if '"kind": "pin"' in r
                 and json.loads(r)["pin"] in pins]
        assert len(moved) >= 8     # the coils did move, and the rule was checked
        b.close()


def _sim_figures(path):
    """The simulator's own figures for what `make calibrate-rp2` measures, typical costs:
    power-on to boot.py's first pin write and to the firmware's start, an idle pass, a
    pass that took a detent (100/s), a settings save (no sector erase). The firmware's
    own work: the board without its display (whose frames bench_display measures)."""
    b = SimBoard(no_display(path))
    s = b.sim
    started = []
    firmware = s.firmware
    s.firmware = lambda sim: started.append(sim.clock.now_us) or firmware(sim)
    b.power(True)
    b.run_ms(3000)
    first = next(json.loads(r)["t_us"] for r in b.trace.lines[1:]
                 if '"kind": "pin"' in r and json.loads(r)["level"] is not None)
    app = b.app
    passes = []
    step = app.step

    def timed():
        t, k = s.clock.now_us, app.ctl.changes
        ms = step()
        passes.append((s.clock.now_us - t, app.ctl.changes != k))
        return ms
    app.step = timed
    b.run_ms(200)
    idle = sorted(d for d, moved in passes)
    del passes[:]
    b.turn(-20, 100)
    b.run_ms(400)
    turning = sorted(d for d, moved in passes if moved)
    s.in_firmware += 1
    t = s.clock.now_us
    app.store.save(*app.ctl.persistent())
    save = s.clock.now_us - t
    s.in_firmware -= 1
    b.close()
    return {"power_on_to_boot_py_pin": first, "power_on_to_firmware": started[0],
            "idle_pass": idle[len(idle) // 2],
            "turning_pass": turning[len(turning) // 2], "settings_save": save}


@pytest.mark.xfail(strict=True, reason=(
    "cost model not refitted to the firmware with its display, remote and trigger: the "
    "rp2 tier (1.24.1, 2026-12-07) takes 2,412 / 2,715 us for an idle pass and 3,991 / "
    "4,908 us for one that took a detent, 945 / 1,026 ms to the firmware's start; the "
    "simulator charges 1,385 / 1,522, 2,026 / 2,241 us and 673 ms (a detent's Python, the "
    "controller's tick and the parts' checks are charged almost nothing: a refit needs a "
    "cost for Python between calls, docs/cost-model.md)"))
@pytest.mark.parametrize("k,path", [(0, SE), (1, BALANCED)])
def test_the_typical_costs_match_the_emulated_rp2040(k, path):
    """Within 20 % of what the rp2 tier measured (cost.RP2; re-run `make calibrate-rp2`
    and refit cost.py when the firmware's work changes)."""
    from headroom.sim import cost
    got = _sim_figures(path)
    want = {"power_on_to_boot_py_pin": cost.RP2["power_on_to_boot_py_pin"][k],
            "power_on_to_firmware": cost.RP2["power_on_to_firmware"][k],
            "idle_pass": cost.RP2["idle_pass"][k][1], "turning_pass": cost.RP2["turning_pass"][k][1],
            "settings_save": cost.RP2["settings_save"][1]}
    off = {n: round(got[n] / want[n] - 1, 3) for n in want}
    assert all(abs(x) <= 0.2 for x in off.values()), (got, want, off)


def test_a_hard_irq_costs_what_it_costs_on_a_real_pico_not_in_the_emulator():
    """The emulator charges interrupt entry and exit nothing: a pin edge reaches a hard
    handler in 10.8 µs there, 20 µs (main loop asleep) to 25 µs (busy) on a real Pico
    (micropython #6957; rp2tier/realpico.py runs the same probe). The model takes the
    real figure, plus what the firmware's own path adds in the tier (13.6 µs there)."""
    from headroom.rp2tier.realpico import PUBLISHED
    from headroom.sim import cost
    idle, busy = PUBLISHED["irq_latency_idle"][1], PUBLISHED["irq_latency_busy"][1]
    typical, low, high = cost.IRQ_LATENCY
    assert idle <= low <= typical <= high
    assert high >= busy + (cost.RP2["hard_irq_latency"][2] - cost.RP2["hard_irq_latency"][1])


def test_an_interrupt_served_while_the_loop_checks_its_waker_still_wakes_it():
    """rp2's machine.idle() is a WFE, and an interrupt's return sets the event register:
    an IRQ that sets `woken` just after Waker.over() read it makes the idle() that follows
    return at once, and the loop checks again. The simulator once slept on to the
    deadline there (a detent's frame 10.9 ms late, pico-balanced, IRQ decoder, 5/s)."""
    b = SimBoard(SE, keep_trace=False)
    try:
        b.power(True)
        b.run_ms(3000)
        s, app = b.sim, b.app
        while app.display.busy:   # the display's frame sent: the loop sleeps its 10 ms again
            b.run_ms(1)
        w = app.waker
        steps, irq, deadline = [], [], []
        step, over = app.step, w.over

        def timed_step():
            steps.append(s.clock.now_us)
            ms = step()
            deadline.append(s.clock.now_us + ms * 1000)
            return ms

        def racy_over():
            done = over()
            if not done and not irq:
                # The encoder's IRQ served now: after over() read `woken`, before idle().
                s.hard_call(lambda _p: w.wake(), None, None)
                irq.append(s.clock.now_us)
            return done
        app.step, w.over = timed_step, racy_over
        b.run_ms(50)
        assert irq, "the loop never went to sleep"
        woke = next(t for t in steps if t > irq[0])
        sleep_end = next(d for t, d in zip(steps, deadline) if t < irq[0] and d > irq[0])
        assert sleep_end - irq[0] > 3000      # a real sleep was ahead
        assert woke - irq[0] < 500, (woke - irq[0], sleep_end - irq[0])
    finally:
        b.close()
