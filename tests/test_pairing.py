"""Pairing phones with the web remote (headroom_fw/pairing.py), on its own: codes, tokens,
the lock after wrong codes, nonces, the file; across the ticks' wrap (2**30 ms)."""
import json
import os

import pytest

from headroom.sim.simboard import use_firmware

use_firmware()
from headroom_fw import pairing as P  # noqa: E402

WRAP = 1 << 30


class Files:
    """The firmware's Files seam on a folder."""

    def __init__(self, root):
        self.root = root

    def open(self, path, mode="r"):
        return open(os.path.join(self.root, path), mode)

    def rename(self, a, b):
        os.replace(os.path.join(self.root, a), os.path.join(self.root, b))

    def remove(self, path):
        os.remove(os.path.join(self.root, path))


class Log:
    def __init__(self):
        self.lines = []

    def append(self, line):
        self.lines.append(line)


def counter():
    n = [0]

    def urandom(k):
        n[0] += 1
        return bytes((n[0] * 37 + i * 11) & 0xFF for i in range(k))
    return urandom


@pytest.fixture
def pairing(tmp_path):
    return P.Pairing(Files(str(tmp_path)), P.FILE, counter(), Log())


@pytest.mark.parametrize("t0", [0, WRAP - 60000], ids=["start", "across-the-wrap"])
def test_a_code_is_six_digits_kept_while_open_and_gone_after_two_minutes(pairing, t0):
    code = pairing.start(t0)
    assert len(code) == 6 and code.isdigit()
    assert pairing.start((t0 + 1000) % WRAP) == code      # asked again: the same code
    assert pairing.code_now((t0 + P.CODE_MS - 1) % WRAP) == code
    assert pairing.code_now((t0 + P.CODE_MS) % WRAP) is None
    token, why = pairing.pair(code, (t0 + P.CODE_MS + 1) % WRAP)
    assert token is None and "no pairing code is open" in why


def test_the_right_code_gives_a_token_only_its_digest_is_kept(pairing, tmp_path):
    code = pairing.start(0)
    token, why = pairing.pair(code, 10)
    assert why is None and len(token) == 32 and pairing.known(token)
    assert not pairing.known("0" * 32) and not pairing.known(None) and not pairing.known(token[:-1])
    assert pairing.code_now(20) is None                     # used: closed
    text = open(os.path.join(str(tmp_path), P.FILE)).read()
    assert token not in text
    again = P.Pairing(Files(str(tmp_path)), P.FILE, counter(), Log())
    assert again.known(token)                              # kept across a reset


@pytest.mark.parametrize("t0", [0, WRAP - 1000], ids=["start", "across-the-wrap"])
def test_five_wrong_codes_close_it_and_lock_the_network_out_not_the_amplifier(pairing, t0):
    code = pairing.start(t0, local=False)
    wrong = "%06d" % ((int(code) + 1) % 1000000)
    for _ in range(P.CODE_TRIES - 1):
        token, why = pairing.pair(wrong, t0)
        assert token is None and "tries left" in why
    token, why = pairing.pair(wrong, t0)
    assert token is None and "menu" in why
    assert pairing.pair(code, t0)[0] is None                # closed: even the right one
    assert pairing.start((t0 + 1000) % WRAP, local=False) is None
    assert pairing.locked_ms((t0 + 1000) % WRAP) == P.LOCK_MS - 1000
    assert pairing.start((t0 + 2000) % WRAP, local=True) is not None   # the menu, USB
    pairing.close()
    assert pairing.start((t0 + P.LOCK_MS) % WRAP, local=False) is not None


def test_at_most_eight_phones_the_oldest_forgotten_and_forget_drops_all(pairing):
    tokens = []
    for i in range(P.MAX_DEVICES + 2):
        tokens.append(pairing.pair(pairing.start(i * 10), i * 10 + 1)[0])
    assert [pairing.known(t) for t in tokens] == [False, False] + [True] * P.MAX_DEVICES
    pairing.forget()
    assert not any(pairing.known(t) for t in tokens) and pairing.devices == []


def test_a_nonce_is_good_once_and_only_the_newest_are_kept(pairing):
    n = pairing.nonce()
    assert pairing.use_nonce(n) and not pairing.use_nonce(n)
    old = [pairing.nonce() for _ in range(P.NONCES + 3)]
    assert not pairing.use_nonce(old[0]) and pairing.use_nonce(old[-1])
    assert not pairing.use_nonce(None) and not pairing.use_nonce("")


@pytest.mark.parametrize("text", [b"", b"{", b'{"v": 2, "devices": []}', b'{"v": 1, "devices": 5}',
                                  b'{"v": 1, "devices": ["short"]}', b"\xff" * 2000,
                                  json.dumps({"v": 1, "devices": ["a" * 64] * 9}).encode()])
def test_a_damaged_file_pairs_nobody_and_is_logged(tmp_path, text):
    with open(os.path.join(str(tmp_path), P.FILE), "wb") as f:
        f.write(text)
    log = Log()
    p = P.Pairing(Files(str(tmp_path)), P.FILE, counter(), log)
    assert p.devices == [] and p.error is not None and log.lines == [p.error]
    token = p.pair(p.start(0), 1)[0]                       # pairing again mends it
    assert P.Pairing(Files(str(tmp_path)), P.FILE, counter(), Log()).known(token)


def test_the_wifi_key_never_reaches_a_reply_the_log_or_the_trace():
    """`wifi set` over USB: the key goes into wifi.json only, not into `wifi`'s or
    `status`'s replies, the log, or the simulator's trace (its serial record redacts it)."""
    from headroom import requests as R
    from headroom.sim.simboard import SimBoard

    from helpers import ask, until_playing
    key = "s3cret key 42"
    b = SimBoard(os.path.join(os.path.dirname(__file__), "..", "boards", "pico-w-balanced.json"))
    try:
        b.power(True)
        until_playing(b)
        b.console.send(R.wifi_set("home", key) + "\n")
        b.run_ms(5000)
        seen = [ask(b, "wifi"), ask(b, "status"), ask(b, "log")]
        hexkey = key.encode().hex()
        for text in [json.dumps(x) for x in seen] + list(b.trace.lines):
            assert key not in text and hexkey not in text
        assert ask(b, "wifi")["wifi"]["state"] == "up"
        with open(os.path.join(b.flash_dir, "wifi.json")) as f:
            assert json.load(f)["key"] == key
    finally:
        b.close()
