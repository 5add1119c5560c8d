"""The PIO side of the simulated RP2040, and the firmware's PIO quadrature decoder.

- rp2.asm_pio gives the same instruction words as an independent assembler
  (adafruit-circuitpython-pioasm) for the firmware's program and for programs
  using every instruction, side-set, delays and wrap;
- the decoder, run on rp2040-pio-emulator against the simulated encoder, counts
  exactly the transitions turned, with bounce, reversals and bursts to 1000/s;
- its cycle budget per edge is small enough for any mechanical encoder.
"""
import adafruit_pioasm
import pytest
import rp2
from hypothesis import given, settings
from hypothesis import strategies as st

from headroom.sim import world
from headroom.sim.simboard import SimBoard
from headroom_fw import pio_encoder

from helpers import SE
from simkit import bare_sim


def words(prog):
    return list(prog[0])


def test_firmware_program_matches_the_independent_assembler():
    text = """
.program quadrature
    jmp update
    jmp inc
    jmp dec
    jmp update
    jmp dec
    jmp update
    jmp update
    jmp inc
    jmp inc
    jmp update
    jmp update
    jmp dec
    jmp update
    jmp dec
    jmp inc
    jmp update
inc:
    mov x, ~x
    jmp x-- inc2
inc2:
    mov x, ~x
    jmp update
dec:
    jmp x-- update
update:
    mov isr, x
    push noblock
sample:
    out isr, 2
    in pins, 2
    mov osr, isr
    mov pc, isr
.wrap
    nop
    nop
    nop
    nop
    nop
"""
    assert words(pio_encoder.quadrature) == list(adafruit_pioasm.assemble(text))
    assert len(pio_encoder.quadrature[0]) == 32  # fills the PIO: loads at offset 0


@rp2.asm_pio(set_init=rp2.PIO.OUT_LOW, sideset_init=rp2.PIO.OUT_LOW)
def _every_kind():
    wrap_target()
    label("top")
    set(pins, 1).side(1)[3]
    set(x, 31)
    set(y, 7)
    jmp(not_x, "top")
    jmp(x_dec, "top")
    jmp(not_y, "top")
    jmp(y_dec, "top")
    jmp(x_not_y, "top")
    jmp(pin, "top")
    jmp(not_osre, "top")
    wait(1, gpio, 5)
    wait(0, pin, 2)
    wait(1, irq, 3)
    in_(pins, 32)
    in_(x, 8)
    in_(null, 1)
    out(pins, 4)
    out(pindirs, 2)
    out(exec, 16)
    out(pc, 5)
    push(block)
    push(iffull, noblock)
    pull(noblock)
    pull(ifempty, block)
    mov(y, invert(x))
    mov(isr, reverse(osr))
    mov(exec, x)
    irq(5)
    irq(clear, 2)
    irq(block, rel(1))
    nop().side(0)[7]
    wrap()


_EVERY_KIND_TEXT = """
.program every_kind
.side_set 1 opt
.wrap_target
top:
    set pins, 1 side 1 [3]
    set x, 31
    set y, 7
    jmp !x top
    jmp x-- top
    jmp !y top
    jmp y-- top
    jmp x!=y top
    jmp pin top
    jmp !osre top
    wait 1 gpio 5
    wait 0 pin 2
    wait 1 irq 3
    in pins, 32
    in x, 8
    in null, 1
    out pins, 4
    out pindirs, 2
    out exec, 16
    out pc, 5
    push block
    push iffull noblock
    pull noblock
    pull ifempty block
    mov y, ~x
    mov isr, ::osr
    mov exec, x
    irq 5
    irq clear 2
    irq wait 1 rel
    nop side 0 [7]
.wrap
"""


def test_every_instruction_kind_matches_the_independent_assembler():
    ours = words(_every_kind)
    ref = list(adafruit_pioasm.assemble(_EVERY_KIND_TEXT))
    assert len(ours) == len(ref)
    for i, (a, b) in enumerate(zip(ours, ref)):
        assert a == b, "instruction %d: ours %04x, adafruit %04x" % (i, a, b)


