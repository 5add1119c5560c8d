"""The scenario language: every command parses, every bad line is refused by number, nothing
runs when a script is bad; and the `headroom` command line's exit codes."""
import io
import json
import os
import subprocess
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from headroom.sim import run as runmod
from headroom.sim import world
from headroom.sim.scenario import PRESS_MS, ScenarioError, parse, parse_line

from helpers import SE

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PY = os.path.join(REPO, ".venv", "bin", "python")
if not os.path.exists(PY):
    PY = sys.executable


def one(text):
    steps = parse(text)
    assert len(steps) == 1
    s = steps[0]
    return s.op, s.args


# ---- every command

@pytest.mark.parametrize("text,op,args", [
    ("power on", "power", (True,)),
    ("power off", "power", (False,)),
    ("wait 0", "wait", (0,)),
    ("wait 2500", "wait", (2500,)),
    ("wait 86400000", "wait", (86400000,)),
    ("turn +3", "turn", (3, 10000, 0)),
    ("turn -12", "turn", (-12, 10000, 0)),
    ("turn +0", "turn", (0, 10000, 0)),
    ("turn +10 at 5/s", "turn", (10, 5000, 0)),
    ("turn -4 at 40/s bounce 500", "turn", (-4, 40000, 500)),
    ("turn -4 bounce 500 at 40/s", "turn", (-4, 40000, 500)),
    ("turn +1 at 2.5/s", "turn", (1, 2500, 0)),
    ("turn +1 at 0.1/s", "turn", (1, 100, 0)),
    ("turn +1 at 2000/s", "turn", (1, 2000000, 0)),
    ("turn +1 at 12.345/s", "turn", (1, 12345, 0)),
    ("press", "hold", (PRESS_MS, 0)),
    ("press bounce 300", "hold", (PRESS_MS, 300)),
    ("hold 900", "hold", (900, 0)),
    ("hold 900 bounce 2000", "hold", (900, 2000)),
    ("switch gain low", "switch", ("gain", "low", 0)),
    ("switch gain high bounce 800", "switch", ("gain", "high", 800)),
    ("switch output se", "switch", ("output", "se", 0)),
    ("switch output balanced", "switch", ("output", "balanced", 0)),
    ("expect volume -20", "expect_volume", (-40,)),
    ("expect volume -20.5", "expect_volume", (-41,)),
    ("expect volume -0.5", "expect_volume", (-1,)),
    ("expect volume 0", "expect_volume", (0,)),
    ("expect volume 6", "expect_volume", (12,)),
    ("expect volume +3.5", "expect_volume", (7,)),
    ("expect volume -20.500", "expect_volume", (-41,)),
    ("expect muted", "expect_muted", ()),
    ("expect gain low", "expect_relay", ("gain", False)),
    ("expect gain high", "expect_relay", ("gain", True)),
    ("expect output se", "expect_relay", ("output", False)),
    ("expect output balanced", "expect_relay", ("output", True)),
])
def test_every_command_parses(text, op, args):
    assert one(text) == (op, args)
    # spacing and trailing comments do not matter
    assert one("   %s   # a comment" % text.replace(" ", "\t ")) == (op, args)


def test_step_keeps_line_number_and_text():
    text = "# header\n\npower on   # switch it on\n  wait 100\n\n# done\n"
    steps = parse(text)
    assert [(s.line, s.text, s.op) for s in steps] == [
        (3, "power on", "power"), (4, "wait 100", "wait")]


def test_blank_and_comment_lines():
    assert parse_line(1, "") is None
    assert parse_line(1, "   \t ") is None
    assert parse_line(1, "# power on") is None
    assert parse("") == []


def test_crlf_script():
    steps = parse("power on\r\nwait 10\r\n")
    assert [(s.op, s.args) for s in steps] == [("power", (True,)), ("wait", (10,))]


SCN_DIR = os.path.join(REPO, "tests", "scenarios")


