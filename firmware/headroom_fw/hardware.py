"""The composition root: the board's parts, built from the board file.

One place makes every pin, bus and driver and hands them to whoever uses them
(micropython-lib style: a driver takes its bus, it does not make one). The buses are
made once and shared (`Buses`: the SPI, one I2C per id, made on first use), so a second
part on the DAC's I2C (a display) takes the same bus object. The supervised parts
(part.py) are added to the App's supervisor in the order their checks run each pass.

The order things are made in is the boot's: the outputs first, muted from their first
instruction in the muting order (the board's pull-downs held XSMT and MUTE low and the
relays released until now: XSMT, then the PGA2311's MUTE, before any relay pin), then
the relays' sense contacts and the supply monitor, armed before anything can unmute;
the inputs after the boot's clock reading (`Controls`), the knob last, after the DAC's
start (`knob`). The simulator charges every call into `machine` in that order, so the
golden traces hold it.
"""
import time

import machine
from micropython import const

from . import board as boardfile
from . import inputs
from .encoder import Encoder
from .pcm5102a import PCM5102A
from .pga2311 import PGA2311
from .relay import Relay
from .supervisor import PCM5122Part, PGAChain, RelaySense
from .supply import Supply
from .version import VERSION

I2C_TIMEOUT_US = const(5000)


class Buses:
    """The board's buses, each made once and handed to every driver on it."""

    def __init__(self, b):
        self.b = b
        self._spi = None
        self._i2c = {}
        self._spi_blocks = {}   # another SPI block, by id (a display's)

    def spi(self):
        b = self.b
        if self._spi is None:
            sck = machine.Pin(b.spi_sck)
            mosi = machine.Pin(b.spi_mosi)
            if b.spi_miso is None:
                # Left out, the block takes its default MISO pin on every release;
                # miso=None would mean that pin before 1.25 and no pin at all after.
                self._spi = machine.SPI(b.spi_id, baudrate=b.spi_baudrate, polarity=0, phase=0,
                                        bits=8, firstbit=machine.SPI.MSB, sck=sck, mosi=mosi)
            else:
                self._spi = machine.SPI(b.spi_id, baudrate=b.spi_baudrate, polarity=0, phase=0,
                                        bits=8, firstbit=machine.SPI.MSB, sck=sck, mosi=mosi,
                                        miso=machine.Pin(b.spi_miso))
        return self._spi

    def i2c(self, bus_id, scl, sda):
        """I2C `bus_id` on GPIOs scl and sda, at the board's clock for it, shared by every
        part on it. A stuck bus gives up after I2C_TIMEOUT_US, not rp2's 50 ms: the parts
        retry while the music plays (part.RETRY_US), and the longest transfer (a
        display's span) takes under 1 ms."""
        bus = self._i2c.get(bus_id)
        if bus is None:
            bus = machine.I2C(bus_id, scl=machine.Pin(scl), sda=machine.Pin(sda),
                              freq=self.b.i2c_freq[bus_id], timeout=I2C_TIMEOUT_US)
            self._i2c[bus_id] = bus
        return bus

    def spi_block(self, spi_id, sck, mosi, baudrate):
        """A second SPI block for a part of its own (a display): made once, MOSI only."""
        bus = self._spi_blocks.get(spi_id)
        if bus is None:
            bus = machine.SPI(spi_id, baudrate=baudrate, polarity=0, phase=0, bits=8,
                              firstbit=machine.SPI.MSB, sck=machine.Pin(sck),
                              mosi=machine.Pin(mosi))
            self._spi_blocks[spi_id] = bus
        return bus


def _relay(r):
    return Relay(machine.Pin(r.pin), r.active_high) if r is not None else None


def _switch_pin(gpio):
    return machine.Pin(gpio, machine.Pin.IN, machine.Pin.PULL_UP) if gpio is not None else None


