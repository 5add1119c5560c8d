"""The board's USB serial port: opened by one program at a time, waited for while the
board restarts, and found when none is named.

A Pico that resets drops off USB and comes back about a second later (the virtual
board does the same); `open_serial` waits for it, bounded, saying so once. The port
is opened exclusively (an flock, as mpremote does), so two programs never interleave
their bytes on it; a program that finds it held learns who holds it.
"""
import errno
import os
import stat
import sys
import termios
import time

from .errors import BAD_INPUT, NO_BOARD, CommandError

RASPBERRY_PI_VID = 0x2E8A  # the Pico's USB vendor id (MicroPython's CDC port)
BAUD = 115200
WAIT_S = 5.0               # how long a missing port is waited for


class PortBusy(CommandError):
    def __init__(self, port, who):
        CommandError.__init__(self, "port busy: %s is held by %s" % (port, who), NO_BOARD)
        self.who = who


def find_port():
    """The one attached MicroPython Pico's serial port."""
    from serial.tools import list_ports
    ports = [p.device for p in list_ports.comports() if p.vid == RASPBERRY_PI_VID]
    if not ports:
        raise CommandError("no Pico found: plug it in (not in BOOTSEL mode) or give --port", NO_BOARD)
    if len(ports) > 1:
        raise CommandError("several Picos attached (%s): choose one with --port" % ", ".join(ports),
                           NO_BOARD)
    return ports[0]


def holder(port):
    """Who has `port` open, as a person would name it ('headroom monitor (pid 412)'), or None.

    Linux only (/proc); elsewhere None."""
    try:
        target = os.path.realpath(port)
        pids = [p for p in os.listdir("/proc") if p.isdigit() and int(p) != os.getpid()]
    except OSError:
        return None
    for pid in pids:
        fd_dir = "/proc/%s/fd" % pid
        try:
            fds = os.listdir(fd_dir)
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(os.path.join(fd_dir, fd)) == target:
                    return "%s (pid %s)" % (_describe(pid), pid)
            except OSError:
                continue
    return None


def _describe(pid):
    try:
        with open("/proc/%s/cmdline" % pid, "rb") as f:
            argv = [a.decode("utf-8", "replace") for a in f.read().split(b"\0") if a]
    except OSError:
        return "another program"
    words = [os.path.basename(a) for a in argv]
    for i, w in enumerate(words):
        if w == "headroom" or (w == "-m" and i + 1 < len(words) and words[i + 1] == "headroom"):
            rest = [x for x in argv[i + (2 if w == "-m" else 1):] if not x.startswith("-")]
            return "headroom " + rest[0] if rest else "headroom"
        if w.startswith("mpremote") or (w == "-m" and i + 1 < len(words) and words[i + 1] == "mpremote"):
            return "mpremote"
    return words[0] if words else "another program"


def not_a_port(port):
    """Why `port` cannot be a serial port (a regular file, a folder, /dev/null), or None
    when it may be one (or is not there yet: a board restarting)."""
    try:
        st = os.stat(port)
    except OSError:
        return None
    if stat.S_ISDIR(st.st_mode):
        return "a folder"
    if not stat.S_ISCHR(st.st_mode):
        return "a file"
    return None   # a device: whether it is a terminal, configuring it tells (_errno)


def _errno(e):
    """The errno of an error opening a port: an OSError's, termios.error's (raised when
    the device went away between being opened and configured), or of the termios.error
    pyserial turned into its SerialException ("Could not configure port")."""
    for x in (e, e.__context__):
        if isinstance(x, termios.error):
            return x.args[0] if x.args and isinstance(x.args[0], int) else None
        code = getattr(x, "errno", None)
        if code is not None:
            return code
    return None


def open_serial(port, wait_s=WAIT_S, say=None, timeout=0.05):
    """The port, opened exclusively; waits up to `wait_s` for a port that is missing or
    not answering (a board restarting: it may vanish between being opened and being
    configured). Raises PortBusy or CommandError(NO_BOARD); CommandError(BAD_INPUT) at
    once for a path that cannot be a serial port."""
    import serial
    deadline = time.monotonic() + wait_s
    told = False
    while True:
        what = not_a_port(port)
        if what is not None:
            raise CommandError("%s is %s, not a serial port" % (port, what), BAD_INPUT)
        try:
            return serial.Serial(port, BAUD, timeout=timeout, exclusive=True)
        except (OSError, serial.SerialException, termios.error) as e:
            code = _errno(e)
            if code in (errno.EAGAIN, errno.EWOULDBLOCK, errno.EBUSY):
                raise PortBusy(port, holder(port) or "another program")
            if code == errno.ENOTTY:  # /dev/null, /dev/zero: a device, not a terminal
                raise CommandError("%s is a device that is not a terminal, not a serial port"
                                   % port, BAD_INPUT)
            if code not in (errno.ENOENT, errno.EIO, errno.ENXIO, errno.ENODEV, None):
                raise CommandError("cannot open %s: %s" % (port, os.strerror(code)), NO_BOARD)
            if time.monotonic() >= deadline:
                if code == errno.ENOENT:
                    raise CommandError("no such port: %s (is the board plugged in? "
                                       "`headroom status` without --port finds a Pico)" % port,
                                       NO_BOARD)
                raise CommandError("cannot open %s: %s" % (port, e), NO_BOARD)
            if not told and say is not None:
                say("waiting for %s (the board may be restarting)..." % port)
                told = True
            time.sleep(0.1)


def stderr_say(msg):
    print(msg, file=sys.stderr, flush=True)
