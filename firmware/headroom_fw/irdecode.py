"""IR remote frames from a demodulated receiver's edges, free of `machine`.

A TSOP382xx-class receiver turns the 36-40 kHz bursts of a remote into a logic level:
a *mark* while a burst is seen, a *space* between. The receiver's IRQ (irrecv.py)
timestamps every edge; this decoder, run from the main loop, turns the edges into
runs (mark, space, mark, ...), ends a frame at a space longer than GAP_US, cleans it
and decodes it as one of:

- NEC: a 9 ms mark, a 4.5 ms space, 32 bits by the period of a 562 us mark and the
  space after it (1.125 ms: 0, 2.25 ms: 1), LSB first: address, address inverted (or
  its high byte: an extended 16-bit address), command, command inverted. A held key
  sends a repeat frame (9 ms, 2.25 ms, a mark) every 108 ms. The Apple remote is NEC
  framing with address 0x87EE whose fourth byte is the remote's pairing id, not the
  inverted command: it is taken as it is, the id ignored.
- RC5 (Philips): 14 Manchester bits of 1.778 ms (a 1 is a space then a mark): two
  start bits (the second is RC5X's inverted command bit 6), a toggle that changes on
  every new press (a held key repeats the frame every 114 ms with the same toggle),
  5 address bits and 6 command bits, MSB first.
- Sony SIRC: a 2.4 ms mark, then 12, 15 or 20 bits, each a 600 us space and a mark of
  600 us (0) or 1.2 ms (1), LSB first: 7 command bits, then 5 address bits (8 in the
  15-bit form; 5 and an 8-bit extension in the 20-bit one). A held key resends the
  whole frame every 45 ms.

Robust to what a receiver passes (tests/test_irdecode.py, `make bench`): its output's
pulses are up to ~160 us longer or ~130 us shorter than the bursts (TSOP382 datasheet:
tpi - 5/f0 < tpo < tpi + 6/f0), the edges' timestamps jitter with the IRQ's latency,
and a fluorescent lamp makes short spurious marks. A mark under GLITCH_US (the
shortest real one is 562 us less 132) is a glitch and goes as it ends: it and the
spaces beside it become one space, so a frame still ends at a gap full of glitches.
A glitch that touches a real mark lengthens it, and shortens the space after it,
which is why nothing is decoded from a mark's end: NEC by the period from one mark's
start to the next, RC5 by where its marks start, Sony by its periods but for the last
bit (its mark against the header's: the receiver stretches every mark of a frame
alike), and a Sony key only from two frames alike among three.

Events come out as ints, no tuple: `code(proto, addr, cmd)` with REPEAT set for a
held key: an NEC repeat frame within HOLD_MS of the key's last frame (a full NEC
frame is always a press), an RC5 frame with the last one's toggle within HOLD_MS, a
Sony frame equal to the last within SONY_HOLD_MS. Nothing here allocates after
the constructor: the runs live in one array, events in another.
"""
from array import array
from time import ticks_add, ticks_diff

from micropython import const

NEC = const(1)
RC5 = const(2)
SONY = const(3)
REPEAT = const(1 << 28)        # an event's flag: the key is still held
APPLE_ADDR = const(0x87EE)     # NEC framing; the fourth byte is the remote's pairing id

GLITCH_US = const(300)   # marks shorter than this are noise (the shortest real: 562 - 132 us)
GAP_US = const(6000)     # a space this long ends a frame (the longest inside one: 4.5 ms)
HOLD_MS = const(250)     # NEC, RC5: a repeat later than this after the last frame is none
SONY_HOLD_MS = const(120)  # Sony resends the frame every 45 ms while held: a gap longer
                           # than two of them is a new press of the same key
MAX_RUNS = const(160)    # runs kept per frame: NEC's 67, and room for the noise in it
_EVENTS = const(8)       # decoded events waiting for the main loop


def code(proto, addr, cmd):
    """A key's code as one small int: the protocol, the address (up to 16 bits; a Sony
    frame's form in bits 13-14), the command (8 bits)."""
    return proto << 24 | addr << 8 | cmd


def _within(v, lo, hi):
    return lo <= v <= hi


