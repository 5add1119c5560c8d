"""The front panel: rotary encoder with push switch, toggle switches, supply sense.

Every switch is a contact from a GPIO to ground (closed reads 0 through the
MCU's pull-up). Contacts bounce: each change can chatter for a given time
before it settles, with a seeded generator so a run is repeatable.
"""
from ..part import Part


class Rng:
    """xorshift32: the same numbers on every VM."""

    def __init__(self, seed):
        self.s = (seed & 0xFFFFFFFF) or 1

    def next(self):
        s = self.s
        s ^= (s << 13) & 0xFFFFFFFF
        s ^= s >> 17
        s ^= (s << 5) & 0xFFFFFFFF
        self.s = s
        return s

    def below(self, n):
        return self.next() % n if n > 0 else 0


class Contact:
    def __init__(self, sim, gpio, name, rng):
        self.sim = sim
        self.gpio = gpio
        self.name = name
        self.rng = rng
        self.closed = False
        self.target = False
        self._events = []

    def _set(self, closed):
        self.closed = closed
        self.sim.gpio[self.gpio].drive(self.name, 0 if closed else None)

    def change(self, t_us, closed, bounce_us=0):
        """Schedule the contact to end up `closed` at t_us, chattering for up to bounce_us.

        A new change supersedes what is left of an earlier one's chatter: the
        contact cannot still be bouncing from a movement it has since undone.
        """
        for ev in self._events:
            if ev.t_us >= t_us:
                ev.cancel()
        clock = self.sim.clock
        self._events = [ev for ev in self._events if not ev.cancelled and ev.t_us >= clock.now_us]
        self.target = closed
        self._events.append(clock.at(t_us, self._set_event, closed))
        if bounce_us > 0:
            n = 1 + self.rng.below(3)  # 1..3 bounces, each a quick open and re-close
            times = sorted(t_us + 1 + self.rng.below(bounce_us) for _ in range(2 * n))
            state = closed
            for t in times:
                state = not state
                self._events.append(clock.at(t, self._set_event, state))

    def _set_event(self, closed):
        self._set(closed)


# Contact states along one clockwise turn, as A << 1 | B with 1 = open (pulled up):
# A closes first, then B, then A opens, then B. The detent rests at 11.
GRAY = (3, 1, 0, 2)


