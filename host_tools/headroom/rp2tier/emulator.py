"""The emulated RP2040 (PyPI rp2040py) on a thread and asyncio loop of its own; its flash.

rp2040py's API is asyncio only, and its chip runs as a task on one loop: every callback
it makes (a pin changing, an SPI byte, bytes on the USB serial port, a clock alarm)
runs there, synchronously, in the middle of an emulated instruction. `Emulator` keeps
that loop on its own thread, so that a test (or `headroom flash` in a subprocess) can
block while the chip runs, and gives the test thread:

- `call(fn)`: run `fn` on the loop, between instructions, and return its result;
- emulated time in µs since power-on (`now_us`), which is the RP2040's own time
  (125 MHz; with the CPU busy, rp2040py 1.0 runs 2-4 times slower than that in wall
  time, 0.3.6 12-30 times, 60 times with a PIO state machine at the full clock);
- `at_us(t, fn)`: `fn` at emulated time `t` exactly (a clock alarm), for stimuli;
- `wait(pred, until_us)`: block until `pred()` holds, re-checked whenever the board
  records something (`changed()`) or emulated time reaches `until_us`. Nothing here
  sleeps for a guessed wall-clock time; the wall-clock limit is only a guard against
  a hung emulator.

`FlashBusy` gives the flash chip its erase and program times (rp2040py has none).
`pchost.PcHost` makes the USB host send an OUT packet only when it has bytes, as a PC
does, and holds emulated time to the wall clock (`pc_host=False`: rp2040py's own host,
which floods the board with empty packets on 0.3.6 and not on 1.0, and no ceiling).

Subclasses wire the board in `_wire()` (runs before the first instruction, at time 0)
and hear of chip resets in `_chip_reset()`.
"""
import asyncio
import heapq
import os
import threading
import time

from .pchost import PcHost
from .seams import ResetCause, WindowTap

# A hung emulator is told from a slow one by its clock: a wait fails only when emulated
# time has not moved for this long (a loaded machine slows the board, never stops it).
STALL_S = 120.0
WALL_LIMIT_S = STALL_S   # the name the tier's callers pass; a stall limit, not a total


class EmulatorError(Exception):
    pass


class Scheduler:
    """Callbacks at emulated times (ns), on one clock alarm; loop thread only."""

    def __init__(self, clock):
        self.clock = clock
        self.heap = []
        self.seq = 0
        self.alarm = clock.create_alarm(self._fire)

    def at_ns(self, t_ns, fn):
        self.seq += 1
        heapq.heappush(self.heap, (t_ns, self.seq, fn))
        if self.heap[0][2] is fn:
            self._arm()

    def _arm(self):
        if self.heap:
            self.alarm.schedule(max(0.0, self.heap[0][0] - self.clock.nanos))
        else:
            self.alarm.cancel()

    def _fire(self):
        now = self.clock.nanos
        while self.heap and self.heap[0][0] <= now:
            _t, _s, fn = heapq.heappop(self.heap)
            fn()
        self._arm()


ERASE_US = {0x20: 45_000, 0xD8: 150_000}   # W25Q16JV typical: 4 KB sector, 64 KB block erase
PROGRAM_US = 400                            # W25Q16JV typical: one 256-byte page program
SSI_KEY = 0x18000          # the SSI's window in the chip's peripheral table (XIP_SSI_BASE)
SSI_SSIENR, SSI_DR0, SSI_DR_LAST = 0x08, 0x60, 0xEC
QSPI_SS = 1                # the flash's chip select among the QSPI pins
WREN, WRDI, WRSR, RDSR, PP = 0x06, 0x04, 0x01, 0x05, 0x02


