"""The IR receiver (a TSOP382xx-class demodulating receiver: output low while a burst is
seen) on a GPIO: a part that is not critical (part.py).

The hard IRQ on both edges records the time (ticks_us) and the level it reads into a
ring made once, and returns: nothing allocated, no decoding (Hinch's INTERRUPTS.md
rule). check(), each pass, hands at most EDGES_PER_PASS edges to the decoder
(irdecode.py, which ends a frame after its last space and decodes it), so a burst of
noise cannot take a pass; the App takes the decoded keys after the parts' checks.

Why not a library: Pimoroni's aye-arr (PIO, MIT) decodes NEC only and allocates per
frame (pulse objects, f-strings, callbacks with *args); Peter Hinch's micropython_ir
decodes in a soft-timer callback (between any two bytecodes of the loop: under the
knob) and raises an exception per bad frame; neither does RC5, Sony and NEC together
without allocating. Their design is the same as this one's: timestamps in the IRQ,
decoding later.

The line held low for over a second (a receiver without supply, a short) is a fault,
reported and cleared when the line comes back; it never mutes.
"""
import time
from array import array

import machine
from micropython import const

from .irdecode import Decoder
from .part import Part

RING = const(128)             # edges: an NEC frame is 68, with room for a lamp's noise
_MASK = const(RING - 1)
EDGES_PER_PASS = const(40)    # at most this many edges decoded in one pass
_STUCK_MS = const(1000)       # the line low this long without an edge: a fault


class IrReceiver(Part):
    NAME = "IR receiver"
    CRITICAL = False
    BUDGET_US = 150     # the cost model's charge: a ticks_us() at most (the decoding is
                        # Python between calls: bench_ir and the rp2 tier time it)
    RETRY_US = 150      # a stuck line: the same

    def __init__(self, pin, gpio):
        Part.__init__(self)
        self.pin = pin
        self.gpio = gpio
        self.times = array("i", bytes(4 * RING))
        self.levels = bytearray(RING)
        self.head = 0       # the next slot the IRQ writes
        self.tail = 0       # the next slot check() reads
        self.lost = 0       # edges the ring had no room for
        self.dec = Decoder()
        self._low_since = None
        pin.irq(self._edge, machine.Pin.IRQ_FALLING | machine.Pin.IRQ_RISING, hard=True)

    def _edge(self, pin):
        """Hard IRQ: the time and the level, into the ring. Nothing allocated."""
        h = self.head
        nh = (h + 1) & _MASK
        if nh == self.tail:
            if self.lost < 1000000:
                self.lost += 1
            return
        self.times[h] = time.ticks_us()   # type: ignore[call-overload]  # a small int on rp2
        self.levels[h] = pin.value()
        self.head = nh

    def start(self, now):
        self._low_since = None if self.pin.value() else now

    def check(self, now):
        """Hand the edges over; end a frame after its gap; a line low too long is a
        fault. A pass with no edge and no frame under way calls nothing (the IRQ's
        levels say whether the line is low: no pin read)."""
        dec = self.dec
        t = self.tail
        k = 0
        low = self._low_since
        while t != self.head and k < EDGES_PER_PASS:
            # The receiver's output is low during a burst: a mark.
            mark = self.levels[t] == 0
            dec.edge(self.times[t], mark, now)
            if mark:
                if low is None:
                    low = now
            else:
                low = None
            t = (t + 1) & _MASK
            k += 1
        self.tail = t
        self._low_since = low
        if k == 0 and dec.active and not dec.mark:
            dec.idle(time.ticks_us(), now)
        if low is None:
            if self.fault is not None:
                self.sup.fault(self, None, now)   # type: ignore[union-attr]
        elif self.fault is None and time.ticks_diff(now, low) > _STUCK_MS:
            why = ("IR receiver: GP%d held low for over a second: check the receiver's supply "
                   "and wiring" % self.gpio)
            self.sup.fault(self, why, now)   # type: ignore[union-attr]
