"""The SSD1306 and SH1106 models (sim/models/oled.py) driven through the simulated
machine.I2C / machine.SPI with the bytes the firmware's drivers send (micropython-lib's
ssd1306, the firmware's incremental sender, its SH1106 driver): the panel lights what a
framebuf drew, and every misuse the datasheets forbid is a fault."""
import struct
import zlib

import machine
import pytest

from headroom.sim import cpython_framebuf as framebuf
from headroom.sim.models.oled import OLED, SH1106, SSD1306
from headroom.sim.world import SimFault

from simkit import bare_sim, records

Pin = machine.Pin
ADDR = 0x3C
CS, DC, RES = 13, 14, 15

# micropython-lib ssd1306 0.3: init_display(), one [0x80, cmd] write per byte
MPLIB_INIT = (0xAE, 0x20, 0x00, 0x40, 0xA1, 0xA8, 0x3F, 0xC8, 0xD3, 0x00, 0xDA, 0x12,
              0xD5, 0x80, 0xD9, 0xF1, 0xDB, 0x30, 0x81, 0xFF, 0xA4, 0xA6, 0x8D, 0x14, 0xAF)
SH1106_INIT = (0xAE, 0xD5, 0x80, 0xA8, 0x3F, 0xD3, 0x00, 0x40, 0xAD, 0x8B, 0xA1, 0xC8,
               0xDA, 0x12, 0x81, 0xCF, 0xD9, 0x22, 0xDB, 0x35, 0xA4, 0xA6, 0xAF)


class Screen:
    """A framebuf the way the firmware keeps its frame: 128x64 MONO_VLSB."""

    def __init__(self):
        self.buf = bytearray(1024)
        self.fb = framebuf.FrameBuffer(self.buf, 128, 64, framebuf.MONO_VLSB)

    def rows(self):
        return [bytearray(self.fb.pixel(x, y) for x in range(128)) for y in range(64)]

    def draw(self, level="-12.5"):
        fb = self.fb
        fb.fill(0)
        fb.text(level, 3, 2, 1)
        fb.text("dB SPL", 70, 2, 1)
        fb.rect(0, 40, 128, 10, 1)
        fb.fill_rect(2, 42, 77, 6, 1)
        fb.line(0, 63, 127, 52, 1)
        fb.ellipse(110, 28, 9, 6, 1, True)


class MpLibI2C:
    """micropython-lib's SSD1306_I2C, byte for byte."""

    def __init__(self, i2c, buf, addr=ADDR):
        self.i2c, self.buf, self.addr = i2c, buf, addr

    def cmd(self, c):
        self.i2c.writeto(self.addr, bytes([0x80, c]))

    def init(self):
        for c in MPLIB_INIT:
            self.cmd(c)

    def show(self):
        for c in (0x21, 0, 127, 0x22, 0, 7):
            self.cmd(c)
        self.i2c.writevto(self.addr, [b"\x40", self.buf])


def span(i2c, buf, page, c0, c1, addr=ADDR):
    """The firmware's incremental sender: one page's columns c0..c1."""
    i2c.writeto(addr, bytes([0x00, 0x21, c0, c1, 0x22, page, page]))
    i2c.writeto(addr, b"\x40" + bytes(buf[page * 128 + c0:page * 128 + c1 + 1]))


def sh1106_page(i2c, buf, page, c0=0, c1=127, addr=ADDR, offset=2):
    c = c0 + offset
    i2c.writeto(addr, bytes([0x00, 0xB0 | page, c & 15, 0x10 | (c >> 4)]))
    i2c.writeto(addr, b"\x40" + bytes(buf[page * 128 + c0:page * 128 + c1 + 1]))


def rig(chip=SSD1306, powered=True, **kw):
    sim = bare_sim(powered=powered)
    disp = sim.add_part(chip(sim, i2c_bus=0, addr=ADDR, **kw))
    return sim, disp, machine.I2C(0, freq=400000)


def lit_ones(disp):
    return {(x, y) for y, row in enumerate(disp.lit()) for x, v in enumerate(row) if v}


# ================================================================== SSD1306 on I2C

def test_micropython_lib_frame_lights_what_the_framebuf_drew():
    sim, disp, i2c = rig()
    s = Screen()
    drv = MpLibI2C(i2c, s.buf)
    drv.init()
    s.draw()
    drv.show()
    assert disp.on and disp.contrast == 0xFF
    assert disp.lit() == s.rows()
    assert sum(map(sum, disp.lit())) > 300      # something is drawn


