"""`headroom headphones`: the built-in headphone profiles and the user's own, as lines
and tables, and the analysis only the host runs (every gain and output with one
headphone: `analyse`, `recommend`, `warnings`). The formulas (SPL, levels, divider)
and the profile parser are the firmware's (`headroom_fw.headphones`), so the host and
the board agree; what only the host needs lives here and does not ship.

The built-in list, with a source for every figure, is `headphones.json` beside this
file: it stays on the host (17 KB of sources and notes). The user's own profiles, in
the same format, are `~/.config/headroom/headphones.json` (the platform's user config
folder; `--profiles FILE` names another): one with a built-in's name replaces it.
"""
import math
import os

from .errors import BAD_INPUT, CommandError

BUILTIN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "headphones.json")
HOST_MAX_BYTES = 65536   # on the host; the board's own file is capped at headphones.MAX_BYTES
TARGET_SPL = 110.0       # dB SPL peaks: NwAvGuy, "More Power?" (2011): 110 dB, 105 pop, 115 dynamic
MARGIN_DB = 3.0          # headroom above the target before a gain counts as enough
HISS_DB_SPL = 0.0        # absolute threshold of hearing at 1 kHz (20 uPa; -9 dB SPL at 2-5 kHz)
DAMPING_MIN = 8.0        # NwAvGuy, "Headphone & Amp Impedance" (2011): Zo under 1/8 of Z
GAIN_NAMES = ("low", "high")
LIMITS = ("gain", "voltage", "current", "headphone", "pga")


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
    return merge(base, own), set(hp.name for hp in own)


def find(profs, name):
    H = _fw()
    try:
        return H.find(profs, name)
    except H.ProfileError as e:
        raise CommandError(str(e), BAD_INPUT)


def command(hp):
    """The protocol line that makes `hp` the board's headphone: its figures inline, under
    its full name when the line has room (at most protocol.MAX_LINE characters, ASCII)."""
    H = _fw()
    from .requests import set_headphone
    head = set_headphone("%s %s %s " % (_num(hp.z_ohm), _num(hp.sens), hp.unit))
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


# ---------------------------------------------------------------- analysis (host only)

def merge(builtin, own):
    """The built-in profiles with the user's own: one of theirs with a built-in's name
    replaces it (a correction, or their own measurement); the rest follow."""
    H = _fw()
    mine = {}
    for hp in own:
        mine[H._key(hp.name)] = hp
    out = []
    for hp in builtin:
        k = H._key(hp.name)
        out.append(mine.pop(k) if k in mine else hp)
    for hp in own:
        if H._key(hp.name) in mine:
            out.append(hp)
    return out


def paths(board, outputs=None):
    """(gain, output) pairs in order of preference: less gain first (keep the gain low,
    the volume high), then single-ended before balanced (any cable fits it)."""
    _fw()
    from headroom_fw.board import GAIN_HIGH, GAIN_LOW, OUTPUT_BALANCED, OUTPUT_SE
    gains = [GAIN_LOW]
    if board.gain_relay is not None:
        gains = [GAIN_LOW, GAIN_HIGH] if board.gain_cdb[GAIN_LOW] <= board.gain_cdb[GAIN_HIGH] \
            else [GAIN_HIGH, GAIN_LOW]
    outs = [o for o in (OUTPUT_SE, OUTPUT_BALANCED) if o in board.outputs
            and (outputs is None or o in outputs)]
    return [(g, o) for g in gains for o in outs]


