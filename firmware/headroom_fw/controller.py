"""The amplifier's decisions: level, mute, relays, ramps, when to save. No `machine`.

Events go in (`turn`, `click`, `long_press`, `set_gain`, `set_output`,
`power_fail`, `set_fault`) with the time in ticks_ms; `tick(now)` advances the
sequences; the outputs (`mute_relay`, `pga_mute`, `dac_mute`, `gain_relay`,
`output_relay`, `codes`) say what the pins, the PGA2311 and the DAC's soft mute must
show. The app copies them to the drivers, then says when they moved (`moved(t)`).

Every relay move happens under mute: DAC and PGA to mute (the PGA at a zero crossing,
16 ms at most), open the mute relay, wait its release time, move the relays, wait
their operate time plus the settle time, close the mute relay, then ramp the level up
from the PGA's floor one `ramp_step` per `ramp_interval`. Each wait counts from when
the pins that start it actually moved (`moved`), not from when the pass that moved
them was due: a late pass never shortens a wait. Waits get 1 ms on top, because
ticks_ms only counts whole milliseconds.

Also decided here, for the app to carry out: the order to go quiet in when the loop
cannot go on (`quiet_sequence`), when to save (`save_due`: never while the supply is
failing), that a supply that comes back means a restart (`power_back`), that a switch
wins over a saved setting, and that any faulty part holds everything muted.
"""
from time import ticks_add, ticks_diff

from micropython import const

from .volume import fill_codes, path_floor_hdb, path_max_hdb

BOOT = const(0)          # muted, waiting for the board's settle delay
DAC_MUTING = const(1)    # the DAC's soft mute ramping down (the PGA still passes the fade)
MUTING = const(2)        # PGA told to mute, waiting for its zero crossing
RELEASING = const(3)     # mute relay opening
SWITCHING = const(4)     # gain/output relays moving
UNMUTING = const(5)      # mute relay closing (PGA still at mute)
PLAYING = const(6)
POWER_FAIL = const(7)
HELD = const(8)          # muted, relay open, while a part is faulty
PHASE_NAMES = ("boot", "dac-muting", "muting", "releasing", "switching", "unmuting", "playing",
               "power-fail", "held")

# Faults (bits of Controller.faults): while any is set, nothing plays.
FAULT_DAC = const(1)
FAULT_PGA = const(2)
FAULT_POWER_SENSE = const(4)
FAULT_RELAY = const(8)

MODE_VOLUME = const(0)
MODE_BALANCE = const(1)

BALANCE_MAX_HDB = const(20)   # +-10 dB
_ZC_TIMEOUT_MS = const(16)    # PGA2311 zero-crossing time-out
_IDLE_WAKE_MS = const(10)     # poll period for switches and the button
_CONFIRM_MS = const(10000)    # a long press confirms a host's request this long


