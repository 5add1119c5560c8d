"""The pure Controller (headroom_fw.controller), driven directly with ticks_ms values."""
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from headroom_fw import board as boardfile
from headroom_fw import controller as C
from headroom_fw.controller import Controller
from headroom_fw.quadrature import Acceleration
from headroom_fw.settings import defaults
from headroom_fw.volume import level_cdb, path_floor_hdb, pga_code

from helpers import BALANCED, SE

SE_B = boardfile.load(SE)
BAL_B = boardfile.load(BALANCED)
PERIOD = 1 << 30
ZC_MS = 16      # PGA2311 zero-crossing time-out: the longest a mute takes to apply


class Rig:
    """A controller with a clock. `t` is relative ms; the controller sees (t0 + t) mod 2**30.

    Every tick and event is logged as a snapshot of the outputs.
    """

    def __init__(self, board=SE_B, settings=None, gain=0, output=0, t0=0):
        self.b = board
        self.t0 = t0
        self.t = 0
        s = defaults(board) if settings is None else settings
        self.ctl = Controller(board, s, gain, output, self.now())
        self.accel = Acceleration()   # what the encoder's IRQ does with each detent
        self.log = []
        self.snap()

    def now(self):
        return (self.t0 + self.t) % PERIOD

    def snap(self):
        c = self.ctl
        self.log.append((self.t, c.phase, c.mute_relay, c.pga_mute, c.gain_relay, c.output_relay,
                         tuple(c.codes)))

    def run(self, ms, every_ms=True):
        """Advance `ms` ms: tick every ms, or at the controller's own next_wake (as the app does)."""
        end = self.t + ms
        while self.t < end:
            step = 1 if every_ms else min(self.ctl.next_wake(self.now()), end - self.t)
            assert step >= 1
            self.t += step
            self.accel.expire(self.now())
            self.ctl.tick(self.now())
            self.ctl.moved(self.now())     # the app applied the outputs in this same ms
            self.snap()

    def event(self, name, *args):
        if name == "turn":
            args = (args[0], self.accel.steps(args[0], self.now()))
        mode = self.ctl.mode
        getattr(self.ctl, name)(*args, self.now())
        self.ctl.tick(self.now())      # as the app does, in the same pass
        self.ctl.moved(self.now())
        if self.ctl.mode != mode:
            self.accel.reset()         # the app starts a new gesture when the knob's job changes
        self.snap()

    def booted(self, ms=3000):
        self.run(ms)
        assert self.ctl.phase == C.PLAYING
        assert self.codes() == self.want_codes()
        return self

    def codes(self):
        return tuple(self.ctl.codes)

    def want_codes(self, volume=None):
        c = self.ctl
        v = c.volume if volume is None else volume
        return tuple(pga_code(v - (c.balance if r == 0 and c.balance > 0 else 0)
                              + (c.balance if r == 1 and c.balance < 0 else 0), c.path_cdb())
                     for r in self.b.pga_roles)


def changes(log, index):
    """[(t, old, new)] each time field `index` of the snapshots changed."""
    out = []
    for a, b in zip(log, log[1:]):
        if a[index] != b[index]:
            out.append((b[0], a[index], b[index]))
    return out


T, PHASE, MUTE_RELAY, PGA_MUTE, GAIN_RELAY, OUTPUT_RELAY, CODES = range(7)


