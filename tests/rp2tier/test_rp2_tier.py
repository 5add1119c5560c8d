"""The firmware on MicroPython's real rp2 port, in an emulated RP2040 (`make test-rp2 UF2=FILE`).

The firmware is installed with the project's own `headroom flash` over the emulated USB
serial port (pico-se from an erased flash, then pico-balanced over it), and each board
file gets one board powered on from its image, with every pin, SPI frame and I2C
transaction recorded in emulated time, which is the RP2040's own.
The tests assert on what the parts see (pins, bus bytes, the USB serial port), never on
firmware variables, and wait for events (a reply, a pin change, an emulated-time
alarm), never for a wall-clock duration.

Known shortfalls of today's firmware and host tools are xfail tests that state the
goal; their figures are reported either way (end of the run, build/rp2tier/figures-RELEASE.json).
"""
import json
import os
import shutil

import pytest

from headroom.rp2tier.board import Rp2Board
from headroom.rp2tier.buses import decode_pga
from headroom.rp2tier.console import Console
from headroom.rp2tier.emulator import EmulatorError

from .rp2kit import BOARDS, BOOT_US, ms, stats

SE, BAL = "pico-se", "pico-balanced"


def boards(*names):
    return pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.xdist_group(n))
                                            for n in names])


def copied(out):
    line = [x for x in out.splitlines() if "files to copy" in x]
    assert line, out
    n, total = line[0].split(": ")[1].split(" files")[0].split(" of ")
    return int(n), int(total)


# ---- the tier's own parts (no emulator needed)

def test_pga2311_words_land_in_the_right_chip():
    # One chip: right byte first. Two chips: the first word shifted in ends in the far one.
    assert decode_pga(bytes([0x11, 0x22]), 1) == [0x22, 0x11]
    assert decode_pga(bytes([0x11, 0x22, 0x33, 0x44]), 2) == [0x44, 0x33, 0x22, 0x11]
    assert decode_pga(bytes([1, 2, 3]), 2) is None


# ---- flash, over the emulated USB serial port

@boards(SE)
def test_flash_installs_the_firmware(tier, name, report):
    f = tier.flashed(name)
    first, second = f["first"], f["second"]
    report("flash", board=name, first_wall_s=first["wall_s"], first_emulated_ms=first["emulated_ms"],
           second_wall_s=second["wall_s"], second_emulated_ms=second["emulated_ms"])
    assert first["rc"] == 0, first["out"] + first["err"]
    n, total = copied(first["out"])
    assert n == total > 0
    assert "Headroom" in first["out"].splitlines()[-1]


@boards(SE)
def test_second_flash_copies_nothing(tier, name):
    second = tier.flashed(name)["second"]
    assert second["rc"] == 0, second["out"] + second["err"]
    assert copied(second["out"])[0] == 0
    assert "up to date" in second["out"]


@boards(BAL)
def test_flash_with_another_board_file_copies_only_that(tier, name, report):
    first = tier.flashed(name)["first"]
    report("flash", board=name, over="pico-se", wall_s=first["wall_s"],
           emulated_ms=first["emulated_ms"])
    assert first["rc"] == 0, first["out"] + first["err"]
    assert copied(first["out"])[0] == 1
    assert "copying board.json" in first["out"]


@boards(SE, BAL)
def test_status_answers(tier, name):
    st = tier.flashed(name)["status"]
    assert st["rc"] == 0, st["err"]
    s = json.loads(st["out"])
    assert s["phase"] in ("boot", "unmuting", "playing")
    assert s["output"] == "se" and s["gain"] == "low"


@boards(SE)
def test_flash_reports_the_state(tier, name):
    last = tier.flashed(name)["first"]["out"].splitlines()[-1]
    assert "volume" in last and "starting" in last, last


# ---- the heap (issue 17.3): the main loop allocates nothing idle, nor for `status`

IDLE_S = 60        # emulated seconds idle, in 1 s steps (each its own wait: a board that moves on)
STATUSES = 100


