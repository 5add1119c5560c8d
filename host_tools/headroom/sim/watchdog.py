"""The RP2040's watchdog on a simulated board (a part of world.Sim)."""


class Watchdog:
    # ---- the RP2040's watchdog (WATCHDOG_CTRL.ENABLE and LOAD), as the rp2 port drives it.
    # Once enabled it counts down whatever runs: through a KeyboardInterrupt, at the REPL and
    # across a soft reset (rp2's main.c leaves it alone); only clearing CTRL.ENABLE
    # (machine.mem32: stop_wdt) or a hard reset stops it.
    def start_wdt(self, timeout_ms):
        """machine.WDT(timeout=...): pico-sdk's watchdog_enable(): LOAD, then CTRL.ENABLE
        (PAUSE_* cleared)."""
        self.wdt_enabled = True
        self.wdt_pause = 0
        self.feed_wdt(timeout_ms)

    def feed_wdt(self, timeout_ms):
        """WDT.feed(): watchdog_update() writes LOAD only. The count starts over; a stopped
        watchdog stays stopped (it starts from there when enabled again)."""
        if self.wdt_event is not None:
            self.wdt_event.cancel()
            self.wdt_event = None
        self.wdt_timeout_ms = timeout_ms
        if self.wdt_enabled:
            self.wdt_event = self.clock.after(timeout_ms * 1000, self._wdt_expired)
        else:
            self.wdt_left_us = timeout_ms * 1000

    def stop_wdt(self):
        """CTRL.ENABLE cleared: the count pauses where it stands."""
        if self.wdt_event is not None:
            self.wdt_left_us = max(self.wdt_event.t_us - self.clock.now_us, 0)
            self.wdt_event.cancel()
            self.wdt_event = None
        self.wdt_enabled = False

    def resume_wdt(self):
        """CTRL.ENABLE set again (without a new LOAD): it counts on from where it stopped."""
        if self.wdt_enabled:
            return
        if self.wdt_left_us is None:
            self.fault("WATCHDOG_CTRL.ENABLE set with nothing loaded: machine.WDT(timeout=...) "
                       "starts the watchdog")
        self.wdt_enabled = True
        self.wdt_event = self.clock.after(self.wdt_left_us, self._wdt_expired)

    def wdt_left(self):
        """What WATCHDOG_CTRL.TIME reads: the count left, in µs."""
        if self.wdt_event is not None:
            return max(self.wdt_event.t_us - self.clock.now_us, 0)
        return self.wdt_left_us or 0

    def _wdt_expired(self, _):
        self.wdt_event = None
        self.reset_mcu("watchdog")