def check_sequencing(log, b):
    """Safety rules every log must obey, whatever happened."""
    mute = b.mute_relay
    last_move = None          # (t, wait) of the last gain/output relay move
    mute_closed_at = None if not log[0][MUTE_RELAY] else log[0][T]
    mute_opened_at = log[0][T] if not log[0][MUTE_RELAY] else None
    pga_silent_since = log[0][T] if not any(log[0][CODES]) and log[0][PGA_MUTE] else None
    for a, s in zip(log, log[1:]):
        t = s[T]
        silent = s[PGA_MUTE] and not any(s[CODES])
        # Sound only while playing (or fading out through the DAC's soft mute) with the
        # mute relay closed.
        if any(s[CODES]):
            assert s[PHASE] in (C.PLAYING, C.DAC_MUTING) and s[MUTE_RELAY] and not s[PGA_MUTE], s
        for idx, relay in ((GAIN_RELAY, b.gain_relay), (OUTPUT_RELAY, b.output_relay)):
            if a[idx] != s[idx]:
                assert relay is not None
                # Relays move only under full mute, after the mute relay has opened.
                assert silent and not s[MUTE_RELAY], s
                assert t - mute_opened_at >= mute.release_ms, (t, mute_opened_at)
                wait = (relay.operate_ms if s[idx] else relay.release_ms) + b.relay_settle_ms
                if last_move is None or last_move[0] + last_move[1] < t + wait:
                    last_move = (t, wait)
        if a[MUTE_RELAY] and not s[MUTE_RELAY]:
            # The mute relay opens only once the PGA mute has surely taken effect.
            assert silent, s
            assert pga_silent_since is not None
            if b.pga_zc:
                assert t - pga_silent_since >= ZC_MS, (t, pga_silent_since)
            mute_opened_at = t
        if not a[MUTE_RELAY] and s[MUTE_RELAY]:
            # ... and closes only once every moved relay has operated and settled.
            assert not any(s[CODES])
            if last_move is not None:
                assert t - last_move[0] >= last_move[1], (t, last_move)
            mute_closed_at = t
        if not any(a[CODES]) and any(s[CODES]):
            # Sound returns only after the mute relay's contacts have closed and settled.
            assert t - mute_closed_at >= mute.operate_ms + b.relay_settle_ms, (t, mute_closed_at)
        if silent:
            if pga_silent_since is None:
                pga_silent_since = t
        else:
            pga_silent_since = None


# ---------------------------------------------------------------- boot

@pytest.mark.parametrize("board", [SE_B, BAL_B], ids=["se", "balanced"])
def test_boot_stays_muted_until_settle_then_ramps_up(board):
    r = Rig(board)
    r.run(3000)
    log = r.log
    n = len(board.pga_roles)
    for s in log:
        if s[T] < board.settle_ms:
            assert s[PHASE] == C.BOOT
            assert (s[MUTE_RELAY], s[PGA_MUTE], s[CODES]) == (False, True, (0,) * n), s
    # The mute relay closes once, after the settle delay; nothing else moves.
    closes = changes(log, MUTE_RELAY)
    assert len(closes) == 1 and closes[0][1:] == (False, True)
    t_close = closes[0][0]
    assert t_close >= board.settle_ms
    assert changes(log, GAIN_RELAY) == [] and changes(log, OUTPUT_RELAY) == []
    # Sound starts after the relay has operated and settled, at the PGA's floor.
    first = next(s for s in log if any(s[CODES]))
    assert first[T] - t_close >= board.mute_relay.operate_ms + board.relay_settle_ms
    floor = pga_code(path_floor_hdb(board.path_cdb(0, 0)), board.path_cdb(0, 0))
    assert floor == 1
    assert first[CODES] == (floor,) * n
    # The ramp: at most ramp_step codes (0.5 dB each) per ramp_interval, never down.
    steps = changes([s for s in log if s[T] >= first[T]], CODES)
    assert len(steps) >= 10
    prev_t = first[T]
    for t, old, new in steps:
        assert t - prev_t >= board.ramp_interval_ms, (t, prev_t)
        for o, nw in zip(old, new):
            assert 0 < nw - o <= board.ramp_step_hdb
        prev_t = t
    # It ends at the volume.
    want = pga_code(board.default_hdb, board.path_cdb(0, 0))
    assert log[-1][CODES] == (want,) * n
    assert steps[-1][2] == (want,) * n
    assert r.ctl.volume == board.default_hdb


def test_boot_outputs_before_the_first_tick():
    c = Controller(SE_B, defaults(SE_B), 1, 0, 0)
    assert (c.mute_relay, c.pga_mute, tuple(c.codes)) == (False, True, (0, 0))
    # The switch position wins; the relay is set to it while muted.
    assert c.gain_relay == 1


def test_boot_across_ticks_wrap():
    a = Rig(t0=0).booted()
    b = Rig(t0=PERIOD - 700).booted()     # wraps during the settle delay
    assert [s[1:] for s in a.log] == [s[1:] for s in b.log]


def test_boot_with_sparse_ticks_reaches_the_same_state():
    a = Rig().booted()
    b = Rig()
    b.run(3000, every_ms=False)
    assert b.codes() == a.codes() and b.ctl.phase == C.PLAYING
    check_sequencing(b.log, SE_B)


