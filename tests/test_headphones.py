"""Headphones on a board (headroom_fw.headphones), the board's output stage fields,
the built-in profiles, `headroom headphones`, and the module on the MicroPython VM."""
import json
import math
import os
import subprocess
import sys

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from headroom import headphones as hph
from headroom import mpy
from headroom.cli import main
from headroom_fw import board as boardfile
from headroom_fw import headphones as H
from headroom_fw.board import GAIN_HIGH, GAIN_LOW, OUTPUT_BALANCED, OUTPUT_SE, BoardError
from headroom_fw.volume import path_max_hdb

from helpers import BALANCED, SE, bal, se

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIRMWARE = os.path.join(REPO, "firmware")
MICROPYTHON = os.path.join(os.path.dirname(sys.executable), "micropython")

def hp(z=32.0, sens=100.0, unit="dB/mW", max_input=None, **kw):
    d = {"name": "Test", "impedance": {"ohm": z}, "sensitivity": {"value": sens, "unit": unit}}
    if max_input is not None:
        d["max_input"] = {"value": max_input[0], "unit": max_input[1]}
    d.update(kw)
    return H.parse_profile(d)


def close(a, b, tol=1e-9):
    return abs(a - b) <= tol * max(1.0, abs(a), abs(b))


# ---------------------------------------------------------------- the formulas

Z = st.floats(1.0, 2000.0)
SENS = st.floats(70.0, 135.0)
VRMS = st.floats(1e-6, 100.0)


@given(SENS, Z)
def test_db_mw_and_db_v_convert_through_the_impedance(s, z):
    assert close(H.db_mw_from_db_v(H.db_v_from_db_mw(s, z), z), s)
    assert close(H.db_v_from_db_mw(s, z) - s, 10 * math.log10(1000.0 / z))


def test_conversions_known_values():
    # 1 Vrms into 32 ohm is 31.25 mW: +14.95 dB.
    assert round(H.db_v_from_db_mw(0, 32), 2) == 14.95
    assert round(H.db_v_from_db_mw(107, 17), 2) == 124.70      # Shure SE215
    assert round(H.db_v_from_db_mw(97, 300), 2) == 102.23      # Sennheiser HD 600
    assert H.db_v_from_db_mw(96, 1000) == 96                   # at 1 kohm the units agree
    assert close(H.mw_from_vrms(1.0, 32), 31.25)
    assert close(H.vrms_from_mw(20.0, 300), math.sqrt(6.0))
    assert close(H.vrms_from_dbv(6.0), 10 ** 0.3)


@given(VRMS, Z)
def test_power_and_voltage_round_trip(v, z):
    assert close(H.vrms_from_mw(H.mw_from_vrms(v, z), z), v)
    assert close(H.vrms_from_dbv(H.dbv_from_vrms(v)), v)


@given(SENS, Z, VRMS)
def test_spl_from_power_equals_spl_from_voltage(s_mw, z, v):
    """The same voltage gives the same SPL whichever unit the sensitivity is in."""
    by_power = H.spl_from_mw(s_mw, H.mw_from_vrms(v, z))
    by_voltage = H.spl_from_vrms(H.db_v_from_db_mw(s_mw, z), v)
    assert abs(by_power - by_voltage) < 1e-9


@given(SENS, Z, st.floats(-60.0, 30.0), st.floats(0.0, 200.0))
def test_level_for_spl_inverts_spl_at_level(s, z, level, z_out):
    h = hp(z, s)
    spl = H.spl_at_level(h, level, z_out)
    assert abs(H.level_for_spl(h, spl, z_out) - level) < 1e-9
    assert abs(H.spl_at_level(h, H.level_for_spl(h, 94.0, z_out), z_out) - 94.0) < 1e-9


@given(SENS, Z, st.floats(0.0, 200.0))
def test_output_impedance_only_ever_takes_level_off(s, z, z_out):
    h = hp(z, s)
    assert H.spl_at_level(h, 0.0, z_out) <= H.spl_at_level(h, 0.0, 0.0) + 1e-12
    assert H.spl_at_level(h, 0.0, 0.0) == h.db_v


def test_profile_in_either_unit_is_the_same_headphone():
    a = hp(300, 97, "dB/mW")
    b = hp(300, a.db_v, "dB/V")
    assert close(a.db_mw, b.db_mw) and close(a.db_v, b.db_v)
    m = hp(250, 96, max_input=(100, "mW"))
    assert close(m.max_vrms, 5.0)                       # sqrt(0.1 W * 250 ohm)
    v = hp(250, 96, max_input=(5.0, "Vrms"))
    assert close(v.max_mw, 100.0)


# ---------------------------------------------------------------- the shipped boards' stage

