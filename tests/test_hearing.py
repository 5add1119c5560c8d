"""The headphone as a firmware setting: the SPL limit and auto gain staging.

Controller level (hypothesis, every millisecond's outputs): the SPL at the jack never
exceeds the limit under any sequence of turns, host requests, profile changes, long
presses and switches, against the test's own model of which limit stands; a louder
profile lowers the level first; auto gain never drives a path past its clean top,
never flaps inside its hysteresis band, and comes back to the same level after a
switch. Simulator level: the protocol lines, bad profiles changing nothing, the
board's own profile file, persistence across a power cycle, an auto gain switch
measured at the jack (and the trace checker's spl-limit rule on synthetic records).
"""
import json
import os

import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_controller import Rig

from headroom import headphones as hph
from headroom.sim.invariants import SPL_GRACE_US, Checker
from headroom.sim.simboard import SimBoard
from headroom_fw import board as boardfile
from headroom_fw import controller as C
from headroom_fw import headphones as H
from headroom_fw.settings import MAX_BYTES, SettingsStore, defaults
from headroom_fw.volume import level_cdb

from helpers import BALANCED, SE, ask

PROFILES = hph.builtin()
SE_B = boardfile.load(SE)
BAL_B = boardfile.load(BALANCED)
PGA_MAX_VRMS = 2.5   # a test figure: where this board's PGA2311 output clips


def auto_board_dict(path=SE, pga_max=PGA_MAX_VRMS, limit=16.0):
    """A shipped board without its gain switch (so auto gain is the setting that
    stands), with the PGA2311's swing stated and the volume limit at the stage's top."""
    d = json.load(open(path))
    d.pop("gain_switch")
    d["analog"]["pga_max_vrms"] = pga_max
    d["volume"]["limit_dbv"] = limit
    return d


AUTO_B = boardfile.parse(auto_board_dict())
AUTO_BAL_B = boardfile.parse(auto_board_dict(BALANCED, limit=22.0))


def with_hp(board, hp):
    return (hp, H.spl_offsets_cdb(hp, board))


def jack_cdb(c):
    """The louder channel's level the controller's codes give through the relays (cdB)."""
    path = c.b.path_cdb(c.gain_relay, c.output_relay)
    levels = [level_cdb(n, path) for n in c.codes]
    levels = [x for x in levels if x is not None]
    return max(levels) if levels else None


# ---------------------------------------------------------------- staging, pure

def test_staged_gain_picks_the_least_gain_with_headroom_and_holds_inside_the_band():
    tops = [[15, 0], [32, 0]]     # low reaches 7.5 dBV, high 16 dBV (hdB)
    order = (0, 1)
    hr, hy = C.HEADROOM_HDB, C.AUTO_HYST_HDB
    assert C.staged_gain(tops, order, 0, 0, 15 - hr, hr) == 0
    assert C.staged_gain(tops, order, 0, 0, 15 - hr + 1, hr) == 1       # up: no headroom left
    assert C.staged_gain(tops, order, 1, 0, 15 - hr - hy + 1, hr) == 1  # in the band: stays
    assert C.staged_gain(tops, order, 1, 0, 15 - hr - hy, hr) == 0      # below it: down
    assert C.staged_gain(tops, order, 0, 0, 40, hr) == 1                # none reaches: loudest
    assert C.staged_gain([[32, 0], [32, 0]], order, 1, 0, 40, hr) == 0  # a tie: less gain


@given(st.integers(-160, 40), st.integers(0, 24), st.sampled_from([0, 1]))
def test_staging_always_leaves_the_headroom_when_some_gain_can(volume, headroom, gain):
    tops = [[AUTO_B.top_hdb(g, 0), 0] for g in (0, 1)]
    g = C.staged_gain(tops, (0, 1), gain, 0, volume, headroom)
    if volume + headroom <= tops[1][0]:
        assert volume + headroom <= tops[g][0]
    if volume + headroom + C.AUTO_HYST_HDB <= tops[0][0]:
        assert g == 0      # the least gain that reaches it with the margin: keep it low


# ---------------------------------------------------------------- staging, controller

