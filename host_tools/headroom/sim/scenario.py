"""Scenario scripts: what a person does to the board, line by line, on the virtual clock.

    # comment                     (also after a command)
    power on | power off
    wait MS
    turn +N|-N [at R/s] [bounce US]    default 10/s, no bounce
    press [bounce US]                   a click: 150 ms down, then 100 ms
    hold MS [bounce US]                 held MS, then 100 ms
    switch gain low|high|auto [bounce US]   then 100 ms (auto: a three-position switch's middle)
    switch output se|balanced [bounce US]
    expect volume DB                    the active jack's louder channel, DB-0.5 < level <= DB
    expect muted
    expect gain low|high                where the gain relay's contacts are
    expect output se|balanced
    fault dac absent|ok                 the PCM5122 stops / starts acknowledging on I2C
    fault i2c stuck|ok                  the DAC's I2C bus: SDA held low / let go
    fault pga reset                     the PGA2311 chain loses its codes (a supply dip)
    fault sense low|ok                  the supply monitor reads low / again as it should
    fault flash full|eio|ok             the settings' flash refuses writes: no free block
                                        (ENOSPC) / a failing chip (EIO) / works again
    ir nec ADDR CMD [hold MS]           a remote's key at the IR receiver (ADDR, CMD decimal
    ir rc5 ADDR CMD [hold MS]           or 0x hex; NEC's ADDR up to 16 bits), pressed or held
    ir sony ADDR CMD [bits 12|15|20] [hold MS]   MS, then 100 ms
    ir apple up|down|left|right|play|menu [hold MS]   the Apple remote's keys
    ir noise N/s | ir noise off         a fluorescent lamp near the receiver: short glitches
    source NAME play sine F LEVEL dBFS  an external source's input NAME (inputs.names) plays a
                                        sine of F Hz (440, 1k) at LEVEL dBFS (at most 0)
    source NAME stop                    ...stops: no stream, its clocks stop
    source NAME rate HZ                 ...streams at HZ (the DAC's rates: 32000 .. 192000)
    wifi ap off|on                      a Pico W's access point vanishes / comes back
    wifi dhcp off|on                    ...gives no address / gives one again

`parse` checks the whole script first: any bad line raises ScenarioError with
its line number, and nothing runs; `check_board` then checks each line against the
board's parts (a switch, a relay, the DAC's I2C, a supply monitor it lacks) the same way.
"""

PRESS_MS = 150
AFTER_MS = 100


SHOW = 40          # characters of a bad token echoed back in an error
MAX_DIGITS = 12    # more digits than any value here can have: refused before int() (whose
                   # 4300-digit limit would raise a ValueError of its own, and a long one is slow)
MAX_ERROR = 300    # an error message's length at most (a line can be megabytes)


class ScenarioError(ValueError):
    def __init__(self, msg):
        if len(msg) > MAX_ERROR:  # a safety net: tokens are cut by _show already
            msg = msg[:MAX_ERROR - 3] + "..."
        ValueError.__init__(self, msg)


def _show(tok):
    """A token as an error message quotes it: cut to a readable length."""
    if len(tok) <= SHOW:
        return repr(tok)
    return "%r... (%d characters)" % (tok[:SHOW], len(tok))


class Step:
    def __init__(self, line, text, op, args):
        self.line = line
        self.text = text
        self.op = op
        self.args = args


def _digits(s):
    """Only ASCII digits (str.isdigit also takes '²' and other digits int() refuses)."""
    return s != "" and all("0" <= c <= "9" for c in s)


def _int(tok, what, line, lo=None, hi=None):
    s = tok[1:] if tok[:1] in "+-" else tok
    if not _digits(s):
        raise ScenarioError("line %d: %s must be a whole number, got %s" % (line, what, _show(tok)))
    s = s.lstrip("0") or "0"   # leading zeros: any number of them, still the same number
    if len(s) > MAX_DIGITS:
        raise ScenarioError("line %d: %s %s is outside %s..%s" % (line, what, _show(tok), lo, hi))
    v = -int(s) if tok[:1] == "-" else int(s)
    if (lo is not None and v < lo) or (hi is not None and v > hi):
        raise ScenarioError("line %d: %s %d is outside %d..%d" % (line, what, v, lo, hi))
    return v