class FlashBusy:
    """The Pico's QSPI flash (W25Q16JV) takes its time to erase and program.

    rp2040py applies an erase or a page program at once and never reports the chip busy,
    so a littlefs write costs only the CPU's part. Here the status register's BUSY bit
    stays set for the datasheet's typical time after each one (sector erase 45 ms, block
    erase 150 ms, page program 0.4 ms), from the moment chip select rises on the command,
    and the bootrom's flash routines poll it, with interrupts off, as on the board.
    `ops` logs them: (t_us, "erase"|"program", busy µs).

    It watches the flash's side of the SSI as the chip would: chip select (the QSPI SS
    pin's level), the bytes the CPU clocks in through DR0 while it is low, and its own
    write-enable latch (set by WREN, spent by an erase, a program or a status write); the
    status read's answer gets BUSY in the SSI's data register (`seams.WindowTap`). So
    nothing of rp2040py's SSI is touched but its register window, on 0.3.6 and 1.0 alike.
    """

    def __init__(self, emu):
        self.emu = emu
        self.busy_until = 0.0
        self.ops = []
        mcu = emu.mcu
        ss = mcu.qspi[QSPI_SS]
        self.selected = int(ss.value) == 0
        self.cmd = bytearray()     # opcode and address of the command being clocked in
        self.count = 0             # bytes clocked in since chip select fell
        self.wel = False           # the flash's write-enable latch
        ss.add_listener(self._cs)
        self.tap = WindowTap(mcu, SSI_KEY, read=self._read, write=self._write)
        self.enabled = bool(self.tap.block.read_uint32(SSI_SSIENR) & 1)

    def _cs(self, new, old):
        selected = int(new) == 0
        if selected == self.selected:
            return
        self.selected = selected
        if selected:
            self.cmd.clear()
            self.count = 0
        elif self.count:
            self._apply()

    def _apply(self):
        op, n = self.cmd[0], self.count
        if op == WREN:
            self.wel = True
        elif op in (WRDI, WRSR):
            self.wel = False
        elif (op in ERASE_US and n >= 4) or (op == PP and n > 4):
            if self.wel:
                us, kind = (ERASE_US[op], "erase") if op in ERASE_US else (PROGRAM_US, "program")
                now = self.emu.now_us
                self.busy_until = now + us
                self.ops.append((now, kind, us))
            self.wel = False

    @staticmethod
    def _data(offset):
        return SSI_DR0 <= offset <= SSI_DR_LAST and not offset & 3

    def _write(self, offset, value, atomic_type):
        if offset == SSI_SSIENR and not atomic_type:
            self.enabled = bool(value & 1)
        elif self.selected and self.enabled and not atomic_type and self._data(offset):
            self.count += 1
            if len(self.cmd) < 4:
                self.cmd.append(value & 0xFF)

    def _read(self, offset, value):
        if (self.selected and self.cmd and self.cmd[0] == RDSR and self._data(offset)
                and self.emu.now_us < self.busy_until):
            value |= 0x01   # BUSY
        return value


def _device_class():
    from rp2040py.device import MicroPythonDevice

    class Device(MicroPythonDevice):
        def _post_boot_handshake(self):
            # rp2040py sends "\r\n" once the board enumerates, to get a prompt; a real
            # Pico receives nothing until a program writes to its port.
            pass

    return Device


