"""Rotary encoder counted by a PIO state machine: every transition, whatever the CPU does.

The state machine samples A and B (consecutive pins, A first) a few cycles apart,
forever, and counts +1/-1 per valid transition in X with a jump table: bounce is a
transition and its reverse, so it cancels; a change of both pins at once counts
nothing. Garbage collection, a flash write with interrupts off, a slow main loop:
none of them loses a step. X is read from the RX FIFO, to which the program pushes it
(noblock) on every pass.

The count is the PIO's; the time of each detent is the pins' hard IRQ's, which reads
the count, turns new detents into accelerated 0.5 dB steps at that moment, and wakes
the main loop. An IRQ held off (a flash erase) only delays those times: the count
stays exact, and the main loop's take() counts whatever the IRQ has not.

The program fills all 32 instruction slots, so it always loads at offset 0 - the
jump table's `mov(pc, isr)` targets are absolute. It takes a whole PIO block.
"""
from array import array
from time import ticks_ms

import rp2
from micropython import const

from .knob import Knob
from .quadrature import COUNT_MAX, Acceleration

_START = const(1 << 29)  # X starts here, so counts stay small ints (no allocation)


@rp2.asm_pio(in_shiftdir=rp2.PIO.SHIFT_LEFT, out_shiftdir=rp2.PIO.SHIFT_RIGHT)
def quadrature():
    # 0-15: jump table, index = old << 2 | new, state = B << 1 | A. Clockwise is
    # 3 -> 2 -> 0 -> 1 -> 3 (A closes first): the same sense as the IRQ decoder.
    jmp("update")   # 0: 0 -> 0
    jmp("inc")      # 1: 0 -> 1
    jmp("dec")      # 2: 0 -> 2
    jmp("update")   # 3: 0 -> 3 both changed
    jmp("dec")      # 4: 1 -> 0
    jmp("update")   # 5: 1 -> 1
    jmp("update")   # 6: 1 -> 2 both changed
    jmp("inc")      # 7: 1 -> 3
    jmp("inc")      # 8: 2 -> 0
    jmp("update")   # 9: 2 -> 1 both changed
    jmp("update")   # 10: 2 -> 2
    jmp("dec")      # 11: 2 -> 3
    jmp("update")   # 12: 3 -> 0 both changed
    jmp("dec")      # 13: 3 -> 1
    jmp("inc")      # 14: 3 -> 2
    jmp("update")   # 15: 3 -> 3
    label("inc")    # x += 1 is ~(~x - 1): PIO can only decrement
    mov(x, invert(x))
    jmp(x_dec, "inc2")  # taken or not, it goes on to inc2
    label("inc2")
    mov(x, invert(x))
    jmp("update")
    label("dec")
    jmp(x_dec, "update")  # taken or not, it goes on to update
    label("update")
    mov(isr, x)
    push(noblock)
    label("sample")
    out(isr, 2)     # the last state, kept in OSR, becomes the old state
    in_(pins, 2)    # isr = old << 2 | new
    mov(osr, isr)
    mov(pc, isr)
    wrap()
    nop()           # padding to 32 words: the program must load at offset 0
    nop()
    nop()
    nop()
    nop()


