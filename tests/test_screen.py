"""The display's firmware side without a simulated board: screen.py draws what the checker
reads back (rules_display.read_level), and oled.py's spans rebuild the frame on the panel
(the simulator's chip model, run on its own)."""
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from headroom.sim.models.oled import CHIPS, Unwired
from headroom.sim.rules_display import read_level
from headroom_fw import oled, screen


class Bus:
    """An I2C bus with the simulator's model of the chip on it (sim/models/oled.py, run
    without a simulator), counting what the firmware sends."""

    def __init__(self, sh1106=False):
        self.model = CHIPS["sh1106" if sh1106 else "ssd1306"](Unwired(), i2c_bus=0, addr=0x3C)
        self.writes = 0
        self.data_bytes = 0

    def writeto(self, addr, buf):
        buf = bytes(buf)
        self.writes += 1
        if buf[0] == 0x40:
            self.data_bytes += len(buf) - 1
        self.model.i2c_write(buf)

    def visible(self):
        return self.model.lit_pages()


class Ctl:
    """What screen.py reads of the controller, set by the test."""

    def __init__(self, volume=-47, spl_off=None):
        class B:
            min_hdb = -160
        self.b = B()
        self.volume = volume
        self.spl_off = spl_off
        self.output = self.gain = self.mode = self.balance = self.faults = self.changes = 0
        self.auto = False
        self.hp = None
        self.phase = 6
        self.muted = False

    def level(self):
        return None if self.muted else self.volume

    def pending(self, now=None):
        return None

    def path_top(self):
        return 32

    def max_volume(self):
        return 12


def panel(sh1106=False):
    bus = Bus(sh1106)
    p = (oled.SH1106 if sh1106 else oled.SSD1306)(bus, 0x3C)
    p.start()
    return bus, p


def flush(p):
    n = 0
    while p.send():
        n += 1
    return n + 1


@pytest.mark.parametrize("sh1106", [False, True])
def test_spans_rebuild_the_frame_on_the_panel(sh1106):
    bus, p = panel(sh1106)
    scr = screen.Screen(p, "0.2.0")
    ctl = Ctl()
    scr.update(ctl)
    flush(p)
    assert bus.visible() == bytes(p.buffer)
    assert read_level(bus.visible()) == (-235, "dBV", False)
    # A detent: only what changed goes out, a few spans of at most CHUNK bytes.
    bus.data_bytes = 0
    ctl.volume = -48
    scr.update(ctl)
    spans = flush(p)
    assert bus.visible() == bytes(p.buffer)
    assert read_level(bus.visible()) == (-240, "dBV", False)
    # Two digits' columns (the point's between them) in four pages, and the bar's few.
    assert bus.data_bytes <= 4 * 42 + 8, bus.data_bytes
    # A window command where each page's run starts (one for the four digit pages on
    # the SSD1306), then its spans of CHUNK bytes.
    windows = 4 if sh1106 else 1
    assert spans <= windows + -(-bus.data_bytes // oled.CHUNK) + 4 + 1, spans


@settings(max_examples=60)
@given(sh1106=st.booleans(), frames=st.lists(st.lists(st.tuples(
    st.integers(0, 127), st.integers(0, 63), st.integers(1, 48), st.integers(1, 40),
    st.integers(0, 1)), min_size=1, max_size=6), min_size=1, max_size=5))
def test_any_drawing_reaches_the_panel_span_by_span(sh1106, frames):
    """Whatever is drawn and marked dirty, the spans (windows over several pages where
    the SSD1306 takes them, spans running on from page to page) put exactly the
    framebuffer on the panel, each transaction at most CHUNK data bytes."""
    bus, p = panel(sh1106)
    flush(p)
    for rects in frames:
        for x, y, w, h, c in rects:
            p.fill_rect(x, y, w, h, c)
            p.dirty(x, w, y >> 3, min(63, y + h - 1) >> 3)
        before = bus.writes
        flush(p)
        assert bus.visible() == bytes(p.buffer)
        assert bus.writes - before <= 8 * (1 + -(-128 // oled.CHUNK))


@settings(max_examples=60)
@given(hdb=st.integers(-160, 40), off=st.one_of(st.none(), st.integers(8000, 12000)),
       muted=st.booleans(), step=st.integers(0, 5))
def test_the_checker_reads_back_every_level_the_screen_draws(hdb, off, muted, step):
    bus, p = panel()
    scr = screen.Screen(p)
    scr.shift(step)
    ctl = Ctl(hdb, None if off is None else (off, off))
    ctl.muted = muted
    scr.update(ctl)
    want = (hdb * 50 + off) // 10 if off is not None else hdb * 5
    assert read_level(bytes(p.buffer)) == (want, "dB SPL" if off is not None else "dBV", muted)


def test_other_views_read_as_no_level():
    bus, p = panel()
    scr = screen.Screen(p, "0.2.0")
    ctl = Ctl()
    ctl.phase = 0   # booting: the starting view
    scr.update(ctl)
    assert read_level(bytes(p.buffer)) is None
    scr.update(ctl, fault="pga2311: the chain gave back nothing on SDO (GP16): check its wiring")
    assert read_level(bytes(p.buffer)) is None


def test_the_ssd1306_driver_is_micropython_libs_as_shipped():
    """ssd1306.py is PyPI's micropython-ssd1306 0.3 (micropython-lib's driver), unchanged:
    what Headroom needs differently is in oled.py's subclasses, never in the file."""
    import hashlib
    import os
    path = os.path.join(os.path.dirname(oled.__file__), "ssd1306.py")
    with open(path, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    assert digest == "fcdaff406b4c5cc56bc99a5cb1e85d58be2108b43d1bb50c432062323a48edb7"


def _feed_frame(checker, t, buffer):
    """A frame as the display model records it: one `display.ram` record per page."""
    for p in range(8):
        checker.check(t, "chip", {"chip": "display.ram", "state": {
            "page": p, "col": 0, "hex": bytes(buffer[p * 128:(p + 1) * 128]).hex()}})


@pytest.mark.parametrize("shown_hdb, broken", [(-60, False), (-59, True), (-70, True)])
def test_the_display_rule_refuses_a_level_the_jack_does_not_have(shown_hdb, broken):
    """A hand-made trace: the jack at -30.06 dBV, the display lit showing `shown_hdb`;
    50 ms on (and the 20 ms a zero crossing may take), the rule has its verdict."""
    from headroom.sim.invariants import Checker
    from headroom_fw import board as boardfile
    c = Checker(boardfile.load(__import__("helpers").SE))
    _, p = panel()
    screen.Screen(p).update(Ctl(shown_hdb))
    c.check(0, "chip", {"chip": "display", "state": {"on": True, "contrast": 255,
                                                     "invert": False}})
    _feed_frame(c, 1000, p.buffer)
    c.jack = (None, None)
    c.check(2000, "chip", {"chip": "jack", "state": {"output": "se", "left": -30.06,
                                                     "right": -30.06, "dac": "on"}})
    c.finish(200000)
    # (The jack's jump from silence breaks the ramp rule too: not this test's.)
    shown = [v for v in c.violations if v[1] == "display"]
    assert len(shown) == (1 if broken else 0), c.violations
