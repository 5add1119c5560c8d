"""The knob under stress: PIO decoder against IRQ decoder, 10^6 detents.

    python -m headroom.bench_decoders [DETENTS]

The stream: 50 detents/s with bursts at 300/s, every contact edge bouncing for
0-2 ms (never past the other contact's next edge: see contact_events), direction
reversing now and then, and in the middle a settings save that
holds interrupts off for 400 ms (a flash sector erase).

- PIO: the firmware's own program (headroom_fw.pio_encoder.quadrature). Its
  response to each (state, input) is taken from rp2040-pio-emulator runs (the
  simulator's memo) and replayed per contact change; the program samples the pins
  every 7-11 cycles (< 90 ns at 125 MHz), far inside any gap between changes, so
  it sees each one. Interrupts do not exist for it.
- IRQ: the firmware's table decoder (headroom_fw.quadrature.QuadratureDecoder) in
  a GPIO interrupt that is serviced 20-100 us after the edge (rp2 MicroPython hard
  IRQ latency), reads both pins then, and sees one service for all the edges that
  came while it was pending; nothing is serviced during the 400 ms hold-off.

Missed = |detents turned - detents counted| accumulated per gesture; the count is
compared at each pause between gestures, so a miss cannot be hidden by a later one
of the opposite sign.
"""
import random
import sys
import time

from .sim.simboard import use_firmware

GRAY = (3, 1, 0, 2)  # A << 1 | B along a clockwise turn, the IRQ decoder's convention


def gestures(n_detents, seed=7):
    """(start_us, detents, rate) per gesture: 50/s mostly, bursts at 300/s, pauses between."""
    rng = random.Random(seed)
    t = 0
    left = n_detents
    while left > 0:
        n = min(left, rng.randint(5, 60))
        rate = 300 if rng.random() < 0.2 else 50
        sign = 1 if rng.random() < 0.6 else -1
        yield t, sign * n, rate
        t += n * 1000000 // rate + rng.randint(50000, 400000)
        left -= n


def contact_events(start, detents, rate, rng, max_bounce_us=2000):
    """(t_us, state) for every contact change of one gesture, bounce included, in time order.

    Each movement changes one contact; its chatter toggles that contact alone and
    settles before the *other* contact moves (one step later). Chatter that outlasts
    the other contact's move sends the state round the Gray cycle backwards, which no
    decoder can tell from a real reversal: an encoder is only usable where bounce is
    shorter than a quarter detent (at 300/s, 0.83 ms).
    """
    step = 1000000 // (rate * 4)
    phase = 0
    d = 1 if detents > 0 else -1
    moves = []  # (t, bit, level): bit 2 = A, bit 1 = B (state = A << 1 | B)
    for k in range(abs(detents) * 4):
        old = GRAY[phase]
        phase = (phase + d) % 4
        new = GRAY[phase]
        bit = old ^ new
        level = new & bit
        t = start + k * step + step // 2
        moves.append((t, len(moves), bit, level))
        bounce = min(rng.randint(0, max_bounce_us), step - 2)
        n = rng.randint(1, 3) if bounce > 10 else 0
        times = sorted(t + 1 + rng.randint(0, bounce) for _ in range(2 * n))
        for i, tb in enumerate(times):
            moves.append((tb, len(moves), bit, (old & bit) if i % 2 == 0 else level))
    moves.sort()  # by time, ties in the order they were made
    state = 3  # every gesture starts and ends in the detent (both contacts open)
    out = []
    for t, _seq, bit, level in moves:
        state = (state & ~bit) | level
        out.append((t, state))
    return out