def test_incremental_spans_update_only_their_window():
    sim, disp, i2c = rig()
    s = Screen()
    drv = MpLibI2C(i2c, s.buf)
    drv.init()
    s.draw("-12.5")
    drv.show()
    first = bytes(s.buf)
    s.draw("-11.0")
    old = bytes(disp.ram)
    for page in range(8):
        if s.buf[page * 128:page * 128 + 128] != old[page * 128:page * 128 + 128]:
            cols = [c for c in range(128) if s.buf[page * 128 + c] != old[page * 128 + c]]
            span(i2c, s.buf, page, cols[0], cols[-1])
    assert disp.lit() == s.rows()
    writes = [r["state"] for r in records(sim, "chip", chip="display.ram")]
    # show(): one write, a record per page it lands in
    assert writes[:8] == [{"page": p, "col": 0, "hex": first[p * 128:p * 128 + 128].hex()}
                          for p in range(8)]
    assert len(writes) == 9 and writes[8]["page"] == 0             # then one span, page 0
    assert writes[8]["col"] > 0 and len(writes[8]["hex"]) < 2 * 128


def test_horizontal_mode_wraps_inside_the_window():
    sim, disp, i2c = rig()
    i2c.writeto(ADDR, bytes([0x00, 0x20, 0x00, 0x21, 10, 13, 0x22, 2, 3]))
    i2c.writeto(ADDR, b"\x40" + bytes(range(1, 11)))
    page2, page3 = disp.ram[256 + 10:256 + 14], disp.ram[384 + 10:384 + 14]
    assert list(page3) == [5, 6, 7, 8]
    assert list(page2) == [9, 10, 3, 4]     # wrapped back to (page 2, column 10)
    assert (disp.page, disp.col) == (2, 12)
    # The trace says where the bytes landed: a record per run of one page.
    assert [r["state"] for r in records(sim, "chip", chip="display.ram")] == [
        {"page": 2, "col": 10, "hex": "01020304"}, {"page": 3, "col": 10, "hex": "05060708"},
        {"page": 2, "col": 10, "hex": "090a"}]


def test_vertical_mode_goes_down_the_pages_then_right():
    sim, disp, i2c = rig()
    i2c.writeto(ADDR, bytes([0x00, 0x20, 0x01, 0x21, 5, 6, 0x22, 0, 1]))
    i2c.writeto(ADDR, b"\x40" + bytes([1, 2, 3, 4, 5]))
    assert [disp.ram[5], disp.ram[128 + 5], disp.ram[6], disp.ram[128 + 6]] == [5, 2, 3, 4]


def test_page_mode_wraps_within_the_page():
    sim, disp, i2c = rig()
    i2c.writeto(ADDR, bytes([0x00, 0xB3, 0x0E, 0x17]))      # page 3, column 0x7E
    i2c.writeto(ADDR, b"\x40\x11\x22\x33")
    assert disp.ram[3 * 128 + 126:3 * 128 + 128] == b"\x11\x22" and disp.ram[3 * 128] == 0x33


def test_what_is_lit_follows_invert_entire_on_contrast_and_off():
    sim, disp, i2c = rig()
    MpLibI2C(i2c, bytearray(1024)).init()
    i2c.writeto(ADDR, bytes([0x00, 0x21, 0, 0, 0x22, 0, 0]) )
    i2c.writeto(ADDR, b"\x40\x01")                  # pixel (0, 0)
    assert lit_ones(disp) == {(0, 0)}
    i2c.writeto(ADDR, bytes([0x80, 0xA7]))
    assert len(lit_ones(disp)) == 128 * 64 - 1
    i2c.writeto(ADDR, bytes([0x80, 0xA6, 0x80, 0xA5]))
    assert len(lit_ones(disp)) == 128 * 64
    i2c.writeto(ADDR, bytes([0x80, 0xA4, 0x80, 0x81, 0x80, 0x20]))
    assert disp.contrast == 0x20
    i2c.writeto(ADDR, bytes([0x80, 0xAE]))
    assert lit_ones(disp) == set()
    states = [dict(r["state"]) for r in records(sim, "chip", chip="display")]
    assert states[-1] == {"on": False, "contrast": 0x20, "invert": False}
    assert {"on": True, "contrast": 0xFF, "invert": True} in states


