"""The RP2040's PWM block (datasheet 4.5), for what the firmware uses of it: a slice
counting the rising edges of its B input (CSR.DIVMODE = 2), the way clockwatch.py
watches an external source's LRCK. Reached through `machine.mem32` (the shim routes
the block's addresses here) and `Pin(n, Pin.ALT, alt=Pin.ALT_PWM)`.

A slice's counter advances once per DIV edges (DIV: 8.4 fixed point) and wraps past
TOP; it is computed when read, from the edges counted since its last write. The edges
on a pin are its level's rising edges and, when an I2S bus's LRCK is the pin, one per
frame the bus's clocks have run (the bus keeps no pin level: 96,000 edges a second as
events would stop the simulator).

Strict where a firmware could go wrong: a mode other than counting rising or falling
edges of B, the A pin (an output) or a B pin in PWM function while its slice would
drive it (DIVMODE 0: B is then an output, against the source's clock), a register this
model does not have: each is a fault naming it.
"""
from . import i2s

BASE = 0x40050000
SLICE_BYTES = 0x14
SLICES = 8
EN = 0xA0                  # every slice's CSR.EN, one bit each
END = 0xB4                 # past INTS
_CSR, _DIV, _CTR, _CC, _TOP = 0x00, 0x04, 0x08, 0x0C, 0x10
_DIVMODE_RISE = 2
_DIVMODE_FALL = 3


def owns(addr):
    """Whether `addr` (or one of its atomic aliases) is one of the block's registers."""
    a = addr & ~0x3000
    return BASE <= a < BASE + END


class _Slice:
    def __init__(self, n):
        self.n = n
        self.csr = 0
        self.div = 1 << 4           # DIV.INT 1 at reset
        self.top = 0xFFFF
        self.cc = 0
        self.ctr0 = 0               # the counter at its last rebase
        self.edges0 = 0             # the B pin's edges then

    def mode(self):
        return (self.csr >> 4) & 3

    def on(self):
        return bool(self.csr & 1)


class _EdgeCounter:
    """A pin's rising and falling edges so far: its level's, and an I2S bus's LRCK frames."""

    def __init__(self, sim, gpio):
        self.sim = sim
        self.gpio = gpio
        self.rises = 0
        self.falls = 0
        self.done = 0                # frames of the bus's finished runs
        self.bus = None
        g = sim.gpio[gpio]
        self._level = g.level
        g.listeners.append(self._moved)
        for bus in i2s.registry(sim).buses.values():
            if bus.ws == gpio:
                self.bus = bus
                bus.listeners.append(self)

    def _moved(self, *_):
        lv = self.sim.gpio[self.gpio].level
        if lv != self._level:
            if lv:
                self.rises += 1
            else:
                self.falls += 1
            self._level = lv

    def edges(self, falling):
        n = self.falls if falling else self.rises
        bus = self.bus
        if bus is not None:
            n += self.done
            if bus.running:
                n += bus.frame_at(self.sim.clock.now_us)
        return n

    # ---- the I2S bus's listener interface (i2s_wire.Bus)
    def i2s_start(self, bus):
        pass

    def i2s_frames(self, bus, frame0, n, data):
        pass

    def i2s_stop(self, bus, frame_end):
        # The clocks ran to now, whatever data went out (a parked port sends silence).
        self.done += bus.frame_at(self.sim.clock.now_us)

    def i2s_idle_ok(self, bus):
        return True


