"""The virtual board's MicroPython side: boots the VM the way rp2's main.c does.

Runs on the MicroPython Unix port only, started by the supervisor (stdin a pipe from
it, stdout and stderr a pipe to it) as

    micropython -X heapsize=8M -i vm_boot.py image=... board=... mode=friendly|raw
                cause=power-on|watchdog|machine.reset side=FD cut=FD ctl=FD t0=US
                [trace=FILE] [web=PORT]

`boot()` does, in order (the host's files are reachable until step 3 only):

1. loads the simulator (the `machine`, `rp2` and `time` shims, the chip models, and
   whatever they import later) and the board file (with the repository's parser);
2. opens the flash image (FileBlockDev, write-through) and the trace file;
3. mounts the image as littlefs at / in place of the host's filesystem (formatting
   it when it does not mount, as rp2's _boot.py does), chdir("/"), and sets
   sys.path to rp2's ['', '.frozen', '/lib'];
   on a Pico W board (`web=PORT`, the host's TCP port for the web remote), `socket`
   becomes vmsocket.py: the Unix port's sockets, the board file's port (80) mapped to
   PORT, so the firmware's server listens on 127.0.0.1:PORT;
4. powers the simulated board on; the firmware's time runs on the virtual clock,
   paced to wall time (Pacer); hard IRQ handlers run with the heap locked; the PIO
   runs on pio_mp (the simulator's own engine needs CPython);
5. runs boot.py, then main.py in friendly-REPL mode only (rp2's main.c does the
   same: after a soft reset from the raw REPL, as mpremote does, main.py does not run);
6. returns, and `-i` gives MicroPython's own REPL (friendly, raw and raw-paste).

Side channel to the supervisor, one line per message:

- `ready`: the board is up, Ctrl-C may be delivered;
- `fatal ERROR`: it could not be set up;
- `formatted`: the image did not mount and was formatted;
- `repl`: boot.py/main.py are done, the REPL's banner comes next;
- `reset CAUSE`: machine.reset() or the watchdog, a hard reset (the supervisor kills
  this VM and starts another);
- `soft`: SystemExit out of boot.py/main.py, a soft reset;
- `wdt MS`: the watchdog counts, MS left: machine.WDT started or fed (at most every
  50 ms while the timeout stays the same), or WATCHDOG_CTRL.ENABLE set again;
- `wdt off`: WATCHDOG_CTRL.ENABLE cleared (machine.mem32): the watchdog stopped;
- `b`: a block of flash programmed or erased;
- `cut`: power lost in the middle of a block operation (the armed cut, below);
- `off`: the MCU stopped after the supply went off (`power off` on the control pipe);
- `input TAG ok` / `input TAG error WHY`: an input line (`input TAG LINE` on the
  control pipe) is over, or was refused.

Pipes from the supervisor: `cut` carries 4-byte counts (little-endian): lose power
in the middle of the block operation after that many more (vmpipes.CutGate); a last byte of
0xF0-0xF2 is not a count but the flash's state from now on: takes writes, refuses
them with ENOSPC (full), with EIO (`fault flash full|eio|ok`); `ctl` carries
text lines for the simulated board (`power off`, `input TAG LINE`: _Control), read
while the firmware sleeps.
`t0` is the virtual time the supervisor has reached (us), so that one trace runs on
across the VM's restarts.
"""
import sys

import vfs

_vboard_dir = __file__[:__file__.rfind("/")]
_host_tools = _vboard_dir[:_vboard_dir.rfind("/headroom/vboard")]
_repo = _host_tools[:_host_tools.rfind("/")]
_shims = _host_tools + "/headroom/sim/shims"

_side = None
_realtime = None
_main_globals = None
_state_out = None     # where a soft reset writes down the pins and chips (state=FILE)
_board = None


def side(msg):
    """A message to the supervisor."""
    if _side is not None:
        _side.write(msg + "\n")


