"""A Headroom board around the emulated RP2040, from a board file.

    b = Rp2Board(uf2, "boards/pico-se.json", image="flash.img", port_link="/tmp/x/ttyACM0")
    b.start()                      # power on: emulated time 0 was the first instruction
    b.gain_switch.set(True)        # close the gain switch's contact now
    b.wait_level(b.relay_pin("mute"), 1, until_us=b.now_us + 100_000)

What is wired, as on the board:

- the supply monitor's output (`power_sense`) held high: the supply is good; the I2C
  bus's SDA and SCL held high by their pull-ups;
- the encoder's A and B, the push button and the toggle switches as contacts to GND
  (`controls`), open at power-on unless `closed=` names some;
- SPI0's PGA2311 chain (`buses.SpiCapture`) and, for a `pcm5122` board, the DAC on I2C
  (`pcm5122.FakePCM5122`, `dac=False` for none answering);
- the board file's `display` on I2C (`oled.OledTarget`: the simulator's SSD1306 or
  SH1106 model decoding the bytes into the panel's pixels), on its own bus or beside
  the DAC on the DAC's: one `buses.I2cBus` per I2C block, with every target on it;
- the USB serial port (`usbport.UsbPort`): a pseudo-terminal at `port_link` if given;
- a board file with `wifi` (a Pico W's): rp2040py's `pico_w`, its CYW43439 on GP23-25
  and GP29 (`wifi_pins`, not recorded) and its fake access point (docs/rp2-tier.md).

What is recorded, in emulated µs since power-on: `pins` (every GPIO level the MCU drives:
(t, gpio, 1|0|None), None when it stops driving it), `inputs` (the contacts),
`spi.frames` (with CS times and decoded PGA2311 codes), `i2c.transactions` (the DAC's
bus, else the display's; `i2c_buses` by block), `display` (the panel: `lit()`,
`level()`, `last_us`), `resets`,
`faults` (a part misused), and `encoder_reads`: (t, count) each time the CPU takes a
count from the encoder's PIO state machine (its RX FIFO), which tells which frame
carries which detent.

**The PIO clock.** The firmware's encoder program runs at the full 125 MHz, and
rp2040py 0.3.6 then spends most of its time stepping it (60x slower than real time
instead of 15x; 1.0's C++ PIO costs far less: power-on to playing took 1.45 times the
wall time at the full clock). `pio_clkdiv` (default 64) divides that state machine's clock once the firmware
has started it: it then samples A and B every 4-6 µs instead of every 90 ns, still
hundreds of times faster than the fastest contact edge here (1.25 ms apart at 200
detents/s), and the main loop's read of the count waits up to 6 µs for the next push.
`pio_clkdiv=1` keeps the real clock (the calibration does, for its figures).

**A driven pin reads back its level.** On the RP2040 a GPIO's input buffer sees the pad
whatever drives it, so `Pin(n).value()` on an output reads the level it drives (boot.py
relies on this to tell which outputs a soft reset left live). rp2040py 1.0 models that;
0.3.6's GPIO_IN only reflects what drives the pin from outside, so there the board feeds
every level the MCU drives on a SIO pin back into the pad, and lets go (to the pull
resistors) when it stops.

**The flash chip** takes its datasheet's typical erase and program times
(`emulator.FlashBusy`); `flash_busy=False` leaves them out (installing the firmware is
then a minute faster).

**The USB host** sends an OUT packet only when it has bytes, as a PC does
(`pchost.PcHost`, `host`); `pc_host=False` keeps rp2040py's own host (on 0.3.6 an empty
packet after every arming of the endpoint, a flood that takes about 20 % of the CPU).
"""
import json

from .buses import I2cBus, SpiCapture
from .controls import Contact, Encoder
from .emulator import Emulator
from .oled import OledTarget
from .pcm5122 import FakePCM5122
from .seams import FUNCTION_SIO, OWN_DRIVE_READS_BACK, WindowTap
from .usbport import UsbPort

