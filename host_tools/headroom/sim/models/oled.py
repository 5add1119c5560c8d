"""SSD1306 and SH1106 OLED controllers driving a 128x64 (or 128x32) panel, from their
datasheets (Solomon Systech SSD1306 rev 1.1, Sino Wealth SH1106 V2.3); the command
tables are oled_cmds.py.

The bus. I2C at 0x3C or 0x3D (SA0): each write starts with a control byte, Co (bit 7)
and D/C# (bit 6), the other bits 0; Co = 1: one byte follows, then another control
byte; Co = 0: every byte to the end of the write is a command (D/C# 0) or display data
(D/C# 1). A read returns the status byte (bit 6: display off). A command's parameters
may come in later writes (micropython-lib sends [0x80, byte] per byte). SSD1306 on
4-wire SPI: CS selects it, DC low means command bytes, high display data, SPI mode 0
or 3, bytes MSB first; RES# must be pulsed low (>= 3 us) after power-up before the
chip takes anything, and nothing may be sent while RES# is low. The datasheet's SCLK
limit (100 ns cycle, 10 MHz) is not checked: micropython-lib's SSD1306_SPI asks for
10 * 1024 * 1024 Hz (10.4 MHz on rp2) and works on every module sold.

The RAM. SSD1306: 8 pages x 128 columns; page addressing (the reset mode: the column
wraps within the page), horizontal and vertical addressing inside the 0x21/0x22 window
(the pointer wraps to the window's start, then moves to the next page / column).
0x00-0x1F and 0xB0-0xB7 move the pointer in page addressing mode only (datasheet:
"only for page addressing mode"); 0x21/0x22 set the window and the pointer in any mode.
SH1106: 8 pages x 132 columns, page addressing only; writing past column 131 is a
fault. The panel's 128 columns are SEG2..SEG129 on an SH1106 module, SEG0..SEG127 on
an SSD1306 one.

What is lit. Display on/off, contrast, inverse, entire display on, segment remap,
COM scan direction, start line, display offset, multiplex ratio and the COM pins
configuration (a 64-row module is wired for the alternative configuration 0x12, a
32-row one for sequential 0x02 on COM0..31; the other setting interleaves the rows as
the datasheet's figures show). The module is taken as mounted the usual way: upright
(RAM column 0, page 0 bit 0 at the top left) with segment remap on (0xA1) and COM scan
remapped (0xC8), as every driver sets it. Scrolling, fade/blink and zoom are not
modelled (activating them is a fault, so a display that scrolls is not drawn wrong).

Misuse is a fault (the simulator's SimFault): a command the chip does not have (an
SSD1306-only one sent to an SH1106 says so), a parameter out of range, display data
while a command waits for its parameters, a control byte with bits 5..0 set, display
on (0xAF) with the SSD1306 charge pump off or the SH1106 DC-DC converter off (the
panel would stay dark), the SH1106's DC-DC changed while the display is on. RAM writes
before the display is on are fine (drivers clear the RAM first). Unpowered or
`absent`, the chip does not acknowledge (OSError 5).

Trace: `display` {"on": bool, "contrast": 0..255, "invert": bool} when one changes;
`display.ram` {"page": p, "col": c, "hex": the bytes} per data write (a transaction,
or an SPI write with DC high) and page it lands in: a run of consecutive columns of one
page each (a write that wraps into the next page of a window is two records), so a
reader lays the bytes down in a row without knowing the addressing mode.
"""
from ..part import Part
from . import oled_cmds

RES_LOW_MIN_US = 3