# ---------------------------------------------------------------- start-up cap

def test_startup_cap():
    s = defaults(SE_B)
    s["volume"] = 0           # 0 dBV stored, start-up maximum is -20 dBV
    r = Rig(settings=s)
    assert r.ctl.volume == SE_B.startup_max_hdb == -40
    r.booted()
    assert r.codes() == (pga_code(-40, 644),) * 2
    # Only the start-up level is capped: the knob can go above the cap afterwards.
    r.run(100)
    r.event("turn", 1)
    assert r.ctl.volume == -39


def test_volume_below_startup_cap_is_kept():
    s = defaults(SE_B)
    s["volume"] = -70
    assert Rig(settings=s).ctl.volume == -70


def test_startup_volume_respects_user_limit():
    s = defaults(SE_B)
    s["volume"], s["limit"] = -50, -50
    r = Rig(settings=s).booted()
    assert r.ctl.volume == -50
    r.event("turn", 1)
    assert r.ctl.volume == -50


# ---------------------------------------------------------------- turns

def test_slow_turns_are_half_a_db_per_detent():
    r = Rig().booted()
    v0 = r.ctl.volume
    for k in range(1, 11):
        r.run(100)
        r.event("turn", 1)
        assert r.ctl.volume == v0 + k
        assert r.codes() == r.want_codes()
    for k in range(1, 6):
        r.run(100)
        r.event("turn", -1)
        assert r.ctl.volume == v0 + 10 - k
    # The code follows the volume 1:1 (0.5 dB per code).
    assert r.codes()[0] == pga_code(v0 + 5, 644)


def test_fast_turns_accelerate():
    r = Rig().booted()
    v0 = r.ctl.volume
    r.event("turn", 1)
    for _ in range(5):
        r.run(10)
        r.event("turn", 1)
    assert r.ctl.volume - v0 > 6


def test_turn_up_to_the_limit_and_no_further():
    r = Rig().booted()
    for _ in range(200):
        r.run(5)
        r.event("turn", 3)
    assert r.ctl.volume == SE_B.limit_hdb
    assert level_cdb(r.codes()[0], 644) <= SE_B.limit_hdb * 50
    for _ in range(400):
        r.run(5)
        r.event("turn", -3)
    assert r.ctl.volume == SE_B.min_hdb


TURNS = st.lists(st.tuples(st.integers(-8, 8), st.integers(0, 300)), min_size=1, max_size=25)


@given(st.sampled_from([SE_B, BAL_B]), st.integers(-160, 12), st.integers(0, 1), TURNS)
def test_never_above_limit(board, limit, gain, turns):
    s = defaults(board)
    s["limit"] = limit
    s["volume"] = min(s["volume"], limit)
    r = Rig(board, settings=s, gain=gain)
    for detents, gap in turns:
        r.run(gap, every_ms=False)
        r.event("turn", detents)
        c = r.ctl
        assert board.min_hdb <= c.volume <= limit
        for code in c.codes:
            if code:
                assert level_cdb(code, c.path_cdb()) <= c.volume * 50 <= limit * 50
    r.run(3000, every_ms=False)      # past the boot delay and any ramp
    assert r.ctl.phase == C.PLAYING
    assert r.codes() == r.want_codes()
    check_sequencing(r.log, board)


# ---------------------------------------------------------------- gain and output changes

