"""The external source (board `inputs.source` "external": a USB bridge or an S/PDIF
receiver is the I2S master): its model drives the DAC model's I2S from the input the
selector chose; the PCM5122's status tells the firmware the rate and whether music
comes; auto-standby on its absence and waking on its return. Under the checker."""
import pytest

from headroom.sim.scenario import ScenarioError, parse

from helpers import BALANCED, SE, SE_EXTERNAL, ask, no_display, watched

# The PCM5122 says (its registers 91 and 120); for a PCM5102A the Pico counts the
# source's LRCK edges (clockwatch.py).
BOTH_DACS = pytest.mark.parametrize("board", [BALANCED, SE_EXTERNAL], ids=["pcm5122", "pcm5102a"])


@BOTH_DACS
def test_the_dac_sees_the_chosen_inputs_stream_and_the_firmware_says_so(board):
    b, c, _ = watched(no_display(board))
    b.run_ms(2500)
    s = ask(b, "status")
    assert (s["signal"], s["rate"]) == (False, None)          # nothing plays yet
    b.source.play("usb", 1000, -10000)
    b.run_ms(2500)
    s = ask(b, "status")
    assert (s["signal"], s["rate"]) == (True, "32-48 kHz") and b.dac.rate == 48000
    b.source.rate("spdif", 96000)
    b.source.play("spdif", 440, -20000)
    assert ask(b, "set input spdif")["input"] == "S/PDIF"      # letters and digits match
    b.run_ms(4000)
    s = ask(b, "status")
    assert (s["signal"], s["rate"]) == (True, "88.2-96 kHz") and b.dac.rate == 96000
    b.source.stop("spdif")
    b.run_ms(2500)
    assert ask(b, "status")["signal"] is False and b.dac.rate == 0
    c.finish(b.now_us())
    assert c.ok(), c.report()


def test_auto_standby_after_the_music_stops_and_back_to_the_same_level_when_it_returns():
    """pico-balanced (the controller's rule is the same whichever DAC tells it: a
    PCM5102A's LRCK watch is checked above)."""
    b, c, _ = watched(no_display(BALANCED))
    b.source.play("usb", 1000, -10000)
    assert ask(b, "set auto_standby_min 1")["auto_standby_min"] == 1
    b.run_ms(70000)                                # music plays: no standby
    assert ask(b, "status")["phase"] == "playing"
    v = ask(b, "status")["volume"]
    b.source.stop("usb")
    b.run_ms(58000)
    assert ask(b, "status")["phase"] == "playing"  # not a minute yet
    b.run_ms(5000)
    s = ask(b, "status")
    assert (s["phase"], s["standby"], s["trigger"]) == ("standby", True, False)
    b.source.play("usb", 440, -20000)              # the music returns: awake
    b.run_ms(8000)
    s = ask(b, "status")
    assert (s["phase"], s["volume"], s["trigger"]) == ("playing", v, True)
    c.finish(b.now_us())
    assert c.ok(), c.report()


def test_a_touch_keeps_it_awake_and_off_means_never():
    b, c, _ = watched(no_display(BALANCED))
    ask(b, "set auto_standby_min 1")
    b.run_ms(40000)
    b.run_us(b.turn(1))                            # a touch 40 s in: the minute starts again
    b.run_ms(40000)
    assert ask(b, "status")["phase"] == "playing"
    b.run_ms(25000)
    assert ask(b, "status")["phase"] == "standby"
    b.run_us(b.turn(1))
    b.run_ms(6000)
    ask(b, "set auto_standby_min 0")
    b.run_ms(70000)
    assert ask(b, "status")["phase"] == "playing"
    assert ask(b, "set auto_standby_min 241")["ok"] is False
    c.finish(b.now_us())
    assert c.ok(), c.report()


def test_the_lrck_watch_comes_back_after_a_soft_reset_and_a_power_cycle():
    """The PWM slice is set up afresh while the pin is still its (a soft reset), or from
    the chip's reset (power): never driving the source's clock (the model faults)."""
    b, c, _ = watched(no_display(SE_EXTERNAL))
    b.source.play("usb", 1000, -10000)
    b.run_ms(5000)
    assert ask(b, "status")["signal"] is True
    b.soft_reset()
    b.run_ms(5000)
    assert ask(b, "status")["signal"] is True
    b.power(False)
    b.run_ms(1000)
    b.power(True)
    b.run_ms(5000)
    assert ask(b, "status")["signal"] is True
    c.finish(b.now_us())
    assert c.ok(), c.report()


def test_a_board_whose_music_comes_from_the_pico_has_no_signal_and_never_sleeps_by_itself():
    b, _, _ = watched(no_display(SE))
    ask(b, "set auto_standby_min 1")
    b.run_ms(65000)
    s = ask(b, "status")
    assert (s["signal"], s["rate"], s["phase"]) == (None, None, "playing")


@pytest.mark.parametrize("line,why", [
    ("source usb play sine 1k -10", "use 'source NAME play sine"),
    ("source usb play sine 30k -10 dBFS", "20 Hz to 20 kHz"),
    ("source usb play sine 1k 3 dBFS", "-120 to 0 dBFS"),
    ("source usb rate 44000", "the DACs take"),
    ("source usb loud", "use 'source"),
])
def test_bad_source_lines_are_refused(line, why):
    with pytest.raises(ScenarioError) as e:
        parse(line)
    assert why in str(e.value)


def test_a_source_line_for_a_board_without_one_is_refused():
    from headroom.sim.scenario import check_board
    from headroom_fw import board as boardfile
    steps = parse("source usb stop")
    with pytest.raises(ScenarioError) as e:
        check_board(steps, boardfile.load(SE))
    assert "comes from the Pico" in str(e.value)
    with pytest.raises(ScenarioError) as e:
        check_board(parse("source tape stop"), boardfile.load(BALANCED))
    assert "no input tape (the board's: USB, S/PDIF)" in str(e.value)
