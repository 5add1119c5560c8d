"""rp2's small-int rule, checked on the firmware's state from CPython.

On rp2 an int is a small int (no allocation) only within 31 bits, -2**30 <= v < 2**30;
outside, every new value is a long int on the heap. The Unix port's VM (63-bit small
ints) and CPython cannot show that allocation, so this walks what the firmware keeps
instead: every int reachable from an object of its modules (headroom_fw.*), through
their attributes, lists, tuples and dicts. A counter, a time, an uptime that grows
without bound is caught the pass it leaves the range, long before 12.4 days do.

    sim.after_step.append(lambda: check(sim.app))   # raises SimFault on the first
"""
from .world import SimFault

SMALL_MIN = -(1 << 30)
SMALL_END = 1 << 30


def big_ints(root, path="firmware"):
    """[(path, value)] of the ints reachable from `root` outside rp2's small-int range."""
    found = []
    seen = set()
    stack = [(path, root)]
    while stack:
        where, v = stack.pop()
        if isinstance(v, bool):
            continue
        if isinstance(v, int):
            if not SMALL_MIN <= v < SMALL_END:
                found.append((where, v))
            continue
        if id(v) in seen:
            continue
        if isinstance(v, (list, tuple)):
            seen.add(id(v))
            stack.extend(("%s[%d]" % (where, i), x) for i, x in enumerate(v))
        elif isinstance(v, dict):
            seen.add(id(v))
            stack.extend(("%s[%r]" % (where, k), x) for k, x in v.items())
            stack.extend(("%s key" % where, k) for k in v if isinstance(k, int))
        elif type(v).__module__.startswith("headroom_fw") and hasattr(v, "__dict__"):
            seen.add(id(v))
            stack.extend(("%s.%s" % (where, k), x) for k, x in vars(v).items())
    return found


def check(root):
    """Raise SimFault naming every int past rp2's small-int range (nothing: all small)."""
    found = big_ints(root)
    if found:
        raise SimFault("ints past rp2's small-int range (long ints: an allocation each on "
                       "the board): " + ", ".join("%s = %d" % f for f in sorted(found)))
