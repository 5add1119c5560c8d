"""The PGA2311 chain model against its datasheet, driven through the simulated machine.SPI."""
import json

import machine
import pytest
from hypothesis import given
from hypothesis import strategies as st

from headroom.sim.models.pga2311 import PGA2311Chain
from headroom.sim.world import SimFault

from simkit import bare_sim, records

Pin = machine.Pin
CS, MUTE, ZCEN = 17, 20, 21
ZC_TIMEOUT_US = 16000   # datasheet: zero-crossing time-out


class Rig:
    """One bare board: PGA2311 chain on SPI0 (GP18/19/16), CS GP17, MUTE GP20, ZCEN GP21."""

    def __init__(self, chips=1, zcen=1, baudrate=1000000, polarity=0, phase=0):
        self.sim = sim = bare_sim(powered=False)
        sim.gpio[CS].board_pull = 1
        sim.gpio[MUTE].board_pull = 0
        self.pga = sim.add_part(PGA2311Chain(sim, 0, CS, MUTE, ZCEN, chips))
        sim.power(True)
        sim.mcu_powered = True
        self.cs = Pin(CS, Pin.OUT, value=1)
        self.mute = Pin(MUTE, Pin.OUT, value=1)   # MUTE is active low: 1 = playing
        self.zcen = Pin(ZCEN, Pin.OUT, value=zcen)
        self.spi = machine.SPI(0, baudrate, polarity=polarity, phase=phase)

    def frame(self, data):
        self.cs(0)
        self.spi.write(bytes(data))
        self.cs(1)

    def frame_read(self, data):
        buf = bytearray(len(data))
        self.cs(0)
        self.spi.write_readinto(bytes(data), buf)
        self.cs(1)
        return bytes(buf)

    def states(self, chip=0):
        """(t_us, state dict) of every trace record of chip `chip`."""
        return [(r["t_us"], r["state"]) for r in records(self.sim, "chip")
                if r["chip"] == "pga2311.%d" % chip]

    def codes(self, chip=0):
        return list(self.pga.chips[chip].codes)


def _db(code):
    return "mute" if code == 0 else 31.5 - 0.5 * (255 - code)


def test_frame_right_first_latches_after_zero_crossing_timeout():
    r = Rig(zcen=1)
    r.sim.run_for(1000)
    t = r.sim.now()
    r.frame([0x80, 0xC0])          # right byte first, then left
    assert r.codes() == [0, 0]     # ZCEN high: waits for a zero crossing or the 16 ms time-out
    r.sim.run_for(ZC_TIMEOUT_US - 1)
    assert r.codes() == [0, 0]
    r.sim.run_for(1)
    assert r.codes() == [0xC0, 0x80]   # (left, right)
    tt, state = r.states()[-1]
    assert tt == t + 16000
    assert state == {"left": 0.0, "right": -32.0, "mute": False}
    assert r.pga.gain_hdb(0) == 0 and r.pga.gain_hdb(1) == -64


def test_frame_latches_at_once_with_zcen_low():
    r = Rig(zcen=0)
    t = r.sim.now()
    r.frame([0x01, 0xFF])
    assert r.codes() == [0xFF, 0x01]
    tt, state = r.states()[-1]
    assert tt == t
    assert state == {"left": 31.5, "right": -95.5, "mute": False}


def test_nothing_latches_before_cs_rises():
    r = Rig(zcen=0)
    r.cs(0)
    r.spi.write(b"\x80\x80")
    assert r.codes() == [0, 0]
    r.cs(1)
    assert r.codes() == [0x80, 0x80]


@pytest.mark.parametrize("code,db", [(255, 31.5), (1, -95.5), (192, 0.0), (191, -0.5), (0, "mute")])
def test_gain_formula_examples(code, db):
    r = Rig(zcen=0)
    r.frame([0x10, 0x10])      # something else first, so code 0 is a change too
    r.frame([code, code])
    state = r.states()[-1][1]
    assert state["left"] == db and state["right"] == db
    assert r.pga.gain_hdb(0) == (None if code == 0 else code - 192)


@given(st.integers(0, 255), st.integers(0, 255))
def test_gain_formula(left, right):
    r = Rig(zcen=0)
    r.frame([right, left])
    assert r.codes() == [left, right]
    state = r.states()[-1][1]
    assert state["left"] == _db(left)
    assert state["right"] == _db(right)
    # the trace writes the number as text from ints: exact, no float noise
    line = [ln for ln in r.sim.trace.lines if '"pga2311.0"' in ln][-1]
    if left:
        assert ('"left": %s' % ("%.1f" % _db(left))) in line
    assert r.pga.gain_hdb(0) == (None if left == 0 else left - 192)
    assert r.pga.gain_hdb(1) == (None if right == 0 else right - 192)