def test_shipped_boards_have_their_output_stages():
    b = boardfile.load(SE)
    s = b.output_stage[OUTPUT_SE]
    assert b.output_stage[OUTPUT_BALANCED] is None
    assert close(s.max_vrms, 10 ** (16 / 20))          # derived from max_output_dbv
    assert (s.max_ma, s.z_out_ohm, s.noise_uvrms) == (92.0, 0.5, (3.0, 12.0))
    assert s.noise_weighting == "A" and s.noise_band_hz == (20.0, 20000.0)
    b = boardfile.load(BALANCED)
    s = b.output_stage[OUTPUT_BALANCED]
    assert close(s.max_vrms, 10 ** (22 / 20)) and s.z_out_ohm == 1.0 and s.noise_uvrms == (4.2, 17.0)


def put(d, path, value):
    *parents, last = path.split(".")
    for p in parents:
        d = d[p]
    d[last] = value


def drop(d, path):
    *parents, last = path.split(".")
    for p in parents:
        d = d[p]
    del d[last]


def board_fails(d, *names):
    with pytest.raises(BoardError) as e:
        boardfile.parse(d)
    msg = str(e.value)
    for n in names:
        assert n in msg, "%r not in %r" % (n, msg)
    return msg


@pytest.mark.parametrize("field", [
    "analog.outputs.se", "analog.outputs.se.max_ma", "analog.outputs.se.z_out_ohm",
    "analog.outputs.se.noise_uvrms", "analog.outputs.se.noise_uvrms.low",
    "analog.outputs.se.noise_uvrms.high", "analog.outputs.se.noise_weighting",
    "analog.outputs.se.noise_band_hz", "analog.outputs.balanced",
    "analog.outputs.balanced.max_ma"])
def test_missing_stage_field_names_it(field):
    d = bal()
    drop(d, field)
    assert "missing" in board_fails(d, field)


@pytest.mark.parametrize("field,value", [
    ("analog.outputs.se.max_ma", 0), ("analog.outputs.se.max_ma", 10001),
    ("analog.outputs.se.max_ma", "92"), ("analog.outputs.se.max_ma", True),
    ("analog.outputs.se.z_out_ohm", -0.1), ("analog.outputs.se.z_out_ohm", 1001),
    ("analog.outputs.se.noise_uvrms.low", 0), ("analog.outputs.se.noise_uvrms.high", -3),
    ("analog.outputs.se.noise_uvrms", 3.0),
    ("analog.outputs.se.noise_weighting", "B"), ("analog.outputs.se.noise_weighting", 1),
    ("analog.outputs.se.noise_band_hz", [20]), ("analog.outputs.se.noise_band_hz", [20000, 20]),
    ("analog.outputs.se.noise_band_hz", [0, 20000]), ("analog.outputs.se.noise_band_hz", [20, "20k"]),
    ("analog.outputs.se.noise_band_hz", "20-20000"),
    ("analog.outputs.se.max_vrms", 0.001), ("analog.outputs.se.max_vrms", 6.0),
    ("analog.outputs.balanced.z_out_ohm", "1"),
])
def test_bad_stage_value_names_the_field(field, value):
    d = bal()
    put(d, field, value)
    board_fails(d, field)


def test_max_vrms_must_agree_with_max_output_dbv():
    d = se()
    put(d, "analog.outputs.se.max_vrms", 6.0)          # 15.56 dBV against 16.0
    msg = board_fails(d, "analog.outputs.se.max_vrms", "analog.max_output_dbv.se", "0.1 dB")
    assert "15.56" in msg
    put(d, "analog.outputs.se.max_vrms", 6.31)         # 15.999 dBV
    assert boardfile.parse(d).output_stage[OUTPUT_SE].max_vrms == 6.31
    put(d, "analog.max_output_dbv.se", 10.0)           # the limit the firmware uses moves...
    board_fails(d, "analog.outputs.se.max_vrms")       # ...and the stated Vrms must follow
    drop(d, "analog.outputs.se.max_vrms")
    assert close(boardfile.parse(d).output_stage[OUTPUT_SE].max_vrms, 10 ** 0.5)


def test_stage_section_is_optional_but_complete_when_there():
    d = se()
    drop(d, "analog.outputs")
    b = boardfile.parse(d)
    assert b.output_stage == [None, None]
    with pytest.raises(BoardError) as e:
        H.stage(b, OUTPUT_SE)
    assert "analog.outputs: missing" in str(e.value)
    d = bal()
    drop(d, "analog.outputs.balanced")
    board_fails(d, "analog.outputs.balanced", "missing")


def test_noise_at_high_gain_may_be_left_out_only_without_a_gain_relay():
    d = se()
    drop(d, "analog.outputs.se.noise_uvrms.high")
    board_fails(d, "analog.outputs.se.noise_uvrms.high")
    drop(d, "relays.gain")
    put(d, "analog.gain_high_db", 0.0)
    assert boardfile.parse(d).output_stage[OUTPUT_SE].noise_uvrms == (3.0, 3.0)


