"""The trace: hand-made JSON (key order, fixed-point levels, escaping) and the record contract."""
import io
import json
import os
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from headroom.sim.run import run_script
from headroom.sim.trace import VERSION, Db, Trace, encode

from helpers import SE
from simkit import ordered

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# ---- encode()

def test_encode_scalars():
    assert encode(None) == "null"
    assert encode(True) == "true"
    assert encode(False) == "false"
    assert encode(0) == "0"
    assert encode(-42) == "-42"
    assert encode(2 ** 40) == "1099511627776"
    assert encode("abc") == '"abc"'


def test_encode_refuses_floats_and_dicts():
    with pytest.raises(TypeError):
        encode(1.5)
    with pytest.raises(TypeError):
        encode({"a": 1})


def test_encode_keeps_key_order():
    assert encode([("z", 1), ("a", 2), ("m", None)]) == '{"z": 1, "a": 2, "m": null}'
    assert encode([]) == "{}"
    assert encode([("o", [("b", True), ("a", "x")])]) == '{"o": {"b": true, "a": "x"}}'


@given(st.lists(st.tuples(st.text(max_size=8), st.integers()), max_size=8,
                unique_by=lambda kv: kv[0]))
def test_encode_object_round_trips_in_order(pairs):
    text = encode(pairs)
    assert json.loads(text, object_pairs_hook=list) == pairs


@pytest.mark.parametrize("db,text", [
    (Db(-41, 2), "-20.5"),
    (Db(-40, 2), "-20.0"),
    (Db(63, 2), "31.5"),
    (Db(-1, 2), "-0.5"),
    (Db(0, 2), "0.0"),
    (Db(-2044, 100), "-20.44"),
    (Db(5, 100), "0.05"),
    (Db(-5, 100), "-0.05"),
    (Db(-100, 100), "-1.00"),
    (Db(1234, 100), "12.34"),
    (Db(0, 100), "0.00"),
])
def test_db_formatting(db, text):
    assert encode(db) == text
    assert repr(db) == text


@given(st.integers(-10 ** 6, 10 ** 6), st.sampled_from([2, 100]))
def test_db_is_exact_json_number(v, scale):
    text = Db(v, scale).json()
    assert Decimal(text) == Decimal(v) / scale
    assert isinstance(json.loads(text), float)


def test_db_equality_across_scales():
    assert Db(-41, 2) == Db(-2050, 100)
    assert Db(-41, 2) != Db(-2044, 100)
    assert Db(1, 2) != 0.5


@pytest.mark.parametrize("s,text", [
    ('say "hi"', r'"say \"hi\""'),
    ("back\\slash", r'"back\\slash"'),
    ("line\nbreak", r'"line\u000abreak"'),
    ("tab\there", r'"tab\u0009here"'),
    ("\x00", r'"\u0000"'),
    ("caf\u00e9", '"caf\u00e9"'),
])
def test_string_escaping(s, text):
    assert encode(s) == text
    assert json.loads(encode(s)) == s


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",))))
def test_any_string_round_trips(s):
    text = encode(s)
    assert "\n" not in text and "\r" not in text    # one record stays one line
    assert json.loads(text) == s


# ---- Trace object

def test_trace_header_and_emit():
    sink = io.StringIO()
    t = Trace("pico-se.json", sink)
    heard = []
    t.listeners.append(lambda *a: heard.append(a))
    t.emit(5, "pin", [("pin", 3), ("level", 1)])
    assert t.lines == ['{"trace": %d, "board": "pico-se.json"}' % VERSION,
                       '{"t_us": 5, "kind": "pin", "pin": 3, "level": 1}']
    assert sink.getvalue() == t.text()
    assert heard == [(5, "pin", [("pin", 3), ("level", 1)])]


def test_trace_keep_false_still_writes_the_sink():
    sink = io.StringIO()
    t = Trace("b.json", sink, keep=False)
    t.emit(1, "boot", [])
    assert t.lines == []
    assert sink.getvalue().splitlines()[1] == '{"t_us": 1, "kind": "boot"}'


# ---- a whole run's trace

