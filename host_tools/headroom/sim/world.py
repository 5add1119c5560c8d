"""The simulated board: GPIO nets, the MCU's life cycle, faults.

A GPIO net's level comes from, in order: the MCU driving it as an output,
external parts driving it (a closed contact to ground, a comparator), a resistor
on the board, the MCU's own pull. A net nothing defines floats, and reading a
floating input is a fault, as is an output fighting an external driver.

The firmware's own time is charged (cost.py): every call it makes into the shims
advances the virtual clock, and whatever falls due meanwhile happens then, hard IRQs
included - in the middle of a pass, as on rp2. A hard IRQ arrives its dispatch latency
after its edge; edges of one pin before it is served merge into one call (rp2's event
flags); while interrupts are off (machine.disable_irq, a flash write) they wait. One
hard handler runs at a time: its time is owed by the code it preempted, and the CPU is
its until that time is over, so an IRQ due meanwhile waits for it (tail-chained on the
Cortex-M0+), its pin's further edges merging into that one call.

Declared seams for what plugs into a board: `peripherals` (name -> I2S, PIO engines),
`spi_devices`/`i2c_devices` (the chips on each bus, each with a declared interface),
`on_power`, `on_mcu_start`, `on_mcu_stop`, `after_step` hooks.

`running` is the Sim whose code runs now (a board sets it for the time of its own run,
cpu_enter/cpu_exit): the shims' module-level calls (time.ticks_ms, micropython.schedule,
machine.disable_irq...) reach that board; a shim object (Pin, SPI, Timer...) keeps the
board it was made on. Two boards in one process so never reach each other.
"""
from .clock import Clock
from .cost import CostModel

running = None

IN = 0
OUT = 1
OPEN_DRAIN = 2
PULL_UP = 1
PULL_DOWN = 2
IRQ_FALLING = 4
IRQ_RISING = 8

N_GPIO = 30
MCU_BOOT_US = 285000  # power-on or reset to main.py with CostModel.zero() (else cost.BOOT)


def _hex(data):
    return "".join("%02x" % b for b in data)


def _no_enter():
    return None


def _no_exit(token):
    pass


class SimFault(BaseException):
    """Misuse of a simulated part. BaseException: firmware `except Exception` cannot hide it."""


class PowerLost(BaseException):
    """Raised out of firmware code when the MCU loses power or resets."""


class Gpio:
    def __init__(self, sim, n):
        self.sim = sim
        self.n = n
        self.reset()
        self.drivers = {}      # external source name -> level
        self.board_pull = None  # resistor on the board: 0, 1 or None
        self.listeners = []    # fn(gpio) called when the level changes
        self.level = None
        # A gate on the board between the pin and its chip (a hardware mute path): while
        # `gate` is not None the chip sees that level, whatever the MCU drives.
        self.gate = None
        self.gate_watch = None  # fn(gpio, level before the gate) on every update

    def _hard_irq_raised(self, e):
        self.sim._irq_raised(self, e)

    def reset(self):
        """MCU reset: input, no pull, no IRQ."""
        self.mode = IN
        self.out = 0
        self.pull = None
        self.handler = None
        self.handle = None     # what the handler is given: the Pin that registered it
        self.trigger = 0
        self.hard = False

    def mcu_drives(self):
        return self.mode == OUT or (self.mode == OPEN_DRAIN and self.out == 0)

    def resolve(self):
        ext = None
        for src in self.drivers:
            lv = self.drivers[src]
            if ext is not None and lv != ext:
                self.sim.fault("GP%d: external drivers disagree" % self.n)
            ext = lv
        if self.mcu_drives():
            if ext is not None and ext != self.out:
                self.sim.fault("GP%d: MCU output %d fights an external %d (short circuit)"
                               % (self.n, self.out, ext))
            return self.out
        if ext is not None:
            return ext
        if self.board_pull is not None:
            return self.board_pull
        if self.pull == PULL_UP and self.sim.mcu_powered:
            return 1
        if self.pull == PULL_DOWN and self.sim.mcu_powered:
            return 0
        return None

    def update(self):
        old = self.level
        new = self.resolve()
        if self.gate_watch is not None:
            self.gate_watch(self, new)
        if self.gate is not None:
            new = self.gate
        if new == old:
            return
        self.level = new
        for fn in self.listeners:
            fn(self)
        if self.handler is not None and old is not None and new is not None:
            edge = IRQ_RISING if new else IRQ_FALLING
            if self.trigger & edge:
                self.sim.irq(self)

    def drive(self, source, level):
        """An external part drives the net (level None: lets go)."""
        if level is None:
            self.drivers.pop(source, None)
        else:
            self.drivers[source] = level
        self.update()

    def read(self):
        lv = self.level
        if lv is None:
            self.sim.fault("GP%d read while floating (no pull-up or driver)" % self.n)
            return 0
        return lv