@pytest.mark.parametrize("path,typo,suggestion", [
    ("analog.outputs.se.", "z_out", "analog.outputs.se.z_out_ohm"),
    ("analog.outputs.se.", "max_mA", "analog.outputs.se.max_ma"),
    ("analog.outputs.se.noise_uvrms.", "hihg", "analog.outputs.se.noise_uvrms.high"),
    ("analog.outputs.", "balance", "analog.outputs.balanced"),
    ("analog.", "output", "analog.outputs"),
])
def test_unknown_stage_key_suggests_the_closest(path, typo, suggestion):
    d = bal()
    section = d
    for p in path[:-1].split("."):
        section = section[p]
    section[typo] = section.pop(suggestion.rsplit(".", 1)[-1])
    board_fails(d, path + typo, "did you mean " + suggestion)


# ---------------------------------------------------------------- profile validation

def profile_fails(d, *names, require_sources=False):
    with pytest.raises(H.ProfileError) as e:
        H.parse_file({"headphones": 1, "profiles": [d]}, "mine.json", require_sources)
    msg = str(e.value)
    assert msg.startswith("mine.json: profile #1"), msg
    for n in names:
        assert n in msg, "%r not in %r" % (n, msg)
    return msg


def good():
    return {"name": "My IEM", "impedance": {"ohm": 16}, "sensitivity": {"value": 110, "unit": "dB/mW"}}


@pytest.mark.parametrize("field,value,words", [
    ("impedance.ohm", 0, "must be above 0"), ("impedance.ohm", -16, "got -16"),
    ("impedance.ohm", "16", "number"), ("impedance.ohm", 20000, "at most 10000"),
    ("sensitivity.value", 150, "plausible"), ("sensitivity.value", 60, "plausible"),
    ("sensitivity.unit", "dB", "one of"), ("sensitivity.unit", "db/mw", "one of"),
    ("sensitivity.value", True, "number"), ("sensitivity.at_hz", 5, "outside"),
    ("name", "", "non-empty"), ("name", 7, "string"), ("name", "x" * 41, "longer"),
    ("type", "electrostatic", "one of"), ("maker", 3, "string"),
])
def test_bad_profile_names_the_profile_and_field(field, value, words):
    d = good()
    put(d, field, value)
    msg = profile_fails(d, field, words)
    if field != "name":
        assert "'My IEM'" in msg


def test_sensitivity_range_holds_in_either_unit():
    d = good()
    put(d, "sensitivity.value", 140)        # 140 dB/V at 16 ohm is 122 dB/mW: plausible
    put(d, "sensitivity.unit", "dB/V")
    assert H.parse_file({"headphones": 1, "profiles": [d]})[0].db_mw == pytest.approx(122.04, abs=0.01)
    put(d, "sensitivity.value", 80)         # 62 dB/mW: not
    assert "80 dB/V at 16 ohm is 62.0 dB/mW" in profile_fails(d, "sensitivity.value", "is the unit right")


def test_missing_fields_and_units_are_named():
    for field in ("name", "impedance", "impedance.ohm", "sensitivity", "sensitivity.value"):
        d = good()
        drop(d, field)
        assert "missing" in profile_fails(d, field)
    d = good()
    drop(d, "sensitivity.unit")
    msg = profile_fails(d, "sensitivity.unit", "missing", "dB/mW or dB/V")
    assert "18.0 dB apart at 16 ohm" in msg
    d = good()
    d["max_input"] = {"value": 50}
    profile_fails(d, "max_input.unit", "missing")
    d["max_input"] = {"value": 0, "unit": "mW"}
    profile_fails(d, "max_input.value", "must be above 0")
    d["max_input"] = {"value": 5, "unit": "W"}
    profile_fails(d, "max_input.unit", "one of")


def test_unknown_keys_suggest_the_closest():
    d = good()
    d["impedence"] = d.pop("impedance")
    profile_fails(d, "impedence: unknown field", "did you mean impedance")
    d = good()
    d["sensitivity"]["units"] = d["sensitivity"].pop("unit")
    profile_fails(d, "sensitivity.units: unknown field", "did you mean sensitivity.unit")
    d = good()
    d["colour"] = "red"
    assert "did you mean" not in profile_fails(d, "colour: unknown field")


def test_sources_are_required_for_the_built_in_list_only():
    H.parse_file({"headphones": 1, "profiles": [good()]}, "mine.json")
    profile_fails(good(), "impedance.source", "missing", require_sources=True)
    d = good()
    d["impedance"]["source"] = "my own measurement"
    d["sensitivity"]["source"] = ""
    profile_fails(d, "sensitivity.source", require_sources=True)