class Hardware:
    """The outputs, the buses and the supply monitor, made at once (see the module)."""

    def __init__(self, b, waker):
        self.b = b
        self.buses = Buses(b)
        self.xsmt = PCM5102A(b.dac_xsmt) if b.dac is not None else None
        # The DAC's soft-mute ramp (104 samples, and the one XSMT lands in), for the
        # supply-fail IRQ to wait out before the PGA2311 cuts: no click even then.
        ramp_us = self.xsmt.mute_time_us(b.i2s_rate) if self.xsmt is not None else 0
        self.pga = PGA2311(self.buses.spi(), machine.Pin(b.pga_cs), mute=machine.Pin(b.pga_mute),
                           zcen=machine.Pin(b.pga_zcen) if b.pga_zcen is not None else None,
                           chips=len(b.pga_roles) // 2, readback=b.spi_miso is not None)
        self.mute_relay = Relay(machine.Pin(b.mute_relay.pin), b.mute_relay.active_high)
        self.gain_relay = _relay(b.gain_relay)
        self.output_relay = _relay(b.output_relay)
        # Relays with a sense contact: [name, driver, sense pin, passes it disagreed, GPIO].
        self.senses = []
        for name, r, drv in (("mute", b.mute_relay, self.mute_relay),
                             ("gain", b.gain_relay, self.gain_relay),
                             ("output", b.output_relay, self.output_relay)):
            if r is not None and r.sense is not None:
                self.senses.append([name, drv, machine.Pin(r.sense, machine.Pin.IN,
                                                           machine.Pin.PULL_UP), 0, r.sense])
        # The input's selector (a relay or a mux on GPIOs): input 0 until the controller
        # says otherwise (muted, with the other relays).
        self.selects = [Relay(machine.Pin(g), b.input_active_high) for g in b.input_select]
        # The 12 V trigger: a GPIO to a transistor stage, low (off) from here until the
        # controller says it plays.
        self.trigger = (Relay(machine.Pin(b.trigger_pin), b.trigger_active_high)
                        if b.trigger_pin is not None else None)
        self.supply = Supply(b.power_sense, self.xsmt, self.pga, self.mute_relay, ramp_us, waker)

    def parts(self, sup, now, menu=None, pairing=None):
        """The supervised parts into `sup`, in the order their checks run each pass;
        returns (the PGA2311 chain's part, the DAC's or None, the display's or None, the
        IR receiver's or None)."""
        b = self.b
        sup.add(self.supply)
        if self.senses:
            sup.add(RelaySense(self.senses))
        dac = sup.add(PCM5122Part(b, self.buses, now)) if b.dac == "pcm5122" else None
        if b.dac == "pcm5102a" and b.source == "external":
            from .clockwatch import ClockWatch  # the music's clock, where no register tells
            sup.add(ClockWatch(b.i2s_ws))
        chain = sup.add(PGAChain(self.pga, b.spi_miso, now))
        display = None
        if b.display is not None:
            from .display import Display  # only boards with a display load it
            display = sup.add(Display(b, self.buses, menu, VERSION, pairing))
        ir = None
        if b.ir_pin is not None:
            from .irrecv import IrReceiver  # only boards with a receiver load it
            # The pull-up holds the line idle (high) where no receiver is fitted; a
            # receiver's own (some 30 k) is in parallel with it, harmlessly.
            ir = sup.add(IrReceiver(machine.Pin(b.ir_pin, machine.Pin.IN, machine.Pin.PULL_UP),
                                    b.ir_pin))
        return chain, dac, display, ir

    def knob(self, waker):
        """The encoder, either decoder (knob.Knob)."""
        b = self.b
        if b.decoder == "pio":
            from .pio_encoder import PIOEncoder  # only boards that count with PIO load it
            return PIOEncoder(b.pio_sm, machine.Pin(b.enc_a), machine.Pin(b.enc_b),
                              b.edges_per_detent, time.ticks_ms, waker)
        return Encoder(machine.Pin(b.enc_a), machine.Pin(b.enc_b), b.edges_per_detent, waker)


class Controls:
    """The button and the switches: pins, debouncers, and what a position means."""

    def __init__(self, b):
        self.b = b
        self.btn_pin = machine.Pin(b.button, machine.Pin.IN, machine.Pin.PULL_UP)
        self.button = inputs.Button(self.btn_pin.value(), 0, b.debounce_ms, b.long_press_ms)
        # The gain switch's pins (one, or two for three positions), debounced as one value.
        self.gain_pins = [_switch_pin(g) for g in b.gain_switch_pins]
        self.out_pin = _switch_pin(b.output_switch)
        self.gain_sw = (inputs.Debounced(self.gain_levels(), b.debounce_ms)
                        if self.gain_pins else None)
        pin = self.out_pin
        self.out_sw = inputs.Debounced(pin.value(), b.debounce_ms) if pin is not None else None

    def gain_levels(self):
        """The gain switch's pins as one int: the first in bit 0, the second in bit 1."""
        p = self.gain_pins
        return p[0].value() | (p[1].value() << 1) if len(p) == 2 else p[0].value()  # type: ignore[union-attr]

    def gain(self):
        """GAIN_LOW, GAIN_HIGH, or GAIN_AUTO (controller.GAIN_AUTO: a three-position middle)."""
        return self.b.gain_position(self.gain_sw.level)  # type: ignore[union-attr]  # only with a switch

    def output(self):
        level = self.out_sw.level if self.out_sw else self.out_pin.value()  # type: ignore[union-attr]
        if level == self.b.output_switch_balanced_level:
            return boardfile.OUTPUT_BALANCED
        return boardfile.OUTPUT_SE