def auto_rig(board=AUTO_B, volume=None, headroom=C.HEADROOM_HDB):
    s = defaults(board)
    s["gain"] = C.GAIN_AUTO
    s["gain_headroom"] = headroom
    if volume is not None:
        s["volume"] = volume
    return Rig(board, s, gain=None, output=0).booted()


def check_clean(r):
    """Every snapshot of the run: no path past its clean top (the PGA2311's swing, the
    stage's, the PGA's range), never above the volume asked for."""
    c = r.ctl
    level = jack_cdb(c)
    if level is not None:
        top = c.b.top_hdb(c.gain_relay, c.output_relay)
        assert level <= top * 50, "%d cdB past the path's top %d hdB" % (level, top)
        pga_out = level - (c.b.path_cdb(c.gain_relay, c.output_relay) - c.b.dac_cdb)
        assert pga_out <= c.b.pga_max_cdb, "the PGA2311's output at %d cdB clips" % pga_out
        assert level <= c.volume * 50


@given(st.lists(st.tuples(st.sampled_from(["turn", "host"]), st.integers(-12, 12),
                          st.sampled_from([1, 30, 300])), min_size=1, max_size=12),
       st.integers(0, 12))
def test_auto_gain_never_clips(steps, headroom):
    r = auto_rig(headroom=headroom)
    for kind, n, wait in steps:
        if kind == "turn":
            r.event("turn", n)
        else:
            r.event("host_volume", max(r.b.min_hdb, min(r.ctl.max_volume(), r.ctl.volume + 2 * n)))
        for _ in range(wait):
            r.run(1)
            check_clean(r)
    assert r.ctl.auto


@given(st.sampled_from([0, 1]), st.lists(st.integers(0, C.AUTO_HYST_HDB - 1), max_size=10))
def test_auto_gain_never_flaps_inside_the_band(start, band_steps):
    """Levels inside the hysteresis band keep whichever gain is selected."""
    top_low = AUTO_B.top_hdb(0, 0)
    edge = top_low - C.HEADROOM_HDB          # the loudest the low gain takes
    r = auto_rig(volume=edge - C.AUTO_HYST_HDB - 4)
    r.event("host_volume", edge + 2 if start else edge - C.AUTO_HYST_HDB - 4)
    r.run(1000)
    assert r.ctl.gain_relay == start
    for k in band_steps:
        r.event("host_volume", edge - k)     # edge - HYST < v <= edge: the band
        r.run(200)
        assert r.ctl.gain_relay == start and r.ctl.gain == start


def test_an_auto_switch_comes_back_to_the_same_level_at_the_jack():
    top_low = AUTO_B.top_hdb(0, 0)
    quiet = top_low - C.HEADROOM_HDB - C.AUTO_HYST_HDB - 2
    r = auto_rig()
    r.event("host_volume", quiet)            # (above the start-up cap)
    r.run(2000)
    before = jack_cdb(r.ctl)
    assert r.ctl.gain_relay == 0 and before is not None
    r.event("host_volume", top_low)          # no headroom left on low: up to high
    r.run(2000)
    assert r.ctl.gain_relay == 1 and r.ctl.phase == C.PLAYING
    loud = jack_cdb(r.ctl)
    assert top_low * 50 - 50 < loud <= top_low * 50     # what was asked, on the grid
    r.event("host_volume", quiet)            # back down: low again, the same level as before
    r.run(2000)
    assert r.ctl.gain_relay == 0 and jack_cdb(r.ctl) == before
    gains = [s[4] for s in r.log]
    assert gains.count(1) and all(a == b or c[1] != C.PLAYING                   # relays moved
                                  for a, b, c in zip(gains, gains[1:], r.log[1:]))  # only muted


def test_auto_needs_a_gain_relay_and_a_switch_or_a_manual_gain_ends_it():
    d = json.load(open(SE))
    d.pop("gain_switch")
    d["relays"].pop("gain")
    d["analog"]["gain_high_db"] = d["analog"]["gain_low_db"]
    r = Rig(boardfile.parse(d)).booted()
    assert "gain relay" in r.ctl.host_gain(C.GAIN_AUTO, r.now())
    r = auto_rig()
    r.event("set_gain", 1)                   # the switch (or `set gain high`)
    assert not r.ctl.auto and r.ctl.persistent()[2] == 1


