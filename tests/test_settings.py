"""Settings file: validation, defaults, atomic save (headroom_fw.settings)."""
import copy
import io
import json
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from headroom_fw import board as boardfile
from headroom_fw import files as files_mod
from headroom_fw import settings as st_mod
from headroom_fw.settings import SettingsStore, defaults

from helpers import BALANCED, SE

SE_BOARD = boardfile.load(SE)
BAL_BOARD = boardfile.load(BALANCED)

# A function-scoped tmp_path inside @given is fine here: every example writes the
# file it reads, so nothing leaks between examples.
HYP = settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def store(tmp_path, board=SE_BOARD):
    return SettingsStore(str(tmp_path / "settings.json"), board)


def write(tmp_path, content):
    p = tmp_path / "settings.json"
    if isinstance(content, bytes):
        p.write_bytes(content)
    else:
        p.write_text(content)


def doc(**over):
    """A valid settings document (as written by save), with fields replaced or removed."""
    d = {"v": 1, "volume": -25.5, "balance": 1.5, "gain": "high", "output": "se", "limit": 3.0}
    for k, v in over.items():
        if v is _DROP:
            d.pop(k)
        else:
            d[k] = v
    return json.dumps(d)


_DROP = object()
VALID = {"volume": -51, "balance": 3, "gain": 1, "output": 0, "limit": 6}


def in_ranges(s, board):
    assert set(s) == {"volume", "balance", "gain", "output", "limit"}
    for k in s:
        assert isinstance(s[k], int) and not isinstance(s[k], bool), k
    assert board.min_hdb <= s["limit"] <= board.limit_hdb
    assert board.min_hdb <= s["volume"] <= s["limit"]
    assert -20 <= s["balance"] <= 20
    assert s["gain"] in (0, 1)
    assert s["output"] in board.outputs


def test_board_defaults_are_in_range():
    d = defaults(SE_BOARD)
    assert d == {"volume": -60, "balance": 0, "gain": 0, "output": 0, "limit": 12}
    in_ranges(d, SE_BOARD)


def test_valid_document_is_read_exactly(tmp_path):
    write(tmp_path, doc())
    assert store(tmp_path).load() == VALID


@pytest.mark.parametrize("board", [SE_BOARD, BAL_BOARD], ids=["se", "balanced"])
def test_save_then_load_round_trips(tmp_path, board):
    s = store(tmp_path, board)
    for vals in ((-60, 0, 0, 0, 12), (-1, -1, 1, 0, 0), (-160, -20, 0, 0, -160),
                 (12, 20, 1, board.outputs[-1], 12), (-3, 7, 1, 0, 5)):
        s.save(*vals)
        got = s.load()
        assert (got["volume"], got["balance"], got["gain"], got["output"], got["limit"]) == vals


@given(st.data())
@HYP
def test_save_load_round_trip_property(tmp_path, data):
    b = data.draw(st.sampled_from([SE_BOARD, BAL_BOARD]))
    limit = data.draw(st.integers(b.min_hdb, b.limit_hdb))
    vals = (data.draw(st.integers(b.min_hdb, limit)), data.draw(st.integers(-20, 20)),
            data.draw(st.integers(0, 1)), data.draw(st.sampled_from(b.outputs)), limit)
    s = store(tmp_path, b)
    s.save(*vals)
    got = s.load()
    assert (got["volume"], got["balance"], got["gain"], got["output"], got["limit"]) == vals


def test_saved_file_is_valid_json_with_half_db_values(tmp_path):
    s = store(tmp_path)
    s.load()
    s.save(-61, -3, 1, 0, 11)
    with open(st_mod.b_path(s.path)) as f:
        d = json.load(f)
    assert d == {"v": 1, "n": 0, "volume": -30.5, "balance": -1.5, "gain": "high",
                 "output": "se", "limit": 5.5, "spl_limit": 100.0}


def slots(s):
    """(A, B) decoded, None where the file is absent."""
    out = []
    for p in s.paths:
        try:
            with open(p) as f:
                out.append(json.load(f))
        except OSError:
            out.append(None)
    return out


