"""Debounced switches and the push button (headroom_fw.inputs)."""
from hypothesis import given
from hypothesis import strategies as st

from headroom_fw.inputs import CLICK, LONG_PRESS, NONE, Button, Debounced

STABLE = 20
TICKS_PERIOD = 1 << 30


def feed(deb, samples):
    """samples: [(t, raw)]; returns the times at which a change was reported."""
    return [t for t, raw in samples if deb.update(raw, t)]


def held(level, t0, t1):
    """A level sampled every ms over t0..t1 (inclusive)."""
    return [(t, level) for t in range(t0, t1 + 1)]


# ---------------------------------------------------------------- Debounced

def test_steady_input_never_reports():
    d = Debounced(1, STABLE)
    assert feed(d, held(1, 0, 500)) == []
    assert d.level == 1


def test_change_reported_once_after_stable_time():
    d = Debounced(1, STABLE)
    changes = feed(d, held(0, 100, 400))
    # The input went to 0 at 100 ms: reported when it has been 0 for 20 ms, once.
    assert changes == [100 + STABLE]
    assert d.level == 0


def test_level_does_not_change_before_stable_time():
    d = Debounced(1, STABLE)
    for t in range(100, 100 + STABLE):
        assert d.update(0, t) is False
        assert d.level == 1
    assert d.update(0, 100 + STABLE) is True
    assert d.level == 0


def test_change_and_change_back():
    d = Debounced(0, STABLE)
    samples = held(1, 0, 100) + held(0, 101, 300)
    assert feed(d, samples) == [STABLE, 101 + STABLE]
    assert d.level == 0


def test_sparse_polling():
    # Polled every 15 ms: the change is reported at the first poll that is at
    # least 20 ms after the first poll that saw the new level.
    d = Debounced(0, STABLE)
    assert feed(d, [(t, 1) for t in range(0, 200, 15)]) == [30]


def test_ticks_wrap():
    d = Debounced(0, STABLE)
    t0 = TICKS_PERIOD - 10
    samples = [((t0 + k) % TICKS_PERIOD, 1) for k in range(60)]
    assert feed(d, samples) == [(t0 + STABLE) % TICKS_PERIOD]


@st.composite
def chatter(draw):
    stable = draw(st.integers(2, 50))
    old = draw(st.sampled_from((0, 1)))
    # Chatter: alternating runs, each shorter than the stable time (sampled every ms).
    runs = draw(st.lists(st.integers(1, stable - 1), min_size=0, max_size=20))
    settled = draw(st.sampled_from((0, 1)))
    tail = draw(st.integers(stable, 3 * stable))
    return stable, old, runs, settled, tail


@given(chatter())
def test_bouncing_input_yields_at_most_one_change(case):
    stable, old, runs, settled, tail = case
    samples, t, level = [], 0, old
    for n in runs:
        level ^= 1
        samples += held(level, t, t + n - 1)
        t += n
    samples += held(settled, t, t + tail)
    # Start of the final run of identical samples (the chatter's last run may merge with it).
    start = len(samples) - 1
    while start > 0 and samples[start - 1][1] == settled:
        start -= 1
    run_start = samples[start][0]

    d = Debounced(old, stable)
    changes = feed(d, samples)
    if settled == old:
        assert changes == []
    else:
        assert changes == [run_start + stable]
    # Status's bounces: each change away from the level that came back before it held.
    flips = sum(1 for i in range(1, len(samples)) if samples[i][1] != samples[i - 1][1])
    flips += samples[0][1] != old
    assert d.bounces == flips // 2
    assert d.level == settled
    # Nothing more while it stays put.
    assert feed(d, held(settled, t + tail + 1, t + tail + 3 * stable)) == []


@given(st.lists(st.tuples(st.integers(1, 7), st.sampled_from((0, 1))), max_size=80))
def test_reports_only_after_stable_samples(samples_spec):
    """Random input and random poll gaps: every reported change is backed by
    samples at the new level spanning at least stable_ms, and the debounced
    level always equals the last reported one."""
    d = Debounced(0, STABLE)
    t, level, history = 0, 0, []
    for gap, raw in samples_spec:
        t += gap
        history.append((t, raw))
        if d.update(raw, t):
            assert raw != level
            level = raw
            # The samples since the new level was first seen are all `raw`.
            k = len(history) - 1
            while k > 0 and history[k - 1][1] == raw:
                k -= 1
            assert t - history[k][0] >= STABLE
        assert d.level == level


