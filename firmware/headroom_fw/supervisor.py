"""The parts' supervisor: faults reported once, retries, echo checks, relay sense.

`Supervisor` keeps what is faulty (the sentences `status` lists in `faults`), logs a
fault once and its clearing once, and for a CRITICAL part tells the controller, which
keeps the amplifier muted while it stands; a part that is not critical is only
reported. Every pass it runs each part's check() in the order the parts were added.
The parts here are the amplifier's own: the relays' sense contacts, the PCM5122 over
I2C, the PGA2311 chain's echo (the supply monitor is supply.py).
"""
import time

import machine
from micropython import const

from . import controller as C
from .part import Part

_RETRY_MS = const(2000)      # a faulty part is tried again this often
_CHECK_MS = const(1000)      # the PGA2311 chain is checked (its echo) this often...
_QUIET_MS = const(100)       # ...and only when no frame went out for this long: a write
                             # restarts the chip's zero-crossing wait, and would make a
                             # pending ramp step be skipped
_SENSE_PASSES = const(3)     # a sense pin that disagrees this many passes in a row: a fault


class Supervisor:
    def __init__(self, log):
        self.log = log
        self.ctl = None          # the Controller, once it is made (before any start())
        self.parts = []          # checked every pass, in this order
        self.fault_text = {}     # FAULT bit (critical) or NAME -> what the user reads

    def add(self, part):
        part.sup = self
        self.parts.append(part)
        return part

    def fault(self, part, text, now):
        """`part` is faulty (text) or answers again (None): reported, logged once; a
        critical part mutes while it stands."""
        key = part.FAULT if part.CRITICAL else part.NAME
        was = self.fault_text.get(key)
        if text is None:
            if was is not None:
                del self.fault_text[key]
                self.log.append("cleared: " + was)
        elif was is None:
            self.fault_text[key] = text
            self.log.append("fault: " + text)
        part.fault = text
        if part.CRITICAL:
            self.ctl.set_fault(part.FAULT, text is not None, now)  # type: ignore[union-attr]

    def check(self, now):
        """Every part's share of the pass. Nothing allocated."""
        for p in self.parts:
            p.check(now)

    def budget_us(self):
        return sum(p.BUDGET_US for p in self.parts)


class RelaySense(Part):
    """Relay contacts that do not follow their coil (a sense pin reads the other way on
    _SENSE_PASSES passes in a row, while everything has settled - playing or held; the
    mute relay also while it is held open, at boot and while the others move): a fault,
    kept until the next boot - a relay that stuck once is not trusted again."""
    NAME = "relay"
    FAULT = C.FAULT_RELAY
    BUDGET_US = 450     # up to three pin reads (137 us each on the cost model)

    def __init__(self, senses):
        Part.__init__(self)
        self.senses = senses   # [name, Relay, sense Pin, passes it disagreed, GPIO] each

    def check(self, now):
        if self.fault is not None:
            return
        p = self.sup.ctl.phase  # type: ignore[union-attr]
        settled = p == C.PLAYING or p == C.HELD
        if not settled and p != C.SWITCHING and p != C.BOOT:
            return
        for s in self.senses:
            if not settled and s[0] != "mute":
                continue
            closed = s[2].value() == 0
            if closed == s[1].on:
                s[3] = 0
                continue
            s[3] += 1
            if s[3] >= _SENSE_PASSES:
                self.sup.fault(self, "relay.%s: its contacts do not follow the coil (sense "  # type: ignore[union-attr]
                               "GP%d reads them %s, the coil is %s)" % (
                                   s[0], s[4],
                                   "energized" if closed else "released",
                                   "on" if s[1].on else "off"), now)
                return


