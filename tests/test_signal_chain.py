"""The whole signal chain: the firmware's test signal over I2S, the DAC, the PGA2311, the
stages and relays, to Vrms at the jack; it equals the volume setting."""
import machine
import pytest

from headroom.sim.simboard import SimBoard

from helpers import BALANCED, SE


def play(b, channels=None, dbfs=0.0):
    from headroom_signals import siggen
    x = b.board
    b.sim.cpu_enter()   # this is code typed at the board's REPL
    i2s = machine.I2S(x.i2s_id, sck=machine.Pin(x.i2s_sck), ws=machine.Pin(x.i2s_ws),
                      sd=machine.Pin(x.i2s_sd), mode=machine.I2S.TX, bits=x.i2s_bits,
                      format=machine.I2S.STEREO, rate=x.i2s_rate, ibuf=8192)
    g = siggen.SigGen(i2s, x.i2s_rate, x.i2s_bits)
    g.sine(1000, dbfs, siggen.BOTH if channels is None else channels)
    return g


@pytest.mark.parametrize("path", [SE, BALANCED], ids=["se", "balanced"])
@pytest.mark.parametrize("gain", ["low", "high"])
def test_jack_vrms_equals_the_volume_within_a_tenth_of_a_db(path, gain):
    b = SimBoard(path, keep_trace=True, record_dac=True)
    try:
        b.set_gain(gain)
        if b.output_switch is not None and path == BALANCED:
            b.set_output("balanced")
        b.power(True)
        b.run_ms(3000)
        play(b)
        b.run_ms(300)
        left, right = b.jack_vrms(100)
        want = b.board.default_hdb * 50           # -30 dBV
        for got in (left, right):
            assert got is not None and abs(got - want) <= 10, (gain, got, want)
        assert '"kind": "signal"' in b.trace.text()
        assert not b.sim.faults
    finally:
        b.close()


def test_a_left_only_signal_reaches_only_the_left_channel():
    from headroom_signals import siggen
    b = SimBoard(SE, record_dac=True)
    try:
        b.power(True)
        b.run_ms(3000)
        play(b, siggen.LEFT)
        b.run_ms(300)
        left, right = b.jack_vrms(100)
        assert left is not None and abs(left - (-3000)) <= 10
        assert right is None
    finally:
        b.close()


def test_muted_output_carries_no_signal():
    b = SimBoard(SE, record_dac=True)
    try:
        b.power(True)
        b.run_ms(3000)
        play(b)
        b.run_ms(300)
        b.press(True)
        b.run_ms(150)
        b.press(False)
        b.run_ms(200)
        assert b.jack_vrms(100) == [None, None]
    finally:
        b.close()
