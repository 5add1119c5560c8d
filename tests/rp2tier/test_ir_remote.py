"""The IR remote on MicroPython's real rp2 port (issue 21): a remote's frames, through the
simulator's receiver model (its width error and jitter; a lamp's glitches for one key),
as levels on the board file's `ir.pin` (GP2) at exact emulated times
(`headroom.rp2tier.ir.ReceiverOut`); the firmware's hard IRQ, decoder and key map on the
emulated RP2040 turn them into keys. Checked by what the board says and does: the
`remote` reply (frames, last key, counts), the level `status` reports, the PGA2311
codes on the SPI bus.

Every key is sent once, and every frame must be decoded the first time
(`test_no_frame_is_refused`). What would refuse one: the IRQ taking an edge late
(`ir.IrqEntries`: its handler's entry, seen at IO_BANK0) because the main loop had
interrupts off, so irrecv stamps it late and a mark the receiver shortened comes out
under the decoder's 300 µs (dropped as a glitch), or a bit's period passes its
threshold. This test found that: App._apply() held interrupts off across the PGA2311's
frame (0.2 ms idle, up to 0.9 ms with a frame) and the port refused NEC frames; it now
holds them off only for each write that makes it louder (about 0.1 ms at most). The
proof kept for a failure: the firmware's decoder (irdecode, here on CPython) fed the
edges as the port's IRQ took them (its entry's time, the level then) must give what the
port gave, and fed them as they came must decode every frame.

Figures (build/rp2tier/figures-RELEASE.json, "ir remote" and "ir remote cost"): frames
decoded and refused, each key's tries, the edges taken late (by what the CPU was doing),
the time from a key's last mark to the PGA2311 frame with the new level, and what the
remote costs the CPU, from its state sampled every 10 µs of emulated time
(`ir.CpuBusy`): the main loop's passes idle, while edges arrive and the one that
decodes a frame (keys that change nothing, so no display redraw runs on from the pass),
the CPU's run per edge that found it asleep (the IRQ and the sleep loop's turn), how
long interrupts were off. `status`'s `worst_pass_us` is reported too; it is the worst
pass of the last minute, which the boot's passes fill (62 ms on pico-se).

Every wait is for an event on the emulated board (a reply; the emulated clock past the
last mark, the frame's gap and a pass; the PGA2311's bus quiet; a settings save falling
due), never a wall-clock time.
"""
import bisect
import time

import pytest

from headroom.rp2tier.ir import CpuBusy, IrqEntries, ReceiverOut
from headroom.sim import irframes
from headroom.sim.irframes import Receiver, fw_code, key_frames
from headroom_fw import irdecode
from headroom_fw.remote import held_steps, key_text

from .rp2kit import ms, stats

SE, BAL = "pico-se", "pico-balanced"
GAP_US = irdecode.GAP_US          # a space this long ends a frame
AFTER_US = GAP_US + 40_000        # from the last mark's end: the gap, then a pass (about
                                  # 12 ms apart idle) and room for a late one
TAKEN_MS = (6, 26)                # a frame is taken this long after its last edge: the gap,
                                  # then the next pass, or the one after if that one only
                                  # took the last edge (irrecv.check)
REST_US = 300_000                 # before a key is sent again: longer than any hold window
                                  # (irdecode.HOLD_MS, 2 x SONY_HOLD_MS): a new press
MAX_TRIES = 1                     # a key is sent once: every frame decoded the first time
IDLE_MS = 150                     # the idle baseline's window
PASS_US = 1000                    # a run of the CPU this long is a main-loop pass (the
                                  # sleep's own wake-ups and an IRQ take 0.3-0.8 ms)
IRQ_WITHIN_US = 40                # an edge to the run it starts (hard IRQ latency ~14 µs)
SAMPLE_US = 10.0
LATE_US = 50                      # an edge taken this long after it came was held off
STAMP_US = 22                     # an IRQ's entry to irrecv's ticks_us(), if no stamp was seen
LEVEL_US = 6                      # its ticks_us() to its pin.value()

