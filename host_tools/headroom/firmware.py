"""The firmware's pure modules on the host: `pure("board")` imports headroom_fw.board
from the firmware folder (paths.FIRMWARE_DIR) with nothing of the simulator.

Pure modules (board, volume, controller, protocol, headphones, ...) use no `machine`;
of MicroPython they need only `micropython.const`, which a two-line stand-in gives
when no `micropython` module is there yet, and the ticks arithmetic (`time.ticks_add`,
`time.ticks_diff`: controller, inputs, quadrature), which is MicroPython's `time` and is
added to CPython's from sim/clock.py (plain arithmetic, nothing of a simulated board).
A pure module that draws (the display's screens) imports `framebuf`, which MicroPython
has built in: on CPython the import finds sim/cpython_framebuf.py (MicroPython's pixels,
pure code too), loaded only when something imports it.
The simulator's shims (sim/shims: machine, rp2, micropython with schedule and the
rest) are installed only by what runs the firmware (sim/simboard.py's use_firmware);
they replace the stand-in, and the pure modules imported before keep working (they use
const alone).
"""
import importlib
import importlib.abc
import importlib.util
import sys
import types

from .paths import FIRMWARE_DIR


class _FramebufFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """`import framebuf` on CPython: the simulator's (one module object, whoever imports
    it first: this finder or sim/shims)."""

    def find_spec(self, name, path=None, target=None):
        if name != "framebuf":
            return None
        return importlib.util.spec_from_loader(name, self)

    def create_module(self, spec):
        from .sim import cpython_framebuf
        return cpython_framebuf

    def exec_module(self, module):
        pass


def use_pure(path=None):
    """The firmware folder on sys.path, `micropython.const` there (the stand-in unless a
    micropython module is already in place: the simulator's or a real one)."""
    if "micropython" not in sys.modules:
        try:
            import micropython  # noqa: F401 - on MicroPython itself, or a shim set up before
        except ImportError:
            stand_in = types.ModuleType("micropython", "const() as the host needs it")
            stand_in.const = lambda x: x
            sys.modules["micropython"] = stand_in
    import time
    if not hasattr(time, "ticks_diff"):
        from .sim.clock import ticks_add, ticks_diff
        time.ticks_add, time.ticks_diff = ticks_add, ticks_diff
    if sys.implementation.name != "micropython" \
            and not any(isinstance(f, _FramebufFinder) for f in sys.meta_path):
        sys.meta_path.append(_FramebufFinder())
    path = path or FIRMWARE_DIR
    if path not in sys.path:
        sys.path.insert(0, path)


def pure(name):
    """The firmware module headroom_fw.NAME, imported as pure code."""
    use_pure()
    return importlib.import_module("headroom_fw." + name)
