"""The front panel attached to a running virtual board (`headroom panel --attach PORT`): the
same hands, sent as input lines to the board's control socket; the board's state as its
firmware reports it over the control protocol.

- **The hands** (`Attached`, a `Hands`): every control is a scenario input line
  (vboard/inputs.py) on the control socket (the port's path + .control). The board runs
  them one after another and answers each once it is over; the answers come back in
  order (`poll()`), a refusal becomes the panel's message. A button held for as long as
  the person likes has no input line (the board must know how long before it starts),
  so `b` is refused here: the long press (`l`) is `hold 1000`. The short power dip is a
  `power cycle`: the virtual board's supply goes off until the MCU stops.
- **The state** (`Watcher`, a thread): `headroom monitor`'s own loop (control.monitor):
  the firmware's `status`, then every change it pushes. It holds the port, and relays
  other `headroom` commands' requests to the board meanwhile, as the monitor does. When
  a monitor already holds the port, it asks `status` through that monitor's relay
  instead, twice a second. Nothing here is decoded from the simulated hardware: the
  jack, the PGA2311 codes and the relays are in the virtual board's trace (--trace).
"""
import threading
import time

from .. import requests
from ..control import Board, monitor
from ..errors import CommandError
from ..port import PortBusy
from ..vboard.client import ControlClient, control_path
from .session import DIP_MS, Hands, KnobSpeed, Refused, music_line, rate_text

LONG_PRESS_MS = 1000     # above the shipped boards' 0.8 s
POLL_S = 0.5             # status through another monitor's relay
RETRY_S = 1.0            # a board away (off, resetting): try again this often


class Watcher:
    """The board's state from its firmware, on a thread of its own: `state` (the latest
    status, a dict, or None), `problem` (why there is none now), and `take()`, the states
    that came in since the last call, with their wall times."""

    def __init__(self, port, wall=time.monotonic):
        self.port = port
        self.wall = wall
        self.state = None
        self.problem = "asking the board..."
        self.relayed = False       # through another monitor's relay
        self._new = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="panel-watcher", daemon=True)

    def start(self):
        self._thread.start()

    def stop(self):
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(10)

    def take(self):
        with self._lock:
            out, self._new = self._new, []
        return out

    def _got(self, obj):
        obj = dict(obj)
        obj.pop("ok", None)
        obj.pop("event", None)
        with self._lock:
            self.state = obj
            self.problem = None
            self._new.append((self.wall(), obj))

    def _run(self):
        while not self._stop.is_set():
            board = Board(self.port, wait_s=RETRY_S)
            try:
                try:
                    board.connect()
                except PortBusy:
                    self._through_relay(board)
                else:
                    self.relayed = False
                    monitor(board, self._got, self._got, stop=self._stop.is_set)
            except CommandError as e:
                self.state = None
                self.problem = str(e)
            finally:
                board.close()
            self._stop.wait(RETRY_S)

    def _through_relay(self, board):
        self.relayed = True
        while not self._stop.is_set():
            self._got(board.request(requests.STATUS, resend_s=1.0))
            self._stop.wait(POLL_S)


class Attached(Hands):
    """The hands on a virtual board: input lines to its control socket. Raises
    CommandError(NO_BOARD) when there is no virtual board on `port`."""

    def __init__(self, port, control=None, wall=time.monotonic):
        self.port = port
        self.wall = wall
        self.client = ControlClient(control_path(port, control))
        self.knob = KnobSpeed()
        self.in_flight = []      # lines sent, not yet answered, oldest first
        self.done = []           # (wall time, line, answer) since the last take_done()
        self.supply = True
        self.button_down = False
        self.watcher = Watcher(port, wall)

    # ---- the socket
    def _send(self, line):
        try:
            self.client.send(line)
        except CommandError as e:
            raise Refused(str(e))
        self.in_flight.append(line)

    def poll(self):
        """The answers that came in: the refusals among them, as text."""
        refused = []
        for answer in self.client.answers():
            line = self.in_flight.pop(0) if self.in_flight else "?"
            self.done.append((self.wall(), line, answer))
            if answer != "ok":
                refused.append("%s: %s" % (line, answer[7:] if answer.startswith("error: ")
                                           else answer))
        if self.client.closed and self.in_flight:
            refused.append("the virtual board went away (its control socket closed)")
            self.in_flight = []
        return refused

    def take_done(self):
        out, self.done = self.done, []
        return out

    def _state(self, name, default):
        s = self.watcher.state
        return s.get(name, default) if s else default

    # ---- Hands
    def now_us(self):
        return int(self.wall() * 1000000)

    def turn(self, detents, rate_mhz):
        self._send("turn %+d at %s/s" % (detents, rate_text(rate_mhz)))

    def turn_now(self, detents):
        self.turn(detents, self.knob.rate_mhz(self.now_us()))

    def click(self):
        self._send("press")

    def remote(self, key):
        self._send("ir apple %s" % key)

    def music(self):
        """By what the firmware reports: the chosen input, and whether music comes."""
        name = self._state("input", "")
        if not name:   # no inputs section: the Pico's own I2S
            raise Refused("this board's music comes from the Pico (no external source)")
        self._send(music_line(name, self._state("signal", None) is True))

    def long_press(self, ms=None):
        self._send("hold %d" % (LONG_PRESS_MS if ms is None else ms))

    def press(self):
        raise Refused("a button held as long as you like needs the simulated panel; "
                      "here: space clicks, l is a long press (%d ms)" % LONG_PRESS_MS)

    def release(self):
        raise Refused("the button is not held down")

    def switch(self, which, pos):
        self._send("switch %s %s" % (which, pos))

    def toggle(self, which):
        if which == "gain":
            self.switch("gain", "low" if self._state("gain", "low") == "high" else "high")
        else:
            self.switch("output", "se" if self._state("output", "se") == "balanced"
                        else "balanced")

    def power(self, on):
        self._send("power %s" % ("on" if on else "off"))
        self.supply = on

    def dip(self, ms=DIP_MS):
        if not self.supply:
            raise Refused("the power is off")
        self._send("power cycle")

    def close(self):
        self.watcher.stop()
        self.client.close()