@boards(SE, BAL)
def test_idling_and_status_requests_leave_the_heap_alone(tier, name, report):
    """`heap_free` (gc.mem_free() inside the firmware, no collection) read by `status`:
    after a minute idle and after 100 `status` requests, within 1 KB of where it started
    (before: about 2.7 KB lost a second idle and 2.75-3.3 KB a `status`)."""
    live = tier.live(name)
    b = live.board
    start = live.console.request("status")["heap_free"]
    t0 = b.now_us
    for k in range(1, IDLE_S + 1):
        b.run_until_us(t0 + k * 1e6)
    idle = live.console.request("status")["heap_free"]
    heaps = [live.console.request("status")["heap_free"] for _ in range(STATUSES)]
    report("heap", board=name, start_bytes=start, after_idle_s=IDLE_S, after_idle_bytes=idle,
           after_statuses=STATUSES, after_statuses_bytes=heaps[-1],
           lowest_bytes=min([idle] + heaps))
    assert abs(idle - start) <= 1024, (start, idle)
    assert max(abs(h - start) for h in heaps) <= 1024, (start, min(heaps), max(heaps))


# ---- the USB host (issue 18.1): an OUT packet only when the host has bytes, as a PC

QUIET_MS = 100


@boards(SE)
def test_idle_usb_host_sends_the_board_nothing(tier, name, report):
    """Over 100 ms idle with no host traffic the board's CDC OUT endpoint completes no
    transfer (rp2040py's own host sent an empty packet 10 µs after every arming: 13-33
    per ms), and a request sent afterwards, to the endpoint armed meanwhile, is answered."""
    live = tier.live(name)
    b = live.board
    live.console.request("status")
    host = b.host
    before = b.call(lambda: host.packets)
    b.run_for_ms(QUIET_MS)
    idle = b.call(lambda: (host.packets - before, host.pending))
    reply = live.console.request("status")
    report("usb_idle", board=name, idle_ms=QUIET_MS, out_packets=idle[0])
    assert idle[0] == 0, "%d OUT packets in %d ms idle" % (idle[0], QUIET_MS)
    assert idle[1] is not None        # the board armed the endpoint: the host NAKs it
    assert reply["phase"] == "playing" and b.call(lambda: host.packets) > before


# ---- power-on

@boards(SE, BAL)
def test_boot_is_muted_until_the_settle_delay(tier, name, report):
    live = tier.live(name)
    b = live.board
    settle = b.timing["settle_ms"] * 1000.0
    mute, on = b.relay_pin("mute"), b.relay_level("mute")
    driven = [t for t, _g, v in b.pins if v is not None]
    fw = driven[0]                                   # the firmware's first pin write
    t_relay = b.first_change(mute, on)
    t_pga = b.first_change(b.pga_mute, 1)
    t_xsmt = b.first_change(b.xsmt, 1)
    first = b.spi.frames[0]
    report("boot", board=name, main_py_first_pin_ms=ms(fw), settle_ms=b.timing["settle_ms"],
           mute_relay_ms_after_fw=ms(t_relay - fw), pga_unmute_ms_after_fw=ms(t_pga - fw),
           xsmt_ms_after_fw=ms(t_xsmt - fw), first_frame_ms=ms(first.t_low),
           fade_in_end_ms=ms(live.playing_us))
    # Nothing energized, unmuted or soft-unmuted before the settle delay has passed.
    for name_, t in (("mute relay", t_relay), ("PGA2311 MUTE", t_pga), ("XSMT", t_xsmt)):
        assert t is not None and t >= fw + settle, "%s at %.1f ms, firmware up at %.1f ms" % (
            name_, t / 1000, fw / 1000)
    for relay in b.spec["relays"]:
        t = b.first_change(b.relay_pin(relay), b.relay_level(relay))
        assert t is None or t >= t_relay, "%s relay energized at %.1f ms" % (relay, t / 1000)
    # MUTE and XSMT: driven low first, never high before.
    for gpio in (b.pga_mute, b.xsmt):
        assert b.changes(gpio)[0][1] == 0
    # The PGA2311 gets mute codes first, with MUTE already low; only the chain check's
    # pattern (0x5A, 0xA5 per chip, shifted through under MUTE) may come before them.
    zero = [0] * (2 * b.chips)
    early = [f.codes for f in b.spi.frames if f.t_high < t_relay]
    if early[0] != zero:
        assert early[0] == [165, 90] * b.chips and early[1] == zero, early[:2]
        early = early[1:]
    assert b.first_change(b.pga_mute, 0) < first.t_low
    assert all(c == zero for c in early), early
    assert b.faults == []
    if b.pcm5122 is not None:
        # The DAC was set up: unity digital volume, out of standby, muting left to XSMT.
        regs = b.pcm5122.regs
        assert (regs[61], regs[62], regs[2], regs[3]) == (0x30, 0x30, 0x00, 0x00)


