"""The PCM5102A and PCM5122 models: what each does with the I2S stream, its pins and registers."""
import math
import struct

import machine
import numpy as np
import pytest
from headroom_signals.siggen import SigGen

from headroom.sim.i2s import registry as i2s_registry
from headroom.sim.models.pcm5102a import PCM5102A, deemphasis_coeffs
from headroom.sim.models.pcm5122 import PCM5122
from headroom.sim.world import SimFault
from headroom_fw import pcm5102a as fw5102
from headroom_fw import pcm5122 as fw5122

from simkit import bare_sim, records

I2S = machine.I2S
Pin = machine.Pin
BCK, DIN, XSMT, FLT, DEMP, FMT = 16, 18, 20, 21, 22, 19
PEAK = 2.1 * math.sqrt(2)


def tx(bits=32, rate=48000, ibuf=4096, fmt=I2S.STEREO):
    return I2S(0, sck=Pin(BCK), ws=Pin(BCK + 1), sd=Pin(DIN), mode=I2S.TX, bits=bits,
               format=fmt, rate=rate, ibuf=ibuf)


class Constant:
    """Streams one stereo frame value over and over (non-blocking refills)."""

    def __init__(self, i2s, left, right, bits=32, frames=256):
        fmt = "<ii" if bits == 32 else "<hh"
        self.buf = bytearray(struct.pack(fmt, left, right) * frames)
        self.on = True
        i2s.irq(self._refill)
        i2s.write(self.buf)

    def _refill(self, i2s):
        if self.on:
            i2s.write(self.buf)


def analog(dac):
    """(frame index of the first recorded frame, (n, 2) volts) over the recording."""
    f0 = dac.analog[0][1]
    parts = []
    for _t, _fr, n, data in dac.analog:
        parts.append(np.zeros((n, 2)) if data is None else np.frombuffer(data, np.float32).reshape(-1, 2))
    return f0, np.concatenate(parts)


def states(sim, chip):
    return [(r["t_us"], r["state"]) for r in records(sim, "chip", chip=chip)]


def rms_db(x):
    return 20 * math.log10(math.sqrt(np.mean(np.square(x, dtype=np.float64))))


# ================================================================== PCM5102A

def test_xsmt_soft_mute_is_104_one_db_steps_and_the_driver_waits_it_out(sim):
    dac = sim.add_part(PCM5102A(sim, BCK, DIN, xsmt=XSMT, record=True))
    drv = fw5102.PCM5102A(Pin(XSMT), muted=False)
    i2s = tx()
    Constant(i2s, 1 << 30, -(1 << 30))
    sim.run_for(20000)
    t = sim.clock.now_us
    drv.mute(True)
    f = dac.bus.frame_at(t + 1)            # the first frame after the XSMT edge
    wait = drv.mute_time_ms(48000)
    assert wait == 3
    sim.run_for(wait * 1000)
    assert dac.bus.frame_time(f + 104) <= sim.clock.now_us   # the ramp is over by then
    f0, v = analog(dac)
    full = 0.5 * PEAK
    left = v[f - f0 - 1:f - f0 + 105, 0]
    assert left[0] == pytest.approx(full, rel=1e-6)          # before the edge
    db = 20 * np.log10(left[1:104] / full)
    assert np.allclose(db, -np.arange(1, 104), atol=1e-4)    # -1 dB per sample
    assert left[104] == 0 and not v[f - f0 + 103:, :].any()  # silent from the 104th sample
    assert v[f - f0 + 5, 1] == pytest.approx(-full * 10 ** (-6 / 20), rel=1e-5)
    st = states(sim, "pcm5102a")
    assert [s["soft_mute"] for _, s in st][-2:] == ["down", "on"]
    assert st[-1][0] == dac.bus.frame_time(f + 104) - sim.clock.origin_us
    assert st[-1][1]["output"] == "mute"


