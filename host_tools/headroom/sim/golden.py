"""Expected traces of the scenario files in tests/scenarios.

Each NAME.scn runs on the board whose file name is the longest prefix of NAME
(pico-se-glitch.scn runs on boards/pico-se.json) and must produce NAME.trace.jsonl
byte for byte. `python -m headroom.sim.golden --update` (make golden) records
them again after an intended change; review the diff before committing it. A trace
that breaks a safety rule (sim/invariants.py) is never recorded: re-recording cannot
bless a bug, and the recorded ones are checked against the rules too.
"""
import io
import os
import sys

from .run import run_script
from .simboard import FIRMWARE_DIR

REPO = os.path.dirname(FIRMWARE_DIR)
SCENARIOS = os.path.join(REPO, "tests", "scenarios")
BOARDS = os.path.join(REPO, "boards")


def board_for(name):
    stems = [b[:-5] for b in os.listdir(BOARDS) if b.endswith(".json")]
    fits = [s for s in stems if name == s or name.startswith(s + "-")]
    if not fits:
        raise ValueError("%s.scn: no board file matches its name" % name)
    return os.path.join(BOARDS, max(fits, key=len) + ".json")


def cases():
    """(name, board path, script path, expected trace path) of every scenario file."""
    out = []
    for f in sorted(os.listdir(SCENARIOS)):
        if f.endswith(".scn"):
            name = f[:-4]
            out.append((name, board_for(name), os.path.join(SCENARIOS, f),
                        os.path.join(SCENARIOS, name + ".trace.jsonl")))
    return out


def trace_of(board, script):
    """(trace text, Result) of a scenario run."""
    with open(script) as f:
        text = f.read()
    sink = io.StringIO()
    result = run_script(board, text, trace_sink=sink)
    return sink.getvalue(), result


def violations(board_path, text):
    """The safety rules a trace breaks, read from its text alone (sim/invariants.py)."""
    import json

    from .invariants import Checker
    from .simboard import use_firmware
    use_firmware()
    from headroom_fw import board as boardfile
    c = Checker(boardfile.load(board_path))
    for line in text.splitlines()[1:]:
        c.feed(json.loads(line))
    return c.violations


def first_difference(expected, actual, context=2):
    """A readable account of where two traces first diverge, or None if equal."""
    a, b = expected.splitlines(), actual.splitlines()
    for i in range(max(len(a), len(b))):
        x = a[i] if i < len(a) else "<end of trace>"
        y = b[i] if i < len(b) else "<end of trace>"
        if x != y:
            lines = ["first difference at record %d:" % (i + 1)]
            for j in range(max(0, i - context), i):
                lines.append("    same:     " + a[j])
            lines.append("  - expected: " + x)
            lines.append("  + actual:   " + y)
            return "\n".join(lines)
    return None


def main(argv):
    update = "--update" in argv
    bad = 0
    for name, board, script, expected in cases():
        actual, result = trace_of(board, script)
        if result.failures or result.crashes:
            print("%s: the scenario itself fails: %r %r" % (name, result.failures, result.crashes))
            bad = 1
            continue
        bad_rules = violations(board, actual)
        if bad_rules:
            print("%s: the trace breaks safety rules, not recorded:" % name)
            for t, rule, msg in bad_rules:
                print("  %9.3f ms %s: %s" % (t / 1000, rule, msg))
            bad = 1
            continue
        if update:
            with open(expected, "w") as f:
                f.write(actual)
            print("%s: recorded %d records" % (name, actual.count("\n")))
            continue
        try:
            with open(expected) as f:
                want = f.read()
        except OSError:
            want = ""
        diff = first_difference(want, actual)
        print("%s: %s" % (name, "ok" if diff is None else diff))
        bad |= diff is not None
    return bad


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