class OLED(Part):
    chip = "display"
    KIND = None          # "SSD1306" | "SH1106"
    COMMANDS = None
    RAM_COLS = 128
    FIRST_SEG = 0        # the panel's leftmost column (as seen) is this SEG's neighbour
    POR_CONTRAST = 0x7F
    POR_PUMP = False

    @classmethod
    def timeline_line(cls, name, state, fields):
        if "hex" in state:
            return None     # frames: the verbose timeline (and the panel's bus timeline)
        return _words(name, state)

    @classmethod
    def readout_line(cls, name, state, fields):
        if "hex" in state:
            return None     # a frame is a dozen writes: the panel's display box shows it
        return _words(name, state)

    @classmethod
    def invariants_view(cls, checker, t, name, state):
        checker.display_record(t, name, state)

    def __init__(self, sim, width=128, height=64, i2c_bus=None, addr=0x3C, spi_bus=None,
                 cs=None, dc=None, res=None, name="display"):
        if width != 128 or height not in (32, 64):
            raise ValueError("%s: a %dx%d panel is not modelled (128x64, 128x32)"
                             % (self.KIND, width, height))
        if i2c_bus is not None and addr not in (0x3C, 0x3D):
            raise ValueError("%s: I2C address 0x%02X; SA0 gives 0x3C or 0x3D" % (self.KIND, addr))
        if spi_bus is not None and self.KIND != "SSD1306":
            raise ValueError("%s: only the SSD1306 is modelled on SPI" % self.KIND)
        self.sim = sim
        self.width, self.height = width, height
        self.i2c_bus, self.addr = i2c_bus, addr
        self.spi_bus, self.cs, self.dc, self.res = spi_bus, cs, dc, res
        self.name = name
        self.powered = sim.rails_on
        self.absent = False     # a fault: the chip does not acknowledge (not fitted, dead)
        self.ram = bytearray(8 * self.RAM_COLS)
        self.reset_done = res is None     # I2C modules reset themselves (RC on RES#)
        self._res_fell = None
        self._last = None
        self._reset_registers()

    def attach(self):
        sim = self.sim
        sim.on_power.append(self._on_power)
        if self.i2c_bus is not None:
            sim.add_i2c_device(self.i2c_bus, self.addr, self)
        if self.spi_bus is not None:
            sim.add_spi_device(self.spi_bus, self)
            if self.res is not None:
                sim.gpio[self.res].listeners.append(self._on_res)
        self._report()

    # ---- registers
    def _reset_registers(self):
        self.on = False
        self.contrast = self.POR_CONTRAST
        self.invert = False
        self.entire = False
        self.remap = False
        self.com_rev = False
        self.start = 0
        self.offset = 0
        self.mux = 63
        self.com_cfg = 0x12
        self.pump = self.POR_PUMP
        self.page = 0
        self.col = 0
        self.cmd = None          # the command waiting for parameters
        self.params = []

    _KEEP = ("on", "contrast", "invert", "entire", "remap", "com_rev", "start", "offset",
             "mux", "com_cfg", "pump", "page", "col", "cmd", "params", "reset_done")

    def snapshot(self):
        s = {k: getattr(self, k) for k in self._KEEP}
        s["ram"] = self.ram.hex()
        return s

    def restore(self, s):
        for k in self._KEEP:
            setattr(self, k, s[k])
        self.params = list(self.params)
        self.ram = bytearray(bytes.fromhex(s["ram"]))
        self._last = None
        self._report()

    def fault(self, what):
        self.sim.fault("%s (%s): %s" % (self.name, self.KIND, what))

    # ---- the bus
    def i2c_write(self, data):
        if not self.powered or self.absent:
            raise OSError(5)
        i, n = 0, len(data)
        while i < n:
            ctrl = data[i]
            i += 1
            if ctrl & 0x3F:
                self.fault("control byte 0x%02X: bits 5..0 must be 0 (Co, D/C#, then 0)" % ctrl)
            last = i + 1 if ctrl & 0x80 else n    # Co = 1: one byte, then a control byte
            if ctrl & 0x40:
                self._data(data[i:last])
            else:
                for b in data[i:last]:
                    self._command(b)
            i = last

    def i2c_read(self, n):
        if not self.powered or self.absent:
            raise OSError(5)
        return bytes([0 if self.on else 0x40]) * n

    def spi_bytes(self, spi, data):
        if not self.powered or self.absent:
            return bytes(len(data))
        if spi.polarity != spi.phase or spi.bits != 8:
            self.fault("needs SPI mode 0 or 3 with 8-bit words, got polarity %d phase %d, "
                       "%d bits" % (spi.polarity, spi.phase, spi.bits))
        if self.res is not None and self.sim.gpio[self.res].level != 1:
            self.fault("%d bytes sent while RES# (GP%d) is low: the chip is held in reset"
                       % (len(data), self.res))
        if not self.reset_done:
            self.fault("%d bytes sent before RES# was pulsed low after power-up (datasheet "
                       "8.9: RES# low >= %d us once VDD is stable)" % (len(data), RES_LOW_MIN_US))
        dc = self.sim.gpio[self.dc].level
        if dc is None:
            self.fault("DC (GP%d) is floating" % self.dc)
        if dc:
            self._data(data)
        else:
            for b in data:
                self._command(b)
        return bytes(len(data))

    def _on_res(self, g):
        if not self.powered:
            return
        if g.level == 0:
            self._res_fell = self.sim.now()
            self._reset_registers()      # RES# resets the registers; the RAM keeps its data
            self.reset_done = False
            self._report()
        elif g.level == 1 and self._res_fell is not None:
            # A shorter pulse is no reset (micropython-lib's constructor drives RES# low
            # and at once high before its real pulse): the next byte sent is the fault.
            self.reset_done = self.sim.now() - self._res_fell >= RES_LOW_MIN_US
            self._res_fell = None

    def _on_power(self, on):
        self.powered = on
        self._reset_registers()
        self.ram = bytearray(len(self.ram))
        self.reset_done = self.res is None
        self._res_fell = None
        self._report()

    # ---- commands
    def _command(self, b):
        if self.cmd is not None:
            self.params.append(b)
            if len(self.params) == self.COMMANDS[self.cmd][1]:
                cmd, params = self.cmd, self.params
                self.cmd, self.params = None, []
                bad = self.COMMANDS[cmd][2](params)
                if bad is not None:
                    self.fault("command 0x%02X (%s): %s" % (cmd, self.COMMANDS[cmd][0], bad))
                self._execute(cmd, params)
            return
        entry = self.COMMANDS.get(b)
        if entry is None:
            self.fault(self._unknown(b))
        if entry[1]:
            self.cmd = b
            return
        self._execute(b, ())

    def _unknown(self, b):
        return "0x%02X is not a command of this chip" % b

    def _execute(self, c, p):
        if c == 0xAF:
            if not self.pump:
                self.fault("display on (0xAF) with the %s off: the panel stays dark (send %s "
                           "first)" % self.PUMP_WORDS)
            self.on = True
        elif c == 0xAE:
            self.on = False
        elif c == 0x81:
            self.contrast = p[0]
        elif c in (0xA6, 0xA7):
            self.invert = c == 0xA7
        elif c in (0xA4, 0xA5):
            self.entire = c == 0xA5
        elif c in (0xA0, 0xA1):
            self.remap = c == 0xA1
        elif c in (0xC0, 0xC8):
            self.com_rev = c == 0xC8
        elif 0x40 <= c <= 0x7F:
            self.start = c & 0x3F
        elif c == 0xA8:
            self.mux = p[0]
        elif c == 0xD3:
            self.offset = p[0]
        elif c == 0xDA:
            self.com_cfg = p[0]
        else:
            self._execute_own(c, p)
        self._report()

    # ---- what is lit
    def _row_of_com(self, com):
        """The panel row (0 at the chip's COM0 end) a COM output drives, or None."""
        alt = self.com_cfg & 0x10
        pin = com if alt else (2 * com if com < 32 else 2 * (com - 32) + 1)
        if self.com_cfg & 0x20:
            pin ^= 1          # COM left/right remap (SSD1306)
        if self.height == 64:
            return pin
        return pin // 2 if pin % 2 == 0 else None   # 128x32: sequential on COM0..31

    def lit_pages(self):
        """The panel as seen, as the firmware's framebuffer holds it: pages of 8 rows,
        a byte a column (MONO_VLSB), what rules_display.read_level reads."""
        return pages(self.lit())

    def lit(self):
        """The panel as seen: `height` rows of `width` bytes, 1 lit, 0 dark."""
        rows = [bytearray(self.width) for _ in range(self.height)]
        if not (self.powered and self.on):
            return rows
        n = self.mux + 1
        last = self.FIRST_SEG + self.width - 1
        cols = [(last - x) if not self.remap else self.RAM_COLS - 1 - (last - x)
                for x in range(self.width)]
        for s in range(n):
            com = n - 1 - s if self.com_rev else s
            row = self._row_of_com(com)
            if row is None or row >= self.height:
                continue
            out = rows[self.height - 1 - row]
            if self.entire:
                out[:] = b"\x01" * self.width
                continue
            line = (s + self.offset + self.start) & 63
            base, bit = (line >> 3) * self.RAM_COLS, line & 7
            inv = 1 if self.invert else 0
            ram = self.ram
            for x in range(self.width):
                out[x] = ((ram[base + cols[x]] >> bit) & 1) ^ inv
        return rows

    def png(self, path, scale=4):
        """A PNG of the panel as lit: blue-white on black, as bright as the contrast."""
        from ..pngfile import write_png
        k = 0.3 + 0.7 * self.contrast / 255
        on = bytes((int(170 * k), int(215 * k), int(255 * k)))
        write_png(path, self.lit(), on, scale)

    # ---- the trace
    def _report(self):
        key = (self.powered and self.on, self.contrast, self.invert)
        if key != self._last:
            self._last = key
            self.sim.emit("chip", [("chip", self.name), ("state", [
                ("on", key[0]), ("contrast", key[1]), ("invert", key[2])])])

    def _data(self, data):
        if not data:
            return
        if self.cmd is not None:
            self.fault("%d data bytes while command 0x%02X (%s) waits for %d parameter(s)"
                       % (len(data), self.cmd, self.COMMANDS[self.cmd][0],
                          self.COMMANDS[self.cmd][1] - len(self.params)))
        data = bytes(data)
        for page, col, i, j in self._write(data):
            self.sim.emit("chip", [("chip", self.name + ".ram"), ("state", [
                ("page", page), ("col", col), ("hex", data[i:j].hex())])])