# ---- the knob

# (detents, detents per second, contact bounce µs): slow and bouncing, then fast, and a
# spin down with bounce (12 detents at 200/s: at most 24 dB, above the -80 dBV floor).
GESTURES = [(+4, 5, 300), (-14, 50, 0), (+14, 100, 0), (-14, 200, 0), (-12, 200, 300)]


def _knob(tier, name):
    if ("knob", name) in tier.cache:
        return tier.cache[("knob", name)]
    live = tier.live(name)
    b = live.board
    before = live.console.request("status")["volume"]
    detents = []
    slow = None
    for n, rate, bounce in GESTURES:
        b.wait_spi_quiet(50, until_us=b.now_us + 2e6)
        base = b.encoder_reads[-1][1] if b.encoder_reads else None
        marks = b.encoder.turn(n, rate, bounce_us=bounce)
        b.run_until_us(marks[-1][0] + 50_000)
        for i, (t_edge, step) in enumerate(marks):
            detents.append(((rate, bounce), t_edge, step, base, i + 1))
        if slow is None:
            slow = live.console.request("status")["volume"]
    b.wait_spi_quiet(50, until_us=b.now_us + 2e6)
    after = live.console.request("status")["volume"]
    lat = {}
    reads = list(b.encoder_reads)
    for turn, t_edge, step, base, k in detents:
        t_read = None
        if base is not None:
            # The first time the CPU took a count that includes this detent (4 edges each):
            # the encoder's pin IRQ reads it at the edge, and wakes the pass that sends it.
            t_read = next((t for t, v in reads if t > t_edge and (v - base) * step >= 4 * k), None)
        since = t_read if t_read is not None else t_edge
        # The frame carrying it: the first after that read with new codes (the chain
        # check resends the same codes now and then).
        prev = b.codes_at(since)
        frame = next((f for f in b.frames_after(since) if f.codes != prev), None)
        if frame is None or frame.t_low > t_edge + 50_000:
            continue  # no new code (at a limit)
        lat.setdefault(turn, []).append((frame.t_high - t_edge, None if t_read is None else t_read - t_edge,
                                         None if t_read is None else frame.t_high - t_read))
    tier.cache[("knob", name)] = (lat, before, slow, after)
    return tier.cache[("knob", name)]


@boards(SE, BAL)
def test_knob_moves_the_level(tier, name):
    lat, before, slow, after = _knob(tier, name)
    # Every detent moved the level (none is at a limit), so each has its frame; the slow,
    # bouncing ones are 0.5 dB each; the fast ones went down, up, down and down again.
    assert {turn: len(v) for turn, v in lat.items()} == {(rate, b): abs(n) for n, rate, b in GESTURES}
    assert slow - before == 0.5 * GESTURES[0][0]
    assert after < slow


@pytest.mark.xfail(reason="firmware: max is within 5 ms everywhere (3.14 ms at worst), p99 is "
                          "within 2 ms for clean turns on pico-se (1.71-1.82 ms, one run 2.48 at "
                          "100/s) and at 200/s on pico-balanced (1.92-2.04 ms), over it with 300 us "
                          "of bounce (2.01-3.14 ms) and for a detent that lands mid-pass on "
                          "pico-balanced (2.10-2.96 ms). "
                          "Where the time goes (pico-se, 20/s, emulated): edge to the count read "
                          "0.13 ms, to the loop awake 0.13, to _knob 0.11, _knob itself 1.13 "
                          "(take 0.12, Controller.turn 0.19, outputs 0.35, _apply with the frame "
                          "0.41); 1.24.1, rp2040py 1.0.0b1, 2026-12-06. With the display (1.26.1, "
                          "2026-12-07, drawing and sending in the loop's sleep, a detent ending it): "
                          "p99 2.0-2.5 ms at 5-100/s, 3.0-3.1 at 200/s, 4.2-4.3 at 200/s with "
                          "bounce (the count read within 0.5 ms; without the display 1.8-2.7); "
                          "goal p99 <= 2 ms, max <= 5 ms",
                   strict=False)
