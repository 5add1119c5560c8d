"""`headroom sim --check` and the panel without a terminal: the trace checker on any
scenario, exit 1 naming the rule and the time; scenario lines for a part the board lacks
refused before anything runs (exit 2)."""
import os
import shutil
import sys

import pytest

from headroom import cli
from headroom.panel.session import Session
from headroom.sim import run as sim_run
from headroom.sim import simboard
from headroom.sim.scenario import ScenarioError

from conftest import BALANCED, SE

# A user's mute and back, a gain switch: the un-muting order is exercised.
SCRIPT = "power on\nwait 3000\npress\nwait 1000\npress\nwait 1000\nswitch gain high\nwait 1500\n"

# Appended to a copy of the firmware's app.py: XSMT written high at the start of a pass's
# writes, before the relay and the PGA2311 open (the DAC's soft mute not opened last).
DAC_FIRST = '''

_write = App._write


def _dac_first(self):
    if not self.ctl.dac_mute and self.xsmt is not None and self.xsmt.muted:
        self.xsmt.mute(False)
    _write(self)


App._write = _dac_first
'''


@pytest.fixture
def dac_first(tmp_path, monkeypatch):
    """`headroom sim` and the panel run a firmware that opens the DAC first."""
    fw = tmp_path / "firmware"
    shutil.copytree(simboard.FIRMWARE_DIR, str(fw))
    with open(str(fw / "headroom_fw" / "app.py"), "a") as f:
        f.write(DAC_FIRST)
    monkeypatch.setattr(sys, "path", list(sys.path))   # use_firmware's insert undone after
    real = simboard.SimBoard
    monkeypatch.setattr(sim_run, "SimBoard",
                        lambda *a, **k: real(*a, **dict(k, firmware_dir=str(fw))))
    yield
    simboard._purge_firmware()


def _script(tmp_path, text=SCRIPT):
    path = tmp_path / "s.scn"
    path.write_text(text)
    return str(path)


def test_sim_check_passes_the_boards_scenario(capsys):
    # (every board's scenario passes the checker in test_scenarios, as recorded)
    assert cli.main(["sim", "--check", "--board", SE]) == 0
    assert ", 0 safety rules broken" in capsys.readouterr().out


def test_sim_check_names_the_rule_and_the_time(tmp_path, capsys, dac_first):
    path = _script(tmp_path)
    assert cli.main(["sim", "--board", SE, "--script", path]) == 0     # unchecked: as before
    capsys.readouterr()
    assert cli.main(["sim", "--check", "--board", SE, "--script", path]) == 1
    err = capsys.readouterr().err
    assert "s: safety rule mute-order broken: the DAC's XSMT went high while" in err
    t = float(err.split(" s: safety rule mute-order")[0].split("\n")[-1])
    assert 3.0 < t < 12.0


def test_the_panel_without_a_terminal_exits_1_when_a_rule_broke(tmp_path, capsys, dac_first):
    assert not sys.stdin.isatty()
    assert cli.main(["panel", "--board", SE, "--replay", _script(tmp_path)]) == 1
    assert "safety rule mute-order broken" in capsys.readouterr().err


def test_the_panel_without_a_terminal_exits_0_when_all_held(tmp_path):
    assert cli.main(["panel", "--board", SE, "--replay", _script(tmp_path)]) == 0


@pytest.mark.parametrize("line, why", [
    ("switch output balanced", "this board has no output switch"),
    ("switch gain auto", "this board's gain switch has two positions, low and high (auto is a "
                         "three-position switch's middle)"),
    ("expect output se", "this board has no output relay"),
    ("fault dac absent", "this board's DAC (pcm5102a) has no I2C bus"),
])
def test_a_line_for_a_part_the_board_lacks_is_refused_before_anything_runs(tmp_path, capsys,
                                                                           line, why):
    path = _script(tmp_path, "power on\nwait 3000\n" + line + "\n")
    assert cli.main(["sim", "--board", SE, "--script", path]) == 2
    out = capsys.readouterr()
    assert "line 3: %s: %s" % (line, why) in out.err
    assert out.out == ""                        # nothing ran: no timeline
    with pytest.raises(ScenarioError, match="line 3: "):
        Session(SE, replay="power on\nwait 3000\n" + line + "\n")


def test_the_same_lines_run_on_a_board_that_has_the_parts(tmp_path):
    path = _script(tmp_path, "power on\nwait 3000\nswitch output balanced\nwait 2000\n"
                             "expect output balanced\nfault sense low\nwait 100\n")
    assert cli.main(["sim", "--board", BALANCED, "--script", path]) == 0


def test_no_supply_monitor_no_sense_fault(tmp_path, capsys):
    from helpers import board_variant
    bare = board_variant(SE, lambda d: d.pop("power_sense"))
    path = _script(tmp_path, "power on\nfault sense low\n")
    assert cli.main(["sim", "--board", bare, "--script", path]) == 2
    assert "line 2: fault sense low: this board has no supply monitor" in capsys.readouterr().err
    assert os.path.exists(bare)