POLL_PIO_NS = 1_000_000   # look for the firmware's state machine every 1 ms (emulated)
PIO_KEYS = (0x50200, 0x50300)   # PIO0's and PIO1's windows in the chip's peripheral table
PIO_RXF0 = 0x020                # SM0's RX FIFO; SMn's is 4n further


class RxLog(WindowTap):
    """A PIO block's window that notes what the CPU takes out of one state machine's RX
    FIFO, and when: (t_us, word) in `log`."""

    def __init__(self, board, pio, sm):
        WindowTap.__init__(self, board.mcu, PIO_KEYS[pio])
        self.board = board
        self.fifo = board.mcu.pio[pio].machines[sm].rx_fifo
        self.rxf = PIO_RXF0 + 4 * sm

    def read_uint32(self, offset):
        if offset != self.rxf or not self.fifo.item_count:
            return self.block.read_uint32(offset)
        v = self.block.read_uint32(offset)
        self.board.encoder_reads.append((self.board.now_us, v))
        return v


class Rp2Board(Emulator):
    def __init__(self, uf2, board_path, image=None, port_link=None, dac=True, closed=(),
                 pio_clkdiv=64, flash_busy=True, pc_host=True):
        with open(board_path) as f:
            spec = json.load(f)
        # A board file with `wifi` is a Pico W's: rp2040py's pico_w, with its CYW43439.
        Emulator.__init__(self, uf2, image, flash_busy, pc_host,
                          rp2_board="pico_w" if spec.get("wifi") else "pico")
        self.spec = spec
        self.board_path = board_path
        self.port_link = port_link
        self.dac_present = dac
        self.closed_at_start = tuple(closed)
        self.pio_clkdiv = pio_clkdiv
        self.pins = []
        self.inputs = []
        self.faults = []
        self._levels = {}
        self._fed_back = set()    # pins whose pad reads the MCU's own drive (_loop_back)
        s = self.spec
        self.chips = len(s["pga2311"]["chips"])
        self.xsmt = s.get("dac", {}).get("xsmt")
        self.pga_mute = s["pga2311"].get("mute")
        self.pga_cs = s["pga2311"]["cs"]

    # ---- the board file
    def relay(self, name):
        return self.spec["relays"].get(name)

    def relay_pin(self, name):
        return self.spec["relays"][name]["pin"]

    def relay_level(self, name, energized=True):
        """The pin level that energizes (or releases) relay `name`."""
        high = self.spec["relays"][name].get("active_high", True)
        return int(high) if energized else int(not high)

    @property
    def wifi_pins(self):
        """A Pico W's GPIOs wired to its CYW43439 (WL_ON, data, CS, clock: the gSPI bus
        rp2040py's chip model listens to), not recorded: a clock edge each bit."""
        return (23, 24, 25, 29) if self.rp2_board == "pico_w" else ()

    @property
    def timing(self):
        return self.spec["timing"]

    # ---- wiring, before the first instruction
    def _wire(self):
        mcu = self.mcu
        s = self.spec
        self.port = UsbPort(self, self.port_link)
        self.dev.cdc.on_serial_data = self.port.from_board
        for g in range(30):
            if g in self.wifi_pins:
                continue
            mcu.gpio[g].add_listener(lambda new, old, g=g: self._pin(g, new))
        ps = s.get("power_sense")
        if ps:
            mcu.gpio[ps["pin"]].set_input_value(True)
        self.spi = SpiCapture(self, s["spi"]["id"], self.pga_cs, self.chips)
        # One I2cBus per I2C block, with every target the board file puts on it (the
        # PCM5122 and the display may share one); `i2c` is the DAC's, else the display's.
        self.i2c_buses = {}
        self.i2c = None
        self.pcm5122 = None
        self.display = None
        self.display_bus = None
        self.display_addr = None
        dac = s.get("dac", {})
        if dac.get("chip") == "pcm5122":
            self.i2c = self._i2c_bus(dac["i2c"])
            self.pcm5122 = FakePCM5122(self.dac_present)
            if self.dac_present:
                self.i2c.targets[dac.get("addr", 0x4C)] = self.pcm5122
        disp = s.get("display")
        if disp and disp.get("i2c"):
            bus = self._i2c_bus(disp["i2c"])
            self.i2c = self.i2c or bus
            self.display_bus = bus
            self.display_addr = disp.get("addr", 0x3C)
            self.display = OledTarget(self, disp["chip"], disp.get("addr", 0x3C),
                                      disp.get("width", 128), disp.get("height", 64))
            bus.targets[disp.get("addr", 0x3C)] = self.display
        enc = s["encoder"]
        self.encoder = Encoder(self, enc["a"], enc["b"])
        self.button = Contact(self, s["button"]["pin"], "button")
        gs = s.get("gain_switch")
        self.gain_switch = None
        if gs and "low_pin" in gs:   # three positions: its two throws, (low, high)
            self.gain_switch = (Contact(self, gs["low_pin"], "gain switch low"),
                                Contact(self, gs["high_pin"], "gain switch high"))
        elif gs:
            self.gain_switch = Contact(self, gs["pin"], "gain switch")
        self.output_switch = Contact(self, s["output_switch"]["pin"], "output switch") \
            if s.get("output_switch") else None
        for name in self.closed_at_start:
            getattr(self, name).schedule(0, True)
        self.encoder_reads = []
        if enc.get("decoder", "pio") == "pio":
            sm_id = self.spec["encoder"].get("pio_sm", 4)
            RxLog(self, sm_id // 4, sm_id % 4)
            if self.pio_clkdiv != 1:
                self.sched.at_ns(POLL_PIO_NS, self._slow_pio)

    def _i2c_bus(self, wiring):
        """The I2cBus of block `wiring["id"]`, made once, with its 4.7 k pull-ups: SDA and
        SCL read high while nobody pulls them low (the firmware reads SDA before it uses
        the bus, to tell a stuck bus)."""
        bus = self.i2c_buses.get(wiring["id"])
        if bus is None:
            for role in ("sda", "scl"):
                self.mcu.gpio[wiring[role]].set_input_value(True)
            bus = self.i2c_buses[wiring["id"]] = I2cBus(self, wiring["id"])
        return bus

    def _encoder_sm(self):
        sm_id = self.spec["encoder"].get("pio_sm", 4)
        return self.mcu.pio[sm_id // 4].machines[sm_id % 4]

    def _slow_pio(self):
        sm = self._encoder_sm()
        if sm.read_uint32(0) == 1 << 16:   # CLKDIV: integer part 1, no fraction
            sm.write_uint32(0, self.pio_clkdiv << 16)
        self.sched.at_ns(self.clock.nanos + POLL_PIO_NS, self._slow_pio)

    def _pin(self, g, state):
        v = int(state)
        level = v if v in (0, 1) else None
        if self._levels.get(g, None) == level:
            return
        self._levels[g] = level
        self.pins.append((self.now_us, g, level))
        self._loop_back(g, level)
        self.changed()

    def _loop_back(self, g, level):
        if OWN_DRIVE_READS_BACK:
            return
        pin = self.mcu.gpio[g]
        if level is not None and pin.function_select == FUNCTION_SIO:
            pin.set_input_value(bool(level))
            self._fed_back.add(g)
        elif level is None and g in self._fed_back:
            self._fed_back.discard(g)
            pin.release_input()

    def _chip_reset(self):
        # Every GPIO goes back to an input; the emulator does not report that as a change.
        t = self.now_us
        for g, level in list(self._levels.items()):
            if level is not None:
                self._levels[g] = None
                self.pins.append((t, g, None))
        for g in list(self._fed_back):
            self._loop_back(g, None)
        self.port.unplug()

    def _usb_up(self):
        self.port.plug_in()

    def fault(self, t_us, message):
        self.faults.append((t_us, message))
        self.changed()

    def stop(self):
        if self.loop is not None and self.alive():
            try:
                self.call(self.port.close)
            except Exception:  # noqa: S110 - the board is going anyway
                pass
        Emulator.stop(self)

    # ---- what was recorded
    def level(self, gpio):
        """The level the MCU drives on `gpio` now (None: not driving it)."""
        return self._levels.get(gpio)

    def changes(self, gpio, after_us=-1.0):
        return [(t, v) for t, g, v in list(self.pins) if g == gpio and t > after_us]

    def first_change(self, gpio, level, after_us=-1.0):
        """When `gpio` first went to `level` after `after_us` (None: not yet)."""
        for t, g, v in list(self.pins):
            if g == gpio and v == level and t > after_us:
                return t
        return None

    def frames_after(self, t_us):
        return [f for f in list(self.spi.frames) if f.t_low > t_us]

    def codes_at(self, t_us):
        """The PGA2311 codes latched last at or before t_us (None: none sent yet)."""
        codes = None
        for f in list(self.spi.frames):
            if f.t_high > t_us:
                break
            if f.codes is not None:
                codes = f.codes
        return codes

    # ---- waiting for it
    def wait_level(self, gpio, level, after_us=-1.0, until_us=None):
        """When `gpio` goes to `level` after `after_us`; None if not by `until_us`."""
        return self.wait(lambda: self.first_change(gpio, level, after_us), until_us,
                         what="GPIO %d going to %s" % (gpio, level))

    def wait_frame(self, after_us, pred=lambda f: True, until_us=None):
        """The first SPI frame after `after_us` that `pred` accepts."""
        def found():
            for f in self.frames_after(after_us):
                if pred(f):
                    return f
            return None
        return self.wait(found, until_us, what="a PGA2311 frame")

    def wait_spi_quiet(self, quiet_ms, until_us):
        """Until no frame has gone out for `quiet_ms` (a ramp has ended); the time of the
        last frame, or None if the bus was still busy at `until_us`."""
        q = quiet_ms * 1000.0
        while True:
            last = self.spi.frames[-1].t_high if self.spi.frames else 0.0
            if self.now_us >= last + q:
                return last
            if self.now_us >= until_us:
                return None
            self.run_until_us(min(last + q, until_us))

    def wait_display_quiet(self, quiet_ms, until_us):
        """Until nothing has gone to the display for `quiet_ms` (longer than the firmware's
        look interval, 100 ms: it has nothing left to send); the time of the last write,
        or None if it was still sending at `until_us`."""
        q = quiet_ms * 1000.0
        while True:
            last = self.display.last_us or 0.0
            if self.now_us >= last + q:
                return last
            if self.now_us >= until_us:
                return None
            self.run_until_us(min(last + q, until_us))

    def shown(self):
        """(tenths of a dB, unit, muted) the display's panel shows now, or None."""
        return self.call(self.display.level)

    def wait_playing(self, until_us):
        """Until the output is live (mute relay energized, XSMT high) and the fade-in has
        ended; the time the fade-in's last frame went out. EmulatorError if not by
        `until_us`."""
        from .emulator import EmulatorError
        mute = self.relay_pin("mute")
        on = self.relay_level("mute")
        pins = [(mute, on)] + ([(self.xsmt, 1)] if self.xsmt is not None else [])
        for gpio, level in pins:
            if self.wait(lambda gpio=gpio, level=level: self.level(gpio) == level, until_us,
                         what="GPIO %d at %d" % (gpio, level)) is not True:
                raise EmulatorError("GPIO %d not at %d by %.0f ms" % (gpio, level, until_us / 1000))
        last = self.wait_spi_quiet(100, until_us)
        if last is None:
            raise EmulatorError("the fade-in had not ended by %.0f ms" % (until_us / 1000))
        return last
