"""Benchmarks on the MicroPython VM: micropython mp_bench.py MODE BOARD FLASH_DIR [FIRMWARE_DIR] [ARG]

Prints one JSON object. Modes:
  live K   run the first K steps of the board's default scenario, then measure the
           firmware's live heap: what a gc.collect() frees when the firmware is dropped
  turn     steady turning: bytes allocated and CPU time per encoder edge (hard IRQ) and
           per detent (main loop), the simulator's own share subtracted
  hour     one hour of continuous turning, then a pause: settings writes to flash
  console S  bytes per idle pass and per `status` through the firmware's UsbConsole: on
           the model of rp2's USB port (S 0) or the Unix port's own stdio (S 1)
  status N   bytes for N `status` replies and for the state events of a turn, with a
           headphone set and a host monitoring (a quick check: tests/test_jsonout.py)
  stream P PAGES  a Pico W board: bytes per pass with PAGES live pages
           streaming, idle and while the knob turns; the board's port 80 is the host's P
           (127.0.0.1); prints `ready TOKEN` on stderr, then waits for the pages
           (bench_web.py opens them)

The simulator runs in the same heap as the firmware. Its work inside firmware calls is
bracketed (sim_enter/sim_exit) and its bytes and microseconds are taken out. Bytes and
time are measured in separate runs: gc.mem_alloc() scans the whole heap, and would
swamp the time.
"""
import gc
import sys

_sim_dir = sys.argv[0][:sys.argv[0].rfind("/")] if "/" in sys.argv[0] else "."
_host = _sim_dir[:_sim_dir.rfind("/headroom/sim")]
import time as realtime  # noqa: E402  (the VM's clock, before the virtual one shadows it)

sys.modules.pop("time", None)
sys.path.insert(0, _host)
sys.path.insert(0, _sim_dir + "/shims")

import micropython  # noqa: E402

from headroom.sim.irqlock import call_locked  # noqa: E402
from headroom.sim.scenario import Runner, parse  # noqa: E402
from headroom.sim.simboard import SimBoard  # noqa: E402


def _zero():
    return 0


class Meter:
    """Counts the simulator's bytes or time inside firmware calls; locks the heap in hard IRQs."""

    def __init__(self, what):
        self.mem = gc.mem_alloc if what == "bytes" else _zero
        self.clock = realtime.ticks_us if what == "time" else _zero
        self.depth = 0
        self.locked = False
        self.bytes = 0
        self.us = 0
        self.edges = 0
        self.irq_us = 0
        self.collected = False
        self._m = 0
        self._t = 0

    def install(self, sim):
        sim.sim_enter = self.enter
        sim.sim_exit = self.exit
        sim.hard_irq_hook = self.hard_irq

    def enter(self):
        if self.depth == 0:
            if self.locked:
                micropython.heap_unlock()
            self._m = self.mem()
            self._t = self.clock()
        self.depth += 1

    def exit(self, _token):
        self.depth -= 1
        if self.depth == 0:
            dm = self.mem() - self._m
            if dm > 0:
                self.bytes += dm
            elif dm < 0:
                # A collection ran inside the simulator's call: what it allocated there is
                # unknown, so the pass around it cannot be measured (StepMeter skips it).
                self.collected = True
            self.us += self.clock() - self._t
            if self.locked:
                micropython.heap_lock()

    def hard_irq(self, sim, handler, pin):
        us0 = self.us
        t0 = self.clock()
        self.locked = True
        failed = call_locked(handler, pin)
        self.locked = False
        self.irq_us += self.clock() - t0 - (self.us - us0)
        self.edges += 1
        if failed:
            sim.fault("hard IRQ handler %r allocated memory" % (handler,))


