"""Drop-in `rp2` for the simulated RP2040: the PIO assembler, PIO and StateMachine.

`asm_pio` assembles the same 16-bit instruction words and returns the same
program list as MicroPython's rp2 module ([words, -1, -1, execctrl, shiftctrl,
out_init, set_init, sideset_init]); tests check the words against
adafruit-circuitpython-pioasm. State machines run on rp2040-pio-emulator
(CPython only), driven by the simulated pins: see headroom.sim.pio.
"""
from array import array

from headroom.sim.shims.shimbase import busy as _busy
from headroom.sim.shims.shimbase import running_sim as _running


class PIOASMError(Exception):
    pass


class PIO:
    IN_LOW = 0
    IN_HIGH = 1
    OUT_LOW = 2
    OUT_HIGH = 3
    SHIFT_LEFT = 0
    SHIFT_RIGHT = 1
    JOIN_NONE = 0
    JOIN_TX = 1
    JOIN_RX = 2
    IRQ_SM0 = 256
    IRQ_SM1 = 512
    IRQ_SM2 = 1024
    IRQ_SM3 = 2048

    def __init__(self, id):
        if id not in (0, 1):
            raise ValueError("invalid PIO %s" % (id,))
        self.id = id
        self._s = _running()      # the board it was made on

    def state_machine(self, id, program=None, **kwargs):
        return StateMachine(self.id * 4 + id, program, **kwargs)

    def add_program(self, program):
        _engine(self._s).add_program(self.id, program)

    def remove_program(self, program=None):
        _engine(self._s).remove_program(self.id, program)

    def irq(self, handler=None, trigger=0xF00, hard=False):
        raise NotImplementedError("PIO.irq is not simulated")


class _Emit:
    """Two passes over the program function: the first finds labels, the second emits."""

    def __init__(self, out_init=None, set_init=None, sideset_init=None, side_pindir=False,
                 in_shiftdir=0, out_shiftdir=0, autopush=False, autopull=False, push_thresh=32,
                 pull_thresh=32, fifo_join=0):
        shiftctrl = ((fifo_join << 30) | ((pull_thresh & 0x1F) << 25) | ((push_thresh & 0x1F) << 20)
                     | (out_shiftdir << 19) | (in_shiftdir << 18) | (int(autopull) << 17)
                     | (int(autopush) << 16))
        self.prog = [array("H"), -1, -1, int(side_pindir) << 29, shiftctrl, out_init, set_init,
                     sideset_init]
        self.labels = {}
        self.wrap_set = False
        if sideset_init is None:
            self.sideset_bits = 0
        elif isinstance(sideset_init, int):
            self.sideset_bits = 1
        else:
            self.sideset_bits = len(sideset_init)

    def begin(self, second):
        if second:
            if not self.wrap_set and self.count:
                self.wrap()
            self.delay_max = 31
            self.sideset_opt = False
            if self.sideset_bits:
                # Side-set on only some instructions costs an enable bit.
                self.sideset_opt = self.sides != self.count
                if self.sideset_opt:
                    self.prog[3] |= 1 << 30
                    self.sideset_bits += 1
                self.delay_max >>= self.sideset_bits
        self.second = second
        self.count = 0
        self.sides = 0

    # -- modifiers: instr[n] for a delay, instr.side(v) for side-set
    def __getitem__(self, cycles):
        if self.second:
            if cycles > self.delay_max:
                raise PIOASMError("delay too large")
            self.prog[0][-1] |= cycles << 8
        return self

    def delay(self, cycles):
        return self[cycles]

    def side(self, value):
        self.sides += 1
        if self.second:
            if not self.sideset_bits:
                raise PIOASMError("no sideset")
            if value >= 1 << self.sideset_bits:
                raise PIOASMError("sideset too large")
            self.prog[0][-1] |= (int(self.sideset_opt) << 12) | (value << (13 - self.sideset_bits))
        return self

    # -- directives
    def wrap_target(self):
        self.prog[3] |= self.count << 7

    def wrap(self):
        if not self.count:
            raise PIOASMError("wrap before any instruction")
        self.prog[3] |= (self.count - 1) << 12
        self.wrap_set = True

    def label(self, name):
        if not self.second:
            if name in self.labels:
                raise PIOASMError("duplicate label %s" % name)
            self.labels[name] = self.count

    # -- instructions
    def word(self, instr, label=None):
        self.count += 1
        if self.second:
            target = 0
            if label is not None:
                if label not in self.labels:
                    raise PIOASMError("unknown label %s" % label)
                target = self.labels[label]
            self.prog[0].append(instr | target)
        return self

    def nop(self):
        return self.word(0xA042)  # mov y, y

    def jmp(self, cond, label=None):
        if label is None:
            cond, label = 0, cond
        return self.word(cond << 5, label)

    def wait(self, polarity, src, index):
        src = 1 if src == 6 else (0 if src == 0 else 2)  # gpio 0, pin 1, irq 2
        return self.word(0x2000 | (polarity << 7) | (src << 5) | index)

    def in_(self, src, bits):
        if not 0 < bits <= 32:
            raise PIOASMError("invalid bit count %s" % bits)
        return self.word(0x4000 | (src << 5) | (bits & 0x1F))

    def out(self, dest, bits):
        if dest == 8:
            dest = 7  # exec
        if not 0 < bits <= 32:
            raise PIOASMError("invalid bit count %s" % bits)
        return self.word(0x6000 | (dest << 5) | (bits & 0x1F))

    def push(self, a=0, b=0):
        v = a | b
        if not v & 1:
            v |= 0x20  # blocking unless noblock
        return self.word(0x8000 | (v & 0x60))

    def pull(self, a=0, b=0):
        v = a | b
        if not v & 1:
            v |= 0x20
        return self.word(0x8080 | (v & 0x60))

    def mov(self, dest, src):
        if dest == 8:
            dest = 4  # exec
        return self.word(0xA000 | (dest << 5) | src)

    def irq(self, mod, index=None):
        if index is None:
            mod, index = 0, mod
        return self.word(0xC000 | (mod & 0x60) | index)

    def set(self, dest, value):
        return self.word(0xE000 | (dest << 5) | value)


