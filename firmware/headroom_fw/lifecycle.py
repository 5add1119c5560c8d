"""What main.py runs: the App, and what happens when it fails.

Any exception out of a pass first makes the amplifier quiet in order (DAC soft mute,
PGA2311 mute, mute relay; unsaved settings written while the supply is good), then
goes to the log with its traceback, then restarts the App, muted (it boots through its
settle delay and fades in). Three failures in a row (`Restarts`) and it stays up in a
fault state instead of a crash loop: everything muted, the watchdog fed, the control
protocol answering `status` with the reason. A board file that does not load goes
straight to the fault state (it would fail again). KeyboardInterrupt (mpremote's
Ctrl-C) goes quiet the same way, stops the watchdog (watchdog.py: the REPL and mpremote
are the user's until a reset), then goes on to the REPL.

`Firmware` is the object the simulator runs too (boot(), step(), waker), so restarts
and the fault state are tested on the virtual clock like everything else.
"""
import time

import machine
import micropython
from micropython import const

from . import board as boardfile
from . import protocol, watchdog
from .app import App
from .files import Files
from .log import FILE as LOG
from .log import Log
from .uptime import Uptime
from .version import VERSION
from .waker import Waker

_IN_A_ROW = const(3)          # failures within _CALM_S of each other before the fault state
_CALM_S = const(60)           # a run this long without failing ends a series
_FAULT_WAKE_MS = const(20)


class Restarts:
    """Counts failures in a row (pure): failed(uptime_s) -> True when it is time to give up.
    Seconds of uptime, not ticks: ticks_diff wraps after 6.2 days, and failures a week
    apart would count as in a row."""

    def __init__(self):
        self.count = 0
        self._last = None

    def failed(self, now_s):
        if self._last is not None and now_s - self._last > _CALM_S:
            self.count = 0
        self._last = now_s
        self.count += 1
        return self.count >= _IN_A_ROW


class FaultState:
    """Muted, up, answering: the firmware after it gave up restarting (or without a board)."""

    def __init__(self, reason, console, log, app=None, uptime=None):
        self.reason = reason
        self.console = console
        self.log = log
        self.app = app
        self.waker = Waker()
        self.lines = protocol.LineReader()
        # Since the MCU's reset, in seconds + ms: a ticks_diff from the start would go
        # negative after 6.2 days (the ticks' half period).
        self.uptime = uptime if uptime is not None else Uptime()
        self.wdt = machine.WDT(timeout=2000)

    def step(self):
        con = self.console
        more = con is not None and protocol.serve(con, self.lines, self._handle)
        self.uptime.update(time.ticks_ms())
        self.wdt.feed()
        if con is not None and (not con.flush() and con.moved or more):
            return 1  # a reply goes out, or a line comes in, a share a pass: more soon
        return _FAULT_WAKE_MS

    def _handle(self, line):
        cmd = line.split()
        if cmd == ["status"]:
            up = self.uptime.s
            return ('{"ok": true, "phase": "fault", "firmware": "%s", "uptime_s": %d, '
                    '"faults": ["%s"], "log_bytes": %d}' % (
                        VERSION, up, self.reason.replace('"', "'"), self.log.size()))
        if cmd == ["version"]:
            return '{"ok": true, "protocol": %d, "firmware": "%s"}' % (protocol.VERSION, VERSION)
        if cmd == ["log"]:
            return protocol.log_json(self.log.text())
        return ('{"ok": false, "error": "the firmware is in its fault state (%s): see '
                '`headroom log`, mend the cause and reset the board"}' % self.reason.replace('"', "'"))

    def idle(self):
        return False

    def quiet(self):
        if self.app is not None:
            self.app.quiet()


class Firmware:
    """The App, restarted muted when a pass fails; the fault state when that keeps happening."""

    def __init__(self, root="", console=None, files=None, net=None):
        self.root = root
        self.console = console
        self.net = net     # the WiFi's seam (net.py; None: the port's own)
        self.files = files if files is not None else Files()
        self.log = Log(root + LOG, self.files)
        self.restarts = Restarts()
        self.uptime = Uptime()      # one for the App, its restarts and the fault state
        self.app = None
        self.state = self._boot()   # App, or FaultState

    @property
    def waker(self):
        return self.state.waker

    def _boot(self):
        """A new App, or the fault state (a bad board file, or the last of the failures)."""
        try:
            self.app = App(boardfile.load(self.root + "board.json"), self.root, self.console,
                           self.files, self.log, self.uptime, self.net)
            return self.app
        except boardfile.BoardError as e:
            self.log.append("board.json: %s" % e)
            return FaultState("board.json: %s" % e, self.console, self.log, uptime=self.uptime)
        except Exception as e:
            return self._failed(e, "boot")

    def _failed(self, e, where):
        app = self.app
        if app is not None:
            try:
                app.quiet()
            except Exception:  # noqa: S110 - the next boot mutes everything again anyway
                pass
        n = self.restarts.count + 1
        self.log.exception(e, "the firmware failed (%s), failure %d in a row: %s" % (
            where, n, "restarting muted" if n < _IN_A_ROW else "staying in the fault state"))
        self.app = None
        self.uptime.update(time.ticks_ms())
        if self.restarts.failed(self.uptime.s):
            return FaultState("%s: %s (%d failures in a row)" % (
                type(e).__name__, e, self.restarts.count), self.console, self.log,
                uptime=self.uptime)
        return self._boot()

    def step(self):
        try:
            return self.state.step()
        except Exception as e:  # not KeyboardInterrupt: that goes on to the REPL
            self.state = self._failed(e, "in a pass")
            return 1

    def idle(self):
        """The sleep's work, a piece a call (App.idle); False: none, the MCU idles."""
        return self.state.idle()

    def quiet(self):
        self.state.quiet()


def interrupted(fw):
    """Ctrl-C (KeyboardInterrupt): quiet in order, then the watchdog stopped, so that the
    REPL and mpremote (copies, `mount`, a long session) are the user's until a reset or
    a power cycle starts the firmware again. Stopped only once the outputs are quiet: a
    second Ctrl-C that cuts the quieting short leaves the watchdog to reset the board,
    which boots muted."""
    fw.quiet()
    watchdog.stop()


def run(fw):
    """The main loop on the board: a pass, then a sleep the knob can cut short. Any way
    out of it first goes quiet in order; KeyboardInterrupt stops the watchdog too
    (`interrupted`). Anything else leaves it running: nobody asked for the REPL, and the
    watchdog's reset starts the firmware again."""
    try:
        while True:
            w = fw.waker
            w.begin(fw.step())
            while not w.over():
                if not fw.idle():   # the sleep's work (the display's frame), a piece a call
                    machine.idle()
    except KeyboardInterrupt:
        interrupted(fw)
        raise
    except BaseException:  # noqa: B036 - quiet first, whatever it is, then let it go on
        fw.quiet()
        raise


def main():
    from .console import UsbConsole
    try:
        micropython.alloc_emergency_exception_buf(100)  # a traceback from a hard IRQ, too
    except AttributeError:
        pass  # the MicroPython Unix port (the virtual board) has no such buffer
    try:
        fw = Firmware(console=UsbConsole())
    except KeyboardInterrupt:
        # Ctrl-C while the App starts (mpremote right after power-on): nothing has been
        # unmuted yet (the App starts muted), but its watchdog may already count.
        watchdog.stop()
        raise
    # The imports' garbage (tens of KB on a non-frozen install), collected once while the
    # boot's settle delay keeps the amplifier muted: not later, under the knob, by the
    # first thing that allocates. The main loop allocates nothing after this.
    import gc
    gc.collect()
    run(fw)
