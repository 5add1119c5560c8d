"""The PIO blocks' instruction memory, shared by both PIO engines (CPython's on
rp2040-pio-emulator, the virtual board's in the MicroPython subset)."""


class ProgramSlots:
    """Which programs each PIO holds: 32 instruction slots per block."""

    def __init__(self, sim):
        self.sim = sim
        self.programs = {0: [], 1: []}

    def add_program(self, pio, program):
        used = 0
        for p in self.programs[pio]:
            used += len(p[0])
        if used + len(program[0]) > 32:
            raise OSError(12)  # ENOMEM: no room in the PIO's 32 instruction slots
        if program not in self.programs[pio]:
            self.programs[pio].append(program)

    def remove_program(self, pio, program=None):
        if program is None:
            self.programs[pio] = []
        elif program in self.programs[pio]:
            self.programs[pio].remove(program)

    def load(self, pio, program):
        """Load (if needed) for a state machine; returns its instruction words."""
        if program not in self.programs[pio]:
            self.add_program(pio, program)
        words = list(program[0])
        if len(self.programs[pio]) > 1 or len(words) != 32:
            # The SDK loads a program at the highest free offset; only a 32-word program
            # is sure to sit at 0, which computed jumps (mov pc, ...) assume.
            for w in words:
                if (w & 0xE0E0) == 0xA0A0:
                    self.sim.fault("PIO program with mov(pc, ...) may not load at offset 0")
        return words
