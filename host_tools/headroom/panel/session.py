"""The front panel's engine: a person's hands on a simulated board, in real time, recorded
as a scenario script that replays to the same trace, byte for byte.

    s = Session("boards/pico-se.json")      # powers on at t = 0
    s.turn(+1, 30000)                        # the hands (`Hands`): turn, click, hold, ...
    s.tick()                                 # from a timer: virtual time follows the wall clock
    s.save("session.scn")                    # headroom sim --script session.scn: the same trace

How the recording replays exactly:

- Every action is a line of the scenario language, run by the scenario engine itself
  (`scenario.Runner`, a step at a time: `emit_step`, then `waits`, whose times the
  session lets pass in real-time slices). Running the board in slices is the same as
  one run: `Sim.run_until` does what falls due in time order either way.
- An action starts at a virtual time, never at a wall time: when the board is idle, at
  the next whole millisecond after its idle point (waits are whole milliseconds);
  when a step is still running, when it ends (actions queue, one after another).
- The idle time between two actions becomes a `wait MS` line. Its length is known only
  when the next action comes, so its `step` record is written then, at the place in the
  trace where the wait began; a button held as long as the person likes (`press()` ...
  `release()`) becomes `hold MS` the same way. The trace is kept in memory (no sink)
  for that.
- Nothing else writes to the board's trace (the readouts only read the models, the
  safety checker only listens).
"""
import time
from collections import deque

from ..sim import world
from ..sim.invariants import Checker
from ..sim.models.source import name_key
from ..sim.scenario import Runner, ScenarioError, Step, check_board, parse, parse_line
from ..sim.simboard import SimBoard
from ..sim.trace import encode

MS = 1000
MAX_WAIT_MS = 86400000     # the scenario language's longest `wait`
MAX_HOLD_MS = 600000       # and `hold`
DIP_MS = 10                # a short power dip: shorter than the hold-up, the MCU lives on
SPEEDS = (1 / 16, 1 / 8, 1 / 4, 1 / 2, 1, 2, 4, 8, 16, 32, 64)
LAG_US = 500000            # further behind the wall clock than this, and the lag is dropped
SLICE_US = 20000           # real-time runs go in slices this long, so a slow run can stop


class Refused(Exception):
    """An input the board cannot take now (no such switch, the button held down...)."""


class Hands:
    """The panel's input side: what a person does to the front panel.

    `Session` does it to a simulated board; a virtual board's control socket could take
    the same calls. Each call takes effect at once (or, on a simulated board, queues
    after what is still going on); it raises Refused when it cannot."""

    def now_us(self):
        """Now, in the time the knob's speed is measured in (us)."""
        raise NotImplementedError

    def turn(self, detents, rate_mhz):
        """Turn the knob `detents` (+ clockwise) at rate_mhz/1000 detents per second."""
        raise NotImplementedError

    def click(self):
        """Press and let go of the knob's button (150 ms)."""
        raise NotImplementedError

    def long_press(self, ms):
        """Hold the button down for `ms`, then let go."""
        raise NotImplementedError

    def press(self):
        """Push the button down (and keep it down until release())."""
        raise NotImplementedError

    def release(self):
        raise NotImplementedError

    def switch(self, which, pos):
        """`gain` low|high, `output` se|balanced."""
        raise NotImplementedError

    def power(self, on):
        raise NotImplementedError

    def dip(self, ms=DIP_MS):
        """The supply off for `ms`, then on again."""
        raise NotImplementedError

    def remote(self, key):
        """A key of the Apple remote pointed at the IR receiver (irframes.APPLE_KEYS)."""
        raise NotImplementedError

    def music(self):
        """The chosen input's music on (a 1 kHz sine at -10 dBFS) or off, at an external
        source (a board whose `inputs.source` is "external")."""
        raise NotImplementedError


MUSIC = "sine 1k -10 dBFS"    # what `m` plays at an external source's chosen input


def music_line(name, playing):
    """The scenario line that turns input `name`'s music off (`playing`) or on."""
    return "source %s %s" % (name_key(name), "stop" if playing else "play " + MUSIC)