def _milli(tok, what, line):
    """A decimal number with up to 3 decimals, as an int of thousandths."""
    neg = tok.startswith("-")
    s = tok[1:] if tok[:1] in "+-" else tok
    whole, _, frac = s.partition(".")
    if not (_digits(whole) and (frac == "" or (_digits(frac) and len(frac) <= 3))):
        raise ScenarioError("line %d: %s must be a number, got %s" % (line, what, _show(tok)))
    whole = whole.lstrip("0") or "0"
    if len(whole) > MAX_DIGITS:
        raise ScenarioError("line %d: %s %s is too large" % (line, what, _show(tok)))
    v = int(whole) * 1000 + (int((frac + "000")[:3]) if frac else 0)
    return -v if neg else v


def _options(toks, allowed, line):
    """Trailing `key value` pairs, e.g. `at 20/s bounce 300`."""
    opts = {}
    i = 0
    while i < len(toks):
        key = toks[i]
        if key not in allowed:
            raise ScenarioError("line %d: unexpected %s (expected %s)"
                                % (line, _show(key), " or ".join(allowed) if allowed else "end of line"))
        if i + 1 >= len(toks):
            raise ScenarioError("line %d: %s needs a value" % (line, _show(key)))
        if key in opts:
            raise ScenarioError("line %d: %s given twice" % (line, _show(key)))
        opts[key] = toks[i + 1]
        i += 2
    return opts


IR_MAX = {"nec": (0xFFFF, 0xFF), "rc5": (0x1F, 0x7F)}
SONY_MAX = {12: (0x1F, 0x7F), 15: (0xFF, 0x7F), 20: (0x1FFF, 0x7F)}


def _code(tok, what, line, hi):
    """A decimal or 0x-hex number, 0..hi."""
    if tok[:2].lower() == "0x":
        h = tok[2:]
        if not h or len(h) > MAX_DIGITS or not all(c in "0123456789abcdefABCDEF" for c in h):
            raise ScenarioError("line %d: %s must be a number, got %s" % (line, what, _show(tok)))
        v = int(h, 16)
        if v > hi:
            raise ScenarioError("line %d: %s %s is outside 0..0x%X" % (line, what, _show(tok), hi))
        return v
    return _int(tok, what, line, 0, hi)


def _ir(n, text, t):
    from .irframes import APPLE_KEYS
    use = ("line %d: use 'ir nec ADDR CMD', 'ir rc5 ADDR CMD', 'ir sony ADDR CMD [bits N]', "
           "'ir apple KEY' (each [hold MS]) or 'ir noise N/s|off'" % n)
    if len(t) < 2:
        raise ScenarioError(use)
    proto = t[1]
    if proto == "noise":
        if len(t) != 3:
            raise ScenarioError(use)
        if t[2] == "off":
            return Step(n, text, "ir_noise", (0,))
        if not t[2].endswith("/s"):
            raise ScenarioError("line %d: the noise's rate must look like 50/s, got %s"
                                % (n, _show(t[2])))
        return Step(n, text, "ir_noise", (_int(t[2][:-2], "noise (glitches/s)", n, 1, 5000),))
    if proto == "apple":
        if len(t) < 3 or t[2] not in APPLE_KEYS:
            raise ScenarioError("line %d: the Apple remote's keys are %s"
                                % (n, ", ".join(sorted(APPLE_KEYS))))
        addr, cmd, rest = 0, APPLE_KEYS[t[2]], t[3:]
        opts = _options(rest, ("hold",), n)
    elif proto in IR_MAX or proto == "sony":
        if len(t) < 4:
            raise ScenarioError(use)
        opts = _options(t[4:], ("hold", "bits") if proto == "sony" else ("hold",), n)
        bits = _int(opts.get("bits", "12"), "bits", n, 12, 20)
        if proto == "sony" and bits not in SONY_MAX:
            raise ScenarioError("line %d: a Sony frame has 12, 15 or 20 bits" % n)
        amax, cmax = SONY_MAX[bits] if proto == "sony" else IR_MAX[proto]
        addr = _code(t[2], "address", n, amax)
        cmd = _code(t[3], "command", n, cmax)
    else:
        raise ScenarioError(use)
    hold = _int(opts["hold"], "hold (ms)", n, 0, 600000) if "hold" in opts else 0
    nbits = _int(opts.get("bits", "12"), "bits", n, 12, 20)
    return Step(n, text, "ir", (proto, addr, cmd, hold, nbits))