def test_daisy_chain_first_word_ends_in_the_far_chip():
    r = Rig(chips=2, zcen=0)
    r.frame([0x11, 0x22, 0x33, 0x44])   # word 1 (R=0x11, L=0x22), then word 2
    assert r.codes(1) == [0x22, 0x11]     # chip 1, farthest from the MCU, got word 1
    assert r.codes(0) == [0x44, 0x33]
    assert r.pga.gain_hdb(2) == 0x22 - 192 and r.pga.gain_hdb(3) == 0x11 - 192


@given(st.integers(1, 2), st.lists(st.binary(min_size=4, max_size=4), min_size=2, max_size=4))
def test_sdo_returns_what_fell_out(chips, words):
    r = Rig(chips=chips, zcen=0)
    n = 2 * chips
    frames = [w[:n] for w in words]
    previous = bytes(n)   # power-up: the shift registers hold zeros
    for f in frames:
        assert r.frame_read(f) == previous
        previous = f
    # the chain now holds the last frame: first word in the far chip
    last = frames[-1]
    for c in range(chips):
        word = last[2 * (chips - 1 - c): 2 * (chips - 1 - c) + 2]
        assert r.codes(c) == [word[1], word[0]]


def test_sdo_partial_bytes_fall_out_in_order():
    r = Rig(zcen=0)
    r.frame([0xAB, 0xCD])
    r.cs(0)
    buf = bytearray(1)
    r.spi.write_readinto(b"\x01", buf)
    assert buf == b"\xab"
    r.spi.write_readinto(b"\x02", buf)
    assert buf == b"\xcd"
    r.cs(1)
    assert r.codes() == [0x02, 0x01]


@pytest.mark.parametrize("polarity,phase", [(0, 1), (1, 0), (1, 1)])
def test_wrong_spi_mode_is_a_fault(polarity, phase):
    r = Rig(polarity=polarity, phase=phase)
    r.cs(0)
    with pytest.raises(SimFault, match="SPI mode 0"):
        r.spi.write(b"\x80\x80")
    assert "polarity %d phase %d" % (polarity, phase) in records(r.sim, "fault")[-1]["message"]
    spi = records(r.sim, "spi")[-1]
    assert (spi["polarity"], spi["phase"], spi["cs"]) == (polarity, phase, CS)


def test_mode_0_is_fine():
    r = Rig(polarity=0, phase=0, zcen=0)
    r.frame([0x80, 0x80])
    assert r.sim.faults == []


def test_clock_above_6_25_mhz_is_a_fault():
    r = Rig(baudrate=8000000)
    assert r.spi.baudrate == 8000000     # 48 MHz clk_peri / 6
    r.cs(0)
    with pytest.raises(SimFault, match="SCLK 8000000 Hz is above the 6.25 MHz maximum"):
        r.spi.write(b"\x80\x80")


@pytest.mark.parametrize("want", [6250000, 6500000, 7000000])
def test_request_that_rounds_down_to_6_mhz_is_fine(want):
    r = Rig(baudrate=want, zcen=0)
    assert r.spi.baudrate == 6000000     # 48 MHz / 8: the nearest not above the request
    r.frame([0x80, 0x80])
    assert r.sim.faults == [] and r.codes() == [0x80, 0x80]


def test_16_bit_spi_words_are_a_fault():
    r = Rig()
    r.spi.init(bits=16)
    r.cs(0)
    with pytest.raises(SimFault, match="16-bit SPI words"):
        r.spi.write(b"\x00\x00")


def test_cs_rising_after_8_bits_is_a_fault():
    r = Rig()
    r.cs(0)
    r.spi.write(b"\x80")
    with pytest.raises(SimFault, match="CS rose after 8 bits; the chain takes 16"):
        r.cs(1)


@pytest.mark.parametrize("nbytes", [1, 2, 3, 6])
def test_chain_of_two_needs_32_bits(nbytes):
    r = Rig(chips=2)
    r.cs(0)
    r.spi.write(bytes(nbytes))
    with pytest.raises(SimFault, match="CS rose after %d bits; the chain takes 32" % (8 * nbytes)):
        r.cs(1)


