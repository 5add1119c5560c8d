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

With the PGA2311's ZCEN tied low (`board.pga_zc` False) a gain change goes in at once, so
every fall of a code walks instead (`_walk_down`: a ramp step, at most 3 dB, per ramp
interval, the first at once, whatever asked for it), and the last step into silence goes
under the DAC's soft mute (a channel that balance alone takes there stays at the floor).
With ZCEN high the zero crossing softens a jump: falls go out at once, as the knob asks.

Also decided here, for the app to carry out: the order to go quiet in when the loop
cannot go on (`quiet_sequence`), when to save (`save_due`: never while the supply is
failing), that a supply that comes back means a restart (`power_back`), that a switch
wins over a saved setting, and that any faulty part holds everything muted.
"""
from time import ticks_add, ticks_diff

from micropython import const

from .volume import fill_codes, path_floor_hdb

BOOT = const(0)          # muted, waiting for the board's settle delay
DAC_MUTING = const(1)    # the DAC's soft mute ramping down (the PGA still passes the fade)
MUTING = const(2)        # PGA told to mute, waiting for its zero crossing
RELEASING = const(3)     # mute relay opening
SWITCHING = const(4)     # gain/output relays moving
UNMUTING = const(5)      # mute relay closing (PGA still at mute)
PLAYING = const(6)
POWER_FAIL = const(7)
HELD = const(8)          # muted, relay open, while a part is faulty
STANDBY = const(9)       # muted, every relay released, the trigger low, until a touch
PHASE_NAMES = ("boot", "dac-muting", "muting", "releasing", "switching", "unmuting", "playing",
               "power-fail", "held", "standby")

# Faults (bits of Controller.faults): while any is set, nothing plays.
FAULT_DAC = const(1)
FAULT_PGA = const(2)
FAULT_POWER_SENSE = const(4)
FAULT_RELAY = const(8)

# `changes` wraps here: only ever compared for equality, it stays a small int on rp2
# (31 bits) however many years of changes it counts.
_CHANGES_MASK = const(0x3FFFFFFF)
MODE_VOLUME = const(0)
MODE_BALANCE = const(1)

BALANCE_MAX_HDB = const(20)   # +-10 dB
GAIN_AUTO = const(2)          # the gain setting "auto": staged by the level (staged_gain)
SPL_LIMIT_HDB = const(200)    # default hearing-safety limit: 100 dB SPL (a full-scale sine)
SPL_MIN_HDB = const(120)      # 60..130 dB SPL
SPL_MAX_HDB = const(260)
HEADROOM_HDB = const(6)       # auto gain: 3 dB to spare below a gain's top...
HEADROOM_MAX_HDB = const(24)  # (0..12 dB)
BRIGHTNESS_DEFAULT = const(3)  # the display's brightness, 1..4
BRIGHTNESS_MAX = const(4)
DISPLAY_TIMEOUT_S = const(60)  # the display dims after this long untouched (0: never)
DISPLAY_TIMEOUT_MAX_S = const(3600)
AUTO_HYST_HDB = const(4)      # ...and 2 dB more before it steps back down (no flapping)
# What a long press confirms (Controller._pending[0]).
_ASK_LIMIT = const(0)
_ASK_DEFAULTS = const(1)
_ASK_SPL = const(2)
_ZC_TIMEOUT_MS = const(16)    # PGA2311 zero-crossing time-out
_IDLE_WAKE_MS = const(10)     # poll period for switches and the button
_CONFIRM_MS = const(10000)    # a long press confirms a host's request this long
_DIP_NONE = const(0)
_DIP_DOWN = const(1)
_DIP_SILENT = const(2)
_FALL_MAX_HDB = const(6)      # ZCEN low: the most a code falls in one frame (3 dB: the
                              # checker's click threshold; the ramp step when smaller)


class Controller:
    def __init__(self, board, settings, gain, output, now_ms):
        """`settings`: validated dict (volume, balance, gain, output, limit in hdB/ints).

        `gain`/`output`: the switch positions (0/1), or None where the board has no such
        switch: a switch wins over the saved setting.
        """
        self.b = board
        self.limit = settings["limit"]
        self.spl_limit = settings.get("spl_limit", SPL_LIMIT_HDB)
        self.headroom = settings.get("gain_headroom", HEADROOM_HDB)
        # The user's start-up cap (at most the board's startup_max_dbv) and the display's
        # settings, which display.py reads as they are.
        self.startup_cap = settings.get("startup_cap", board.startup_max_hdb)
        self.display_brightness = settings.get("display_brightness", BRIGHTNESS_DEFAULT)
        self.display_timeout_s = settings.get("display_timeout_s", DISPLAY_TIMEOUT_S)
        self.display_dark = settings.get("display_dark", False)
        # The active headphone: (Headphone, SPL offsets per output in cdB) or None.
        hp = settings.get("headphone")
        self.hp = None if hp is None else hp[0]
        self.spl_off = None if hp is None else hp[1]
        gain = settings["gain"] if gain is None else gain
        output = settings["output"] if output is None else output
        self.auto = gain == GAIN_AUTO and board.gain_relay is not None
        self.output = output
        # Each path's clean top (hdB), for the staging and the clamp.
        self._tops = [[board.top_hdb(g, o) for o in (0, 1)] for g in (0, 1)]
        self._order = (0, 1) if board.gain_cdb[0] <= board.gain_cdb[1] else (1, 0)
        self.gain = 0 if gain == GAIN_AUTO else gain
        self.balance = settings["balance"]
        # The balance the PGA2311 plays: a knob's turn sets it at once; a host's request (or
        # the defaults) walks it there a ramp step per ramp interval, so that neither
        # channel ever jumps up.
        self._trim = self.balance
        self._next_trim = now_ms
        self._trim_moved = False
        # Never louder at power-on than the board's start-up cap, nor the user's own.
        self.volume = self._clamp_volume(min(settings["volume"], board.startup_max_hdb,
                                             self.startup_cap))
        if self.auto:
            self.gain = staged_gain(self._tops, self._order, self._order[0], output, self.volume,
                                    self.headroom)
        self.user_muted = False
        self._quiet = False          # a user mute has gone past the DAC's ramp: the PGA mutes
        self._quiet_at = now_ms      # ...at this time
        self._quiet_armed = False    # its wait starts when XSMT has moved (moved())
        self.mode = MODE_VOLUME
        self._mode_until = now_ms
        self.faults = 0

        self.codes = bytearray(len(board.pga_roles))
        # With ZCEN tied low (board.pga_zc False) the PGA2311 takes a new gain at once, so
        # a fall of more than a few dB in one frame clicks: the codes then fall towards
        # what is asked in `_fall` steps, one per ramp interval (the fade-in's pace),
        # while rises go out as they are asked (the ramp and the knob already pace
        # those). `_played`: the codes of the last frame, 0 = silent.
        self._played = bytearray(len(board.pga_roles))
        self._walk = not board.pga_zc
        self._fall = min(board.ramp_step_hdb, _FALL_MAX_HDB)
        self._falling = False      # a code is still above what is asked
        self._fall_ok = True       # a fall step may go out this pass
        self._fall_moved = False   # one went out: the next is due an interval after it
        self._next_fall = now_ms
        # The last step, from the PGA2311's floor into silence (a level below its range),
        # is a cut however small: it goes under the DAC's soft mute, a dip: XSMT low
        # (_DIP_DOWN), its ramp's time (_DIP_SILENT), the code to silence, XSMT high again.
        self._dip = _DIP_NONE
        self._dip_at = now_ms
        self._dip_armed = False
        self.mute_relay = False
        self.pga_mute = True
        self.dac_mute = True
        self.gain_relay = self.gain
        self.output_relay = output
        # The input (board `inputs`): the one chosen, the one the select pins show, and
        # each input's level trim (hdB, at most 0: a trim only lowers, so no limit can be
        # passed through one); `_trims_v` counts their changes (for the save).
        n = len(board.input_names)
        inp = settings.get("input", 0)
        self.input = inp if 0 <= inp < n else 0
        self.input_relay = self.input
        trims = settings.get("trims")
        self.trims = list(trims) if trims is not None and len(trims) == n else [0] * n
        self._trims_v = 0
        self.input_names_b = tuple(name.encode() for name in board.input_names)   # for status
        # The music's presence (the DAC's status, supervisor.PCM5122Part): None where the
        # board cannot tell, and the rate class it detects (register 91: 3 is 32-48 kHz,
        # 4 88.2-96 kHz, 5 176.4-192 kHz; 0 none). Auto-standby after `auto_standby_min`
        # (0: off) without a signal and without a touch; `_active_ms`: the last of either.
        self.signal = None
        self.rate_class = 0
        self.auto_standby_min = settings.get("auto_standby_min", 0)
        self._active_ms = now_ms

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
        # Standby (set_standby): asked for, and when the muting may start (the trigger
        # drops first, `trigger_delay_ms` ahead); the 12 V trigger's output, high only
        # while playing (`trigger_delay_ms` after the fade-in starts: a power amplifier
        # after this one comes on after it, and goes off before it).
        self.standby = False
        self._standby_at = now_ms
        self.trigger = False
        self._trigger_at = now_ms
        self.silent_change = -1    # `changes` after a change that is no touch (the trigger's)
        # A host request that raises the limit waits for a long press on the board:
        # (limit hdB, whether to restore every default with it) until _pending_until.
        self._pending = None
        self._pending_until = now_ms

    # ---- derived values
    def path_cdb(self):
        return self.b.path_cdb(self.gain_relay, self.output_relay)

    def max_volume(self, gain=None, output=None):
        """Highest volume allowed on a path (default: the selected one; with auto gain,
        the loudest gain's): the path's clean top, the volume limit, and the level that
        gives the SPL limit with the active headphone."""
        o = self.output if output is None else output
        if gain is None and self.auto:
            top = self._tops[self._order[1]][o]
        else:
            top = self._tops[self.gain if gain is None else gain][o]
        if top > self.limit:
            top = self.limit
        cap = self.spl_cap(o)
        return cap if cap is not None and cap < top else top

    def path_top(self):
        """The highest volume the selected path gives cleanly (with auto gain, the loudest
        gain's), before the limits."""
        o = self.output
        return self._tops[self._order[1] if self.auto else self.gain][o]

    def spl_cap(self, output=None):
        """The highest volume (hdB) whose SPL with the active headphone stays within the
        SPL limit, or None without a headphone."""
        if self.spl_off is None:
            return None
        o = self.output if output is None else output
        return (self.spl_limit * 50 - self.spl_off[o]) // 50

    def spl_cdb(self):
        """SPL of a full-scale sine at the volume setting (cdB), or None without a headphone."""
        if self.spl_off is None:
            return None
        return self.volume * 50 + self.spl_off[self.output]

    def gain_setting(self):
        return GAIN_AUTO if self.auto else self.gain

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
        return (self.volume, self.balance, self.gain_setting(), self.output, self.limit,
                self.spl_limit, self.hp, self.headroom, self.startup_cap,
                self.display_brightness, self.display_timeout_s, self.display_dark,
                self.input, tuple(self.trims), self._trims_v, self.auto_standby_min)

    def _unsaved(self):
        # Field by field, not persistent() != stored: a tuple per detent is garbage.
        s = self._stored
        return (self.volume != s[0] or self.balance != s[1] or self.gain_setting() != s[2]
                or self.output != s[3] or self.limit != s[4] or self.spl_limit != s[5]
                or self.hp is not s[6] or self.headroom != s[7] or self.startup_cap != s[8]
                or self.display_brightness != s[9] or self.display_timeout_s != s[10]
                or self.display_dark != s[11] or self.input != s[12] or self._trims_v != s[14]
                or self.auto_standby_min != s[15])

    # ---- user events
    def _touched(self, now):
        if self.auto:
            self._stage(now)
        self._changed_ms = now
        self._active_ms = now
        # Maybe changed: whether it differs from what is stored is asked when a save
        # falls due (save_due), not here, where a detent waits for its frame.
        self._dirty = True
        self.changes = (self.changes + 1) & _CHANGES_MASK

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
        """low, high, or GAIN_AUTO (boards with a gain relay): the switch, moved, wins again."""
        if gain == GAIN_AUTO:
            if self.b.gain_relay is None:
                return "gain: auto needs a gain relay, and this board has none"
            if self.phase == POWER_FAIL:
                return "power is failing"
        self.set_gain(gain, now)
        return None

    def host_headroom(self, hdb, now):
        """Auto gain's headroom: how far below a gain's top the volume must stay on it."""
        if not 0 <= hdb <= HEADROOM_MAX_HDB:
            return "gain_headroom: outside 0.0..%s dB" % _db(HEADROOM_MAX_HDB)
        self.headroom = hdb
        self._touched(now)
        return None

    def host_startup_cap(self, hdb, now):
        """The highest level the amplifier starts at (below the board's startup_max_dbv)."""
        if not self.b.min_hdb <= hdb <= self.b.startup_max_hdb:
            return "startup_cap: outside %s..%s dBV" % (_db(self.b.min_hdb),
                                                        _db(self.b.startup_max_hdb))
        self.startup_cap = hdb
        self._touched(now)
        return None

    def host_display(self, name, value, now):
        """The display's settings: display_brightness 1..4, display_timeout_s 0..3600 (0:
        never dims), display_dark (bool: dark but for a moment after a turn)."""
        if name == "display_dark":
            self.display_dark = bool(value)
        elif name == "display_brightness":
            if not 1 <= value <= BRIGHTNESS_MAX:
                return "display_brightness: 1..%d" % BRIGHTNESS_MAX
            self.display_brightness = value
        else:
            if not 0 <= value <= DISPLAY_TIMEOUT_MAX_S:
                return "display_timeout_s: 0..%d s (0: never dims)" % DISPLAY_TIMEOUT_MAX_S
            self.display_timeout_s = value
        self._touched(now)
        return None

    def _stage(self, now):
        g = staged_gain(self._tops, self._order, self.gain, self.output, self.volume, self.headroom)
        if g != self.gain:
            self._select(g, self.output, now)

    def set_headphone(self, hp, offsets, now):
        """The headphone plugged in (None: none). One that is louder at this level lowers
        the level first, by as much, so the SPL never jumps up; then the SPL limit caps it."""
        if self.phase == POWER_FAIL:
            return "power is failing"
        old = self.spl_off
        if old is not None and offsets is not None:
            up = offsets[self.output] - old[self.output]
            if up > 0:
                self.volume -= (up + 49) // 50
                self._ceiling -= (up + 49) // 50
        self.hp = hp
        self.spl_off = offsets
        self.volume = self._clamp_volume(self.volume)
        self._touched(now)
        return None

    def host_spl_limit(self, hdb, now):
        """The hearing-safety limit in dB SPL: lower at once, higher after a long press."""
        if not SPL_MIN_HDB <= hdb <= SPL_MAX_HDB:
            return "spl_limit: outside %s..%s dB SPL" % (_db(SPL_MIN_HDB), _db(SPL_MAX_HDB))
        if hdb <= self.spl_limit:
            self._drop_pending(_ASK_SPL)   # the latest request wins: no raise left to confirm
            self.spl_limit = hdb
            self.volume = self._clamp_volume(self.volume)
            self._touched(now)
            return None
        return self._ask_press(_ASK_SPL, hdb, now)

    def host_output(self, output, now):
        if output not in self.b.outputs:
            return "output: this board has no balanced output"
        self.set_output(output, now)
        return None

    def host_input(self, i, now):
        """Choose input `i`: under the usual muting (the DAC's ramp, the PGA2311, the mute
        relay), the selector moved, the fade-in back: never a jump, whatever its trim."""
        if self.phase == POWER_FAIL:
            return "power is failing"
        if not 0 <= i < len(self.trims):
            return "input: no such input"
        if i != self.input:
            self.input = i
            self._reselect(now)
        self._touched(now)
        return None

    def host_trim(self, hdb, now):
        """The chosen input's trim: -20..0 dB. Lower: at once (a fall); higher: faded in
        from where it plays, as a host's volume rise is."""
        if not -40 <= hdb <= 0:
            return "trim: outside -20.0..0.0 dB"
        i = self.input
        old = self.trims[i]
        if hdb > old and i == self.input_relay and self.phase == PLAYING:
            rise = hdb - old
            if self._ramping:
                self._ceiling -= rise
            else:
                self._ceiling = self.volume - rise
                self._ramping = True
                self._next_ramp = ticks_add(now, self.b.ramp_interval_ms)
        self.trims[i] = hdb
        self._trims_v = (self._trims_v + 1) & _CHANGES_MASK
        self._touched(now)
        return None

    def _reselect(self, now):
        """Move the relays (and the input's selector) to the selection: at once while
        muted (at boot: unmuting no sooner than the contacts settle), through the muting
        while it plays."""
        if self.phase == BOOT:
            wait = self._move_relays()
            if wait and ticks_diff(ticks_add(now, wait + 1), self._until) > 0:
                self._until = ticks_add(now, wait + 1)
                self._armed = wait + 1
        elif self.phase == SWITCHING or self.phase == HELD:
            self._enter(SWITCHING, self._move_relays(), now)
        elif self.phase in (UNMUTING, PLAYING):
            self._mute_first(now)

    def host_standby(self, on, now):
        if self.phase == POWER_FAIL:
            return "power is failing"
        self.set_standby(on, now)
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
            self._drop_pending(_ASK_LIMIT)
            self.limit = hdb
            self.volume = self._clamp_volume(self.volume)
            self._touched(now)
            return None
        return self._ask_press(_ASK_LIMIT, hdb, now)

    def host_defaults(self, now):
        """The board's defaults for volume, balance and limit (and gain/output where no
        switch sets them): at once, or after a long press when the limit would rise."""
        if self.phase == POWER_FAIL:
            return "power is failing"
        if self.b.limit_hdb > self.limit or SPL_LIMIT_HDB > self.spl_limit:
            return self._ask_press(_ASK_DEFAULTS, self.b.limit_hdb, now)
        self._defaults(now)
        return None

    def pending(self, now=None):
        """The raise waiting for the long press, (what, value), or None (none, or its
        10 s are over at `now`)."""
        p = self._pending
        return None if p is None or (now is not None and ticks_diff(self._pending_until, now) < 0) else p

    def _drop_pending(self, what):
        p = self._pending
        if p is not None and (p[0] == what or p[0] == _ASK_DEFAULTS):
            self._pending = None

    def _ask_press(self, what, value, now):
        """A request that raises a limit waits for the long press (the one mechanism for
        the volume limit, the SPL limit and the defaults)."""
        self._pending = (what, value)
        self._pending_until = ticks_add(now, _CONFIRM_MS)
        if what == _ASK_SPL:
            return ("raising the SPL limit to %s dB SPL needs a long press on the board within "
                    "10 s" % _db(value))
        if what == _ASK_DEFAULTS and value <= self.limit:
            return ("the defaults raise the SPL limit to %s dB SPL: that needs a long press on "
                    "the board within 10 s" % _db(SPL_LIMIT_HDB))
        return "raising the limit to %s dBV needs a long press on the board within 10 s" % _db(value)

    def _defaults(self, now):
        b = self.b
        self.limit = b.limit_hdb
        self.spl_limit = SPL_LIMIT_HDB
        self.balance = 0
        self.mode = MODE_VOLUME
        if b.gain_switch is None and not self.auto:
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
        if self.standby:
            self.set_standby(False, now)   # a touch wakes it, and does nothing more
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
        if self.standby:
            self.set_standby(False, now)
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
        if self.standby:
            self.set_standby(False, now)
            return
        p = self._pending
        self._pending = None
        if p is not None and ticks_diff(self._pending_until, now) >= 0:
            if p[0] == _ASK_DEFAULTS:
                self._defaults(now)
            elif p[0] == _ASK_SPL:
                self.spl_limit = p[1]
            else:
                self.limit = p[1]
        elif self.mode == MODE_VOLUME:
            self.mode = MODE_BALANCE
            self._mode_until = ticks_add(now, self.b.balance_timeout_ms)
        else:
            self.mode = MODE_VOLUME
        self._touched(now)

    def set_gain(self, gain, now):
        """The gain switch moved (or the host chose a gain): low or high is manual from now
        on; GAIN_AUTO (a three-position switch's middle) stages by the level."""
        if gain == GAIN_AUTO:
            if self.b.gain_relay is not None and self.phase != POWER_FAIL and not self.auto:
                self.auto = True
                self._touched(now)
            return
        self.auto = False
        self._select(gain, self.output, now)

    def set_output(self, output, now):
        if output in self.b.outputs:
            self._select(self.gain, output, now)

    def _select(self, gain, output, now):
        # Compared field by field: a tuple pair is two allocations.
        if (gain == self.gain and output == self.output) or self.phase == POWER_FAIL:
            return
        self.gain = gain
        self.output = output
        # The new path never plays louder than the old one did.
        self.volume = self._clamp_volume(self.volume)
        self._touched(now)
        self._reselect(now)

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
        return self._dirty and self.phase != POWER_FAIL and self._unsaved()

    def set_signal(self, present, rate_class, now):
        """What the DAC says of the music (every couple of seconds): its return wakes an
        amplifier in standby; none for `auto_standby_min` without a touch sends it there."""
        if present:
            self._active_ms = now
        if present != self.signal or rate_class != self.rate_class:
            was = self.signal
            self.signal = present
            self.rate_class = rate_class
            self.changes = (self.changes + 1) & _CHANGES_MASK
            self.silent_change = self.changes   # nobody's touch
            if present and was is False and self.standby:
                self.set_standby(False, now)    # the music is back
        m = self.auto_standby_min
        if (m and not present and not self.standby and self.phase == PLAYING
                and ticks_diff(now, self._active_ms) >= m * 60000):
            self.set_standby(True, now)

    def host_auto_standby(self, minutes, now):
        if not 0 <= minutes <= 240:
            return "auto_standby_min: 0 (off) to 240"
        self.auto_standby_min = minutes
        self._touched(now)
        return None

    def set_standby(self, on, now):
        """Standby (`on`): the trigger drops at once, then (`trigger_delay_ms` later) the
        outputs mute in the usual order, every relay is released and it stays so. Woken
        (a turn, a press, the remote, the host): the normal muted start from there - the
        settle delay, the relays, the fade-in to the level it had."""
        if on == self.standby or self.phase == POWER_FAIL:
            return
        self.standby = on
        self.changes = (self.changes + 1) & _CHANGES_MASK
        if on:
            self.trigger = False
            self._standby_at = ticks_add(now, self.b.trigger_delay_ms)
            self.mode = MODE_VOLUME
        elif self.phase == STANDBY:
            self._enter(BOOT, self.b.settle_ms, now)
        self._touched(now)

    def power_fail(self, now):
        """Supply is failing: mute at once and stay muted."""
        self.trigger = False
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
        self.changes = (self.changes + 1) & _CHANGES_MASK
        if self.faults:
            self.trigger = False   # the power amplifier after this one: off while it stands
        if self.faults and self.phase in (UNMUTING, PLAYING):
            self._mute_first(now)

    def pga_lost(self, now):
        """The PGA2311 chain lost its codes (it reset, or was never set): they are sent
        again, but as a fade-in from the floor, never a jump back to the level."""
        for i in range(len(self._played)):
            self._played[i] = 0   # what the chip plays now: silence, so the floor is a rise
        if self.phase == PLAYING:
            self._start_ramp(now)
            self._apply_outputs()

    # ---- time
    def _enter(self, phase, wait_ms, now):
        self.phase = phase
        self.changes = (self.changes + 1) & _CHANGES_MASK
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
        if self._fall_moved:
            self._next_fall = ticks_add(t, self.b.ramp_interval_ms + 1)
            self._fall_moved = False
        if self._dip_armed:
            self._dip_at = ticks_add(t, self.b.dac_mute_ms)
            self._dip_armed = False

    def _move_relays(self):
        """Set the gain/output relays to the selection; returns the wait for their contacts."""
        wait = 0
        for relay, want, attr in ((self.b.gain_relay, self.gain, "gain_relay"),
                                  (self.b.output_relay, self.output, "output_relay")):
            if relay is None:
                continue
            if self.standby:
                want = 0          # standby: every relay released
            have = getattr(self, attr)
            if have != want:
                setattr(self, attr, want)
                t = relay.operate_ms if want else relay.release_ms
                wait = max(wait, t + self.b.relay_settle_ms)
        want = 0 if self.standby else self.input
        if self.input_relay != want and self.b.input_select:
            self.input_relay = want
            wait = max(wait, self.b.input_switch_ms + self.b.relay_settle_ms)
        return wait

    def _start_ramp(self, now):
        self._ceiling = path_floor_hdb(self.path_cdb())
        self._ramping = True
        self._next_ramp = ticks_add(now, self.b.ramp_interval_ms)
        self._ramp_moved = True  # the floor goes out this pass: the first step counts from it

    def tick(self, now):
        """Advance sequences, ramps and time-outs to `now`."""
        # Weeks of uptime: ticks_diff tells 2**29 ms (6.2 days) at most, then wraps round.
        # A "not before" time in the past is as good as now: kept at now, it never goes
        # stale (a balance step after a week untouched would wait days). A request for the
        # long press ends when its 10 s do, not when ticks_diff wraps back to "in time".
        if ticks_diff(now, self._next_ramp) > 0:
            self._next_ramp = now
        if ticks_diff(now, self._next_trim) > 0:
            self._next_trim = now
        if self._pending is not None and ticks_diff(now, self._pending_until) > 0:
            self._pending = None
        if not self._fall_moved and ticks_diff(now, self._next_fall) >= 0:
            self._fall_ok = True
        if self._dip == _DIP_DOWN and not self._dip_armed and ticks_diff(now, self._dip_at) >= 0:
            self._dip = _DIP_SILENT
        while (self.phase < PLAYING or self.phase == HELD) and ticks_diff(now, self._until) >= 0:
            p = self.phase
            if p == DAC_MUTING:
                self._enter(MUTING, self._mute_wait(), now)
            elif p == MUTING:
                self._enter(RELEASING, self.b.mute_relay.release_ms, now)
            elif p == RELEASING:
                self._enter(SWITCHING, self._move_relays(), now)
            elif p == BOOT or p == SWITCHING or p == HELD:
                # Field by field, not as tuples: in HELD (a faulty part) this runs every
                # pass, and a tuple pair would allocate on each.
                if self.standby:
                    if self.gain_relay or self.output_relay or \
                            (self.input_relay and self.b.input_select):
                        self._enter(SWITCHING, self._move_relays(), now)
                    else:
                        self._enter(STANDBY, 0, now)
                elif self.gain_relay != self.gain or self.output_relay != self.output or \
                        (self.input_relay != self.input and self.b.input_select):
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
                # The ramp first: the outputs _enter computes are then the floor, never
                # the full level for a moment (with ZCEN low that would be a fall to walk).
                self._start_ramp(now)
                self._trigger_at = ticks_add(now, self.b.trigger_delay_ms)
                self._enter(PLAYING, 0, now)
            if self._armed >= 0:
                break  # the next wait starts when this pass's pins have moved
        if self.standby and (self.phase == PLAYING or self.phase == UNMUTING) and \
                ticks_diff(now, self._standby_at) >= 0:
            self._mute_first(now)   # the trigger went first: now the outputs, in order
        if not self.trigger and not self.standby and self.phase == PLAYING and \
                self.b.trigger_pin is not None and ticks_diff(now, self._trigger_at) >= 0:
            self.trigger = True
            self.changes = (self.changes + 1) & _CHANGES_MASK
            self.silent_change = self.changes   # a host hears of it; not a touch to light up for
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
            self.changes = (self.changes + 1) & _CHANGES_MASK
        self._apply_outputs()

    def outputs(self):
        """The outputs for the state as it stands, time not advanced (tick() does that):
        the knob's frame as soon as its detents are in, within every limit as always."""
        self._apply_outputs()

    def _apply_outputs(self):
        p = self.phase
        # The DAC mutes first, opens last.
        self.dac_mute = p != PLAYING or self.user_muted or self._dip != _DIP_NONE
        if p == PLAYING:
            self.pga_mute = self.user_muted and self._quiet
        else:
            self.pga_mute = p != DAC_MUTING and p != UNMUTING
        self.mute_relay = p in (DAC_MUTING, MUTING, UNMUTING, PLAYING)
        lv = self.level()
        if lv is not None:
            lv += self.trims[self.input_relay]   # the input playing's trim: at most 0
            # Never past the top of the path the relays are on now (auto gain asks for a
            # level the next gain reaches while this one still plays its fade-out).
            top = self._tops[self.gain_relay][self.output_relay]
            if lv > top:
                lv = top
            # ...and within the SPL limit on the output the relay plays now.
            top = self.spl_cap(self.output_relay)
            if top is not None and lv > top:
                lv = top
        codes = self.codes
        fill_codes(codes, self.b.pga_roles, lv, self._trim, self.path_cdb())
        if self._walk:
            self._walk_down(codes, lv is None)

    def _walk_down(self, codes, muted):
        """ZCEN low: no code falls by more than `_fall` per ramp interval while the level
        plays (muted: the DAC's soft mute has ramped down first, or there is nothing to
        hear). A fall's first step goes out in the pass that asks for it when the last
        step is an interval old; a code above what is asked is never raised."""
        played = self._played
        falling = False
        stepped = False
        dip = False
        silent = self._dip == _DIP_SILENT
        # Every channel asked below the range, each within a step of silence: silence,
        # under the DAC's soft mute. Else those at their last step stay at the floor while
        # the others play (a dip would cut the others and fade them back in, a cut alone
        # clicks).
        others_play = False
        for i in range(len(codes)):
            if codes[i] or played[i] > self._fall:
                others_play = True
        for i in range(len(codes)):
            n = codes[i]
            o = played[i]
            if not muted and o and n < o:
                if self._fall_ok:
                    if n < o - self._fall:
                        n = o - self._fall
                        falling = True
                    if n == 0 and others_play:
                        n = 1          # the floor, while another channel plays
                    if n == 0 and self.b.dac_mute_ms and not silent:
                        n = o          # into silence: the DAC's soft mute first
                        falling = dip = True
                    elif n < o:
                        stepped = True
                else:
                    n = o
                    falling = True
                codes[i] = n
            played[i] = n
        if stepped:
            self._fall_ok = False
            self._fall_moved = True   # moved() times the next step from this frame
        self._falling = falling
        if muted:
            self._dip = _DIP_NONE
        elif dip:
            if self._dip == _DIP_NONE:
                self._dip = _DIP_DOWN
                self._dip_armed = True   # its ramp's time counts from when XSMT fell
                self.dac_mute = True
        elif silent and (stepped or not falling):
            # The code went to silence under the DAC's mute (or nothing falls into it any
            # more): the DAC opens again, after the codes (the app writes XSMT high last).
            self._dip = _DIP_NONE
            self.dac_mute = self.phase != PLAYING or self.user_muted

    def next_wake(self, now):
        """Milliseconds until the next thing to do (at most the input poll period)."""
        wait = _IDLE_WAKE_MS
        if self.phase < PLAYING or self.phase == HELD:
            wait = min(wait, ticks_diff(self._until, now))
        if self._ramping:
            wait = min(wait, ticks_diff(self._next_ramp, now))
        elif self._trim != self.balance:
            wait = min(wait, ticks_diff(self._next_trim, now))
        if self._falling:
            wait = min(wait, ticks_diff(self._next_fall, now))
        if self._dip == _DIP_DOWN:
            wait = min(wait, ticks_diff(self._dip_at, now))
        if self.user_muted and not self._quiet:
            wait = min(wait, ticks_diff(self._quiet_at, now))
        if self.phase == PLAYING or self.phase == UNMUTING:
            if self.standby:
                wait = min(wait, ticks_diff(self._standby_at, now))
            elif not self.trigger and self.b.trigger_pin is not None:
                wait = min(wait, ticks_diff(self._trigger_at, now))
        return max(wait, 1)

    # ---- persistence
    def save_due(self, now):
        """True when the settings changed and the controls have been still long enough;
        never while the supply fails (a flash write then could be cut half way, and it
        holds interrupts off)."""
        if not (self._dirty and self.phase != POWER_FAIL
                and ticks_diff(now, self._changed_ms) >= self.b.save_delay_ms):
            return False
        if not self._unsaved():
            self._dirty = False   # turned back to what is stored: nothing to write
            return False
        return True

    def saved(self):
        """The app stored `persistent()`."""
        self._stored = self.persistent()
        self._dirty = False


def staged_gain(tops, order, gain, output, volume, headroom):
    """Auto gain: the least gain (`order`: least first) whose top (`tops[g][output]`,
    hdB) leaves `headroom` above the volume. A step down to a gain below the current
    one needs AUTO_HYST_HDB more, so a level near the boundary never flaps. None
    reaching: the loudest (the least gain on a tie)."""
    want = volume + headroom
    below = True   # g is a lower gain than the current one
    for g in order:
        if g == gain:
            below = False
        if want + (AUTO_HYST_HDB if below else 0) <= tops[g][output]:
            return g
    best = order[0]
    for g in order[1:]:
        if tops[g][output] > tops[best][output]:
            best = g
    return best


def _db(h):
    s = "-" if h < 0 else ""
    h = -h if h < 0 else h
    return "%s%d.%d" % (s, h // 2, 5 * (h % 2))