def test_saves_alternate_between_the_copies_with_rising_numbers(tmp_path):
    s = store(tmp_path)
    s.load()
    seen = []
    for i, vol in enumerate((-50, -40, -30, -20)):
        s.save(vol, 0, 0, 0, 12)
        a, b = slots(s)
        newest = b if i % 2 == 0 else a
        older = a if i % 2 == 0 else b
        assert newest["n"] == i and newest["volume"] == vol / 2
        if i:
            assert older["n"] == i - 1 and older["volume"] == seen[-1] / 2
        seen.append(vol)
        # A fresh store (a reboot) reads the newest and writes over the other.
        s = store(tmp_path)
        assert s.load()["volume"] == vol


def test_a_damaged_newest_copy_falls_back_to_the_previous_settings(tmp_path):
    s = store(tmp_path)
    s.load()
    s.save(-50, 2, 1, 0, -20)         # the user lowered the limit to -10 dBV
    s.save(-30, 4, 0, 0, -20)
    newest = s.paths[s.newest]
    for damage in (b"", b'{"v": 1, "n": 9, "volume": ', b"\xff\x00", b'{"v": 1, "n": 9}'):
        with open(newest, "wb") as f:
            f.write(damage)
        got = store(tmp_path).load()
        assert got == {"volume": -50, "balance": 2, "gain": 1, "output": 0, "limit": -20}, damage
        assert got["limit"] < SE_BOARD.limit_hdb   # never the default that would raise it


def test_a_lowered_limit_survives_a_bad_field_elsewhere_in_its_copy(tmp_path):
    """Issue 17: limit lowered to 0 dBV with a headphone set; the board file then lost
    analog.outputs, so the newest copy's headphone fails: the limit still loads as 0 dBV
    (it loaded as the older copy's +6 dBV)."""
    from headroom_fw import headphones as H
    phones = H.parse_profile({"name": "HD 600", "impedance": {"ohm": 300},
                              "sensitivity": {"value": 97, "unit": "dB/mW"}})
    s = store(tmp_path)
    s.load()
    s.save(-50, 0, 0, 0, 12, 200)
    s.save(-50, 0, 0, 0, 0, 200, phones)        # the limit lowered to 0 dBV, a headphone set
    d = json.load(open(SE))
    del d["analog"]["outputs"]
    got = store(tmp_path, boardfile.parse(d, "no-outputs")).load()
    assert got["limit"] == 0
    assert "headphone" not in got


class MemFiles:
    """Files on a dict, as littlefs keeps them: a file written is replaced when closed."""

    def __init__(self):
        self.d = {}

    def open(self, path, mode="r"):
        if "w" in mode:
            return _MemWriter(self.d, path)
        if path not in self.d:
            raise OSError(2, "ENOENT")
        return io.StringIO(self.d[path])

    def size(self, path):
        if path not in self.d:
            raise OSError(2, "ENOENT")
        return len(self.d[path].encode("utf-8", "surrogateescape"))

    def remove(self, path):
        if path not in self.d:
            raise OSError(2, "ENOENT")
        del self.d[path]


class _MemWriter(io.StringIO):
    def __init__(self, d, path):
        super().__init__()
        self.dd, self.path = d, path

    def close(self):
        self.dd[self.path] = self.getvalue()
        super().close()


def _variant(d, narrow, no_outputs):
    d = copy.deepcopy(d)
    if narrow:   # a board file with a narrower range: 0 dBV at the top, -60 at the bottom
        d["volume"].update({"limit_dbv": 0.0, "min_dbv": -60.0})
    if no_outputs:   # the output figures gone: a stored headphone no longer validates
        del d["analog"]["outputs"]
    return boardfile.parse(d, "variant")


_DICTS = {"se": json.load(open(SE)), "balanced": json.load(open(BALANCED))}
_BOARDS = {(k, n, o): _variant(d, n, o) for k, d in _DICTS.items()
           for n in (False, True) for o in (False, True)}
_PHONES = [None, "HD 600", "Tiny"]
_REQUIRED = ("volume", "balance", "gain", "output", "limit", "spl_limit")
_OTHER = ("volume", "balance", "gain", "output", "gain_headroom", "headphone")
_DEFAULTS = {"gain_headroom": st_mod.HEADROOM_HDB, "headphone": None}


def _phone(name):
    from headroom_fw import headphones as H
    if name is None:
        return None
    z, sens = (300, 97) if name == "HD 600" else (16, 110)
    return H.parse_profile({"name": name, "impedance": {"ohm": z},
                            "sensitivity": {"value": sens, "unit": "dB/mW"}})


