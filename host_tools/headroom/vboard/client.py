"""The virtual board's control socket from the other side: `headroom virtual-board --send`
and the attached front panel (`headroom panel --attach`).

One line out, one answer line back (`ok` or `error: ...`), in order; an input is
answered once it is over on the board, so several may be in flight.
"""
import os
import socket
import time

from ..errors import NO_BOARD, CommandError


def control_path(port, control=None):
    """The control socket of the virtual board whose serial port is `port` (as the
    supervisor makes it: the port's path + .control), unless named."""
    return os.path.abspath(control) if control else os.path.abspath(port) + ".control"


class ControlClient:
    def __init__(self, path):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            self.sock.connect(path)
        except OSError as e:
            self.sock.close()
            raise CommandError("no virtual board's control socket at %s (%s): is `headroom "
                               "virtual-board` running on that port?" % (path, e.strerror or e),
                               NO_BOARD)
        self.buf = b""
        self.closed = False

    def fileno(self):
        return self.sock.fileno()

    def send(self, line):
        try:
            self.sock.sendall(line.encode() + b"\n")
        except OSError:
            self.closed = True
            raise CommandError("the virtual board went away (its control socket closed)", NO_BOARD)

    def answers(self):
        """The answer lines that have come in (without waiting)."""
        self.sock.setblocking(False)
        try:
            while True:
                data = self.sock.recv(4096)
                if not data:
                    self.closed = True
                    break
                self.buf += data
        except (BlockingIOError, InterruptedError):
            pass
        except OSError:
            self.closed = True
        finally:
            self.sock.setblocking(True)
        out = []
        while b"\n" in self.buf:
            line, self.buf = self.buf.split(b"\n", 1)
            out.append(line.decode("utf-8", "replace").strip())
        return out

    def ask(self, line, timeout):
        """Send `line`; its answer, waited for up to `timeout` s (CommandError NO_BOARD after)."""
        self.send(line)
        end = time.monotonic() + timeout
        while b"\n" not in self.buf:
            left = end - time.monotonic()
            if left <= 0:
                raise CommandError("no answer to %r within %.0f s: is the firmware running?"
                                   % (line, timeout), NO_BOARD)
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(4096)
            except TimeoutError:
                continue
            except OSError:
                data = b""
            if not data:
                raise CommandError("the virtual board went away before it answered %r" % line,
                                   NO_BOARD)
            self.buf += data
        answer, self.buf = self.buf.split(b"\n", 1)
        return answer.decode("utf-8", "replace").strip()

    def close(self):
        self.sock.close()
