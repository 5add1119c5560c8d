"""A person's hands on the virtual board: the scenario language's input lines (`turn +5 at
20/s`, `press`, `hold 1000`, `switch gain high`, `ir nec 0x00 0x46 hold 800`, `ir noise
50/s`, `wait 200`, `power off`), taken on the control socket while the firmware runs.

Both sides use this module, with the scenario engine's own parser and Runner (one
mechanism for every input, the same as scripts and the front panel): the supervisor
(CPython) checks a line before it answers or passes it on; the VM (MicroPython) runs it
on the simulated board, each step once the one before it is over, on the virtual clock
(`Queue`). `power` lines are the supervisor's: it owns the supply (a VM cannot switch
itself back on); so are `fault flash full|eio|ok` lines: it owns the flash image.
"""
from headroom.sim.scenario import AFTER_MS, Runner, ScenarioError, Step, lacks, parse_line

# The VM's; `power` the supervisor's.
VM_OPS = ("turn", "hold", "switch", "wait", "ir", "ir_noise")
HELP = ("turn +N|-N [at R/s] [bounce US], press, hold MS, switch gain low|high|auto, "
        "switch output se|balanced, ir nec|rc5|sony ADDR CMD [hold MS], ir apple KEY [hold MS], "
        "ir noise N/s|off, wait MS, power off|on|cycle, fault flash full|eio|ok")
# An external source's music: the DAC model takes every frame, which the MicroPython VM
# cannot do at a real board's pace on a busy machine (48,000 frames a second: it fell
# behind, and the firmware's watchdog reset it). Scripts and the simulated panel have it.
NOT_ON_VM = {"source": "an external source's music is for scenario scripts and the simulated "
                       "panel (headroom panel), not the virtual board: its MicroPython VM cannot "
                       "take the DAC's frames at a real board's pace"}
IR_FRAMES_MS = 120   # a key's first frame and the gap that ends it, at most (a long Sony one)


class InputError(ValueError):
    pass


def parse(text, board, n=1, also=""):
    """The Step (scenario.Step) of an input line, checked against `board` (the firmware's
    parsed board file: which switches it has; None: not checked); raises InputError saying what is wrong
    (with the list of inputs, and `also`, the other lines the taker knows)."""
    if text.split() == ["power", "cycle"]:
        return Step(n, "power cycle", "power", (None,))   # the supervisor's: off, then on
    try:
        s = parse_line(n, text)
    except ScenarioError as e:
        msg = str(e)
        head = "line %d: " % n
        if msg.startswith(head):
            msg = msg[len(head):]
        if msg.startswith("unknown command"):
            msg += " (inputs: %s%s)" % (HELP, also)
        raise InputError(msg)
    if s is None:
        raise InputError("an empty line (inputs: %s%s)" % (HELP, also))
    if s.op == "fault" and s.args[0] == "flash":
        return s   # the supervisor's: the image is the flash
    if s.op in NOT_ON_VM:
        raise InputError(NOT_ON_VM[s.op])
    if s.op != "power" and s.op not in VM_OPS:
        raise InputError("%r is for scenario scripts, not an input (inputs: %s%s)"
                         % (text.split()[0], HELP, also))
    why = lacks(s, board) if board is not None else None
    if why is not None:
        raise InputError(why)
    return s


def duration_us(s):
    """How long the step takes on the board's clock."""
    if s.op == "turn":
        return abs(s.args[0]) * (1000000000 // s.args[1])
    if s.op == "hold":
        return (s.args[0] + AFTER_MS) * 1000
    if s.op == "switch":
        return AFTER_MS * 1000
    if s.op == "wait":
        return s.args[0] * 1000
    if s.op == "ir":
        return (s.args[3] + IR_FRAMES_MS + AFTER_MS) * 1000
    return 0


class Queue:
    """Input lines run on a simulated board (SimBoard) in the order they came, each when the
    one before it is over; `done(tag, error)` is told when one ends (error None: done)."""

    def __init__(self, board, done):
        self.board = board
        self.runner = Runner(board)
        self.done = done
        self.waiting = []      # (tag, step), not started
        self.current = None    # (tag, the step's waits, failures before it)
        self.count = 0         # inputs taken: the `step` records' line numbers

    def add(self, tag, text):
        try:
            s = parse(text, self.board.board, self.count + 1)
        except InputError as e:
            self.done(tag, str(e))
            return
        if s.op not in VM_OPS:
            self.done(tag, "%s: not an input the simulated board takes" % text)
            return
        self.count += 1
        self.waiting.append((tag, s))
        if self.current is None:
            self._start()

    def _start(self):
        if not self.waiting:
            return
        tag, s = self.waiting.pop(0)
        self.runner.emit_step(s)
        self.current = (tag, iter(self.runner.waits(s)), len(self.runner.failures))
        self._next()

    def _next(self, _=None):
        tag, waits, failed = self.current
        try:
            us = next(waits)
        except StopIteration:
            self.current = None
            new = self.runner.failures[failed:]
            self.done(tag, new[0][2] if new else None)
            self._start()
            return
        self.board.sim.clock.after(us, self._next)
