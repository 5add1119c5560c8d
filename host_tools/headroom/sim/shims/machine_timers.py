"""machine.Timer, machine.WDT and machine.mem32 of the `machine` shim (re-exported there)."""
from headroom.sim import world as _world
from headroom.sim.shims.shimbase import UNSET as _UNSET
from headroom.sim.shims.shimbase import busy as _busy
from headroom.sim.shims.shimbase import running_sim as _sim

_WDT_MAX_MS = 8388


class Timer:
    """rp2's soft timer: only id -1. Callbacks are scheduled (soft) on every release;
    `hard=` came in 1.26.0 (micropython PR #17363, rp2/machine_timer.c): True runs the
    callback in the alarm's interrupt, heap locked, like a hard Pin IRQ, and a callback
    that raises is printed ("uncaught exception in timer callback") and dropped, as on
    stm32, whose behaviour the PR copies. Before 1.26 the keyword is refused (TypeError),
    False included: `Sim.micropython` picks the release. Not modelled: a hard callback
    held off by machine.disable_irq() (the firmware uses soft timers only)."""
    ONE_SHOT = 0
    PERIODIC = 1

    def __init__(self, id=-1, *, mode=PERIODIC, freq=-1, period=-1, tick_hz=1000, callback=None,
                 hard=_UNSET):
        if id != -1:
            raise ValueError("Timer doesn't exist")
        self._s = _sim()
        self._event = None
        if callback is not None or hard is not _UNSET:
            self.init(mode=mode, freq=freq, period=period, tick_hz=tick_hz, callback=callback,
                      hard=hard)

    def init(self, *, mode=PERIODIC, freq=-1, period=-1, tick_hz=1000, callback=None,
             hard=_UNSET):
        _busy(self._s)
        if hard is not _UNSET and self._s.micropython < (1, 26):
            raise TypeError("unexpected keyword argument 'hard'")
        self.deinit()
        if freq > 0:
            us = 1000000 // freq
        else:
            us = period * 1000000 // tick_hz
        self._us = max(us, 1)
        self._mode = mode
        self._cb = callback
        self._hard = hard is not _UNSET and bool(hard)
        s = self._s
        self._event = s.clock.after(self._us, self._fire)
        s.timers.add(self)      # a soft reset stops it

    def _fire(self, _):
        s = self._s
        self._event = None
        s.timers.discard(self)
        if self._mode == Timer.PERIODIC:
            self._event = s.clock.after(self._us, self._fire)
            s.timers.add(self)
        if self._cb is None:
            return
        if self._hard:
            s.hard_call(self._cb, self, self)
        else:
            s.schedule(self._cb, self)

    def _hard_irq_raised(self, e):
        self._s.irq_exceptions.append((self._s.now(), None, e))
        self._cb = None

    def deinit(self):
        if self._event is not None:
            self._event.cancel()
            self._event = None
            self._s.timers.discard(self)


class WDT:
    """rp2's machine.WDT: watchdog_enable() at construction, watchdog_update() at feed().
    Nothing in the class stops it (rp2 has no WDT.deinit): clearing WATCHDOG_CTRL.ENABLE
    with mem32 does (below)."""

    def __init__(self, id=0, timeout=5000):
        if id != 0:
            raise ValueError("WDT(%d) doesn't exist" % id)
        if not 1 <= timeout <= _WDT_MAX_MS:
            raise ValueError("timeout exceeds %d" % _WDT_MAX_MS)
        self.timeout = timeout
        self._s = _sim()
        self._s.start_wdt(timeout)

    def feed(self):
        s = self._s
        _busy(s)
        t = s.sim_enter()
        s.feed_wdt(self.timeout)
        s.sim_exit(t)


# The RP2040's WATCHDOG block (datasheet 4.7): CTRL at its base, and the bus's atomic
# aliases of every register (+0x1000 XOR, +0x2000 set, +0x3000 clear).
_WATCHDOG_CTRL = 0x40058000
_CTRL_TRIGGER = 0x80000000
_CTRL_ENABLE = 0x40000000
_CTRL_PAUSE = 0x07000000
_CTRL_TIME = 0x00FFFFFF


def _pwm():
    """sim/pwm.py, the PWM block's model: imported when first used (the virtual board's
    VM imports the shims before the simulator's modules)."""
    from headroom.sim import pwm
    return pwm


class _Mem32:
    """machine.mem32, for the registers the firmware touches: WATCHDOG_CTRL (read; write
    or its atomic aliases: ENABLE, PAUSE_*, TRIGGER) and the PWM block (sim/pwm.py: a
    slice counting its B input's edges). Any other address is a fault: the simulator
    does not know what it would do."""

    def _reg(self, addr):
        if not isinstance(addr, int):
            raise TypeError("can't convert %s to int" % type(addr).__name__)
        if addr & 3:
            raise ValueError("address %08x is not aligned to 4 bytes" % addr)
        if addr & ~0x3000 != _WATCHDOG_CTRL:
            if _pwm().owns(addr):
                return None
            _sim().fault("machine.mem32[0x%08x]: the simulator models WATCHDOG_CTRL "
                         "(0x%08x and its atomic aliases) and the PWM block only"
                         % (addr, _WATCHDOG_CTRL))
        return (addr >> 12) & 3

    def _ctrl(self, s):
        return ((_CTRL_ENABLE if s.wdt_enabled else 0) | s.wdt_pause
                | min(s.wdt_left() * 2, _CTRL_TIME))   # TIME counts 2 per µs (RP2040-E1)

    def __getitem__(self, addr):
        alias = self._reg(addr)
        s = _sim()
        _busy(s)
        if alias is None:
            return _pwm().block(s).read(addr)
        return self._ctrl(s)

    def __setitem__(self, addr, value):
        alias = self._reg(addr)
        s = _sim()
        _busy(s)
        if alias is None:
            t = s.sim_enter()
            try:
                _pwm().block(s).write(addr, value)
            finally:
                s.sim_exit(t)
            return
        value &= 0xFFFFFFFF
        old = self._ctrl(s)
        if alias == 1:
            new = old ^ value
        elif alias == 2:
            new = old | value
        elif alias == 3:
            new = old & ~value
        else:
            new = value
        t = s.sim_enter()
        try:
            s.wdt_pause = new & _CTRL_PAUSE   # TIME is read-only
            if new & _CTRL_ENABLE:
                s.resume_wdt()
            else:
                s.stop_wdt()
        finally:
            s.sim_exit(t)
        if new & _CTRL_TRIGGER:           # a reset now, as machine.reset() asks for one
            s.reset_mcu("watchdog")
            raise _world.PowerLost("watchdog")


mem32 = _Mem32()
