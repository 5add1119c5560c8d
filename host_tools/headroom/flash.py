"""`headroom flash` and `headroom install-micropython`: putting Headroom on a Pico.

flash, in one mpremote session on the port (held exclusively throughout):

1. Ctrl-C stops the running firmware, which goes quiet in order (DAC, PGA2311, mute
   relay) and writes settings not yet saved; the raw REPL comes up without a soft
   reset, so nothing else runs and the supply-fail interrupt stays armed;
2. one exec asks for MicroPython's version and .mpy format and the SHA-256 of every
   Headroom file on the board (boot.py, main.py, board.json, everything under
   headroom_fw/: on a Pico W the web remote's page too);
3. only the files whose hash differs are copied, each to a temporary name and then
   renamed over the old one, so a power cut never leaves half a module;
4. the hashes are read again and compared;
5. the board is reset, boots main.py, and `flash` waits until the new firmware
   answers `version` and `status`, for as long as the board shows signs of life (its
   port coming back, any byte it sends): only `--wait-s` (default 60 s) without one
   ends the wait, however slow the board (the emulated RP2040 runs some 30 times
   slower than a Pico, more on a loaded machine). If it does not answer, flash shows
   what the board prints when main.py runs and exits 1.

The firmware's watchdog (which rp2 cannot stop) is re-armed at its longest (8.4 s) and
fed before each step and each chunk of a file, or it would reset the board mid-flash.
"""
import hashlib
import json
import os
import shutil
import sys
import time

from . import mpy, requests
from .errors import BAD_INPUT, NO_BOARD, PROBLEM, CommandError
from .port import WAIT_S, open_serial

MPY_VERSION = 6           # .mpy format of mpy-cross 1.29 (bytecode version 6.3)
MPY_SUBVERSION = 3
NEEDS = "MicroPython 1.24.1 or 1.26.1, the tested releases"  # (the .mpy loads from 1.23 on)
CHUNK = 1024              # bytes of a file per exec
BOOT_S = 60.0             # after the reset, how long the board may show no sign of life (no
                          # port, no byte) before the wait for the new firmware ends; a
                          # Pico answers within 2 s, the emulated one (30x slower) needs
                          # some 25 s of silence while main.py starts, more under load
PATIENCE = 10             # and at most this many times that in all (a board that keeps
                          # printing, or restarting, without ever answering)
EXEC_S = 60.0             # silence allowed within one exec (mpremote's own is 10 s: a slow
                          # board hashing every file says nothing for longer than that)

_FEED = "import machine\ntry:\n machine.WDT(timeout=8388).feed()\nexcept Exception:\n pass\n"

_INFO_SCRIPT = _FEED + """
import os, sys, hashlib, json
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
import gc
gc.collect()
print('INFO' + json.dumps({'name': sys.implementation.name,
                           'version': '.'.join(str(x) for x in sys.implementation.version[:3]),
                           'mpy': getattr(sys.implementation, '_mpy', 0)}))
for _p in ('boot.py', 'main.py', 'board.json'):
    try:
        print('HASH', _p, _h(_p))
    except OSError:
        pass
def _walk(d):
    try:
        es = list(os.ilistdir(d))
    except OSError:
        return
    for e in es:
        p = d + '/' + e[0]
        if e[1] == 0x4000:
            _walk(p)
        else:
            try:
                print('HASH', p, _h(p))
            except OSError:
                pass
for _d in ('headroom_fw',):
    _walk(_d)
print('END')
"""


def board_files(board_path, firmware=mpy.FIRMWARE_DIR):
    """{remote path: local file} of everything flash puts on the board."""
    files = mpy.compiled(firmware)
    files["board.json"] = board_path
    import json
    with open(board_path) as f:
        if isinstance(json.load(f).get("wifi"), dict):   # a Pico W's: the web remote too
            files.update(mpy.web_files(firmware))
    return files


