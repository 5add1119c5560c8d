"""The supply-fail IRQ preempts a pass anywhere, and no pass undoes it (issue 13.1).

On rp2 a hard IRQ runs between any two bytecodes. The simulator delivers it between
any two calls the firmware makes into machine/rp2/time (each charged by the cost
model); here the supply fails exactly at each call of a pass in turn, one fresh board
per call point: the pass that closes the mute relay after power-on, and one that
applies a turn of the knob. After every cut the trace checker's rules hold, `undone`
among them: nothing raises XSMT or MUTE or drives the relay while the supply is out.
"""
from headroom.sim.invariants import Checker
from headroom.sim.simboard import SimBoard

from helpers import SE


def run(cut_at=None, turn_at_ms=None, until_us=None):
    """A board powered on, optionally turned at `turn_at_ms`; with `cut_at`, the supply
    fails as the cut_at-th call of the main code is charged. Returns the board, its
    checker, and each pass's (first call, last call, end time)."""
    b = SimBoard(SE)
    c = Checker(b.board)
    b.trace.listeners.append(c.live)
    sim = b.sim
    passes = []

    def mark():
        start = passes[-1][1] + 1 if passes else 1
        passes.append((start, sim.calls, sim.clock.now_us))

    sim.after_step.append(mark)
    if cut_at is not None:
        sim.at_call = (cut_at, lambda: sim.power(False))
    b.power(True)
    if turn_at_ms is not None:
        b.run_ms(turn_at_ms)
        b.turn(+3, rate=20.0)
    if until_us is not None:
        b.run_until(until_us)                 # the MCU has died by then
    else:
        b.run_ms(4000 - (turn_at_ms or 0))
    return b, c, passes


def pass_with(b, passes, pin, level, after_us=0):
    """The pass during which the MCU drove `pin` to `level` (after `after_us`)."""
    import json
    for line in b.trace.lines[1:]:
        r = json.loads(line)
        if (r["kind"] == "pin" and r["pin"] == pin and r["level"] == level
                and r["t_us"] + b.sim.clock.origin_us >= after_us):
            t = r["t_us"] + b.sim.clock.origin_us
            return next(p for p in passes if p[2] >= t)
    raise AssertionError("GP%d never went to %d" % (pin, level))


def cut_everywhere(first, last, t_end, turn_at_ms=None):
    bad = []
    for n in range(first, last + 1):
        b, c, _ = run(cut_at=n, turn_at_ms=turn_at_ms, until_us=t_end + 200000)
        if not c.ok():
            bad.append((n, c.report()))
        b.close()
    return bad


def test_a_supply_failure_at_any_call_of_the_unmuting_pass_is_not_undone():
    b, c, passes = run()
    assert c.ok(), c.report()
    relay = b.board.mute_relay
    first, last, t_end = pass_with(b, passes, relay.pin, 1 if relay.active_high else 0)
    b.close()
    assert last - first >= 5
    assert cut_everywhere(first, last, t_end) == []


def test_a_supply_failure_at_any_call_of_a_pass_applying_a_turn_is_not_undone():
    b, c, passes = run(turn_at_ms=3000)
    assert c.ok(), c.report()
    cs = b.board.pga_cs
    first, last, t_end = pass_with(b, passes, cs, 0, after_us=3000000 + b.sim.clock.origin_us)
    b.close()
    assert last - first >= 5
    assert cut_everywhere(first, last, t_end, turn_at_ms=3000) == []