def test_set_gain_while_playing_runs_the_mute_sequence():
    r = Rig().booted()
    r.run(50)
    v = r.ctl.volume
    start = len(r.log)
    r.event("set_gain", 1)
    # The DAC's soft mute first: the PGA2311 keeps the level while the DAC fades it out...
    assert r.ctl.phase == C.DAC_MUTING
    assert r.ctl.dac_mute and not r.ctl.pga_mute and r.codes() != (0, 0) and r.ctl.mute_relay
    r.run(SE_B.dac_mute_ms + 1)
    # ...then the PGA mutes, the mute relay still closed until the PGA mute applies.
    assert r.ctl.phase == C.MUTING
    assert r.codes() == (0, 0) and r.ctl.pga_mute and r.ctl.mute_relay
    r.run(1500)
    log = r.log[start - 1:]
    phases = [s[PHASE] for s in log]
    seen = [phases[0]] + [p for a, p in zip(phases, phases[1:]) if p != a]
    assert seen == [C.PLAYING, C.DAC_MUTING, C.MUTING, C.RELEASING, C.SWITCHING, C.UNMUTING,
                    C.PLAYING]
    moves = changes(log, GAIN_RELAY)
    assert len(moves) == 1 and moves[0][1:] == (0, 1)
    at = next(s for s in log if s[T] == moves[0][0] and s[GAIN_RELAY] == 1)
    assert at[CODES] == (0, 0) and at[MUTE_RELAY] is False and at[PGA_MUTE] is True
    check_sequencing(log, SE_B)
    # Same level at the jack afterwards, on the new path; ramped back up from the floor.
    assert r.ctl.volume == v and r.ctl.gain == 1
    assert r.codes() == (pga_code(v, 644 + 1200),) * 2
    first = next(s for s in log if s[T] > moves[0][0] and any(s[CODES]))
    assert first[CODES] == (pga_code(path_floor_hdb(1844), 1844),) * 2 == (1, 1)


def test_set_gain_to_the_current_gain_does_nothing():
    r = Rig().booted()
    codes = r.codes()
    r.event("set_gain", 0)
    assert r.ctl.phase == C.PLAYING and r.codes() == codes


def test_set_output_on_se_board_is_ignored():
    r = Rig().booted()
    r.event("set_output", boardfile.OUTPUT_BALANCED)
    assert r.ctl.phase == C.PLAYING and r.ctl.output == 0 and r.ctl.output_relay == 0


def test_set_output_on_balanced_board():
    r = Rig(BAL_B).booted()
    v = r.ctl.volume
    r.event("set_output", boardfile.OUTPUT_BALANCED)
    r.run(1500)
    assert changes(r.log, OUTPUT_RELAY)[0][1:] == (0, 1)
    check_sequencing(r.log, BAL_B)
    assert r.codes() == (pga_code(v, 644 + 600),) * 4


def test_gain_change_clamps_volume_to_the_new_path():
    # A board whose limit is above what the high-gain path can give.
    with open(SE) as f:
        d = json.load(f)
    d["analog"]["max_output_dbv"]["se"] = 10.0
    d["volume"]["limit_dbv"] = 10.0
    b = boardfile.parse(d)
    s = defaults(b)
    r = Rig(b, settings=s)
    r.booted()
    for _ in range(100):
        r.run(5)
        r.event("turn", 4)
    assert r.ctl.volume == 20
    r.event("set_gain", 1)     # path +12 dB: still limited by the output stage (10 dBV)
    r.run(1500)
    assert r.ctl.volume == 20
    assert level_cdb(r.codes()[0], r.ctl.path_cdb()) <= 1000


@given(st.lists(st.tuples(st.sampled_from(["set_gain", "set_output", "turn", "click",
                                            "long_press"]),
                          st.integers(0, 1), st.integers(0, 60)), min_size=1, max_size=25))
def test_relays_only_move_under_mute(events):
    r = Rig(BAL_B)
    r.run(BAL_B.settle_ms + 1, every_ms=False)
    assert r.ctl.phase != C.BOOT
    for name, arg, gap in events:
        r.run(gap, every_ms=False)
        if name == "turn":
            r.event(name, 2 * arg - 1)
        elif name in ("click", "long_press"):
            r.event(name)
        else:
            r.event(name, arg)
    r.run(2000, every_ms=False)
    check_sequencing(r.log, BAL_B)
    c = r.ctl
    # Everything settles: relays match the selection, playing (unless muted by the user).
    assert c.phase == C.PLAYING
    assert (c.gain_relay, c.output_relay) == (c.gain, c.output)
    if not c.user_muted:
        assert r.codes() == r.want_codes()
    else:
        assert r.codes() == (0,) * 4


def test_set_gain_late_in_boot_waits_for_the_relay():
    r = Rig()
    r.run(SE_B.settle_ms - 1)
    r.event("set_gain", 1)
    r.run(1500)
    check_sequencing(r.log, SE_B)


