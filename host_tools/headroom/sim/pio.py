"""PIO state machines of the simulated RP2040, run on rp2040-pio-emulator (CPython only).

A PIO program polls at 125 MHz; emulating every cycle of every second is out of
reach, and pointless while its inputs are still. So a state machine runs
`CYCLES_PER_EVENT` cycles each time one of its input pins changes, when it is
started, and when the firmware reads its FIFO. The budget must cover the
program's longest path from one pin sample to the next: `sample_gaps` records
those gaps so tests can check it.

Emulating is slow (about 50 us per cycle), so results are memoized. A run whose
control flow does not depend on X (checked: it is emulated twice, with X and
with X flipped in bit 30, and everything but X and the values pushed from X must
agree) is stored without X; X and the pushed values then move by the same offset
whatever X is. Anything else is emulated every time.
"""
from collections import deque

from pioemu import State, emulate
from pioemu.shift_register import ShiftRegister

from .pioengine import CYCLES_PER_EVENT, PIOEngineBase

_BASE_CLOCK = 0
_FLIP = 1 << 30
_MASK = 0xFFFFFFFF
_IN_PINS = 0x4000  # `in pins, n` opcodes: 0x4000 | n


# Memoized runs, shared by every simulated board in the process: (program, config, state) -> run.
_MEMO = {}


class _SM:
    def __init__(self, sid):
        self.id = sid
        self.program = None
        self.active = False
        self.state = State()
        self.in_base = 0
        self.watch = ()
        self.memo = {}
        self.cycles = 0
        self.emulated = 0
        self.sample_gaps = {}  # cycles between two `in pins` -> times seen