@st.composite
def _save(draw, b):
    limit = draw(st.integers(b.min_hdb, b.limit_hdb))
    return {"volume": draw(st.integers(b.min_hdb, limit)), "balance": draw(st.integers(-20, 20)),
            "gain": draw(st.integers(0, 1)), "output": draw(st.sampled_from(b.outputs)),
            "limit": limit, "spl_limit": draw(st.integers(st_mod.SPL_MIN_HDB, st_mod.SPL_MAX_HDB)),
            "headphone": draw(st.sampled_from(_PHONES)),
            "gain_headroom": draw(st.integers(0, st_mod.HEADROOM_MAX_HDB))}


_DAMAGE = st.one_of(
    st.just(("none",)), st.tuples(st.just("truncate"), st.integers(0, 60)),
    st.tuples(st.just("garbage"), st.binary(min_size=1, max_size=20)),
    st.tuples(st.just("bad"), st.sampled_from(_REQUIRED + ("gain_headroom", "headphone")),
              st.sampled_from(["x", None, True, 1e999, 0.25, [1]])),
    st.tuples(st.just("drop"), st.sampled_from(_REQUIRED + ("gain_headroom", "headphone"))),
    st.tuples(st.just("seq"), st.one_of(st.integers(0, 30), st.just(-3), st.just("7"))))


def _damage(files, path, dmg):
    """Damage the copy at `path`; returns what is left readable of it: None (nothing),
    or ({field damaged: its value}, the fields removed, the sequence number it now shows)."""
    if dmg[0] == "none":
        return {}, set(), None
    text = files.d[path]
    if dmg[0] == "truncate":
        files.d[path] = text[:min(dmg[1], len(text) - 3)]   # never its closing brace
        return None
    if dmg[0] == "garbage":
        files.d[path] = "\udcff" + dmg[1].decode("latin-1")
        return None
    d = json.loads(text)
    if dmg[0] == "bad":
        d[dmg[1]] = dmg[2]
        files.d[path] = json.dumps(d)
        if dmg[1] in _DEFAULTS and dmg[2] is None:   # null: the optional field's default
            return {}, {dmg[1]}, None
        return {dmg[1]: dmg[2]}, set(), None
    if dmg[0] == "drop":
        d.pop(dmg[1], None)
        files.d[path] = json.dumps(d)
        return {}, {dmg[1]}, None
    d["n"] = dmg[1]
    files.d[path] = json.dumps(d)
    return {}, set(), dmg[1] if isinstance(dmg[1], int) and dmg[1] >= 0 else 0


