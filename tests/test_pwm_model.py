"""The RP2040's PWM block as the simulator models it (sim/pwm.py): a slice counting its
B input's edges (clockwatch.py's LRCK watch), reached through machine.mem32 and
Pin.ALT_PWM; misuse is a fault."""
import machine
import pytest

from headroom.sim import i2s, pwm
from headroom.sim.world import SimFault
from headroom_fw.clockwatch import rate_class, slice_of

Pin = machine.Pin
SLICE5 = pwm.BASE + 5 * pwm.SLICE_BYTES          # GP11 and GP27 are its B inputs
CSR, DIV, CTR, TOP = SLICE5, SLICE5 + 4, SLICE5 + 8, SLICE5 + 16
COUNT_RISING = 1 | 2 << 4                          # EN, DIVMODE 2


def _counting(div=1):
    machine.mem32[DIV] = div << 4
    machine.mem32[CSR] = COUNT_RISING
    Pin(11, Pin.ALT, alt=Pin.ALT_PWM)


def test_a_slice_counts_the_rising_edges_of_its_b_input(sim):
    _counting()
    for _k in range(5):
        sim.gpio[11].drive("test", 1)
        sim.gpio[11].drive("test", 0)
    assert machine.mem32[CTR] == 5
    machine.mem32[CTR] = 0xFFFE                    # it wraps past TOP
    for _k in range(3):
        sim.gpio[11].drive("test", 1)
        sim.gpio[11].drive("test", 0)
    assert machine.mem32[CTR] == 1
    machine.mem32[CSR + 0x3000] = 1                # the clear alias: stopped, the count kept
    sim.gpio[11].drive("test", 1)
    assert machine.mem32[CTR] == 1 and machine.mem32[pwm.BASE + pwm.EN] == 0


def test_an_i2s_buss_lrck_counts_a_frame_an_edge_divided_by_div(sim):
    bus = i2s.bus(sim, 26, 28)                     # LRCK on GP27, slice 5's other B pin
    machine.mem32[DIV] = 16 << 4
    machine.mem32[CSR] = COUNT_RISING
    Pin(27, Pin.ALT, alt=Pin.ALT_PWM)
    bus.start(None, 48000, 32)
    sim.run_for(1_000_000)
    assert machine.mem32[CTR] == 48000 // 16
    bus.stop()
    sim.run_for(1_000_000)                          # no clock: no count
    assert machine.mem32[CTR] == 48000 // 16
    bus.start(None, 96000, 32)
    sim.run_for(500_000)
    assert machine.mem32[CTR] == (48000 + 48000) // 16


def test_misuse_is_a_fault(sim):
    with pytest.raises(SimFault, match="DIVMODE is 0"):
        Pin(11, Pin.ALT, alt=Pin.ALT_PWM)          # B would drive, against the clock
    with pytest.raises(SimFault, match="DIVMODE 0 is not modelled"):
        machine.mem32[CSR] = 1                     # free-running: PWM out, not modelled
    with pytest.raises(SimFault, match="A pin"):
        Pin(10, Pin.ALT, alt=Pin.ALT_PWM)
    with pytest.raises(SimFault, match="not modelled"):
        machine.mem32[pwm.BASE + 0xA4]             # INTR: interrupts are not modelled
    with pytest.raises(SimFault, match="under 1.0"):
        machine.mem32[DIV] = 8
    with pytest.raises(SimFault, match="PWM .alt=4. only"):
        Pin(11, Pin.ALT, alt=Pin.ALT_SPI)


def test_a_pin_taken_back_as_an_input_stops_feeding_the_slice(sim):
    _counting()
    sim.gpio[11].drive("test", 1)
    sim.gpio[11].drive("test", 0)
    Pin(11, Pin.IN)
    sim.gpio[11].drive("test", 1)
    assert machine.mem32[CTR] == 1
    machine.mem32[CSR] = 0                         # DIVMODE 0 now harms nothing


@pytest.mark.parametrize("hz,cls", [(0, 0), (500, 0), (8000, 1), (16000, 2), (32000, 3),
                                    (44100, 3), (48000, 3), (88200, 4), (96000, 4),
                                    (176400, 5), (192000, 5), (384000, 6)])
def test_a_measured_rate_falls_in_the_pcm5122s_class(hz, cls):
    assert rate_class(hz) == cls
    assert rate_class(hz * 101 // 100) == cls and rate_class(hz * 99 // 100) == cls


def test_only_odd_gpios_are_b_inputs():
    assert (slice_of(27), slice_of(11), slice_of(26)) == (5, 5, None)