def test_file_level_errors():
    with pytest.raises(H.ProfileError, match="format version"):
        H.parse_file({"headphones": 2, "profiles": []}, "f")
    with pytest.raises(H.ProfileError, match="profiles: must be a list"):
        H.parse_file({"headphones": 1, "profiles": {}}, "f")
    with pytest.raises(H.ProfileError, match="did you mean profiles"):
        H.parse_file({"headphones": 1, "profile": []}, "f")
    with pytest.raises(H.ProfileError, match="must be an object"):
        H.parse_file([good()], "f")
    two = [good(), dict(good(), name="my-iem")]
    with pytest.raises(H.ProfileError, match=r"profile #2 'my-iem': name: the same as profile #1"):
        H.parse_file({"headphones": 1, "profiles": two}, "f")
    with pytest.raises(H.ProfileError, match="not valid JSON"):
        H.loads("{", "f")
    with pytest.raises(H.ProfileError, match="too large"):
        H.loads(" " * (H.MAX_BYTES + 1), "f")
    with pytest.raises(H.ProfileError, match="nested"):
        H.loads("[" * 50 + "]" * 50, "f")


def test_load_names_the_file(tmp_path):
    p = tmp_path / "headphones.json"
    with pytest.raises(H.ProfileError, match="cannot read"):
        H.load(str(p))
    d = good()
    d["impedance"]["ohm"] = 0
    p.write_text(json.dumps({"headphones": 1, "profiles": [d]}))
    with pytest.raises(H.ProfileError) as e:
        H.load(str(p))
    assert str(e.value).startswith(str(p) + ": profile #1 'My IEM': impedance.ohm")


def test_compact_profile_reads_back_the_same():
    full = hph.builtin()
    for h in full:
        back = H.parse_profile(h.compact())
        assert (back.name, back.z_ohm, back.db_v, back.max_mw) == (h.name, h.z_ohm, h.db_v, h.max_mw)
        assert len(json.dumps(h.compact())) < 200        # what the board keeps of it


# ---------------------------------------------------------------- built-in list, lookups

def test_built_in_list_covers_every_kind_with_a_source_per_figure():
    profs = hph.builtin()                       # require_sources=True: or this raises
    assert len(profs) >= 15
    kinds = {
        "iem": [h for h in profs if h.kind == "iem"],
        "closed low-impedance": [h for h in profs if h.kind == "dynamic" and h.z_ohm <= 64],
        "150-300 ohm": [h for h in profs if h.kind == "dynamic" and 150 <= h.z_ohm <= 300],
        "600 ohm": [h for h in profs if h.kind == "dynamic" and h.z_ohm == 600],
        "low-impedance planar": [h for h in profs if h.kind == "planar" and h.z_ohm <= 70],
    }
    for k, hs in kinds.items():
        assert len(hs) >= 2, k
    for h in profs:
        assert set(h.sources) >= {"impedance", "sensitivity"}, h.name
        if h.max_input is not None:
            assert "max_input" in h.sources
    assert os.path.getsize(hph.BUILTIN) < hph.HOST_MAX_BYTES


@pytest.mark.parametrize("query,name", [
    ("HD 600", "HD 600"), ("hd600", "HD 600"), ("Sennheiser HD600", "HD 600"),
    ("dt770pro32", "DT 770 PRO 32 ohm"), ("sundara", "Sundara"), ("HIFIMAN sundara", "Sundara"),
])
def test_find_by_name(query, name):
    assert H.find(hph.builtin(), query).name == name


@pytest.mark.parametrize("query,words", [
    ("HD 60O", "did you mean HD 600"), ("Sundra", "did you mean Sundara"),
    ("dt770", "could be any of"), ("Stax SR-009", "unknown headphone"), ("", "name a headphone"),
])
def test_find_refuses_with_a_suggestion(query, words):
    with pytest.raises(H.ProfileError, match=words):
        H.find(hph.builtin(), query)


def test_own_profile_replaces_a_built_in_of_the_same_name():
    base = hph.builtin()
    own = [hp(300, 100), H.parse_profile(dict(good(), name="hd-600"))]
    own[0].name = "Brand New"
    merged = hph.merge(base, own)
    assert len(merged) == len(base) + 1
    assert H.find(merged, "HD 600").z_ohm == 16
    assert merged[-1].name == "Brand New"


# ---------------------------------------------------------------- on a board

