"""`headroom uf2`: the MicroPython image checked (UF2, RP2040 family, release read from its
bytes, the filesystem it declares), the littlefs image (every file reads back, with
littlefs-python and with MicroPython's own VfsLfs2 mounted as rp2's _boot.py mounts it),
the UF2 written (the MicroPython blocks unchanged, the filesystem at the region's address),
the table of regions, and the command's errors.

Synthetic UF2s stand in for MicroPython's (a banner and a binary-info block device are what
the command reads). The shipped releases are checked too when HEADROOM_MICROPYTHON_DIR
names a folder of MicroPython UF2s (CI sets it); otherwise those tests skip, saying so.
The rp2 tier boots the result: tests/rp2tier/test_uf2_boot.py.
"""
import hashlib
import json
import os
import struct
import subprocess

import pytest

from headroom import uf2
from headroom.cli import main
from headroom.vboard.vmproc import micropython_path

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SE = os.path.join(REPO, "boards", "pico-se.json")
SHIPPED = os.environ.get("HEADROOM_MICROPYTHON_DIR", "")


def fake_micropython(path, version="1.24.1", date="2024-11-29", region=(0x0A0000, 352 * 4096),
                     family=uf2.RP2040_FAMILY, banner=True, size=8192, frozen=False):
    """A UF2 shaped like MicroPython's RPI_PICO: code from 0x10000000, the banner string,
    the binary-info block device rp2_flash.c declares."""
    flat = bytearray(os.urandom(size))
    flat = bytearray(b"\0" * 0x100) + flat
    if banner:
        text = b"MicroPython v%s on %s\0" % (version.encode(), date.encode())
        flat[0x200:0x200 + len(text)] = text
    if frozen:   # frozen_content.c's mp_frozen_names
        names = b"headroom_fw/__init__.py\0headroom_fw/app.py\0headroom_fw/board.py\0"
        flat[0x600:0x600 + len(names)] = names
    if region is not None:
        bdev = struct.pack("<HHIIIIH", 7, 0x504D, 0x10000300, 0x10000000 + region[0], region[1],
                           0, 3)
        flat[0x400:0x400 + len(bdev)] = bdev
    flat += b"\xff" * (-len(flat) % 256)
    chunks = [(uf2.FLASH_BASE + i, bytes(flat[i:i + 256])) for i in range(0, len(flat), 256)]
    data = bytearray(uf2.uf2_blocks(chunks))
    if family != uf2.RP2040_FAMILY:
        for i in range(0, len(data), 512):
            struct.pack_into("<I", data, i + 28, family)
    with open(path, "wb") as f:
        f.write(data)
    return path


def run_cli(args, capsys):
    rc = main(args)
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return rc, out, err


# ---- the MicroPython image

@pytest.mark.parametrize("version", ["1.24.1", "1.25.0", "1.26.1", "1.26.0-preview.123.gabc"])
def test_release_read_from_the_image(tmp_path, version):
    mp = uf2.Image(fake_micropython(str(tmp_path / "mp.uf2"), version=version))
    assert mp.release == version.split("-")[0]
    assert mp.board == "RPI_PICO" and mp.region == (0x0A0000, 352)


def test_pico_w_region_from_its_binary_info(tmp_path):
    mp = uf2.Image(fake_micropython(str(tmp_path / "w.uf2"), region=(0x12C000, 212 * 4096)))
    assert mp.board == "RPI_PICO_W" and mp.region == (0x12C000, 212)


@pytest.mark.parametrize("kw, said", [
    (dict(version="1.23.0"), "MicroPython 1.23.0 is not a release"),
    (dict(version="1.27.0"), "MicroPython 1.27.0 is not a release"),
    (dict(family=0xE48BFF59), "not an RP2040 image (UF2 family 0xe48bff59"),   # RP2350
    (dict(banner=False), "no MicroPython release in this image"),
    (dict(region=(0x100000, 1024 * 1024)), "for a board Headroom does not know"),
    (dict(region=None), "does not say where its filesystem is"),
])
def test_bad_images_are_refused_saying_where_to_get_one(tmp_path, capsys, kw, said):
    src = fake_micropython(str(tmp_path / "mp.uf2"), **kw)
    out = str(tmp_path / "out.uf2")
    rc, _, err = run_cli(["uf2", "--micropython", src, "--board", SE, "-o", out], capsys)
    assert rc == 2
    assert said in err and uf2.DOWNLOAD in err
    assert not os.path.exists(out)


def test_not_a_uf2(tmp_path, capsys):
    src = tmp_path / "readme.uf2"
    src.write_text("hello " * 200)
    rc, _, err = run_cli(["uf2", "--micropython", str(src), "--board", SE, "-o",
                          str(tmp_path / "o.uf2")], capsys)
    assert rc == 2 and "not a UF2 file" in err
    rc, _, err = run_cli(["uf2", "--micropython", str(tmp_path / "none.uf2"), "--board", SE, "-o",
                          str(tmp_path / "o.uf2")], capsys)
    assert rc == 2 and "cannot read" in err
    assert not os.path.exists(tmp_path / "o.uf2")


