"""Headphones on a board: loudness, clipping, the gain to use, hiss, damping.

A profile gives the headphone's impedance Z (ohm) and its sensitivity: dB SPL for
1 mW (dB/mW) or for 1 Vrms (dB/V). The two convert through Z, since 1 Vrms into Z
is 1000/Z mW:

    dB/V = dB/mW + 10*log10(1000 / Z)

The level at the jack L (dBV: the firmware's volume, the open-circuit voltage a
full-scale sine gives) reaches the headphone through the output impedance Zo, a
divider:

    SPL = dB/V + L + 20*log10(Z / (Z + Zo))

SPL here is that of a full-scale sine: the loudest peak a recording can have.
The level is capped by the PGA2311's range with the path's gain ("gain"), by the
stage's voltage ("voltage": max_vrms, and the firmware's 0.5 dB grid under
max_output_dbv), by its current ("current": I = L / (Z + Zo), the headphone's own
voltage over Z) and by the headphone's rated maximum input when its profile has one
("headphone"). The noise floor is the board's output noise through the same sums.

Pure: floats and dicts, no `machine`; MicroPython's subset (no dataclasses, typing
or enum). Floats allocate on MicroPython, so call this from the main loop when the
profile, gain or output changes, never from an IRQ.
"""
import json
import math

from .board import BoardError, closest, too_deep

FILE = "headphones.json"  # the user's own profiles on the board, beside board.json
FORMAT = 1               # the "headphones" version of a profile file
SENS_MIN_DB_MW = 70.0    # plausible sensitivities, in dB/mW whatever the unit given
SENS_MAX_DB_MW = 135.0
Z_MAX_OHM = 10000.0
MAX_BYTES = 8192         # a profile file on the board; the host passes a larger cap
MAX_DEPTH = 5            # {profiles: [{sensitivity: {...}}]} nests 4 deep
NAME_MAX = 40
KINDS = ("iem", "dynamic", "planar")
UNITS = ("dB/mW", "dB/V")
MAX_UNITS = ("mW", "Vrms")
OUTPUT_NAMES = ("se", "balanced")

_KEYS = {
    "file": ("headphones", "profiles"),
    "profile": ("name", "maker", "type", "impedance", "sensitivity", "max_input", "notes"),
    "impedance": ("ohm", "source", "url"),
    "sensitivity": ("value", "unit", "at_hz", "source", "url"),
    "max_input": ("value", "unit", "source", "url"),
}
_FIGURES = ("impedance", "sensitivity", "max_input")


class ProfileError(ValueError):
    pass


# ---------------------------------------------------------------- the formulas

def db_v_from_db_mw(db_mw, z_ohm):
    """Sensitivity per volt from sensitivity per milliwatt, through the impedance."""
    return db_mw + 10 * math.log10(1000.0 / z_ohm)


def db_mw_from_db_v(db_v, z_ohm):
    return db_v - 10 * math.log10(1000.0 / z_ohm)


def mw_from_vrms(vrms, z_ohm):
    return vrms * vrms / z_ohm * 1000.0


def vrms_from_mw(mw, z_ohm):
    return math.sqrt(mw / 1000.0 * z_ohm)


def dbv_from_vrms(vrms):
    return 20 * math.log10(vrms)


def vrms_from_dbv(dbv):
    return 10 ** (dbv / 20.0)


def spl_from_mw(db_mw, mw):
    return db_mw + 10 * math.log10(mw)


def spl_from_vrms(db_v, vrms):
    return db_v + 20 * math.log10(vrms)


def divider_db(z_ohm, z_out_ohm):
    """What the output impedance takes off the level the headphone sees (<= 0 dB)."""
    return 20 * math.log10(z_ohm / (z_ohm + z_out_ohm))


def spl_at_level(hp, level_dbv, z_out_ohm=0.0):
    """SPL of a full-scale sine at a level at the jack (dBV, open circuit)."""
    return hp.db_v + level_dbv + divider_db(hp.z_ohm, z_out_ohm)


def level_for_spl(hp, spl, z_out_ohm=0.0):
    """The level at the jack (dBV) that gives `spl`: the inverse of spl_at_level."""
    return spl - hp.db_v - divider_db(hp.z_ohm, z_out_ohm)


# ---------------------------------------------------------------- profiles

