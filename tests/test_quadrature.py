"""Quadrature decoding and knob acceleration (headroom_fw.quadrature)."""
import pytest
from hypothesis import given
from hypothesis import strategies as st

from headroom_fw.quadrature import COUNT_MAX, Acceleration, QuadratureDecoder

# Contact states (A << 1 | B) in clockwise order: 11 -> 01 -> 00 -> 10 -> 11 (A leads).
CW = (3, 1, 0, 2)
EDGES = (4, 2, 1)
TICKS_PERIOD = 1 << 30


def step(state, direction):
    """The neighbouring state one edge clockwise (+1) or counter-clockwise (-1)."""
    return CW[(CW.index(state) + direction) % 4]


def detent_states(start, direction, edges):
    """States visited by one detent (`edges` transitions) from `start`."""
    out, s = [], start
    for _ in range(edges):
        s = step(s, direction)
        out.append(s)
    return out


def walk(start, directions, edges):
    """Full state sequence (start first) for a list of detent directions."""
    seq = [start]
    for d in directions:
        seq += detent_states(seq[-1], d, edges)
    return seq


def run(dec, states):
    for s in states:
        dec.feed(s)
    return dec.detents


# ---------------------------------------------------------------- decoder

def test_one_clockwise_detent_4_edges():
    dec = QuadratureDecoder(4, 3)
    counts = []
    for s in (1, 0, 2, 3):
        dec.feed(s)
        counts.append(dec.detents)
    # Counted once, when the knob arrives in the next detent, not before.
    assert counts == [0, 0, 0, 1]


def test_one_counter_clockwise_detent_4_edges():
    dec = QuadratureDecoder(4, 3)
    assert run(dec, (2, 0, 1, 3)) == -1


@pytest.mark.parametrize("edges", EDGES)
@pytest.mark.parametrize("start", CW)
@pytest.mark.parametrize("direction", (1, -1))
def test_clean_detents_count_one_each(edges, start, direction):
    dec = QuadratureDecoder(edges, start)
    seq = walk(start, [direction] * 7, edges)
    for k in range(7):
        run(dec, seq[1 + k * edges: 1 + (k + 1) * edges])
        assert dec.detents == direction * (k + 1)
    assert dec.state == seq[-1]


@pytest.mark.parametrize("edges", EDGES)
def test_repeated_state_is_ignored(edges):
    dec = QuadratureDecoder(edges, 3)
    for s in walk(3, [1, 1], edges)[1:]:
        dec.feed(s)
        dec.feed(s)   # the IRQ may read the same state twice
    assert dec.detents == 2


