"""Rotary encoder on two pins, decoded in a hard IRQ.

The handler reads both pins and feeds the table decoder: integer work only,
no allocation (the bound method is made once, here, not in the IRQ). The main
loop takes the detents with interrupts briefly disabled.
"""
from time import ticks_ms

import machine

from .quadrature import QuadratureDecoder


class Encoder:
    def __init__(self, pin_a, pin_b, edges_per_detent):
        pin_a.init(pin_a.IN, pin_a.PULL_UP)
        pin_b.init(pin_b.IN, pin_b.PULL_UP)
        self.a = pin_a
        self.b = pin_b
        self.decoder = QuadratureDecoder(edges_per_detent, (pin_a.value() << 1) | pin_b.value())
        self.last_ms = 0
        self._isr = self._edge
        trig = pin_a.IRQ_RISING | pin_a.IRQ_FALLING
        pin_a.irq(self._isr, trig, hard=True)
        pin_b.irq(self._isr, trig, hard=True)

    def _edge(self, pin):
        # ticks_ms() returns a small int: no allocation.
        self.decoder.feed((self.a.value() << 1) | self.b.value(), ticks_ms())

    def take(self):
        """Detents turned since the last call (positive = clockwise); the time of the
        last one is then in `last_ms`. Returns an int, not a tuple: nothing to allocate."""
        st = machine.disable_irq()
        d = self.decoder.detents
        self.last_ms = self.decoder.last_ms
        self.decoder.detents = 0
        machine.enable_irq(st)
        return d