class Headphone:
    """A validated profile. Sensitivity in both units (`db_v`, `db_mw`, plus the figure
    as given: `sens`, `unit`); the rated maximum input, if any, in both (`max_mw`,
    `max_vrms`, across the headphone); `sources` maps a figure to its source."""

    def __init__(self, name, z_ohm, sens, unit, maker=None, kind=None, max_input=None,
                 max_unit=None, at_hz=None, notes=None, sources=None):
        self.name = name
        self.maker = maker
        self.kind = kind
        self.z_ohm = float(z_ohm)
        self.sens = float(sens)
        self.unit = unit
        if unit == "dB/V":
            self.db_v = self.sens
            self.db_mw = db_mw_from_db_v(self.sens, self.z_ohm)
        else:
            self.db_mw = self.sens
            self.db_v = db_v_from_db_mw(self.sens, self.z_ohm)
        self.at_hz = at_hz
        self.max_input = None if max_input is None else float(max_input)
        self.max_unit = max_unit
        self.max_mw = None
        self.max_vrms = None
        if self.max_input is not None:
            if max_unit == "Vrms":
                self.max_vrms = self.max_input
                self.max_mw = mw_from_vrms(self.max_input, self.z_ohm)
            else:
                self.max_mw = self.max_input
                self.max_vrms = vrms_from_mw(self.max_input, self.z_ohm)
        self.notes = notes
        self.sources = sources or {}

    def label(self):
        return self.name if not self.maker else self.maker + " " + self.name

    def compact(self):
        """The profile as a profile-file entry without sources or notes: what the board
        keeps of the active headphone (parse_profile reads it back)."""
        d = {"name": self.name, "impedance": {"ohm": self.z_ohm},
             "sensitivity": {"value": self.sens, "unit": self.unit}}
        if self.maker:
            d["maker"] = self.maker
        if self.kind:
            d["type"] = self.kind
        if self.max_input is not None:
            d["max_input"] = {"value": self.max_input, "unit": self.max_unit}
        return d

    def summary(self):
        """Numbers for a report: both sensitivity units, the rating in both."""
        return {"name": self.name, "maker": self.maker, "type": self.kind, "impedance_ohm": self.z_ohm,
                "db_mw": self.db_mw, "db_v": self.db_v, "unit_given": self.unit,
                "max_mw": self.max_mw, "max_vrms": self.max_vrms}


def _fail(where, field, msg):
    raise ProfileError("%s: %s: %s" % (where, field, msg))


def _check_keys(d, kind, where, prefix):
    known = _KEYS[kind]
    for k in d:
        if k not in known:
            guess = closest(k, known) if isinstance(k, str) else None
            _fail(where, prefix + str(k), "unknown field" + (
                " (did you mean %s%s?)" % (prefix, guess) if guess else ""))


def _is_num(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool) and v - v == 0


def _num(d, key, where, field, lo, hi, required=True, lo_open=False):
    v = d.get(key)
    if v is None:
        if required:
            _fail(where, field, "missing")
        return None
    if not _is_num(v):
        _fail(where, field, "must be a number, got %r" % (v,))
    if lo_open and (v <= lo or v > hi):
        _fail(where, field, "must be above %g and at most %g, got %r" % (lo, hi, v))
    if v < lo or v > hi:
        _fail(where, field, "%r is outside %g..%g" % (v, lo, hi))
    return v


def _str(d, key, where, field, required=False, choices=None):
    v = d.get(key)
    if v is None:
        if required:
            _fail(where, field, "missing")
        return None
    if not isinstance(v, str) or not v.strip():
        _fail(where, field, "must be a non-empty string, got %r" % (v,))
    if choices and v not in choices:
        _fail(where, field, "must be one of %s, got %r" % (", ".join(choices), v))
    return v


def _figure(d, key, where, required, require_sources, sources):
    f = d.get(key)
    if f is None:
        if required:
            _fail(where, key, "missing")
        return None
    if not isinstance(f, dict):
        _fail(where, key, "must be an object")
    _check_keys(f, key, where, key + ".")
    src = _str(f, "source", where, key + ".source", require_sources)
    if src is not None:
        sources[key] = src
    _str(f, "url", where, key + ".url")
    return f


