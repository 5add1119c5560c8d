"""A DAC's digital input on the simulated I2S wires (sim/i2s_wire.py): the base of the
DAC models (sim/models/pcm5102a.py, pcm5122.py)."""
import sys
from array import array

_MP = sys.implementation.name == "micropython"


class Receiver:
    """A DAC's digital input: frames processed as they play, state changes published on time.

    A block is processed when it starts playing, with the controls (pins, registers) of
    that moment. A control that changes while a block plays applies from the first frame
    after the change: the block is processed again from its last checkpoint up to that
    frame (same result, nothing published twice), then on with the new control.

    A subclass implements:
      _save() / _restore(s)   the state frames change (ramps, zero runs, filters)
      _frames(data, i, j, f0) process frames i..j-1 of the block that starts at frame f0;
                              returns the analog samples (array('f'), volts, L R ...) or None
      _state()                the published state: a list of (key, value) pairs
      i2s_idle_ok(bus)
    and calls self._mark(f) when frame f changes what _state() returns.
    `analog` (when `record`) holds [t_us of frame0, frame0, n, array('f') or None (silent)].
    """

    def __init__(self, sim, name, bus, record=False):
        self.sim = sim
        self.name = name
        self.bus = bus
        self.record = record
        self.analog = []
        self.listeners = []      # fn() after each published change (a jack model)
        self._blk = None
        self._ck = 0
        self._snap = None
        self._rec_mark = 0
        self._pubs = []
        self._publish = True
        self._last = None

    def attach_bus(self):
        """Listen on the I2S bus (the model's attach())."""
        self.bus.listeners.append(self)

    # ---- bus events
    def i2s_start(self, bus):
        self._blk = None
        self._clock_change(True)
        self.publish_now()

    def i2s_frames(self, bus, frame0, n, data):
        self._blk = (frame0, n, data)
        self._ck = 0
        self._snap = self._save()
        self._rec_mark = len(self.analog)
        self._pubs = []
        self._run(data, 0, n, frame0)

    def i2s_stop(self, bus, frame_end):
        blk = self._blk
        if blk is not None:
            f = frame_end - blk[0]
            if f < blk[1]:
                self._rewind(max(f, self._ck))
        self._blk = None
        self._clock_change(False)
        self.publish_now()

    # ---- helpers for subclasses
    def control(self, apply):
        """Apply a control change (pin, register) now; frames after now see it."""
        if self.bus.running:
            self.bus.wake()   # parked silence played under the old control
        blk = self._blk
        if blk is not None and self.bus.running:
            f0, n, data = blk
            f = self.bus.frame_at(self.sim.clock.now_us + 1) - f0
            if f < self._ck:
                f = self._ck
            if f < n:
                self._rewind(f)
                apply()
                self._snap = self._save()
                self._rec_mark = len(self.analog)
                self.publish_now()
                self._run(data, f, n, f0)
                return
        apply()
        self.publish_now()

    def _rewind(self, f):
        """Undo the processing of the current block from its checkpoint on, redo it up to f."""
        f0, n, data = self._blk
        t_cut = self.bus.frame_time(f0 + f)
        keep = []
        for fr, ev in self._pubs:
            if fr >= f0 + f and ev.t_us >= t_cut:
                ev.cancel()
            else:
                keep.append((fr, ev))
        self._pubs = keep
        self._restore(self._snap)
        del self.analog[self._rec_mark:]
        self._publish = False
        self._run(data, self._ck, f, f0)
        self._publish = True
        self._ck = f

    def _run(self, data, i, j, f0):
        if j <= i:
            return
        out = self._frames(data, i, j, f0)
        if self.record:
            t = self.bus.frame_time(f0 + i) - self.sim.clock.origin_us
            self.analog.append([t, f0 + i, j - i, out])

    def _mark(self, f):
        if not self._publish:
            return
        state = self._state()
        ev = self.sim.clock.at(self.bus.frame_time(f), self._emit, state)
        self._pubs.append((f, ev))

    def publish_now(self):
        self._emit(self._state())

    def _emit(self, state):
        key = tuple(_key(v) for k, v in state)
        if key == self._last:
            return
        self._last = key
        self.sim.emit("chip", [("chip", self.name), ("state", state)])
        for fn in self.listeners:
            fn()

    def _clock_change(self, running):
        pass


def _key(v):
    return v.json() if hasattr(v, "json") else v


def zeros_f(n):
    return array("f", bytes(4 * n)) if _MP else array("f", [0.0]) * n
