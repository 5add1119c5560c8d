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


def until_playing(b, within_ms=10000):
    """Run a powered board until its fade-in is over (the firmware plays, no ramp step
    due): an event, not a guessed boot time, which follows the cost model's."""
    from headroom_fw.controller import PLAYING
    for _ in range(within_ms // 10):
        app = b.app
        if app is not None and app.ctl.phase == PLAYING and not app.ctl._ramping:
            return b
        b.run_ms(10)
    raise AssertionError("not playing %d ms after power-on" % within_ms)
