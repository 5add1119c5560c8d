"""Whether an external source's music arrives, on a PCM5102A board (a part that is not
critical, part.py): the PCM5102A has no registers to ask, so the Pico watches the I2S
clock the source module drives.

How: the RP2040's PWM slice whose B input is the LRCK pin (an odd GPIO) counts the
pin's rising edges in hardware (CSR.DIVMODE = rising edge of B, datasheet 4.5.2.6):
one edge a frame, no IRQ, no CPU, whatever the main loop is doing. Its fractional
divider divides the edges by _DIV_EDGES, so two seconds at 192 kHz (24,000 counts)
fit the 16-bit counter. Every _PERIOD_MS the count since the last look gives the rate;
clocks running are a signal (the controller's auto-standby and wake), their rate is
reported in the PCM5122's rate classes, so `status` reads the same on both DACs.

What it cannot see: a source that keeps its clocks running while it sends zeros (a USB
bridge on pause, some do) reads as a signal; a PCM5122 board sees the zeros (its
register 120). A source that stops its clocks (an S/PDIF receiver that lost its
stream, most USB bridges with no stream) reads as none.

The slice is set to count before the pin is handed to it (and the pin taken back as an
input first, for a soft reset): in PWM function with DIVMODE 0 the B pin would be an
output, driving against the source's LRCK.
"""
import time

import machine
from micropython import const

from .part import Part

_PWM_BASE = const(0x40050000)   # the PWM block; a slice's registers every 0x14 bytes
_SLICE_BYTES = const(0x14)
_CSR = const(0x00)
_DIV = const(0x04)
_CTR = const(0x08)
_TOP = const(0x10)
_CSR_EN = const(1)
_CSR_DIVMODE_RISE = const(2 << 4)   # the counter advances on rising edges of B
_DIV_EDGES = const(16)              # edges per count: DIV.INT (DIV.FRAC 0)
_PERIOD_MS = const(2000)            # as often as the PCM5122's registers are read
# Where one of the PCM5122's rate classes (protocol.RATES) ends and the next begins, Hz:
# mid-way between them, so a source's clock that is a little off stays in its class.
_CLASS_EDGES = (12000, 24000, 70000, 140000, 300000)


def rate_class(hz):
    """A measured frame rate's class, as the PCM5122's register 91 gives it (0: none):
    1 8 kHz, 2 16 kHz, 3 32-48 kHz, 4 88.2-96 kHz, 5 176.4-192 kHz, 6 384 kHz."""
    if hz < 1000:
        return 0
    k = 1
    for edge in _CLASS_EDGES:
        if hz < edge:
            return k
        k += 1
    return k


def slice_of(gpio):
    """The PWM slice whose B input `gpio` is (an odd GPIO), or None."""
    return (gpio >> 1) & 7 if gpio & 1 else None


class ClockWatch(Part):
    NAME = "i2s clocks"
    CRITICAL = False
    BUDGET_US = 120     # one register read and the arithmetic, every 2 s

    def __init__(self, ws):
        Part.__init__(self)
        base = _PWM_BASE + slice_of(ws) * _SLICE_BYTES   # type: ignore[operator]
        # An input first: after a soft reset the pin is still the slice's, and the
        # slice's reset (DIVMODE 0) would drive it against the source's LRCK.
        machine.Pin(ws, machine.Pin.IN)
        m = machine.mem32
        m[base + _CSR] = 0                       # stopped while it is set up
        m[base + _DIV] = _DIV_EDGES << 4
        m[base + _TOP] = 0xFFFF
        m[base + _CTR] = 0
        m[base + _CSR] = _CSR_EN | _CSR_DIVMODE_RISE
        machine.Pin(ws, machine.Pin.ALT, alt=machine.Pin.ALT_PWM)   # now an input to the slice
        # The address made once: past 2**30 it is a long int, and a sum would make one
        # every read.
        self._ctr = base + _CTR
        self._count = 0
        self._at = 0
        self._due = 0
        self.rate = 0       # the last measured frame rate, Hz (0: no clock)

    def start(self, now):
        self._count = machine.mem32[self._ctr]
        self._at = now
        self._due = time.ticks_add(now, _PERIOD_MS)

    def check(self, now):
        if time.ticks_diff(now, self._due) < 0:
            return
        c = machine.mem32[self._ctr]
        dt = time.ticks_diff(now, self._at)
        n = (c - self._count) & 0xFFFF
        self._count = c
        self._at = now
        self._due = time.ticks_add(now, _PERIOD_MS)
        # n * 16 * 1000 stays under 2**30 (n < 65536): a small int on rp2.
        self.rate = n * (_DIV_EDGES * 1000) // dt if dt > 0 else 0
        fs = rate_class(self.rate)
        self.sup.ctl.set_signal(fs != 0, fs, now)   # type: ignore[union-attr]
