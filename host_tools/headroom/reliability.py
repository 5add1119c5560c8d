"""`make reliability`: the long runs of every safety check, and a table of what they did.

    python -m headroom.reliability [--examples N] [--fuzz N] [--saves N] [--json FILE]

1. the hypothesis state machine (tests/test_properties.py, profile `reliability`: random
   seeds, 50 steps, N examples over both boards): records checked by the trace checker,
   start-up cap boots, balance and hold-up checks, the worst supply-off edge to a silent
   jack, violations;
2. power cuts at every block operation of N settings saves on littlefs, per board
   (headroom.powercut): cut points, corruptions, boots from what was left;
3. fuzzing (tests/test_fuzz.py, random seeds): inputs and crashes per target;
4. turns down with bounce that outlasts the encoder's edges, outside its rating
   (headroom.knobmisreads): how often and how much the level still rose. A figure, not
   a pass or fail: no decoder can read such contacts.

Exit status 0 when every count of trouble is 0, else 1.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

from . import knobmisreads, powercut

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BOARDS = ["pico-se.json", "pico-balanced.json"]


def _pytest(test, env):
    e = dict(os.environ)
    e.update(env)
    p = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                        os.path.join(REPO, "tests", test)], cwd=REPO, env=e,
                       capture_output=True, text=True)
    return p.returncode, p.stdout[-3000:]


def run(examples, fuzz, saves, misreads=100):
    out = {"hypothesis": {"profile": "reliability", "examples": examples, "steps": 50,
                          "derandomize": False}}
    with tempfile.TemporaryDirectory() as tmp:
        stats = os.path.join(tmp, "props.json")
        rc, text = _pytest("test_properties.py", {"HYPOTHESIS_PROFILE": "reliability",
                                                  "REL_EXAMPLES": str(examples),
                                                  "HEADROOM_STATS": stats})
        out["properties"] = json.load(open(stats)) if os.path.exists(stats) else {}
        out["properties"]["passed"] = rc == 0
        if rc:
            out["properties"]["output"] = text
        fstats = os.path.join(tmp, "fuzz.json")
        rc, text = _pytest("test_fuzz.py", {"FUZZ_EXAMPLES": str(fuzz), "FUZZ_RANDOM": "1",
                                            "HEADROOM_FUZZ_STATS": fstats})
        counts = json.load(open(fstats)) if os.path.exists(fstats) else {}
        out["fuzz"] = {"inputs": counts, "failed_targets": 0 if rc == 0 else
                       text.count("FAILED "), "passed": rc == 0}
        if rc:
            out["fuzz"]["output"] = text
    out["misreads"] = knobmisreads.run(os.path.join(REPO, "boards", BOARDS[0]), misreads)
    out["powercut"] = {}
    for b in BOARDS:
        out["powercut"][b] = powercut.run(os.path.join(REPO, "boards", b), saves=saves,
                                          boot_every=4)
    return out


def table(r):
    p = r["properties"]
    lines = ["Reliability (hypothesis profile %s: %d examples x %d steps, random seeds)" % (
        r["hypothesis"]["profile"], r["hypothesis"]["examples"], r["hypothesis"]["steps"]), ""]
    per = p.get("examples", 0) or 1
    lines += ["| check | figure |", "|---|---|",
              "| state machine examples (%s) | %s |" % (
                  ", ".join("%s %d" % (k[:-5], v) for k, v in sorted(p.get("boards", {}).items())),
                  p.get("examples", 0)),
              "| trace records checked by every rule | %d (%d per example) |" % (
                  p.get("records", 0), p.get("records", 0) // per),
              "| host commands sent | %d |" % p.get("host_commands", 0),
              "| boots with a saved volume above the start-up cap | %d (%.0f per 100 examples) |" % (
                  p.get("cap_boots", 0), 100.0 * p.get("cap_boots", 0) / per),
              "| boots where the start-up cap held the level | %d |" % p.get("cap_tight", 0),
              "| settled left/right vs volume+balance checks | %d |" % p.get("balance_checks", 0),
              "| supply-off edges checked at the hold-up's end | %d |" % p.get("off_checks", 0),
              "| worst supply-off edge to a silent jack | %.2f ms |" % (
                  p.get("worst_silent_us", 0) / 1000),
              "| invariant violations | %d%s |" % (p.get("violations", 0),
                                                    "" if p.get("passed") else " (FAILED)")]
    for b, c in sorted(r["powercut"].items()):
        lines.append("| power cuts, %s: saves / block ops / cut points / boots | %d / %d / %d / %d |"
                     % (b[:-5], c["saves"], c["ops"], c["cut_points"], c["boots"]))
        lines.append("| power cuts, %s: corruptions / violations after boot | %d / %d |" % (
            b[:-5], c["corruptions"], c["violations"]))
    f = r["fuzz"]
    for target, n in sorted(f["inputs"].items()):
        lines.append("| fuzz %s: inputs | %d |" % (target, n))
    lines.append("| fuzz targets failing (crashes) | %d |" % f["failed_targets"])
    for dec, m in sorted(r.get("misreads", {}).items()):
        lines.append("| out of rating, %s decoder: fast turns down with bounce outlasting the "
                     "edges / rose / ended louder / worst rise / louder detents refused | "
                     "%d / %d / %d / %.1f dB / %d |" % (dec, m["runs"], m["rose"], m["ended_louder"],
                                                        m["worst_rise_cdb"] / 100, m["refused"]))
    return "\n".join(lines)


def trouble(r):
    p = r["properties"]
    bad = p.get("violations", 0) + (0 if p.get("passed") else 1) + r["fuzz"]["failed_targets"]
    bad += 0 if r["fuzz"]["passed"] else 1
    for c in r["powercut"].values():
        bad += c["corruptions"] + c["violations"] + len(c["problems"])
    return bad


def main(argv):
    ap = argparse.ArgumentParser(prog="python -m headroom.reliability")
    ap.add_argument("--examples", type=int, default=100)
    ap.add_argument("--fuzz", type=int, default=3000)
    ap.add_argument("--saves", type=int, default=200)
    ap.add_argument("--misreads", type=int, default=100)
    ap.add_argument("--json")
    a = ap.parse_args(argv)
    r = run(a.examples, a.fuzz, a.saves, a.misreads)
    print(table(r))
    for part in ("properties", "fuzz"):
        if r[part].get("output"):
            print("\n%s:\n%s" % (part, r[part]["output"]))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(r, f, indent=1)
    return 1 if trouble(r) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