def test_xsmt_unmute_ramps_up_over_104_samples(sim):
    dac = sim.add_part(PCM5102A(sim, BCK, DIN, xsmt=XSMT, record=True))
    drv = fw5102.PCM5102A(Pin(XSMT))            # starts muted
    i2s = tx()
    Constant(i2s, 1 << 30, 1 << 30)
    sim.run_for(5000)
    t = sim.clock.now_us
    drv.mute(False)
    f = dac.bus.frame_at(t + 1)
    sim.run_for(5000)
    f0, v = analog(dac)
    full = 0.5 * PEAK
    up = v[f - f0:f - f0 + 105, 0]
    assert v[f - f0 - 1, 0] == 0
    assert np.allclose(20 * np.log10(up[:104] / full), -np.arange(103, -1, -1), atol=1e-4)
    assert up[104] == pytest.approx(full, rel=1e-6)


def test_zero_data_mutes_after_1024_lrcks_and_data_unmutes_at_once(sim):
    dac = sim.add_part(PCM5102A(sim, BCK, DIN))               # XSMT strapped high
    i2s = tx(bits=16)
    i2s.write(struct.pack("<hh", 1000, 1000) * 512)    # 512 frames, then the port sends zeros
    sim.run_for(100000)
    x = np.frombuffer(i2s_registry(sim).streams[0].samples()[1], np.int32).reshape(-1, 2)
    last = np.flatnonzero(x[:, 0])[-1]
    st = states(sim, "pcm5102a")
    on = [t for t, s in st if not s["zero_mute"]]
    off = [t for t, s in st if s["zero_mute"] and t > 0]
    assert on == [dac.bus.frame_time(64) - sim.clock.origin_us]      # the first data frame
    assert off == [dac.bus.frame_time(last + 1 + 1024) - sim.clock.origin_us]
    # 1023 zeros are not enough
    i2s.write(struct.pack("<hh", 0, 5) * 32)
    sim.run_for(5000)
    assert states(sim, "pcm5102a")[-1][1]["zero_mute"] is False


def test_stopped_clocks_mute_the_output(sim):
    dac = sim.add_part(PCM5102A(sim, BCK, DIN))
    i2s = tx()
    Constant(i2s, 1 << 28, 1 << 28)
    sim.run_for(10000)
    assert dac.output_on() and dac.level_cdb() == int(round(2000 * math.log10(2.1)))
    i2s.deinit()
    assert not dac.output_on() and dac.level_cdb() is None
    last = states(sim, "pcm5102a")[-1][1]
    assert last["rate"] is None and last["output"] == "mute"


@pytest.mark.parametrize("rate,bits", [(8000, 32), (22050, 32), (16000, 16), (12345, 32)])
def test_a_rate_the_bck_pll_cannot_take_is_a_fault(sim, rate, bits):
    sim.add_part(PCM5102A(sim, BCK, DIN))
    with pytest.raises(SimFault, match="no BCK-PLL setting"):
        tx(bits=bits, rate=rate)


def test_16_khz_needs_64_fs(sim):
    sim.add_part(PCM5102A(sim, BCK, DIN))
    tx(bits=32, rate=16000)


def test_fmt_high_reads_the_i2s_stream_one_bit_early(sim):
    dac = sim.add_part(PCM5102A(sim, BCK, DIN, fmt=FMT, record=True))
    Pin(FMT, Pin.OUT, value=1)
    i2s = tx()
    Constant(i2s, -(1 << 30), 1 << 30)      # 24-bit data: the slot's LSBs are 0
    sim.run_for(20000)
    f0, v = analog(dac)
    full = PEAK / 2 ** 31
    # left: the previous right word's LSB (0), then the sign-less top bits: a large positive
    assert v[-1, 0] == pytest.approx((((-(1 << 30)) & 0xFFFFFFFF) >> 1) * full, rel=1e-6)
    assert v[-1, 1] == pytest.approx((1 << 29) * full, rel=1e-6)
    assert states(sim, "pcm5102a")[-1][1]["format"] == "lj"


