"""Debounced inputs, polled from the main loop. Free of `machine`.

Polling suits toggle switches and a push button: contact bounce is shorter
than the stable time, so a bouncing switch yields exactly one change.
"""
from time import ticks_diff

from micropython import const

from .quadrature import COUNT_MAX

NONE = const(0)
CLICK = const(1)
LONG_PRESS = const(2)


class Debounced:
    """A level that changes only after the input has been stable for `stable_ms`.

    `bounces` counts the changes it saw come back before they held (for `status`); a
    change that goes on to another value (a three-position lever crossing its middle)
    is travel, not a bounce."""

    def __init__(self, level, stable_ms):
        self.level = level
        self.stable_ms = stable_ms
        self.bounces = 0
        self._raw = level
        self._since = None

    def update(self, raw, now_ms):
        """Feed a sample; True when the debounced level changed."""
        if raw != self._raw:
            if self._raw != self.level and raw == self.level and self.bounces < COUNT_MAX:
                self.bounces += 1   # a change still pending came back before it held
            self._raw = raw
            self._since = now_ms
            return False
        if raw != self.level and ticks_diff(now_ms, self._since) >= self.stable_ms:
            self.level = raw
            return True
        return False


class Button:
    """Push button (pressed = `active_level`): CLICK on a short press, LONG_PRESS while held."""

    def __init__(self, level, active_level, debounce_ms, long_ms):
        self._in = Debounced(level, debounce_ms)
        self._active = active_level
        self._long_ms = long_ms
        self._down_ms = None
        self._long_sent = False

    def update(self, raw, now_ms):
        """Feed a sample; returns NONE, CLICK or LONG_PRESS."""
        if self._in.update(raw, now_ms):
            if self._in.level == self._active:
                self._down_ms = now_ms
                self._long_sent = False
                return NONE
            # A release is a click only if the press was seen (not held since boot)
            # and did not already count as a long press.
            seen = self._down_ms is not None
            self._down_ms = None
            return CLICK if seen and not self._long_sent else NONE
        if (self._down_ms is not None and not self._long_sent
                and ticks_diff(now_ms, self._down_ms) >= self._long_ms):
            self._long_sent = True
            return LONG_PRESS
        return NONE

    @property
    def pressed(self):
        return self._down_ms is not None

    @property
    def bounces(self):
        return self._in.bounces

    @property
    def held_since_boot(self):
        """Down since power-on, never seen pressed: it confirms nothing until released."""
        return self._in.level == self._active and self._down_ms is None