@boards(SE, BAL)
def test_knob_latency(tier, name, report):
    lat = _knob(tier, name)[0]
    assert lat, "no detent's frame found"
    misses = []
    for rate, bounce in sorted(lat):
        x3 = lat[(rate, bounce)]
        total = stats([x[0] / 1000 for x in x3])
        wait = stats([x[1] / 1000 for x in x3 if x[1] is not None])
        work = stats([x[2] / 1000 for x in x3 if x[2] is not None])
        report("knob latency", board=name, detents_per_s=rate, bounce_us=bounce,
               edge_to_cs_rise_ms=total, edge_to_count_read_ms=wait,
               count_read_to_cs_rise_ms=work)
        if total["p99"] > 2 or total["max"] > 5:
            misses.append("%d/s%s: p99 %.2f ms, max %.2f ms" % (
                rate, " bouncing" if bounce else "", total["p99"], total["max"]))
    assert not misses, "; ".join(misses)


# ---- a relay move under mute

PHASES_US = (0, 2750, 5500, 8250)   # where in the main loop's 10 ms and its millisecond a flip lands


def _flip(b, contact, relay, close, phase_us):
    """Flip a switch; the times of everything the mute sequence does, in µs."""
    t0 = contact.set(close, phase_us=phase_us)
    energize = close  # both switches read 0 (closed) for high gain / balanced
    mute, on, off = b.relay_pin("mute"), b.relay_level("mute"), b.relay_level("mute", False)
    pin = b.relay_pin(relay)
    t_move = b.wait_level(pin, b.relay_level(relay, energize), after_us=t0, until_us=t0 + 1e6)
    assert t_move is not None, "the %s relay did not move" % relay
    t_close = b.wait_level(mute, on, after_us=t_move, until_us=t_move + 1e6)
    assert t_close is not None, "the mute relay did not close again"
    zero = [0] * (2 * b.chips)
    # Playing again: the DAC un-muted and the fade-in begun (the next flip may come during it).
    b.wait_level(b.xsmt, 1, after_us=t_close, until_us=t_close + 1e6)
    f_up = b.wait_frame(t_close, lambda f: f.codes != zero, until_us=t_close + 1e6)
    f_mute = next(f for f in b.frames_after(t0) if f.codes == zero)
    spec = b.relay(relay)
    return {
        "t0": t0, "xsmt_low": b.first_change(b.xsmt, 0, t0), "pga_mute": b.first_change(b.pga_mute, 0, t0),
        "mute_codes": f_mute.t_low, "mute_open": b.first_change(mute, off, t0), "move": t_move,
        "mute_close": t_close, "pga_unmute": b.first_change(b.pga_mute, 1, t_move),
        "xsmt_high": b.first_change(b.xsmt, 1, t_move), "first_level": f_up.t_low if f_up else None,
        "need_ms": (spec["operate_ms"] if energize else spec["release_ms"]) + b.timing["relay_settle_ms"],
        "mute_release_ms": b.relay("mute")["release_ms"], "energize": energize,
    }


def _flips(tier, name, switch):
    key = (name, switch)
    if key not in tier.cache:
        live = tier.live(name)
        b = live.board
        contact = b.gain_switch if switch == "gain" else b.output_switch
        tier.cache[key] = [_flip(b, contact, switch, close, phase)
                           for phase in PHASES_US for close in (True, False)]
    return tier.cache[key]


FLIPS = [pytest.param(SE, "gain", marks=pytest.mark.xdist_group(SE)),
         pytest.param(BAL, "gain", marks=pytest.mark.xdist_group(BAL)),
         pytest.param(BAL, "output", marks=pytest.mark.xdist_group(BAL))]


