"""The control protocol, through the simulated USB serial port of a running board.

Every line gets exactly one reply; a reply {"ok": false} changes nothing; {"ok": true}
sets exactly what was asked; hypothesis-generated lines (text and binary) never
crash the firmware.
"""
import json

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from headroom.sim.simboard import SimBoard
from headroom_fw import protocol

from helpers import BALANCED, SE, ask, long_press, playing


@pytest.fixture
def board():
    b = playing(BALANCED, keep_trace=False)
    yield b
    b.close()


HEALTH = ("firmware", "uptime_s", "reset_cause", "heap_free", "worst_pass_us", "faults",
          "settings_error", "log_bytes", "inputs")


def status(b):
    """The settings in `status` (the state and the health fields taken out)."""
    s = ask(b, "status")
    assert s.pop("ok") is True
    s.pop("phase")
    for k in ("trigger", "signal", "rate"):   # the state, as the phase: the trigger rises its
        s.pop(k)                               # delay after the outputs play; the signal, its
                                               # rate: what the DAC sees now
    for k in HEALTH:
        s.pop(k)
    return s


def test_status_carries_the_boards_health(board):
    from headroom_fw.version import VERSION
    s = ask(board, "status")
    assert s["firmware"] == VERSION and s["reset_cause"] == "power-on" and s["faults"] == []
    assert 2 <= s["uptime_s"] <= 3                    # 2.6 s simulated since power-on
    assert 0 < s["worst_pass_us"] < 20000             # the cost model's passes, not zero
    assert s["log_bytes"] == 0 and isinstance(s["heap_free"], int)
    assert s["settings_error"] is None                # every save so far written
    # The board's inputs, untouched since boot: nothing seen (PIO decoder: no skips figure).
    assert s["inputs"] == {"encoder": {"bounces": 0, "skips": None, "refused": 0},
                           "button": {"bounces": 0, "held_since_boot": False},
                           "gain_switch": {"bounces": 0}, "output_switch": {"bounces": 0}}


def test_status_and_get(board):
    s = status(board)
    assert s == {"volume": -30.0, "balance": 0.0, "gain": "low", "gain_stage": "low",
                 "output": "se", "mute": False, "standby": False, "input": "USB", "trim": 0.0,
                 "limit": 6.0, "spl": None,
                 "spl_limit": 100.0, "gain_headroom": 3.0, "headphone": None, "mode": "volume"}
    for name, value in s.items():
        if name != "mode":
            assert ask(board, "get " + name) == {"ok": True, name: value}
    from headroom_fw.version import VERSION
    assert ask(board, "version") == {"ok": True, "protocol": 1, "firmware": VERSION}


@pytest.mark.parametrize("line,name,value", [
    ("set volume -20", "volume", -20.0), ("set volume -40.5", "volume", -40.5),
    ("set balance -2.5", "balance", -2.5), ("set gain high", "gain", "high"),
    ("set output balanced", "output", "balanced"), ("set mute on", "mute", True),
    ("set limit -10", "limit", -10.0)])
def test_valid_commands_round_trip(board, line, name, value):
    assert ask(board, line, 100) == {"ok": True, name: value}
    assert ask(board, "get " + name) == {"ok": True, name: value}


def test_a_volume_rise_from_the_host_fades_in(board):
    ask(board, "set volume -10", 15)
    levels = []
    for _ in range(60):
        board.run_ms(5)
        levels.append(board.jack.levels[0])
    rises = [b - a for a, b in zip(levels, levels[1:]) if a is not None and b is not None and b > a]
    assert rises and max(rises) <= board.board.ramp_step_hdb * 50 + 1
    assert board.jack.levels[0] == -1000 - 6   # -10 dBV, 0.06 dB under on this path


def test_the_host_cannot_raise_the_limit_without_a_long_press(board):
    assert ask(board, "set limit -10")["ok"] is True
    r = ask(board, "set limit 0")
    assert r["ok"] is False and "long press" in r["error"]
    assert ask(board, "get limit")["limit"] == -10.0
    assert ask(board, "set volume -5")["ok"] is False    # above the limit
    board.press(True)
    board.run_ms(board.board.long_press_ms + 100)
    board.press(False)
    board.run_ms(100)
    assert ask(board, "get limit")["limit"] == 0.0
    assert ask(board, "get volume")["volume"] <= -10.0   # the raise changed no level
    assert status(board)["mode"] == "volume"            # the press confirmed, not balance mode


def test_a_late_long_press_does_not_confirm(board):
    ask(board, "set limit -10")
    ask(board, "set limit 0")
    board.run_ms(11000)
    board.press(True)
    board.run_ms(board.board.long_press_ms + 100)
    board.press(False)
    board.run_ms(100)
    assert ask(board, "get limit")["limit"] == -10.0


def test_set_defaults_within_the_limit_applies_at_once(board):
    for line in ("set volume -40", "set balance 2", "set output balanced", "set limit 6"):
        assert ask(board, line, 100)["ok"] is True
    assert ask(board, "set defaults", 100) == {"ok": True, "defaults": True}
    board.run_ms(500)
    s = status(board)
    assert (s["volume"], s["balance"], s["limit"]) == (-30.0, 0.0, 6.0)
    assert s["output"] == "balanced"  # the output switch sets the output on this board


