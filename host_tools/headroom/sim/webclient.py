"""A web client for the simulated Pico W's remote (the tests and `make bench`): real sockets
on 127.0.0.1 to the firmware's server, the board run on its virtual clock until the reply
is whole (an event: the server closes the connection), never a guessed wall-clock wait."""
import json
import socket

from .. import requests as R


def join(b, ssid="home", key="a good key", within_ms=20000):
    """Give the board its network (`wifi set` over USB) and run it until the page is up;
    returns its URL."""
    b.console.send(R.wifi_set(ssid, key) + "\n")
    for _ in range(within_ms // 50):
        b.run_ms(50)
        if b.web_url:
            return b.web_url
    raise AssertionError("the web remote did not come up within %d ms" % within_ms)


class Reply:
    def __init__(self, raw):
        head, _, self.body = raw.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        self.status = int(lines[0].split()[1]) if lines and len(lines[0].split()) > 1 else 0
        self.headers = {}
        self.cookies = []
        for ln in lines[1:]:
            k, _, v = ln.partition(":")
            if k.lower() == "set-cookie":
                self.cookies.append(v.strip())
            self.headers[k.lower()] = v.strip()

    def json(self):
        return json.loads(self.body)


class Client:
    """One browser: its cookie and the last nonce the board gave it."""

    def __init__(self, b):
        self.b = b
        url = b.web_url
        self.host = url.split("//")[1].rstrip("/")
        ip, port = self.host.split(":")
        self.addr = (ip, int(port))
        self.cookie = None
        self.nonce = None

    def connect(self):
        s = socket.create_connection(self.addr, timeout=5)
        s.setblocking(False)
        return s

    def raw(self, data, within_ms=5000, s=None):
        """Send bytes on a new connection; run the board until the server closes it;
        the reply's bytes."""
        s = s or self.connect()
        try:
            s.sendall(data)
        except BlockingIOError:
            pass
        got = b""
        for _ in range(within_ms // 5):
            self.b.run_ms(5)
            try:
                while True:
                    chunk = s.recv(65536)
                    if not chunk:
                        s.close()
                        return got
                    got += chunk
            except BlockingIOError:
                pass
            except ConnectionResetError:
                s.close()
                return got
        s.close()
        raise AssertionError("no whole reply within %d ms: %r" % (within_ms, got[:200]))

    def request(self, method, path, body=None, headers=None, nonce=True):
        h = {"Host": self.host}
        data = b""
        if body is not None:
            data = json.dumps(body).encode()
            h["Content-Type"] = "application/json"
            h["Content-Length"] = str(len(data))
        if self.cookie:
            h["Cookie"] = self.cookie
        if nonce and self.nonce and method == "POST":
            h["X-Headroom-Nonce"] = self.nonce
        h.update(headers or {})
        head = "%s %s HTTP/1.1\r\n%s\r\n\r\n" % (
            method, path, "\r\n".join("%s: %s" % kv for kv in h.items()))
        r = Reply(self.raw(head.encode() + data))
        for c in r.cookies:
            self.cookie = c.split(";")[0]
        try:
            n = r.json().get("nonce") if r.body.startswith(b"{") else None
        except ValueError:
            n = None
        if n:
            self.nonce = n
        return r

    def pair(self):
        """Ask for a code, read it over USB (`wifi`), type it in."""
        assert self.request("POST", "/api/pair/start").status == 200
        code = ask_wifi(self.b)["pairing_code"]
        r = self.request("POST", "/api/pair", {"code": code})
        assert r.status == 200, r.body
        return r

    def cmd(self, line, **kw):
        return self.request("POST", "/api/cmd", {"line": line}, **kw)


def ask_wifi(b, within_ms=2000):
    """`wifi` over USB: its reply's object, once the host has it."""
    n = len(b.console.replies())
    b.console.send(R.WIFI + "\n")
    for _ in range(within_ms):
        if len(b.console.replies()) > n:
            return json.loads(b.console.replies()[n])["wifi"]
        b.run_ms(1)
    raise AssertionError("no reply to `wifi` within %d ms" % within_ms)