@pytest.mark.parametrize("name,switch", FLIPS)
def test_switch_mutes_moves_and_unmutes_in_order(tier, name, switch, report):
    for e in _flips(tier, name, switch)[:2]:
        rel = {k: ms(e[k] - e["t0"]) for k in ("xsmt_low", "pga_mute", "mute_codes", "mute_open",
                                                "move", "mute_close", "pga_unmute", "xsmt_high",
                                                "first_level") if e[k] is not None}
        report("%s switch sequence" % switch, board=name, to="energized" if e["energize"] else "released",
               ms_after_flip=rel)
    for e in _flips(tier, name, switch):
        # Down: DAC soft mute, PGA2311 MUTE and mute codes, mute relay open; then the move.
        assert e["xsmt_low"] < e["pga_mute"] <= e["mute_codes"] < e["mute_open"] < e["move"]
        # Up: the mute relay closes, then PGA2311 MUTE goes high, the level follows, then XSMT.
        assert e["move"] < e["mute_close"] <= e["pga_unmute"] < e["first_level"] <= e["xsmt_high"]


@pytest.mark.parametrize("name,switch", FLIPS)
def test_switch_waits_for_the_contacts(tier, name, switch, report):
    short = []
    for energize in (True, False):
        flips = [e for e in _flips(tier, name, switch) if e["energize"] == energize]
        need, release = flips[0]["need_ms"], flips[0]["mute_release_ms"]
        settle = stats([(e["mute_close"] - e["move"]) / 1000 for e in flips])
        released = stats([(e["move"] - e["mute_open"]) / 1000 for e in flips])
        to = "energized" if energize else "released"
        report("%s relay settle" % switch, board=name, to=to, move_to_mute_close_ms=settle,
               board_file_ms=need, mute_open_to_move_ms=released, mute_release_ms=release)
        if settle["min"] < need:
            short.append("%s relay %s: the mute relay closed %.3f-%.3f ms after the move, the board "
                         "file needs %d ms" % (switch, to, settle["min"], settle["max"], need))
        if released["min"] < release:
            short.append("%s relay %s %.3f ms after the mute relay opened, whose release takes %d ms"
                         % (switch, to, released["min"], release))
    assert not short, "; ".join(short)


def _ramp_us(name):
    """The DAC's soft-mute ramp: 104 samples at the board's I2S rate, in µs."""
    with open(BOARDS[name]) as f:
        return 104 * 1e6 / json.load(f)["i2s"]["rate"]


@pytest.mark.parametrize("name,switch", FLIPS)
def test_switch_waits_for_the_dac_ramp_then_the_zero_crossing(tier, name, switch, report):
    flips = _flips(tier, name, switch)
    ramp = _ramp_us(name)
    dac = stats([(e["pga_mute"] - e["xsmt_low"]) / 1000 for e in flips])
    zc = stats([(e["mute_open"] - e["pga_mute"]) / 1000 for e in flips])
    report("%s switch waits" % switch, board=name, xsmt_to_pga_mute_ms=dac,
           pga_mute_to_mute_open_ms=zc, ramp_ms=round(ramp / 1000, 3))
    # The PGA2311 mutes only once the DAC's ramp is over (else it cuts a full-level
    # signal: a click), and the relay opens only after the PGA2311's 16 ms time-out.
    assert dac["min"] * 1000 >= ramp, dac
    assert zc["min"] >= 16, zc


# ---- Ctrl-C while playing (what mpremote and `headroom flash` send)