@pytest.mark.parametrize("name", sorted(n for n in os.listdir(SCN_DIR) if n.endswith(".scn")))
def test_shipped_scenario_files_parse(name):
    with open(os.path.join(SCN_DIR, name)) as f:
        text = f.read()
    steps = parse(text)
    commands = [n for n, raw in enumerate(text.split("\n"), 1) if raw.split("#", 1)[0].strip()]
    assert [s.line for s in steps] == commands
    assert steps[0].op == "power" and steps[0].args == (True,)


# ---- bad lines

BAD = [
    ("frobnicate", "unknown command 'frobnicate'"),
    ("Power on", "unknown command"),
    ("turn 5", "sign required"),
    ("turn", "sign required"),
    ("turn ++1", "detents must be a whole number"),
    ("turn +1 at 20", "rate must look like 20/s"),
    ("turn +1 at fast/s", "rate must be a number"),
    ("turn +1 at 0.05/s", "0.1/s to 2000/s"),
    ("turn +1 at 2001/s", "0.1/s to 2000/s"),
    ("turn +1 at 1.2345/s", "rate must be a number"),
    ("turn +1 at 5/s at 6/s", "given twice"),
    ("turn +1 bounce", "needs a value"),
    ("turn +1 bounce -5", "outside 0..100000"),
    ("turn +100001", "outside"),
    ("wait -1", "outside 0..86400000"),
    ("wait abc", "must be a whole number"),
    ("wait 1.5", "must be a whole number"),
    ("wait", "use 'wait MS'"),
    ("wait 5 6", "use 'wait MS'"),
    ("hold", "use 'hold MS'"),
    ("hold 0", "outside 1..600000"),
    ("hold 100 200", "unexpected '200'"),
    ("press 5", "unexpected '5'"),
    ("press bounce 100001", "outside 0..100000"),
    ("expect volume -20.3", "multiple of 0.5 dB"),
    ("expect volume -20.25", "multiple of 0.5 dB"),
    ("expect volume loud", "volume (dB) must be a number"),
    ("expect volume", "use 'expect volume DB'"),
    ("expect muted now", "expect muted"),
    ("expect gain medium", "expect gain low|high"),
    ("expect silence", "expect volume DB"),
    ("power on now", "use 'power on' or 'power off'"),
    ("power sideways", "use 'power on' or 'power off'"),
    ("power", "use 'power on' or 'power off'"),
    ("switch gain medium", "switch gain low|high"),
    ("switch volume low", "switch gain low|high"),
    ("switch output", "switch output se|balanced"),
    ("switch output se now", "unexpected 'now'"),
    ("switch gain low bounce x", "bounce (us) must be a whole number"),
    ("turn +1 at 5/s extra", "unexpected 'extra'"),
    ("wifi ap", "use 'wifi ap off|on'"),
    ("wifi router off", "use 'wifi ap off|on'"),
    ("wifi dhcp maybe", "wifi dhcp off|on"),
]


@pytest.mark.parametrize("line,why", BAD)
@pytest.mark.parametrize("n", [1, 7])
def test_bad_line_is_refused_with_its_number(line, why, n):
    text = "\n".join(["# comment"] * (n - 1) + [line, "power on"])
    with pytest.raises(ScenarioError) as e:
        parse(text)
    msg = str(e.value)
    assert msg.startswith("line %d: " % n), msg
    assert why in msg, msg


GOOD = ["power on", "wait 100", "turn +2 at 5/s", "press", "hold 900", "switch gain high",
        "expect volume -25", "expect muted", "# comment", "", "power off"]


@given(st.lists(st.sampled_from(GOOD), max_size=12), st.data(), st.sampled_from(BAD))
def test_one_bad_line_anywhere_is_found(lines, data, bad):
    pos = data.draw(st.integers(0, len(lines)))
    lines = lines[:pos] + [bad[0]] + lines[pos:]
    with pytest.raises(ScenarioError) as e:
        parse("\n".join(lines))
    assert str(e.value).startswith("line %d: " % (pos + 1))


