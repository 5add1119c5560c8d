"""Fixes and rules that no other test pinned (issue 17, "Fixes and rules that no test
pins"): each test here fails when its fix is undone in the firmware.

Asserted on what the board shows - pins, bus bytes, what the PGA2311 model latched, the
level at the jack, the replies - never on firmware variables:

1. a lowered volume limit cancels a raise still waiting for its long press;
2. the same for the SPL limit;
3. a host's balance walks a ramp step per frame, never jumps;
4. a host's mute starts the DAC's soft mute (XSMT low) in the pass that runs it, and the
   PGA2311 mutes only once the DAC's ramp is over;
5. a line over the maximum length is dropped whole, its tail never run;
6. in a daisy chain the far chip's word goes first (a board whose chips carry different
   channels: one chip per side);
7. un-muting, the DAC's soft mute opens last (after the mute relay and the PGA2311);
8. the supply failing mutes the PGA2311 (after XSMT, before the mute relay opens, within
   the hold-up) on a board without the hardware mute path;
9. with ZCEN tied low (no zero crossing softens a gain change) every fall walks: a ramp
   step (2 dB) per frame, a ramp interval apart, the first at once (a host's volume and
   limit, a fast turn down, a louder headphone, a lower SPL limit); with ZCEN high the
   same fall is one frame. Into silence: under the DAC's soft mute; a channel balance
   alone takes below the range stays at the floor;
10. a host's change that lowers the level (the volume limit, the SPL limit, a louder
   headphone, the volume) reaches the PGA2311 in the pass that answers it, not at the
   next pass's tick (a GC pause between the two held the jack 51 ms above a new SPL
   limit: HEADROOM_SEED=3199818829).

Seeing them fail: `HEADROOM_UNDO=NAME pytest tests/test_pinned_fixes.py` undoes one fix
(NAME: a key of UNDO below) in the firmware each board boots, by patching the freshly
imported modules; that fix's test then fails (the `checked` boards' trace checker may
add errors of its own). Without the variable nothing is patched. All ten in turn:

    for u in limit spl_limit balance_walk mute_same_pass long_line chain_order \
             dac_opens_last isr_mutes_pga fall_walk host_same_pass; do
        HEADROOM_UNDO=$u .venv/bin/python -m pytest -q tests/test_pinned_fixes.py; done

The patches reach into the firmware's internals (the fixes' own functions): when those
are rewritten, so must the patch be; the tests themselves assert only behaviour.
"""
import json
import os

import pytest

from headroom.sim import simboard

from helpers import (
    BALANCED,
    BALANCED_NO_HW,
    CHIP_PER_SIDE,
    SE,
    SE_NO_HW,
    ZCEN_LOW,
    ask,
    long_press,
    until_playing,
)

# ---- the fixes undone (HEADROOM_UNDO=NAME): each patches the firmware's modules ----

def _undo_limit():
    from headroom_fw import controller as C
    drop = C.Controller._drop_pending

    def _drop_pending(self, what):
        if what != C._ASK_LIMIT:
            drop(self, what)
    C.Controller._drop_pending = _drop_pending


def _undo_spl_limit():
    from headroom_fw import controller as C
    drop = C.Controller._drop_pending

    def _drop_pending(self, what):
        if what != C._ASK_SPL:
            drop(self, what)
    C.Controller._drop_pending = _drop_pending


def _undo_balance_walk():
    from headroom_fw import controller as C
    host_balance = C.Controller.host_balance

    def jump(self, hdb, now):
        why = host_balance(self, hdb, now)
        self._trim = self.balance
        return why
    C.Controller.host_balance = jump


def _undo_mute_same_pass():
    from headroom_fw import controller as C
    user_mute = C.Controller._user_mute

    def later(self, on, now):
        self._apply_outputs = lambda: None   # the outputs left for the next tick
        try:
            user_mute(self, on, now)
        finally:
            del self._apply_outputs
    C.Controller._user_mute = later


