"""The supply monitor: a critical part, and the supply-fail muting its hard IRQ begins.

The monitor's pin falls when the supply starts to fail. The hard IRQ goes as far as it
can at once (`fail_quiet`): XSMT low; the PGA2311's MUTE and the mute relay too when no
DAC ramp is running. What is left (the PGA2311 and the relay after the DAC's ramp) the
main loop finishes (`finish`), woken by the IRQ, at the ramp's end; it also finishes a
handler cut short (a pending KeyboardInterrupt is raised inside it at a branch, and rp2
then disables the handler). The App then tells the controller, which stays muted.
A monitor that reads low at boot is a fault (the supply is failing, or the monitor is
not connected).
"""
import time

import machine

from . import controller as C
from .part import Part


class Supply(Part):
    NAME = "power_sense"
    FAULT = C.FAULT_POWER_SENSE
    # No check(): the IRQ and the App's pass (finish(), a stage's pin writes) do its work.

    def __init__(self, gpio, xsmt, pga, mute_relay, ramp_us, waker):
        """`gpio`: the monitor's pin (None: the board has none; the supply is then taken
        as good); `xsmt`: the DAC's XSMT (a PCM5102A driver) or None; `ramp_us`: the DAC's
        soft-mute ramp, waited out before the PGA2311 cuts (0 without a DAC)."""
        Part.__init__(self)
        self.gpio = gpio
        self.xsmt = xsmt
        self.pga = pga
        self.mute_relay = mute_relay
        self.ramp_us = ramp_us
        self.waker = waker
        self.ok = True
        # The muting, stage by stage (fail_quiet): 0 none yet, 1 XSMT low (at
        # _xsmt_low_us), 2 the PGA2311 muted, 3 the mute relay open.
        self.stage = 0
        self._xsmt_low_us = time.ticks_us()
        self.pin = None
        if gpio is not None:
            self.pin = machine.Pin(gpio, machine.Pin.IN)
            self.pin.irq(self._isr, machine.Pin.IRQ_FALLING, hard=True)
            if not self.pin.value():
                self._isr(self.pin)

    def start(self, now):
        if not self.ok:
            self.sup.fault(self, "power_sense: the supply monitor on GP%d reads low "  # type: ignore[union-attr]
                           "at boot: the supply is failing, or the monitor is not connected"
                           % self.gpio, now)

    def _isr(self, pin):
        # Hard IRQ: pin writes only - nothing allocated, no sleep (the pico-sdk forbids
        # sleep_us in an interrupt), no wait.
        self.ok = False
        self.waker.woken = 1   # first, with no branch before it: a cut-short handler wakes the loop too
        self.fail_quiet()

    def fail_quiet(self):
        """The supply-fail muting from the stage it stands at, in the order that never
        pops: XSMT low, the DAC's soft-mute ramp (ramp_us), the PGA2311's MUTE, the mute
        relay open. Never waits: it returns where the ramp is still running. Every write
        goes towards quiet, so running it again (the IRQ, then the loop) undoes nothing."""
        if self.stage == 0:
            xsmt = self.xsmt
            if xsmt is not None:
                xsmt.mute(True)
            self._xsmt_low_us = time.ticks_us()  # after the write: the ramp starts there
            self.stage = 1
        if self.stage == 1:
            if self.ramp_us and \
                    time.ticks_diff(time.ticks_us(), self._xsmt_low_us) < self.ramp_us:
                return
            self.pga.mute(True)
            self.stage = 2
        if self.stage == 2:
            self.mute_relay.set(False)
            self.stage = 3

    def finish(self):
        """The main loop's part of the muting: the stages the IRQ left (the ramp's end, or
        a handler cut short), with interrupts off so the IRQ cannot run the same stage
        meanwhile. Returns the ms until the next stage is due (0: none)."""
        st = machine.disable_irq()
        try:
            self.fail_quiet()
            if self.stage == 3:
                return 0
            left = self.ramp_us - time.ticks_diff(time.ticks_us(), self._xsmt_low_us)
        finally:
            machine.enable_irq(st)
        return left // 1000 + 1 if left > 0 else 1

    def reads_good(self):
        """The supply is good, and so is the pin right now: a supply that failed since the
        pass began has its IRQ waiting for the App's critical section to end."""
        pin = self.pin
        return self.ok and (pin is None or pin.value())

    def begin_quiet(self):
        """The monitor reads low and no IRQ has begun the muting (its IRQ waits for the
        App's critical section, or never comes: a handler cut short before its first
        line; rp2 disables a handler that raised): begin it here."""
        if self.stage == 0:
            self.ok = False
            self.fail_quiet()
