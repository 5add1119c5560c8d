"""Where the tier meets rp2040py, for both releases it runs on: 0.3.6 (pure-Python
peripherals, one core) and 1.0 (every peripheral a C++ block behind a thin Cython shell,
both cores, about ten times faster; `RP2040PY_SKIP_CYTHON=1` gives its pure-Python build).

What the tier uses is what both releases offer to boards and tests:

- pin listeners (`GPIOPin.add_listener`), `set_input_value` / `release_input`;
- the SPI's `on_transmit` / `complete_transmit`, the I2C's `on_*` / `complete_*`;
- clock alarms (`clock.create_alarm`), the USB controller's `on_*` callbacks;
- the chip's peripheral table (`RP2040.peripherals`, address window -> block), which both
  releases dispatch the CPU's register accesses through: `WindowTap` puts a Python object
  in front of one block there, to watch or amend what the CPU reads and writes. On 1.0
  that takes the block's window off its C++ fast path, so only blocks the CPU touches
  rarely are tapped (the flash's SSI, the encoder's PIO).

The differences, as flags:

- `OWN_DRIVE_READS_BACK`: a pad reads back the level the chip drives on it (1.0; the board
  feeds it back itself on 0.3.6);
- `SPI_WIRE_TIME`: the SPI holds a word for its time on the wire before the device's
  reply completes it (1.0; on 0.3.6 the device delays its reply by that time).
"""
import importlib.metadata

try:
    VERSION = importlib.metadata.version("rp2040py")
except importlib.metadata.PackageNotFoundError:  # pragma: no cover - the tier needs it
    VERSION = "0"
V1 = int(VERSION.split(".")[0]) >= 1

OWN_DRIVE_READS_BACK = V1
SPI_WIRE_TIME = V1

try:                                    # 1.0: its own module; 0.3.6: the device's import
    from rp2040py.reset_cause import ResetCause
except ImportError:  # pragma: no cover - 0.3.6
    from rp2040py.device.base_device import ResetCause

from rp2040py.gpio_pin import FUNCTION_SIO  # noqa: E402

__all__ = ("FUNCTION_SIO", "OWN_DRIVE_READS_BACK", "SPI_WIRE_TIME", "V1", "VERSION", "ResetCause",
           "WindowTap", "native")


def native():
    """True when the chip's blocks are the compiled ones (1.0's default)."""
    from rp2040py.rp2040 import RP2040
    return not RP2040.__module__.startswith("rp2040py._")


class WindowTap:
    """Stands in front of `block` in the chip's peripheral table at `key` (the bus's key:
    (address >> 14) << 2): the CPU's reads and writes of its registers go through
    `read(offset, value) -> value` (after the block answered) and `write(offset, value,
    atomic_type)` (before the block takes it), either None to pass through. Everything
    else (the block's attributes) is the block's."""

    def __init__(self, mcu, key, read=None, write=None):
        self.block = mcu.peripherals[key]
        self._read = read
        self._write = write
        mcu.peripherals[key] = self

    def read_uint32(self, offset):
        v = self.block.read_uint32(offset)
        return v if self._read is None else self._read(offset, v)

    def write_uint32(self, offset, value):
        self.write_uint32_atomic(offset, value, 0)

    def write_uint32_atomic(self, offset, value, atomic_type):
        if self._write is not None:
            self._write(offset, value, atomic_type)
        self.block.write_uint32_atomic(offset, value, atomic_type)

    def __getattr__(self, name):
        return getattr(self.block, name)
