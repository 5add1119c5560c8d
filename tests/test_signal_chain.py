"""The whole signal chain: a test signal over I2S, the DAC, the PGA2311, the stages and
relays, to Vrms at the jack; it equals the volume setting. The I2S master is the Pico
(its test signals, `source` "pico") or an external source module (pico-balanced, and
pico-se with one), whichever the board file says."""
import machine
import pytest

from headroom.sim.simboard import SimBoard

from helpers import BALANCED, SE, SE_EXTERNAL


def play(b, channels=None, dbfs=0.0):
    """A 1 kHz sine at `dbfs` from the board's I2S master: the Pico's own I2S (siggen,
    typed at its REPL), or the external source's first input (both channels)."""
    from headroom_signals import siggen
    x = b.board
    if b.source is not None:
        assert channels is None, "the source model plays both channels"
        b.source.play(x.input_names[0], 1000, int(dbfs * 1000))
        return b.source
    b.sim.cpu_enter()   # this is code typed at the board's REPL
    i2s = machine.I2S(x.i2s_id, sck=machine.Pin(x.i2s_sck), ws=machine.Pin(x.i2s_ws),
                      sd=machine.Pin(x.i2s_sd), mode=machine.I2S.TX, bits=x.i2s_bits,
                      format=machine.I2S.STEREO, rate=x.i2s_rate, ibuf=8192)
    g = siggen.SigGen(i2s, x.i2s_rate, x.i2s_bits)
    g.sine(1000, dbfs, siggen.BOTH if channels is None else channels)
    return g


@pytest.mark.parametrize("path", [SE, BALANCED, SE_EXTERNAL],
                         ids=["se-pico-master", "balanced-external-master", "se-external-master"])
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


@pytest.mark.parametrize("path", [SE, BALANCED], ids=["pico-master", "external-master"])
def test_muted_output_carries_no_signal(path):
    b = SimBoard(path, record_dac=True)
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


def test_the_picos_i2s_on_a_bus_an_external_source_drives_is_a_fault():
    """Two masters on one bus would fight: the simulator refuses the Pico's I2S there."""
    from headroom.sim.world import SimFault
    b = SimBoard(BALANCED, record_dac=True)
    try:
        b.power(True)
        b.run_ms(3000)
        x = b.board
        b.sim.cpu_enter()
        with pytest.raises(SimFault, match="external source module"):
            machine.I2S(x.i2s_id, sck=machine.Pin(x.i2s_sck), ws=machine.Pin(x.i2s_ws),
                        sd=machine.Pin(x.i2s_sd), mode=machine.I2S.TX, bits=x.i2s_bits,
                        format=machine.I2S.STEREO, rate=x.i2s_rate, ibuf=8192)
    finally:
        b.close()
