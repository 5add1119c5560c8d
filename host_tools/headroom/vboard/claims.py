"""What a virtual board checks and claims before it starts: its board file, its flash
image and its port (held with a lock the kernel lets go of when the holder dies), never
a file it did not make."""
import fcntl
import os

from ..paths import DEFAULT_BOARD  # noqa: F401 - the virtual board's default board file
from .blockdev import IMAGE_BYTES


def hold(path):
    """`path` held for this process (an exclusive flock on it; the file is created when
    missing), or None when another live process holds it. One mechanism for everything a
    virtual board must have to itself (its flash image, its port): the kernel lets go of
    the lock when the holder dies, however it dies, so a killed board's leftovers are
    never mistaken for a live board."""
    f = open(path, "ab")
    try:
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        f.close()
        return None
    return f


def our_link(path):
    """True if `path` is a virtual board's port: a link to a pseudo-terminal (a board
    that was killed leaves one behind)."""
    return os.path.islink(path) and os.readlink(path).startswith("/dev/pts/")


def check_port(port, control):
    """None if the virtual board may make its port at `port` and its control socket at
    `control`, else why not: it never replaces a file it did not make (a text file, a
    device node: as root, /dev/ttyACM0 is a real board's)."""
    if os.path.lexists(port) and not our_link(port):
        return ("%s exists and is not a virtual board's port: not replacing it (choose "
                "another --port)" % port)
    if os.path.lexists(control):
        import stat
        if not stat.S_ISSOCK(os.lstat(control).st_mode):
            return ("%s exists and is not a control socket: not replacing it (choose "
                    "another --control)" % control)
        import socket
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            try:
                s.connect(control)
                return "%s is the control socket of a running virtual board" % control
            except OSError:
                pass  # left by a board that was killed
    return None


def check_trace(path):
    """None if the trace can be written to `path`, else why not (before anything starts)."""
    folder = os.path.dirname(path) or "."
    if os.path.isdir(path):
        return "cannot write the trace to %s: it is a folder" % path
    if not os.path.isdir(folder):
        return "cannot write the trace to %s: no such folder %s" % (path, folder)
    if not os.access(folder, os.W_OK) or (os.path.exists(path) and not os.access(path, os.W_OK)):
        return "cannot write the trace to %s: permission denied" % path
    return None


def make_image(path):
    """An erased flash image (all 0xFF): the VM formats it at its first boot, as rp2 does."""
    with open(path, "wb") as f:
        f.write(b"\xff" * IMAGE_BYTES)


def remove_lock(path):
    """The port's lock file, if it is one (empty: a file of someone else's is left alone)."""
    import stat
    try:
        st = os.lstat(path)
    except OSError:
        return
    if stat.S_ISREG(st.st_mode) and st.st_size == 0:
        remove(path)


def remove(path):
    try:
        os.unlink(path)
    except OSError:
        pass


def load_board(path):
    """The board file, parsed by the firmware's own parser (BoardError if bad)."""
    from ..firmware import pure
    return pure("board").load(path)


def check_board(path):
    """None if the board file is valid, else the error."""
    try:
        load_board(path)
    except ValueError as e:  # BoardError
        return str(e)
    return None