# ---------------------------------------------------------------- the SPL limit, controller

PICK = [H.find(PROFILES, n) for n in ("SE215", "HD 600", "ER4S", "Aeon 2 Noire", "DT 880 600")]


def test_a_louder_profile_lowers_the_level_first():
    r = Rig(SE_B).booted()
    c = r.ctl
    r.event("host_volume", -20)
    r.run(1000)
    hd600 = with_hp(SE_B, H.find(PROFILES, "HD 600"))
    c.set_headphone(hd600[0], hd600[1], r.now())
    spl = c.spl_cdb()
    assert c.volume == -20 and spl == -20 * 50 + hd600[1][0]   # -10 dBV: 92.2 dB SPL, under 100
    se215 = with_hp(SE_B, H.find(PROFILES, "SE215"))
    c.set_headphone(se215[0], se215[1], r.now())
    assert c.spl_cdb() <= spl < c.spl_cdb() + 50    # the same SPL, within a 0.5 dB step
    r.run(100)
    assert jack_cdb(c) <= c.volume * 50
    c.set_headphone(hd600[0], hd600[1], r.now())    # a quieter one: the level stays
    assert c.spl_cdb() < spl


def model_step(m, what, why, now, value=None):
    """The test's own idea of which SPL limit stands (hdB): only a long press within
    10 s confirms a raise; any long press ends the request."""
    if what == "spl_limit":
        if why is None:
            m["limit"] = value
            if m["pending"] is not None and m["pending"][0] in ("spl", "defaults"):
                m["pending"] = None     # the latest request wins
        elif "long press" in why:
            m["pending"] = ("spl", value, now)
    elif what in ("limit", "defaults"):
        if why is not None and "long press" in why:
            m["pending"] = (what, value, now)
        elif what == "limit" and why is None and m["pending"] is not None \
                and m["pending"][0] in ("limit", "defaults"):
            m["pending"] = None
        elif what == "defaults":
            m["limit"] = C.SPL_LIMIT_HDB
    elif what == "long_press":
        p = m["pending"]
        m["pending"] = None
        if p is not None and now - p[2] <= 10000:
            if p[0] == "spl":
                m["limit"] = p[1]
            elif p[0] == "defaults":
                m["limit"] = C.SPL_LIMIT_HDB


ACTIONS = st.one_of(
    st.tuples(st.just("turn"), st.integers(-10, 10)),
    st.tuples(st.just("volume"), st.integers(-160, 12)),
    st.tuples(st.just("headphone"), st.sampled_from(range(len(PICK) + 1))),
    st.tuples(st.just("spl_limit"), st.integers(C.SPL_MIN_HDB, C.SPL_MAX_HDB)),
    st.tuples(st.just("limit"), st.integers(-40, 12)),
    st.tuples(st.just("defaults"), st.just(0)),
    st.tuples(st.just("long_press"), st.just(0)),
    st.tuples(st.just("click"), st.just(0)),
    st.tuples(st.just("output"), st.sampled_from([0, 1])),
    st.tuples(st.just("gain"), st.sampled_from([0, 1, C.GAIN_AUTO])),
    st.tuples(st.just("wait"), st.sampled_from([1, 20, 500, 11000])),
)


