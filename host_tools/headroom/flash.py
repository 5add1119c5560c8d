"""`headroom flash` and `headroom install-micropython`: putting Headroom on a Pico.

flash: compile the firmware with mpy-cross, ask the board (one mpremote exec) for
the SHA-256 of every Headroom file it has, copy only the files that differ (with
mpremote `fs cp`), ask again and compare every hash, then reset the board so it
boots main.py (a soft reset from the raw REPL would not). A copy cut
short by a power cut leaves a file whose hash is wrong: the next flash copies it
again. Before anything, the board's MicroPython must load the .mpy files mpy-cross
makes (its .mpy version).
"""
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile

from . import mpy

MPY_VERSION = 6           # .mpy format of mpy-cross 1.29 (bytecode version 6.3)
MPY_SUBVERSION = 3
NEEDS = "MicroPython 1.23 or newer"

_HASH_SCRIPT = """
import os, hashlib, json
def _h(p):
    h = hashlib.sha256()
    with open(p, 'rb') as f:
        while True:
            b = f.read(512)
            if not b:
                break
            h.update(b)
    d = h.digest()  # once: MicroPython finalizes the hash on digest()
    return ''.join('%02x' % c for c in d)
_out = {}
for _p in ('main.py', 'board.json'):
    try:
        _out[_p] = _h(_p)
    except OSError:
        pass
try:
    for _n in os.listdir('headroom_fw'):
        _out['headroom_fw/' + _n] = _h('headroom_fw/' + _n)
except OSError:
    pass
print('HASHES' + json.dumps(_out))
"""

_VERSION_SCRIPT = ("import sys; print('VERSION', sys.implementation.name, "
                   "'.'.join(str(x) for x in sys.implementation.version[:3]), "
                   "getattr(sys.implementation, '_mpy', 0))")


class FlashError(Exception):
    pass


def mpremote_cmd():
    exe = os.path.join(os.path.dirname(sys.executable), "mpremote")
    return [exe] if os.path.exists(exe) else [sys.executable, "-m", "mpremote"]


# The firmware's watchdog keeps running after mpremote's Ctrl-C stops it (rp2 cannot stop
# a watchdog), and would reset the board mid-flash: every call first re-arms it at its
# longest (8.4 s) and feeds it.
_FEED = "import machine\ntry:\n machine.WDT(timeout=8388).feed()\nexcept Exception:\n pass"


def _mpremote(port, *args, timeout=60):
    cmd = mpremote_cmd() + ["connect", port, "exec", _FEED, "+"] + list(args)
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise FlashError("mpremote timed out: %s" % " ".join(args[:2]))
    if p.returncode != 0:
        what = "exec" if args[0] == "exec" else " ".join(args[:2])
        last = ((p.stderr or p.stdout).strip().splitlines() or ["?"])[-1]
        raise FlashError("mpremote %s failed: %s" % (what, last))
    return p.stdout


def board_files(board_path, build_dir):
    """{remote path: local file} of everything flash puts on the board."""
    mpy.build(build_dir)
    files = {}
    for root, _dirs, names in os.walk(build_dir):
        for n in names:
            local = os.path.join(root, n)
            files[os.path.relpath(local, build_dir)] = local
    files["board.json"] = board_path
    return files


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def check_version(port):
    out = _mpremote(port, "exec", _VERSION_SCRIPT)
    line = [x for x in out.splitlines() if x.startswith("VERSION")]
    if not line:
        raise FlashError("the board did not answer like MicroPython (got %r)" % out[:80])
    _, name, version, mpy_info = line[0].split()
    mpy_info = int(mpy_info)
    ver, sub = mpy_info & 0xFF, (mpy_info >> 8) & 3
    if name != "micropython" or ver != MPY_VERSION or sub < MPY_SUBVERSION:
        raise FlashError("found %s %s (.mpy %d.%d); Headroom needs %s (.mpy %d.%d)"
                         % (name, version, ver, sub, NEEDS, MPY_VERSION, MPY_SUBVERSION))
    return version


def remote_hashes(port):
    out = _mpremote(port, "exec", _HASH_SCRIPT)
    for line in out.splitlines():
        if line.startswith("HASHES"):
            return json.loads(line[6:])
    raise FlashError("could not read the board's file hashes")


