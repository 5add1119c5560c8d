"""Run a scenario script on a simulated board: the engine behind `headroom sim`."""
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
               check=False):
    """Parse `text` (nothing runs if a line is bad, or asks for a part the board lacks),
    then run it; returns a Result.

    `on_sim(sim)` is called before power-on (the MicroPython runner locks IRQs there).
    `check`: the trace checker (invariants.Checker) on every record; its broken rules
    in Result.violations.
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
    try:
        failures = Runner(board).run(steps)
        if checker is not None:
            checker.finish(board.now_us())
    finally:
        if tl is not None:
            tl.close()
        board.close()
    return Result(board, failures, len(steps), checker)
