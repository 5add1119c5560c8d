"""Run a scenario script on a simulated board: the engine behind `headroom sim`."""
import os

from .scenario import Runner, check_board, parse
from .simboard import SimBoard
from .timeline import Timeline


class Result:
    def __init__(self, board, failures, steps, checker=None):
        self.board = board
        # The trace checker's broken rules [(t_us, rule, message)] (run with check=True).
        self.violations = checker.violations if checker is not None else []
        self.failures = failures
        self.steps = steps
        self.crashes = board.sim.crashes
        self.flash_writes = board.flash_writes
        self.t_us = board.now_us()
        self.faults = board.sim.faults


def run_script(board_path, text, trace_sink=None, timeline=None, verbose=False, seed=1,
               flash_dir=None, firmware_dir=None, keep_trace=True, on_sim=None, decoder=None,
               check=False, display_png=None):
    """Parse `text` (nothing runs if a line is bad, or asks for a part the board lacks),
    then run it; returns a Result.

    `on_sim(sim)` is called before power-on (the MicroPython runner locks IRQs there).
    `check`: the trace checker (invariants.Checker) on every record; its broken rules
    in Result.violations. `display_png`: a folder, where a PNG of the board's display as
    it is lit is written at every expectation (`NNN-line-L.png`, NNN counting from 001).
    """
    steps = parse(text)
    board = SimBoard(board_path, flash_dir=flash_dir, trace_sink=trace_sink, seed=seed,
                     firmware_dir=firmware_dir, keep_trace=keep_trace, decoder=decoder)
    try:
        check_board(steps, board.board)
    except Exception:
        board.close()
        raise
    if on_sim is not None:
        on_sim(board.sim)
    checker = None
    if check:
        from .invariants import Checker
        checker = Checker(board.board)
        board.trace.listeners.append(checker.live)
    tl = None
    if timeline is not None:
        tl = Timeline(timeline, verbose)
        board.trace.listeners.append(tl.record)
    runner = Runner(board)
    if display_png is not None:
        shots = []

        def snap(s):
            shots.append(s.line)
            board.display.png(os.path.join(display_png, "%03d-line-%d.png" % (len(shots), s.line)))
        runner.on_expect = snap if getattr(board, "display", None) is not None else None
    try:
        failures = runner.run(steps)
        if checker is not None:
            checker.finish(board.now_us())
    finally:
        if tl is not None:
            tl.close()
        board.close()
    return Result(board, failures, len(steps), checker)
