"""How long the MCU has been up, right for years, in small ints only (pure).

rp2's small ints are 31 bits: a count of milliseconds passes 2**30 after 12.4 days and
becomes a long int - an allocation on every pass from then on - and `ticks_diff` from a
start time is ambiguous after 2**29 ms (6.2 days). So the uptime is whole seconds plus a
millisecond remainder, advanced by the ticks between two looks (a pass, a fault-state
poll: far below the ticks' half period); the seconds stay small for 34 years and then
stop rather than grow.

It starts from `ticks_ms()`: the RP2040's timer counts from 0 at every reset (power-on,
watchdog, machine.reset()), so that is the time since the MCU's reset; the firmware's own
restarts after a failure carry the same object on (lifecycle.Firmware). After a soft
reset (mpremote's Ctrl-D: the timer keeps counting) it counts from the last reset modulo
the ticks' 12.4-day period.
"""
from time import ticks_diff, ticks_ms

from micropython import const

_S_MAX = const(0x3FFFFFFF)   # 34 years of seconds: the last small int


class Uptime:
    def __init__(self):
        now = ticks_ms()
        # The ticks as a number, once: ms since the reset (the stubs keep ticks opaque).
        self.s = now // 1000  # type: ignore[operator]
        self.ms = now - self.s * 1000  # type: ignore[operator]
        self._last = now

    def update(self, now):
        """Advance to ticks_ms `now` (called at least every few seconds)."""
        d = ticks_diff(now, self._last)
        self._last = now
        if d <= 0:
            return
        ms = self.ms + d
        if ms >= 1000:
            s = ms // 1000
            ms -= s * 1000
            self.s = self.s + s if self.s < _S_MAX - s else _S_MAX
        self.ms = ms