class PCM5122Part(Part):
    """The PCM5122 over I2C: unity digital volume (the PGA2311 sets the level), soft mute
    off (muting is XSMT's job: a pin works in an IRQ, I2C not). A bus held low or a chip
    that does not answer is a fault naming the part and its pins; it is tried again every
    _RETRY_MS, and asked every _RETRY_MS whether it is still there (it may have lost
    power and its registers: then it is set up again once it answers)."""
    NAME = "dac"
    FAULT = C.FAULT_DAC
    BUDGET_US = 450     # "still there?" and the signal: three register reads (140 us each)
    RETRY_US = 12000    # init's register writes (5.8 ms); a bus that stops answering costs
                        # its time-out once (5 ms: hardware.I2C_TIMEOUT_US) - muted meanwhile

    def __init__(self, b, buses, now):
        Part.__init__(self)
        self.b = b
        self.buses = buses
        self.chip = None
        self._retry = time.ticks_add(now, _RETRY_MS)

    def start(self, now):
        b = self.b
        where = "PCM5122 at 0x%02X on I2C%d (GP%d SDA, GP%d SCL)" % (
            b.dac_addr, b.dac_i2c_id, b.dac_sda, b.dac_scl)
        sda = machine.Pin(b.dac_sda, machine.Pin.IN)
        if not sda.value():
            self.sup.fault(self, "dac: I2C%d is stuck: SDA (GP%d) is held low, so the %s "  # type: ignore[union-attr]
                           "cannot be reached" % (b.dac_i2c_id, b.dac_sda, where), now)
            return
        try:
            if self.chip is None:
                from .pcm5122 import PCM5122
                self.chip = PCM5122(self.buses.i2c(b.dac_i2c_id, b.dac_scl, b.dac_sda), b.dac_addr)
            self.chip.init(bits=b.i2s_bits)
            self.chip.mute(False)
        except OSError as e:
            self.sup.fault(self, "dac: no answer from the %s (%s)" % (  # type: ignore[union-attr]
                where, "time-out" if e.args and e.args[0] == 110 else "no acknowledge"), now)
            return
        self.sup.fault(self, None, now)  # type: ignore[union-attr]

    def check(self, now):
        if time.ticks_diff(now, self._retry) < 0:
            return
        self._retry = time.ticks_add(now, _RETRY_MS)
        if self.fault is not None:
            self.start(now)
        elif self.chip is not None:
            chip = self.chip
            try:
                chip.power_state()
                # Where the music comes from (an external source's stream): the rate the
                # chip detects (register 91's class) and whether a channel has data (not
                # both auto-muted on zeros, register 120).
                fs = chip.read(91) >> 4 & 7
                present = fs != 0 and chip.read(120) & 0x11 != 0x11
            except OSError:
                self.start(now)
                return
            self.sup.ctl.set_signal(present, fs, now)  # type: ignore[union-attr]


class PGAChain(Part):
    """The PGA2311 chain: its state after a reset is never assumed (start: a pattern
    through it and mute codes into it, under MUTE; no echo is a fault, muted until it
    answers, tried again every _RETRY_MS). Now and then (_CHECK_MS, only when no frame
    went out for _QUIET_MS) its echo is checked: zeros where it had codes mean it reset
    (a dip the supply monitor did not see), and the codes go out again, as a fade-in."""
    NAME = "pga2311"
    FAULT = C.FAULT_PGA
    BUDGET_US = 500     # an echo frame now and then (450 us)
    RETRY_US = 1500     # the pattern and the mute codes through the chain

    def __init__(self, pga, miso, now):
        Part.__init__(self)
        self.pga = pga
        self.miso = miso
        self.frame_ms = now   # when the last frame went out (the App's _write sets it)
        self._retry = time.ticks_add(now, _RETRY_MS)
        self._check = time.ticks_add(now, _CHECK_MS)

    def start(self, now):
        if self.pga.verify_chain() is False:
            self.sup.fault(self, "pga2311: the chain gave back nothing on SDO (GP%d): check "  # type: ignore[union-attr]
                           "its wiring and supply" % self.miso, now)
        else:
            self.sup.fault(self, None, now)  # type: ignore[union-attr]

    def check(self, now):
        if time.ticks_diff(now, self._retry) >= 0:
            self._retry = time.ticks_add(now, _RETRY_MS)
            if self.fault is not None and self.pga.muted:
                self.start(now)
        quiet = time.ticks_diff(now, self.frame_ms) >= _QUIET_MS
        if quiet:
            # Quiet long enough: the last frame's time held at _QUIET_MS ago, so that
            # ticks_diff (2**29 ms at most, then it wraps) never meets one days old - the
            # check would stop for 6.2 days at a time on an amplifier left untouched.
            self.frame_ms = time.ticks_add(now, -_QUIET_MS)
        if time.ticks_diff(now, self._check) >= 0 and quiet:
            self._check = time.ticks_add(now, _CHECK_MS)
            if self.pga.check() is False and not self.pga.muted:
                self.sup.log.append("pga2311: the chain lost its codes (a reset?): faded in again")  # type: ignore[union-attr]
                self.sup.ctl.pga_lost(now)  # type: ignore[union-attr]

    def quiet(self):
        self.pga.mute(True)
        self.pga.set_codes(bytearray(2 * self.pga.chips))