def parse_profile(d, where="profile", require_sources=False):
    """A Headphone from one profile entry; ProfileError names the profile and the field.
    `require_sources`: every figure must say where it comes from (the built-in list)."""
    if not isinstance(d, dict):
        raise ProfileError("%s: must be an object" % where)
    name = d.get("name")
    if isinstance(name, str) and name.strip():
        where = "%s %r" % (where, name)
    _check_keys(d, "profile", where, "")
    name = _str(d, "name", where, "name", True)
    if len(name) > NAME_MAX:
        _fail(where, "name", "longer than %d characters" % NAME_MAX)
    maker = _str(d, "maker", where, "maker")
    kind = _str(d, "type", where, "type", False, KINDS)
    notes = _str(d, "notes", where, "notes")
    sources = {}  # type: dict[str, str]
    imp = _figure(d, "impedance", where, True, require_sources, sources)
    z = _num(imp, "ohm", where, "impedance.ohm", 0, Z_MAX_OHM, lo_open=True)
    sens = _figure(d, "sensitivity", where, True, require_sources, sources)
    unit = sens.get("unit")
    if unit is None:
        _fail(where, "sensitivity.unit", "missing: dB/mW or dB/V (the same number is "
              "%.1f dB apart at %g ohm)" % (10 * math.log10(1000.0 / z), z))
    _str(sens, "unit", where, "sensitivity.unit", True, UNITS)
    s = _num(sens, "value", where, "sensitivity.value", -1000, 1000)
    at_hz = _num(sens, "at_hz", where, "sensitivity.at_hz", 10, 100000, False)
    db_mw = s if unit == "dB/mW" else db_mw_from_db_v(s, z)
    if not SENS_MIN_DB_MW <= db_mw <= SENS_MAX_DB_MW:
        _fail(where, "sensitivity.value", "%g %s%s, outside the plausible %g..%g dB/mW (is the "
              "unit right?)" % (s, unit, "" if unit == "dB/mW" else " at %g ohm is %.1f dB/mW"
                                % (z, db_mw), SENS_MIN_DB_MW, SENS_MAX_DB_MW))
    mx = _figure(d, "max_input", where, False, require_sources, sources)
    m = munit = None
    if mx is not None:
        if mx.get("unit") is None:
            _fail(where, "max_input.unit", "missing: mW or Vrms")
        munit = _str(mx, "unit", where, "max_input.unit", True, MAX_UNITS)
        if munit == "mW":
            m = _num(mx, "value", where, "max_input.value", 0, 100000, lo_open=True)
        else:
            m = _num(mx, "value", where, "max_input.value", 0, 100, lo_open=True)
    return Headphone(name, z, s, unit, maker, kind, m, munit, at_hz, notes, sources)


def _key(s):
    """A name as it is looked up: lower case, letters and digits only ("HD 600" = "hd600")."""
    out = ""
    for c in s.lower():
        if c.isalpha() or c.isdigit():
            out += c
    return out


def parse_file(obj, where="headphones", require_sources=False):
    """The profiles of a parsed profile file: {"headphones": 1, "profiles": [...]}."""
    if not isinstance(obj, dict):
        raise ProfileError('%s: must be an object: {"headphones": 1, "profiles": [...]}' % where)
    for k in obj:
        if k not in _KEYS["file"]:
            guess = closest(k, _KEYS["file"]) if isinstance(k, str) else None
            raise ProfileError("%s: %s: unknown field%s" % (
                where, k, " (did you mean %s?)" % guess if guess else ""))
    if isinstance(obj.get("headphones"), bool) or obj.get("headphones") != FORMAT:
        raise ProfileError("%s: headphones: format version must be %d, got %r"
                           % (where, FORMAT, obj.get("headphones")))
    items = obj.get("profiles")
    if not isinstance(items, list):
        raise ProfileError("%s: profiles: must be a list" % where)
    out = []
    seen = {}  # type: dict[str, int]
    for i, d in enumerate(items):
        hp = parse_profile(d, "%s: profile #%d" % (where, i + 1), require_sources)
        k = _key(hp.name)
        if k in seen:
            raise ProfileError("%s: profile #%d %r: name: the same as profile #%d %r"
                               % (where, i + 1, hp.name, seen[k] + 1, items[seen[k]]["name"]))
        seen[k] = i
        out.append(hp)
    return out


def loads(text, where="headphones", require_sources=False, max_bytes=MAX_BYTES):
    """Profiles from a profile file's text (size and nesting checked before parsing)."""
    if len(text) > max_bytes:
        raise ProfileError("%s: %d bytes is too large for a profile file (at most %d)"
                           % (where, len(text), max_bytes))
    if too_deep(text, MAX_DEPTH):
        raise ProfileError("%s: nested more than %d levels deep: not a profile file"
                           % (where, MAX_DEPTH))
    try:
        obj = json.loads(text)
    except ValueError as e:
        raise ProfileError("%s: not valid JSON (%s)" % (where, e))
    return parse_file(obj, where, require_sources)


def load(path, require_sources=False, max_bytes=MAX_BYTES):
    """Profiles from a file: on the board `headphones.json`, the user's own."""
    import os
    try:
        size = os.stat(path)[6]
        if size > max_bytes:
            raise ProfileError("%s: %d bytes is too large for a profile file (at most %d)"
                               % (path, size, max_bytes))
        with open(path) as f:
            text = f.read()
    except OSError as e:
        raise ProfileError("%s: cannot read (%s)" % (path, e))
    except UnicodeError:
        raise ProfileError("%s: not a text file (UTF-8 JSON expected)" % path)
    return loads(text, path, require_sources, max_bytes)


