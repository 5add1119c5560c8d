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
occasional garbage-collection stall (the property tests run in it). `slow=N` makes
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

# Measured on the rp2 tier (make calibrate-rp2, 2026-12-01; µs of emulated time, (min,
# median, max) where three): (pico-se, pico-balanced) where a pair.
RP2 = {
    # 8,962 to main.py's first line, then 508,561 of imports and set-up (pico-se)
    # (pico-balanced: 8,962 + 566,599)
    "power_on_to_first_pin": (517523, 575561),
    "idle_pass": ((1978, 1994, 3115), (2245, 2319, 3669)),       # App.step(), knob at rest
    "turning_pass": ((3421, 3544, 3558), (3971, 4256, 4277)),    # App.step() that took a detent
    "set_codes": (397, 571),                  # PGA2311.set_codes(), 2 / 4 bytes, CS included
    "settings_save": (6835, 12216, 139561),   # 0.25 sector erases, 3.25 page programs each
    "gc_collect": (11973, 11977, 13238),      # pico-balanced 12,557 / 12,559 / 13,864
    "encoder_irq_handler": (95, 162, 391),    # two pin reads, ticks_ms(), the decoder's step
    "hard_irq_latency": (13.6, 13.7, 19.7),   # pin edge to a hard handler's first pin write
}

# (typical, lowest, highest) in us
BOOT = (545000, 517000, 576000)       # power-on to main.py, and its imports (not charged here)
CALL = (125, 60, 250)                  # main loop: a call into machine/rp2/time, and the bytecode before it
CALL_IRQ = (40, 25, 110)               # the same in a hard IRQ handler
SPI_CALL = (20, 15, 40)                # SPI.write() around its bytes
SPI_BYTE = (100, 60, 150)              # the Python that handles each byte of a frame
I2C_CALL = (60, 40, 120)               # one I2C transaction around its bytes
IRQ_LATENCY = (14, 13, 20)             # pin edge to the first line of a hard IRQ handler
IRQ_BODY = (30, 15, 60)                # a hard IRQ's entry and exit
WAKE = (12, 8, 30)                     # machine.idle() returning on an interrupt
CONSOLE_BYTE = (6, 4, 15)              # a byte read from the USB serial port
CONSOLE_LINE = (150, 100, 400)         # a line written to it
FS_WORK = (10800, 5600, 12000)         # littlefs's own code in a small file write (interrupts on)
FLASH_PROG = (400, 400, 3000)          # W25Q16JV page program
FLASH_ERASE = (45000, 45000, 400000)   # W25Q16JV 4 KB sector erase
GC_PAUSE = (12000, 11900, 13900)       # a collection with the firmware's heap (jitter only)
GC_EVERY = 4000                        # on average one collection per this many calls (jitter)
PROGS_PER_WRITE = 3                    # littlefs: the file's data, its metadata commit, the rename
ERASE_EVERY = 4                        # writes per metadata-block erase (its compaction)


class CostModel:
    def __init__(self, jitter=None, slow=1):
        """`jitter`: None for typical costs, else a seed: costs drawn within their bounds.
        `slow`: the bytecode between calls takes this many times as long."""
        self.rng = Rng(jitter) if jitter is not None else None
        self.enabled = True
        self.slow = slow
        self.writes = 0

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

    def call(self, in_irq=False):
        """A call into machine/rp2/time and the bytecode before it; in jitter mode now and
        then a garbage collection on top. The shims pass `sim.in_irq or sim.irq_depth`:
        True inside a hard IRQ handler (short code: CALL_IRQ), else the depth of
        machine.disable_irq() (main-loop code: CALL). `slow` makes the main loop slow,
        not IRQ handlers nor the short stretches with interrupts off."""
        if in_irq is True:
            return self._draw(CALL_IRQ)
        us = self._draw(CALL) * (1 if in_irq else self.slow)
        if self.rng is not None and not in_irq and self.rng.below(GC_EVERY) == 0:
            us += self._draw(GC_PAUSE)
        return us

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

    def console_line(self, n):
        return self._draw(CONSOLE_LINE) + 87 * n // 10 if self.enabled else 0

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
        if self.writes % ERASE_EVERY == 0:
            out.append(self._draw(FLASH_ERASE))
        return out

    def worst_flash_stall_us(self):
        return FLASH_ERASE[2]
