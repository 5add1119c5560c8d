"""The display as a part: the OLED (oled.py), what it shows (screen.py), its brightness.

Not critical: a display that is absent or stops answering is a fault `status` lists and
the log keeps, tried again every _RETRY_MS, and the music plays on at its level. On a
bus shared with the PCM5122 a stuck bus is the DAC's fault (it mutes); the display waits
for the DAC to answer again rather than spend the bus's time-out on every retry.

A pass (check) retries, sets the brightness and decides what is to be drawn; the
drawing (a part at a time) and the bus transactions (a window command or a span of
CHUNK columns: oled.py) are the main loop's sleep's work, a piece a call (`piece`,
through App.idle, while `busy`), and a detent ends the sleep between two pieces.

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
_LOOK_MS = const(100)         # the timers (dimming, burn-in, a lapsed request) looked at
_DIM_CONTRAST = const(1)
CONTRASTS = (0x08, 0x30, 0x80, 0xFF)   # brightness 1..4
_FULL = const(0)
_DIM = const(1)
_DARK = const(2)


class Display(Part):
    NAME = "display"
    CRITICAL = False
    BUDGET_US = 500     # a command (contrast, on/off) at most; drawing and the frame's
                        # spans are the loop's sleep's (piece()), a detent first
    RETRY_US = 7000     # the controller's initialisation, two-byte writes (~1.8 ms); a
                        # stuck bus costs its time-out once (5 ms, hardware.Buses.i2c)

    def __init__(self, b, buses, menu=None, version="", pairing=None):
        Part.__init__(self)
        self.b = b
        self.d = b.display
        self.buses = buses
        self.menu = menu
        self.version = version
        self.pairing = pairing   # the web remote's (pairing.py), or None: its code is shown
        self._code = None        # the code the screen was last asked to show
        self.panel = None
        self.screen = None
        self.up = False      # started and answering
        self.light = _FULL
        self.contrast = -1
        self._retry = 0
        self._touch_ms = 0
        self._shift_ms = 0
        self._shift = 0
        self._changes = -1
        self._look_ms = 0
        self._draw = False    # the screen has something to draw (piece() draws it)
        self._now = 0
        self._level = None
        self._menu_changes = -1

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
            self._lost(e, now)
            return
        self.up = True
        self.sup.fault(self, None, now)  # type: ignore[union-attr]

    @property
    def busy(self):
        """Something is to be drawn or sent (the main loop's sleep has work)."""
        return (self.up and self.light != _DARK
                and (self._draw or self.panel.pending))  # type: ignore[union-attr]

    def _waiting(self, now):
        d = self.d
        self.sup.fault(self, "display: waits for I2C%d, which it shares with the DAC: see "  # type: ignore[union-attr]
                       "the DAC's fault" % d.i2c_id, now)

    def _failed(self, e, now):
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
            self._lost(e, now)

    def _lost(self, e, now):
        """The panel does not answer: a fault (or the DAC's bus), tried again later."""
        self.up = False
        self._retry = time.ticks_add(now, _RETRY_MS)
        if e.args and e.args[0] == 110 and self._shared():
            self._waiting(now)   # a stuck bus: the DAC's fault (it mutes) when it looks
            return
        self._failed(e, now)

    def _pass(self, now):
        """An idle pass costs a few comparisons and one clock reading: the screen is asked
        to draw when the state moved (a change the host would hear of, the level a ramp
        takes, the menu), or every _LOOK_MS for the timers (dimming, burn-in, a lapsed
        request)."""
        ctl = self.sup.ctl  # type: ignore[union-attr]
        scr = self.screen
        look = ctl.changes != self._changes
        if look:
            self._changes = ctl.changes
            if ctl.changes != ctl.silent_change:   # the trigger rising is nobody's touch
                self._touch_ms = now
        if look or time.ticks_diff(now, self._look_ms) >= 0:
            self._look_ms = time.ticks_add(now, _LOOK_MS)
            if self._brightness(ctl, now):
                return   # a command went out: this pass's share of the bus
            if time.ticks_diff(now, self._shift_ms) >= 0:
                self._shift_ms = time.ticks_add(now, _SHIFT_MS)
                self._shift += 1
                scr.shift(self._shift)  # type: ignore[union-attr]
            look = True
        if self.light == _DARK or self.panel.pending:  # type: ignore[union-attr]
            # A frame goes out whole before the next is drawn (piece(), in the loop's
            # sleep): every frame the panel shows is one state; a fast turn shows every
            # few levels, each within two frames' time.
            return
        level = ctl.level()
        menu = self.menu
        m = menu.changes if menu is not None else 0
        code = self.pairing.code if self.pairing is not None else None
        if code is not self._code:
            self._code = code
            self._touch_ms = now    # a code shown lights the display
            look = True
        if look or level != self._level or m != self._menu_changes or scr.drawn < 0:  # type: ignore[union-attr]
            self._level = level
            self._menu_changes = m
            self._draw = True   # piece() draws it, in the loop's sleep
            self._now = now

    def piece(self, waker):
        """One piece of the frame, in the main loop's sleep (App.idle): what changed
        drawn (screen.update, a part at a time, giving way to a detent: `waker.woken`),
        else one bus transaction (oled.py). Nothing allocated on the level view; a
        panel that stops answering is a fault as in check()."""
        if self._draw:
            ctl = self.sup.ctl  # type: ignore[union-attr]
            code = self.pairing.code_now(self._now) if self.pairing is not None else None
            if self.screen.update(ctl, self.menu, self._fault_text(ctl), self._now,  # type: ignore[union-attr]
                                  waker, code):
                self._draw = False
            return
        try:
            self.panel.send()  # type: ignore[union-attr]
        except OSError as e:
            self._lost(e, time.ticks_ms())

    def _brightness(self, ctl, now):
        """Dim, dark or lit as the touches and the settings say; whether a command went."""
        idle = time.ticks_diff(now, self._touch_ms)
        t = ctl.display_timeout_s * 1000
        dark = ctl.display_dark
        if ctl.standby:
            light = _DARK          # standby: dark until a touch wakes it
        elif dark:
            light = _FULL if idle < _PEEK_MS else _DARK
        elif t > 0 and idle >= t:
            light = _DIM
        else:
            light = _FULL
        contrast = (CONTRASTS[ctl.display_brightness - 1] if light == _FULL
                    else _DIM_CONTRAST)
        panel = self.panel
        if light != self.light:
            if light == _DARK:
                panel.poweroff()  # type: ignore[union-attr]
            elif self.light == _DARK:
                panel.poweron()  # type: ignore[union-attr]
                self.screen.drawn = -1  # type: ignore[union-attr]  # drawn anew, sent whole
            self.light = light
            return True
        if light != _DARK and contrast != self.contrast:
            self.contrast = contrast
            panel.contrast(contrast)  # type: ignore[union-attr]
            return True
        return False

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
