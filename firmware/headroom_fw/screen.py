"""What the display shows, drawn on a 128x64 framebuf (pure: no `machine`; the panel is
any FrameBuffer with dirty(x, w, page0, page1), oled.py's drivers).

Views, one at a time (`view()` picks it): starting (the settle delay), the level, hold
to confirm (a limit raise waiting for the long press), a fault (a critical part: what
and what to check), the menu (menu.py draws its rows through `menu_rows`), a pairing
code for the web remote (pairing.py: six large digits while a code is open).

The level view, for reading at arm's length:

    LOW  SE            MUTE     <- gain, output; MUTE boxed when muted
     -23.5            dBV       <- 32-pixel digits; "dB SPL" with a headphone
    [=========     |     ]      <- the level (filled) between the board's floor and the top the
                                   path allows; the mark is the volume limit or the SPL
                                   limit, whichever holds the knob first
    HD 650                      <- the headphone, or "BAL L 2.5 dB" in balance mode

The digits are seven-segment glyphs drawn with fill_rect (no font to store; the checker
reads them back, sim/rules_display.py): the level in tenths of a dB, as `status` rounds.
Each part of the view is redrawn only when what it shows changes, and marks only its
own columns dirty, so a detent usually sends one or two digits (oled.py). Drawing the
level view allocates nothing: numbers go out a glyph at a time, text is constants.

Burn-in: the whole view moves by a pixel or two every few minutes (`shift`), so no
pixel stays lit for hours; dimming and dark mode are display.py's.
"""
from micropython import const

V_NONE = const(-1)
V_START = const(0)
V_LEVEL = const(1)
V_CONFIRM = const(2)
V_FAULT = const(3)
V_MENU = const(4)
V_PAIR = const(5)

DIGIT_W = const(16)
DIGIT_H = const(32)
STROKE = const(4)
DIGIT_Y = const(8)      # pages 1..4
# Cells: hundreds or sign, tens, units, the point, tenths (x of each).
CELLS = (0, 19, 38, 64)
POINT_X = const(57)
UNIT_X = const(88)
BAR_Y = const(49)       # in page 6, its mark 48..55
BAR_H = const(6)
BOTTOM_Y = const(56)
NO_VALUE = const(-32768)