@boards(SE, BAL)
def test_ctrl_c_goes_quiet_in_order(tier, name, report):
    live = tier.live(name)
    b, c = live.board, live.console
    mute_pin, off = b.relay_pin("mute"), b.relay_level("mute", False)
    t0 = b.now_us
    c.interrupt()
    live.stopped = True
    t_relay = b.wait_level(mute_pin, off, after_us=t0, until_us=t0 + 500_000)
    c.read_until(b">>> ", until_us=b.now_us + 500_000)
    t_x = b.first_change(b.xsmt, 0, t0)
    t_m = b.first_change(b.pga_mute, 0, t0)
    zero = [0] * (2 * b.chips)
    f = next((f for f in b.frames_after(t0) if f.codes == zero), None)
    report("ctrl-c", board=name, xsmt_ms=ms(t_x - t0), pga_mute_ms=ms(t_m - t0),
           mute_codes_ms=ms(f.t_low - t0) if f else None, mute_relay_ms=ms(t_relay - t0))
    assert "KeyboardInterrupt" in c.text()
    assert t_x is not None and t_m is not None and t_relay is not None and f is not None
    assert t_x < t_m <= f.t_low < t_relay
    # The waits between: the DAC's soft mute (104 samples at the board's rate), then the
    # PGA2311's zero-crossing time-out (16 ms) before the relay opens on silence.
    ramp_us = 104 * 1e6 / b.spec["i2s"]["rate"]
    assert t_m - t_x >= ramp_us
    assert t_relay - t_m >= 16_000
    # ...and then stops the watchdog (WATCHDOG_CTRL.ENABLE cleared): 2.5 s at the REPL,
    # past its 2 s, and no reset; the REPL still answers and reads the bit clear.
    resets = len(b.resets)
    b.run_until_us(b.now_us + 2_500_000)
    c.enter_raw()
    enabled = c.exec("import machine\nprint(machine.mem32[0x40058000] >> 30 & 1)").strip()
    report("ctrl-c watchdog", board=name, resets_in_2_5_s=len(b.resets) - resets,
           enable_bit=enabled)
    assert len(b.resets) == resets and enabled == "0"


# ---- soft resets (mpremote's raw REPL): the pins keep driving, boot.py mutes in order

RAW = b"raw REPL; CTRL-B to exit\r\n>"
SPARE = 25          # the Pico's LED pin: no board file uses it


def _outputs(b):
    """(gpio, live level) of the three muting outputs: mute relay, PGA2311 MUTE, XSMT."""
    return [(b.relay_pin("mute"), b.relay_level("mute")), (b.pga_mute, 1), (b.xsmt, 1)]


def _outputs_of(r):
    """The same, from a recorded run."""
    relay = r["spec"]["relays"]["mute"]
    return [(r["relay"], int(relay.get("active_high", True))), (r["pga_mute"], 1), (r["xsmt"], 1)]


def _muting(b, t0):
    """The first muting sequence after t0: when XSMT, MUTE and the mute relay went quiet."""
    return {"xsmt": b.first_change(b.xsmt, 0, t0), "mute": b.first_change(b.pga_mute, 0, t0),
            "relay": b.first_change(b.relay_pin("mute"), b.relay_level("mute", False), t0)}


def _unmutes(b, t_from, t_to):
    live = _outputs(b)
    return [(t, g, v) for t, g, v in list(b.pins) if t_from < t <= t_to and (g, v) in live]


def _pin_changes(b, t_from, t_to):
    return [(t, g, v) for t, g, v in list(b.pins) if t_from <= t <= t_to]


def _soft_reset(b, c):
    """Ctrl-D at the raw REPL (what mpremote sends on connecting): the soft reset, boot.py,
    the raw REPL again. (sent, "soft reboot" written, raw REPL prompt written), in µs."""
    c.clear()
    t = c.send(b"\x04")
    c.read_until(b"soft reboot\r\n", until_us=t + 2e6)
    c.read_until(RAW, until_us=t + 2e6)
    return t, c.time_of(b"soft reboot\r\n", t), c.time_of(RAW, t)


