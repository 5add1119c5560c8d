"""A whole simulated Headroom board: the parts of a board file, wired, running the firmware.

    b = SimBoard("boards/pico-se.json")
    b.power(True); b.run_ms(2500)
    b.turn(+4, rate=5); b.run_ms(1000)
    b.jack.levels        # what reaches the headphones, cdB per channel

The firmware is imported from firmware/ unchanged, fresh at every boot, and
reads board.json and the settings copies from the board's flash directory.
"""
import os
import sys

from . import shims, world
from .boardparts import PARTS
from .cdc import SimCdc
from .models.controls import Rng, ThreePositionSwitch
from .trace import Trace


def _dirname(p):
    i = p.rfind("/")
    return p[:i] if i > 0 else ("/" if i == 0 else ".")


def _basename(p):
    return p[p.rfind("/") + 1:]


def _join(a, b):
    return a + b if a.endswith("/") else a + "/" + b


def _abspath(p):
    return p if p.startswith("/") else _join(os.getcwd(), p)


# Paths by hand: MicroPython has no os.path, and this module runs there too.
_HERE = _dirname(_abspath(__file__))
REPO_DIR = _dirname(_dirname(_dirname(_HERE)))
FIRMWARE_DIR = _join(REPO_DIR, "firmware")
if sys.implementation.name != "micropython":
    from ..paths import FIRMWARE_DIR  # the checkout's, or an installed package's copy


def use_firmware(path=None):
    """Make the firmware (default: firmware/) importable over the simulated machine modules."""
    shims.install()
    path = path or FIRMWARE_DIR
    if path not in sys.path:
        sys.path.insert(0, path)


def _purge_firmware():
    for name in list(sys.modules):
        if name == "headroom_fw" or name.startswith("headroom_fw."):
            del sys.modules[name]


ENOSPC = 28
EIO = 5
ENAMETOOLONG = 36   # littlefs: a new file's entry finds no room (lfs_file_open on NOSPC)


class SimFiles:
    """The board's flash for the firmware (headroom_fw.files.Files' calls, on a folder of
    this machine): each write costs what littlefs costs on the Pico's flash - programs
    and now and then an erase, with interrupts off - and is recorded (`flash` trace
    records, `writes`).

    As on littlefs, a file written is replaced when it is closed (copy on write: until
    then, and if the close fails, the old contents stay). `fail` makes the flash refuse:
    "full" (no free block: closing or renaming a file with new data raises OSError(28)
    ENOSPC; creating one OSError(36), littlefs's answer when a new entry finds no room)
    or "eio" (the chip fails every program: OSError(5) EIO);
    None, it works. A refused write leaves no `flash` record (nothing was written) and
    is counted in `failed`."""

    def __init__(self, sim, root):
        self.sim = sim
        self.root = root
        self.writes = 0
        self.failed = 0
        self.fail = None

    def _path(self, p):
        return p if p.startswith("/") else _join(self.root, p)

    def _refuse(self, create=False):
        if self.fail is not None:
            self.failed += 1
            self.sim.charge(self.sim.cost.fs_work())   # littlefs looked for blocks first
            if self.fail == "eio":
                raise OSError(EIO, "EIO")
            if create:
                raise OSError(ENAMETOOLONG, "ENAMETOOLONG")
            raise OSError(ENOSPC, "ENOSPC")

    def open(self, path, mode="r"):
        if "w" in mode or "a" in mode:
            full = self._path(path)
            if self.fail is not None and not _exists(full):
                self._refuse(create=True)  # a new file needs room for its entry
            return _Written(full, mode, self, _basename(path))
        return open(self._path(path), mode)

    def rename(self, old, new):
        self._refuse()
        os.rename(self._path(old), self._path(new))
        self._wrote(_basename(new), os.stat(self._path(new))[6])

    def remove(self, path):
        os.remove(self._path(path))

    def size(self, path):
        return os.stat(self._path(path))[6]

    def _wrote(self, name, nbytes):
        if name.endswith(".tmp"):
            return  # the rename that follows is the write that counts
        self.writes += 1
        self.sim.emit("flash", [("file", name), ("bytes", nbytes)])
        self.sim.charge(self.sim.cost.fs_work())
        for us in self.sim.cost.flash_write():
            self.sim.stall(us, irqs_off=True)


