"""Drop-in `machine` for the simulated RP2040, with the rp2 port's signatures and constants.

Checked against micropython-rp2-rpi-pico-stubs: Pin, SPI, I2C, I2S (stub), Timer,
WDT and the module functions the firmware may call. An object acts on the
simulated board it was made on (the one running then); a module-level function on the
board whose code runs now (`headroom.sim.world.running`).
"""
from headroom.sim import world as _world
from headroom.sim.shims.machine_timers import WDT, Timer, mem32  # noqa: F401
from headroom.sim.shims.shimbase import UNSET as _UNSET
from headroom.sim.shims.shimbase import busy as _busy
from headroom.sim.shims.shimbase import running_sim as _sim

PWRON_RESET = 1
WDT_RESET = 3

# clk_peri, which clocks SPI: 48 MHz (from the USB PLL) since MicroPython 1.24; before,
# it ran from clk_sys (125 MHz).
_CLK_PERI = 48000000


def _gpio_id(id):
    if isinstance(id, Pin):
        return id.id
    if isinstance(id, str):
        if id == "LED":
            return 25
        if id.startswith("GP") and id[2:].isdigit():
            id = int(id[2:])
        else:
            raise ValueError("unknown named pin \"%s\"" % id)
    if not isinstance(id, int) or not 0 <= id < _world.N_GPIO:
        raise ValueError("invalid pin")
    return id


class _PinIRQ:
    def __init__(self, g):
        self._g = g

    def flags(self):
        return 0

    def trigger(self, trigger=None):
        return self._g.trigger


class Pin:
    IN = 0
    OUT = 1
    OPEN_DRAIN = 2
    ALT = 3
    PULL_UP = 1
    PULL_DOWN = 2
    IRQ_FALLING = 4
    IRQ_RISING = 8
    ALT_SPI = 1
    ALT_UART = 2
    ALT_PWM = 4
    ALT_SIO = 5

    # rp2 (ports/rp2/machine_pin.c): Pin(id, mode, pull, *, value, alt) with no `drive`;
    # no mode() or pull() methods; irq() without `priority` or `wake`. The stubs allow
    # them, so only this shim can refuse them before a board does.
    def __init__(self, id, *args, **kw):
        self.id = _gpio_id(id)
        self._s = _sim()          # the board it was made on
        if args or kw:            # Pin(id) alone changes nothing
            self.init(*args, **kw)

    def init(self, mode=None, pull=None, *, value=None, alt=None):
        """Like rp2: a mode left out (None) stays, a pull left out (None) is cleared."""
        if mode not in (None, Pin.IN, Pin.OUT, Pin.OPEN_DRAIN, Pin.ALT):
            raise ValueError("invalid pin mode")
        if pull not in (None, 0, Pin.PULL_UP, Pin.PULL_DOWN):
            raise ValueError("invalid pull")
        s = self._s
        _busy(s)
        if mode == Pin.ALT:
            if alt is None:
                raise ValueError("alt function required")   # rp2's words
            if alt != Pin.ALT_PWM:
                s.fault("Pin(%d, Pin.ALT, alt=%d): the simulator models PWM (alt=%d) only, "
                        "as a slice's B input" % (self.id, alt, Pin.ALT_PWM))
        t = s.sim_enter()
        try:
            s.spi_release_pin(self.id)
            if mode == Pin.ALT:
                # A B input of its slice (the model faults if the slice would drive it):
                # the MCU no longer drives the pad.
                s.mcu_set(self.id, mode=Pin.IN, pull=pull or None)
                # Imported when first used: the VM loads the shims first.
                from headroom.sim import pwm
                pwm.block(s).pin_function(self.id)
            else:
                if mode is not None and "pwm" in s.peripherals:
                    s.peripherals["pwm"].pin_other(self.id)
                s.mcu_set(self.id, mode=mode, out=value, pull=pull or None)
        finally:
            s.sim_exit(t)

    def value(self, x=None):
        s = self._s
        _busy(s)
        if x is None:
            g = s.gpio[self.id]
            if g.mode == Pin.OUT:
                return g.out  # rp2 reads the pad, which follows the output
            return g.read()
        t = s.sim_enter()
        s.mcu_set(self.id, out=x)
        s.sim_exit(t)
        return None

    def __call__(self, x=None):
        return self.value(x)

    def on(self):
        self.value(1)

    def off(self):
        self.value(0)

    def high(self):
        self.value(1)

    def low(self):
        self.value(0)

    def toggle(self):
        g = self._s.gpio[self.id]
        self.value(1 - g.out)

    def irq(self, handler=None, trigger=IRQ_FALLING | IRQ_RISING, *, hard=False):
        if trigger & ~(Pin.IRQ_FALLING | Pin.IRQ_RISING):
            raise ValueError("invalid trigger")
        s = self._s
        _busy(s)
        g = s.gpio[self.id]
        g.handler = handler
        g.handle = self
        g.trigger = trigger if handler is not None else 0
        g.hard = bool(hard)
        return _PinIRQ(g)

    def __eq__(self, other):
        return isinstance(other, Pin) and other.id == self.id

    def __hash__(self):
        return self.id

    def __repr__(self):
        return "Pin(GPIO%d)" % self.id