class SSD1306(OLED):
    KIND = "SSD1306"
    COMMANDS = oled_cmds.SSD1306
    PUMP_WORDS = ("charge pump", "0x8D 0x14")

    def _reset_registers(self):
        OLED._reset_registers(self)
        self.mode = 2                    # page addressing
        self.window = [0, 127, 0, 7]     # column start, end, page start, end
        self.iref = 0

    _KEEP = OLED._KEEP + ("mode", "window")

    def _execute_own(self, c, p):
        if c == 0x8D:
            self.pump = bool(p[0] & 0x04)
        elif c == 0x20:
            self.mode = p[0]
        elif c == 0x21:
            self.window[0:2] = p
            self.col = p[0]
        elif c == 0x22:
            self.window[2:4] = p
            self.page = p[0]
        elif c < 0x20:
            if self.mode == 2:           # "only for page addressing mode"
                self.col = (self.col & 0xF0) | c if c < 0x10 else (self.col & 0x0F) | ((c & 0x0F) << 4)
                if self.col > 127:
                    self.fault("column start %d is out of range (0..127)" % self.col)
        elif 0xB0 <= c <= 0xB7:
            if self.mode == 2:
                self.page = c & 7
        elif c == 0x2F:
            self.fault("activate scroll (0x2F): scrolling is not modelled")
        elif c == 0xAD:
            self.iref = p[0]

    def _write(self, data):
        """Into the RAM as the addressing mode moves the pointer; the runs of consecutive
        columns of a page it wrote, as (page, col, first byte, end)."""
        ram, mode = self.ram, self.mode
        c0, c1, p0, p1 = self.window
        col, page = self.col, self.page
        runs = []
        for i, b in enumerate(data):
            if runs and runs[-1][0] == page and runs[-1][1] + i - runs[-1][2] == col:
                runs[-1][3] = i + 1
            else:
                runs.append([page, col, i, i + 1])
            ram[page * 128 + col] = b
            if mode == 2:
                col = col + 1 if col < 127 else 0
            elif mode == 0:
                if col >= c1:
                    col = c0
                    page = page + 1 if page < p1 else p0
                else:
                    col += 1
            else:
                if page >= p1:
                    page = p0
                    col = col + 1 if col < c1 else c0
                else:
                    page += 1
        self.col, self.page = col, page
        return runs


