"""Small helpers shared by the tests."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from conftest import BALANCED, SE  # noqa: E402,F401


def booted(path=SE, ms=3000, **kw):
    """A SimBoard powered on and run past its settle delay and ramp."""
    from headroom.sim.simboard import SimBoard
    b = SimBoard(path, **kw)
    b.power(True)
    b.run_ms(ms)
    return b
