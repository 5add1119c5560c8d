"""The Pico W's WiFi: joining the network named in wifi.json, and staying on it.

A part that is not critical (part.py): the amplifier plays whatever the network does. Its
check() never waits: the CYW43 joins on its own (network.WLAN.connect returns at once)
and check() only reads its status, at most every POLL_MS. Joined, the web server
(web.py) listens; the link gone (an access point that vanished, a DHCP that never
answered within JOIN_MS), it stops, and the join is tried again after a wait that
doubles from RETRY_MS up to RETRY_MAX_MS.

The credentials live in their own file (`wifi.json`, written by `wifi set` over USB):
never in the board file or the settings, never in `status`, the log or a reply. A
damaged file is no credentials (logged). `headroom wifi set SSID` sends them.
"""
from time import ticks_add, ticks_diff

from micropython import const

from .part import Part

FILE = "wifi.json"
POLL_MS = const(250)
JOIN_MS = const(30000)       # a join (association, DHCP) not done by then is retried
RETRY_MS = const(2000)
RETRY_MAX_MS = const(60000)
_MAX_FILE = const(512)

# network.WLAN.status() (CYW43_LINK_*): 3 joined with an address; < 0 failed
_UP = const(3)
_NONET = const(-2)
_BADAUTH = const(-3)

# What `wifi` says the link is doing
OFF, JOINING, UP, WAITING = "off", "joining", "up", "waiting"


def hex_text(s):
    """Bytes of UTF-8 text as hex (how `wifi set` carries an SSID and a key on one line)."""
    from binascii import hexlify
    return hexlify(s.encode()).decode()


def parse_credentials(ssid_hex, key_hex):
    """(ssid, key) from `wifi set`'s hex, or raise ValueError saying what is wrong."""
    from binascii import unhexlify
    try:
        ssid = unhexlify(ssid_hex).decode()
        key = unhexlify(key_hex).decode() if key_hex != "-" else ""
    except (ValueError, UnicodeError):
        raise ValueError("wifi: the SSID and the key go as hex (headroom wifi set does it)")
    if not 1 <= len(ssid.encode()) <= 32:
        raise ValueError("wifi: an SSID is 1 to 32 bytes")
    if key and not 8 <= len(key.encode()) <= 63:
        raise ValueError("wifi: a WPA2 key is 8 to 63 characters (none: an open network)")
    return ssid, key


def load(files, path):
    """(ssid, key) from the file, or (None, None); and why it was not read (None: fine)."""
    try:
        with files.open(path) as f:
            text = f.read(_MAX_FILE + 1)
    except OSError:
        return None, None, None
    except UnicodeError:
        text = ""
    try:
        import json
        if len(text) > _MAX_FILE:
            raise ValueError
        d = json.loads(text)
        ssid, key = d["ssid"], d["key"]
        if d.get("v") != 1 or not isinstance(ssid, str) or not isinstance(key, str) \
                or not 1 <= len(ssid) <= 32 or len(key) > 63:
            raise ValueError
    except (ValueError, KeyError, TypeError, UnicodeError):
        return None, None, "%s: damaged: no network joined until `headroom wifi set`" % path
    return ssid, key, None


class Wifi(Part):
    NAME = "wifi"
    CRITICAL = False
    BUDGET_US = 400     # a status read over the CYW43's bus, now and then
    RETRY_US = 400

    def __init__(self, board, net, files, path, led=None):
        super().__init__()
        self.w = board.wifi
        self.net = net
        self.files = files
        self.path = path
        self.led = led
        self.wlan = None
        self.ssid, self._key, why = load(files, path)
        self.file_error = why
        self.state = OFF
        self.ip = None
        self.changes = 0          # counts joins and losses (the web server follows it)
        self._next = 0
        self._since = 0
        self._wait = RETRY_MS
        self._blink = False

    def start(self, now):
        """Power the CYW43 up (on a Pico W its firmware loads over SPI: about a second,
        while the boot's settle delay keeps the amplifier muted) and begin joining."""
        if self.file_error is not None and self.sup is not None:
            self.sup.log.append(self.file_error)
        try:
            self.net.country(self.w.country)
            self.net.hostname(self.w.hostname)
            self.wlan = self.net.wlan()
            self.wlan.active(True)
            try:
                self.wlan.config(pm=0xA11140)   # no power saving: a page answers at once
            except (OSError, ValueError, TypeError):
                pass
        except OSError as e:
            self.wlan = None
            self._report("wifi: the CYW43439 did not start (%s): no web remote" % e, now)
            return
        self._join(now)

    def set_credentials(self, ssid, key, now):
        """New credentials: written (a temporary file renamed: OSError leaves the old),
        then joined. Never echoed anywhere."""
        tmp = self.path + ".tmp"
        with self.files.open(tmp, "w") as f:
            import json
            f.write(json.dumps({"v": 1, "ssid": ssid, "key": key}))
        self.files.rename(tmp, self.path)
        self.ssid, self._key, self.file_error = ssid, key, None
        self._leave(now)
        self._wait = RETRY_MS
        self._join(now)

    def forget(self, now):
        """No network: the file removed, the link dropped."""
        try:
            self.files.remove(self.path)
        except OSError:
            pass
        self.ssid = self._key = None
        self._leave(now)
        self.state = OFF
        self._report(None, now)

    def _join(self, now):
        self._since = now
        self._next = ticks_add(now, POLL_MS)
        if self.wlan is None or self.ssid is None:
            self.state = OFF
            return
        try:
            self.wlan.connect(self.ssid, self._key)
        except OSError as e:
            self._failed("wifi: %s: could not start joining (%s)" % (self.ssid, e), now)
            return
        self.state = JOINING

    def _leave(self, now):
        if self.state == UP:
            self.changes += 1
        self.ip = None
        if self.wlan is not None:
            try:
                self.wlan.disconnect()
            except OSError:
                pass

    def _failed(self, why, now):
        self._leave(now)
        self.state = WAITING
        self._next = ticks_add(now, self._wait)
        self._wait = min(self._wait * 2, RETRY_MAX_MS)
        self._report(why, now)

    def _report(self, why, now):
        if why == self.fault:
            return
        if self.sup is not None:
            self.sup.fault(self, why, now)
        else:
            self.fault = why

    def check(self, now):
        if ticks_diff(now, self._next) < 0 or self.wlan is None:
            return
        self._next = ticks_add(now, POLL_MS)
        st = self.wlan.status()
        if self.state == JOINING:
            if self.led is not None:
                self._blink = not self._blink
                self.led.value(self._blink)
            if st == _UP:
                self.ip = self.wlan.ifconfig()[0]
                self.state = UP
                self.changes += 1
                self._wait = RETRY_MS
                if self.led is not None:
                    self.led.value(1)
                self._report(None, now)
            elif st == _BADAUTH:
                self._failed("wifi: %s refused the key: `headroom wifi set` it again"
                             % self.ssid, now)
            elif st == _NONET:
                self._failed("wifi: no network named %s in reach" % self.ssid, now)
            elif st < 0 or ticks_diff(now, self._since) >= JOIN_MS:
                self._failed("wifi: could not join %s (no address after %d s)"
                             % (self.ssid, JOIN_MS // 1000), now)
        elif self.state == UP:
            if st != _UP:
                if self.led is not None:
                    self.led.value(0)
                self._failed("wifi: the link to %s was lost; joining again" % self.ssid, now)
        elif self.state == WAITING:
            self._join(now)

    def quiet(self):
        pass

    def info(self):
        """What `wifi` tells (never the key)."""
        return self.state, self.ssid, self.ip
