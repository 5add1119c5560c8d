"""The simulated board as the virtual board's VM runs it (vboard/vm.py): a world.Sim whose
sleeps are paced to wall time, whose hard resets end the VM, and whose watchdog the
supervisor hears of (it outlives the VM)."""
from headroom.sim import world


class VmSim(world.Sim):
    """The simulated board in this VM: until go_live() (the power-on and a soft reset's
    restore, before boot.py) a plain world.Sim; from then on its time is paced to wall
    time, a hard reset ends the VM, and the supervisor hears of the watchdog."""

    def __init__(self, trace, start_us, side, hang, realtime):
        """`side(msg)`: a line to the supervisor; `hang()`: wait for it to end this VM;
        `realtime`: the VM's own time module (ticks_ms, ticks_diff)."""
        world.Sim.__init__(self, trace, start_us, 0)
        self._side = side
        self._hang = hang
        self._realtime = realtime
        self._pacer = None
        self._control = None
        self._told = [None, None]   # when, and what, the supervisor was last told
        self._intr = None

    def go_live(self, pacer, control, interrupts=None):
        """`interrupts` (vmpipes.Interrupts): the host's Ctrl-C, taken at the firmware's sleeps
        and calls (safe_point), never inside the simulator's code."""
        self._pacer = pacer
        self._control = control
        self._intr = interrupts
        if interrupts is not None:
            pacer.sleeper = interrupts.sleep_us
            self.safe_point = self._take_interrupt

    def interrupts_off(self):
        """main.py is over: the REPL is next, which takes Ctrl-C as SIGINT (the
        supervisor's); code run there (mpremote's) reaches no safe point, and a Ctrl-C
        left in the pipe, meant for main.py, is dropped."""
        intr = self._intr
        if intr is None:
            return
        self._intr = None
        self.safe_point = None
        if self._pacer is not None:
            self._pacer.sleeper = None
        intr.drop()

    def _take_interrupt(self):
        """A call of the firmware's main code into `machine`: a waiting Ctrl-C is raised
        here. Not in a hard IRQ handler (it would end the handler, as rp2's can, but the
        main code is where a host's Ctrl-C is meant to go)."""
        if not self.in_irq:
            self._intr.take()

    def sleep_us(self, us):
        """The firmware's sleeps: the virtual clock runs in step with wall time, and the
        supervisor's control lines are taken meanwhile."""
        if self._pacer is None:
            return world.Sim.sleep_us(self, us)
        self._control.pump()
        intr = self._intr
        if intr is not None:
            intr.take()
        clock, pacer = self.clock, self._pacer
        end = pacer.now(clock.now_us) + us
        while True:
            nt = clock.next_time()
            stop = end if nt is None or nt > end else nt
            if stop - clock.now_us > 1000000:
                stop = clock.now_us + 1000000
            if stop > clock.now_us and not pacer.wait_until(stop):
                intr.take()   # a Ctrl-C cut the sleep short: raised here, the clock untouched
            clock.run_until(stop, self.run_scheduled)
            if stop >= end:
                return None

    def reset_mcu(self, cause):
        """machine.reset() or the watchdog: the supervisor kills this VM, the MCU restarts."""
        if self._pacer is None:
            return world.Sim.reset_mcu(self, cause)
        self.resets += 1
        self.reset_cause = cause
        self.emit("reset", [("cause", cause)])
        self._side("reset " + cause)
        self._hang()

    # The RP2040's watchdog keeps counting when the firmware stops and through a soft
    # reset, until ENABLE is cleared: only the supervisor outlives this VM, so it keeps
    # that count, in wall time. It is told "wdt MS" (counting, MS left) at most every
    # 50 ms while the same timeout is fed, and allows for that; "wdt off" at once.
    def _tell(self, ms):
        self._told[0], self._told[1] = self._realtime.ticks_ms(), ms
        self._side("wdt %d" % ms)

    def feed_wdt(self, timeout_ms):
        world.Sim.feed_wdt(self, timeout_ms)
        last = self._told
        if self._pacer is not None and self.wdt_enabled and (
                last[0] is None or last[1] != timeout_ms or
                self._realtime.ticks_diff(self._realtime.ticks_ms(), last[0]) >= 50):
            self._tell(timeout_ms)

    def stop_wdt(self):
        world.Sim.stop_wdt(self)
        if self._pacer is not None:
            self._told[0] = None
            self._side("wdt off")

    def resume_wdt(self):
        was = self.wdt_enabled
        world.Sim.resume_wdt(self)
        if self._pacer is not None and not was:
            self._tell((self.wdt_left() + 999) // 1000)
