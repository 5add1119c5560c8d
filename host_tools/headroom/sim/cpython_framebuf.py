"""MicroPython's `framebuf` on CPython, for the simulated firmware (shims/__init__.py
installs it as `framebuf`; on the Unix port the built-in one is used).

A line-by-line port of MicroPython's extmod/modframebuf.c (MIT, Damien P. George), so
that every pixel comes out as on the board: the same clipping, the same Bresenham line
(integer error, last point drawn separately), the same ellipse and polygon fill (C's
truncating division), scroll and blit with key and palette, and the built-in 8x8
petme128 font (framebuf_font.py, taken from the port by framebuf_font_gen.py).
tests/test_framebuf.py runs random drawing sequences here and on the Unix port's
framebuf and compares the buffers byte for byte.

Why not a library from PyPI: `adafruit-circuitpython-framebuf` (1.6.12) draws text
with a 5x8 font read from a file (font5x8.bin), has no blit (it raises
NotImplementedError), takes rect's fill as a keyword only and draws lines with a
floating-point error term, so its pixels differ from MicroPython's;
`micropython-cpython-framebuf` (0.0) is an empty package (no module in its sdist).

Formats: MONO_VLSB (MVLSB), MONO_HLSB, MONO_HMSB, RGB565 (native little-endian), GS2_HMSB,
GS4_HMSB, GS8. Not modelled: the buffer protocol on the FrameBuffer itself (CPython 3.11
cannot give a pure-Python object one); keep the buffer you passed in, as the drivers do.
"""
from operator import index as _int

from .framebuf_font import GLYPHS

MONO_VLSB = MVLSB = 0
RGB565 = 1
GS4_HMSB = 2
MONO_HLSB = 3
MONO_HMSB = 4
GS2_HMSB = 5
GS8 = 6

_BPP = {MONO_VLSB: 1, RGB565: 16, GS4_HMSB: 4, MONO_HLSB: 1, MONO_HMSB: 1, GS2_HMSB: 2, GS8: 8}
_ALIGN = {MONO_HLSB: 8, MONO_HMSB: 8, GS2_HMSB: 4, GS4_HMSB: 2}

_Q1, _Q2, _Q3, _Q4, _ALL, _FILL = 1, 2, 4, 8, 0x0F, 0x10


def _cdiv(a, b):
    """C's integer division (truncates towards zero)."""
    q = abs(a) // abs(b)
    return q if (a < 0) == (b < 0) else -q


