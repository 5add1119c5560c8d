"""The trace checker's numbers and small helpers (sim/invariants.py, rules_host.py,
rules_level.py share them)."""

RULES = ("relay-under-mute", "settle", "relay-settle", "ramp-interval", "silent-off", "undone",
         "mute-order", "click", "spl-limit",
         "limit", "startup-cap", "turn-rise", "ramp-step", "balance", "off-sequence",
         "save-while-failing", "save-per-pause", "fault", "crash")

SPL_GRACE_US = 40000    # from a reply to the jack following it: a pass, ZCEN's 16 ms, margin
SPL_TOL_CDB = 1         # the jack's two decimals
TURN_SLACK_US = 40000   # after a turn's last edge, its level changes still arrive (ZCEN 16 ms)
TRIGGER_OPEN_US = 500000  # the mute relay open this long: no switch's dance, the trigger is low
IR_REACH_US = 100000    # after a remote's last frame: the 6 ms gap that ends it, a pass, the
                        # level's change (ZCEN 16 ms)
# ...and later still by as long again as the turn lasted: a fast turn's bouncing contacts
# fire pin IRQs that can keep the CPU busy for the turn's length, and the main loop's pass
# that sends the knob's frame waits for them (the cost model's IRQ storm).
LIMIT_SLACK_US = 40000  # a lowered limit reaches the jack within a pass + the ZC time-out
MAX_STEPS_PER_DETENT = 4  # quadrature.Acceleration's fastest tier: 2 dB per detent
CONFIRM_US = 10000000   # a long press confirms a raised limit this long after the request
TOL_CDB = 1             # integer rounding of the jack level
PGA_RANGE_CDB = 9550    # the PGA2311's lowest gain, -95.5 dB
COPIES = 2              # the settings copies on the board (headroom_fw.settings: A and B)
PAIR_US = 1000000       # a save that raises a limit writes both copies, back to back
CLICK_CDB = 300         # a fall of more than 3 dB in an instant...
AUDIBLE_CDB = -12000    # ...of a signal above -120 dBV at the jack
RAMP_SAMPLES = 104      # the DAC's soft mute: 104 one-dB steps
SPL_DEFAULT_CDB = 10000  # the firmware's default SPL limit, 100 dB SPL (`set defaults` too)
SPL_RANGE_CDB = (6000, 13000)   # `set spl_limit`: 60..130 dB SPL
# A save's flash record can come this long after the save began: the file's programs and
# a block's erase (400 ms at most, the W25Q16JV's datasheet), with margin.
SAVE_US = 500000
OPEN = 1 << 62          # a host's line touches until its reply
# A switch or the button reaches the firmware within its debounce plus this (bounce, a pass).
REACH_US = 200000
FALL_MAX_CDB = 300      # ZCEN low: the firmware's fall step, at most the click threshold
WALK_LATE_MS = 10       # ...and how late a pass may take each of its steps


def _level(v):
    """A jack/PGA level as the trace holds it (Db, number or "mute") -> cdB int, None = mute."""
    if v is None or v == "mute":
        return None
    if hasattr(v, "value"):  # trace.Db, live
        return v.value * 100 // v.scale
    return int(round(v * 100))


def _cmd_hdb(tok):
    """A `set` command's dB argument (already accepted by the board) -> cdB."""
    return int(round(float(tok) * 100))


def _grid_cdb(tok, lo, hi):
    """A `set` command's dB argument -> cdB if the protocol takes it (a plain decimal on
    the 0.5 dB grid within lo..hi cdB), else None."""
    body = tok[1:] if tok[:1] in "+-" else tok
    whole, dot, frac = body.partition(".")
    if not (whole.isascii() and whole.isdigit() and len(whole) <= 3) or \
            (dot and not (frac.isascii() and frac.isdigit() and len(frac) <= 2)):
        return None
    v = int(whole) * 100 + int((frac + "00")[:2])
    v = -v if tok[:1] == "-" else v
    return v if v % 50 == 0 and lo <= v <= hi else None
