"""Quadrature decoding and knob acceleration, free of `machine`.

`QuadratureDecoder.feed` is called from a hard IRQ: small-int arithmetic and a
bytes lookup only, no allocation. Contact bounce shows up as a transition and
its reverse, so it cancels instead of counting.
"""
from time import ticks_add, ticks_diff

from micropython import const

# Index: previous state * 4 + new state, state = A << 1 | B. Value: step + 1.
# +1 follows 11 -> 01 -> 00 -> 10 -> 11 (A leads); a change of both bits is
# invalid (an edge was missed) and counts nothing.
_TABLE = b"\x01\x00\x02\x01\x02\x01\x01\x00\x00\x01\x01\x02\x01\x02\x00\x01"

# The input counters stop here: a small int, so counting in a hard IRQ never allocates
# (MicroPython's small ints end at 2**30) however long the contacts chatter.
COUNT_MAX = const(1 << 29)


class QuadratureDecoder:
    """Counts detents from A/B contact states (`state` = A << 1 | B).

    With an Acceleration, each detent is also turned into 0.5 dB steps at its own time
    (in the IRQ that saw it complete), so the speed is the knob's, whatever the main
    loop's period."""

    def __init__(self, edges_per_detent, state, accel=None):
        self.edges = edges_per_detent
        self.state = state
        self.rest = state  # the knob sits in a detent at start-up
        self.pos = 0       # transitions since the last detent
        self.detents = 0   # detents not yet taken by the main loop
        self.steps = 0     # their 0.5 dB steps, accelerated
        self.last_ms = 0   # ticks_ms of the last detent counted
        self.accel = accel
        # What the contacts did that was not a turn, for `status`: steps taken back
        # before a detent completed (bounce), and changes of both contacts at once
        # (an edge missed). Saturating counts, up to COUNT_MAX.
        self.bounces = 0
        self.skips = 0
        self._step = 0     # the last valid step, +1 or -1

    def feed(self, state, now_ms=0):
        """Account for a new contact state seen at `now_ms`. Safe in a hard IRQ."""
        prev = self.state
        if state == prev:
            return
        self.state = state
        step = _TABLE[(prev << 2) | state] - 1
        if step == 0:
            if self.skips < COUNT_MAX:
                self.skips += 1
        else:
            if step != self._step and self.pos != 0 and self.bounces < COUNT_MAX:
                self.bounces += 1
            self._step = step
        pos = self.pos + step
        e = self.edges
        d = 0
        if pos >= e:
            d = 1
            pos -= e
        elif pos <= -e:
            d = -1
            pos += e
        if state == self.rest or (e == 2 and state == 3 - self.rest) or e == 1:
            # Back in a detent with the count off: an edge was missed (a two-bit
            # jump). Half a detent or more of valid steps says which way it went.
            if pos * 2 >= e:
                d += 1
            elif pos * 2 <= -e:
                d -= 1
            pos = 0
        self.pos = pos
        if d and self.accel is not None:
            d = self.accel.admit(d, now_ms)
        if d:
            self.detents += d
            self.last_ms = now_ms
            if self.accel is not None:
                self.steps += self.accel.steps(d, now_ms)


# Interval between detents (ms) at or above which each detent is one 0.5 dB step,
# and the faster tiers: (min interval ms, steps per detent).
_SLOW_MS = const(60)
_FAST_MS = const(25)
_HYST_MS = const(4)  # a tier changes only when the speed clears its boundary by this much
# No hand turns a knob back this soon after a detent: a louder detent this soon after a
# quieter one is contact bounce read as a turn (bounce that outlasts the next edge walks
# the state round the Gray cycle backwards).
_REVERSE_MS = const(50)


class Acceleration:
    """Turns detents into 0.5 dB steps: slow turns 1 step per detent, fast ones 2 or 4.

    Tiers by mean interval between detents: 60 ms or more (up to ~16/s) 1 step,
    25-60 ms 2 steps, under 25 ms 4 steps, each boundary with 4 ms of hysteresis.

    Speed is the mean interval over the current gesture (decayed, so it follows the
    last several detents), not the last interval alone: one short interval (bounce,
    a late interrupt) must not flip the step size. The first two detents of a gesture
    are always single steps, which also gives exact fine control. The encoders call
    steps() from the hard IRQ that completes each detent, with that detent's time:
    integer work only, nothing allocated.
    """

    def __init__(self):
        self.start_ms = None   # when the gesture's counted span starts
        self.count = 0         # detents since then
        self.last_ms = None
        self.k = 1             # steps per detent now
        self.down_ms = None    # when the last anticlockwise (quieter) detent came
        self.refused = 0       # clockwise detents refused as bounce (for `status`)

    def admit(self, detents, now_ms):
        """The detents to count, of `detents` decoded at `now_ms`: clockwise (louder)
        ones within 50 ms of an anticlockwise one count nothing, so a misread during a
        fast turn down can only make it quieter, never louder. Anticlockwise always
        counts. From the hard IRQ that decoded them: integer work only."""
        if detents < 0:
            self.down_ms = now_ms
        elif (detents > 0 and self.down_ms is not None
              and ticks_diff(now_ms, self.down_ms) < _REVERSE_MS):
            if self.refused < COUNT_MAX:
                self.refused += detents
            return 0
        return detents

    def steps(self, detents, now_ms):
        """Steps for `detents`, the last of which came at `now_ms` (sign follows the detents)."""
        if detents == 0:
            return 0
        n = detents if detents > 0 else -detents
        self.last_ms = now_ms
        if self.start_ms is None:
            self.start_ms = now_ms
            self.count = n
            self.k = 1
            return detents
        self.count += n
        if self.count <= 2:
            return detents
        per = ticks_diff(now_ms, self.start_ms) // (self.count - 1)
        if self.count >= 8:
            # Decay: keep the last half of the detents, spanning as long as they did.
            self.count = (self.count + 1) // 2
            self.start_ms = ticks_add(now_ms, -per * (self.count - 1))
        # Hysteresis: poll-quantized times jitter around a boundary without flipping the tier.
        k = self.k
        if k == 4:
            k = 4 if per < _FAST_MS + _HYST_MS else 2
        elif per < _FAST_MS - _HYST_MS:
            k = 4
        if k == 2 or k == 1:
            if k == 1:
                k = 2 if per < _SLOW_MS - _HYST_MS else 1
            elif per >= _SLOW_MS + _HYST_MS:
                k = 1
        self.k = k
        return detents * k

    def reset(self):
        """End the gesture now (the knob changed what it sets: speed does not carry over)."""
        self.last_ms = None
        self.start_ms = None

    def expire(self, now_ms):
        """End the gesture once the last detent is a second old (called from the main loop).

        A detent after a pause is then always slow, however long the pause:
        ticks_diff can only measure 2**29 ms (6.2 days) before it wraps.
        """
        if self.last_ms is not None and ticks_diff(now_ms, self.last_ms) > 1000:
            self.last_ms = None
            self.start_ms = None
        if self.down_ms is not None and ticks_diff(now_ms, self.down_ms) > 1000:
            self.down_ms = None   # before ticks_diff can wrap round to "just now"
