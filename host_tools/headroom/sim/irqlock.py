"""Hard IRQ handlers under a locked heap, as on the board (MicroPython VM only).

On rp2 a hard IRQ may not allocate: any allocation raises MemoryError there.
The simulator calls every hard=True handler with micropython.heap_lock() held,
so the firmware's handlers are held to the same rule. The simulator's own
bookkeeping inside a handler (a pin write recorded in the trace) runs with the
heap unlocked again: that cost is the simulator's, not the firmware's.
"""
import micropython


def install(sim):
    sim.hard_irq_hook = _run_locked
    sim.sim_enter = _unlock
    sim.sim_exit = _relock


_depth = [0]


def call_locked(handler, pin):
    """Run handler(pin) with the heap locked; True when it tried to allocate."""
    micropython.heap_lock()
    try:
        handler(pin)
    except MemoryError:
        return True
    finally:
        micropython.heap_unlock()
    return False


def _run_locked(sim, handler, pin):
    _depth[0] = 1
    try:
        failed = call_locked(handler, pin)
    finally:
        _depth[0] = 0   # a handler that raised (Sim._deliver takes it as rp2 does) too
    if failed:
        sim.fault("hard IRQ handler %r allocated memory" % (handler,))


def _unlock():
    if _depth[0]:
        micropython.heap_unlock()
        return True
    return False


def _relock(was):
    if was:
        micropython.heap_lock()
