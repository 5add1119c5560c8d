"""Rotary encoder on two pins, decoded in a hard IRQ.

The handler reads both pins and feeds the table decoder, which also turns each detent
into 0.5 dB steps at its own time (Acceleration), then wakes the main loop: integer
work only, no allocation (the bound method is made once, here, not in the IRQ). The
main loop takes the detents and steps with interrupts briefly disabled (knob.Knob).
"""
from time import ticks_ms

from .knob import Knob
from .quadrature import Acceleration, QuadratureDecoder


class Encoder(Knob):
    def __init__(self, pin_a, pin_b, edges_per_detent, waker=None):
        pin_a.init(pin_a.IN, pin_a.PULL_UP)
        pin_b.init(pin_b.IN, pin_b.PULL_UP)
        self.a = pin_a
        self.b = pin_b
        self.waker = waker
        self.decoder = QuadratureDecoder(edges_per_detent, (pin_a.value() << 1) | pin_b.value(),
                                         Acceleration())
        Knob.__init__(self, self.decoder.accel)
        self._isr = self._edge
        trig = pin_a.IRQ_RISING | pin_a.IRQ_FALLING
        pin_a.irq(self._isr, trig, hard=True)
        pin_b.irq(self._isr, trig, hard=True)

    def _edge(self, pin):
        # ticks_ms() returns a small int: no allocation.
        dec = self.decoder
        dec.feed((self.a.value() << 1) | self.b.value(), ticks_ms())
        w = self.waker
        if w is not None and dec.detents:
            w.woken = 1   # a detent to send; an edge within one has nothing for the loop

    @property
    def bounces(self):
        """Steps the contacts took back before a detent completed (for `status`)."""
        return self.decoder.bounces

    @property
    def skips(self):
        """Changes of both contacts at once: an edge came faster than the IRQ."""
        return self.decoder.skips

    def _take(self):
        dec = self.decoder
        d = dec.detents
        self.steps = dec.steps
        self.last_ms = dec.last_ms
        dec.detents = 0
        dec.steps = 0
        return d
