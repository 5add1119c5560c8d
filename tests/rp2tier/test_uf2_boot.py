"""`headroom uf2` on MicroPython's real rp2 port: the UF2 it makes from the tier's
MicroPython UF2 (`make test-rp2 UF2=FILE`) is all the emulated Pico gets (an erased flash,
as a new Pico, then the UF2's blocks, as the boot ROM writes them), and it boots to a
playing amplifier: MicroPython mounts the littlefs image at its first boot, main.py
imports the firmware as .mpy, the output comes live with the default settings."""
import os
import subprocess
import sys
import time

import pytest

from headroom.rp2tier.board import Rp2Board
from headroom.rp2tier.console import Console

from .rp2kit import BOARDS, BOOT_US, ms


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.xdist_group(n))
                                  for n in ("pico-se", "pico-balanced")])
def test_uf2_boots_to_playing(tier, uf2, name, report, tmp_path):
    tier.stop_boards()                  # one emulator at a time
    out = str(tmp_path / ("headroom-%s.uf2" % name))
    p = subprocess.run([sys.executable, "-m", "headroom", "uf2", "--micropython", uf2,
                        "--board", BOARDS[name], "-o", out], capture_output=True, text=True,
                       timeout=300)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "settings are lost" in p.stdout and "headroom flash" in p.stdout
    t0 = time.monotonic()
    b = Rp2Board(out, BOARDS[name]).start()
    try:
        console = Console(b)
        playing = b.wait_playing(until_us=BOOT_US)
        status = console.request("status", within_ms=2000)
        version = console.request("version", within_ms=2000)
        wall = time.monotonic() - t0
    finally:
        b.stop()
    from headroom.sim.simboard import use_firmware
    use_firmware()
    from headroom_fw.version import VERSION
    release = os.path.basename(uf2)
    report("uf2 boot", board=name, micropython=release, uf2_bytes=os.path.getsize(out),
           playing_ms=ms(playing), wall_s=round(wall, 1))
    assert status["ok"] and not status.get("faults"), status
    assert version.get("firmware") == VERSION, version
    assert status.get("phase") == "playing" and not status.get("mute"), status
    assert not b.resets, "the board reset while booting at %s" % b.resets