# (what, protocol, address, command, hold_ms, nbits, lamp, frames decoded, volume steps)
# The volume keys are the kit remote's (NEC address 0x00) and the Apple remote's up; no
# RC5 or Sony key is mapped by default, nor the kit's EQ: those count as unknown and
# change nothing, so the CPU's runs while they come are the passes and IRQs alone (a
# new level sets the display redrawing in the loop's sleep, which runs on from a pass).
HOLD_MS = 650   # 7 frames: the press and 6 repeats 108 ms apart; held ~590 ms as the
                # firmware sees it, mid-way between held_steps' 500 and 750 ms
KEYS = [
    ("kit VOL+ press", "nec", 0x00, 0x46, 0, 12, False, 1, 1),
    ("kit VOL+ held", "nec", 0x00, 0x46, HOLD_MS, 12, False, 7, None),
    ("RC5 0/16", "rc5", 0x00, 0x10, 0, 12, False, 1, 0),
    ("Sony 12-bit 1/18", "sony", 0x01, 0x12, 0, 12, False, 3, 0),
    ("kit EQ held", "nec", 0x00, irframes.KIT21_KEYS["eq"], HOLD_MS, 12, False, 7, 0),
    ("Apple up", "apple", 0, irframes.APPLE_KEYS["up"], 0, 12, False, 1, 1),
    ("kit VOL- under a lamp", "nec", 0x00, 0x15, 0, 12, True, 1, -1),
]
LAMP_PER_S = 50
LAMP_SEED = 24    # the lamp's 6 glitches, all inside the frame (its marks and spaces); a try
                  # again (seed + 1000 a try) has 1-8 of them


def boards(*names):
    return pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.xdist_group(n))
                                            for n in names])


def _ir_faults(st):
    return [f for f in st.get("faults", []) if "IR receiver" in f]


def _expected(code, events, hold):
    """What the key map does with the key `code` given the decoder's events for a try
    [(ms, code)]: (pressed, the 0.5 dB steps a held volume key may give, the time held
    as the decoder took its frames). A press is one step; held, held_steps() of the time
    from the press taken to its last repeat taken, each taken within a pass or so of the
    time here (TAKEN_MS's spread)."""
    press = next((t for t, e in events if e == code), None)
    if press is None:
        return False, [0], None
    if not hold:
        return True, [1], None
    last = max([t for t, e in events if e == code | irdecode.REPEAT and t >= press] + [press])
    held = last - press
    spread = TAKEN_MS[1] - TAKEN_MS[0]
    return True, list(range(held_steps(max(0, held - spread)), held_steps(held + spread) + 1)), held


class _Cost:
    """The CPU's samples in each key's window, sorted out: passes, the CPU's run at an
    edge that found it asleep, how long interrupts were off."""

    def __init__(self, cpu, edges):
        self.cpu = cpu
        self.edges = edges         # ReceiverOut.edges: (t_us, level), growing
        self.idle_passes = []
        self.idle_fraction = None
        self.edge_passes = []      # passes that began while a key's edges were arriving
        self.frame_pass = {}       # key: the longest pass after its last edge (decodes it)
        self.busy = {}             # key: the CPU's busy share from its first edge to its last
        self.irqs = []             # an edge that found the CPU asleep: the run it started
        self.masked_runs = []      # how long interrupts were off, each time (key windows)

    def idle(self, t0, t1):
        self.idle_passes = [d for _s, d in self.cpu.runs(t0, t1) if d >= PASS_US]
        self.idle_fraction = round(self.cpu.busy_fraction(t0, t1), 3)

    def key(self, what, t_from, t_first, t_last, t_end, passes):
        """A key sent: sampled from t_from to t_end, its edges from t_first to t_last;
        `passes`: a key that changes nothing, whose long runs are passes."""
        cpu = self.cpu
        runs = cpu.runs(t_from, t_end)
        starts = [s for s, _d in runs]
        if passes:
            self.edge_passes += [d for s, d in runs if d >= PASS_US and t_first <= s <= t_last]
            after = [d for s, d in runs if d >= PASS_US and s > t_last]
            self.frame_pass.setdefault(what, []).append(max(after) if after else None)
            self.busy.setdefault(what, []).append(round(cpu.busy_fraction(t_first, t_last), 3))
        self.masked_runs += [d for _s, d in cpu.runs(t_from, t_end, cpu.masked)]
        times = sorted(t for t, _level in self.edges)
        for t in times[bisect.bisect_left(times, t_first - 1):bisect.bisect_right(times, t_last + 1)]:
            if cpu.asleep_at(t - 0.001):
                k = bisect.bisect_left(starts, t)
                if k < len(starts) and starts[k] - t <= IRQ_WITHIN_US and runs[k][1] < PASS_US:
                    self.irqs.append(runs[k][1])

    def figures(self):
        return {"sample_us": SAMPLE_US, "idle_pass_us": stats(self.idle_passes),
                "pass_while_edges_arrive_us": stats(self.edge_passes),
                "frame_pass_us": self.frame_pass,
                "run_per_edge_asleep_us": stats(self.irqs),
                "busy_fraction_idle": self.idle_fraction,
                "busy_fraction_while_edges_arrive": self.busy,
                "irqs_off_us": stats(self.masked_runs)}


