"""The board's replies as a person reads them: one line, in the units a user knows."""

# The phases a person is told of by name; every other phase the firmware names
# (controller.PHASE_NAMES: its moves between states) reads "switching (muted)", and
# "fault" is the phase of a board whose firmware could not start (lifecycle.py).
_SAY_PHASE = {"boot": "starting (muted)", "held": "muted: a part is faulty", "playing": "playing",
              "power-fail": "power failing (muted)", "fault": "FAULT (muted)",
              "standby": "standby (a turn, a press or the remote wakes it)"}


def phase_text(phase):
    """A phase of the firmware's (status, state events) as a person reads it."""
    if phase in _SAY_PHASE:
        return _SAY_PHASE[phase]
    from .firmware import pure
    return "switching (muted)" if phase in pure("controller").PHASE_NAMES else phase


def db(v, unit="dB"):
    return "%.1f %s" % (v, unit)


def balance_text(v):
    if v == 0:
        return "0.0 dB"
    return "%.1f dB towards the %s" % (abs(v), "right" if v > 0 else "left")


def value_text(name, v):
    """One setting: 'volume -24.0 dBV', 'gain low', 'mute on'."""
    if name in ("volume", "limit"):
        return "%s %s" % (name, db(v, "dBV"))
    if name == "startup_cap":
        return "start-up cap " + db(v, "dBV")
    if name == "display_dark":
        return "display dark " + ("on" if v else "off")
    if name == "display_timeout_s":
        return "display timeout " + ("never" if v == 0 else "%d s" % v)
    if name in ("spl", "spl_limit"):
        return "%s %s" % ("SPL limit" if name == "spl_limit" else "SPL",
                          "- (no headphone)" if v is None else db(v, "dB SPL"))
    if name == "gain_stage":
        return "gain stage " + v
    if name == "gain_headroom":
        return "auto gain headroom " + db(v)
    if name == "headphone":
        return "headphone " + ("none" if v is None else v["name"])
    if name == "balance":
        return "balance " + balance_text(v)
    if name in ("mute", "standby"):
        return name + (" on" if v else " off")
    if name == "trigger":
        return "12 V trigger " + ("high" if v else "low")
    if name == "input":
        return "input " + (v or "(one: the board has no inputs section)")
    if name == "trim":
        return "input trim " + db(v)
    if name == "auto_standby_min":
        return "auto-standby " + ("never" if v == 0 else "after %d min without music" % v)
    if name == "signal":
        return "signal " + ("unknown (the DAC cannot tell)" if v is None else ("yes" if v else "none"))
    if name == "rate":
        return "rate " + (v or "- (no clocks)")
    if name == "output":
        return "output " + ("SE" if v == "se" else v)
    return "%s %s" % (name, v)


def headphone_text(r):
    """The reply to `set headphone`: 'headphone HD 600 · volume -2.5 dBV · SPL 99.7 dB SPL'."""
    return " · ".join((value_text("headphone", r.get("headphone")), value_text("volume", r["volume"]),
                       value_text("spl", r.get("spl"))))


def state_line(s):
    """'volume -24.0 dBV · balance 0.0 dB · gain low · output SE · limit 6.0 dBV · playing'"""
    parts = []
    if "volume" in s:
        parts.append(value_text("volume", s["volume"]))
    if "balance" in s:
        parts.append(value_text("balance", s["balance"]))
    for name in ("gain", "output", "limit"):
        if name in s:
            text = value_text(name, s[name])
            if name == "gain" and s[name] == "auto" and "gain_stage" in s:
                text += " (%s)" % s["gain_stage"]
            parts.append(text)
    if s.get("headphone"):  # the SPL and its limit mean something only with a headphone
        parts.append(value_text("headphone", s["headphone"]))
        parts.append(value_text("spl", s.get("spl")))
        if "spl_limit" in s:
            parts.append(value_text("spl_limit", s["spl_limit"]))
    if s.get("mode") == "balance":
        parts.append("balance mode (the knob trims balance)")
    phase = s.get("phase")
    if s.get("mute") and phase == "playing":
        parts.append("muted")
    elif s.get("standby") and phase != "standby":
        parts.append("going to standby")
    elif phase is not None:
        parts.append(phase_text(phase))
    for f in s.get("faults", ()):
        parts.append("fault: " + f)
    if s.get("settings_error"):   # a failed save: the music plays on, the settings wait
        parts.append("settings not saved: " + s["settings_error"])
    parts.extend(inputs_notes(s.get("inputs")))
    return " · ".join(parts)


_INPUTS = (("encoder", "the knob's contacts"), ("button", "the button"),
           ("gain_switch", "the gain switch"), ("output_switch", "the output switch"))


def inputs_notes(inputs):
    """What the inputs did that was not the user's, only where they did something:
    ['the knob's contacts bounced 12 times (filtered)', 'the button held since power-on']."""
    notes = []
    for key, name in _INPUTS:
        i = (inputs or {}).get(key) or {}
        if i.get("bounces"):
            notes.append("%s bounced %d time%s (filtered)" % (name, i["bounces"],
                                                             "" if i["bounces"] == 1 else "s"))
        if i.get("skips"):
            notes.append("%s skipped %d edge%s" % (name, i["skips"], "" if i["skips"] == 1 else "s"))
        if i.get("refused"):
            notes.append("%s: %d louder detent%s within 50 ms of a quieter one refused as bounce"
                         % (name, i["refused"], "" if i["refused"] == 1 else "s"))
        if i.get("held_since_boot"):
            notes.append("%s held since power-on (ignored until released)" % name)
    return notes


def function_words(fn):
    """A remote function's name in words: volume_up -> "volume up"."""
    return fn.replace("_", " ")
