"""The trace checker's rules about the user's hands and the host (part of
invariants.Checker): inputs reaching the firmware, a long press, the host's `set`
lines and their replies, saves to the flash.

Two hosts: the USB port (`serial` records: lines in order, replies in order) and the web
remote (`web` records, sim/net.py: a connection's one POST /api/cmd line, its reply on
the same connection). A web line refused before the protocol saw it (not paired, a used
nonce, another site: any status but 200) changes nothing and is dropped with its reply."""
import json

from .rules import (
    CONFIRM_US,
    COPIES,
    FALL_MAX_CDB,
    IR_REACH_US,
    LIMIT_SLACK_US,
    MAX_STEPS_PER_DETENT,
    OPEN,
    PAIR_US,
    PGA_RANGE_CDB,
    REACH_US,
    SAVE_US,
    SPL_DEFAULT_CDB,
    SPL_RANGE_CDB,
    TURN_SLACK_US,
    WALK_LATE_MS,
    _cmd_hdb,
    _grid_cdb,
)


class HostRules:
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
        elif what == "ir":
            self._remote(t, f)
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

    def _remote(self, t, f):
        """A remote's key (SimBoard.ir): what the firmware's key map makes of it. A volume
        key is a turn, as long as its frames last and a pass after: its steps by the time
        held (remote.held_steps, with the last frame's decoding), and up, the start-up
        cap done; any other key is a touch. Never a long press."""
        from headroom_fw.remote import VOLUME_DOWN, VOLUME_UP, Remote, held_steps

        from .irframes import fw_code
        fn = Remote().function(fw_code(f["proto"], f["addr"], f["cmd"], f.get("nbits", 12)))
        end = t + f["us"] + IR_REACH_US
        if fn == VOLUME_UP or fn == VOLUME_DOWN:
            if t > self.turn_until:
                self.turn_start = t
                self.budget = 0
            self.turn_until = max(self.turn_until, end)
            steps = held_steps(f["hold_ms"] + IR_REACH_US // 1000)
            self.budget += steps * 50
            if fn == VOLUME_UP:
                self.cap = None
                # As a turn up for a boot during it (_boot_cap): its steps in detents.
                self.turn_up = (t, end, -(-steps // MAX_STEPS_PER_DETENT))
            self._touch(t, self.turn_until)
        else:
            self._touch(t, end)

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

    def _web(self, t, f):
        """A `web` record: a request's line (POST /api/cmd), or the reply on its connection."""
        if f["dir"] == "in":
            line = f.get("line")
            if line is None:
                return
            self.web_cmds[f["conn"]] = line
            if line.split()[:1] == ["set"]:
                self._touch(t, OPEN)
                self.expect = None
            return
        line = self.web_cmds.pop(f["conn"], None)
        if line is None:
            return
        if line.split()[:1] == ["set"] and self.carry_until == OPEN:
            self.carry_until = t   # answered (or refused): the firmware is done with it
        if f.get("status") == 200 and f.get("line") is not None:
            self._reply(t, line.split(), f["line"])

    def _serial_out(self, t, line):
        if line.startswith('{"event"') or not self.commands:
            return
        cmd = self.commands.pop(0).split()
        if cmd[:1] == ["set"] and self.carry_until == OPEN:
            self.carry_until = t   # the firmware has seen it
        self._reply(t, cmd, line)

    def _reply(self, t, cmd, line):
        """A host's reply `line` to its command `cmd` (words), from either host."""
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
        elif cmd == ["status"] and ok and r.get("phase") == "playing" and t >= self.turn_until and \
                not any(c.split()[:1] == ["set"] for c in self.commands + list(self.web_cmds.values())):
            # Not while a `set` sent after it waits for its reply: the firmware answered
            # before it read that line, which may change the level at once (a status,
            # then `set volume` 30 ms later, answered after it: found by the randomized run).
            # Nor while a turn (or a remote's volume key) is under way: its detents after
            # the reply move the level before the check falls due (a turn begun 6 ms
            # before the reply, found by make test-long, 2026-12-07).
            silent = r.get("mute") is True
            # The input's trim (at most 0) lowers what the jack plays below the volume.
            self.expect = (t + self._settle_us(), int(round((r["volume"] + r.get("trim", 0)) * 2)),
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