def _undo_long_line():
    from headroom_fw import protocol
    feed = protocol.LineReader.feed

    def tail_runs(self, byte):
        if self.n >= protocol.MAX_LINE and byte not in (10, 13):
            self.n = 0       # a full buffer starts a new line: the tail becomes a command
        return feed(self, byte)
    protocol.LineReader.feed = tail_runs


def _undo_chain_order():
    from headroom_fw import pga2311
    send = pga2311.PGA2311._send

    def near_first(self, f):
        n = self.chips
        g = bytearray(len(f))
        for i in range(n):
            g[2 * i:2 * i + 2] = f[2 * (n - 1 - i):2 * (n - 1 - i) + 2]
        send(self, g)
    pga2311.PGA2311._send = near_first


def _undo_dac_opens_last():
    from headroom_fw import app
    write = app.App._write

    def dac_first(self):
        x = self.xsmt
        if not self.ctl.dac_mute and x is not None and x.muted:
            x.mute(False)
        write(self)
    app.App._write = dac_first


def _undo_isr_mutes_pga():
    from headroom_fw import supply
    isr = supply.Supply._isr

    def without_pga(self, pin):
        self.pga.mute = lambda on: None
        try:
            isr(self, pin)
        finally:
            del self.pga.mute
    supply.Supply._isr = without_pga


def _undo_fall_walk():
    from headroom_fw import controller as C
    init = C.Controller.__init__

    def at_once(self, *a, **kw):
        init(self, *a, **kw)
        self._walk = False     # every fall in one frame, as with ZCEN high
    C.Controller.__init__ = at_once


def _undo_host_same_pass():
    from headroom_fw import app
    serve = app.App._serve

    def later(self, now):
        self.ctl.outputs = lambda: None   # the host's change left for the next tick
        try:
            serve(self, now)
        finally:
            del self.ctl.outputs
    app.App._serve = later


UNDO = {"limit": _undo_limit, "spl_limit": _undo_spl_limit, "balance_walk": _undo_balance_walk,
        "mute_same_pass": _undo_mute_same_pass, "long_line": _undo_long_line,
        "chain_order": _undo_chain_order, "dac_opens_last": _undo_dac_opens_last,
        "isr_mutes_pga": _undo_isr_mutes_pga, "fall_walk": _undo_fall_walk,
        "host_same_pass": _undo_host_same_pass}


@pytest.fixture(autouse=True)
def _undone(monkeypatch):
    """With HEADROOM_UNDO=NAME, every firmware import in the test is the patched one."""
    name = os.environ.get("HEADROOM_UNDO")
    if not name:
        yield
        return
    undo = UNDO[name]
    purge = simboard._purge_firmware

    def purge_and_undo():
        purge()
        import headroom_fw.lifecycle  # noqa: F401 - everything a boot imports
        undo()
    monkeypatch.setattr(simboard, "_purge_firmware", purge_and_undo)
    purge_and_undo()
    yield
    purge()   # the next test imports the firmware afresh


# ---- watching the board ----

class Watch:
    """Every trace record with the number of the main-loop pass it came in (records
    between passes carry the next pass's number), and the state of the parts whenever
    XSMT rises."""

    def __init__(self, b):
        self.b = b
        self.passes = 0
        self.recs = []
        self.xsmt_rises = []   # (t_us, mute relay contacts closed, PGA2311 MUTE pin level)
        b.sim.after_step.append(self._stepped)
        b.trace.listeners.append(self._record)

    def _stepped(self):
        self.passes += 1

    def _record(self, t_us, kind, fields):
        f = dict(fields)
        self.recs.append((self.passes, t_us, kind, f))
        bd = self.b.board
        if kind == "pin" and f["pin"] == bd.dac_xsmt and f["level"] == 1:
            self.xsmt_rises.append((t_us, self.b.relays["mute"].energized,
                                    self.b.sim.gpio[bd.pga_mute].level))

    def pins(self, n, since=0):
        """[(pass, t_us, level)] the MCU drove on GPIO n."""
        return [(p, t, f["level"]) for p, t, k, f in self.recs[since:]
                if k == "pin" and f["pin"] == n]


