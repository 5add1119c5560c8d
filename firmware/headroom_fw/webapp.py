"""The web remote's routes: the page, pairing, the state, commands, the live updates.

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

web.py hands over a whole request, already in memory (REQ_MAX bytes at most), and
`_Request` parses it here, with a route table of six entries: microdot did this first,
but on a Pico W its module took 27 KB of a 205 KB heap (the CYW43's driver and lwIP
leave the Pico W 40 KB less than a Pico), and the firmware then failed its boot with
MemoryError on MicroPython's real rp2 port (the rp2 tier's test_pico_w). The replies are
what microdot wrote: HTTP/1.0, Content-Type, Content-Length but for the page's file
(streamed by web.py; the connection's close ends it), a JSON body for JSON.
"""
import json

from . import protocol

PAGE = "index.html"
COOKIE = "hr"
_ALLOWED = ("status", "get", "set")
_JSON = "application/json"
_JSON_TYPE = "application/json; charset=UTF-8"
_MAX_BODY = 512
_REASON = {200: "OK", 400: "Bad Request", 403: "Forbidden", 404: "Not Found",
           405: "Method Not Allowed", 413: "Payload Too Large", 429: "Too Many Requests",
           500: "Internal Server Error"}
# path: (method, WebApp's method answering it)
_ROUTES = {"/": ("GET", "page"), "/api/pair/start": ("POST", "pair_start"),
           "/api/pair": ("POST", "pair"), "/api/state": ("GET", "state"),
           "/api/cmd": ("POST", "cmd"), "/api/events": ("GET", "events")}


class _Request:
    """One whole request: method, path, headers (names in lower case), body. ValueError
    (or UnicodeError) for anything malformed."""

    def __init__(self, raw):
        end = raw.find(b"\r\n\r\n")
        if end < 0:
            raise ValueError
        lines = raw[:end].split(b"\n")
        method, url, version = lines[0].decode().split()
        if not version.startswith("HTTP/"):
            raise ValueError
        self.method = method
        self.path = url.split("?", 1)[0]
        h = self.headers = {}
        for line in lines[1:]:
            k, v = line.decode().split(":", 1)
            h[k.strip().lower()] = v.strip()
        n = int(h.get("content-length", 0))
        if n < 0:
            raise ValueError
        self.length = n
        self.body = raw[end + 4:end + 4 + n]

    def cookie(self, name):
        """The cookie's value (the last of that name), or None."""
        v = None
        for c in self.headers.get("cookie", "").split(";"):
            i = c.find("=")
            if i > 0 and c[:i].strip() == name:
                v = c[i + 1:].strip()
        return v

    def json(self):
        """The body's JSON object, or None (never an exception)."""
        if _JSON not in self.headers.get("content-type", ""):
            return None
        try:
            d = json.loads(self.body)
        except (ValueError, TypeError, UnicodeError):
            return None
        return d if isinstance(d, dict) else None


class _File:
    """The page's open file, for web.py to stream (readinto, finish)."""

    def __init__(self, f):
        self.f = f

    def readinto(self, buf):
        return self.f.readinto(buf)

    def finish(self):
        self.f.close()


def _reply(status, body, ctype=_JSON_TYPE, extra=""):
    """The reply's chunks: the status line and headers, then the body (bytes, text, a
    dict for JSON, or a _File streamed without a length)."""
    if isinstance(body, dict):
        body = json.dumps(body)
    if isinstance(body, str):
        body = body.encode()
    head = "HTTP/1.0 %d %s\r\n%sContent-Type: %s\r\n" % (
        status, _REASON.get(status, "N/A"), extra, ctype)
    if isinstance(body, _File):
        return [(head + "\r\n").encode(), body]
    return [(head + "Content-Length: %d\r\n\r\n" % len(body)).encode() + body]


def _error(status, why):
    return _reply(status, {"ok": False, "error": why})


