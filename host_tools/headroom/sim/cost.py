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
the firmware's own work N times slower (a main-loop pass of 1 to 20 ms, to show that
nothing depends on the loop's speed). `CostModel.zero()` charges nothing: unit tests
of single parts.

Where the figures come from (README, "Cost model"): boot and pass times as measured on
MicroPython's rp2 port in the emulated RP2040 (the rp2 tier, `headroom.rp2tier`); flash
times from the Winbond W25Q16JV datasheet (the Pico's flash): page program 0.4 ms typical,
3 ms maximum; 4 KB sector erase 45 ms typical, 400 ms maximum.
"""
from .models.controls import Rng

# (typical, lowest, highest) in us
BOOT = (285000, 280000, 289000)       # power-on to the first line of main.py
CALL = (24, 14, 60)                    # bytecode before a call into machine/rp2/time, and the call
SPI_CALL = (30, 20, 60)                # SPI.write() around its bytes
I2C_CALL = (60, 40, 120)               # one I2C transaction around its bytes
IRQ_LATENCY = (15, 9, 40)              # pin edge to the first line of a hard IRQ handler
IRQ_BODY = (20, 12, 50)                # a hard IRQ's entry and exit
WAKE = (12, 8, 30)                     # machine.idle() returning on an interrupt
CONSOLE_BYTE = (6, 4, 15)              # a byte read from the USB serial port
CONSOLE_LINE = (150, 100, 400)         # a line written to it
FLASH_PROG = (400, 400, 3000)          # W25Q16JV page program
FLASH_ERASE = (45000, 45000, 400000)   # W25Q16JV 4 KB sector erase
GC_PAUSE = (6000, 3000, 15000)         # a collection with the firmware's heap (jitter only)
GC_EVERY = 4000                        # on average one collection per this many calls (jitter)
PROGS_PER_WRITE = 3                    # littlefs: the file's data, its metadata commit, the rename
ERASE_EVERY = 16                       # writes per metadata-block erase (its compaction)


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
        then a garbage collection on top. `slow` makes the main loop slow, not IRQ
        handlers nor the short stretches with interrupts off (`in_irq` true for both)."""
        us = self._draw(CALL) * (1 if in_irq else self.slow)
        if self.rng is not None and not in_irq and self.rng.below(GC_EVERY) == 0:
            us += self._draw(GC_PAUSE)
        return us

    def spi(self, nbytes, baudrate):
        if not self.enabled:
            return 0
        return self._draw(SPI_CALL) + (8 * 1000000 * nbytes + baudrate - 1) // baudrate

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