def playing(checked, path):
    """A board under the trace checker, playing, its fade-in's last step latched (the
    PGA2311 takes a new gain at a zero crossing, 16 ms at most)."""
    b = checked(path, run_ms=0)
    until_playing(b)
    b.run_ms(20)
    return b


def jack_top(b):
    """The louder channel at the jack (cdB), None when silent."""
    lv = [x for x in b.jack.levels if x is not None]
    return max(lv) if lv else None


# ---- 1, 2: a lowered limit cancels a raise waiting for its long press ----

def test_lowering_the_limit_cancels_a_pending_raise(checked):
    b = playing(checked, SE)
    assert ask(b, "set limit -10")["ok"]
    r = ask(b, "set limit 0")
    assert r["ok"] is False and "long press" in r["error"]
    assert ask(b, "set limit -20") == {"ok": True, "limit": -20.0}
    long_press(b)   # within the 10 s of the raise: it must be gone
    assert ask(b, "get limit") == {"ok": True, "limit": -20.0}
    r = ask(b, "set volume -10")
    assert r["ok"] is False and "-20.0 dBV" in r["error"]
    assert jack_top(b) <= -2000
    # A raise asked afresh still takes its long press (the test above is not vacuous).
    assert ask(b, "set limit 0")["ok"] is False
    long_press(b)
    assert ask(b, "get limit") == {"ok": True, "limit": 0.0}


def test_lowering_the_spl_limit_cancels_a_pending_raise(checked):
    from headroom import headphones as hph
    b = playing(checked, SE)
    hp = ask(b, hph.command(hph.find(hph.builtin(), "HD 600")))
    assert hp["ok"], hp
    offset = hp["spl"] - hp["volume"]             # dB SPL at 0 dBV
    assert ask(b, "set spl_limit 90")["ok"]
    r = ask(b, "set spl_limit 110")
    assert r["ok"] is False and "long press" in r["error"]
    assert ask(b, "set spl_limit 80") == {"ok": True, "spl_limit": 80.0}
    long_press(b)
    assert ask(b, "get spl_limit") == {"ok": True, "spl_limit": 80.0}
    # A level for 95 dB SPL (within the volume limit and the path): refused under 80.
    loud = int((95 - offset) * 2) / 2
    assert loud <= b.board.limit_hdb / 2
    r = ask(b, "set volume %s" % loud)
    assert r["ok"] is False, r
    assert ask(b, "get spl")["spl"] <= 80.0
    assert ask(b, "set spl_limit 110")["ok"] is False
    long_press(b)
    assert ask(b, "get spl_limit") == {"ok": True, "spl_limit": 110.0}
    assert ask(b, "set volume %s" % loud)["ok"]


# ---- 3: a host's balance walks ----

class Frames:
    """What the PGA2311 chain latched at each rise of CS (the model's own decoding of the
    bus): [(left, right) per chip]."""

    def __init__(self, b):
        self.b = b
        self.frames = [self._latched()]   # the last frame before, then every one after
        b.sim.gpio[b.board.pga_cs].listeners.append(self._cs)   # after the chain model's

    def _latched(self):
        return [(c.sr & 0xFF, c.sr >> 8) for c in self.b.pga.chips]

    def _cs(self, g):
        if g.level == 1:
            self.frames.append(self._latched())


