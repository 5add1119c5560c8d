"""A board's USB serial port as a pseudo-terminal behind a fixed path, with a Pico's manners.

One mechanism for both boards that pose as a Pico on this computer: the virtual board
(vboard/supervisor.py, the MicroPython Unix port) and the rp2 tier's emulated RP2040
(rp2tier/usbport.py). Each keeps its own queues and event loop; this module is what they
share about the port itself:

- **It appears and goes away as a Pico's does.** `plug_in()` makes a new pseudo-terminal
  and points the path (a symlink, replaced atomically) at it; `unplug()` closes it, so
  whoever has the port open reads end of file or EIO (pyserial: "device reports readiness
  to read but returned no data"), and removes the path.
- **Raw bytes.** The terminal is set up as cfmakeraw does: nothing echoed, nothing cooked.
- **Who listens.** `host_connected()` tells whether a program has the port open (the
  master sees POLLHUP while nobody does), so output nobody reads is dropped, as a Pico
  drops it while no host holds DTR.

Linux only (pseudo-terminals).
"""
import errno
import os
import select
import termios


def raw_termios(fd):
    """cfmakeraw on a terminal: bytes pass unchanged, nothing echoed."""
    attr = termios.tcgetattr(fd)
    attr[0] &= ~(termios.IGNBRK | termios.BRKINT | termios.PARMRK | termios.ISTRIP | termios.INLCR
                 | termios.IGNCR | termios.ICRNL | termios.IXON | termios.IXOFF)
    attr[1] &= ~termios.OPOST
    attr[2] = (attr[2] & ~(termios.CSIZE | termios.PARENB)) | termios.CS8
    attr[3] = 0
    attr[6][termios.VMIN] = 1
    attr[6][termios.VTIME] = 0
    termios.tcsetattr(fd, termios.TCSANOW, attr)


class PtyPort:
    """The port at `link`: `master` is the board's end (non-blocking) while plugged in."""

    def __init__(self, link):
        self.link = link
        self.master = None
        self.pty = None   # the current pseudo-terminal's name (/dev/pts/N)

    def plug_in(self):
        """A new pseudo-terminal behind the link, as a board appearing on USB."""
        self.close()
        self.master, slave = os.openpty()
        raw_termios(slave)
        self.pty = os.ttyname(slave)
        os.close(slave)   # POLLHUP on the master now says nobody has the port open
        os.set_blocking(self.master, False)
        tmp = self.link + ".new"
        try:
            os.unlink(tmp)
        except OSError:
            pass
        os.symlink(self.pty, tmp)
        os.replace(tmp, self.link)

    def unplug(self):
        """The board drops off USB: whoever has the port reads end of file, the link goes."""
        self.close()
        try:
            os.unlink(self.link)
        except OSError:
            pass

    def close(self):
        if self.master is not None:
            os.close(self.master)
            self.master = None

    def host_connected(self):
        """A program has the pseudo-terminal open."""
        if self.master is None:
            return False
        p = select.poll()
        p.register(self.master, select.POLLIN)
        return not any(ev & select.POLLHUP for _fd, ev in p.poll(0))

    def read(self):
        """What the host sent: bytes, b"" when the host closed the port (or it is gone),
        None when nothing is waiting."""
        if self.master is None:
            return b""
        try:
            return os.read(self.master, 65536)
        except (BlockingIOError, InterruptedError):
            return None
        except OSError as e:
            if e.errno != errno.EIO:   # EIO: nobody has the port open
                raise
            return b""

    def write(self, data):
        """Write as much of `data` as the terminal takes now: the count written, or None
        when the host closed the port just now (what is left is for nobody)."""
        try:
            return os.write(self.master, data)
        except (BlockingIOError, InterruptedError):
            return 0
        except OSError:   # EIO: the host closed it just now
            return None

    def keep_echo_off(self):
        """A client that left echo on (its side's settings are the slave's) would get our
        output back as its input: turn it off, as a real port has no echo of its own."""
        attr = termios.tcgetattr(self.master)
        if attr[3] & termios.ECHO:
            attr[3] &= ~(termios.ECHO | termios.ICANON | termios.ISIG | termios.IEXTEN)
            termios.tcsetattr(self.master, termios.TCSANOW, attr)
