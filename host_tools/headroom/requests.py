"""The control protocol's request lines, built from the firmware's own words.

firmware/headroom_fw/protocol.py is the one place the protocol's vocabulary is written
(its commands, the names `get` and `set` take, the gain and output words); the host
tools build every line they send here, from that module imported as pure code, so a word
changed on the board changes here too (tests/test_protocol_words.py).
"""
from .firmware import pure

P = pure("protocol")

STATUS = P.STATUS
VERSION = P.VERSION_CMD
LOG = P.LOG
NAMES = P.NAMES                                    # what `get` takes
SETTABLE = P.NAMES[:P.SETTABLE] + (P.HEADPHONE,)   # what `set` takes
# The key a successful reply to each command carries (protocol.handle), so that a reply
# left over from an earlier request (one asked again after a silence) is not taken.
REPLY_KEYS = {P.VERSION_CMD: "protocol", P.STATUS: "phase", P.MONITOR: "monitor",
              P.LOG: "log", P.REMOTE: "remote", P.WIFI: "wifi"}
REMOTE = P.REMOTE
REMOTE_FUNCTIONS = pure("remote").NAMES[1:]    # what `remote learn` takes


WIFI = P.WIFI


def wifi(*words):
    """`wifi`, `wifi off`, `wifi pair`, `wifi forget-devices`."""
    return " ".join((P.WIFI,) + words)


def wifi_set(ssid, key):
    """`wifi set`: the SSID and the key as hex of their UTF-8 (spaces, quotes and any
    character travel as they are; '-': no key, an open network)."""
    return "%s set %s %s" % (P.WIFI, ssid.encode().hex(), key.encode().hex() if key else "-")


def remote_learn(function):
    return "%s %s %s" % (P.REMOTE, P.LEARN, function)


def remote_reset(how):
    """`how`: "defaults" or "clear"."""
    return "%s %s" % (P.REMOTE, how)


def monitor(on):
    return "%s %s" % (P.MONITOR, P.ON_OFF[0] if on else P.ON_OFF[1])


def get(name):
    return "%s %s" % (P.GET, name)


def set_(name, value):
    return "%s %s %s" % (P.SET, name, value)


def set_defaults():
    return "%s %s" % (P.SET, P.DEFAULTS)


def set_headphone(what):
    """`what`: a name the board's own profiles know, the figures and name in one line
    (headphones.command), or None for no headphone."""
    return "%s %s %s" % (P.SET, P.HEADPHONE, P.NO_HEADPHONE if what is None else what)