@given(st.data())
@settings(parent=HYP)
def test_a_lowered_limit_never_rises_whatever_the_loader_meets(data):
    """The safety property of `load` (issue 17): after any sequence of saves (with reboots
    between them), any damage to either copy (truncated, garbage, a bad or a missing field,
    a tampered sequence number) and any change of board file (a narrower volume range, the
    output figures gone so a headphone fails): the loaded volume limit and SPL limit are
    never above the last ones saved (while the copy that save wrote still has them
    readable; when the flash destroyed it, never above what the other copy holds), and
    every other field is the newest copy's, where it is valid there."""
    kind = data.draw(st.sampled_from(sorted(_DICTS)))
    b0 = _BOARDS[(kind, False, False)]
    files = MemFiles()
    s = SettingsStore("settings.json", b0, files)
    s.load()
    written = {}   # path -> (sequence number, the values)
    last = None
    for _ in range(data.draw(st.integers(1, 5))):
        if data.draw(st.booleans()):
            s = SettingsStore("settings.json", b0, files)   # a reboot between saves
            s.load()
        v = data.draw(_save(b0))
        before = dict(files.d)
        s.save(v["volume"], v["balance"], v["gain"], v["output"], v["limit"], v["spl_limit"],
               _phone(v["headphone"]), v["gain_headroom"])
        for path in s.paths:
            if files.d.get(path) != before.get(path):
                written[path] = (json.loads(files.d[path])["n"], v)
        last = v
        last_paths = [p for p in s.paths if files.d.get(p) != before.get(p)]
    seen = {}
    for path in s.paths:
        if path in written:
            seen[path] = _damage(files, path, data.draw(_DAMAGE, label="damage " + path))
        else:
            seen[path] = None
    narrow, no_out = data.draw(st.booleans()), data.draw(st.booleans())
    b = _BOARDS[(kind, narrow, no_out)]

    def read(path, name):
        """The field as the loader may read it from this copy: (True, value) or (False,)."""
        if seen[path] is None:
            return (False,)
        bad, gone, _ = seen[path]
        if name in bad:
            v = bad[name]   # a number below a limit's range is its bottom; the rest is bad
            lo = b.min_hdb if name == "limit" else st_mod.SPL_MIN_HDB
            if name in ("limit", "spl_limit") and v == 0.25 and 0.5 < lo:
                return (True, lo)
            return (False,)
        if name in gone:
            return (True, _DEFAULTS[name]) if name in _DEFAULTS else (False,)
        v = written[path][1][name]
        if name == "volume" and not b.min_hdb <= v <= b.limit_hdb:
            return (False,)
        if name == "limit":
            return (False,) if v > b.limit_hdb else (True, max(v, b.min_hdb))
        if name == "headphone" and v is not None and no_out:
            return (False,)
        return (True, v)

    def seq(path):
        if seen[path] is None:
            return -1
        return seen[path][2] if seen[path][2] is not None else written[path][0]

    got = SettingsStore("settings.json", b, files).load()

    # The limits: never above the last saved while a copy that save wrote still has it...
    for name, dflt in (("limit", b.limit_hdb), ("spl_limit", st_mod.SPL_LIMIT_HDB)):
        value = got.get(name, dflt)
        readable = [read(p, name) for p in s.paths]
        readable = [r[1] for r in readable if r[0]]
        if any(read(p, name)[0] for p in last_paths):
            floor = b.min_hdb if name == "limit" else st_mod.SPL_MIN_HDB
            assert value <= max(last[name], floor), (name, value, last[name])
        # ...and never above what any copy holds; the default only when none holds one.
        assert value == (min(readable) if readable else dflt), (name, value, readable)

    # Every other field: the newest copy's where valid there, else the other's, else default.
    newest, other = s.paths if seq(s.paths[0]) >= seq(s.paths[1]) else s.paths[::-1]
    for name in _OTHER:
        want = None
        for path in (newest, other):
            r = read(path, name)
            if r[0]:
                want = r[1]
                break
        else:
            want = _DEFAULTS.get(name, defaults(b).get(name))
        if name == "volume":
            want = min(want, got["limit"])
        have = got.get(name, _DEFAULTS.get(name))
        if name == "headphone":
            have = have[0].name if have is not None else None
        assert have == want, (name, have, want)

    # The next save goes over the other copy, never over the newest.
    s2 = SettingsStore("settings.json", b, files)
    got = s2.load()
    keep = files.d.get(newest)
    hp = got.get("headphone")
    s2.save(got["volume"], got["balance"], got["gain"], got["output"], got["limit"],
            got.get("spl_limit", st_mod.SPL_LIMIT_HDB), hp[0] if hp else None,
            got.get("gain_headroom", st_mod.HEADROOM_HDB))
    if files.d.get(newest) != keep:   # written too: only as the second write of a raise
        assert json.loads(files.d[newest])["n"] == s2.seq
    assert _named(SettingsStore("settings.json", b, files).load()) == _named(got)


def _named(loaded):
    """Loaded settings, the headphone by its name (a fresh Headphone at every load)."""
    out = dict(loaded)
    if out.get("headphone") is not None:
        out["headphone"] = out["headphone"][0].name
    return out


def test_each_field_comes_from_the_newest_copy_that_has_it(tmp_path):
    s = store(tmp_path)
    with open(s.paths[0], "w") as f:
        f.write('{"v": 1, "n": 3, "volume": -15.0, "limit": 99}')
    with open(s.paths[1], "w") as f:
        f.write('{"v": 1, "n": 2, "volume": -25.0, "limit": -10.0, "gain": "high"}')
    got = s.load()
    # Neither copy is whole: volume from A (newer), limit from B, the rest defaults.
    assert got == {"volume": -30, "balance": 0, "gain": 1, "output": 0, "limit": -20}


