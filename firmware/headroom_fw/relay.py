"""A relay coil driven from a pin, with the board's polarity."""


class Relay:
    def __init__(self, pin, active_high):
        self.pin = pin
        self._on_level = 1 if active_high else 0
        self.on = False
        pin.init(pin.OUT, value=1 - self._on_level)

    def set(self, on):
        """Energize (True) or release the coil; safe in a hard IRQ."""
        self.on = on
        self.pin.value(self._on_level if on else 1 - self._on_level)
