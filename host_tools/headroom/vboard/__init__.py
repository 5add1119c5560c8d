"""The virtual board: the firmware on the simulated board, behind a pseudo-terminal.

    python -m headroom.vboard --board boards/pico-se.json [--image FILE]

prints the path of a pseudo-terminal that behaves like the Pico's USB serial port
(MicroPython's REPL, raw REPL and raw-paste mode, so mpremote works on it), and runs
until interrupted. See supervisor.py (CPython: the pty, the VM's life cycle) and
vm.py (the MicroPython VM: the flash image, the simulated board, the firmware).

This package is imported by the MicroPython VM too: keep this file free of imports.
"""