def test_set_defaults_that_raise_the_limit_wait_for_a_long_press(board):
    assert ask(board, "set limit -35")["ok"] is True
    ask(board, "set balance 1.5")
    before = status(board)
    r = ask(board, "set defaults")
    assert r["ok"] is False and "long press" in r["error"] and "6.0 dBV" in r["error"]
    assert status(board) == before                      # nothing changed yet
    long_press(board)
    board.run_ms(500)
    s = status(board)
    assert (s["volume"], s["balance"], s["limit"], s["mode"]) == (-30.0, 0.0, 6.0, "volume")


def test_out_of_range_volume_names_the_range_in_dbv(board):
    r = ask(board, "set volume 99")
    assert r["ok"] is False and r["error"] == "volume: outside -80.0..6.0 dBV"


def test_events_only_while_monitoring(board):
    events = lambda: [x for x in board.console.out if x.startswith('{"event"')]  # noqa: E731
    board.run_us(board.turn(2, rate=5))
    board.run_ms(100)
    assert events() == []
    assert ask(board, "monitor on") == {"ok": True, "monitor": True}
    board.run_us(board.turn(2, rate=5))
    board.run_ms(100)
    got = [json.loads(x) for x in events()]
    assert got and got[-1]["event"] == "state" and got[-1]["volume"] == -28.0  # two turns of +1 dB
    ask(board, "monitor off")
    n = len(events())
    board.run_us(board.turn(2, rate=5))
    board.run_ms(100)
    assert len(events()) == n


@pytest.mark.parametrize("line", [
    "", " ", "bogus", "set", "set volume", "set volume loud", "set volume -20.3",
    "set volume 99", "set volume -999", "set balance 11", "set gain medium",
    "set output xlr", "set mute maybe", "get", "get everything", "status now",
    "set volume -20 extra", "SET VOLUME -20", "set volume 1e1", "set volume -0x10",
    "set volume ²", "x" * 300, "set\tvolume\t-20\t-1"])
def test_bad_lines_change_nothing(board, line):
    before = status(board)
    board.console.send(line + "\n")
    board.run_ms(30 + len(line) // 4)  # the loop reads at most 64 bytes per 10 ms pass
    after = status(board)
    assert after == before, line


def test_binary_garbage_is_refused(board):
    before = status(board)
    r = ask(board, "set vol\x00ume -20")
    assert r["ok"] is False and "text" in r["error"]
    board.console.send(bytes(range(256)) + b"\n")
    board.run_ms(100)
    assert status(board) == before
    assert not board.sim.faults and not board.sim.crashes


def test_parse_hdb():
    assert protocol.parse_hdb("-20") == -40
    assert protocol.parse_hdb("-20.5") == -41
    assert protocol.parse_hdb("+3.50") == 7
    assert protocol.parse_hdb("0.0") == 0
    for bad in ("", "-", ".5", "1.", "1.25", "1e1", "--1", "1000", "abc", "²"):
        assert protocol.parse_hdb(bad) is None, bad


lines = st.one_of(
    st.text(alphabet=st.characters(min_codepoint=1, max_codepoint=0x2FF), max_size=60),
    st.builds(lambda w, v: "%s %s" % (w, v),
              st.sampled_from(["set volume", "set balance", "set limit", "set gain", "set output",
                               "set mute", "get", "get volume", "status", "monitor"]),
              st.one_of(st.sampled_from(["on", "off", "high", "low", "se", "balanced", "-20",
                                         "-20.5", "3", "99", "-0.5"]),
                        st.text(max_size=8))),
)


@settings(max_examples=25)
@given(st.lists(st.one_of(lines, st.binary(max_size=40)), min_size=1, max_size=12))
@example([b""])      # no reply
@example([b" "])     # "empty line"
@example([b"\t"])    # "not a text line"
def test_random_lines_never_crash_and_errors_change_nothing(seq):
    b = SimBoard(SE, keep_trace=False)
    try:
        b.power(True)
        b.run_ms(2600)
        for item in seq:
            data = item.encode("utf-8") if isinstance(item, str) else item
            data = data.replace(b"\n", b" ").replace(b"\r", b" ")
            before = status(b)
            n = len(b.console.replies())
            b.console.send(data + b"\n")
            b.run_ms(300)
            new = b.console.replies()[n:]
            assert len(new) <= 1
            if not data:
                # Only an empty line goes unanswered: spaces are an "empty line" error, a tab
                # or any other control byte "not a text line".
                assert new == []
                continue
            assert len(new) == 1, (data, new)
            r = json.loads(new[0])
            after = status(b)
            if r["ok"] is False or "volume" not in r and "balance" not in r and set(r) <= {
                    "ok", "protocol", "firmware", "monitor", "log"}:
                if r["ok"] is False:
                    assert after == before, (data, r)
            else:
                for k, v in r.items():
                    if k in after:
                        assert after[k] == v, (data, r, after)
        assert not b.sim.faults and not b.sim.crashes
    finally:
        b.close()
