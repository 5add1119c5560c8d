"""Settings on the board's filesystem: two JSON copies, A and B, the newer one wins.

Each save writes the copy that does not hold the newest good settings, with a sequence
number one higher (`"n"`): a save cut short by a power cut (littlefs keeps the old
contents of a file until it is closed), or a copy the flash damaged later, leaves the
other copy - the last good settings - in place. `load` never fails. A file larger than
MAX_BYTES is not even read: parsing a big or deeply nested JSON document could exhaust
a Pico's heap (MemoryError) at every boot.

What `load` takes from the two copies (whatever their damage, sequence numbers, or a
board file changed since they were written):

- **The two limits** (the volume limit and the SPL limit): the LOWEST value either copy
  holds validly, the board's (or the built-in) default only when neither has one. So a
  lowered limit never comes back up: the copy the last save wrote holds it, and nothing
  the other copy, a damaged field elsewhere or a tampered sequence number says can
  raise it. A limit below the board's range (a board file changed since) is held at the
  board's lowest volume, never dropped for a default. The one thing no loader can see
  is a lowered limit whose only copy the flash destroyed: then the lowest that can
  still be read wins.
- **Raising a limit** therefore writes both copies: a save whose limit (or SPL limit)
  is above what the other copy holds writes its copy, then the other one too, with the
  next sequence number (the newest good copy is never the one overwritten). A power cut
  between the two leaves the lower limit in force: a raise can be lost, a lowering
  never.
- **Every other field**: from the copy with the higher sequence number where it is
  valid there, else from the other copy, else the board's safe default (a field the
  board file no longer allows, e.g. a headphone after the board lost its output
  figures, falls back alone; the rest of that copy still counts).

Besides volume, balance, gain (low, high or auto), output and limit: the SPL limit,
auto gain's headroom, the active headphone (its name and the two figures the SPL
comes from, a profile entry `headphones.parse_profile` checks), the user's start-up cap
(`startup_cap`, dBV, at most the board's `startup_max_dbv`, which is its default) and the
display's `display_brightness` (1..4), `display_timeout_s` (0..3600, 0: never dims) and
`display_dark` (true/false). The SPL limit is always written (a copy without one has
none to offer, like a bad one); the others only when they differ from the defaults, and
a copy without one means its default (so a headphone taken off stays off).

Files: `settings.json` (A: what firmware before the A/B pair wrote, read as sequence 0)
and `settings-b.json` (B); `settings.json.tmp`, left by that older firmware's cut
saves, is removed.
"""
import json

from .files import Files

VERSION = 1
_SEQ_MAX = 1 << 29
MAX_BYTES = 512   # what save() writes: about 110 bytes, 300 with a headphone's 40-character
                  # name, 400 with the start-up cap and the display's settings too
_GAINS = ("low", "high", "auto")
SPL_LIMIT_HDB = 200   # controller.SPL_LIMIT_HDB and the rest: const() values do not import
SPL_MIN_HDB = 120
SPL_MAX_HDB = 260
HEADROOM_HDB = 6
HEADROOM_MAX_HDB = 24
_OUTPUTS = ("se", "balanced")
_FIELDS = ("volume", "balance", "gain", "output", "limit")
_OPTIONAL = ("spl_limit", "gain_headroom", "headphone", "startup_cap", "display_brightness",
             "display_timeout_s", "display_dark", "input", "trims", "auto_standby_min")
BRIGHTNESS_DEFAULT = 3    # controller.BRIGHTNESS_DEFAULT ...
BRIGHTNESS_MAX = 4
DISPLAY_TIMEOUT_S = 60
DISPLAY_TIMEOUT_MAX_S = 3600
_LIMITS = ("limit", "spl_limit")   # the lowest valid value of either copy wins (above)


def defaults(board):
    return {"volume": board.default_hdb, "balance": 0, "gain": 0, "output": 0,
            "limit": board.limit_hdb}


def _optional_default(name, board):
    if name == "spl_limit":
        return SPL_LIMIT_HDB
    if name == "gain_headroom":
        return HEADROOM_HDB
    if name == "startup_cap":
        return board.startup_max_hdb   # the board's own cap: today's start-up
    if name == "display_brightness":
        return BRIGHTNESS_DEFAULT
    if name == "display_timeout_s":
        return DISPLAY_TIMEOUT_S
    if name == "display_dark":
        return False
    if name == "input" or name == "auto_standby_min":
        return 0
    return None   # headphone, trims: none


def _int(v, lo, hi):
    """A whole number within lo..hi from JSON, else None."""
    if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
        return None
    return v