class Pacer:
    """Keeps the virtual clock in step with wall time while the firmware runs.

    Virtual time passes while code sleeps (time.sleep_*, paced to wall time) and while
    it computes between two sleeps (counted at the next sleep). Not at the REPL's
    prompt: more than LAG_US of wall time since the last sleep is not caught up.
    """

    LAG_US = 50000

    def __init__(self, rt, v0=0):
        self.rt = rt
        self.v0 = v0
        self.w0 = rt.ticks_us()
        self.w0_ms = rt.ticks_ms()
        self.sleeper = None   # sleep_us(us) -> False when cut short (vmpipes.Interrupts)

    def now(self, v):
        """The virtual time wall time has reached (us), or `v` after a long pause."""
        rt = self.rt
        if rt.ticks_diff(rt.ticks_ms(), self.w0_ms) > 60000:
            return v
        d = rt.ticks_diff(rt.ticks_us(), self.w0)
        if d <= 0 or d > self.LAG_US:
            return v
        return max(v, self.v0 + d)

    def wait_until(self, v):
        """Sleep (really) until wall time reaches virtual time `v` (us); v - v0 <= 1 s.
        False if `sleeper` (vmpipes.Interrupts.sleep_us) was cut short by a Ctrl-C."""
        rt = self.rt
        if rt.ticks_diff(rt.ticks_ms(), self.w0_ms) > 60000:
            self.w0 = rt.ticks_us()  # idle for a long while: start afresh from now
            self.v0 = v
        due = rt.ticks_add(self.w0, v - self.v0)
        late = rt.ticks_diff(rt.ticks_us(), due)
        if late < 0:
            if self.sleeper is not None:
                if not self.sleeper(-late):
                    return False   # a Ctrl-C: the clock stays where it was, the caller takes it
            else:
                rt.sleep_us(-late)
        elif late > self.LAG_US:
            due = rt.ticks_us()  # far behind (the REPL, a slow step): do not race to catch up
        self.v0 = v
        self.w0 = due
        self.w0_ms = rt.ticks_ms()
        return True


_controls = [None]


class _Running:
    """The simulator's handle on the running firmware: main.py drives itself here."""

    waker = None

    def step(self):
        return 1000


def _soft_reset():
    raise SystemExit  # rp2: machine.soft_reset() raises SystemExit, a soft reset


def _load_board(path, firmware=None):
    """The board file, parsed by the host tools' firmware (not the image's): `firmware`,
    the folder the supervisor names (headroom.paths: the checkout's or the installed copy),
    else the checkout's beside these files."""
    import json
    sys.path.insert(0, firmware or _repo + "/firmware")
    try:
        from headroom_fw import board as boardfile
        with open(path) as f:
            text = f.read()
        b = boardfile.parse(json.loads(text), path[path.rfind("/") + 1:])
    finally:
        sys.path.pop(0)
        for name in list(sys.modules):
            if name == "headroom_fw" or name.startswith("headroom_fw."):
                del sys.modules[name]
    return b


# Everything the simulator may import after boot, when the host's files are out of reach.
_PRELOAD = ("math", "json", "headroom.sim.clock", "headroom.sim.i2s", "headroom.sim.i2s_wire",
            "headroom.sim.i2s_receiver", "headroom.sim.irqlock",
            "headroom.sim.models.controls", "headroom.sim.models.jack",
            "headroom.sim.models.pcm5102a", "headroom.sim.models.pcm5122_regs",
            "headroom.sim.models.pcm5122", "headroom.sim.models.oled_cmds",
            "headroom.sim.models.oled", "headroom.sim.irframes", "headroom.sim.models.irrx",
            "headroom.sim.models.source", "headroom.sim.models.cyw43", "headroom.sim.pwm",
            "headroom.sim.models.pga2311", "headroom.sim.models.relay", "headroom.sim.part",
            "headroom.sim.shims.machine", "headroom.sim.shims.machine_timers",
            "headroom.sim.shims.shimbase", "headroom.sim.simboard", "headroom.sim.trace",
            "headroom.sim.scenario", "headroom.sim.world", "headroom.sim.gpio",
            "headroom.sim.mcu", "headroom.sim.watchdog", "headroom.sim.buses",
            "headroom.sim.boardparts", "headroom.vboard.blockdev", "headroom.vboard.inputs",
            "headroom.vboard.pio_mp", "headroom.vboard.vmpipes", "headroom.vboard.vmsim",
            "headroom.vboard.vmsocket")


def _preload():
    """Import the shims (cached in sys.modules as machine, rp2, time, network) and the
    simulator. `network` as on CPython (sim/shims/__init__.py): on a board without a
    CYW43 its WLAN raises OSError, as on a chip that is not there."""
    sys.path.insert(0, _shims)
    for name in ("machine", "rp2", "time", "network"):
        __import__(name)
    sys.path.pop(0)
    for name in _PRELOAD:
        __import__(name)


def _hang():
    """The MCU is gone (power, reset): wait here until the supervisor ends this VM."""
    while True:
        try:
            _realtime.sleep_ms(100)
        except BaseException:  # noqa: B036 - nothing may stop a reset
            pass