@given(st.sampled_from([SE_B, BAL_B]), st.lists(ACTIONS, max_size=25))
def test_the_spl_limit_is_never_exceeded(board, actions):
    r = Rig(board).booted()
    c = r.ctl
    m = {"limit": C.SPL_LIMIT_HDB, "pending": None}

    def check():
        level = jack_cdb(c)
        if c.spl_off is not None and level is not None:
            assert level + c.spl_off[c.output_relay] <= m["limit"] * 50, (
                "%.2f dB SPL over a limit of %.1f" % ((level + c.spl_off[c.output_relay]) / 100,
                                                       m["limit"] / 2))

    for what, v in actions:
        now = r.now()
        why = None
        if what == "turn":
            r.event("turn", v)
        elif what == "volume":
            why = c.host_volume(v, now)
        elif what == "headphone":
            hp = with_hp(board, PICK[v]) if v < len(PICK) else (None, None)
            why = c.set_headphone(hp[0], hp[1], now)
        elif what == "spl_limit":
            why = c.host_spl_limit(v, now)
        elif what == "limit":
            why = c.host_limit(v, now)
        elif what == "defaults":
            why = c.host_defaults(now)
        elif what == "long_press":
            r.event("long_press")
        elif what == "click":
            r.event("click")
        elif what == "output":
            c.host_output(v, now) if v in board.outputs else None
        elif what == "gain":
            c.host_gain(v, now)
        if what != "turn" and what != "long_press" and what != "click":
            c.tick(now)
            c.moved(now)
        model_step(m, what, why, now, v)
        check()
        for _ in range(v if what == "wait" and v < 600 else 30):
            r.run(1)
            check()
        if what == "wait" and v > 600:
            r.run(v)
            check()


# ---------------------------------------------------------------- settings

def test_settings_keep_the_headphone_the_spl_limit_and_auto_gain(tmp_path):
    s = SettingsStore(str(tmp_path / "settings.json"), AUTO_B)
    # The longest name, every character escaped: the file still fits the store's cap.
    hp = H.parse_profile({"name": "\u00e9" * H.NAME_MAX, "impedance": {"ohm": 16.5},
                          "sensitivity": {"value": 118.25, "unit": "dB/V"}})
    s.save(-40, 0, C.GAIN_AUTO, 0, 10, 190, hp, 8)
    assert os.path.getsize(str(tmp_path / "settings.json")) <= MAX_BYTES
    d = s.load()
    assert (d["gain"], d["spl_limit"], d["gain_headroom"]) == (C.GAIN_AUTO, 190, 8)
    assert d["headphone"][0].name == hp.name and d["headphone"][0].db_v == hp.db_v
    assert d["headphone"][1] == H.spl_offsets_cdb(hp, AUTO_B)
    # A stored profile gone bad, and an SPL limit out of range: defaults for those alone.
    text = open(str(tmp_path / "settings.json")).read()
    bad = json.loads(text)
    bad["headphone"]["impedance"]["ohm"] = 0
    bad["spl_limit"] = 400
    open(str(tmp_path / "settings.json"), "w").write(json.dumps(bad))
    d = s.load()
    assert "headphone" not in d and "spl_limit" not in d and d["volume"] == -40
    # "auto" on a board without a gain relay is not a gain it has.
    plain = json.load(open(SE))
    plain.pop("gain_switch")
    plain["relays"].pop("gain")
    plain["analog"]["gain_high_db"] = 0.0
    assert SettingsStore(str(tmp_path / "settings.json"), boardfile.parse(plain)).load()["gain"] == 0


# ---------------------------------------------------------------- the host's line

def test_every_built_in_profile_fits_one_protocol_line_and_reads_back_the_same():
    for hp in PROFILES:
        line = hph.command(hp)
        assert len(line) <= 96 and line.isascii(), line
        t = line.split()
        back = H.from_figures(t[2], t[3], t[4], " ".join(t[5:]))
        assert abs(back.db_v - hp.db_v) < 1e-3 and back.z_ohm == hp.z_ohm


# ---------------------------------------------------------------- on the simulated board

@pytest.fixture
def boards(tmp_path):
    """Simulated boards (a board dict or a shipped path) on flash of their own, watched
    by the trace checker, run past boot."""
    made = []

    def make(d=None, path=SE):
        if d is not None:
            p = tmp_path / "board.json"
            p.write_text(json.dumps(d))
            path = str(p)
        flash = tmp_path / ("flash%d" % len(made))
        flash.mkdir()
        b = SimBoard(path, flash_dir=str(flash), keep_trace=False)
        b.checker = Checker(b.board)
        b.trace.listeners.append(b.checker.live)
        b.power(True)
        b.run_ms(2600)
        made.append(b)
        return b

    yield make
    for b in made:
        b.close()


def jack_max(b):
    return max(x for x in b.jack.levels if x is not None)


