"""The firmware's network seam (headroom_fw/net.py) on the desktop: the simulated Pico W's
sockets are this machine's, on 127.0.0.1, so a real browser or a test's client talks to
the firmware running on the simulated board.

The same calls with MicroPython's meanings (non-blocking; -1 and 0 for "nothing now"),
each charged to the board's clock: lwIP's work on an RP2040 for a call and for the bytes
it copies (NET_CALL_US, NET_BYTE_US: estimates, not yet measured on the rp2 tier). The
board's port (80 on a Pico W) is this machine's `port` (0: any free one; `bound` tells
which), so tests run side by side and need no root.

The trace checker reads the web as a second host (rules_host.py): SimNet parses the HTTP
it carries, on its own side (the firmware's parsing is not trusted to say what came),
and emits a `web` record for each whole request as the firmware reads it (`dir` "in":
the connection's number, the request line's method and path, and the JSON body's `line`
when it is a POST /api/cmd) and for each whole reply as it goes out (`dir` "out": the
status and, for a JSON reply, its body as one line). A live stream's reply is recorded
once its head has gone (no line), and a reply cut short (the client dropped) at its
close, with what went.
"""
import errno
import json
import socket

from headroom_fw.net import Net

NET_CALL_US = 40      # a socket call into lwIP (an accept, a recv, a send)
NET_BYTE_US = 0.02    # a byte copied through lwIP's buffers (some 50 MB/s)
# The desktop's listen queue is deeper than lwIP's: a connection lwIP would refuse at its
# SYN (the client retrying a second later, in real time) waits in the kernel instead, so a
# flood reaches the firmware within virtual milliseconds; the firmware's own bounds
# (web.py: SLOTS, ACCEPTS a pass, one more accepted and closed at once) are what hold.
DESKTOP_BACKLOG = 256
# A connection's send buffer as small as the kernel allows (4 KB asked, Linux doubles it),
# not the desktop's megabytes: the board's lwIP holds a few TCP segments, so a client that
# stops reading blocks the firmware's sends after kilobytes, as on the board.
SEND_BUFFER = 4096
_COUNTS = 512         # connections whose byte counts are kept (the newest)
_KEEP = 4096          # bytes of a request or a reply's head kept for the trace's parsing
_LINE_MAX = 4096      # a JSON reply longer than this is recorded without its body


class _Conn:
    """What went through one accepted connection, for its `web` records."""

    def __init__(self, n, now):
        self.n = n
        self.opened_us = now    # accepted at (virtual us)
        self.closed_us = None   # ...closed at by the firmware (or the board's reset)
        self.tx_us = None       # ...the last bytes sent at
        self.nrx = 0            # bytes the firmware read from it
        self.ntx = 0            # ...and sent on it
        self.rx = bytearray()   # the request's first bytes, and the reply's (the records)
        self.tx = bytearray()
        self.asked = False      # its request was recorded
        self.told = False       # ...and its reply


def _head(buf):
    """(the head's lines, where the body starts) of a whole head, or None."""
    end = buf.find(b"\r\n\r\n")
    if end < 0:
        return None
    return bytes(buf[:end]).decode("latin-1").split("\r\n"), end + 4


def _length(lines):
    """The Content-Length of a head (None: none; -1: not a number, or chunked)."""
    for ln in lines[1:]:
        k, _, v = ln.partition(":")
        k = k.strip().lower()
        if k == "transfer-encoding":
            return -1
        if k == "content-length":
            v = v.strip()
            return int(v) if v.isdigit() else -1
    return None


def _cmd_line(body):
    """The "line" of a POST /api/cmd's JSON body, or None."""
    try:
        d = json.loads(body.decode("utf-8"))
    except (ValueError, UnicodeError):
        return None
    line = d.get("line") if isinstance(d, dict) else None
    return line if isinstance(line, str) else None


