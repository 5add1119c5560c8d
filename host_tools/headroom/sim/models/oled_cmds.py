"""The command sets of the SSD1306 (Solomon Systech SSD1306 rev 1.1, section 9 "Command
Table" and section 10) and the SH1106 (Sino Wealth SH1106 V2.3, "Commands"), as the
OLED model (oled.py) decodes them.

Each table maps a first command byte to (name, parameter count, check); a range of
first bytes whose low bits are the argument (0x40-0x7F start line, 0xB0-0xB7 page...)
appears once per byte. `check(params)` returns None when the parameters are valid,
else the datasheet's rule in words.
"""


def _any(p):
    return None


def _range(i, lo, hi, what):
    def check(p):
        if not lo <= p[i] <= hi:
            return "%s %d is out of range (%d..%d)" % (what, p[i], lo, hi)
        return None
    return check


def _one_of(i, values, what):
    def check(p):
        if p[i] not in values:
            return "%s 0x%02X is not one of %s" % (what, p[i],
                                                   ", ".join("0x%02X" % v for v in values))
        return None
    return check


def _phases(p):
    if p[0] & 0x0F == 0 or p[0] >> 4 == 0:
        return "a phase period of 0 DCLK is invalid (each nibble 1..15)"
    return None


def _addressing_mode(p):
    if p[0] > 2:
        return "addressing mode 0x%02X is invalid (0 horizontal, 1 vertical, 2 page)" % p[0]
    return None


def _window(hi, what):
    def check(p):
        for v in p:
            if v > hi:
                return "%s %d is out of range (0..%d)" % (what, v, hi)
        return None
    return check


def _h_scroll(p):
    if p[0] != 0 or p[4] != 0 or p[5] != 0xFF:
        return "dummy bytes must be 0x00, 0x00, 0xFF"
    if max(p[1], p[2], p[3]) > 7 or p[3] < p[1]:
        return "pages 0..7, end page not before start page, interval 0..7"
    return None


def _hv_scroll(p):
    if p[0] != 0 or max(p[1], p[2], p[3]) > 7 or p[4] > 63:
        return "dummy 0x00, pages and interval 0..7, vertical offset 0..63"
    return None


def _scroll_area(p):
    if p[0] > 63 or p[1] > 127:
        return "top fixed rows 0..63, scroll rows 0..127"
    return None


SSD1306 = {
    0x81: ("contrast", 1, _any),
    0xA4: ("entire display on off", 0, None), 0xA5: ("entire display on", 0, None),
    0xA6: ("normal display", 0, None), 0xA7: ("inverse display", 0, None),
    0xAE: ("display off", 0, None), 0xAF: ("display on", 0, None),
    0x26: ("right horizontal scroll", 6, _h_scroll), 0x27: ("left horizontal scroll", 6, _h_scroll),
    0x29: ("vertical and right scroll", 5, _hv_scroll),
    0x2A: ("vertical and left scroll", 5, _hv_scroll),
    0x2E: ("deactivate scroll", 0, None), 0x2F: ("activate scroll", 0, None),
    0xA3: ("vertical scroll area", 2, _scroll_area),
    0x20: ("memory addressing mode", 1, _addressing_mode),
    0x21: ("column address", 2, _window(127, "column")),
    0x22: ("page address", 2, _window(7, "page")),
    0xA0: ("segment remap off", 0, None), 0xA1: ("segment remap on", 0, None),
    0xA8: ("multiplex ratio", 1, _range(0, 15, 63, "multiplex ratio - 1")),
    0xC0: ("COM scan normal", 0, None), 0xC8: ("COM scan remapped", 0, None),
    0xD3: ("display offset", 1, _range(0, 0, 63, "display offset")),
    0xDA: ("COM pins configuration", 1, _one_of(0, (0x02, 0x12, 0x22, 0x32), "COM pins")),
    0xD5: ("clock divide and oscillator", 1, _any),
    0xD9: ("pre-charge period", 1, _phases),
    0xDB: ("VCOMH deselect level", 1, _one_of(0, (0x00, 0x20, 0x30), "VCOMH level")),
    0xE3: ("NOP", 0, None),
    0x8D: ("charge pump", 1, _one_of(0, (0x10, 0x14), "charge pump setting")),
    # Not in rev 1.1's table (the SSD1315's IREF select: A[4] internal, A[5] its current);
    # micropython-lib's ssd1306 sends 0xAD 0x30 before the charge pump, and an SSD1306
    # takes it without effect.
    0xAD: ("IREF select", 1, _one_of(0, (0x00, 0x10, 0x20, 0x30), "IREF selection")),
    0x23: ("fade out and blinking", 1, _one_of(0, (0x00,), "fade/blink (only off is modelled)")),
    0xD6: ("zoom in", 1, _one_of(0, (0x00,), "zoom (only off is modelled)")),
}
for _c in range(0x10):
    SSD1306[_c] = ("lower column start", 0, None)
    SSD1306[0x10 | _c] = ("higher column start", 0, None)
for _c in range(0x40, 0x80):
    SSD1306[_c] = ("display start line", 0, None)
for _c in range(8):
    SSD1306[0xB0 | _c] = ("page start", 0, None)

SH1106 = {
    0x81: ("contrast", 1, _any),
    0xA0: ("segment remap off", 0, None), 0xA1: ("segment remap on", 0, None),
    0xA4: ("entire display on off", 0, None), 0xA5: ("entire display on", 0, None),
    0xA6: ("normal display", 0, None), 0xA7: ("reverse display", 0, None),
    0xA8: ("multiplex ratio", 1, _range(0, 0, 63, "multiplex ratio - 1")),
    0xAD: ("DC-DC control", 1, _one_of(0, (0x8A, 0x8B), "DC-DC setting")),
    0xAE: ("display off", 0, None), 0xAF: ("display on", 0, None),
    0xC0: ("COM scan normal", 0, None), 0xC8: ("COM scan remapped", 0, None),
    0xD3: ("display offset", 1, _range(0, 0, 63, "display offset")),
    0xD5: ("clock divide and oscillator", 1, _any),
    0xD9: ("discharge/pre-charge period", 1, _phases),
    0xDA: ("common pads configuration", 1, _one_of(0, (0x02, 0x12), "common pads")),
    0xDB: ("VCOM deselect level", 1, _any),
    0xE0: ("read-modify-write", 0, None), 0xEE: ("end", 0, None),
    0xE3: ("NOP", 0, None),
}
for _c in range(0x10):
    SH1106[_c] = ("lower column address", 0, None)
    SH1106[0x10 | _c] = ("higher column address", 0, None)
for _c in range(4):
    SH1106[0x30 | _c] = ("pump voltage", 0, None)
for _c in range(0x40, 0x80):
    SH1106[_c] = ("display start line", 0, None)
for _c in range(8):
    SH1106[0xB0 | _c] = ("page address", 0, None)

# What an SH1106 is most often sent by mistake: an SSD1306 driver's commands.
SSD1306_ONLY = {c: SSD1306[c][0] for c in (0x20, 0x21, 0x22, 0x8D, 0x26, 0x27, 0x29, 0x2A,
                                         0x2E, 0x2F, 0xA3, 0x23, 0xD6)}