class KnobSpeed:
    """A knob's speed from the times its detents came in (key repeats, wheel clicks): the
    time since the previous one, within a gesture; a first detent is a slow one."""

    GESTURE_US = 250000    # a longer gap: a new gesture, its first detent a slow one
    SLOW_MHZ = 10000       # 10 detents/s: a single, deliberate click of the knob
    MIN_MHZ = 1000
    MAX_MHZ = 200000       # 200/s (key repeats while paused all come in at once)

    def __init__(self):
        self.last = None

    def rate_mhz(self, t_us):
        last, self.last = self.last, t_us
        if last is None or t_us - last > self.GESTURE_US:
            return self.SLOW_MHZ
        gap = max(t_us - last, 1)
        mhz = 1000000000 // gap
        mhz = (mhz + 50) // 100 * 100      # to 0.1/s: a script a person reads
        return max(self.MIN_MHZ, min(self.MAX_MHZ, mhz))


def rate_text(mhz):
    s = "%d.%03d" % (mhz // 1000, mhz % 1000)
    return s.rstrip("0").rstrip(".")


class RealTime:
    """Virtual time that follows the wall clock at `speed`, or stands still (paused)."""

    def __init__(self, wall=time.monotonic, speed=1):
        self.wall = wall
        self.speed = speed
        self.paused = False
        self.v0 = 0
        self.w0 = wall()

    def target(self):
        if self.paused:
            return self.v0
        return self.v0 + int((self.wall() - self.w0) * 1000000 * self.speed)

    def rebase(self, v_us):
        """Virtual time `v_us` is now."""
        self.v0 = v_us
        self.w0 = self.wall()


class _Item:
    """A queued action: a scenario line (`text`, or a parsed `step` from a script being
    replayed), or the button going down ("down") or up ("up")."""

    def __init__(self, t_req, kind, text=None, step=None):
        self.t_req = t_req
        self.kind = kind
        self.text = text
        self.step = step


class _Running:
    def __init__(self, waits, until, line, text):
        self.waits = waits
        self.until = until        # when the board must stop for the step's next part
        self.line = line
        self.text = text
        self.open_since = None    # a hold whose length the person decides: its start
        self.mark = None          # where its `step` record goes


def header_lines(board_path, seed):
    return ["# A session at the Headroom front panel (headroom panel --save): the actions",
            "# and the waits between them. Replay: headroom panel --board %s --replay FILE" % board_path,
            "# (or headroom sim --board %s --script FILE%s)."
            % (board_path, "" if seed == 1 else " --seed %d" % seed)]


class Session(Hands):
    def __init__(self, board_path, seed=1, replay=None, wall=time.monotonic, speed=1,
                 power_on=True):
        """`replay`: a scenario script's text, run first (its lines begin the recording);
        else the recording starts with a header and, with `power_on`, `power on` at t = 0.
        Raises ScenarioError for a bad script, before anything runs."""
        steps = parse(replay) if replay is not None else None
        self.board_path = board_path
        self.board = b = SimBoard(board_path, seed=seed)
        if b.wifi is not None:
            b.provision_wifi()   # a Pico W: its page up once it joins (the title shows it)
        if steps is not None:
            try:
                check_board(steps, b.board)
            except ScenarioError:
                b.close()
                raise
        self.runner = Runner(b)
        self.checker = Checker(b.board)
        b.trace.listeners.append(self.checker.live)
        self.clock = RealTime(wall, speed)
        self.knob = KnobSpeed()
        self.queue = deque()
        self.running = None
        self.idle_since = 0
        self.idle_mark = self._mark()
        self.stopped = None       # why the simulation stopped (a misused part)
        self.lag_drops = 0
        self.supply = False       # where the hands left things (queued actions included)
        self.gain = "low"
        self._gain_rising = True   # a three-position lever's way from the middle: to high
        self.output = "se"
        self.button_down = False
        self.saved_to = None
        if steps is not None:
            self.lines = replay.split("\n")
            if self.lines and self.lines[-1] == "":
                self.lines.pop()
            for s in steps:
                self._follow(s)
                self.queue.append(_Item(0, "script", step=s))
        else:
            self.lines = header_lines(board_path, seed)
            if power_on:
                self._follow(parse_line(1, "power on"))
                self.queue.append(_Item(0, "line", text="power on"))   # at t = 0

    # ---- what the hands did, as the script will say it
    def _follow(self, s):
        if s.op == "power":
            self.supply = s.args[0]
        elif s.op == "switch":
            setattr(self, s.args[0], s.args[1])

    def _t_req(self):
        return max(self.clock.target(), self.board.now_us())

    def _do(self, text):
        self._check_free()
        s = parse_line(len(self.lines) + 1, text)   # a line the engine takes, or a bug here
        self._follow(s)
        self.queue.append(_Item(self._t_req(), "line", text=text))

    def _check_free(self):
        if self.button_down:
            raise Refused("the button is held down (release it first)")
        if self.stopped is not None:
            raise Refused("the simulation stopped: %s" % self.stopped)

    # ---- Hands
    def now_us(self):
        return self._t_req()

    def turn(self, detents, rate_mhz):
        self._do("turn %+d at %s/s" % (detents, rate_text(rate_mhz)))

    def turn_now(self, detents):
        """A detent from a key or the wheel: its speed from the time since the last."""
        self._check_free()
        self.turn(detents, self.knob.rate_mhz(self._t_req()))

    def click(self):
        self._do("press")

    def remote(self, key):
        if self.board.ir_rx is None:
            raise Refused("this board has no IR receiver")
        self._do("ir apple %s" % key)

    def music(self):
        src = self.board.source
        if src is None:
            raise Refused("this board's music comes from the Pico (no external source)")
        name = src.b.input_names[src.selected]
        self._do(music_line(name, src.players[src.selected][1] is not None))

    def long_press(self, ms=None):
        self._do("hold %d" % (ms if ms is not None else self.board.board.long_press_ms + 200))

    def press(self):
        self._check_free()
        self.button_down = True
        self.queue.append(_Item(self._t_req(), "down"))

    def release(self):
        if not self.button_down:
            raise Refused("the button is not held down")
        self.button_down = False
        self.queue.append(_Item(self._t_req(), "up"))

    def switch(self, which, pos):
        if which == "gain" and self.board.gain_switch is None:
            raise Refused("this board has no gain switch")
        if which == "output" and self.board.output_switch is None:
            raise Refused("this board has no output switch")
        self._do("switch %s %s" % (which, pos))

    def toggle(self, which):
        if which == "gain" and len(self.board.board.gain_switch_pins) == 2:
            # A three-position switch steps along its lever: low, auto, high, and back.
            if self.gain != "auto":
                self._gain_rising = self.gain == "low"
                self.switch("gain", "auto")
            else:
                self.switch("gain", "high" if self._gain_rising else "low")
        elif which == "gain":
            self.switch("gain", "low" if self.gain == "high" else "high")
        else:
            self.switch("output", "se" if self.output == "balanced" else "balanced")

    def power(self, on):
        self._do("power %s" % ("on" if on else "off"))

    def dip(self, ms=DIP_MS):
        if not self.supply:
            raise Refused("the power is off")
        self._do("power off")
        self._do("wait %d" % ms)
        self._do("power on")

    # ---- time
    def tick(self, budget_s=0.05):
        """Let virtual time catch up with the wall clock (for at most `budget_s` of
        computing); a lag beyond LAG_US is dropped."""
        target = self.clock.target()
        t_end = time.perf_counter() + budget_s
        while self.board.now_us() < target and self.stopped is None:
            self.advance_to(min(target, self.board.now_us() + SLICE_US))
            if time.perf_counter() > t_end:
                break
        if target - self.board.now_us() > LAG_US:
            self.lag_drops += 1
            self.clock.rebase(self.board.now_us())

    def step_ms(self, ms):
        """Run `ms` of virtual time now, whatever the clock says (paused or not)."""
        self.advance_to(self.board.now_us() + ms * MS)
        self.clock.rebase(self.board.now_us())

    def pause(self, paused=True):
        self.clock.rebase(self.board.now_us())
        self.clock.paused = paused

    def set_speed(self, speed):
        self.clock.rebase(min(self.clock.target(), self.board.now_us()))
        self.clock.speed = speed

    def faster(self, up=True):
        i = min(range(len(SPEEDS)), key=lambda k: abs(SPEEDS[k] - self.clock.speed))
        self.set_speed(SPEEDS[max(0, min(len(SPEEDS) - 1, i + (1 if up else -1)))])

    def _run_to(self, t):
        if self.stopped is not None:
            return False
        try:
            self.board.run_until(t)
        except world.SimFault as e:
            self.stopped = str(e)
            return False
        return True

    def advance_to(self, target, until_idle=False):
        """Run the board up to virtual time `target`, starting and ending steps on the way,
        each at its exact time (`until_idle`: stop as soon as nothing is left to do)."""
        while self.stopped is None:
            r = self.running
            head = self.queue[0] if self.queue else None
            if r is not None and r.open_since is not None:
                up = head is not None and head.kind == "up"
                if up:
                    t = max(r.open_since + MS, self._on_ms(r.open_since, head.t_req))
                else:
                    t = r.open_since + MAX_HOLD_MS * MS   # let go at the longest hold
                if t > target or not self._run_to(t):
                    break
                if up:
                    self.queue.popleft()
                else:
                    self.button_down = False      # let go for the person
                self._let_go(t)
            elif r is not None:
                if r.until > target or not self._run_to(r.until):
                    break
                self._next_part()
            else:
                if head is None and until_idle:
                    return
                cap = self.idle_since + MAX_WAIT_MS * MS
                t = cap if head is None else min(cap, self._on_ms(self.idle_since, head.t_req))
                if t > target:
                    break
                if t > self.idle_since:
                    if not self._run_to(t):
                        break
                    self._close_wait(t)
                elif head is not None:
                    self._start(self.queue.popleft())
        if self.stopped is None and target > self.board.now_us():
            self._run_to(target)

    @staticmethod
    def _on_ms(since, t):
        """The first time at or after `t` a whole number of milliseconds after `since`."""
        if t <= since:
            return since
        return since + (t - since + MS - 1) // MS * MS

    # ---- the recording
    def _mark(self):
        return len(self.board.trace.lines)

    def _insert_step(self, mark, t_us, line, text):
        """The `step` record of a step whose text is known only now, where it began."""
        self.board.trace.lines.insert(mark, encode(
            [("t_us", t_us), ("kind", "step"), ("line", line), ("text", text)]))

    def _close_wait(self, t):
        ms = (t - self.idle_since) // MS
        self.lines.append("wait %d" % ms)
        self._insert_step(self.idle_mark, self.idle_since, len(self.lines), "wait %d" % ms)
        self.idle_since = t
        self.idle_mark = self._mark()

    def _start(self, item):
        if item.kind == "down":
            self.lines.append(None)         # `hold MS` once the button is up again
            line = len(self.lines)
            mark = self._mark()
            s = Step(line, "hold", "hold", (0, 0))
            self.running = _Running(iter(self.runner.waits(s)), None, line, None)
            self.running.open_since = self.board.now_us()
            self.running.mark = mark
            self._next_part()               # the button goes down
            return
        if item.kind == "up":
            return                          # a release with nothing held (refused before)
        if item.kind == "script":
            s = item.step
        else:
            self.lines.append(item.text)
            s = parse_line(len(self.lines), item.text)
        self.runner.emit_step(s)
        self.running = _Running(iter(self.runner.waits(s)), None, s.line, s.text)
        self._next_part()

    def _next_part(self):
        r = self.running
        try:
            us = next(r.waits)
        except StopIteration:
            self.running = None
            self.idle_since = self.board.now_us()
            self.idle_mark = self._mark()
            return
        except world.SimFault as e:
            self.stopped = str(e)
            return
        if r.open_since is None:
            r.until = self.board.now_us() + us

    def _let_go(self, t):
        r = self.running
        ms = (t - r.open_since) // MS
        text = "hold %d" % ms
        self.lines[r.line - 1] = text
        r.text = text
        self._insert_step(r.mark, r.open_since, r.line, text)
        r.open_since = None
        self._next_part()                   # the button comes up, then 100 ms

    # ---- what the panel shows about the session
    def busy(self):
        return self.running is not None or bool(self.queue)

    def running_text(self):
        r = self.running
        if r is None:
            return None
        if r.open_since is not None:
            return "button held %d ms" % ((self.board.now_us() - r.open_since) // MS)
        return "line %d: %s" % (r.line, r.text)

    def failures(self):
        return self.runner.failures

    # ---- saving
    def finish(self):
        """Bring the recording to a point a replay ends at: a held button let go, what is
        queued done, and the time since the last action a whole `wait`."""
        if self.button_down:
            self.release()
        self.advance_to(1 << 62, until_idle=True)
        if self.stopped is None:
            t = self._on_ms(self.idle_since, self.board.now_us())
            if t > self.idle_since and self._run_to(t):
                self._close_wait(t)
        self.clock.rebase(self.board.now_us())

    def script(self):
        """The recording so far, as a scenario script (call finish() first for one that
        replays to the trace as it is now)."""
        return "\n".join(x if x is not None else "hold %d" % MAX_HOLD_MS for x in self.lines) + "\n"

    def save(self, path):
        self.finish()
        with open(path, "w") as f:
            f.write(self.script())
        self.saved_to = path
        return path


__all__ = ["Hands", "KnobSpeed", "Refused", "RealTime", "ScenarioError", "Session", "SPEEDS"]
