"""The scenario files in tests/scenarios: their expectations hold and their traces are as recorded."""
import json

import pytest

from headroom.sim import golden

CASES = golden.cases()


@pytest.mark.parametrize("name,board,script,expected", CASES, ids=[c[0] for c in CASES])
def test_scenario_trace_matches_recording(name, board, script, expected):
    actual, result = golden.trace_of(board, script)
    assert not result.failures, result.failures
    assert not result.crashes and not result.faults
    with open(expected) as f:
        want = f.read()
    diff = golden.first_difference(want, actual)
    assert diff is None, "%s.scn: trace differs from %s (run `make golden` if intended)\n%s" % (
        name, expected, diff)


@pytest.mark.parametrize("name,board,script,expected", CASES, ids=[c[0] for c in CASES])
def test_recorded_trace_keeps_relays_under_mute(name, board, script, expected):
    """Read back from the recording alone: gain/output contacts move only while the mute relay is open."""
    mute_closed = False
    with open(expected) as f:
        header = json.loads(f.readline())
        assert header == {"trace": 1, "board": board.rsplit("/", 1)[1]}
        for line in f:
            r = json.loads(line)
            if r["kind"] != "chip" or not r["chip"].startswith("relay."):
                continue
            if r["chip"] == "relay.mute":
                mute_closed = r["state"]["energized"]
            elif r["t_us"] > 0:
                assert not mute_closed, "%s moved at %d us with the mute relay closed" % (
                    r["chip"], r["t_us"])


def test_every_board_has_a_default_scenario():
    import os
    names = {c[0] for c in CASES}
    for f in os.listdir(golden.BOARDS):
        if f.endswith(".json"):
            assert f[:-5] in names, "boards/%s has no tests/scenarios/%s.scn" % (f, f[:-5])
