"""The firmware on both supported MicroPython releases (1.24.1 and 1.26.1): where the rp2
port changed between them in something the firmware uses, the firmware gives the same
result on both. The simulator's `Sim.micropython` picks the release (docs/simulator.md, "MicroPython
releases"); the port's own behaviour under each is tested in test_machine_shim.py and
test_console.py."""
import pytest

from headroom.sim.simboard import SimBoard

from helpers import SE, board_variant, until_playing

RELEASES = [(1, 24, 1), (1, 26, 1)]


def _no_miso(d):
    del d["spi"]["miso"]


@pytest.mark.parametrize("release", RELEASES, ids=["1.24.1", "1.26.1"])
def test_a_board_without_miso_gets_the_same_spi_on_both_releases(release):
    """`SPI(miso=None)` means the default MISO pin on 1.24.1 and no pin from 1.25: the
    firmware leaves `miso` out, so SPI0 takes GP16 (which board.py keeps free) on both,
    and the PGA2311 gets its words."""
    b = SimBoard(board_variant(SE, _no_miso), decoder="irq")
    try:
        b.sim.micropython = release
        b.power(True)
        until_playing(b)
        assert b.sim.spi_pins.get(16) == (0, "MISO")
        assert all(c.codes != [0, 0] for c in b.pga.chips)     # playing: words landed
    finally:
        b.close()