def _build(board, board_name, trace_sink, cause, t0_us=0, kept=None, levers=""):
    """The simulated board's parts, powered, the MCU started (without the firmware).
    `kept`: after a soft reset, what the last VM wrote down: the pins keep driving and the
    chips keep their state, as on rp2, so the trace shows only the reset. `levers`: where
    a person left the switches ("gain:high,output:balanced"): a reset or a power cycle
    does not move a lever, so the firmware finds them there at power-on."""
    from headroom.sim.irqlock import install as lock_irqs
    from headroom.sim.simboard import SimBoard
    from headroom.sim.trace import Trace
    from headroom.vboard.pio_mp import PIOEngine
    from headroom.vboard.vmsim import VmSim

    trace = Trace(board_name, trace_sink, False, header=t0_us == 0)
    trace.muted = kept is not None
    sim = VmSim(trace, t0_us, side, _hang, _realtime)
    sim.cpu_enter()   # this process is that board's CPU, for good
    running = _Running()
    # flash_dir "/": the image, where board.json already is; main.py runs itself.
    b = SimBoard(board_name, flash_dir="/", board=board, sim=sim, firmware=lambda s: running)
    sim.peripherals["pio"] = PIOEngine(sim)
    lock_irqs(sim)  # hard IRQ handlers run with the heap locked, as on the board
    if kept is None:
        for kv in levers.split(","):
            which, _, pos = kv.partition(":")
            if which == "gain":
                b.set_gain(pos)
            elif which == "output":
                b.set_output(pos)
    sim.power(True)
    sim.clock.run_until(sim.clock.now_us + sim.boot_delay_us(), sim.run_scheduled)
    sim.reset_cause = cause
    if kept is not None:
        sim.restore(kept["sim"])
        sim.reset_cause = kept["reset_cause"]
        trace.muted = False
        sim.emit("reset", [("cause", "soft")])
    _controls[0] = _Control(b)
    sim.go_live(Pacer(_realtime, sim.clock.now_us), _controls[0], _interrupts[0])
    sim.on_mcu_stop.append(_powered_off)
    return b


def _powered_off(cause):
    if cause == "power":
        side("off")
        _hang()


class _Control:
    """Lines from the supervisor's `ctl` pipe, for the simulated board, taken between
    the firmware's passes (while it sleeps): `power off|on` (the supply), and
    `input TAG LINE`, a person's input (inputs.py), answered `input TAG ok` or
    `input TAG error WHY` on the side channel once it is over."""

    def __init__(self, board):
        from headroom.vboard.inputs import Queue
        self.board = board
        self.f = None
        self.poll = None
        self.buf = b""
        self.inputs = Queue(board, self._done)

    def open(self, f):
        import select
        self.f = f
        self.poll = select.poll()
        self.poll.register(self.f, select.POLLIN)

    def pump(self):
        if self.poll is None:
            return
        while self.poll.poll(0):
            c = self.f.read(1)  # the Unix port's os has no read(); lines are short
            if not c:
                self.poll = None  # the supervisor is gone
                return
            self.buf += c
        while b"\n" in self.buf:
            i = self.buf.find(b"\n")
            line, self.buf = self.buf[:i].decode(), self.buf[i + 1:]
            self.do(line.strip())

    def do(self, line):
        if line == "power off":
            self.board.power(False)
        elif line == "power on":
            self.board.power(True)
        elif line.startswith("input "):
            tag, _, text = line[6:].partition(" ")
            self.inputs.add(tag, text)

    def _done(self, tag, error):
        side("input %s %s" % (tag, "ok" if error is None else "error " + error))


def _intr_again():
    """A Ctrl-C landed in a flash operation (blockdev.Unbroken), which has finished: the
    supervisor sends it again. Allocation-free: littlefs calls the device with the heap
    locked."""
    if _side is not None:
        _side.write("intr\n")


_interrupts = [None]


def _mount(image, cut_fd):
    from headroom.vboard.blockdev import PROG_SIZE, FileBlockDev, Unbroken
    f = open(image, "r+b")
    from headroom.vboard.vmpipes import CutGate
    cut = open("/proc/self/fd/%d" % cut_fd, "rb") if cut_fd else None
    bdev = Unbroken(FileBlockDev(f, gate=CutGate(cut, _side, _hang)), _intr_again)
    try:
        fs = vfs.VfsLfs2(bdev, progsize=PROG_SIZE)
    except OSError:
        vfs.VfsLfs2.mkfs(bdev, progsize=PROG_SIZE)
        fs = vfs.VfsLfs2(bdev, progsize=PROG_SIZE)
        side("formatted")
    return fs


def _exists(path):
    import os
    try:
        os.stat(path)
        return True
    except OSError:
        return False


def _sweep():
    """rp2 ends a soft reset with gc_sweep_all(): finalisers run, so open files get closed.

    The Unix port exits without that; here the REPL's globals and the modules are dropped
    and the GC finalises what nothing else holds (at exit: sys.atexit).
    """
    import gc
    global _state_out
    if _state_out is not None and _board is not None:
        import json
        _state_out.write(json.dumps({"sim": _board.sim.snapshot(),
                                     "reset_cause": _board.sim.reset_cause}))
        _state_out.close()
        _state_out = None
    if _main_globals is not None:
        for k in list(_main_globals):
            if k != "__name__":
                del _main_globals[k]
    for name in list(sys.modules):
        del sys.modules[name]
    gc.collect()