@pytest.mark.parametrize("path", [SE, CHIP_PER_SIDE], ids=["se", "chip-per-side"])
def test_a_hosts_balance_walks_in_ramp_steps(checked, path):
    from headroom_fw.volume import pga_code
    b = playing(checked, path)
    bd = b.board
    fr = Frames(b)
    assert ask(b, "set balance 10", ms=1000)["ok"]
    first = len(fr.frames)
    assert ask(b, "set balance -10", ms=1500)["ok"]
    frames = fr.frames
    step = bd.ramp_step_hdb
    walked = 0
    for a, c in zip(frames, frames[1:]):
        for chip_a, chip_c in zip(a, c):
            for x, y in zip(chip_a, chip_c):
                assert abs(y - x) <= step, "a PGA2311 code jumped %d -> %d in one frame" % (x, y)
        walked += a != c
    # 10 dB one way, then 20 dB the other: at least 5 + 10 frames that moved.
    assert walked >= 20 // step + 40 // step, frames
    path_cdb = bd.path_cdb(0, 0)
    vol = bd.default_hdb
    want = {0: pga_code(vol, path_cdb), 1: pga_code(vol - 20, path_cdb)}  # balance -10
    # The frame as the chips latched it: (left, right) per chip, i.e. in PGA channel order.
    assert [code for chip in frames[-1] for code in chip] == [want[r] for r in bd.pga_roles]
    assert len(frames) > first


# ---- 4: a host's mute starts the DAC's soft mute in the same pass ----

@pytest.mark.parametrize("path", [SE, ZCEN_LOW], ids=["se", "zcen-low"])
def test_a_hosts_mute_starts_the_dac_soft_mute_in_its_own_pass(checked, path):
    b = playing(checked, path)
    bd = b.board
    w = Watch(b)
    b.console.send("set mute on\n")
    command_pass = w.passes        # the next pass reads the line
    b.run_ms(100)
    assert json.loads(b.console.replies()[-1]) == {"ok": True, "mute": True}
    xsmt = w.pins(bd.dac_xsmt)
    mute = w.pins(bd.pga_mute)
    assert xsmt and xsmt[0][2] == 0, xsmt
    assert xsmt[0][0] == command_pass, "XSMT fell %d passes after the command's" % (
        xsmt[0][0] - command_pass)
    assert mute and mute[0][2] == 0, mute
    ramp_us = b.jack.ramp_us
    assert mute[0][1] - xsmt[0][1] >= ramp_us, (
        "the PGA2311 muted %d us after XSMT fell: inside the DAC's %d us ramp" % (
            mute[0][1] - xsmt[0][1], ramp_us))
    assert b.jack.levels == (None, None)


# ---- 5: a line over the maximum length is dropped whole ----

def _long_lines(max_line):
    pad = " " * (2 * max_line + 8)
    return ["%sset volume 0" % pad,               # the tail is a command
            "set volume 0%s" % pad,               # the head is one
            "%sset volume 0%s" % (pad, pad),
            "x" * (max_line + 1),
            "set volume 0" + "x" * (max_line - 12 + 1)]


class _Console:
    """The console's two calls, over bytes the test gives and lines it collects."""

    def __init__(self, data):
        self.data = bytearray(data)
        self.out = []

    def read_byte(self):
        if not self.data:
            return None
        c = self.data[0]
        del self.data[0]
        return c

    def busy(self):
        return False  # a line is out at once

    def write_line(self, text, n=-1):
        self.out.append(text if n < 0 else bytes(text[:n]).decode())  # a copy (JsonOut)
        return True


def test_a_line_over_the_maximum_is_dropped_whole_by_the_protocol():
    from headroom_fw import board as boardfile
    from headroom_fw import protocol
    from headroom_fw.controller import Controller
    from headroom_fw.settings import defaults
    bd = boardfile.load(SE)
    ctl = Controller(bd, defaults(bd), 0, 0, 0)
    session = protocol.Session()
    before = protocol.state_json(ctl, "")
    for line in _long_lines(protocol.MAX_LINE):
        con = _Console(line.encode() + b"\nget volume\n")
        reader = protocol.LineReader()
        while con.data:
            protocol.serve(con, reader, lambda s: protocol.handle(session, ctl, s, 0))
        assert len(con.out) == 2, (line, con.out)
        r = json.loads(con.out[0])
        assert r["ok"] is False and "too long" in r["error"], (line, r)
        assert json.loads(con.out[1]) == {"ok": True, "volume": -30.0}
        assert protocol.state_json(ctl, "") == before


