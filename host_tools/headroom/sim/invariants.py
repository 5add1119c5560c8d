"""The safety rules, checked on a trace alone: what the chip models decoded (pins, relay
contacts, PGA2311 gains, the jack), the supply, and what the user's hands did (`input`
records) - never the firmware's variables. A recording cannot bless a bug: the golden
traces pass through the same checker as every live run.

    c = Checker(board)                  # a validated headroom_fw.board.Board
    trace.listeners.append(c.live)      # as records are made (t_us, kind, [(key, value)])
    c.feed(record_dict)                 # or from a trace file, one JSON record at a time
    c.violations                        # [(t_us, rule, message)], empty when all held

Rules (`RULES`):

- `relay-under-mute`: no gain/output relay contact moves unless the mute relay's
  contacts are open, every PGA2311 channel is muted and the DAC's XSMT is low;
- `settle`: the mute relay's coil is driven no sooner than `timing.settle_ms` after the
  supply came on;
- `relay-settle`: after a gain/output relay's coil changes, the mute relay's coil is
  driven no sooner than that relay's operate (or release) time plus `relay_settle_ms`;
- `ramp-interval`: rises at the jack that no turn of the knob explains are at least
  `timing.ramp_interval_ms` apart;
- `undone`: while the supply is failing (from its `power` off record until it is back),
  once the firmware has begun to go quiet (XSMT or MUTE driven low, or the mute relay's
  coil released), nothing drives XSMT or MUTE high or the coil on again: a pass the
  supply-fail IRQ interrupted cannot undo it;
- `mute-order`: the stages go quiet in order - the DAC's XSMT low, then the PGA2311's
  MUTE, then the mute relay's coil released - and open the other way round (relay,
  PGA2311, the DAC last): XSMT goes high only while MUTE is released and the coil
  driven, MUTE is released only while the coil is driven, MUTE is asserted only with
  XSMT low, the coil is released only with XSMT low and MUTE asserted. This holds for
  every path: a switch, a user's mute, an exception or Ctrl-C (`quiet`), the
  supply-fail IRQ, boot.py. A pin the MCU does not drive counts as quiet (the board's
  pull-downs);
- `silent-off`: when the MCU stops for want of supply, the jack is silent, XSMT low,
  the PGA2311 muted and the mute relay's coil released (by the MCU, or by the board's
  hardware mute path: its `hardware_mute` records);
- `click`: the signal at the jack never falls by more than 3 dB in an instant while it
  is audible (above -120 dBV: 2 dB SPL on the most sensitive IEM of the built-in
  profiles, 122 dB SPL/V, against a 0 dB SPL threshold of hearing). The DAC's soft
  mute (104 one-dB steps, a sample each) is the only way down: the level the jack
  would play is reduced by where that ramp has got to (the jack record's `dac` state
  and its time), so the PGA2311's MUTE pin or the mute relay cutting a signal the DAC
  still passes counts; the DAC ending its own ramp does not, nor does a PGA2311 gain
  change while its zero-crossing detection is on (ZCEN high: the new gain, mute codes
  too, takes effect where the signal crosses zero, which is click-free by design). With
  ZCEN tied low (the board's `pga2311.zcen: "low"`) every gain change counts: the
  firmware must walk a fall in steps of at most 3 dB;
- `limit`: no channel at the jack above the volume limit in force, modelled from the
  inputs alone, never from the limit the firmware reports: the board's; a host's valid
  `set limit` at or below it lowers it (from 40 ms after the reply: a pass and the
  PGA2311's zero-crossing time-out) and drops any raise still waiting for its long
  press (of the limit, or the defaults) - with ZCEN tied low, plus the walk down from
  the jack's level then: a ramp interval and 10 ms per 3 dB step, or per ramp step when
  smaller, and twice the length of any turn made meanwhile (its IRQ storm); a valid one
  above it is a raise that waits:
  a long press (the button held `long_press_ms`) begun within 10 s of the request
  confirms the latest request waiting (one at a time: a newer request replaces it),
  and nothing else raises the limit; `set defaults` is the board's limit and 100 dB SPL,
  at once when neither rises, else a raise that waits the same way. After a power-on,
  the limits of the last settings write (`flash` records), or of the one before it (the
  board keeps two copies) when a test damaged the newest (an `input` record `settings`
  with `lost`); none written in the run: the board's limit, 100 dB SPL, no headphone;
- `startup-cap`: after every boot no channel above `volume.startup_max_dbv` until the
  knob is turned up, or a host's `set volume`/`set defaults` asks for more; a turn up
  still going at the boot raises the cap by what its detents still to come may add;
- `turn-rise`, `ramp-step`, `ramp-interval`: every rise at the jack is either the user's
  turn - at most the detents turned x the largest step per detent (4 half-dB steps, the
  fastest tier of quadrature.Acceleration), plus one ramp step - or a ramp step: at most
  `timing.ramp_step_db` (out of silence: to the path's floor plus a step), at least
  `timing.ramp_interval_ms` after the last. So a host's rise, an unmute, a restore all
  fade in;
- `balance`: left and right follow volume and balance channel by channel: once a
  `status` reply says playing (unmuted), no `set` sent after it waits for its reply, and
  nothing is touched for a full ramp's time,
  each channel is the volume plus its balance trim (silent below the PGA2311's range; with
  ZCEN tied low a channel balance alone takes there may stay at the floor);
  muted, silent;
- `off-sequence`: at every supply-off edge (boards with a supply monitor), the DAC's
  XSMT low, the PGA2311's MUTE asserted, the mute relay's coil released and the jack
  silent, all before the hold-up time ends;
- `save-while-failing`: no settings write while the supply is off;
- `save-per-pause`: at most one settings write per pause - the time from one touch (an
  `input`: a turn, the button, a switch; a long press, when it fires; a host's `set`;
  a power-on) to the next. A touch reaches the firmware some time after its record (a
  turn: while its edges come, plus 40 ms, plus as long again as it lasted; the button
  or a switch: the debounce plus REACH_US; a host's line: its reply), and a write
  begun before then (its `flash` record comes at most SAVE_US after it began: the
  flash's programs and an erase) stored the pause before: it counts for that pause,
  when that pause had no write of its own. A save that raises a limit writes both
  copies back to back (within PAIR_US: headroom_fw.settings loads the lower of the
  two), and counts once. A write that fails (a full flash) leaves no `flash` record:
  its retries are not saves;
- `spl-limit`: with a headphone, the jack's level never gives more than the SPL limit:
  level + dB/V + 20*log10(Z / (Z + Zo)) <= limit, per channel, on the output the jack
  plays. Both are modelled from the inputs, never from what the firmware reports: the
  SPL limit as the volume limit is (`set spl_limit` 60..130 dB SPL: a lowering at once,
  dropping a raise still waiting; a raise after a long press; `set defaults`: 100 dB
  SPL), the headphone from the `set headphone` line the board accepted (the figures
  inline, as the host tools send them; `none`; a profile by name from the board's own
  file, which the trace does not hold: the figures its reply gives). So the rule checks
  the levels the chip models decoded against the user's own figures. A tighter
  headphone or limit binds SPL_GRACE_US after its reply (the PGA2311 frame, its
  zero-crossing time-out; with ZCEN tied low, plus the walk down to the new cap, as for
  `limit`); until then the looser holds;
- `fault`, `crash`: the simulator found a part misused, the firmware raised.

Counts for the reliability table: `checks` (records checked), `cap_checks` (jack
records checked against the start-up cap), `cap_tight` (boots where the cap was what
held the level: the jack within 0.5 dB of it), `balance_checks`, `off_checks`,
`worst_silent_us` (a supply-off edge to a silent jack, the worst).
"""
import json
import math

