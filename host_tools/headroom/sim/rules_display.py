"""The trace checker's rule about the display (part of invariants.Checker): the level it
shows is the level at the jack.

The display's records (sim/models/oled.py) give the panel's pixels as it lights them;
`read_level` reads the level view's seven-segment digits back from them, by the
firmware's own layout (headroom_fw/screen.py: the cells, the segments, the burn-in
shift), knowing nothing else of the firmware. Whenever the jack's level has stood for
DISPLAY_LAG_US, a lit display that shows the level view must show it: in dBV, or in dB
SPL when the checker knows the headphone (from the host's commands: a headphone chosen
on the knob's menu is not known here, and its SPL is not checked), to the tenth as the
firmware rounds, within the path's rounding (the PGA2311's 0.5 dB steps against the
analog gains: under 0.5 dB, as `expect volume` allows). While the jack is silent, or
the view shows MUTE (the DAC's soft mute still ramping down), or the supply has failed,
the view may show the level it will come back to. The display may also be a detent
ahead: the PGA2311 takes a new level at a zero crossing (16 ms at most), so a mismatch
stands only if the jack has not caught up with it ZERO_CROSSING_US later.
"""
from .models.oled import CHIPS

DISPLAY_LAG_US = 50000   # a change at the jack is on the display within this
PATH_ROUNDING_CDB = 50   # the setting and the jack differ by the path's rounding, < 0.5 dB
ZERO_CROSSING_US = 20000  # the PGA2311 takes a new level at a zero crossing, 16 ms at most

_SCREEN = []


def _screen():
    """The firmware's screen.py (its layout), on CPython or in the MicroPython VM."""
    if not _SCREEN:
        try:
            from headroom_fw import screen  # the firmware already on the path (the VM)
        except ImportError:
            from ..firmware import pure
            screen = pure("screen")
        _SCREEN.append(screen)
    return _SCREEN[0]


def _lit(img, x, y):
    return (img[(y >> 3) * 128 + x] >> (y & 7)) & 1 if 0 <= x < 128 and 0 <= y < 64 else 0


def read_level(img):
    """(tenths of a dB, "dBV"|"dB SPL", muted) that the level view in `img` (1,024 bytes,
    the panel's pages as lit, MONO_VLSB) shows, or None when it shows no level view."""
    S = _screen()
    masks = {m: i for i, m in enumerate(S.DIGITS)}
    for ox in range(4):
        # The decimal point is the view's anchor.
        px = S.POINT_X + ox + 1
        py = S.DIGIT_Y + S.DIGIT_H - 2
        if not _lit(img, px, py) or _lit(img, px, py - S.STROKE - 2):
            continue
        cells = []
        for x0 in S.CELLS:
            m = 0
            for s, (x, y, w, h) in enumerate(S.SEG):
                # The middle of the segment, away from where it meets the others.
                cx = x0 + ox + x + w // 2
                cy = S.DIGIT_Y + y + h // 2
                if _lit(img, cx, cy):
                    m |= 1 << s
            cells.append(m)
        if cells[2] not in masks or cells[3] not in masks:
            continue
        if cells[0] not in (S.BLANK, S.MINUS) and cells[0] not in masks:
            continue
        if cells[1] not in (S.BLANK, S.MINUS) and cells[1] not in masks:
            continue
        v = 0
        neg = S.MINUS in (cells[0], cells[1])
        for m in cells:
            if m in masks:
                v = v * 10 + masks[m]
        # "dB" above "SPL" in dB SPL; "dBV" alone, lower, in dBV.
        spl = any(_lit(img, x, y) for x in range(S.UNIT_X, 128)
                  for y in range(S.DIGIT_Y + 12, S.DIGIT_Y + 20))
        unit = "dB SPL" if spl else "dBV"
        muted = bool(_lit(img, 93 + ox, 0))   # the MUTE box (its text starts a row lower)
        return (-v if neg else v, unit, muted)
    return None


class DisplayRules:
    def _display_init(self, lag_us=DISPLAY_LAG_US):
        d = self.b.display
        self.disp_lag_us = lag_us
        self.disp_img = bytearray(1024)   # the panel's pages as lit, 128 columns each
        # The panel's first column in the controller's RAM (SH1106 modules: 2).
        self.disp_first = CHIPS[d.chip].FIRST_SEG if d is not None else 0
        self.disp_on = False
        self.jack_since = 0               # when the jack's level last changed

    def display_record(self, t, name, state):
        """A display record (sim/models/oled.py's invariants_view): its state, or a data
        write at (page, col) of the controller's RAM. The module is taken as every driver
        mounts it (segment remap and COM scan reversed: RAM page 0, bit 0 top left); each
        record is a run of columns of one page (the model splits a write that wraps)."""
        if name.endswith(".ram"):
            page = state["page"]
            x = state["col"] - self.disp_first
            base = page * 128
            for b in bytes.fromhex(state["hex"]):
                if 0 <= x < 128 and page < 8:
                    self.disp_img[base + x] = b
                x += 1
        else:
            self.disp_on = state["on"] and not state.get("invert")

    def _display_jack(self, t, old, new):
        """The jack changed at t: the display has DISPLAY_LAG_US to follow."""
        if old != new:
            self.jack_since = t
            self._deadline(t + self.disp_lag_us, "display", t)

    def _display_level(self):
        """(what the display shows: (tenths, unit, muted) or None, the jack's louder
        channel in cdB as the display's unit counts it, or None: nothing to compare)."""
        if not self.disp_on:
            return None, None
        shown = read_level(self.disp_img)
        live = [n for n in self.jack if n is not None]
        if shown is None or not live or shown[2] or self.failing:
            # Another view (starting, a fault, the menu, hold to confirm); silent, or
            # muting (the DAC's ramp): the view shows the level it will come back to.
            return None, None
        cdb = max(live)
        if shown[1] == "dB SPL":
            if self.hp_off is None:
                return None, None
            cdb += self.hp_off[self.jack_output]
        return shown, cdb

    def _display_due(self, when, since):
        if since != self.jack_since:
            return     # the jack moved again since: that change's deadline decides
        shown, cdb = self._display_level()
        if shown is None:
            return
        if abs(shown[0] * 10 - cdb) >= PATH_ROUNDING_CDB:
            # The display may be ahead: the next detent's frame went out, and the
            # PGA2311 waits for a zero crossing (up to 16 ms) before the jack follows.
            self._deadline(when + ZERO_CROSSING_US, "display-ahead", (when, since, shown, cdb))

    def _display_ahead(self, when, arg):
        t0, since, shown, cdb = arg
        _, now_cdb = self._display_level()
        if now_cdb is not None and self.jack_since > since \
                and abs(shown[0] * 10 - now_cdb) < PATH_ROUNDING_CDB:
            return     # it was: the jack has caught up with it
        self._bad(t0, "display", "the display shows %.1f %s, %d ms after the jack went to "
                  "%.2f %s" % (shown[0] / 10, shown[1], (t0 - since) // 1000, cdb / 100,
                               shown[1]))
