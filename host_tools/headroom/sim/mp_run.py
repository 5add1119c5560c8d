"""Run a scenario on the MicroPython VM: micropython mp_run.py BOARD SCRIPT TRACE FLASH_DIR [FIRMWARE_DIR]

The encoder runs on the IRQ decoder here: the PIO emulator is CPython-only.

The same simulator and firmware as under CPython, on MicroPython's own VM:
its `micropython` module (real heap_lock), the shims directory first on
sys.path for `machine`, `rp2` and `time`. Hard IRQ handlers run with the heap
locked, so an allocation in one is a fault. Exit status: 0 ok, 1 a failed
expectation, fault or crash, 2 bad input.
"""
import sys

_sim_dir = sys.argv[0][:sys.argv[0].rfind("/")] if "/" in sys.argv[0] else "."
_host = _sim_dir[:_sim_dir.rfind("/headroom/sim")]

# Keep the VM's own time for measuring (benchmarks), then shadow it with the virtual clock.
import time as realtime  # noqa: E402

sys.modules.pop("time", None)  # a builtin is not cached there, but be sure
sys.path.insert(0, _host)
sys.path.insert(0, _sim_dir + "/shims")

from headroom.sim import world  # noqa: E402
from headroom.sim.irqlock import install as _lock_irqs  # noqa: E402
from headroom.sim.run import run_script  # noqa: E402
from headroom.sim.scenario import ScenarioError  # noqa: E402

world.realtime = realtime


def main(argv):
    if len(argv) < 5:
        print(__doc__)
        return 2
    board, script, trace_path, flash = argv[1], argv[2], argv[3], argv[4]
    firmware = argv[5] if len(argv) > 5 and argv[5] != "-" else None
    with open(script) as f:
        text = f.read()
    out = open(trace_path, "w")
    try:
        result = run_script(board, text, trace_sink=out, flash_dir=flash, firmware_dir=firmware,
                            keep_trace=False, on_sim=_lock_irqs, decoder="irq")
    except ScenarioError as e:
        print("mp_run: %s" % e)
        return 2
    except world.SimFault as e:
        print("mp_run: FAULT: %s" % e)
        return 1
    finally:
        out.close()
    for line, text, why in result.failures:
        print("line %d: %s: %s" % (line, text, why))
    return 1 if result.failures or result.crashes else 0


sys.exit(main(sys.argv))
