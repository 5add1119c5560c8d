"""The web remote's routes, on microdot (PyPI `microdot` 2.x, shipped as .mpy on boards
with `wifi`): the page, pairing, the state, commands, the live updates.

The page is a view of the same state machine as the knob and the USB protocol: a command
is a protocol line (protocol.handle), answered with the same words and refused for the
same reasons; a limit raised from the page waits for the long press on the knob, as one
from the USB host does. The network can ask for less than the host can: `status`,
`get` and `set` only (no log, no remote learning, no WiFi settings).

Who may ask (docs/web-remote.md): the page and `POST /api/pair/start`, `POST /api/pair`
are open; everything else needs the token the pairing gave (a cookie: HttpOnly,
SameSite=Strict), and a request that changes something also needs a nonce the board gave
out in an earlier reply (`X-Headroom-Nonce`), good once, and, where the browser says
where the page came from (`Origin`), this board's own address. A refusal is 403 with
words and changes nothing.

microdot's request and routing run without an event loop: web.py hands over a whole
request, already in memory, so no coroutine here ever waits, and `_run` drives each to
its end in one step. Handlers are coroutines (microdot on CPython would hand a plain
function to a thread pool).
"""
from microdot import Microdot, Request, Response  # type: ignore[import-not-found]

from . import protocol

PAGE = "index.html"
COOKIE = "hr"
_ALLOWED = ("status", "get", "set")
_JSON = "application/json"
Request.max_content_length = 512
Request.max_body_length = 512
Request.max_readline = 512


def _run(coro):
    """Drive a coroutine that never waits to its end; its result."""
    try:
        coro.send(None)
    except StopIteration as e:
        return e.value
    coro.close()
    raise RuntimeError("a web handler waited")


class _Reader:
    """A whole request, as microdot's stream."""

    def __init__(self, raw):
        self.raw = raw
        self.i = 0

    async def readline(self):
        j = self.raw.find(b"\n", self.i)
        j = len(self.raw) if j < 0 else j + 1
        line = self.raw[self.i:j]
        self.i = j
        return line

    async def readexactly(self, n):
        data = self.raw[self.i:self.i + n]
        self.i += n
        return data

    async def read(self, n=-1):
        data = self.raw[self.i:] if n < 0 else self.raw[self.i:self.i + n]
        self.i += len(data)
        return data


class _File:
    """The page's open file, for web.py to stream (readinto, finish): neither read() nor
    close(), which microdot would call to read it whole, or close it before it went."""

    def __init__(self, f):
        self.f = f

    def readinto(self, buf):
        return self.f.readinto(buf)

    def finish(self):
        self.f.close()


class _Writer:
    """What microdot writes, collected as the reply's chunks."""

    def __init__(self):
        self.chunks = []

    async def awrite(self, data):
        self.chunks.append(data.encode() if isinstance(data, str) else data)   # or a _File

    async def aclose(self):
        pass


def _json(req):
    """The request's JSON object, or None (never an exception: microdot would print it)."""
    if not req.content_type or _JSON not in req.content_type:
        return None
    try:
        d = req.json
    except (ValueError, TypeError, UnicodeError):
        return None
    return d if isinstance(d, dict) else None


def _error(status, why):
    return Response({"ok": False, "error": why}, status_code=status)