def test_a_save_cut_before_close_keeps_both_copies(tmp_path, monkeypatch):
    s = store(tmp_path)
    s.load()
    s.save(-50, 0, 1, 0, 12)
    s.save(-40, 0, 1, 0, 12)

    class Cut(files_mod.Files):
        def open(self, path, mode="r"):
            if "w" in mode:
                raise OSError("power cut")
            return open(path, mode)

    s.files = Cut()
    with pytest.raises(OSError):
        s.save(10, 0, 0, 0, 12)
    assert store(tmp_path).load()["volume"] == -40


def test_stale_tmp_of_older_firmware_is_removed_on_load(tmp_path):
    s = store(tmp_path)
    write(tmp_path, doc())
    with open(s.tmp, "w") as f:
        f.write('{"v": 1, "volume": 6.0')     # half-written by a save cut short
    assert s.load() == VALID
    assert not os.path.exists(s.tmp)


def test_a_file_of_older_firmware_is_read_and_kept_as_the_previous_copy(tmp_path):
    write(tmp_path, doc())                   # no "n": sequence 0, in copy A
    s = store(tmp_path)
    assert s.load() == VALID
    s.save(-40, 0, 0, 0, 6)
    a, b = slots(s)
    assert b["n"] == 1 and json.loads(doc()) == a


def test_raising_a_limit_writes_both_copies_and_lowering_one_writes_one(tmp_path):
    s = store(tmp_path)
    s.load()
    s.save(-40, 0, 0, 0, 0, 150)          # B: n 0
    s.save(-40, 0, 0, 0, -10, 150)        # A: n 1, the limit lowered: B keeps 0 dBV
    a, b = slots(s)
    assert (a["n"], a["limit"], b["n"], b["limit"]) == (1, -5.0, 0, 0.0)
    assert store(tmp_path).load()["limit"] == -10
    s.save(-40, 0, 0, 0, 4, 150)          # raised: B (n 2), then A (n 3)
    a, b = slots(s)
    assert (a["n"], a["limit"], b["n"], b["limit"]) == (3, 2.0, 2, 2.0)
    assert store(tmp_path).load()["limit"] == 4
    s.save(-40, 0, 0, 0, 4, 170)          # the SPL limit raised: both again
    a, b = slots(s)
    assert (a["n"], b["n"], a["spl_limit"], b["spl_limit"]) == (5, 4, 85.0, 85.0)
    assert store(tmp_path).load()["spl_limit"] == 170


def test_a_raise_cut_between_its_two_writes_keeps_the_lower_limit(tmp_path):
    s = store(tmp_path)
    s.load()
    s.save(-40, 0, 0, 0, -10)
    s.save(-40, 0, 0, 0, -10)

    class CutSecond(files_mod.Files):
        opened = 0

        def open(self, path, mode="r"):
            if "w" in mode:
                CutSecond.opened += 1
                if CutSecond.opened == 2:
                    raise OSError(28, "ENOSPC")
            return open(path, mode)

    s.files = CutSecond()
    with pytest.raises(OSError):
        s.save(-40, 0, 0, 0, 8)
    assert store(tmp_path).load()["limit"] == -10   # the raise lost, never a lowering
    s.save(-40, 0, 0, 0, 8)                         # the retry writes the stale copy
    assert store(tmp_path).load()["limit"] == 8


def test_a_limit_below_the_boards_range_is_held_at_its_bottom(tmp_path):
    write(tmp_path, doc(limit=-81))
    got = store(tmp_path).load()
    assert got["limit"] == SE_BOARD.min_hdb and got["volume"] == SE_BOARD.min_hdb


@pytest.mark.parametrize("content", [
    None,                                   # missing file
    "",                                     # empty
    "   \n",
    "{",                                    # truncated
    '{"v": 1, "volume": -25.5,',
    "not json at all",
    b"\x00\xff\xfe\x80garbage\x9f",         # binary garbage (not even UTF-8)
    b"\xef\xbb\xbf\x00\x00",
    "[1, 2, 3]",                            # valid JSON, wrong shape
    "null",
    "42",
    '"settings"',
    doc(v=2),                               # wrong version
    doc(v=0),
    doc(v="1"),
    doc(v=_DROP),
], ids=lambda c: repr(c)[:30])
def test_unreadable_file_gives_defaults(tmp_path, content):
    if content is not None:
        write(tmp_path, content)
    assert store(tmp_path).load() == defaults(SE_BOARD)