class RotaryEncoder(Part):
    def __init__(self, sim, a, b, edges_per_detent, rng):
        self.sim = sim
        self.epd = edges_per_detent
        self.a = Contact(sim, a, "encoder.a", rng)
        self.b = Contact(sim, b, "encoder.b", rng)
        self.phase = 0
        self.turned = 0
        self._queue = []     # turns to start at set times, after the one in progress
        self._busy_until = None

    def turn(self, detents, rate_mhz, bounce_us=0, at_us=None):
        """Turn by `detents` at rate_mhz/1000 detents per second, from now (or from clock time
        `at_us`); returns the duration in us.

        Each transition schedules the next, so a long turn holds one pending edge
        (and its bounce), not thousands: the simulator fits a Pico-sized heap.
        """
        n = abs(detents) * self.epd
        period_us = 1000000000 // rate_mhz
        step_us = period_us // self.epd
        t0 = self.sim.clock.now_us if at_us is None else at_us
        if n:
            turn = (1 if detents > 0 else -1, n, step_us, bounce_us, t0)
            if at_us is not None and self._busy_until is not None:
                self._queue.append(turn)   # starts on time once the turn before it is done
            else:
                self._start(turn)
        self.turned += detents
        return abs(detents) * period_us

    def _start(self, turn):
        self._turn = turn
        self._busy_until = turn[4] + turn[1] * turn[2]
        self.sim.clock.at(turn[4] + turn[2] // 2, self._edge, 0)

    def _edge(self, k):
        direction, n, step_us, bounce_us, t0 = self._turn
        old = GRAY[self.phase]
        self.phase = (self.phase + direction) % 4
        new = GRAY[self.phase]
        t = self.sim.clock.now_us
        if (old ^ new) & 2:
            self.a.change(t, not (new & 2), bounce_us)
        else:
            self.b.change(t, not (new & 1), bounce_us)
        if k + 1 < n:
            self.sim.clock.at(t0 + (k + 1) * step_us + step_us // 2, self._edge, k + 1)
        elif self._queue:
            self._start(self._queue.pop(0))
        else:
            self._busy_until = None


class Switch(Part):
    """A toggle or push switch to ground."""

    def __init__(self, sim, gpio, name, rng):
        self.sim = sim
        self.contact = Contact(sim, gpio, name, rng)

    def set(self, closed, bounce_us=0, t_us=None):
        t = self.sim.clock.now_us if t_us is None else t_us
        if closed != self.contact.target:
            self.contact.change(t, closed, bounce_us)


class ThreePositionSwitch(Part):
    """An ON-OFF-ON toggle, common to ground: the `low` throw closed at one end, `high` at
    the other, neither in the middle (`auto`). From one end to the other the lever passes
    the middle: the closed throw opens first and the other closes `TRAVEL_US` later."""

    TRAVEL_US = 8000   # a toggle's lever across its centre: a few ms

    def __init__(self, sim, pins, name, rng):
        self.sim = sim
        self.contacts = (Contact(sim, pins[0], name + ".low", rng),
                         Contact(sim, pins[1], name + ".high", rng))

    @property
    def position(self):
        """Where the lever is going: low, high or auto."""
        low, high = (c.target for c in self.contacts)
        return "low" if low else "high" if high else "auto"

    def set(self, pos, bounce_us=0, t_us=None):
        if pos not in ("low", "high", "auto"):
            raise ValueError("a three-position gain switch is low, high or auto, not %r" % (pos,))
        t = self.sim.clock.now_us if t_us is None else t_us
        want = (pos == "low", pos == "high")
        opened = False
        for c, w in zip(self.contacts, want):
            if c.target and not w:
                c.change(t, False, bounce_us)
                opened = True
        for c, w in zip(self.contacts, want):
            if w and not c.target:
                c.change(t + (self.TRAVEL_US if opened else 0), True, bounce_us)


class PowerSense(Part):
    """A supply monitor: its output is high while the supply is good, and falls at once when
    it fails. `stuck_low` (a fault): it reads low whatever the supply does."""

    def __init__(self, sim, gpio, holdup_ms):
        self.sim = sim
        self.gpio = gpio
        self.stuck_low = False
        self.holdup_us = holdup_ms * 1000

    def attach(self):
        self.sim.holdup_us = self.holdup_us
        self.sim.on_supply.append(self._on_power)

    def _on_power(self, on):
        self.sim.gpio[self.gpio].drive("power_sense", 1 if on and not self.stuck_low else 0)

    def stick(self, low):
        self.stuck_low = low
        self._on_power(self.sim.supply_on)


class HardwareMute(Part):
    """The board's hardware mute path (power_sense.hardware_mute): a latch set when the
    supply monitor's output falls gates the DAC's XSMT low at once, and the PGA2311's
    MUTE and the mute relay's driver to their quiet levels `delay_ms` later (an RC delay:
    the DAC's soft-mute ramp first, as the firmware does it). The MCU clears the latch by
    driving MUTE low (muted) while the supply is good; until then the chips see the quiet
    levels whatever the MCU drives, so a supply-fail IRQ held off by a flash erase cannot
    leave the output live. Trace: `hardware_mute` {"latched": bool, "stage": "xsmt" |
    "pga_relay" | "released"}."""

    def __init__(self, sim, mute_pin, relay_pin, relay_quiet, xsmt_pin, delay_ms):
        self.sim = sim
        self.first = [(xsmt_pin, 0)] if xsmt_pin is not None else []
        self.second = [(mute_pin, 0), (relay_pin, relay_quiet)]
        self.mute_pin = mute_pin
        self.delay_us = delay_ms * 1000
        self.latched = False
        self._pending = None

    def attach(self):
        self.sim.gpio[self.mute_pin].gate_watch = self._watch
        self.sim.on_supply.append(self._on_supply)

    def _gate(self, pins, stage):
        for n, lv in pins:
            self.sim.gpio[n].gate = lv
        for n, _ in pins:
            self.sim.gpio[n].update()
        self.sim.emit("hardware_mute", [("latched", self.latched), ("stage", stage)])

    def _on_supply(self, on):
        if on or self.latched:
            if on:
                self._watch(self.sim.gpio[self.mute_pin], self.sim.gpio[self.mute_pin].resolve())
            return
        self.latched = True
        if self.first:
            self._gate(self.first, "xsmt")
        if self.delay_us and self.first:
            self._pending = self.sim.clock.after(self.delay_us, self._second)
        else:
            self._second()

    def _second(self, _=None):
        self._pending = None
        if self.latched:
            self._gate(self.second, "pga_relay")

    def _watch(self, g, raw):
        # the latch clears once the supply is good and the MCU (or MUTE's pull-down) holds
        # MUTE low: the firmware has muted, so opening the gates changes nothing audible
        if not self.latched or not self.sim.supply_on or raw != 0:
            return
        self.latched = False
        if self._pending is not None:
            self._pending.cancel()
            self._pending = None
        pins = self.first + self.second
        for n, _ in pins:
            self.sim.gpio[n].gate = None
        for n, _ in pins:
            if n != g.n:
                self.sim.gpio[n].update()
        self.sim.emit("hardware_mute", [("latched", False), ("stage", "released")])