def progress(i, n, name, out):
    width = 24
    done = width * i // n
    out.write("\r[%s%s] %d/%d %-36s" % ("#" * done, "." * (width - done), i, n, name[-36:]))
    out.flush()


def flash(board_path, port, out=sys.stdout):
    """Returns (copied, total) files. Raises FlashError with what went wrong."""
    from .sim.simboard import use_firmware
    use_firmware()
    from headroom_fw import board as boardfile
    try:
        boardfile.load(board_path)
    except boardfile.BoardError as e:
        raise FlashError("board file: %s" % e)
    version = check_version(port)
    build = tempfile.mkdtemp(prefix="headroom-mpy-")
    try:
        files = board_files(board_path, build)
        want = {remote: sha256(local) for remote, local in files.items()}
        have = remote_hashes(port)
        todo = sorted(r for r in files if have.get(r) != want[r])
        out.write("MicroPython %s on %s: %d of %d files to copy\n" % (version, port, len(todo), len(files)))
        if todo:
            if any(r.startswith("headroom_fw/") for r in todo) and not any(
                    h.startswith("headroom_fw/") for h in have):
                _mpremote(port, "exec", "import os\ntry:\n os.mkdir('headroom_fw')\nexcept OSError:\n pass")
            for i, remote in enumerate(todo):
                progress(i, len(todo), remote, out)
                _mpremote(port, "fs", "cp", files[remote], ":" + remote, timeout=20)
            progress(len(todo), len(todo), "done", out)
            out.write("\n")
        got = remote_hashes(port)
        bad = sorted(r for r in files if got.get(r) != want[r])
        if bad:
            raise FlashError("verify failed, hashes differ on the board for: %s (flash again)"
                             % ", ".join(bad))
        # A soft reset from the raw REPL (mpremote soft-reset) would not run main.py:
        # reset the board, which boots it.
        try:
            _mpremote(port, "reset", timeout=10)
        except FlashError:
            pass  # the port goes away as the board restarts; that is the reset working
        out.write("verified %d files; board reset, Headroom starting\n" % len(files))
        return len(todo), len(files)
    finally:
        shutil.rmtree(build, ignore_errors=True)


# ---- install-micropython: the UF2 onto a board held in BOOTSEL mode

def find_bootsel_drive(search=None):
    """The mounted RPI-RP2 drive (it has an INFO_UF2.TXT naming the board), or None."""
    roots = search or ["/media", "/run/media", "/mnt", "/Volumes"]
    found = []
    for root in roots:
        for dirpath, _dirs, files in _walk(root, 2):
            if "INFO_UF2.TXT" in files:
                try:
                    with open(os.path.join(dirpath, "INFO_UF2.TXT")) as f:
                        info = f.read()
                except OSError:
                    continue
                if "RPI-RP2" in info or "RP2040" in info:
                    found.append(dirpath)
    return found


def _walk(root, depth):
    if not os.path.isdir(root):
        return
    stack = [(root, 0)]
    while stack:
        d, k = stack.pop()
        try:
            names = os.listdir(d)
        except OSError:
            continue
        files = [n for n in names if os.path.isfile(os.path.join(d, n))]
        dirs = [n for n in names if os.path.isdir(os.path.join(d, n))]
        yield d, dirs, files
        if k < depth:
            stack.extend((os.path.join(d, n), k + 1) for n in dirs)


def install_micropython(uf2, search=None, out=sys.stdout):
    if not os.path.isfile(uf2):
        raise FlashError("no such UF2 file: %s" % uf2)
    with open(uf2, "rb") as f:
        head = f.read(8)
    if head[:4] != b"UF2\n":
        raise FlashError("%s is not a UF2 file" % uf2)
    drives = find_bootsel_drive(search)
    if not drives:
        raise FlashError("no RPI-RP2 drive mounted: hold BOOTSEL while plugging the Pico in, "
                         "and let the desktop mount it (or mount it yourself)")
    if len(drives) > 1:
        raise FlashError("several RPI-RP2 drives (%s): unplug all but one" % ", ".join(drives))
    shutil.copyfile(uf2, os.path.join(drives[0], os.path.basename(uf2)))
    out.write("copied %s to %s; the Pico restarts into MicroPython\n" % (os.path.basename(uf2), drives[0]))
    return drives[0]
