"""The IR receiver's output on the emulated board's `ir.pin`, carrying a remote's frames;
and the CPU's busy time, to see what they cost the firmware.

`ReceiverOut`: a TSOP382xx-class demodulating receiver drives its output high while
idle (its own pull-up) and low while it sees a burst (a *mark*). Here the pad is driven
to those levels at exact emulated times: `send()` takes a remote's frames
(`sim/irframes.key_frames`: [(start_us, runs)]), passes them through the simulator's
receiver model (`irframes.Receiver`: the datasheet's width error, each edge's jitter,
optionally a lamp's glitches) and schedules every edge on the emulator's loop in one
call, so no edge is already past when it is set; the firmware's hard IRQ (irrecv.py)
on the real rp2 port sees them as on a board.

    out = ReceiverOut(board)                     # the board file's ir.pin, idle high now
    marks = out.send(key_frames("nec", 0x00, 0x46), Receiver(seed=3, jitter_us=30))
    board.run_until_us(marks[-1][1] + 50_000)    # past the last mark and the frame's gap

`edges` logs every level applied, (t_us, 0|1); `send()` returns the frames' marks,
(start_us, end_us) in emulated time, and keeps a lamp's glitches in `noise`.

`IrqEntries`: when the CPU's GPIO IRQ took each of the pin's edges, and when the
firmware's handler stamped it (taps on IO_BANK0 and the TIMER).

`CpuBusy`: whether core 0 is running or asleep (WFI/WFE, where MicroPython's rp2 port
waits in `time.sleep_ms` and `machine.idle()`), and whether its interrupts are off
(PRIMASK: `machine.disable_irq()`), sampled every `period_us` of emulated time from a
clock alarm; `runs()` gives the stretches it ran (or ran with interrupts off), so a
main-loop pass (the firmware never sleeps inside one) and an IRQ taken while it slept
show as one run each, measured on the chip's own clock to within a sample; and which
exception it was in (IPSR), to tell what held an IRQ off. It reads rp2040py's
`mcu.core.waiting`, `.pm` and `.ipsr` (1.0 has them, 0.3.6's core the same names;
`available()` says so), which the tier's other seams (`seams.py`) do not use. The
alarm every `period_us` costs wall time (about 7 s per emulated second at 10 µs on
rp2040py 1.0, a loaded 2-core machine), not emulated time: `start()` and `stop()`
around the windows measured, and look at runs within one window at a time (between
windows there are no samples).
"""
import bisect

from headroom.sim import irframes

from .seams import WindowTap

IO_BANK0_KEY = 0x40014   # IO_BANK0 (0x40014000) in the chip's peripheral table
INTR0 = 0x0F0            # IO_BANK0's raw interrupt status, 8 pins a register, 4 bits a pin
TIMER_KEY = 0x40054      # the TIMER (0x40054000)
TIMERAWL = 0x028         # its raw count's low word: what ticks_us() reads


