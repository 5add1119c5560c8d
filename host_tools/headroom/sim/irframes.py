"""What a remote sends and what an IR receiver makes of it: the demodulated waveform of
real frames (NEC with the Apple remote's framing, RC5, Sony SIRC) and their repeats,
as the marks (a burst seen: the receiver's output low) in time order.

Timings from the protocols (the same as irdecode.py's docstring) and the receiver's
faults from the TSOP382 datasheet: every mark of a frame comes out longer or shorter
alike (tpi - 5/f0 < tpo < tpi + 6/f0: -132 to +158 us at 38 kHz, the AGC's state), each
edge jitters (the receiver, then the MCU's IRQ latency), and a fluorescent lamp makes
short spurious marks (10-150 us) that a decoder must reject. Runs on CPython and on
MicroPython (the virtual board's VM): marks are generated one at a time, and the
randomness is controls.Rng, the same numbers on both.

Names for the keys people know: APPLE (the white and aluminium Apple remotes, NEC
address 0x87EE) and KIT21 (the 21-key remote of Arduino kits, NEC address 0x00).
"""
from .models.controls import Rng

NEC = "nec"
RC5 = "rc5"
SONY = "sony"
APPLE = "apple"
PROTOCOLS = (NEC, APPLE, RC5, SONY)

NEC_PERIOD_US = 108000
RC5_PERIOD_US = 113778     # 64 bit times of 1.778 ms
SONY_PERIOD_US = 45000
SONY_MIN_FRAMES = 3        # a Sony remote sends every press at least three times
APPLE_ADDR = 0x87EE
APPLE_ID = 0x5A            # the pairing id in the fourth byte: any remote's own

# The Apple remote's command bytes (LIRC's apple_a1156, bit-reversed to NEC's LSB-first).
APPLE_KEYS = {"up": 0x0B, "down": 0x0D, "left": 0x08, "right": 0x07, "play": 0x04,
              "menu": 0x02}
# The 21-key kit remote (Elegoo and the "Car MP3" layout), address 0x00.
KIT21_KEYS = {"power": 0x45, "vol+": 0x46, "func": 0x47, "prev": 0x44, "play": 0x40,
              "next": 0x43, "down": 0x07, "vol-": 0x15, "up": 0x09, "eq": 0x19,
              "repeat": 0x0D}


def _nec_bits(value, nbits):
    """(mark, space) runs of NEC's pulse-distance bits, LSB first."""
    out = []
    for i in range(nbits):
        out.append(562)
        out.append(1687 if value >> i & 1 else 562)
    return out


def nec_frame(addr, cmd, apple_id=None):
    """An NEC frame's runs (mark first, ending on the stop mark): an 8-bit address is
    sent with its inverse, a 16-bit one as it is; Apple's fourth byte is its id."""
    if addr > 0xFF:
        word = addr
    else:
        word = addr | (addr ^ 0xFF) << 8
    last = (cmd ^ 0xFF) if apple_id is None else apple_id
    return [9000, 4500] + _nec_bits(word | cmd << 16 | last << 24, 32) + [562]


def nec_repeat():
    return [9000, 2250, 562]


def rc5_frame(addr, cmd, toggle):
    """An RC5 (RC5X for commands 64-127) frame's runs: 14 Manchester bits, MSB first."""
    bits = [1, 0 if cmd & 0x40 else 1, toggle & 1]
    bits += [addr >> (4 - i) & 1 for i in range(5)]
    bits += [cmd >> (5 - i) & 1 for i in range(6)]
    halves = []
    for b in bits:
        halves += [0, 1] if b else [1, 0]   # 1: space then mark
    runs = []
    level = None
    for h in halves[1:] if halves[0] == 0 else halves:   # the leading space is idle
        if h == level:
            runs[-1] += 889
        else:
            runs.append(889)
            level = h
    if level == 0:
        runs.pop()                                       # so is the trailing one
    return runs


def sony_frame(addr, cmd, nbits=12):
    """A Sony SIRC frame's runs: 12, 15 or 20 bits; `addr` 5 bits (8 for 15 bits; 13
    for 20: 5 and an 8-bit extension above them)."""
    value = cmd & 0x7F | addr << 7
    runs = [2400]
    for i in range(nbits):
        runs.append(600)
        runs.append(1200 if value >> i & 1 else 600)
    return runs


