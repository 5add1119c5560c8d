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

from .boardparts import chip_part
from .rules import (
    MAX_STEPS_PER_DETENT,
    RAMP_SAMPLES,
    SPL_DEFAULT_CDB,
    SPL_GRACE_US,
    TRIGGER_OPEN_US,
    _level,
)
from .rules_display import DISPLAY_LAG_US, DisplayRules
from .rules_host import HostRules
from .rules_level import LevelRules


class Checker(HostRules, LevelRules, DisplayRules):
    def __init__(self, board, display_lag_us=DISPLAY_LAG_US):
        """`display_lag_us`: how long the display may take to show a change at the jack
        (longer only for a firmware made slower on purpose: CostModel(slow=N))."""
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
        # The 12 V trigger (board `trigger`): high only while the outputs play.
        self.trigger_pin = getattr(b, "trigger_pin", None)
        self.trigger_on = 1 if getattr(b, "trigger_active_high", True) else 0
        # The input selector's pins (board `inputs.select`): GPIO -> bit.
        self.selects = {g: k for k, g in enumerate(getattr(b, "input_select", ()))}
        self.select_on = 1 if getattr(b, "input_active_high", True) else 0
        self.relay_closed_at = None   # when the mute relay's coil was last driven closed
        self.relay_open_at = 0        # ...and open (None: it is closed)
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
        self.web_cmds = {}                 # the web's: connection -> its line, till its reply
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
        self._display_init(display_lag_us)

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
        elif kind == "web":
            self._web(t, f)
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
            elif what == "display":
                self._display_due(when, arg)
            elif what == "display-ahead":
                self._display_ahead(when, arg)
            elif what == "trigger":
                self._trigger_due(when, arg)

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
        self.web_cmds = {}
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
        self.web_cmds = {}
        self.expect = None
        self.pending = self.press = None
        self.cap = self._boot_cap(t)
        self._cap_near = False

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
        if old != level and (n == self.mute_pin or n == self.trigger_pin):
            self._trigger(t, n, level)
        k = self.selects.get(n)
        if k is not None and old is not None and level is not None and old != level:
            # The input's selector moves under mute, as a relay does.
            self._relay(t, "input.select%d" % k, level == self.select_on)
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

    def _trigger(self, t, n, level):
        """The 12 V trigger: it rises only once the outputs have played (the mute relay
        closed) for its delay, so a power amplifier after this one comes on after it; and
        it is low whenever the outputs stay cut off for longer than a switch's relay dance
        (standby, a faulty part, a boot), so that amplifier is off then."""
        if n == self.mute_pin:
            if level == self.mute_on:
                self.relay_closed_at, self.relay_open_at = t, None
            else:
                self.relay_open_at = t
                if self.pins.get(self.trigger_pin) == self.trigger_on:
                    self._deadline(t + TRIGGER_OPEN_US, "trigger", t)
            return
        if level != self.trigger_on:
            return
        closed = self.relay_closed_at
        delay_us = self.b.trigger_delay_ms * 1000
        if self.relay_open_at is not None or closed is None or t < closed + delay_us:
            self._bad(t, "trigger-early", "the 12 V trigger rose while the outputs were "
                      "muted or within its %d ms delay of their unmuting" % self.b.trigger_delay_ms)

    def _trigger_due(self, t, opened):
        """TRIGGER_OPEN_US after the mute relay opened at `opened` with the trigger high."""
        if (self.supply and self.relay_open_at == opened
                and self.pins.get(self.trigger_pin) == self.trigger_on):
            self._bad(t, "trigger-late", "the 12 V trigger was still high %d ms after the "
                      "outputs were cut off (standby, a fault or a stop drops it first)"
                      % (TRIGGER_OPEN_US // 1000))

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
        old = self.jack
        self._jack(t, levels, dac)
        self._display_jack(t, old, levels)

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

    # ---- results
    def ok(self):
        return not self.violations

    def report(self):
        return "\n".join("%9.3f ms %s: %s" % (t / 1000, rule, msg) for t, rule, msg in self.violations)
