"""I2S on the simulated RP2040, and the wires a DAC model listens to.

The rp2 port (ports/rp2/machine_i2s.c) drives the bus from a PIO state machine fed
by two chained DMA channels, each moving one half of a 256-byte buffer. Each
half-buffer interrupt first copies up to 512 bytes of a pending non-blocking
write into the ring buffer (`ibuf` bytes, one of them always free), then refills
that half from the ring: 128 bytes of stereo data (64 of mono, each sample sent
to both channels), but only when 128 bytes are waiting; otherwise zeros go out,
and a tail shorter than 128 bytes waits in the ring for more. A blocking write
returns when its last byte is in the ring; a non-blocking one returns at once,
and its handler is scheduled (micropython.schedule, lost when the queue is full)
once the last byte has been copied in. The clocks run from the constructor to
deinit() or the MCU stopping, through silence.

Here each half-buffer interrupt is an event on the virtual clock. The audio is a
run of blocks of 128 DMA bytes (32 frames at 16 bits, 16 at 32 bits); block k
starts playing at t0 + k * 128 / (rate * frame bytes) s, and the interrupt at
its start decides block k + 1. While nothing is queued and no listener needs
more silence, the events stop ("parked") and the silence is accounted for when
anything happens again. The PIO's fractional clock divider is not modelled:
the frame rate is exactly `rate`.

A `Bus` is the three wires (BCK = sck, LRCK = sck + 1, DIN = sd): a DAC model
attaches to one by its pins (`bus(sim, sck, sd)`) and gets every frame with its
time; the bus also keeps a capture. `registry(sim).streams[id]` is the bus an I2S
instance drives. RX instances run their clocks and ring but no model feeds
them: they read zeros.
"""
from .i2s_receiver import Receiver  # noqa: F401 - the DAC models' base, from here too
from .i2s_wire import Bus, _byte_view, _decode

TX = 1
RX = 0
MONO = 0
STEREO = 1

MAX_I2S = 2
DMA_HALF = 128            # SIZEOF_HALF_DMA_BUFFER_IN_BYTES
NB_COPY = 512             # SIZEOF_NON_BLOCKING_COPY_IN_BYTES
RX_FRAME = 8              # RX always reads 32-bit stereo frames
EPERM = 1
EINVAL = 22


# ---------------------------------------------------------------- per-board registry

class Registry:
    """The I2S state of one simulated board: `sim.peripherals["i2s"]`, made on first use."""

    def __init__(self, sim):
        self.ports = {}      # id -> Port, the live instances
        self.streams = {}    # id -> the Bus that instance drives (kept after deinit)
        self.buses = {}      # (sck, sd) -> Bus
        self.pins = {}       # gpio -> (id, role), like Sim.spi_pins
        # The MCU stopped (power gone, watchdog, machine.reset): every PIO state machine
        # and DMA channel with it.
        sim.on_mcu_stop.append(lambda cause: self.stop_all())
        sim.on_soft_reset.append(self.stop_all)

    def stop_all(self):
        for p in list(self.ports.values()):
            p.stop()


def registry(sim):
    r = sim.peripherals.get("i2s")
    if r is None:
        r = sim.peripherals["i2s"] = Registry(sim)
    return r


def stop_all(sim):
    """The MCU stopped: every PIO state machine and DMA channel with it."""
    registry(sim).stop_all()


def bus(sim, sck, sd):
    """The bus on BCK = GPIO `sck`, LRCK = sck + 1, DIN = `sd` (made on first use)."""
    r = registry(sim)
    b = r.buses.get((sck, sd))
    if b is None:
        b = Bus(sim, sck, sd)
        r.buses[(sck, sd)] = b
    return b


def port(sim, id):
    return registry(sim).ports.get(id)


# ---------------------------------------------------------------- the peripheral

