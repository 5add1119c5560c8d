"""The display as a part: the OLED (oled.py), what it shows (screen.py), its brightness.

Not critical: a display that is absent or stops answering is a fault `status` lists and
the log keeps, tried again every _RETRY_MS, and the music plays on at its level. On a
bus shared with the PCM5122 a stuck bus is the DAC's fault (it mutes); the display waits
for the DAC to answer again rather than spend the bus's time-out on every retry.

Each pass (check), one of: a retry; drawing what changed (screen.Screen.update); or
one span of the frame on the bus (oled.py) - so a pass never carries more than one
span's bus time (CHUNK columns, under 1 ms at 400 kHz). While spans wait, `busy` asks
the main loop for a short sleep, so a frame goes out in a few milliseconds.

Brightness: full (the setting) while touched; dimmed after `timeout_s` without a touch
(a turn, a press, a host's change); in dark mode off _PEEK_MS after a touch, so a turn
shows the level for a moment and the room stays dark. Burn-in: the view moves a pixel
every _SHIFT_MS (screen.shift).
"""
import time

from micropython import const

from .part import Part

_RETRY_MS = const(2000)
_SHIFT_MS = const(240000)     # the view moves a pixel every four minutes
_PEEK_MS = const(4000)        # dark mode: lit this long after a touch
_DIM_CONTRAST = const(1)
CONTRASTS = (0x08, 0x30, 0x80, 0xFF)   # brightness 1..4
_FULL = const(0)
_DIM = const(1)
_DARK = const(2)


class Display(Part):
    NAME = "display"
    CRITICAL = False
    BUDGET_US = 800     # one span on the bus (24 columns: ~0.75 ms at 400 kHz), or a redraw
    RETRY_US = 3000     # the controller's initialisation, two-byte writes (~1.8 ms)

    def __init__(self, b, buses, menu=None, version=""):
        Part.__init__(self)
        self.b = b
        self.d = b.display
        self.buses = buses
        self.menu = menu
        self.version = version
        self.panel = None
        self.screen = None
        self.busy = False
        self.up = False      # started and answering
        self.light = _FULL
        self.contrast = -1
        self._retry = 0
        self._touch_ms = 0
        self._shift_ms = 0
        self._shift = 0
        self._changes = -1

    def where(self):
        d = self.d
        if d.bus == "i2c":
            return "the %s at 0x%02X on I2C%d (GP%d SDA, GP%d SCL)" % (
                d.chip.upper(), d.addr, d.i2c_id, d.sda, d.scl)
        return "the SSD1306 on SPI%d (GP%d SCK, GP%d MOSI, GP%d CS)" % (
            d.spi_id, d.sck, d.mosi, d.cs)

    def _make(self):
        import machine

        from . import oled
        d = self.d
        if d.bus == "i2c":
            i2c = self.buses.i2c(d.i2c_id, d.scl, d.sda)
            cls = oled.SSD1306 if d.chip == "ssd1306" else oled.SH1106
            return cls(i2c, d.addr, d.width, d.height)
        spi = self.buses.spi_block(d.spi_id, d.sck, d.mosi, d.freq)
        return oled.SSD1306SPI(spi, machine.Pin(d.dc), machine.Pin(d.res), machine.Pin(d.cs),
                               d.width, d.height)

    def _shared(self):
        """On the PCM5122's bus: a stuck bus there is the DAC's fault (it mutes)."""
        d = self.d
        b = self.b
        return d.bus == "i2c" and b.dac == "pcm5122" and d.i2c_id == b.dac_i2c_id

    def start(self, now):
        self._retry = time.ticks_add(now, _RETRY_MS)
        self._touch_ms = now
        self._shift_ms = time.ticks_add(now, _SHIFT_MS)
        if self._shared() and self.sup.ctl.faults & 1:  # type: ignore[union-attr]  # FAULT_DAC
            return   # the DAC's bus is down: wait for it rather than spend its time-out
        try:
            if self.panel is None:
                self.panel = self._make()
                from .screen import Screen
                self.screen = Screen(self.panel, self.version)
            self.panel.start()
            self.contrast = -1
            self.light = _FULL
            self.screen.drawn = -1  # type: ignore[union-attr]  # drawn anew, sent whole
        except OSError as e:
            self._failed(e, now)
            return
        self.up = True
        self.sup.fault(self, None, now)  # type: ignore[union-attr]

    def _failed(self, e, now):
        self.busy = False
        self.sup.fault(self, "display: no answer from %s (%s): check its wiring and its "  # type: ignore[union-attr]
                       "3.3 V supply" % (self.where(), "time-out" if e.args and e.args[0] == 110
                                         else "no acknowledge"), now)

    def check(self, now):
        if not self.up:
            if time.ticks_diff(now, self._retry) >= 0:
                self.start(now)
            return
        try:
            self._pass(now)
        except OSError as e:
            self.up = False
            self.busy = False
            self._retry = time.ticks_add(now, _RETRY_MS)
            if e.args and e.args[0] == 110 and self._shared():
                return   # a stuck bus, the DAC's to report; tried again
            self._failed(e, now)

    def _pass(self, now):
        ctl = self.sup.ctl  # type: ignore[union-attr]
        panel = self.panel
        scr = self.screen
        if ctl.changes != self._changes:
            self._changes = ctl.changes
            self._touch_ms = now
        self._brightness(ctl, now)
        if self.light == _DARK:
            self.busy = False
            return
        if time.ticks_diff(now, self._shift_ms) >= 0:
            self._shift_ms = time.ticks_add(now, _SHIFT_MS)
            self._shift += 1
            scr.shift(self._shift)  # type: ignore[union-attr]
        if not panel.pending:  # type: ignore[union-attr]
            scr.update(ctl, self.menu, self._fault_text(ctl), now)  # type: ignore[union-attr]
        self.busy = panel.send()  # type: ignore[union-attr]

    def _brightness(self, ctl, now):
        idle = time.ticks_diff(now, self._touch_ms)
        t = getattr(ctl, "display_timeout_s", 60) * 1000
        dark = getattr(ctl, "display_dark", False)
        if dark:
            light = _FULL if idle < _PEEK_MS else _DARK
        elif t > 0 and idle >= t:
            light = _DIM
        else:
            light = _FULL
        contrast = (CONTRASTS[getattr(ctl, "display_brightness", 4) - 1] if light == _FULL
                    else _DIM_CONTRAST)
        panel = self.panel
        if light != self.light:
            if light == _DARK:
                panel.poweroff()  # type: ignore[union-attr]
            elif self.light == _DARK:
                panel.poweron()  # type: ignore[union-attr]
                self.screen.drawn = -1  # type: ignore[union-attr]  # drawn anew, sent whole
            self.light = light
        if light != _DARK and contrast != self.contrast:
            self.contrast = contrast
            panel.contrast(contrast)  # type: ignore[union-attr]

    def _fault_text(self, ctl):
        """The first critical fault's words, or None."""
        if not ctl.faults:
            return None
        for key in self.sup.fault_text:  # type: ignore[union-attr]
            if isinstance(key, int):
                return self.sup.fault_text[key]  # type: ignore[union-attr]
        return None

    def quiet(self):
        if self.panel is not None and self.fault is None:
            self.panel.poweroff()