def _soft_resets(tier, name):
    key = ("soft resets", name)
    if key in tier.cache:
        return tier.cache[key]
    live = tier.live(name)
    b, c = live.board, live.console
    r = {"spec": b.spec, "xsmt": b.xsmt, "pga_mute": b.pga_mute, "relay": b.relay_pin("mute")}
    c.clear()
    # mpremote connecting, as its transport sends it: Ctrl-C, Ctrl-A, then Ctrl-D.
    r["ctrl_c"] = c.send(b"\r\x03")
    live.stopped = True
    c.send(b"\r\x01")
    c.read_until(RAW, until_us=r["ctrl_c"] + 2e6)
    r["first"] = _muting(b, r["ctrl_c"])
    r["reset1"] = _soft_reset(b, c)
    # One exec drives a spare pin, the next (after mpremote's soft reset) reads it back.
    c.exec("from machine import Pin\nPin(%d, Pin.OUT, value=1)" % SPARE)
    r["spare_set"] = b.first_change(SPARE, 1, r["reset1"][2])
    r["reset2"] = _soft_reset(b, c)
    r["spare_read"] = c.exec("from machine import Pin\nprint(Pin(%d).value())" % SPARE).strip()
    # A soft reset while the outputs are live (the amp playing, as far as the pins go):
    # boot.py must mute them in order.
    r["before_live"] = b.now_us
    c.exec("from machine import Pin\n" + "".join("Pin(%d, Pin.OUT, value=%d)\n" % p
                                                   for p in _outputs(b)))
    r["live_levels"] = [b.level(g) for g, _v in _outputs(b)]
    r["reset3"] = _soft_reset(b, c)
    r["boot"] = _muting(b, r["reset3"][0])
    # Back to the friendly REPL and Ctrl-D: boot.py, then main.py, which plays again.
    c.send(b"\x02")
    c.read_until(b">>> ", until_us=b.now_us + 2e6)
    c.clear()
    r["reset4"] = c.send(b"\x04")
    r["unmute"] = b.wait_level(r["relay"], b.relay_level("mute"), after_us=r["reset4"],
                               until_us=r["reset4"] + BOOT_US)
    if r["unmute"] is not None:
        live.playing_us = b.wait_playing(until_us=r["reset4"] + BOOT_US)
        live.stopped = False
    r["pins"] = list(b.pins)
    r["changes"] = {k: _pin_changes(b, r[k][0], r[k][2]) for k in ("reset1", "reset2", "reset3")}
    r["unmutes"] = (_unmutes(b, r["ctrl_c"], r["before_live"]),
                    _unmutes(b, r["reset3"][0], r["reset4"]))
    tier.cache[key] = r
    return r


def _gaps(seq):
    return {"xsmt_to_pga_mute_ms": ms(seq["mute"] - seq["xsmt"]),
            "pga_mute_to_relay_ms": ms(seq["relay"] - seq["mute"])}


@boards(SE, BAL)
def test_mpremote_connecting_mutes_in_order_and_nothing_unmutes(tier, name, report):
    r = _soft_resets(tier, name)
    first = r["first"]
    assert None not in first.values(), first
    report("mpremote connecting", board=name, ctrl_c_to_xsmt_ms=ms(first["xsmt"] - r["ctrl_c"]),
           **_gaps(first))
    # The firmware's own Ctrl-C handler: XSMT, the DAC's ramp, MUTE, the zero-crossing
    # time-out, the relay.
    assert first["mute"] - first["xsmt"] >= _ramp_us(name)
    assert first["relay"] - first["mute"] >= 16_000
    # Then, through mpremote's soft resets in the raw REPL, nothing un-mutes.
    assert r["unmutes"][0] == [], r["unmutes"][0]


@boards(SE, BAL)
def test_soft_reset_keeps_the_pins_driving(tier, name, report):
    r = _soft_resets(tier, name)
    report("soft reset", board=name, spare_read_back=r["spare_read"],
           reset_to_prompt_ms=[ms(r[k][2] - r[k][0]) for k in ("reset1", "reset2", "reset3")])
    # rp2 keeps every GPIO driving through a soft reset; a fresh VM would read 0.
    assert r["spare_set"] is not None
    assert r["spare_read"] == "1"
    assert [(t, g, v) for t, g, v in r["pins"] if g == SPARE and t > r["spare_set"]] == []
    # With the outputs already quiet, the soft reset and boot.py change no pin at all.
    assert r["changes"]["reset1"] == [] and r["changes"]["reset2"] == []


