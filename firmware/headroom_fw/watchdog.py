"""Stopping the RP2040's watchdog, which MicroPython's machine.WDT cannot do.

rp2's machine.WDT(timeout=...) calls the pico-sdk's watchdog_enable() and has no
deinit; a soft reset (rp2's main.c) leaves the watchdog as it is. So once the firmware
has started it, the board resets two seconds after the last feed whatever runs then:
after Ctrl-C the REPL would live two seconds, and mpremote (a copy, `mount`, a REPL)
would be reset under the user. `stop()` clears the ENABLE bit of WATCHDOG_CTRL, as the
pico-sdk itself does before it re-arms the watchdog: the count stops until the next
machine.WDT(), which sets the bit again. (WDT.feed() only reloads the count: it does not
start a stopped watchdog.)

Written through the register block's atomic clear alias (base + 0x3000), one store that
no interrupt can split. The simulator's `machine.mem32` models this register and faults
on any other address.
"""
import machine
from micropython import const

_CTRL = const(0x40058000)        # WATCHDOG base: CTRL (RP2040 datasheet 4.7.6)
_CTRL_CLEAR = const(0x4005B000)  # its atomic bit-clear alias
_ENABLE = const(0x40000000)      # CTRL.ENABLE (bit 30)


def stop():
    """The watchdog stops counting; the board no longer resets for want of a feed."""
    machine.mem32[_CTRL_CLEAR] = _ENABLE


def running():
    """True while the watchdog counts."""
    return bool(machine.mem32[_CTRL] & _ENABLE)
