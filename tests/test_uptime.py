"""Weeks of uptime (issue 17.4): across the ticks' wrap and 2**30 ms of uptime, nothing
the firmware keeps becomes a long int, and `uptime_s` stays right.

rp2's ticks_ms wraps at 2**30 (TICKS_PERIOD) and its small ints end at 2**30: a count of
milliseconds of uptime becomes a long int - an allocation on every pass - after 12.4
days. Neither CPython nor the Unix port's 63-bit VM can show that allocation, so the
runs here check rp2's small-int rule on the firmware's state after every pass
(headroom.sim.smallints: every int reachable from the firmware's objects within 31
bits); and instead of 12.4 days of virtual time, the simulated MCU's timer starts just
before its wrap (SimBoard's `timer_start_ms`): the firmware's uptime counts from the
MCU's reset (its timer), so it passes 2**30 ms the moment the ticks wrap, as on a board.

On the old main these fail: its uptime counted from the App's start (so `uptime_s`
says a few seconds here), and, started from the timer, its millisecond count broke the
small-int rule at the wrap.
"""
import json

from headroom.sim import smallints, world
from headroom.sim.clock import TICKS_PERIOD
from headroom.sim.simboard import SimBoard

from helpers import SE, ask

BEFORE_MS = 6000                       # the timer starts this long before its wrap


def watched(b):
    """Check the small-int rule after every pass of the firmware (App or fault state)."""
    b.sim.after_step.append(lambda: b.sim.app is not None and smallints.check(b.sim.app))
    return b