class ReceiverOut:
    def __init__(self, board, gpio=None):
        self.board = board
        self.gpio = board.spec["ir"]["pin"] if gpio is None else gpio
        self.edges = []           # (t_us, level): every level applied to the pad
        self.glitches = 0         # spurious marks sent (a lamp's), all sends together
        self.noise = []           # the last send's glitches, (start_us, end_us)
        self.board.call(self._apply, 1)   # idle: the receiver's output high

    def _apply(self, level):
        b = self.board
        b.mcu.gpio[self.gpio].set_input_value(bool(level))
        self.edges.append((b.now_us, level))
        b.changed()

    def send(self, frames, receiver, lead_us=2000.0, lamp=False, at_us=None):
        """The receiver's output for `frames` (key_frames' [(start_us, runs)], from the
        first frame's start), starting `lead_us` after the emulated time the loop takes
        the request (or at `at_us`). `lamp`: the receiver's glitches too (its
        `glitch_per_s`), over the frames and a quarter of an NEC period after them, in
        `noise`. Returns the frames' marks, (start_us, end_us) in emulated time, as the
        receiver passes them (a glitch that touches one lengthens it on the pad)."""
        span = irframes.span_us(frames)
        marks = list(irframes.frames_marks(receiver, frames))
        noise = list(receiver.glitches(0, span + irframes.NEC_PERIOD_US // 4)) if lamp else []
        pad = list(irframes.union(iter(marks), iter(noise)))

        def schedule():
            b = self.board
            t0 = b.now_us + lead_us if at_us is None else at_us
            for s, e in pad:
                b.sched.at_ns((t0 + s) * 1000.0, lambda: self._apply(0))
                b.sched.at_ns((t0 + e) * 1000.0, lambda: self._apply(1))
            return t0
        t0 = self.board.call(schedule)
        self.glitches += len(noise)
        self.noise = [(t0 + s, t0 + e) for s, e in noise]
        return [(t0 + s, t0 + e) for s, e in marks]


class IrqEntries:
    """When the CPU takes the pin's edges, and the time its handler stamps them.
    MicroPython's rp2 GPIO IRQ handler (C) reads IO_BANK0's raw interrupt status (INTR)
    on entry, acknowledges the events it finds and calls the pin's handler: irrecv's,
    whose `time.ticks_us()` is its one read of the TIMER (TIMERAWL) inside that
    interrupt, 20-25 µs later, the level read just after it. `seams.WindowTap`s in front
    of IO_BANK0 and the TIMER log, for each read of the pin's INTR register with an edge
    of the pin pending, `entries`: [t_us, fell, rose, stamp_us] (fell and rose: two
    edges taken in one call, which reads one level; stamp_us: that TIMERAWL read, None
    if none came). The CPU touches IO_BANK0 at an IRQ's entry and when it sets a pin
    up; the TIMER tens of times a millisecond (a Python call each on rp2040py 1.0, no
    wall time to speak of). `close()` puts both blocks back in the table."""

    IRQ_EXC = 16 + 13                # IO_IRQ_BANK0's exception number (IPSR)

    def __init__(self, board, gpio):
        self.board = board
        self.offset = INTR0 + 4 * (gpio // 8)
        shift = 4 * (gpio % 8)
        self.fall = 1 << (shift + 2)     # EDGE_LOW
        self.rise = 1 << (shift + 3)     # EDGE_HIGH
        self.entries = []
        self._open = None                # the entry whose stamp is still to come

        def tap():
            return (WindowTap(board.mcu, IO_BANK0_KEY, read=self._intr),
                    WindowTap(board.mcu, TIMER_KEY, read=self._timer))
        self.taps = board.call(tap)

    def _intr(self, offset, value):
        if offset == self.offset and value & (self.fall | self.rise):
            self._open = len(self.entries)
            self.entries.append([self.board.now_us, bool(value & self.fall), bool(value & self.rise), None])
        return value

    def _timer(self, offset, value):
        if offset == TIMERAWL and self._open is not None and self.board.mcu.core.ipsr == self.IRQ_EXC:
            self.entries[self._open][3] = self.board.now_us
            self._open = None
        return value

    def close(self):
        def go():
            table = self.board.mcu.peripherals
            for key, tap in zip((IO_BANK0_KEY, TIMER_KEY), self.taps):
                if table.get(key) is tap:
                    table[key] = tap.block
        self.board.call(go)


class CpuBusy:
    def __init__(self, board, period_us=10.0):
        self.board = board
        self.period_ns = period_us * 1000.0
        self.period_us = period_us
        self.times = []           # t_us of each sample
        self.running = []         # and whether the CPU ran then (not asleep)
        self.masked = []          # and whether its interrupts were off (PRIMASK set)
        self.handler = []         # and the exception it was handling (IPSR; 0: thread mode)
        self._on = 0              # the sampling's generation now (0: off)
        self._gen = 0

    @staticmethod
    def available(board):
        return board.call(lambda: hasattr(board.mcu, "core") and all(
            hasattr(board.mcu.core, a) for a in ("waiting", "pm", "ipsr")))

    def _sample(self, gen):
        if self._on != gen:       # stopped (an alarm of a sampling already stopped)
            return
        b = self.board
        self.times.append(b.now_us)
        core = b.mcu.core
        self.running.append(not core.waiting)
        self.masked.append(bool(core.pm))
        self.handler.append(int(core.ipsr))
        b.sched.at_ns(b.clock.nanos + self.period_ns, lambda: self._sample(gen))

    def start(self):
        """Sample from now (the emulated time it starts at, returned) until stop()."""
        def go():
            self._gen += 1
            self._on = self._gen
            self._sample(self._gen)
            return self.board.now_us
        return self.board.call(go)

    def stop(self):
        """Stop sampling; the emulated time it stopped at."""
        def go():
            self._on = 0
            return self.board.now_us
        return self.board.call(go)

    def _span(self, t0_us, t1_us):
        return bisect.bisect_left(self.times, t0_us), bisect.bisect_left(self.times, t1_us)

    def busy_fraction(self, t0_us, t1_us):
        """The share of the samples between t0_us and t1_us that found the CPU running."""
        i, j = self._span(t0_us, t1_us)
        return sum(self.running[i:j]) / (j - i) if j > i else None

    def runs(self, t0_us, t1_us, flags=None):
        """[(start_us, length_us)]: the stretches the CPU ran between t0_us and t1_us
        (`flags`: `masked` for those with its interrupts off), each from its first
        sample to the first one after it without (a run cut by the window's ends is left
        out)."""
        flags = self.running if flags is None else flags
        i, j = self._span(t0_us, t1_us)
        out = []
        start = None
        for k in range(i + 1, j):
            if flags[k] and not flags[k - 1]:
                start = self.times[k]
            elif not flags[k] and flags[k - 1] and start is not None:
                out.append((start, self.times[k] - start))
                start = None
        return out

    def asleep_at(self, t_us):
        """Whether the CPU slept at the last sample at or before t_us (None: no sample)."""
        k = bisect.bisect_right(self.times, t_us) - 1
        return None if k < 0 else not self.running[k]

    def state_at(self, t_us):
        """(running, interrupts off, exception number) at the last sample at or before
        t_us (None: no sample)."""
        k = bisect.bisect_right(self.times, t_us) - 1
        return None if k < 0 else (self.running[k], self.masked[k], self.handler[k])