class FrameBuffer:
    def __init__(self, buf, width, height, format, stride=None):
        width, height, format = _int(width), _int(height), _int(format)
        stride = width if stride is None else _int(stride)
        if width < 1 or height < 1 or width > 0xFFFF or height > 0xFFFF or stride > 0xFFFF \
                or stride < width:
            raise ValueError()
        if format not in _BPP:
            raise ValueError("invalid format")
        a = _ALIGN.get(format, 1)
        stride = (stride + a - 1) & ~(a - 1)
        if format == MONO_VLSB:
            need = ((height + 7) // 8 - 1) * stride + width
        else:
            need = ((height - 1) * stride + width) * _BPP[format] // 8
        mv = memoryview(buf)
        if mv.readonly:
            raise TypeError("object with buffer protocol required")
        if need > mv.nbytes:
            raise ValueError()
        self._buf = buf
        self._b = mv.cast("B")
        self.width, self.height, self.stride, self.format = width, height, stride, format
        self._set = getattr(self, "_set%d" % format)
        self._get = getattr(self, "_get%d" % format)

    # ---- per-format pixels (x, y inside; col an int)
    def _set0(self, x, y, col):
        i = (y >> 3) * self.stride + x
        m = 1 << (y & 7)
        self._b[i] = (self._b[i] | m) if col else (self._b[i] & ~m)

    def _get0(self, x, y):
        return (self._b[(y >> 3) * self.stride + x] >> (y & 7)) & 1

    def _set1(self, x, y, col):
        i = 2 * (x + y * self.stride)
        self._b[i] = col & 0xFF
        self._b[i + 1] = (col >> 8) & 0xFF

    def _get1(self, x, y):
        i = 2 * (x + y * self.stride)
        return self._b[i] | (self._b[i + 1] << 8)

    def _set2(self, x, y, col):
        i = (x + y * self.stride) >> 1
        if x % 2:
            self._b[i] = (col & 0x0F) | (self._b[i] & 0xF0)
        else:
            self._b[i] = ((col << 4) & 0xFF) | (self._b[i] & 0x0F)

    def _get2(self, x, y):
        v = self._b[(x + y * self.stride) >> 1]
        return v & 0x0F if x % 2 else v >> 4

    def _hbit(self, x, y):
        return (x + y * self.stride) >> 3, (x & 7) if self.format == MONO_HMSB else 7 - (x & 7)

    def _set3(self, x, y, col):
        i, o = self._hbit(x, y)
        self._b[i] = (self._b[i] & ~(1 << o)) | ((col != 0) << o)

    def _get3(self, x, y):
        i, o = self._hbit(x, y)
        return (self._b[i] >> o) & 1

    _set4, _get4 = _set3, _get3

    def _set5(self, x, y, col):
        i = (x + y * self.stride) >> 2
        s = (x & 3) << 1
        self._b[i] = ((col & 3) << s) | (self._b[i] & ~(3 << s) & 0xFF)

    def _get5(self, x, y):
        return (self._b[(x + y * self.stride) >> 2] >> ((x & 3) << 1)) & 3

    def _set6(self, x, y, col):
        self._b[x + y * self.stride] = col & 0xFF

    def _get6(self, x, y):
        return self._b[x + y * self.stride]

    def _fill_rect(self, x, y, w, h, col):
        """formats[].fill_rect: x, y, w, h already clipped."""
        if self.format == MONO_VLSB:
            b, s = self._b, self.stride
            for page in range(y >> 3, ((y + h - 1) >> 3) + 1):
                lo, hi = max(y, page * 8), min(y + h, page * 8 + 8)
                m = ((1 << (hi - lo)) - 1) << (lo - page * 8)
                i = page * s + x
                if col:
                    b[i:i + w] = bytes(v | m for v in b[i:i + w])
                else:
                    b[i:i + w] = bytes(v & ~m & 0xFF for v in b[i:i + w])
        elif self.format == GS8:
            for yy in range(y, y + h):
                i = x + yy * self.stride
                self._b[i:i + w] = bytes([col & 0xFF]) * w
        else:
            for yy in range(y, y + h):
                for xx in range(x, x + w):
                    self._set(xx, yy, col)

    def _clipped_fill(self, x, y, w, h, col):
        if h < 1 or w < 1 or x + w <= 0 or y + h <= 0 or y >= self.height or x >= self.width:
            return
        xend, yend = min(self.width, x + w), min(self.height, y + h)
        x, y = max(x, 0), max(y, 0)
        self._fill_rect(x, y, xend - x, yend - y, col)

    def _set_checked(self, x, y, col, mask=1):
        if mask and 0 <= x < self.width and 0 <= y < self.height:
            self._set(x, y, col)

    # ---- the API
    def fill(self, c):
        self._fill_rect(0, 0, self.width, self.height, _int(c))

    def fill_rect(self, x, y, w, h, c):
        self._clipped_fill(_int(x), _int(y), _int(w), _int(h), _int(c))

    def pixel(self, x, y, c=None):
        x, y = _int(x), _int(y)
        if 0 <= x < self.width and 0 <= y < self.height:
            if c is None:
                return self._get(x, y)
            self._set(x, y, _int(c))
        return None

    def hline(self, x, y, w, c):
        self._clipped_fill(_int(x), _int(y), _int(w), 1, _int(c))

    def vline(self, x, y, h, c):
        self._clipped_fill(_int(x), _int(y), 1, _int(h), _int(c))

    def rect(self, x, y, w, h, c, f=False):
        x, y, w, h, c = _int(x), _int(y), _int(w), _int(h), _int(c)
        if f:
            self._clipped_fill(x, y, w, h, c)
        else:
            self._clipped_fill(x, y, w, 1, c)
            self._clipped_fill(x, y + h - 1, w, 1, c)
            self._clipped_fill(x, y, 1, h, c)
            self._clipped_fill(x + w - 1, y, 1, h, c)

    def line(self, x1, y1, x2, y2, c):
        self._line(_int(x1), _int(y1), _int(x2), _int(y2), _int(c))

    def _line(self, x1, y1, x2, y2, col):
        dx, sx = (x2 - x1, 1) if x2 - x1 > 0 else (x1 - x2, -1)
        dy, sy = (y2 - y1, 1) if y2 - y1 > 0 else (y1 - y2, -1)
        steep = dy > dx
        if steep:
            x1, y1, dx, dy, sx, sy = y1, x1, dy, dx, sy, sx
        e = 2 * dy - dx
        for _ in range(dx):
            if steep:
                self._set_checked(y1, x1, col)
            else:
                self._set_checked(x1, y1, col)
            while e >= 0:
                y1 += sy
                e -= 2 * dx
            x1 += sx
            e += 2 * dy
        self._set_checked(x2, y2, col)

    def _ellipse_points(self, cx, cy, x, y, col, mask):
        if mask & _FILL:
            if mask & _Q1:
                self._clipped_fill(cx, cy - y, x + 1, 1, col)
            if mask & _Q2:
                self._clipped_fill(cx - x, cy - y, x + 1, 1, col)
            if mask & _Q3:
                self._clipped_fill(cx - x, cy + y, x + 1, 1, col)
            if mask & _Q4:
                self._clipped_fill(cx, cy + y, x + 1, 1, col)
        else:
            self._set_checked(cx + x, cy - y, col, mask & _Q1)
            self._set_checked(cx - x, cy - y, col, mask & _Q2)
            self._set_checked(cx - x, cy + y, col, mask & _Q3)
            self._set_checked(cx + x, cy + y, col, mask & _Q4)

    def ellipse(self, cx, cy, xr, yr, c, f=False, m=_ALL):
        cx, cy, xr, yr, c = _int(cx), _int(cy), _int(xr), _int(yr), _int(c)
        mask = (_FILL if f else 0) | (_int(m) & _ALL)
        if xr == 0 and yr == 0:    # the port's guard: the loops below would never end
            if mask & _ALL:
                self._set_checked(cx, cy, c)
            return
        two_a, two_b = 2 * xr * xr, 2 * yr * yr
        x, y = xr, 0
        xchange, ychange = yr * yr * (1 - 2 * xr), xr * xr
        err, stopx, stopy = 0, two_b * xr, 0
        while stopx >= stopy:
            self._ellipse_points(cx, cy, x, y, c, mask)
            y += 1
            stopy += two_a
            err += ychange
            ychange += two_a
            if 2 * err + xchange > 0:
                x -= 1
                stopx -= two_b
                err += xchange
                xchange += two_b
        x, y = 0, yr
        xchange, ychange = yr * yr, xr * xr * (1 - 2 * yr)
        err, stopx, stopy = 0, 0, two_a * yr
        while stopx <= stopy:
            self._ellipse_points(cx, cy, x, y, c, mask)
            x += 1
            stopx += two_b
            err += xchange
            xchange += two_b
            if 2 * err + ychange > 0:
                y -= 1
                stopy -= two_a
                err += ychange
                ychange += two_a

    def poly(self, x, y, coords, c, f=False):
        x, y, col = _int(x), _int(y), _int(c)
        pts = [_int(v) for v in coords]
        n = len(pts) // 2
        if n == 0:
            return
        if not f:
            px1, py1 = pts[0], pts[1]
            i = n * 2 - 1
            while True:
                py2, px2 = pts[i], pts[i - 1]
                i -= 2
                self._line(x + px1, y + py1, x + px2, y + py2, col)
                px1, py1 = px2, py2
                if i < 0:
                    break
            return
        ys = pts[1:2 * n:2]
        for row in range(min(ys), max(ys) + 1):
            nodes = []
            px1, py1 = pts[0], pts[1]
            i = n * 2 - 1
            while True:
                py2, px2 = pts[i], pts[i - 1]
                i -= 2
                if py1 != py2 and ((py1 > row >= py2) or (py1 <= row < py2)):
                    nodes.append(_cdiv(32 * px1 + _cdiv(32 * (px2 - px1) * (row - py1), py2 - py1)
                                       + 16, 32))
                elif row == max(py1, py2):
                    if py1 < py2:
                        self._set_checked(x + px2, y + py2, col)
                    elif py2 < py1:
                        self._set_checked(x + px1, y + py1, col)
                    else:
                        self._line(x + px1, y + py1, x + px2, y + py2, col)
                px1, py1 = px2, py2
                if i < 0:
                    break
            nodes.sort()
            for k in range(0, len(nodes) - 1, 2):
                self._clipped_fill(x + nodes[k], y + row, nodes[k + 1] - nodes[k] + 1, 1, col)

    def blit(self, fbuf, x, y, key=-1, palette=None):
        if isinstance(fbuf, tuple):
            fbuf = FrameBuffer(*fbuf)
        if not isinstance(fbuf, FrameBuffer) or not (palette is None
                                                    or isinstance(palette, FrameBuffer)):
            raise TypeError()
        x, y, key = _int(x), _int(y), _int(key) & 0xFFFFFFFF
        if x >= self.width or y >= self.height or -x >= fbuf.width or -y >= fbuf.height:
            return
        x0, y0, x1, y1 = max(0, x), max(0, y), max(0, -x), max(0, -y)
        x0end, y0end = min(self.width, x + fbuf.width), min(self.height, y + fbuf.height)
        for yy in range(y0, y0end):
            cx1 = x1
            for cx0 in range(x0, x0end):
                col = fbuf._get(cx1, y1)
                if palette is not None:
                    col = palette._get(col, 0)
                if col != key:
                    self._set(cx0, yy, col)
                cx1 += 1
            y1 += 1

    def scroll(self, xstep, ystep):
        xstep, ystep = _int(xstep), _int(ystep)
        if xstep < 0:
            sx, xend, dx = 0, self.width + xstep, 1
            if xend <= 0:
                return
        else:
            sx, xend, dx = self.width - 1, xstep - 1, -1
            if xend >= sx:
                return
        if ystep < 0:
            y, yend, dy = 0, self.height + ystep, 1
            if yend <= 0:
                return
        else:
            y, yend, dy = self.height - 1, ystep - 1, -1
            if yend >= y:
                return
        while y != yend:
            for x in range(sx, xend, dx):
                self._set(x, y, self._get(x - xstep, y - ystep))
            y += dy

    def text(self, s, x0, y0, c=1):
        if not isinstance(s, str):
            raise TypeError("can't convert '%s' object to str implicitly" % type(s).__name__)
        x0, y0, col = _int(x0), _int(y0), _int(c)
        for ch in s.encode():
            if ch < 32 or ch > 127:
                ch = 127
            glyph = GLYPHS[(ch - 32) * 8:(ch - 31) * 8]
            for j in range(8):
                if 0 <= x0 < self.width:
                    bits, y = glyph[j], y0
                    while bits:
                        if bits & 1 and 0 <= y < self.height:
                            self._set(x0, y, col)
                        bits >>= 1
                        y += 1
                x0 += 1


def FrameBuffer1(buf, width, height, stride=None):
    """The old constructor: MONO_VLSB."""
    return FrameBuffer(buf, width, height, MONO_VLSB, width if stride is None else stride)
