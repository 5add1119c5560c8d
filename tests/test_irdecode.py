"""The IR decoder (headroom_fw.irdecode) on the waveforms a receiver passes
(sim/irframes.py): NEC, the Apple remote, RC5 and Sony frames and their repeats, with
the receiver's width error, edge jitter, a lamp's glitches and the ticks' wrap."""
from hypothesis import given
from hypothesis import strategies as st

from headroom.sim import irframes as F
from headroom_fw import irdecode as D

WRAP = 1 << 30     # rp2's ticks_us period


def decode(keys, rx, start_us=1000, gap_us=150000):
    """Send `keys` [(proto, addr, cmd, hold_ms, nbits)] one after another (frames at
    start_us, `gap_us` between keys); returns the decoder and its events per key."""
    d = D.Decoder()
    t = start_us
    toggle = 0
    per_key = []
    for proto, addr, cmd, hold, nbits in keys:
        toggle ^= 1
        frames = [(t + s, r) for s, r in F.key_frames(proto, addr, cmd, hold, toggle, nbits)]
        end = F.span_us(frames)
        got = []
        for s, e in F.union(F.frames_marks(rx, frames), rx.glitches(t - 5000, end + 5000)):
            d.edge(s % WRAP, True, s // 1000 % WRAP)
            d.edge(e % WRAP, False, e // 1000 % WRAP)
            while d.count:               # as the main loop takes them, every pass
                got.append(d.take())
        t_idle = end + 20000     # past the last glitch (end + 5 ms) by more than GAP_US
        d.idle(t_idle % WRAP, t_idle // 1000 % WRAP)
        while d.count:
            got.append(d.take())
        per_key.append(got)
        t = end + gap_us
    return d, per_key


def expected(proto, code, hold_ms, nbits=12):
    """The events of a key: the press, then a REPEAT per repeat frame. A Sony key is
    taken on its second frame alike (irdecode: one frame is never a key)."""
    n = len(F.key_frames(proto, 0, 0, hold_ms, 0, nbits))
    if proto == "sony":
        n -= 1
    return [code] + [code | D.REPEAT] * (n - 1)


key = st.one_of(
    st.tuples(st.just("nec"), st.integers(0, 0xFFFF), st.integers(0, 0xFF)),
    st.tuples(st.just("apple"), st.just(0), st.integers(0, 0xFF)),
    st.tuples(st.just("rc5"), st.integers(0, 0x1F), st.integers(0, 0x7F)),
    st.tuples(st.just("sony"), st.integers(0, 0x1F), st.integers(0, 0x7F)),
)


@given(keys=st.lists(st.tuples(key, st.sampled_from([0, 0, 300, 1200])), min_size=1, max_size=6),
       seed=st.integers(1, 2 ** 31), glitches=st.sampled_from([0, 20, 80]),
       start=st.sampled_from([1000, WRAP - 200000]))
def test_every_key_decodes_once_then_its_repeats(keys, seed, glitches, start):
    """Each key: its code as a press, then one REPEAT event per repeat frame (Sony:
    from its second frame); never another key, whatever the receiver's error, jitter
    and a lamp's glitches, across the ticks' wrap. An NEC address whose high byte is
    its low byte inverted is the 8-bit form, as the remote sends it."""
    rx = F.Receiver(seed=seed, glitch_per_s=glitches)
    keys = [(p, a, c, h, 12) for (p, a, c), h in keys]
    _, per_key = decode(keys, rx, start)
    for (proto, addr, cmd, hold, nbits), got in zip(keys, per_key):
        if proto == "nec" and addr > 0xFF and addr >> 8 == (addr & 0xFF) ^ 0xFF:
            addr &= 0xFF
        want = F.fw_code(proto, addr, cmd, nbits)
        assert got == expected(proto, want, hold, nbits), (proto, addr, cmd, hold,
                                                           [hex(g) for g in got])


@given(addr=st.integers(0, 0x1FFF), cmd=st.integers(0, 0x7F), nbits=st.sampled_from([12, 15, 20]),
       seed=st.integers(1, 2 ** 31))
def test_sony_forms_keep_their_address_apart(addr, cmd, nbits, seed):
    addr &= {12: 0x1F, 15: 0xFF, 20: 0x1FFF}[nbits]
    _, per_key = decode([("sony", addr, cmd, 0, nbits)], F.Receiver(seed=seed))
    want = D.code(D.SONY, addr | {12: 0, 15: 1, 20: 2}[nbits] << 13, cmd)
    assert per_key[0] == [want, want | D.REPEAT]   # sent three times: taken on the second


@given(seed=st.integers(1, 2 ** 31), per_s=st.sampled_from([50, 200, 1000]))
def test_a_lamp_alone_makes_no_key(seed, per_s):
    rx = F.Receiver(seed=seed, glitch_per_s=per_s)
    d = D.Decoder()
    for s, e in rx.glitches(0, 2000000):
        d.edge(s, True, s // 1000)
        d.edge(e, False, e // 1000)
    d.idle(2100000, 2100)
    assert d.count == 0 and d.frames == 0
    assert d.glitches > 0


@given(cmd=st.integers(0, 0xFF), bit=st.integers(16, 31), seed=st.integers(1, 2 ** 31))
def test_an_nec_frame_with_a_bit_wrong_is_refused(cmd, bit, seed):
    """The command's inverse is NEC's check: one bit of the command or its inverse
    read wrong (a 0's space as a 1's) and the frame is nothing, not another key."""
    runs = F.nec_frame(0x00, cmd)
    i = 3 + 2 * bit                               # the space of that bit
    runs[i] = 562 if runs[i] == 1687 else 1687
    rx = F.Receiver(seed=seed)
    d = D.Decoder()
    for s, e in rx.marks(1000, runs):
        d.edge(s, True, 1)
        d.edge(e, False, 1)
    d.idle(200000, 200)
    assert d.count == 0 and d.rejected == 1


def test_a_repeat_with_no_key_before_it_is_nothing():
    d = D.Decoder()
    for s, e in F.Receiver().marks(1000, F.nec_repeat()):
        d.edge(s, True, 1)
        d.edge(e, False, 1)
    d.idle(100000, 100)
    assert d.count == 0 and d.orphans == 1


@given(seed=st.integers(1, 2 ** 31), bit=st.integers(0, 19))
def test_one_sony_frame_read_wrong_is_no_key(seed, bit):
    """A glitch can make a frame another key's; Sony's own rule (a key is two frames
    alike) keeps it from acting: the wrong frame, then the right ones, give the right
    key once."""
    rx = F.Receiver(seed=seed)
    d = D.Decoder()
    right = F.sony_frame(3, 0x21, 20)
    wrong = list(right)
    i = 2 + 2 * bit
    wrong[i] = 600 if wrong[i] == 1200 else 1200
    got = []
    t = 1000
    for runs in (wrong, right, right):
        for s, e in rx.marks(t, runs):
            d.edge(s, True, s // 1000)
            d.edge(e, False, e // 1000)
        end = t + sum(runs) + 6500       # past GAP_US, before the next frame
        d.idle(end, end // 1000)
        t += F.SONY_PERIOD_US
        while d.count:
            got.append(d.take())
    assert got == [D.code(D.SONY, 3 | 2 << 13, 0x21)]


def test_rc5_toggle_makes_a_new_press_and_a_late_frame_too():
    rx = F.Receiver(seed=5)
    d = D.Decoder()
    t = 1000
    events = []
    for toggle, gap_ms in ((0, 0), (0, 114), (1, 114), (1, 600)):
        t += gap_ms * 1000
        for s, e in rx.marks(t, F.rc5_frame(3, 12, toggle)):
            d.edge(s, True, s // 1000)
            d.edge(e, False, e // 1000)
        d.idle(t + 40000, (t + 40000) // 1000)
        events.append(d.take())
    c = D.code(D.RC5, 3, 12)
    assert events == [c, c | D.REPEAT, c, c]


def test_the_events_wait_in_a_bounded_queue():
    """A loop that does not look for a while loses the newest keys, never the memory."""
    rx = F.Receiver(seed=9)
    d = D.Decoder()
    t = 1000
    for i in range(20):
        for s, e in rx.marks(t, F.nec_frame(0, i)):
            d.edge(s, True, s // 1000)
            d.edge(e, False, e // 1000)
        t += 400000
    d.idle(t, t // 1000)
    got = []
    while d.count:
        got.append(d.take())
    assert got == [D.code(D.NEC, 0, i) for i in range(8)]