def test_a_line_over_the_maximum_is_dropped_whole_by_the_board(checked):
    from headroom_fw import protocol
    b = playing(checked, SE)
    level = b.jack.levels
    for line in _long_lines(protocol.MAX_LINE):
        n = len(b.console.replies())
        b.console.send(line + "\nget volume\n")
        b.run_ms(200)
        new = [json.loads(x) for x in b.console.replies()[n:]]
        assert len(new) == 2, (line, new)
        assert new[0]["ok"] is False and "too long" in new[0]["error"], (line, new)
        assert new[1] == {"ok": True, "volume": -30.0}
        assert b.jack.levels == level


# ---- 6: the far chip's word first ----

def test_the_far_chips_word_goes_first_in_a_chain_of_different_chips(checked):
    from headroom_fw.volume import level_cdb, pga_code
    b = playing(checked, CHIP_PER_SIDE)
    bd = b.board
    assert bd.pga_roles == [0, 0, 1, 1]      # chip 0 (near the MCU) left, chip 1 right
    w = Watch(b)
    assert ask(b, "set balance 5", ms=500)["ok"]          # the left 5 dB down
    path = bd.path_cdb(0, 0)
    left, right = pga_code(bd.default_hdb - 10, path), pga_code(bd.default_hdb, path)
    assert left != right
    # On the bus: the far chip's word (right: its R- then R byte) before the near chip's.
    frames = [f["data"] for _p, _t, k, f in w.recs if k == "spi" and f["cs"] == bd.pga_cs]
    assert frames[-1] == "%02x%02x%02x%02x" % (right, right, left, left)
    # What each chip latched, decoded by the chain model, and what reaches the jack.
    assert [c.codes for c in b.pga.chips] == [[left, left], [right, right]]
    assert b.jack.levels == (level_cdb(left, path), level_cdb(right, path))
    # The balanced output: hot minus cold of each side's own chip.
    assert ask(b, "set output balanced", ms=1500)["ok"]   # muted, switched, faded in
    bal = bd.path_cdb(0, 1)
    left, right = pga_code(bd.default_hdb - 10, bal), pga_code(bd.default_hdb, bal)
    assert [c.codes for c in b.pga.chips] == [[left, left], [right, right]]
    assert b.jack.levels == (level_cdb(left, bal), level_cdb(right, bal))


# ---- 7: un-muting, the DAC opens last ----

@pytest.mark.parametrize("path", [SE, ZCEN_LOW, BALANCED], ids=["se", "zcen-low", "balanced"])
def test_unmuting_the_dac_soft_mute_opens_last(checked, path):
    b = checked(path, run_ms=0)
    w = Watch(b)
    until_playing(b)                                   # the boot's unmute
    assert ask(b, "set mute on", ms=200)["ok"]
    assert ask(b, "set mute off", ms=500)["ok"]        # the user's
    b.set_gain("high")                                 # a switch: muted, moved, unmuted
    b.run_ms(600)
    assert len(w.xsmt_rises) == 3, w.xsmt_rises
    for t, relay_closed, pga_mute_level in w.xsmt_rises:
        assert relay_closed, "XSMT rose at %d us with the mute relay open" % t
        assert pga_mute_level == 1, "XSMT rose at %d us with the PGA2311 still muted" % t
    assert None not in b.jack.levels


# ---- 8: the supply failing mutes the PGA2311 ----

