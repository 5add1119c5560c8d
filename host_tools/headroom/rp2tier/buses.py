"""SPI0 and I2C as the board's chips see them: frames with their chip select, the PGA2311
words they carry, I2C transactions, with their emulated times (µs).

The emulator's SPI and I2C blocks hand every byte to a callback and wait for a
`complete_*` call; that call comes after the byte's wire time (8 bits at the SPI's real
baud rate, 9 bits per I2C byte at its SCL period), on the emulated clock, so a driver's
timing is the RP2040's own. rp2040py 1.0's SPI keeps a word on the wire for its time
itself (it holds an earlier reply until then), so there the capture replies at once;
on 0.3.6 it replies after the wire time.

**PGA2311** (`decode_pga`): each chip takes a 16-bit word, right-channel byte first,
MSB first, latched when CS rises; in a chain the first word shifted in ends up in the
chip farthest from the MCU. A frame that is not exactly 16 bits per chip, a CS rising in
the middle of a byte, a mode other than 0 or a clock above 6.25 MHz are recorded as
faults. MISO gives back what the chain's shift register pushes out of the last chip's
SDO (the previous frame), as the real chain does.
"""

from .seams import SPI_WIRE_TIME

PGA_MAX_HZ = 6_250_000
R_TX_EMPTY = 1 << 4         # IC_RAW_INTR_STAT.TX_EMPTY

# CLK_PERI_CTRL.AUXSRC -> Hz (the Pico's crystal and PLLs as MicroPython sets them up)
_PERI_SOURCES = {0: 125e6, 1: 125e6, 2: 48e6, 4: 12e6}


def decode_pga(data, chips):
    """Codes (left, right per chip, chip 0 nearest the MCU) from one frame's bytes, as
    the firmware lays them out; None unless the frame is exactly 16 bits per chip."""
    if len(data) != 2 * chips:
        return None
    codes = [0] * (2 * chips)
    for w in range(chips):
        chip = chips - 1 - w          # the first word shifted in ends in the far chip
        codes[2 * chip + 1] = data[2 * w]      # right byte first
        codes[2 * chip] = data[2 * w + 1]
    return codes


def pga_db(code):
    """A PGA2311 code as its gain in dB (None: mute)."""
    return None if code == 0 else 31.5 - 0.5 * (255 - code)


class Frame:
    """One SPI transaction: CS low to CS high."""

    def __init__(self, t_low):
        self.t_low = t_low            # µs: CS fell
        self.t_high = None            # µs: CS rose
        self.data = bytearray()
        self.byte_us = []             # µs: each byte started shifting out
        self.baud = None
        self.mode = None
        self.codes = None             # decoded PGA2311 codes (see decode_pga)

    def __repr__(self):
        return "Frame(%.1f..%s us, %s, codes=%s)" % (
            self.t_low, "%.1f" % self.t_high if self.t_high is not None else "?",
            bytes(self.data).hex(), self.codes)


class SpiCapture:
    """SPI `index` with a PGA2311 chain of `chips` on chip select `cs` (a GPIO)."""

    def __init__(self, board, index, cs, chips):
        self.board = board
        self.spi = board.mcu.spi[index]
        self.cs = cs
        self.chips = chips
        self.frames = []              # closed frames, in order
        self.stray = []               # (t_us, byte) clocked out with CS high
        self.current = None
        self.busy_until = 0.0         # µs: the byte in flight ends
        self.sdo = bytearray(2 * chips)  # the chain's shift register, far chip's SDO first out
        self.spi.on_transmit = self._transmit
        board.mcu.gpio[cs].add_listener(self._cs_changed)

    def baud(self):
        spi = self.spi
        if SPI_WIRE_TIME:       # 1.0: from the chip's own clock tree
            return spi.clock_frequency
        cpsdvsr = spi._clock_divisor
        if not cpsdvsr:
            return 0.0
        scr = (spi._control0 >> 8) & 0xFF
        src = (self.board.mcu.clocks.peri_ctrl >> 5) & 7
        return _PERI_SOURCES.get(src, 125e6) / (cpsdvsr * (1 + scr))

    def _transmit(self, value):
        b = self.board
        t = b.now_us
        baud = self.baud() or 1e6
        bits = self.spi.data_bits
        f = self.current
        if f is None:
            self.stray.append((t, value))
            miso = 0
        else:
            f.data.append(value & 0xFF)
            f.byte_us.append(t)
            f.baud = baud
            f.mode = self.spi.spi_mode
            if f.mode != 0:
                b.fault(t, "SPI mode %d on the PGA2311 (mode 0 only)" % f.mode)
            if baud > PGA_MAX_HZ:
                b.fault(t, "SPI at %.0f Hz, above the PGA2311's 6.25 MHz" % baud)
            miso = self.sdo[0]
            self.sdo = self.sdo[1:] + bytes([value & 0xFF])
        dt = bits * 1e9 / baud
        self.busy_until = t + dt / 1000.0
        if SPI_WIRE_TIME:
            self.spi.complete_transmit(miso)
        else:
            b.sched.at_ns(b.clock.nanos + dt, lambda: self.spi.complete_transmit(miso))

    def _cs_changed(self, new, old):
        level = _level(new)
        b = self.board
        t = b.now_us
        if level == 0 and self.current is None:
            self.current = Frame(t)
        elif level != 0 and self.current is not None:
            f = self.current
            self.current = None
            f.t_high = t
            if t < self.busy_until - 1e-6:
                b.fault(t, "PGA2311 CS rose in the middle of a byte")
            if f.data:
                f.codes = decode_pga(f.data, self.chips)
                if f.codes is None:
                    b.fault(t, "PGA2311 frame of %d bits, not %d" % (8 * len(f.data), 16 * self.chips))
                self.frames.append(f)
                b.changed()


