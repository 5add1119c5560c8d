"""The simulated board (Sim): its CPU's time, interrupts, the schedule and the run loop;
with the GPIO nets (gpio.py), the MCU's life cycle (mcu.py), the watchdog (watchdog.py)
and the buses (buses.py) it is made of.

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
from .buses import Buses
from .clock import Clock
from .cost import CostModel
from .gpio import (  # noqa: F401
    IN,
    IRQ_FALLING,
    IRQ_RISING,
    N_GPIO,
    OPEN_DRAIN,
    OUT,
    PULL_DOWN,
    PULL_UP,
    Gpio,
    PowerLost,
    SimFault,
)
from .mcu import MCU_BOOT_US, SOFT_RESET_US, McuLife  # noqa: F401
from .watchdog import Watchdog

running = None


def _no_enter():
    return None


def _no_exit(token):
    pass



class Sim(McuLife, Watchdog, Buses):
    """One simulated board: clock, GPIOs, chip models, the MCU running the firmware."""

    def __init__(self, trace, start_us=0, origin_us=None, cost=None, timer_start_ms=0):
        """`timer_start_ms`: what the MCU's timer (ticks_ms, ticks_us) reads at every reset:
        0 as on an RP2040; near TICKS_PERIOD for a run across the ticks' wrap (clock.py)."""
        self.clock = Clock(start_us, origin_us, timer_start_ms * 1000)
        self.cost = cost if cost is not None else CostModel()
        self.in_firmware = 0      # > 0 while firmware code runs: its calls cost time
        self.in_irq = False       # a hard IRQ handler runs (no other IRQ preempts it)
        self.irq_us = 0           # the hard IRQ handlers' time so far (tests/test_parts.py)
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
        self.safe_point = None    # fn() at each call of the firmware's into the machine
                                  # shims, before it (the virtual board: a Ctrl-C is taken there)
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
        self.irq_us += self._owed_us - owed
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
                # The sleep's work (lifecycle.run: App.idle, the display's frame), a piece
                # a call, each charged as it runs, until the sleep is over: its deadline,
                # or an interrupt's wake-up (a detent) between two pieces.
                idle = getattr(app, "idle", None)
                while not over and idle is not None and idle():
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