@pytest.mark.parametrize("path", [SE_NO_HW, BALANCED_NO_HW], ids=["se", "balanced"])
@pytest.mark.parametrize("turning", [False, True], ids=["idle", "turning"])
def test_a_failing_supply_mutes_the_pga2311_without_a_hardware_mute_path(checked, path, turning):
    b = playing(checked, path)
    bd = b.board
    assert not bd.hardware_mute
    w = Watch(b)
    if turning:
        b.turn(3, rate=20)
        b.run_ms(60)                     # the supply fails in the middle of the turn
    t0 = b.now_us()
    b.power(False)
    b.run_ms(bd.holdup_ms + 50)
    off = [t for _p, t, k, _f in w.recs if k == "off"]
    assert off, "the MCU never stopped"
    xsmt = [(t, lv) for _p, t, lv in w.pins(bd.dac_xsmt) if t < off[0]]
    mute = [(t, lv) for _p, t, lv in w.pins(bd.pga_mute) if t < off[0]]
    relay = [(t, lv) for _p, t, lv in w.pins(bd.mute_relay.pin) if t < off[0]]
    contacts = [t for _p, t, k, f in w.recs if k == "chip" and f["chip"] == "relay.mute"
                and dict(f["state"])["energized"] is False]
    assert xsmt and xsmt[-1][1] == 0 and xsmt[0][0] >= t0, xsmt
    assert mute and mute[-1][1] == 0, "the MCU never drove the PGA2311's MUTE low: %r" % mute
    relay_off = 0 if bd.mute_relay.active_high else 1
    assert relay and relay[-1][1] == relay_off, relay
    t_x, t_m, t_r = xsmt[-1][0], mute[-1][0], relay[-1][0]
    assert t_m - t_x >= b.jack.ramp_us, "MUTE %d us after XSMT: inside the DAC's ramp" % (t_m - t_x)
    assert t_m <= t_r, "the mute relay opened before the PGA2311 muted"
    # Within the hold-up, with the relay's release time to spare: the contacts are open
    # before the MCU (and the board's rails) die.
    assert t_m - t0 <= (bd.holdup_ms - bd.mute_relay.release_ms) * 1000
    assert contacts and contacts[-1] < off[0]


# ---- found by running the state machine on the ZCEN-low board ----

def _headphone(name):
    from headroom import headphones as hph
    return hph.command(hph.find(hph.builtin(), name))


# Each way the level falls: (what, lines for the host before the jack is watched, the fall:
# host lines or a knob turn (detents, rate/s)).
FALLS = {
    "host-volume": ([], ["set volume -60"]),
    "host-limit": ([], ["set limit -60"]),
    "fast-knob": ([], (-30, 200)),
    "louder-headphone": ([_headphone("HE6se")], [_headphone("SE215")]),
    "spl-limit": ([_headphone("SE215")], ["set spl_limit 70"]),
}


def _fall_on(path, setup, fall):
    """Boot `path` under the trace checker, run `setup`, then the fall; returns (the
    board, its checker, [(t_us, left cdB, right cdB)] of the jack from the fall on,
    when the fall was asked for). The MCU's pin changes and the PGA2311's left channel
    from then on: `b.pins_seen`, [(t_us, gpio or chip, level)]."""
    from headroom.sim.invariants import Checker, _level
    from headroom.sim.simboard import SimBoard
    b = SimBoard(path, keep_trace=False)
    checker = Checker(b.board)
    b.trace.listeners.append(checker.live)
    b.power(True)
    until_playing(b)
    b.run_ms(20)
    for line in setup:
        assert ask(b, line, ms=2000)["ok"], line
    t0 = b.now_us()
    jack = [(t0,) + tuple(b.jack.levels)]
    b.pins_seen = []

    def watch(t, kind, f):
        f = dict(f)
        if kind == "pin":
            b.pins_seen.append((t, f["pin"], f["level"]))
        if kind == "chip" and f.get("chip", "").startswith("pga2311"):
            st = dict(f["state"])
            b.pins_seen.append((t, f["chip"], _level(st["left"])))
        if kind == "chip" and f.get("chip") == "jack":
            st = dict(f["state"])
            jack.append((t, _level(st["left"]), _level(st["right"])))
    b.trace.listeners.append(watch)
    if isinstance(fall, tuple):
        b.run_us(b.turn(fall[0], rate=fall[1]))
    else:
        for line in fall:
            assert ask(b, line)["ok"], line
    b.run_ms(1500)
    checker.finish(b.now_us())
    return b, checker, jack, t0


