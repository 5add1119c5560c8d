"""The control protocol (version 1): one command per line in, one JSON line out.

    status                      every setting and the state
    get NAME                    volume, balance, gain, output, mute, limit, spl_limit,
                                gain_headroom, startup_cap, display_brightness,
                                display_timeout_s, display_dark, standby, headphone, spl,
                                gain_stage (the analog gain in use: what auto chose),
                                trigger (the 12 V trigger out: high while playing)
    set volume DB               multiple of 0.5, within the board's range and the limit;
                                a rise fades in, as a restore does
    set balance DB              -10..10 in 0.5 dB steps (positive: right louder), walked
                                there a ramp step at a time
    set gain low|high|auto      auto: the least gain that reaches the volume with
                                gain_headroom to spare (a board with a gain relay)
    set gain_headroom DB        0..12 dB
    set startup_cap DB          the most the amplifier starts at, at most the board's
                                startup_max_dbv (its default)
    set display_brightness N    1..4
    set display_timeout_s S     0..3600: the display dims after S s untouched (0: never)
    set display_dark on|off     dark but for a moment after a turn
    set spl_limit DB            the hearing-safety limit, 60..130 dB SPL: lower at once,
                                higher after a long press, like the limit
    set headphone none          no headphone: no SPL, no SPL limit
    set headphone NAME          a profile from headphones.json on the board
    set headphone OHM SENS dB/mW|dB/V NAME
                                the figures inline (the host sends these); a louder
                                headphone at this level lowers the level first
    set output se|balanced
    set mute on|off
    set input NAME              the board's input of that name (`inputs.names`): under
                                the muting, the fade-in back; never a jump
    set trim DB                 the input's own level trim, -20..0 dB (kept per input):
                                lower at once, higher faded in
    set auto_standby_min N      standby after N minutes without a signal and without a
                                touch (0: never; boards whose DAC tells: the PCM5122)
    set standby on|off          standby: the trigger drops, the outputs mute in order,
                                every relay released; off (or a turn, a press, the
                                remote): the muted start, the fade-in to the level it had
    set limit DB                lower: at once; higher: only asked for, a long press on
                                the board confirms it within 10 s
    set defaults                the board's volume, balance and limit (and gain/output
                                where no switch sets them); needs the long press when
                                it would raise the limit
    monitor on|off              push every change of state as {"event": "state", ...}
    version                     protocol and firmware version
    log                         the board's log file (what went wrong, newest last)
    remote                      the IR remote: its keys, a learning's outcome, the last
                                key, frames decoded and refused, glitches removed
    remote learn FUNCTION       the next key pressed within 10 s becomes FUNCTION's
                                (volume_up, volume_down, mute, menu, input, standby); a
                                key another function has is refused (`remote` says so)
    remote defaults|clear       the Apple and kit remotes' keys again / no key at all
    wifi ...                    a Pico W's network and the web remote's pairing
                                (wificmd.py; only over USB)

Replies: {"ok": true, ...} or {"ok": false, "error": "..."}. Events flow only while a
host asked for them: each costs a line of text, which the main loop should not
allocate for nobody. A bad line - unknown command, bad
number, out of range, too long, not ASCII - gets an error and changes nothing.
Pure: no machine, no I/O; the app feeds bytes and writes what comes back.
"""
from micropython import const

from .controller import PHASE_NAMES
from .jsonout import JsonOut, prepare
from .version import VERSION as FIRMWARE

VERSION = const(1)
MAX_LINE = const(200)   # `wifi set` carries an SSID and a key as hex: 9 + 64 + 1 + 126
NAMES = ("volume", "balance", "gain", "output", "mute", "limit", "spl_limit", "gain_headroom",
         "startup_cap", "display_brightness", "display_timeout_s", "display_dark", "standby",
         "input", "trim", "auto_standby_min", "headphone", "spl", "gain_stage", "trigger",
         "signal", "rate")
