"""Pairing phones with the web remote: a short code on the amplifier, a token the page keeps.

Nothing on the network changes anything until a phone is paired (docs/web-remote.md):

1. The page asks for a code (`start`): six digits, shown on the display and over USB
   (`headroom wifi pair`), good for CODE_MS; asking again while one is open shows the
   same code (a new one per ask would let a flood of asks reroll it).
2. The person types it into the page (`pair`): right, the page gets a token (16 random
   bytes) and the code closes; wrong CODE_TRIES times, the code closes, and for LOCK_MS
   the network cannot open another (the amplifier's own side can: its menu, `headroom
   wifi pair` over USB). A guess is one in a million, five guesses a code, a code every
   LOCK_MS: guessing takes thousands of years, and the display shows every code asked.
3. The board keeps only each token's SHA-256 (devices.json, at most MAX_DEVICES, the
   oldest forgotten first; `forget` drops them all): a copy of the file pairs nobody.

Every request that changes something also carries a nonce the board gave out (`nonce`),
good once (`use_nonce`): a request replayed, or forged by another site (which can make a
browser send the cookie but cannot read a reply to learn a nonce), is refused.

Pure: no machine, no socket; the files, the clock and the random bytes are handed in.
"""
import hashlib
from binascii import hexlify
from time import ticks_add, ticks_diff

from micropython import const

CODE_MS = const(120000)   # a code shown is good this long
CODE_TRIES = const(5)     # wrong codes before it closes
LOCK_MS = const(300000)   # ...and then the network waits this long for another
MAX_DEVICES = const(8)    # tokens kept (the oldest forgotten first)
NONCES = const(8)         # nonces outstanding (the oldest dropped first)
FILE = "devices.json"
_MAX_FILE = const(1024)


def _digest(token):
    return hexlify(hashlib.sha256(token.encode()).digest()).decode()


def _same(a, b):
    """Equal strings, compared in a time that does not depend on where they differ."""
    if len(a) != len(b):
        return False
    d = 0
    for i in range(len(a)):
        d |= ord(a[i]) ^ ord(b[i])
    return d == 0


class Pairing:
    def __init__(self, files, path, urandom, log=None):
        self.files = files
        self.path = path
        self.urandom = urandom
        self.log = log
        self.devices = []      # the tokens' digests, oldest first
        self.code = None       # the code open now (str), or None
        self._until = 0        # ...good until this ticks_ms
        self._tries = 0
        self._locked = False   # too many wrong codes: the network may not open one...
        self._lock_until = 0   # ...until this ticks_ms
        self._nonces = []
        self.error = self._load()

    # ---- the file
    def _load(self):
        try:
            with self.files.open(self.path) as f:
                text = f.read(_MAX_FILE + 1)
        except OSError:
            return None   # none paired yet
        except UnicodeError:
            text = ""     # not text: damaged
        try:
            if len(text) > _MAX_FILE or not text:
                raise ValueError("empty, too long or not text")
            import json
            d = json.loads(text)
            devs = d["devices"] if isinstance(d, dict) and d.get("v") == 1 else None
            if not isinstance(devs, list) or len(devs) > MAX_DEVICES or not all(
                    isinstance(x, str) and len(x) == 64 for x in devs):
                raise ValueError("not a list of device digests")
        except (ValueError, KeyError, TypeError, UnicodeError) as e:
            # Damaged: nobody is paired (the safe side); the page pairs again.
            why = "%s: %s: no phone paired" % (self.path, e)
            if self.log is not None:
                self.log.append(why)
            return why
        self.devices = devs
        return None

    def _save(self):
        """A temporary file renamed over the old: OSError leaves the old file."""
        tmp = self.path + ".tmp"
        with self.files.open(tmp, "w") as f:
            f.write('{"v": 1, "devices": [%s]}' % ", ".join('"%s"' % x for x in self.devices))
        self.files.rename(tmp, self.path)

    # ---- the code
    def code_now(self, now):
        """The code open now, or None (an expired one closes here)."""
        if self.code is not None and ticks_diff(now, self._until) >= 0:
            self.code = None
        return self.code

    def locked_ms(self, now):
        """How long the network must still wait to open a code (0: it may)."""
        if self._locked and ticks_diff(now, self._lock_until) >= 0:
            self._locked = False
        return ticks_diff(self._lock_until, now) if self._locked else 0

    def start(self, now, local=True):
        """Open a code (or keep the one open); returns it. `local` False: asked from the
        network, which may not while locked (None then)."""
        if not local and self.code_now(now) is None and self.locked_ms(now):
            return None
        if self.code_now(now) is None:
            n = 0
            for b in self.urandom(4):
                n = (n << 8) | b
            self.code = "%06d" % (n % 1000000)
            self._tries = 0
            self._until = ticks_add(now, CODE_MS)
        return self.code

    def close(self):
        self.code = None

    def pair(self, code, now):
        """(token, None) for the right code, else (None, why)."""
        if self.code_now(now) is None:
            return None, "no pairing code is open: ask for one, then read it on the amplifier"
        if not isinstance(code, str) or not _same(code.strip(), self.code):
            self._tries += 1
            if self._tries >= CODE_TRIES:
                self.code = None
                self._locked = True
                self._lock_until = ticks_add(now, LOCK_MS)
                return None, ("wrong code, %d times: a new one in %d minutes, or at once from "
                              "the amplifier's menu (Phones)" % (CODE_TRIES, LOCK_MS // 60000))
            return None, "wrong code (%d tries left)" % (CODE_TRIES - self._tries)
        self.code = None
        token = hexlify(self.urandom(16)).decode()
        self.devices.append(_digest(token))
        del self.devices[:-MAX_DEVICES]
        try:
            self._save()
        except OSError as e:
            # Paired until the next reset; said, not hidden.
            if self.log is not None:
                self.log.append("%s: not saved (%s): this phone pairs again after a reset"
                                % (self.path, e))
        return token, None

    # ---- who asks
    def known(self, token):
        if not isinstance(token, str) or len(token) != 32:
            return False
        d = _digest(token)
        ok = False
        for x in self.devices:
            ok |= _same(x, d)
        return ok

    def forget(self):
        """No phone paired any more; the file written at once (OSError: not written)."""
        self.devices = []
        self.code = None
        self._nonces = []
        self._save()

    def nonce(self):
        n = hexlify(self.urandom(12)).decode()
        self._nonces.append(n)
        del self._nonces[:-NONCES]
        return n

    def use_nonce(self, n):
        """True once for each nonce given out."""
        for i, x in enumerate(self._nonces):
            if isinstance(n, str) and _same(x, n):
                del self._nonces[i]
                return True
        return False