def _exists(path):
    # Not os.path.exists: this file runs on the MicroPython VM too (test_conformance),
    # which has no os.path.
    try:
        os.stat(path)
        return True
    except OSError:
        return False


class _Written:
    """A file open for writing: closing it is when littlefs programs the flash (and the
    file takes its new contents; a close the flash refuses leaves the old ones)."""

    def __init__(self, path, mode, files, name):
        self.path = path
        self.mode = mode
        self.files = files
        self.name = name
        self.data = []
        self.n = 0
        self.closed = False
        if "w" in mode and not _exists(path):
            open(path, "w").close()   # created at open, as littlefs does, empty

    def write(self, data):
        self.n += len(data)
        self.data.append(data)
        return len(data)

    def close(self):
        if self.closed:
            return
        self.closed = True
        if self.n:
            self.files._refuse()
        with open(self.path, self.mode) as f:
            f.write(("" if "b" not in self.mode else b"").join(self.data))
        self.files._wrote(self.name, self.n)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class SimBoard:
    def __init__(self, board_path, flash_dir=None, trace_sink=None, seed=1, start_ms=0,
                 keep_trace=True, firmware_dir=None, decoder=None, record_dac=False, cost=None,
                 timer_start_ms=0, *, board=None, sim=None, firmware=None, web_port=0):
        """`decoder` ("pio"/"irq") overrides the board file's encoder.decoder;
        `record_dac` keeps the DAC's analog output, for jack_vrms(); `cost`: the cost
        model (sim/cost.py; default: typical costs); `timer_start_ms`: what the MCU's
        timer reads at every reset (world.Sim: near 2**30 to run across the ticks' wrap).

        For a board whose code runs somewhere else (the virtual board's VM, vboard/vm.py):
        `board`, the board file already parsed (`board_path` is then its name only: nothing
        read, nothing written to `flash_dir`); `sim`, the world.Sim to wire the parts to
        (a subclass with its own reset, sleep and watchdog; its trace is the board's);
        `firmware`, fn(sim) -> the handle world.Sim steps, in place of booting firmware/
        (and no boot.py: that code runs its own). `web_port`: on a board with `wifi`, the
        desktop's port the web remote listens on (0: any free one; `web_url` tells)."""
        self.record_dac = record_dac
        self.board_name = _basename(board_path)
        if board is None:
            use_firmware(firmware_dir)
            from headroom_fw import board as boardfile
            with open(board_path) as f:
                text = f.read()
            d = _json_loads(text)
            if decoder is not None:
                d["encoder"]["decoder"] = decoder
                text = _json_dumps(d)
            board = boardfile.parse(d, self.board_name)
        else:
            text = None
        self.board = board
        if flash_dir is None:
            # A folder of its own, removed with the board (or at exit): CPython only, as
            # MicroPython callers always pass theirs.
            import shutil
            import tempfile
            import weakref
            flash_dir = tempfile.mkdtemp(prefix="headroom-flash-")
            weakref.finalize(self, shutil.rmtree, flash_dir, True)
        self.flash_dir = flash_dir
        if text is not None:
            with open(_join(flash_dir, "board.json"), "w") as f:
                f.write(text)
        if sim is None:
            sim = world.Sim(Trace(self.board_name, trace_sink, keep_trace), start_ms * 1000,
                            cost=cost, timer_start_ms=timer_start_ms)
        self.sim = sim
        self.trace = sim.trace
        if firmware is None:
            sim.firmware = self._boot_firmware
            sim.boot_py = self._boot_py
        else:
            sim.firmware = firmware
        self.rng = Rng(seed)
        self.seed = seed
        self._build()
        self.console = SimCdc(self.sim)  # the USB serial port; its host end for the tests
        # True: the firmware's console on this process's own sys.stdin, sys.stdout and
        # select instead (the benchmark, on the MicroPython VM: the Unix port's streams).
        self.stdio = False
        self._settings_path = _join(flash_dir, "settings.json")
        self.files = SimFiles(self.sim, flash_dir)
        self.net = None
        if getattr(board, "wifi", None) is not None and firmware is None:
            from .net import SimNet
            self.net = SimNet(self.sim, web_port)

    def provision_wifi(self, key="a good key"):
        """A Pico W board as `headroom wifi set` leaves it: wifi.json names the simulated
        access point's network (the front panel starts this way; a test that sets it
        over USB need not)."""
        with open(_join(self.flash_dir, "wifi.json"), "w") as f:
            f.write(_json_dumps({"v": 1, "ssid": self.wifi.ssid, "key": key}))

    @property
    def web_url(self):
        """The web remote's address on this machine once the firmware listens, else None."""
        app = self.app
        return app.web.address if app is not None and app.web is not None else None

    @property
    def flash_writes(self):
        return self.files.writes

    def _build(self):
        b, s = self.board, self.sim
        # Board resistors: CS held high and MUTE held low while the MCU is not driving them.
        s.gpio[b.pga_cs].board_pull = 1
        s.gpio[b.pga_mute].board_pull = 0
        if getattr(b, "trigger_pin", None) is not None:
            s.gpio[b.trigger_pin].board_pull = 0   # the trigger stage's base pull-down: off
        if b.dac == "pcm5122":
            # The I2C bus's 4.7 k pull-ups (the wiring tables).
            s.gpio[b.dac_sda].board_pull = 1
            s.gpio[b.dac_scl].board_pull = 1
        for attr, make in PARTS:     # sim/boardparts.py
            part = make(self)
            setattr(self, attr, s.add_part(part) if part is not None else None)
        self.relays = {name: getattr(self, name + "_relay") for name in ("mute", "gain", "output")
                       if getattr(self, name + "_relay") is not None}
        # Switches start in the low-gain, single-ended positions.
        self.set_gain("low")
        self.set_output("se")

    def _boot_py(self, sim):
        # firmware/boot.py, on the simulated board's files
        from headroom_fw.quiet import quiet
        from headroom_fw.watchdog import stop
        quiet(_join(self.flash_dir, "board.json"))
        stop()

    def interrupt(self):
        """Ctrl-C, as mpremote sends before anything else: KeyboardInterrupt out of the
        main loop, where lifecycle.run() goes quiet in order, saves what changed and stops
        the watchdog (lifecycle.interrupted); the REPL has the board then."""
        s = self.sim
        fw = s.app
        if fw is None:
            return
        from headroom_fw.lifecycle import interrupted
        s.in_firmware += 1
        prev = s.cpu_enter()
        try:
            interrupted(fw)
        finally:
            s.cpu_exit(prev)
            s.in_firmware -= 1
        s.app = None
        s.next_wake_us = None
        s.waiting = None

    def soft_reset(self, main=True):
        """Ctrl-D (main.py runs again) or mpremote's raw REPL (`main` False): pins and
        chips keep their state, boot.py runs (world.Sim.soft_reset)."""
        self.sim.soft_reset(main)

    def _boot_firmware(self, sim):
        _purge_firmware()
        from headroom_fw import lifecycle
        from headroom_fw.console import UsbConsole
        cdc = self.console
        cdc.reset()
        if self.net is not None:
            self.net.close_all()   # a reset: the old firmware's sockets are gone
        # The firmware's own console, on the model of rp2's port in place of sys.stdin,
        # sys.stdout and select.
        con = (UsbConsole() if self.stdio else
               UsbConsole(stdin=cdc.stdin, stdout=cdc.stdout, select_module=cdc))
        return lifecycle.Firmware(self.flash_dir + "/", con, self.files, self.net)

    @property
    def app(self):
        """The firmware's App while it runs (None: off, crashed, or in its fault state)."""
        fw = self.sim.app
        return fw.app if fw is not None else None

    # ---- faults a part can have (the scenario's `fault` command)
    def fault(self, what, on=True):
        """`dac` absent (no acknowledge), `display` absent (no acknowledge), `i2c` stuck
        (SDA held low: the DAC's bus, else the display's), `pga` reset (the chain
        loses its codes, as after a supply dip the monitor did not see), `sense` low (the
        supply monitor reads low though the supply is good), `relay.NAME` stuck (its contacts
        stay where they are: `on` True; False frees them), `flash` "full" (littlefs has no
        free block: writes fail with ENOSPC) or "eio" (every program fails: EIO; False or
        None: it works again)."""
        b, s = self.board, self.sim
        if what == "dac":
            if b.dac != "pcm5122":
                raise ValueError("this board's DAC has no I2C")
            self.dac.absent = on
        elif what == "i2c":
            # The DAC's bus, or else the display's.
            if b.dac == "pcm5122":
                sda = b.dac_sda
            elif b.display is not None and b.display.bus == "i2c":
                sda = b.display.sda
            else:
                raise ValueError("this board has no I2C bus")
            s.gpio[sda].drive("stuck", 0 if on else None)
        elif what == "display":
            if self.display is None:
                raise ValueError("this board has no display")
            self.display.absent = on
        elif what == "pga":
            self.pga.lose_codes()
        elif what.startswith("relay."):
            r = self.relays.get(what[6:])
            if r is None:
                raise ValueError("this board has no %s relay" % what[6:])
            r.stick(r.energized if on else None)
        elif what == "sense":
            if self.power_sense is None:
                raise ValueError("this board has no supply monitor")
            self.power_sense.stick(on)
        elif what == "flash":
            if on not in (None, False, "full", "eio"):
                raise ValueError("the flash fails as 'full' or 'eio'")
            self.files.fail = on or None
        else:
            raise ValueError("no such fault: %s" % what)

    # ---- the user's hands
    def power(self, on):
        self.sim.power(on)

    def turn(self, detents, rate=10.0, bounce_us=0, at_us=None):
        """Turn the knob (from now, or from sim time `at_us`); returns the time the turn
        takes in us (the caller runs the board)."""
        if detents == 0:
            return 0
        return self.turn_mhz(detents, int(round(rate * 1000)), bounce_us, at_us)

    def turn_mhz(self, detents, rate_mhz, bounce_us=0, at_us=None):
        """turn() at rate_mhz/1000 detents per second (integer: the same on every VM)."""
        at = None if at_us is None else self.sim.clock.origin_us + at_us
        us = self.encoder.turn(detents, rate_mhz, bounce_us, at)
        self.sim.emit("input", [("what", "turn"), ("detents", detents), ("us", us)])
        return us

    def set_gain(self, pos, bounce_us=0):
        """The gain switch to `pos`: low or high, or auto (a three-position switch's middle)."""
        if self.gain_switch is None:
            return
        three = isinstance(self.gain_switch, ThreePositionSwitch)
        if pos not in (("low", "high", "auto") if three else ("low", "high")):
            raise ValueError("this board's gain switch is low%s, not %r"
                             % (", high or auto" if three else " or high", pos))
        self.sim.emit("input", [("what", "gain"), ("to", pos)])
        if three:
            self.gain_switch.set(pos, bounce_us)
            return
        level = self.board.gain_switch_high_level if pos == "high" else 1 - self.board.gain_switch_high_level
        self.gain_switch.set(level == 0, bounce_us)

    def set_output(self, pos, bounce_us=0):
        if self.output_switch is None:
            return
        b = self.board.output_switch_balanced_level
        level = b if pos == "balanced" else 1 - b
        self.sim.emit("input", [("what", "output"), ("to", pos)])
        self.output_switch.set(level == 0, bounce_us)

    def press(self, closed, bounce_us=0):
        self.sim.emit("input", [("what", "button"), ("closed", closed)])
        self.button.set(closed, bounce_us)

    def ir(self, proto, addr, cmd, hold_ms=0, nbits=12):
        """A remote's key at the IR receiver (sim/irframes.py: "nec", "apple", "rc5",
        "sony"), held `hold_ms` (0: a press); returns how long its frames last (us)."""
        if self.ir_rx is None:
            raise ValueError("this board has no IR receiver")
        us = self.ir_rx.press(proto, addr, cmd, hold_ms, nbits)
        self.sim.emit("input", [("what", "ir"), ("proto", proto), ("addr", addr), ("cmd", cmd),
                                ("hold_ms", hold_ms), ("nbits", nbits), ("us", us)])
        return us

    def ir_noise(self, per_s):
        """A fluorescent lamp near the receiver: `per_s` short glitches a second (0: off)."""
        if self.ir_rx is None:
            raise ValueError("this board has no IR receiver")
        self.sim.emit("input", [("what", "ir_noise"), ("per_s", per_s)])
        self.ir_rx.noise(per_s)

    # ---- time
    def run_ms(self, ms):
        self.sim.run_for(int(ms * 1000))

    def run_us(self, us):
        self.sim.run_for(us)

    def run_until(self, t_us):
        self.sim.run_until(t_us)

    def now_us(self):
        return self.sim.now()

    def jack_vrms(self, ms=100):
        """Signal level at the jack per channel, in cdB re 1 Vrms (None: silent), over the
        last `ms` of the DAC's analog output (needs record_dac=True), recorded in the trace.

        The DAC's output as its model made it from the captured I2S samples, times the
        gain from the DAC to the jack that the jack model gives (PGA2311 as decoded from
        the bus, the relays' contacts, the stage gains, mutes).
        """
        import math
        want = self.board.i2s_rate * ms // 1000
        sums = [0.0, 0.0]
        n = 0
        for _t, _f0, count, volts in reversed(self.dac.analog):
            take = min(count, want - n)
            if volts is not None:
                for f in range(count - take, count):
                    sums[0] += volts[2 * f] ** 2
                    sums[1] += volts[2 * f + 1] ** 2
            n += take
            if n >= want:
                break
        out = []
        for ch in (0, 1):
            path = self.jack.levels[ch]
            if n == 0 or sums[ch] == 0 or path is None:
                out.append(None)
                continue
            dac_db = 10 * math.log10(sums[ch] / n)
            out.append(int(round(dac_db * 100)) + path - self.board.dac_cdb)
        from .trace import Db
        self.sim.emit("signal", [("left", "mute" if out[0] is None else Db(out[0], 100)),
                                 ("right", "mute" if out[1] is None else Db(out[1], 100))])
        return out

    def settings_text(self):
        """The newest settings copy as text (undecodable bytes replaced; the A/B pair of
        headroom_fw.settings, the higher sequence number `n`), None when neither exists."""
        import json
        best = None
        for path in (self._settings_path, self._settings_path[:-5] + "-b.json"):
            try:
                with open(path, "rb") as f:
                    text = f.read().decode("utf-8", "replace")
            except OSError:
                continue
            try:
                n = json.loads(text).get("n", 0)
            except (ValueError, AttributeError):
                n = -1
            if best is None or n > best[0]:
                best = (n, text)
        return None if best is None else best[1]

    def close(self):
        """The web remote's sockets closed (the board's flash folder goes with it, or at
        exit)."""
        if self.net is not None:
            self.net.close_all()


def _json_loads(text):
    import json
    return json.loads(text)


def _json_dumps(d):
    import json
    return json.dumps(d)
