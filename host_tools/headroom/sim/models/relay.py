"""A relay: coil on a GPIO (through a driver, with the board's polarity), contacts
that follow after the operate or release time. Without the board's rails (after the
supply's hold-up) the coil is off. `stick(position)` (a fault): the contacts stay there
(True energized, False released) whatever the coil does; `stick(None)` frees them.
"""
from ..part import Part


class Relay(Part):
    chip = "relay"

    @classmethod
    def invariants_view(cls, checker, t, name, state):
        checker.relay_state(t, name[6:], state["energized"])

    @classmethod
    def timeline_line(cls, name, state, fields):
        return "%-14s contacts %s" % (name.replace(".", " "),
                                      "energized" if state["energized"] else "released")

    def __init__(self, sim, name, gpio, active_high, operate_ms, release_ms):
        self.sim = sim
        self.name = name
        self.gpio = gpio
        self.active = 1 if active_high else 0
        self.operate_us = operate_ms * 1000
        self.release_us = release_ms * 1000
        self.coil = False
        self.energized = False   # contact position
        self.moves = 0
        self.stuck = None
        self._event = None
        self.listeners = []
        # The driver's input resistor holds the coil off while the MCU is not driving it.
        sim.gpio[gpio].board_pull = 1 - self.active

    def attach(self):
        self.sim.gpio[self.gpio].listeners.append(self._on_pin)
        self.sim.on_power.append(self._on_power)
        self._report()

    def stick(self, position):
        self.stuck = position
        if position is not None and position != self.energized:
            self._move(position)
        elif position is None:
            self.coil = not self.coil  # let the coil's level be looked at afresh
            self._on_pin(self.sim.gpio[self.gpio])

    def _on_power(self, on):
        self._on_pin(self.sim.gpio[self.gpio])

    def _on_pin(self, g):
        coil = self.sim.rails_on and g.level == self.active
        if coil == self.coil:
            return
        if self.stuck is not None:
            self.coil = coil
            return
        self.coil = coil
        if self._event is not None:
            self._event.cancel()
            self._event = None
        if coil != self.energized:
            self._event = self.sim.clock.after(self.operate_us if coil else self.release_us,
                                               self._move, coil)

    def _move(self, to):
        self._event = None
        self.energized = to
        self.moves += 1
        self._report()
        for fn in self.listeners:
            fn()

    def snapshot(self):
        return {"energized": self.energized}

    def restore(self, s):
        """The contacts where they were (a soft reset in another process: nothing moved)."""
        if self._event is not None:
            self._event.cancel()
            self._event = None
        self.energized = bool(s["energized"])
        self.coil = self.sim.rails_on and self.sim.gpio[self.gpio].level == self.active
        if self.coil != self.energized:
            self._event = self.sim.clock.after(
                self.operate_us if self.coil else self.release_us, self._move, self.coil)
        self._report()

    def _report(self):
        self.sim.emit("chip", [("chip", "relay." + self.name), ("state", [("energized", self.energized)])])
