"""Virtual microsecond clock with an event queue.

Nothing in the simulation reads real time. Events run in time order (ties in
the order they were scheduled), so a run is deterministic.
"""
import heapq

TICKS_PERIOD = 1 << 30  # MicroPython's ticks_ms/ticks_us wrap here
TICKS_MAX = TICKS_PERIOD - 1
_HALF = TICKS_PERIOD // 2


class Event:
    def __init__(self, t_us, fn, arg):
        self.t_us = t_us
        self.fn = fn
        self.arg = arg
        self.cancelled = False

    def cancel(self):
        self.cancelled = True


class Clock:
    def __init__(self, start_us=0, origin_us=None, timer_start_us=0):
        """Starts at `start_us`; times in the trace count from `origin_us` (default: the start).
        `timer_start_us`: what the MCU's timer reads at every reset (0 on an RP2040; a test
        starts it just before the ticks' wrap, TICKS_PERIOD, to run across it in seconds
        of virtual time, not 12.4 days)."""
        self.origin_us = start_us if origin_us is None else origin_us
        self.ticks_base_us = 0          # the MCU's timer counts from its last reset (Sim sets it)
        self.timer_start_us = timer_start_us
        self.set(start_us)
        self._queue = []
        self._seq = 0

    def at(self, t_us, fn, arg=None):
        """Run `fn(arg)` at virtual time `t_us` (not before now)."""
        if t_us < self.now_us:
            t_us = self.now_us
        ev = Event(t_us, fn, arg)
        self._seq += 1
        heapq.heappush(self._queue, (t_us, self._seq, ev))
        return ev

    def after(self, dt_us, fn, arg=None):
        return self.at(self.now_us + dt_us, fn, arg)

    def next_time(self):
        while self._queue and self._queue[0][2].cancelled:
            heapq.heappop(self._queue)
        return self._queue[0][0] if self._queue else None

    def run_until(self, t_us, between=None):
        """Run every event up to and including `t_us`, then set the time to `t_us`.

        `between()` is called after each event (the simulator runs scheduled
        callbacks there, as the board does between interrupts).
        """
        while True:
            nt = self.next_time()
            if nt is None or nt > t_us:
                break
            ev = heapq.heappop(self._queue)[2]
            self.set(ev.t_us)
            ev.fn(ev.arg)
            if between is not None:
                between()
        if t_us > self.now_us:
            self.set(t_us)

    def run_one(self, limit_us):
        """Run the next event if it is due by `limit_us`; returns whether one ran."""
        nt = self.next_time()
        if nt is None or nt > limit_us:
            return False
        ev = heapq.heappop(self._queue)[2]
        self.set(ev.t_us)
        ev.fn(ev.arg)
        return True

    def set(self, t_us):
        """Move the time to t_us (the caller keeps it monotonic)."""
        self.now_us = t_us
        # Kept ready so ticks_ms()/ticks_us() return a small int without arithmetic
        # on a big int: they are called inside hard IRQs, where nothing may allocate.
        t = t_us - self.ticks_base_us + self.timer_start_us
        self.ms = (t // 1000) & TICKS_MAX
        self.us = t & TICKS_MAX

    def reset_ticks(self):
        """The RP2040's timer restarts from 0 at every reset (power-on, watchdog,
        machine.reset()); a soft reset keeps it."""
        self.ticks_base_us = self.now_us
        self.set(self.now_us)

    def elapsed_us(self):
        return self.now_us - self.origin_us

    # MicroPython's time.ticks_* arithmetic
    def ticks_ms(self):
        return self.ms

    def ticks_us(self):
        return self.us


def ticks_diff(a, b):
    return ((a - b + _HALF) & TICKS_MAX) - _HALF


def ticks_add(t, delta):
    if delta >= _HALF or delta <= -_HALF:
        raise OverflowError("ticks interval overflow")  # as MicroPython's extmod/modtime.c
    return (t + delta) & TICKS_MAX