class WebApp:
    def __init__(self, app, pairing, page_dir):
        self.app = app                  # the App: its controller, its session, headphones
        self.pairing = pairing
        self.page_path = page_dir + PAGE
        self.session = protocol.Session()   # the web's own reply buffer
        self.refused = 0                # requests refused (403)
        self.now = 0

    # ---- the routes (_ROUTES): a reply's chunks, or None for a live-update stream
    def page(self, req):
        try:
            f = self.app.files.open(self.page_path, "rb")
        except OSError:
            return _error(404, "the page is not on the board: flash it again")
        # The file itself as the body: web.py streams it.
        return _reply(200, _File(f), "text/html; charset=utf-8", "Cache-Control: no-store\r\n")

    def pair_start(self, req):
        if self.pairing.start(self.now, local=False) is None:
            self.refused += 1
            return _error(429, "too many wrong codes: a new one in %d s, or at once from "
                          "the amplifier's menu (Phones)"
                          % (self.pairing.locked_ms(self.now) // 1000 + 1))
        return _reply(200, {"ok": True, "shown": "on the amplifier's display" if self.app.b.display
                            else "with `headroom wifi pair` over USB"})

    def pair(self, req):
        why = self._origin(req)
        if why is not None:
            return why
        body = req.json()
        code = body.get("code") if body is not None else None
        token, why = self.pairing.pair(code, self.now)
        if token is None:
            self.refused += 1
            return _error(403, why)
        return _reply(200, {"ok": True, "nonce": self.pairing.nonce()}, extra=(
            "Set-Cookie: %s=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=31536000\r\n"
            % (COOKIE, token)))

    def state(self, req):
        why = self._auth(req, False)
        if why is not None:
            return why
        return self._reply(protocol.text(protocol.state_into(
            self.session, self.app.ctl, b'"ok": true, ')))

    def cmd(self, req):
        why = self._auth(req, True)
        if why is not None:
            return why
        body = req.json()
        line = body.get("line") if body is not None else None
        if not isinstance(line, str) or not 0 < len(line) <= protocol.MAX_LINE \
                or not all(32 <= ord(c) <= 126 for c in line):
            return self._reply('{"ok": false, "error": "a command line, 1 to %d '
                               'characters of text"}' % protocol.MAX_LINE, 400)
        if line.split()[0] not in _ALLOWED:
            return self._reply('{"ok": false, "error": "not from the network: %s"}'
                               % line.split()[0][:20], 403)
        return self._reply(protocol.text(protocol.handle(
            self.session, self.app.ctl, line, self.now, self.app)))

    def events(self, req):
        why = self._auth(req, False)
        if why is not None:
            return why
        return None

    def _origin(self, req):
        o = req.headers.get("origin")
        host = req.headers.get("host")
        if o is not None and (host is None or o.split("//", 1)[-1] != host):
            self.refused += 1
            return _error(403, "a request from another site")
        return None

    def _auth(self, req, changes):
        if not self.pairing.known(req.cookie(COOKIE)):
            self.refused += 1
            return _error(403, "not paired: pair this page with the code the amplifier shows")
        if changes:
            why = self._origin(req)
            if why is not None:
                return why
            if not self.pairing.use_nonce(req.headers.get("x-headroom-nonce")):
                self.refused += 1
                return _error(403, "a stale or replayed request: reload the page")
        return None

    def _reply(self, text, status=200):
        """A protocol reply with a fresh nonce in it, for the page's next request."""
        body = '{"nonce": "%s", %s' % (self.pairing.nonce(), text[1:])
        return _reply(status, body, "application/json", "Cache-Control: no-store\r\n")

    def handle(self, raw, now):
        """One whole request (bytes) -> (the reply's chunks, whether it is a stream)."""
        self.now = now
        try:
            req = _Request(raw)
        except Exception:  # noqa: BLE001 - anything malformed is a 400, never a traceback
            return _reply(400, "Bad request", "text/plain; charset=UTF-8"), False
        try:
            route = _ROUTES.get(req.path)
            if req.length > _MAX_BODY:
                res = _reply(413, "Payload too large", "text/plain; charset=UTF-8")
            elif route is None:
                res = _reply(404, "Not found", "text/plain; charset=UTF-8")
            elif route[0] != req.method:
                res = _reply(405, "Method not allowed", "text/plain; charset=UTF-8")
            else:
                res = getattr(self, route[1])(req)
                if res is None:
                    return None, True
        except Exception as e:  # noqa: BLE001 - a failed reply: said, not raised
            self.app.log.append("web: %s %r" % (type(e).__name__, e))
            return [b"HTTP/1.0 500 Internal Server Error\r\nConnection: close\r\n\r\n"], False
        return res, False
