"""Installs the simulated `machine`, `micropython`, `rp2` and `time` for the firmware.

On CPython, `machine`, `micropython` and `rp2` become these modules and the
ticks functions are added to the real `time` (which CPython will not let a file
replace). On MicroPython the shims directory goes first on sys.path instead.
"""
import sys


def install():
    if sys.implementation.name == "micropython":
        return
    import time as _time

    from headroom.sim import cpython_micropython as micropython
    from headroom.sim.shims import machine, rp2
    from headroom.sim.shims import time as simtime
    sys.modules["machine"] = machine
    sys.modules["micropython"] = micropython
    sys.modules["rp2"] = rp2
    for name in ("ticks_ms", "ticks_us", "ticks_cpu", "ticks_diff", "ticks_add", "sleep_ms",
                 "sleep_us"):
        setattr(_time, name, getattr(simtime, name))
