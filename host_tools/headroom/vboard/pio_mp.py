"""PIO state machines for the virtual board: a small PIO interpreter that runs on MicroPython.

The simulator's own engine (headroom.sim.pio) runs programs on rp2040-pio-emulator,
which needs CPython. The virtual board runs the firmware on the MicroPython VM, so
it puts this engine in `sim.peripherals["pio"]` before the firmware starts (the rp2 shim uses
whatever engine the board has). Same interface and the same scheduling as
headroom.sim.pio: a state machine runs CYCLES_PER_EVENT cycles when one of its input
pins changes, when it is started, and when the firmware reads its FIFO, stopping at
the first `in pins` after the budget. tests/test_vboard.py checks it counts the same
as the emulator-backed engine.

Instruction set: every instruction (RP2040 datasheet, 3.4), delays, side-set and
delay field widths, wrap, autopush/autopull, FIFO joins, IRQ flags. Pins are read
(`in pins`, `wait gpio/pin`, `jmp pin`, `mov x, pins`); writes to pins, pindirs and
side-set pins are not modelled (the firmware's PIO programs only read pins).
"""
from headroom.sim.pioengine import CYCLES_PER_EVENT, PIOEngineBase

_MASK = 0xFFFFFFFF
_IN_PINS = 0x4000  # `in pins, n` opcodes: 0x4000 | n


def _rev32(v):
    r = 0
    for _ in range(32):
        r = (r << 1) | (v & 1)
        v >>= 1
    return r


class _SM:
    def __init__(self, sid):
        self.id = sid
        self.program = None
        self.active = False
        self.watch = ()
        self.cycles = 0
        self.sample_gaps = {}
        self.reset_state(0)

    def reset_state(self, pc):
        self.pc = pc
        self.x = 0
        self.y = 0
        self.isr = 0
        self.isr_count = 0
        self.osr = 0
        self.osr_count = 32  # empty
        self.rx = []
        self.tx = []
        self.clock = 0
        self.delay = 0