class Emulator:
    """One emulated Pico running `uf2`, with `image` (a littlefs image file, or None for
    an erased flash that MicroPython formats at its first boot) as its filesystem.
    `rp2_board`: rp2040py's board, "pico" or "pico_w" (a CYW43439 on GP23-25 and GP29,
    and the Pico W's flash layout: its MicroPython's filesystem is smaller)."""

    def __init__(self, uf2, image=None, flash_busy=True, pc_host=True, rp2_board="pico"):
        if not os.path.isfile(uf2):
            raise EmulatorError("no such UF2 file: %s" % uf2)
        self.uf2 = uf2
        self.image = image
        self.flash_busy = flash_busy
        self.flash = None            # FlashBusy, when modelled
        self.pc_host = pc_host
        self.rp2_board = rp2_board
        self.host = None             # pchost.PcHost: the USB host's serial side
        self.loop = None
        self.dev = None
        self.mcu = None
        self.clock = None
        self.sched = None
        self.error = None
        self.resets = []             # t_us of every chip reset after power-on
        self.cond = threading.Condition()
        self._seq = 0                # changes so far (changed())
        self._up = threading.Event()
        self._thread = None
        self._stop = None

    # ---- life
    def start(self, wall_s=STALL_S):
        """Power on: the chip runs until USB enumerates (the port is there). Fails only
        when the emulated clock stops moving for `wall_s` before that."""
        self._thread = threading.Thread(target=self._run, name="rp2040", daemon=True)
        self._thread.start()
        last, moved = -1.0, time.monotonic()
        while not self._up.wait(1.0):
            now = self.now_us if self.clock is not None else 0.0
            if now != last:
                last, moved = now, time.monotonic()
            elif time.monotonic() - moved > wall_s:
                raise EmulatorError("the emulated board stopped before USB came up (its clock "
                                    "stood still %.0f s at %.1f ms)" % (wall_s, now / 1000))
        if self.error is not None:
            raise EmulatorError("the emulator failed: %r" % (self.error,))
        return self

    def _run(self):
        try:
            asyncio.run(self._main())
        except BaseException as e:  # noqa: B036 - any failure ends the board; the test hears of it
            self.error = e
        finally:
            self._up.set()
            self.changed()

    async def _main(self):
        from rp2040py.boards import BOARDS, resolve_firmware
        self.loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        spec = resolve_firmware(BOARDS[self.rp2_board], "micropython", self.uf2)
        self.dev = _device_class()(board=spec, filesystem=self.image)
        self.mcu = self.dev.mcu
        self.clock = self.dev.simulator.clock
        self.sched = Scheduler(self.clock)
        # Before on_reset is wrapped below: PcHost hooks the CDC host's reset too.
        self.host = PcHost(self.dev.cdc, enabled=self.pc_host)
        usb = self.mcu.usb_ctrl
        cdc_reset = usb.on_reset

        def on_reset():
            if cdc_reset is not None:
                cdc_reset()
            self.resets.append(self.now_us)
            self._chip_reset()
            self.changed()
        usb.on_reset = on_reset
        if self.flash_busy:
            self.flash = FlashBusy(self)
        self._wire()
        await self.dev.astart(timeout=None)
        self.dev.cdc.on_device_connected = self._usb_up
        self._usb_up()
        self._up.set()
        watch = asyncio.ensure_future(self._stop.wait())
        task = self.dev.simulator._execute_task
        await asyncio.wait({watch, task} if task is not None else {watch},
                           return_when=asyncio.FIRST_COMPLETED)
        self.dev.stop()
        if task is not None and task.done() and not task.cancelled() and task.exception():
            raise task.exception()

    def stop(self):
        if self.loop is not None and self._stop is not None and self._thread.is_alive():
            self.loop.call_soon_threadsafe(self._stop.set)
            self._thread.join(30)

    def alive(self):
        return self._thread is not None and self._thread.is_alive() and self.error is None

    # ---- hooks
    def _wire(self):
        """Attach the board's parts (loop thread, time 0, before the first instruction)."""

    def _chip_reset(self):
        """The chip reset (watchdog, machine.reset(), the RUN pin): loop thread."""

    def _usb_up(self):
        """The board enumerated on USB (after power-on and after every reset)."""

    # ---- crossing to the loop
    def on_loop(self):
        return threading.current_thread() is self._thread

    def call(self, fn, *args, wall_s=60.0):
        """fn(*args) on the emulator's loop, between instructions; its result."""
        if self.on_loop():
            return fn(*args)
        if not self.alive():
            raise EmulatorError("the emulated board is not running (%r)" % (self.error,))
        import concurrent.futures
        fut = concurrent.futures.Future()

        def run():
            try:
                fut.set_result(fn(*args))
            except BaseException as e:  # noqa: B036 - handed to the caller
                fut.set_exception(e)
        self.loop.call_soon_threadsafe(run)
        return fut.result(wall_s)

    def post(self, fn, *args):
        """fn(*args) on the loop, without waiting for it."""
        if self.on_loop():
            fn(*args)
        else:
            self.loop.call_soon_threadsafe(fn, *args)

    # ---- emulated time
    @property
    def now_us(self):
        return self.clock.nanos / 1000.0

    def at_us(self, t_us, fn):
        """fn() at emulated time t_us (at once if that has passed by the time the loop
        takes the request), on the loop. Returns once it is scheduled."""
        self.call(self.sched.at_ns, t_us * 1000.0, fn)

    def after_us(self, dt_us, fn):
        """fn() dt_us after the emulated time at which the loop takes the request."""
        self.call(lambda: self.sched.at_ns(self.clock.nanos + dt_us * 1000.0, fn))

    # ---- waiting for events
    def changed(self):
        """Something was recorded: wake whoever waits (any thread)."""
        with self.cond:
            self._seq += 1
            self.cond.notify_all()

    def wait(self, pred, until_us=None, wall_s=WALL_LIMIT_S, what="the board"):
        """Block until pred() is true (returns its value), or emulated time reaches
        `until_us` (returns pred()'s value then, false). pred() runs on the calling
        thread, outside any lock, after every change. Raises EmulatorError if the
        emulator dies, or its clock stands still for `wall_s` of wall time (hung: a slow
        board on a loaded machine keeps its clock moving and is waited for)."""
        if until_us is not None:
            self.at_us(until_us, self.changed)
        last = self.now_us
        end = time.monotonic() + wall_s
        while True:
            with self.cond:
                seen = self._seq
            v = pred()
            if v:
                return v
            if until_us is not None and self.now_us >= until_us:
                return pred()
            if not self.alive():
                raise EmulatorError("the emulated board stopped while waiting for %s (%r)"
                                    % (what, self.error))
            now = self.now_us
            if now != last:  # the board moves on: the guard starts again
                last = now
                end = time.monotonic() + wall_s
            left = end - time.monotonic()
            if left <= 0:
                raise EmulatorError("waited for %s: the emulated clock stood still %.0f s "
                                    "(wall) at %.1f ms" % (what, wall_s, now / 1000))
            with self.cond:
                if self._seq == seen:
                    self.cond.wait(min(left, 5.0))

    def run_until_us(self, t_us, wall_s=WALL_LIMIT_S):
        """Let the board run until emulated time t_us."""
        self.wait(lambda: self.now_us >= t_us, until_us=t_us, wall_s=wall_s,
                  what="emulated time %.1f ms" % (t_us / 1000))

    def run_for_ms(self, ms):
        self.run_until_us(self.now_us + ms * 1000.0)

    # ---- flash
    def dump_image(self, path):
        """The filesystem's flash (littlefs) to `path`, as the board has it now."""
        self.call(self.dev.dump_flash_image, path)

    # ---- resets from the host side
    def reset(self, cause="run"):
        """A reset from outside: the RUN pin ("run") or a power cycle ("power")."""
        c = ResetCause.POWER_ON if cause == "power" else ResetCause.RUN_PIN
        self.post(lambda: self.dev.hard_reset(cause=c))