def test_the_headphone_over_the_protocol(boards):
    b = boards()
    assert ask(b, "set volume 0")["ok"]
    b.run_ms(1000)
    r = ask(b, hph.command(H.find(PROFILES, "HD 600")))
    assert r["ok"] and r["headphone"]["name"] == "Sennheiser HD 600"
    assert r["volume"] == -2.5 and r["spl"] == 99.7     # capped at 100 dB SPL
    b.run_ms(100)
    assert jack_max(b) <= -250 + 1                       # the jack followed
    before = ask(b, "status")
    for line in ("set headphone 0 97 dB/mW Zero", "set headphone 32 300 dB/mW Loud",
                 "set headphone 32 97 dB/W Typo", "set headphone 32 97 dB/mW",
                 "set headphone Nothing Here", "set headphone", "set spl_limit 140",
                 "set spl_limit 99.3", "set gain_headroom 20", "set gain loud"):
        r = ask(b, line)
        assert r["ok"] is False and r["error"], line
    after = ask(b, "status")
    assert after == dict(before, uptime_s=after["uptime_s"], worst_pass_us=after["worst_pass_us"])
    assert "impedance.ohm" in ask(b, "set headphone 0 97 dB/mW Zero")["error"]
    assert "plausible" in ask(b, "set headphone 32 300 dB/mW Loud")["error"]
    assert "sensitivity.unit" in ask(b, "set headphone 32 97 dB/W Typo")["error"]
    # Raising the SPL limit takes the long press, as the volume limit does.
    assert "long press" in ask(b, "set spl_limit 110")["error"]
    assert ask(b, "set volume 6")["ok"] is False
    b.press(True)
    b.run_ms(b.board.long_press_ms + 100)
    b.press(False)
    b.run_ms(100)
    assert ask(b, "get spl_limit")["spl_limit"] == 110.0
    assert ask(b, "set volume 6")["ok"]
    b.run_ms(1500)
    assert ask(b, "get spl")["spl"] == 108.2
    assert ask(b, "set headphone none")["headphone"] is None
    assert ask(b, "get spl")["spl"] is None
    assert b.checker.ok(), b.checker.report()


def test_the_boards_own_profiles_and_the_setting_survive_a_power_cycle(boards):
    b = boards()
    with open(os.path.join(b.flash_dir, "headphones.json"), "w") as f:
        json.dump({"headphones": 1, "profiles": [
            {"name": "My IEM", "impedance": {"ohm": 16}, "sensitivity": {"value": 112, "unit": "dB/mW"}},
            {"name": "Bad", "impedance": {"ohm": 16}, "sensitivity": {"value": 112}}]}, f)
    assert "sensitivity.unit" in ask(b, "set headphone Bad")["error"]   # the file is refused
    with open(os.path.join(b.flash_dir, "headphones.json"), "w") as f:
        json.dump({"headphones": 1, "profiles": [
            {"name": "My IEM", "impedance": {"ohm": 16}, "sensitivity": {"value": 112, "unit": "dB/mW"}}]}, f)
    assert "did you mean My IEM" in ask(b, "set headphone My IEN")["error"]
    r = ask(b, "set headphone my iem")
    assert r["ok"] and r["headphone"]["name"] == "My IEM"
    assert ask(b, "set spl_limit 85")["ok"] and ask(b, "set gain_headroom 4.5")["ok"]
    b.run_ms(b.board.save_delay_ms + 100)
    b.power(False)
    b.run_ms(100)
    b.power(True)
    b.run_ms(3000)
    s = ask(b, "status")
    assert s["headphone"]["name"] == "My IEM" and s["spl_limit"] == 85.0
    assert s["gain_headroom"] == 4.5 and s["spl"] <= 85.0
    assert b.checker.ok(), b.checker.report()