class PIOEngine(PIOEngineBase):
    """Drop-in for headroom.sim.pio.PIOEngine, in the Python subset MicroPython runs."""

    def __init__(self, sim):
        PIOEngineBase.__init__(self, sim, [_SM(i) for i in range(8)])
        self.irq_flags = [0, 0]

    # ---- programs and configuration
    def init(self, sid, program, freq, in_base=None, out_base=None, set_base=None, jmp_pin=None,
             sideset_base=None, in_shiftdir=None, out_shiftdir=None, push_thresh=None,
             pull_thresh=None):
        sm = self.configure(sid, program, in_base, jmp_pin, in_shiftdir, out_shiftdir,
                            push_thresh, pull_thresh)
        words = sm.program
        execctrl, shiftctrl = program[3], program[4]
        if sm.wrap_top == 0 and sm.wrap_target == 0:
            sm.wrap_top = len(words) - 1
        side_opt = (execctrl >> 30) & 1
        side_init = program[7] if len(program) > 7 else None
        if side_init is None:
            side_count = 0
        elif isinstance(side_init, (tuple, list)):
            side_count = len(side_init)
        else:
            side_count = 1
        sm.side_bits = side_count + side_opt
        sm.delay_mask = (1 << (5 - sm.side_bits)) - 1
        join_tx = shiftctrl >> 30 & 1
        join_rx = shiftctrl >> 31 & 1
        sm.rx_depth = 8 if join_rx else (0 if join_tx else 4)
        sm.tx_depth = 8 if join_tx else (0 if join_rx else 4)
        sm.reset_state(sm.wrap_target)

    def restart(self, sid):
        sm = self.sms[sid]
        rx, tx = sm.rx, sm.tx
        sm.reset_state(sm.wrap_target)
        sm.rx, sm.tx = rx, tx  # restart clears the internal state, not the FIFOs

    # ---- FIFOs and exec
    def put(self, sid, value):
        sm = self.sms[sid]
        if len(sm.tx) >= sm.tx_depth:
            self._run(sm)
            if len(sm.tx) >= sm.tx_depth:
                self.sim.fault("StateMachine(%d).put() would block forever: TX FIFO full" % sid)
        sm.tx.append(value & _MASK)

    def get(self, sid):
        sm = self.sms[sid]
        if not sm.rx:
            self._run(sm, True)
            if not sm.rx:
                self.sim.fault("StateMachine(%d).get() would block forever: nothing pushed" % sid)
        return sm.rx.pop(0)

    def rx_fifo(self, sid):
        sm = self.sms[sid]
        self._run(sm)
        return len(sm.rx)

    def tx_fifo(self, sid):
        return len(self.sms[sid].tx)

    def exec(self, sid, instr):
        """Run one instruction now, outside the program (StateMachine.exec)."""
        sm = self.sms[sid]
        pins = self._pins(sm)
        self._step(sm, instr & 0xFFFF, pins, True)

    # ---- running
    def _pins(self, sm):
        word = 0
        gpio = self.sim.gpio
        for n in range(min(32, len(gpio))):
            if gpio[n].level:
                word |= 1 << n
        return word

    def _run(self, sm, force=False):
        """Run CYCLES_PER_EVENT cycles with the pins as they are now, up to the next `in pins`."""
        if (not sm.active and not force) or sm.program is None:
            return
        pins = self._pins(sm)
        start = sm.clock
        target = start + CYCLES_PER_EVENT
        limit = target + 64
        prog = sm.program
        last_sample = None
        while sm.clock < limit:
            if sm.delay:
                sm.delay -= 1
                sm.clock += 1
                continue
            w = prog[sm.pc]
            if (w & 0xFFE0) == _IN_PINS:
                if sm.clock >= target:
                    break
                if last_sample is not None:
                    gap = sm.clock - last_sample
                    sm.sample_gaps[gap] = sm.sample_gaps.get(gap, 0) + 1
                last_sample = sm.clock
            self._step(sm, w, pins, False)
            sm.clock += 1
        sm.cycles += sm.clock - start

    def _source(self, sm, src, pins):
        if src == 0:
            b = sm.in_base
            return ((pins >> b) | (pins << (32 - b))) & _MASK
        if src == 1:
            return sm.x
        if src == 2:
            return sm.y
        if src == 3:
            return 0
        if src == 5:  # STATUS: all-ones when the TX FIFO level is below N (EXECCTRL default 0)
            return 0
        if src == 6:
            return sm.isr
        if src == 7:
            return sm.osr
        return 0

    def _advance(self, sm):
        if sm.pc == sm.wrap_top:
            sm.pc = sm.wrap_target
        else:
            sm.pc = (sm.pc + 1) & 0x1F

    def _push(self, sm):
        if len(sm.rx) >= sm.rx_depth:
            return False
        sm.rx.append(sm.isr)
        sm.isr = 0
        sm.isr_count = 0
        return True

    def _pull(self, sm):
        if not sm.tx:
            return False
        sm.osr = sm.tx.pop(0)
        sm.osr_count = 0
        return True

    def _step(self, sm, w, pins, exec_):
        """Execute one instruction word; a stall leaves pc unchanged (it retries next cycle)."""
        op = w >> 13
        delay = (w >> 8) & sm.delay_mask if sm.program is not None else (w >> 8) & 0x1F
        a = (w >> 5) & 7
        low = w & 0x1F
        jumped = False
        if op == 0:  # JMP
            if a == 0:
                take = True
            elif a == 1:
                take = sm.x == 0
            elif a == 2:
                take = sm.x != 0
                sm.x = (sm.x - 1) & _MASK
            elif a == 3:
                take = sm.y == 0
            elif a == 4:
                take = sm.y != 0
                sm.y = (sm.y - 1) & _MASK
            elif a == 5:
                take = sm.x != sm.y
            elif a == 6:
                take = bool(pins >> sm.jmp_pin & 1)
            else:
                take = sm.osr_count < sm.pull_thresh
            if take:
                sm.pc = low
                jumped = True
        elif op == 1:  # WAIT
            pol = (w >> 7) & 1
            src = (w >> 5) & 3
            if src == 0:
                ok = (pins >> low & 1) == pol
            elif src == 1:
                ok = (pins >> ((sm.in_base + low) & 31) & 1) == pol
            else:
                flags = self.irq_flags[sm.id >> 2]
                idx = self._irq_index(sm, low)
                ok = (flags >> idx & 1) == pol
                if ok and pol:
                    self.irq_flags[sm.id >> 2] = flags & ~(1 << idx)
            if not ok:
                return  # stall
        elif op == 2:  # IN
            n = low or 32
            if sm.autopush and sm.isr_count >= sm.push_thresh and not self._push(sm):
                return  # stall: the autopush could not happen
            data = self._source(sm, a, pins) & ((1 << n) - 1 if n < 32 else _MASK)
            if sm.in_shift_right:
                sm.isr = ((sm.isr >> n) | (data << (32 - n))) & _MASK if n < 32 else data
            else:
                sm.isr = ((sm.isr << n) | data) & _MASK if n < 32 else data
            sm.isr_count = min(32, sm.isr_count + n)
            if sm.autopush and sm.isr_count >= sm.push_thresh:
                self._push(sm)
        elif op == 3:  # OUT
            n = low or 32
            if sm.autopull and sm.osr_count >= sm.pull_thresh and not self._pull(sm):
                return  # stall
            if sm.out_shift_right:
                data = sm.osr & ((1 << n) - 1) if n < 32 else sm.osr
                sm.osr = (sm.osr >> n) & _MASK if n < 32 else 0
            else:
                data = (sm.osr >> (32 - n)) if n < 32 else sm.osr
                sm.osr = (sm.osr << n) & _MASK if n < 32 else 0
            sm.osr_count = min(32, sm.osr_count + n)
            if a == 1:
                sm.x = data
            elif a == 2:
                sm.y = data
            elif a == 5:
                sm.pc = data & 0x1F
                jumped = True
            elif a == 6:
                sm.isr = data
                sm.isr_count = n
            elif a == 7:
                self._step(sm, data & 0xFFFF, pins, True)
                return
            # 0 pins, 3 null, 4 pindirs: no modelled effect
        elif op == 4:  # PUSH / PULL
            cond = (w >> 6) & 1
            block = (w >> 5) & 1
            if not (w >> 7) & 1:  # PUSH
                if not (cond and sm.isr_count < sm.push_thresh):
                    if not self._push(sm):
                        if block:
                            return  # stall
                        sm.isr = 0  # noblock with the FIFO full: the data is lost
                        sm.isr_count = 0
            else:  # PULL
                if not (cond and sm.osr_count < sm.pull_thresh):
                    if not self._pull(sm):
                        if block:
                            return  # stall
                        sm.osr = sm.x  # noblock from an empty FIFO: OSR = X
                        sm.osr_count = 0
        elif op == 5:  # MOV
            src = w & 7
            mop = (w >> 3) & 3
            v = self._source(sm, src, pins)
            if mop == 1:
                v = ~v & _MASK
            elif mop == 2:
                v = _rev32(v)
            if a == 1:
                sm.x = v
            elif a == 2:
                sm.y = v
            elif a == 4:
                self._step(sm, v & 0xFFFF, pins, True)
                return
            elif a == 5:
                sm.pc = v & 0x1F
                jumped = True
            elif a == 6:
                sm.isr = v
                sm.isr_count = 0
            elif a == 7:
                sm.osr = v
                sm.osr_count = 0
        elif op == 6:  # IRQ
            idx = self._irq_index(sm, low)
            pio = sm.id >> 2
            if (w >> 6) & 1:
                self.irq_flags[pio] &= ~(1 << idx)
            else:
                self.irq_flags[pio] |= 1 << idx
                if (w >> 5) & 1 and self.irq_flags[pio] >> idx & 1:
                    pass  # irq wait: stalls until cleared by another party (not modelled)
        else:  # SET
            if a == 1:
                sm.x = low
            elif a == 2:
                sm.y = low
        if not jumped and not exec_:
            self._advance(sm)
        sm.delay = delay

    def _irq_index(self, sm, low):
        if low & 0x10:
            return (low & 4) | (((low & 3) + (sm.id & 3)) & 3)
        return low & 7