def _level(state):
    """GPIOPinState -> 1 / 0 (driven by the MCU) or None (an input)."""
    v = int(state)
    return v if v in (0, 1) else None


class I2cTransaction:
    """START (+ RESTARTs) to STOP: [(address, "w"|"r", acked, [bytes])] segments."""

    def __init__(self, t_start):
        self.t_start = t_start
        self.t_stop = None
        self.segments = []

    def writes(self):
        return [bytes(s[3]) for s in self.segments if s[1] == "w"]

    def __repr__(self):
        return "I2C(%.1f us: %s)" % (self.t_start, ", ".join(
            "%s 0x%02x%s %s" % (s[1], s[0], "" if s[2] else " NACK", bytes(s[3]).hex())
            for s in self.segments))


class I2cBus:
    """I2C `index` with targets {7-bit address: target}; a target has start(), write(b)
    -> ack, read() -> byte and stop(). An address nobody answers is NACKed."""

    def __init__(self, board, index):
        self.board = board
        self.i2c = board.mcu.i2c[index]
        self.targets = {}
        self.transactions = []
        self.current = None
        self.target = None
        i = self.i2c
        i.on_start = self._start
        i.on_connect = self._connect
        i.on_write_byte = self._write
        i.on_read_byte = self._read
        i.on_stop = self._stop

    def bit_ns(self):
        i = self.i2c
        cycles = i.scl_low_period + i.scl_high_period
        return max(cycles, 8) * 1e9 / 125e6

    def _later(self, bits, fn):
        b = self.board
        b.sched.at_ns(b.clock.nanos + bits * self.bit_ns(), fn)

    def _start(self, repeated):
        if self.current is None:
            self.current = I2cTransaction(self.board.now_us)
        self._later(1, self.i2c.complete_start)

    def _connect(self, address, mode):
        self.target = self.targets.get(address)
        ack = self.target is not None
        rw = "r" if int(mode) == 1 else "w"
        self.current.segments.append((address, rw, ack, bytearray()))
        if ack:
            self.target.start(rw)
        self._later(9, lambda: self._connected(ack))

    def _connected(self, ack):
        self.i2c.complete_connect(ack)
        if not ack:
            self._flushed()

    def _flushed(self):
        # An abort flushes the TX FIFO, and an empty FIFO raises TX_EMPTY: the pico-sdk
        # waits for it before it reads the abort reason. rp2040py (0.3.6 and 1.0) does not
        # raise it, so the SDK times out after 50 ms and MicroPython reports ETIMEDOUT
        # where the RP2040 reports EIO at once.
        i = self.i2c
        if not i.int_raw & R_TX_EMPTY:
            i.int_raw |= R_TX_EMPTY
            i.check_interrupts()

    def _write(self, value):
        ack = self.target is not None and self.target.write(value)
        self.current.segments[-1][3].append(value)
        self._later(9, lambda: self._written(ack))

    def _written(self, ack):
        self.i2c.complete_write(ack)
        if not ack:
            self._flushed()

    def _read(self, ack):
        v = self.target.read() if self.target is not None else 0xFF
        self.current.segments[-1][3].append(v)
        self._later(9, lambda: self.i2c.complete_read(v))

    def _stop(self):
        if self.target is not None:
            self.target.stop()
        self.target = None
        t = self.current
        if t is not None:
            t.t_stop = self.board.now_us
            self.transactions.append(t)
            self.current = None
            self.board.changed()
        self._later(1, self.i2c.complete_stop)