def test_worked_example_hd600_on_pico_se():
    """docs/headphones.md's worked example, number by number."""
    h = H.find(hph.builtin(), "HD 600")
    b = boardfile.load(SE)
    assert round(h.db_v, 2) == 102.23
    r = hph.analyse(h, b, GAIN_LOW, OUTPUT_SE)
    assert round(r["target_dbv"], 2) == 7.79
    assert round(r["target_vrms"], 2) == 2.45 and round(r["target_ma"], 2) == 8.16
    assert round(r["target_mw"], 1) == 20.0
    assert r["limit"] == "voltage" and r["max_dbv"] == 16.0 and round(r["max_spl"], 2) == 118.21
    assert round(r["margin_db"], 2) == 8.21
    assert round(r["noise_spl"], 2) == -8.24 and not r["hiss"]
    assert r["damping"] == 600 and r["eighth_rule"]
    hi = hph.analyse(h, b, GAIN_HIGH, OUTPUT_SE)
    assert round(hi["max_spl"], 2) == 118.21 and round(hi["noise_spl"], 2) == 3.80 and hi["hiss"]
    rec = hph.recommend(h, b)
    assert (rec["choice"]["gain"], rec["choice"]["output"], rec["why"]) == ("low", "se", "margin")
    assert any("volume limit (+6.0 dBV)" in w for w in rec["warnings"])
    # The hearing-safety helpers: 100 dB SPL as a volume setting and back.
    lim = hph.level_hdb_for_spl(h, b, OUTPUT_SE, 100.0)
    assert lim == -5
    assert hph.spl_at_hdb(h, b, OUTPUT_SE, lim) <= 100.0 < hph.spl_at_hdb(h, b, OUTPUT_SE, lim + 1)


def test_limits_name_what_stops_the_level():
    b = boardfile.load(BALANCED)
    prof = hph.builtin()
    assert hph.analyse(H.find(prof, "SE215"), b, GAIN_LOW, OUTPUT_SE)["limit"] == "current"
    assert hph.analyse(H.find(prof, "HD 650"), b, GAIN_LOW, OUTPUT_SE)["limit"] == "voltage"
    dt = hph.analyse(H.find(prof, "DT 880 600 ohm"), b, GAIN_LOW, OUTPUT_BALANCED)
    assert dt["limit"] == "headphone" and round(dt["max_spl"], 6) == 116.0   # 96 dB/mW + 100 mW
    he6 = hph.recommend(H.find(prof, "HE6se V2"), b)
    assert he6["why"] == "short" and he6["choice"]["current_clips"]
    assert "cannot reach 110 dB SPL" in he6["warnings"][0]
    d = se()
    put(d, "analog.dac_full_scale_vrms", 0.1)      # -20 dBV + 31.5 dB - 6 dB: the PGA runs out first
    put(d, "analog.gain_low_db", -6.0)
    r = hph.analyse(H.find(prof, "HD 600"), boardfile.parse(d), GAIN_LOW, OUTPUT_SE)
    assert r["limit"] == "gain" and r["gain_clips"] and not r["voltage_clips"]


def test_eighth_rule_and_hiss_warnings():
    d = se()
    put(d, "analog.outputs.se.z_out_ohm", 10.0)
    put(d, "analog.outputs.se.noise_uvrms.low", 30.0)
    b = boardfile.parse(d)
    rec = hph.recommend(H.find(hph.builtin(), "SE215"), b)
    c = rec["choice"]
    assert not c["eighth_rule"] and round(c["damping"], 1) == 1.7 and c["hiss"]
    text = " / ".join(rec["warnings"])
    assert "1/8 rule" in text and "hiss" in text
    put(d, "analog.outputs.se.z_out_ohm", 0)
    c = hph.recommend(H.find(hph.builtin(), "SE215"), boardfile.parse(d))["choice"]
    assert c["damping"] is None and c["eighth_rule"]


@st.composite
def boards(draw):
    d = bal()
    a = d["analog"]
    a["dac_full_scale_vrms"] = draw(st.floats(0.2, 4.0))
    a["gain_low_db"] = draw(st.floats(-10.0, 10.0))
    a["gain_high_db"] = a["gain_low_db"] + draw(st.floats(0.0, 20.0))
    se_max = draw(st.floats(-5.0, 25.0))
    a["max_output_dbv"] = {"se": se_max, "balanced": se_max + draw(st.floats(0.0, 6.0))}
    for o in ("se", "balanced"):
        s = a["outputs"][o]
        s["max_ma"] = draw(st.floats(5.0, 500.0))
        s["z_out_ohm"] = draw(st.sampled_from([0.0, 0.1, 1.0, 2.2, 10.0, 47.0, 120.0]))
        low = draw(st.floats(0.5, 20.0))
        s["noise_uvrms"] = {"low": low, "high": low * draw(st.floats(1.0, 10.0))}
    return boardfile.parse(d)


@st.composite
def headphones(draw):
    z = draw(st.floats(4.0, 1000.0))
    unit = draw(st.sampled_from(H.UNITS))
    s_mw = draw(st.floats(72.0, 133.0))
    s = s_mw if unit == "dB/mW" else H.db_v_from_db_mw(s_mw, z)
    mx = draw(st.one_of(st.none(), st.tuples(st.floats(5.0, 5000.0), st.just("mW")),
                        st.tuples(st.floats(0.2, 30.0), st.just("Vrms"))))
    return hp(z, s, unit, mx)