class StepMeter:
    """Wraps the firmware's step(): bytes and time per main-loop pass, the simulator's taken out."""

    def __init__(self, meter):
        self.meter = meter
        self.reset()

    def reset(self):
        self.with_detents = [0, 0, 0]  # passes that took detents: count, us, detents
        self.steps = 0
        self.bytes = 0
        self.us = 0
        self.max_bytes = 0
        self.skipped = 0

    def wrap(self, app):
        step = app.step
        meter = self.meter

        mem, clock = meter.mem, meter.clock

        def measured():
            pending = app.encoder.decoder.detents
            b0, u0 = meter.bytes, meter.us
            meter.collected = False
            m0 = mem()
            t0 = clock()
            r = step()
            t = clock() - t0 - (meter.us - u0)
            m1 = mem()
            m = m1 - m0 - (meter.bytes - b0)
            if m1 - m0 < 0 or meter.collected:
                self.skipped += 1  # a collection ran inside: this pass cannot be counted
            else:
                self.bytes += m
                if m > self.max_bytes:
                    self.max_bytes = m
            self.us += t
            self.steps += 1
            if pending:
                w = self.with_detents
                w[0] += 1
                w[1] += t
                w[2] += pending if pending > 0 else -pending
            return r

        app.step = measured


def default_script(board):
    name = board[board.rfind("/") + 1:-5]
    path = board[:board.rfind("/boards/")] + "/tests/scenarios/" + name + ".scn"
    with open(path) as f:
        return f.read()


def make_board(board, flash, firmware, what="bytes"):
    # The IRQ decoder: the PIO emulator is CPython-only (and its hard IRQs are what must not allocate).
    b = SimBoard(board, flash_dir=flash, keep_trace=False, firmware_dir=firmware, decoder="irq")
    meter = Meter(what)
    meter.install(b.sim)
    steps = StepMeter(meter)
    boot = b.sim.firmware

    def boot_measured(sim):
        fw = boot(sim)
        # lifecycle.Firmware runs the App's passes (its `state`): measure the App's own.
        app = getattr(fw, "app", None)
        steps.wrap(app if app is not None else fw)
        return fw

    b.sim.firmware = boot_measured
    return b, meter, steps


def firmware_live_bytes(b):
    """Bytes of heap the running firmware holds: what dropping it lets gc.collect() free."""
    gc.collect()
    with_fw = gc.mem_alloc()
    s = b.sim
    s.app = None
    s.next_wake_us = None
    s.scheduled = []
    for g in s.gpio:
        g.handler = None
    for name in list(sys.modules):
        if name.startswith("headroom_fw"):
            del sys.modules[name]
    gc.collect()
    return with_fw - gc.mem_alloc()


def mode_live(board, flash, firmware, k):
    b, meter, steps = make_board(board, flash, firmware)
    script = parse(default_script(board))
    Runner(b).run(script[:k])
    peak_step = steps.max_bytes
    live = firmware_live_bytes(b) if b.sim.app is not None else 0
    return {"k": k, "steps": len(script), "live": live, "max_step_bytes": peak_step,
            "heap_total": gc.mem_free() + gc.mem_alloc()}


def _turning(board, flash, firmware, what):
    """Idle for 10 s, then 800 detents at 5/s with bouncing contacts, back and forth."""
    b, meter, steps = make_board(board, flash, firmware, what)
    b.power(True)
    b.run_ms(3000)
    steps.reset()
    b.run_ms(10000)
    idle = (steps.bytes / max(steps.steps - steps.skipped, 1), steps.us / max(steps.steps, 1))
    steps.reset()
    meter.edges = 0
    meter.irq_us = 0
    detents = 0
    for i in range(20):
        n = 40 if i % 2 == 0 else -40
        b.run_us(b.turn(n, rate=5, bounce_us=300))
        detents += abs(n)
    return b, meter, steps, idle, detents


def mode_turn(board, flash, firmware):
    b, meter, steps, idle, detents = _turning(board, flash, firmware, "bytes")
    counted = steps.steps - steps.skipped
    out = {
        "detents": detents,
        "edges": meter.edges,
        "irq_bytes": 0,  # every hard IRQ ran with the heap locked; an allocation would have faulted
        "loop_bytes_per_detent": (steps.bytes - idle[0] * counted) / detents,
        "loop_bytes_per_detent_gross": steps.bytes / detents,
        "loop_bytes_per_pass_idle": idle[0],
        "passes": steps.steps,
        "loop_bytes_per_minute_turning": steps.bytes / (detents / 5) * 60,
        "faults": len(b.sim.faults),
    }
    b, meter, steps, idle, detents = _turning(board, flash, firmware, "time")
    out["irq_us_per_edge"] = meter.irq_us / max(meter.edges, 1)
    # Passes that took detents, against the passes of the same window that did not.
    n, us, taken = steps.with_detents
    quiet = (steps.us - us) / max(steps.steps - n, 1)
    out["loop_us_per_detent"] = (us - quiet * n) / max(taken, 1)
    out["loop_us_per_pass_turning_quiet"] = quiet
    out["loop_us_per_pass_idle"] = idle[1]
    out["faults"] += len(b.sim.faults)
    return out


