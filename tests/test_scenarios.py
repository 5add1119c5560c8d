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
def test_recorded_trace_keeps_every_safety_rule(name, board, script, expected):
    """Read back from the recording alone, through the same checker as every live run."""
    with open(expected) as f:
        text = f.read()
    header = json.loads(text.splitlines()[0])
    assert header == {"trace": 2, "board": board.rsplit("/", 1)[1]}
    bad = golden.violations(board, text)
    assert bad == [], "\n".join("%d us %s: %s" % v for v in bad)


def test_the_checker_catches_a_relay_moving_with_the_mute_relay_closed():
    """A broken recording (the gain relay moved under a closed mute relay) is refused."""
    name, board, script, expected = CASES[0]
    lines = open(expected).read().splitlines()
    recs = [json.loads(x) for x in lines[1:]]
    gain = [r["state"]["energized"] for r in recs if r.get("chip") == "relay.gain"][-1]
    t = recs[-1]["t_us"] + 1
    bad = lines + [
        json.dumps({"t_us": t, "kind": "chip", "chip": "relay.mute", "state": {"energized": True}}),
        json.dumps({"t_us": t + 1, "kind": "chip", "chip": "relay.gain",
                    "state": {"energized": not gain}})]
    assert [v[1] for v in golden.violations(board, "\n".join(bad))] == ["relay-under-mute"]


def test_every_board_has_a_default_scenario():
    import os
    names = {c[0] for c in CASES}
    for f in os.listdir(golden.BOARDS):
        if f.endswith(".json"):
            assert f[:-5] in names, "boards/%s has no tests/scenarios/%s.scn" % (f, f[:-5])