def _spi_baudrate(want):
    """The rate the RP2040 really gives (pico-sdk 2.x spi_set_baudrate: never above `want`)."""
    prescale = 2
    while prescale <= 254:
        if _CLK_PERI < prescale * 256 * want:
            break
        prescale += 2
    postdiv = 256
    while postdiv > 1:
        if _CLK_PERI // (prescale * (postdiv - 1)) > want:
            break
        postdiv -= 1
    return _CLK_PERI // (prescale * postdiv)


class SPI:
    MSB = 1
    LSB = 0
    _DEFAULT_PINS = ((18, 19, 16), (10, 11, 8))  # Pico: (sck, mosi, miso) of SPI0, SPI1

    def __init__(self, id, baudrate=1000000, *, polarity=0, phase=0, bits=8, firstbit=MSB,
                 sck=None, mosi=None, miso=_UNSET):
        if not isinstance(id, int) or not 0 <= id <= 1:
            raise ValueError("SPI(%s) doesn't exist" % (id,))
        self.id = id
        self._s = _sim()
        d = SPI._DEFAULT_PINS[id]
        self.sck, self.mosi, self.miso = d
        if miso is None and self._s.micropython >= (1, 25):
            self.miso = None       # 1.25+: None means no MISO pin at all
        for name, p, role in (("SCK", sck, 2), ("MOSI", mosi, 3), ("MISO", miso, 0)):
            if p is None or p is _UNSET:
                continue    # left out (or None before 1.25): the block's default pin
            n = _gpio_id(p)
            if n & 3 != role or (n >> 3) & 1 != id:
                raise ValueError("bad %s pin" % name)
            setattr(self, name.lower(), n)
        self.baudrate = self.polarity = self.phase = self.bits = self.firstbit = None
        self.init(baudrate=baudrate, polarity=polarity, phase=phase, bits=bits, firstbit=firstbit)
        # Like the rp2 port, the peripheral takes its pins, the default MISO when not given.
        self._s.spi_claim(self)

    def init(self, baudrate=-1, *, polarity=-1, phase=-1, bits=-1, firstbit=-1):
        """Like rp2: only the arguments given change."""
        if firstbit == SPI.LSB:
            raise NotImplementedError("LSB")
        if baudrate != -1:
            self.requested_baudrate = baudrate
            self.baudrate = _spi_baudrate(baudrate)
        if polarity != -1:
            self.polarity = polarity
        if phase != -1:
            self.phase = phase
        if bits != -1:
            self.bits = bits
        if firstbit != -1:
            self.firstbit = firstbit

    def deinit(self):
        pass

    def _transfer(self, data, into):
        s = self._s
        if s.in_firmware:
            s.charge(s.cost.spi(len(data), self.baudrate))
        elif s.safe_point is not None:
            s.safe_point()
        t = s.sim_enter()
        s.spi_transfer(self, bytes(data), into)
        s.sim_exit(t)

    def write(self, buf):
        self._transfer(buf, None)

    def read(self, nbytes, write=0x00):
        out = bytearray(nbytes)
        self._transfer(bytes([write]) * nbytes, out)
        return bytes(out)

    def readinto(self, buf, write=0x00):
        self._transfer(bytes([write]) * len(buf), buf)

    def write_readinto(self, write_buf, read_buf):
        if len(write_buf) != len(read_buf):
            raise ValueError("buffers must be the same length")
        self._transfer(write_buf, read_buf)

    def __repr__(self):
        # 1.25+ prints "miso=None" for no MISO pin (read from the 1.26.1 UF2's strings)
        return "SPI(%d, baudrate=%d, polarity=%d, phase=%d, bits=%d, sck=%d, mosi=%d, miso=%s)" % (
            self.id, self.baudrate, self.polarity, self.phase, self.bits,
            self.sck, self.mosi, self.miso)


