"""An SSD1306 or SH1106 OLED on the emulated I2C bus, decoded by the simulator's own chip
model (`sim/models/oled.py`): one decoder for the simulator and the tier.

The target collects a transaction's bytes (the address's ACK to the STOP, or to a
repeated START) and hands them to the model's `i2c_write`, as the simulator's bus does;
a read returns the model's status byte. The model keeps the GDDRAM, the registers and
what is lit (`lit()`, `png()`), and finds misuse (data before a command's parameters, a
command the chip does not have, the panel switched on with its charge pump off...): a
model fault is recorded on the board (`board.faults`, "display (SSD1306): ..."), which
the tier fails a test on, and the rest of that transaction is dropped.

The model is built around `oled.Unwired`, the least of the simulator it needs on I2C:
the rails on (the panel is powered with the board), a fault that stops the decoding
(ModelFault), the trace (dropped: the target keeps its own counts), and the clock.

What the tests read: `writes` (transactions handed to the model), `last_us` (when the
last one ended: the firmware's display has nothing left to send once the bus has been
quiet for longer than its look interval), `lit()` and `level()` (the number the panel
shows, as the trace checker's display rule reads it: `sim.rules_display.read_level`).
"""
from ..sim.models.oled import CHIPS, ModelFault, Unwired


class OledTarget:
    """The display section's chip at its address (an I2cBus target)."""

    def __init__(self, board, chip, addr, width=128, height=64):
        if chip not in CHIPS:
            raise ValueError("the rp2 tier models %s on I2C, not %r" % (" and ".join(sorted(CHIPS)), chip))
        self.board = board
        self.model = CHIPS[chip](Unwired(lambda: board.now_us), width, height, i2c_bus=0, addr=addr)
        self.data = None          # the write in progress
        self.writes = 0           # transactions the model took
        self.bytes = 0
        self.last_us = None       # emulated µs: the last write ended

    # ---- the I2C target interface (buses.I2cBus)
    def start(self, rw):
        self._hand_over()
        self.data = bytearray() if rw == "w" else None

    def write(self, value):
        if self.data is not None:
            self.data.append(value)
        return True

    def read(self):
        return self.model.i2c_read(1)[0]

    def stop(self):
        self._hand_over()

    def _hand_over(self):
        data, self.data = self.data, None
        if not data:
            return
        b = self.board
        self.writes += 1
        self.bytes += len(data)
        self.last_us = b.now_us
        try:
            self.model.i2c_write(bytes(data))
        except ModelFault as e:
            self.model.cmd, self.model.params = None, []   # the next write starts afresh
            b.fault(b.now_us, "display (%s): %s [write %s]" % (self.model.KIND, e, bytes(data[:24]).hex()))

    # ---- what it shows (call from the emulator's thread: board.call)
    def lit(self):
        return self.model.lit()

    def vlsb(self):
        """The panel as lit, 1,024 bytes of pages (MONO_VLSB): what read_level reads."""
        return self.model.lit_pages()

    def level(self):
        """(tenths of a dB, unit, muted) the panel shows, or None (no level view)."""
        from ..sim.rules_display import read_level
        return read_level(self.vlsb())