def test_deemphasis_at_44k1_follows_the_50_15_us_shelf(sim):
    dac = sim.add_part(PCM5102A(sim, BCK, DIN, demp=DEMP, record=True))
    Pin(DEMP, Pin.OUT, value=1)
    i2s = tx(rate=44100)
    g = SigGen(i2s, 44100, 32)
    g.sine(1000, -6.0)
    sim.run_for(300000)
    f0, v = analog(dac)
    got = rms_db(v[-8820:, 0])
    b0, b1, a1 = deemphasis_coeffs(44100)
    z = complex(math.cos(2 * math.pi * 1000 / 44100), -math.sin(2 * math.pi * 1000 / 44100))
    h = abs((b0 + b1 * z) / (1 + a1 * z))
    want = 20 * math.log10(2.1 * 10 ** (-6 / 20) * h)
    assert got == pytest.approx(want, abs=0.01)
    assert -0.45 < 20 * math.log10(h) < -0.3        # the analog shelf gives -0.37 dB at 1 kHz


def test_filter_pin_is_recorded(sim):
    sim.add_part(PCM5102A(sim, BCK, DIN, flt=FLT))
    drv = fw5102.PCM5102A(Pin(XSMT), flt_pin=Pin(FLT), low_latency=True)
    assert states(sim, "pcm5102a")[-1][1]["filter"] == "low-latency"
    drv.set_filter(False)
    assert states(sim, "pcm5102a")[-1][1]["filter"] == "normal"


def test_no_supply_no_output(sim):
    dac = sim.add_part(PCM5102A(sim, BCK, DIN))
    i2s = tx()
    Constant(i2s, 1 << 28, 1 << 28)
    sim.run_for(10000)
    assert dac.output_on()
    sim.holdup_us = 50000
    sim.power(False)
    # The board's rails hold up while the MCU runs on; the DAC's analog output goes
    # with them, at the end of the hold-up.
    assert dac.output_on()
    sim.run_for(50000)
    assert not dac.output_on()


def test_trace_record_keys_in_order(sim):
    sim.add_part(PCM5102A(sim, BCK, DIN))
    line = sim.trace.lines[-1]
    assert line.startswith('{"t_us": 0, "kind": "chip", "chip": "pcm5102a", "state": {"rate": null, '
                           '"format": "i2s", "filter": "normal", "deemphasis": false, "xsmt": true,')


# ================================================================== PCM5122

def i2c():
    return machine.I2C(0, scl=Pin(5), sda=Pin(4))


def ready(sim, record=True, bits=32, rate=48000, **kw):
    dac = sim.add_part(PCM5122(sim, 0, BCK, DIN, record=record, **kw))
    drv = fw5122.PCM5122(i2c())
    drv.init(bits=bits)
    i2s = tx(bits=bits, rate=rate)
    return dac, drv, i2s


def test_address_follows_the_adr_pins(sim):
    sim.add_part(PCM5122(sim, 0, BCK, DIN))
    sim.add_part(PCM5122(sim, 0, 10, 12, adr1=1, name="b"))
    sim.add_part(PCM5122(sim, 0, 6, 8, adr1=1, adr2=1, name="c"))
    assert i2c().scan() == [0x4C, 0x4D, 0x4F]


def test_init_sets_up_3_wire_clocking_and_runs(sim):
    dac, drv, i2s = ready(sim)
    sim.run_for(5000)
    assert drv.power_state() == fw5122.STATE_RUN
    assert drv.detected_rate() == (32000, 48000)
    assert drv.read(92) == 0 and drv.read(93) == 64           # BCK = 64 fs
    cdst = drv.clock_status()
    assert cdst & 0x40 and not cdst & 0x20                     # SCK missing (ignored), PLL locked
    assert drv.written(13) == 0x10 and drv.written(37) == 0x08
    assert dac.reg(0, 3) == 0x11                               # left muted by init