def test_set_gain_early_in_boot_is_applied_under_mute():
    r = Rig()
    r.run(100)
    r.event("set_gain", 1)
    assert r.ctl.gain_relay == 1 and not r.ctl.mute_relay
    r.run(2900)
    check_sequencing(r.log, SE_B)
    assert r.ctl.phase == C.PLAYING and r.codes() == (pga_code(-60, 1844),) * 2


def test_power_fail_mutes_and_stays_muted():
    r = Rig().booted()
    r.event("power_fail")
    assert r.ctl.phase == C.POWER_FAIL
    assert (r.ctl.mute_relay, r.ctl.pga_mute, r.codes()) == (False, True, (0, 0))
    for name, args in (("turn", (3,)), ("click", ()), ("set_gain", (1,)), ("long_press", ())):
        r.run(100)
        r.event(name, *args)
    r.run(3000)
    assert r.ctl.phase == C.POWER_FAIL
    assert (r.ctl.mute_relay, r.codes(), r.ctl.gain_relay) == (False, (0, 0), 0)


# ---------------------------------------------------------------- saving

def test_save_due_only_after_stillness_and_only_if_changed():
    r = Rig().booted()
    c = r.ctl
    d = SE_B.save_delay_ms
    for _ in range(10):
        r.run(1000)
        assert not c.save_due(r.now())
    r.event("turn", 1)
    r.run(d - 1)
    assert not c.save_due(r.now())
    r.event("turn", 1)             # still turning: the wait starts again
    t_turn = r.t
    r.run(d - 1)
    assert not c.save_due(r.now())
    r.run(1)
    assert r.t - t_turn == d and c.save_due(r.now())
    assert c.persistent()[0] == SE_B.default_hdb + 2
    c.saved()
    assert not c.save_due(r.now())
    r.run(2 * d)
    assert not c.save_due(r.now())


def test_no_save_when_back_to_the_stored_settings():
    r = Rig().booted()
    c = r.ctl
    r.event("turn", 1)
    r.run(200)
    r.event("turn", -1)
    r.run(2 * SE_B.save_delay_ms)
    assert c.persistent()[:5] == (SE_B.default_hdb, 0, 0, 0, SE_B.limit_hdb)
    assert not c.save_due(r.now())


def test_mute_alone_is_not_saved():
    r = Rig().booted()
    r.event("click")
    r.run(2 * SE_B.save_delay_ms)
    assert not r.ctl.save_due(r.now())


def test_save_due_for_gain_and_balance_changes():
    r = Rig().booted()
    r.event("set_gain", 1)
    r.run(SE_B.save_delay_ms)
    assert r.ctl.save_due(r.now())
    r.ctl.saved()
    r.event("long_press")
    r.event("turn", -2)
    r.run(SE_B.save_delay_ms - 1)
    assert not r.ctl.save_due(r.now())
    r.run(1)
    assert r.ctl.save_due(r.now())
    assert r.ctl.persistent()[1] == -2


# ---------------------------------------------------------------- button

def test_click_toggles_user_mute():
    r = Rig().booted()
    want = r.codes()
    r.run(50)
    r.event("click")
    # The DAC's soft mute first; the PGA mutes once the DAC has faded the signal out.
    assert r.ctl.user_muted and r.ctl.dac_mute and not r.ctl.pga_mute and r.codes() == want
    r.run(SE_B.dac_mute_ms + 1)
    assert r.codes() == (0, 0) and r.ctl.pga_mute
    assert r.ctl.mute_relay      # the relay stays closed: the PGA does the user mute
    r.run(500)
    assert r.codes() == (0, 0)
    # Turning while muted changes the volume but stays silent.
    r.event("turn", 1)
    assert r.codes() == (0, 0) and r.ctl.volume == SE_B.default_hdb + 1
    r.run(100)
    r.event("turn", -1)
    start = len(r.log)
    r.event("click")
    assert not r.ctl.user_muted
    r.run(1500)
    log = r.log[start - 1:]
    # Unmuting ramps up again from the floor.
    first = next(s for s in log if any(s[CODES]))
    assert first[CODES] == (1, 1)
    for _t, old, new in changes(log[log.index(first):], CODES):
        assert all(0 < n - o <= SE_B.ramp_step_hdb for o, n in zip(old, new))
    assert r.codes() == want
    assert changes(log, MUTE_RELAY) == []