@boards(SE, BAL)
def test_boot_py_mutes_in_order_after_a_soft_reset(tier, name, report):
    r = _soft_resets(tier, name)
    live = [v for _g, v in _outputs_of(r)]
    assert r["live_levels"] == live, "the exec did not drive the outputs live"
    seq = r["boot"]
    assert None not in seq.values(), seq
    t_reset, t_reboot, t_prompt = r["reset3"]
    rate = r["spec"]["i2s"]["rate"]
    dac_mute_ms = (105 * 1000 + rate - 1) // rate + 1       # board.py's, as boot.py waits
    report("boot.py after a soft reset", board=name, dac_mute_ms=dac_mute_ms,
           soft_reboot_to_xsmt_ms=ms(seq["xsmt"] - t_reboot), **_gaps(seq),
           reset4_to_mute_relay_ms=ms(r["unmute"] - r["reset4"]) if r["unmute"] else None)
    # Only the three falls, in the muting order, after the soft reboot.
    assert sorted(r["changes"]["reset3"]) == sorted([(seq["xsmt"], r["xsmt"], 0),
                                                     (seq["mute"], r["pga_mute"], 0),
                                                     (seq["relay"], r["relay"], 1 - live[0])])
    assert t_reboot <= seq["xsmt"] < seq["mute"] < seq["relay"] <= t_prompt
    # The DAC's ramp (dac_mute_ms; rp2's sleep_ms counts whole ticks, so up to 1 ms less),
    # then the PGA2311's 16 ms zero-crossing time-out.
    assert seq["mute"] - seq["xsmt"] >= max(_ramp_us(name), (dac_mute_ms - 1) * 1000)
    assert seq["relay"] - seq["mute"] >= 16_000
    # Nothing un-mutes until main.py runs again, and main.py keeps its settle delay.
    assert r["unmutes"][1] == [], r["unmutes"][1]
    assert r["unmute"] is not None, "main.py did not play again after the soft reset"
    assert r["unmute"] - r["reset4"] >= r["spec"]["timing"]["settle_ms"] * 1000


# ---- pico-balanced with no PCM5122 answering on I2C

def _no_dac(tier):
    if "no-dac" in tier.cache:
        return tier.cache["no-dac"]
    image = os.path.join(tier.dir, BAL, "no-dac.img")
    shutil.copyfile(tier.flashed(BAL)["image"], image)
    b = Rp2Board(tier.uf2, BOARDS[BAL], image=image, dac=False).start()
    c = Console(b)
    try:
        # Ask at once: the firmware answers once its loop runs; a crash shows the REPL.
        c.write(b"status\n")
        b.wait(lambda: b">>> " in c.rx or b'"ok"' in c.rx, until_us=BOOT_US, what="a reply or a prompt")
        try:
            reply = c.request("status", within_ms=300)
        except EmulatorError as e:
            reply = {"no reply": str(e).splitlines()[0][:120]}
        if reply.get("ok"):
            # Running: past the point where a working board has unmuted (main.py + settle).
            b.run_until_us(max(b.now_us, 600_000 + b.timing["settle_ms"] * 1000.0))
        text = c.text()
        res = {"reply": reply, "console": text, "pins": list(b.pins), "i2c": list(b.i2c.transactions),
               "board": b}
    finally:
        b.stop()
    tier.cache["no-dac"] = res
    return res


@pytest.mark.xdist_group(BAL)
def test_without_the_dac_the_board_stays_silent(tier, report):
    r = _no_dac(tier)
    b = r["board"]
    lines = [x for x in r["console"].splitlines() if x.strip()]
    err = next((x for x in reversed(lines) if "Error" in x), None)
    report("no PCM5122", board=BAL, firmware_says=err, status_reply=r["reply"],
           i2c=[repr(t) for t in r["i2c"][:2]])
    # Whatever the firmware does about it, nothing may reach the jack.
    mute, on = b.relay_pin("mute"), b.relay_level("mute")
    for gpio, level in ((mute, on), (b.pga_mute, 1), (b.xsmt, 1)):
        assert not [t for t, g, v in r["pins"] if g == gpio and v == level], gpio


@pytest.mark.xdist_group(BAL)
def test_without_the_dac_status_names_the_fault(tier):
    r = _no_dac(tier)["reply"]
    assert r.get("ok") is True, r
    assert any("pcm5122" in f.lower() for f in r.get("faults", [])), r
    assert r.get("mute") is True or r.get("phase") != "playing"

