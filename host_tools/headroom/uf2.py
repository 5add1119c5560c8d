"""`headroom uf2`: one UF2 to drag onto a Pico in BOOTSEL mode, MicroPython and Headroom.

    headroom uf2 --micropython RPI_PICO-20241129-v1.24.1.uf2 --board boards/pico-se.json -o headroom.uf2

The output is the user's MicroPython UF2, unchanged, followed by a littlefs image of the
port's filesystem region holding what `headroom flash` installs (boot.py, main.py, the
firmware as .mpy, the board file as board.json), as UF2 blocks at the region's address.
The Pico's boot ROM writes both; at the first boot MicroPython's _boot.py mounts the
filesystem (`vfs.VfsLfs2(rp2.Flash(), progsize=256)`) and runs main.py.

The MicroPython image is checked before anything is written:

- every block a UF2 block for the RP2040 (family ID 0xe48bff56), in flash, 256 bytes;
- its release read from its own bytes (the banner "MicroPython v1.24.1 on 2024-11-29"),
  one of `LAYOUTS`;
- its board from the filesystem the image declares in its binary info (the
  `bi_block_device` that rp2_flash.c tags "MicroPython"): address and size must be the
  table's, or the image is some other board's and its filesystem is elsewhere.

The filesystem region (`LAYOUTS`) is MicroPython's rp2 port: rp2_flash.c puts it at the
end of flash (MICROPY_HW_FLASH_STORAGE_BASE = PICO_FLASH_SIZE_BYTES -
MICROPY_HW_FLASH_STORAGE_BYTES; ROMFS, where a board has one, goes below it), with
4096-byte blocks (FLASH_SECTOR_SIZE); boards/RPI_PICO/mpconfigboard.h sets 1408 KB on the
Pico's 2 MB flash, boards/RPI_PICO_W 848 KB. The same in 1.24, 1.25 and 1.26.

The littlefs image is made as MicroPython makes its own (extmod/vfs_lfs.c with _boot.py's
arguments): block size 4096, the port's block count (littlefs refuses to mount a
superblock with another count), read size 32, program size 256, lookahead 32, cache 1024
(min(block size, 4 x max(read, prog)): an inline file larger than the reader's cache would
read short), names up to 255 bytes; on-disk format 2.0, which every littlefs MicroPython
has shipped can mount (2.1 is refused by 1.21 and older, which then formats the flash).
The whole region is written, erased blocks too: the boot ROM erases only the sectors a
UF2 writes, and littlefs would take a stale superblock from an older filesystem with a
higher revision for the newer one. So a board's settings (and anything else on its
filesystem) are gone after this UF2: `headroom flash` is the way to update.
"""
import json
import os
import re
import struct
import sys

from . import flash as flashmod
from . import mpy
from .errors import BAD_INPUT, CommandError

RP2040_FAMILY = 0xE48BFF56
FLASH_BASE = 0x10000000
UF2_MAGIC = (0x0A324655, 0x9E5D5157, 0x0AB16F30)
FLAG_FAMILY = 0x00002000
FLAG_NOT_MAIN_FLASH = 0x00000001
PAYLOAD = 256                 # bytes of flash per UF2 block, as the RP2040's boot ROM takes them
BLOCK_SIZE = 4096             # littlefs block = the flash's erase sector (FLASH_SECTOR_SIZE)

DOWNLOAD = "https://micropython.org/download/RPI_PICO/"

# Per MicroPython release (major.minor) and board: the filesystem region, (flash offset,
# littlefs blocks of BLOCK_SIZE). Figures from ports/rp2 (see the docstring).
LAYOUTS = {
    (1, 24): {"RPI_PICO": (0x0A0000, 352), "RPI_PICO_W": (0x12C000, 212)},
    (1, 25): {"RPI_PICO": (0x0A0000, 352), "RPI_PICO_W": (0x12C000, 212)},
    (1, 26): {"RPI_PICO": (0x0A0000, 352), "RPI_PICO_W": (0x12C000, 212)},
}
TESTED = ((1, 24), (1, 26))   # on the rp2 tier (tests/rp2tier/test_uf2_boot.py)