def test_directory_instead_of_file_gives_defaults(tmp_path):
    (tmp_path / "settings.json").mkdir()
    assert store(tmp_path).load() == defaults(SE_BOARD)


BAD_FIELDS = [
    # (field, bad value)
    ("volume", "loud"), ("volume", None), ("volume", True), ("volume", [1]), ("volume", {}),
    ("volume", -25.25),          # off the 0.5 dB grid
    ("volume", -25.1),
    ("volume", 6.5),             # above the board's limit
    ("volume", 100),
    ("volume", -80.5),           # below the board's minimum
    ("volume", -1000),
    ("balance", 10.5), ("balance", -10.5), ("balance", 0.25), ("balance", "left"),
    ("balance", False),
    ("limit", 6.5), ("limit", 2.2), ("limit", "max"), ("limit", True),
    ("gain", "medium"), ("gain", 1), ("gain", None), ("gain", ["high"]), ("gain", True),
    ("output", "phones"), ("output", 0), ("output", "SE"),
]


@pytest.mark.parametrize("field,value", BAD_FIELDS, ids=lambda x: repr(x))
def test_bad_field_takes_its_default_only(tmp_path, field, value):
    write(tmp_path, doc(**{field: value}))
    got = store(tmp_path).load()
    want = dict(VALID)
    want[field] = defaults(SE_BOARD)[field]
    assert got == want


@pytest.mark.parametrize("field", ["volume", "balance", "gain", "output", "limit"])
def test_missing_field_takes_its_default_only(tmp_path, field):
    write(tmp_path, doc(**{field: _DROP}))
    want = dict(VALID)
    want[field] = defaults(SE_BOARD)[field]
    assert store(tmp_path).load() == want


def test_integer_and_float_values_on_grid_are_accepted(tmp_path):
    write(tmp_path, doc(volume=-30, balance=-2, limit=6))
    got = store(tmp_path).load()
    assert (got["volume"], got["balance"], got["limit"]) == (-60, -4, 12)


def test_extremes_of_ranges_are_accepted(tmp_path):
    write(tmp_path, doc(volume=-80.0, balance=10.0, limit=6.0))
    got = store(tmp_path).load()
    assert (got["volume"], got["balance"], got["limit"]) == (-160, 20, 12)
    write(tmp_path, doc(volume=-80.0, balance=-10.0, limit=-80.0))
    got = store(tmp_path).load()
    assert (got["volume"], got["balance"], got["limit"]) == (-160, -20, -160)


def test_volume_above_user_limit_is_capped(tmp_path):
    write(tmp_path, doc(volume=0.0, limit=-10.0))
    got = store(tmp_path).load()
    assert got["limit"] == -20
    assert got["volume"] == -20


def test_default_volume_is_capped_by_a_low_user_limit(tmp_path):
    # Bad volume -> default (-30 dBV), which is still above the stored limit.
    write(tmp_path, doc(volume="x", limit=-40.0))
    got = store(tmp_path).load()
    assert got["limit"] == -80 and got["volume"] == -80


def test_balanced_output_on_se_board_falls_back_to_se(tmp_path):
    write(tmp_path, doc(output="balanced"))
    assert store(tmp_path, SE_BOARD).load()["output"] == 0
    assert store(tmp_path, BAL_BOARD).load()["output"] == 1


@pytest.mark.parametrize("text", [
    '{"v": 1, "volume": 1e999}',
    '{"v": 1, "balance": -1e999}',
    '{"v": 1, "limit": 1e308}',
])
def test_huge_numbers_give_defaults(tmp_path, text):
    write(tmp_path, text)
    assert store(tmp_path).load() == defaults(SE_BOARD)


@given(st.binary(max_size=200))
@HYP
def test_arbitrary_bytes_never_raise(tmp_path, blob):
    write(tmp_path, blob)
    in_ranges(store(tmp_path).load(), SE_BOARD)


json_scalars = (st.none() | st.booleans() | st.text(max_size=8)
                | st.integers(-10 ** 6, 10 ** 6)
                | st.floats(min_value=-1e6, max_value=1e6, allow_nan=False)
                | st.integers(-200, 200).map(lambda h: h / 2)
                | st.sampled_from(["low", "high", "se", "balanced"]))
json_values = st.recursive(json_scalars, lambda c: st.lists(c, max_size=3)
                           | st.dictionaries(st.text(max_size=5), c, max_size=3), max_leaves=6)