class PwmBlock:
    def __init__(self, sim):
        self.sim = sim
        self.slices = [_Slice(n) for n in range(SLICES)]
        self.counters = {}           # B pin -> _EdgeCounter, once the pin was the slice's
        self.function = set()        # the pins in PWM function now
        sim.on_soft_reset.append(self.reset)
        sim.on_mcu_stop.append(lambda cause: self.reset(True))

    def reset(self, pins=False):
        """The block's registers at reset. A soft reset leaves the pins' functions as they
        were (rp2: pins keep their function and drive on); the MCU stopping resets them."""
        self.slices = [_Slice(n) for n in range(SLICES)]
        if pins:
            self.function.clear()

    # ---- counting
    def _edges(self, s):
        """The edges on the slice's B input: the B pins in PWM function (GPn and GPn+16
        share a slice, 4.5.2: both would feed it)."""
        n = 0
        for g in self.function:
            if (g >> 1) & 7 == s.n:
                n += self.counters[g].edges(s.mode() == _DIVMODE_FALL)
        return n

    def _ctr(self, s):
        if not s.on() or s.mode() not in (_DIVMODE_RISE, _DIVMODE_FALL):
            return s.ctr0
        counts = (self._edges(s) - s.edges0) * 16 // s.div
        return (s.ctr0 + counts) % (s.top + 1)

    def _rebase(self, s):
        s.ctr0 = self._ctr(s)
        s.edges0 = self._edges(s)

    def _check_mode(self, s):
        if s.on() and s.mode() not in (_DIVMODE_RISE, _DIVMODE_FALL):
            self.sim.fault("PWM slice %d: DIVMODE %d is not modelled (the simulator counts "
                           "edges of B: DIVMODE 2 or 3)" % (s.n, s.mode()))

    # ---- registers
    def _where(self, addr):
        a = (addr & ~0x3000) - BASE
        if a == EN:
            return None, EN
        n, off = divmod(a, SLICE_BYTES)
        if n >= SLICES or off not in (_CSR, _DIV, _CTR, _CC, _TOP):
            self.sim.fault("machine.mem32[0x%08x]: PWM register at offset 0x%02x is not "
                           "modelled" % (addr, a))
        return self.slices[n], off

    def read(self, addr):
        s, off = self._where(addr)
        if s is None:
            return sum(1 << t.n for t in self.slices if t.on())
        if off == _CSR:
            return s.csr
        if off == _DIV:
            return s.div
        if off == _CTR:
            return self._ctr(s)
        if off == _CC:
            return s.cc
        return s.top

    def write(self, addr, value):
        """A write at `addr`, or at one of its aliases (+0x1000 XOR, +0x2000 set, +0x3000
        clear)."""
        alias = (addr >> 12) & 3
        if alias:
            old = self.read(addr & ~0x3000)
            value = old ^ value if alias == 1 else old | value if alias == 2 else old & ~value
        value &= 0xFFFFFFFF
        s, off = self._where(addr)
        if s is None:
            for t in self.slices:
                self._set_csr(t, (t.csr & ~1) | (value >> t.n & 1))
            return
        if off == _CSR:
            self._set_csr(s, value & 0xFF)
        elif off == _DIV:
            self._rebase(s)
            s.div = value & 0xFFF
            if s.div < 16:
                self.sim.fault("PWM slice %d: DIV 0x%03x is under 1.0" % (s.n, s.div))
        elif off == _CTR:
            s.ctr0 = value & 0xFFFF
            s.edges0 = self._edges(s)
        elif off == _CC:
            s.cc = value
        else:
            self._rebase(s)
            s.top = value & 0xFFFF

    def _set_csr(self, s, value):
        self._rebase(s)
        s.csr = value & 0xFF
        self._check_mode(s)
        for g in self.function:
            self._check_pin(g)

    # ---- pins
    def pin_function(self, gpio):
        """`gpio` is now in PWM function (Pin.ALT, alt=Pin.ALT_PWM)."""
        if gpio % 2 == 0:
            self.sim.fault("GP%d in PWM function: an A pin is the slice's output; the "
                           "simulator models B inputs only" % gpio)
        if gpio not in self.counters:
            self.counters[gpio] = _EdgeCounter(self.sim, gpio)
        s = self.slices[(gpio >> 1) & 7]
        self._rebase(s)
        self.function.add(gpio)
        s.edges0 = self._edges(s)    # its edges count from now
        self._check_pin(gpio)

    def pin_other(self, gpio):
        """`gpio` is now a plain input or output (Pin.init with IN, OUT, OPEN_DRAIN)."""
        if gpio in self.function:
            s = self.slices[(gpio >> 1) & 7]
            self._rebase(s)
            self.function.discard(gpio)
            s.edges0 = self._edges(s)

    def _check_pin(self, gpio):
        if gpio in self.function and self.slices[(gpio >> 1) & 7].mode() == 0:
            self.sim.fault("GP%d in PWM function while its slice's DIVMODE is 0: the B pin "
                           "is then an output (set DIVMODE before the pin's function)" % gpio)


def block(sim):
    """The board's PWM block, `sim.peripherals["pwm"]`, made on first use."""
    p = sim.peripherals.get("pwm")
    if p is None:
        p = sim.peripherals["pwm"] = PwmBlock(sim)
    return p