def mode_hour(board, flash, firmware, pause):
    """An hour of turning (3 detents/s, direction changing every 20 s); `pause` s of stillness
    every minute when pause > 0, else none; then a final 10 s pause."""
    b, meter, steps = make_board(board, flash, firmware, "nothing")
    b.power(True)
    b.run_ms(3000)
    start = b.flash_writes
    t_end = b.now_us() + 3600 * 1000000
    i = 0
    pauses = 0
    while b.now_us() < t_end:
        b.run_us(b.turn(60 if i % 2 == 0 else -60, rate=3, bounce_us=300))
        i += 1
        if pause and i % 3 == 0:
            b.run_ms(pause * 1000)
            pauses += 1
    during = b.flash_writes - start
    b.run_ms(10000)
    return {"pause_s": pause, "writes_during_hour": during, "pauses": pauses,
            "writes_after_final_pause": b.flash_writes - start - during, "faults": len(b.sim.faults)}


def mode_console(board, flash, firmware, stdio):
    """Bytes the main loop allocates per idle pass and per `status` request, through the
    firmware's own UsbConsole: on the model of rp2's USB port (`stdio` 0), or on the Unix
    port's real sys.stdin, sys.stdout and select (`stdio` 1: stdin a pipe from bench.py,
    which sends 100 `status` lines once this prints `ready` on stderr)."""
    b, meter, steps = make_board(board, flash, firmware, "bytes")
    b.stdio = bool(stdio)
    b.power(True)
    b.run_ms(3000)
    app = b.app
    answered = [0]
    answer = app._answer

    def counted(line):
        answered[0] += 1
        return answer(line)

    app._answer = counted
    steps.reset()
    b.run_ms(10000)
    idle_passes = steps.steps - steps.skipped
    idle = steps.bytes / max(idle_passes, 1)
    steps.reset()
    if stdio:
        sys.stderr.write("ready\n")
        t0 = realtime.ticks_ms()
        while (answered[0] < 100 or app.console.busy()) and realtime.ticks_diff(
                realtime.ticks_ms(), t0) < 60000:
            b.run_ms(10)
    else:
        _statuses(b, 100)
    counted_passes = steps.steps - steps.skipped
    return {"idle_passes": idle_passes, "bytes_per_idle_pass": idle, "statuses": answered[0],
            "status_passes": counted_passes, "skipped": steps.skipped,
            "bytes_per_status": (steps.bytes - idle * counted_passes) / max(answered[0], 1),
            "max_pass_bytes": steps.max_bytes, "faults": len(b.sim.faults)}


def _statuses(b, n):
    """`n` status requests on the model of rp2's USB port, each once the last was answered."""
    for _ in range(n):
        k = len(b.console.out)
        b.console.send("status\n")
        while len(b.console.out) == k:
            b.run_ms(1)


def mode_status(board, flash, firmware, n):
    """Bytes the firmware allocates answering `n` status requests, with a headphone set
    (the SPL and the headphone's figures in every reply) and a host monitoring (the state
    events a turn pushes): the whole App, its UsbConsole on the USB port's model. Quick
    (a small heap is fine): tests/test_jsonout.py runs it."""
    b, meter, steps = make_board(board, flash, firmware, "bytes")
    b.power(True)
    b.run_ms(3000)
    writes = b.flash_writes
    for line in ("set headphone 300 97 dB/mW HD 600", "monitor on"):
        k = len(b.console.out)
        b.console.send(line + "\n")
        for _ in range(10000):     # the reply, within 10 s of the board's time
            if len(b.console.out) > k:
                break
            b.run_ms(1)
        else:
            raise RuntimeError("no reply to %r in 10 s (the firmware restarting? its log: "
                               "%s/headroom.log)" % (line, flash))
    for _ in range(1000):      # the settings save the new headphone asks for
        if b.flash_writes != writes:
            break
        b.run_ms(10)
    else:
        raise RuntimeError("no settings save within 10 s of the headphone")
    _statuses(b, 1)  # what a first reply makes once: the headphone's JSON, kept
    steps.reset()
    _statuses(b, n)
    status_bytes, status_passes = steps.bytes, steps.steps - steps.skipped
    steps.reset()
    k = len(b.console.out)
    b.run_us(b.turn(6, rate=5))
    b.run_ms(500)
    events = [x for x in b.console.out[k:] if x.startswith('{"event"')]
    return {"statuses": n, "status_bytes": status_bytes, "status_passes": status_passes,
            "turn_bytes": steps.bytes, "turn_passes": steps.steps - steps.skipped,
            "events": len(events), "last": b.console.out[-1], "faults": len(b.sim.faults)}