def expected_uptime_s(b):
    """What the MCU's timer says: its start plus the virtual time since the power-on at 0."""
    return (TICKS_PERIOD - BEFORE_MS + b.now_us() // 1000) // 1000


def test_a_run_across_the_ticks_wrap_and_2_30_ms_of_uptime_keeps_ints_small(checked):
    b = checked(SE, run_ms=0, timer_start_ms=TICKS_PERIOD - BEFORE_MS,
                before_power=watched)
    b.run_ms(3000)                                     # booted, through the settle delay
    assert b.sim.clock.ticks_ms() > TICKS_PERIOD - BEFORE_MS   # not wrapped yet
    s = ask(b, "status")
    assert abs(s["uptime_s"] - expected_uptime_s(b)) <= 1, s["uptime_s"]
    writes = b.flash_writes
    # A turn that spans the wrap (at 6 s), a gain switch, a host's set, status requests.
    b.run_ms(2700)
    b.run_us(b.turn(+8, rate=5))                       # 1.6 s: across the wrap
    assert b.sim.clock.ticks_ms() < 10000              # the ticks wrapped meanwhile
    b.set_gain("high")
    b.run_ms(500)
    assert ask(b, "set volume -25")["ok"] is True
    b.run_us(b.turn(-3, rate=10))
    b.run_ms(b.board.save_delay_ms + 500)              # still: the settings are saved
    assert b.flash_writes > writes
    assert json.loads(b.settings_text())["volume"] < -25
    s = ask(b, "status")
    assert s["phase"] == "playing" and s["faults"] == [] and s["gain_stage"] == "high"
    assert s["uptime_s"] > TICKS_PERIOD // 1000        # past 2**30 ms: 12.4 days
    assert abs(s["uptime_s"] - expected_uptime_s(b)) <= 1, s["uptime_s"]
    b.run_ms(2000)
    assert abs(ask(b, "status")["uptime_s"] - expected_uptime_s(b)) <= 1


def test_the_fault_state_counts_its_uptime_across_the_wrap(tmp_path):
    b = watched(SimBoard(SE, flash_dir=str(tmp_path), timer_start_ms=TICKS_PERIOD - BEFORE_MS))
    (tmp_path / "board.json").write_text('{"board": 1, "gain_swich": {}}')   # the fault state
    b.power(True)
    b.run_ms(BEFORE_MS + 3000)
    s = ask(b, "status")
    assert s["phase"] == "fault"
    assert abs(s["uptime_s"] - expected_uptime_s(b)) <= 1, s["uptime_s"]
    b.close()


def test_the_uptime_counter_stays_small_and_right_for_years():
    from headroom_fw.uptime import Uptime
    b = SimBoard(SE)
    b.sim.cpu_enter()                                  # a clock for ticks_ms() at the start
    up = Uptime()
    assert (up.s, up.ms) == (0, 0)
    t = 0
    total = 0
    stride = (1 << 29) - 1                              # the longest gap ticks_diff can tell
    while total < (1 << 31) + (1 << 30):                # past 12.4, 24.8 and 37.3 days
        t = (t + stride) & (TICKS_PERIOD - 1)
        total += stride
        up.update(t)
        assert (up.s, up.ms) == divmod(total, 1000)
        assert smallints.big_ints(up) == []
    up.update(t)                                        # no time: no change
    assert (up.s, up.ms) == divmod(total, 1000)
    b.close()


def test_the_small_int_rule_names_what_grew():
    from headroom_fw.uptime import Uptime
    b = SimBoard(SE)
    b.sim.cpu_enter()
    up = Uptime()
    up.s = 1 << 30
    assert smallints.big_ints(up) == [("firmware.s", 1 << 30)]
    try:
        smallints.check([up])
    except world.SimFault as e:
        assert "firmware[0].s = 1073741824" in str(e)
    else:
        raise AssertionError("no fault")
    b.close()


HELD_PASSES = r"""
import gc
import sys
sys.path.insert(0, sys.argv[1])
from headroom_fw import board as boardfile
from headroom_fw import controller as C
from headroom_fw.settings import defaults
b = boardfile.load(sys.argv[2])
c = C.Controller(b, defaults(b), 0, 0, 0)
c.set_fault(C.FAULT_DAC, True, 0)
now = 0


def passes(n):
    global now
    for _ in range(n):
        now = (now + 10) & 0x3FFFFFFF
        c.tick(now)
        c.moved(now)
        c.next_wake(now)


passes(400)                     # through the settle delay: held muted for the fault
gc.collect()
m0 = gc.mem_alloc()
passes(100)
print(C.HELD if c.phase == C.HELD else -1, gc.mem_alloc() - m0)
"""


def test_a_controller_held_for_a_faulty_part_allocates_nothing_per_pass(tmp_path):
    """On the MicroPython VM (the Unix port; its heap, not CPython's): while a part is faulty
    the controller looks every pass whether it may unmute. The old tuple comparison there
    allocated two tuples a pass (64 bytes on the Unix port)."""
    import os
    import subprocess
    import sys
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    script = tmp_path / "held.py"
    script.write_text(HELD_PASSES)
    p = subprocess.run([os.path.join(os.path.dirname(sys.executable), "micropython"), str(script),
                        os.path.join(repo, "firmware"), SE], capture_output=True, text=True,
                       timeout=60)
    assert p.returncode == 0, p.stderr
    phase, nbytes = map(int, p.stdout.split())
    from headroom_fw.controller import HELD
    assert phase == HELD and nbytes == 0, p.stdout


def test_the_pga2311_chain_is_still_checked_after_days_without_a_frame():
    """The app checks the chain's echo every second once no frame went out for 100 ms.
    Nothing sends a frame to an amplifier left playing untouched: the last frame's time
    must not go stale past ticks_diff's reach (2**29 ms). The passes here are 2**28 ms
    apart (a pass between changes nothing else); each must check the chain."""
    from helpers import until_playing
    b = SimBoard(SE, timer_start_ms=TICKS_PERIOD - BEFORE_MS)
    b.power(True)
    until_playing(b)
    app = b.app
    now = b.sim.clock.ticks_ms()
    checks = []
    for _ in range(12):                                  # 12 x 3.1 days
        now = (now + (1 << 28)) & (TICKS_PERIOD - 1)
        n = len([x for x in b.trace.lines if '"kind": "spi"' in x])
        app.sup.check(now)
        checks.append(len([x for x in b.trace.lines if '"kind": "spi"' in x]) > n)
    assert all(checks), checks
    assert smallints.big_ints(app) == []
    b.close()


def test_failures_a_week_apart_are_not_in_a_row():
    """Three failures within a minute of each other end in the fault state; a week apart
    they are three separate restarts. Counted in seconds of uptime: with ticks, a week
    (past 2**29 ms) wrapped round to "just now" and the third weekly failure muted the
    amplifier for good."""
    from headroom_fw.lifecycle import Restarts
    r = Restarts()
    week = 7 * 86400
    assert not r.failed(0) and not r.failed(week) and not r.failed(2 * week)
    assert r.count == 1
    assert not r.failed(2 * week + 30) and r.failed(2 * week + 50)     # in a row: give up