class Controller:
    def __init__(self, board, settings, gain, output, now_ms):
        """`settings`: validated dict (volume, balance, gain, output, limit in hdB/ints).

        `gain`/`output`: the switch positions (0/1), or None where the board has no such
        switch: a switch wins over the saved setting.
        """
        self.b = board
        self.limit = settings["limit"]
        gain = settings["gain"] if gain is None else gain
        output = settings["output"] if output is None else output
        self.gain = gain
        self.output = output
        self.balance = settings["balance"]
        # The balance the PGA2311 plays: a knob's turn sets it at once; a host's request (or
        # the defaults) walks it there a ramp step per ramp interval, so that neither
        # channel ever jumps up.
        self._trim = self.balance
        self._next_trim = now_ms
        self._trim_moved = False
        self.volume = self._clamp_volume(min(settings["volume"], board.startup_max_hdb))
        self.user_muted = False
        self._quiet = False          # a user mute has gone past the DAC's ramp: the PGA mutes
        self._quiet_at = now_ms      # ...at this time
        self._quiet_armed = False    # its wait starts when XSMT has moved (moved())
        self.mode = MODE_VOLUME
        self._mode_until = now_ms
        self.faults = 0

        self.codes = bytearray(len(board.pga_roles))
        self.mute_relay = False
        self.pga_mute = True
        self.dac_mute = True
        self.gain_relay = gain
        self.output_relay = output

        self.phase = BOOT
        relays = 0
        for r in (board.gain_relay, board.output_relay):
            if r is not None:
                relays = max(relays, r.operate_ms + board.relay_settle_ms)
        self._until = ticks_add(now_ms, max(board.settle_ms, relays) + 1)
        self._armed = -1           # a wait to start when the pins move (ms), or -1
        self._ceiling = 0
        self._ramping = False
        self._next_ramp = now_ms
        self._ramp_moved = False   # a ramp step went out: the next is due an interval after

        self._stored = self.persistent()
        self._changed_ms = now_ms
        self._dirty = False
        self.changes = 0           # counts every change a host should hear about
        # A host request that raises the limit waits for a long press on the board:
        # (limit hdB, whether to restore every default with it) until _pending_until.
        self._pending = None
        self._pending_until = now_ms

    # ---- derived values
    def path_cdb(self):
        return self.b.path_cdb(self.gain_relay, self.output_relay)

    def max_volume(self, gain=None, output=None):
        """Highest volume allowed on a path (default: the selected one)."""
        g = self.gain if gain is None else gain
        o = self.output if output is None else output
        top = path_max_hdb(self.b.path_cdb(g, o), self.b.max_out_cdb[o])
        return top if top < self.limit else self.limit

    def _clamp_volume(self, v):
        top = self.max_volume()
        if v > top:
            v = top
        if v < self.b.min_hdb:
            v = self.b.min_hdb
        return v

    def level(self):
        """The volume the PGA2311 passes now (hdB), or None when muted. While the DAC's soft
        mute ramps down (a switch, a user mute) the PGA keeps the level: it cuts only once
        the DAC is silent, so the fade is the DAC's, never a click."""
        p = self.phase
        if (p != PLAYING and p != DAC_MUTING) or (self.user_muted and self._quiet):
            return None
        if self._ramping and self._ceiling < self.volume:
            return self._ceiling
        return self.volume

    def persistent(self):
        return (self.volume, self.balance, self.gain, self.output, self.limit)

    def _unsaved(self):
        # Field by field, not persistent() != stored: a tuple per detent is garbage.
        s = self._stored
        return (self.volume != s[0] or self.balance != s[1] or self.gain != s[2]
                or self.output != s[3] or self.limit != s[4])

    # ---- user events
    def _touched(self, now):
        self._changed_ms = now
        self._dirty = self._unsaved()
        self.changes += 1

    def phase_name(self):
        return PHASE_NAMES[self.phase]

    # ---- the host (control protocol): same rules as the knob; None = done, else why not
    def host_volume(self, hdb, now):
        if self.phase == POWER_FAIL:
            return "power is failing"
        top = self.max_volume()
        if not self.b.min_hdb <= hdb <= top:
            return "volume: outside %s..%s dBV" % (_db(self.b.min_hdb), _db(top))
        self._fade_to(hdb, now)
        self._touched(now)
        return None

    def _fade_to(self, hdb, now):
        if hdb > self.volume and not self._ramping:
            # A rise from the host fades in from where it is, like a restore.
            self._ceiling = self.volume
            self._ramping = True
            self._next_ramp = ticks_add(now, self.b.ramp_interval_ms)
        self.volume = hdb

    def host_balance(self, hdb, now):
        if not -BALANCE_MAX_HDB <= hdb <= BALANCE_MAX_HDB:
            return "balance: outside -10..10 dB"
        self.balance = hdb
        self._next_trim = now
        self._touched(now)
        return None

    def host_gain(self, gain, now):
        self.set_gain(gain, now)
        return None

    def host_output(self, output, now):
        if output not in self.b.outputs:
            return "output: this board has no balanced output"
        self.set_output(output, now)
        return None

    def host_mute(self, on, now):
        if self.phase == POWER_FAIL:
            return "power is failing"
        if on != self.user_muted:
            self._user_mute(on, now)
        self._touched(now)
        return None

    def _user_mute(self, on, now):
        """Mute (the DAC first, the PGA once its ramp is done) or un-mute (a fade-in)."""
        self.user_muted = on
        if on:
            self._quiet = self.b.dac_mute_ms == 0
            self._quiet_at = ticks_add(now, self.b.dac_mute_ms)
            self._quiet_armed = True
        else:
            self._quiet = False
            self._start_ramp(now)
        # The outputs now: a host's mute comes after this pass's tick, and the DAC's ramp
        # must start in this pass, or the next tick would find its wait over and mute
        # the PGA2311 together with the DAC - a click.
        self._apply_outputs()

    def host_limit(self, hdb, now):
        """Lowering the limit is immediate; raising it waits for a long press on the board."""
        if not self.b.min_hdb <= hdb <= self.b.limit_hdb:
            return "limit: outside %s..%s dBV" % (_db(self.b.min_hdb), _db(self.b.limit_hdb))
        if hdb <= self.limit:
            self.limit = hdb
            self.volume = self._clamp_volume(self.volume)
            self._touched(now)
            return None
        return self._ask_press(hdb, False, now)

    def host_defaults(self, now):
        """The board's defaults for volume, balance and limit (and gain/output where no
        switch sets them): at once, or after a long press when the limit would rise."""
        if self.phase == POWER_FAIL:
            return "power is failing"
        if self.b.limit_hdb > self.limit:
            return self._ask_press(self.b.limit_hdb, True, now)
        self._defaults(now)
        return None

    def _ask_press(self, limit, defaults, now):
        self._pending = (limit, defaults)
        self._pending_until = ticks_add(now, _CONFIRM_MS)
        return "raising the limit to %s dBV needs a long press on the board within 10 s" % _db(limit)

    def _defaults(self, now):
        b = self.b
        self.limit = b.limit_hdb
        self.balance = 0
        self.mode = MODE_VOLUME
        if b.gain_switch is None:
            self.set_gain(0, now)
        if b.output_switch is None:
            self.set_output(0, now)
        self._fade_to(self._clamp_volume(b.default_hdb), now)
        self._touched(now)

    def turn(self, detents, steps, now):
        """The knob moved by `detents` (positive clockwise), worth `steps` 0.5 dB steps of
        volume at the knob's speed (quadrature.Acceleration, applied per detent as it came)."""
        if detents == 0 or self.phase == POWER_FAIL:
            return
        if self.mode == MODE_BALANCE:
            bal = self.balance + detents
            self.balance = max(-BALANCE_MAX_HDB, min(BALANCE_MAX_HDB, bal))
            self._trim = self.balance
            self._mode_until = ticks_add(now, self.b.balance_timeout_ms)
        else:
            old = self.volume
            self.volume = self._clamp_volume(old + steps)
            if self._ramping and self.volume > old:
                # The user's own turn lifts the ramp's ceiling by as much.
                self._ceiling += self.volume - old
        self._touched(now)

    def click(self, now):
        """Short press: toggles mute, or leaves balance mode."""
        if self.phase == POWER_FAIL:
            return
        if self.mode == MODE_BALANCE:
            self.mode = MODE_VOLUME
        else:
            self._user_mute(not self.user_muted, now)
        self._touched(now)

    def long_press(self, now):
        """Long press: confirms a limit the host asked to raise; else enters balance mode
        (the knob trims balance until a click or time-out)."""
        if self.phase == POWER_FAIL:
            return
        p = self._pending
        self._pending = None
        if p is not None and ticks_diff(self._pending_until, now) >= 0:
            if p[1]:
                self._defaults(now)
            else:
                self.limit = p[0]
        elif self.mode == MODE_VOLUME:
            self.mode = MODE_BALANCE
            self._mode_until = ticks_add(now, self.b.balance_timeout_ms)
        else:
            self.mode = MODE_VOLUME
        self._touched(now)

    def set_gain(self, gain, now):
        self._select(gain, self.output, now)

    def set_output(self, output, now):
        if output in self.b.outputs:
            self._select(self.gain, output, now)

    def _select(self, gain, output, now):
        if (gain, output) == (self.gain, self.output) or self.phase == POWER_FAIL:
            return
        self.gain = gain
        self.output = output
        # The new path never plays louder than the old one did.
        self.volume = self._clamp_volume(self.volume)
        self._touched(now)
        if self.phase == BOOT:
            # Still muted: move now, but unmute no sooner than the contacts settle.
            wait = self._move_relays()
            if wait and ticks_diff(ticks_add(now, wait + 1), self._until) > 0:
                self._until = ticks_add(now, wait + 1)
                self._armed = wait + 1
        elif self.phase == SWITCHING or self.phase == HELD:
            self._enter(SWITCHING, self._move_relays(), now)
        elif self.phase in (UNMUTING, PLAYING):
            self._mute_first(now)

    def _mute_first(self, now):
        """Start the muting sequence: the DAC's soft mute ramps down first (if it is not
        silent already), then the PGA2311 mutes, then the mute relay opens."""
        if self.b.dac_mute_ms and self.phase == PLAYING and not (self.user_muted and self._quiet):
            self._enter(DAC_MUTING, self.b.dac_mute_ms, now)
        else:
            self._enter(MUTING, self._mute_wait(), now)

    def _mute_wait(self):
        """How long until the PGA2311 surely passes nothing: its zero-crossing time-out."""
        return _ZC_TIMEOUT_MS if self.b.pga_zc else 0

    def quiet_sequence(self):
        """How to go quiet when the main loop cannot run on (an exception, Ctrl-C):
        (stage, ms to wait after it) in the order that never pops - the DAC's soft
        mute ramps down, then the PGA2311 mutes (at a zero crossing), then the mute
        relay opens on silence."""
        zc = _ZC_TIMEOUT_MS + 1 if self.b.pga_zc else 1
        return (("dac", self.b.dac_mute_ms), ("pga", zc), ("relay", 0))  # dac_mute_ms: 0 without a DAC

    def save_before_stop(self):
        """Whether settings changed since the last save must be written now, because the
        firmware is stopping: yes, unless the supply is failing (a flash write then could
        be cut half way, and holds interrupts off)."""
        return self._dirty and self.phase != POWER_FAIL

    def power_fail(self, now):
        """Supply is failing: mute at once and stay muted."""
        self.phase = POWER_FAIL
        self._ramping = False
        self._armed = -1
        self._apply_outputs()

    def power_back(self):
        """The supply monitor is high again while the MCU still runs (a dip shorter than the
        hold-up): the analog rails dipped and the PGA2311 may have reset. True: start again,
        muted, from boot (the app resets the MCU)."""
        return self.phase == POWER_FAIL

    def set_fault(self, bit, on, now):
        """A part became faulty (`on`) or answers again: while any fault stands, the amp
        goes quiet in the usual order and stays muted; once all clear it fades back in."""
        was = self.faults
        self.faults = (was | bit) if on else (was & ~bit)
        if self.faults == was:
            return
        self.changes += 1
        if self.faults and self.phase in (UNMUTING, PLAYING):
            self._mute_first(now)

    def pga_lost(self, now):
        """The PGA2311 chain lost its codes (it reset, or was never set): they are sent
        again, but as a fade-in from the floor, never a jump back to the level."""
        if self.phase == PLAYING:
            self._start_ramp(now)
            self._apply_outputs()

    # ---- time
    def _enter(self, phase, wait_ms, now):
        self.phase = phase
        self.changes += 1
        # Provisional: moved() restarts the wait from when the pins actually moved.
        self._until = ticks_add(now, wait_ms + 1)
        self._armed = wait_ms + 1
        self._apply_outputs()

    def moved(self, t):
        """The app copied the outputs to the pins, the last of them at ticks_ms `t`: the
        wait that started this pass (a phase's, a ramp step's) counts from then."""
        if self._armed >= 0:
            at = ticks_add(t, self._armed)
            if ticks_diff(at, self._until) > 0:  # never shorter than already planned
                self._until = at
            self._armed = -1
        if self._quiet_armed:
            self._quiet_at = ticks_add(t, self.b.dac_mute_ms)
            self._quiet_armed = False
        if self._ramp_moved:
            # +1: t is whole ms, the frame went out somewhere inside it.
            self._next_ramp = ticks_add(t, self.b.ramp_interval_ms + 1)
            self._ramp_moved = False
        if self._trim_moved:
            self._next_trim = ticks_add(t, self.b.ramp_interval_ms + 1)
            self._trim_moved = False

    def _move_relays(self):
        """Set the gain/output relays to the selection; returns the wait for their contacts."""
        wait = 0
        for relay, want, attr in ((self.b.gain_relay, self.gain, "gain_relay"),
                                  (self.b.output_relay, self.output, "output_relay")):
            if relay is None:
                continue
            have = getattr(self, attr)
            if have != want:
                setattr(self, attr, want)
                t = relay.operate_ms if want else relay.release_ms
                wait = max(wait, t + self.b.relay_settle_ms)
        return wait

    def _start_ramp(self, now):
        self._ceiling = path_floor_hdb(self.path_cdb())
        self._ramping = True
        self._next_ramp = ticks_add(now, self.b.ramp_interval_ms)
        self._ramp_moved = True  # the floor goes out this pass: the first step counts from it

    def tick(self, now):
        """Advance sequences, ramps and time-outs to `now`."""
        while (self.phase < PLAYING or self.phase == HELD) and ticks_diff(now, self._until) >= 0:
            p = self.phase
            if p == DAC_MUTING:
                self._enter(MUTING, self._mute_wait(), now)
            elif p == MUTING:
                self._enter(RELEASING, self.b.mute_relay.release_ms, now)
            elif p == RELEASING:
                self._enter(SWITCHING, self._move_relays(), now)
            elif p == BOOT or p == SWITCHING or p == HELD:
                if (self.gain_relay, self.output_relay) != (self.gain, self.output):
                    self._enter(SWITCHING, self._move_relays(), now)
                elif self.faults:
                    if p != HELD:
                        self._enter(HELD, 0, now)
                    self._until = ticks_add(now, _IDLE_WAKE_MS)  # looked at again each poll
                    self._armed = -1
                    break
                else:
                    self._enter(UNMUTING, self.b.mute_relay.operate_ms + self.b.relay_settle_ms, now)
            elif p == UNMUTING:
                self._enter(PLAYING, 0, now)
                self._start_ramp(now)
            if self._armed >= 0:
                break  # the next wait starts when this pass's pins have moved
        if self.user_muted and not self._quiet and not self._quiet_armed and \
                ticks_diff(now, self._quiet_at) >= 0:
            self._quiet = True   # the DAC's ramp is done: now the PGA mutes too
        if self._ramping and ticks_diff(now, self._next_ramp) >= 0:
            self._ceiling += self.b.ramp_step_hdb
            self._ramp_moved = True
            self._next_ramp = ticks_add(now, self.b.ramp_interval_ms)
            if self._ceiling >= self.volume:
                self._ramping = False
        # A balance step waits for the level's ramp to end, and keeps to its interval.
        if self._trim != self.balance and not self._ramping and not self._ramp_moved and \
                ticks_diff(now, self._next_trim) >= 0 and ticks_diff(now, self._next_ramp) >= 0:
            d = self.balance - self._trim
            step = self.b.ramp_step_hdb
            self._trim += step if d > step else (-step if d < -step else d)
            self._trim_moved = True
            self._next_trim = ticks_add(now, self.b.ramp_interval_ms)
        if self.mode == MODE_BALANCE and ticks_diff(now, self._mode_until) >= 0:
            self.mode = MODE_VOLUME
            self.changes += 1
        self._apply_outputs()

    def _apply_outputs(self):
        p = self.phase
        self.dac_mute = p != PLAYING or self.user_muted  # the DAC mutes first, opens last
        if p == PLAYING:
            self.pga_mute = self.user_muted and self._quiet
        else:
            self.pga_mute = p != DAC_MUTING and p != UNMUTING
        self.mute_relay = p in (DAC_MUTING, MUTING, UNMUTING, PLAYING)
        fill_codes(self.codes, self.b.pga_roles, self.level(), self._trim, self.path_cdb())

    def next_wake(self, now):
        """Milliseconds until the next thing to do (at most the input poll period)."""
        wait = _IDLE_WAKE_MS
        if self.phase < PLAYING or self.phase == HELD:
            wait = min(wait, ticks_diff(self._until, now))
        if self._ramping:
            wait = min(wait, ticks_diff(self._next_ramp, now))
        elif self._trim != self.balance:
            wait = min(wait, ticks_diff(self._next_trim, now))
        if self.user_muted and not self._quiet:
            wait = min(wait, ticks_diff(self._quiet_at, now))
        return max(wait, 1)

    # ---- persistence
    def save_due(self, now):
        """True when the settings changed and the controls have been still long enough;
        never while the supply fails (a flash write then could be cut half way, and it
        holds interrupts off)."""
        return (self._dirty and self.phase != POWER_FAIL
                and ticks_diff(now, self._changed_ms) >= self.b.save_delay_ms)

    def saved(self):
        """The app stored `persistent()`."""
        self._stored = self.persistent()
        self._dirty = False


def _db(h):
    s = "-" if h < 0 else ""
    h = -h if h < 0 else h
    return "%s%d.%d" % (s, h // 2, 5 * (h % 2))
