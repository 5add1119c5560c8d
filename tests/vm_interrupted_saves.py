"""Run by MicroPython's Unix port (tests/test_vboard_blockdev.py): a Ctrl-C landing in the
middle of each flash block operation of a save, in turn, on littlefs over the virtual
board's block device; with `unbroken`, blockdev.Unbroken around it.

    micropython vm_interrupted_saves.py HOST_TOOLS IMAGE unbroken|bare

Prints one line: the interrupts that landed, the interrupts put back (again()), and
the saves that read back wrong or failed afterwards."""
import gc
import os
import sys

import vfs

sys.path.insert(0, sys.argv[1])
from headroom.vboard.blockdev import BLOCK_SIZE, FileBlockDev, Unbroken  # noqa: E402


class Interrupting(FileBlockDev):
    """The boom-th operation is cut by a KeyboardInterrupt: as it starts, or once its
    work is done but before it returns (`middle`). Allocation-free, as littlefs needs."""

    def __init__(self, f):
        FileBlockDev.__init__(self, f, BLOCK_SIZE, 32)
        self.ops = 0
        self.boom = -1
        self.landed = 0
        self.middle = False

    def _op(self, middle):
        if middle != self.middle:
            return
        if not middle:
            self.ops += 1
        if self.ops == self.boom:
            self.landed += 1
            raise KeyboardInterrupt

    def readblocks(self, block, buf, off=0):
        self._op(False)
        FileBlockDev.readblocks(self, block, buf, off)
        self._op(True)

    def writeblocks(self, block, buf, off=None):
        self._op(False)
        FileBlockDev.writeblocks(self, block, buf, off)
        self._op(True)

    def ioctl(self, op, arg):
        if op == 6:
            self._op(False)
            self._op(True)
        return FileBlockDev.ioctl(self, op, arg)


def save(path, text):
    with open(path + ".tmp", "w") as f:
        f.write(text)
    os.rename(path + ".tmp", path)


image, how = sys.argv[2], sys.argv[3]
again = [0]


def put_back():
    again[0] += 1


wrong = landed = 0
for case in range(2 * 40):
    boom, middle = case // 2 + 1, bool(case & 1)
    with open(image, "wb") as f:
        f.write(b"\xff" * BLOCK_SIZE * 32)
    raw = Interrupting(open(image, "r+b"))
    dev = Unbroken(raw, put_back) if how == "unbroken" else raw
    vfs.VfsLfs2.mkfs(dev)
    vfs.mount(vfs.VfsLfs2(dev), "/m")
    save("/m/s.json", "x" * 300)
    raw.ops = 0
    raw.boom = boom
    raw.middle = middle
    try:
        save("/m/s.json", "y" * 300)
    except KeyboardInterrupt:
        pass
    raw.boom = -1
    try:
        save("/m/s.json", "z" * 300)
        with open("/m/s.json") as f:
            if f.read() != "z" * 300:
                wrong += 1
    except OSError:
        wrong += 1
    vfs.umount("/m")
    gc.collect()      # a file the cut save left open is finalised on its own device
    raw.f.close()
    landed += raw.landed
print("landed %d again %d wrong %d" % (landed, again[0], wrong))
