"""A GPIO net of the simulated board, and the faults a simulated part raises.

A net's level comes from, in order: the MCU driving it as an output, external parts
driving it (a closed contact to ground, a comparator), a resistor on the board, the
MCU's own pull. A net nothing defines floats, and reading a floating input is a fault,
as is an output fighting an external driver.
"""

IN = 0
OUT = 1
OPEN_DRAIN = 2
PULL_UP = 1
PULL_DOWN = 2
IRQ_FALLING = 4
IRQ_RISING = 8

N_GPIO = 30


class SimFault(BaseException):
    """Misuse of a simulated part. BaseException: firmware `except Exception` cannot hide it."""


class PowerLost(BaseException):
    """Raised out of firmware code when the MCU loses power or resets."""


class Gpio:
    def __init__(self, sim, n):
        self.sim = sim
        self.n = n
        self.reset()
        self.drivers = {}      # external source name -> level
        self.board_pull = None  # resistor on the board: 0, 1 or None
        self.listeners = []    # fn(gpio) called when the level changes
        self.level = None
        # A gate on the board between the pin and its chip (a hardware mute path): while
        # `gate` is not None the chip sees that level, whatever the MCU drives.
        self.gate = None
        self.gate_watch = None  # fn(gpio, level before the gate) on every update

    def _hard_irq_raised(self, e):
        self.sim._irq_raised(self, e)

    def reset(self):
        """MCU reset: input, no pull, no IRQ."""
        self.mode = IN
        self.out = 0
        self.pull = None
        self.handler = None
        self.handle = None     # what the handler is given: the Pin that registered it
        self.trigger = 0
        self.hard = False

    def mcu_drives(self):
        return self.mode == OUT or (self.mode == OPEN_DRAIN and self.out == 0)

    def resolve(self):
        ext = None
        for src in self.drivers:
            lv = self.drivers[src]
            if ext is not None and lv != ext:
                self.sim.fault("GP%d: external drivers disagree" % self.n)
            ext = lv
        if self.mcu_drives():
            if ext is not None and ext != self.out:
                self.sim.fault("GP%d: MCU output %d fights an external %d (short circuit)"
                               % (self.n, self.out, ext))
            return self.out
        if ext is not None:
            return ext
        if self.board_pull is not None:
            return self.board_pull
        if self.pull == PULL_UP and self.sim.mcu_powered:
            return 1
        if self.pull == PULL_DOWN and self.sim.mcu_powered:
            return 0
        return None

    def update(self):
        old = self.level
        new = self.resolve()
        if self.gate_watch is not None:
            self.gate_watch(self, new)
        if self.gate is not None:
            new = self.gate
        if new == old:
            return
        self.level = new
        for fn in self.listeners:
            fn(self)
        if self.handler is not None and old is not None and new is not None:
            edge = IRQ_RISING if new else IRQ_FALLING
            if self.trigger & edge:
                self.sim.irq(self)

    def drive(self, source, level):
        """An external part drives the net (level None: lets go)."""
        if level is None:
            self.drivers.pop(source, None)
        else:
            self.drivers[source] = level
        self.update()

    def read(self):
        lv = self.level
        if lv is None:
            self.sim.fault("GP%d read while floating (no pull-up or driver)" % self.n)
            return 0
        return lv
