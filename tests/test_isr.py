"""Hard IRQ handlers that cannot be cut short or stall (issue 17.5).

- No sleep in a hard IRQ: the pico-sdk forbids it, so the simulator faults on one.
- The supply-fail IRQ writes its pins and leaves; what must wait for the DAC's soft-mute
  ramp (the PGA2311's MUTE, then the mute relay) the main loop finishes. A pending
  KeyboardInterrupt is raised inside a handler at a branch (threaded rp2 builds), and
  rp2 then drops the exception and disables the handler: here the handler is cut short
  at each of its calls in turn, on a board without the hardware mute path (nothing but
  the firmware mutes it), and each time XSMT goes low, then the PGA2311 mutes, then the
  mute relay opens - in that order, within the hold-up, never undone (the trace
  checker's `off-sequence`, `silent-off`, `undone` and `click` rules, and the order
  here).
- The PIO decoder's pin IRQ never waits on an empty RX FIFO.
- One hard handler at a time (issue 18.3): an IRQ due while an earlier handler's time is
  not over waits for it, and its pin's edges meanwhile merge into that one call, as on
  the RP2040 (where the rp2 tier showed it: a fast bouncy turn with the PIO decoder sends
  a frame every 6-11 ms; the simulator, running each bounce's handler at its edge as if
  the one before had taken no time, sent none until 18 ms after the turn).
"""
import json

import pytest

from headroom.sim import world
from headroom.sim.invariants import Checker
from headroom.sim.simboard import SimBoard

from helpers import BALANCED, NO_HW, SE, SE_NO_HW, ask
from simkit import bare_sim


def test_one_hard_irq_handler_at_a_time_and_a_pins_edges_meanwhile_merge():
    from machine import Pin

    from headroom.sim import cost
    sim = bare_sim(app=True, cost=cost.CostModel())
    starts = []

    def handler(pin):
        starts.append((sim.clock.now_us, pin))
        for _ in range(5):
            pin.value()                            # 5 calls in the handler

    a = Pin(6, Pin.IN, Pin.PULL_UP)
    b = Pin(7, Pin.IN, Pin.PULL_UP)
    a.irq(handler, Pin.IRQ_FALLING | Pin.IRQ_RISING, hard=True)
    b.irq(handler, Pin.IRQ_FALLING, hard=True)
    t0 = sim.clock.now_us + 1000
    took = 5 * cost.CALL_IRQ[0] + cost.IRQ_BODY[0]   # one handler's time
    # A falls, B falls, then A bounces twice: all within the first handler's time.
    for dt, n, level in ((0, 6, 0), (20, 7, 0), (40, 6, None), (60, 6, 0), (80, 6, None)):
        sim.clock.at(t0 + dt, lambda lv, n=n: sim.gpio[n].drive("x", lv), level)
    sim.run_until(t0 + 5000 - sim.clock.origin_us)
    lat = cost.IRQ_LATENCY[0]
    assert [(t - t0, p) for t, p in starts] == [(lat, a), (lat + took, b), (lat + 2 * took, a)]


def test_a_handler_that_runs_while_the_mcu_idles_is_not_owed_by_the_next_pass():
    """An interrupt that finds the main loop asleep in machine.idle() takes idle time: the
    pass it (or a later one) wakes starts once the handler is over, and does not pay for
    the handlers of the edges that came while it slept (an encoder's edges within a
    detent: they wake nothing)."""
    import time

    from machine import Pin

    from headroom.sim import cost
    from headroom_fw.waker import Waker
    sim = bare_sim(cost=cost.CostModel())

    class App:
        waker = Waker()
        passes = []

        def step(self):
            time.ticks_us()                            # the pass's first call
            self.passes.append(sim.clock.now_us)
            return 1000

    app = sim.app = App()
    sim.next_wake_us = sim.clock.now_us
    quiet = Pin(7, Pin.IN, Pin.PULL_UP)
    quiet.irq(lambda pin: [pin.value() for _ in range(5)], Pin.IRQ_FALLING, hard=True)
    waking = Pin(6, Pin.IN, Pin.PULL_UP)
    waking.irq(lambda pin: setattr(app.waker, "woken", 1), Pin.IRQ_FALLING, hard=True)
    t0 = sim.clock.now_us + 5000
    for k in range(10):                                # five handlers of 230 us while idle
        sim.clock.at(t0 + 1000 * k, lambda lv: sim.gpio[7].drive("x", lv), 0 if k % 2 == 0 else None)
    t1 = t0 + 20000
    sim.clock.at(t1, lambda lv: sim.gpio[6].drive("x", lv), 0)
    sim.run_until(t1 + 5000 - sim.clock.origin_us)
    woken = [p - t1 for p in app.passes if p > t1]
    want = cost.IRQ_LATENCY[0] + cost.IRQ_BODY[0] + cost.WAKE[0] + cost.CALL[0]
    assert woken[0] == want, woken