FIELDS = ["v", "volume", "balance", "gain", "output", "limit"]


@given(st.sampled_from([SE_BOARD, BAL_BOARD]),
       st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=6),
       st.booleans())
@HYP
def test_arbitrary_documents_give_values_in_range(tmp_path, b, d, versioned):
    if versioned:
        d["v"] = 1
    write(tmp_path, json.dumps(d))
    got = store(tmp_path, b).load()
    in_ranges(got, b)
    # Every field is either the file's (valid) value or the board default.
    dflt = defaults(b)
    if got["gain"] != dflt["gain"]:
        assert d.get("gain") == "high"
    if got["output"] != dflt["output"]:
        assert d.get("output") == "balanced"
    if got["balance"] != 0:
        assert d.get("balance") * 2 == got["balance"]


@pytest.mark.parametrize("text", [
    "[" * 100000 + "]" * 100000,                                # deep: RecursionError on CPython
    '{"v": 1, "volume": -20, "pad": "%s"}' % ("x" * 100000),      # huge: MemoryError on a Pico
])
def test_deep_or_huge_files_give_defaults_without_parsing(tmp_path, text, monkeypatch):
    write(tmp_path, text)
    parsed = []
    monkeypatch.setattr(st_mod.json, "loads", lambda t: parsed.append(t) or {})
    assert store(tmp_path).load() == defaults(SE_BOARD)
    assert parsed == []  # refused by its size, never handed to the parser


def test_any_error_while_parsing_gives_defaults(tmp_path, monkeypatch):
    write(tmp_path, doc())

    def boom(text):
        raise MemoryError("memory allocation failed")

    monkeypatch.setattr(st_mod.json, "loads", boom)
    assert store(tmp_path).load() == defaults(SE_BOARD)


def test_a_sequence_number_no_save_could_write_counts_as_none():
    """A copy whose `n` is past 2**29 (a century of saves is far below) was not written by a
    save, and would make every later sequence number a long int on rp2: it counts as 0, so
    the other copy is the newer, and the next save's number stays a small int."""
    d = json.loads(doc(n=2 ** 40))
    assert st_mod.fields(SE_BOARD, d)[1] == 0
    d["n"] = 2 ** 29 - 1
    assert st_mod.fields(SE_BOARD, d)[1] == 2 ** 29 - 1


# ---- the start-up cap and the display's settings (the knob menu's, the host's too)
def test_the_start_up_cap_and_the_displays_settings_round_trip(tmp_path):
    s = store(tmp_path)
    s.save(-50, 0, 0, 0, 12, startup_cap=-70, brightness=1, timeout_s=300, dark=True)
    got = store(tmp_path).load()
    assert (got["startup_cap"], got["display_brightness"], got["display_timeout_s"],
            got["display_dark"]) == (-70, 1, 300, True)
    # At their defaults they are not written, and a copy without them means the defaults.
    s.save(-50, 0, 0, 0, 12, startup_cap=SE_BOARD.startup_max_hdb)
    with open(s.paths[s.newest]) as f:
        text = f.read()
    assert "startup_cap" not in text and "display" not in text
    got = store(tmp_path).load()
    assert not {"startup_cap", "display_brightness", "display_timeout_s", "display_dark"} & set(got)


@pytest.mark.parametrize("field,bad", [
    ("startup_cap", -19.5),        # above the board's startup_max_dbv (-20)
    ("startup_cap", -100.0), ("startup_cap", -30.25), ("startup_cap", "low"),
    ("display_brightness", 0), ("display_brightness", 5), ("display_brightness", 2.5),
    ("display_brightness", True), ("display_timeout_s", -1), ("display_timeout_s", 3601),
    ("display_timeout_s", "60"), ("display_dark", 1), ("display_dark", "on")])
def test_a_damaged_start_up_cap_or_display_setting_falls_back_alone(tmp_path, field, bad):
    write(tmp_path, doc(**{field: bad}))
    assert store(tmp_path).load() == VALID   # the default (left out), the rest kept
    good = {"startup_cap": -30.0, "display_brightness": 2, "display_timeout_s": 0,
            "display_dark": True}[field]
    write(tmp_path, doc(**{field: good}))
    want = good * 2 if field == "startup_cap" else good
    assert store(tmp_path).load() == dict(VALID, **{field: want})