def test_cs_pulse_without_data_is_harmless():
    r = Rig(zcen=0)
    r.cs(0)
    r.cs(1)
    assert r.sim.faults == [] and r.codes() == [0, 0]


def test_data_with_cs_high_is_a_fault():
    r = Rig()
    with pytest.raises(SimFault, match="no chip select low"):
        r.spi.write(b"\x80\x80")
    assert records(r.sim, "spi")[-1]["cs"] is None
    assert r.codes() == [0, 0]


def test_mute_pin_low_mutes_at_once():
    r = Rig(zcen=0)
    r.frame([0xC0, 0xC0])
    assert r.pga.gain_hdb(0) == 0
    t = r.sim.now()
    r.mute(0)
    assert r.pga.muted()
    assert r.pga.gain_hdb(0) is None and r.pga.gain_hdb(1) is None
    tt, state = r.states()[-1]
    assert tt == t and state["mute"] is True
    assert r.codes() == [0xC0, 0xC0]       # the gain registers keep their codes
    r.mute(1)
    assert r.pga.gain_hdb(0) == 0
    assert r.states()[-1][1]["mute"] is False


def test_mute_does_not_wait_for_zero_crossing():
    r = Rig(zcen=1)
    r.frame([0xC0, 0xC0])
    r.sim.run_for(ZC_TIMEOUT_US)
    t = r.sim.now()
    r.mute(0)
    assert r.states()[-1] == (t, {"left": 0.0, "right": 0.0, "mute": True})


def test_second_write_within_16_ms_replaces_the_pending_one():
    r = Rig(zcen=1)
    t0 = r.sim.now()
    r.frame([0x10, 0x10])            # A
    r.sim.run_for(5000)
    r.frame([0xC0, 0xC0])            # B, 5 ms later
    r.sim.run_for(ZC_TIMEOUT_US - 5000)
    assert r.codes() == [0, 0]       # A's time-out has passed: A was replaced, never applied
    r.sim.run_for(5000)
    assert r.codes() == [0xC0, 0xC0]
    applied = [(t, s) for t, s in r.states() if s["left"] != "mute"]
    assert applied == [(t0 + 5000 + ZC_TIMEOUT_US, {"left": 0.0, "right": 0.0, "mute": False})]
    r.sim.run_for(100000)
    assert r.codes() == [0xC0, 0xC0]


def test_rewriting_the_current_value_cancels_a_pending_change():
    r = Rig(zcen=1)
    r.frame([0x80, 0x80])
    r.sim.run_for(ZC_TIMEOUT_US)
    r.frame([0x90, 0x90])            # pending
    r.sim.run_for(1000)
    r.frame([0x80, 0x80])            # back to what is in force
    r.sim.run_for(3 * ZC_TIMEOUT_US)
    assert r.codes() == [0x80, 0x80]
    assert all(s["left"] != _db(0x90) for _, s in r.states())


def test_power_cycle_resets_gains_to_mute():
    r = Rig(zcen=0)
    r.frame([0xC0, 0xB0])
    assert r.codes() == [0xB0, 0xC0]
    r.sim.power(False)
    assert r.codes() == [0, 0]
    assert r.pga.gain_hdb(0) is None
    r.sim.run_for(50000)
    r.sim.power(True)
    assert r.codes() == [0, 0]
    state = r.states()[-1][1]
    assert state["left"] == "mute" and state["right"] == "mute"


def test_power_off_drops_a_pending_change():
    r = Rig(zcen=1)
    r.frame([0xC0, 0xC0])
    r.sim.run_for(5000)
    r.sim.power(False)
    r.sim.power(True)
    r.sim.run_for(3 * ZC_TIMEOUT_US)
    assert r.codes() == [0, 0]


def test_unpowered_chip_ignores_data_and_returns_zeros():
    r = Rig(zcen=0)
    r.frame([0x55, 0x66])
    r.pga._on_power(False)             # the chip loses its supply, the MCU keeps running
    assert r.frame_read([0xC0, 0xC0]) == b"\x00\x00"
    assert r.codes() == [0, 0]


def test_trace_chip_record_layout():
    r = Rig(zcen=0)
    r.frame([0x80, 0xC0])
    line = [ln for ln in r.sim.trace.lines if '"pga2311.0"' in ln][-1]
    rec = json.loads(line, object_pairs_hook=list)
    assert [k for k, _ in rec] == ["t_us", "kind", "chip", "state"]
    assert [k for k, _ in rec[3][1]] == ["left", "right", "mute"]
    assert line.endswith('"state": {"left": 0.0, "right": -32.0, "mute": false}}')