def pio_table():
    """(old, new) state -> counted step, from emulator runs of the firmware's PIO program."""
    from headroom.sim import pio as piosim
    from headroom.sim.pio import PIOEngine

    use_firmware()
    from headroom_fw import pio_encoder

    class _G:
        def __init__(self):
            self.level = 1
            self.listeners = []

    class _Sim:
        gpio = [_G() for _ in range(30)]
        on_soft_reset = []   # the engine's seam: a soft reset stops it (none here)

        def fault(self, m):
            raise AssertionError(m)

    sim = _Sim()
    eng = PIOEngine(sim)
    eng.init(0, pio_encoder.quadrature, -1, in_base=0)
    table = {}
    cycles = 0
    for old in range(4):
        for new in range(4):
            # Put the program in `old`, then change the pins to `new`; read X's change.
            for st in (old, new):
                sim.gpio[0].level, sim.gpio[1].level = st & 1, st >> 1
                eng.sms[0].active = True
                x0 = eng.sms[0].state.x_register
                eng._run(eng.sms[0])
            table[(old, new)] = ((eng.sms[0].state.x_register - x0 + 2 ** 31) % 2 ** 32) - 2 ** 31
    cycles = max(eng.sms[0].sample_gaps)
    del piosim
    return table, cycles


def _pio_state(s):
    # The PIO reads B << 1 | A; the contact states here are A << 1 | B.
    return ((s & 1) << 1) | (s >> 1)


def run(n_detents=1000000, seed=7):
    use_firmware()
    from headroom_fw.quadrature import QuadratureDecoder

    rng = random.Random(seed)
    table, max_cycles = pio_table()
    gs = list(gestures(n_detents, seed))
    hold_start = gs[len(gs) // 2][0] + 1000  # inside a gesture, in the middle of the run
    hold_end = hold_start + 400000
    pio_state = _pio_state(3)
    pio_count = 0
    irq = QuadratureDecoder(4, 3)
    pins = 3
    pending_until = None      # IRQ raised, serviced then
    turned = 0
    miss = {"pio": 0, "irq": 0}
    reversed_ = {"pio": 0, "irq": 0}
    last = {"pio": 0, "irq": 0}
    edges = 0
    t0 = time.time()
    for start, detents, rate in gs:
        for t, s in contact_events(start, detents, rate, rng):
            edges += 1
            # IRQ: service a pending interrupt whose time has come before this edge.
            if pending_until is not None and t >= pending_until:
                irq.feed(pins)
                pending_until = None
            pins = s
            # PIO sees every change.
            ps = _pio_state(s)
            pio_count += table[(pio_state, ps)]
            pio_state = ps
            # IRQ: the edge raises (or is merged into) a pending interrupt.
            if pending_until is None:
                due = t + rng.randint(20, 100)
                if hold_start <= due < hold_end:
                    due = hold_end
                pending_until = due
        if pending_until is not None:
            irq.feed(pins)
            pending_until = None
        turned += detents
        for name, got in (("pio", pio_count // 4 if pio_count >= 0 else -((-pio_count) // 4)),
                          ("irq", irq.detents)):
            delta_got = got - last[name]
            if delta_got * detents < 0:
                reversed_[name] += 1
            miss[name] += abs(detents - delta_got)
            last[name] = got
    return {"detents": sum(abs(g[1]) for g in gs), "gestures": len(gs), "edges": edges,
            "missed_pio": miss["pio"], "missed_irq": miss["irq"], "reversed_pio": reversed_["pio"],
            "reversed_irq": reversed_["irq"], "pio_cycles_per_edge_max": max_cycles,
            "seconds": time.time() - t0}


def main(argv):
    n = int(argv[0]) if argv else 1000000
    r = run(n)
    print("Knob stress: %d detents in %d gestures (50/s, 300/s bursts, 0-2 ms bounce, "
          "400 ms interrupt hold-off), %d contact changes" % (r["detents"], r["gestures"], r["edges"]))
    print("%-12s %16s %16s" % ("decoder", "missed detents", "reversed gestures"))
    print("%-12s %16d %16d" % ("PIO", r["missed_pio"], r["reversed_pio"]))
    print("%-12s %16d %16d" % ("IRQ", r["missed_irq"], r["reversed_irq"]))
    print("PIO cycle budget per edge: %d cycles max between pin samples (%d ns at 125 MHz)"
          % (r["pio_cycles_per_edge_max"], r["pio_cycles_per_edge_max"] * 8))
    return 0 if r["missed_pio"] == 0 and r["reversed_pio"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
