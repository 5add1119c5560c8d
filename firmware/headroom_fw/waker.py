"""The main loop's sleep, which an interrupt can cut short.

time.sleep_ms() always sleeps out its time, so a knob turned just after the loop went
to sleep would wait for the next pass (up to 10 ms). Instead the loop sleeps in
machine.idle() - the CPU waits for an interrupt - until its deadline, or until a hard
IRQ handler (the encoder's) sets `woken`: the pass that carries the new level to the
PGA2311 starts within microseconds of the detent. A one-shot Timer at the deadline is
the interrupt that ends an undisturbed sleep. The idea is Peter Hinch's (an ISR sets a
flag, the loop waits on it) without asyncio, and allocation-free.

The loop is `ms = app.step(); waker.begin(ms); while not waker.over(): machine.idle()`.
The simulator runs that loop itself on its virtual clock: it calls begin() and over()
(the firmware's own code) and idles between interrupts.
"""
from time import ticks_add, ticks_diff, ticks_ms

import machine


class Waker:
    def __init__(self):
        self.woken = 0       # set by hard IRQ handlers: one store, nothing allocated
        self._until = ticks_ms()
        self._timer = machine.Timer(-1)
        self._tick = self._noop  # bound once, not at every sleep

    def _noop(self, t):
        pass  # the timer's interrupt is what ends machine.idle(); nothing else to do

    def wake(self):
        """From an interrupt handler: end the sleep now."""
        self.woken = 1

    def begin(self, ms):
        """Start a sleep of `ms` milliseconds (<= 0: none)."""
        self._until = ticks_add(ticks_ms(), ms if ms > 0 else 0)
        if ms > 0 and not self.woken:
            self._timer.init(mode=machine.Timer.ONE_SHOT, period=ms, callback=self._tick)

    def over(self):
        """True once the deadline has passed or an interrupt woke the loop."""
        # The clock first, then the flag: an interrupt during the clock's read (the
        # detent that completes then) is seen now, not after the idle() that follows.
        late = ticks_diff(self._until, ticks_ms()) <= 0
        if self.woken or late:
            self.woken = 0
            self._timer.deinit()
            return True
        return False

    def sleep(self, ms):
        self.begin(ms)
        while not self.over():
            machine.idle()
