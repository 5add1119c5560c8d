"""What the remote's keys do, free of `machine`: the key map, a held key's speed, and
learning a remote's keys (its file on the board).

A key is a decoded code (irdecode.code); the map gives each known code one function.
An unknown key does nothing. The defaults serve two remotes people have: the Apple
remote (white or aluminium; its up/down turn the level, play mutes, menu opens the knob
menu, left/right choose the input) and the 21-key remote of Arduino kits (VOL+/VOL-,
play mutes, FUNC opens the menu, |<< and >>| choose the input, POWER is standby).

Volume keys move the level through the same path as the knob (controller.turn: every
limit, the ramp's ceiling, balance mode), at a speed set by how long the key has been
held, not by the remote's repeat rate (NEC repeats every 108 ms, RC5 every 114, Sony
every 45): a press is one 0.5 dB step; held, 4 steps a second, 8 after 1.5 s, 16 after
3 s (2, 4 and 8 dB/s). The other functions act on a press, never on its repeats.

Learning (`remote learn FUNCTION` from the host, or the menu): the next key pressed
within LEARN_MS becomes that function's one key; a key another function has is refused
(say which), and a repeat or an unknown protocol's noise is not a press. The map is kept
in FILE, `{"v": 1, "keys": [[CODE, "FUNCTION"], ...]}` (at most MAX_KEYS), written to a
temporary file and renamed over the old (littlefs renames atomically); a file that is
missing, damaged or names a function this firmware lacks gives the defaults, and says
why (the log).
"""
from time import ticks_add, ticks_diff

from micropython import const

from .irdecode import APPLE_ADDR, NEC, REPEAT, code

VOLUME_UP = const(1)
VOLUME_DOWN = const(2)
MUTE = const(3)
MENU = const(4)
INPUT = const(5)
STANDBY = const(6)
NAMES = ("", "volume_up", "volume_down", "mute", "menu", "input", "standby")
FILE = "remote.json"
MAX_KEYS = 32
LEARN_MS = 10000
_PROTOS = ("", "nec", "rc5", "sony")

_KIT21 = const(0x00)
DEFAULT_KEYS = (
    (code(NEC, APPLE_ADDR, 0x0B), VOLUME_UP), (code(NEC, APPLE_ADDR, 0x0D), VOLUME_DOWN),
    (code(NEC, APPLE_ADDR, 0x04), MUTE), (code(NEC, APPLE_ADDR, 0x02), MENU),
    (code(NEC, APPLE_ADDR, 0x08), INPUT), (code(NEC, APPLE_ADDR, 0x07), INPUT),
    (code(NEC, _KIT21, 0x46), VOLUME_UP), (code(NEC, _KIT21, 0x15), VOLUME_DOWN),
    (code(NEC, _KIT21, 0x40), MUTE), (code(NEC, _KIT21, 0x47), MENU),
    (code(NEC, _KIT21, 0x44), INPUT), (code(NEC, _KIT21, 0x43), INPUT),
    (code(NEC, _KIT21, 0x45), STANDBY),
)


def held_steps(held_ms):
    """0.5 dB steps due after a volume key has been held `held_ms`: 1 at the press, then
    4/s, 8/s after 1.5 s, 16/s after 3 s."""
    if held_ms < 1500:
        return 1 + held_ms * 4 // 1000
    if held_ms < 3000:
        return 7 + (held_ms - 1500) * 8 // 1000
    if held_ms > 600000:
        held_ms = 600000   # ten minutes of holding: the count stays a small int
    return 19 + (held_ms - 3000) * 16 // 1000


def key_text(c):
    """A code as people read it: "nec 0x00 0x46", "apple 0x0b", "rc5 0x05 0x10",
    "sony15 0x1a 0x12" (allocates: replies only)."""
    proto = c >> 24 & 3
    addr = c >> 8 & 0xFFFF
    cmd = c & 0xFF
    if proto == NEC and addr == APPLE_ADDR:
        return "apple 0x%02x" % cmd
    if proto == 3:
        form = addr >> 13
        return "sony%s 0x%02x 0x%02x" % (("", "15", "20")[form], addr & 0x1FFF, cmd)
    return "%s 0x%02x 0x%02x" % (_PROTOS[proto], addr, cmd)


def parse_keys(text):
    """The key map in a FILE's text: a list of [code, function]; ValueError saying what
    is wrong (the file is then not used)."""
    import json
    try:
        d = json.loads(text)
    except ValueError:
        raise ValueError("not JSON") from None
    if not isinstance(d, dict) or d.get("v") != 1 or not isinstance(d.get("keys"), list):
        raise ValueError('not {"v": 1, "keys": [...]}')
    keys = d["keys"]
    if len(keys) > MAX_KEYS:
        raise ValueError("%d keys, at most %d" % (len(keys), MAX_KEYS))
    out = []   # type: list
    for k in keys:
        if (not isinstance(k, list) or len(k) != 2 or not isinstance(k[0], int)
                or not 0 < k[0] < 1 << 28 or k[1] not in NAMES[1:]):
            raise ValueError("a key is not [CODE, FUNCTION]: %s" % str(k)[:40])
        if any(k[0] == c for c, _ in out):
            raise ValueError("the key %s is given twice" % key_text(k[0]))
        out.append([k[0], NAMES.index(k[1])])
    return out


