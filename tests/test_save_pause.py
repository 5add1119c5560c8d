"""One save per pause, timed to the millisecond: a first touch (a gain switch, a turn, a
host's `set`), then a second landing anywhere around the moment the first one's save
falls due (before it, during it, after it), sometimes a third; the firmware as it is,
in the cost model's jitter mode, under the trace checker. A save that was already due
when the second touch came is the first pause's, and the save that follows stores the
second: no rule may call that broken (`make sim`'s "written 2 times with nothing
touched between" was the checker crying wolf). The checker's other rules run on the
same traces."""
from hypothesis import given, settings
from hypothesis import strategies as st

from headroom.sim.cost import CostModel
from headroom.sim.invariants import Checker
from headroom.sim.simboard import SimBoard

from helpers import BALANCED, SE, THREE_POS, until_playing

# A fifth of the profile's examples (`make test`: 8; `make test-long`: 80): each boots a
# board and runs ~8 s of its time, about 0.3 s here.
EXAMPLES = max(4, settings.default.max_examples // 5)

TOUCH = st.sampled_from(["gain", "turn", "turn-fast", "balance", "volume", "click", "output"])


def _touch(b, what, up):
    if what == "gain":
        b.set_gain("high" if b.app.ctl.gain == 0 else "low", bounce_us=2000)
    elif what == "output":
        b.set_output("balanced" if b.app.ctl.output == 0 else "se", bounce_us=2000)
    elif what.startswith("turn"):
        b.turn(2 if up else -2, rate=40 if what == "turn-fast" else 5)
    elif what == "balance":
        b.console.send("set balance %s\n" % ("1.5" if up else "-2"))
    elif what == "volume":
        b.console.send("set volume %s\n" % ("-20" if up else "-30"))
    else:
        b.press(True)
        b.run_ms(60)
        b.press(False)


@settings(max_examples=EXAMPLES)
@given(path=st.sampled_from([SE, BALANCED, THREE_POS]), first=TOUCH, second=TOUCH,
       third=st.one_of(st.none(), TOUCH), up=st.booleans(),
       offset_us=st.integers(-120000, 120000), offset3_us=st.integers(-120000, 120000),
       seed=st.integers(1, 2 ** 16))
def test_touches_around_a_save_falling_due_never_break_a_rule(path, first, second, third, up,
                                                               offset_us, offset3_us, seed):
    # The cost model's jitter mode: costs drawn within their bounds, GC stalls, flash
    # stalls with IRQs off - where a save and a touch race.
    b = SimBoard(path, seed=seed, cost=CostModel(jitter=seed))
    c = Checker(b.board)
    b.trace.listeners.append(c.live)
    try:
        b.power(True)
        until_playing(b)
        delay_us = b.board.save_delay_ms * 1000
        t0 = b.now_us()
        _touch(b, first, up)
        # The first touch's save falls due about save_delay after it reached the firmware.
        b.run_until(t0 + delay_us + offset_us)
        t1 = b.now_us()
        _touch(b, second, not up)
        if third is not None:
            b.run_until(max(b.now_us(), t1 + delay_us + offset3_us))
            _touch(b, third, up)
        b.run_ms(2 * b.board.save_delay_ms + 1500)
        c.finish(b.now_us())
        assert c.violations == [], c.report()
    finally:
        b.close()


def _switched(path, hands=None):
    """A board playing, its gain switch flipped; `hands(board, t0)` then. Returns the
    board, its checker, when the switch flipped and the settings writes' times."""
    b = SimBoard(path)
    c = Checker(b.board)
    b.trace.listeners.append(c.live)
    saves = []
    b.trace.listeners.append(lambda t, kind, f: saves.append(t) if kind == "flash" else None)
    b.power(True)
    until_playing(b)
    del saves[:]
    b.set_gain("high")
    t0 = b.now_us()
    if hands is not None:
        hands(b, t0)
    b.run_ms(2 * b.board.save_delay_ms + 1000)
    c.finish(b.now_us())
    return b, c, t0, saves


def test_the_case_make_sim_cried_wolf_on():
    """A gain switch, then a turn 4 ms before the switch's save is written: that save and
    the turn's, no broken rule (the checker said "written 2 times with nothing touched
    between")."""
    b, _, t0, saves = _switched(SE)
    due = saves[0] - t0                     # the switch's save, when nothing else happens
    b.close()

    def turn_just_before(b, t0):
        b.run_until(t0 + due - 4000)
        b.turn(1, rate=5)

    b, c, t0, saves = _switched(SE, turn_just_before)
    assert len(saves) == 2 and saves[0] == t0 + due    # the switch's, then the turn's
    assert c.violations == [], c.report()
    b.close()