@pytest.mark.parametrize("edges", (4, 2))
def test_half_detent_and_back_counts_nothing(edges):
    dec = QuadratureDecoder(edges, 3)
    there = detent_states(3, 1, edges // 2)          # half way into the next detent
    back = list(reversed([3] + there[:-1]))          # and the same way back
    run(dec, there + back)
    assert dec.detents == 0 and dec.state == 3


@st.composite
def bouncy_walks(draw):
    edges = draw(st.sampled_from(EDGES))
    start = draw(st.sampled_from(CW))
    directions = draw(st.lists(st.sampled_from((1, -1)), min_size=0, max_size=8))
    seq = walk(start, directions, edges)
    # Bounce: at any point of the sequence (before any edge or after the last),
    # a transition to a neighbour immediately followed by its reverse, any number of times.
    bounces = draw(st.lists(st.tuples(st.integers(0, len(seq) - 1), st.sampled_from((1, -1)),
                                      st.integers(1, 3)), max_size=12))
    return edges, start, directions, seq, bounces


@given(bouncy_walks())
def test_bounce_never_changes_the_count(case):
    edges, start, directions, seq, bounces = case
    at = {}
    for i, d, times in bounces:
        at.setdefault(i, []).extend([d] * times)
    noisy = []
    for i, s in enumerate(seq):
        if i:
            noisy.append(s)
        for d in at.get(i, ()):
            noisy += [step(s, d), s]
    dec = QuadratureDecoder(edges, start)
    run(dec, noisy)
    assert dec.detents == sum(directions)
    # What status reports: no bounce where there was none, never more than were made.
    assert 0 <= dec.bounces <= 2 * sum(t for _, _, t in bounces)
    if not bounces:
        assert dec.bounces == 0
    assert dec.skips == 0
    # And the decoder is back in step: one more clean detent counts exactly one.
    before = dec.detents
    run(dec, detent_states(seq[-1], 1, edges))
    assert dec.detents == before + 1


@pytest.mark.parametrize("edges", (4, 2))
@pytest.mark.parametrize("n", (1, 5, 40))
def test_a_contact_chattering_at_rest_is_one_bounce_per_close_and_open(edges, n):
    dec = QuadratureDecoder(edges, 3)
    run(dec, (1, 3) * n)         # A closes and opens again, B stays open
    assert (dec.detents, dec.bounces, dec.skips) == (0, n, 0)
    run(dec, walk(3, (1, 1, -1), edges)[1:])  # turns, one back at a detent: no bounce
    assert (dec.detents, dec.bounces) == (1, n)


def test_both_contacts_at_once_is_a_skip():
    dec = QuadratureDecoder(4, 3)
    run(dec, (1, 2, 3))          # 1 -> 2 changes both
    assert dec.skips == 1


def test_the_counts_stop_at_a_small_int():
    # A hard IRQ must never make a big int: counts saturate below 2**30.
    dec = QuadratureDecoder(4, 3)
    dec.bounces = dec.skips = COUNT_MAX
    run(dec, (1, 3, 0, 3))
    assert (dec.bounces, dec.skips) == (COUNT_MAX, COUNT_MAX) and COUNT_MAX < 1 << 30


def test_bounce_at_the_last_edge_of_a_detent():
    # 3 1 0 2 [3 2 3 2] 3: the contact chatters as it drops into the detent.
    dec = QuadratureDecoder(4, 3)
    run(dec, (1, 0, 2, 3, 2, 3, 2, 3))
    assert dec.detents == 1
    run(dec, (1, 0, 2, 3))
    assert dec.detents == 2


@pytest.mark.parametrize("edges", EDGES)
@pytest.mark.parametrize("direction", (1, -1))
@pytest.mark.parametrize("missing", range(1, 8))
def test_missed_edge_recovers_at_rest(edges, direction, missing):
    """One state of a turn is never seen (a two-bit jump): the decoder may drop
    the detents the jump spans but never counts backwards or double, and it is
    back in step once the knob rests in a detent again."""
    n = 8
    seq = walk(3, [direction] * n, edges)
    jumped = seq[:missing] + seq[missing + 1:]
    # The decoder must really see a two-bit jump here.
    assert bin(jumped[missing - 1] ^ jumped[missing]).count("1") == 2
    dec = QuadratureDecoder(edges, 3)
    run(dec, jumped[1:])
    counted = dec.detents * direction
    lost = n - counted
    # A two-bit jump covers two edges: at most the detents those two edges belong to.
    assert 0 <= lost <= (2 if edges == 1 else 1)
    # Back in step: further clean detents count exactly.
    assert dec.state == seq[-1]
    run(dec, walk(dec.state, [direction] * 3, edges)[1:])
    assert dec.detents * direction == counted + 3
    run(dec, walk(dec.state, [-direction] * 2, edges)[1:])
    assert dec.detents * direction == counted + 1


def test_missed_edge_4_edges_concrete():
    dec = QuadratureDecoder(4, 3)
    run(dec, (1, 2, 3))          # 0 was never seen: 1 -> 2 is a two-bit jump
    assert dec.detents in (0, 1)
    assert dec.pos == 0          # re-synchronised at the rest state
    first = dec.detents
    run(dec, (1, 0, 2, 3) * 2)
    assert dec.detents == first + 2


# ---------------------------------------------------------------- acceleration

def steady(acc, n, interval, sign=1, t0=1000, quantum=1):
    """Steps of n detents at a steady interval, times rounded up to the poll quantum."""
    out = []
    for i in range(n):
        t = t0 + i * interval
        t = -(-t // quantum) * quantum
        out.append(acc.steps(sign, t % TICKS_PERIOD))
    return out


def test_first_detent_is_one_step():
    assert Acceleration().steps(1, 12345) == 1
    assert Acceleration().steps(-1, 0) == -1


def test_zero_detents_is_zero_steps():
    acc = Acceleration()
    acc.steps(1, 0)
    assert acc.steps(0, 10) == 0


def test_first_two_detents_of_a_gesture_are_single_steps_however_fast():
    assert steady(Acceleration(), 2, 1) == [1, 1]


@pytest.mark.parametrize("interval", (60, 64, 100, 250, 1000))
@pytest.mark.parametrize("sign", (1, -1))
def test_slow_detents_one_step_each(interval, sign):
    assert steady(Acceleration(), 40, interval, sign) == [sign] * 40


@pytest.mark.parametrize("interval,k", [(55, 2), (40, 2), (26, 2), (25, 2), (20, 4), (10, 4), (1, 4)])
def test_steady_turning_settles_in_its_tier(interval, k):
    s = steady(Acceleration(), 40, interval)
    assert s[:2] == [1, 1]
    assert s[-20:] == [k] * 20


@pytest.mark.parametrize("interval", (25, 30, 40, 50))
def test_poll_quantized_times_do_not_flip_the_tier(interval):
    """The PIO decoder's detent times are the 10 ms poll's: the tier must still hold."""
    s = steady(Acceleration(), 60, interval, quantum=10)
    assert set(s[4:]) == {2}, s


def test_faster_never_gives_fewer_steps():
    prev = 0
    for interval in range(200, 0, -1):
        total = sum(steady(Acceleration(), 20, interval))
        assert total >= prev, interval
        prev = total
    assert prev == 2 + 18 * 4


def test_first_detent_after_a_pause_is_one_step():
    acc = Acceleration()
    s = steady(acc, 10, 10, t0=0)
    assert s[-1] == 4
    for t in range(100, 2200, 10):   # the main loop ticks; the knob is still
        acc.expire(t)
    assert acc.steps(1, 2200) == 1


@given(st.lists(st.tuples(st.integers(-6, 6), st.integers(0, 500)), min_size=1, max_size=30))
def test_steps_keep_sign_and_are_a_whole_multiple(turns):
    acc = Acceleration()
    t = 0
    for detents, gap in turns:
        t += gap
        s = acc.steps(detents, t)
        if detents == 0:
            assert s == 0
            continue
        assert (s > 0) == (detents > 0)
        assert s in (detents, 2 * detents, 4 * detents)


@pytest.mark.parametrize("before_wrap", (1, 5, 30, 59))
def test_ticks_wrap_is_handled(before_wrap):
    s = steady(Acceleration(), 20, 10, t0=TICKS_PERIOD - before_wrap * 10)
    assert s[:2] == [1, 1] and s[-5:] == [4] * 5
    s = steady(Acceleration(), 20, 100, t0=TICKS_PERIOD - before_wrap * 100)
    assert s == [1] * 20


def test_first_detent_after_a_very_long_pause_is_one_step():
    acc = Acceleration()
    steady(acc, 10, 10, t0=0)
    # The knob is left alone for 7 days; ticks_ms has wrapped (period 2**30 ms). The main
    # loop calls expire() on every pass, so the gesture ends a second after its last detent.
    for t in range(100, 5000, 10):
        acc.expire(t)
    later = (7 * 24 * 3600 * 1000) % TICKS_PERIOD
    assert acc.steps(1, later) == 1


# ---------------------------------------------------------------- a misread can only be quieter

def test_a_louder_detent_within_50_ms_of_a_quieter_one_is_refused():
    acc = Acceleration()
    assert acc.admit(1, 1000) == 1              # no quieter detent before: counts
    assert acc.admit(-1, 1010) == -1            # quieter always counts
    assert acc.admit(1, 1030) == 0 and acc.admit(2, 1059) == 0   # 20, 49 ms after it
    assert acc.refused == 3
    assert acc.admit(1, 1060) == 1              # 50 ms: a hand can turn back that fast
    assert acc.admit(-3, 1061) == -3 and acc.admit(1, 1062) == 0


def test_the_quieter_detents_time_is_forgotten_before_ticks_can_wrap():
    acc = Acceleration()
    acc.admit(-1, TICKS_PERIOD - 5)
    acc.expire(TICKS_PERIOD - 5 + 1001)
    # 2**30 ms later ticks_diff would read "just now": the time is gone by then.
    assert acc.down_ms is None and acc.admit(1, TICKS_PERIOD - 5 + 10) == 1


def test_the_decoder_refuses_a_misread_turn_back_during_a_turn_down():
    dec = QuadratureDecoder(4, 3, Acceleration())
    t = 0
    for d in (-1, -1, 1, -1, 1, 1, -1):         # down, with misreads up among the detents
        for s in detent_states(dec.state, d, 4):
            t += 1
            dec.feed(s, t)
    assert (dec.detents, dec.accel.refused) == (-4, 3) and dec.steps < 0


@given(st.lists(st.tuples(st.integers(-3, 3), st.integers(0, 80)), max_size=40))
def test_admitted_louder_detents_never_follow_a_quieter_one_within_50_ms(turns):
    acc = Acceleration()
    t, last_down = 0, None
    for d, gap in turns:
        t += gap
        refused = d > 0 and last_down is not None and t - last_down < 50
        assert acc.admit(d, t) == (0 if refused else d)
        if d < 0:
            last_down = t


def test_the_refused_count_stops_at_a_small_int():
    acc = Acceleration()
    acc.refused = COUNT_MAX
    acc.admit(-1, 0)
    acc.admit(1, 1)
    assert acc.refused == COUNT_MAX
