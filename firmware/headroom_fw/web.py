"""The web remote's server: non-blocking sockets polled in the main loop's pass, bounded.

Why not asyncio beside the loop: the main loop already sleeps in one place and wakes on
the knob (waker.py); an asyncio scheduler there would own the sleep, and every knob
frame would wait for whatever coroutine held the CPU. Here the network gets a share of a
pass, as the USB host does (protocol.serve), and a pass can never wait on it:

- at most SLOTS connections (STREAMS of them live-update streams); one more takes the
  slot of a connection silent for IDLE_MS (a browser opens spare ones), else it is
  accepted and closed at once (a flood fills nothing), at most ACCEPTS a pass;
- a request must fit REQ_MAX bytes (line, headers, body): a larger one is answered 413
  or 431 from a constant, without reading its body; it must be whole within REQ_MS of
  its connection (a slow or half-open client is dropped);
- at most one request is parsed and answered a pass, at most RATE a second: that is
  the only work here that allocates (the parsing and the reply; webapp.py);
- a reply goes out SEND_MAX bytes a pass per connection (the page read from its file
  through the connection's own buffer, never whole into the heap); a client that stops
  reading is dropped after STALL_MS without progress;
- the live updates (server-sent events, `data: {state}`) allocate nothing: the state is
  written by protocol.state_into into the stream's own buffer made once, as the USB
  monitor's, and sent from there; a change while one is still going out is coalesced
  into the next (never a backlog), and a page that stops reading holds back no other
  page's. An idle stream's socket is read each pass (nothing allocated): a page that
  closed frees its slot at once; a comment every PING_MS finds one that vanished.
"""
from time import ticks_diff

from micropython import const

SLOTS = const(4)
STREAMS = const(2)
ACCEPTS = const(2)
REQ_MAX = const(1024)
REQ_MS = const(3000)
IDLE_MS = const(100)       # a connection silent this long may give its slot to a new one
STALL_MS = const(5000)
PING_MS = const(15000)
SEND_MAX = const(1460)     # a TCP segment
RATE = const(20)           # requests answered a second, at most
BACKLOG = const(2)

_FREE = const(0)
_READ = const(1)
_WRITE = const(2)
_STREAM = const(3)

TOO_LARGE = (b"HTTP/1.0 413 Payload Too Large\r\nContent-Type: application/json\r\n"
             b"Connection: close\r\n\r\n"
             b'{"ok": false, "error": "request too large"}')
HEADERS_TOO_LARGE = (b"HTTP/1.0 431 Request Header Fields Too Large\r\n"
                     b"Content-Type: application/json\r\nConnection: close\r\n\r\n"
                     b'{"ok": false, "error": "request too large"}')
BUSY = (b"HTTP/1.0 503 Service Unavailable\r\nContent-Type: application/json\r\n"
        b"Connection: close\r\n\r\n"
        b'{"ok": false, "error": "too many live pages: close one"}')
SSE_HEAD = (b"HTTP/1.0 200 OK\r\nContent-Type: text/event-stream\r\n"
            b"Cache-Control: no-store\r\nConnection: close\r\n\r\n")
_DATA = b"data: "
_END = b"\n\n"
_PING = b": ping\n\n"


class _Slot:
    def __init__(self):
        self.sock = None
        self.state = _FREE
        self.buf = None     # REQ_MAX bytes, made when the server first listens (start)
        self.mv = None
        self.n = 0
        self.t = 0          # accepted at (a request), last progress at (a reply, a stream)
        self.out = None     # the reply's chunks (bytes)
        self.i = 0          # ...the chunk going out
        self.off = 0        # ...and how far into it
        self.told = -1      # a stream: the state `changes` it last sent
        self.part = 0       # a stream: 0 idle, 1 "data: ", 2 the state, 3 the end, 4 a ping
        self.session = None  # a stream: its protocol.Session (the state's buffer)