def _hdb(v, lo, hi):
    """hdB from a JSON number on the 0.5 dB grid within lo..hi (hdB), else None."""
    if isinstance(v, bool) or not isinstance(v, (int, float)) or v - v != 0:
        return None  # not a number, or infinite / NaN (v - v is NaN then)
    if not lo <= v * 2 <= hi:
        return None
    h = int(round(v * 2))
    if h != v * 2 or not lo <= h <= hi:
        return None
    return h


def _trims(board, v):
    """Each input's trim (hdB, -20..0 dB), one per input, else None."""
    if not isinstance(v, list) or len(v) != len(board.input_names):
        return None
    out = [_hdb(t, -40, 0) for t in v]
    return None if None in out else out


def _limit(v, lo, hi):
    """A limit (hdB) from a JSON number: on the 0.5 dB grid up to hi; one below lo is held
    at lo (a lower limit than the range allows is still the lowest, never a default)."""
    if isinstance(v, bool) or not isinstance(v, (int, float)) or v - v != 0:
        return None
    if v * 2 < lo:
        return lo
    return _hdb(v, lo, hi)


def fields(board, d):
    """The valid fields of a decoded file ({name: value}, missing where bad; an optional
    field it leaves out is there with its default), and its sequence number (-1: not a
    settings file of this version at all)."""
    out = {}  # type: dict
    if not isinstance(d, dict) or isinstance(d.get("v"), bool) or d.get("v") != VERSION:
        return out, -1
    n = d.get("n", 0)
    # A save every pause for a century stays far below 2**29: a larger number was not
    # written by a save, and would make every later one a long int on rp2 (31-bit small
    # ints), so it counts as no number at all.
    if isinstance(n, bool) or not isinstance(n, int) or n < 0 or n >= _SEQ_MAX:
        n = 0
    v = _hdb(d.get("volume"), board.min_hdb, board.limit_hdb)
    if v is not None:
        out["volume"] = v
    v = _hdb(d.get("balance"), -20, 20)
    if v is not None:
        out["balance"] = v
    v = _limit(d.get("limit"), board.min_hdb, board.limit_hdb)
    if v is not None:
        out["limit"] = v
    if d.get("gain") in _GAINS and (d["gain"] != "auto" or board.gain_relay is not None):
        out["gain"] = _GAINS.index(d["gain"])
    if d.get("output") in _OUTPUTS and _OUTPUTS.index(d["output"]) in board.outputs:
        out["output"] = _OUTPUTS.index(d["output"])
    for name in _OPTIONAL:
        if d.get(name) is None:
            if name != "spl_limit":  # always written: a copy without one offers none
                out[name] = _optional_default(name, board)
            continue
        v = d[name]
        if name == "spl_limit":
            v = _limit(v, SPL_MIN_HDB, SPL_MAX_HDB)
        elif name == "gain_headroom":
            v = _hdb(v, 0, HEADROOM_MAX_HDB)
        elif name == "startup_cap":
            v = _hdb(v, board.min_hdb, board.startup_max_hdb)
        elif name == "display_brightness":
            v = _int(v, 1, BRIGHTNESS_MAX)
        elif name == "display_timeout_s":
            v = _int(v, 0, DISPLAY_TIMEOUT_MAX_S)
        elif name == "display_dark":
            v = v if isinstance(v, bool) else None
        elif name == "input":
            v = _int(v, 0, len(board.input_names) - 1)
        elif name == "trims":
            v = _trims(board, v)
        elif name == "auto_standby_min":
            v = _int(v, 0, 240)
        else:
            v = headphone(board, d[name])
        if v is not None:
            out[name] = v
    return out, n


def merge(board, copies):
    """Settings from decoded copies, newest first: each limit the lowest any copy has,
    each other field from the first that has it (optional fields are left out where
    they stay at their defaults)."""
    out = defaults(board)
    for name in _FIELDS + _OPTIONAL:
        if name in _LIMITS:
            low = None
            for c in copies:
                if name in c and (low is None or c[name] < low):
                    low = c[name]
            if low is not None and (name in _FIELDS or low != _optional_default(name, board)):
                out[name] = low
            continue
        for c in copies:
            if name in c:
                if c[name] is not None and c[name] != _optional_default(name, board) or \
                        name in _FIELDS:
                    out[name] = c[name]
                break
    if out["volume"] > out["limit"]:
        out["volume"] = out["limit"]
    return out


def validate(board, d):
    """Settings from one decoded file: each bad or missing field takes its default."""
    return merge(board, [fields(board, d)[0]])


def headphone(board, d):
    """(Headphone, SPL offsets) from a stored profile entry, or None if it is bad (or the
    board file lacks the output figures the SPL needs)."""
    from . import headphones  # only a board with a headphone set loads the module
    try:
        hp = headphones.parse_profile(d, "settings: headphone")
        return (hp, headphones.spl_offsets_cdb(hp, board))
    except ValueError:  # ProfileError, BoardError
        return None


