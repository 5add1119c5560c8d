"""The board's health for `status`: uptime, reset cause, free heap, the worst pass of the
last minute, the parts' faults, a failed save, the log's size, what the inputs did.

`pass_done(now, t0)` at the end of every pass; `into(out)` writes the fields into a
JsonOut. Nothing is allocated but for a fault's or a failed save's words (rare: a reply
while something is wrong).
"""
import gc
import time

import machine
from micropython import const

from .version import VERSION

_WINDOW_MS = const(60000)    # "worst pass in the last minute": two windows of this


class Health:
    def __init__(self, app, uptime, now):
        """`app`: the App, read for its faults (its supervisor), failed save, log and
        inputs; `uptime`: since the MCU's reset (lifecycle.Firmware's, carried across the
        App's restarts)."""
        self.app = app
        self.uptime = uptime
        self._window = now
        self._worst = 0
        self._worst_prev = 0
        self.reset_cause = machine.reset_cause()
        # The fixed words of `status`, as bytes once (into() writes them every time)
        self._head = b'"firmware": "' + VERSION.encode() + b'", "uptime_s": '
        self._cause = b'"' + _cause(self.reset_cause).encode() + b'"'

    def pass_done(self, now, t0):
        self.uptime.update(now)  # seconds and ms: small ints for years (uptime.py)
        us = time.ticks_diff(time.ticks_us(), t0)
        if time.ticks_diff(now, self._window) >= _WINDOW_MS:
            self._window = now
            self._worst_prev = self._worst
            self._worst = 0
        if us > self._worst:
            self._worst = us

    def into(self, out):
        """The health fields of `status` into `out` (a JsonOut): the body of a JSON
        object, without a trailing comma."""
        app = self.app
        try:
            heap = gc.mem_free()  # type: ignore[attr-defined]
        except AttributeError:  # CPython running the simulator has no such figure
            heap = -1
        out.raw(self._head)
        out.int(self.uptime.s)
        out.raw(b', "reset_cause": ')
        out.raw(self._cause)
        out.raw(b', "heap_free": ')
        out.int(heap)
        out.raw(b', "worst_pass_us": ')
        out.int(self._worst if self._worst > self._worst_prev else self._worst_prev)
        out.raw(b', "faults": [')
        faults = app.sup.fault_text
        if faults:
            out.text(", ".join('"%s"' % t.replace('"', "'") for t in faults.values()))
        out.raw(b'], "settings_error": ')
        err = app.settings_error
        if err is None:
            out.raw(b"null")
        else:
            out.text('"%s"' % err)
        out.raw(b', "log_bytes": ')
        out.int(app.log.size())
        out.raw(b', "inputs": ')
        inputs_into(out, app.encoder, app.button, app.gain_sw, app.out_sw)


def inputs_into(out, enc, button, gain_sw, out_sw):
    """What the inputs did that was not the user's: bounces each filtered out since boot,
    the encoder's skipped edges (null where the PIO counts) and the clockwise detents it
    refused as bounce during a turn down, a button held from power-on."""
    out.raw(b'{"encoder": {"bounces": ')
    out.int(enc.bounces)
    out.raw(b', "skips": ')
    if enc.skips is None:
        out.raw(b"null")
    else:
        out.int(enc.skips)
    out.raw(b', "refused": ')
    out.int(enc.refused)
    out.raw(b'}, "button": {"bounces": ')
    out.int(button.bounces)
    out.raw(b', "held_since_boot": ')
    out.bool(button.held_since_boot)
    out.raw(b"}")
    if gain_sw is not None:
        out.raw(b', "gain_switch": {"bounces": ')
        out.int(gain_sw.bounces)
        out.raw(b"}")
    if out_sw is not None:
        out.raw(b', "output_switch": {"bounces": ')
        out.int(out_sw.bounces)
        out.raw(b"}")
    out.raw(b"}")


def _cause(c):
    if c == machine.PWRON_RESET:
        return "power-on"
    if c == machine.WDT_RESET:
        return "watchdog or reset"
    return "other (%d)" % c