def _run_file(path, g):
    """pyexec_file: run a script; an exception is printed, SystemExit is a soft reset."""
    try:
        execfile(path, g)  # noqa: F821 - a MicroPython builtin
    except SystemExit:
        _sweep()
        side("soft")
        _hang()
    except BaseException as e:  # noqa: B036 - KeyboardInterrupt too, as on the board
        _print_exception(e)


def _print_exception(e):
    """As rp2 prints it: pyexec runs main.py from C, and `machine` is C, so the
    traceback has no frame of this file nor of the simulator's (a Ctrl-C taken at a call
    into `machine` ends at the firmware's line that made it)."""
    import io
    buf = io.StringIO()
    sys.print_exception(e, buf)
    for line in buf.getvalue().split("\n"):
        if line and "/headroom/vboard/" not in line and "/headroom/sim/" not in line:
            print(line)


def _web_port(board, host_port):
    """The firmware's `socket` from now on: the Unix port's, the board's web port (the
    board file's wifi.port, 80) given as `host_port` on this machine (vmsocket.py)."""
    from headroom.vboard import vmsocket
    wifi = getattr(board, "wifi", None)
    if wifi is not None:
        vmsocket.map_port(wifi.port, host_port)
        sys.modules["socket"] = vmsocket


def _read_kept(path):
    """What the VM before wrote at its soft reset; None (a fresh board) when it wrote
    nothing: it died instead (a crash, a kill)."""
    import json
    try:
        with open(path) as f:
            d = json.loads(f.read())
        return d if isinstance(d, dict) and "sim" in d else None
    except (OSError, ValueError):
        return None


def _setup(opts):
    _preload()
    board = _load_board(opts["board"], opts.get("firmware"))
    t0 = int(opts.get("t0", "0"))
    trace = open(opts["trace"], "a" if t0 else "w") if opts.get("trace") else None
    # Opened now: once the image is mounted at /, the host's /proc is out of reach.
    ctl = open("/proc/self/fd/" + opts["ctl"], "rb") if opts.get("ctl") else None
    if opts.get("intr"):
        from headroom.vboard.vmpipes import Interrupts
        # The inherited descriptor itself, not a reopening: it is non-blocking, and the
        # supervisor reads the same pipe to claim a Ctrl-C we have not taken.
        _interrupts[0] = Interrupts(open(int(opts["intr"]), "rb"), _side,
                                    _realtime)
    kept = None
    global _state_out, _board
    if opts.get("state"):
        if opts.get("cause") == "soft":
            kept = _read_kept(opts["state"])
        _state_out = open(opts["state"], "w")   # this VM's, written at its soft reset
    fs = _mount(opts["image"], int(opts.get("cut", "0")))
    vfs.umount("/")
    vfs.mount(fs, "/")
    import os
    os.chdir("/")
    sys.path[:] = ["", ".frozen", "/lib"]
    if opts.get("web"):
        _web_port(board, int(opts["web"]))
    import machine
    machine.soft_reset = _soft_reset
    cause = opts.get("cause", "power-on")
    _board = _build(board, opts["board"][opts["board"].rfind("/") + 1:], trace,
                    "power-on" if cause == "soft" else cause, t0, kept, opts.get("levers", ""))
    if ctl is not None:
        _controls[0].open(ctl)


def boot(args, realtime, main_globals):
    global _side, _realtime, _main_globals
    _realtime = realtime
    _main_globals = main_globals
    sys.atexit(_sweep)  # a soft reset from the REPL (Ctrl-D, SystemExit) ends the VM
    opts = {}
    for a in args:
        kv = a.split("=", 1)
        opts[kv[0]] = kv[1] if len(kv) > 1 else ""
    del sys.argv[:]
    if opts.get("side"):
        _side = open("/proc/self/fd/" + opts["side"], "w")
    try:
        _setup(opts)
    except BaseException as e:  # noqa: B036 - no board to give a REPL on
        sys.print_exception(e)
        side("fatal %s: %s" % (type(e).__name__, e))
        while True:  # the supervisor ends this VM
            try:
                _realtime.sleep_ms(100)
            except BaseException:  # noqa: B036
                pass
    side("ready")
    try:
        if _exists("boot.py"):
            _run_file("boot.py", main_globals)
        if opts.get("mode") != "raw" and _exists("main.py"):
            _run_file("main.py", main_globals)
    except KeyboardInterrupt as e:  # between the files
        sys.print_exception(e)
    if _board is not None:
        _board.sim.interrupts_off()
    side("repl")
