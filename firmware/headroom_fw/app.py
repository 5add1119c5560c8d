"""The firmware's shell: builds the drivers from the board file and runs the loop.

`App.step()` reads the inputs, lets the controller decide, copies its outputs to
the pins and the PGA2311 and returns how long to sleep. `main()` is the loop the
board runs; the simulator calls `boot()` and `step()` on its virtual clock.
"""
import time

import machine
from micropython import const

from . import board as boardfile
from . import inputs, protocol
from .controller import POWER_FAIL, Controller
from .encoder import Encoder
from .pga2311 import PGA2311
from .relay import Relay
from .settings import SettingsStore

_WDT_MS = const(2000)


class App:
    def __init__(self, board, root="", console=None):
        b = board
        self.b = b
        # Muted from the first instruction: the board's pull-downs held MUTE low
        # and the relays released until now; drive them that way before anything else.
        self.mute_relay = Relay(machine.Pin(b.mute_relay.pin), b.mute_relay.active_high)
        self.pga = PGA2311(
            machine.SPI(b.spi_id, baudrate=b.spi_baudrate, polarity=0, phase=0, bits=8,
                        firstbit=machine.SPI.MSB, sck=machine.Pin(b.spi_sck),
                        mosi=machine.Pin(b.spi_mosi),
                        miso=machine.Pin(b.spi_miso) if b.spi_miso is not None else None),
            machine.Pin(b.pga_cs), mute=machine.Pin(b.pga_mute),
            zcen=machine.Pin(b.pga_zcen) if b.pga_zcen is not None else None,
            chips=len(b.pga_roles) // 2)
        # The DAC soft-mutes first and un-mutes last: XSMT, a pin, so it works in an IRQ.
        self.dac_xsmt = None
        if b.dac is not None:
            self.dac_xsmt = machine.Pin(b.dac_xsmt, machine.Pin.OUT, value=0)
            if b.dac == "pcm5122":
                from .pcm5122 import PCM5122
                self.dac = PCM5122(machine.I2C(b.dac_i2c_id, scl=machine.Pin(b.dac_scl),
                                               sda=machine.Pin(b.dac_sda)), b.dac_addr)
                self.dac.init()  # unity digital volume: the PGA2311 sets the level
                self.dac.mute(False)  # muting is XSMT's job: a pin works in an IRQ, I2C not
        self.power_ok = True
        if b.power_sense is not None:
            self._sense = machine.Pin(b.power_sense, machine.Pin.IN)
            self._sense.irq(self._power_fail_isr, machine.Pin.IRQ_FALLING, hard=True)
            if not self._sense.value():
                self._power_fail_isr(self._sense)
        # The chip's state after a reset is never assumed: send mute codes now.
        self.pga.set_codes(bytearray(2 * self.pga.chips))

        now = time.ticks_ms()
        self.gain_relay = self._relay(b.gain_relay)
        self.output_relay = self._relay(b.output_relay)
        self._btn_pin = machine.Pin(b.button, machine.Pin.IN, machine.Pin.PULL_UP)
        self.button = inputs.Button(self._btn_pin.value(), 0, b.debounce_ms, b.long_press_ms)
        self._gain_pin = self._switch_pin(b.gain_switch)
        self._out_pin = self._switch_pin(b.output_switch)
        self.gain_sw = self._debounced(self._gain_pin)
        self.out_sw = self._debounced(self._out_pin)

        self.store = SettingsStore(root + "settings.json", b)
        s = self.store.load()
        gain = self._gain_from_switch() if self._gain_pin else s["gain"]
        output = self._output_from_switch() if self._out_pin else s["output"]
        self.ctl = Controller(b, s, gain, output, now)
        if b.decoder == "pio":
            from .pio_encoder import PIOEncoder  # only boards that count with PIO load it
            self.encoder = PIOEncoder(b.pio_sm, machine.Pin(b.enc_a), machine.Pin(b.enc_b),
                                      b.edges_per_detent, time.ticks_ms)
        else:
            # Same interface as PIOEncoder: take() and last_ms.
            self.encoder = Encoder(machine.Pin(b.enc_a), machine.Pin(b.enc_b),  # type: ignore[assignment]
                                   b.edges_per_detent)
        self.console = console
        self.lines = protocol.LineReader()
        self.session = protocol.Session()
        self._told = -1  # ctl.changes when the host last heard the state
        self.wdt = machine.WDT(timeout=_WDT_MS)
        self._apply()

    def _relay(self, r):
        return Relay(machine.Pin(r.pin), r.active_high) if r is not None else None

    def _switch_pin(self, gpio):
        return machine.Pin(gpio, machine.Pin.IN, machine.Pin.PULL_UP) if gpio is not None else None

    def _debounced(self, pin):
        return inputs.Debounced(pin.value(), self.b.debounce_ms) if pin is not None else None

    def _gain_from_switch(self):
        level = self.gain_sw.level if self.gain_sw else self._gain_pin.value()
        return boardfile.GAIN_HIGH if level == self.b.gain_switch_high_level else boardfile.GAIN_LOW

    def _output_from_switch(self):
        level = self.out_sw.level if self.out_sw else self._out_pin.value()
        if level == self.b.output_switch_balanced_level:
            return boardfile.OUTPUT_BALANCED
        return boardfile.OUTPUT_SE

    def _power_fail_isr(self, pin):
        # Hard IRQ: pin writes only. Mute the DAC and the PGA and drop the mute relay
        # now; the main loop tells the controller, which keeps everything muted.
        if self.dac_xsmt is not None:
            self.dac_xsmt.value(0)
        self.pga.mute(True)
        self.mute_relay.set(False)
        self.power_ok = False

    def step(self):
        """One pass of the main loop; returns the milliseconds to sleep."""
        now = time.ticks_ms()
        ctl = self.ctl
        if not self.power_ok:
            if ctl.phase != POWER_FAIL:
                ctl.power_fail(now)
            elif self._sense.value():
                # The supply came back before the MCU lost power: the analog rails
                # dipped and the PGA2311 may have reset. Start again, muted, from boot.
                machine.reset()
        else:
            d = self.encoder.take()
            if d:
                ctl.turn(d, self.encoder.last_ms)
            ev = self.button.update(self._btn_pin.value(), now)
            if ev == inputs.CLICK:
                ctl.click(now)
            elif ev == inputs.LONG_PRESS:
                ctl.long_press(now)
            if self.gain_sw and self.gain_sw.update(self._gain_pin.value(), now):
                ctl.set_gain(self._gain_from_switch(), now)
            if self.out_sw and self.out_sw.update(self._out_pin.value(), now):
                ctl.set_output(self._output_from_switch(), now)
            ctl.tick(now)
        if self.console is not None:
            self._serve(now)
        self._apply()
        if ctl.save_due(now) and self.power_ok:
            self.store.save(*ctl.persistent())
            ctl.saved()
        self.wdt.feed()
        return ctl.next_wake(now)

    def quiet(self):
        """Mute every stage in the controller's order, waiting as it says; then the
        settings a stop would lose. For when the main loop cannot go on."""
        ctl = self.ctl
        for stage, wait_ms in ctl.quiet_sequence():
            if stage == "dac":
                if self.dac_xsmt is not None:
                    self.dac_xsmt.value(0)
            elif stage == "pga":
                self.pga.mute(True)
                self.pga.set_codes(bytearray(2 * self.pga.chips))
            else:
                self.mute_relay.set(False)
            if wait_ms:
                time.sleep_ms(wait_ms)
        if ctl.save_before_stop(self.power_ok):
            self.store.save(*ctl.persistent())
            ctl.saved()

    def _serve(self, now):
        """Answer the host's commands (a bounded number of bytes per pass), push changes."""
        con = self.console
        for _ in range(64):
            b = con.read_byte()
            if b is None:
                break
            line = self.lines.feed(b)
            if line is None:
                continue
            if isinstance(line, bytes):
                con.write_line('{"ok": false, "error": "%s"}' % line.decode())
            else:
                con.write_line(protocol.handle(self.session, self.ctl, line, now))
        if self.ctl.changes != self._told and self.session.monitoring:
            con.write_line(protocol.state_json(self.ctl, '"event": "state", '))
        self._told = self.ctl.changes

    def _apply(self):
        """Copy the controller's outputs to the hardware, in the order that never pops."""
        ctl = self.ctl
        if not self.power_ok:
            return
        # Muting goes DAC, PGA, relay; unmuting relay, PGA, DAC.
        xsmt = self.dac_xsmt
        if ctl.dac_mute and xsmt is not None:
            xsmt.value(0)
        if ctl.pga_mute:
            self.pga.mute(True)
        self.pga.set_codes(ctl.codes)
        if self.mute_relay.on != ctl.mute_relay:
            self.mute_relay.set(ctl.mute_relay)
        # Written out, not looped over a tuple of pairs: the main loop allocates nothing.
        relay = self.gain_relay
        if relay is not None and relay.on != (ctl.gain_relay == 1):
            relay.set(ctl.gain_relay == 1)
        relay = self.output_relay
        if relay is not None and relay.on != (ctl.output_relay == 1):
            relay.set(ctl.output_relay == 1)
        if not ctl.pga_mute:
            self.pga.mute(False)
        if not ctl.dac_mute and xsmt is not None:
            xsmt.value(1)


def boot(root="", console=None):
    """Load the board file and start the app (raises BoardError on a bad board)."""
    return App(boardfile.load(root + "board.json"), root, console)


def run(app):
    """The main loop; any exception out of it (KeyboardInterrupt too: mpremote's Ctrl-C)
    first makes the amplifier quiet, in order, and keeps unsaved settings."""
    try:
        while True:
            time.sleep_ms(app.step())
    except BaseException:  # noqa: B036 - quiet first, whatever it is, then let it go on
        app.quiet()
        raise


def main():
    from .console import UsbConsole
    run(boot(console=UsbConsole()))
