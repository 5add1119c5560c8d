"""Two simulated boards in one process run independently: each board's code reaches its own
pins, clock and schedule (world.Sim.cpu_enter: the board that runs), never the one made
last."""
from helpers import BALANCED, SE


def _script(b, detents, step):
    """Power on, turn the knob, run: `step()` between 10 ms slices, where the other board
    runs in the interleaved case."""
    b.power(True)
    for i in range(400):
        if i == 300:
            b.turn(detents, rate=20)
        b.run_ms(10)
        step()


def test_two_boards_run_interleaved_each_as_it_runs_alone():
    from headroom.sim.simboard import SimBoard
    from headroom_fw.controller import PLAYING
    alone = {}
    for path, detents in ((SE, 3), (BALANCED, -2)):
        b = SimBoard(path, seed=7)
        _script(b, detents, lambda: None)
        alone[path] = b.trace.lines
    # Both made first (the second last), then run in turns of 10 ms.
    a, b = SimBoard(SE, seed=7), SimBoard(BALANCED, seed=7)
    steps = iter(range(400))
    b.power(True)

    def run_b():
        i = next(steps)
        if i == 300:
            b.turn(-2, rate=20)
        b.run_ms(10)

    _script(a, 3, run_b)
    for x in (a, b):
        assert not x.sim.faults and not x.sim.crashes
        assert x.app is not None and x.app.ctl.phase == PLAYING
    assert a.app.ctl.volume != b.app.ctl.volume        # each its own level
    assert a.trace.lines == alone[SE]
    assert b.trace.lines == alone[BALANCED]
