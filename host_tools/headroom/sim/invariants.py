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
  too, takes effect where the signal crosses zero, which is click-free by design);
- `spl-limit`: with a headphone, the jack's level never gives more than the SPL limit:
  level + dB/V + 20*log10(Z / (Z + Zo)) <= limit, per channel, on the output the jack
  plays. The headphone (its name, Z and dB/V) and the limit are what the firmware
  reported on the serial port (replies and events; after a boot, nothing until it
  reports again), so the rule checks the levels the chip models decoded against the
  user's own figures. A tighter headphone or limit binds SPL_GRACE_US after it was
  reported (the PGA2311 frame, its zero-crossing time-out); until then the looser holds;
- `fault`, `crash`: the simulator found a part misused, the firmware raised.
"""
import json
import math

RULES = ("relay-under-mute", "settle", "relay-settle", "ramp-interval", "silent-off", "undone",
         "click", "spl-limit", "fault", "crash")
SPL_GRACE_US = 40000    # from a reply to the jack following it: a pass, ZCEN's 16 ms, margin
SPL_TOL_CDB = 1         # the jack's two decimals

TURN_SLACK_US = 40000   # after a turn's last edge, its level changes still arrive (ZCEN 16 ms)
CLICK_CDB = 300         # a fall of more than 3 dB in an instant...
AUDIBLE_CDB = -12000    # ...of a signal above -120 dBV at the jack
RAMP_SAMPLES = 104      # the DAC's soft mute: 104 one-dB steps


def _level(v):
    """A jack/PGA level as the trace holds it (Db, number or "mute") -> cdB int, None = mute."""
    if v is None or v == "mute":
        return None
    if hasattr(v, "value"):  # trace.Db, live
        return v.value * 100 // v.scale
    return int(round(v * 100))


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
        self.last_rise = None
        self.gated = None         # the board's hardware mute path: how far it has gated
        self.failing = False      # the supply is off (its monitor fell)
        self.quieting = False     # ...and the firmware has begun to mute
        # The SPL rule: [(since t_us, offsets per output in cdB or None, limit cdB)].
        self.zo = [st.z_out_ohm if st is not None else None for st in b.output_stage]
        self.spl_states = [(0, None, None)]
        self.spl_checked = 0      # standing checks done for the states' grace ends
        self.jack_output = 0

    # ---- input
    def live(self, t_us, kind, fields):
        """A Trace listener: the record as it is made."""
        self.check(t_us, kind, dict(fields))

    def feed(self, rec):
        """A record read from a trace file (a dict with t_us and kind)."""
        if "t_us" in rec:
            self.check(rec["t_us"], rec["kind"], rec)

    def _bad(self, t, rule, msg):
        self.violations.append((t, rule, msg))

    # ---- the rules
    def check(self, t, kind, f):
        if len(self.spl_states) > 1:
            self.at(t)
        if kind == "power":
            self.failing = not f["on"]
            self.quieting = False
            if f["on"]:
                self.power_on_us = t
        elif kind == "pin":
            self._pin(t, f["pin"], f["level"])
        elif kind == "chip":
            chip = f["chip"]
            state = dict(f["state"])
            if chip.startswith("relay."):
                if chip == "relay.mute" and not state["energized"]:
                    self.cut = True
                self._relay(t, chip[6:], state["energized"])
            elif chip.startswith("pga2311."):
                old = self.pga.get(chip)
                if state["mute"] and (old is None or not old[2]):
                    self.cut = True
                self.pga[chip] = (_level(state["left"]), _level(state["right"]), state["mute"])
            elif chip == "jack":
                self.jack_output = 1 if state.get("output") == "balanced" else 0
                self._spl_check(t, (_level(state["left"]), _level(state["right"])), self._spl_cap(t))
                self._jack(t, (_level(state["left"]), _level(state["right"])),
                           state.get("dac", "on"))
        elif kind == "input":
            if f["what"] == "turn":
                self.turn_until = max(self.turn_until, t + f["us"] + TURN_SLACK_US)
        elif kind == "boot":
            self._spl_state(t, None, None)   # unknown until the firmware reports it
        elif kind == "serial":
            if f.get("dir") == "out":
                self._serial(t, f.get("line", ""))
        elif kind == "reset":
            pass
        elif kind == "hardware_mute":
            self.gated = None if f["stage"] == "released" else f["stage"]
        elif kind == "off":
            self._off(t)
        elif kind == "fault":
            self._bad(t, "fault", f["message"])
        elif kind == "crash":
            self._bad(t, "crash", f["error"])

    def _pin(self, t, n, level):
        old = self.pins.get(n)
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

    def _relay(self, t, name, energized):
        old = self.relays.get(name)
        self.relays[name] = energized
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
        rose = any(n is not None and (o is None or n > o) for n, o in zip(levels, old))
        if not rose or t <= self.turn_until:
            return
        if self.last_rise is not None:
            gap = t - self.last_rise
            if gap < self.b.ramp_interval_ms * 1000:
                self._bad(t, "ramp-interval", "the level rose %.2f ms after the last rise; "
                          "ramp steps are %d ms apart" % (gap / 1000, self.b.ramp_interval_ms))
        self.last_rise = t

    # ---- the SPL limit
    def _serial(self, t, line):
        if '"headphone"' not in line and '"spl_limit"' not in line:
            return
        try:
            r = json.loads(line)
        except ValueError:
            return
        if not isinstance(r, dict) or r.get("ok") is False:
            return
        _, off, limit = self.spl_states[-1]
        if "headphone" in r:
            hp = r["headphone"]
            off = None
            if isinstance(hp, dict) and None not in self.zo[:len(self.b.outputs)]:
                off = tuple(None if zo is None else
                            hp["db_v"] * 100 + 2000 * math.log10(hp["ohm"] / (hp["ohm"] + zo))
                            for zo in self.zo)
        if "spl_limit" in r:
            limit = r["spl_limit"] * 100
        self._spl_state(t, off, limit)

    def _spl_state(self, t, off, limit):
        if (off, limit) != self.spl_states[-1][1:]:
            self.spl_states.append((t, off, limit))

    def _spl_cap(self, t):
        """The loosest cap (cdB at the jack, per output) of the states in effect within
        the grace before t; None: no cap."""
        caps = None
        n = len(self.spl_states)
        for i, (_since, off, limit) in enumerate(self.spl_states):
            until = self.spl_states[i + 1][0] if i + 1 < n else None
            if until is not None and until + SPL_GRACE_US <= t:
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
        while len(self.spl_states) > 1 and self.spl_states[1][0] + SPL_GRACE_US <= t:
            bind = self.spl_states[1][0] + SPL_GRACE_US
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

    def _off(self, t):
        """The MCU stopped for want of supply (an `off` record)."""
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
        if why:
            self._bad(t, "silent-off", "the MCU died with " + "; ".join(why))

    # ---- results
    def ok(self):
        return not self.violations

    def report(self):
        return "\n".join("%9.3f ms %s: %s" % (t / 1000, rule, msg) for t, rule, msg in self.violations)
