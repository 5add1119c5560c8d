"""Talking to a running board over its USB serial port: the control protocol's host side.

One request line, one JSON reply line; lines that are not replies (pushed events,
anything else the board prints) are skipped while waiting. See
docs/protocol.md for the commands.

`Board` waits for the port and reconnects when the board resets under it (the port
drops off USB and comes back). While `headroom monitor` holds a port, it relays other
`headroom` commands' requests to the board over a local socket (`relay_path`), so a
`set` beside a running monitor still gets its reply.
"""
import json
import os
import select
import socket
import tempfile
import time

from . import requests
from .errors import NO_BOARD, CommandError
from .linesock import MAX_LINE, LineServer
from .port import WAIT_S, PortBusy, open_serial

REPLY_S = 5.0   # a running firmware answers within a pass; a booting one within a few seconds
PROGRESS_CAP = 10  # bytes still arriving extend a wait up to this many times again


def _disconnected():
    import serial
    return (serial.SerialException, OSError)


class Link:
    """A serial port with the bytes read but not yet used (half a line, the next line)."""

    def __init__(self, ser):
        self.ser = ser
        self.buf = b""

    def write(self, data):
        self.ser.write(data)

    def close(self):
        try:
            self.ser.close()
        except Exception:  # closing a port whose device is gone
            pass

    def fileno(self):
        return self.ser.fileno()

    def pop_json(self):
        """The next complete line that is a JSON object, or None."""
        while b"\n" in self.buf:
            line, self.buf = self.buf.split(b"\n", 1)
            text = line.strip().decode("utf-8", "replace")
            if text.startswith("{"):
                try:
                    obj = json.loads(text)
                except ValueError:
                    continue
                if isinstance(obj, dict):
                    return obj
        return None

    def next_json(self, until, cap=None):
        """The next line that is a JSON object, or None at `until` (time.monotonic()).
        With `cap`, bytes arriving move `until` on by the wait it had (a slow board that is
        still sending its reply is waited for: the emulated one runs 30-130 times slower
        than a Pico), never past `cap`."""
        span = until - time.monotonic()
        while True:
            obj = self.pop_json()
            if obj is not None:
                return obj
            if time.monotonic() >= until:
                return None
            data = self.ser.read(256)
            if data:
                self.buf += data
                if cap is not None:
                    until = min(cap, max(until, time.monotonic() + span))




def reply_key(line):
    """The key that marks a successful reply to `line`, or None if any reply will do."""
    t = line.split()
    if not t:
        return None
    if t[0] in (requests.P.GET, requests.P.SET) and len(t) >= 2:
        return t[1]
    return requests.REPLY_KEYS.get(t[0])


def is_reply(obj, key):
    """`obj` answers the request whose reply_key is `key`: a refusal (which names no key)
    or a success carrying it."""
    return "ok" in obj and (key is None or not obj["ok"] or key in obj)


def request(link, line, timeout=REPLY_S):
    """Send one command on a Link; returns its reply (a dict with "ok"), skipping events
    and replies to other requests."""
    link.write(line.encode() + b"\n")
    key = reply_key(line)
    until = time.monotonic() + timeout
    cap = until + PROGRESS_CAP * timeout
    while True:
        obj = link.next_json(until, cap)
        if obj is None:
            raise CommandError("no reply to %r within %.0f s: is the Headroom firmware running? "
                               "(`headroom flash` installs it)" % (line, timeout), NO_BOARD)
        if is_reply(obj, key):
            return obj


def relay_path(port):
    """Where a monitor on `port` listens for other commands' requests."""
    name = os.path.realpath(port).strip("/").replace("/", "_")
    return os.path.join(tempfile.gettempdir(), "headroom-%d-%s.sock" % (os.getuid(), name))


class Board:
    """Requests to the firmware on one port, across the board's resets."""

    def __init__(self, port, wait_s=WAIT_S, say=None):
        self.port = port
        self.wait_s = wait_s
        self.say = say
        self.link = None
        self.relay = None

    def connect(self):
        if self.link is None:
            self.link = Link(open_serial(self.port, self.wait_s, self.say))
        return self.link

    def drop(self):
        if self.link is not None:
            self.link.close()
            self.link = None

    def close(self):
        self.drop()
        if self.relay is not None:
            self.relay.close()
            self.relay = None

    def request(self, line, timeout=REPLY_S, resend_s=None):
        """The reply to `line`. A board that resets meanwhile is waited for and asked again.
        `resend_s`: ask again after that much silence (only for requests that may be
        repeated: status, get, version); a late reply to an earlier asking, or to another
        request, is skipped by its key (reply_key)."""
        key = reply_key(line)
        deadline = time.monotonic() + timeout
        cap = deadline + PROGRESS_CAP * timeout
        while True:
            try:
                if self.relay is None and self.link is None:
                    self._open()
                if self.relay is not None:
                    return self.relay.request(line, timeout)
                link = self.link
                link.write(line.encode() + b"\n")
                step = deadline if resend_s is None else min(deadline, time.monotonic() + resend_s)
                while True:
                    obj = link.next_json(step, cap)
                    if obj is None or is_reply(obj, key):
                        break
                if obj is not None:
                    return obj
            except _disconnected():
                self.drop()
                if self.say is not None:
                    self.say("the board dropped off the port (a reset?): waiting for it...")
            if time.monotonic() >= deadline:
                raise CommandError("no reply to %r within %.0f s: is the Headroom firmware "
                                   "running? (`headroom flash` installs it)" % (line, timeout),
                                   NO_BOARD)
            if self.link is None and self.relay is None:
                time.sleep(0.1)

    def _open(self):
        """The port, or the relay of a monitor that holds it."""
        try:
            self.connect()
        except PortBusy:
            relay = RelayClient.connect(relay_path(self.port))
            if relay is None:
                raise
            self.relay = relay