# Segments a..g as (x, y, w, h) in a glyph; a digit's bits: a=1, b=2 ... g=64.
SEG = ((0, 0, DIGIT_W, STROKE), (DIGIT_W - STROKE, 0, STROKE, DIGIT_H // 2),
        (DIGIT_W - STROKE, DIGIT_H // 2, STROKE, DIGIT_H // 2),
        (0, DIGIT_H - STROKE, DIGIT_W, STROKE), (0, DIGIT_H // 2, STROKE, DIGIT_H // 2),
        (0, 0, STROKE, DIGIT_H // 2), (0, DIGIT_H // 2 - STROKE // 2, DIGIT_W, STROKE))
DIGITS = (0x3F, 0x06, 0x5B, 0x4F, 0x66, 0x6D, 0x7D, 0x07, 0x7F, 0x6F)
MINUS = const(0x40)
BLANK = const(0)
_UNSET = object()   # the bottom line shows nothing yet (None is "no headphone")
_CH = ("0", "1", "2", "3", "4", "5", "6", "7", "8", "9")
_GAINS = ("LOW", "HIGH")
_OUTS = ("SE", "BAL")


def glyphs(tenths, out):
    """The four cells' segment masks for a level in tenths of a dB (-99.9..199.9), into
    `out` (a bytearray(4): nothing allocated)."""
    neg = tenths < 0
    v = -tenths if neg else tenths
    t = v % 10
    u = (v // 10) % 10
    tens = (v // 100) % 10
    h = v // 1000
    c0 = MINUS if neg else (DIGITS[h] if h else BLANK)
    c1 = DIGITS[tens] if tens or h else BLANK
    if neg and not tens:
        c0 = BLANK
        c1 = MINUS
    out[0] = c0
    out[1] = c1
    out[2] = DIGITS[u]
    out[3] = DIGITS[t]


def _clamp(x):
    return 0 if x < 0 else 123 if x > 123 else x


class Screen:
    def __init__(self, panel, version=""):
        self.fb = panel
        self.version = version
        self.ox = 0          # the burn-in shift (shift())
        self.drawn = V_NONE
        self.cells = bytearray(4)   # the segment masks drawn in each cell
        self.want = bytearray(4)    # ...and those the level needs
        self._reset()

    def _reset(self):
        for i in range(4):
            self.cells[i] = 0xFF    # nothing drawn yet: every cell differs
        self.unit = -1
        self.status = -1
        self.bar = -1
        self.mark = -1
        self.bottom = _UNSET
        self.bal = NO_VALUE
        self.aux = -1

    def shift(self, step):
        """Move the view for burn-in's sake: sideways, 0..3 pixels and back, by `step` (a
        counter). Not up and down: the parts stay in their pages (a detent sends less)."""
        ox = (0, 1, 2, 3, 2, 1)[step % 6]
        if ox != self.ox:
            self.ox = ox
            self.drawn = V_NONE   # the next update draws the whole view anew

    # ---- the parts of a view
    def _dirty(self, x, y, w, h):
        x += self.ox
        self.fb.dirty(x, w, y >> 3, (y + h - 1) >> 3)

    def _box(self, x, y, w, h, c):
        self.fb.fill_rect(x + self.ox, y, w, h, c)

    def _text(self, s, x, y, c=1):
        self.fb.text(s, x + self.ox, y, c)

    def _number(self, tenths, x, y, c=1):
        """A level in small text ("-12.5"), a glyph at a time: nothing allocated.
        Returns the x after it."""
        if tenths < 0:
            self._text("-", x, y, c)
            x += 8
            tenths = -tenths
        whole = tenths // 10
        if whole >= 100:
            self._text(_CH[whole // 100], x, y, c)
            x += 8
        if whole >= 10:
            self._text(_CH[(whole // 10) % 10], x, y, c)
            x += 8
        self._text(_CH[whole % 10], x, y, c)
        self._text(".", x + 8, y, c)
        self._text(_CH[tenths % 10], x + 16, y, c)
        return x + 24

    def _glyph(self, i, was, mask):
        """Cell i from segments `was` to `mask`: only the segments that changed are marked
        dirty (0 to 5 sends three segments' columns, not the cell's), as they go dark or
        light; the lit ones are drawn again where a dark one crossed them (the corners)."""
        x = CELLS[i]
        y = DIGIT_Y
        if was == 0xFF:   # nothing known drawn there: the whole cell
            self._box(x, y, DIGIT_W, DIGIT_H, 0)
            self._dirty(x, y, DIGIT_W, DIGIT_H)
            change = 0
        else:
            change = was ^ mask
            for s in range(7):
                if change & was & (1 << s):
                    g = SEG[s]
                    self._box(x + g[0], y + g[1], g[2], g[3], 0)
        for s in range(7):
            g = SEG[s]
            if mask & (1 << s):
                self._box(x + g[0], y + g[1], g[2], g[3], 1)
            if change & (1 << s):
                self._dirty(x + g[0], y + g[1], g[2], g[3])

    def _digits(self, tenths, stop):
        """The cells that changed, a glyph at a time; False if a detent came between."""
        c = self.want
        glyphs(tenths, c)
        for i in range(4):
            if self.cells[i] != c[i]:
                self._glyph(i, self.cells[i], c[i])
                self.cells[i] = c[i]
                if stop is not None and stop.woken:
                    return False
        return True

    # ---- the views
    def view(self, ctl, menu, fault, now, code=None):
        if fault is not None:
            return V_FAULT
        if ctl.pending(now) is not None:
            return V_CONFIRM
        if code is not None:
            return V_PAIR
        if menu is not None and menu.open:
            return V_MENU
        if ctl.phase == 0 and ctl.faults == 0:   # controller.BOOT: the settle delay
            return V_START
        return V_LEVEL

    def update(self, ctl, menu=None, fault=None, now=0, stop=None, code=None):
        """Draw what changed since the last call. The level view is drawn a part at a
        time (a digit, the top line, the bar, the bottom line), and gives way when
        `stop.woken` is set (a detent waits: the knob first); returns False then, and
        the next call goes on where this one stopped (each part compares what it shows
        with what it should). True: all drawn. `code`: a pairing code open (str)."""
        v = self.view(ctl, menu, fault, now, code)
        fb = self.fb
        if v != self.drawn:
            fb.fill(0)
            fb.show()             # the whole panel is sent again
            self._reset()
            self.drawn = v
            if v == V_START:
                self._start()
            elif v == V_FAULT:
                self._fault(fault)
            elif v == V_CONFIRM:
                self._confirm(ctl)
            elif v == V_MENU:
                self._menu(menu)
            elif v == V_PAIR:
                self._pair(code)
            else:
                self._point()
            if v != V_LEVEL:
                return True
        if v == V_LEVEL:
            return self._level(ctl, stop)
        if v == V_MENU and menu.changes != self.aux:
            self._menu(menu)
        return True

    def _start(self):
        self._text("HEADROOM", 32, 16)
        self._text(self.version, 64 - 4 * len(self.version), 32)
        self._text("starting", 32, 48)

    def _fault(self, text):
        """The fault in words, wrapped at 16 characters (a fault is drawn once: its
        strings are made once)."""
        self._box(0, 0, 128, 9, 1)
        self._text("FAULT: MUTED", 16, 1, 0)
        y = 10
        line = ""
        for word in text.split():
            if len(line) + len(word) + (1 if line else 0) > 16 and line:
                self._text(line, 0, y)
                y += 9
                line = ""
                if y > 55:
                    return
            line = line + " " + word if line else word[:16]
        if line and y <= 55:
            self._text(line, 0, y)

    def _confirm(self, ctl):
        what, value = ctl.pending()
        self._box(0, 0, 128, 9, 1)
        self._text("HOLD THE KNOB", 12, 1, 0)
        self._text("to raise the", 16, 16)
        if what == 2:   # controller._ASK_SPL
            self._text("SPL limit to", 16, 26)
            x = self._number(value * 5, 16, 38)
            self._text("dB SPL", x + 4, 38)
        elif what == 1:
            self._text("limits: defaults", 0, 26)
        else:
            self._text("volume limit to", 4, 26)
            x = self._number(value * 5, 16, 38)
            self._text("dBV", x + 4, 38)
        self._text("within 10 s", 20, 54)

    def _pair(self, code):
        """The web remote's pairing code: six large digits, to type into the page."""
        self._box(0, 0, 128, 9, 1)
        self._text("PAIR A PHONE", 16, 1, 0)
        for i in range(min(len(code), 6)):
            mask = DIGITS[ord(code[i]) - 48] if "0" <= code[i] <= "9" else MINUS
            x = 2 + 21 * i
            for k in range(7):
                if mask & (1 << k):
                    g = SEG[k]
                    self._box(x + g[0], 14 + g[1], g[2], g[3], 1)
        self._text("type on the page", 0, 54)

    def _point(self):
        self._box(POINT_X, DIGIT_Y + DIGIT_H - STROKE, STROKE, STROKE, 1)
        self._dirty(POINT_X, DIGIT_Y + DIGIT_H - STROKE, STROKE, STROKE)

    def _level(self, ctl, stop):
        """The level view's parts, each redrawn when what it shows changed; False if a
        detent came between two of them (the next call goes on)."""
        spl = ctl.spl_off is not None
        shown = ctl.level()
        muted = shown is None
        if muted:
            shown = ctl.volume
        tenths = (shown * 50 + ctl.spl_off[ctl.output]) // 10 if spl else shown * 5
        if not self._digits(tenths, stop):
            return False
        if self.unit != spl:
            self.unit = spl
            self._box(UNIT_X, DIGIT_Y, 128 - UNIT_X, DIGIT_H, 0)
            if spl:
                self._text("dB", UNIT_X + 8, DIGIT_Y + 12)
                self._text("SPL", UNIT_X + 8, DIGIT_Y + 24)
            else:
                self._text("dBV", UNIT_X + 8, DIGIT_Y + 24)
            self._dirty(UNIT_X, DIGIT_Y, 128 - UNIT_X, DIGIT_H)
            if stop is not None and stop.woken:
                return False
        status = (2 if ctl.auto else ctl.gain) | (ctl.output << 2) | (muted << 3)
        if status != self.status:
            self.status = status
            self._box(0, 0, 128, 8, 0)   # page 0 only: the digits start at row 8
            self._text("AUTO" if ctl.auto else _GAINS[ctl.gain], 0, 0)
            if ctl.auto:
                self._text(_GAINS[ctl.gain], 36, 0)
            self._text(_OUTS[ctl.output], 76 if ctl.auto else 44, 0)
            if muted:
                self._box(92, 0, 36, 8, 1)
                self._text("MUTE", 94, 0, 0)
            self._dirty(0, 0, 128, 8)
            if stop is not None and stop.woken:
                return False
        # The bar: the level from the board's floor to the path's top; the mark where the
        # knob stops (the volume limit or the SPL limit, the lower).
        b = ctl.b
        top = ctl.path_top()
        span = top - b.min_hdb
        if span <= 0:
            span = 1
        x = _clamp((shown - b.min_hdb) * 123 // span)
        cap = ctl.max_volume()
        m = _clamp((cap - b.min_hdb) * 123 // span)
        if m != self.mark:
            self.mark = m
            self.bar = x
            self._box(0, BAR_Y - 1, 128, BAR_H + 2, 0)
            self.fb.rect(self.ox, BAR_Y, 125, BAR_H, 1)
            self._box(1, BAR_Y + 1, x, BAR_H - 2, 1)
            self._box(1 + m, BAR_Y - 1, 1, BAR_H + 2, 1)
            self._dirty(0, BAR_Y - 1, 128, BAR_H + 2)
            if stop is not None and stop.woken:
                return False
        elif x != self.bar:
            # Only the columns between the old end and the new: a detent sends a few bytes.
            lo = x if x < self.bar else self.bar
            hi = self.bar if x < self.bar else x
            self._box(1 + lo, BAR_Y + 1, hi - lo, BAR_H - 2, 1 if x > self.bar else 0)
            self._box(1 + m, BAR_Y - 1, 1, BAR_H + 2, 1)
            self.bar = x
            self._dirty(1 + lo, BAR_Y - 1, hi - lo, BAR_H + 2)
            if stop is not None and stop.woken:
                return False
        bal = ctl.balance if ctl.mode == 1 else NO_VALUE   # controller.MODE_BALANCE
        hp = ctl.hp
        if hp is not self.bottom or bal != self.bal:
            self.bottom = hp
            self.bal = bal
            self._box(0, BOTTOM_Y, 128, 8, 0)
            if bal != NO_VALUE:
                self._text("BAL", 0, BOTTOM_Y)
                self._text("L" if bal < 0 else "R" if bal > 0 else "=", 32, BOTTOM_Y)
                x = self._number((bal if bal > 0 else -bal) * 5, 48, BOTTOM_Y)
                self._text("dB", x + 4, BOTTOM_Y)
            elif hp is not None:
                self._text(hp.name, 0, BOTTOM_Y)
            else:
                self._text("no headphone", 0, BOTTOM_Y)
            self._dirty(0, BOTTOM_Y, 128, 8)
        return True

    def _menu(self, menu):
        self.aux = menu.changes
        self.fb.fill(0)
        self._box(0, 0, 128, 9, 1)
        self._text(menu.title(), 1, 1, 0)
        first = menu.first_row()
        y = 12
        for i in range(first, min(first + 5, menu.count())):
            sel = i == menu.cursor
            if sel:
                self._box(0, y - 1, 128, 10, 1)
            self._text(menu.label(i), 2, y, 0 if sel else 1)
            v = menu.value_text(i)
            if v:
                self._text(v, 126 - 8 * len(v), y, 0 if sel else 1)
            y += 10
        self.fb.show()
