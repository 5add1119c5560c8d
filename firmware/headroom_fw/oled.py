"""The OLED panel: micropython-lib's ssd1306 driver (ssd1306.py, as PyPI's
micropython-ssd1306 0.3 ships it, unchanged), a small SH1106 driver on the same
framebuf, and what neither has: sending only what changed, a little at a time.

The drivers' show() sends the whole frame: 1,024 bytes, some 23 ms of blocking transfer
at 400 kHz, which would hold the knob's next frame as long. Here show() only marks the
whole panel to be sent; whoever draws marks what it drew (`dirty`), and `send()` moves
one span of at most CHUNK bytes per call (a window command, then the bytes: under 1 ms
on the bus), so the main loop sends a frame over a few passes and the knob's frame
never waits for more than one span. The SSD1306 takes a window over several pages: the
digits' four pages go out under one command, a span running on from page to page. DMA
would free the CPU too, but rp2's machine.I2C has none, and a span per pass already
keeps the pass within budget.

Nothing here allocates once made: the window commands and the span go out of buffers
made here (the spans' memoryviews too, one per length), copied byte by byte.
"""
from micropython import const

from . import ssd1306

CHUNK = const(16)   # columns (bytes) per span: what a detent may wait for (~0.45 ms at 400 kHz)
_CLEAN = const(255)


class _Sender:
    """The dirty spans (a column range per page) and the one-span-a-call sender, mixed
    into a driver (which has the framebuffer: width, pages, buffer; and _span).

    Where the controller can take a window over several pages (the SSD1306's horizontal
    addressing), neighbouring dirty pages go out under one window command, their spans
    widened to one rectangle when that costs fewer bytes than a span (the digits' four
    pages: one command, not four), and a span runs on from one page into the next."""
    width = 0
    pages = 0
    buffer = bytearray(0)
    RECT = False    # the controller's window can span pages

    def _window(self, page, last, col, end):
        """Point the controller's RAM at column col of page `page`, for a run that ends
        at column `end` (of pages page..last where RECT); sets win_end."""

    def _data(self, n):
        """Send n bytes of self.tx (from tx[1]) where the pointer is."""

    def _sender_init(self, width, pages):
        self.lo = bytearray(_CLEAN for _ in range(pages))  # first dirty column, per page
        self.hi = bytearray(pages)                         # last dirty column, per page
        self.pending = False
        self.at_page = -1     # where the controller's RAM pointer is (-1: not known), and
        self.at_col = 0       # the window's columns and its last page: a span that
        self.win_col = 0      # continues there needs no window command
        self.win_end = 0
        self.win_last = -1
        self.tx = bytearray(CHUNK + 1)
        self.tx[0] = 0x40                                  # I2C: Co=0, D/C#=1 (data)
        mv = memoryview(self.tx)
        # I2C sends the control byte and the span; SPI the span alone (D/C# is a pin).
        self.tx_views = [mv[:n + 1] for n in range(CHUNK + 1)]
        self.spi_views = [mv[1:n + 1] for n in range(CHUNK + 1)]

    def dirty(self, x, w, page0, page1):
        """Columns x..x+w-1 of pages page0..page1 changed."""
        if w <= 0:
            return
        x1 = x + w - 1
        if x < 0:
            x = 0
        if x1 >= self.width:
            x1 = self.width - 1
        for p in range(max(page0, 0), min(page1, self.pages - 1) + 1):
            if self.lo[p] == _CLEAN or x < self.lo[p]:
                self.lo[p] = x
            if self.lo[p] != _CLEAN and x1 > self.hi[p]:
                self.hi[p] = x1
            self.pending = True

    def show(self):
        """The drivers' show(): the whole panel, sent span by span (send())."""
        self.at_page = -1
        self.dirty(0, self.width, 0, self.pages - 1)

    def _merge(self, p):
        """The last page of the run from page p that goes out under one window: the
        next dirty page joins while the columns the rectangle adds (sent unchanged) come
        to no more than a span; their ranges become the rectangle's."""
        lo = self.lo
        hi = self.hi
        a = lo[p]
        b = hi[p]
        need = b - a + 1
        q = p
        while q + 1 < self.pages and lo[q + 1] != _CLEAN:
            a2 = min(a, lo[q + 1])
            b2 = max(b, hi[q + 1])
            n2 = need + hi[q + 1] - lo[q + 1] + 1
            if (b2 - a2 + 1) * (q + 2 - p) - n2 > CHUNK:
                break
            a = a2
            b = b2
            need = n2
            q += 1
        for r in range(p, q + 1):
            lo[r] = a
            hi[r] = b
        return q

    def send(self):
        """One transaction of what changed: a window command where a page's run starts
        (the pointer is not there yet), else a span of at most CHUNK bytes, on into the
        window's next page where it continues there. Returns whether more is left.
        Raises OSError when the panel does not answer (the caller reports it). One
        transaction a call: whoever waits (the knob) waits for one."""
        if not self.pending:
            return False
        lo = self.lo
        hi = self.hi
        for p in range(self.pages):
            c = lo[p]
            if c == _CLEAN:
                continue
            end = hi[p]
            if not (self.at_page == p and self.at_col == c and end <= self.win_end):
                last = self._merge(p) if self.RECT else p
                c = lo[p]
                self._window(p, last, c, hi[p])
                self.at_page = p
                self.at_col = c
                return True
            buf = self.buffer
            tx = self.tx
            k = 0
            while True:
                n = end - c + 1
                if n > CHUNK - k:
                    n = CHUNK - k
                base = p * self.width + c
                for i in range(n):
                    tx[1 + k + i] = buf[base + i]
                k += n
                c += n
                if c <= end:          # the page goes on: the next span starts here
                    lo[p] = c
                    break
                lo[p] = _CLEAN
                hi[p] = 0
                # The pointer wraps to the window's first column on the next page: a
                # span goes on there when that page's run is the window's.
                if (end != self.win_end or p >= self.win_last or lo[p + 1] != self.win_col
                        or hi[p + 1] > end):
                    break
                p += 1
                c = self.win_col
                end = hi[p]
                if k == CHUNK:
                    break
            self._data(k)
            self.at_page = p
            self.at_col = c
            for q in range(p, self.pages):
                if lo[q] != _CLEAN:
                    return True
            self.pending = False
            return False
        self.pending = False
        return False