# ---------------------------------------------------------------- Button

DEB, LONG = 20, 800
UP, DOWN = 1, 0          # pull-up: pressed reads 0


def press(btn, t0, t1, level=DOWN):
    """Hold `level` from t0 to t1 (every ms); returns [(t, event)] of non-NONE events."""
    out = []
    for t in range(t0, t1 + 1):
        ev = btn.update(level, t)
        if ev != NONE:
            out.append((t, ev))
    return out


def test_short_press_gives_one_click_on_release():
    b = Button(UP, DOWN, DEB, LONG)
    assert press(b, 0, 99, UP) == []
    assert press(b, 100, 300, DOWN) == []          # nothing while held briefly
    assert b.pressed
    events = press(b, 301, 600, UP)
    assert events == [(301 + DEB, CLICK)]
    assert not b.pressed


def test_press_shorter_than_debounce_is_ignored():
    b = Button(UP, DOWN, DEB, LONG)
    assert press(b, 0, DEB - 2, DOWN) == []
    assert press(b, DEB - 1, 500, UP) == []
    assert not b.pressed


def test_bouncy_short_press_is_one_click():
    b = Button(UP, DOWN, DEB, LONG)
    events = []
    t = 0
    for level in (DOWN, UP, DOWN, UP):              # 3 ms bounces on the way down
        events += press(b, t, t + 2, level)
        t += 3
    events += press(b, t, 200, DOWN)
    t = 201
    for level in (UP, DOWN, UP, DOWN):              # and on the way up
        events += press(b, t, t + 2, level)
        t += 3
    events += press(b, t, 500, UP)
    assert events == [(t + DEB, CLICK)]


def test_long_press_once_while_held_and_no_click_after():
    b = Button(UP, DOWN, DEB, LONG)
    events = press(b, 100, 3000, DOWN)
    # Debounced press at 120 ms, long press 800 ms later, while still held, only once.
    assert events == [(100 + DEB + LONG, LONG_PRESS)]
    assert press(b, 3001, 3500, UP) == []
    assert not b.pressed
    # The next short press clicks normally.
    assert press(b, 4000, 4100, DOWN) == []
    assert press(b, 4101, 4300, UP) == [(4101 + DEB, CLICK)]


def test_press_just_shorter_than_long_is_a_click():
    b = Button(UP, DOWN, DEB, LONG)
    assert press(b, 0, LONG - 2, DOWN) == []      # debounced hold: 20 .. 798+20
    events = press(b, LONG - 1, LONG + 200, UP)
    assert events == [(LONG - 1 + DEB, CLICK)]


def test_active_high_button():
    b = Button(0, 1, DEB, LONG)
    assert press(b, 0, 50, 1) == []
    assert press(b, 51, 100, 0) == [(51 + DEB, CLICK)]


@given(st.lists(st.tuples(st.sampled_from((UP, DOWN)), st.integers(1, 1500)), max_size=12))
def test_button_events_alternate_sensibly(segments):
    """Random presses: at most one event per press, LONG_PRESS only while held,
    and never a CLICK for a press that already sent LONG_PRESS."""
    b = Button(UP, DOWN, DEB, LONG)
    t = 0
    long_in_press = False
    clicks_in_press = 0
    for level, dur in segments + [(UP, 100)]:
        for _ in range(dur):
            ev = b.update(level, t)
            if ev == LONG_PRESS:
                assert b.pressed and not long_in_press
                long_in_press = True
            elif ev == CLICK:
                assert not long_in_press and not b.pressed
                clicks_in_press += 1
                assert clicks_in_press == 1
            if not b.pressed and ev == NONE:
                long_in_press = False
                clicks_in_press = 0
            t += 1
    assert not b.pressed


def test_release_of_button_held_at_boot_is_not_a_click():
    b = Button(DOWN, DOWN, DEB, LONG)     # held while the firmware started
    assert press(b, 0, 2000, DOWN) == []
    assert press(b, 2001, 2500, UP) == []