def test_without_the_3_wire_set_up_the_chip_sits_in_standby(sim):
    dac = sim.add_part(PCM5122(sim, 0, BCK, DIN))
    drv = fw5122.PCM5122(i2c())
    tx()
    sim.run_for(5000)
    assert drv.power_state() == fw5122.STATE_STANDBY
    assert drv.clock_status() & 0x28 == 0x28                   # PLL unlocked, ratio invalid
    assert states(sim, "pcm5122")[-1][1]["clock_error"] is True
    assert drv.read(95) & 0x01                                 # CERF: clock error
    assert not dac.output_on()
    drv.write(13, 0x10)
    drv.write(37, 0x08)
    assert drv.power_state() == fw5122.STATE_RUN
    assert drv.read(95) & 0x01 and not drv.read(95) & 0x01     # latched, cleared by reading


def test_detected_rate_classes(sim):
    dac, drv, i2s = ready(sim, rate=96000)
    sim.run_for(2000)
    assert drv.detected_rate() == (88200, 96000)
    i2s.deinit()
    assert drv.detected_rate() is None
    assert drv.read(95) & 0x10                                 # latched clock halt
    drv.write(40, 0x00)                                        # ALEN: 16-bit words
    tx(bits=16, rate=44100)
    sim.run_for(2000)
    assert drv.detected_rate() == (32000, 48000) and drv.read(93) == 32


@pytest.mark.parametrize("hdb", [0, -1, -41, -120, 7])
def test_volume_in_half_db_steps_at_the_analog_output(sim, hdb):
    dac, drv, i2s = ready(sim)
    drv.set_volume_hdb(hdb, hdb - 6)
    drv.mute(False)
    assert dac.reg(0, 61) == 0x30 - hdb and dac.reg(0, 62) == 0x30 - hdb + 6
    g = SigGen(i2s, 48000, 32)
    g.sine(1000, -10.0)
    sim.run_for(150000)
    f0, v = analog(dac)
    want = 20 * math.log10(2.1) - 10 + hdb / 2
    assert rms_db(v[-4800:, 0]) == pytest.approx(want, abs=0.01)
    assert rms_db(v[-4800:, 1]) == pytest.approx(want - 3, abs=0.01)
    assert dac.level_cdb(0) == int(round(100 * (20 * math.log10(2.1) + hdb / 2)))
    assert drv.volume_hdb() == (hdb, hdb - 6)
    st = states(sim, "pcm5122")[-1][1]
    assert st["left"] == hdb / 2 and st["ramping"] is False


def test_volume_ramps_one_db_per_sample(sim):
    dac, drv, i2s = ready(sim)
    drv.mute(False)
    Constant(i2s, 1 << 30, 1 << 30)
    sim.run_for(20000)
    t = sim.clock.now_us
    drv.set_volume_hdb(-20, 0)                                 # -10 dB on the left
    f = dac.bus.frame_at(t + 1)
    sim.run_for(5000)
    f0, v = analog(dac)
    left = 20 * np.log10(v[f - f0 - 1:f - f0 + 12, 0] / (0.5 * PEAK))
    assert np.allclose(left, [0, -1, -2, -3, -4, -5, -6, -7, -8, -9, -10, -10, -10], atol=1e-4)
    assert np.allclose(v[f - f0:, 1], 0.5 * PEAK, rtol=1e-6)


def test_mute_register_ramps_to_silence_and_back(sim):
    dac, drv, i2s = ready(sim)
    drv.mute(False)
    Constant(i2s, 1 << 30, 1 << 30)
    sim.run_for(20000)
    assert dac.output_on()
    drv.mute(True)
    sim.run_for(5000)                                          # 104 dB at 1 dB per sample
    f0, v = analog(dac)
    assert not v[-48:].any() and not dac.output_on()
    assert drv.read(108) == 0                                  # AMLM = AMRM = 0: muted
    drv.mute(False)
    sim.run_for(5000)
    assert drv.read(108) == 0x03


