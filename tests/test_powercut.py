"""Power cuts at every block operation of a settings save, on littlefs (vfs.VfsLfs2) on
the MicroPython Unix port: the settings read back old or new, never corrupt or lost, and
the firmware boots from what is left, muted until its settle delay (headroom.powercut)."""
import pytest

from headroom import powercut

from helpers import BALANCED, SE


@pytest.mark.parametrize("board", [SE, BALANCED], ids=["se", "balanced"])
def test_a_cut_at_any_block_operation_of_a_save_keeps_old_or_new(board):
    out = powercut.run(board, saves=20, boot_every=8)
    assert out["problems"] == [] and out["corruptions"] == 0 and out["violations"] == 0
    # Every operation of every save, between two and in the middle of one.
    assert out["cut_points"] == 2 * out["ops"] and out["ops"] >= 20
    assert out["boots"] >= 4


def test_the_harness_finds_a_save_that_is_not_atomic():
    """One file rewritten in two steps (no A/B pair): some cut leaves it half written."""
    out = powercut.run(SE, saves=6, boot_every=0, broken=True)
    assert out["corruptions"] > 0
