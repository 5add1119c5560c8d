"""A demodulating IR receiver (TSOP382xx class) and the remotes pointed at it.

Its output, on a GPIO, is low while a burst is seen and high (its internal pull-up)
otherwise. `press` sends a key's frames (irframes.key_frames: the first, then the
repeats while held) as the receiver passes them: marks longer or shorter alike per
frame, edges jittered; `noise(per_s)` is a fluorescent lamp in the room, its short
spurious marks (10-150 us) until `noise(0)`. Streams overlap freely: the line is low
while any of them is in a mark. Each stream holds one pending edge (a long hold or
an hour of noise is not a list), so it fits the virtual board's VM.

SimBoard.ir and ir_noise make the trace's `input` records of what was sent.
"""
from .. import irframes as F
from ..part import Part


class IrReceiver(Part):
    def __init__(self, sim, gpio, seed=1, jitter_us=30):
        self.sim = sim
        self.gpio = gpio
        self.rx = F.Receiver(seed=seed, jitter_us=jitter_us)
        self.low = 0          # streams in a mark now
        self.sent = 0         # keys sent
        self.toggle = 0       # RC5's toggle: flipped on every new press
        self._noise = None    # the lamp's stream, while it is on

    def attach(self):
        self.sim.gpio[self.gpio].drive("ir", 1)

    def press(self, proto, addr, cmd, hold_ms=0, nbits=12, at_us=None):
        """Send a key held `hold_ms` (0: a press); returns how long its frames last (us)."""
        t0 = self.sim.clock.now_us if at_us is None else at_us
        if proto == F.RC5:
            self.toggle ^= 1
        frames = F.key_frames(proto, addr, cmd, hold_ms, self.toggle, nbits)
        self.sent += 1
        self._stream(F.frames_marks(self.rx, [(t0 + s, r) for s, r in frames]))
        return F.span_us(frames)

    def noise(self, per_s):
        """A lamp's glitches from now on, `per_s` a second on average (0: off)."""
        if self._noise is not None:
            self._noise[0] = None      # the running stream stops at its next mark
            self._noise = None
        if per_s > 0:
            rx = F.Receiver(seed=self.rx.rng.next(), glitch_per_s=per_s)
            now = self.sim.clock.now_us
            holder = [rx.glitches(now, now + (1 << 62))]
            self._noise = holder
            self._next(holder)

    def _stream(self, marks):
        self._next([marks])

    def _next(self, holder):
        gen = holder[0]
        if gen is None:
            return
        m = next(gen, None)
        if m is None:
            return
        clock = self.sim.clock
        start = max(m[0], clock.now_us)
        clock.at(start, self._mark, True)
        clock.at(max(m[1], start + 1), self._end, holder)

    def _end(self, holder):
        self._mark(False)
        self._next(holder)

    def _mark(self, on):
        self.low += 1 if on else -1
        self.sim.gpio[self.gpio].drive("ir", 0 if self.low > 0 else 1)
