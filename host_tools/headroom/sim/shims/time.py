"""Drop-in `time` for the MicroPython VM: the virtual clock of the simulated board.

(CPython keeps its own `time`; `headroom.sim.shims.install` adds the ticks
functions to it.)
"""
from headroom.sim.clock import ticks_add, ticks_diff  # noqa: F401
from headroom.sim.shims.shimbase import running_sim as _clock


# The call's cost is charged inline here, not through shimbase.busy: the ticks are a hot path.
def ticks_ms():
    s = _clock()
    if s.in_firmware:
        s.charge(s.cost.call(s.in_irq or s.irq_depth))
    return s.clock.ticks_ms()


def ticks_us():
    s = _clock()
    if s.in_firmware:
        s.charge(s.cost.call(s.in_irq or s.irq_depth))
    return s.clock.ticks_us()


def ticks_cpu():
    return ticks_us()


def sleep_ms(ms):
    s = _clock()
    s.sleep_us(ms * 1000)


def sleep_us(us):
    _clock().sleep_us(us)


def sleep(seconds):
    _clock().sleep_us(int(seconds * 1000000))


def time():
    return _clock().now() // 1000000


def time_ns():
    return _clock().now() * 1000