def _settle_saves(b, t_touch, window_us):
    """A settings save (a flash erase: interrupts off for 45 ms) must not fall in the
    next key's window. It falls due save_delay_ms after the level's last change (the
    controller's, in the pass that sent the frame at t_touch), unless the level went back
    to what is stored: if that time could come within `window_us` from now, run the board
    past it (a pass or two) and until the flash has been quiet for 100 ms."""
    if t_touch is None or b.flash is None:
        return
    due = t_touch + b.spec["controls"]["save_delay_ms"] * 1000.0
    if b.now_us + window_us + 500_000 < due:
        return
    b.run_until_us(max(b.now_us, due + 300_000))
    while True:
        quiet = max([t + us for t, _kind, us in list(b.flash.ops) if t > t_touch], default=0.0) + 100_000
        if b.now_us >= quiet:
            return
        b.run_until_us(quiet)


_IRQS = {0: "TIMER_IRQ_0", 1: "TIMER_IRQ_1", 2: "TIMER_IRQ_2", 3: "TIMER_IRQ_3", 5: "USBCTRL_IRQ",
         7: "PIO0_IRQ_0", 8: "PIO0_IRQ_1", 9: "PIO1_IRQ_0", 10: "PIO1_IRQ_1", 11: "DMA_IRQ_0",
         13: "IO_IRQ_BANK0", 18: "SPI0_IRQ", 23: "I2C0_IRQ", 24: "I2C1_IRQ"}


def _cause(state):
    """What the CPU was doing when an edge came that its IRQ took late."""
    if state is None:
        return "not sampled"
    running, masked, exc = state
    if masked:
        return "interrupts off"
    if exc:
        return "in " + ({11: "SVCall", 14: "PendSV", 15: "SysTick"}.get(exc) or
                        _IRQS.get(exc - 16, "IRQ %d" % (exc - 16)))
    return "running" if running else "asleep"


class _Pad:
    """The receiver's output as driven: its level at any time."""

    def __init__(self, edges):
        self.times = [t for t, _v in edges]
        self.levels = [v for _t, v in edges]

    def level(self, t_us):
        k = bisect.bisect_right(self.times, t_us) - 1
        return 1 if k < 0 else self.levels[k]