def _folders(todo, have):
    """The folders the files to copy go into that no file on the board is in yet, each
    after its parent (headroom_fw, headroom_fw/www)."""
    there = set()
    for h in have:
        parts = h.split("/")[:-1]
        there.update("/".join(parts[:i]) for i in range(1, len(parts) + 1))
    need = set()
    for r in todo:
        parts = r.split("/")[:-1]
        need.update("/".join(parts[:i]) for i in range(1, len(parts) + 1))
    return sorted(need - there, key=lambda d: (d.count("/"), d))


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def _session(ser, port):
    """mpremote's serial transport on a port we opened ourselves (exclusively, waited for)."""
    from mpremote.transport_serial import SerialTransport

    class Session(SerialTransport):
        def __init__(self):  # SerialTransport's would open the port again
            self.in_raw_repl = False
            self.use_raw_paste = True
            self.device_name = port
            self.mounted = False
            self.serial = ser
            self.is_pty = False

    # mpremote opens its own ports with timeout=None: its raw paste reads the board's
    # flow-control bytes expecting them to block (a short read breaks the paste).
    ser.timeout = None
    return Session()


def _exec(t, code):
    """mpremote's exec, with EXEC_S of silence allowed instead of 10 s."""
    from mpremote.transport import TransportExecError
    out, err = t.exec_raw(code, timeout=EXEC_S)
    if err:
        raise TransportExecError(out, err.decode())
    return out


def check_version(info):
    ver, sub = info["mpy"] & 0xFF, (info["mpy"] >> 8) & 3
    if info["name"] != "micropython" or ver != MPY_VERSION or sub < MPY_SUBVERSION:
        raise CommandError("found %s %s (.mpy %d.%d); Headroom needs %s (.mpy %d.%d)" % (
            info["name"], info["version"], ver, sub, NEEDS, MPY_VERSION, MPY_SUBVERSION), PROBLEM)


def _info(t):
    """MicroPython's name, version and .mpy version, and a hash of each Headroom file on
    the board: a line each (one JSON line of every hash was a string of some 4 KB, which
    a firmware interrupted with its objects still in the heap may have no room for)."""
    out = _exec(t, _INFO_SCRIPT).decode("utf-8", "replace")
    info = None
    hashes = {}
    for line in out.splitlines():
        if line.startswith("INFO"):
            info = json.loads(line[4:])
        elif line.startswith("HASH ") and info is not None:
            parts = line.split()
            if len(parts) == 3:
                hashes[parts[1]] = parts[2]
        elif line.strip() == "END" and info is not None:
            info["hashes"] = hashes
            return info
    raise CommandError("the board did not answer like MicroPython (got %r)" % out[:80], PROBLEM)


def _put(t, remote, data):
    """Copy `data` to `remote` on the board: to a temporary name, then renamed over it."""
    tmp = remote + ".tmp"
    _exec(t, _FEED + "f = open(%r, 'wb')\nw = f.write" % tmp)
    for i in range(0, len(data), CHUNK):
        _exec(t, _FEED + "w(%r)" % data[i:i + CHUNK])   # fed at every chunk: a slow link too
    _exec(t, "f.close()\nimport os\nos.rename(%r, %r)" % (tmp, remote))


class Progress:
    """A bar on a terminal, a line per file otherwise."""

    def __init__(self, out, total):
        self.out = out
        self.total = total
        self.tty = hasattr(out, "isatty") and out.isatty()

    def show(self, i, name):
        if self.tty:
            done = 24 * i // self.total
            self.out.write("\r[%s%s] %d/%d %-36s" % ("#" * done, "." * (24 - done), i, self.total,
                                                     name[-36:]))
        elif i < self.total:
            self.out.write("copying %s (%d/%d)\n" % (name, i + 1, self.total))
        self.out.flush()

    def end(self):
        if self.tty:
            self.out.write("\n")