class Port:
    """One rp2 I2S instance (PIO state machine, two DMA channels, ring buffer)."""

    def __init__(self, sim, obj, id, sck, ws, sd, mode, bits, fmt, rate, ibuf):
        registry(sim)
        # rp2 does not check the rate, but its PIO runs 2 instructions per bit, 2 slots per
        # frame: the clock divider clk_sys / (rate * 4 * bits) must be at least 1.
        if not isinstance(rate, int) or rate <= 0 or rate * 4 * bits > 125000000:
            sim.fault("I2S%d: rate %r Hz: the PIO clock divider cannot make it" % (id, rate))
        self.sim = sim
        self.obj = obj            # the machine.I2S handed to the handler
        self.id = id
        self.sck, self.ws, self.sd = sck, ws, sd
        self.mode = mode
        self.bits = bits
        self.fmt = fmt
        self.rate = rate
        self.ibuf = ibuf
        self.stopped = False
        self.gen = sim.generation
        self.handler = None
        self.nb = None            # non-blocking request: byte view of the app buffer
        self.nb_index = 0
        self.ring = bytearray(ibuf)
        self.head = 0
        self.count = 0
        self.event = None
        self.parked = -1          # first undelivered block while parked, -1 when running
        bpf = 8 if mode == RX else bits // 4      # DMA bytes per frame
        self.block = DMA_HALF // bpf              # frames per half-buffer
        self.t0 = sim.clock.now_us
        self.k = 0
        self.pending = None       # block k + 1 as decided: array('i'), or None for zeros
        self.bus = None
        self._claim()
        registry(sim).ports[id] = self
        if mode == TX:
            self.bus = bus(sim, sck, sd)
            if self.bus.external is not None:
                sim.fault("GP%d: I2S%d drives a bus whose master is the board's external source "
                          "module (inputs.source \"external\"): its outputs and the Pico's "
                          "would fight" % (sck, id))
            if self.bus.running:
                sim.fault("GP%d: I2S%d drives a bus another I2S already drives" % (sck, id))
            registry(sim).streams[id] = self.bus
            self.bus.start(self, rate, bits)
            self.bus.deliver(0, self.block, None)   # block 0: the zeroed DMA buffer
        self._schedule(1)

    # ---- pins
    def _claim(self):
        sim = self.sim
        roles = (("SCK", self.sck), ("WS", self.ws), ("SD", self.sd))
        for role, n in roles:
            g = sim.gpio[n]
            if g.mode == 1:  # Pin.OUT
                sim.fault("GP%d was configured as an output; I2S%d took it as %s"
                          % (n, self.id, role))
            if n in sim.spi_pins:
                sim.fault("GP%d already belongs to SPI%d" % (n, sim.spi_pins[n][0]))
            owner = registry(sim).pins.get(n)
            if owner is not None and owner[0] != self.id:
                sim.fault("GP%d already belongs to I2S%d" % (n, owner[0]))
        for role, n in roles:
            registry(sim).pins[n] = (self.id, role)

    def _release(self):
        pins = registry(self.sim).pins
        for n in list(pins):
            if pins[n][0] == self.id:
                del pins[n]

    # ---- time
    def block_time(self, k):
        return self.t0 + (k * self.block * 1000000) // self.rate

    def _schedule(self, k):
        self.event = self.sim.clock.at(self.block_time(k), self._irq, k)

    def _block_now(self):
        """The last block that has started playing."""
        now = self.sim.clock.now_us
        k = ((now - self.t0) * self.rate) // (self.block * 1000000)
        while self.block_time(k + 1) <= now:
            k += 1
        while k > 0 and self.block_time(k) > now:
            k -= 1
        return k

    # ---- the ring (one byte always free, as ringbuf_available_space)
    def space(self):
        return self.ibuf - 1 - self.count

    def _push(self, src, n):
        size = self.ibuf
        tail = (self.head + self.count) % size
        first = min(n, size - tail)
        self.ring[tail:tail + first] = src[0:first]
        if n > first:
            self.ring[0:n - first] = src[first:n]
        self.count += n

    def _pop(self, n):
        size = self.ibuf
        first = min(n, size - self.head)
        out = bytes(self.ring[self.head:self.head + first])
        if n > first:
            out += bytes(self.ring[0:n - first])
        self.head = (self.head + n) % size
        self.count -= n
        return out

    # ---- the DMA interrupt at the start of block k
    def _irq(self, k):
        self.event = None
        if self.stopped:
            return
        if self.sim.generation != self.gen or not self.sim.mcu_powered:
            self.stop()
            return
        self.k = k
        if self.mode == TX:
            self.bus.deliver(k * self.block, self.block, self.pending)
            if self.nb is not None and self.handler is not None:
                self._copy_in()
            self.pending = self._feed()
        else:
            if self.space() >= DMA_HALF:
                self._push(bytes(DMA_HALF), DMA_HALF)   # no microphone modelled: zeros
            if self.nb is not None and self.handler is not None:
                self._copy_out()
        if self._may_park():
            self.parked = k + 1
        else:
            self._schedule(k + 1)

    def _may_park(self):
        if self.nb is not None:
            return False
        if self.mode == TX:
            return self.pending is None and self.count < DMA_HALF and self.bus.idle_ok()
        return self.space() < DMA_HALF

    def unpark(self):
        if self.parked < 0 or self.stopped:
            return
        self._flush_parked()
        self._schedule(self.k + 1)

    def _flush_parked(self):
        """Account for the silence sent while parked, up to the block playing now."""
        j = self._block_now()
        first = self.parked
        self.parked = -1
        if j >= first and self.mode == TX:
            # Silence went out all along; block j + 1 was decided at j's interrupt: silence too.
            self.bus.deliver(first * self.block, (j + 1 - first) * self.block, None)
        self.k = max(j, first - 1)
        self.pending = None

    def _feed(self):
        if self.count < DMA_HALF:
            return None   # underflow: the half-buffer goes out as zeros
        stereo = self.fmt == STEREO
        return _decode(self._pop(DMA_HALF if stereo else DMA_HALF // 2), self.bits, stereo)

    def _schedule_handler(self):
        # mp_sched_schedule's result is ignored by the DMA handler: a full queue loses it.
        sim = self.sim
        if self.handler is not None and len(sim.scheduled) < sim.schedule_depth:
            sim.scheduled.append((self.handler, self.obj))

    def _copy_in(self):
        rem = len(self.nb) - self.nb_index
        n = min(NB_COPY, rem)
        if self.space() >= n:
            i = self.nb_index
            self._push(self.nb[i:i + n], n)
            self.nb_index += n
            if self.nb_index >= len(self.nb):
                self.nb = None
                self._schedule_handler()

    def _rx_need(self, app_bytes):
        sample = (self.bits // 8) * (2 if self.fmt == STEREO else 1)
        return app_bytes * (RX_FRAME // sample)

    def _copy_out(self):
        rem = self._rx_need(len(self.nb) - self.nb_index)
        n = min(NB_COPY, rem)
        if self.count >= n:
            self._pop(n)
            got = n * (len(self.nb) - self.nb_index) // rem
            i = self.nb_index
            self.nb[i:i + got] = bytes(got)
            self.nb_index += got
            if self.nb_index >= len(self.nb):
                self.nb = None
                self._schedule_handler()

    # ---- the methods of machine.I2S
    def _check(self):
        if self.stopped:
            self.sim.fault("I2S%d used after deinit()" % self.id)

    # The simulator's own work inside these calls is bracketed (sim_enter/sim_exit), the
    # wait of a blocking call is not: callbacks that run meanwhile are the firmware's.
    def write(self, buf):
        self._check()
        if self.mode != TX:
            raise OSError(EPERM)
        sim = self.sim
        tok = sim.sim_enter()
        view = _byte_view(buf)
        n = len(view)
        if n and self.handler is not None:
            if self.ibuf - 1 < min(NB_COPY, n):
                sim.fault("I2S%d: ibuf of %d bytes never has room for a %d-byte "
                          "non-blocking copy: the write would never finish"
                          % (self.id, self.ibuf, min(NB_COPY, n)))
            self.nb = view
            self.nb_index = 0
            self.unpark()
        sim.sim_exit(tok)
        if n == 0 or self.handler is not None:
            return n
        done = 0
        while True:
            tok = sim.sim_enter()
            m = min(self.space(), n - done)
            if m > 0:
                self._push(view[done:done + m], m)
                done += m
                self.unpark()
            sim.sim_exit(tok)
            if done >= n:
                return n
            if self.ibuf - 1 < DMA_HALF:
                sim.fault("I2S%d: ibuf of %d bytes never holds a %d-byte DMA half-buffer: "
                          "the write would block forever" % (self.id, self.ibuf, DMA_HALF))
            self._wait()

    def readinto(self, buf):
        self._check()
        if self.mode != RX:
            raise OSError(EPERM)
        sim = self.sim
        view = _byte_view(buf)
        n = len(view)
        sample = (self.bits // 8) * (2 if self.fmt == STEREO else 1)
        if n % sample:
            raise OSError(EINVAL)
        if n == 0:
            return 0
        if self.handler is not None:
            tok = sim.sim_enter()
            self.nb = view
            self.nb_index = 0
            self.unpark()
            sim.sim_exit(tok)
            return n
        done = 0
        per = RX_FRAME // sample
        while True:
            tok = sim.sim_enter()
            m = min(self.count // per, n - done)
            if m > 0:
                self._pop(m * per)
                view[done:done + m] = bytes(m)
                done += m
                self.unpark()
            sim.sim_exit(tok)
            if done >= n:
                return n
            self._wait()

    def _wait(self):
        """Block until the next DMA interrupt (time passes, callbacks run)."""
        self.unpark()
        ev = self.event
        if ev is None:
            return
        self.sim.sleep_us(max(0, ev.t_us - self.sim.clock.now_us))
        if self.stopped:
            raise OSError(EPERM)

    def irq(self, handler):
        self._check()
        self.handler = handler
        if handler is not None and self.nb is not None:
            self.unpark()

    def stop(self):
        """deinit(), a new instance with this id, or the MCU stopping."""
        if self.stopped:
            return
        if self.parked >= 0:
            self._flush_parked()
        self.stopped = True
        if self.event is not None:
            self.event.cancel()
            self.event = None
        if self.bus is not None:
            self.bus.stop()
        self._release()
        ports = registry(self.sim).ports
        if ports.get(self.id) is self:
            del ports[self.id]


def shift(buf, bits, shift):
    """I2S.shift: each little-endian sample shifted, wrapping at `bits` as the C code's store does."""
    if bits == 16:
        size, top, mask = 2, 0x8000, 0xFFFF
    elif bits == 32:
        size, top, mask = 4, 0x80000000, 0xFFFFFFFF
    else:
        raise ValueError("invalid bits")
    mv = memoryview(buf)
    for i in range(0, len(mv) - size + 1, size):
        v = 0
        for b in range(size):
            v |= mv[i + b] << (8 * b)
        if v & top:
            v -= mask + 1
        v = (v << shift) if shift >= 0 else (v >> -shift)
        v &= mask
        for b in range(size):
            mv[i + b] = (v >> (8 * b)) & 0xFF