class WebApp:
    def __init__(self, app, pairing, page_dir):
        self.app = app                  # the App: its controller, its session, headphones
        self.pairing = pairing
        self.page_path = page_dir + PAGE
        self.session = protocol.Session()   # the web's own reply buffer
        self.refused = 0                # requests refused (403)
        self.now = 0
        self.m = m = Microdot()

        @m.get("/")
        async def page(req):
            try:
                f = app.files.open(self.page_path, "rb")
            except OSError:
                return _error(404, "the page is not on the board: flash it again")
            # The file itself as the body: web.py streams it (microdot hands an object
            # without read() through as one chunk).
            return Response(_File(f), headers={"Content-Type": "text/html; charset=utf-8",
                                               "Cache-Control": "no-store"})

        @m.post("/api/pair/start")
        async def pair_start(req):
            if self.pairing.start(self.now, local=False) is None:
                self.refused += 1
                return _error(429, "too many wrong codes: a new one in %d s, or at once from "
                              "the amplifier's menu (Phones)"
                              % (self.pairing.locked_ms(self.now) // 1000 + 1))
            return {"ok": True, "shown": "on the amplifier's display" if app.b.display
                    else "with `headroom wifi pair` over USB"}

        @m.post("/api/pair")
        async def pair(req):
            why = self._origin(req)
            if why is not None:
                return why
            body = _json(req)
            code = body.get("code") if body is not None else None
            token, why = self.pairing.pair(code, self.now)
            if token is None:
                self.refused += 1
                return _error(403, why)
            r = Response({"ok": True, "nonce": self.pairing.nonce()})
            r.headers["Set-Cookie"] = ("%s=%s; Path=/; HttpOnly; SameSite=Strict; "
                                       "Max-Age=31536000" % (COOKIE, token))
            return r

        @m.get("/api/state")
        async def state(req):
            why = self._auth(req, False)
            if why is not None:
                return why
            return self._reply(protocol.text(protocol.state_into(
                self.session, app.ctl, b'"ok": true, ')))

        @m.post("/api/cmd")
        async def cmd(req):
            why = self._auth(req, True)
            if why is not None:
                return why
            body = _json(req)
            line = body.get("line") if body is not None else None
            if not isinstance(line, str) or not 0 < len(line) <= protocol.MAX_LINE \
                    or not all(32 <= ord(c) <= 126 for c in line):
                return self._reply('{"ok": false, "error": "a command line, 1 to %d '
                                   'characters of text"}' % protocol.MAX_LINE, 400)
            if line.split()[0] not in _ALLOWED:
                return self._reply('{"ok": false, "error": "not from the network: %s"}'
                                   % line.split()[0][:20], 403)
            return self._reply(protocol.text(protocol.handle(
                self.session, app.ctl, line, self.now, app)))

        @m.get("/api/events")
        async def events(req):
            why = self._auth(req, False)
            if why is not None:
                return why
            req.g.stream = True
            return ""

    def _origin(self, req):
        o = req.headers.get("Origin")
        host = req.headers.get("Host")
        if o is not None and (host is None or o.split("//", 1)[-1] != host):
            self.refused += 1
            return _error(403, "a request from another site")
        return None

    def _auth(self, req, changes):
        if not self.pairing.known(req.cookies.get(COOKIE)):
            self.refused += 1
            return _error(403, "not paired: pair this page with the code the amplifier shows")
        if changes:
            why = self._origin(req)
            if why is not None:
                return why
            if not self.pairing.use_nonce(req.headers.get("X-Headroom-Nonce")):
                self.refused += 1
                return _error(403, "a stale or replayed request: reload the page")
        return None

    def _reply(self, text, status=200):
        """A protocol reply with a fresh nonce in it, for the page's next request."""
        body = '{"nonce": "%s", %s' % (self.pairing.nonce(), text[1:])
        return Response(body, status_code=status, headers={
            "Content-Type": "application/json", "Cache-Control": "no-store"})

    def handle(self, raw, now):
        """One whole request (bytes) -> (the reply's chunks, whether it is a stream)."""
        self.now = now
        w = _Writer()
        try:
            req = _run(Request.create(self.m, _Reader(raw), w, ("", 0)))
        except Exception:  # noqa: BLE001 - anything malformed is a 400, never a traceback
            req = None
        try:
            res = _run(self.m.dispatch_request(req))
            if req is not None and getattr(req.g, "stream", False):
                return None, True
            _run(res.write(w))
        except Exception as e:  # noqa: BLE001 - a failed reply: said, not raised
            self.app.log.append("web: %s %r" % (type(e).__name__, e))
            return [b"HTTP/1.0 500 Internal Server Error\r\nConnection: close\r\n\r\n"], False
        return w.chunks, False
