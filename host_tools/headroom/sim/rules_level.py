"""The trace checker's rules about the level at the jack (part of invariants.Checker):
the limit, the start-up cap, rises a turn explains, ramp steps, balance, the SPL limit,
the order of a supply-off."""
import math

from .rules import AUDIBLE_CDB, CLICK_CDB, PGA_RANGE_CDB, RAMP_SAMPLES, SPL_GRACE_US, SPL_TOL_CDB, TOL_CDB


class LevelRules:
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