class WebServer:
    def __init__(self, net, port, handler, new_session, now):
        """`handler(raw, now)` answers one whole request (webapp.WebApp.handle): the
        reply's chunks, and whether it becomes a live-update stream. `new_session()`
        makes a stream's state buffer (protocol.Session), STREAMS of them, once."""
        self.net = net
        self.port = port
        self.handler = handler
        self.new_session = new_session
        self.sessions = []         # the streams' state buffers not in use
        self.sock = None
        self.address = None
        self.slots = [_Slot() for _ in range(SLOTS)]
        self.refused = 0           # connections closed at once (no free slot)
        self.dropped = 0           # slow, stalled or broken ones
        self.answered = 0
        self._sec = now
        self._in_sec = 0
        self.error = None

    # ---- the listening socket: up while the link is
    def start(self, ip, now):
        self.stop()
        # The connections' buffers, made once, when the link first comes up, not at boot:
        # on a Pico W the boot's heap is tight (the CYW43's driver and lwIP leave it 40 KB
        # less than a Pico's), and a boot that ran out of it would never play.
        try:
            for s in self.slots:
                if s.buf is None:
                    s.buf = bytearray(REQ_MAX)
                    s.mv = memoryview(s.buf)
            while len(self.sessions) + self.streams() < STREAMS:
                self.sessions.append(self.new_session())
        except MemoryError:
            self.error = "web: no memory for the connections' buffers: no web remote"
            return False
        try:
            self.sock = self.net.listen(ip, self.port, BACKLOG)
        except OSError as e:
            self.error = "web: cannot listen on port %d (%s)" % (self.port, e)
            return False
        self.error = None
        self.address = self.net.address(ip, self.port)
        return True

    def stop(self):
        for s in self.slots:
            self._close(s)
        if self.sock is not None:
            self.net.close(self.sock)
        self.sock = None
        self.address = None

    def streams(self):
        n = 0
        for s in self.slots:
            n += s.state == _STREAM
        return n

    def _close(self, s):
        if s.out is not None:
            for c in s.out:
                if hasattr(c, "readinto"):
                    c.finish()   # a page's file, not sent to its end
        if s.sock is not None:
            self.net.close(s.sock)
        s.sock = None
        s.state = _FREE
        s.n = 0
        s.out = None
        s.part = 0
        if s.session is not None:
            self.sessions.append(s.session)
            s.session = None

    def _drop(self, s):
        self.dropped += 1
        self._close(s)

    # ---- a pass's share
    def poll(self, now, ctl, write_state):
        """One pass's share. `write_state(session)` writes the state line into
        session.out (protocol.state_into) when a stream needs it."""
        if self.sock is None:
            return
        net = self.net
        for _ in range(ACCEPTS):
            c = net.accept(self.sock)
            if c is None:
                break
            free = None
            idle = None
            for s in self.slots:
                if s.state == _FREE:
                    free = s
                    break
                if s.state == _READ and s.n == 0 and (idle is None or
                                                      ticks_diff(idle.t, s.t) > 0):
                    idle = s
            if free is None and idle is not None and ticks_diff(now, idle.t) >= IDLE_MS:
                # A connection that has sent nothing yet (a browser's speculative one,
                # opened "just in case") gives its slot to the newcomer: a page's own
                # request is never refused for them. A flood of silent ones only
                # evicts its own.
                self._drop(idle)
                free = idle
            if free is None:
                self.refused += 1
                net.close(c)
                continue
            free.sock = c
            free.state = _READ
            free.n = 0
            free.t = now
        if ticks_diff(now, self._sec) >= 1000:
            self._sec = now
            self._in_sec = 0
        answered = False
        for s in self.slots:
            st = s.state
            if st == _READ:
                answered = self._read(s, now, answered)
            elif st == _WRITE:
                self._write(s, now)
            elif st == _STREAM:
                self._stream(s, now, ctl, write_state)

    def _read(self, s, now, answered):
        if ticks_diff(now, s.t) >= REQ_MS:
            self._drop(s)          # slow, or half-open: its slot is worth more
            return answered
        if s.n < REQ_MAX:
            try:
                k = self.net.recv_into(s.sock, s.mv[s.n:])
            except OSError:
                self._drop(s)
                return answered
            if k == 0:
                self._close(s)     # the client gave up
                return answered
            if k > 0:
                s.n += k
        end = s.buf.find(b"\r\n\r\n", 0, s.n)
        if end < 0:
            if s.n >= REQ_MAX:
                self._reply(s, (HEADERS_TOO_LARGE,), now)
            return answered
        length = _content_length(s.buf, end)
        if length < 0 or end + 4 + length > REQ_MAX:
            self._reply(s, (TOO_LARGE,), now)
            return answered
        if s.n < end + 4 + length or answered or self._in_sec >= RATE:
            return answered     # the body still coming, or this pass's (second's) request done
        self._in_sec += 1
        self.answered += 1
        chunks, stream = self.handler(bytes(s.buf[:end + 4 + length]), now)
        if stream:
            if not self.sessions:
                self._reply(s, (BUSY,), now)
                return True
            s.session = self.sessions.pop()
            s.out = (SSE_HEAD,)
            s.i = s.off = 0
            s.state = _STREAM
            s.told = -1
            s.part = 0
            s.t = now
            return True
        self._reply(s, chunks, now)
        return True

    def _reply(self, s, chunks, now):
        s.out = chunks
        s.i = s.off = s.n = 0
        s.state = _WRITE
        s.t = now

    def _send(self, s, buf, n, now):
        """Part of buf[s.off:n] out; True once all of it went."""
        try:
            k = self.net.send(s.sock, buf, s.off, min(n - s.off, SEND_MAX))
        except OSError:
            self._drop(s)
            return False
        if k:
            s.off += k
            s.t = now
        elif ticks_diff(now, s.t) >= STALL_MS:
            self._drop(s)      # it stopped reading
            return False
        return s.off >= n

    def _write(self, s, now):
        out = s.out
        while s.i < len(out):
            c = out[s.i]
            if hasattr(c, "readinto"):
                # A file (the page): read through the slot's own buffer, a piece at a
                # time, never whole into the heap.
                if s.off >= s.n:
                    s.n = c.readinto(s.buf) or 0
                    s.off = 0
                    if s.n == 0:
                        c.finish()
                        s.i += 1
                        continue
                if not self._send(s, s.buf, s.n, now):
                    return
                continue
            if not self._send(s, c, len(c), now):
                return
            s.i += 1
            s.off = 0
        s.out = None
        self._close(s)

    def _stream(self, s, now, ctl, write_state):
        if s.out is not None:            # the head first
            if self._send(s, SSE_HEAD, len(SSE_HEAD), now):
                s.out = None
                s.off = 0
            return
        if s.sock is None:
            return
        if s.part == 0:
            # Idle: a page that closed is seen at once (its socket reads as closed); what
            # it sends is dropped. The slot's whole buffer, no slice made.
            try:
                k = self.net.recv_into(s.sock, s.mv)
            except OSError:
                k = 0
            if k == 0:
                self._close(s)
                return
            if s.told != ctl.changes:
                write_state(s.session)
                s.told = ctl.changes
                s.part = 1
                s.off = 0
            elif ticks_diff(now, s.t) >= PING_MS:
                s.part = 4
                s.off = 0
            else:
                return
        p = s.part
        if p == 1:
            done = self._send(s, _DATA, len(_DATA), now)
        elif p == 2:
            out = s.session.out
            done = self._send(s, out.buf, out.n, now)
        elif p == 3:
            done = self._send(s, _END, len(_END), now)
        else:
            done = self._send(s, _PING, len(_PING), now)
            if done:
                s.part = 0
            return
        if done:
            s.off = 0
            s.part = 0 if p == 3 else p + 1


def _content_length(buf, end):
    """The Content-Length of the headers in buf[:end] (0: none); -1: not a number, or a
    body sent chunked (no length to bound it by)."""
    i = 0
    while True:
        i = buf.find(b"\n", i, end)
        if i < 0:
            return 0
        i += 1
        if _starts(buf, i, b"content-length:"):
            j = i + 15
            n = 0
            digits = 0
            while j < end and buf[j] in (32, 9):
                j += 1
            while j < end and 48 <= buf[j] <= 57 and digits < 7:
                n = n * 10 + buf[j] - 48
                j += 1
                digits += 1
            if digits == 0 or (j < end and buf[j] not in (13, 32, 9)):
                return -1
            return n
        if _starts(buf, i, b"transfer-encoding:"):
            return -1


def _starts(buf, i, word):
    """buf[i:] starts with `word` (lower case), whatever the case in buf."""
    if i + len(word) > len(buf):
        return False
    for k in range(len(word)):
        c = buf[i + k]
        if 65 <= c <= 90:
            c += 32
        if c != word[k]:
            return False
    return True
