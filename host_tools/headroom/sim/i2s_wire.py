"""The I2S wires a DAC model listens to (sim/i2s.py drives them): BCK = sck, LRCK =
sck + 1, DIN = sd; every frame with its time, and a capture."""
import struct
import sys
from array import array

_MP = sys.implementation.name == "micropython"


class Bus:
    """BCK, LRCK and DIN between the MCU and a DAC: frames with their times, and a capture.

    Listeners implement:
      i2s_start(bus)                      the clocks started (bus.rate, bus.bits are set)
      i2s_frames(bus, frame0, n, data)    frames frame0.. start playing now; data is an
                                          array('i') of 2n slot values (L, R, L, R ...), or
                                          None for n frames of digital silence
      i2s_stop(bus, frame_end)            the clocks stopped; frames >= frame_end never played
      i2s_idle_ok(bus)                    True when more silence would change nothing for it
    Frame f of a run plays at frame_time(f). `bits` is the slot width (16 or 32 bits per
    channel, so BCK = 2 * bits * rate); a 16-bit slot value is an int16, a 32-bit one an int32.
    """

    def __init__(self, sim, sck, sd):
        self.sim = sim
        self.sck = sck
        self.ws = sck + 1
        self.sd = sd
        self.listeners = []
        self.running = False
        self.rate = 0
        self.bits = 0
        self.t0 = 0           # clock.now_us of frame 0 of the current run
        self.frames = 0       # frames delivered in the current run
        self.runs = 0
        self.keep = True      # keep a capture in `chunks`
        self.chunks = []      # [run, t_us (sim.now() time) of frame0, frame0, n, data or None]
        self.driver = None
        self.external = None  # an external master wired to these pins (models/source.py)

    # ---- time
    def frame_time(self, f):
        """clock.now_us at which frame f of the current run plays."""
        return self.t0 + (f * 1000000) // self.rate

    def frame_at(self, t_us):
        """The first frame of the current run that plays at or after clock time t_us."""
        if t_us <= self.t0:
            return 0
        return ((t_us - self.t0) * self.rate + 999999) // 1000000

    # ---- driven by a Port
    def start(self, driver, rate, bits):
        if self.running and driver is not self.driver:
            self.sim.fault("GP%d: two I2S masters drive the same bus at once" % self.sck)
        self.driver = driver
        self.running = True
        self.rate = rate
        self.bits = bits
        self.t0 = self.sim.clock.now_us
        self.frames = 0
        self.runs += 1
        for ls in self.listeners:
            ls.i2s_start(self)

    def deliver(self, frame0, n, data):
        if self.keep:
            self._capture(frame0, n, data)
        self.frames = frame0 + n
        for ls in self.listeners:
            ls.i2s_frames(self, frame0, n, data)

    def stop(self):
        if not self.running:
            return
        end = min(self.frame_at(self.sim.clock.now_us), self.frames)
        self.running = False
        self.driver = None
        if self.keep:
            self._truncate(end)
        for ls in self.listeners:
            ls.i2s_stop(self, end)

    def idle_ok(self):
        for ls in self.listeners:
            if not ls.i2s_idle_ok(self):
                return False
        return True

    def wake(self):
        """A listener needs the silence frame by frame again (a control changed)."""
        if self.driver is not None:
            self.driver.unpark()

    # ---- capture
    def _capture(self, frame0, n, data):
        c = self.chunks
        if c:
            last = c[-1]
            if last[0] == self.runs and last[2] + last[3] == frame0 \
                    and (last[4] is None) == (data is None):
                if data is not None:
                    last[4].extend(data)
                last[3] += n
                return
        t = self.frame_time(frame0) - self.sim.clock.origin_us
        c.append([self.runs, t, frame0, n, None if data is None else array("i", data)])

    def _truncate(self, end):
        c = self.chunks
        while c and c[-1][0] == self.runs and c[-1][2] >= end:
            c.pop()
        if c and c[-1][0] == self.runs and c[-1][2] + c[-1][3] > end:
            last = c[-1]
            keep = end - last[2]
            if last[4] is not None:
                last[4] = last[4][:2 * keep]
            last[3] = keep

    def clear(self):
        self.chunks = []

    def samples(self, run=None, limit=20000000):
        """(t_us of the first frame, array('i') of L, R, L, R ...) of one run (default: the last)."""
        if run is None:
            run = self.chunks[-1][0] if self.chunks else self.runs
        out = array("i")
        t = None
        for r, tc, _f0, n, data in self.chunks:
            if r != run:
                continue
            if t is None:
                t = tc
            if len(out) + 2 * n > limit:
                raise ValueError("capture too long to expand")
            if data is None:
                out.extend(array("i", bytes(8 * n)) if _MP else array("i", [0]) * (2 * n))
            else:
                out.extend(data)
        return t, out


def _decode(raw, bits, stereo):
    """DMA-format frames (array('i') of L, R ...) from the bytes the ring gave out."""
    if bits == 16:
        vals = struct.unpack("<%dh" % (len(raw) // 2), raw)
    else:
        vals = struct.unpack("<%di" % (len(raw) // 4), raw)
    if stereo:
        return array("i", vals)
    out = array("i")
    for v in vals:
        out.append(v)
        out.append(v)
    return out


def _byte_view(buf):
    """A byte-indexed view of `buf` that still sees later changes when it can (as the DMA does)."""
    if isinstance(buf, bytearray):
        return memoryview(buf)
    if isinstance(buf, memoryview):
        if getattr(buf, "itemsize", 0) == 1:
            return buf
        raw = bytes(buf)
        if len(raw) == len(buf):
            return buf   # MicroPython's memoryview has no itemsize: a byte view all the same
        return memoryview(raw)
    return memoryview(bytes(buf))