def test_segment_remap_and_com_direction_mirror_the_panel():
    sim, disp, i2c = rig()
    MpLibI2C(i2c, bytearray(1024)).init()
    i2c.writeto(ADDR, bytes([0x00, 0x21, 3, 3, 0x22, 1, 1]))
    i2c.writeto(ADDR, b"\x40\x04")                  # column 3, line 10
    assert lit_ones(disp) == {(3, 10)}
    i2c.writeto(ADDR, bytes([0x00, 0xA0]))
    assert lit_ones(disp) == {(124, 10)}
    i2c.writeto(ADDR, bytes([0x00, 0xC0]))
    assert lit_ones(disp) == {(124, 53)}
    i2c.writeto(ADDR, bytes([0x00, 0xA1, 0xC8, 0x42]))   # start line 2
    assert lit_ones(disp) == {(3, 8)}
    i2c.writeto(ADDR, bytes([0x00, 0x40, 0xD3, 5]))      # display offset 5
    assert lit_ones(disp) == {(3, 5)}
    i2c.writeto(ADDR, bytes([0x00, 0xD3, 0, 0xDA, 0x02]))  # sequential COM on the 64-row panel
    assert lit_ones(disp) == {(3, 20)}                   # the rows interleave


def test_status_read_says_whether_the_display_is_on():
    sim, disp, i2c = rig()
    assert i2c.readfrom(ADDR, 1) == b"\x40"
    MpLibI2C(i2c, bytearray(1024)).init()
    assert i2c.readfrom(ADDR, 1) == b"\x00"


def test_absent_or_unpowered_chip_does_not_acknowledge():
    sim, disp, i2c = rig()
    disp.absent = True
    with pytest.raises(OSError) as e:
        i2c.writeto(ADDR, b"\x80\xAE")
    assert e.value.args[0] == 5
    sim, disp, i2c = rig(powered=False)
    with pytest.raises(OSError):
        i2c.writeto(ADDR, b"\x80\xAE")
    assert disp.lit() == [bytearray(128)] * 64


MISUSE = [
    (SSD1306, [b"\x80\x30"], "0x30 is not a command"),
    (SSD1306, [b"\x00\xA8\x05"], "multiplex ratio - 1 5 is out of range"),
    (SSD1306, [b"\x00\x20\x03"], "addressing mode 0x03 is invalid"),
    (SSD1306, [b"\x00\x21\x00\x80"], "column 128 is out of range"),
    (SSD1306, [b"\x00\xDA\x13"], "COM pins 0x13"),
    (SSD1306, [b"\x00\x8D\x15"], "charge pump setting 0x15"),
    (SSD1306, [b"\x00\xAD\x8B"], "IREF selection 0x8B"),
    (SSD1306, [b"\x00\xD9\x10"], "phase period of 0"),
    (SSD1306, [b"\x80\xAF"], "charge pump off: the panel stays dark"),
    (SSD1306, [b"\x00\x8D\x14\x8D\x10\xAF"], "panel stays dark"),
    (SSD1306, [b"\x80\x81", b"\x40\x00"], "data bytes while command 0x81 (contrast) waits"),
    (SSD1306, [b"\x20\xAE"], "control byte 0x20"),
    (SSD1306, [b"\x00\x2F"], "scrolling is not modelled"),
    (SH1106, [b"\x00\x20\x00"], "0x20 (memory addressing mode) is an SSD1306 command"),
    (SH1106, [b"\x00\x21\x00\x7F"], "is an SSD1306 command"),
    (SH1106, [b"\x00\x8D\x14"], "0x8D (charge pump) is an SSD1306 command"),
    (SH1106, [b"\x00\xAD\x8A\xAF"], "DC-DC converter off: the panel stays dark"),
    (SH1106, [b"\x00\xAF\xAD\x8B"], "DC-DC control (0xAD) while the display is on"),
    (SH1106, [b"\x00\xB0\x00\x18", b"\x40\x00\x00\x00\x00\x00"], "run past the RAM's last column"),
    (SH1106, [b"\x00\xD3\x40"], "display offset 64 is out of range"),
]