@pytest.mark.parametrize("what", sorted(FALLS))
def test_a_fall_walks_in_ramp_steps_with_zcen_tied_low(what):
    """ZCEN tied low: no zero crossing softens a gain change, so a fall of more than 3 dB
    in one frame while audible is a click (the checker's rule). The state machine on this
    board broke the rule within ten examples (host volume and limit, fast turns, the
    knob's balance). Every way down here: the jack falls a ramp step (2 dB) per frame, a
    ramp interval apart, the first within a pass of the request, to the level asked."""
    setup, fall = FALLS[what]
    b, checker, jack, t0 = _fall_on(ZCEN_LOW, setup, fall)
    try:
        assert checker.ok(), checker.report()
        bd = b.board
    finally:
        b.close()
    steps = []     # (t_us, the most any channel fell in that frame, cdB)
    for (_, *old), (t, *new) in zip(jack, jack[1:]):
        if any(n < o for o, n in zip(old, new)):
            steps.append((t, max(o - n for o, n in zip(old, new))))
    assert len(steps) >= 5, (what, jack)                       # a real fall, walked
    assert all(d <= bd.ramp_step_hdb * 50 for _, d in steps), (what, steps)
    gaps = [t2 - t1 for (t1, _), (t2, _) in zip(steps, steps[1:])]
    assert min(gaps) >= bd.ramp_interval_ms * 1000, (what, gaps)
    assert steps[0][0] - t0 < 30000, (what, steps[0][0] - t0)  # the first step at once
    # ...and it ends where the same request ends on the board with ZCEN high (at once).
    b, _, high, _ = _fall_on(SE, setup, fall)
    b.close()
    assert jack[-1][1:] == high[-1][1:], (what, jack[-1], high[-1])


def test_a_fall_is_one_frame_with_zcen_high():
    """The normal boards keep the knob immediate: ZCEN high, the chip's zero crossing makes
    a jump click-free, so the host's -30 dB goes out in one frame."""
    b, checker, jack, t0 = _fall_on(SE, [], ["set volume -60"])
    try:
        assert checker.ok(), checker.report()
        downs = [c for a, c in zip(jack, jack[1:]) if c[1] < a[1]]
        assert len(downs) == 1 and jack[0][1] - downs[0][1] > 2500, jack
    finally:
        b.close()


def test_a_fall_into_silence_goes_under_the_dacs_soft_mute_with_zcen_tied_low():
    """ZCEN tied low, the high gain (the PGA2311's floor at -77 dBV): a level asked below
    the floor walks down to it, then the last step, the floor to silence, goes under the
    DAC's soft mute (XSMT low for its ramp, the code to silence, XSMT high again): a cut at
    the floor is heard, the checker's click. The board, the walk done, plays silence with
    XSMT high."""
    b, checker, jack, t0 = _fall_on(ZCEN_LOW, ["set gain high", "set volume -70"],
                                    ["set volume -80"])
    try:
        assert checker.ok(), checker.report()
        xsmt = [(t, level) for t, n, level in b.pins_seen if n == b.board.dac_xsmt]
        ramp_us = b.board.dac_mute_ms * 1000
    finally:
        b.close()
    assert jack[0][1] is not None and jack[0][1] > -7200, jack      # it played at -70
    assert jack[-1][1:] == (None, None), jack                        # ...and ends silent
    silent_at = next(t for t, n, lv in b.pins_seen if n == "pga2311.0" and lv is None)
    audible = [lv for _, lv, _ in jack if lv is not None]
    assert min(audible) < -7600, jack                   # walked down to the floor first
    assert [lv for _, lv in xsmt] == [0, 1], xsmt
    assert xsmt[0][0] + ramp_us <= silent_at <= xsmt[1][0], (xsmt, silent_at)


