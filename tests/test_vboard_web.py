"""A Pico W's web remote on the virtual board, end to end: the firmware on the MicroPython
Unix port serves its page on this machine's 127.0.0.1 (the board's port 80 mapped to the
port the virtual board chose and printed as its third line), `headroom flash` puts
the page on it, `headroom wifi` gives it its network and the pairing code,
and a plain HTTP client pairs and turns the volume down.

Every wait is for an event (a reply, a state the board reports) bounded by a time-out
only a hang reaches; none is a guessed duration.
"""
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest
from test_cli_serial import port as sim_port  # noqa: F401 - a fixture
from test_vboard import VBoard, needs_tools

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PICO_W = os.path.join(REPO, "boards", "pico-w-balanced.json")
PAGE = os.path.join(REPO, "firmware", "headroom_fw", "www", "index.html")
HEADROOM = [sys.executable, "-m", "headroom"]


def headroom(*args, stdin=None, timeout=180):
    p = subprocess.run(HEADROOM + list(args), capture_output=True, text=True, timeout=timeout,
                       input=stdin)
    return p.returncode, p.stdout, p.stderr


def wifi(port):
    rc, out, err = headroom("wifi", "--json", "--port", port, timeout=60)
    assert rc == 0, err
    return json.loads(out)["wifi"]


def wifi_until(port, done, timeout=90):
    """`headroom wifi` asked again until done(its reply) (the board's state: an event)."""
    end = time.monotonic() + timeout
    while True:
        w = wifi(port)
        if done(w):
            return w
        assert time.monotonic() < end, "the board's WiFi never got there: %r" % w
        time.sleep(0.2)


def http(url, method="GET", body=None, headers=None, timeout=60):
    """(status, headers, body) of one request; a 4xx is an answer too."""
    data = json.dumps(body).encode() if body is not None else None
    h = dict(headers or {})
    if data is not None:
        h["Content-Type"] = "application/json"
    req = urllib.request.Request(url, data=data, headers=h, method=method)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


# In `make test-board` (three times in CI), not `make test`: there the page on the same
# virtual Pico W is driven by a real browser (test_web_browser.py), as a phone would.
@pytest.mark.board_only
@needs_tools
def test_a_phone_pairs_with_the_virtual_pico_w_and_turns_it_down(tmp_path):
    vb = VBoard(tmp_path / "flash.img", board=PICO_W)
    try:
        url = vb.proc.stdout.readline().decode().strip()   # the third line: the page
        assert url.startswith("http://127.0.0.1:") and url.endswith("/"), url
        rc, out, err = headroom("flash", "--board", PICO_W, "--port", vb.path)
        assert rc == 0, out + err
        assert "Traceback" not in out + err
        # A second flash finds the modules and the page by their hashes: nothing to copy.
        rc, out, err = headroom("flash", "--board", PICO_W, "--port", vb.path)
        assert rc == 0 and ": 0 of " in out and "up to date" in out, out + err

        # The key goes on standard input (no terminal here), never on the command line.
        rc, out, err = headroom("wifi", "set", "home", "--port", vb.path, stdin="a good key\n")
        assert rc == 0, err
        assert "a good key" not in out + err
        up = wifi_until(vb.path, lambda w: w["state"] == "up")
        assert up["ssid"] == "home" and "key" not in json.dumps(up)

        status, headers, body = http(url)
        assert status == 200 and headers["Content-Type"].startswith("text/html")
        with open(PAGE, "rb") as f:
            assert body == f.read()
        # Not paired: the state is not given.
        assert http(url + "api/state")[0] == 403

        assert http(url + "api/pair/start", "POST", {})[0] == 200
        code = wifi_until(vb.path, lambda w: w["pairing_code"])["pairing_code"]
        rc, out, err = headroom("wifi", "pair", "--port", vb.path)
        assert rc == 0 and code in out, err      # the same code, asked again
        status, headers, body = http(url + "api/pair", "POST", {"code": code})
        assert status == 200, body
        cookie = headers["Set-Cookie"].split(";")[0]
        nonce = json.loads(body)["nonce"]

        status, _, body = http(url + "api/cmd", "POST", {"line": "set volume -25"},
                               {"Cookie": cookie, "X-Headroom-Nonce": nonce})
        assert status == 200 and json.loads(body)["ok"], body
        rc, out, err = headroom("status", "--json", "--port", vb.path, timeout=60)
        assert rc == 0 and json.loads(out)["volume"] == -25.0, out + err
        assert wifi(vb.path)["devices"] == 1

        # A power cycle: the board joins again by itself, the page is at the same URL,
        # and the phone is still paired (its token's digest was saved).
        assert vb.control("power cycle") == "ok"
        vb.wait_stderr("power cycle")      # the old VM is gone: what answers next is the new
        wifi_until(vb.path, lambda w: w["state"] == "up")
        status, _, body = http(url + "api/state", headers={"Cookie": cookie})
        assert status == 200 and json.loads(body)["ok"], body
    finally:
        vb.stop()


@needs_tools
def test_web_port_is_refused_on_a_board_without_wifi(tmp_path):
    p = subprocess.run([sys.executable, "-m", "headroom.vboard", "--image",
                        str(tmp_path / "flash.img"), "--web-port", "8080"],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 2 and "no wifi section" in p.stderr, p.stderr


def test_wifi_bad_input_exits_2_before_anything_is_sent(monkeypatch, capsys):
    """Checked on this computer with the firmware's own rules (wifi.parse_credentials):
    the port named does not exist, and is never waited for."""
    import io

    from headroom.cli import main
    nowhere = "/nonexistent/ttyACM9"
    cases = [
        (["wifi", "set", "--port", nowhere], "", "needs the network's name"),
        (["wifi", "set", "home", "--port", nowhere], "short\n", "8 to 63 characters"),
        (["wifi", "set", "home", "--port", nowhere], "", "no key given"),
        (["wifi", "set", "x" * 33, "--open", "--port", nowhere], "", "1 to 32 bytes"),
        (["wifi", "pair", "home", "--port", nowhere], "", "takes no SSID"),
        (["wifi", "--open", "--port", nowhere], "", "takes no SSID"),
        (["wifi", "join", "--port", nowhere], "", "invalid choice"),
    ]
    for argv, key, said in cases:
        monkeypatch.setattr("sys.stdin", io.StringIO(key))
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert said in err and "Traceback" not in err, (argv, err)
        assert "short" not in err    # a key is never echoed back, not even a bad one


def test_web_port_in_use_is_refused_and_a_free_one_is_found():
    import socket

    from headroom.vboard.launch import _web_port
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        taken = s.getsockname()[1]
        port, err = _web_port(PICO_W, taken)
        assert port is None and "--web-port %d: cannot listen there" % taken in err
    port, err = _web_port(PICO_W, None)
    assert err is None and 1024 <= port <= 65535
    assert _web_port(os.path.join(REPO, "boards", "pico-se.json"), None) == (None, None)


def test_wifi_on_a_board_without_it_is_refused_with_exit_1(sim_port):  # noqa: F811
    """The simulated pico-se behind a pseudo-terminal (test_cli_serial's fixture): the
    board answers, and says it has no WiFi."""
    name, _ = sim_port
    for argv in (["wifi"], ["wifi", "pair"], ["wifi", "set", "home", "--open"]):
        rc, out, err = headroom(*argv, "--port", name, timeout=60)
        assert rc == 1 and "this board has none" in err and "Traceback" not in err, (argv, err)