@pytest.mark.parametrize("chip,writes,words", MISUSE,
                         ids=["%s-%d" % (m[0].KIND, i) for i, m in enumerate(MISUSE)])
def test_misuse_is_a_fault_that_says_what_is_wrong(chip, writes, words):
    sim, disp, i2c = rig(chip)
    with pytest.raises(SimFault, match=words.replace("(", r"\(").replace(")", r"\)")):
        for w in writes:
            i2c.writeto(ADDR, w)
    assert words in sim.faults[-1][1] and sim.faults[-1][1].startswith("display (%s)" % chip.KIND)


def test_current_micropython_lib_iref_select_is_taken():
    """micropython-lib after 0.3 sends 0xAD 0x30 (internal IREF) before the charge pump."""
    sim, disp, i2c = rig()
    init = list(MPLIB_INIT)
    init[-3:-3] = [0xAD, 0x30]
    for c in init:
        i2c.writeto(ADDR, bytes([0x80, c]))
    assert disp.on and not sim.faults


def test_what_is_not_modelled_is_refused_at_once():
    sim = bare_sim()
    with pytest.raises(ValueError, match="only the SSD1306 is modelled on SPI"):
        SH1106(sim, spi_bus=1, cs=CS, dc=DC, res=RES)
    with pytest.raises(ValueError, match="SA0 gives 0x3C or 0x3D"):
        SSD1306(sim, i2c_bus=0, addr=0x3E)
    with pytest.raises(ValueError, match="96x16 panel is not modelled"):
        SSD1306(sim, 96, 16, i2c_bus=0)


def test_ram_writes_before_the_display_is_on_are_fine():
    sim, disp, i2c = rig()
    i2c.writeto(ADDR, b"\x40" + bytes(128))       # a driver clearing the RAM first
    assert not sim.faults and not disp.on


def test_png_is_the_panel_as_lit(tmp_path):
    sim, disp, i2c = rig()
    s = Screen()
    drv = MpLibI2C(i2c, s.buf)
    drv.init()
    s.draw()
    drv.show()
    path = tmp_path / "panel.png"
    disp.png(str(path), scale=2)
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    w, h = struct.unpack(">II", data[16:24])
    assert (w, h) == (256, 128)
    idat = data[data.index(b"IDAT") + 4:data.index(b"IEND") - 8]
    raw = zlib.decompress(idat)
    line = 1 + 3 * w
    pixels = [[raw[y * line + 1 + 6 * x:y * line + 4 + 6 * x] != b"\x00\x00\x00" for x in range(128)]
              for y in range(0, 128, 2)]
    assert pixels == [[bool(v) for v in row] for row in s.rows()]
    assert max(raw) == 255           # contrast 0xFF: full brightness


def test_a_soft_reset_keeps_the_panel():
    sim, disp, i2c = rig()
    s = Screen()
    drv = MpLibI2C(i2c, s.buf)
    drv.init()
    s.draw()
    drv.show()
    snap = disp.snapshot()
    other = SSD1306(sim, i2c_bus=1, addr=ADDR)
    other.restore(snap)
    assert other.lit() == s.rows() and other.contrast == 0xFF


# ================================================================== SH1106

def test_sh1106_pages_at_column_offset_2_light_the_framebuf():
    sim, disp, i2c = rig(SH1106)
    i2c.writeto(ADDR, bytes((0x00,) + SH1106_INIT))
    s = Screen()
    s.draw()
    for page in range(8):
        sh1106_page(i2c, s.buf, page)
    assert disp.lit() == s.rows() and disp.contrast == 0xCF


def test_sh1106_without_the_column_offset_is_shifted_two_pixels():
    sim, disp, i2c = rig(SH1106)
    i2c.writeto(ADDR, bytes((0x00,) + SH1106_INIT))
    buf = bytearray(1024)
    buf[0] = buf[5] = 0x01
    sh1106_page(i2c, buf, 0, 0, 127, offset=0)
    assert lit_ones(disp) == {(3, 0)}     # column 0 is RAM column 0: off the panel
    assert disp.ram[0] == 1


# ================================================================== SSD1306 on SPI