def mode_stream(board, flash, firmware, port, pages):
    """Bytes the main loop allocates a pass with `pages` live pages streaming the state: idle
    (a ping now and then), and while the knob turns (every detent a state to each page).
    The firmware's own net.py on the Unix port's sockets (the board's port 80 given as
    the host's `port`, as the virtual board does: vboard/vmsocket.py)."""
    import json
    sys.path.insert(0, _host + "/headroom/vboard")
    import vmsocket
    vmsocket.map_port(80, port)
    sys.modules["socket"] = vmsocket
    with open(flash + "/wifi.json", "w") as f:
        f.write(json.dumps({"v": 1, "ssid": "home", "key": "a good key"}))
    b, meter, steps = make_board(board, flash, firmware, "bytes")
    b.net = None    # the firmware's net.py, on the VM's sockets
    b.power(True)
    b.run_ms(3000)
    app = b.app
    for _ in range(1000):
        if app.web.sock is not None:
            break
        b.run_ms(10)
    now = b.sim.clock.ticks_ms()
    token, why = app.pairing.pair(app.pairing.start(now), now)
    sys.stderr.write("ready %s\n" % token)
    t0 = realtime.ticks_ms()
    while app.web.streams() < pages and realtime.ticks_diff(realtime.ticks_ms(), t0) < 60000:
        b.run_ms(10)
        realtime.sleep_ms(1)
    pages = app.web.streams()
    b.run_ms(1000)     # the first states out
    steps.reset()
    b.run_ms(5000)
    idle_passes = steps.steps - steps.skipped
    idle = steps.bytes / max(idle_passes, 1)
    steps.reset()
    detents = 0
    for i in range(6):
        n = 10 if i % 2 == 0 else -10
        b.run_us(b.turn(n, rate=10))
        b.run_ms(200)
        detents += abs(n)
    passes = steps.steps - steps.skipped
    return {"pages": pages, "idle_passes": idle_passes, "bytes_per_idle_pass": idle,
            "turn_passes": passes, "detents": detents, "turn_bytes": steps.bytes,
            "bytes_per_turning_pass": steps.bytes / max(passes, 1),
            "bytes_per_detent": (steps.bytes - idle * passes) / detents,
            "max_pass_bytes": steps.max_bytes, "skipped": steps.skipped,
            "streams_left": app.web.streams(), "faults": len(b.sim.faults)}


def mode_simsize(board, flash):
    """Heap the simulator holds with the board built and powered off (no firmware)."""
    gc.collect()
    before = gc.mem_alloc()
    b, meter, steps = make_board(board, flash, None)
    b.run_ms(10)
    gc.collect()
    return {"sim_bytes": gc.mem_alloc(), "sim_board_bytes": gc.mem_alloc() - before}


def main(argv):
    mode, board, flash = argv[1], argv[2], argv[3]
    firmware = argv[4] if len(argv) > 4 and argv[4] != "-" else None
    arg = int(argv[5]) if len(argv) > 5 else 0
    if mode == "live":
        out = mode_live(board, flash, firmware, arg)
    elif mode == "turn":
        out = mode_turn(board, flash, firmware)
    elif mode == "simsize":
        out = mode_simsize(board, flash)
    elif mode == "console":
        out = mode_console(board, flash, firmware, arg)
    elif mode == "status":
        out = mode_status(board, flash, firmware, arg)
    elif mode == "hour":
        out = mode_hour(board, flash, firmware, arg)
    elif mode == "stream":
        out = mode_stream(board, flash, firmware, arg, int(argv[6]))
    else:
        print("unknown mode %r" % mode)
        return 2
    import json
    print(json.dumps(out))
    return 0


sys.exit(main(sys.argv))
