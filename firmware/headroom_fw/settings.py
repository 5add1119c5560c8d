"""Settings on the board's filesystem: JSON, replaced atomically.

Besides volume, balance, gain (low, high or auto), output and limit: the SPL limit,
auto gain's headroom, and the active headphone (its name and the two figures the SPL
comes from, a profile entry `headphones.parse_profile` checks). Those three are
written only when they differ from the defaults, and `validate` gives them only when
the file has them (the controller knows their defaults).

`load` never fails: a missing, unreadable, corrupt or oversized file, or a field out
of range, gives the board's safe defaults for that field. A file larger than
MAX_BYTES is not even read: parsing a big or deeply nested JSON document could
exhaust a Pico's heap (MemoryError) at every boot. `save` writes a temporary
file and renames it over the old one, which littlefs does atomically, so a power
cut leaves either the old or the new settings, never half of each.
"""
import json

from .files import Files

VERSION = 1
MAX_BYTES = 512   # what save() writes: about 100 bytes, 300 with a headphone's 40-character name
_GAINS = ("low", "high", "auto")
SPL_LIMIT_HDB = 200   # controller.SPL_LIMIT_HDB and the rest: const() values do not import
SPL_MIN_HDB = 120
SPL_MAX_HDB = 260
HEADROOM_HDB = 6
HEADROOM_MAX_HDB = 24
_OUTPUTS = ("se", "balanced")


def defaults(board):
    return {"volume": board.default_hdb, "balance": 0, "gain": 0, "output": 0,
            "limit": board.limit_hdb}


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


def validate(board, d):
    """Settings from a decoded file: each bad or missing field takes its default."""
    out = defaults(board)
    if not isinstance(d, dict) or isinstance(d.get("v"), bool) or d.get("v") != VERSION:
        return out
    v = _hdb(d.get("volume"), board.min_hdb, board.limit_hdb)
    if v is not None:
        out["volume"] = v
    v = _hdb(d.get("balance"), -20, 20)
    if v is not None:
        out["balance"] = v
    v = _hdb(d.get("limit"), board.min_hdb, board.limit_hdb)
    if v is not None:
        out["limit"] = v
    v = _hdb(d.get("spl_limit"), SPL_MIN_HDB, SPL_MAX_HDB)
    if v is not None:
        out["spl_limit"] = v
    v = _hdb(d.get("gain_headroom"), 0, HEADROOM_MAX_HDB)
    if v is not None:
        out["gain_headroom"] = v
    if d.get("headphone") is not None:
        v = headphone(board, d["headphone"])
        if v is not None:
            out["headphone"] = v
    if d.get("gain") in _GAINS and (d["gain"] != "auto" or board.gain_relay is not None):
        out["gain"] = _GAINS.index(d["gain"])
    if d.get("output") in _OUTPUTS and _OUTPUTS.index(d["output"]) in board.outputs:
        out["output"] = _OUTPUTS.index(d["output"])
    if out["volume"] > out["limit"]:
        out["volume"] = out["limit"]
    return out


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


class SettingsStore:
    def __init__(self, path, board, files=None):
        self.path = path
        self.tmp = path + ".tmp"
        self.board = board
        self.files = files if files is not None else Files()

    def load(self):
        """The stored settings, validated; defaults where anything is wrong."""
        fs = self.files
        try:
            fs.remove(self.tmp)  # left by a power cut during a save
        except OSError:
            pass
        try:
            if fs.size(self.path) > MAX_BYTES:
                return defaults(self.board)
            with fs.open(self.path) as f:
                d = json.loads(f.read(MAX_BYTES))
            return validate(self.board, d)
        except Exception:  # missing, unreadable, not JSON, MemoryError: still boot, with defaults
            return defaults(self.board)

    def save(self, volume, balance, gain, output, limit, spl_limit=SPL_LIMIT_HDB, hp=None,
             gain_headroom=HEADROOM_HDB):
        """Replace the file with these settings (hdB ints, gain/output indices, the
        active Headphone or None): Controller.persistent()."""
        extra = ""
        if spl_limit != SPL_LIMIT_HDB:
            extra += ', "spl_limit": ' + _db(spl_limit)
        if gain_headroom != HEADROOM_HDB:
            extra += ', "gain_headroom": ' + _db(gain_headroom)
        if hp is not None:
            from .headphones import setting_json
            extra += ', "headphone": ' + setting_json(hp)
        text = '{"v": %d, "volume": %s, "balance": %s, "gain": "%s", "output": "%s", "limit": %s%s}\n' % (
            VERSION, _db(volume), _db(balance), _GAINS[gain], _OUTPUTS[output], _db(limit), extra)
        with self.files.open(self.tmp, "w") as f:
            f.write(text)
        self.files.rename(self.tmp, self.path)
