"""The knob beside the web remote: knob -> PGA2311 frame latency on the simulated Pico W
with no page, and with two pages paired and their live updates streaming (every detent
changes the state: each page is sent it while the knob turns), side by side.

    python -m headroom.bench_web [--json]

The turns are bench_latency's at 50/s (12 detents, back and forth, typical costs); the
pages are this machine's sockets reading every byte the board sends (sim/net.py). Same
goals as the knob alone (p99 <= 2 ms, max <= 5 ms).

`make bench` (and `--vm`) also runs the firmware on the MicroPython VM (sim/mp_bench.py
`stream`): its own net.py on the Unix port's sockets, with no page and with two pages
streaming, idle and while the knob turns: the bytes the main loop allocates a pass (the
simulator's taken out). For information, against the idle pass of a board without WiFi.
"""
import json
import socket
import sys

from .bench_latency import GOAL_MAX_US, GOAL_P99_US, _percentile
from .sim import webclient

BOARD = "pico-w-balanced"


class Frames:
    """The times of every SPI frame (the PGA2311's: on a Pico W board the display and the
    DAC are on I2C), as the trace makes them."""

    def __init__(self, b):
        self.t = []
        b.trace.listeners.append(self._record)

    def _record(self, t, kind, f):
        if kind == "spi":
            self.t.append(t)