class I2C:
    _SDA = ((0, 4, 8, 12, 16, 20, 24, 28), (2, 6, 10, 14, 18, 22, 26))

    def __init__(self, id, *, scl=None, sda=None, freq=400000, timeout=50000):
        if not isinstance(id, int) or not 0 <= id <= 1:
            raise ValueError("I2C(%s) doesn't exist" % (id,))
        self.id = id
        self._s = _sim()
        self.scl = _gpio_id(scl) if scl is not None else (5 if id == 0 else 7)
        self.sda = _gpio_id(sda) if sda is not None else (4 if id == 0 else 6)
        if self.sda not in I2C._SDA[id]:
            raise ValueError("bad SDA pin")
        if self.scl - 1 not in I2C._SDA[id]:
            raise ValueError("bad SCL pin")
        self.freq = freq
        self.timeout_us = timeout

    def _dev(self, addr, nbytes=1):
        s = self._s
        if s.in_firmware:
            s.charge(s.cost.i2c(nbytes, self.freq))
        elif s.safe_point is not None:
            s.safe_point()
        if 0 in s.gpio[self.sda].drivers.values():
            # SDA held low from outside: no START can be made; rp2 gives up after the
            # time-out (50 ms by default) with ETIMEDOUT.
            if s.in_firmware:
                s.charge(self.timeout_us)
            raise OSError(110)
        dev = s.i2c_device(self.id, addr)
        if dev is None:
            raise OSError(5)  # EIO: no acknowledge
        return dev

    def scan(self):
        return self._s.i2c_scan(self.id)

    # The transfers run inside sim_enter/sim_exit: what the models allocate is the
    # simulator's (make bench takes it out); a reply the port makes as a new bytes
    # object (readfrom, readfrom_mem) is made outside, as rp2 allocates it too.
    def _transfer(self, addr, wire, write=None, read=None, into=None, memaddr=None):
        """`wire` bytes on the bus (the cost); `memaddr` and `write` sent, then `read`
        bytes read (returned) or `into` filled."""
        s = self._s
        t = s.sim_enter()
        try:
            dev = self._dev(addr, wire)
            if memaddr is not None:
                s.i2c_write(self.id, addr, dev,
                            bytes([memaddr]) + (bytes(write) if write is not None else b""))
            elif write is not None:
                s.i2c_write(self.id, addr, dev, bytes(write))
            if into is not None:
                into[:] = s.i2c_read(self.id, addr, dev, len(into))
            elif read is not None:
                return s.i2c_read(self.id, addr, dev, read)
            return None
        finally:
            s.sim_exit(t)

    def writeto(self, addr, buf, stop=True):
        self._transfer(addr, len(buf), buf)
        return len(buf)

    def writevto(self, addr, vector, stop=True):
        """The buffers of `vector` in one transaction (one START, one address byte)."""
        data = b"".join(bytes(b) for b in vector)
        self._transfer(addr, len(data), data)
        return len(data)

    def readfrom(self, addr, nbytes, stop=True):
        return bytes(self._transfer(addr, nbytes, read=nbytes))

    def readfrom_into(self, addr, buf, stop=True):
        self._transfer(addr, len(buf), into=buf)

    def writeto_mem(self, addr, memaddr, buf, *, addrsize=8):
        self._transfer(addr, 1 + len(buf), buf, memaddr=memaddr)

    def readfrom_mem(self, addr, memaddr, nbytes, *, addrsize=8):
        return bytes(self._transfer(addr, 2 + nbytes, read=nbytes, memaddr=memaddr))

    def readfrom_mem_into(self, addr, memaddr, buf, *, addrsize=8):
        self._transfer(addr, 2 + len(buf), into=buf, memaddr=memaddr)