def test_a_channel_balance_takes_below_the_range_stays_at_the_floor_with_zcen_tied_low():
    """ZCEN tied low, the high gain (floor -77 dBV), volume -70, balance -10: the right
    channel is asked for -80, below the PGA2311's range. With ZCEN high it goes silent at a
    zero crossing; here the cut from the floor would click and a dip under the DAC's mute
    would cut and fade the left channel too, so the right walks down to the floor and
    stays there while the left plays on, XSMT never low."""
    b, checker, jack, t0 = _fall_on(ZCEN_LOW, ["set gain high", "set volume -70"],
                                    ["set balance -10"])
    try:
        assert checker.ok(), checker.report()
        xsmt = [lv for t, n, lv in b.pins_seen if n == b.board.dac_xsmt]
        floor = b.board.path_cdb(1, 0) - 9550
    finally:
        b.close()
    assert xsmt == [], xsmt
    assert jack[-1][1] > -7100 and jack[-1][2] == floor, (jack[-1], floor)
    assert all(left == jack[0][1] for _, left, _ in jack), jack      # the left untouched


def test_channels_reaching_the_floor_apart_go_silent_together_with_zcen_tied_low():
    """ZCEN tied low, the high gain, balance +10 (the left 10 dB down), volume -60 to -80:
    both channels are asked below the range, the left gets to the floor 10 dB sooner. It
    waits there for the right; then both go silent in one dip under the DAC's soft mute
    (a dip while the right still played would cut it and fade it back in)."""
    b, checker, jack, t0 = _fall_on(
        ZCEN_LOW, ["set gain high", "set volume -60", "set balance 10"], ["set volume -80"])
    try:
        assert checker.ok(), checker.report()
        xsmt = [(t, lv) for t, n, lv in b.pins_seen if n == b.board.dac_xsmt]
        floor = b.board.path_cdb(1, 0) - 9550
    finally:
        b.close()
    assert [lv for _, lv in xsmt] == [0, 1], xsmt
    before = [j for j in jack if j[0] < xsmt[0][0]][-1]
    assert all(lv is not None and lv - floor <= 200 for lv in before[1:]), (before, floor)
    assert jack[-1][1:] == (None, None), jack


# ---- 10: a host's lowering reaches the PGA2311 in the pass that answers it ----

def _hp(name):
    from headroom import headphones as hph
    return hph.command(hph.find(hph.builtin(), name))


@pytest.mark.parametrize("before,line", [
    ([], "set limit -40"),
    ([], "set volume -40"),
    (["set spl_limit 90"], _hp("SE215")),
    ([_hp("HD 600")], "set spl_limit 70"),
], ids=["limit", "volume", "headphone", "spl_limit"])
def test_a_hosts_lowering_reaches_the_pga2311_in_the_pass_that_answers_it(checked, before, line):
    b = playing(checked, SE)
    for first in before:
        assert ask(b, first, ms=300)["ok"]
    top = jack_top(b)
    w = Watch(b)
    command_pass = w.passes        # the next pass reads the line
    assert ask(b, line, ms=300)["ok"]
    frames = [p for p, t, level in w.pins(b.board.pga_cs) if level == 1]
    assert frames, "no PGA2311 frame after %r" % line
    assert frames[0] == command_pass, "the first frame went out %d passes after the command's" % (
        frames[0] - command_pass)
    assert jack_top(b) < top, (line, top, jack_top(b))