def flash(board_path, port, say=None, out=sys.stdout, firmware=mpy.FIRMWARE_DIR, wait_s=BOOT_S):
    """Copy what differs, verify, reset, and wait for the new firmware; returns
    (copied, total, status). Raises CommandError with what went wrong."""
    from mpremote.transport import TransportError, TransportExecError
    from serial import SerialException
    say = say or (lambda m: None)
    try:
        files = board_files(board_path, firmware)
    except Exception as e:  # CalledProcessError from mpy-cross
        raise CommandError("mpy-cross failed: %s" % (getattr(e, "stderr", "") or e), PROBLEM)
    want = {remote: sha256(local) for remote, local in files.items()}
    t0 = time.monotonic()
    ser = open_serial(port, WAIT_S, say)
    try:
        t = _session(ser, port)
        try:
            t.enter_raw_repl(soft_reset=False)
        except TransportError:
            t.enter_raw_repl(soft_reset=False)  # the first Ctrl-C can land mid-boot
        info = _info(t)
        check_version(info)
        have = info["hashes"]
        todo = sorted(r for r in files if have.get(r) != want[r])
        out.write("MicroPython %s on %s: %d of %d files to copy\n" % (
            info["version"], port, len(todo), len(files)))
        if todo:
            folders = _folders(todo, have)
            if folders:
                _exec(t, "import os\nfor d in %r:\n try:\n  os.mkdir(d)\n except OSError:\n"
                         "  pass" % (folders,))
            bar = Progress(out, len(todo))
            for i, remote in enumerate(todo):
                bar.show(i, remote)
                with open(files[remote], "rb") as f:
                    _put(t, remote, f.read())
            bar.show(len(todo), "done")
            bar.end()
            got = _info(t)["hashes"]
            bad = sorted(r for r in files if got.get(r) != want[r])
            if bad:
                raise CommandError("verify failed, hashes differ on the board for: %s (flash again)"
                                   % ", ".join(bad), PROBLEM)
        # A soft reset from the raw REPL would not run main.py: reset the board. The port
        # goes away under mpremote while it reads the acknowledgement: that is the reset.
        try:
            t.exec_raw_no_follow("import machine\nmachine.reset()")
        except (TransportError, SerialException, OSError):
            pass
    except (TransportError, TransportExecError, SerialException, OSError) as e:
        raise CommandError("flash stopped: the board %s (%s); flash again"
                           % ("went away" if isinstance(e, (SerialException, OSError))
                              else "did not answer as expected", str(e).strip()[-200:]), NO_BOARD)
    finally:
        try:
            ser.close()
        except Exception:  # the board is resetting under it
            pass
    out.write("%s in %.1f s; board reset, waiting for Headroom to answer\n" % (
        ("verified %d files" if todo else "all %d files up to date") % len(files),
        time.monotonic() - t0))
    status = wait_running(port, say, wait_s)
    from .readable import state_line
    out.write("Headroom %s running on %s: %s\n" % (status.get("firmware", "?"), port,
                                                   state_line(status)))
    return len(todo), len(files), status


def wait_running(port, say=None, wait_s=BOOT_S):
    """The new firmware's status (with its version) once it answers; CommandError(PROBLEM)
    with what the board printed when it does not: when MicroPython's REPL answers instead
    (a prompt, or a NameError for `version`), or the board shows no sign of life (Signs)
    for `wait_s`."""
    from .control import Board
    board = Board(port, wait_s=wait_s, say=say)
    ver = status = None
    try:
        ver = _ask_firmware(board, requests.VERSION, Signs(wait_s))
        if ver is not None:
            status = board.request(requests.STATUS, timeout=max(5.0, wait_s), resend_s=1.0)
    finally:
        board.close()
    if ver is None or not status.get("ok"):
        printed = boot_output(port, say, wait_s)
        raise CommandError(
            "the firmware did not start. What the board printed when main.py ran:\n%s\n"
            "A board-file error names the field (`headroom boards check FILE`); fix it "
            "and flash again." % printed, PROBLEM)
    status.pop("ok")
    status["firmware"] = ver.get("firmware", "?")
    faults = status.get("faults") or []
    if faults:
        raise CommandError("Headroom %s started, muted, with faults: %s" % (
            status["firmware"], "; ".join(faults)), PROBLEM)
    return status


class Signs:
    """A wait bounded by a board's signs of life, not by the wall clock alone: it goes on
    while the board makes progress (its port comes back, it sends bytes) and ends after
    `quiet_s` without any, or after PATIENCE times that in all."""

    def __init__(self, quiet_s):
        self.quiet_s = quiet_s
        now = time.monotonic()
        self.last = now
        self.end_all = now + PATIENCE * quiet_s

    def seen(self):
        self.last = time.monotonic()

    def deadline(self):
        return min(self.last + self.quiet_s, self.end_all)

    def over(self):
        return time.monotonic() >= self.deadline()