from .boardparts import chip_part

RULES = ("relay-under-mute", "settle", "relay-settle", "ramp-interval", "silent-off", "undone",
         "mute-order", "click", "spl-limit",
         "limit", "startup-cap", "turn-rise", "ramp-step", "balance", "off-sequence",
         "save-while-failing", "save-per-pause", "fault", "crash")

SPL_GRACE_US = 40000    # from a reply to the jack following it: a pass, ZCEN's 16 ms, margin
SPL_TOL_CDB = 1         # the jack's two decimals
TURN_SLACK_US = 40000   # after a turn's last edge, its level changes still arrive (ZCEN 16 ms)
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


class Checker:
    def __init__(self, board):
        b = board
        self.b = b
        self.violations = []
        self.pins = {}            # MCU-driven GPIO -> level
        self.relays = {}          # "mute"/"gain"/"output" -> contacts energized
        self.pga = {}             # chip index -> (left, right, mute pin asserted)
        self.jack = (None, None)
        self.dac = "on"           # the jack's DAC soft-mute state, and since when
        self.dac_since = 0
        self.ramp_us = (RAMP_SAMPLES * 1000000 // b.i2s_rate) if b.dac is not None else 0
        self.clicks = 0
        self.cut = False          # this instant, the MUTE pin or the mute relay cut the signal
        self.power_on_us = None
        self.mute_pin = b.mute_relay.pin
        self.mute_on = 1 if b.mute_relay.active_high else 0
        self.coils = {}           # coil GPIO -> (relay board entry)
        for r in (b.gain_relay, b.output_relay):
            if r is not None:
                self.coils[r.pin] = r
        self.last_coil_change = None   # (t_us, settle_us until the mute relay may close)
        self.turn_until = -1
        self.turn_start = 0
        self.budget = 0           # cdB the turns in progress may still raise the level by
        self.turn_up = None       # the last turn up: (start t_us, end t_us, detents)
        self.early = False        # a ramp step came early within a turn (allowed once)
        self.last_rise = None
        # The limits, from what the host asked and the user's hands did: never from what
        # the firmware says its limits are.
        self.limit = b.limit_hdb * 50      # the standing volume limit
        self.enforced = self.limit         # what the jack is held to now
        self.spl = SPL_DEFAULT_CDB         # the standing SPL limit
        self.hp_off = None                 # the headphone's SPL offsets per output (None: none)
        self.saved = []                    # (limit, SPL limit, offsets) per copy, oldest first
        self.deadlines = []                # [(t_us, what, arg)], processed in time order
        self.pending = None                # a raise asked for: (what, cdB, until t_us)
        self.press = None                  # the button held: (closed at, its long press at)
        self.cap = None                    # the start-up cap in force (cdB), None: lifted
        self._cap_near = False
        self.supply = True
        self.off_at = None                 # the last supply-off edge, until the jack is silent
        self.pause_saves = 0               # settings writes since the last touch
        self.carry_until = -1              # ...a write till then is the pause before's
        self.last_save = None              # (t_us, file)
        self.pair_open = False             # the last write may be followed by its pair
        self.serial_buf = ""
        self.commands = []                 # lines the host sent, waiting for their reply
        self.expect = None                 # (due t_us, volume hdB, balance hdB, silent)
        # Counts for the reliability table.
        self.checks = 0
        self.cap_checks = 0
        self.cap_tight = 0
        self.balance_checks = 0
        self.off_checks = 0
        self.worst_silent_us = 0
        self.last_t = 0
        self.gated = None         # the board's hardware mute path: how far it has gated
        self.failing = False      # the supply is off (its monitor fell)
        self.quieting = False     # ...and the firmware has begun to mute
        # The SPL rule: [(since t_us, offsets per output in cdB or None, limit cdB, grace
        # us: from `since` until it binds)].
        self.zo = [st.z_out_ohm if st is not None else None for st in b.output_stage]
        self.spl_states = [(0, None, None, SPL_GRACE_US)]
        self.jack_output = 0

    # ---- input
    def live(self, t_us, kind, fields):
        """A Trace listener: the record as it is made."""
        self.check(t_us, kind, dict(fields))

    def feed(self, rec):
        """A record read from a trace file (a dict with t_us and kind)."""
        if "t_us" in rec:
            self.check(rec["t_us"], rec["kind"], rec)

    def finish(self, t_us):
        """The run ended at t_us: what fell due until then is checked."""
        self._due(t_us)

    def _bad(self, t, rule, msg):
        self.violations.append((t, rule, msg))

    # ---- the rules
    def check(self, t, kind, f):
        self.checks += 1
        self._due(t)
        if len(self.spl_states) > 1:
            self.at(t)
        self.last_t = t
        if kind == "power":
            self.failing = not f["on"]
            self.quieting = False
            self._power(t, f["on"])
        elif kind == "pin":
            self._pin(t, f["pin"], f["level"])
        elif kind == "chip":
            # The part words its state for the rules (sim/part.py: invariants_view).
            chip = f["chip"]
            chip_part(chip).invariants_view(self, t, chip, dict(f["state"]))
        elif kind == "input":
            self._input(t, f)
        elif kind == "serial":
            if f["dir"] == "in":
                self._serial_in(t, f["data"])
            elif f["dir"] == "reset":
                self.serial_buf = ""   # the firmware starts: nothing sent before is answered
                self.commands = []
            else:
                self._serial_out(t, f["line"])
        elif kind == "flash":
            self._flash(t, f["file"])
        elif kind == "boot":
            self._boot(t)
            self._spl_state(t, self.hp_off, self.spl)
        elif kind == "hardware_mute":
            self.gated = None if f["stage"] == "released" else f["stage"]
        elif kind == "reset":
            if f.get("cause") == "soft":
                self._soft_reset(t)
        elif kind == "off":
            self._off(t)
        elif kind == "fault":
            self._bad(t, "fault", f["message"])
        elif kind == "crash":
            self._bad(t, "crash", f["error"])

    def _due(self, t):
        """What fell due before t, checked on the state as it was then."""
        p = self.press
        if p is not None and p[1] is not None and t >= p[1]:
            self.press = (p[0], None)   # held on: that was its one long press
            self._long_press(p[1], p[0])
        if self.expect is not None and t >= self.expect[0]:
            self._check_balance(self.expect)
            self.expect = None
        while self.deadlines and self.deadlines[0][0] <= t:
            when, what, arg = self.deadlines.pop(0)
            if what == "limit":
                self.enforced = min(self.enforced, arg)
                self._check_limit(when, self.jack)
            elif what == "off":
                self._off_sequence(when)

    def _deadline(self, t, what, arg):
        self.deadlines.append((t, what, arg))
        self.deadlines.sort(key=lambda d: d[0])

    def _power(self, t, on):
        self.supply = on
        self._touch(t, t)
        self.expect = None
        if on:
            self.power_on_us = t
            return
        if self.b.power_sense is not None:
            self._deadline(t + self.b.holdup_ms * 1000, "off", t)
        if self.jack == (None, None):
            self.off_at = None
        else:
            self.off_at = t

    def _boot(self, t):
        """The MCU starts the firmware: the saved settings (the newest copy; none written
        in this run: the board's defaults, no headphone), capped."""
        s = self.saved[-1] if self.saved else (self.b.limit_hdb * 50, SPL_DEFAULT_CDB, None)
        self.limit = self.enforced = s[0]
        self.spl, self.hp_off = s[1], s[2]
        self.deadlines = [d for d in self.deadlines if d[1] != "limit"]
        self.pending = self.press = None
        self.cap = self._boot_cap(t)
        self._cap_near = False
        self.serial_buf = ""
        self.commands = []
        self.expect = None

    def _boot_cap(self, t):
        """The start-up cap at a boot (or main.py's restart) at t; a turn up still going
        then is the user turning the knob up after the boot: its detents still to come
        (and the one under way) may raise the level above the cap, as any turn up lifts
        it. Found by the randomized run: the turn's record comes before the boot, and the
        boot put the whole cap back, so the rest of the turn read as a broken cap."""
        cap = self.b.startup_max_hdb * 50
        if self.turn_up is not None and t < self.turn_up[1]:
            t0, t1, n = self.turn_up
            rest = -(-n * (t1 - t) // (t1 - t0)) + 1
            cap += rest * MAX_STEPS_PER_DETENT * 50
        return cap

    def _soft_reset(self, t):
        """A soft reset: what the host sent is answered by nobody; main.py, when it runs
        again, starts from the saved settings under the start-up cap, as at a boot."""
        self.serial_buf = ""
        self.commands = []
        self.expect = None
        self.pending = self.press = None
        self.cap = self._boot_cap(t)
        self._cap_near = False

    def _touch(self, t, reach):
        """Something touched at t starts a new pause; until `reach` (OPEN: its reply) the
        firmware may not have seen it yet, so a save then is the pause before's - if
        that one had none of its own."""
        self.carry_until = reach if self.pause_saves == 0 else -1
        self.pause_saves = 0
        self.pair_open = False

    def _input(self, t, f):
        what = f["what"]
        self.expect = None
        if what == "turn":
            if t > self.turn_until:
                self.turn_start = t
                self.budget = 0   # what an earlier turn left is not this one's
            self.turn_until = max(self.turn_until, t + 2 * f["us"] + TURN_SLACK_US)
            self.budget += abs(f["detents"]) * MAX_STEPS_PER_DETENT * 50
            if not self.b.pga_zc:
                # ZCEN low: a lowered limit still walking down is slowed by the turn's IRQ
                # storm as every pass is (as long again as the turn lasts).
                self.deadlines = [(w + 2 * f["us"] if what_ == "limit" and w > t else w, what_, a)
                                  for w, what_, a in self.deadlines]
            if f["detents"] > 0:
                self.cap = None  # the user turns it up: the start-up cap is done
                self.turn_up = (t, t + f["us"], f["detents"])
            self._touch(t, self.turn_until)
        elif what == "button":
            self._touch(t, t + self.b.debounce_ms * 1000 + REACH_US)
            # Held long enough, a long press (once); let go before, none.
            self.press = (t, t + self.b.long_press_ms * 1000) if f["closed"] else None
        elif what == "settings":
            # A test damaged the newest `lost` settings copies (as bad flash would).
            n = f["lost"]
            self.saved = self.saved[:max(0, len(self.saved) - n)]
            self._touch(t, t)
        else:   # a switch
            self._touch(t, t + self.b.debounce_ms * 1000 + REACH_US)

    def _long_press(self, t, closed):
        """A long press (the button held since `closed`) at t: it confirms the raise
        waiting, if the button closed within 10 s of its request."""
        self._touch(t, t + REACH_US)
        q = self.pending
        self.pending = None
        if q is None or closed > q[2]:
            return
        what, v, _ = q
        if what == "limit":
            self.limit = self.enforced = max(self.limit, v)
        elif what == "spl":
            self.spl = max(self.spl, v)
            self._spl_state(t, self.hp_off, self.spl)
        else:
            self._defaults(t)

    def _ask(self, t, what, v):
        """A raise, asked for: the latest request is the one a long press confirms."""
        self.pending = (what, v, t + CONFIRM_US)

    def _drop(self, what):
        """A lowering: no raise of the same limit (or the defaults) is left to confirm."""
        if self.pending is not None and self.pending[0] in (what, "defaults"):
            self.pending = None

    def _defaults(self, t):
        b = self.b
        self.limit = self.enforced = b.limit_hdb * 50
        self.spl = SPL_DEFAULT_CDB
        self._spl_state(t, self.hp_off, self.spl)
        if self.cap is not None:
            self.cap = max(self.cap, b.default_hdb * 50)

    def _serial_in(self, t, data):
        buf = self.serial_buf + data
        while True:
            cut = [i for i in (buf.find("\n"), buf.find("\r")) if i >= 0]
            if not cut:
                break
            i = min(cut)
            line, buf = buf[:i], buf[i + 1:]
            if line:
                self.commands.append(line)
                if line.split()[:1] == ["set"]:
                    self._touch(t, OPEN)
                    self.expect = None
        self.serial_buf = buf

    def _serial_out(self, t, line):
        if line.startswith('{"event"') or not self.commands:
            return
        cmd = self.commands.pop(0).split()
        if cmd[:1] == ["set"] and self.carry_until == OPEN:
            self.carry_until = t   # the firmware has seen it
        try:
            r = json.loads(line)
        except ValueError:
            return
        if not isinstance(r, dict):
            return
        ok = r.get("ok") is True
        b = self.b
        # The limits from the request alone: a valid lowering stands at once (and drops a
        # raise of the same limit still waiting), a valid raise waits for a long press,
        # whatever the firmware answers.
        if cmd[:2] == ["set", "limit"] and len(cmd) == 3:
            v = _grid_cdb(cmd[2], b.min_hdb * 50, b.limit_hdb * 50)
            if v is not None and v <= self.limit:
                self._drop("limit")
                self.limit = v
                self._deadline(t + LIMIT_SLACK_US + self._walk_us(v), "limit", v)
            elif v is not None:
                self._ask(t, "limit", v)
        elif cmd[:2] == ["set", "spl_limit"] and len(cmd) == 3:
            v = _grid_cdb(cmd[2], SPL_RANGE_CDB[0], SPL_RANGE_CDB[1])
            if v is not None and v <= self.spl:
                self._drop("spl")
                self.spl = v
                self._spl_state(t, self.hp_off, v)
            elif v is not None:
                self._ask(t, "spl", v)
        elif cmd == ["set", "defaults"]:
            if b.limit_hdb * 50 > self.limit or SPL_DEFAULT_CDB > self.spl:
                self._ask(t, "defaults", None)
            elif ok:
                self._defaults(t)
        elif cmd[:2] == ["set", "headphone"] and ok:
            self.hp_off = self._hp_offsets(cmd[2:], r)
            self._spl_state(t, self.hp_off, self.spl)
        elif cmd[:2] == ["set", "volume"] and len(cmd) == 3 and ok:
            if self.cap is not None:
                self.cap = max(self.cap, _cmd_hdb(cmd[2]))
        elif cmd == ["status"] and ok and r.get("phase") == "playing" and \
                not any(c.split()[:1] == ["set"] for c in self.commands):
            # Not while a `set` sent after it waits for its reply: the firmware answered
            # before it read that line, which may change the level at once (a status,
            # then `set volume` 30 ms later, answered after it: found by the randomized run).
            silent = r.get("mute") is True
            self.expect = (t + self._settle_us(), int(round(r["volume"] * 2)),
                           int(round(r["balance"] * 2)), silent)

    def _settle_us(self):
        """A full ramp from the PGA2311's floor, with room for late passes (ZCEN low: a
        walk down as far, in its own steps)."""
        b = self.b
        steps = (PGA_RANGE_CDB + 2000) // (b.ramp_step_hdb * 50) + 1
        ramp = steps * (b.ramp_interval_ms + 2) * 1000 + 100000
        return max(ramp, self._walk_us(-PGA_RANGE_CDB - 2000, 0) + 100000)  # the whole range

    def _walk_us(self, to_cdb, top=None):
        """ZCEN low: how long the firmware may take to walk the jack's level (or `top`,
        cdB) down to `to_cdb`, a fall step per ramp interval (a pass late each); with
        zero-crossing detection a fall goes in at once: 0."""
        b = self.b
        if b.pga_zc:
            return 0
        if top is None:
            levels = [lv for lv in self.jack if lv is not None]
            if not levels:
                return 0
            top = max(levels)
        fall = top - to_cdb
        if fall <= 0:
            return 0
        step = min(b.ramp_step_hdb * 50, FALL_MAX_CDB)
        return -(-fall // step) * (b.ramp_interval_ms + WALK_LATE_MS) * 1000

    def _flash(self, t, name):
        if not name.startswith("settings"):
            return
        if not self.supply:
            self._bad(t, "save-while-failing", "%s was written while the supply was off" % name)
        # One save, two writes: a save that raises a limit writes its copy, then the other.
        # The second write, to the other file right after the first, is the same save.
        last = self.last_save
        if self.pair_open and last is not None and last[1] != name and t - last[0] <= PAIR_US:
            self.pair_open = False
            self.saved = (self.saved + [(self.limit, self.spl, self.hp_off)])[-COPIES:]
            return
        self.pair_open = True
        if self.carry_until >= 0 and t <= self.carry_until + SAVE_US:
            self.carry_until = -1   # begun before the touch reached the firmware
        else:
            self.carry_until = -1
            self.pause_saves += 1
            if self.pause_saves > 1:
                self._bad(t, "save-per-pause", "the settings were saved again (%s; %s at "
                          "%.1f ms) with nothing touched since: one save per pause" % (
                              name, self.last_save[1], self.last_save[0] / 1000))
        self.last_save = (t, name)
        self.saved = (self.saved + [(self.limit, self.spl, self.hp_off)])[-COPIES:]

    def _mute_order(self, t, n, level):
        """Muting goes the DAC (XSMT low), the PGA2311 (MUTE low), the mute relay (its coil
        released); un-muting the other way round. So a stage opens only while every stage
        after it towards the jack is open, and closes only while every stage before it is
        closed. A pin not driven (None) is quiet: the board's pull-downs hold XSMT and MUTE
        low and the coil off."""
        b = self.b
        xsmt = b.dac_xsmt if b.dac is not None else None
        dac_open = xsmt is not None and self.pins.get(xsmt) == 1
        pga_open = self.pins.get(b.pga_mute) == 1
        relay_on = self.pins.get(self.mute_pin) == self.mute_on
        why = []
        if n == xsmt and level == 1:
            what, order = "the DAC's XSMT went high", "up"
            why = [w for w, bad in (("the PGA2311's MUTE was asserted", not pga_open),
                                    ("the mute relay was open", not relay_on)) if bad]
        elif n == b.pga_mute and level == 1:
            what, order = "the PGA2311's MUTE was released", "up"
            why = ["the mute relay was open"] if not relay_on else []
        elif n == b.pga_mute and level == 0:
            what, order = "the PGA2311's MUTE was asserted", "down"
            why = ["the DAC's XSMT was high"] if dac_open else []
        elif n == self.mute_pin and level is not None and level != self.mute_on:
            what, order = "the mute relay opened", "down"
            why = [w for w, bad in (("the DAC's XSMT was high", dac_open),
                                    ("the PGA2311's MUTE was not asserted", pga_open)) if bad]
        if why:
            self._bad(t, "mute-order", "%s while %s: %s" % (
                what, " and ".join(why), "un-muting opens the relay, the PGA2311, then the DAC"
                if order == "up" else "muting goes the DAC, the PGA2311, then the relay"))

    def _pin(self, t, n, level):
        old = self.pins.get(n)
        if old != level:
            self._mute_order(t, n, level)
        self.pins[n] = level
        if self.failing and old != level:
            relay = n == self.mute_pin
            mute = n == self.b.pga_mute or (self.b.dac is not None and n == self.b.dac_xsmt)
            live = (relay and level == self.mute_on) or (mute and level == 1)
            if live and self.quieting:
                self._bad(t, "undone", "GP%d was driven to %d after the firmware had begun "
                          "to mute for the failing supply" % (n, level))
            elif (relay or mute) and not live:
                self.quieting = True
        if n == self.mute_pin and level == self.mute_on and old != level:
            if self.power_on_us is not None and t < self.power_on_us + self.b.settle_ms * 1000:
                self._bad(t, "settle", "the mute relay was driven %.1f ms after power-on; the "
                          "settle delay is %d ms" % ((t - self.power_on_us) / 1000, self.b.settle_ms))
            lc = self.last_coil_change
            if lc is not None and t < lc[0] + lc[1]:
                self._bad(t, "relay-settle", "the mute relay was driven %.2f ms after a relay "
                          "coil changed; it needs %.1f ms" % ((t - lc[0]) / 1000, lc[1] / 1000))
        r = self.coils.get(n)
        if r is not None and old is not None and level is not None and old != level:
            energize = level == (1 if r.active_high else 0)
            wait = (r.operate_ms if energize else r.release_ms) + self.b.relay_settle_ms
            self.last_coil_change = (t, wait * 1000)

    # ---- what the parts tell the rules (their invariants_view)
    level = staticmethod(_level)   # a level as the trace holds it -> cdB, None = mute

    def relay_state(self, t, name, energized):
        """Relay `name` (mute, gain, output): its contacts energized or released."""
        if name == "mute" and not energized:
            self.cut = True
        self._relay(t, name, energized)

    def pga_state(self, t, chip, left, right, mute):
        """One PGA2311 of the chain: its levels (cdB, None muted) and its MUTE pin."""
        old = self.pga.get(chip)
        if mute and (old is None or not old[2]):
            self.cut = True
        self.pga[chip] = (left, right, mute)

    def jack_state(self, t, levels, output, dac):
        """What reaches the headphones: levels per channel, the output, the DAC's soft mute."""
        self.jack_output = 1 if output == "balanced" else 0
        self._spl_check(t, levels, self._spl_cap(t))
        self._jack(t, levels, dac)

    def _relay(self, t, name, energized):
        old = self.relays.get(name)
        self.relays[name] = energized
        if name != "mute":
            self.expect = None
        if name == "mute" or old is None or old == energized:
            return
        why = []
        if self.relays.get("mute"):
            why.append("the mute relay's contacts were closed")
        for chip, (left, right, muted) in sorted(self.pga.items()):
            if not muted and (left is not None or right is not None):
                why.append("%s was at %s/%s" % (chip, left, right))
        b = self.b
        if b.dac is not None and self.pins.get(b.dac_xsmt) == 1:
            why.append("the DAC's XSMT was high")
        if why:
            self._bad(t, "relay-under-mute", "relay.%s moved while %s" % (name, "; ".join(why)))

    def _attenuation_cdb(self, t):
        """How far the DAC's soft mute has taken the signal down at time t (cdB)."""
        st = self.dac
        if st == "on":
            return 0
        if st == "off":
            return None  # silent
        k = min(t - self.dac_since, self.ramp_us) * RAMP_SAMPLES * 100 // max(self.ramp_us, 1)
        return k if st == "down" else RAMP_SAMPLES * 100 - k

    def _path_cdb(self):
        """Full scale through the relays' contacts as they are."""
        return self.b.path_cdb(1 if self.relays.get("gain") else 0,
                               1 if self.relays.get("output") else 0)

    def _jack(self, t, levels, dac):
        old = self.jack
        att = self._attenuation_cdb(t)
        own_ramp_end = self.dac == "down" and dac == "off" and t - self.dac_since >= self.ramp_us
        # A gain change (mute codes too) goes in at a zero crossing when ZCEN is on.
        cut = self.cut or not self.b.pga_zc
        self.cut = False
        if att is not None and not own_ramp_end and cut:
            for n, o in zip(levels, old):
                if o is None:
                    continue
                heard = o - att
                if heard > AUDIBLE_CDB and (n is None or n < o - CLICK_CDB):
                    self.clicks += 1
                    self._bad(t, "click", "the level at the jack fell from %.2f dBV to %s at "
                              "once (the DAC's soft mute %s)" % (
                                  heard / 100, "silence" if n is None else "%.2f dBV" % (n / 100),
                                  "not yet begun" if self.dac == "on" else
                                  "%d dB into its ramp" % (att // 100)))
                    break
        if dac != self.dac:
            self.dac = dac
            self.dac_since = t
        self.jack = levels
        if levels == (None, None) and self.off_at is not None:
            self.worst_silent_us = max(self.worst_silent_us, t - self.off_at)
            self.off_at = None
        self._check_limit(t, levels)
        self._check_cap(t, levels)
        self._check_rise(t, levels, old)

    def _check_limit(self, t, levels):
        lim = self.enforced
        for ch, n in enumerate(levels):
            if n is not None and n > lim + TOL_CDB:
                self._bad(t, "limit", "%s at %.2f dBV, above the limit of %.2f dBV" % (
                    ("left", "right")[ch], n / 100, lim / 100))
                return

    def _check_cap(self, t, levels):
        cap = self.cap
        if cap is None:
            return
        self.cap_checks += 1
        for ch, n in enumerate(levels):
            if n is None:
                continue
            if n > cap + TOL_CDB:
                self._bad(t, "startup-cap", "%s at %.2f dBV after power-on, above the start-up "
                          "cap of %.2f dBV" % (("left", "right")[ch], n / 100, cap / 100))
                return
            if n > cap - 50 and not self._cap_near:
                self._cap_near = True
                self.cap_tight += 1

    def _check_rise(self, t, levels, old):
        if t > self.turn_until:
            self.budget = 0
            self.early = False
        floor = self._path_cdb() - PGA_RANGE_CDB
        rise = 0
        for n, o in zip(levels, old):
            if n is not None:
                rise = max(rise, n - (floor if o is None else o))
        if rise <= TOL_CDB:
            if any(n is not None and o is None for n, o in zip(levels, old)):
                self.last_rise = t  # out of silence onto the floor: the ramp starts here
            return
        b = self.b
        step = b.ramp_step_hdb * 50
        iv = b.ramp_interval_ms * 1000
        if t > self.turn_until:
            if self.last_rise is None or t - self.last_rise >= iv:
                if rise <= step + TOL_CDB:
                    self.last_rise = t
                    return
            elif rise <= step + TOL_CDB:
                self._bad(t, "ramp-interval", "the level rose %.2f ms after the last rise; "
                          "ramp steps are %d ms apart" % ((t - self.last_rise) / 1000,
                                                          b.ramp_interval_ms))
                self.last_rise = t
                return
            self._bad(t, "ramp-step", "the level rose %.2f dB at once, not by the user's "
                      "turn; a ramp step is %.1f dB" % (rise / 100, step / 100))
            return
        # During a turn, the ramp steps its time allows: the PGA2311 applies a gain at a
        # zero crossing or its time-out, and a new write replaces a pending one, so steps
        # written while the knob's frames keep coming arrive at the jack together.
        since = self.turn_start if self.last_rise is None else max(self.last_rise,
                                                                   self.turn_start - iv)
        n = (t - since) // iv
        # The ramp's share first (its credit is then spent), the turn's budget for the rest;
        # within a ramp interval, the budget and one ramp step that came early.
        if n >= 1:
            if rise <= step * n + self.budget + TOL_CDB:
                self.budget = max(0, self.budget - max(0, rise - step * n))
                self.last_rise = t
                self.early = False
                return
        elif rise <= self.budget + TOL_CDB:
            self.budget -= max(0, rise)
            return
        elif not self.early and rise <= self.budget + step + TOL_CDB:
            self.budget = 0
            self.early = True
            self.last_rise = t
            return
        self._bad(t, "turn-rise", "the level rose %.2f dB during a turn that allowed %.2f dB "
                  "more (and ramp steps of %.1f dB)" % (rise / 100, self.budget / 100, step / 100))

    def _check_balance(self, e):
        """Each channel = the volume + its balance trim, once settled (`status` reply)."""
        _, volume, balance, silent = e
        self.balance_checks += 1
        path = self._path_cdb()
        got = self.jack
        if not silent and got == (None, None):
            # Gone quiet since (a part failed: its own rules); nothing to compare.
            self.balance_checks -= 1
            return
        floor = path - PGA_RANGE_CDB
        wants = []
        for ch in (0, 1):
            if silent:
                want = None
            else:
                trim = (-balance if balance > 0 else 0) if ch == 0 else (balance if balance < 0 else 0)
                want = (volume + trim) * 50
                if want < floor:
                    want = None
            wants.append(want)
        for ch in (0, 1):
            want = wants[ch]
            g = got[ch]
            if want is None and not silent and not self.b.pga_zc and wants[1 - ch] is not None:
                # ZCEN low: a channel balance takes below the range stays at the floor while
                # the other plays (from the floor to silence would be a cut).
                okay = g is None or abs(g - floor) <= TOL_CDB
            elif want is None:
                okay = g is None
            else:
                okay = g is not None and want - 50 < g <= want + TOL_CDB
            if not okay:
                self._bad(e[0], "balance", "%s at %s, but volume %.1f dBV, balance %.1f dB%s "
                          "say %s" % (("left", "right")[ch], "silence" if g is None else
                                      "%.2f dBV" % (g / 100), volume / 2, balance / 2,
                                      ", muted" if silent else "",
                                      "silence" if want is None else "%.2f dBV" % (want / 100)))
                return

    # ---- the SPL limit
    def _hp_offsets(self, args, r):
        """The headphone a `set headphone` the board accepted chose: SPL offsets per output
        (cdB), None for none. Inline figures (what the host tools send) from the line
        itself; a profile by name from the board's own file, which the trace does not
        hold: its figures from the reply."""
        if args == ["none"]:
            return None
        ohm = db_v = None
        if len(args) >= 4 and args[2] in ("dB/mW", "dB/V"):
            try:
                ohm, sens = float(args[0]), float(args[1])
            except ValueError:
                pass
            else:
                db_v = sens if args[2] == "dB/V" else sens + 10 * math.log10(1000.0 / ohm)
        if db_v is None:
            hp = r.get("headphone")
            if not isinstance(hp, dict):
                return None
            ohm, db_v = hp["ohm"], hp["db_v"]
        if None in self.zo[:len(self.b.outputs)]:
            return None
        return tuple(None if zo is None else db_v * 100 + 2000 * math.log10(ohm / (ohm + zo))
                     for zo in self.zo)

    def _spl_state(self, t, off, limit):
        if (off, limit) != self.spl_states[-1][1:3]:
            # ZCEN low: a tighter cap binds once the walk down to it can have ended.
            grace = SPL_GRACE_US
            if off is not None and limit is not None and off[self.jack_output] is not None:
                grace += self._walk_us(limit - off[self.jack_output])
            self.spl_states.append((t, off, limit, grace))

    def _spl_cap(self, t):
        """The loosest cap (cdB at the jack, per output) of the states in effect within
        the grace before t; None: no cap."""
        caps = None
        n = len(self.spl_states)
        for i, (_since, off, limit, _) in enumerate(self.spl_states):
            nxt = self.spl_states[i + 1] if i + 1 < n else None
            if nxt is not None and nxt[0] + nxt[3] <= t:
                continue
            if off is None or limit is None:
                return None
            c = [None if x is None else limit - x for x in off]
            caps = c if caps is None else [a if b is None or (a is not None and a > b) else b
                                           for a, b in zip(caps, c)]
        return caps

    def at(self, t):
        """Time has reached t: states whose grace ended meanwhile bind the standing jack,
        and those too old to matter are dropped."""
        while len(self.spl_states) > 1 and self.spl_states[1][0] + self.spl_states[1][3] <= t:
            bind = self.spl_states[1][0] + self.spl_states[1][3]
            self.spl_states.pop(0)
            self._spl_check(bind, self.jack, self._spl_cap(bind))

    def _spl_check(self, t, levels, caps):
        if caps is None:
            return
        cap = caps[self.jack_output]
        if cap is None:
            return
        for ch, lv in zip(("left", "right"), levels):
            if lv is not None and lv > cap + SPL_TOL_CDB:
                self._bad(t, "spl-limit", "the %s channel played %.2f dBV: %.1f dB above the "
                          "SPL limit with the headphone" % (ch, lv / 100, (lv - cap) / 100))
                break

    def _loud(self):
        """What still plays or is still driven, in words (empty: all quiet)."""
        b = self.b
        why = []
        if self.jack != (None, None):
            why.append("the jack played %s" % (self.jack,))
        # what the MCU drives does not reach a chip its hardware mute path has gated
        late = self.gated != "pga_relay"
        if b.dac is not None and self.pins.get(b.dac_xsmt) == 1 and self.gated is None:
            why.append("XSMT was high")
        if self.pins.get(b.pga_mute) == 1 and late:
            why.append("the PGA2311's MUTE was not asserted")
        if self.pins.get(self.mute_pin) == self.mute_on and late:
            why.append("the mute relay's coil was still driven")
        return why

    def _off_sequence(self, t):
        """The hold-up after a supply-off edge ends at t: everything quiet by now."""
        self.off_checks += 1
        why = self._loud()
        if why:
            self._bad(t, "off-sequence", "the hold-up ended with " + "; ".join(why))

    def _off(self, t):
        """The MCU stopped for want of supply (an `off` record)."""
        why = self._loud()
        if why:
            self._bad(t, "silent-off", "the MCU died with " + "; ".join(why))

    # ---- results
    def ok(self):
        return not self.violations

    def report(self):
        return "\n".join("%9.3f ms %s: %s" % (t / 1000, rule, msg) for t, rule, msg in self.violations)
