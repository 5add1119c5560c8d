"""The knob's interface, one for both decoders (encoder.Encoder: table decoder in hard
IRQs; pio_encoder.PIOEncoder: a PIO state machine counts, the IRQs time the detents).

The main loop sees only this: take() returns the detents turned since the last call
(positive clockwise) and leaves their accelerated 0.5 dB steps in `steps`, the time of
the last one in `last_ms`; new_gesture() when what the knob sets changes (the next
detents start slow); expire(now_ms) ends a gesture still for a second; and for
`status`, `bounces`, `skips` (None where the decoder cannot see them) and `refused`.
A decoder keeps the counts its IRQ makes and hands them over in `_take()`, which runs
with interrupts off. Nothing here allocates: an int, not a tuple, comes back.
"""
import machine


class Knob:
    def __init__(self, accel):
        self.accel = accel  # quadrature.Acceleration: turns detents into steps in the IRQ
        self.steps = 0      # the accelerated 0.5 dB steps of the detents take() returned
        self.last_ms = 0    # ticks_ms() of the last of them

    def _take(self):
        """The detents counted since the last call, with `steps` and `last_ms` set and the
        counts zeroed (interrupts are off)."""
        raise NotImplementedError

    def take(self):
        """Detents turned since the last call (positive = clockwise); their accelerated
        0.5 dB steps are then in `steps`, the time of the last in `last_ms`."""
        st = machine.disable_irq()
        d = self._take()
        machine.enable_irq(st)
        return d

    def new_gesture(self):
        """What the knob sets changed (volume, balance): the next detents start slow."""
        st = machine.disable_irq()
        self.accel.reset()
        machine.enable_irq(st)

    def expire(self, now_ms):
        """End the knob's gesture once it has been still for a second (main loop)."""
        st = machine.disable_irq()
        self.accel.expire(now_ms)
        machine.enable_irq(st)

    @property
    def refused(self):
        """Clockwise detents refused as bounce (quadrature.Acceleration.admit)."""
        return self.accel.refused