def _replay(edges, t_end):
    """A fresh irdecode.Decoder fed as irrecv.check() feeds it, [(stamp µs, level)], a
    frame ended as a pass would end it (the gap, and a millisecond): its counts
    [frames, refused, glitches] and events [(ms, code)]."""
    d = irdecode.Decoder()
    events = []

    def take(t):
        while d.count:
            events.append((t // 1000, d.take()))
    prev = None
    for t, level in edges:
        t = int(t)
        if prev is not None and t - prev > GAP_US + 1000:
            take_at = prev + GAP_US + 1000
            d.idle(take_at, take_at // 1000)
            take(take_at)
        d.edge(t, level == 0, t // 1000)
        take(t)
        prev = t
    for t in ([] if prev is None else [prev + GAP_US + 1000]) + [int(t_end)]:
        d.idle(t, t // 1000)
        take(t)
    return {"counts": [d.frames, d.rejected, d.glitches], "events": events}


def _taken(pad, entries, t0, t1):
    """How the port took the pad's edges from t0 to t1: each edge's wait for its IRQ
    [(edge µs, µs)], the IRQ calls that took two edges at once, and the decoder's verdict
    on the edges as the IRQ stamped them and on the edges as they came."""
    # The pad's edges come at the first instruction at or after their alarm: a few ns
    # after the times sent (t1 is the last one's).
    ents = [e for e in entries if t0 <= e[0] <= t1 + 2000]
    mine = [(t, v) for t, v in zip(pad.times, pad.levels) if t0 <= t <= t1 + 1000]
    waits = []
    for t, v in mine:
        e = next((e for e in ents if e[0] >= t and (e[1] if v == 0 else e[2])), None)
        waits.append((round(t), None if e is None else round(e[0] - t, 1)))
    stamped = [(st if st is not None else t + STAMP_US, pad.level((st or t + STAMP_US) + LEVEL_US))
               for t, _f, _r, st in ents]
    sent = [(t + STAMP_US, v) for t, v in mine]
    end = t1 + GAP_US + 10_000
    return {"waits": waits, "two_in_one": sum(1 for _t, f, r, _s in ents if f and r),
            "unstamped": sum(1 for e in ents if e[3] is None),
            "replay_stamped": _replay(stamped, end), "replay_sent": _replay(sent, end)["counts"]}


def _run(tier, name):
    """Every key on the board's port, each until the port took all its frames (or
    MAX_TRIES): [{"key", "tries": [...]}], the figures; shared by the tests below."""
    if ("ir", name) in tier.cache:
        return tier.cache[("ir", name)]
    live = tier.live(name)
    wall = time.monotonic()       # this run's own wall time, the board playing
    b, c = live.board, live.console
    st0 = c.request("status")     # before the receiver drives its pin
    out = ReceiverOut(b)          # the receiver's output, idle high from now
    irq = IrqEntries(b, out.gpio)
    try:
        return _keys(tier, name, live, out, irq, st0, wall)
    finally:
        irq.close()


def _keys(tier, name, live, out, irq, st0, wall):
    b, c = live.board, live.console
    b.run_for_ms(30)              # a pass takes the edge: a stuck-low fault, if any, clears
    b.wait_spi_quiet(50, until_us=b.now_us + 2e6)
    rem = c.request("remote")["remote"]
    st = c.request("status")
    res = {"receiver": rem["receiver"], "faults_before": _ir_faults(st0), "faults_idle": _ir_faults(st),
           "keys": []}
    first = dict(rem)
    cost = {"worst_pass_us_status_before": st["worst_pass_us"]}
    cpu = CpuBusy(b, SAMPLE_US) if CpuBusy.available(b) else None
    if cpu is not None:
        t_idle = cpu.start()
        b.run_until_us(t_idle + IDLE_MS * 1000)
        cpu_cost = _Cost(cpu, out.edges)
        cpu_cost.idle(t_idle, cpu.stop())
    t_touch = None                # the level's last change
    for i, (what, proto, addr, cmd, hold_ms, nbits, lamp, n_frames, steps) in enumerate(KEYS):
        frames = key_frames(proto, addr, cmd, hold_ms=hold_ms, nbits=nbits)
        window = irframes.span_us(frames) + AFTER_US + (irframes.NEC_PERIOD_US if lamp else 0)
        entry = {"key": what, "proto": proto, "addr": addr, "cmd": cmd, "nbits": nbits,
                 "lamp": lamp, "n_frames": n_frames, "steps": steps, "tries": []}
        res["keys"].append(entry)
        for attempt in range(MAX_TRIES):
            if attempt:
                b.run_for_ms(REST_US / 1000)
            _settle_saves(b, t_touch, window)
            # Each try a new draw of the receiver's error (its marks' common width error
            # is per frame): a try again is a new press, not the same waveform.
            receiver = Receiver(seed=(LAMP_SEED if lamp else 20 + i) + 1000 * attempt, jitter_us=30,
                                glitch_per_s=LAMP_PER_S if lamp else 0)
            before, vol0, codes0 = rem, st["volume"], b.codes_at(b.now_us)
            glitches_sent = out.glitches
            t_from = cpu.start() if cpu is not None else None
            t_sent = b.now_us
            marks = out.send(frames, receiver, lamp=lamp)
            t_end = marks[-1][1]                                # the frame's last mark
            t_last = max([t_end] + [e for _s, e in out.noise])  # the pad's last edge
            b.run_until_us(t_last + AFTER_US)
            if cpu is not None:
                t_first = min([marks[0][0]] + [s for s, _e in out.noise])
                cpu_cost.key(what, t_from, t_first, t_last, cpu.stop(), passes=steps == 0)
            b.wait_spi_quiet(50, until_us=b.now_us + 2e6)
            rem = c.request("remote")["remote"]
            st = c.request("status")
            codes = b.codes_at(b.now_us)
            # The frames that moved the level (the chain check resends the same codes).
            sent = [f for f in b.frames_after(t_sent) if f.codes is not None]
            moved = [f for f, p in zip(sent, [codes0] + [f.codes for f in sent]) if f.codes != p]
            if moved:
                t_touch = moved[-1].t_high
            first_move = None if hold_ms else next((f for f in moved if f.t_low > t_end), None)
            d = {k: rem[k] - before[k] for k in ("frames", "refused", "glitches", "unknown")}
            tr = dict(d, last=rem["last"], volume_db=round(st["volume"] - vol0, 2),
                      codes_delta=None if None in (codes, codes0) else [x - y for x, y in zip(codes, codes0)],
                      last_mark_to_pga_ms=None if first_move is None else ms(first_move.t_high - t_end),
                      flash_ops=[(ms(t), kind) for t, kind, _us in list(b.flash.ops if b.flash else [])
                                 if t >= t_sent])
            tr.update(_taken(_Pad(out.edges), irq.entries, t_sent, t_last))
            # What else the board did while the edges came (for a refused try's record).
            tr["meanwhile"] = {
                "usb_bytes_out": sum(len(x) for t, x in list(c.log) if t_sent <= t <= t_last),
                "spi_frames": sum(1 for f in list(b.spi.frames) if t_sent <= f.t_low <= t_last),
                "i2c": sum(1 for bus in b.i2c_buses.values() for x in list(bus.transactions)
                           if t_sent <= x.t_start <= t_last),
                "irqs_off_300us": None if cpu is None else
                [(round(x), d) for x, d in cpu.runs(t_sent, t_last, cpu.masked) if d >= 300]}
            tr["late"] = [(t, w, _cause(cpu.state_at(t) if cpu is not None else None))
                          for t, w in tr.pop("waits") if w is None or w >= LATE_US]
            code = fw_code(proto, addr, cmd, nbits)
            tr["pressed"], tr["steps_allowed"], tr["held_ms"] = _expected(
                code, tr["replay_stamped"]["events"], hold_ms > 0)
            tr["last_before"] = before["last"]
            if lamp:
                tr["glitches_sent"] = out.glitches - glitches_sent
            entry["tries"].append(tr)
            if d["frames"] == n_frames and d["refused"] == 0:
                break     # every frame taken: the key as the remote sent it
    if cpu is not None:
        cost.update(cpu_cost.figures())
    cost["worst_pass_us_status_after"] = st["worst_pass_us"]
    res.update(faults_after=_ir_faults(st), cost=cost, t_touch=t_touch,
               frames_decoded=rem["frames"] - first["frames"], refused=rem["refused"] - first["refused"])
    # The board goes to the next test as it came: the level the keys moved put back (the
    # display's and the heap's tests compare against a level they did not set), and saved
    # (a save allocates: left pending, it would land in the next test's heap figures).
    back = c.request("set volume %s" % st0["volume"])
    assert back.get("ok") and back["volume"] == st0["volume"], back
    b.wait_spi_quiet(50, until_us=b.now_us + 2e6)
    _settle_saves(b, b.now_us, float("inf"))
    res["wall_s"] = round(time.monotonic() - wall, 1)
    tier.cache[("ir", name)] = res
    return res


def _summary(res):
    keys = []
    for e in res["keys"]:
        ok = e["tries"][-1]
        k = {"key": e["key"], "tries": len(e["tries"]), "frames": ok["frames"], "last": ok["last"],
             "volume_db": ok["volume_db"]}
        for f in ("last_mark_to_pga_ms", "held_ms", "glitches_sent"):
            if ok.get(f) is not None:
                k[f] = ok[f]
        if e["steps"] is None:
            k["steps_allowed"] = ok["steps_allowed"]
        if e["lamp"]:
            k["glitches_removed"] = ok["glitches"]
        keys.append(k)
    tries = [t for e in res["keys"] for t in e["tries"]]
    lat = [t["last_mark_to_pga_ms"] for t in tries if t["last_mark_to_pga_ms"] is not None]
    refused = [{"key": e["key"], "frames": t["frames"], "refused": t["refused"], "glitches": t["glitches"],
                "late_edges": t["late"], "two_in_one": t["two_in_one"],
                "replay_stamped": t["replay_stamped"]["counts"], "replay_sent": t["replay_sent"],
                "meanwhile": t["meanwhile"]}
               for e in res["keys"] for t in e["tries"] if t["refused"]]
    agree = sum(1 for t in tries if t["replay_stamped"]["counts"][:2] == [t["frames"], t["refused"]])
    return {"keys": keys, "frames_decoded": res["frames_decoded"], "refused": res["refused"],
            "tries": len(tries), "tries_refused": refused,
            "port_as_its_irq_took_the_edges": "%d of %d tries" % (agree, len(tries)),
            "edges_taken_late": {c: sum(1 for t in tries for x in t["late"] if x[2] == c)
                                 for c in sorted({x[2] for t in tries for x in t["late"]})},
            "edge_to_irq_late_us": stats([x[1] for t in tries for x in t["late"] if x[1] is not None]),
            "last_mark_to_pga_ms": stats(lat), "wall_s": res["wall_s"],
            # the tier's board leaves the receiver's pin to the RP2040's pull-down until
            # this test drives it: the firmware's stuck-low fault was up then
            "receiver_fault_before_idle": bool(res["faults_before"])}


@boards(SE, BAL)
def test_remote_keys_on_the_real_port(tier, name, report):
    """Every try: the port decoded what its IRQ took (the firmware's decoder on those
    edges gives the same counts, and on the edges as sent, every frame), and did with
    the keys it decoded what the key map says: a volume press one 0.5 dB step (one
    PGA2311 code on every channel), a hold held_steps() of its time held as taken, a key
    with no function counted once and nothing else; a key none of whose presses was
    taken, nothing. Every key taken at least once in its tries."""
    res = _run(tier, name)
    b = tier.live(name).board
    try:
        assert res["receiver"] == "GP%d" % b.spec["ir"]["pin"], res["receiver"]
        # The receiver idling high: no stuck-low fault (cleared if the pin sat low before).
        assert not res["faults_idle"] and not res["faults_after"], res
        for e in res["keys"]:
            what, tries = e["key"], e["tries"]
            text = key_text(fw_code(e["proto"], e["addr"], e["cmd"], e["nbits"]))
            for k, t in enumerate(tries):
                w = "%s, try %d" % (what, k + 1)
                assert t["replay_sent"][:2] == [e["n_frames"], 0], (
                    "%s: the edges as sent do not decode" % w, t)
                assert t["replay_stamped"]["counts"][:2] == [t["frames"], t["refused"]], (
                    "%s: the port did not decode what its IRQ took" % w, t)
                if t["refused"] or t["frames"] != e["n_frames"]:
                    assert t["late"], ("%s: frames refused, every edge taken in time" % w, t)
                assert t["last"] == (text if t["pressed"] else t["last_before"]), (w, t)
                steps = 0
                if t["pressed"] and e["steps"] is None:   # held: the steps its time held gives
                    assert t["volume_db"] * 2 in t["steps_allowed"], (w, t)
                    steps = round(t["volume_db"] * 2)
                elif t["pressed"]:
                    steps = e["steps"]
                assert t["volume_db"] == 0.5 * steps, (w, t)
                # The level on the bus: one PGA2311 code a 0.5 dB step, every channel.
                assert t["codes_delta"] == [steps] * len(t["codes_delta"]), (w, t)
                if e["steps"] == 0:   # no function: counted once (not its repeats), nothing else
                    assert t["unknown"] == (1 if t["pressed"] else 0), (w, t)
                if steps and e["steps"] is not None:   # a press: its frame on the bus
                    assert t["last_mark_to_pga_ms"] is not None, (w, t)
                if e["lamp"]:
                    assert t["glitches_sent"] > 0 and t["glitches"] > 0, (w, t)
            assert any(t["pressed"] for t in tries), "%s: not taken in %d tries" % (what, len(tries))
        assert res["frames_decoded"] > 0
    finally:
        report("ir remote", board=name, **_summary(res))
        report("ir remote cost", board=name, **res["cost"])


@boards(SE, BAL)
def test_no_frame_is_refused(tier, name):
    res = _run(tier, name)
    refused = _summary(res)["tries_refused"]
    assert not refused and res["refused"] == 0, refused
