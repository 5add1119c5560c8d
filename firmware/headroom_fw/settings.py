"""Settings on the board's filesystem: two JSON copies, A and B, the newer one wins.

Each save writes the copy that does not hold the newest good settings, with a sequence
number one higher (`"n"`): a save cut short by a power cut (littlefs keeps the old
contents of a file until it is closed), or a copy the flash damaged later, leaves the
other copy - the last good settings - in place. `load` never fails: it takes each field
from the newest copy that has it valid, then from the other copy, then the board's safe
default. So a damaged file falls back to the previous settings, never to a default
that would raise a volume limit the user had lowered. A file larger than MAX_BYTES is
not even read: parsing a big or deeply nested JSON document could exhaust a Pico's heap
(MemoryError) at every boot.

Files: `settings.json` (A: what firmware before the A/B pair wrote, read as sequence 0)
and `settings-b.json` (B); `settings.json.tmp`, left by that older firmware's cut
saves, is removed.
"""
import json

from .files import Files

VERSION = 1
MAX_BYTES = 512   # what save() writes is about 110 bytes
_GAINS = ("low", "high")
_OUTPUTS = ("se", "balanced")
_FIELDS = ("volume", "balance", "gain", "output", "limit")


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


def fields(board, d):
    """The valid fields of a decoded file ({name: value}, missing where bad), and its
    sequence number (-1: not a settings file of this version at all)."""
    out = {}  # type: dict[str, int]
    if not isinstance(d, dict) or isinstance(d.get("v"), bool) or d.get("v") != VERSION:
        return out, -1
    n = d.get("n", 0)
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        n = 0
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
    return out, n


def merge(board, copies):
    """Settings from decoded copies, newest first: each field from the first that has it."""
    out = defaults(board)
    for name in _FIELDS:
        for c in copies:
            if name in c:
                out[name] = c[name]
                break
    if out["volume"] > out["limit"]:
        out["volume"] = out["limit"]
    return out


def validate(board, d):
    """Settings from one decoded file: each bad or missing field takes its default."""
    return merge(board, [fields(board, d)[0]])


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
        # The newer copy first; a copy with every field valid beats one without.
        rank_a = (len(a[0]) == len(_FIELDS), a[1])
        rank_b = (len(b[0]) == len(_FIELDS), b[1])
        self.newest = 0 if rank_a >= rank_b else 1
        self.seq = max(a[1], b[1])
        first, second = (a, b) if self.newest == 0 else (b, a)
        return merge(self.board, [first[0], second[0]])

    def save(self, volume, balance, gain, output, limit):
        """Write these settings (hdB ints, gain/output indices) over the older copy."""
        seq = self.seq + 1
        text = ('{"v": %d, "n": %d, "volume": %s, "balance": %s, "gain": "%s", "output": "%s", '
                '"limit": %s}\n' % (VERSION, seq, _db(volume), _db(balance), _GAINS[gain],
                                    _OUTPUTS[output], _db(limit)))
        target = 1 - self.newest
        with self.files.open(self.paths[target], "w") as f:
            f.write(text)
        self.seq = seq
        self.newest = target
