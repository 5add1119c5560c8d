"""The knob menu (boards with a display): every setting the host can change, by the knob.

Gestures (docs/knob.md): with the menu closed a turn is the volume and a click mutes; a
long press confirms a limit raise waiting for it, else opens the menu. In the menu a
turn moves the cursor (or changes the value being edited), a click enters the entry
under the cursor (or sets the value), a long press goes back one level and closes the
menu at the top. Left alone for 15 s the menu closes: the knob is the volume again, and
an edit not set is dropped (a balance tried live goes back to what it was).

Every change goes through the controller's host_* methods (and set_headphone), the ones
the control protocol calls: the same ranges, refusals and rules. A raise of the volume
limit or the SPL limit (or defaults that would raise one) is only asked for there: the
controller keeps it waiting (`pending`), the screen says "hold to confirm", the long
press confirms it; a turn or a click in the menu meanwhile cancels it (a request to keep
the limit where it is, which the controller's rule says drops a raise waiting). A
refusal is shown in words until a click or a long press.

What the screen reads (screen.py): `open`, `changes` (bumped whenever what the menu
shows changes), `title()`, `count()`, `first_row()` (five rows fit), `cursor` (the
selected row, -1: none), `label(i)`, `value_text(i)` (at most 7 characters, may be "").

Allocation: the menu is a user action, so it makes strings (labels, values, the
headphone list read from headphones.json) while open. Nothing here runs while it is
closed: the app calls in only for a gesture (a long press opens it) or while `open`.
Pure: no `machine`.
"""
from time import ticks_add, ticks_diff

from micropython import const

from .controller import (
    BALANCE_MAX_HDB,
    BRIGHTNESS_MAX,
    GAIN_AUTO,
    HEADROOM_MAX_HDB,
    SPL_MAX_HDB,
    SPL_MIN_HDB,
)
from .protocol import db_text
from .version import VERSION

TIMEOUT_MS = const(15000)     # a menu left alone this long closes
ROWS = const(5)               # rows the screen shows at once
_ASK_SPL = const(2)           # controller._ASK_SPL: what a pending SPL-limit raise says
_CHANGES_MASK = const(0x3FFFFFFF)
_WIDTH = const(15)            # characters in a row of the 128-pixel screen (16 from x=2)
_NAME = const(14)             # a choice's name, with its "*" mark at the row's end

# The entries, in the order the top level lists them (a board shows those it has).
E_HEADPHONE = const(0)
E_SPL = const(1)
E_LIMIT = const(2)
E_GAIN = const(3)
E_OUTPUT = const(4)
E_HEADROOM = const(5)
E_BALANCE = const(6)
E_STARTUP = const(7)
E_BRIGHTNESS = const(8)
E_TIMEOUT = const(9)
E_DARK = const(10)
E_DEFAULTS = const(11)
E_ABOUT = const(12)
E_EXIT = const(13)
E_REMOTE = const(14)
E_STANDBY = const(15)
E_INPUT = const(16)
E_TRIM = const(17)
E_AUTO = const(18)
E_PHONES = const(19)
LABELS = ("Headphone", "SPL limit", "Vol limit", "Gain", "Output", "Headroom", "Balance",
          "Start max", "Brightness", "Dim after", "Dark mode", "Defaults", "About", "Exit",
          "Remote", "Standby", "Input", "Input trim", "Auto stdby", "Phones")
TITLES = ("Headphone", "SPL limit dB", "Vol limit dBV", "Gain", "Output", "Auto headroom",
          "Balance dB", "Start max dBV", "Brightness", "Dim after", "Dark mode",
          "Reset defaults?", "About", "", "Learn a key", "", "Input", "Trim dB",
          "No signal for", "Web remote")
AUTO_MIN = (0, 10, 20, 30, 60, 120)   # auto-standby's choices, minutes (0: never)
# The web remote's phones (a Pico W board): pair one (the code shows), or forget them all.
PHONE_ROWS = ("pair a phone", "forget all")
# The remote's list: a function to learn a key for, or its default keys back.
REMOTE_ROWS = ("volume up", "volume down", "mute", "menu", "input", "standby", "default keys")

# What an entry is when entered.
_K_LIST = const(0)     # a list of choices: the cursor picks, a click sets
_K_NUMBER = const(1)   # a number the turn changes, a click sets
_K_INFO = const(2)     # rows to read (about)
_K_MESSAGE = const(3)  # a refusal in words