def test_assembler_errors():
    import pytest

    with pytest.raises(rp2.PIOASMError):
        @rp2.asm_pio()
        def _bad():
            jmp("nowhere")  # noqa: F821

    with pytest.raises(rp2.PIOASMError):
        @rp2.asm_pio()
        def _bad2():
            nop()[32]  # noqa: F821


def _board():
    b = SimBoard(SE, keep_trace=False)
    b.power(True)
    b.run_ms(2500)
    return b


def _sm(b):
    return b.sim.peripherals["pio"].sms[b.board.pio_sm]


def _x(b):
    return (_sm(b).state.x_register - pio_encoder._START) & 0xFFFFFFFF


turns = st.lists(st.tuples(st.integers(-30, 30).filter(bool),
                           st.sampled_from([2, 10, 50, 300, 1000]),
                           st.sampled_from([0, 20, 50, 100])), min_size=1, max_size=8)


@settings(max_examples=15)
@given(turns)
def test_decoder_counts_every_transition_with_bounce_reversals_and_bursts(seq):
    b = _board()
    try:
        total = 0
        for detents, rate, bounce in seq:
            # Bounce shorter than the gap between a contact's edges, as on a sound encoder.
            step_us = 1000000 // (rate * 4)
            b.run_us(b.turn(detents, rate=rate, bounce_us=min(bounce, step_us // 2)))
            total += detents
        b.run_ms(50)
        want = (total * b.board.edges_per_detent) & 0xFFFFFFFF
        assert _x(b) == want, (seq, _x(b), total)
        assert not b.sim.faults
    finally:
        b.close()


def test_firmware_sees_the_detents_turned():
    b = _board()
    try:
        b.run_us(b.turn(7, rate=5))
        b.run_ms(100)
        b.run_us(b.turn(-3, rate=1000, bounce_us=100))
        b.run_ms(100)
        enc = b.app.encoder
        assert enc._count - pio_encoder._START == 4 * 4
        assert b.encoder.turned == 4
    finally:
        b.close()


def test_cycle_budget_per_edge():
    """Between two pin samples the program spends at most 11 cycles (88 ns at 125 MHz)."""
    b = _board()
    try:
        b.run_us(b.turn(20, rate=200, bounce_us=100))
        b.run_us(b.turn(-20, rate=200, bounce_us=100))
        gaps = _sm(b).sample_gaps
        assert max(gaps) <= 11, gaps
        assert min(gaps) >= 7
    finally:
        b.close()


@rp2.asm_pio()
def _seed_once():
    set(x, 5)               # before .wrap_target: runs once, at the program's start
    wrap_target()
    mov(isr, x)
    push(block)


def test_init_starts_at_the_program_offset_and_restart_keeps_x_y_and_fifos():
    bare_sim(app=True)
    sm = rp2.StateMachine(4, _seed_once)   # PIO1: PIO0 may hold a 32-word program
    sm.active(1)
    assert sm.get() == 5                    # pio_sm_init: pc = offset, not .wrap_target
    assert sm.rx_fifo() == 4                # the loop filled the RX FIFO and stalls
    sm.active(0)
    sm.exec("set(x, 9)")
    sm.restart()                            # pio_sm_restart: PC, X, Y and FIFOs stay
    assert sm.rx_fifo() == 4
    sm.active(1)
    got = [sm.get() for _ in range(8)]
    assert got[:4] == [5, 5, 5, 5] and 9 in got[4:]


@rp2.asm_pio()
def _all_ones():
    mov(isr, invert(null))
    push(block)


def test_a_pio_value_above_the_rp2_small_int_range_in_a_hard_irq_is_a_fault():
    sim = bare_sim(app=True)
    sm = rp2.StateMachine(4, _all_ones)
    sm.active(1)
    assert sm.get() == 0xFFFFFFFF               # in the main loop: a long int is fine
    assert sm.get(shift=3) == 0x1FFFFFFF        # shifted below 2**30: a small int
    from machine import Pin
    p = Pin(6, Pin.IN, Pin.PULL_UP)
    p.irq(lambda pin: sm.get(), Pin.IRQ_FALLING, hard=True)
    with pytest.raises(world.SimFault, match="2\\*\\*30"):
        sim.gpio[6].drive("x", 0)
