"""Faulty parts and failing firmware: reported, not fatal, and always quiet.

Each fault is injected in the simulated hardware (the scenario's `fault` command), and
what is checked is what the pins, the chip models and the control protocol show: the
PGA2311 gets its mute codes, every relay pin is driven released, the watchdog is armed,
`status` answers and names the part and its pins, nothing plays while the fault stands,
and once the part answers the level fades back in (the trace checker's rules hold).
"""
import json

import pytest

from headroom.sim.simboard import SimBoard

from helpers import BALANCED, SE, ask


def frames(b):
    return [json.loads(x) for x in b.trace.lines[1:] if '"kind": "spi"' in x]


def quiet_and_safe(b):
    """Silent, every relay released, the PGA2311 at mute, the watchdog armed."""
    assert b.jack.levels == (None, None)
    assert not any(r.energized for r in b.relays.values()) or not b.relays["mute"].energized
    assert not b.relays["mute"].energized
    assert all(c.codes == [0, 0] for c in b.pga.chips)
    assert b.sim.wdt_event is not None
    for name in ("mute", "gain", "output"):
        r = getattr(b.board, name + "_relay")
        if r is not None:
            level = b.sim.gpio[r.pin]
            assert level.mcu_drives() and level.out == (0 if r.active_high else 1), name


def test_a_dac_that_does_not_answer_is_reported_and_held_muted(checked):
    b = checked(BALANCED, lambda b: b.fault("dac", True), run_ms=0)
    b.run_ms(3000)
    quiet_and_safe(b)
    s = ask(b, "status")
    assert s["phase"] == "held"
    assert s["faults"] == ["dac: no answer from the PCM5122 at 0x4C on I2C0 (GP4 SDA, GP5 SCL) "
                           "(no acknowledge)"]
    assert frames(b)[0]["data"] == "5aa55aa5" and frames(b)[1]["data"] == "00000000"
    # It answers again: set up, and the level fades in from the floor.
    b.fault("dac", False)
    b.run_ms(4000)
    assert ask(b, "status")["faults"] == []
    assert b.jack.levels[0] is not None and abs(b.jack.levels[0] - -3000) < 100
    assert b.dac.reg(0, 61) == 0x30  # its digital volume set to 0 dB again
    assert "fault: dac" in ask(b, "log")["log"] and "cleared: dac" in ask(b, "log")["log"]


def test_a_dac_that_goes_away_while_playing_mutes_in_order(checked):
    b = checked(BALANCED, run_ms=0)
    b.run_ms(3000)
    assert b.jack.levels[0] is not None
    b.fault("dac", True)
    b.run_ms(3000)
    quiet_and_safe(b)
    assert ask(b, "status")["phase"] == "held"
    b.fault("dac", False)
    b.run_ms(4000)
    assert b.jack.levels[0] is not None


def test_an_i2c_bus_held_low_is_named_as_such(checked):
    b = checked(BALANCED, lambda b: b.fault("i2c", True), run_ms=0)
    b.run_ms(3000)
    quiet_and_safe(b)
    assert ask(b, "status")["faults"] == [
        "dac: I2C0 is stuck: SDA (GP4) is held low, so the PCM5122 at 0x4C on I2C0 (GP4 SDA, "
        "GP5 SCL) cannot be reached",
        # The display on the DAC's bus: not a fault of its own, and not muting.
        "display: waits for I2C0, which it shares with the DAC: see the DAC's fault"]
    b.fault("i2c", False)
    b.run_ms(4000)
    assert ask(b, "status")["faults"] == [] and b.jack.levels[0] is not None


@pytest.mark.parametrize("path", [SE, BALANCED])
def test_a_pga2311_that_reset_is_found_and_faded_back_in(checked, path):
    b = checked(path, run_ms=0)
    b.run_ms(3000)
    want = b.jack.levels
    assert want[0] is not None
    b.fault("pga", True)           # its supply dipped; the supply monitor saw nothing
    assert b.jack.levels == (None, None)
    # The chain check (every second) finds it, then the fade-in from the floor: waited
    # for as an event (the level back), within the check's period and a fade's length.
    for _ in range(300):
        b.run_ms(10)
        if b.jack.levels == want:
            break
    assert b.jack.levels == want   # back, and the checker saw it come up in ramp steps
    assert "the chain lost its codes" in ask(b, "log")["log"]


def test_a_supply_monitor_that_reads_low_at_boot_keeps_it_quiet_and_says_so(checked):
    b = checked(SE, lambda b: b.fault("sense", True), run_ms=0)
    b.run_ms(3000)
    quiet_and_safe(b)
    s = ask(b, "status")
    assert s["phase"] == "power-fail"
    assert s["faults"] == ["power_sense: the supply monitor on GP22 reads low at boot: the supply "
                           "is failing, or the monitor is not connected"]
    b.fault("sense", False)        # it reads high: the firmware starts again from boot
    b.run_ms(3500)
    assert ask(b, "status")["faults"] == [] and b.jack.levels[0] is not None


def test_a_failing_pass_restarts_muted_and_three_in_a_row_leave_it_in_the_fault_state(checked):
    b = checked(SE, run_ms=0)
    b.run_ms(3000)
    assert b.jack.levels[0] is not None
    from headroom_fw import lifecycle
    calls = []

    def broken(self):
        calls.append(1)
        raise RuntimeError("pass %d broke" % len(calls))

    original = lifecycle.App.step
    lifecycle.App.step = broken
    try:
        b.run_ms(10)
        assert b.jack.levels == (None, None)           # went quiet at once
        assert b.sim.app.state is not None and len(calls) == 1
        b.run_ms(100)                                   # restarted: the next pass broke too...
        assert len(calls) == 3
    finally:
        lifecycle.App.step = original
    s = ask(b, "status")
    assert s["phase"] == "fault" and "3 failures in a row" in s["faults"][0]
    quiet_and_safe(b)
    log = ask(b, "log")["log"]
    assert log.count("RuntimeError: pass") == 3 and "restarting muted" in log
    assert ask(b, "set volume -20")["ok"] is False
    b.run_ms(5000)                                      # still up: the watchdog is fed
    assert ask(b, "status")["phase"] == "fault" and b.sim.resets == 0


def test_one_failure_restarts_muted_and_plays_again(checked):
    b = checked(SE, run_ms=0)
    b.run_ms(3000)
    app = b.app
    app.step = lambda: (_ for _ in ()).throw(ValueError("once"))
    b.run_ms(10)
    assert b.app is not app and b.jack.levels == (None, None)
    b.run_ms(3000)                                      # through the settle delay, fading in
    assert b.jack.levels[0] is not None and abs(b.jack.levels[0] - -3000) < 100
    assert ask(b, "status")["faults"] == []
    assert "ValueError: once" in ask(b, "log")["log"]


def test_a_bad_board_file_gives_the_fault_state_and_touches_no_pin(tmp_path):
    b = SimBoard(SE, flash_dir=str(tmp_path))
    (tmp_path / "board.json").write_text('{"board": 1, "gain_swich": {}}')
    b.power(True)
    b.run_ms(1000)
    s = ask(b, "status")
    assert s["phase"] == "fault" and "board.json" in s["faults"][0]
    assert not any(g.mcu_drives() for g in b.sim.gpio)   # the hardware's pulls keep it muted
    b.close()


def _ask(b, line):
    n = len(b.console.replies())
    b.console.send(line + "\n")
    b.run_ms(100)
    return b.console.replies()[n]
