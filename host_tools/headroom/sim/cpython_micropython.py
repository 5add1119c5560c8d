"""Drop-in `micropython` for CPython runs of the simulator (kept out of shims/, so
the MicroPython VM keeps its own module with the real heap_lock and schedule).

`schedule` queues on the simulated board and runs the callback later, between
events, with the board's bounded queue (RuntimeError when full), as on rp2.
On the MicroPython VM the real module is used instead.
"""
from headroom.sim import world as _world


def const(x):
    return x


def native(f):
    return f


viper = native


def schedule(func, arg):
    s = _world.running
    if s is None:
        raise RuntimeError("no simulated board is running")
    s.schedule(func, arg)


def alloc_emergency_exception_buf(size):
    pass


_lock = [0]


def heap_lock():
    _lock[0] += 1
    return _lock[0] - 1


def heap_unlock():
    _lock[0] -= 1
    return _lock[0]


def mem_info(verbose=None):
    pass


def opt_level(level=None):
    return 0 if level is None else None