def detent_ends(b, at_us, detents, rate):
    """When each detent of a turn begun at `at_us` ends: its last edge (encoder model)."""
    epd = b.board.edges_per_detent
    step = 1000000 // rate // epd
    return [at_us + ((j + 1) * epd - 1) * step + step // 2 for j in range(abs(detents))]


def run_pumped(b, until_us, pump=None, step_us=1000):
    """Run the board until `until_us`, calling pump() after every `step_us` (the pages
    read what the board sent)."""
    while b.now_us() < until_us:
        b.run_us(min(step_us, until_us - b.now_us()))
        if pump is not None:
            pump()


def turn_latencies(b, frames, at_us, detents, rate, pump=None, after_us=50000):
    """Turn `detents` at `rate`/s from `at_us`; run until after_us past its end; the
    latency (us) of each detent: its last edge to the next PGA2311 frame."""
    dur = b.turn(detents, rate=rate, at_us=at_us)
    ends = detent_ends(b, at_us, detents, rate)
    n0 = len(frames.t)
    run_pumped(b, at_us + dur + after_us, pump)
    fs = frames.t[n0:]
    out = []
    for td in ends:
        after = [f for f in fs if f >= td]
        if after:
            out.append(after[0] - td)
    return out


def join(b):
    """`wifi set` over USB; run until the page is up; its (ip, port)."""
    webclient.join(b)
    return webclient.Client(b).addr


def pair(b, addr):
    """Pair a page (the code read over USB, as `headroom wifi pair` does): its cookie."""
    c = webclient.Client(b)
    c.pair()
    return c.cookie


class Stream:
    """A page's live updates (GET /api/events): a socket read whenever pump() is called;
    `got` every byte, `at` (virtual us, bytes so far) each time some arrived."""

    def __init__(self, b, addr, cookie):
        self.b = b
        self.s = socket.create_connection(addr, timeout=5)
        self.s.setblocking(False)
        self.s.sendall(("GET /api/events HTTP/1.1\r\nHost: %s:%d\r\nCookie: %s\r\n\r\n"
                        % (addr[0], addr[1], cookie)).encode())
        self.got = b""
        self.at = []
        self.closed = False

    def pump(self):
        if self.closed:
            return
        try:
            while True:
                chunk = self.s.recv(65536)
                if not chunk:
                    self.closed = True
                    return
                self.got += chunk
                self.at.append((self.b.now_us(), len(self.got)))
        except BlockingIOError:
            pass
        except OSError:
            self.closed = True

    def events(self):
        return self.got.count(b"data: ")

    def close(self):
        self.s.close()


def measure(pages, rate=50, detents=12, repeats=6, info=None):
    """Knob latencies (us) on the simulated Pico W with `pages` live pages streaming."""
    from .sim.simboard import REPO_DIR, SimBoard
    b = SimBoard("%s/boards/%s.json" % (REPO_DIR, BOARD), keep_trace=False)
    streams = []
    try:
        b.power(True)
        b.run_ms(3000)
        addr = join(b)
        if pages:
            cookie = pair(b, addr)
            streams = [Stream(b, addr, cookie) for _ in range(pages)]

        def pump():
            for st in streams:
                st.pump()
        run_pumped(b, b.now_us() + 200000, pump)
        frames = Frames(b)
        out = []
        t = b.now_us() + 100000
        for i in range(repeats):
            d = detents if i % 2 == 0 else -detents
            out += turn_latencies(b, frames, t, d, rate, pump)
            t = b.now_us() + 1500000    # a new gesture: acceleration starts again
            run_pumped(b, t - 100000, pump)
        assert not b.sim.faults and not b.sim.crashes
        if info is not None:
            info["events"] = sum(st.events() for st in streams)
            info["open"] = sum(not st.closed for st in streams)
        return out
    finally:
        for st in streams:
            st.close()
        b.close()


def vm_stream(pages, mpy_dir, heap):
    """mp_bench's `stream` on the MicroPython VM with `pages` pages reading every byte (this
    process's threads): its JSON, and the events the pages received."""
    import tempfile
    import threading

    from .bench import MICROPYTHON, MP_BENCH, run_ready
    from .sim.simboard import REPO_DIR
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    got = [0] * pages
    threads = []
    board = "%s/boards/%s.json" % (REPO_DIR, BOARD)

    def page(i, token):
        c = socket.create_connection(("127.0.0.1", port), timeout=600)
        c.sendall(("GET /api/events HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: hr=%s\r\n\r\n"
                   % token).encode())
        with c:
            while True:
                d = c.recv(65536)
                if not d:
                    return
                got[i] += d.count(b"data: ")

    def ready(line):
        if not line.startswith(b"ready "):
            return False
        token = line.split()[1].decode()
        for i in range(pages):
            threads.append(threading.Thread(target=page, args=(i, token), daemon=True))
            threads[-1].start()
        return True

    with tempfile.TemporaryDirectory() as flash:
        r, _ = run_ready([MICROPYTHON, "-X", "heapsize=%d" % heap, MP_BENCH, "stream", board,
                          flash, mpy_dir, str(port), str(pages)], ready, timeout=900,
                         what="mp_bench stream")
    for t in threads:
        t.join(10)     # the VM gone, each page reads to the end of its stream
    r["events"] = sum(got)
    return r


def vm_table(rows):
    out = ["%-24s %7s %14s %7s %14s %12s" % ("pages (MicroPython VM)", "passes", "B/idle pass",
                                             "passes", "B/turn pass", "B/detent")]
    for r in rows:
        out.append("%-24s %7d %14.1f %7d %14.1f %12.1f" % (
            "none" if not r["pages"] else "%d streaming (%d events)" % (r["pages"], r["events"]),
            r["idle_passes"], r["bytes_per_idle_pass"], r["turn_passes"],
            r["bytes_per_turning_pass"], r["bytes_per_detent"]))
    return "\n".join(out)


def run():
    rows = []
    for pages in (0, 2):
        info = {}
        lat = measure(pages, info=info)
        rows.append({"board": BOARD, "pages": pages, "detents": len(lat),
                     "events": info.get("events", 0), "p50_us": _percentile(lat, 50),
                     "p99_us": _percentile(lat, 99), "max_us": max(lat),
                     "goal_p99_us": GOAL_P99_US, "goal_max_us": GOAL_MAX_US})
    return rows


def table(rows):
    out = ["%-16s %-28s %7s %8s %8s %8s  %s" % (
        "board", "pages", "detents", "p50 ms", "p99 ms", "max ms", "goal")]
    ok = True
    for r in rows:
        good = r["p99_us"] <= r["goal_p99_us"] and r["max_us"] <= r["goal_max_us"]
        ok = ok and good
        what = ("none" if not r["pages"] else
                "%d streaming (%d events)" % (r["pages"], r["events"]))
        out.append("%-16s %-28s %7d %8.2f %8.2f %8.2f  %s" % (
            r["board"], what, r["detents"], r["p50_us"] / 1000, r["p99_us"] / 1000,
            r["max_us"] / 1000, "ok" if good else "MISSED"))
    return "\n".join(out), ok


def main(argv, mpy_dir=None, heap=None):
    """`make bench` hands in its .mpy folder and VM heap (or `--vm`: built here)."""
    rows = run()
    if "--vm" in argv and mpy_dir is None:
        import os

        from . import mpy
        from .bench import BENCH_HEAP
        from .sim.simboard import REPO_DIR
        mpy_dir, heap = os.path.join(REPO_DIR, "build", "mpy"), BENCH_HEAP
        mpy.build(mpy_dir)
    vm = [vm_stream(n, mpy_dir, heap) for n in (0, 2)] if mpy_dir else []
    if "--json" in argv:
        print(json.dumps({"latency": rows, "vm": vm}))
        return 0
    text, ok = table(rows)
    print("Knob latency beside the web remote, last edge of a detent -> the PGA2311 frame "
          "(50/s, typical costs; goal p99 <= %g ms, max <= %g ms)" % (
              GOAL_P99_US / 1000, GOAL_MAX_US / 1000))
    print(text)
    if vm:
        print("Bytes the main loop allocates a pass on the MicroPython VM, %s, idle (5 s) and "
              "turning (60 detents at 10/s), the simulator's taken out:" % BOARD)
        print(vm_table(vm))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