def test_auto_gain_on_the_simulated_board_keeps_the_loudness(boards):
    b = boards(auto_board_dict())
    assert ask(b, "set gain auto")["gain"] == "auto"
    top_low = b.board.top_hdb(0, 0)
    assert ask(b, "set volume %.1f" % ((top_low - 12) / 2))["ok"]
    b.run_ms(1500)
    assert ask(b, "get gain_stage")["gain_stage"] == "low"
    quiet = jack_max(b)
    assert ask(b, "set volume %.1f" % (top_low / 2))["ok"]
    b.run_ms(1500)
    assert ask(b, "get gain_stage")["gain_stage"] == "high"
    assert b.relays["gain"].energized
    assert top_low * 50 - 50 < jack_max(b) <= top_low * 50
    assert ask(b, "set volume %.1f" % ((top_low - 12) / 2))["ok"]
    b.run_ms(1500)
    assert not b.relays["gain"].energized and jack_max(b) == quiet
    b.run_ms(b.board.save_delay_ms + 100)
    assert json.loads(b.settings_text())["gain"] == "auto"
    assert b.checker.ok(), b.checker.report()   # relays under mute, no clicks


# ---------------------------------------------------------------- the trace checker's rule

def _records(checker, recs):
    for r in recs:
        checker.feed(r)


def spl_violations(c):
    return [v for v in c.violations if v[1] == "spl-limit"]


def _jack(t, level, output="se"):
    return {"t_us": t, "kind": "chip", "chip": "jack",
            "state": {"output": output, "left": level, "right": level, "dac": "on"}}


def _reply(t, **fields):
    return {"t_us": t, "kind": "serial", "dir": "out", "line": json.dumps(dict(ok=True, **fields))}


def _host(t, line):
    return {"t_us": t, "kind": "serial", "dir": "in", "data": line + "\n"}


def test_the_checker_holds_the_jack_to_the_spl_limit_the_host_set():
    """From the host's requests, never from what the firmware reports."""
    hd = hph.command(hph.find(hph.builtin(), "HD 600"))   # 300 ohm, 102.2 dB/V
    c = Checker(SE_B)
    g = SPL_GRACE_US   # a headphone newly chosen binds after the grace
    _records(c, [_host(0, hd), _reply(1, headphone=None), _jack(g + 10, -2.5),
                 _jack(g + 20, -1.5)])
    assert len(spl_violations(c)) == 1
    # A tighter limit binds after the grace, on the standing jack even without a record,
    # whatever the firmware says its limit is.
    c = Checker(SE_B)
    _records(c, [_host(0, hd), _reply(1, headphone=None), _jack(10, -2.5),
                 _host(999, "set spl_limit 90"), _reply(1000, spl_limit=100.0),
                 _jack(1000 + SPL_GRACE_US - 1, -2.5)])
    assert not spl_violations(c)
    c.feed({"t_us": 1000 + SPL_GRACE_US + 5, "kind": "step", "line": 1, "text": "wait 1"})
    assert len(spl_violations(c)) == 1
    # No headphone; a refused headphone; after a boot, the last saved (none here).
    t = SPL_GRACE_US + 100
    c = Checker(SE_B)
    _records(c, [_host(0, "set headphone none"), _reply(1, headphone=None), _jack(10, 6.0),
                 _host(15, hd), {"t_us": 16, "kind": "serial", "dir": "out",
                                 "line": json.dumps({"ok": False, "error": "no"})},
                 _jack(t, 6.0), _host(t + 1, hd), _reply(t + 2, headphone=None),
                 {"t_us": t + 3, "kind": "boot"}, _jack(t + SPL_GRACE_US + 10, 6.0)])
    assert not spl_violations(c)


def test_the_pga_swing_is_checked_and_caps_the_low_gain():
    d = auto_board_dict(pga_max=0.05)
    with pytest.raises(boardfile.BoardError, match="analog.pga_max_vrms"):
        boardfile.parse(d)
    assert SE_B.pga_max_cdb is None and SE_B.top_hdb(0, 0) == 32     # max_output_dbv: 16 dBV
    assert AUTO_B.top_hdb(0, 0) == 15 and AUTO_B.top_hdb(1, 0) == 32  # 2.5 Vrms: 7.96 dBV
    r = hph.analyse(H.find(PROFILES, "HD 600"), AUTO_B, 0, 0)
    assert r["limit"] == "pga" and r["max_dbv"] == 7.5