def test_standby_ramps_down_then_silences_and_the_restart_ramps_up(sim):
    dac, drv, i2s = ready(sim)
    drv.mute(False)
    Constant(i2s, 1 << 30, 1 << 30)
    sim.run_for(20000)
    t = sim.clock.now_us
    drv.standby(True)
    assert drv.read(118) & 0x0F == 7 and dac.output_on()       # PSTM 7: volume ramp down
    sim.run_for(3000)                                          # 104 LRCKs at 1 dB each
    assert drv.power_state() == fw5122.STATE_STANDBY and not dac.output_on()
    f0, v = analog(dac)
    f = dac.bus.frame_at(t + 1) - f0
    db = 20 * np.log10(np.maximum(np.abs(v[f:f + 120, 0]), 1e-12) / (0.5 * PEAK))
    assert -12 < db[10] < -8                                   # 1 dB per sample, not a cut
    assert np.all(np.diff(db[:100]) <= 0) and np.all(np.diff(db[:100]) > -1.5)
    t = sim.clock.now_us
    drv.standby(False)
    f = dac.bus.frame_at(t + 1)
    sim.run_for(10000)
    f0, v = analog(dac)
    assert v[f - f0, 0] < 1e-4 and v[-1, 0] == pytest.approx(0.5 * PEAK, rel=1e-6)


def test_alen_follows_the_word_length_and_a_longer_one_is_refused(sim):
    dac, drv, i2s = ready(sim, bits=16)
    assert dac.reg(0, 40) == 0x00                              # ALEN 16
    i2s.deinit()
    drv.init(bits=32)
    assert dac.reg(0, 40) == 0x03                              # ALEN 32
    i2s = tx(bits=32)
    i2s.deinit()
    with pytest.raises(SimFault, match="ALEN 32 bits"):
        tx(bits=16)


def test_reset_values_follow_the_datasheet(sim):
    dac = sim.add_part(PCM5122(sim, 0, BCK, DIN))
    assert dac.reg(0, 4) == 0x01 and dac.reg(0, 19) == 0x10 and dac.reg(0, 40) == 0x02


def test_page_select_and_the_analog_gain_on_page_1(sim):
    dac, drv, i2s = ready(sim)
    drv.mute(False)
    Constant(i2s, 1 << 30, 1 << 30)
    bus = i2c()
    bus.writeto(0x4C, bytes([0, 1]))
    assert bus.readfrom_mem(0x4C, 0, 1) == b"\x01"
    bus.writeto(0x4C, bytes([2, 0x10]))                        # LAGN: left -6 dB
    bus.writeto(0x4C, bytes([0, 0]))
    sim.run_for(20000)
    f0, v = analog(dac)
    assert 20 * math.log10(v[-1, 0] / v[-1, 1]) == pytest.approx(-6.02, abs=0.01)
    assert dac.reg(1, 2) == 0x10


def test_auto_increment_writes_and_reads(sim):
    dac = sim.add_part(PCM5122(sim, 0, BCK, DIN))
    bus = i2c()
    bus.writeto(0x4C, bytes([0x80 | 61, 0x40, 0x50]))          # 61 and 62 in one write
    assert dac.reg(0, 61) == 0x40 and dac.reg(0, 62) == 0x50
    assert bus.readfrom_mem(0x4C, 0x80 | 61, 2) == b"\x40\x50"
    bus.writeto(0x4C, bytes([61, 0x41, 0x42]))                 # no auto-increment: same register
    assert dac.reg(0, 61) == 0x42 and dac.reg(0, 62) == 0x50


def test_zero_data_auto_mute_and_its_flags(sim):
    dac, drv, i2s = ready(sim, record=False, bits=16)
    drv.mute(False)
    i2s.write(struct.pack("<hh", 100, 100) * 256)
    sim.run_for(10000)
    assert drv.auto_muted() == (False, False)
    sim.run_for(100000)
    assert drv.auto_muted() == (True, True)
    st = states(sim, "pcm5122")
    x = np.frombuffer(i2s_registry(sim).streams[0].samples()[1], np.int32).reshape(-1, 2)
    last = np.flatnonzero(x[:, 0])[-1]
    t_mute = [t for t, s in st if s["auto_mute"] == "both"][0]
    assert t_mute == dac.bus.frame_time(last + 1 + 1024) - sim.clock.origin_us
    i2s.write(struct.pack("<hh", 0, 9) * 64)
    sim.run_for(5000)
    assert drv.auto_muted() == (False, False)


