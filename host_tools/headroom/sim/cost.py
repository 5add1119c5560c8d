"""What the firmware's work costs in time on a real RP2040 (125 MHz, MicroPython), so that
the virtual clock moves while the firmware runs: passes run late, IRQs arrive late and
land in the middle of a pass, a flash write holds interrupts off.

Every call the firmware makes into `machine`, `rp2` or `time` is charged (the bytecode
before it, and the call itself), an SPI or I2C transfer by its bytes on the wire, a hard
IRQ by its dispatch latency, a settings write by the flash's program and erase times. The
figures are integers in microseconds, the same on CPython and the MicroPython VM (the
conformance run compares their traces byte for byte).

`CostModel()` is the default: each cost its typical value (the golden traces use it).
`CostModel(jitter=seed)` draws each cost within its measured bounds, and adds an
occasional garbage-collection stall (the property tests run in it). Where the stalls
come from is `gc`: "random" (jitter's default) puts one at a random call, on average
every GC_EVERY calls - a stress: a save, a host's `set` or a log entry do allocate,
and the collection they end in can land in any later pass; a pair (bytes per pass,
free heap) ties them to what the firmware allocates, as `make bench` measures it on
the MicroPython VM - a collection each time the passes' bytes fill the free heap, so
none at 0 B a pass (bench_latency's jitter rows); None: none. `slow=N` makes
the firmware's own work N times slower (a main-loop pass of 2 to 20 ms, to show that
nothing depends on the loop's speed). `CostModel.zero()` charges nothing: unit tests
of single parts.

Where the figures come from (README, "Cost model"): `make calibrate-rp2`, MicroPython
1.24.1's rp2 port (RPI_PICO) in the emulated RP2040 (rp2040py 0.3.6, the rp2 tier), with
this firmware; they are in `RP2` below, and tests/test_timing.py checks that the typical
model stays within 20 % of them. The model is coarse on purpose: bytecode is charged per
call, not per instruction, so CALL is a main-loop pass's time divided by its calls, and
SPI_BYTE carries the Python that loops over a frame's bytes. Flash times are the Winbond
W25Q16JV datasheet's (the Pico's flash): page program 0.4 ms typical, 3 ms maximum; 4 KB
sector erase 45 ms typical, 400 ms maximum.
"""
from .models.controls import Rng

# Measured on the rp2 tier (make calibrate-rp2, 2026-12-01, with boot.py and the A/B
# settings; µs of emulated time, (min, median, max) where three): (pico-se, pico-balanced)
# where a pair.
RP2 = {
    # boot.py's first pin write: 45,787 to main.py's first line less boot.py's 5,587 after
    # its first pin (pico-balanced: 47,916 - 5,613)
    "power_on_to_boot_py_pin": (40200, 42303),
    # main.py's first line (45,787 / 47,916) + its imports and set-up to the firmware's
    # first pin write (508,561 / 566,599, measured before boot.py, which does not change them)
    "power_on_to_firmware": (554348, 614515),
    "idle_pass": ((2094, 2099, 4760), (2338, 2342, 5426)),       # App.step(), knob at rest
    "turning_pass": ((3701, 3839, 3987), (4223, 4491, 4587)),    # App.step() that took a detent
    "set_codes": (400, 574),                  # PGA2311.set_codes(), 2 / 4 bytes, CS included
    "settings_save": (2885, 3176, 3524),      # 1.25 page programs, no erase in 8 saves
    "gc_collect": (13637, 13642, 15075),      # pico-balanced 14,333 / 14,338 / 15,885
    "encoder_irq_handler": (97, 157, 387),    # two pin reads, ticks_ms(), the decoder's step
    "hard_irq_latency": (13.6, 14.5, 134.5),  # pin edge to a hard handler's first pin write
}

# (typical, lowest, highest) in us
BOOT = (584000, 554000, 615000)       # power-on to the firmware: boot.py, main.py's imports (not charged)
BOOT_PY = (41000, 40000, 43000)       # power-on to boot.py's first pin: boot ROM, MicroPython, _boot.py
CALL = (190, 90, 380)                  # main loop: a call into machine/rp2/time, and the bytecode before it
CALL_IRQ = (40, 25, 110)               # the same in a hard IRQ handler
SPI_CALL = (20, 15, 40)                # SPI.write() around its bytes
SPI_BYTE = (100, 60, 150)              # the Python that handles each byte of a frame
I2C_CALL = (60, 40, 120)               # one I2C transaction around its bytes
IRQ_LATENCY = (14, 13, 20)             # pin edge to the first line of a hard IRQ handler
IRQ_BODY = (30, 15, 60)                # a hard IRQ's entry and exit
WAKE = (12, 8, 30)                     # machine.idle() returning on an interrupt
CONSOLE_BYTE = (6, 4, 15)              # a byte read from or written to the USB serial port
CONSOLE_POLL = (15, 10, 40)            # a poll of it (ipoll(0), the USB stack's task): estimated
FS_WORK = (2700, 2400, 3100)           # littlefs's own code in a small file write (interrupts on)
FLASH_PROG = (400, 400, 3000)          # W25Q16JV page program
FLASH_ERASE = (45000, 45000, 400000)   # W25Q16JV 4 KB sector erase
GC_PAUSE = (13600, 13600, 15900)       # a collection with the firmware's heap (jitter only)
GC_EVERY = 4000                        # gc="random": on average one collection per this many calls
PROGS_PER_WRITE = 1                    # littlefs: the file's data with its metadata commit...
EXTRA_PROG_EVERY = 4                   # ...and one more now and then: 1.25 per write measured
ERASE_EVERY = 16                       # writes per metadata-block erase (its compaction; none in 8)


