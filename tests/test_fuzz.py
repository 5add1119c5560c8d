"""Fuzzing with counts: random and mutated input to every parser a user's mistake reaches -
the control protocol (its byte level and its commands), the board file, the settings
copies, the scenario language. Never an exception other than the parser's own error,
never a change of state on a refused command, always an error that says what is wrong.

`FUZZ_EXAMPLES` (environment, default 200) sets the inputs per target; `COUNTS` holds
how many each target got, written to HEADROOM_FUZZ_STATS=FILE for `make reliability`.
"""
import json
import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from headroom.sim.scenario import ScenarioError
from headroom.sim.scenario import parse as parse_scenario
from headroom_fw import board as boardfile
from headroom_fw import protocol
from headroom_fw.controller import PLAYING, Controller
from headroom_fw.settings import SettingsStore, defaults

from helpers import BALANCED, SE

N = int(os.environ.get("FUZZ_EXAMPLES", "200"))
FUZZ = settings(max_examples=N, deadline=None, derandomize=os.environ.get("FUZZ_RANDOM") is None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
COUNTS = {"protocol-bytes": 0, "protocol-commands": 0, "board-file": 0, "settings": 0,
          "scenario": 0}
BOARDS = {p: json.load(open(p)) for p in (SE, BALANCED)}

WORDS = ["set", "get", "status", "monitor", "version", "log", "volume", "balance", "gain",
         "output", "mute", "limit", "defaults", "on", "off", "low", "high", "se", "balanced",
         "-20", "-20.5", "6", "6.5", "+3", "1e3", "0x10", "-", ".", "nan", "-0.25", "999",
         "10.50", "\\", '"', "1\\q"]


def _ctl(path):
    b = boardfile.parse(BOARDS[path])
    c = Controller(b, defaults(b), 0, 0, 0)
    c.phase = PLAYING
    return c


def _state(c):
    return (c.persistent(), c.user_muted, c.mode, c._pending)


# What the line reader hands on: printable ASCII (anything else is refused before).
PRINTABLE = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=12)


@given(st.sampled_from([SE, BALANCED]), st.lists(
    st.one_of(st.sampled_from(WORDS), PRINTABLE), max_size=5).map(" ".join))
@FUZZ
def test_commands_refused_change_nothing_and_say_why(path, line):
    COUNTS["protocol-commands"] += 1
    c = _ctl(path)
    before = _state(c)
    reply = json.loads(protocol.text(protocol.handle(protocol.Session(), c, line, 100)))
    if reply["ok"] is False:
        assert isinstance(reply["error"], str) and len(reply["error"]) > 5
        after = _state(c)
        if "long press" in reply["error"]:   # a raise, asked for: only the request is kept
            assert after[:3] == before[:3]
        else:
            assert after == before, (line, reply)


class _Console:
    def __init__(self, data):
        self.data = bytearray(data)
        self.out = []

    def read_byte(self):
        return self.data.pop(0) if self.data else None

    def write_line(self, text, n=-1):
        # a copy: the protocol's JsonOut is written again for the next reply
        self.out.append(text if n < 0 else bytes(text[:n]).decode())
        return True

    def flush(self):
        return True

    def busy(self):
        return False


@given(st.binary(max_size=300))
@FUZZ
def test_any_bytes_on_the_serial_port_get_json_replies(data):
    COUNTS["protocol-bytes"] += 1
    c = _ctl(SE)
    con = _Console(data)
    reader = protocol.LineReader()
    session = protocol.Session()
    for _ in range(len(data) + 1):   # one reply a pass at most
        protocol.serve(con, reader, lambda line: protocol.handle(session, c, line, 100))
        con.flush()
    assert not con.data   # every byte was read
    for line in con.out:
        assert isinstance(json.loads(line)["ok"], bool)


JSON = st.recursive(st.none() | st.booleans() | st.integers(-10 ** 6, 10 ** 6)
                    | st.floats(allow_nan=True) | st.text(max_size=6),
                    lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=6), c,
                                                                         max_size=3),
                    max_leaves=5)


def _paths(d, prefix=()):
    out = []
    for k, v in d.items():
        out.append(prefix + (k,))
        if isinstance(v, dict):
            out.extend(_paths(v, prefix + (k,)))
    return out


@given(st.sampled_from([SE, BALANCED]), st.data())
@FUZZ
def test_a_mutated_board_file_loads_or_names_the_field(path, data):
    COUNTS["board-file"] += 1
    d = json.loads(json.dumps(BOARDS[path]))
    for _ in range(data.draw(st.integers(1, 3))):
        where = data.draw(st.sampled_from(_paths(d)))
        node = d
        for k in where[:-1]:
            node = node[k]
        action = data.draw(st.sampled_from(["replace", "delete", "add"]))
        if action == "replace":
            node[where[-1]] = data.draw(JSON)
        elif action == "delete":
            del node[where[-1]]
        else:
            node[data.draw(st.text(min_size=1, max_size=8))] = data.draw(JSON)
        if not isinstance(d, dict) or not d:
            break
    try:
        boardfile.parse(d)
    except boardfile.BoardError as e:
        assert str(e) and ":" in str(e)   # "field: what is wrong"


@given(st.text(max_size=400))
@FUZZ
def test_any_board_file_text_loads_or_is_refused_in_words(text):
    COUNTS["board-file"] += 1
    try:
        boardfile.check_text(text)
        boardfile.parse(json.loads(text))
    except (boardfile.BoardError, ValueError) as e:
        assert str(e)


class _MemFiles:
    """The settings store's filesystem calls on a dict: no folder per input."""

    def __init__(self, files):
        self.files = files

    def open(self, path, mode="r"):
        import io
        if path not in self.files:
            raise OSError(2, "no such file")
        data = self.files[path]
        return io.BytesIO(data) if "b" in mode else io.StringIO(data.decode("utf-8"))

    def size(self, path):
        if path not in self.files:
            raise OSError(2, "no such file")
        return len(self.files[path])

    def remove(self, path):
        if self.files.pop(path, None) is None:
            raise OSError(2, "no such file")


@given(st.sampled_from([SE, BALANCED]), st.binary(max_size=160), st.binary(max_size=160))
@FUZZ
def test_any_settings_copies_load_within_range(path, a, b):
    COUNTS["settings"] += 1
    board = boardfile.parse(BOARDS[path])
    s = SettingsStore("settings.json", board, _MemFiles({}))
    s.files.files = {s.paths[0]: a, s.paths[1]: b}
    got = s.load()
    assert board.min_hdb <= got["volume"] <= got["limit"] <= board.limit_hdb
    assert -20 <= got["balance"] <= 20 and got["gain"] in (0, 1) and got["output"] in board.outputs


SCN = ["power", "on", "off", "wait", "turn", "+3", "-2", "at", "5", "bounce", "300", "press",
       "hold", "switch", "gain", "output", "low", "high", "se", "balanced", "expect", "volume",
       "-20", "muted", "fault", "dac", "absent", "ok", "#", "1e9", "-0", "99999999999"]


@given(st.lists(st.lists(st.one_of(st.sampled_from(SCN), st.text(max_size=6)), max_size=5)
                .map(" ".join), max_size=6).map("\n".join))
@FUZZ
def test_any_scenario_text_parses_or_names_its_line(text):
    COUNTS["scenario"] += 1
    try:
        parse_scenario(text)
    except ScenarioError as e:
        assert str(e).startswith("line ")


def teardown_module(module):
    out = os.environ.get("HEADROOM_FUZZ_STATS")
    if out:
        with open(out, "w") as f:
            json.dump(COUNTS, f)