def test_a_fast_bouncy_turn_with_the_pio_decoder_sends_frames_as_it_goes():
    """20 detents at 200/s with 300 us of bounce: the IRQs take the CPU about half the
    time, and the main loop's passes still send the level as the knob turns (the rp2
    tier: a frame every 6-11 ms), not once at the end."""
    b = SimBoard(SE, keep_trace=False, decoder="pio")
    frames = []
    b.trace.listeners.append(lambda t, kind, f: frames.append(t) if kind == "spi" else None)
    b.power(True)
    b.run_ms(3500)
    t = b.now_us() + 100000
    dur = b.turn(20, rate=200, bounce_us=300, at_us=t)
    b.run_until(t + dur + 50000)
    during = [f for f in frames if t <= f <= t + dur]
    gaps = [y - x for x, y in zip([t] + during, during + [t + dur])]
    assert len(during) >= 8 and max(gaps) <= 15000, (len(during), max(gaps))
    b.close()


def test_a_sleep_in_a_hard_irq_handler_is_a_fault():
    """time.sleep_us and sleep_ms (CPython keeps its own time.sleep: the MicroPython VM's
    runs get the shim's, which is the same virtual sleep)."""
    import time

    from machine import Pin
    sim = bare_sim(app=True)
    for sleep in (lambda: time.sleep_us(10), lambda: time.sleep_ms(1)):
        p = Pin(6, Pin.IN, Pin.PULL_UP)
        p.irq(lambda pin, sleep=sleep: sleep(), Pin.IRQ_FALLING, hard=True)
        with pytest.raises(world.SimFault, match="inside a hard IRQ handler: the pico-sdk forbids"):
            sim.gpio[6].drive("x", 0)
        sim.gpio[6].drive("x", None)
        p.irq(None)


def test_an_exception_in_a_hard_irq_handler_disables_it_and_the_code_goes_on():
    from machine import Pin
    sim = bare_sim(app=True)
    calls = []

    def handler(pin):
        calls.append(pin)
        raise KeyboardInterrupt

    Pin(6, Pin.IN, Pin.PULL_UP).irq(handler, Pin.IRQ_FALLING, hard=True)
    sim.gpio[6].drive("x", 0)                  # no exception out of the edge
    sim.gpio[6].drive("x", None)
    sim.gpio[6].drive("x", 0)                  # the handler is gone (mpirq.c)
    assert len(calls) == 1 and isinstance(sim.irq_exceptions[0][2], KeyboardInterrupt)


def _cut(path, abort_at=None):
    """Boot and play, then the supply fails; with `abort_at`, KeyboardInterrupt is raised
    as the supply-fail handler makes its abort_at-th call (0: before its first line - rp2
    then disables it, as after an earlier exception, so here it is gone before the cut).
    Returns the board, its checker, the cut's time (trace µs) and the number of calls
    the handler made."""
    b = SimBoard(path)
    c = Checker(b.board)
    b.trace.listeners.append(c.live)
    b.power(True)
    b.run_ms(3000)
    assert b.app.ctl.phase == 6                # PLAYING: XSMT high, MUTE high, relay on
    sim = b.sim
    n0 = sim.irq_calls
    if abort_at == 0:
        g = sim.gpio[b.board.power_sense]
        g.handler = None
        g.trigger = 0
    elif abort_at is not None:
        def interrupt():
            raise KeyboardInterrupt
        sim.at_irq_call = (n0 + abort_at, interrupt)
    t_cut = b.now_us()
    b.power(False)
    b.run_ms(b.board.holdup_ms + 50)           # the MCU has died
    c.finish(b.now_us())
    return b, c, t_cut, sim.irq_calls - n0


def _stages(b, t_cut):
    """When the MCU drove XSMT low, the PGA2311's MUTE low, the mute relay's coil off
    after the cut, and any drive back up (trace µs)."""
    bd = b.board
    off = 0 if bd.mute_relay.active_high else 1
    first = {}
    undone = []
    for line in b.trace.lines[1:]:
        r = json.loads(line)
        if r["kind"] != "pin" or r["t_us"] < t_cut:
            continue
        for name, pin, quiet in (("xsmt", bd.dac_xsmt, 0), ("pga", bd.pga_mute, 0),
                                 ("relay", bd.mute_relay.pin, off)):
            if r["pin"] == pin:
                if r["level"] == quiet:
                    first.setdefault(name, r["t_us"])
                elif r["level"] is not None:
                    undone.append((name, r["t_us"], r["level"]))
    return first, undone