def test_long_press_enters_balance_mode():
    r = Rig().booted()
    v = r.ctl.volume
    r.event("long_press")
    assert r.ctl.mode == C.MODE_BALANCE
    r.run(100)
    r.event("turn", 3)            # +1.5 dB balance: towards the right
    r.run(100)
    r.event("turn", 1)
    assert r.ctl.balance == 4 and r.ctl.volume == v
    left, right = r.codes()
    assert right == pga_code(v, 644) and left == pga_code(v - 4, 644)
    r.event("turn", -10)          # balance moves 0.5 dB per detent, no acceleration
    assert r.ctl.balance == -6
    left, right = r.codes()
    assert left == pga_code(v, 644) and right == pga_code(v - 6, 644)
    for _ in range(10):
        r.event("turn", -5)
    assert r.ctl.balance == -C.BALANCE_MAX_HDB
    # A click leaves balance mode without muting.
    r.event("click")
    assert r.ctl.mode == C.MODE_VOLUME and not r.ctl.user_muted
    r.run(100)
    r.event("turn", 1)
    assert r.ctl.volume == v + 1 and r.ctl.balance == -20


def test_balance_mode_times_out():
    r = Rig().booted()
    r.event("long_press")
    r.run(1000)
    r.event("turn", 1)            # each balance turn restarts the time-out
    r.run(SE_B.balance_timeout_ms - 1)
    assert r.ctl.mode == C.MODE_BALANCE
    r.run(1)
    assert r.ctl.mode == C.MODE_VOLUME
    v = r.ctl.volume
    r.event("turn", 1)
    assert r.ctl.volume == v + 1 and r.ctl.balance == 1


def test_long_press_in_balance_mode_leaves_it():
    r = Rig().booted()
    r.event("long_press")
    r.event("long_press")
    assert r.ctl.mode == C.MODE_VOLUME


def test_next_wake_is_bounded():
    r = Rig()
    for _ in range(400):
        w = r.ctl.next_wake(r.now())
        assert 1 <= w <= 10
        r.run(w)


def test_zcen_tied_high_on_the_board_still_waits_for_the_zero_crossing():
    """Omitted ZCEN is ZCEN tied high: the mute must wait out the PGA2311's 16 ms time-out
    (it did not, when the omission was read as 'no zero-crossing detection')."""
    import copy
    import json as _json
    d = _json.load(open(SE))
    d = copy.deepcopy(d)
    del d["pga2311"]["zcen"]
    b = boardfile.parse(d)
    assert b.pga_zc
    r = Rig(board=b).booted()
    start = len(r.log)
    r.event("set_gain", 1)
    r.run(400)
    pga_muted = next(t for t, *_rest, codes in r.log[start:] if not any(codes))
    relay_open = next(t for t, phase, mute_relay, *_x in r.log[start:] if not mute_relay)
    assert relay_open - pga_muted >= ZC_MS


# ---- weeks without a touch (issue 17.4): no stored time may go stale past ticks_diff's
# reach (2**29 ms, 6.2 days). The app ticks every 10 ms; while nothing happens a tick
# changes nothing, so the rig jumps in strides ticks_diff can still tell (2**28 ms).

def idle(r, ms):
    stride = 1 << 28
    while ms > 0:
        step = min(stride, ms)
        r.t += step
        ms -= step
        r.ctl.tick(r.now())
        r.ctl.moved(r.now())


@pytest.mark.parametrize("days", [7, 13, 20])
def test_a_balance_change_after_days_untouched_moves_at_once(days):
    r = Rig(t0=PERIOD - 5000).booted()
    idle(r, days * 86400000)
    r.event("host_balance", 6)
    r.run(200)
    assert r.ctl.balance == 6 and r.codes() == r.want_codes()   # both channels trimmed


@pytest.mark.parametrize("days", [7, 10, 12])
def test_a_limit_raise_left_unconfirmed_is_never_confirmed_days_later(days):
    r = Rig(t0=PERIOD - 5000).booted()
    r.event("host_limit", r.ctl.limit - 10)
    low = r.ctl.limit
    assert r.ctl.host_limit(low + 6, r.now()) is not None      # waits for a long press
    idle(r, days * 86400000)                                     # ...that comes days later
    r.event("long_press")
    assert r.ctl.limit == low