def keys_json(keys):
    return '{"v": 1, "keys": [%s]}' % ", ".join('[%d, "%s"]' % (c, NAMES[f]) for c, f in keys)


def load(files, path):
    """(keys, why): the map in `path`, or the defaults and why not (None: none kept)."""
    try:
        with files.open(path) as f:
            text = f.read(4096)
    except OSError:
        return [list(k) for k in DEFAULT_KEYS], None
    try:
        return parse_keys(text), None
    except ValueError as e:
        return [list(k) for k in DEFAULT_KEYS], "%s: %s: the default keys" % (path, e)


def save(files, path, keys):
    """Write the map: a temporary file, then renamed over the old (OSError: not written,
    the old map stays)."""
    tmp = path + ".tmp"
    with files.open(tmp, "w") as f:
        f.write(keys_json(keys))
    files.rename(tmp, path)


class Remote:
    def __init__(self, keys=None):
        self.keys = keys if keys is not None else [list(k) for k in DEFAULT_KEYS]
        self.fn = 0           # the function of the key down now (0: none)
        self.down_ms = 0      # when it was pressed
        self.given = 0        # steps given for it so far
        self.unknown = 0      # codes that map to nothing (for `status`)
        self.steps = 0        # a volume key's signed steps, from event()
        self.last = 0         # the last key pressed (a code), for `remote`
        self.acted = False    # and whether it acted (a key learnt does not: its repeats)
        self.learning = 0     # the function waiting for its key (0: none)
        self.learn_until = 0
        self.learned = None   # the last learning's outcome, in words
        self.learned_ok = False
    def function(self, code_):
        """The function of key `code_` (REPEAT clear), or 0."""
        for k, f in self.keys:
            if k == code_:
                return f
        return 0

    def learn(self, fn, now_ms):
        """Wait LEARN_MS for the key of function `fn` (1..)."""
        self.learning = fn
        self.learn_until = ticks_add(now_ms, LEARN_MS)
        self.learned = None

    def learning_now(self, now_ms):
        """The function waiting for its key, or 0 (none, or its time is up)."""
        if self.learning and ticks_diff(now_ms, self.learn_until) > 0:
            self.learned = "%s: no key came within %d s" % (NAMES[self.learning], LEARN_MS // 1000)
            self.learned_ok = False
            self.learning = 0
        return self.learning

    def learn_key(self, c):
        """Key `c` (a press) for the function learning: True if the map changed (save it);
        the outcome in `learned` either way."""
        fn = self.learning
        self.learning = 0
        self.learned_ok = False
        self.last = c          # its repeats, while the key is still held, do nothing
        self.acted = False
        for k, f in self.keys:
            if k == c and f != fn:
                self.learned = ("%s: refused: %s is %s's key (learn that one again first)"
                                % (NAMES[fn], key_text(c), NAMES[f]))
                return False
        keys = [k for k in self.keys if k[1] != fn]
        if len(keys) >= MAX_KEYS:
            self.learned = "%s: refused: %d keys already" % (NAMES[fn], MAX_KEYS)
            return False
        keys.append([c, fn])
        self.keys = keys
        self.learned = "%s: %s" % (NAMES[fn], key_text(c))
        self.learned_ok = True
        return True

    def event(self, ev, now_ms):
        """A decoder event: the function to act on now (0: nothing), and for a volume
        key the signed steps in `steps`."""
        self.steps = 0
        if not ev & REPEAT:
            self.last = ev
            self.acted = True
        elif ev & ~REPEAT != self.last or not self.acted:
            return 0   # the repeats of a press not acted on (learnt): nothing, as it
        fn = self.function(ev & ~REPEAT)
        if fn == 0:
            if not ev & REPEAT and self.unknown < 1000000:
                self.unknown += 1
            self.fn = 0
            return 0
        if not ev & REPEAT or fn != self.fn:
            self.fn = fn
            self.down_ms = now_ms
            self.given = 0
        elif fn != VOLUME_UP and fn != VOLUME_DOWN:
            return 0   # a held key's repeats act only for the volume
        if fn == VOLUME_UP or fn == VOLUME_DOWN:
            due = held_steps(ticks_diff(now_ms, self.down_ms))
            n = due - self.given
            self.given = due
            if n <= 0:
                return 0
            self.steps = n if fn == VOLUME_UP else -n
        return fn