# Names a PIO program function sees while it is assembled.
_CONSTANTS = {
    "gpio": 0, "pins": 0, "x": 1, "y": 2, "null": 3, "pindirs": 4, "pc": 5, "status": 5,
    "isr": 6, "osr": 7, "exec": 8,
    "invert": lambda v: v | 0x08, "reverse": lambda v: v | 0x10,
    "not_x": 1, "x_dec": 2, "not_y": 3, "y_dec": 4, "x_not_y": 5, "pin": 6, "not_osre": 7,
    "noblock": 0x01, "block": 0x21, "iffull": 0x40, "ifempty": 0x40, "clear": 0x40,
    "rel": lambda v: v | 0x10,
}
_METHODS = ("wrap_target", "wrap", "label", "word", "nop", "jmp", "wait", "in_", "out", "push",
            "pull", "mov", "irq", "set")


def asm_pio(**kw):
    """Decorator: assemble the decorated function's PIO program (MicroPython's rp2.asm_pio)."""
    emit = _Emit(**kw)

    def assemble(f):
        g = f.__globals__
        saved = dict(g)
        g.clear()
        g.update(_CONSTANTS)
        for name in _METHODS:
            g[name] = getattr(emit, name)
        try:
            emit.begin(False)
            f()
            emit.begin(True)
            f()
        finally:
            g.clear()
            g.update(saved)
        return emit.prog

    return assemble


def asm_pio_encode(instr, sideset_count, sideset_opt=False):
    """One instruction from its source text, e.g. asm_pio_encode("mov(x, osr)", 0)."""
    emit = _Emit()
    emit.sideset_bits = sideset_count
    emit.sideset_opt = bool(sideset_opt)
    emit.delay_max = 31 >> (sideset_count + int(bool(sideset_opt)))
    emit.second = True
    emit.count = 0
    emit.sides = 0
    g = dict(_CONSTANTS)
    for name in _METHODS:
        g[name] = getattr(emit, name)
    g["jmp"] = None  # as on the board: no labels here
    exec(instr, g)
    if len(emit.prog[0]) != 1:
        raise PIOASMError("expecting exactly 1 instruction")
    return emit.prog[0][0]


