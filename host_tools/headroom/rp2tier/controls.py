"""The board's controls as contacts to GND, read through the RP2040's pull-ups.

A closed contact drives its GPIO low; an open one lets go of it, so the pad's pull-up
(which the firmware enables) decides the level, as on the board. Every change is
scheduled at an exact emulated time and logged in `board.inputs` as (t_us, gpio, 0|1).

Stimuli are put on the emulator's loop in one call each, so no edge is already past
when it is scheduled (the test thread may lose the CPU to the emulator for a while).

- `Contact`: a push button or a toggle switch, with optional bounce: after each
  change, the contact chatters (seeded) for up to `bounce_us` before it rests.
- `Encoder`: contacts A and B, common to GND. A clockwise detent closes A, closes B,
  opens A, opens B (the firmware's sense: the state B<<1|A goes 3 -> 2 -> 0 -> 1 -> 3);
  anticlockwise the other way round. `turn()` spreads a detent's four edges evenly over
  its period, as a knob turning at a steady speed does, and returns the time of each
  detent's last transition: where the firmware may count it.
"""
import random


class Contact:
    def __init__(self, board, gpio, name):
        self.board = board
        self.gpio = gpio
        self.name = name
        self.closed = False

    def _apply(self, closed):
        b = self.board
        pin = b.mcu.gpio[self.gpio]
        if closed:
            pin.set_input_value(False)
        else:
            pin.release_input()
        b.inputs.append((b.now_us, self.gpio, 0 if closed else 1))
        b.changed()

    def schedule(self, t_us, closed, bounce_us=0, rng=None):
        """Close (True) or open the contact at emulated time t_us; returns when it rests."""
        self.closed = closed
        b = self.board
        edges = [(t_us, closed)]
        if bounce_us > 0:
            rng = rng or random.Random(self.gpio)
            t = t_us
            level = closed
            while True:
                t += rng.uniform(0.05, 0.3) * bounce_us
                if t >= t_us + bounce_us:
                    break
                level = not level
                edges.append((t, level))
            if level != closed:
                edges.append((min(t, t_us + bounce_us), closed))
        for t, c in edges:
            b.at_us(t, lambda c=c: self._apply(c))
        return edges[-1][0]

    def set(self, closed, at_us=None, bounce_us=0, phase_us=None):
        """Close or open the contact at `at_us`; by default 1 ms from now, or with
        `phase_us`, that far into the emulated millisecond after next. Scheduled on the
        emulator's loop in one go (the times are not already past when they are set);
        returns the time of the change."""
        def go():
            t = at_us
            if t is None:
                now = self.board.now_us
                t = now + 1000.0 if phase_us is None else (now // 1000 + 2) * 1000.0 + phase_us
            self.schedule(t, closed, bounce_us)
            return t
        return self.board.call(go)


# Contact states (closed = True) of (A, B) through one clockwise detent, from rest.
_CW = ((True, False), (True, True), (False, True), (False, False))
_CCW = ((False, True), (True, True), (True, False), (False, False))


class Encoder:
    def __init__(self, board, gpio_a, gpio_b):
        self.a = Contact(board, gpio_a, "encoder A")
        self.b = Contact(board, gpio_b, "encoder B")
        self.board = board

    def turn(self, detents, rate_hz, at_us=None, bounce_us=0, seed=1):
        """Turn `detents` (positive clockwise) at `rate_hz` detents per second, starting
        at emulated time `at_us` (default: 1 ms from now). Returns [(last edge µs, +1|-1)]
        per detent: the first edge of its last transition, where the count may first
        complete it (bounce after that can only take it back for a moment). Every edge
        is scheduled on the emulator's loop in one go."""
        return self.board.call(self._turn, detents, rate_hz, at_us, bounce_us, seed)

    def _turn(self, detents, rate_hz, at_us, bounce_us, seed):
        b = self.board
        t0 = b.now_us + 1000.0 if at_us is None else at_us
        period = 1e6 / rate_hz
        step = 1 if detents > 0 else -1
        seq = _CW if step > 0 else _CCW
        rng = random.Random(seed)
        out = []
        for i in range(abs(detents)):
            base = t0 + i * period
            last = base
            for k, (ca, cb) in enumerate(seq):
                t = base + k * period / 4
                if ca != self.a.closed:
                    self.a.schedule(t, ca, bounce_us, rng)
                    last = t
                if cb != self.b.closed:
                    self.b.schedule(t, cb, bounce_us, rng)
                    last = t
            out.append((last, step))
        return out