class PIOEngine(PIOEngineBase):
    def __init__(self, sim):
        PIOEngineBase.__init__(self, sim, [_SM(i) for i in range(8)])
        sim.on_soft_reset.append(self.soft_reset)

    def soft_reset(self):
        """rp2_pio_deinit: every state machine stops, the programs are removed."""
        for sm in self.sms:
            sm.active = False
        self.programs = {0: [], 1: []}

    # ---- programs and configuration
    def init(self, sid, program, freq, in_base=None, out_base=None, set_base=None, jmp_pin=None,
             sideset_base=None, in_shiftdir=None, out_shiftdir=None, push_thresh=None,
             pull_thresh=None):
        sm = self.configure(sid, program, in_base, jmp_pin, in_shiftdir, out_shiftdir,
                            push_thresh, pull_thresh)
        # rp2_state_machine_init_helper -> pio_sm_init(pio, sm, offset, ...): the program
        # starts at its first instruction (its offset), not at .wrap_target
        sm.state = State(program_counter=0, output_shift_register=ShiftRegister(0, 32))
        sm.memo = _MEMO.setdefault((tuple(sm.program), program[3], program[4], sm.in_base), {})

    def restart(self, sid):
        """pio_sm_restart: shift counters, ISR contents and delays clear; the program
        counter, X, Y and both FIFOs stay."""
        sm = self.sms[sid]
        sm.state = _replace(sm.state, input_shift_register=ShiftRegister(0, 0),
                            output_shift_register=ShiftRegister(0, 32))

    # ---- FIFOs and exec
    def put(self, sid, value):
        sm = self.sms[sid]
        if len(sm.state.transmit_fifo) >= 4:
            self._run(sm)
            if len(sm.state.transmit_fifo) >= 4:
                self.sim.fault("StateMachine(%d).put() would block forever: TX FIFO full" % sid)
        fifo = deque(sm.state.transmit_fifo)
        fifo.append(value & _MASK)
        sm.state = _replace(sm.state, transmit_fifo=fifo)

    def get(self, sid):
        sm = self.sms[sid]
        if not sm.state.receive_fifo and self.sim.in_irq:
            # On the board get() waits for the next push, with every interrupt of its
            # priority held off - forever if the state machine stopped.
            self.sim.fault("StateMachine(%d).get() on an empty RX FIFO in a hard IRQ: it would "
                           "wait for a push there (forever if the PIO stopped); look at "
                           "rx_fifo() first" % sid)
        if not sm.state.receive_fifo:
            self._run(sm, force=True)
            if not sm.state.receive_fifo:
                self.sim.fault("StateMachine(%d).get() would block forever: nothing pushed" % sid)
        fifo = deque(sm.state.receive_fifo)
        v = fifo.popleft()
        sm.state = _replace(sm.state, receive_fifo=fifo)
        return v

    def rx_fifo(self, sid):
        sm = self.sms[sid]
        self._run(sm)
        return len(sm.state.receive_fifo)

    def tx_fifo(self, sid):
        return len(self.sms[sid].state.transmit_fifo)

    def exec(self, sid, instr):
        """Run one instruction now, outside the program (StateMachine.exec)."""
        sm = self.sms[sid]
        pc = sm.state.program_counter
        st = _replace(sm.state, program_counter=0)
        last = st
        for _before, after in emulate([instr], stop_when=lambda op, s: s.clock > st.clock,
                                      initial_state=st, input_source=self._source(sm),
                                      shift_isr_right=sm.in_shift_right,
                                      shift_osr_right=sm.out_shift_right, wrap_target=0, wrap_top=0):
            last = after
        sm.state = _replace(last, program_counter=pc)

    # ---- running
    def _pins(self, sm):
        word = 0
        for n in range(min(32, len(self.sim.gpio))):
            if self.sim.gpio[n].level:
                word |= 1 << n
        b = sm.in_base
        word = ((word >> b) | (word << (32 - b))) & _MASK  # `in pins` reads from in_base up
        return word & sm.mask

    def _source(self, sm):
        word = self._pins(sm)

        def source(state: State) -> int:
            return word

        return source

    def _run(self, sm, force=False):
        """Let the state machine run CYCLES_PER_EVENT cycles with the pins as they are now."""
        if not sm.active and not force:
            return
        pins = self._pins(sm)
        st = sm.state
        key = (st.program_counter, st.y_register, _sr(st.input_shift_register),
               _sr(st.output_shift_register), len(st.receive_fifo), tuple(st.transmit_fifo), pins)
        hit = sm.memo.get(key)
        if hit is None:
            st0 = _replace(st, clock=_BASE_CLOCK)
            a = self._emulate(sm, st0, pins)
            b = self._emulate(sm, _replace(st0, x_register=st.x_register ^ _FLIP), pins)
            hit = _affine(st0, a, b)
            if hit is False:
                a = (_replace(a[0], clock=st.clock + a[0].clock - _BASE_CLOCK), a[1])
            if hit is not False:
                sm.memo[key] = hit
            else:
                sm.state = a[0]
                self._note(sm, a[1], a[0].clock - st.clock)
                return
        dx, pushed, final, gaps = hit
        x = (st.x_register + dx) & _MASK
        rx = deque(st.receive_fifo)
        for off in pushed:
            rx.append((st.x_register + off) & _MASK)
        cycles = final.clock - _BASE_CLOCK
        sm.state = _replace(final, x_register=x, receive_fifo=rx, clock=st.clock + cycles)
        self._note(sm, gaps, cycles)

    def _note(self, sm, gaps, cycles):
        sm.cycles += cycles
        for g in gaps:
            sm.sample_gaps[g] = sm.sample_gaps.get(g, 0) + 1

    def _emulate(self, sm, st, pins):
        # Stop at the first pin sample after the budget: a canonical point, so the next run
        # starts from one of few states and the memo hits.
        target = st.clock + CYCLES_PER_EVENT
        limit = target + 64
        last = st
        samples = []

        def source(state: State) -> int:
            return pins

        def stop(op, s):
            return s.clock >= limit or (s.clock >= target and (op & 0xFFE0) == _IN_PINS)

        for before, after in emulate(sm.program, stop_when=stop,
                                     initial_state=st, input_source=source,
                                     auto_push=sm.autopush, auto_pull=sm.autopull,
                                     push_threshold=sm.push_thresh, pull_threshold=sm.pull_thresh,
                                     shift_isr_right=sm.in_shift_right,
                                     shift_osr_right=sm.out_shift_right, jmp_pin=0,
                                     wrap_target=sm.wrap_target, wrap_top=sm.wrap_top):
            if (sm.program[before.program_counter] & 0xFFE0) == _IN_PINS:
                samples.append(before.clock)
            last = after
        sm.emulated += last.clock - st.clock
        gaps = [b - a for a, b in zip(samples, samples[1:])]
        return last, gaps


def _affine(st, a, b):
    """(dx, pushed offsets, final state, gaps) if the run moves X and pushes by offsets, else False."""
    (fa, ga), (fb, gb) = a, b
    dxa = (fa.x_register - st.x_register) & _MASK
    dxb = (fb.x_register - (st.x_register ^ _FLIP)) & _MASK
    new_a = list(fa.receive_fifo)[len(st.receive_fifo):]
    new_b = list(fb.receive_fifo)[len(st.receive_fifo):]
    if (dxa != dxb or len(new_a) != len(new_b) or ga != gb
            or fa.program_counter != fb.program_counter or fa.y_register != fb.y_register
            or _sr(fa.input_shift_register) != _sr(fb.input_shift_register)
            or _sr(fa.output_shift_register) != _sr(fb.output_shift_register)
            or list(fa.transmit_fifo) != list(fb.transmit_fifo)
            or list(fa.receive_fifo)[:len(st.receive_fifo)] != list(st.receive_fifo)):
        return False
    offs = []
    for va, vb in zip(new_a, new_b):
        oa = (va - st.x_register) & _MASK
        ob = (vb - (st.x_register ^ _FLIP)) & _MASK
        if oa != ob:
            return False
        offs.append(oa)
    return dxa, tuple(offs), fa, tuple(ga)


def _replace(state, **kw):
    from dataclasses import replace
    return replace(state, **kw)


def _sr(r):
    return (r.contents, r.counter)  # pioemu's ShiftRegister has no __hash__