@pytest.mark.parametrize("path", [SE, BALANCED])
def test_the_supply_fail_muting_finishes_in_order_whenever_its_irq_is_cut_short(path):
    path = NO_HW[path]
    b, c, t_cut, calls = _cut(path)
    assert c.ok(), c.report()
    assert calls >= 2, calls                   # the clock, XSMT low
    bd = b.board
    ramp_us = (105 * 1000000 + bd.i2s_rate - 1) // bd.i2s_rate   # the DAC's 104-step ramp
    b.close()
    # 0: no handler at all; calls + 1: the handler is not cut (it runs to its end).
    for k in range(0, calls + 2):
        b, c, t_cut, _ = _cut(path, abort_at=k)
        where = "IRQ cut short at its call %d of %d" % (k, calls)
        assert c.ok(), where + "\n" + c.report()
        assert len(b.sim.irq_exceptions) == (1 if 1 <= k <= calls else 0), where
        first, undone = _stages(b, t_cut)
        assert undone == [], where
        end = t_cut + bd.holdup_ms * 1000
        assert set(first) == {"xsmt", "pga", "relay"}, (where, first)
        assert first["xsmt"] <= first["pga"] <= first["relay"] <= end, (where, first)
        assert first["pga"] - first["xsmt"] >= ramp_us, (where, first)   # the ramp ran out
        if k >= 1:
            # The handler's first stores woke the main loop: done within half the hold-up
            # (the ramp and a pass or two), not at the loop's next 10 ms poll.
            assert first["relay"] - t_cut <= bd.holdup_ms * 500, (where, first)
        b.close()


def test_the_pio_decoders_irq_does_not_wait_on_an_empty_fifo():
    b = SimBoard(SE, decoder="pio")
    b.power(True)
    b.run_ms(3000)
    enc = b.app.encoder
    pio = b.sim.peripherals["pio"]
    sid = b.board.pio_sm
    pio.active(sid, False)                     # stopped: nothing will be pushed again
    while pio.rx_fifo(sid):
        pio.get(sid)
    before = ask(b, "status")["volume"]
    b.run_us(b.turn(+2, rate=10))              # edges: the IRQ finds the FIFO empty
    b.run_ms(100)
    assert b.sim.faults == []
    assert ask(b, "status")["volume"] == before   # the stopped PIO counted nothing
    pio.active(sid, True)
    b.run_us(b.turn(+2, rate=10))
    b.run_ms(200)
    assert ask(b, "status")["volume"] > before    # counting again
    assert enc.detents == 0
    b.close()


@pytest.mark.parametrize("fast", [False, True])
@pytest.mark.parametrize("dip_us", [300, 1000, 1600])
def test_a_dip_shorter_than_the_ramp_finishes_the_muting_before_the_restart(dip_us, fast):
    """The supply comes back before the DAC's ramp is over: the firmware restarts the MCU
    (the PGA2311 may have reset in the dip), but only once the muting is done in order -
    a reset lets the board's pull-downs cut MUTE and the relay while the DAC still plays.
    The knob turns just after the supply is back: its IRQ wakes the main loop before the
    ramp's end. `fast`: firmware calls that cost nothing (CostModel.zero()), so that a
    pass can come well inside the ramp."""
    from headroom.sim.cost import CostModel
    b = SimBoard(SE_NO_HW, cost=CostModel.zero() if fast else None)
    c = Checker(b.board)
    b.trace.listeners.append(c.live)
    b.power(True)
    b.run_ms(3000)
    t_cut = b.now_us()
    b.turn(+4, rate=400, at_us=t_cut + dip_us + 200)
    b.power(False)
    b.sim.clock.after(dip_us, lambda _: b.power(True))   # back in the middle of a pass
    b.run_ms(50)
    c.finish(b.now_us())
    assert c.ok(), c.report()
    assert b.sim.resets == 1                   # restarted, muted, from boot
    first, undone = _stages(b, t_cut)
    ramp_us = (105 * 1000000 + b.board.i2s_rate - 1) // b.board.i2s_rate
    assert first["xsmt"] + ramp_us <= first["pga"] <= first["relay"], first
    b.close()
