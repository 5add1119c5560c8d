"""The test-signal generator, measured on the simulated I2S bus (and a DAC model's output)."""
import math

import machine
import numpy as np
import pytest
from headroom_signals.siggen import BOTH, LEFT, RIGHT, SigGen

from headroom.sim.i2s import registry as i2s_registry
from headroom.sim.models.pcm5102a import PCM5102A

I2S = machine.I2S
Pin = machine.Pin
BCK, DIN = 16, 18


def gen(rate=48000, bits=32, ibuf=8192):
    i2s = I2S(0, sck=Pin(BCK), ws=Pin(BCK + 1), sd=Pin(DIN), mode=I2S.TX, bits=bits,
              format=I2S.STEREO, rate=rate, ibuf=ibuf)
    return i2s, SigGen(i2s, rate, bits)


def capture(sim, seconds, skip=0.05):
    """Run, then the steady part of the capture as (n, 2) floats scaled to full scale = 1."""
    sim.run_for(int((seconds + skip) * 1e6))
    bus = i2s_registry(sim).streams[0]
    t, a = bus.samples()
    x = np.frombuffer(a, dtype=np.int32).reshape(-1, 2).astype(np.float64) / 2 ** (bus.bits - 1)
    start = int(skip * bus.rate)
    return x[start:start + int(seconds * bus.rate)]


def fit(x, f, rate):
    """Least-squares a sin + b cos + c at exactly f: (amplitude, residual)."""
    n = np.arange(len(x))
    w = 2 * np.pi * f / rate
    m = np.column_stack([np.sin(w * n), np.cos(w * n), np.ones(len(x))])
    coef, *_ = np.linalg.lstsq(m, x, rcond=None)
    return math.hypot(coef[0], coef[1]), x - m @ coef


def thd_n_db(x, f, rate):
    """THD+N: the fundamental notched out by the fit, residual RMS over signal RMS."""
    amp, res = fit(x, f, rate)
    return 20 * math.log10(np.sqrt(np.mean(res ** 2)) / np.sqrt(np.mean(x ** 2)))


def freq_estimate(x, f, rate):
    """Four-parameter sine fit (Gauss-Newton on the frequency too)."""
    n = np.arange(len(x)) - len(x) / 2
    w = 2 * np.pi * f / rate
    for _ in range(6):
        m = np.column_stack([np.sin(w * n), np.cos(w * n), np.ones(len(x))])
        (a, b, c), *_ = np.linalg.lstsq(m, x, rcond=None)
        d = n * (a * np.cos(w * n) - b * np.sin(w * n))
        m4 = np.column_stack([m, d])
        (a, b, c, dw), *_ = np.linalg.lstsq(m4, x, rcond=None)
        w += dw
    return w * rate / (2 * np.pi)


# ---------------------------------------------------------------- frequency

@pytest.mark.parametrize("rate,freq", [(48000, 1000), (48000, 997), (44100, 1234.567)])
def test_frequency_is_exact(sim, rate, freq):
    i2s, g = gen(rate)
    g.sine(freq, -1.0)
    x = capture(sim, 2.0)[:, 0]
    assert abs(freq_estimate(x, freq, rate) / freq - 1) < 1e-9
    # No drift over the whole capture: the fit at exactly `freq` leaves nothing but noise.
    # (A 1e-6 frequency error would leave a residual near -40 dB.)
    assert thd_n_db(x, freq, rate) < -120


def test_zero_crossings_over_ten_seconds(sim):
    i2s, g = gen(48000, bits=16)
    g.sine(997, -3.0, LEFT)
    x = capture(sim, 10.0)[:, 0]
    ups = np.flatnonzero((x[:-1] < 0) & (x[1:] >= 0))
    # 997 cycles a second: 9970 upward crossings, within one
    assert abs(len(ups) - 9970) <= 1
    # each crossing between its two samples, by linear interpolation
    t = ups + -x[ups] / (x[ups + 1] - x[ups])
    period = (t[-1] - t[0]) / (len(t) - 1)
    assert abs(48000 / period / 997 - 1) < 1e-6


# ---------------------------------------------------------------- level and purity

@pytest.mark.parametrize("dbfs", [-1.0, -20.0, -60.0])
def test_level_24_bit(sim, dbfs):
    i2s, g = gen()
    g.sine(997, dbfs)
    x = capture(sim, 1.0)
    for ch in (0, 1):
        amp, _ = fit(x[:, ch], 997, 48000)
        # 24-bit full scale: a sine of peak 2**23 - 1 counts is 0 dBFS
        assert 20 * math.log10(amp * 2 ** 23 / (2 ** 23 - 1)) == pytest.approx(dbfs, abs=0.05)