def test_auto_mute_per_channel_when_actl_is_off(sim):
    dac, drv, i2s = ready(sim, record=False, bits=16)
    drv.write(65, 0x03)                                        # ACTL off, both enabled
    drv.write(59, 0x10)                                        # left after 5120, right 1024
    drv.mute(False)
    Constant(i2s, 0, 100, bits=16)                             # only the right has data
    sim.run_for(200000)
    assert drv.auto_muted() == (True, False)
    assert dac.output_on(1) and not dac.output_on(0)


def test_filter_selection_goes_through_standby(sim):
    dac, drv, i2s = ready(sim)
    sim.run_for(1000)
    drv.set_filter(fw5122.FILTER_LOW_LATENCY)
    assert dac.reg(0, 43) == 2 and drv.power_state() == fw5122.STATE_RUN
    powers = [s["power"] for _, s in states(sim, "pcm5122")[-3:]]
    assert powers == ["standby", "standby", "run"]
    with pytest.raises(ValueError):
        drv.set_filter(4)


def test_the_driver_sends_nothing_it_already_wrote(sim):
    dac, drv, i2s = ready(sim)
    sent = []
    real = drv.i2c

    class Spy:
        def writeto(self, addr, buf):
            sent.append(bytes(buf))
            return real.writeto(addr, buf)

        def readfrom_mem_into(self, addr, reg, buf):
            return real.readfrom_mem_into(addr, reg, buf)

    drv.i2c = Spy()
    drv.set_volume_hdb(-10, -10)
    drv.set_volume_hdb(-10, -10)
    drv.mute(True)                     # init left it muted
    assert sent == [bytes([61, 0x3A]), bytes([62, 0x3A])]


@pytest.mark.parametrize("data,msg", [
    (bytes([0, 2]), "page 2 is not modelled"),
    (bytes([5, 0]), "page 0 register 5 is reserved"),
    (bytes([91, 0]), "page 0 register 91 is read-only"),
    (bytes([2, 0x02]), "sets reserved bits"),
    (bytes([43, 4]), "PSEL 4 is reserved"),
    (bytes([1, 0x01]), "only in standby"),
    (bytes([60, 3]), "PCTL 3 is reserved"),
])
def test_misuse_is_a_fault(sim, data, msg):
    sim.add_part(PCM5122(sim, 0, BCK, DIN))
    with pytest.raises(SimFault, match=msg):
        i2c().writeto(0x4C, data)


def test_reading_a_reserved_register_is_a_fault(sim):
    sim.add_part(PCM5122(sim, 0, BCK, DIN))
    with pytest.raises(SimFault, match="register 100 is reserved"):
        i2c().readfrom_mem(0x4C, 100, 1)


def test_dsp_format_and_384k_high_attenuation_are_faults(sim):
    dac, drv, i2s = ready(sim)
    with pytest.raises(SimFault, match="DSP format"):
        drv.write(40, 0x12)
    sim2 = bare_sim(app=True)
    sim2.add_part(PCM5122(sim2, 0, BCK, DIN))
    drv = fw5122.PCM5122(i2c())
    drv.init(filter=fw5122.FILTER_HIGH_ATTENUATION)
    with pytest.raises(SimFault, match="384 kHz"):
        tx(rate=384000)


def test_unpowered_chip_does_not_acknowledge():
    sim = bare_sim(powered=False, app=True)
    sim.add_part(PCM5122(sim, 0, BCK, DIN))
    with pytest.raises(OSError):
        i2c().writeto(0x4C, bytes([2, 0]))


def test_registers_reset_in_standby(sim):
    dac = sim.add_part(PCM5122(sim, 0, BCK, DIN))
    bus = i2c()
    bus.writeto(0x4C, bytes([61, 0x80]))
    bus.writeto(0x4C, bytes([2, 0x10]))
    bus.writeto(0x4C, bytes([1, 0x01]))
    assert dac.reg(0, 61) == 0x30 and dac.reg(0, 2) == 0 and dac.reg(0, 1) == 0
