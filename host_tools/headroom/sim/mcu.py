"""The MCU's life cycle on a simulated board (a part of world.Sim): the supply and the
rails, power-on, boot.py and main.py, soft and hard resets, a crash, and the state a
soft reset keeps (snapshot/restore, carried across processes by the virtual board)."""
from .gpio import PowerLost, SimFault

MCU_BOOT_US = 285000  # power-on or reset to main.py with CostModel.zero() (else cost.BOOT)
SOFT_RESET_US = 10000   # a soft reset to boot.py: the VM's re-initialisation, no boot ROM


class McuLife:
    # ---- power and the MCU
    def power(self, on):
        """Switch the board's supply. Off: the supply monitor sees it at once (`on_supply`);
        the rails (`on_power`: the chips, the relay coils, the MCU) hold up for the board's
        hold-up time, then die with the MCU. On: everything at once."""
        if on == self.supply_on:
            return
        self.supply_on = on
        self.emit("power", [("on", on)])
        for fn in self.on_supply:
            fn(on)
        if on:
            self._rails(True)
            if self._stop_event is not None:
                # Back within the hold-up time: the MCU never lost power.
                self._stop_event.cancel()
                self._stop_event = None
            else:
                self.reset_cause = "power-on"
                self.clock.reset_ticks()
                self._boot_event = self.clock.after(self.boot_py_us(), self._mcu_start)
        else:
            if self._boot_event is not None:
                self._boot_event.cancel()   # gone again before the MCU started
                self._boot_event = None
            if self.mcu_powered:
                holdup = self.holdup_us
                if holdup:
                    self._stop_event = self.clock.after(holdup, self._mcu_stop)
                else:
                    self._mcu_stop()
            else:
                self._rails(False)

    def _rails(self, on):
        if on == self.rails_on:
            return
        self.rails_on = on
        for fn in self.on_power:
            fn(on)

    def _mcu_stop(self, _=None, cause="power"):
        self._stop_event = None
        if not self.mcu_powered:
            return
        if cause == "power":
            self.emit("off", [])  # the hold-up is over: what the pins show now is what died
        self.mcu_powered = False
        self._code_stops()
        self.spi_pins = {}
        if self.wdt_event is not None:
            self.wdt_event.cancel()
            self.wdt_event = None
        self.wdt_enabled = False   # the MCU's reset (any) leaves the watchdog off
        self.wdt_left_us = None
        self.wdt_pause = 0x07000000
        for g in self.gpio:
            if g.mcu_drives():
                self.emit("pin", [("pin", g.n), ("level", None)])
            g.reset()
        for g in self.gpio:
            g.update()
        for fn in self.on_mcu_stop:
            fn(cause)
        if cause == "power" and not self.supply_on:
            self._rails(False)   # the hold-up is over: the rails go with the MCU

    def _mcu_start(self, _=None):
        self._boot_event = None
        if not self.supply_on or self.mcu_powered:
            return
        self.mcu_powered = True
        for g in self.gpio:
            g.update()
        self.emit("boot", [])
        for fn in self.on_mcu_start:
            fn()
        self._run_boot(True)

    def _run_boot(self, main):
        """boot.py now; then (from the friendly REPL) main.py once its imports are done:
        the firmware."""
        if self.boot_py is not None and not self._firmware_code(self.boot_py):
            return
        if main:
            self.clock.after(self.main_delay_us(), self._main_start, self.generation)

    def _main_start(self, gen):
        if gen != self.generation or not self.mcu_powered:
            return   # reset or powered off meanwhile
        if self._firmware_code(lambda sim: setattr(sim, "app", sim.firmware(sim))):
            self.next_wake_us = self.clock.now_us

    def _firmware_code(self, fn):
        """Run fn(self) as firmware (its calls cost time); False when it raised (a crash) or
        the MCU stopped under it (the hold-up ran out, or machine.reset())."""
        self.in_firmware += 1
        prev = self.cpu_enter()
        try:
            fn(self)
        except PowerLost:
            return False
        except SimFault:
            raise
        except Exception as e:
            self._crash(e)
            return False
        finally:
            self.cpu_exit(prev)
            self.in_firmware -= 1
        return True

    def boot_delay_us(self):
        """Power-on (or reset) to the firmware's start (main.py and its imports)."""
        return self.cost.boot() if self.cost.enabled else MCU_BOOT_US

    def boot_py_us(self):
        """Power-on (or reset) to boot.py: the boot ROM, MicroPython's start, _boot.py."""
        return min(self.cost.boot_py(), self.boot_delay_us()) if self.cost.enabled else \
            MCU_BOOT_US

    def main_delay_us(self):
        """boot.py to the firmware's start: main.py's imports and set-up."""
        return self.boot_delay_us() - self.boot_py_us()

    # ---- a soft reset's state, carried across processes (the virtual board's VM)
    def snapshot(self):
        """What a soft reset keeps: every GPIO's mode, output and pulls, the SPI pins,
        and each chip model's state (JSON-able)."""
        return {"gpio": [[g.mode, g.out, g.pull] for g in self.gpio],
                "spi_pins": [[n, v[0], v[1]] for n, v in self.spi_pins.items()],
                "models": [m.snapshot() for m in self.models],   # each a sim.part.Part
                "wdt": [self.wdt_enabled, self.wdt_timeout_ms, self.wdt_left(), self.wdt_pause]}

    def restore(self, d):
        """Back to a snapshot() of the same board, silently: the trace shows nothing
        happening, since on the board nothing did."""
        self.trace.muted = True
        try:
            for g, (mode, out, pull) in zip(self.gpio, d["gpio"]):
                g.mode, g.out, g.pull = mode, out, pull
            for g in self.gpio:
                g.update()
            self.spi_pins = {n: (i, role) for n, i, role in d["spi_pins"]}
            for m, s in zip(self.models, d["models"]):
                if s is not None:
                    m.restore(s)
            if "wdt" in d:   # the watchdog counts on across a soft reset
                enabled, self.wdt_timeout_ms, left_us, self.wdt_pause = d["wdt"]
                self.wdt_left_us = left_us if self.wdt_timeout_ms is not None else None
                if enabled:
                    self.resume_wdt()
        finally:
            self.trace.muted = False

    def soft_reset(self, main=True):
        """A soft reset (Ctrl-D, or mpremote entering the raw REPL), as rp2's main.c does
        it: every GPIO keeps its mode, level and pulls, and the chips keep their state;
        pin IRQs, PIO, I2S, timers and the schedule queue stop; the watchdog and the
        ticks keep counting. boot.py runs, then main.py only when `main` (the friendly
        REPL's Ctrl-D; not from the raw REPL)."""
        if not self.mcu_powered:
            return
        self.emit("reset", [("cause", "soft")])
        self._code_stops()
        for g in self.gpio:
            g.handler = None
            g.handle = None
            g.trigger = 0
            g.hard = False
        for t in list(self.timers):
            t.deinit()
        for fn in self.on_soft_reset:
            fn()
        self._boot_event = self.clock.after(SOFT_RESET_US, self._soft_start, main)

    def _code_stops(self):
        """What any reset or power loss ends: the firmware, its sleep, the schedule queue,
        the interrupts on their way and the time they were owed (a new generation, so a
        caller inside that code knows)."""
        self.generation += 1
        self.app = None
        self.next_wake_us = None
        self.waiting = None
        self.scheduled = []
        self._pending_irqs = []
        self._latched = []
        self._owed_us = 0
        self._irq_busy_until = 0
        self.irq_depth = 0

    def _soft_start(self, main):
        self._boot_event = None
        if self.mcu_powered:
            self._run_boot(main)

    def reset_mcu(self, cause):
        """Watchdog or machine.reset(): the MCU restarts, the supply stays."""
        self.resets += 1
        self.reset_cause = cause
        self.emit("reset", [("cause", cause)])
        self._mcu_stop(cause=cause)
        self.clock.reset_ticks()
        self._boot_event = self.clock.after(self.boot_py_us(), self._mcu_start)

    def _crash(self, e):
        # On the board the exception ends main.py; the pins stay as they were
        # until the watchdog resets the MCU.
        self.emit("crash", [("error", "%s: %s" % (type(e).__name__, e))])
        self.crashes.append(e)
        self.app = None
        self.next_wake_us = None
        self.waiting = None