class I2S:
    """rp2 I2S (PIO + DMA + ring buffer) on the virtual clock; see headroom.sim.i2s.

    The rp2 rules: id 0 or 1 (a new instance with a live id deinits the old one),
    ws = sck + 1, bits 16 or 32, no mck. write() blocks until its last byte is in the
    ring, unless irq() set a handler: then it returns at once and the handler is
    scheduled when the whole buffer has been copied in.
    """
    RX = 0
    TX = 1
    MONO = 0
    STEREO = 1

    def __init__(self, id, *, sck, ws, sd, mck=None, mode, bits, format, rate, ibuf):
        if not isinstance(id, int) or not 0 <= id < 2:
            raise ValueError("invalid id")
        self.id = id
        self._s = _sim()
        self._port = None
        self.init(sck=sck, ws=ws, sd=sd, mck=mck, mode=mode, bits=bits, format=format,
                  rate=rate, ibuf=ibuf)

    def init(self, *, sck, ws, sd, mck=None, mode, bits, format, rate, ibuf):
        if mck is not None:
            # The rp2 port is built without MICROPY_PY_MACHINE_I2S_MCK.
            raise TypeError("unexpected keyword argument 'mck'")
        sck_n = _gpio_id(sck)
        ws_n = _gpio_id(ws)
        sd_n = _gpio_id(sd)
        if ws_n != sck_n + 1:
            raise ValueError("invalid ws (must be sck+1)")
        if mode not in (I2S.RX, I2S.TX):
            raise ValueError("invalid mode")
        if bits not in (16, 32):
            raise ValueError("invalid bits")
        if format not in (I2S.MONO, I2S.STEREO):
            raise ValueError("invalid format")
        if not ibuf > 0:
            raise ValueError("invalid ibuf")
        from headroom.sim import i2s as _i2s
        s = self._s
        t = s.sim_enter()
        old = _i2s.port(s, self.id)
        if old is not None:
            old.stop()   # as rp2: the id's previous instance is deinitialised first
        self._port = _i2s.Port(s, self, self.id, sck_n, ws_n, sd_n, mode, bits, format, rate,
                               ibuf)
        s.sim_exit(t)

    def write(self, buf):
        return self._port.write(buf)

    def readinto(self, buf):
        return self._port.readinto(buf)

    def irq(self, handler):
        if handler is not None and not callable(handler):
            raise ValueError("invalid callback")
        self._port.irq(handler)

    @staticmethod
    def shift(*, buf, bits, shift):
        from headroom.sim import i2s as _i2s
        _i2s.shift(buf, bits, shift)

    def deinit(self):
        if self._port is not None:
            s = self._s
            t = s.sim_enter()
            self._port.stop()
            s.sim_exit(t)

    def __repr__(self):
        p = self._port
        return "I2S(id=%d,\nsck=%d,\nws=%d,\nsd=%d,\nmode=%d,\nbits=%d, format=%d,\nrate=%d, ibuf=%d)" % (
            self.id, p.sck, p.ws, p.sd, p.mode, p.bits, p.fmt, p.rate, p.ibuf)




def disable_irq():
    s = _sim()
    _busy(s)
    s.irq_depth += 1
    return s.irq_depth - 1


def enable_irq(state):
    s = _sim()
    s.irq_depth = state
    if s._pending_irqs:
        t = s.sim_enter()
        s.enable_irq()
        s.sim_exit(t)


def reset():
    _sim().reset_mcu("machine.reset")
    raise _world.PowerLost("machine.reset")


def soft_reset():
    reset()


def reset_cause():
    return WDT_RESET if _sim().reset_cause == "watchdog" or _sim().reset_cause == "machine.reset" \
        else PWRON_RESET


def freq(hz=None):
    return 125000000 if hz is None else None


def unique_id():
    return b"HEADROOM"


def idle():
    """Wait for an interrupt (rp2: WFE with a 1 ms time-out); for firmware that runs its
    own loop (the virtual board's main.py). The desktop simulator runs the main loop's
    sleep itself (world.Sim._step) and never gets here from it."""
    s = _sim()
    _busy(s)
    s.idle()


def lightsleep(time_ms=None):
    if time_ms is not None:
        import time
        time.sleep_ms(time_ms)


def bootloader(value=None):
    raise NotImplementedError("bootloader in the simulator")