@pytest.mark.parametrize("dbfs", [-1.0, -20.0])
def test_level_16_bit(sim, dbfs):
    i2s, g = gen(bits=16)
    g.sine(440, dbfs)
    x = capture(sim, 1.0)
    amp, _ = fit(x[:, 0], 440, 48000)
    assert 20 * math.log10(amp * 2 ** 15 / (2 ** 15 - 1)) == pytest.approx(dbfs, abs=0.05)


@pytest.mark.parametrize("rate,freq", [(48000, 1000), (44100, 1000), (48000, 997)])
def test_thd_n_of_a_24_bit_sine_at_minus_1_dbfs(sim, rate, freq):
    i2s, g = gen(rate)
    g.sine(freq, -1.0)
    x = capture(sim, 1.0)
    assert thd_n_db(x[:, 0], freq, rate) < -120
    assert thd_n_db(x[:, 1], freq, rate) < -120


def test_thd_n_of_16_bit_is_its_quantisation(sim):
    i2s, g = gen(bits=16)
    g.sine(1000, -1.0)
    x = capture(sim, 1.0)
    assert -100 < thd_n_db(x[:, 0], 1000, 48000) < -90


def test_24_bit_samples_sit_in_the_top_of_the_32_bit_slot(sim):
    i2s, g = gen()
    g.sine(997, -1.0)
    sim.run_for(100000)
    t, a = i2s_registry(sim).streams[0].samples()
    raw = np.frombuffer(a, dtype=np.int32)
    assert not (raw & 0xFF).any() and raw.max() > 2 ** 30


# ---------------------------------------------------------------- channels and silence

@pytest.mark.parametrize("channels,live", [(LEFT, 0), (RIGHT, 1)])
def test_one_channel_only(sim, channels, live):
    i2s, g = gen()
    g.sine(997, -1.0, channels)
    x = capture(sim, 0.5)
    assert not x[:, 1 - live].any()                  # digital zero
    assert thd_n_db(x[:, live], 997, 48000) < -120


def test_silence_and_stop(sim):
    i2s, g = gen()
    g.sine(1000, -1.0, BOTH)
    sim.run_for(100000)
    g.silence()
    sim.run_for(200000)
    t, a = i2s_registry(sim).streams[0].samples()
    x = np.frombuffer(a, dtype=np.int32)
    assert not x[-2 * 4800:].any()
    n = g.refills
    g.stop()
    sim.run_for(100000)
    assert g.refills == n                             # the stopped generator writes nothing


def test_arguments_are_checked(sim):
    i2s, g = gen()
    with pytest.raises(ValueError):
        g.sine(24000, -1.0)
    with pytest.raises(ValueError):
        g.sine(1000, 0.5)
    with pytest.raises(ValueError):
        g.sine(1000, -1.0, 4)
    with pytest.raises(ValueError):
        SigGen(i2s, 48000, 24)


# ---------------------------------------------------------------- never blocking

def test_the_main_loop_never_waits_for_the_generator(sim):
    i2s, g = gen(ibuf=4096)
    t0 = sim.now()
    g.sine(997, -1.0)                                 # table path: the refill computes samples
    assert sim.now() == t0
    steps = []

    class App:
        waker = None

        def step(self):
            steps.append(sim.now())
            return 1

    sim.app = App()
    sim.next_wake_us = sim.clock.now_us
    x = capture(sim, 0.5)
    assert g.refills > 40                             # refilled from the scheduler ...
    assert max(np.diff(steps)) <= 1000               # ... while the main loop ran every ms
    assert thd_n_db(x[:, 0], 997, 48000) < -120      # and never ran dry


def test_through_the_pcm5102a_the_level_is_in_volts(sim):
    dac = sim.add_part(PCM5102A(sim, BCK, DIN, record=True))
    i2s, g = gen()
    g.sine(1000, -1.0)
    sim.run_for(200000)
    v = np.concatenate([np.frombuffer(d, np.float32) for t, f, n, d in dac.analog if d is not None])
    left = v[0::2][-9600:].astype(np.float64)
    vrms = np.sqrt(np.mean(left ** 2))
    assert 20 * math.log10(vrms / (2.1 * 10 ** (-1 / 20))) == pytest.approx(0, abs=0.05)
