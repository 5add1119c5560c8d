"""Turns down with bounce that outlasts the encoder's edges: what the firmware makes of them.

An encoder's contacts must settle before its next edge: at 200 detents/s (4 edges each)
the edges are 1.25 ms apart. Bounce that lasts longer walks the contacts' state round
the Gray cycle backwards, and no decoder can tell that from a turn the other way. The
firmware refuses a louder detent within 50 ms of a quieter one (quadrature.Acceleration
.admit), which catches most of it; this measures what is left, for `make reliability`:
random fast turns down (50-300 detents/s) with 1-4 ms of bounce on the simulated board,
with the jittered costs, on both decoders.
"""
import random

from .sim.cost import CostModel
from .sim.simboard import SimBoard

START_DBV = -40


def one(board_path, seed, detents, rate, bounce_us, decoder):
    """(the highest level during the turn, the level after it, refused detents), in cdB
    relative to where it started."""
    b = SimBoard(board_path, seed=seed, keep_trace=False, cost=CostModel(jitter=seed),
                 decoder=decoder)
    try:
        b.power(True)
        b.run_ms(3000)
        b.console.send("set volume %d\n" % START_DBV)
        b.run_ms(1000)
        start = max(b.jack.levels)
        seen = [start]

        def jack(t, kind, f):
            if kind == "chip" and dict(f)["chip"] == "jack":
                seen.extend(x for x in b.jack.levels if x is not None)

        b.trace.listeners.append(jack)
        b.run_us(b.turn(-detents, rate=rate, bounce_us=bounce_us) + 200000)
        return max(seen) - start, seen[-1] - start, b.app.encoder.refused
    finally:
        b.close()


def run(board_path, n, seed=None):
    """n random turns down per decoder: {decoder: {runs, ended_louder, rose, worst_rise_cdb,
    refused}}."""
    rng = random.Random(seed)
    out = {}
    for decoder in ("pio", "irq"):
        r = {"runs": 0, "ended_louder": 0, "rose": 0, "worst_rise_cdb": 0, "refused": 0}
        for _ in range(n):
            rise, end, refused = one(board_path, rng.randint(1, 2 ** 16), rng.randint(3, 20),
                                     rng.choice((50, 100, 200, 300)),
                                     rng.choice((1000, 1500, 2500, 4000)), decoder)
            r["runs"] += 1
            r["ended_louder"] += end > 0
            r["rose"] += rise > 0
            r["worst_rise_cdb"] = max(r["worst_rise_cdb"], rise)
            r["refused"] += refused
        out[decoder] = r
    return out
