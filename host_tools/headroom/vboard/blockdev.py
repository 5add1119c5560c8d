"""The Pico's flash filesystem as a block device on an image file (MicroPython VM side).

The same geometry and format as MicroPython's rp2 port on a Raspberry Pi Pico:

- 4096-byte blocks (`BLOCK_SIZE_BYTES = FLASH_SECTOR_SIZE` in ports/rp2/rp2_flash.c);
- 1408 KiB of flash for the filesystem (`MICROPY_HW_FLASH_STORAGE_BYTES (1408 * 1024)` in
  ports/rp2/boards/RPI_PICO/mpconfigboard.h), so 352 blocks;
- littlefs v2, mounted (or formatted when the mount fails) with progsize=256, as
  ports/rp2/modules/_boot.py does.

The device is write-through: every program and erase is a write() on the image file
before writeblocks/ioctl returns, so killing the VM mid-write leaves exactly what a
power cut leaves on flash, which littlefs is built to survive. An erase fills the
block with 0xFF, as the flash does.

A `gate` (optional) is asked before every program and erase whether power is lost
during it: then only the first half of the operation reaches the image, and
`gate.lost()` does what losing power does (the virtual board's VM stops there; a
test harness raises). That is how a power cut lands exactly at the N-th block
operation of a copy or a settings save, however fast the machine. The gate may also
answer an errno (28 ENOSPC: the flash is full; 5 EIO: it fails): then the operation
does not happen and littlefs gets that error, which MicroPython raises as OSError
(`fault flash full|eio`; a file whose close is refused keeps its old contents).

`Unbroken` wraps a device so that a Ctrl-C never cuts an operation in two (the VM's
Ctrl-C is a signal; rp2's flash device is C, which a KeyboardInterrupt waits for).

Runs on the MicroPython VM (and on CPython): nothing beyond open/seek/readinto/write.
Nothing here allocates: littlefs calls it from file finalisers too, with the heap locked.
"""
BLOCK_SIZE = 4096
BLOCK_COUNT = 352
IMAGE_BYTES = BLOCK_SIZE * BLOCK_COUNT
PROG_SIZE = 256

# MP_BLOCKDEV_IOCTL_*
_INIT = 1
_DEINIT = 2
_SYNC = 3
_BLOCK_COUNT = 4
_BLOCK_SIZE = 5
_BLOCK_ERASE = 6


class FileBlockDev:
    """readblocks/writeblocks/ioctl (the extended interface littlefs uses) on an image file."""

    def __init__(self, f, block_size=BLOCK_SIZE, block_count=BLOCK_COUNT, gate=None):
        self.f = f
        self.block_size = block_size
        self.block_count = block_count
        self.gate = gate
        self._erased = b"\xff" * block_size
        self._half_erased = memoryview(self._erased)[:block_size // 2]

    def readblocks(self, block, buf, off=0):
        self.f.seek(block * self.block_size + off)
        n = self.f.readinto(buf)
        if n is None or n < len(buf):
            # Past the end of a short image file: erased flash.
            for i in range(n or 0, len(buf)):
                buf[i] = 0xFF

    def writeblocks(self, block, buf, off=None):
        if off is None:
            # The simple interface: erase the blocks, then program them.
            off = 0
        cut = self.gate.op() if self.gate is not None else False
        if cut is not True and cut:
            return -cut   # refused: the errno, negative, as littlefs takes it
        self.f.seek(block * self.block_size + off)
        if cut:
            self.f.write(memoryview(buf)[:len(buf) // 2])
            self.gate.lost()
        self.f.write(buf)

    def ioctl(self, op, arg):
        if op == _BLOCK_COUNT:
            return self.block_count
        if op == _BLOCK_SIZE:
            return self.block_size
        if op == _BLOCK_ERASE:
            cut = self.gate.op() if self.gate is not None else False
            if cut is not True and cut:
                return -cut
            self.f.seek(arg * self.block_size)
            if cut:
                self.f.write(self._half_erased)
                self.gate.lost()
            self.f.write(self._erased)
            return 0
        if op == _INIT or op == _DEINIT or op == _SYNC:
            return 0
        return None


class Unbroken:
    """A block device whose operations a KeyboardInterrupt does not cut in two, as on
    the board.

    rp2's flash device is C: a Ctrl-C waits for the operation (and the littlefs call
    around it) to finish. On the virtual board the device is Python, run from inside
    littlefs, and the supervisor's SIGINT can land in the middle of it: the exception
    would unwind through littlefs's C code and leave its state half-changed (a later
    save read back as the one before it, a rename that fails with ENOENT). So an
    interrupt caught during an operation is put back: the operation is done again,
    whole (each is idempotent: the same bytes to the same place), and `again()` puts
    the Ctrl-C back where it lands outside littlefs (vm.py: at the firmware's next
    call, or sent again by the supervisor at the REPL). Nothing allocated."""

    def __init__(self, dev, again):
        self.dev = dev
        self.again = again

    def readblocks(self, block, buf, off=0):
        try:
            return self.dev.readblocks(block, buf, off)
        except KeyboardInterrupt:
            self.again()
        return self.dev.readblocks(block, buf, off)

    def writeblocks(self, block, buf, off=None):
        try:
            return self.dev.writeblocks(block, buf, off)
        except KeyboardInterrupt:
            self.again()
        return self.dev.writeblocks(block, buf, off)

    def ioctl(self, op, arg):
        try:
            return self.dev.ioctl(op, arg)
        except KeyboardInterrupt:
            self.again()
        return self.dev.ioctl(op, arg)
