"""Quadrature decoding and knob acceleration, free of `machine`.

`QuadratureDecoder.feed` is called from a hard IRQ: small-int arithmetic and a
bytes lookup only, no allocation. Contact bounce shows up as a transition and
its reverse, so it cancels instead of counting.
"""
from time import ticks_diff

from micropython import const

# Index: previous state * 4 + new state, state = A << 1 | B. Value: step + 1.
# +1 follows 11 -> 01 -> 00 -> 10 -> 11 (A leads); a change of both bits is
# invalid (an edge was missed) and counts nothing.
_TABLE = b"\x01\x00\x02\x01\x02\x01\x01\x00\x00\x01\x01\x02\x01\x02\x00\x01"


class QuadratureDecoder:
    """Counts detents from A/B contact states (`state` = A << 1 | B)."""

    def __init__(self, edges_per_detent, state):
        self.edges = edges_per_detent
        self.state = state
        self.rest = state  # the knob sits in a detent at start-up
        self.pos = 0       # transitions since the last detent
        self.detents = 0   # detents not yet taken by the main loop
        self.last_ms = 0   # ticks_ms of the last detent counted

    def feed(self, state, now_ms=0):
        """Account for a new contact state seen at `now_ms`. Safe in a hard IRQ."""
        prev = self.state
        if state == prev:
            return
        self.state = state
        pos = self.pos + _TABLE[(prev << 2) | state] - 1
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
        if d:
            self.detents += d
            self.last_ms = now_ms


# Interval between detents (ms) at or above which each detent is one 0.5 dB step,
# and the faster tiers: (min interval ms, steps per detent).
_SLOW_MS = const(60)
_FAST_MS = const(25)


class Acceleration:
    """Turns detents into 0.5 dB steps: slow turns 1 step per detent, fast more."""

    def __init__(self):
        self.last_ms = None

    def steps(self, detents, now_ms):
        """Steps for `detents`, the last of which came at `now_ms` (sign follows the detents).

        Give the detents' own time (from the IRQ), not the time the main loop
        took them, or the poll period quantizes the speed.
        """
        if detents == 0:
            return 0
        n = detents if detents > 0 else -detents
        last = self.last_ms
        self.last_ms = now_ms
        if last is None:
            return detents
        per = ticks_diff(now_ms, last) // n
        if per >= _SLOW_MS:
            k = 1
        elif per >= _FAST_MS:
            k = 2
        else:
            k = 4
        return detents * k

    def expire(self, now_ms):
        """Forget the last detent once it is a second old (called from the main loop).

        A detent after a pause is then always slow, however long the pause:
        ticks_diff can only measure 2**29 ms (6.2 days) before it wraps.
        """
        if self.last_ms is not None and ticks_diff(now_ms, self.last_ms) > 1000:
            self.last_ms = None
