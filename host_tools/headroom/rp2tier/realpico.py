"""The emulated RP2040 against published figures from real Picos.

    python -m headroom.rp2tier.realpico UF2 > build/rp2tier/realpico-RELEASE.json

(`make realpico-rp2 UF2=FILE`.) Stock MicroPython (no firmware on the filesystem) in the
rp2 tier's emulated board; each probe is written here from the published description of
a measurement someone made on a real Pico (no benchmark code is copied), runs the same
work and reports the emulated time beside the published one and their ratio
(emulated / real: below 1, the emulator is faster than the Pico).

The figures (`PUBLISHED`):

- shaoziyang/micropython_benchmarks (README, RP2040 at 125 MHz, MicroPython v1.23.0):
  a function given a list [n, x, y] loops n times over `range(n)` storing
  `list[1] OP list[2]` in a local; integer operands 12345678 and 56781234 (the product
  is a long int), division 99999991 / 45481 (true division, a float), float operands
  12345678.1234 and 56781234.5678 (/ 99999991.2345 and 45481.1357), and the power
  1234.5678 ** 2.3456; a gc.collect() before each, timed with ticks_ms.
- micropython issue #6957 (Peter Hinch, 2021-02, a real Pico, the MicroPython of
  then: 1.14): a 1 kHz square wave on a pin with a `hard=True` rising-edge handler
  whose first line drives another pin high; edge to that pin "about 20 µs" while the
  main loop only sleeps (`sleep_ms(10)` in a loop) and "usually 25 µs" while it also
  sums `math.sin(x * 2 * math.pi / 100)` over `range(100)` between sleeps, which
  the issue gives as "6.2 ms of busywork".

What the emulator is known to leave out (rp2040py 0.3.6): interrupt entry and exit
cost no cycles (the Cortex-M0+ stacks 8 registers and fetches the vector: 15-16
cycles each way on a real core, plus MicroPython's own IRQ dispatch, which runs from
flash), and flash reads through XIP are free (no cache misses: the VM, the GC and the
float library run from flash in 1.24.1 and 1.26.1). The ratios say how much that is.

A few minutes of wall time per release (a boot to the REPL, then each probe).
"""
import argparse
import json
import os
import sys

from .board import Rp2Board
from .calibrate import IRQ_IN, IRQ_OUT, answers, drive, run_past
from .console import Console

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
BOARD = os.path.join(REPO, "boards", "pico-se.json")   # only for the tier's wiring: no firmware runs

SHAOZIYANG = ("shaoziyang/micropython_benchmarks, README (RP2040, 125 MHz)", "1.23.0")
HINCH = ("micropython issue #6957 (Peter Hinch, real Pico)", "1.14 (2021-02)")

# name: (what, published real value, unit, (source, release))
PUBLISHED = {
    "int_add_10k": ("integer addition, 10,000 times", 80, "ms", SHAOZIYANG),
    "int_add_100k": ("integer addition, 100,000 times", 799, "ms", SHAOZIYANG),
    "int_mul_10k": ("integer multiplication (long-int product), 10,000 times", 276, "ms", SHAOZIYANG),
    "int_div_10k": ("integer true division, 10,000 times", 126, "ms", SHAOZIYANG),
    "float_add_10k": ("float addition, 10,000 times", 129, "ms", SHAOZIYANG),
    "float_mul_10k": ("float multiplication, 10,000 times", 129, "ms", SHAOZIYANG),
    "float_div_10k": ("float division, 10,000 times", 134, "ms", SHAOZIYANG),
    "power_10k": ("float power, 10,000 times", 993, "ms", SHAOZIYANG),
    "sin_sum_100": ("sum of math.sin() over 100 points (#6957's busywork)", 6.2, "ms", HINCH),
    "irq_latency_idle": ("pin edge to a hard IRQ handler's first pin write, main loop "
                         "sleeping (median)", 20, "us", HINCH),
    "irq_latency_busy": ("the same, main loop summing sines between sleeps (median)", 25, "us",
                         HINCH),
}

# The arithmetic probes: (name, operator, x, y, n). Each run is a function of the list
# [n, x, y] that loops n times, loading both operands from the list by index as the
# published runs do (the indexing is part of what they time).
ARITH = (
    ("int_add_10k", "+", "12345678", "56781234", 10000),
    ("int_add_100k", "+", "12345678", "56781234", 100000),
    ("int_mul_10k", "*", "12345678", "56781234", 10000),
    ("int_div_10k", "/", "99999991", "45481", 10000),
    ("float_add_10k", "+", "12345678.1234", "56781234.5678", 10000),
    ("float_mul_10k", "*", "12345678.1234", "56781234.5678", 10000),
    ("float_div_10k", "/", "99999991.2345", "45481.1357", 10000),
    ("power_10k", "**", "1234.5678", "2.3456", 10000),
)

SETUP = """import gc, math, time
T = time.ticks_us
D = time.ticks_diff
def timed(f, arg):
    gc.collect()
    t = T()
    f(arg)
    return D(T(), t)
def sines(k):
    acc = 0
    for x in range(k):
        acc += math.sin(x * 2 * math.pi / k)
    return acc
"""