TARGET = st.floats(80.0, 130.0)


@given(boards(), headphones(), TARGET, st.sampled_from([None, (OUTPUT_SE,), (OUTPUT_BALANCED,)]))
def test_a_recommendation_never_clips_at_the_target(b, h, target, outputs):
    rec = hph.recommend(h, b, target, outputs)
    c = rec["choice"]
    assert outputs is None or H.OUTPUT_NAMES.index(c["output"]) in outputs
    if rec["why"] == "short":
        assert not any(p["reaches"] for p in rec["paths"])
        assert c["max_spl"] == pytest.approx(max(p["max_spl"] for p in rec["paths"]), rel=1e-12)
        return
    o = H.OUTPUT_NAMES.index(c["output"])
    g = hph.GAIN_NAMES.index(c["gain"])
    stg = b.output_stage[o]
    z, zo = h.z_ohm, stg.z_out_ohm
    v = H.vrms_from_dbv(c["target_dbv"])
    assert v <= stg.max_vrms * (1 + 1e-9)                               # no voltage clipping
    assert v / (z + zo) * 1000 <= stg.max_ma * (1 + 1e-9)               # no current clipping
    assert c["target_dbv"] <= path_max_hdb(b.path_cdb(g, o), b.max_out_cdb[o]) / 2 + 1e-9
    if h.max_vrms is not None:
        assert v * z / (z + zo) <= h.max_vrms * (1 + 1e-9)              # within the rating
    assert abs(H.spl_at_level(h, c["target_dbv"], zo) - target) < 1e-9
    assert not (c["voltage_clips"] or c["current_clips"] or c["gain_clips"] or c["headphone_clips"])
    # Keep the gain low: nothing earlier in the order of preference would have done.
    earlier = rec["paths"][:rec["paths"].index(c)]
    if rec["why"] == "margin":
        assert c["margin_db"] >= hph.MARGIN_DB
        assert all(p["margin_db"] < hph.MARGIN_DB for p in earlier)
    else:
        assert all(not p["reaches"] for p in earlier)
        assert all(p["margin_db"] < hph.MARGIN_DB for p in rec["paths"])


@given(boards(), headphones(), TARGET)
def test_more_gain_never_reaches_less(b, h, target):
    for o in b.outputs:
        lo = hph.analyse(h, b, GAIN_LOW, o, target)
        hi = hph.analyse(h, b, GAIN_HIGH, o, target)
        assert b.gain_cdb[GAIN_HIGH] >= b.gain_cdb[GAIN_LOW]
        assert hi["max_spl"] >= lo["max_spl"] - 1e-9
        assert hi["reaches"] or not lo["reaches"]


@given(st.floats(-10.0, 10.0), st.floats(0.0, 20.0), st.floats(0.0, 10.0), headphones())
def test_raising_the_gain_never_lowers_the_reach(low, high, more, h):
    def reach(gain_high):
        d = se()
        put(d, "analog.gain_low_db", low)
        put(d, "analog.gain_high_db", gain_high)
        put(d, "analog.dac_full_scale_vrms", 0.3)    # so the PGA's range matters
        return hph.analyse(h, boardfile.parse(d), GAIN_HIGH, OUTPUT_SE)["max_spl"]
    assume(low + high + more <= 40)
    assert reach(low + high + more) >= reach(low + high) - 1e-9


@given(boards(), headphones(), st.floats(60.0, 130.0))
def test_a_limit_in_db_spl_becomes_the_setting_just_under_it(b, h, spl):
    for o in b.outputs:
        n = hph.level_hdb_for_spl(h, b, o, spl)
        assert hph.spl_at_hdb(h, b, o, n) <= spl + 1e-9
        assert hph.spl_at_hdb(h, b, o, n + 1) > spl - 1e-9


# ---------------------------------------------------------------- the command line

