"""The PIO engine interface: what the rp2 shim drives (`sim.peripherals["pio"]`) and
what both engines share - CPython's on rp2040-pio-emulator (sim/pio.py) and the
virtual board's own interpreter in the MicroPython subset (vboard/pio_mp.py).

The shim calls add_program, remove_program, init, active, restart, put, get, rx_fifo,
tx_fifo and exec with a state machine's id (0-7: PIO0's four, then PIO1's). Shared
here: the PIO blocks' 32 instruction slots, a state machine's configuration from the
assembled program (wrap, shift directions, autopush/pull and their thresholds, pins),
and the scheduling: a state machine runs `CYCLES_PER_EVENT` cycles when one of the
pins its program can read changes (`_run`, the engine's own), when it is started and
when the firmware reads its FIFO.
"""

CYCLES_PER_EVENT = 24
_MASK = 0xFFFFFFFF


def pin_mask(words):
    """The input bits a program can see: `in pins, n` reads n, `mov ..., pins` and `wait` all 32."""
    bits = 0
    for w in words:
        op = w >> 13
        if op == 2 and (w >> 5) & 7 == 0:  # in pins, n
            n = w & 0x1F or 32
            bits |= (1 << n) - 1
        elif op == 1 or (op == 5 and w & 7 == 0) or (op == 0 and (w >> 5) & 7 == 6):
            return _MASK  # wait, mov from pins, jmp pin: be safe
    return bits


def pin_id(p):
    return p if isinstance(p, int) else p.id


class PIOEngineBase:
    """Programs, configuration and pin watching; an engine adds init (its state machine
    state), restart, put, get, rx_fifo, tx_fifo, exec and _run(sm, force)."""

    def __init__(self, sim, sms):
        self.sim = sim
        self.sms = sms
        self.programs = {0: [], 1: []}   # which programs each PIO holds
        self._listening = []

    # ---- the PIO blocks' instruction memory: 32 slots each
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

    # ---- configuration
    def configure(self, sid, program, in_base, jmp_pin, in_shiftdir, out_shiftdir, push_thresh,
                  pull_thresh):
        """StateMachine.init's settings on state machine `sid`, its program loaded; the
        pins its program can read watched. Returns the state machine."""
        sm = self.sms[sid]
        words = self.load(sid >> 2, program)
        execctrl, shiftctrl = program[3], program[4]
        sm.program = words
        sm.wrap_target = (execctrl >> 7) & 0x1F
        sm.wrap_top = (execctrl >> 12) & 0x1F
        sm.in_shift_right = bool(shiftctrl >> 18 & 1) if in_shiftdir is None else bool(in_shiftdir)
        sm.out_shift_right = bool(shiftctrl >> 19 & 1) if out_shiftdir is None else bool(out_shiftdir)
        sm.autopush = bool(shiftctrl >> 16 & 1)
        sm.autopull = bool(shiftctrl >> 17 & 1)
        sm.push_thresh = (push_thresh if push_thresh is not None else (shiftctrl >> 20 & 0x1F)) or 32
        sm.pull_thresh = (pull_thresh if pull_thresh is not None else (shiftctrl >> 25 & 0x1F)) or 32
        sm.in_base = pin_id(in_base) if in_base is not None else 0
        sm.jmp_pin = pin_id(jmp_pin) if jmp_pin is not None else 0
        sm.mask = pin_mask(words)
        # Watch exactly the pins the program can read.
        n_gpio = len(self.sim.gpio)
        sm.watch = tuple(n for n in ((sm.in_base + i) % 32 for i in range(32) if sm.mask >> i & 1)
                         if n < n_gpio)
        for n in sm.watch:
            if n not in self._listening:
                self._listening.append(n)
                self.sim.gpio[n].listeners.append(self._on_pin)
        return sm

    # ---- running
    def active(self, sid, value=None):
        sm = self.sms[sid]
        if value is None:
            return sm.active
        sm.active = bool(value)
        if sm.active:
            self._run(sm)
        return sm.active

    def _on_pin(self, g):
        for sm in self.sms:
            if sm.active and g.n in sm.watch:
                self._run(sm)

    def _run(self, sm, force=False):
        raise NotImplementedError
