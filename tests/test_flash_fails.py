"""A full or failing flash never stops the music (issue 17.1).

The simulator's flash refuses writes as littlefs does with no free block (`fault flash
full`: OSError 28, ENOSPC) or with a chip that fails its programs (`fault flash eio`:
OSError 5, EIO); a refused file keeps its old contents. What is checked is what a
listener and a user see: the knob keeps changing the level at the jack, the firmware
never restarts nor enters its fault state, `status` says why the settings are not
saved until a save succeeds, the failure is in the log once, and the retries back off
(the trace checker watches every board: no rule broken, `save-per-pause` included).
"""
import json

import pytest

from headroom.readable import state_line
from headroom.sim.scenario import Runner, ScenarioError, parse, parse_line

from helpers import BALANCED, SE, ask

FULL = "the flash is full"   # OSError 28, or 36 for a file littlefs could not create
EIO = "the flash failed a write (OSError 5, EIO)"


def stored_volume(b):
    """The volume (dBV) of the newest settings copy on the board's flash."""
    copies = []
    for name in ("settings.json", "settings-b.json"):
        try:
            with open(b.flash_dir + "/" + name) as f:
                copies.append(json.load(f))
        except OSError:
            pass
    return max(copies, key=lambda d: d["n"])["volume"] if copies else None


def settings_writes(b):
    """Settings copies the flash took (its `flash` trace records)."""
    return sum(1 for x in b.trace.lines[1:] if '"kind": "flash"' in x and '"settings' in x)


@pytest.mark.parametrize("path", [SE, BALANCED], ids=["pico-se", "pico-balanced"])
def test_a_full_flash_keeps_the_music_and_says_the_settings_are_not_saved(checked, path):
    b = checked(path)
    for detents in (-1, +1):                     # both copies on the flash: the saves
        b.run_us(b.turn(detents))                # that fail rewrite them (ENOSPC, 28)
        b.run_ms(b.board.save_delay_ms + 500)
    assert settings_writes(b) == 2
    app = b.app
    level = b.jack.levels[0]
    b.fault("flash", "full")
    # Turns keep changing the level at the jack, past several failed saves.
    for detents in (+4, +3, -2):
        b.run_us(b.turn(detents))
        b.run_ms(b.board.save_delay_ms + 3000)   # the save falls due, fails, is retried
        assert b.jack.levels[0] is not None and b.jack.levels[0] != level, detents
        level = b.jack.levels[0]
        assert b.app is app                      # never restarted
    s = ask(b, "status")
    assert s["phase"] == "playing" and s["faults"] == []
    assert s["settings_error"] == "the flash is full (OSError 28, ENOSPC)"
    assert "settings not saved: the flash is full (OSError 28, ENOSPC)" in state_line(s)
    assert b.files.failed >= 3 and settings_writes(b) == 2
    wanted = s["volume"]
    # 120 s more of a full flash: the retries back off (1, 2, 4 ... 60 s), no hammering.
    tried = b.files.failed
    b.run_ms(120000)
    assert 2 <= b.files.failed - tried <= 4
    assert b.app is app and ask(b, "status")["phase"] == "playing" and b.sim.resets == 0
    # The flash takes writes again: the next retry (at most 60 s away) saves.
    b.fault("flash", None)
    b.run_ms(61000)
    s = ask(b, "status")
    assert s["settings_error"] is None and "not saved" not in state_line(s)
    assert stored_volume(b) == wanted
    log = ask(b, "log")["log"]
    assert log.count("settings not saved") == 1 and FULL in log
    assert "settings saved again after" in log
    assert "restarting" not in log and "fault" not in log
    assert b.app is app and b.sim.resets == 0
    assert settings_writes(b) == 3


def test_a_failing_flash_chip_is_named_and_the_first_retry_after_it_heals_saves(checked):
    b = checked(SE)
    b.fault("flash", "eio")
    b.run_us(b.turn(+2))
    b.run_ms(b.board.save_delay_ms + 100)
    assert ask(b, "status")["settings_error"] == EIO
    b.fault("flash", None)
    b.run_ms(1100)                               # the first retry comes 1 s after
    assert ask(b, "status")["settings_error"] is None and settings_writes(b) == 1
    log = ask(b, "log")["log"]
    assert log.count("settings not saved: " + EIO) == 1


def test_going_quiet_with_a_full_flash_still_goes_quiet(checked):
    b = checked(SE)
    b.fault("flash", "full")
    b.run_us(b.turn(+3))
    b.interrupt()                                 # Ctrl-C before the save fell due
    # One try of the save, one of its log line: both refused, the outputs quiet.
    assert b.jack.levels == (None, None) and b.files.failed == 2


def test_the_scenario_command_injects_it_and_is_checked_up_front(checked):
    assert parse_line(1, "fault flash full").args == ("flash", "full")
    assert parse_line(1, "fault flash eio").args == ("flash", "eio")
    assert parse_line(1, "fault flash ok").args == ("flash", None)
    with pytest.raises(ScenarioError, match="fault flash full|eio|ok"):
        parse("wait 10\nfault flash maybe\n")
    b = checked(BALANCED)
    failures = Runner(b).run(parse("fault flash full\nturn +3\nwait 5000\n"))
    assert failures == [] and ask(b, "status")["settings_error"].startswith(FULL)
    assert Runner(b).run(parse("fault flash ok\nwait 2000\n")) == []
    assert ask(b, "status")["settings_error"] is None
