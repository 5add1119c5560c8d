"""The virtual board's flash under a Ctrl-C: on the board a KeyboardInterrupt waits for a
flash operation to finish (rp2's block device is C); on the VM the device is Python, and
blockdev.Unbroken keeps it so. Real littlefs (vfs.VfsLfs2) on MicroPython's Unix port."""
import os
import subprocess

import pytest

from headroom.vboard.vmproc import micropython_path

HERE = os.path.dirname(os.path.abspath(__file__))
HOST_TOOLS = os.path.join(os.path.dirname(HERE), "host_tools")


def run(tmp_path, how):
    try:
        vm = micropython_path()
    except Exception as e:  # no Unix port built
        pytest.skip("the MicroPython Unix port is not installed: %s" % e)
    p = subprocess.run([vm, "-X", "heapsize=4M", os.path.join(HERE, "vm_interrupted_saves.py"),
                        HOST_TOOLS, str(tmp_path / "img"), how],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    words = p.stdout.splitlines()[-1].split()
    return dict(zip(words[::2], map(int, words[1::2])))


def test_a_ctrl_c_in_a_flash_operation_waits_for_it(tmp_path):
    out = run(tmp_path, "unbroken")
    # Every operation of a save interrupted in turn: each put back, every later save right.
    assert out["landed"] >= 20 and out["again"] == out["landed"] and out["wrong"] == 0, out


def test_without_it_littlefs_is_left_half_changed(tmp_path):
    """What Unbroken is for: an interrupt unwinding through littlefs loses later saves."""
    out = run(tmp_path, "bare")
    assert out["landed"] >= 20 and out["wrong"] > 0, out