def _ask_firmware(board, line, signs):
    """The firmware's reply to `line`, asked every second; None as soon as the REPL answers
    in its place (the firmware is not running) or when `signs` (Signs) says the wait is
    over."""
    from serial import SerialException

    from .control import is_reply, reply_key
    key = reply_key(line)
    while not signs.over():
        try:
            if board.link is None:
                board.connect()
                signs.seen()     # the port is back: the board got that far
            link = board.link
            link.write(line.encode() + b"\n")
            step = time.monotonic() + 1.0
            while time.monotonic() < min(step, signs.deadline()):
                obj = link.pop_json()
                if obj is not None and is_reply(obj, key):
                    return obj
                if b">>> " in link.buf or b"Traceback" in link.buf:
                    return None
                data = link.ser.read(256)
                if data:
                    signs.seen()
                    link.buf += data
        except (SerialException, OSError):
            board.drop()
        except CommandError:
            return None
    return None


def _read_until(ser, done, signs):
    """What the port gives until done(all of it so far) or `signs` says the wait is over."""
    data = b""
    while not signs.over() and not done(data):
        got = ser.read(4096)
        if got:
            signs.seen()
            data += got
    return data


def boot_output(port, say=None, wait_s=8.0):
    """Stop whatever runs (Ctrl-C) and soft-reset from the friendly REPL, which runs main.py
    with us listening: what it prints (its traceback) until the REPL prompt comes back, or
    until `wait_s` without a byte."""
    from serial import SerialException
    data = b""
    try:
        ser = open_serial(port, WAIT_S, say, timeout=0.1)
    except CommandError as e:
        return "  | (the board is not there to ask: %s)" % e
    try:
        # Whatever runs stops and the REPL's prompt comes (an event: a loaded board can
        # still be printing the last boot's traceback and banner); then a soft reset from
        # the friendly REPL, and what main.py prints after "soft reboot", up to the prompt.
        ser.write(b"\r\x03\x03")
        _read_until(ser, lambda d: d.rstrip().endswith(b">>>"), Signs(wait_s))
        ser.write(b"\r\x02\x04")
        data = _read_until(ser, lambda d: b"soft reboot" in d and d[d.find(b"soft reboot"):]
                           .rstrip().endswith(b">>>"), Signs(wait_s))
        i = data.find(b"soft reboot")
        if i >= 0:
            data = data[i:]
    except (SerialException, OSError):
        data += b"\n(the board dropped off the port: it reset)"
    finally:
        try:
            ser.close()
        except Exception:  # gone already
            pass
    text = data.decode("utf-8", "replace").replace("\r\n", "\n")
    lines = [x for x in text.splitlines() if x.strip() and not x.startswith(">>>")]
    if "Traceback" in text:
        lines = lines[min(i for i, x in enumerate(lines) if x.startswith("Traceback")):]
    return "\n".join("  | " + x for x in lines[-30:]) or "  | (nothing)"


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
        raise CommandError("no such UF2 file: %s" % uf2, BAD_INPUT)
    with open(uf2, "rb") as f:
        head = f.read(8)
    if head[:4] != b"UF2\n":
        raise CommandError("%s is not a UF2 file" % uf2, BAD_INPUT)
    drives = find_bootsel_drive(search)
    if not drives:
        raise CommandError("no RPI-RP2 drive mounted: hold BOOTSEL while plugging the Pico in, "
                           "and let the desktop mount it (or mount it yourself)", NO_BOARD)
    if len(drives) > 1:
        raise CommandError("several RPI-RP2 drives (%s): unplug all but one" % ", ".join(drives),
                           NO_BOARD)
    shutil.copyfile(uf2, os.path.join(drives[0], os.path.basename(uf2)))
    out.write("copied %s to %s; the Pico restarts into MicroPython\n" % (os.path.basename(uf2), drives[0]))
    return drives[0]