def test_first_bad_line_is_the_one_reported():
    with pytest.raises(ScenarioError, match=r"^line 2: "):
        parse("power on\nwait x\npower sideways\n")


@given(st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=40))
def test_any_ascii_line_parses_or_is_refused_with_its_number(line):
    try:
        parse_line(3, line)
    except ScenarioError as e:
        assert str(e).startswith("line 3: ")


@pytest.mark.parametrize("line", ["wait \u00b2", "hold \u2460", "expect volume \u00b2"])
def test_unicode_digit_is_a_scenario_error(line):
    with pytest.raises(ScenarioError, match="^line 1: "):
        parse(line)


# ---- nothing runs when a script is bad

@pytest.fixture
def no_board(monkeypatch):
    made = []

    def forbidden(*a, **kw):
        made.append(a)
        raise AssertionError("a board was built for a bad script")

    monkeypatch.setattr(runmod, "SimBoard", forbidden)
    return made


@given(st.lists(st.sampled_from(GOOD), min_size=1, max_size=10), st.data(),
       st.sampled_from(BAD))
def test_bad_script_runs_nothing(lines, data, bad):
    import headroom.sim.run as r
    saved = r.SimBoard
    made = []

    def forbidden(*a, **kw):
        made.append(a)
        raise AssertionError("a board was built for a bad script")

    r.SimBoard = forbidden
    try:
        pos = data.draw(st.integers(0, len(lines)))
        text = "\n".join(lines[:pos] + [bad[0]] + lines[pos:])
        sink = io.StringIO()
        timeline = io.StringIO()
        with pytest.raises(ScenarioError, match="^line %d: " % (pos + 1)):
            runmod.run_script(SE, text, trace_sink=sink, timeline=timeline)
        assert made == []
        assert sink.getvalue() == "" and timeline.getvalue() == ""
        assert world.running is None
    finally:
        r.SimBoard = saved


def test_good_script_does_build_a_board(no_board):
    """The guard above is real: a good script reaches SimBoard."""
    with pytest.raises(AssertionError, match="a board was built"):
        runmod.run_script(SE, "power on\nwait 10\n")
    assert len(no_board) == 1


def test_good_script_runs_and_reports():
    sink = io.StringIO()
    res = runmod.run_script(SE, "power on\nwait 3000\nexpect volume -30\nturn -2 at 5/s\n"
                            "expect volume -31\npower off\nwait 100\nexpect muted\n",
                            trace_sink=sink)
    assert res.steps == 8
    assert res.failures == []
    assert res.faults == [] and res.crashes == []
    # The steps' own time, plus at most a pass of the firmware's that ran past a step's end
    # (the cost model: a pass takes time, and is not cut short; up to 3 ms with a span of
    # the display's frame in it).
    assert 3500000 <= res.t_us < 3500000 + 3500
    steps = [json.loads(ln) for ln in sink.getvalue().splitlines()[1:]
             if '"kind": "step"' in ln]
    assert [s["line"] for s in steps] == list(range(1, 9))


def test_failed_expectation_is_collected_not_raised():
    res = runmod.run_script(SE, "power on\nwait 100\nexpect volume 0\nexpect muted\n")
    assert [(line, text) for line, text, _ in res.failures] == [(3, "expect volume 0")]
    assert "muted" in res.failures[0][2]


# ---- the command line

