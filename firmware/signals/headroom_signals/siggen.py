"""Test signals on a machine.I2S, non-blocking: a sine at an exact frequency and level
on the left, right or both channels, or digital silence.

The I2S must be TX, STEREO, at `rate`, with `bits` 16 (16-bit samples) or 32 (24-bit
samples left-justified in 32-bit slots). The generator owns the I2S's irq: each time
the port has copied the buffer in, the handler (scheduled, never a hard IRQ) refills
the same preallocated buffer and writes it again; nothing blocks.

Frequency: the phase advances by exactly freq / rate of a cycle per frame, kept as a
29-bit phase plus the remainder of the division (so it never drifts), with freq in
millihertz. When a whole number of cycles fits in the loop buffer (1 kHz at 44.1 or
48 kHz does), that pattern is computed once, repeated to fill the loop buffer, and
the refill just writes it again: no work at all. Otherwise each sample comes from a
quarter-wave table of 1025 points with linear interpolation (about -130 dB of
interpolation error), in integer arithmetic that stays in MicroPython's small ints
(below 2**30), so the refill allocates nothing.
"""
import math
from array import array

from micropython import const

LEFT = const(1)
RIGHT = const(2)
BOTH = const(3)

_QUARTER = const(1024)       # table points per quarter cycle
_PHASE_BITS = const(29)
_PHASE_MASK = const(0x1FFFFFFF)
_IDX_SHIFT = const(17)       # phase bits 28..17: table index over a whole cycle (4096)
_FRAC_SHIFT = const(1)       # phase bits 16..1: interpolation fraction (16 bits)

_SILENT = const(0)
_TABLE = const(1)
_LOOP = const(2)
_STOPPED = const(3)


def _gcd(a, b):
    while b:
        a, b = b, a % b
    return a