class SimNet(Net):
    def __init__(self, sim, port=0):
        self.sim = sim
        self.port = port
        self.bound = None     # the desktop's port the board's listens on, once it does
        self.socks = []       # every socket the firmware opened and has not closed
        self.conns = {}       # an accepted socket -> its _Conn (the trace's view of it)
        self.accepted = 0     # connections accepted so far (their numbers in the trace)
        self.counts = {}      # a connection's number -> its _Conn, open or closed (the newest)

    def _charge(self, nbytes=0):
        s = self.sim
        if s.in_firmware:
            s.charge(int(NET_CALL_US + nbytes * NET_BYTE_US))

    def listen(self, ip, port, backlog):
        self._charge()
        s = None
        # Listening again (the link came back): the port it had, as the board's is always
        # its own (80), so a page open on it answers again; taken meanwhile, a new one.
        for port in ((self.bound, self.port) if self.bound and not self.port else (self.port,)):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            try:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                s.bind((ip, port))
                s.listen(max(backlog, DESKTOP_BACKLOG))
                s.setblocking(False)
                break
            except OSError:
                s.close()
                if port == self.port:
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
        try:
            c.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER)
        except OSError:
            pass
        self.socks.append(c)
        self.accepted += 1
        self.conns[c] = self.counts[self.accepted] = _Conn(self.accepted, self.sim.now())
        if len(self.counts) > _COUNTS:
            del self.counts[min(self.counts)]
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
        if n > 0:
            self._received(c, mv[:n])
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
        if k > 0:
            self._sent(c, memoryview(buf)[off:off + k])
        return k

    def close(self, c):
        self._charge()
        k = self.conns.pop(c, None)
        if k is not None:
            k.closed_us = self.sim.now()
            if not k.told and k.tx:
                self._tell(k, whole=False)
            k.rx = k.tx = bytearray()   # its counts stay (self.counts), its bytes go
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
        for k in self.conns.values():
            k.closed_us = self.sim.now()
        self.conns = {}
        self.bound = None

    # ---- the trace's view of the HTTP (records `web`)
    def _received(self, c, data):
        k = self.conns.get(c)
        if k is None:
            return
        k.nrx += len(data)
        if k.asked or len(k.rx) >= _KEEP:
            return
        k.rx += bytes(data[:_KEEP - len(k.rx)])
        h = _head(k.rx)
        if h is None:
            return
        lines, start = h
        n = _length(lines)
        if n is not None and (n < 0 or len(k.rx) < start + n):
            return    # refused by the firmware (no length to bound it), or the body to come
        body = bytes(k.rx[start:start + (n or 0)])
        words = lines[0].split()
        method, path = (words[0], words[1]) if len(words) >= 2 else (None, None)
        k.asked = True
        self.sim.emit("web", [("dir", "in"), ("conn", k.n), ("method", method),
                              ("path", path),
                              ("line", _cmd_line(body) if (method, path) == ("POST", "/api/cmd")
                               else None)])

    def _sent(self, c, data):
        k = self.conns.get(c)
        if k is None:
            return
        k.ntx += len(data)
        k.tx_us = self.sim.now()
        if k.told:
            return
        if len(k.tx) < _KEEP + _LINE_MAX:
            k.tx += bytes(data[:_KEEP + _LINE_MAX - len(k.tx)])
        h = _head(k.tx)
        if h is None:
            return
        lines, start = h
        n = _length(lines)
        stream = any(ln.lower().startswith("content-type:") and "text/event-stream" in ln
                     for ln in lines[1:])
        if stream or (n is not None and n >= 0 and len(k.tx) >= start + n):
            self._tell(k, whole=True)

    def _tell(self, k, whole):
        """The reply's record: its status and its JSON body (None: not JSON, a stream's,
        or cut short)."""
        k.told = True
        h = _head(k.tx)
        status, line = None, None
        if h is not None:
            lines, start = h
            words = lines[0].split()
            status = int(words[1]) if len(words) >= 2 and words[1].isdigit() else None
            n = _length(lines)
            body = bytes(k.tx[start:start + n] if n is not None and n >= 0 else k.tx[start:])
            if body.startswith(b"{") and len(body) <= _LINE_MAX and (whole or n is None):
                text = body.decode("utf-8", "replace")
                line = text if "\n" not in text else None
        self.sim.emit("web", [("dir", "out"), ("conn", k.n), ("status", status),
                              ("line", line)])