SCRIPTS = {
    "default": open(os.path.join(REPO, "tests", "scenarios", "pico-se.scn")).read(),
    "busy": ("power on\nwait 2600\nturn +6 at 40/s bounce 400\nwait 200\npress bounce 300\n"
             "hold 1000\nswitch gain high bounce 500\nwait 300\nturn -3 at 2000/s\nwait 4000\n"
             "power off\nwait 50\npower on\nwait 2000\n"),
}


@pytest.fixture(scope="module", params=sorted(SCRIPTS))
def run_trace(request):
    sink = io.StringIO()
    res = run_script(SE, SCRIPTS[request.param], trace_sink=sink)
    return res, sink.getvalue()


SPI_KEYS = ["t_us", "kind", "bus", "cs", "baudrate", "polarity", "phase", "data"]
PIN_KEYS = ["t_us", "kind", "pin", "level"]
CHIP_KEYS = ["t_us", "kind", "chip", "state"]


def test_sink_and_kept_lines_agree(run_trace):
    res, text = run_trace
    assert text == res.board.trace.text()
    assert text.endswith("\n")


def test_first_line_is_the_header(run_trace):
    _, text = run_trace
    assert text.split("\n", 1)[0] == '{"trace": 2, "board": "pico-se.json"}'


def test_every_record_has_time_and_kind_in_order(run_trace):
    _, text = run_trace
    last = 0
    kinds = set()
    for line in text.splitlines()[1:]:
        rec = ordered(line)
        assert [k for k, _ in rec[:2]] == ["t_us", "kind"], line
        t = rec[0][1]
        assert type(t) is int and t >= last, line
        last = t
        kinds.add(rec[1][1])
    assert {"spi", "pin", "chip", "power", "boot", "step"} <= kinds


def test_spi_records(run_trace):
    _, text = run_trace
    n = 0
    for line in text.splitlines()[1:]:
        rec = ordered(line)
        if rec[1][1] != "spi":
            continue
        n += 1
        assert [k for k, _ in rec] == SPI_KEYS, line
        d = dict(rec)
        assert d["bus"] == 0 and d["cs"] == 17
        assert d["baudrate"] == 1000000 and d["polarity"] == 0 and d["phase"] == 0
        assert isinstance(d["data"], str) and len(d["data"]) % 2 == 0 and d["data"]
        assert d["data"] == d["data"].lower()
        bytes.fromhex(d["data"])
    assert n > 0


def test_pin_records(run_trace):
    _, text = run_trace
    n = 0
    for line in text.splitlines()[1:]:
        rec = ordered(line)
        if rec[1][1] != "pin":
            continue
        n += 1
        assert [k for k, _ in rec] == PIN_KEYS, line
        d = dict(rec)
        assert type(d["pin"]) is int and 0 <= d["pin"] < 30
        assert d["level"] in (0, 1, None)
    assert n > 0


def test_chip_records(run_trace):
    _, text = run_trace
    chips = set()
    for line in text.splitlines()[1:]:
        rec = ordered(line)
        if rec[1][1] != "chip":
            continue
        assert [k for k, _ in rec] == CHIP_KEYS, line
        d = dict(rec)
        assert isinstance(d["state"], list)           # an object
        chips.add(d["chip"])
        keys = [k for k, _ in d["state"]]
        if d["chip"].startswith("pga2311."):
            assert keys == ["left", "right", "mute"]
        elif d["chip"].startswith("relay."):
            assert keys == ["energized"]
        elif d["chip"] == "jack":
            assert keys == ["output", "left", "right", "dac"]
    assert {"pga2311.0", "relay.mute", "relay.gain", "jack"} <= chips


def test_pin_levels_replay_to_the_spi_chip_select(run_trace):
    """Each SPI frame happens while CS (GP17) is low in the pin records."""
    _, text = run_trace
    level = {}
    for line in text.splitlines()[1:]:
        d = json.loads(line)
        if d["kind"] == "pin":
            level[d["pin"]] = d["level"]
        elif d["kind"] == "spi":
            assert level.get(17) == 0, line


def test_same_seed_same_trace():
    script = SCRIPTS["busy"]
    a, b = io.StringIO(), io.StringIO()
    run_script(SE, script, trace_sink=a, seed=3)
    run_script(SE, script, trace_sink=b, seed=3)
    assert a.getvalue() == b.getvalue()