SOFT_RESET_US = 10000   # a soft reset to boot.py: the VM's re-initialisation, no boot ROM


class Sim:
    """One simulated board: clock, GPIOs, chip models, the MCU running the firmware."""

    def __init__(self, trace, start_us=0, origin_us=None, cost=None, timer_start_ms=0):
        """`timer_start_ms`: what the MCU's timer (ticks_ms, ticks_us) reads at every reset:
        0 as on an RP2040; near TICKS_PERIOD for a run across the ticks' wrap (clock.py)."""
        self.clock = Clock(start_us, origin_us, timer_start_ms * 1000)
        self.cost = cost if cost is not None else CostModel()
        self.in_firmware = 0      # > 0 while firmware code runs: its calls cost time
        self.in_irq = False       # a hard IRQ handler runs (no other IRQ preempts it)
        self._owed_us = 0         # time a hard IRQ handler took, owed by the code it preempted
        self.interrupts_served = 0   # interrupted() calls: an idle()'s WFE returns after one
        self._latched = []        # pins whose IRQ is on its way (edges merge until it is served)
        self._irq_busy_until = 0  # clock time at which the last hard handler's time is over
        self.waiting = None       # the firmware's waker while its main loop idles
        self.peripherals = {}     # name -> I2S ports, PIO engine...
        self.spi_devices = {}     # SPI block -> [device with spi_bytes(spi, data), cs]
        self.i2c_devices = {}     # (I2C block, address) -> device with i2c_write, i2c_read
        # Who watches the buses and pins (observe()): each list empty costs a truthiness check.
        self.spi_observers = []   # fn(bus, cs, mosi bytes, miso bytes)
        self.i2c_observers = []   # fn(bus, addr, "write" or "read", bytes)
        self.pin_observers = []   # fn(gpio, level the MCU drives: 0, 1, None)
        self.on_mcu_start = []    # fn() when the MCU starts main.py
        self.holdup_us = 0        # how long the MCU runs on after the supply fails (a PowerSense sets it)
        self.crashes = []         # exceptions that ended the firmware
        self.trace = trace
        self.gpio = [Gpio(self, n) for n in range(N_GPIO)]
        self.faults = []
        self.mcu_powered = False
        self.supply_on = False
        self.rails_on = False     # the board's supplies, held up for a while after the input goes
        self.on_supply = []       # fn(on): the supply itself, at once (the supply monitor)
        self.firmware = None      # fn(sim) -> app object with step()
        self.boot_py = None       # fn(sim): boot.py, run after every reset, soft ones too
        self.on_soft_reset = []   # fn() of what a soft reset stops (I2S, PIO, timers)
        self.timers = set()       # machine.Timer objects with an event pending
        self.app = None
        self.next_wake_us = None
        self.irq_depth = 0        # machine.disable_irq nesting
        self._pending_irqs = []
        self.scheduled = []       # micropython.schedule queue
        self.schedule_depth = 8   # MICROPY_SCHEDULER_DEPTH on rp2 (ports/rp2/mpconfigport.h)
        # The MicroPython release the board runs, where the rp2 port's behaviour changed
        # between releases (SPI miso=None): 1.24.1, the UF2 of the rp2 tier.
        self.micropython = (1, 24, 1)
        self.hard_irq_hook = None  # fn(sim, handler, pin): heap_lock on MicroPython (irqlock.py)
        # Brackets around the simulator's own work inside a firmware call (a pin write
        # recorded in the trace): irqlock.py unlocks the heap there, the benchmark
        # subtracts its bytes and time, so both count the firmware's cost alone.
        self.sim_enter = _no_enter
        self.sim_exit = _no_exit
        self.spi_buses = {}
        self.models = []          # the parts (sim/part.py), in the order add_part plugged them in
        self.on_power = []        # fn(on) of models powered by the board supply
        self.wdt_event = None      # the watchdog's expiry while it counts
        self.wdt_timeout_ms = None  # what its LOAD register holds (ms)
        self.wdt_enabled = False    # WATCHDOG_CTRL.ENABLE
        self.wdt_left_us = None     # where a stopped count stands
        self.wdt_pause = 0x07000000  # WATCHDOG_CTRL's PAUSE_* bits (their reset value)
        self.after_step = []      # fn() run after each firmware step
        self.calls = 0            # the main code's charged calls so far
        self.at_call = None       # (n, fn): fn() as the n-th call is charged (tests)
        self.irq_calls = 0        # the calls hard IRQ handlers made so far
        self.at_irq_call = None   # (n, fn): fn() as the n-th of them is charged (tests: it
                                  # may raise, e.g. the KeyboardInterrupt rp2 raises at a branch)
        self.irq_exceptions = []  # (time, pin, exception) that ended a hard IRQ handler
        self.resets = 0
        self.spi_pins = {}        # gpio -> (spi id, role)
        self.generation = 0       # counts MCU stops, so a sleeping caller knows
        self._stop_event = None   # the MCU dying at the end of the hold-up time
        self._boot_event = None   # the MCU starting main.py
        self.reset_cause = "power-on"
        self.on_mcu_stop = []     # fn(cause) after the MCU stopped (power gone, or a reset)

    # ---- whose code runs
    def cpu_enter(self):
        """This board's CPU runs from now: the shims' module-level calls reach it. Returns
        the board that ran before, for cpu_exit()."""
        global running
        prev = running
        running = self
        return prev

    def cpu_exit(self, prev):
        global running
        running = prev

    # ---- bookkeeping
    def now(self):
        return self.clock.elapsed_us()

    def emit(self, kind, fields):
        self.trace.emit(self.now(), kind, fields)

    def fault(self, message):
        self.sim_enter()
        self.faults.append((self.now(), message))
        self.emit("fault", [("message", message)])
        raise SimFault(message)

    # ---- GPIO writes from the MCU
    def mcu_set(self, n, mode=None, out=None, pull=-1):
        g = self.gpio[n]
        was = g.out if g.mcu_drives() else None
        if mode is not None:
            g.mode = mode
        if out is not None:
            g.out = 1 if out else 0
        if pull != -1:
            g.pull = pull
        now = g.out if g.mcu_drives() else None
        if now != was:
            self.emit("pin", [("pin", n), ("level", now)])
            if self.pin_observers:
                for fn in self.pin_observers:
                    fn(n, now)
        g.update()

    # ---- the firmware's time
    def charge(self, us):
        """The firmware spent `us` of CPU time: the clock moves on, and whatever fell due
        meanwhile happens (a hard IRQ preempts the pass right here). Raises PowerLost when
        the MCU stopped meanwhile."""
        if not self.in_firmware or us <= 0:
            return
        if self.in_irq:
            self._owed_us += us   # the preempted code pays, once the handler returns
            self.irq_calls += 1
            if self.at_irq_call is not None and self.irq_calls >= self.at_irq_call[0]:
                fn = self.at_irq_call[1]
                self.at_irq_call = None
                fn()
            return
        self.calls += 1
        if self.at_call is not None and self.calls >= self.at_call[0]:
            fn = self.at_call[1]
            self.at_call = None
            fn()                  # e.g. the supply fails right here, inside the pass
        gen = self.generation
        tok = self.sim_enter()
        try:
            target = self.clock.now_us + us
            while True:
                self.clock.run_until(target, self.run_scheduled)
                if not self._owed_us or self.generation != gen:
                    break
                target += self._owed_us
                self._owed_us = 0
        finally:
            self.sim_exit(tok)
        if self.generation != gen:
            raise PowerLost("the MCU stopped")

    def stall(self, us, irqs_off=True):
        """The firmware is held up for `us` (a flash program or erase): with `irqs_off`, no
        interrupt is served meanwhile (rp2_flash.c disables them); they wait."""
        if not self.in_firmware or us <= 0:
            return
        if irqs_off:
            self.irq_depth += 1
        try:
            self.charge(us)
        finally:
            if irqs_off:
                self.irq_depth -= 1
                self.enable_irq()

    # ---- interrupts
    def irq(self, g):
        """A pin's edge: its IRQ is served after the dispatch latency; edges of the same
        pin before then merge into that one call, as rp2's event flags do."""
        if g in self._latched:
            return
        self._latched.append(g)
        lat = self.cost.irq_latency()
        if lat:
            self.clock.after(lat, self._irq_due, g)
        else:
            self._irq_due(g)

    def _irq_due(self, g):
        if self.irq_depth or self.in_irq:
            if g not in self._pending_irqs:
                self._pending_irqs.append(g)
            return
        if self.clock.now_us < self._irq_busy_until:
            # The CPU is still in an earlier handler: this one follows it, and the pin's
            # edges until then merge into it (it stays latched).
            self.clock.at(self._irq_busy_until, self._irq_free, g)
            return
        if g in self._latched:
            self._latched.remove(g)
        self._deliver(g)

    def _irq_free(self, g):
        if g in self._latched:   # not forgotten by a reset meanwhile
            self._irq_due(g)

    def _deliver(self, g):
        if g.handler is None or not self.mcu_powered:
            return  # the handler was removed while the IRQ was pending
        pin = g.handle
        if g.hard:
            self.hard_call(g.handler, pin, g)
            return
        elif len(self.scheduled) < self.schedule_depth:
            self.scheduled.append((g.handler, pin))
        # else: like rp2's mp_irq_handler, a soft IRQ that finds the queue full is lost
        self.interrupted()

    def hard_call(self, handler, arg, owner):
        """handler(arg) as a hard interrupt handler (a Pin's, a hard Timer's): nothing
        preempts it, the heap is locked on the MicroPython VM, its time is owed by the code
        it preempted; an exception it raises goes to owner._hard_irq_raised(e), not further,
        as rp2 does (owner, not a closure: nothing allocated on the way in). Called while
        an earlier handler's time is not over yet, it runs once that time is."""
        now = self.clock.now_us
        if now < self._irq_busy_until:
            self.clock.at(self._irq_busy_until, self._hard_later, (handler, arg, owner))
            return
        owed = self._owed_us
        idle = not self.in_firmware   # the MCU idled (machine.idle) until this interrupt
        self.in_irq = True
        self.in_firmware += 1
        global running
        prev = running
        running = self            # cpu_enter(), inline (here and below): a hot path
        try:
            if self.hard_irq_hook is not None:
                self.hard_irq_hook(self, handler, arg)
            else:
                handler(arg)
        except (SimFault, PowerLost):
            raise
        except BaseException as e:  # noqa: B036 - KeyboardInterrupt too, as on rp2
            owner._hard_irq_raised(e)
        finally:
            running = prev
            self.in_irq = False
            self.in_firmware -= 1
        self._owed_us += self.cost.irq_body()
        self._irq_busy_until = now + self._owed_us - owed
        if idle:
            # Nothing was preempted: the handler's time is the idle loop's, not owed by the
            # next pass - which starts once it is over (interrupted(), run_until).
            self._owed_us = owed
        self.interrupted()

    def _hard_later(self, call):
        self.hard_call(call[0], call[1], call[2])

    def _irq_raised(self, g, e):
        """A hard IRQ handler raised (a pending KeyboardInterrupt is raised inside it at a
        branch): as rp2's mp_irq_handler (shared/runtime/mpirq.c) does, the exception is
        printed and goes no further - the code it preempted runs on - and the handler is
        disabled (trigger 0, handler None). Kept in `irq_exceptions` (not the trace: the
        board prints it on its console)."""
        self.irq_exceptions.append((self.now(), g.n, e))
        g.handler = None
        g.trigger = 0

    def enable_irq(self):
        while self._pending_irqs and not self.irq_depth and not self.in_irq:
            g = self._pending_irqs.pop(0)
            self._irq_due(g)   # one after the other: each waits for the handler before it

    def schedule(self, fn, arg):
        if len(self.scheduled) >= self.schedule_depth:
            raise RuntimeError("schedule queue full")
        self.scheduled.append((fn, arg))

    def run_scheduled(self):
        global running
        ran = False
        while self.scheduled and self.app is not None and not self.in_irq:
            fn, arg = self.scheduled.pop(0)
            self.in_firmware += 1
            prev = running
            running = self
            try:
                fn(arg)
            except PowerLost:
                return  # the MCU stopped under the callback
            finally:
                running = prev
                self.in_firmware -= 1
            ran = True
        if ran:
            self.interrupted()

    def interrupted(self):
        """An interrupt was served: a main loop idling in machine.idle() wakes and asks its
        waker whether its sleep is over."""
        self.interrupts_served += 1
        w = self.waiting
        if w is None or self.in_irq:
            return
        # Not charged here: the wake-up's cost is in next_wake_us (and charging would run
        # the clock on inside the event that woke it).
        global running
        prev = running
        running = self
        try:
            over = w.over()
        finally:
            running = prev
        if over:
            self.waiting = None
            self.next_wake_us = max(self.clock.now_us, self._irq_busy_until) + self.cost.wake()

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
        self.generation += 1
        self.app = None
        self.next_wake_us = None
        self.waiting = None
        self.spi_pins = {}
        self.scheduled = []
        self._pending_irqs = []
        self._latched = []
        self._owed_us = 0
        self._irq_busy_until = 0
        self.irq_depth = 0
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

    # ---- SPI and I2C buses
    def add_part(self, part):
        """Plug a part (sim/part.py) into this board: it wires itself (attach), and a soft
        reset keeps what its snapshot() returns. Returns the part."""
        part.attach()
        self.models.append(part)
        return part

    def add_spi_device(self, bus, device):
        """A chip on SPI block `bus`: it has `cs` (its chip-select GPIO) and
        `spi_bytes(spi, data)` -> the bytes it drives on MISO."""
        self.spi_devices.setdefault(bus, []).append(device)

    def add_i2c_device(self, bus, addr, device):
        """A chip on I2C block `bus` at `addr`: `i2c_write(data)`, `i2c_read(n)`; it may
        raise OSError itself (no acknowledge, a bus held low)."""
        self.i2c_devices[(bus, addr)] = device

    def spi_claim(self, spi):
        """An SPI block takes its pins (rp2: gpio_set_function(SPI) on each)."""
        for role, n in (("SCK", spi.sck), ("MOSI", spi.mosi), ("MISO", spi.miso)):
            if n is None:
                continue
            g = self.gpio[n]
            if g.mode == OUT:
                self.fault("GP%d was configured as an output; SPI%d took it as %s"
                           % (n, spi.id, role))
            owner = self.spi_pins.get(n)
            if owner is not None and owner[0] != spi.id:
                self.fault("GP%d already belongs to SPI%d" % (n, owner[0]))
            self.spi_pins[n] = (spi.id, role)
        self.spi_buses[spi.id] = spi

    def spi_release_pin(self, n):
        """Pin.init on a pin gives it back to GPIO, away from its SPI block."""
        self.spi_pins.pop(n, None)

    def spi_transfer(self, spi, data, into):
        for role, n in (("SCK", spi.sck), ("MOSI", spi.mosi)):
            if self.spi_pins.get(n) != (spi.id, role):
                self.fault("SPI%d write, but %s GP%d is no longer an SPI pin" % (spi.id, role, n))
        selected = [d for d in self.spi_devices.get(spi.id, ()) if self.gpio[d.cs].level == 0]
        self.emit("spi", [("bus", spi.id), ("cs", selected[0].cs if selected else None),
                          ("baudrate", spi.baudrate), ("polarity", spi.polarity),
                          ("phase", spi.phase), ("data", _hex(data))])
        if not selected:
            self.fault("SPI%d: %d bytes sent with no chip select low" % (spi.id, len(data)))
        miso = bytes(len(data))
        for d in selected:
            miso = d.spi_bytes(spi, data)
        if self.spi_observers:
            for fn in self.spi_observers:
                fn(spi.id, selected[0].cs, data, miso)
        if into is not None:
            if spi.miso is None or self.spi_pins.get(spi.miso) != (spi.id, "MISO"):
                miso = bytes(len(data))
            for i in range(len(data)):
                into[i] = miso[i]

    def i2c_device(self, bus, addr):
        return self.i2c_devices.get((bus, addr))

    def i2c_write(self, bus, addr, dev, data):
        """`data` written to chip `dev` (i2c_device(bus, addr), which acknowledged)."""
        if self.i2c_observers:
            for fn in self.i2c_observers:
                fn(bus, addr, "write", data)
        dev.i2c_write(data)

    def i2c_read(self, bus, addr, dev, n):
        data = dev.i2c_read(n)
        if self.i2c_observers:
            for fn in self.i2c_observers:
                fn(bus, addr, "read", bytes(data))
        return data

    def observe(self, kind, fn):
        """Watch what the MCU does on the wires, without touching the chips: `kind` "spi"
        (fn(bus, cs, mosi, miso) per transfer to a selected chip), "i2c" (fn(bus, addr,
        "write"|"read", data) per transfer a chip acknowledged) or "pin" (fn(gpio, level)
        when what the MCU drives on a pin changes: 0, 1, None for let go). Returns fn;
        unobserve(kind, fn) stops it."""
        getattr(self, kind + "_observers").append(fn)
        return fn

    def unobserve(self, kind, fn):
        getattr(self, kind + "_observers").remove(fn)

    def i2c_scan(self, bus):
        return sorted(a for (b, a) in self.i2c_devices if b == bus)

    def sleep_us(self, us):
        """time.sleep_* inside firmware code: time passes, interrupts run. Not in a hard
        IRQ handler: the pico-sdk forbids sleeping in an interrupt (sleep_us may wait for
        an alarm that cannot fire there), so that is a fault."""
        if self.in_irq:
            self.fault("a sleep of %d us inside a hard IRQ handler: the pico-sdk forbids "
                       "time.sleep_us/sleep_ms/sleep in an interrupt; write the pins and leave "
                       "the waiting to the main loop" % us)
        gen = self.generation
        tok = self.sim_enter()
        try:
            self.clock.run_until(self.clock.now_us + us, self.run_scheduled)
        finally:
            self.sim_exit(tok)
        if self.generation != gen:
            raise PowerLost("the MCU stopped during a sleep")

    def idle(self):
        """machine.idle() called by firmware code that runs its own loop (the virtual
        board's main.py): wait for the next interrupt, at most 1 ms (rp2's WFE time-out)."""
        nt = self.clock.next_time()
        end = self.clock.now_us + 1000
        self.sleep_us((end if nt is None or nt > end else nt) - self.clock.now_us)

    # ---- running
    def _step(self):
        """One pass of the firmware's main loop, then its sleep: until its waker says the
        sleep is over (its deadline, or the interrupt it waits for), the MCU idles."""
        self.run_scheduled()
        app = self.app
        if app is None:
            return
        self.in_firmware += 1
        global running
        prev = running
        running = self
        try:
            ms = app.step()
            self.charge(self.cost.pass_end())  # a collection the pass's bytes ended in
            w = app.waker
            if w is not None:
                w.begin(ms)
                served = self.interrupts_served
                over = w.over()
                # rp2's machine.idle() is a WFE, and every exception return sets the
                # core's event register: an interrupt served while over() ran (after it
                # read `woken`) makes the idle() after it return at once, and over() runs
                # again - no wake-up is lost between the check and the sleep.
                while not over and self.interrupts_served != served:
                    served = self.interrupts_served
                    over = w.over()
        except PowerLost:
            return  # machine.reset(): the MCU is already restarting
        except SimFault:
            raise
        except Exception as e:
            self._crash(e)
            return
        finally:
            running = prev
            self.in_firmware -= 1
        for fn in self.after_step:
            fn()
        if self.app is None:
            return
        now = self.clock.now_us
        if w is None:
            # sleep_ms(0) still costs the loop some time; never spin at one instant.
            self.next_wake_us = now + (int(ms) * 1000 if ms > 0 else 100)
        elif over:
            self.next_wake_us = now + max(self.cost.wake(), 1)
        else:
            self.waiting = w
            self.next_wake_us = None

    def run_until(self, t_us):
        """Run the board (events and the firmware's main loop) up to sim time `t_us`.

        Events due at the same instant as the firmware's wake-up run first, as
        interrupts would; after every event the wake-up time is looked at again,
        since an event may boot, reset, stop or wake the MCU.
        """
        global running
        prev = running
        running = self    # cpu_enter(), inline: this board's code is what runs meanwhile
        try:
            self._run_until(self.clock.origin_us + t_us)
        finally:
            running = prev

    def _run_until(self, end):
        clock = self.clock
        while True:
            w = self.next_wake_us
            if w is not None and w < self._irq_busy_until:
                w = self.next_wake_us = self._irq_busy_until   # a handler has the CPU
            limit = w if w is not None and w < end else end
            if clock.run_one(limit):
                self.run_scheduled()
                continue
            if limit > clock.now_us:
                clock.set(limit)
            if w is not None and w <= end and self.app is not None:
                self._step()
                continue
            return

    def run_for(self, dt_us):
        self.run_until(self.now() + dt_us)
