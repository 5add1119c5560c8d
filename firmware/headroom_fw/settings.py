"""Settings on the board's filesystem: JSON, replaced atomically.

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
MAX_BYTES = 512   # what save() writes is about 100 bytes
_GAINS = ("low", "high")
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
    if d.get("gain") in _GAINS:
        out["gain"] = _GAINS.index(d["gain"])
    if d.get("output") in _OUTPUTS and _OUTPUTS.index(d["output"]) in board.outputs:
        out["output"] = _OUTPUTS.index(d["output"])
    if out["volume"] > out["limit"]:
        out["volume"] = out["limit"]
    return out


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

    def save(self, volume, balance, gain, output, limit):
        """Replace the file with these settings (hdB ints, gain/output indices)."""
        text = '{"v": %d, "volume": %s, "balance": %s, "gain": "%s", "output": "%s", "limit": %s}\n' % (
            VERSION, _db(volume), _db(balance), _GAINS[gain], _OUTPUTS[output], _db(limit))
        with self.files.open(self.tmp, "w") as f:
            f.write(text)
        self.files.rename(self.tmp, self.path)