class SigGen:
    def __init__(self, i2s, rate, bits=32, buf_bytes=2048, loop_bytes=4096):
        """`buf_bytes`: one refill (a multiple of 8); `loop_bytes`: room for an exact-period pattern."""
        if bits not in (16, 32):
            raise ValueError("bits must be 16 or 32")
        self.i2s = i2s
        self.rate = rate
        self.bits = bits
        self._fb = 4 if bits == 16 else 8      # bytes per stereo frame
        buf_bytes -= buf_bytes % 8
        self._buf = bytearray(buf_bytes)
        self._loop = bytearray(loop_bytes - loop_bytes % self._fb)
        self._mv = memoryview(self._buf)
        self._lmv = memoryview(self._loop)
        self._out = self._mv
        self._table = array("i", range(_QUARTER + 1))
        self._mode = _SILENT
        self._chans = BOTH
        self._ph = 0
        self._err = 0
        self._inc = 0
        self._rem = 0
        self._den = 1
        self._streaming = False
        self.refills = 0
        self._cb = self._refill
        i2s.irq(self._cb)

    # ---- what to play
    def sine(self, freq_hz, dbfs=0.0, channels=BOTH):
        """A sine of `freq_hz` (resolved to 1 mHz) at `dbfs` (<= 0) on LEFT, RIGHT or BOTH."""
        mhz = int(round(freq_hz * 1000))
        if not 0 < mhz < self.rate * 500:
            raise ValueError("frequency must be between 0 and rate / 2")
        if dbfs > 0:
            raise ValueError("level above 0 dBFS")
        if channels not in (LEFT, RIGHT, BOTH):
            raise ValueError("channels must be LEFT, RIGHT or BOTH")
        full = (1 << 23) - 1 if self.bits == 32 else (1 << 15) - 1
        amp = int(round(full * 10 ** (dbfs / 20)))
        self._chans = channels
        den = self.rate * 1000
        # One period of the pattern: den / gcd frames hold mhz / gcd whole cycles.
        g = _gcd(mhz, den)
        frames = den // g
        if frames * self._fb <= len(self._loop):
            self._fill_loop(amp, mhz // g, frames)
            self._mode = _LOOP
        else:
            t = self._table
            for k in range(_QUARTER + 1):
                t[k] = int(round(amp * math.sin(math.pi / 2 * k / _QUARTER)))
            self._inc = (mhz << _PHASE_BITS) // den
            self._rem = (mhz << _PHASE_BITS) % den
            self._den = den
            self._ph = 0
            self._err = 0
            self._out = self._mv
            self._mode = _TABLE
        self._start()

    def silence(self):
        """Digital zeros (the DAC's zero-data mute will act on them)."""
        buf = self._buf
        for i in range(len(buf)):
            buf[i] = 0
        self._out = self._mv
        self._mode = _SILENT
        self._start()

    def stop(self):
        """Stop refilling: what is queued plays out, then the port sends zeros."""
        self._mode = _STOPPED

    # ---- the refill
    def _fill_loop(self, amp, cycles, frames):
        """One period (`frames` frames, `cycles` cycles), repeated as often as it fits."""
        buf = self._loop
        fb = self._fb
        w = 2 * math.pi * cycles / frames
        for n in range(frames):
            self._put(buf, n * fb, int(round(amp * math.sin(w * n))))
        size = frames * fb
        reps = len(buf) // size
        for r in range(1, reps):
            buf[r * size:(r + 1) * size] = buf[0:size]
        self._out = self._lmv[0:reps * size]

    def _put(self, buf, i, v):
        """One stereo frame at byte i: v on the selected channels, 0 on the other."""
        c = self._chans
        lv = v if c & LEFT else 0
        rv = v if c & RIGHT else 0
        if self.bits == 16:
            buf[i] = lv & 0xFF
            buf[i + 1] = (lv >> 8) & 0xFF
            buf[i + 2] = rv & 0xFF
            buf[i + 3] = (rv >> 8) & 0xFF
        else:
            # 24-bit sample in the top three bytes of a 32-bit slot (sample << 8)
            buf[i] = 0
            buf[i + 1] = lv & 0xFF
            buf[i + 2] = (lv >> 8) & 0xFF
            buf[i + 3] = (lv >> 16) & 0xFF
            buf[i + 4] = 0
            buf[i + 5] = rv & 0xFF
            buf[i + 6] = (rv >> 8) & 0xFF
            buf[i + 7] = (rv >> 16) & 0xFF

    def _start(self):
        if not self._streaming:
            self._streaming = True
            self._refill(self.i2s)

    def _refill(self, i2s):
        mode = self._mode
        if mode == _STOPPED:
            self._streaming = False
            return
        if mode == _TABLE:
            self._fill_table(self._buf, len(self._buf))
        # _LOOP and _SILENT: the buffer already holds what comes next
        self.refills += 1
        i2s.write(self._out)

    def _fill_table(self, buf, n):
        t = self._table
        ph = self._ph
        err = self._err
        inc = self._inc
        rem = self._rem
        den = self._den
        fb = self._fb
        i = 0
        while i < n:
            idx = ph >> _IDX_SHIFT
            frac = (ph >> _FRAC_SHIFT) & 0xFFFF
            q = idx >> 10
            k = idx & 1023
            if q == 0:
                s0 = t[k]
                s1 = t[k + 1]
            elif q == 1:
                s0 = t[1024 - k]
                s1 = t[1023 - k]
            elif q == 2:
                s0 = -t[k]
                s1 = -t[k + 1]
            else:
                s0 = -t[1024 - k]
                s1 = -t[1023 - k]
            # |s1 - s0| <= 2^23 * 2 pi / 4096 < 2^14, times a 16-bit fraction: a small int
            self._put(buf, i, s0 + (((s1 - s0) * frac + 0x8000) >> 16))
            i += fb
            ph += inc
            err += rem
            if err >= den:
                err -= den
                ph += 1
            ph &= _PHASE_MASK
        self._ph = ph
        self._err = err