SETTABLE = 16   # the first SETTABLE names take `set NAME VALUE` (headphone its own form)
_DISPLAY = ("display_brightness", "display_timeout_s", "display_dark")
GAINS = ("low", "high", "auto")
OUTPUTS = ("se", "balanced")
# The same words as bytes, for the replies written into a JsonOut (made once, at import)
GAINS_B = (b"low", b"high", b"auto")
OUTPUTS_B = (b"se", b"balanced")
_PHASES_B = tuple(n.encode() for n in PHASE_NAMES)
# The PCM5122's detected rate class (register 91) in words (0: none).
RATES = (None, "8 kHz", "16 kHz", "32-48 kHz", "88.2-96 kHz", "176.4-192 kHz", "384 kHz", None)
_RATES_B = tuple(b"null" if r is None else b'"' + r.encode() + b'"' for r in RATES)
# The commands' words: the one vocabulary, which the host tools build their lines from
# (host_tools/headroom/requests.py).
STATUS = "status"   # the line a host polls: LineReader hands back this constant (no str made)
MONITOR = "monitor"
ON_OFF = ("on", "off")
VERSION_CMD = "version"
LOG = "log"
GET = "get"
SET = "set"
DEFAULTS = "defaults"     # set defaults
HEADPHONE = "headphone"   # set headphone NAME | none | Z SENS UNIT NAME
REMOTE = "remote"         # remote | remote learn FUNCTION | remote defaults | remote clear
WIFI = "wifi"             # wifi | wifi set SSID KEY | wifi off | wifi pair | wifi forget-devices
LEARN = "learn"
NO_HEADPHONE = "none"
prepare(GAINS_B + OUTPUTS_B + _PHASES_B + _RATES_B)  # every word a state line can carry


def name_key(name):
    """An input's name as it is matched: letters and digits, any case ("spdif" is S/PDIF)."""
    return "".join(c for c in name.lower() if "a" <= c <= "z" or "0" <= c <= "9")


