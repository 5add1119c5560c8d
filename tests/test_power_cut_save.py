"""A power cut while a settings save erases flash (issue 13.2).

On rp2, littlefs erases and programs with the MCU's interrupts off (rp2_flash.c), so
the supply-fail IRQ waits for the erase: 45 ms typical, 400 ms at worst on the Pico's
W25Q16JV, against the boards' 20 ms hold-up. The simulator holds IRQs off for the
modelled erase; the cut falls 1 ms into it. Without a hardware mute path the MCU dies
with the output live (the trace checker's `silent-off` rule says so); with the board's
hardware mute path (power_sense.hardware_mute) the jack falls silent in order, XSMT at
once and the PGA2311 and the mute relay after the DAC's ramp, with no help from the MCU.
"""
import json

import pytest

from headroom.sim.cost import ERASE_EVERY
from headroom.sim.invariants import Checker
from headroom.sim.simboard import SimBoard

from helpers import BALANCED, SE


def board_file(tmp_path, path, hardware_mute):
    d = json.load(open(path))
    d["power_sense"]["hardware_mute"] = hardware_mute
    out = tmp_path / ("hw%d.json" % hardware_mute)
    out.write_text(json.dumps(d))
    return str(out)


def cut_during_a_save(path):
    """Boot, turn, and cut the supply 1 ms into the save's flash erase. Returns the board,
    its checker and the cut's time."""
    b = SimBoard(path)
    c = Checker(b.board)
    b.trace.listeners.append(c.live)
    b.power(True)
    b.run_ms(3000)
    b.turn(+6)
    sim = b.sim
    sim.cost.writes = ERASE_EVERY - 1          # the save's first write erases a block
    cut = []
    stall = sim.stall

    def stall_and_cut(us, irqs_off=True):
        if irqs_off and us >= 10000 and not cut:    # the erase, not a page program
            cut.append(sim.clock.now_us + 1000)
            sim.clock.at(cut[0], lambda _: sim.power(False))
        stall(us, irqs_off)

    sim.stall = stall_and_cut
    b.run_ms(b.board.save_delay_ms + 1000)
    assert cut, "no flash erase during the save"
    return b, c, cut[0]


def test_without_a_hardware_mute_path_the_mcu_dies_with_the_output_live(tmp_path):
    b, c, t_cut = cut_during_a_save(board_file(tmp_path, SE, False))
    rules = {r for _, r, _ in c.violations}
    assert {"off-sequence", "silent-off"} <= rules <= {"off-sequence", "silent-off", "click"}, \
        c.report()
    assert "the jack played" in c.report() and "XSMT was high" in c.report()
    b.close()


@pytest.mark.parametrize("path", [SE, BALANCED])
def test_the_hardware_mute_path_silences_the_jack_in_order_during_the_erase(path):
    b, c, t_cut = cut_during_a_save(path)
    assert c.ok(), c.report()
    recs = [json.loads(x) for x in b.trace.lines[1:]]
    t0 = b.sim.clock.origin_us
    gate = [(r["t_us"], r["stage"]) for r in recs if r["kind"] == "hardware_mute"]
    assert gate[0] == (t_cut - t0, "xsmt")
    assert gate[1] == (t_cut - t0 + b.board.dac_mute_ms * 1000, "pga_relay")
    off = [r["t_us"] for r in recs if r["kind"] == "off"]
    assert off and off[0] == t_cut - t0 + b.board.holdup_ms * 1000   # the MCU died mid-erase
    silent = [r["t_us"] for r in recs if r["kind"] == "chip" and r["chip"] == "jack"
              and r["state"]["left"] == "mute" and r["t_us"] >= t_cut - t0]
    assert silent and silent[0] <= t_cut - t0 + b.board.dac_mute_ms * 1000
    b.close()


def test_the_board_file_warns_without_a_hardware_path_and_a_short_hold_up(tmp_path):
    from headroom_fw import board as boardfile
    b = boardfile.load(board_file(tmp_path, SE, False))
    assert len(b.warnings) == 1 and "holdup_ms 20" in b.warnings[0] and "400 ms" in b.warnings[0]
    assert boardfile.load(SE).warnings == []