class PIOEncoder(Knob):
    """The knob (knob.Knob: take() -> detents, then steps and last_ms), counted by the PIO."""

    def __init__(self, sm_id, pin_a, pin_b, edges_per_detent, ticks_ms_fn=ticks_ms, waker=None):
        pin_a.init(pin_a.IN, pin_a.PULL_UP)
        pin_b.init(pin_b.IN, pin_b.PULL_UP)
        self.edges = edges_per_detent
        self._ticks_ms = ticks_ms_fn
        self.waker = waker
        Knob.__init__(self, Acceleration())
        self.sm = rp2.StateMachine(sm_id, quadrature, freq=-1, in_base=pin_a)
        # X = _START, and OSR = the pins now, so the first pass sees no change.
        self.sm.put(_START)
        self.sm.exec("pull()")
        self.sm.exec("mov(x, osr)")
        self.sm.exec("in_(pins, 2)")
        self.sm.exec("mov(osr, isr)")
        self.sm.active(1)
        self._count = _START
        self._acc = 0
        self.detents = 0     # counted, not yet taken
        self._steps = 0
        # For `status`: steps the count took back before a detent completed (bounce, as
        # far as the IRQ sees it: one that is undone within an IRQ's latency cancels in the
        # PIO unseen) - a contact back at rest while the other never left it, or a count
        # read that went the other way. The PIO counts nothing for a change of both pins,
        # so no skips figure.
        self.bounces = 0
        self.skips = None
        self._dir = 0
        # count()'s drain: one get() a call for what the FIFO holds (1 to 4 words).
        self._bufs = (array("i", [0]), array("i", [0, 0]), array("i", [0, 0, 0]),
                      array("i", [0, 0, 0, 0]))
        # The IRQ is there to time the detents and wake the loop, not to count (the PIO
        # does). With 4 edges a detent and the knob at rest now (both contacts alike),
        # a detent takes each contact away from the rest and back, and ends on the edge
        # into the rest, the other contact at rest too: only the edges into the rest are
        # asked for, and the count is read (four calls) only when the other contact is
        # at rest and both have come back since the last read - not for an edge within
        # a detent, nor a contact's bounce on its own (one pin read each).
        self._pa = pin_a
        self._pb = pin_b
        rest = pin_a.value()
        self._rest = rest
        self._back = 0   # contacts back at rest since the count was last read: A 1, B 2
        if edges_per_detent == 4 and pin_b.value() == rest:
            trig = pin_a.IRQ_RISING if rest else pin_a.IRQ_FALLING
            isr_a = self._edge_a
            isr_b = self._edge_b
        else:
            trig = pin_a.IRQ_RISING | pin_a.IRQ_FALLING
            isr_a = isr_b = self._edge
        self._isr_a = isr_a   # bound once, here: nothing made in the IRQ
        self._isr_b = isr_b
        pin_a.irq(isr_a, trig, hard=True)
        pin_b.irq(isr_b, trig, hard=True)

    def count(self):
        """Transitions counted so far, fresh: drain what the FIFO held, read the next push.
        Never blocks (it runs in a hard IRQ): a get() on an empty FIFO would wait for a
        push, forever if the state machine stopped. The program pushes every few cycles,
        so a fresh value is there by the next look; if none is, the newest drained one,
        else the last count (the PIO's X keeps counting: the next read has it all)."""
        sm = self.sm
        c = self._count
        n = sm.rx_fifo()
        if n:
            buf = self._bufs[n - 1]
            sm.get(buf)      # all of them in one call: stale but for the last
            c = buf[n - 1]
        if sm.rx_fifo():
            c = sm.get()
        return c

    def _update(self):
        """Reads the count; returns the detents it completed (after admit()). The time
        is read only then: most edges (and all of a bounce) complete none."""
        c = self.count()
        delta = c - self._count
        acc = self._acc
        if delta:
            way = 1 if delta > 0 else -1
            if way != self._dir and acc != 0 and self.bounces < COUNT_MAX:
                self.bounces += 1
            self._dir = way
        acc += delta
        self._count = c
        d = 0
        e = self.edges
        while acc >= e:
            acc -= e
            d += 1
        while acc <= -e:
            acc += e
            d -= 1
        self._acc = acc
        if acc == 0:
            # The count is on a detent: the contacts were at rest when the PIO counted
            # it, so the next detent takes both away and back (_edge_a, _edge_b). Off a
            # detent (a contact bounced between the pin read and the count) the next
            # edge into the rest reads it again.
            self._back = 0
        if d:
            now = self._ticks_ms()
            d = self.accel.admit(d, now)
            if d:
                self.detents += d
                self._steps += self.accel.steps(d, now)
                self.last_ms = now
        return d

    # _edge_a and _edge_b mirror each other on purpose: each is its pin's hard handler,
    # bound once, and a shared helper would cost every edge one more Python call.
    def _edge_a(self, pin):
        back = self._back | 1
        self._back = back
        if self._pb.value() == self._rest:
            if back == 3:
                self._edge(pin)
            elif self.bounces < COUNT_MAX:
                self.bounces += 1   # out of the rest and back, the other contact still: bounce

    def _edge_b(self, pin):
        back = self._back | 2
        self._back = back
        if self._pa.value() == self._rest:
            if back == 3:
                self._edge(pin)
            elif self.bounces < COUNT_MAX:
                self.bounces += 1   # out of the rest and back, the other contact still: bounce

    def _edge(self, pin):
        # Hard IRQ: small ints only (X stays near 2**29), nothing allocated. The loop is
        # woken only by a detent: an edge within one has nothing for it to send.
        if self._update():
            w = self.waker
            if w is not None:
                w.woken = 1

    def _take(self):
        # The pin IRQs read the count at every edge (the PIO counts it within a few
        # cycles, well inside the IRQ's latency), so it is fresh here: reading the FIFO
        # again would cost the knob's frame some 0.9 ms of calls on the RP2040.
        d = self.detents
        self.steps = self._steps
        self.detents = 0
        self._steps = 0
        return d