class RelayClient:
    """A request through a running monitor."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    @classmethod
    def connect(cls, path):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(path)
        except OSError:
            s.close()
            return None
        return cls(s)

    def request(self, line, timeout):
        self.sock.sendall(line.encode() + b"\n")
        self.sock.settimeout(timeout + 1.0)
        while b"\n" not in self.buf:
            try:
                data = self.sock.recv(4096)
            except OSError:
                data = b""
            if not data:
                raise CommandError("no reply through the monitor holding the port", NO_BOARD)
            self.buf += data
        line, self.buf = self.buf.split(b"\n", 1)
        obj = json.loads(line)
        if "relay_error" in obj:
            raise CommandError(obj["relay_error"], NO_BOARD)
        return obj

    def close(self):
        self.sock.close()


class Relay:
    """The monitor's side: a socket on which other commands' request lines arrive; each
    is sent to the board (`send(line)`), and the next reply that comes back goes to
    whoever asked."""

    def __init__(self, path, send):
        self.send = send
        self.waiting = []    # clients whose request went to the board, oldest first
        self.server = LineServer(path, self._line, too_long=json.dumps(
            {"relay_error": "a request line longer than %d bytes" % MAX_LINE}))

    def _line(self, client, text):
        if text.split()[:1] == ["monitor"]:
            self._answer(client, {"relay_error": "a monitor holds the port; stop it to "
                                                 "change monitoring"})
            return
        self.waiting.append(client)
        self.send(text)

    def reply(self, obj):
        """A reply from the board: True if it was for a relayed request."""
        if not self.waiting:
            return False
        self._answer(self.waiting.pop(0), obj)
        return True

    def board_lost(self):
        """The board reset: the relayed requests in flight are lost."""
        for c in self.waiting:
            self._answer(c, {"relay_error": "the board reset before it replied"})
        self.waiting = []

    def _answer(self, client, obj):
        self.server.answer(client, json.dumps(obj))

    def close(self):
        self.server.close()


def monitor(board, on_event, on_state, stop=lambda: False, reply_s=REPLY_S):
    """Print every change of state (`on_event(obj)`) until stop() or Ctrl-C. The current
    state goes to `on_state(obj)` first, and again after the board resets. Other commands'
    requests are relayed to the board meanwhile. `reply_s`: the silence a reply may take."""
    def send(text):
        board.link.write(text.encode() + b"\n")

    relay = Relay(relay_path(board.port), send)
    fresh = True

    try:
        while not stop():
            # What the callbacks raise (a closed stdout: BrokenPipeError, an OSError) is
            # theirs, not the board's: only the board's own errors are a reset.
            got = None
            try:
                if fresh:
                    board.connect()
                    got = (on_state, board.request(requests.STATUS, timeout=reply_s,
                                                   resend_s=reply_s / 5))
                    board.request(requests.monitor(True), timeout=reply_s, resend_s=reply_s / 5)
                    fresh = False
                else:
                    link = board.link
                    obj = link.pop_json()
                    if obj is None:
                        ready, _, _ = select.select([link.ser] + relay.server.fds(), [], [], 0.2)
                        for r in ready:
                            if r is link.ser:
                                link.buf += link.ser.read(4096)
                            else:
                                relay.server.readable(r)
                    elif obj.get("event"):
                        got = (on_event, obj)
                    elif "ok" in obj:
                        relay.reply(obj)
            except _disconnected():
                board.drop()
                relay.board_lost()
                fresh = True
                if board.say is not None:
                    board.say("the board dropped off the port (a reset?): waiting for it...")
            if got is not None:
                got[0](got[1])
    except KeyboardInterrupt:
        pass
    finally:
        relay.close()
        try:
            if board.link is not None:
                request(board.link, requests.monitor(False), timeout=0.5)
        except (CommandError,) + _disconnected():
            pass