LFS_CONFIG = dict(block_size=BLOCK_SIZE, read_size=32, prog_size=256, lookahead_size=32,
                  cache_size=1024, name_max=255, block_cycles=100, disk_version=0x00020000)

_BANNER = re.compile(rb"MicroPython v(\d+)\.(\d+)\.(\d+)(?:-[0-9A-Za-z.+-]*)? on (\d{4}-\d\d-\d\d)")


def supported():
    return ", ".join("%d.%d.x" % r for r in sorted(LAYOUTS))


def _where():
    return "download MicroPython for the Raspberry Pi Pico (a release %s) from %s" % (
        supported(), DOWNLOAD)


class Image:
    """A MicroPython UF2, read and checked: its blocks, its flash (address: payload), its
    release, its board."""

    def __init__(self, path):
        self.path = path
        try:
            with open(path, "rb") as f:
                data = f.read()
        except OSError as e:
            raise CommandError("cannot read %s: %s" % (path, e.strerror or e), BAD_INPUT)
        self.data = data
        self.flash = {}
        self._blocks()
        self.version, self.date = self._release()
        self.board, self.region = self._layout()

    def _bad(self, why):
        return CommandError("%s: %s; %s" % (self.path, why, _where()), BAD_INPUT)

    def _blocks(self):
        data = self.data
        if len(data) < 512 or data[:8] != struct.pack("<II", *UF2_MAGIC[:2]):
            raise self._bad("not a UF2 file")
        if len(data) % 512:
            raise self._bad("not a whole number of UF2 blocks (%d bytes)" % len(data))
        for i in range(0, len(data), 512):
            m0, m1, flags, addr, size, _no, _n, family = struct.unpack_from("<8I", data, i)
            (m2,) = struct.unpack_from("<I", data, i + 508)
            if (m0, m1, m2) != UF2_MAGIC:
                raise self._bad("UF2 block %d is damaged (bad magic)" % (i // 512))
            if flags & FLAG_NOT_MAIN_FLASH:
                continue
            if not flags & FLAG_FAMILY or family != RP2040_FAMILY:
                raise self._bad("not an RP2040 image (UF2 family 0x%08x, the RP2040's is 0x%08x)"
                                % (family if flags & FLAG_FAMILY else 0, RP2040_FAMILY))
            if size != PAYLOAD or addr % PAYLOAD or not FLASH_BASE <= addr < FLASH_BASE + (16 << 20):
                raise self._bad("UF2 block %d is not 256 bytes of flash (0x%08x, %d bytes)"
                                % (i // 512, addr, size))
            self.flash[addr] = data[i + 32:i + 32 + PAYLOAD]
        if not self.flash:
            raise self._bad("no flash in this UF2")

    def flat(self):
        lo, hi = min(self.flash), max(self.flash) + PAYLOAD
        out = bytearray(b"\xff" * (hi - lo))
        for a, p in self.flash.items():
            out[a - lo:a - lo + PAYLOAD] = p
        return lo, bytes(out)

    def _release(self):
        _lo, flat = self.flat()
        m = _BANNER.search(flat)
        if m is None:
            raise self._bad("no MicroPython release in this image (it is some other RP2040 program)")
        ver = tuple(int(x) for x in m.group(1, 2, 3))
        if ver[:2] not in LAYOUTS:
            raise self._bad("MicroPython %d.%d.%d is not a release Headroom's UF2 supports" % ver)
        return ver, m.group(4).decode()

    def declared(self):
        """The filesystem the image declares in its binary info: (flash offset, bytes), or
        None. rp2_flash.c's bi_block_device: type 7 (BINARY_INFO_TYPE_BLOCK_DEVICE), tag
        'MP', then name, address, size, extra (uint32 each), flags (uint16)."""
        lo, flat = self.flat()
        for m in re.finditer(rb"\x07\x00MP", flat):
            if m.start() % 4 or m.start() + 22 > len(flat):
                continue
            _name, addr, size = struct.unpack_from("<III", flat, m.start() + 4)
            if FLASH_BASE <= addr < FLASH_BASE + (16 << 20) and size and size % BLOCK_SIZE == 0:
                return addr - FLASH_BASE, size
        return None

    def _layout(self):
        boards = LAYOUTS[self.version[:2]]
        have = self.declared()
        for name, (off, blocks) in sorted(boards.items()):
            if have == (off, blocks * BLOCK_SIZE):
                return name, (off, blocks)
        if have is None:
            raise self._bad("MicroPython %s does not say where its filesystem is" % self.release)
        raise self._bad("MicroPython %s for a board Headroom does not know (its filesystem: %d KB "
                        "at 0x%06x; the Pico's: 1408 KB at 0x0a0000)"
                        % (self.release, have[1] // 1024, have[0]))

    def frozen(self):
        """True when Headroom's package is frozen into this MicroPython (a build with
        firmware/manifest.py): the names of frozen modules are in the image, as
        "headroom_fw/app.py"."""
        _lo, flat = self.flat()
        return b"headroom_fw/app.py\0" in flat

    @property
    def release(self):
        return "%d.%d.%d" % self.version


def littlefs_image(files, blocks):
    """A littlefs image of `blocks` blocks holding {path on the board: local file}."""
    from littlefs import LittleFS
    fs = LittleFS(block_count=blocks, mount=False, **LFS_CONFIG)
    fs.format()
    fs.mount()
    for remote in sorted(files):
        folder = os.path.dirname(remote)
        if folder and not _exists(fs, folder):
            fs.makedirs(folder, exist_ok=True)
        with open(files[remote], "rb") as src, fs.open(remote, "wb") as dst:
            dst.write(src.read())
    fs.unmount()
    return bytes(fs.context.buffer)


def _exists(fs, path):
    try:
        fs.stat(path)
        return True
    except Exception:
        return False


def read_image(image, blocks):
    """{path: bytes} of every file in a littlefs image (as the board would read it)."""
    from littlefs import LittleFS, UserContext
    ctx = UserContext(len(image))
    ctx.buffer[:] = image
    fs = LittleFS(context=ctx, block_count=blocks, mount=False, **LFS_CONFIG)
    fs.mount()
    out = {}
    for root, _dirs, names in fs.walk("/"):
        for n in names:
            p = (root.rstrip("/") + "/" + n).lstrip("/")
            with fs.open(p, "rb") as f:
                out[p] = f.read()
    fs.unmount()
    return out


def uf2_blocks(chunks):
    """UF2 bytes for [(flash address, 256 bytes)], numbered in order, the RP2040's family."""
    n = len(chunks)
    out = bytearray()
    for i, (addr, payload) in enumerate(chunks):
        out += struct.pack("<8I", UF2_MAGIC[0], UF2_MAGIC[1], FLAG_FAMILY, addr, PAYLOAD, i, n,
                           RP2040_FAMILY)
        out += payload + b"\0" * (476 - PAYLOAD)
        out += struct.pack("<I", UF2_MAGIC[2])
    return bytes(out)


def build(mp, board_path, firmware=mpy.FIRMWARE_DIR):
    """(uf2 bytes, the files on the board {path: local file}, the littlefs image)."""
    off, blocks = mp.region
    files = flashmod.board_files(board_path, firmware)
    if mp.frozen():
        # rp2's sys.path is ['', '.frozen', '/lib']: a copy on the filesystem would shadow
        # the frozen package (and take the heap that freezing saves).
        files = {r: f for r, f in files.items() if not r.startswith("headroom_fw/")}
    image = littlefs_image(files, blocks)
    fw_end = max(mp.flash) + PAYLOAD - FLASH_BASE
    if fw_end > off:
        raise CommandError("%s: MicroPython reaches 0x%06x, into its own filesystem at 0x%06x"
                           % (mp.path, fw_end, off), BAD_INPUT)
    chunks = sorted(mp.flash.items())
    base = FLASH_BASE + off
    chunks += [(base + i, image[i:i + PAYLOAD]) for i in range(0, len(image), PAYLOAD)]
    return uf2_blocks(chunks), files, image


def default_output(mp, board_path):
    stem = os.path.splitext(os.path.basename(board_path))[0]
    return "headroom-%s-micropython-%s.uf2" % (stem, mp.release)


def make(micropython, board_path, output=None, force=False, firmware=mpy.FIRMWARE_DIR):
    """Check, build and write the UF2; returns what `--json` prints."""
    mp = Image(micropython)
    output = output or default_output(mp, board_path)
    if os.path.isdir(output):
        raise CommandError("%s is a folder; -o names the UF2 file to write" % output, BAD_INPUT)
    if os.path.exists(output) and not force:
        raise CommandError("%s exists: name another file with -o, or add --force to overwrite it"
                           % output, BAD_INPUT)
    if os.path.abspath(output) == os.path.abspath(micropython):
        raise CommandError("-o %s would overwrite the MicroPython UF2 it is made from" % output,
                           BAD_INPUT)
    try:
        data, files, _image = build(mp, board_path, firmware)
    except CommandError:
        raise
    except Exception as e:  # CalledProcessError from mpy-cross
        raise CommandError("mpy-cross failed: %s" % (getattr(e, "stderr", "") or e))
    tmp = "%s.%d.tmp" % (output, os.getpid())
    try:
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, output)
    except OSError as e:
        try:
            os.remove(tmp)
        except OSError:
            pass
        raise CommandError("cannot write %s: %s" % (output, e.strerror or e), BAD_INPUT)
    off, blocks = mp.region
    return {"output": output, "bytes": len(data), "micropython": mp.release,
            "micropython_date": mp.date, "micropython_board": mp.board, "board": board_path,
            "fs_offset": off, "fs_blocks": blocks, "fs_block_size": BLOCK_SIZE,
            "files": sorted(files), "frozen": mp.frozen(), "tested": mp.version[:2] in TESTED}


def describe(r):
    return "\n".join([
        "wrote %s (%d KB): MicroPython %s (%s, %s%s) and Headroom with %s, %d files on a %d KB "
        "littlefs at 0x%06x" % (r["output"], r["bytes"] // 1024, r["micropython"],
                                r["micropython_date"], r["micropython_board"],
                                ", Headroom frozen in" if r["frozen"] else "",
                                os.path.basename(r["board"]), len(r["files"]),
                                r["fs_blocks"] * r["fs_block_size"] // 1024, r["fs_offset"]),
        "to install: hold BOOTSEL while plugging the Pico in, then copy %s onto the RPI-RP2 "
        "drive (or `headroom install-micropython --uf2 %s`)" % (r["output"], r["output"]),
        "a first install starts from the default settings. On a board in use this erases its "
        "filesystem: its settings are lost; to update a board, use "
        "`headroom flash`, which keeps them."
        + ("" if r["tested"] else " (MicroPython %s.x is not tested on the emulated board)"
           % ".".join(r["micropython"].split(".")[:2])),
    ])


def main(argv=None):
    """python -m headroom.uf2 MICROPYTHON.uf2: the release, board and region it finds."""
    argv = sys.argv[1:] if argv is None else argv
    for p in argv:
        mp = Image(p)
        print(json.dumps({"path": p, "micropython": mp.release, "board": mp.board,
                          "fs_offset": mp.region[0], "fs_blocks": mp.region[1]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