def _engine(s):
    """Board `s`'s PIO blocks (made on first use); the call costs the firmware time."""
    _busy(s)
    pio = s.peripherals.get("pio")
    if pio is None:
        from headroom.sim.pio import PIOEngine  # CPython only: uses rp2040-pio-emulator
        pio = s.peripherals["pio"] = PIOEngine(s)
    return pio


_SMALL_MIN = -(1 << 30)     # rp2's small ints are 31 bits (the Unix port's VM: 63)
_SMALL_END = 1 << 30


def _small(s, v, what):
    """In a hard IRQ, a value outside rp2's small-int range would be a long int: an
    allocation, MemoryError with the heap locked. The 64-bit VM cannot show it; this does."""
    if s.in_irq and not _SMALL_MIN <= v < _SMALL_END:
        s.fault("%s returned %d (0x%x) in a hard IRQ: on rp2 ints from 2**30 up are long "
                "ints and allocate (MemoryError); shift or mask the value first"
                % (what, v, v & 0xFFFFFFFF))
    return v


class StateMachine:
    def __init__(self, id, program=None, freq=-1, *, in_base=None, out_base=None, set_base=None,
                 jmp_pin=None, sideset_base=None, in_shiftdir=None, out_shiftdir=None,
                 push_thresh=None, pull_thresh=None):
        if not 0 <= id <= 7:
            raise ValueError("invalid StateMachine %s" % (id,))
        self.id = id
        self._s = _running()
        if program is not None:
            self.init(program, freq, in_base=in_base, out_base=out_base, set_base=set_base,
                      jmp_pin=jmp_pin, sideset_base=sideset_base, in_shiftdir=in_shiftdir,
                      out_shiftdir=out_shiftdir, push_thresh=push_thresh, pull_thresh=pull_thresh)

    def init(self, program, freq=-1, *, in_base=None, out_base=None, set_base=None, jmp_pin=None,
             sideset_base=None, in_shiftdir=None, out_shiftdir=None, push_thresh=None,
             pull_thresh=None):
        _engine(self._s).init(self.id, program, freq, in_base=in_base, out_base=out_base,
                       set_base=set_base, jmp_pin=jmp_pin, sideset_base=sideset_base,
                       in_shiftdir=in_shiftdir, out_shiftdir=out_shiftdir,
                       push_thresh=push_thresh, pull_thresh=pull_thresh)

    def active(self, value=None):
        return _engine(self._s).active(self.id, value)

    def restart(self):
        _engine(self._s).restart(self.id)

    def exec(self, instr):
        if isinstance(instr, str):
            instr = asm_pio_encode(instr, 0)
        _engine(self._s).exec(self.id, instr)

    def get(self, buf=None, shift=0):
        if buf is not None:
            pio = _engine(self._s)   # one call, as on rp2: its C loop waits for each word
            for i in range(len(buf)):
                buf[i] = _small(self._s, pio.get(self.id) >> shift, "StateMachine.get(buf)")
            return buf
        return _small(self._s, _engine(self._s).get(self.id) >> shift, "StateMachine.get()")

    def put(self, value, shift=0):
        if isinstance(value, int):
            _engine(self._s).put(self.id, (value << shift) & 0xFFFFFFFF)
        else:
            for v in value:
                _engine(self._s).put(self.id, (v << shift) & 0xFFFFFFFF)

    def rx_fifo(self):
        return _engine(self._s).rx_fifo(self.id)

    def tx_fifo(self):
        return _engine(self._s).tx_fifo(self.id)

    def irq(self, handler=None, trigger=0 | 1, hard=False):
        raise NotImplementedError("StateMachine.irq is not simulated")


def bootsel_button():
    return 0