class CostModel:
    def __init__(self, jitter=None, slow=1, gc="random"):
        """`jitter`: None for typical costs, else a seed: costs drawn within their bounds.
        `slow`: the bytecode between calls takes this many times as long. `gc` (jitter
        only): "random", (bytes per pass, free heap bytes) or None (the module's doc)."""
        self.rng = Rng(jitter) if jitter is not None else None
        self.enabled = True
        self.slow = slow
        self.writes = 0
        self.gc = gc if jitter is not None else None
        self.collections = 0
        self._allocated = 0

    @classmethod
    def zero(cls):
        m = cls()
        m.enabled = False
        return m

    def _draw(self, c):
        if not self.enabled:
            return 0
        if self.rng is None:
            return c[0]
        return c[1] + self.rng.below(c[2] - c[1] + 1)

    # ---- what things cost
    def boot(self):
        return BOOT[0] if self.rng is None else self._draw(BOOT)

    def boot_py(self):
        return BOOT_PY[0] if self.rng is None else self._draw(BOOT_PY)

    def call(self, in_irq=False):
        """A call into machine/rp2/time and the bytecode before it; in jitter mode now and
        then a garbage collection on top. The shims pass `sim.in_irq or sim.irq_depth`:
        True inside a hard IRQ handler (short code: CALL_IRQ), else the depth of
        machine.disable_irq() (main-loop code: CALL). `slow` makes the main loop slow,
        not IRQ handlers nor the short stretches with interrupts off."""
        if in_irq is True:
            return self._draw(CALL_IRQ)
        us = self._draw(CALL) * (1 if in_irq else self.slow)
        if self.gc == "random" and not in_irq and self.rng.below(GC_EVERY) == 0:
            self.collections += 1
            us += self._draw(GC_PAUSE)
        return us

    def pass_end(self):
        """A main-loop pass ended: with `gc` a (bytes per pass, free heap) pair, its bytes
        are counted, and a collection's time returned once they fill the free heap."""
        if not isinstance(self.gc, tuple):
            return 0
        per_pass, free = self.gc
        self._allocated += per_pass
        if self._allocated < free:
            return 0
        self._allocated = 0
        self.collections += 1
        return self._draw(GC_PAUSE)

    def spi(self, nbytes, baudrate):
        if not self.enabled:
            return 0
        return (self._draw(SPI_CALL) + nbytes * self._draw(SPI_BYTE)
                + (8 * 1000000 * nbytes + baudrate - 1) // baudrate)

    def i2c(self, nbytes, freq):
        if not self.enabled:
            return 0
        return self._draw(I2C_CALL) + (9 * 1000000 * (nbytes + 1) + freq - 1) // freq

    def irq_latency(self):
        return self._draw(IRQ_LATENCY)

    def irq_body(self):
        return self._draw(IRQ_BODY)

    def wake(self):
        return self._draw(WAKE)

    def console_byte(self):
        return self._draw(CONSOLE_BYTE)

    def console_poll(self):
        return self._draw(CONSOLE_POLL)

    def fs_work(self):
        """littlefs's own code in one small file write, interrupts on (around the flash
        stalls of flash_write)."""
        return self._draw(FS_WORK)

    def flash_write(self):
        """The interrupts-off stalls of one small file write (littlefs on the Pico's flash),
        in order: the programs, and now and then the erase of a block."""
        if not self.enabled:
            return ()
        self.writes += 1
        out = [self._draw(FLASH_PROG) for _ in range(PROGS_PER_WRITE)]
        if self.writes % EXTRA_PROG_EVERY == 0:
            out.append(self._draw(FLASH_PROG))
        if self.writes % ERASE_EVERY == 0:
            out.append(self._draw(FLASH_ERASE))
        return out

    def worst_flash_stall_us(self):
        return FLASH_ERASE[2]
