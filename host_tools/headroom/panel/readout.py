"""What the front panel shows, decoded from the simulated hardware only: the jack model's
levels, the PGA2311 chain's codes and its MUTE pin, the relays' coils and contacts, the
GPIO levels of MUTE and XSMT, the DAC models' states (their trace records), the switches'
contacts and the supply - never the firmware's variables.

`Readout(session)` keeps what it needs from the trace as records are made (a listener);
its methods give Rich text for each part of the panel. `BusLog` is the timeline of bus
events (sim/timeline.py's, plus SPI frames, I2C writes and the pins that mute).
"""
from rich.text import Text

from ..sim.boardparts import chip_part
from ..sim.timeline import FOLD_GAP_US, Timeline
from ..sim.trace import encode

BAR_LO, BAR_HI = -90, 10     # dBV across the level bar
BAR_W = 30


def cdb_text(v):
    """cdB (int) as dB with two decimals."""
    sign = "-" if v < 0 else "+" if v > 0 else " "
    v = abs(v)
    return "%s%d.%02d" % (sign, v // 100, v % 100)


def vrms_text(cdb):
    v = 10 ** (cdb / 2000)
    if v >= 1:
        return "%.3f Vrms" % v
    if v >= 1e-3:
        return "%.2f mVrms" % (v * 1e3)
    return "%.1f uVrms" % (v * 1e6)


def code_gain(code):
    """A PGA2311 code as its gain: 31.5 - 0.5 (255 - N) dB; 0 is mute."""
    if code == 0:
        return "mute"
    hdb = code - 192
    sign = "-" if hdb < 0 else "+"
    return "%s%d.%d dB" % (sign, abs(hdb) // 2, 5 * (abs(hdb) % 2))


def _bar(cdb):
    if cdb is None:
        return Text("." * BAR_W, style="dim")
    frac = (cdb / 100 - BAR_LO) / (BAR_HI - BAR_LO)
    n = max(0, min(BAR_W, int(round(frac * BAR_W))))
    return Text("#" * n, style="green" if cdb <= 0 else "yellow") + Text("." * (BAR_W - n), style="dim")


def _leg(board, i):
    role = "LR"[board.pga_roles[i]]
    return role if board.pga_legs[i] > 0 or len(board.pga_roles) == 2 else role + "-"


class Readout:
    def __init__(self, session):
        self.s = session
        self.board = session.board
        self.b = session.board.board
        self.chips = {}            # chip name -> its last state (dict), from the trace
        self.records = 0
        self.board.trace.listeners.append(self._record)
        # What the models reported before the panel listened: the trace so far.
        import json
        for line in self.board.trace.lines[1:]:
            rec = json.loads(line)
            if rec.get("kind") == "chip":
                self.chips[rec["chip"]] = rec["state"]
            self.records += 1

    def _record(self, t_us, kind, fields):
        self.records += 1
        if kind == "chip":
            f = dict(fields)
            self.chips[f["chip"]] = _plain(f["state"])

    def _pin(self, n):
        return self.board.sim.gpio[n].level

    # ---- the parts
    def title(self):
        s = self.s
        t = self.board.now_us()
        c = s.clock
        speed = ("x%g" % c.speed) if c.speed >= 1 else ("x1/%d" % round(1 / c.speed))
        state = "PAUSED" if c.paused else "running"
        if s.stopped is not None:
            state = "STOPPED"
        txt = Text.assemble(("Headroom front panel", "bold"), "  %s  " % self.board.board_name,
                            ("t = %d.%03d s" % (t // 1000000, t // 1000 % 1000), "bold"),
                            "  %s  " % speed, (state, "bold reverse" if state != "running" else "bold"))
        if s.lag_drops:
            txt.append("  (the simulator fell behind %d times)" % s.lag_drops, style="yellow")
        if getattr(self.b, "wifi", None) is not None:
            url = self.board.web_url
            txt.append("  web remote: %s" % (url or "joining the network"),
                       style="bold cyan" if url else "dim")
        return txt

    def jack(self):
        j = self.board.jack
        out = Text.assemble(("Jack ", "bold"), ("balanced" if j.output == 1 else "single-ended"),
                            ("   levels for a full-scale signal\n", "dim"))
        for ch in (0, 1):
            v = j.levels[ch]
            if v is None:
                line = Text.assemble(" %s  " % "LR"[ch], ("muted", "bold red"), " " * 23)
            else:
                line = Text.assemble(" %s  " % "LR"[ch], ("%s dBV" % cdb_text(v), "bold"),
                                     "  %-12s  " % vrms_text(v))
            out.append_text(line)
            out.append_text(_bar(v))
            if ch == 0:
                out.append("\n")
        return out

    def pga(self):
        b = self.b
        chain = self.board.pga
        out = Text.assemble(("PGA2311", "bold"), "  gain = 31.5 - 0.5 (255 - N) dB\n")
        for i, chip in enumerate(chain.chips):
            out.append(" #%d " % i)
            for k in (0, 1):
                code = chip.codes[k]
                out.append(" %-2s code %3d %-9s" % (_leg(b, 2 * i + k), code, code_gain(code)))
            out.append("\n")
        lv = self._pin(b.pga_mute)
        out.append(" MUTE pin GP%d: " % b.pga_mute)
        out.append("high, playing" if lv == 1 else "low, muted" if lv == 0 else "floating",
                   style="green" if lv == 1 else "red")
        return out

    def relays(self):
        out = Text.assemble(("Relays", "bold"), "\n")
        meaning = {"mute": ("connected", "open"), "gain": ("high gain", "low gain"),
                   "output": ("balanced", "single-ended")}
        names = [n for n in ("mute", "gain", "output") if n in self.board.relays]
        for name in names:
            r = self.board.relays[name]
            on, off = meaning[name]
            out.append(" %-6s GP%-2d coil %-3s  contacts %-8s  " % (
                name, r.gpio, "on" if r.coil else "off", "closed" if r.energized else "released"))
            out.append(on if r.energized else off, style="bold" if r.energized else "")
            if r.coil != r.energized:
                out.append("  (moving)", style="yellow")
            if name != names[-1]:
                out.append("\n")
        return out

    def mutes(self):
        """Every stage that can mute, and whether it does."""
        b = self.b
        out = Text.assemble(("Mute stages", "bold"), "\n")

        def row(name, muted, detail, last=False):
            out.append(" %-13s " % name)
            out.append("MUTED  " if muted else "passes ", style="bold red" if muted else "green")
            out.append(detail)
            if not last:
                out.append("\n")

        r = self.board.relays["mute"]
        row("mute relay", not r.energized, "contacts %s" % ("closed" if r.energized else "open"))
        lv = self._pin(b.pga_mute)
        row("PGA2311 MUTE", lv != 1, "pin GP%d %s" % (b.pga_mute, _lvl(lv)), last=b.dac is None)
        if b.dac is not None:
            lv = self._pin(b.dac_xsmt)
            st = self.chips.get(b.dac, {})
            detail = chip_part(b.dac).mute_detail(st)   # the DAC's part words its state
            if st.get("rate") is None:
                detail += " (no I2S clocks)"
            row("DAC XSMT", lv != 1, "pin GP%d %s; %s: %s" % (b.dac_xsmt, _lvl(lv), b.dac.upper(),
                                                             detail), last=True)
        return out

    def display(self):
        """The board's OLED as it is lit (the display model's pixels), in Braille cells
        (2 x 4 pixels a character: 64 x 16), bright or dim as its contrast; None without
        a display."""
        d = getattr(self.board, "display", None)
        if d is None:
            return None
        lines = braille(d.lit())
        if not d.on:
            return Text("\n".join(lines) + "\n(dark)", style="grey23")
        return Text("\n".join(lines), style="bold #bfe6ff" if d.contrast >= 0x40 else "#5f7f8f")

    def controls(self):
        b, board, sim = self.b, self.board, self.board.sim
        out = Text.assemble(("Controls", "bold"), "\n")
        rel = board.relays

        def pos(switch, level_for, names):
            if switch is None:
                return None
            level = 0 if switch.contact.target else 1
            return names[0] if level == level_for else names[1]

        if len(b.gain_switch_pins) == 2:
            g = board.gain_switch.position        # three positions: low, auto, high
        else:
            g = pos(board.gain_switch, b.gain_switch_high_level if b.gain_switch is not None else 0,
                    ("high", "low"))
        out.append(" gain    switch %-8s relay %s\n" % (
            g or "(none)", "high" if rel.get("gain") and rel["gain"].energized else "low"))
        if board.output_switch is not None:
            o = pos(board.output_switch, b.output_switch_balanced_level, ("balanced", "se"))
            out.append(" output  switch %-8s relay %s\n" % (
                o, "balanced" if rel["output"].energized else "se"))
        else:
            out.append(" output  single-ended only\n")
        out.append(" button  %s   knob %+d detents\n" % (
            "DOWN" if board.button.contact.target else "up", board.encoder.turned))
        if not sim.supply_on:
            mcu = "off" if not sim.mcu_powered else "running on its hold-up"
        elif not sim.mcu_powered:
            mcu = "booting"
        elif sim.app is None:
            mcu = "stopped (crashed)" if sim.crashes else "stopped"
        else:
            mcu = "running main.py"
        out.append(" power   supply ")
        out.append("on" if sim.supply_on else "OFF", style="bold" if sim.supply_on else "bold red")
        out.append("\n MCU     %s" % mcu)
        return out

    def banner(self):
        """The first safety rule broken, for the banner at the top (it stays until the
        panel closes: a broken rule is never scrolled away), with how many in all; None
        while every rule holds."""
        v = self.s.checker.violations
        if not v:
            return None
        t, rule, msg = v[0]
        more = "  (%d rules broken in all; the latest below)" % len(v) if len(v) > 1 else ""
        return Text("SAFETY RULE BROKEN at %d.%03d s: %s: %s%s" % (
            t // 1000000, t // 1000 % 1000, rule, msg, more))

    def safety(self):
        s = self.s
        v = s.checker.violations
        out = Text()
        if s.stopped is not None:
            out.append(" SIMULATION STOPPED: %s \n" % s.stopped, style="bold white on red")
        if v:
            out.append(" SAFETY RULE BROKEN (%d): " % len(v), style="bold white on red")
            t, rule, msg = v[-1]
            out.append(" %d.%03d s %s: %s" % (t // 1000000, t // 1000 % 1000, rule, msg), style="bold red")
        else:
            out.append(" safety rules hold ", style="bold black on green")
            out.append(" checked live on %d trace records" % self.records, style="dim")
        for line, text, why in s.failures()[-3:]:
            out.append("\n line %d: %s: %s" % (line, text, why), style="red")
        return out

    def session(self):
        s = self.s
        out = Text.assemble(("Session", "bold"), "  %d lines recorded" % len(s.lines))
        now = s.running_text()
        if now:
            out.append("  now: %s" % now)
        if s.queue:
            out.append("  queued: %d" % len(s.queue))
        if s.saved_to:
            out.append("  saved to %s" % s.saved_to, style="green")
        return out


# Braille dots: the bit of each (dx, dy) in a cell (Unicode's U+2800 block).
_DOT = ((0x01, 0x08), (0x02, 0x10), (0x04, 0x20), (0x40, 0x80))


def braille(rows):
    """Lines of Braille characters for `rows` of pixels (each a sequence of 0/1)."""
    out = []
    h = len(rows)
    for y in range(0, h, 4):
        line = []
        for x in range(0, len(rows[0]), 2):
            bits = 0
            for dy in range(min(4, h - y)):
                row = rows[y + dy]
                for dx in range(2):
                    if x + dx < len(row) and row[x + dx]:
                        bits |= _DOT[dy][dx]
            line.append(chr(0x2800 + bits))
        out.append("".join(line))
    return out


def _lvl(v):
    return "high" if v == 1 else "low" if v == 0 else "floating"


def _plain(v):
    """A trace value (lists of pairs, Db) as plain Python."""
    if isinstance(v, (list, tuple)):
        return {k: _plain(x) for k, x in v}
    if hasattr(v, "json"):
        return v.json()
    return v


class BusLog(Timeline):
    """The timeline of bus events as lines of text (`take()` gives the new ones): what
    sim/timeline.py shows, plus every SPI frame (decoded as PGA2311 codes), every I2C
    write to the DAC, the pins that mute and the relay coils, the DAC's state."""

    def __init__(self, session):
        Timeline.__init__(self, self, verbose=False)
        self.s = session
        self.board = session.board
        b = self.b = session.board.board
        self.new = []
        self.page = 0
        self.names = {b.pga_mute: "PGA2311 MUTE", b.mute_relay.pin: "mute relay coil"}
        if b.pga_zcen is not None:
            self.names[b.pga_zcen] = "PGA2311 ZCEN"
        if b.dac is not None:
            self.names[b.dac_xsmt] = "DAC XSMT"
        for name in ("gain", "output"):
            r = getattr(b, name + "_relay")
            if r is not None:
                self.names[r.pin] = name + " relay coil"
        self.board.trace.listeners.append(self.record)
        if b.dac == "pcm5122":
            self.board.sim.observe("i2c", self._dac_i2c)

    def _dac_i2c(self, bus, addr, op, data):
        if op == "write" and bus == self.b.dac_i2c_id and addr == self.b.dac_addr:
            self.i2c(data)

    # the Timeline's output
    def write(self, text):
        self.new.extend(text.rstrip("\n").split("\n"))

    def take(self):
        """The lines made since the last call; a finished run of level changes included."""
        r = self._run
        if r is not None and self.board.now_us() - r[1] > FOLD_GAP_US:
            self._flush()
        out, self.new = self.new, []
        return out

    def i2c(self, data):
        if not data:
            return
        self._flush()
        reg = data[0] & 0x7F
        vals = " ".join("%02x" % x for x in data[1:])
        what = ("page %d register %d" % (self.page, reg)) + ((" <- %s" % vals) if vals else ": read")
        if reg == 0 and len(data) > 1:
            self.page = data[1]
        b = self.b
        self._print(self.board.now_us(), "I2C%d 0x%02X %s" % (b.dac_i2c_id, b.dac_addr, what))

    def record(self, t_us, kind, fields):
        f = dict(fields)
        if kind == "spi":
            self._flush()
            self._print(t_us, self._spi(f))
        elif kind == "pin":
            name = self.names.get(f["pin"])
            if name is not None:
                self._flush()
                self._print(t_us, "GP%-2d %-16s %s" % (f["pin"], name, _lvl(f["level"])))
        elif kind == "chip" and not chip_part(f["chip"]).timeline_folds:
            part = chip_part(f["chip"])
            line = part.readout_line(f["chip"], _plain(f["state"]), fields)
            if line is not None:    # None: the frame before it and the jack after it say it
                self._flush()
                self._print(t_us, line)
        elif kind == "input":
            self._flush()
            self._print(t_us, "hands: %s" % _input(f))
        else:
            Timeline.record(self, t_us, kind, fields)

    def _spi(self, f):
        data = bytes.fromhex(f["data"])
        head = "SPI%d CS GP%s %s" % (f["bus"], f["cs"], f["data"])
        n = len(self.board.pga.chips)
        if f["cs"] != self.b.pga_cs or len(data) != 2 * n:
            return head
        parts = []
        for j in range(n):
            w = data[2 * (n - 1 - j):2 * (n - j)]   # the first word shifted in ends farthest
            parts.append("#%d L %d R %d" % (j, w[1], w[0]))
        return "%s  PGA2311 codes %s" % (head, ", ".join(parts))


def _input(f):
    w = f["what"]
    if w == "turn":
        return "knob %+d detent%s over %d ms" % (f["detents"], "" if abs(f["detents"]) == 1 else "s",
                                               f["us"] // 1000)
    if w == "button":
        return "button %s" % ("down" if f["closed"] else "up")
    if w in ("gain", "output"):
        return "%s switch to %s" % (w, f["to"])
    return encode(list(f.items()))
