"""What the `machine` shim's modules share: the board a call reaches, and its cost."""
from headroom.sim import world as _world

UNSET = object()     # an argument left out, told apart from one given as None


def running_sim():
    """The board whose code runs now (world.running)."""
    s = _world.running
    if s is None:
        raise RuntimeError("no simulated board is running")
    return s


def busy(s):
    """The firmware's call (and the bytecode before it) costs time (sim/cost.py); where
    nothing is charged (the virtual board), the call is a safe point (world.Sim)."""
    if s.in_firmware:
        s.charge(s.cost.call(s.in_irq or s.irq_depth))
    elif s.safe_point is not None:
        s.safe_point()
