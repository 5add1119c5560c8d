"""`headroom headphones`: the built-in headphone profiles and the user's own, as lines
and tables. The sums are the firmware's (`headroom_fw.headphones`), so the host and
the board agree.

The built-in list, with a source for every figure, is `headphones.json` beside this
file: it stays on the host (17 KB of sources and notes). The user's own profiles, in
the same format, are `~/.config/headroom/headphones.json` (the platform's user config
folder; `--profiles FILE` names another): one with a built-in's name replaces it.
"""
import os

from .errors import BAD_INPUT, CommandError

BUILTIN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "headphones.json")
HOST_MAX_BYTES = 65536   # on the host; the board's own file is capped at headphones.MAX_BYTES


def _fw():
    from .firmware import pure
    return pure("headphones")


def user_file():
    from platformdirs import user_config_dir
    return os.path.join(user_config_dir("headroom"), "headphones.json")


def builtin():
    """The built-in profiles (every figure with its source)."""
    H = _fw()
    return H.load(BUILTIN, require_sources=True, max_bytes=HOST_MAX_BYTES)


def profiles(path=None):
    """(all profiles, set of the user's own names): the built-in ones merged with the
    user's file (`path`, else the default one when it exists); CommandError(BAD_INPUT)
    names the file, the profile and the field of a bad one."""
    H = _fw()
    own = []
    if path is None:
        path = user_file()
        if not os.path.exists(path):
            path = None
    try:
        base = builtin()
        if path is not None:
            own = H.load(path, max_bytes=HOST_MAX_BYTES)
    except H.ProfileError as e:
        raise CommandError(str(e), BAD_INPUT)
    return H.merge(base, own), set(hp.name for hp in own)


def find(profs, name):
    H = _fw()
    try:
        return H.find(profs, name)
    except H.ProfileError as e:
        raise CommandError(str(e), BAD_INPUT)


def command(hp):
    """The protocol line that makes `hp` the board's headphone: its figures inline, under
    its full name when the line has room (at most 96 characters, ASCII)."""
    H = _fw()
    head = "set headphone %s %s %s " % (_num(hp.z_ohm), _num(hp.sens), hp.unit)
    for name in (hp.label(), hp.name):
        if name.isascii() and len(name) <= H.NAME_MAX and len(head + name) <= 96:
            return head + name
    raise CommandError("headphone %r: the name does not fit the control protocol (ASCII, "
                       "at most %d characters)" % (hp.name, H.NAME_MAX), BAD_INPUT)


def _num(v):
    return ("%.4f" % v).rstrip("0").rstrip(".")


# ---------------------------------------------------------------- list

def entry(hp, own=False):
    """A profile for --json: the numbers in both units, the sources, the notes."""
    d = hp.summary()
    d["at_hz"] = hp.at_hz
    d["sources"] = hp.sources
    d["notes"] = hp.notes
    d["own"] = own
    return d


def list_line(hp, own=False):
    return "%-20s %-18s %-8s %5g ohm  %5.1f dB/mW  %5.1f dB/V%s" % (
        hp.name, hp.maker or "-", hp.kind or "-", hp.z_ohm, hp.db_mw, hp.db_v,
        "  (yours)" if own else "")


# ---------------------------------------------------------------- recommend

def report(hp, board, target_spl, outputs=None):
    """The firmware's recommendation with the headphone and board around it (--json)."""
    H = _fw()
    r = H.recommend(hp, board, target_spl, outputs)
    choice = dict(r["choice"])
    choice["why"] = r["why"]
    return {"headphone": entry(hp), "board": board.name, "target_spl": target_spl,
            "margin_db": H.MARGIN_DB, "hiss_threshold_db_spl": H.HISS_DB_SPL,
            "paths": r["paths"], "recommended": choice, "warnings": r["warnings"]}


def _clips(flag):
    return "CLIPS" if flag else "no"


def _damping(p):
    if p["damping"] is None:
        return "inf"
    return "%.0f%s" % (p["damping"], "" if p["eighth_rule"] else " (<8)")


def table(rep):
    """The report as a person reads it: a line per gain and output, then the choice."""
    hp = rep["headphone"]
    t = rep["target_spl"]
    label = hp["name"] if not hp["maker"] else hp["maker"] + " " + hp["name"]
    lines = [
        "%s (%s): %g ohm, %.1f dB/mW = %.1f dB/V" % (label, hp["type"] or "-", hp["impedance_ohm"],
                                                     hp["db_mw"], hp["db_v"]),
        "on %s, for peaks of %.0f dB SPL (a full-scale sine); hiss threshold %.0f dB SPL"
        % (rep["board"], t, rep["hiss_threshold_db_spl"]),
        "",
        "%-9s %-5s %-9s %-11s %-19s %-6s %-6s %-18s %-10s %s" % (
            "output", "gain", "max SPL", "limited by", "%.0f dB SPL at" % t, "V clip", "I clip",
            "noise floor", "hiss", "damping"),
    ]
    for p in rep["paths"]:
        lines.append("%-9s %-5s %-9s %-11s %-19s %-6s %-6s %-18s %-10s %s" % (
            p["output"], p["gain"], "%.1f dB" % p["max_spl"], p["limit"],
            "%+.1f dBV %.2f V" % (p["target_dbv"], p["target_vrms"]),
            _clips(p["voltage_clips"]), _clips(p["current_clips"]),
            "%+.1f dB SPL (%s)" % (p["noise_spl"], "A" if p["noise_weighting"] == "A" else "unw."),
            "AUDIBLE" if p["hiss"] else "inaudible", _damping(p)))
    c = rep["recommended"]
    if c["why"] == "short":
        head = "best: %s output, %s gain: at most %.1f dB SPL at %+.1f dBV (%.0f dB SPL is out of reach)" % (
            c["output"], c["gain"], c["max_spl"], c["max_dbv"], t)
    else:
        head = ("recommended: %s output, %s gain: %.0f dB SPL at %+.1f dBV (%.2f Vrms, %.1f mA, %.1f mW), "
                "%.1f dB to spare" % (c["output"], c["gain"], t, c["target_dbv"], c["target_vrms"],
                                      c["target_ma"], c["target_mw"], c["margin_db"]))
    head += "; noise floor %+.1f dB SPL, %s" % (c["noise_spl"], "audible" if c["hiss"] else "inaudible")
    lines += ["", head]
    for w in rep["warnings"]:
        lines.append("warning: " + w)
    return "\n".join(lines)
