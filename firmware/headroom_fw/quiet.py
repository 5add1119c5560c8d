"""Quiet the outputs in the muting order, before anything else runs (boot.py).

rp2 runs boot.py after every reset, soft ones too; main.py only from the friendly REPL.
A soft reset (Ctrl-D, or mpremote entering the raw REPL to flash) keeps every GPIO
driving: the mute relay stays energized, the PGA2311 and the DAC unmuted, and with the
IRQs gone nothing answers a supply failure. So boot.py mutes first, in order: XSMT low
and the DAC's ramp waited out, then the PGA2311's MUTE and its zero-crossing time,
then the mute relay released; the 12 V trigger (the power amplifier after this one)
drops before all of them. At power-on the board's pull-downs already hold XSMT and
MUTE low, so nothing is waited for.

Reads only the pins it needs from board.json and does nothing when they are not there:
main.py validates the board file and says what is wrong with it.
"""
import json
import time

from machine import Pin

MAX_BYTES = 16384   # as board.py: a board file is a page of JSON


def _pin(sect, key):
    v = sect.get(key) if isinstance(sect, dict) else None
    return v if isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 29 else None


def _drop(n, level, wait_ms):
    """Drive GP`n` to `level`; when it was not there (read from its pad), wait `wait_ms`."""
    p = Pin(n)
    was = p.value()
    p.init(Pin.OUT, value=level)
    if was != level and wait_ms:
        time.sleep_ms(wait_ms)


def quiet(path="board.json"):
    """Mute the board described in `path`; True when it could."""
    try:
        with open(path) as f:
            text = f.read(MAX_BYTES + 1)
        d = json.loads(text) if len(text) <= MAX_BYTES else None
    except (OSError, ValueError, MemoryError):
        return False
    if not isinstance(d, dict):
        return False
    pga = d.get("pga2311")
    relays = d.get("relays")
    relay = relays.get("mute") if isinstance(relays, dict) else None
    if not isinstance(pga, dict) or not isinstance(relay, dict):
        return False
    mute = _pin(pga, "mute")
    rpin = _pin(relay, "pin")
    if mute is None or rpin is None:
        return False
    trig = d.get("trigger")
    tpin = _pin(trig, "pin")
    if tpin is not None and isinstance(trig, dict):   # the power amplifier after this one: first
        _drop(tpin, 0 if trig.get("active_high") is not False else 1, 0)
    xsmt = _pin(d.get("dac"), "xsmt")
    i2s = d.get("i2s")
    rate = i2s.get("rate") if isinstance(i2s, dict) else None
    if xsmt is not None and isinstance(rate, int) and rate > 0:
        _drop(xsmt, 0, (105 * 1000 + rate - 1) // rate + 1)   # 104 samples, as board.py
    zc = pga.get("zcen") != "low"
    _drop(mute, 0, 17 if zc else 1)                           # the 16 ms ZC time-out
    _drop(rpin, 0 if relay.get("active_high") is not False else 1, 0)
    return True