def cli(*args):
    return subprocess.run([PY, "-m", "headroom", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=60)


def test_cli_sim_bad_script_exits_2_with_line_number(tmp_path):
    script = tmp_path / "bad.scn"
    script.write_text("power on\nwait 100\n\nturn 5\nwait 100\n")
    trace = tmp_path / "trace.jsonl"
    p = cli("sim", "--script", str(script), "--trace", str(trace))
    assert p.returncode == 2, p.stderr
    assert "line 4:" in p.stderr and "sign required" in p.stderr
    assert p.stdout == ""                         # no timeline: nothing ran
    assert not trace.exists() or trace.read_text() == ""


def test_cli_unicode_digit_names_the_line(tmp_path):
    script = tmp_path / "bad.scn"
    script.write_text("power on\nwait \u00b2\n", encoding="utf-8")
    p = cli("sim", "--script", str(script))
    assert p.returncode == 2
    assert "line 2:" in p.stderr


def test_cli_sim_missing_script_exits_2(tmp_path):
    p = cli("sim", "--script", str(tmp_path / "nope.scn"))
    assert p.returncode == 2
    assert "cannot read scenario" in p.stderr


def test_cli_sim_good_script_exits_0(tmp_path):
    script = tmp_path / "ok.scn"
    script.write_text("power on\nwait 3000\nexpect volume -30\n")
    p = cli("sim", "--script", str(script))
    assert p.returncode == 0, p.stderr
    assert "3 steps, 0 expectations failed" in p.stdout


def test_cli_sim_failed_expectation_exits_1(tmp_path):
    script = tmp_path / "fail.scn"
    script.write_text("power on\nwait 100\nexpect volume 0\n")
    p = cli("sim", "--script", str(script))
    assert p.returncode == 1
    assert "line 3: expect volume 0:" in p.stderr


def test_cli_boards_check_ok():
    p = cli("boards", "check", "boards/pico-se.json")
    assert p.returncode == 0, p.stderr
    assert "ok" in p.stdout


def _broken_board(tmp_path, edit):
    with open(os.path.join(REPO, "boards", "pico-se.json")) as f:
        d = json.load(f)
    edit(d)
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(d))
    return str(path)


@pytest.mark.parametrize("edit,field", [
    (lambda d: d["spi"].__setitem__("sck", 17), "spi.sck"),
    (lambda d: d["relays"].pop("mute"), "relays.mute"),
    (lambda d: d["pga2311"].__setitem__("cs", 10), "pga2311.cs"),
    (lambda d: d["timing"].__setitem__("ramp_interval_ms", 5), "timing.ramp_interval_ms"),
    (lambda d: d["volume"].__setitem__("default_dbv", -30.3), "volume.default_dbv"),
])
def test_cli_boards_check_broken_board_exits_2_naming_the_field(tmp_path, edit, field):
    path = _broken_board(tmp_path, edit)
    p = cli("boards", "check", path)
    assert p.returncode == 2
    assert field in p.stderr, p.stderr


def test_cli_sim_with_broken_board_exits_2(tmp_path):
    path = _broken_board(tmp_path, lambda d: d["spi"].__setitem__("sck", 17))
    script = tmp_path / "ok.scn"
    script.write_text("power on\n")
    p = cli("sim", "--board", path, "--script", str(script))
    assert p.returncode == 2
    assert "spi.sck" in p.stderr


def test_wifi_lines_need_a_pico_w_and_move_its_access_point():
    """`wifi ap|dhcp off|on`: refused on a board without WiFi before anything runs; on
    the Pico W board, the access point goes and the joined firmware says so (`wifi`),
    the music plays on, and it joins again once the access point is back."""
    from headroom.sim.scenario import Runner, check_board
    from headroom.sim.simboard import SimBoard

    from helpers import ask, until_playing
    with pytest.raises(ScenarioError, match="no WiFi"):
        check_board(parse("power on\nwifi ap off"), SimBoard(SE).board)
    b = SimBoard(os.path.join(os.path.dirname(SE), "pico-w-balanced.json"))
    try:
        b.provision_wifi()
        b.power(True)
        until_playing(b)
        for _ in range(100):
            b.run_ms(100)
            if ask(b, "wifi")["wifi"]["state"] == "up":
                break
        level = b.jack.levels
        Runner(b).run(parse("wifi ap off\nwait 8000"))
        w = ask(b, "wifi")["wifi"]
        assert w["state"] != "up" and w["url"] is None and w["fault"], w
        assert b.jack.levels == level and ask(b, "status")["phase"] == "playing"
        Runner(b).run(parse("wifi ap on\nwait 70000"))
        assert ask(b, "wifi")["wifi"]["state"] == "up"
    finally:
        b.close()