def analyse(hp, board, gain, output, target_spl=TARGET_SPL):
    """One gain and output with one headphone: the loudest it goes and what stops it,
    what the target needs (level, Vrms, mA, mW) and whether that clips, the noise
    floor in dB SPL and whether hiss would be heard, the damping factor."""
    H = _fw()
    from headroom_fw.volume import path_max_hdb
    st = H.stage(board, output)
    z = hp.z_ohm
    zo = st.z_out_ohm
    path = board.path_cdb(gain, output)
    caps = [
        # The PGA2311 at +31.5 dB with this path's gain (no output stage limit).
        ("gain", path_max_hdb(path, 1 << 24) / 2.0),
        # The firmware's 0.5 dB grid under max_output_dbv, and the stage's max_vrms.
        ("voltage", min((board.max_out_cdb[output] // 50) / 2.0, H.dbv_from_vrms(st.max_vrms))),
        ("current", H.dbv_from_vrms(st.max_ma / 1000.0 * (z + zo))),
    ]
    if board.pga_max_cdb is not None:
        caps.append(("pga", board.top_hdb(gain, output) / 2.0))
    if hp.max_vrms is not None:
        caps.append(("headphone", H.dbv_from_vrms(hp.max_vrms * (z + zo) / z)))
    limit, top = caps[0]
    for name, cap in caps[1:]:
        if cap < top:
            limit, top = name, cap
    need = H.level_for_spl(hp, target_spl, zo)
    v = H.vrms_from_dbv(need)
    noise = st.noise_uvrms[gain]
    noise_spl = H.spl_at_level(hp, H.dbv_from_vrms(noise * 1e-6), zo)
    r = {
        "output": H.OUTPUT_NAMES[output], "gain": GAIN_NAMES[gain],
        "path_db": path / 100.0, "max_dbv": top, "max_spl": H.spl_at_level(hp, top, zo), "limit": limit,
        "target_spl": target_spl, "target_dbv": need, "target_vrms": v,
        "target_ma": v / (z + zo) * 1000.0, "target_mw": H.mw_from_vrms(v * z / (z + zo), z),
        "reaches": need <= top, "margin_db": top - need,
        "above_limit": need > board.limit_hdb / 2.0,
        "noise_uvrms": noise, "noise_weighting": st.noise_weighting, "noise_spl": noise_spl,
        "hiss": noise_spl >= HISS_DB_SPL,
        "z_out_ohm": zo, "damping": z / zo if zo > 0 else None, "eighth_rule": zo * DAMPING_MIN <= z,
    }
    for name, cap in caps:
        r[name + "_clips"] = need > cap   # gain_clips: too little gain to get there
    if "headphone_clips" not in r:
        r["headphone_clips"] = False
    return r


def recommend(hp, board, target_spl=TARGET_SPL, outputs=None, margin_db=MARGIN_DB):
    """Every path, and the one to use: the first (in `paths` order: least gain, then
    single-ended) that reaches the target with `margin_db` to spare; else the first
    that reaches it at all; else the loudest. `outputs`: only these (the user's cable).
    Returns {"paths": [...], "choice": one of them, "why": "margin"|"tight"|"short",
    "warnings": [...]}."""
    H = _fw()
    pairs = paths(board, outputs)
    if not pairs:
        raise H.BoardError("analog.outputs: the board has none of the outputs asked for")
    results = [analyse(hp, board, g, o, target_spl) for g, o in pairs]
    choice = None
    why = "margin"
    for r in results:
        if r["margin_db"] >= margin_db:
            choice = r
            break
    if choice is None:
        why = "tight"
        for r in results:
            if r["reaches"]:
                choice = r
                break
    if choice is None:
        why = "short"
        choice = results[0]
        for r in results[1:]:
            if r["max_spl"] > choice["max_spl"] + 1e-9:
                choice = r
    return {"paths": results, "choice": choice, "why": why,
            "warnings": warnings(hp, board, choice, why, margin_db)}


def warnings(hp, board, r, why, margin_db=MARGIN_DB):
    """What a listener should know about a path, in words."""
    out = []
    if why == "short":
        out.append("cannot reach %.0f dB SPL: at most %.1f dB SPL, limited by %s"
                   % (r["target_spl"], r["max_spl"], _limit_text(r["limit"])))
    elif why == "tight":
        out.append("reaches %.0f dB SPL with only %.1f dB to spare (%.0f dB wanted), limited by %s"
                   % (r["target_spl"], r["margin_db"], margin_db, _limit_text(r["limit"])))
    if r["hiss"]:
        out.append("noise floor %.1f dB SPL is above the threshold of hearing (%.0f dB SPL): "
                   "hiss may be heard in quiet passages" % (r["noise_spl"], HISS_DB_SPL))
    if not r["eighth_rule"]:
        out.append("output impedance %.2f ohm is more than 1/8 of %g ohm (damping factor %.1f, "
                   "under %g): the response may follow the headphone's impedance curve "
                   "(NwAvGuy's 1/8 rule)" % (r["z_out_ohm"], hp.z_ohm, r["damping"], DAMPING_MIN))
    if r["reaches"] and r["above_limit"]:
        out.append("%.0f dB SPL needs %+.1f dBV, above the board's volume limit (%+.1f dBV): "
                   "raise it with `headroom set limit`, confirmed by a long press"
                   % (r["target_spl"], r["target_dbv"], board.limit_hdb / 2.0))
    return out


def _limit_text(limit):
    return {"gain": "the gain (the PGA2311 at +31.5 dB)", "voltage": "the output stage's voltage",
            "current": "the output stage's current", "headphone": "the headphone's rated input",
            "pga": "the PGA2311's output swing"}[limit]


def level_hdb_for_spl(hp, board, output, spl):
    """The highest volume setting (hdB: 0.5 dB steps) whose SPL on this output does not
    exceed `spl`: a limit in dB SPL as a limit the controller already knows."""
    H = _fw()
    return int(math.floor(H.level_for_spl(hp, spl, H.stage(board, output).z_out_ohm) * 2))


def spl_at_hdb(hp, board, output, level_hdb):
    """SPL of a full-scale sine at a volume setting (hdB) on this output."""
    H = _fw()
    return H.spl_at_level(hp, level_hdb / 2.0, H.stage(board, output).z_out_ohm)


# ---------------------------------------------------------------- recommend

def report(hp, board, target_spl, outputs=None):
    """The recommendation with the headphone and board around it (--json)."""
    r = recommend(hp, board, target_spl, outputs)
    choice = dict(r["choice"])
    choice["why"] = r["why"]
    return {"headphone": entry(hp), "board": board.name, "target_spl": target_spl,
            "margin_db": MARGIN_DB, "hiss_threshold_db_spl": HISS_DB_SPL,
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