class MpLibSPI:
    """micropython-lib's SSD1306_SPI, byte for byte."""

    def __init__(self, sim, buf):
        self.sim, self.buf = sim, buf
        self.spi = machine.SPI(1, 10 * 1024 * 1024)
        self.cs = Pin(CS, Pin.OUT, value=1)
        self.dc = Pin(DC, Pin.OUT, value=0)
        self.res = Pin(RES, Pin.OUT, value=0)

    def reset(self):
        self.res(1)
        self.sim.sleep_us(1000)
        self.res(0)
        self.sim.sleep_us(10000)
        self.res(1)

    def _send(self, dc, data):
        self.spi.init(baudrate=10 * 1024 * 1024, polarity=0, phase=0)
        self.cs(1)
        self.dc(dc)
        self.cs(0)
        self.spi.write(data)
        self.cs(1)

    def init(self):
        for c in MPLIB_INIT:
            self._send(0, bytearray([c]))

    def show(self):
        for c in (0x21, 0, 127, 0x22, 0, 7):
            self._send(0, bytearray([c]))
        self._send(1, self.buf)


def spi_rig():
    sim = bare_sim()
    disp = sim.add_part(SSD1306(sim, spi_bus=1, cs=CS, dc=DC, res=RES))
    return sim, disp


def test_ssd1306_over_spi_lights_what_the_framebuf_drew():
    sim, disp = spi_rig()
    s = Screen()
    drv = MpLibSPI(sim, s.buf)
    drv.reset()
    drv.init()
    s.draw()
    drv.show()
    assert disp.lit() == s.rows()
    assert len(records(sim, "chip", chip="display.ram")) == 8     # one write, a record a page


def test_spi_before_the_reset_pulse_or_during_reset_is_a_fault():
    sim, disp = spi_rig()
    drv = MpLibSPI(sim, bytearray(1024))
    drv.res(1)
    with pytest.raises(SimFault, match="before RES# was pulsed low"):
        drv.init()
    sim, disp = spi_rig()
    drv = MpLibSPI(sim, bytearray(1024))
    with pytest.raises(SimFault, match="while RES# .GP15. is low"):
        drv.init()
    sim, disp = spi_rig()
    drv = MpLibSPI(sim, bytearray(1024))
    drv.res(0)
    sim.sleep_us(2)
    drv.res(1)
    with pytest.raises(SimFault, match="before RES# was pulsed low .* >= 3 us"):
        drv.init()          # a 2 us pulse is no reset


def test_spi_reset_clears_the_registers_and_keeps_the_ram():
    sim, disp = spi_rig()
    s = Screen()
    drv = MpLibSPI(sim, s.buf)
    drv.reset()
    drv.init()
    s.draw()
    drv.show()
    drv.reset()
    assert not disp.on and disp.ram == s.buf


# ================================================================== the board's table

class _Board:
    def __init__(self, display):
        self.display = display


class _Display:
    def __init__(self, **kw):
        self.__dict__.update(dict(chip="ssd1306", width=128, height=64, bus="i2c", i2c_id=0,
                                  addr=0x3C, spi_id=None, cs=None, dc=None, res=None), **kw)


class _SB:
    def __init__(self, sim, display):
        self.sim, self.board = sim, _Board(display)


def test_boardparts_makes_the_display_the_board_file_names():
    from headroom.sim.boardparts import PARTS, _display, chip_part
    sim = bare_sim()
    assert dict(PARTS)["display"] is _display
    assert _display(_SB(sim, None)) is None
    d = _display(_SB(sim, _Display(chip="sh1106", addr=0x3D, i2c_id=1)))
    assert isinstance(d, SH1106) and (d.i2c_bus, d.addr) == (1, 0x3D)
    d = _display(_SB(sim, _Display(bus="spi", spi_id=1, cs=CS, dc=DC, res=RES)))
    assert isinstance(d, SSD1306) and (d.spi_bus, d.cs, d.dc, d.res, d.i2c_bus) == (1, CS, DC, RES, None)
    assert chip_part("display") is OLED and chip_part("display.ram") is OLED


def test_timeline_words_states_and_leaves_frames_to_the_verbose_one():
    assert OLED.timeline_line("display", {"on": True, "contrast": 207, "invert": False}, []) \
        == "display        on, contrast 207"
    assert OLED.timeline_line("display.ram", {"page": 1, "col": 2, "hex": "00ff"}, []) is None
    # A frame is a dozen writes: the panel's bus log leaves them to its display box.
    assert OLED.readout_line("display.ram", {"page": 1, "col": 2, "hex": "00ff"}, []) is None