class SSD1306(_Sender, ssd1306.SSD1306_I2C):
    """An SSD1306 on I2C: the library's driver, made without a word on the bus (start()
    sends its initialisation), its frame sent by spans in horizontal addressing mode."""

    def __init__(self, i2c, addr, width=128, height=64):
        self._made = False
        ssd1306.SSD1306_I2C.__init__(self, width, height, i2c, addr)
        self._made = True
        self._sender_init(width, self.pages)
        self.win = bytearray(b"\x00\x21\x00\x00\x22\x00\x00")  # Co=0: a command stream

    def init_display(self):
        if self._made:   # not from the library's __init__: start() says when
            ssd1306.SSD1306_I2C.init_display(self)

    def start(self):
        """Initialise the controller (the library's sequence: charge pump on, display on)
        and mark the whole panel to be sent."""
        self.init_display()

    RECT = True

    def _window(self, page, last, col, end):
        # From here to the end of the dirty run: the spans follow on without a command
        # (the pointer moves on by itself, to `col` of the next page at `end`).
        w = self.win
        w[2] = col
        w[3] = end
        w[5] = page
        w[6] = last
        self.i2c.writeto(self.addr, w)
        self.win_col = col
        self.win_end = end
        self.win_last = last

    def _data(self, n):
        self.i2c.writeto(self.addr, self.tx_views[n])


class SSD1306SPI(_Sender, ssd1306.SSD1306_SPI):
    """An SSD1306 on 4-wire SPI, on a block of its own (board.py: the PGA2311 keeps the
    other): the library's driver, but its commands out of a buffer made once (the
    library makes one per command) and the bus set up once, at the board's clock."""

    def __init__(self, spi, dc, res, cs, width=128, height=64):
        self._made = False
        ssd1306.SSD1306_SPI.__init__(self, width, height, spi, dc, res, cs)
        self._made = True
        self._sender_init(width, self.pages)
        self.cmd = bytearray(1)
        self.win = bytearray(b"\x21\x00\x00\x22\x00\x00")

    def init_display(self):
        if self._made:
            ssd1306.SSD1306_SPI.init_display(self)

    def start(self):
        self.init_display()

    def write_cmd(self, cmd):
        self.cmd[0] = cmd
        self._out(0, self.cmd)

    def write_data(self, buf):
        self._out(1, buf)

    def _out(self, dc, buf):
        self.cs(1)
        self.dc(dc)
        self.cs(0)
        self.spi.write(buf)
        self.cs(1)

    RECT = True

    def _window(self, page, last, col, end):
        w = self.win
        w[1] = col
        w[2] = end
        w[4] = page
        w[5] = last
        self._out(0, w)
        self.win_col = col
        self.win_end = end
        self.win_last = last

    def _data(self, n):
        self._out(1, self.spi_views[n])


# The SH1106's commands (Sino Wealth SH1106 datasheet): page addressing only, 132
# columns of RAM of which a 128-column panel shows 2..129, a DC-DC converter (0xAD 0x8B)
# where the SSD1306 has a charge pump.
_SH1106_INIT = (
    0xAE,        # display off
    0xD5, 0x80,  # clock divide / oscillator frequency
    0xA8, 0x3F,  # multiplex ratio 64
    0xD3, 0x00,  # display offset 0
    0x40,        # start line 0
    0xAD, 0x8B,  # DC-DC on (the module's panel supply)
    0xA1,        # segment remap: column 131 is SEG0 (as the SSD1306's driver sets it)
    0xC8,        # COM scan from COM63 to COM0
    0xDA, 0x12,  # COM pins: alternative
    0x81, 0xFF,  # contrast
    0xD9, 0x22,  # pre-charge 2, discharge 2
    0xDB, 0x35,  # VCOM deselect level
    0xA4,        # output follows the RAM
    0xA6,        # not inverted
    0xAF,        # display on
)
_SH1106_COL = const(2)


class SH1106(_Sender, ssd1306.SSD1306_I2C):
    """An SH1106 on I2C: the SSD1306 driver's framebuffer and commands that both chips
    share (contrast, invert, on and off), its own initialisation and addressing."""

    def __init__(self, i2c, addr, width=128, height=64):
        self._made = False
        ssd1306.SSD1306_I2C.__init__(self, width, height, i2c, addr)
        self._made = True
        self._sender_init(width, self.pages)
        self.win = bytearray(b"\x00\xb0\x00\x10")   # Co=0: page, column low, column high

    def init_display(self):
        if self._made:
            for cmd in _SH1106_INIT:
                self.write_cmd(cmd)
            self.fill(0)
            self.show()

    def start(self):
        self.init_display()

    def _window(self, page, last, col, end):
        w = self.win
        c = col + _SH1106_COL
        w[1] = 0xB0 | page
        w[2] = c & 0x0F
        w[3] = 0x10 | (c >> 4)
        self.i2c.writeto(self.addr, w)
        self.win_col = col
        self.win_end = self.width - 1   # page addressing: the column runs on to the end
        self.win_last = page

    def _data(self, n):
        self.i2c.writeto(self.addr, self.tx_views[n])
