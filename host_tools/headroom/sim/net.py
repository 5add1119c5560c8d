"""The firmware's network seam (headroom_fw/net.py) on the desktop: the simulated Pico W's
sockets are this machine's, on 127.0.0.1, so a real browser or a test's client talks to
the firmware running on the simulated board.

The same calls with MicroPython's meanings (non-blocking; -1 and 0 for "nothing now"),
each charged to the board's clock: lwIP's work on an RP2040 for a call and for the bytes
it copies (NET_CALL_US, NET_BYTE_US: estimates, not yet measured on the rp2 tier). The
board's port (80 on a Pico W) is this machine's `port` (0: any free one; `bound` tells
which), so tests run side by side and need no root.
"""
import errno
import socket

from headroom_fw.net import Net

NET_CALL_US = 40      # a socket call into lwIP (an accept, a recv, a send)
NET_BYTE_US = 0.02    # a byte copied through lwIP's buffers (some 50 MB/s)


class SimNet(Net):
    def __init__(self, sim, port=0):
        self.sim = sim
        self.port = port
        self.bound = None     # the desktop's port the board's listens on, once it does
        self.socks = []       # every socket the firmware opened and has not closed

    def _charge(self, nbytes=0):
        s = self.sim
        if s.in_firmware:
            s.charge(int(NET_CALL_US + nbytes * NET_BYTE_US))

    def listen(self, ip, port, backlog):
        self._charge()
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((ip, self.port))
            s.listen(backlog)
            s.setblocking(False)
        except OSError:
            s.close()
            raise
        self.bound = s.getsockname()[1]
        self.socks.append(s)
        return s

    def address(self, ip, port):
        return "http://%s:%d/" % (ip, self.bound)

    def accept(self, s):
        self._charge()
        try:
            c, _ = s.accept()
        except (BlockingIOError, InterruptedError):
            return None
        except OSError:
            return None
        c.setblocking(False)
        self.socks.append(c)
        return c

    def recv_into(self, c, mv):
        try:
            n = c.recv_into(mv)
        except (BlockingIOError, InterruptedError):
            self._charge()
            return -1
        except OSError as e:
            self._charge()
            raise OSError(e.errno or errno.ECONNRESET, str(e))
        self._charge(n)
        return n

    def send(self, c, buf, off, n):
        try:
            k = c.send(memoryview(buf)[off:off + n])
        except (BlockingIOError, InterruptedError):
            self._charge()
            return 0
        except OSError as e:
            self._charge()
            raise OSError(e.errno or errno.EPIPE, str(e))
        self._charge(k)
        return k

    def close(self, c):
        self._charge()
        try:
            c.close()
        except OSError:
            pass
        if c in self.socks:
            self.socks.remove(c)

    def close_all(self):
        """The board powered off or gone: every socket it had goes (the desktop's, not
        left behind)."""
        for c in list(self.socks):
            try:
                c.close()
            except OSError:
                pass
        self.socks = []
        self.bound = None