GAINS = ("low", "high", "auto")
OUTPUTS = ("SE", "balanced")
OFF_ON = ("off", "on")
RESET = ("keep", "reset")
TIMEOUTS_S = (0, 10, 30, 60, 120, 300, 600, 1800, 3600)
_NUMBER_ROWS = ("Set", "Now", "click: set", "hold: back")
_ABOUT_ROWS = ("Version", "Uptime", "Faults", "Log")


def spl_text(hdb):
    """dB SPL in at most 7 characters: 100 dB, 129.5dB."""
    return "%d dB" % (hdb // 2) if hdb % 2 == 0 else "%d.5dB" % (hdb // 2)


def balance_text(hdb):
    if hdb == 0:
        return "0.0"
    return ("R " if hdb > 0 else "L ") + db_text(hdb if hdb > 0 else -hdb)


def timeout_text(s):
    if s == 0:
        return "never"
    if s < 120:
        return "%d s" % s
    return "%d min" % (s // 60)


def uptime_text(s):
    if s < 3600:
        return "%dm%02ds" % (s // 60, s % 60)
    if s < 86400:
        return "%dh%02dm" % (s // 3600, s % 3600 // 60)
    return "%dd%02dh" % (min(s // 86400, 999), s % 86400 // 3600)


def size_text(n):
    if n < 10000:
        return "%d B" % n
    return "%d KB" % (n // 1024) if n < 10000 * 1024 else "%d MB" % (n >> 20)


def wrap(text, width=_WIDTH):
    """Words into lines of at most `width` characters (a longer word is split)."""
    lines = []
    line = ""
    for word in text.split():
        while len(word) > width:
            if line:
                lines.append(line)
            lines.append(word[:width])
            line = ""
            word = word[width:]
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = line + " " + word if line else word
    if line:
        lines.append(line)
    return lines


class Menu:
    def __init__(self, ctl, board, app):
        self.ctl = ctl
        self.b = board
        self.app = app
        rows = [E_HEADPHONE, E_SPL, E_LIMIT, E_GAIN]
        if len(board.outputs) > 1:
            rows.append(E_OUTPUT)
        if board.gain_relay is not None:
            rows.append(E_HEADROOM)   # auto gain's: auto needs the relay
        rows += [E_BALANCE, E_STARTUP, E_BRIGHTNESS, E_TIMEOUT, E_DARK, E_DEFAULTS, E_ABOUT]
        if len(board.input_names) > 1:
            rows += [E_INPUT, E_TRIM]      # the board's inputs, each with its trim
        if board.ir_pin is not None:
            rows.append(E_REMOTE)     # learn a remote's keys
        if board.wifi is not None:
            rows.append(E_PHONES)     # the web remote's pairing
        rows.append(E_STANDBY)
        if board.dac == "pcm5122":
            rows.append(E_AUTO)       # the DAC tells whether music comes
        rows.append(E_EXIT)
        self.rows = tuple(rows)
        self.open = False
        self.changes = 0
        self.mode = 0           # 0 closed, 1 at the top, 2 in an entry: the app starts a
                                # new knob gesture when it changes
        self.cursor = 0
        self.entry = -1         # the entry entered, -1 at the top
        self.kind = _K_LIST
        self.options = ()  # type: tuple[str, ...]
        self.value = 0          # a number entry's value as edited
        self.was = 0            # ...and what it was when entered
        self.lo = 0
        self.hi = 0
        self.lines = ()  # type: tuple[str, ...]
        self._first = 0         # the first row shown where nothing is selected
        self._top = 0           # the top level's cursor, kept while in an entry
        self._until = 0
        self._seen = -1         # ctl.changes when last looked at
        self._up_s = -1         # the uptime shown (about)
        self._learning = False  # a key for the remote is waited for (the message says so)

    # ---- what the screen shows
    def title(self):
        if self.entry < 0:
            return "MENU"
        if self.kind == _K_MESSAGE:
            return "Not done"
        return TITLES[self.entry]

    def count(self):
        if self.entry < 0:
            return len(self.rows)
        k = self.kind
        if k == _K_LIST:
            return len(self.options)
        if k == _K_NUMBER:
            return len(_NUMBER_ROWS)
        if k == _K_INFO:
            return len(_ABOUT_ROWS)
        return len(self.lines)

    def first_row(self):
        if self.cursor < 0:
            return self._first
        f = self.cursor - ROWS // 2
        n = self.count()
        if f > n - ROWS:
            f = n - ROWS
        return f if f > 0 else 0

    def label(self, i):
        if self.entry < 0:
            return LABELS[self.rows[i]]
        k = self.kind
        if k == _K_LIST:
            return self.options[i][:_NAME]
        if k == _K_NUMBER:
            if i == 1 and self.entry == E_BALANCE:
                return "Was"
            return _NUMBER_ROWS[i]
        if k == _K_INFO:
            return _ABOUT_ROWS[i]
        return self.lines[i]

    def value_text(self, i):
        if self.entry < 0:
            return self._current_text(self.rows[i])
        k = self.kind
        if k == _K_LIST:
            return "*" if i == self._in_force() else ""
        if k == _K_NUMBER:
            if i > 1:
                return ""
            if self.entry == E_BALANCE:
                return balance_text(self.value if i == 0 else self.was)
            return self._number_text(self.value if i == 0 else self._current(self.entry))
        if k == _K_INFO:
            return self._about(i)
        return ""

    def _number_text(self, v):
        return spl_text(v) if self.entry == E_SPL else db_text(v)

    def _current(self, e):
        """A number entry's value in force (hdB)."""
        ctl = self.ctl
        if e == E_SPL:
            return ctl.spl_limit
        if e == E_LIMIT:
            return ctl.limit
        if e == E_HEADROOM:
            return ctl.headroom
        if e == E_BALANCE:
            return ctl.balance
        if e == E_TRIM:
            return ctl.trims[ctl.input]
        return ctl.startup_cap

    def _current_text(self, e):
        """An entry's value in force, as the top level shows it."""
        ctl = self.ctl
        if e == E_HEADPHONE:
            return "none" if ctl.hp is None else ctl.hp.name[:6]
        if e == E_SPL:
            return spl_text(ctl.spl_limit)
        if e == E_LIMIT or e == E_HEADROOM or e == E_STARTUP or e == E_TRIM:
            return db_text(self._current(e))
        if e == E_INPUT:
            return self.b.input_names[ctl.input][:7]
        if e == E_AUTO:
            return "never" if ctl.auto_standby_min == 0 else "%d min" % ctl.auto_standby_min
        if e == E_BALANCE:
            return balance_text(ctl.balance)
        if e == E_GAIN:
            return GAINS[ctl.gain_setting()] if self.b.gain_relay is not None else "fixed"
        if e == E_OUTPUT:
            return "BAL" if ctl.output else "SE"
        if e == E_BRIGHTNESS:
            return str(ctl.display_brightness)
        if e == E_TIMEOUT:
            return timeout_text(ctl.display_timeout_s)
        if e == E_DARK:
            return OFF_ON[1 if ctl.display_dark else 0]
        if e == E_REMOTE and self.app.remote is not None:
            return "%d keys" % len(self.app.remote.keys)
        if e == E_PHONES and self.app.pairing is not None:
            return "%d" % len(self.app.pairing.devices)
        return ""

    def _in_force(self):
        """The list entry's choice in force (its row), or -1."""
        ctl = self.ctl
        e = self.entry
        if e == E_HEADPHONE:
            name = "none" if ctl.hp is None else ctl.hp.name
            return self.options.index(name) if name in self.options else -1
        if e == E_GAIN:
            return ctl.gain_setting()
        if e == E_OUTPUT:
            return ctl.output
        if e == E_INPUT:
            return ctl.input
        if e == E_AUTO:
            m = ctl.auto_standby_min
            return AUTO_MIN.index(m) if m in AUTO_MIN else -1
        if e == E_BRIGHTNESS:
            return ctl.display_brightness - 1
        if e == E_TIMEOUT:
            t = ctl.display_timeout_s
            return TIMEOUTS_S.index(t) if t in TIMEOUTS_S else -1
        if e == E_DARK:
            return 1 if ctl.display_dark else 0
        return -1

    def _about(self, i):
        app = self.app
        if i == 0:
            return VERSION[:7]
        if i == 1:
            return uptime_text(app.uptime.s)
        if i == 2:
            return str(len(app.sup.fault_text))
        return size_text(app.log.size())

    # ---- gestures (the app calls these only while open, or a long press to open)
    def long_press(self, now):
        """Open the menu; in it, back one level; at the top, close it."""
        if not self.open:
            self.open = True
            self.mode = 1
            self.entry = -1
            self.cursor = 0
            self._first = 0
            self._seen = self.ctl.changes
        elif self.entry >= 0:
            self._leave(now)
        else:
            self.close(now)
            return
        self._touch(now)

    def close(self, now):
        """Closed (a long press at the top, the time-out, Exit): an edit not set is
        dropped; a balance tried live stays as it was turned (as balance mode did: the
        time-out is no touch, and changes nothing a save would have to follow)."""
        if self.entry >= 0:
            self._back()
        self.open = False
        self.mode = 0
        self._bump()

    def turn(self, detents, steps, now):
        """The knob in the menu: the cursor, or the value edited (`steps`: the knob's
        accelerated 0.5 dB steps, for the wide ranges). Never the volume."""
        self._touch(now)
        if self._cancel(now):
            return
        if self.entry >= 0 and self.kind == _K_NUMBER:
            e = self.entry
            d = steps if e in (E_SPL, E_LIMIT, E_STARTUP) else detents
            v = self.value + d
            v = self.lo if v < self.lo else (self.hi if v > self.hi else v)
            if v != self.value:
                self.value = v
                if e == E_BALANCE:   # heard as it is turned: the host's walk, no jump
                    self.ctl.host_balance(v, now)
            return
        n = self.count()
        if self.cursor < 0:       # nothing to select: the rows scroll
            f = self._first + detents
            top = n - ROWS if n > ROWS else 0
            self._first = 0 if f < 0 else (top if f > top else f)
            return
        c = self.cursor + detents
        self.cursor = 0 if c < 0 else (n - 1 if c >= n else c)

    def click(self, now):
        """Enter the entry under the cursor, or set what is chosen."""
        self._touch(now)
        if self._cancel(now):
            return
        if self.entry < 0:
            self._enter(self.rows[self.cursor], now)
            return
        k = self.kind
        if k == _K_INFO or k == _K_MESSAGE:
            self._back()
            return
        why = self._apply(now)
        if why is not None and self.ctl.pending(now) is None:
            self._message(why)   # refused: say why (a raise waits: the screen asks to hold)
        else:
            self._back()

    def tick(self, now):
        """Each pass while open: the time-out; what the controller or the clock changed
        (a host's request, the uptime shown) is drawn again."""
        if ticks_diff(now, self._until) >= 0:
            self.close(now)
            return
        c = self.ctl.changes
        if c != self._seen:
            self._seen = c
            self._bump()
        if self.entry == E_ABOUT:
            s = self.app.uptime.s
            if s != self._up_s:
                self._up_s = s
                self._bump()
        if self._learning:
            rem = self.app.remote
            if not rem.learning_now(now):    # a key came (or its 10 s are over)
                self._learning = False
                self._message(rem.learned or "")
                self._touch(now)

    # ---- inside
    def _touch(self, now):
        self._until = ticks_add(now, TIMEOUT_MS)
        self._bump()

    def _bump(self):
        self.changes = (self.changes + 1) & _CHANGES_MASK

    def _cancel(self, now):
        """A turn or a click while a raise waits for the long press (the screen says
        "hold to confirm"): the raise is dropped, by asking for the limit as it stands."""
        ctl = self.ctl
        p = ctl.pending(now)
        if p is None:
            return False
        if p[0] == _ASK_SPL:
            ctl.host_spl_limit(ctl.spl_limit, now)
        else:
            ctl.host_limit(ctl.limit, now)   # drops a raise of the limit or the defaults
        return True

    def _enter(self, e, now):
        if e == E_EXIT:
            self.close(now)
            return
        self._top = self.cursor
        self.entry = e
        self.mode = 2
        self._first = 0
        if e == E_ABOUT:
            self.kind = _K_INFO
            self.cursor = -1
            return
        if e in (E_SPL, E_LIMIT, E_HEADROOM, E_BALANCE, E_STARTUP, E_TRIM):
            self.kind = _K_NUMBER
            self.cursor = 0
            self.value = self.was = self._current(e)
            if e == E_SPL:
                self.lo, self.hi = SPL_MIN_HDB, SPL_MAX_HDB
            elif e == E_LIMIT:
                self.lo, self.hi = self.b.min_hdb, self.b.limit_hdb
            elif e == E_HEADROOM:
                self.lo, self.hi = 0, HEADROOM_MAX_HDB
            elif e == E_BALANCE:
                self.lo, self.hi = -BALANCE_MAX_HDB, BALANCE_MAX_HDB
            elif e == E_TRIM:
                self.lo, self.hi = -40, 0
            else:
                self.lo, self.hi = self.b.min_hdb, self.b.startup_max_hdb
            return
        if e == E_STANDBY:
            self.close(now)
            self.ctl.host_standby(True, now)   # a touch wakes it
            return
        if e == E_GAIN and self.b.gain_relay is None:
            self._message("Gain: this board has one gain (no gain relay)")
            return
        self.kind = _K_LIST
        if e == E_HEADPHONE:
            names = self._profiles()
            if isinstance(names, str):
                self._message(names)
                return
            self.options = tuple(["none"] + names)
        elif e == E_GAIN:
            self.options = GAINS
        elif e == E_OUTPUT:
            self.options = OUTPUTS
        elif e == E_INPUT:
            self.options = self.b.input_names
        elif e == E_AUTO:
            self.options = tuple("never" if m == 0 else "%d min" % m for m in AUTO_MIN)
        elif e == E_BRIGHTNESS:
            self.options = tuple(str(i) for i in range(1, BRIGHTNESS_MAX + 1))
        elif e == E_TIMEOUT:
            self.options = tuple(timeout_text(s) for s in TIMEOUTS_S)
        elif e == E_DARK:
            self.options = OFF_ON
        elif e == E_REMOTE:
            self.options = REMOTE_ROWS
        elif e == E_PHONES:
            self.options = PHONE_ROWS
        else:
            self.options = RESET
        c = self._in_force()
        self.cursor = c if c >= 0 else 0

    def _profiles(self):
        """The names of the profiles in headphones.json on the board ([] without the
        file), or why it cannot be read."""
        from . import headphones as H
        app = self.app
        path = app.root + H.FILE
        try:
            app.files.size(path)
        except OSError:
            return []
        try:
            return [hp.name for hp in H.load(path)]
        except (ValueError, MemoryError) as e:   # ProfileError: the file, the field
            return "headphone: " + str(e)

    def _apply(self, now):
        """Set what the entry holds, through the host's methods; None or why not."""
        ctl = self.ctl
        e = self.entry
        if self.kind == _K_NUMBER:
            v = self.value
            if e == E_SPL:
                return ctl.host_spl_limit(v, now) if v != ctl.spl_limit else None
            if e == E_LIMIT:
                return ctl.host_limit(v, now) if v != ctl.limit else None
            if e == E_HEADROOM:
                return ctl.host_headroom(v, now)
            if e == E_BALANCE:
                self.was = v     # kept: set
                return ctl.host_balance(v, now)
            if e == E_TRIM:
                return ctl.host_trim(v, now)
            return ctl.host_startup_cap(v, now)
        i = self.cursor
        if e == E_HEADPHONE:
            if i == 0:
                return ctl.set_headphone(None, None, now)
            hp = self.app.headphone_named(self.options[i])
            if isinstance(hp, str):
                return hp
            return ctl.set_headphone(hp[0], hp[1], now)
        if e == E_GAIN:
            return ctl.host_gain(GAIN_AUTO if i == 2 else i, now)   # GAINS' order
        if e == E_OUTPUT:
            return ctl.host_output(i, now)
        if e == E_INPUT:
            return ctl.host_input(i, now)
        if e == E_AUTO:
            return ctl.host_auto_standby(AUTO_MIN[i], now)
        if e == E_BRIGHTNESS:
            return ctl.host_display("display_brightness", i + 1, now)
        if e == E_TIMEOUT:
            return ctl.host_display("display_timeout_s", TIMEOUTS_S[i], now)
        if e == E_DARK:
            return ctl.host_display("display_dark", i == 1, now)
        if e == E_REMOTE:
            return self._learn(i, now)
        if e == E_PHONES:
            return self._phones(i, now)
        return ctl.host_defaults(now) if i == 1 else None

    def _phones(self, i, now):
        """Show a pairing code (the display shows it over the menu until it is used or
        lapses), or forget every paired phone."""
        pairing = self.app.pairing
        if i == 0:
            pairing.start(now)
            return "The code is on the display: type it on the phone's page (2 min)"
        try:
            pairing.forget()
        except OSError:
            return "Phones forgotten until a reset: not saved"
        return "No phone paired now: each must pair again"

    def _learn(self, i, now):
        """The remote's row `i`: wait for a function's key (the message asks for it and
        then says what came; leaving it stops the wait), or the default keys back."""
        app = self.app
        if i == len(REMOTE_ROWS) - 1:
            reply = app.remote_command(("remote", "defaults"), now)
            return "Default keys: not saved" if reply.startswith('{"ok": false') else None
        app.remote.learn(i + 1, now)      # remote.NAMES' order, from 1
        self._learning = True
        return "Press the remote's key for %s (10 s)" % REMOTE_ROWS[i]

    def _leave(self, now):
        """Out of an entry without setting it: a balance tried live goes back."""
        if self.entry == E_BALANCE and self.kind == _K_NUMBER and self.ctl.balance != self.was:
            self.ctl.host_balance(self.was, now)
        self._back()

    def _back(self):
        if self._learning:                # left while a key was waited for: no more
            self._learning = False
            self.app.remote.learning = 0
        self.entry = -1
        self.mode = 1
        self.cursor = self._top
        self._bump()

    def _message(self, text):
        """A refusal in words (in an entry), read until a click or a long press."""
        self.kind = _K_MESSAGE
        self.mode = 2
        self.lines = tuple(wrap(text))
        self.cursor = -1
        self._first = 0
        self._bump()
