"""A bare simulated world for model and shim tests (no firmware, no board file)."""
import json

from headroom.sim import world
from headroom.sim.trace import Trace


class IdleApp:
    """Stands in for main.py: lets scheduled callbacks run, never steps."""

    waker = None

    def step(self):
        return 1000


def bare_sim(powered=True, app=False, cost=None):
    """A world with no firmware: by default its calls cost nothing and IRQs come at once
    (sim/cost.py's CostModel.zero()), so a part is seen alone."""
    from headroom.sim.cost import CostModel
    sim = world.Sim(Trace("t.json"), cost=cost if cost is not None else CostModel.zero())
    sim.cpu_enter()   # the test body is this board's code (conftest lets go)
    if powered:
        sim.power(True)
        sim.mcu_powered = True
    if app:
        sim.app = IdleApp()
    return sim


def records(sim, kind=None, **match):
    """Trace records (dicts) after the header, optionally of one kind and matching fields."""
    out = []
    for line in sim.trace.lines[1:]:
        r = json.loads(line)
        if kind is not None and r["kind"] != kind:
            continue
        if all(r.get(k) == v for k, v in match.items()):
            out.append(r)
    return out


def ordered(line):
    """A trace line as a list of (key, value) pairs, in the order they were written."""
    return json.loads(line, object_pairs_hook=list)