def fw_code(proto, addr, cmd, nbits=12):
    """The code the firmware's decoder (irdecode.code) gives for this key."""
    from headroom_fw import irdecode as D
    if proto in (NEC, APPLE):
        return D.code(D.NEC, APPLE_ADDR if proto == APPLE else addr, cmd)
    if proto == RC5:
        return D.code(D.RC5, addr, cmd)
    form = {12: 0, 15: 1, 20: 2}[nbits]
    return D.code(D.SONY, addr | form << 13, cmd)


def key_frames(proto, addr, cmd, hold_ms=0, toggle=0, nbits=12):
    """[(start_us, runs)] a remote sends for a key held `hold_ms` (0: a press): the first
    frame at 0, then its repeats while the key is down."""
    if proto in (NEC, APPLE):
        first = nec_frame(APPLE_ADDR if proto == APPLE else addr, cmd,
                          APPLE_ID if proto == APPLE else None)
        out = [(0, first)]
        t = NEC_PERIOD_US
        while t < hold_ms * 1000:
            out.append((t, nec_repeat()))
            t += NEC_PERIOD_US
        return out
    if proto == RC5:
        f = rc5_frame(addr, cmd, toggle)
        period, least = RC5_PERIOD_US, 1
    else:
        f = sony_frame(addr, cmd, nbits)
        period, least = SONY_PERIOD_US, SONY_MIN_FRAMES
    out = [(0, f)]
    t = period
    while t < hold_ms * 1000 or len(out) < least:
        out.append((t, f))
        t += period
    return out


class Receiver:
    """A TSOP382-class receiver's output: marks [start, end] (us) for the frames sent,
    with the datasheet's width error, edge jitter, and a lamp's glitches."""

    def __init__(self, seed=1, jitter_us=30, glitch_per_s=0, bias_us=(-120, 150)):
        self.rng = Rng(seed)
        self.jitter_us = jitter_us
        self.glitch_per_s = glitch_per_s
        self.bias_us = bias_us

    def _between(self, lo, hi):
        return lo + self.rng.below(hi - lo + 1)

    def marks(self, t0_us, runs):
        """The marks of one frame starting at t0_us, as the receiver passes them."""
        lo, hi = self.bias_us
        bias = self._between(lo, hi)
        j = self.jitter_us
        t = t0_us
        for i, d in enumerate(runs):
            if i % 2 == 0:
                start = t + self._between(-j, j)
                end = t + d + bias + self._between(-j, j)
                yield start, max(end, start + 1)
            t += d

    def glitches(self, t0_us, t1_us):
        """Spurious marks between t0_us and t1_us: a lamp's (Poisson, 10-150 us wide)."""
        if self.glitch_per_s <= 0:
            return
        mean_us = 1000000 // self.glitch_per_s
        t = t0_us
        while True:
            # An exponential gap from the integer generator: -ln(u) * mean.
            u = (self.rng.below(1 << 20) + 1) / float(1 << 20)
            t += int(-_ln(u) * mean_us) + 1
            if t >= t1_us:
                return
            yield t, t + self._between(10, 150)


def _ln(u):
    import math
    return math.log(u)


def union(a, b):
    """Two time-ordered streams of (start, end) marks as one: overlaps joined."""
    a = iter(a)
    b = iter(b)
    x = next(a, None)
    y = next(b, None)
    cur = None
    while x is not None or y is not None:
        if y is None or (x is not None and x[0] <= y[0]):
            m, x = x, next(a, None)
        else:
            m, y = y, next(b, None)
        if cur is None:
            cur = list(m)
        elif m[0] <= cur[1]:
            if m[1] > cur[1]:
                cur[1] = m[1]
        else:
            yield cur[0], cur[1]
            cur = list(m)
    if cur is not None:
        yield cur[0], cur[1]


def frames_marks(rx, frames):
    """The marks of [(start_us, runs)] frames in time order, each frame distorted."""
    for t0, runs in frames:
        yield from rx.marks(t0, runs)


def span_us(frames):
    """From the first frame's start to the last's end."""
    t0, runs = frames[-1]
    return t0 + sum(runs)