def db_text(h):
    """hdB as a JSON number, one decimal."""
    s = "-" if h < 0 else ""
    h = -h if h < 0 else h
    return "%s%d.%d" % (s, h // 2, 5 * (h % 2))


def parse_hdb(tok):
    """'-20.5' -> -41 (hdB); None unless a plain decimal on the 0.5 dB grid."""
    neg = tok.startswith("-")
    body = tok[1:] if tok[:1] in "+-" else tok
    whole, dot, frac = body.partition(".")
    if not whole or any(c < "0" or c > "9" for c in whole) or len(whole) > 3:
        return None
    if dot and (not frac or any(c < "0" or c > "9" for c in frac) or len(frac) > 2):
        return None
    h = int(whole) * 2
    f = (frac + "00")[:2] if dot else "00"
    if f == "50":
        h += 1
    elif f != "00":
        return None
    return -h if neg else h


class Session:
    """What one host asked for on this connection, and the buffer its frequent replies
    (`status`, state events) are written into: one line goes out at a time (the
    console's busy()), so one buffer serves them all."""

    def __init__(self):
        self.monitoring = False
        self.out = JsonOut()
        self._hp = None          # the headphone whose JSON is in _hp_json
        self._hp_json = b"null"

    def headphone_json(self, ctl):
        """The active headphone's JSON as bytes, made again only when it changes."""
        if ctl.hp is not self._hp:
            self._hp = ctl.hp
            self._hp_json = headphone_json(ctl).encode()
        return self._hp_json


class LineReader:
    """Collects bytes into lines in a preallocated buffer."""

    def __init__(self):
        self.buf = bytearray(MAX_LINE)
        self.n = 0
        self.overflow = False

    def feed(self, byte):
        """One byte in; returns a complete line (str), the error text (bytes), or None."""
        if byte == 10 or byte == 13:
            if self.overflow:
                self.overflow = False
                self.n = 0
                return b"line too long (at most %d characters)" % MAX_LINE
            if self.n == 0:
                return None
            if self._is(b"status"):
                self.n = 0
                return STATUS
            n = self.n
            self.n = 0
            raw = bytes(self.buf[:n])
            for b in raw:
                if b < 32 or b > 126:
                    return b"not a text line"
            return raw.decode()
        if self.overflow:
            return None
        if self.n >= MAX_LINE:
            self.overflow = True
            return None
        self.buf[self.n] = byte
        self.n += 1
        return None

    def _is(self, word):
        """The line is `word`, spaces around it aside (compared in place: nothing made)."""
        buf = self.buf
        a = 0
        b = self.n
        while a < b and buf[a] == 32:
            a += 1
        while b > a and buf[b - 1] == 32:
            b -= 1
        if b - a != len(word):
            return False
        for i in range(b - a):
            if buf[a + i] != word[i]:
                return False
        return True


def serve(console, reader, answer, budget=64):
    """One pass's share of the host: only once the line before has gone out (busy()),
    take up to `budget` bytes the host sent until one line is complete and answer it
    (`answer(line)`, or its error) with write_line. At most one reply a pass: the next
    line waits in the port's buffers for the next pass, never lost, never a queue here.
    The caller pushes the line out (console.flush(), last in its pass). Pure: the
    console is handed in. Returns True when the share ran out with bytes still waiting
    (the caller comes back soon: a long line is read in time proportional to it, not a
    share per idle sleep); the rest of an overlong line, only dropped, costs half."""
    if console.busy():
        return False
    left = budget * 2
    while left > 0:
        b = console.read_byte()
        if b is None:
            return False
        left -= 1 if reader.overflow else 2
        line = reader.feed(b)
        if line is None:
            continue
        if isinstance(line, bytes):
            send(console, _err(line.decode()))
        else:
            send(console, answer(line))
        return False
    return True


def send(console, reply):
    """A reply (a str, or a JsonOut holding the line) to the console's write_line."""
    if isinstance(reply, str):
        return console.write_line(reply)
    return console.write_line(reply.buf, reply.n)


def text(reply):
    """A reply as a str (the host's and the tests' view; allocates)."""
    return reply if isinstance(reply, str) else reply.line()


def _err(text):
    # The text may echo what the host sent: a backslash must not become a JSON escape.
    return '{"ok": false, "error": "%s"}' % text.replace("\\", "/").replace('"', "'")


def cdb_text(c):
    """cdB as a JSON number, rounded to one decimal (None: null)."""
    if c is None:
        return "null"
    s = "-" if c < 0 else ""
    d = (abs(c) + 5) // 10
    return "%s%d.%d" % (s, d // 10, d % 10)


def headphone_json(ctl):
    if ctl.hp is None:
        return "null"
    from .headphones import brief_json
    return brief_json(ctl.hp)


def state_into(session, ctl, prefix, app=None):
    """The settings and state as a JSON object in session.out, `prefix` (bytes: the
    object's first fields) first, then the app's health fields if `app` is given.
    Allocates nothing (jsonout.py); returns the JsonOut."""
    out = session.out
    out.clear()
    out.raw(b"{")
    out.raw(prefix)
    if app is not None:
        app.health_into(out)
        out.raw(b", ")
    out.raw(b'"volume": ')
    out.hdb(ctl.volume)
    out.raw(b', "balance": ')
    out.hdb(ctl.balance)
    out.raw(b', "gain": "')
    out.raw(GAINS_B[ctl.gain_setting()])
    out.raw(b'", "gain_stage": "')
    out.raw(GAINS_B[ctl.gain])
    out.raw(b'", "output": "')
    out.raw(OUTPUTS_B[ctl.output])
    out.raw(b'", "mute": ')
    out.bool(ctl.user_muted)
    out.raw(b', "standby": ')
    out.bool(ctl.standby)
    out.raw(b', "input": "')
    out.raw(ctl.input_names_b[ctl.input])
    out.raw(b'", "trim": ')
    out.hdb(ctl.trims[ctl.input])
    out.raw(b', "signal": ')
    if ctl.signal is None:
        out.raw(b"null")
    else:
        out.bool(ctl.signal)
    out.raw(b', "rate": ')
    out.raw(_RATES_B[ctl.rate_class])
    out.raw(b', "trigger": ')
    out.bool(ctl.trigger)
    out.raw(b', "limit": ')
    out.hdb(ctl.limit)
    out.raw(b', "spl": ')
    out.cdb(ctl.spl_cdb())
    out.raw(b', "spl_limit": ')
    out.hdb(ctl.spl_limit)
    out.raw(b', "gain_headroom": ')
    out.hdb(ctl.headroom)
    out.raw(b', "headphone": ')
    out.raw(session.headphone_json(ctl))
    out.raw(b', "mode": "balance", "phase": "' if ctl.mode else b', "mode": "volume", "phase": "')
    out.raw(_PHASES_B[ctl.phase])
    out.raw(b'"}')
    return out


def state_json(ctl, prefix):
    """The settings and state as a JSON object (a str), `prefix` (str) first: for tests
    and the host; the firmware writes state_into."""
    return state_into(Session(), ctl, prefix.encode()).line()


def log_json(text):
    """The log as a reply: one JSON string (escaped by hand: the same bytes on every VM)."""
    out = []
    for ch in text:
        if ch == '"' or ch == "\\":
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch < " " or ch > "~":
            out.append("\\u%04x" % ord(ch))
        else:
            out.append(ch)
    return '{"ok": true, "log": "%s"}' % "".join(out)


def _value(ctl, name):
    if name == "volume":
        return db_text(ctl.volume)
    if name == "balance":
        return db_text(ctl.balance)
    if name == "gain":
        return '"%s"' % GAINS[ctl.gain_setting()]
    if name == "output":
        return '"%s"' % OUTPUTS[ctl.output]
    if name == "mute":
        return "true" if ctl.user_muted else "false"
    if name == "spl_limit":
        return db_text(ctl.spl_limit)
    if name == "gain_headroom":
        return db_text(ctl.headroom)
    if name == "headphone":
        return headphone_json(ctl)
    if name == "spl":
        return cdb_text(ctl.spl_cdb())
    if name == "gain_stage":
        return '"%s"' % GAINS[ctl.gain]
    if name == "startup_cap":
        return db_text(ctl.startup_cap)
    if name == "display_brightness":
        return str(ctl.display_brightness)
    if name == "display_timeout_s":
        return str(ctl.display_timeout_s)
    if name == "display_dark":
        return "true" if ctl.display_dark else "false"
    if name == "standby":
        return "true" if ctl.standby else "false"
    if name == "input":
        return '"%s"' % ctl.b.input_names[ctl.input]
    if name == "trim":
        return db_text(ctl.trims[ctl.input])
    if name == "auto_standby_min":
        return str(ctl.auto_standby_min)
    if name == "signal":
        return "null" if ctl.signal is None else ("true" if ctl.signal else "false")
    if name == "rate":
        r = RATES[ctl.rate_class]
        return "null" if r is None else '"%s"' % r
    if name == "trigger":
        return "true" if ctl.trigger else "false"
    return db_text(ctl.limit)


def _headphone(ctl, t, now, app):
    """set headphone none | NAME | OHM SENS UNIT NAME: the profile checked and resolved
    (by the app: the board's file, the sums) before the controller sees it."""
    if len(t) < 3:
        return _err("use: set headphone none|NAME|OHM SENS dB/mW|dB/V NAME")
    if len(t) == 3 and t[2] == NO_HEADPHONE:
        why = ctl.set_headphone(None, None, now)
    elif app is None:
        return _err("headphone: not on this connection")
    else:
        from .headphones import number
        if len(t) >= 5 and number(t[2]) is not None and number(t[3]) is not None:
            if len(t) < 6:
                return _err("headphone: name it: set headphone OHM SENS dB/mW|dB/V NAME")
            hp = app.headphone_from_figures(t[2], t[3], t[4], " ".join(t[5:]))
        else:
            hp = app.headphone_named(" ".join(t[2:]))
        if isinstance(hp, str):
            return _err(hp)
        why = ctl.set_headphone(hp[0], hp[1], now)
    if why is not None:
        return _err(why)
    return '{"ok": true, "headphone": %s, "volume": %s, "spl": %s}' % (
        headphone_json(ctl), db_text(ctl.volume), cdb_text(ctl.spl_cdb()))


def handle(session, ctl, line, now, app=None):
    """Run one command line on the controller; returns the reply line (no newline).
    `app` (optional) gives `status` its health fields and `log` the log. The reply is
    a str, or for `status` the session's JsonOut (send() and text() take either)."""
    if line == STATUS:  # before split(): the line a host polls allocates nothing
        return state_into(session, ctl, b'"ok": true, ', app)
    t = line.split()
    if not t:
        return _err("empty line")
    cmd = t[0]
    if cmd == MONITOR:
        if len(t) != 2 or t[1] not in ON_OFF:
            return _err("use: monitor on|off")
        session.monitoring = t[1] == ON_OFF[0]
        return '{"ok": true, "monitor": %s}' % ("true" if session.monitoring else "false")
    if cmd == VERSION_CMD and len(t) == 1:
        return '{"ok": true, "protocol": %d, "firmware": "%s"}' % (VERSION, FIRMWARE)
    if cmd == STATUS and len(t) == 1:
        return state_into(session, ctl, b'"ok": true, ', app)
    if cmd == LOG and len(t) == 1:
        return log_json(app.log_text() if app is not None else "")
    if cmd == REMOTE:
        if app is None:
            return _err("remote: not on this connection")
        return app.remote_command(t, now)
    if cmd == WIFI:
        if app is None:
            return _err("wifi: not on this connection")
        return app.wifi_command(t, now)
    if cmd == GET:
        if len(t) != 2 or t[1] not in NAMES:
            return _err("use: get " + "|".join(NAMES))
        return '{"ok": true, "%s": %s}' % (t[1], _value(ctl, t[1]))
    if cmd != SET:
        return _err("unknown command: %s" % cmd[:20])
    if len(t) == 2 and t[1] == DEFAULTS:
        why = ctl.host_defaults(now)
        return _err(why) if why is not None else '{"ok": true, "defaults": true}'
    if len(t) >= 2 and t[1] == HEADPHONE:
        return _headphone(ctl, t, now, app)
    if len(t) != 3 or t[1] not in NAMES[:SETTABLE]:
        return _err("use: set %s VALUE, set headphone ..., or set defaults"
                    % "|".join(NAMES[:SETTABLE]))
    name, arg = t[1], t[2]
    if name in ("volume", "balance", "limit", "spl_limit", "gain_headroom", "startup_cap",
                "trim"):
        h = parse_hdb(arg)
        if h is None:
            return _err("%s: not a number of dB on the 0.5 dB grid: %s" % (name, arg[:12]))
        if name == "volume":
            why = ctl.host_volume(h, now)
        elif name == "balance":
            why = ctl.host_balance(h, now)
        elif name == "spl_limit":
            why = ctl.host_spl_limit(h, now)
        elif name == "gain_headroom":
            why = ctl.host_headroom(h, now)
        elif name == "startup_cap":
            why = ctl.host_startup_cap(h, now)
        elif name == "trim":
            why = ctl.host_trim(h, now)
        else:
            why = ctl.host_limit(h, now)
    elif name == "gain":
        if arg not in GAINS:
            return _err("gain: low, high or auto")
        why = ctl.host_gain(GAINS.index(arg), now)
    elif name == "display_dark":
        if arg not in ON_OFF:
            return _err("display_dark: on or off")
        why = ctl.host_display(name, arg == ON_OFF[0], now)
    elif name in _DISPLAY:
        if not arg.isdigit() or len(arg) > 5:
            return _err("%s: a whole number: %s" % (name, arg[:12]))
        why = ctl.host_display(name, int(arg), now)
    elif name == "auto_standby_min":
        if not arg.isdigit() or len(arg) > 5:
            return _err("auto_standby_min: a whole number of minutes: %s" % arg[:12])
        why = ctl.host_auto_standby(int(arg), now)
    elif name == "output":
        if arg not in OUTPUTS:
            return _err("output: se or balanced")
        why = ctl.host_output(OUTPUTS.index(arg), now)
    elif name == "input":
        names = ctl.b.input_names
        keys = [name_key(n) for n in names]
        if name_key(arg) not in keys or not names[0]:
            return _err("input: %s" % ", ".join(names) if names[0] else "input: this board has one")
        why = ctl.host_input(keys.index(name_key(arg)), now)
    elif name == "standby":
        if arg not in ON_OFF:
            return _err("standby: on or off")
        why = ctl.host_standby(arg == ON_OFF[0], now)
    else:
        if arg not in ("on", "off"):
            return _err("mute: on or off")
        why = ctl.host_mute(arg == "on", now)
    if why is not None:
        return _err(why)
    return '{"ok": true, "%s": %s}' % (name, _value(ctl, name))