def _db(h):
    """hdB as a JSON number with one decimal, identical on every VM."""
    s = "-" if h < 0 else ""
    h = abs(h)
    return "%s%d.%d" % (s, h // 2, 5 * (h % 2))


def b_path(path):
    """The B copy's file beside the A copy `settings.json`."""
    return path[:-5] + "-b.json" if path.endswith(".json") else path + "-b"


class SettingsStore:
    def __init__(self, path, board, files=None):
        self.path = path
        self.paths = (path, b_path(path))
        self.tmp = path + ".tmp"
        self.board = board
        self.files = files if files is not None else Files()
        self.seq = -1        # the newest good copy's sequence number...
        self.newest = 1      # ...and which copy it is (a save writes the other)
        self.limits = [(None, None), (None, None)]  # each copy's (limit, SPL limit) as read

    def _read(self, path):
        """(valid fields, sequence number) of one copy; ({}, -1) when unreadable."""
        fs = self.files
        try:
            if fs.size(path) > MAX_BYTES:
                return {}, -1
            with fs.open(path) as f:
                d = json.loads(f.read(MAX_BYTES))
            return fields(self.board, d)
        except Exception:  # missing, unreadable, not JSON, MemoryError: the other copy
            return {}, -1

    def load(self):
        """The stored settings, validated: the newest copy's, the other's where it has a
        bad field, the defaults where neither has it."""
        try:
            self.files.remove(self.tmp)  # left by older firmware's save cut short
        except OSError:
            pass
        a, b = self._read(self.paths[0]), self._read(self.paths[1])
        # The higher sequence number is the newest (A on a tie): its fields first. Only
        # by the number, never by how whole a copy is: a save must never overwrite the
        # copy the last save wrote (its limit may be the lowered one).
        self.newest = 0 if a[1] >= b[1] else 1
        self.seq = max(a[1], b[1])
        self.limits = [(a[0].get("limit"), a[0].get("spl_limit")),
                       (b[0].get("limit"), b[0].get("spl_limit"))]
        first, second = (a, b) if self.newest == 0 else (b, a)
        return merge(self.board, [first[0], second[0]])

    def save(self, volume, balance, gain, output, limit, spl_limit=SPL_LIMIT_HDB, hp=None,
             gain_headroom=HEADROOM_HDB, startup_cap=None, brightness=BRIGHTNESS_DEFAULT,
             timeout_s=DISPLAY_TIMEOUT_S, dark=False, inp=0, trims=(), _trims_v=0,
             auto_standby_min=0):
        """Write these settings (hdB ints, gain/output indices, the active Headphone or
        None, the start-up cap (None: the board's), the display's: Controller.persistent())
        over the older copy; and then over the other one too when it holds a lower limit
        or SPL limit (a raise: `load` takes the lowest). Raises what the filesystem raises
        (OSError: ENOSPC, EIO), having changed nothing it did not finish."""
        extra = ', "spl_limit": ' + _db(spl_limit)
        if gain_headroom != HEADROOM_HDB:
            extra += ', "gain_headroom": ' + _db(gain_headroom)
        # Written only when they differ from their defaults (a copy without one means it).
        if startup_cap is not None and startup_cap != self.board.startup_max_hdb:
            extra += ', "startup_cap": ' + _db(startup_cap)
        if brightness != BRIGHTNESS_DEFAULT:
            extra += ', "display_brightness": %d' % brightness
        if timeout_s != DISPLAY_TIMEOUT_S:
            extra += ', "display_timeout_s": %d' % timeout_s
        if dark:
            extra += ', "display_dark": true'
        if inp:
            extra += ', "input": %d' % inp
        if any(trims):
            extra += ', "trims": [%s]' % ", ".join(_db(t) for t in trims)
        if auto_standby_min:
            extra += ', "auto_standby_min": %d' % auto_standby_min
        if hp is not None:
            from .headphones import setting_json
            extra += ', "headphone": ' + setting_json(hp)
        body = ('"volume": %s, "balance": %s, "gain": "%s", "output": "%s", "limit": %s%s}\n'
                % (_db(volume), _db(balance), _GAINS[gain], _OUTPUTS[output], _db(limit), extra))
        self._write(body, limit, spl_limit)
        low, spl_low = self.limits[1 - self.newest]
        if (low is not None and low < limit) or (spl_low is not None and spl_low < spl_limit):
            self._write(body, limit, spl_limit)

    def _write(self, body, limit, spl_limit):
        """One copy, the one not holding the newest settings, with the next number."""
        seq = self.seq + 1
        target = 1 - self.newest
        with self.files.open(self.paths[target], "w") as f:
            f.write('{"v": %d, "n": %d, ' % (VERSION, seq) + body)
        self.seq = seq
        self.newest = target
        self.limits[target] = (limit, spl_limit)