def _source(n, text, t):
    use = ("line %d: use 'source NAME play sine F LEVEL dBFS', 'source NAME stop' or "
           "'source NAME rate HZ'" % n)
    if len(t) < 3:
        raise ScenarioError(use)
    name, what = t[1], t[2]
    if len(name) > 10:
        raise ScenarioError("line %d: an input's name has at most 10 characters: %s" % (n, _show(name)))
    if what == "stop" and len(t) == 3:
        return Step(n, text, "source", (name, "stop", None))
    if what == "rate" and len(t) == 4:
        hz = _int(t[3], "rate (Hz)", n, 8000, 384000)
        if hz not in (32000, 44100, 48000, 88200, 96000, 176400, 192000):
            raise ScenarioError("line %d: rate %d Hz: the DACs take 32000, 44100, 48000, 88200, "
                                "96000, 176400 or 192000" % (n, hz))
        return Step(n, text, "source", (name, "rate", hz))
    if what == "play" and len(t) == 7 and t[3] == "sine" and t[6].lower() == "dbfs":
        f = t[4]
        if f[-1:] in ("k", "K") and len(f) > 1:
            hz = _milli(f[:-1], "frequency", n)           # thousandths of a kHz: Hz
        else:
            hz = _milli(f, "frequency", n) // 1000
        if not 20 <= hz <= 20000:
            raise ScenarioError("line %d: a sine of 20 Hz to 20 kHz, not %s" % (n, _show(f)))
        level = _milli(t[5], "level (dBFS)", n)
        if not -120000 <= level <= 0:
            raise ScenarioError("line %d: a level of -120 to 0 dBFS, not %s" % (n, _show(t[5])))
        return Step(n, text, "source", (name, "play", (hz, level)))
    raise ScenarioError(use)


def _bounce(opts, line):
    if "bounce" not in opts:
        return 0
    return _int(opts["bounce"], "bounce (us)", line, 0, 100000)