def test_damaged_block(tmp_path):
    src = fake_micropython(str(tmp_path / "mp.uf2"))
    data = bytearray(open(src, "rb").read())
    data[512 + 508] ^= 0xFF
    open(src, "wb").write(data)
    with pytest.raises(uf2.CommandError, match="UF2 block 1 is damaged"):
        uf2.Image(src)


# ---- the board file and the output file

def test_missing_or_bad_board(tmp_path, capsys):
    src = fake_micropython(str(tmp_path / "mp.uf2"))
    out = str(tmp_path / "o.uf2")
    rc, _, err = run_cli(["uf2", "--micropython", src, "--board", str(tmp_path / "no.json"),
                          "-o", out], capsys)
    assert rc == 2 and "no.json" in err
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"name": "x"}))
    rc, _, err = run_cli(["uf2", "--micropython", src, "--board", str(bad), "-o", out], capsys)
    assert rc == 2 and "bad.json" in err
    rc, _, err = run_cli(["uf2", "--micropython", src, "-o", out], capsys)
    assert rc == 2 and "--board" in err
    assert not os.path.exists(out)


def test_never_overwrites_a_file_unasked(tmp_path, capsys):
    src = fake_micropython(str(tmp_path / "mp.uf2"))
    out = tmp_path / "o.uf2"
    out.write_bytes(b"mine")
    rc, _, err = run_cli(["uf2", "--micropython", src, "--board", SE, "-o", str(out)], capsys)
    assert rc == 2 and "exists" in err and "--force" in err
    assert out.read_bytes() == b"mine"
    before = open(src, "rb").read()
    rc, _, err = run_cli(["uf2", "--micropython", src, "--board", SE, "-o", src, "--force"], capsys)
    assert rc == 2 and "would overwrite the MicroPython UF2" in err
    assert open(src, "rb").read() == before
    rc, _, _ = run_cli(["uf2", "--micropython", src, "--board", SE, "-o", str(out), "--force"],
                       capsys)
    assert rc == 0 and out.read_bytes()[:4] == b"UF2\n"
    assert sorted(os.listdir(tmp_path)) == ["mp.uf2", "o.uf2"]    # no temporary left


# ---- what is written

def _firmware_files():
    from headroom import flash
    return flash.board_files(SE)


def test_uf2_holds_micropython_unchanged_and_the_filesystem_at_its_region(tmp_path, capsys):
    src = fake_micropython(str(tmp_path / "mp.uf2"))
    out = str(tmp_path / "o.uf2")
    rc, text, err = run_cli(["uf2", "--micropython", src, "--board", SE, "-o", out, "--json"],
                            capsys)
    assert rc == 0, err
    r = json.loads(text)
    assert (r["micropython"], r["fs_offset"], r["fs_blocks"]) == ("1.24.1", 0x0A0000, 352)
    assert sorted(r["files"]) == sorted(_firmware_files())
    data = open(out, "rb").read()
    n = len(data) // 512
    mp = uf2.Image(src)
    fs_bytes = 352 * 4096
    assert n == len(mp.flash) + fs_bytes // 256 and r["bytes"] == len(data)
    for i in range(n):   # numbered in order, the count in every block, the RP2040's family
        _m0, _m1, flags, _a, size, no, total, fam = struct.unpack_from("<8I", data, i * 512)
        assert (flags, size, no, total, fam) == (uf2.FLAG_FAMILY, 256, i, n, uf2.RP2040_FAMILY)
    got = uf2.Image(out)
    for addr, payload in mp.flash.items():
        assert got.flash[addr] == payload
    image = b"".join(got.flash[uf2.FLASH_BASE + 0x0A0000 + i] for i in range(0, fs_bytes, 256))
    files = uf2.read_image(image, 352)
    want = _firmware_files()
    assert sorted(files) == sorted(want)
    for remote, local in want.items():
        assert files[remote] == open(local, "rb").read(), remote
    assert "erases" in uf2.describe(r) and "headroom flash" in uf2.describe(r)


def test_text_says_settings_are_lost_and_flash_updates(tmp_path, capsys):
    src = fake_micropython(str(tmp_path / "mp.uf2"), version="1.25.0")
    rc, text, _ = run_cli(["uf2", "--micropython", src, "--board", SE, "-o",
                           str(tmp_path / "o.uf2")], capsys)
    assert rc == 0
    assert "default settings" in text and "settings are lost" in text
    assert "`headroom flash`" in text and "1.25.x is not tested" in text