class SH1106(OLED):
    KIND = "SH1106"
    COMMANDS = oled_cmds.SH1106
    RAM_COLS = 132
    FIRST_SEG = 2
    POR_CONTRAST = 0x80
    POR_PUMP = True                   # DC-DC on at reset (0xAD 0x8B)
    PUMP_WORDS = ("DC-DC converter", "0xAD 0x8B")

    def _reset_registers(self):
        OLED._reset_registers(self)
        self.rmw = None

    _KEEP = OLED._KEEP + ("rmw",)

    def _unknown(self, b):
        if b in oled_cmds.SSD1306_ONLY:
            return ("0x%02X (%s) is an SSD1306 command; the SH1106 has page addressing only "
                    "(0xB0 | page, 0x00 | col & 15, 0x10 | col >> 4) and a DC-DC converter "
                    "(0xAD 0x8B) instead of the charge pump" % (b, oled_cmds.SSD1306_ONLY[b]))
        return OLED._unknown(self, b)

    def _execute_own(self, c, p):
        if c == 0xAD:
            if self.on:
                self.fault("DC-DC control (0xAD) while the display is on; turn it off first")
            self.pump = p[0] == 0x8B
        elif c < 0x10:
            self.col = (self.col & 0xF0) | c
        elif c < 0x20:
            self.col = (self.col & 0x0F) | ((c & 0x0F) << 4)
        elif 0xB0 <= c <= 0xB7:
            self.page = c & 7
        elif c == 0xE0:
            self.rmw = self.col
        elif c == 0xEE:
            if self.rmw is not None:
                self.col, self.rmw = self.rmw, None

    def _write(self, data):
        if self.col + len(data) > 132:
            self.fault("%d bytes from column %d run past the RAM's last column (131)"
                       % (len(data), self.col))
        base = self.page * 132 + self.col
        self.ram[base:base + len(data)] = data
        self.col += len(data)
        return [(self.page, self.col - len(data), 0, len(data))]


CHIPS = {"ssd1306": SSD1306, "sh1106": SH1106}


class ModelFault(Exception):
    """A model run without a simulator (Unwired) found the bus misused."""


class Unwired:
    """The least of a simulator a model needs on I2C, for a model run without one (the
    rp2 tier's target, a test's bus): the rails on, a fault raised (ModelFault), no
    trace, the clock from `now`."""

    rails_on = True

    def __init__(self, now=lambda: 0):
        self.now = now

    def fault(self, message):
        raise ModelFault(message)

    def emit(self, kind, fields):
        pass


def pages(rows):
    """Rows of pixels (each a sequence of 0/1) as MONO_VLSB pages: 8 rows a byte."""
    w = len(rows[0]) if rows else 0
    out = bytearray(((len(rows) + 7) // 8) * w)
    for y, row in enumerate(rows):
        bit = 1 << (y & 7)
        base = (y >> 3) * w
        for x, v in enumerate(row):
            if v:
                out[base + x] |= bit
    return bytes(out)


def _words(name, state):
    if not state["on"]:
        return "%-14s off" % name
    return "%-14s on, contrast %d%s" % (name, state["contrast"],
                                        ", inverted" if state["invert"] else "")