def _op_fn(name, op):
    return "def %s(a):\n    for _ in range(a[0]):\n        r = a[1] %s a[2]\n" % (name, op)


def _median(v):
    v = sorted(v)
    n = len(v)
    return v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2


def _row(name, emulated, extra=None):
    what, real, unit, (source, release) = PUBLISHED[name]
    row = {"what": what, "emulated": round(emulated, 2), "real": real, "unit": unit,
           "ratio": round(emulated / real, 2), "source": source, "real_release": release}
    if extra:
        row.update(extra)
    return row


def arithmetic(c, log):
    out = {}
    c.exec(SETUP)
    for name, op, x, y, n in ARITH:
        log(name)
        c.exec(_op_fn("f_" + name, op))
        us = int(c.exec("print(timed(f_%s, [%d, %s, %s]))" % (name, n, x, y),
                        within_ms=n // 2 + 5000))
        out[name] = _row(name, us / 1000.0)
    log("sin_sum_100")
    v = [int(c.exec("print(timed(sines, 100))")) for _ in range(5)]
    out["sin_sum_100"] = _row("sin_sum_100", _median(v) / 1000.0, {"samples_us": v})
    return out


def irq_latency(b, c, busy, edges=200, log=print):
    """A 1 kHz square wave on IRQ_IN (50 % duty, driven by the host), a hard handler on
    its rising edge driving IRQ_OUT high then low, the main loop sleeping 10 ms at a
    time (`busy`: summing 100 sines before each sleep). µs from each rising edge to
    IRQ_OUT going high."""
    c.exec("from machine import Pin\nqo = Pin(%d, Pin.OUT, value=0)\nqi = Pin(%d, Pin.IN)\n"
           "def qh(p):\n    qo(1)\n    qo(0)\nqi.irq(qh, Pin.IRQ_RISING, hard=True)"
           % (IRQ_OUT, IRQ_IN))
    b.call(lambda: b.mcu.gpio[IRQ_IN].set_input_value(False))
    rises = drive(b, IRQ_IN, 40_000, [(i * 1000.0 + d, d == 0) for i in range(edges)
                                      for d in (0, 500.0)])[::2]
    body = "s = sines(100)\n    " if busy else ""
    run_past(c, b"t = T()\nwhile D(T(), t) < %d:\n    %stime.sleep_ms(10)\n"
             % (int(rises[-1] - b.now_us + 30_000), body.encode()), b, rises[-1])
    c.exec("qi.irq(None)")
    lat = answers(b, rises, IRQ_OUT, level=1, within_us=1000)
    lat.sort()
    log("irq %s: %d edges, %d answered" % ("busy" if busy else "idle", len(rises), len(lat)))
    return lat


def measure(uf2, log):
    b = Rp2Board(uf2, BOARD, image=None, pio_clkdiv=1).start()
    try:
        c = Console(b)
        c.enter_raw(within_ms=60000)
        out = arithmetic(c, log)
        for busy, name in ((False, "irq_latency_idle"), (True, "irq_latency_busy")):
            lat = irq_latency(b, c, busy, log=log)
            out[name] = _row(name, _median(lat), {
                "min": round(lat[0], 1), "max": round(lat[-1], 1), "n": len(lat)})
        return out
    finally:
        b.stop()


def table(results):
    """Markdown rows: figure, emulated (release), published real (source, release), ratio."""
    lines = ["| figure | emulated (release) | published real (source, release) | emulated / real |",
             "|---|---|---|---|"]
    names = list(PUBLISHED)
    for name in names:
        cells = []
        for rel, res in results.items():
            r = res["figures"].get(name)
            if r:
                cells.append((rel, r))
        if not cells:
            continue
        r0 = cells[0][1]
        emu = ", ".join("%s %s (%s)" % (r["emulated"], r["unit"], rel) for rel, r in cells)
        ratio = ", ".join("%.2f" % r["ratio"] for _rel, r in cells)
        lines.append("| %s | %s | %s %s (%s, %s) | %s |" % (
            r0["what"], emu, r0["real"], r0["unit"], r0["source"], r0["real_release"], ratio))
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m headroom.rp2tier.realpico",
                                 description=__doc__.split("\n")[0])
    ap.add_argument("uf2", nargs="+", help="MicroPython's RPI_PICO UF2 (1.24.1, 1.26.1)")
    ap.add_argument("--table", action="store_true",
                    help="the arguments are JSON files this command wrote: print the table")
    a = ap.parse_args(argv)
    if a.table:
        results = {}
        for p in a.uf2:
            with open(p) as f:
                r = json.load(f)
            results[r["micropython"]] = r
        print(table(results))
        return 0
    import importlib.metadata as md

    from .release import micropython_release
    for p in a.uf2:
        if not os.path.isfile(p):
            print("no such UF2 file: %s" % p, file=sys.stderr)
            return 2
    uf2 = a.uf2[0]

    def log(msg):
        print("realpico: " + msg, file=sys.stderr, flush=True)
    result = {"uf2": os.path.basename(uf2), "micropython": micropython_release(uf2),
              "emulator": "rp2040py %s" % md.version("rp2040py"),
              "ratio": "emulated / published real (below 1: the emulator is faster)",
              "figures": measure(uf2, log)}
    json.dump(result, sys.stdout, indent=1)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