@pytest.fixture
def no_user_file(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    return tmp_path


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


NAMES = [h.name for h in hph.builtin()]


@pytest.mark.parametrize("board", [SE, BALANCED], ids=["pico-se", "pico-balanced"])
@pytest.mark.parametrize("name", NAMES)
def test_recommend_every_built_in_profile_on_both_boards(no_user_file, capsys, name, board):
    code, out, err = run(capsys, "headphones", "recommend", name, "--board", board)
    assert code == 0, err
    assert out.count("\n") >= 6 and ("recommended: " in out or "best: " in out)
    code, out, err = run(capsys, "headphones", "recommend", name, "--board", board, "--json")
    assert code == 0, err
    rep = json.loads(out)
    assert rep["headphone"]["name"] == name and rep["target_spl"] == 110.0
    assert len(rep["paths"]) == 2 * len(boardfile.load(board).outputs)
    assert rep["recommended"]["why"] in ("margin", "tight", "short")


def test_recommend_table_reads_right(no_user_file, capsys):
    code, out, _ = run(capsys, "headphones", "recommend", "hd600", "--board", SE)
    lines = out.splitlines()
    assert lines[0] == "Sennheiser HD 600 (dynamic): 300 ohm, 97.0 dB/mW = 102.2 dB/V"
    assert lines[3].split()[:6] == ["output", "gain", "max", "SPL", "limited", "by"]
    assert lines[4].split()[:4] == ["se", "low", "118.2", "dB"] and "inaudible" in lines[4]
    assert "AUDIBLE" in lines[5]
    assert lines[7].startswith("recommended: se output, low gain: 110 dB SPL at +7.8 dBV")


def test_recommend_options(no_user_file, capsys):
    code, out, _ = run(capsys, "headphones", "recommend", "HE6se V2", "--board", BALANCED,
                       "--output", "balanced", "--target-spl", "100", "--json")
    rep = json.loads(out)
    assert code == 0 and rep["target_spl"] == 100.0
    assert {p["output"] for p in rep["paths"]} == {"balanced"}
    assert rep["recommended"]["why"] == "margin"
    code, _, err = run(capsys, "headphones", "recommend", "HD 600", "--board", SE, "--output", "balanced")
    assert code == 2 and "outputs asked for" in err


@pytest.mark.parametrize("argv,words", [
    (["recommend", "HD 60O", "--board", SE], "did you mean HD 600?"),
    (["recommend", "Stax SR-009", "--board", SE], "unknown headphone 'Stax SR-009'"),
    (["recommend", "HD 600"], "--board"),
    (["recommend", "--board", SE], "name a headphone"),
    (["recommend", "HD 600", "--board", "nope.json"], "cannot read"),
    (["recommend", "HD 600", "--board", SE, "--target-spl", "160"], "outside 60..140"),
    (["list", "HD 600"], "takes no name"),
    (["list", "--profiles", "nope.json"], "nope.json: cannot read"),
    (["lst"], "invalid choice"),
])
def test_bad_input_exits_2(no_user_file, capsys, argv, words):
    code, out, err = run(capsys, "headphones", *argv)
    assert code == 2 and words in err, err


def test_board_without_stage_figures_exits_2_naming_the_field(no_user_file, capsys, tmp_path):
    d = se()
    drop(d, "analog.outputs")
    p = tmp_path / "old.json"
    p.write_text(json.dumps(d))
    code, _, err = run(capsys, "headphones", "recommend", "HD 600", "--board", str(p))
    assert code == 2 and "old.json: analog.outputs: missing" in err
    put(d, "analog.outputs", {"se": {"max_ma": -1}})
    p.write_text(json.dumps(d))
    code, _, err = run(capsys, "headphones", "recommend", "HD 600", "--board", str(p))
    assert code == 2 and "analog.outputs.se.max_ma" in err


def test_list(no_user_file, capsys):
    code, out, _ = run(capsys, "headphones", "list")
    lines = out.splitlines()
    assert code == 0 and len(lines) == len(NAMES) >= 15
    hd = [ln for ln in lines if ln.startswith("HD 600 ")][0]
    assert hd.split() == ["HD", "600", "Sennheiser", "dynamic", "300", "ohm", "97.0", "dB/mW",
                          "102.2", "dB/V"]
    code, out, _ = run(capsys, "headphones", "list", "--json")
    items = json.loads(out)
    assert [i["name"] for i in items] == NAMES
    se215 = items[0]
    assert round(se215["db_v"], 1) == 124.7 and se215["sources"]["sensitivity"].startswith("Shure")


def test_own_profiles_on_the_host(no_user_file, capsys):
    cfg = no_user_file / "config" / "headroom"
    cfg.mkdir(parents=True)
    own = {"headphones": 1, "profiles": [
        {"name": "My IEM", "type": "iem", "impedance": {"ohm": 16},
         "sensitivity": {"value": 112, "unit": "dB/mW", "source": "my measurement"}},
        {"name": "HD 600", "maker": "Sennheiser", "impedance": {"ohm": 320},
         "sensitivity": {"value": 103.7, "unit": "dB/V"}}]}
    (cfg / "headphones.json").write_text(json.dumps(own))
    code, out, _ = run(capsys, "headphones", "list")
    assert code == 0
    assert out.splitlines()[-1].startswith("My IEM") and out.splitlines()[-1].endswith("(yours)")
    assert [ln for ln in out.splitlines() if ln.startswith("HD 600")][0].split()[4] == "320"
    code, out, _ = run(capsys, "headphones", "recommend", "my iem", "--board", SE)
    assert code == 0 and "My IEM (iem): 16 ohm" in out
    own["profiles"][0]["impedance"]["ohm"] = 0
    bad = no_user_file / "bad.json"
    bad.write_text(json.dumps(own))
    code, _, err = run(capsys, "headphones", "list", "--profiles", str(bad))
    assert code == 2 and "bad.json: profile #1 'My IEM': impedance.ohm" in err


# ---------------------------------------------------------------- on the MicroPython VM

VM_SCRIPT = r'''
import json
import sys


def run(fw, builtin, boards):
    if fw not in sys.path:
        sys.path.insert(0, fw)
    from headroom_fw import board as boardfile
    from headroom_fw import headphones as H
    profs = H.load(builtin, True, 65536)
    out = []
    for path in boards:
        b = boardfile.load(path)
        for hp in profs:
            # The formulas both sides use (the host's analysis, host_tools/headroom/
            # headphones.py, builds on them and does not ship).
            zo = [H.stage(b, o).z_out_ohm for o in b.outputs]
            out.append({"board": b.name, "name": hp.name, "db_v": hp.db_v, "db_mw": hp.db_mw,
                        "spl": [H.spl_at_level(hp, -10.0, z) for z in zo],
                        "levels": [H.level_for_spl(hp, 85.0, z) for z in zo],
                        "offsets": list(H.spl_offsets_cdb(hp, b)), "setting": H.setting_json(hp),
                        "brief": H.brief_json(hp),
                        "figures": H.from_figures("%g" % hp.z_ohm, "%.4f" % hp.sens, hp.unit,
                                                  hp.name).db_v})
    errors = []
    for text in ('{"headphones": 1, "profiles": [{"name": "X", "impedance": {"ohm": 0}}]}',
                 '{"headphones": 1, "profiles": [{"name": "X", "impedance": {"ohm": 32},'
                 ' "sensitivity": {"value": 100}}]}', '{"headphones": 1, "profils": []}', "{"):
        try:
            H.loads(text, "f")
            errors.append(None)
        except H.ProfileError as e:
            errors.append(str(e).split(" (")[0])
    try:
        H.find(profs, "HD 60O")
    except H.ProfileError as e:
        errors.append(str(e))
    return {"results": out, "errors": errors}


if __name__ == "__main__":
    print(json.dumps(run(sys.argv[1], sys.argv[2], sys.argv[3:])))
'''


def same(a, b, where="result"):
    if isinstance(a, float) or isinstance(b, float):
        assert isinstance(a, (int, float)) and isinstance(b, (int, float)), where
        assert abs(a - b) <= 1e-9 * max(1.0, abs(a)), "%s: %r != %r" % (where, a, b)
    elif isinstance(a, dict):
        assert sorted(a) == sorted(b), where
        for k in a:
            same(a[k], b[k], "%s.%s" % (where, k))
    elif isinstance(a, list):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            same(x, y, "%s[%d]" % (where, i))
    else:
        assert a == b, "%s: %r != %r" % (where, a, b)


@pytest.fixture(scope="module")
def vm_dirs(tmp_path_factory):
    """The script, and the modules it needs compiled with mpy-cross as for the board."""
    d = tmp_path_factory.mktemp("hpvm")
    script = d / "hp_vm.py"
    script.write_text(VM_SCRIPT)
    fw = d / "mpy"
    for m in ("__init__", "board", "volume", "headphones"):
        rel = "headroom_fw/%s.py" % m
        out = fw / "headroom_fw" / (m + ".mpy")
        out.parent.mkdir(parents=True, exist_ok=True)
        mpy.compile_one(rel, os.path.join(FIRMWARE, rel), str(out))
    return str(script), str(fw)


@pytest.mark.parametrize("source", ["py", "mpy"])
def test_the_module_gives_the_same_results_on_the_micropython_vm(vm_dirs, source):
    script, mpy_dir = vm_dirs
    fw = FIRMWARE if source == "py" else mpy_dir
    args = [hph.BUILTIN, SE, BALANCED]
    ns = {"__name__": "hp_vm"}
    exec(VM_SCRIPT, ns)
    cp = json.loads(json.dumps(ns["run"](FIRMWARE, hph.BUILTIN, [SE, BALANCED])))
    p = subprocess.run([MICROPYTHON, "-X", "heapsize=4M", script, fw] + args,
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stdout + p.stderr
    mp = json.loads(p.stdout)
    assert len(mp["results"]) == 2 * len(NAMES)
    assert mp["errors"][0] == "f: profile #1 'X': impedance.ohm: must be above 0 and at most 10000, got 0"
    assert mp["errors"][-1] == "unknown headphone 'HD 60O' (did you mean HD 600?)"
    same(cp, mp)