def test_a_build_with_headroom_frozen_in_gets_no_copy_on_the_filesystem(tmp_path, capsys):
    """The filesystem comes before .frozen on rp2's sys.path: a copy there would shadow
    the frozen modules."""
    src = fake_micropython(str(tmp_path / "mp.uf2"), frozen=True)
    out = str(tmp_path / "o.uf2")
    rc, text, _ = run_cli(["uf2", "--micropython", src, "--board", SE, "-o", out, "--json"],
                          capsys)
    assert rc == 0
    r = json.loads(text)
    assert r["frozen"] and sorted(r["files"]) == ["board.json", "boot.py", "main.py"]
    got = uf2.Image(out)
    image = b"".join(got.flash[uf2.FLASH_BASE + 0x0A0000 + i] for i in range(0, 352 * 4096, 256))
    assert sorted(uf2.read_image(image, 352)) == ["board.json", "boot.py", "main.py"]
    assert not uf2.Image(fake_micropython(str(tmp_path / "plain.uf2"))).frozen()


MOUNT = """
import vfs, hashlib, json, sys
class Dev:
    def __init__(self, f, n):
        self.data = bytearray(n)
        f.readinto(self.data)
    def readblocks(self, n, buf, off=0):
        a = n * 4096 + off
        buf[:] = self.data[a:a + len(buf)]
    def writeblocks(self, n, buf, off=None):
        a = n * 4096 + (off or 0)
        self.data[a:a + len(buf)] = buf
    def ioctl(self, op, arg):
        if op == 4:
            return len(self.data) // 4096
        if op == 5:
            return 4096
        if op == 6:
            return 0
with open(sys.argv[1], 'rb') as f:
    fs = vfs.VfsLfs2(Dev(f, int(sys.argv[2])), progsize=256)
def walk(p):
    for name, kind, *_ in fs.ilistdir(p):
        q = (p + '/' + name) if p != '/' else '/' + name
        if kind == 0x4000:
            yield from walk(q)
        else:
            with fs.open(q, 'rb') as f:
                yield q[1:], ''.join('%02x' % c for c in hashlib.sha256(f.read()).digest())
print(json.dumps(dict(walk('/'))))
"""


def test_micropython_mounts_the_image_as_rp2_does(tmp_path):
    """MicroPython's own littlefs (the Unix port, VfsLfs2 with _boot.py's arguments) reads
    every file of the image back."""
    want = _firmware_files()
    image = uf2.littlefs_image(want, 352)
    assert len(image) == 352 * 4096
    (tmp_path / "fs.img").write_bytes(image)
    (tmp_path / "mount.py").write_text(MOUNT)
    p = subprocess.run([micropython_path(), "-X", "heapsize=8M", str(tmp_path / "mount.py"),
                        str(tmp_path / "fs.img"), str(len(image))],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    got = json.loads(p.stdout)
    assert got == {r: hashlib.sha256(open(f, "rb").read()).hexdigest() for r, f in want.items()}


# ---- the table

def test_regions_end_at_the_end_of_the_2mb_flash():
    """rp2_flash.c: the filesystem is the last MICROPY_HW_FLASH_STORAGE_BYTES of the flash
    (2 MB on the Pico and the Pico W): 1408 KB on RPI_PICO, 848 KB on RPI_PICO_W."""
    assert set(uf2.LAYOUTS) >= {(1, 24), (1, 26)}
    for rel, boards in uf2.LAYOUTS.items():
        assert boards["RPI_PICO"] == (0x0A0000, 1408 * 1024 // 4096), rel
        assert boards["RPI_PICO_W"] == (0x12C000, 848 * 1024 // 4096), rel
        for off, blocks in boards.values():
            assert off + blocks * uf2.BLOCK_SIZE == 2 * 1024 * 1024
            assert off % uf2.BLOCK_SIZE == 0


def _shipped():
    if not SHIPPED or not os.path.isdir(SHIPPED):
        pytest.skip("HEADROOM_MICROPYTHON_DIR names no folder of MicroPython UF2s (e.g. "
                    "RPI_PICO-20241129-v1.24.1.uf2 from https://micropython.org/download/RPI_PICO/): "
                    "the shipped releases are not checked")
    found = sorted(f for f in os.listdir(SHIPPED) if f.startswith("RPI_PICO") and f.endswith(".uf2"))
    if not found:
        pytest.skip("no RPI_PICO*.uf2 in %s" % SHIPPED)
    return found


def test_shipped_releases_read_and_agree_with_the_table():
    """Each downloaded UF2: the release its file name says, read from its bytes; the
    filesystem its binary info declares is the table's for that board."""
    for name in _shipped():
        mp = uf2.Image(os.path.join(SHIPPED, name))
        ver = name.rsplit("-v", 1)[1][:-4]
        assert mp.release == ver, name
        assert mp.date.replace("-", "") == name.split("-")[1], name
        assert mp.board == name.split("-")[0], name
        off, blocks = uf2.LAYOUTS[mp.version[:2]][mp.board]
        assert mp.declared() == (off, blocks * uf2.BLOCK_SIZE)
