"""Installs the simulated `machine`, `micropython`, `rp2`, `network`, `time` and
`framebuf` for the firmware.

On CPython, `machine`, `micropython`, `rp2` and `network` become these modules, `framebuf`
sim/cpython_framebuf.py (MicroPython's pixels on CPython), the ticks
functions are added to the real `time` (which CPython will not let a file replace), and
`sys.print_exception` (MicroPython's) to `sys`. On MicroPython the shims directory goes
first on sys.path instead (and its built-in framebuf stays).
"""
import sys


def _print_exception(e, file=None):
    import traceback
    traceback.print_exception(type(e), e, e.__traceback__, file=file if file is not None else sys.stdout)


def install():
    if sys.implementation.name == "micropython":
        return
    import time as _time

    from headroom.sim import cpython_framebuf as framebuf
    from headroom.sim import cpython_micropython as micropython
    from headroom.sim.shims import machine, network, rp2
    from headroom.sim.shims import time as simtime
    sys.modules["machine"] = machine
    sys.modules["micropython"] = micropython
    sys.modules["rp2"] = rp2
    sys.modules["network"] = network
    sys.modules["framebuf"] = framebuf
    if not hasattr(sys, "print_exception"):
        sys.print_exception = _print_exception
    for name in ("ticks_ms", "ticks_us", "ticks_cpu", "ticks_diff", "ticks_add", "sleep_ms",
                 "sleep_us"):
        setattr(_time, name, getattr(simtime, name))
