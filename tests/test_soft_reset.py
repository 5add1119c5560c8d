"""Soft resets keep the pins driving, as on rp2 (issue 13.3).

rp2's soft reset (Ctrl-D, or mpremote entering the raw REPL to copy files) stops pin
IRQs, PIO, I2S and timers but leaves every GPIO as it was: the mute relay energized,
the PGA2311 and the DAC unmuted (the DAC silent only for want of a clock, until
main.py starts I2S again at the old level, no fade), and nothing left to answer a
supply failure. boot.py
runs after every reset, main.py only from the friendly REPL. The firmware's boot.py
mutes in the muting order; the trace checker's rules hold across the reset.
"""
import json

import pytest

from headroom.sim.invariants import Checker
from headroom.sim.simboard import SimBoard

from helpers import BALANCED, SE


def playing(path):
    b = SimBoard(path)
    b.checker = Checker(b.board)
    b.trace.listeners.append(b.checker.live)
    b.power(True)
    b.run_ms(3000)
    b.turn(+10)
    b.run_ms(b.board.save_delay_ms + 1000)   # saved: Ctrl-C would have saved it too
    assert b.relays["mute"].energized and b.jack.levels[0] is not None
    return b


def pin_times(b, since, pins):
    out = {}
    for line in b.trace.lines[1:]:
        r = json.loads(line)
        if r["kind"] == "pin" and r["t_us"] >= since and r["pin"] in pins and r["pin"] not in out:
            out[r["pin"]] = (r["t_us"], r["level"])
    return out


def test_without_boot_py_a_soft_reset_leaves_the_output_live_and_unguarded():
    b = playing(SE)
    b.sim.boot_py = None
    b.soft_reset(main=False)                  # mpremote's raw REPL: main.py does not run
    b.run_ms(500)                             # (until the watchdog, still counting, resets it)
    bd = b.board
    # I2S stopped: the DAC is silent for want of a clock; the path after it stays open
    assert b.jack.levels[0] is not None and b.relays["mute"].energized and b.sim.gpio[bd.pga_mute].level == 1
    assert b.sim.gpio[bd.dac_xsmt].level == 1 and any(c.codes != [0, 0] for c in b.pga.chips)
    assert b.sim.gpio[bd.power_sense].handler is None       # no supply-fail IRQ any more
    b.close()


@pytest.mark.parametrize("path", [SE, BALANCED])
def test_boot_py_mutes_in_order_after_a_soft_reset_from_the_raw_repl(path):
    b = playing(path)
    bd = b.board
    t = b.sim.clock.now_us - b.sim.clock.origin_us
    b.soft_reset(main=False)
    b.run_ms(500)
    assert b.jack.levels == (None, None) and not b.relays["mute"].energized
    assert all(c.codes == [0, 0] or b.sim.gpio[bd.pga_mute].level == 0 for c in b.pga.chips)
    got = pin_times(b, t, (bd.dac_xsmt, bd.pga_mute, bd.mute_relay.pin))
    t_x, t_m, t_r = got[bd.dac_xsmt][0], got[bd.pga_mute][0], got[bd.mute_relay.pin][0]
    assert t_m - t_x >= bd.dac_mute_ms * 1000          # the DAC's ramp first
    assert t_r - t_m >= 16000                          # the PGA2311's zero-crossing time-out
    assert b.checker.ok(), b.checker.report()
    assert b.app is None                               # the raw REPL: main.py did not run
    b.close()


def test_a_soft_reset_from_the_friendly_repl_restarts_muted_and_fades_back_in():
    b = playing(SE)
    level = b.jack.levels[0]
    b.soft_reset(main=True)
    b.run_ms(100)
    assert b.jack.levels == (None, None)
    b.run_ms(5000)
    assert b.app is not None and b.jack.levels[0] == level
    assert b.checker.ok(), b.checker.report()
    b.close()


def test_a_snapshot_restored_on_a_new_board_is_the_same_board_and_traces_nothing():
    # the virtual board carries a soft reset across VM processes this way
    a = playing(SE)
    snap = json.loads(json.dumps(a.sim.snapshot()))   # through JSON, as between processes
    levels, codes = a.jack.levels, [c.codes for c in a.pga.chips]
    a.close()
    b = SimBoard(SE)
    b.power(True)
    b.sim.clock.run_until(b.sim.clock.now_us + 400000)
    n = len(b.trace.lines)
    b.sim.restore(snap)
    assert len(b.trace.lines) == n                       # nothing happened
    assert b.jack.levels == levels and [c.codes for c in b.pga.chips] == codes
    assert b.relays["mute"].energized and b.sim.gpio[b.board.pga_mute].level == 1
    assert b.sim.gpio[b.board.mute_relay.pin].mcu_drives()
    b.close()


@pytest.mark.parametrize("path", [SE, BALANCED], ids=["se", "balanced"])
def test_power_lost_while_the_firmware_starts_stops_it_there_and_the_next_power_on_plays(
        checked, path):
    """The supply fails as main.py starts (found by `make reliability`): the hold-up runs
    out in the middle of the firmware's set-up, the MCU stops there, and the next power-on
    boots and plays. Swept across the start-up (about 0.58 s after power-on), so that the
    cuts land before, inside and after the set-up."""
    from helpers import until_playing
    for cut_ms in range(530, 650, 5):
        b = checked(path, run_ms=cut_ms)
        b.power(False)
        b.run_ms(50)
        b.power(True)
        until_playing(b)
        assert b.jack.levels[0] is not None and not b.sim.crashes