def find(profiles, query):
    """The profile named `query` (case, spaces and punctuation ignored; the maker may
    lead; a unique beginning is enough), or ProfileError suggesting the closest."""
    q = _key(query)
    if not q:
        raise ProfileError("name a headphone")
    starts = []
    for hp in profiles:
        keys = (_key(hp.name), _key(hp.maker + hp.name) if hp.maker else "")
        if q in keys:
            return hp
        if keys[0].startswith(q) or (keys[1] and keys[1].startswith(q)):
            starts.append(hp)
    if len(starts) == 1:
        return starts[0]
    if starts:
        raise ProfileError("%r could be any of: %s" % (query, ", ".join(h.name for h in starts)))
    names = [_key(hp.name) for hp in profiles]
    guess = closest(q, names)
    if guess is None:
        names = [_key(hp.maker + hp.name) for hp in profiles if hp.maker]
        guess = closest(q, names)
        hit = [hp.name for hp in profiles if hp.maker and _key(hp.maker + hp.name) == guess]
    else:
        hit = [hp.name for hp in profiles if _key(hp.name) == guess]
    raise ProfileError("unknown headphone %r%s" % (
        query, " (did you mean %s?)" % hit[0] if hit else ""))


# ---------------------------------------------------------------- on a board

def stage(board, output):
    """The board's OutputStage for an output, or BoardError naming what is missing."""
    if output not in board.outputs:
        raise BoardError("analog.outputs.%s: this board has no %s output"
                         % (OUTPUT_NAMES[output], OUTPUT_NAMES[output]))
    st = board.output_stage[output]
    if st is None:
        raise BoardError("analog.outputs: missing: the headphone calculations need the "
                         "output stage's figures (see boards/README.md)")
    return st


# ---------------------------------------------------------------- for the controller

def spl_offsets_cdb(hp, board):
    """What the controller keeps of a headphone: per output, SPL minus level (cdB,
    rounded up, so an SPL it computes is never below the true one): dB/V + the
    divider. None for an output the board lacks; BoardError without stage figures."""
    out = [None, None]  # type: list[int | None]
    for o in board.outputs:
        d = hp.db_v + divider_db(hp.z_ohm, stage(board, o).z_out_ohm)
        out[o] = -int(math.floor(-d * 100))
    return tuple(out)


def number(tok):
    """A plain decimal ('300', '97.5', '-3') as a float, else None (no 'inf', 'nan', '1e3')."""
    body = tok[1:] if tok[:1] == "-" else tok
    whole, dot, frac = body.partition(".")
    if not whole or len(body) > 12:
        return None
    for c in whole + frac:
        if c < "0" or c > "9":
            return None
    if dot and not frac:
        return None
    return float(tok)


def from_figures(ohm, sens, unit, name):
    """A Headphone from the protocol's inline figures (text tokens): ProfileError names
    the field, as for a profile file."""
    where = "headphone"
    z = number(ohm)
    if z is None:
        raise ProfileError("%s: impedance.ohm: not a number: %s" % (where, ohm[:12]))
    s = number(sens)
    if s is None:
        raise ProfileError("%s: sensitivity.value: not a number: %s" % (where, sens[:12]))
    return parse_profile({"name": name, "impedance": {"ohm": z},
                          "sensitivity": {"value": s, "unit": unit}}, where)


def _text(s):
    """A JSON string, escaped by hand (the same bytes on every VM)."""
    out = ""
    for ch in s:
        if ch == '"' or ch == "\\":
            out += "\\" + ch
        elif ch < " " or ch > "~":
            out += "\\u%04x" % ord(ch)
        else:
            out += ch
    return '"' + out + '"'


def setting_json(hp):
    """The active headphone as the settings file keeps it: a profile entry with only the
    figures the firmware uses (parse_profile reads it back)."""
    return '{"name": %s, "impedance": {"ohm": %s}, "sensitivity": {"value": %s, "unit": "%s"}}' % (
        _text(hp.name), _g(hp.z_ohm), _g(hp.sens), hp.unit)


def brief_json(hp):
    """The active headphone in a reply: its name and the figures the SPL comes from."""
    return '{"name": %s, "ohm": %s, "db_v": %s}' % (_text(hp.name), _g(hp.z_ohm), "%.3f" % hp.db_v)


def _g(v):
    return "%.6g" % v