class Decoder:
    def __init__(self):
        self.runs = array("i", bytes(4 * MAX_RUNS))
        self.n = 0            # runs in this frame: runs[0] a mark, then space, mark, ...
        self.mark = False     # the line's level now: True while a burst is seen
        self.active = False   # a frame has started (its first mark)
        self.t = 0            # ticks_us of the last edge
        self.events = array("i", bytes(4 * _EVENTS))
        self.tail = 0         # the next event's index
        self.count = 0        # events waiting
        self.last = 0         # the last key's code (REPEAT clear), 0: none
        self.last_ms = 0      # when its last frame ended
        self.toggle = -1      # RC5: the last frame's toggle bit
        self._sony_seen = 0   # Sony: the last two frames' codes and times, while a new
        self._sony_ms = 0     # key waits for a second frame like one of them
        self._sony_seen2 = 0
        self._sony_ms2 = 0
        # For `status` and the bench: frames decoded, frames that decoded to nothing,
        # runs removed as noise, repeats with no key to repeat, frames too long to keep.
        self.frames = 0
        self.rejected = 0
        self.glitches = 0
        self.orphans = 0
        self.overflows = 0

    # ---- edges in
    def edge(self, t_us, mark, now_ms):
        """The line went to `mark` (True: a burst) at ticks_us `t_us`. An edge to the
        level the line is at already (both edges of a glitch too short for the IRQ to
        read) changes nothing."""
        if mark == self.mark:
            return
        self.mark = mark
        dur = ticks_diff(t_us, self.t)
        self.t = t_us
        if mark:
            if not self.active:       # the first mark of a frame
                self.active = True
                self.n = 0
                return
            if dur > GAP_US:          # a space long enough ends the frame before it
                self._finish(now_ms)
                self.active = True
                self.n = 0
                return
        elif not self.active:
            return
        n = self.n
        if not mark and dur < GLITCH_US:
            # A mark too short to be a burst: noise. It and the space before it join the
            # space starting now, so a frame's end is seen however many glitches fall in
            # the gap after it.
            self.glitches += 1
            if n == 0:
                self.active = False            # before any frame: the line is idle again
            else:
                self.n = n - 1
                self.t = ticks_add(t_us, -(dur + self.runs[n - 1]))
            return
        if n < MAX_RUNS:
            self.runs[n] = dur
            self.n = n + 1
        else:
            self.overflows += 1
            self.active = False       # dropped: the frame's end is a new frame's start

    def idle(self, t_us, now_ms):
        """No edge since the last, now at ticks_us `t_us`: a frame whose last space has
        lasted GAP_US is over."""
        if self.active and not self.mark and ticks_diff(t_us, self.t) > GAP_US:
            self._finish(now_ms)

    # ---- events out
    def take(self):
        """The next event: a code, with REPEAT set for a held key; 0 if there is none."""
        if self.count == 0:
            return 0
        e = self.events[self.tail]
        self.tail = (self.tail + 1) % _EVENTS
        self.count -= 1
        return e

    def _event(self, e):
        if self.count < _EVENTS:   # full: the loop has not looked for a second
            self.events[(self.tail + self.count) % _EVENTS] = e
            self.count += 1

    # ---- a frame
    def _finish(self, now_ms):
        self.active = False
        n = self.n
        if n % 2 == 0:
            n -= 1          # ended on a space (an overflow's cut): not part of the frame
        r = self.runs
        # Noise just before a frame (a lamp's glitches, joined longer than GLITCH_US by
        # the IRQ) is no protocol's first mark: dropped with the space after it.
        k = 0
        while k + 2 < n and r[k] < 500:
            k += 2
        if k:
            for i in range(n - k):
                r[i] = r[i + k]
            n -= k
        if n <= 0:
            return
        first = r[0]
        c = 0
        if _within(first, 7000, 11000):
            c = self._nec(n, now_ms)
        elif _within(first, 2100, 3000):     # Sony's 2.4 ms header, less 132 us and jitter
            c = self._sony(n, now_ms)
        elif _within(first, 600, 2099):      # RC5's first mark: 889 us or 1.778 ms
            c = self._rc5(n, now_ms)
        if c == 0:
            self.rejected += 1
            return
        self.frames += 1
        if c > 0:           # -1: a frame taken, its key not yet (Sony's first)
            self._event(c)

    def _held(self, c, now_ms, window_ms):
        """`c` (a code, REPEAT clear) as the event: REPEAT set if it is the key held, its
        last frame within `window_ms` (0: a frame that is always a new press)."""
        held = c == self.last and ticks_diff(now_ms, self.last_ms) <= window_ms
        self.last = c
        self.last_ms = now_ms
        return c | REPEAT if held else c

    def _nec(self, n, now_ms):
        r = self.runs
        if n == 3 and _within(r[1], 1700, 2800):     # a repeat frame
            if self.last >> 24 == NEC and ticks_diff(now_ms, self.last_ms) <= HOLD_MS:
                self.last_ms = now_ms
                return self.last | REPEAT
            self.orphans += 1
            return 0
        if n != 67 or not _within(r[1], 3500, 5500):
            return 0
        lo = 0      # bits 0-15: the address bytes
        hi = 0      # bits 16-31: the command and its inverse (or the Apple id)
        for i in range(32):
            p = r[2 + 2 * i] + r[3 + 2 * i]     # a mark and the space after it
            # 1.125 or 2.25 ms; a glitch that touches a mark's start moves it earlier by
            # up to ~350 us (shortening this period, lengthening the next)
            if not _within(p, 600, 3000):
                return 0
            if p > 1687:
                if i < 16:
                    lo |= 1 << i
                else:
                    hi |= 1 << (i - 16)
        cmd = hi & 0xFF
        a0 = lo & 0xFF
        a1 = lo >> 8
        if lo == APPLE_ADDR:
            addr = APPLE_ADDR
        elif (hi >> 8) ^ cmd != 0xFF:
            return 0
        elif a1 ^ a0 == 0xFF:
            addr = a0
        else:
            addr = lo
        self.toggle = -1
        return self._held(code(NEC, addr, cmd), now_ms, 0)   # a held key sends repeat frames

    def _sony(self, n, now_ms):
        r = self.runs
        bits = (n - 1) // 2
        if n % 2 == 0 or (bits != 12 and bits != 15 and bits != 20):
            return 0
        # Each bit but the last by its period, a mark's start to the next's (1.2 ms: 0,
        # 1.8 ms: 1), which neither the receiver's stretch nor a glitch on a mark's end
        # moves; the last by its mark against the header's (4 units: a receiver
        # stretches every mark of a frame alike).
        thr = r[0] * 3 // 8
        v = 0
        for i in range(bits):
            m = r[2 + 2 * i]
            if not _within(m, GLITCH_US, 1700):
                return 0
            if i < bits - 1:
                p = m + r[3 + 2 * i]
                if not _within(p, 700, 2400):
                    return 0
                one = p > 1500
            else:
                one = m > thr
            if one:
                v |= 1 << i
        cmd = v & 0x7F
        if bits == 12:
            addr = v >> 7
        elif bits == 15:
            addr = v >> 7 | 1 << 13
        else:
            addr = v >> 7 | 2 << 13
        self.toggle = -1
        c = code(SONY, addr, cmd)
        if c == self.last and ticks_diff(now_ms, self.last_ms) <= SONY_HOLD_MS:
            return self._held(c, now_ms, SONY_HOLD_MS)    # the key held: a repeat
        # A Sony remote sends every press three times or more: a new key is taken when
        # a frame is like one of the two before it (within SONY_HOLD_MS a frame), as
        # Sony's own receivers want two alike: one frame a glitch made wrong is never a
        # key, and does not end the key held.
        seen = (c == self._sony_seen and ticks_diff(now_ms, self._sony_ms) <= SONY_HOLD_MS) or \
            (c == self._sony_seen2 and ticks_diff(now_ms, self._sony_ms2) <= 2 * SONY_HOLD_MS)
        self._sony_seen2 = self._sony_seen
        self._sony_ms2 = self._sony_ms
        self._sony_seen = c
        self._sony_ms = now_ms
        if not seen:
            return -1
        self._sony_seen = self._sony_seen2 = 0
        return self._held(c, now_ms, 0)

    def _rc5(self, n, now_ms):
        """By where the marks start: in Manchester code a mark starts in the middle of
        every 1 bit, or at the start of a 0 that follows a 0. Positions are counted in
        half bits (889 us) from the first mark's start (the middle of the first start
        bit, always 1), so a mark's width, which the receiver and a glitch on its end
        change, moves nothing; its end only shows where the frame ends."""
        r = self.runs
        v = 1 << 13      # bit 13 of v: the first start bit
        t = 0
        k = 0            # the last mark's start, in half bits from the first's
        for i in range(0, n, 2):
            if not _within(r[i], 500, 2300):   # every mark is one or two half bits
                return 0
        for i in range(2, n, 2):
            t += r[i - 2] + r[i - 1]
            q = (t + 444) // 889
            if q <= k or q > 26 or not _within(t - q * 889, -350, 350):
                return 0
            k = q
            if q % 2 == 0:
                v |= 1 << (13 - q // 2)     # a mark in the middle of bit q/2: a 1
        end = (t + r[n - 1] + 444) // 889
        if end != 26 and end != 27:       # the last bit ends at half bit 26 (a 0) or 27 (a 1)
            return 0
        if (end == 27) != (v & 1 == 1):
            return 0
        toggle = v >> 11 & 1
        cmd = (v & 0x3F) | (0 if v >> 12 & 1 else 0x40)
        c = code(RC5, v >> 6 & 0x1F, cmd)
        if toggle != self.toggle:
            self.last = 0           # a new press, whatever came before
        self.toggle = toggle
        return self._held(c, now_ms, HOLD_MS)