def parse_line(n, raw):
    """One line to a Step, or None for a blank or comment line."""
    text = raw.split("#", 1)[0].strip()
    if not text:
        return None
    t = text.split()
    op = t[0]
    if op == "power":
        if len(t) != 2 or t[1] not in ("on", "off"):
            raise ScenarioError("line %d: use 'power on' or 'power off'" % n)
        return Step(n, text, "power", (t[1] == "on",))
    if op == "wait":
        if len(t) != 2:
            raise ScenarioError("line %d: use 'wait MS'" % n)
        return Step(n, text, "wait", (_int(t[1], "wait (ms)", n, 0, 86400000),))
    if op == "turn":
        if len(t) < 2 or t[1][:1] not in "+-":
            raise ScenarioError("line %d: use 'turn +N' or 'turn -N' (sign required)" % n)
        detents = _int(t[1], "detents", n, -100000, 100000)
        opts = _options(t[2:], ("at", "bounce"), n)
        rate = 10000
        if "at" in opts:
            r = opts["at"]
            if not r.endswith("/s"):
                raise ScenarioError("line %d: rate must look like 20/s, got %s" % (n, _show(r)))
            rate = _milli(r[:-2], "rate", n)
            if not 100 <= rate <= 2000000:
                raise ScenarioError("line %d: rate must be 0.1/s to 2000/s" % n)
        return Step(n, text, "turn", (detents, rate, _bounce(opts, n)))
    if op == "press":
        return Step(n, text, "hold", (PRESS_MS, _bounce(_options(t[1:], ("bounce",), n), n)))
    if op == "hold":
        if len(t) < 2:
            raise ScenarioError("line %d: use 'hold MS'" % n)
        ms = _int(t[1], "hold (ms)", n, 1, 600000)
        return Step(n, text, "hold", (ms, _bounce(_options(t[2:], ("bounce",), n), n)))
    if op == "switch":
        choices = {"gain": ("low", "high", "auto"), "output": ("se", "balanced")}
        if len(t) < 3 or t[1] not in choices or t[2] not in choices[t[1]]:
            raise ScenarioError("line %d: use 'switch gain low|high|auto' or "
                                "'switch output se|balanced'" % n)
        return Step(n, text, "switch", (t[1], t[2], _bounce(_options(t[3:], ("bounce",), n), n)))
    if op == "expect":
        if len(t) == 3 and t[1] == "volume":
            db = _milli(t[2], "volume (dB)", n)
            if db % 500:
                raise ScenarioError("line %d: volume must be a multiple of 0.5 dB" % n)
            return Step(n, text, "expect_volume", (db // 500,))
        if len(t) == 2 and t[1] == "muted":
            return Step(n, text, "expect_muted", ())
        if len(t) == 3 and t[1] == "gain" and t[2] in ("low", "high"):
            return Step(n, text, "expect_relay", ("gain", t[2] == "high"))
        if len(t) == 3 and t[1] == "output" and t[2] in ("se", "balanced"):
            return Step(n, text, "expect_relay", ("output", t[2] == "balanced"))
        raise ScenarioError("line %d: use 'expect volume DB', 'expect muted', "
                            "'expect gain low|high' or 'expect output se|balanced'" % n)
    if op == "fault":
        faults = {"dac": ("absent", "ok"), "display": ("absent", "ok"), "i2c": ("stuck", "ok"),
                  "pga": ("reset",), "sense": ("low", "ok"), "flash": ("full", "eio", "ok")}
        if len(t) != 3 or t[1] not in faults or t[2] not in faults[t[1]]:
            raise ScenarioError("line %d: use 'fault dac absent|ok', 'fault display absent|ok', "
                                "'fault i2c stuck|ok', 'fault pga reset', 'fault sense low|ok' "
                                "or 'fault flash full|eio|ok'" % n)
        if t[1] == "flash":   # how it fails: "full" or "eio"; None: it works
            return Step(n, text, "fault", ("flash", None if t[2] == "ok" else t[2]))
        return Step(n, text, "fault", (t[1], t[2] != "ok"))
    if op == "ir":
        return _ir(n, text, t)
    if op == "source":
        return _source(n, text, t)
    if op == "wifi":
        if len(t) != 3 or t[1] not in ("ap", "dhcp") or t[2] not in ("on", "off"):
            raise ScenarioError("line %d: use 'wifi ap off|on' or 'wifi dhcp off|on'" % n)
        return Step(n, text, "wifi", (t[1], t[2] == "on"))
    raise ScenarioError("line %d: unknown command %s" % (n, _show(op)))


def parse(text):
    """All steps of a script; raises ScenarioError (line number first) on any bad line."""
    steps = []
    for n, raw in enumerate(text.split("\n"), 1):
        s = parse_line(n, raw)
        if s is not None:
            steps.append(s)
    return steps


def check_board(steps, board):
    """Parsed steps against what the board has (a validated headroom_fw.board.Board): a
    line for a part it lacks (a switch, a relay, a three-position lever, the PCM5122's
    I2C, a supply monitor) raises ScenarioError with its line, before anything runs."""
    for s in steps:
        why = lacks(s, board)
        if why is not None:
            raise ScenarioError("line %d: %s: %s" % (s.line, s.text, why))


def lacks(s, b):
    """Why board `b` (the firmware's parsed board file) cannot do step `s`, or None."""
    if s.op == "switch":
        which, pos = s.args[0], s.args[1]
        if which == "gain":
            if not b.gain_switch_pins:
                return "this board has no gain switch"
            if pos == "auto" and len(b.gain_switch_pins) != 2:
                return ("this board's gain switch has two positions, low and high (auto is a "
                        "three-position switch's middle)")
        elif b.output_switch is None:
            return "this board has no output switch"
    elif s.op in ("ir", "ir_noise") and b.ir_pin is None:
        return "this board has no IR receiver"
    elif s.op == "wifi" and getattr(b, "wifi", None) is None:
        return "this board has no WiFi (a Pico W board's wifi section)"
    elif s.op == "source":
        if b.source != "external":
            return "this board's music comes from the Pico (no inputs.source \"external\")"
        from .models.source import name_key
        if name_key(s.args[0]) not in [name_key(x) for x in b.input_names]:
            return "no input %s (the board's: %s)" % (s.args[0], ", ".join(b.input_names))
    elif s.op == "expect_relay":
        if (b.gain_relay if s.args[0] == "gain" else b.output_relay) is None:
            return "this board has no %s relay" % s.args[0]
    elif s.op == "fault":
        what = s.args[0]
        if what == "dac" and b.dac != "pcm5122":
            return "this board's DAC (%s) has no I2C bus" % (b.dac or "none")
        if what == "i2c" and b.dac != "pcm5122" and (b.display is None or b.display.bus != "i2c"):
            return "this board has no I2C bus"
        if what == "display" and b.display is None:
            return "this board has no display"
        if what == "sense" and b.power_sense is None:
            return "this board has no supply monitor"
    return None


class Runner:
    """Runs parsed steps on a SimBoard; failed expectations are collected, not fatal.

    `run(steps)` runs them one after another. A step can also be run a piece at a time
    (the front panel does, to let its time pass in real time): `emit_step(s)` makes its
    `step` record, `waits(s)` does it and gives the times (us) the board must run for,
    one after another; the step goes on after each, and is over when they run out.
    `run` is exactly: for each step, `emit_step`, then every wait of `waits` run on the
    board.
    """

    def __init__(self, board):
        self.board = board
        self.failures = []
        self.on_expect = None   # fn(step) after every expectation (run.py: --display-png)

    def run(self, steps):
        for s in steps:
            self.emit_step(s)
            for us in self.waits(s):
                self.board.run_us(us)
        return self.failures

    def emit_step(self, s):
        self.board.sim.emit("step", [("line", s.line), ("text", s.text)])

    def waits(self, s):
        """Do step `s` (its `step` record made): an iterator of the times (us) to run the
        board for, each before the next is asked for."""
        w = getattr(self, "_" + s.op)(s, *s.args)
        return () if w is None else w

    # Steps that take time are generators: the code before each `yield` runs at that
    # point of the step, the value is how long the board then runs.
    def _power(self, s, on):
        self.board.power(on)

    def _wait(self, s, ms):
        yield ms * 1000

    def _turn(self, s, detents, rate, bounce):
        b = self.board
        yield b.turn_mhz(detents, rate, bounce) if detents else 0

    def _hold(self, s, ms, bounce):
        b = self.board
        b.press(True, bounce)
        yield ms * 1000
        b.press(False, bounce)
        yield AFTER_MS * 1000

    def _switch(self, s, which, pos, bounce):
        b = self.board
        if which == "gain":
            if b.gain_switch is None:
                self._fail(s, "this board has no gain switch")
            if pos == "auto" and len(b.board.gain_switch_pins) != 2:
                self._fail(s, "this board's gain switch has two positions, low and high (auto is a "
                           "three-position switch's middle)")
            else:
                b.set_gain(pos, bounce)
        else:
            if b.output_switch is None:
                self._fail(s, "this board has no output switch")
            b.set_output(pos, bounce)
        yield AFTER_MS * 1000

    def _ir(self, s, proto, addr, cmd, hold, nbits):
        yield self.board.ir(proto, addr, cmd, hold, nbits) + AFTER_MS * 1000

    def _source(self, s, name, what, arg):
        src = self.board.source
        if src is None:
            return self._fail(s, "this board has no external source")
        if what == "stop":
            src.stop(name)
        elif what == "rate":
            src.rate(name, arg)
        else:
            src.play(name, arg[0], arg[1])
        self.board.sim.emit("input", [("what", "source"), ("input", name), ("do", what)])

    def _ir_noise(self, s, per_s):
        self.board.ir_noise(per_s)

    def _wifi(self, s, what, on):
        w = self.board.wifi
        if w is None:
            return self._fail(s, "this board has no WiFi")
        if what == "ap":
            w.set_ap(on)
        else:
            w.set_dhcp(on)

    def _fault(self, s, what, on):
        try:
            self.board.fault(what, on)
        except ValueError as e:
            self._fail(s, str(e))

    def _fail(self, s, why):
        self.failures.append((s.line, s.text, why))
        self.board.sim.emit("expect", [("line", s.line), ("ok", False), ("why", why)])
        if self.on_expect is not None:
            self.on_expect(s)

    def _ok(self, s):
        self.board.sim.emit("expect", [("line", s.line), ("ok", True)])
        if self.on_expect is not None:
            self.on_expect(s)

    def _expect_volume(self, s, hdb):
        levels = [v for v in self.board.jack.levels if v is not None]
        if not levels:
            return self._fail(s, "the output is muted")
        top = max(levels)
        if not hdb * 50 - 50 < top <= hdb * 50:
            return self._fail(s, "level is %s dBV" % _fmt_cdb(top))
        self._ok(s)

    def _expect_muted(self, s):
        if any(v is not None for v in self.board.jack.levels):
            return self._fail(s, "the output is not muted")
        self._ok(s)

    def _expect_relay(self, s, name, energized):
        r = self.board.relays.get(name)
        if r is None:
            return self._fail(s, "this board has no %s relay" % name)
        if r.energized != energized:
            return self._fail(s, "the %s relay is %s" % (name, "energized" if r.energized else "released"))
        self._ok(s)


def _fmt_cdb(v):
    sign = "-" if v < 0 else ""
    v = abs(v)
    return "%s%d.%02d" % (sign, v // 100, v % 100)
