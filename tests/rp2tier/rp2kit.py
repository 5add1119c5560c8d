"""The rp2 tier's shared pieces: one flashed image and one running board per board file
(per test worker), and the arithmetic the tests report.

`Tier.flashed("pico-se")` boots an erased emulated Pico, installs the firmware with the
project's own `headroom flash` over the emulated USB serial port (twice: the second
must copy nothing), asks `headroom status`, and keeps the flash image;
`Tier.flashed("pico-balanced")` flashes that board with the balanced board file (only
board.json differs). `Tier.live(name)` powers a board on from its image, with every pin,
bus and byte recorded from time 0, and waits until it plays; the tests then share it (a
test that stops the firmware marks it, and the next one to ask gets it reset and playing
again). One emulator runs at a time: the emulator is CPU-bound, and two running at once
share the CPU (conftest orders the tests board by board).
"""
import json
import os
import shutil
import subprocess
import sys
import time

from headroom.rp2tier.board import Rp2Board
from headroom.rp2tier.console import Console

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BOARDS = {n: os.path.join(REPO, "boards", n + ".json") for n in ("pico-se", "pico-balanced")}
PY = sys.executable
HEADROOM = [PY, "-m", "headroom"]
CMD_S = 1800                                         # a hung command, not a slow one (a first
                                                     # flash took 788 s on a loaded 2-core machine)
BOOT_US = 8_000_000                                  # power-on to playing, at the latest


BOOT_WAIT_S = 600   # flash --wait-s: how long the emulated board may show no sign of life


def run(argv):
    t = time.monotonic()
    p = subprocess.run(argv, capture_output=True, text=True, timeout=CMD_S)
    return {"argv": argv[2:], "rc": p.returncode, "out": p.stdout, "err": p.stderr,
            "wall_s": round(time.monotonic() - t, 1)}


class Live:
    """A board powered on from the flashed image, playing."""

    def __init__(self, board, playing_us):
        self.board = board
        self.console = Console(board)
        self.playing_us = playing_us      # the fade-in's last frame
        self.stopped = False              # the firmware was stopped (Ctrl-C)
        self.faults_seen = 0              # board.faults already reported (conftest)


class Tier:
    def __init__(self, uf2, workdir):
        self.uf2 = uf2
        self.dir = workdir
        self.flashes = {}
        self.boards = {}
        self.cache = {}                    # results a few tests share

    def close(self):
        self.stop_boards()

    # ---- the firmware, installed once per board file
    def flashed(self, name):
        """{"first", "second", "status": command results, "image": path}."""
        if name in self.flashes:
            return self.flashes[name]
        self.stop_boards()
        d = os.path.join(self.dir, name)
        os.makedirs(d, exist_ok=True)
        link = os.path.join(d, "ttyACM0")
        board = BOARDS[name]
        # From an erased flash for pico-se; pico-balanced goes over pico-se's install.
        # The flash chip's busy times are left out here: they would add a minute.
        base = None if name == "pico-se" else self.flashed("pico-se")["image"]
        b = Rp2Board(self.uf2, board, image=base, port_link=link, flash_busy=False).start()
        res = {}
        try:
            for step in ("first", "second") if name == "pico-se" else ("first",):
                t0 = b.now_us
                # The emulated board runs 30 times slower than a Pico, over 100 times on a
                # loaded machine: main.py's 0.8 s of silent start-up can outlast flash's
                # default 60 s without a sign of life, so the wait is given here.
                res[step] = run(HEADROOM + ["flash", "--board", board, "--port", link,
                                            "--wait-s", str(BOOT_WAIT_S)])
                res[step]["emulated_ms"] = round((b.now_us - t0) / 1000)
            res["status"] = run(HEADROOM + ["status", "--json", "--port", link,
                                             "--wait-s", str(BOOT_WAIT_S)])
            res["image"] = os.path.join(d, "flash.img")
            b.dump_image(res["image"])
        finally:
            b.stop()
        self.flashes[name] = res
        return res

    def stop_boards(self, but=None):
        for n, live in list(self.boards.items()):
            if n != but:
                live.board.stop()
                del self.boards[n]

    # ---- a running board
    def live(self, name, **kw):
        self.stop_boards(but=name)
        live = self.boards.get(name)
        if live is not None and live.board.alive() and not live.stopped:
            return live
        if live is not None and live.board.alive():
            b = live.board
            t = b.now_us
            b.reset("run")
            live.playing_us = b.wait_playing(until_us=t + BOOT_US)
            live.stopped = False
            return live
        image = os.path.join(self.dir, name, "live.img")
        shutil.copyfile(self.flashed(name)["image"], image)
        self.stop_boards()
        b = Rp2Board(self.uf2, BOARDS[name], image=image, **kw).start()
        live = Live(b, b.wait_playing(until_us=BOOT_US))
        self.boards[name] = live
        return live


# ---- figures
def stats(values):
    """min / median / p99 (nearest rank) / max of a list, rounded to 0.01."""
    v = sorted(values)
    if not v:
        return {"n": 0}
    n = len(v)
    med = v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2
    p99 = v[max(0, -(-99 * n // 100) - 1)]
    return {"n": n, "min": round(v[0], 3), "median": round(med, 3), "p99": round(p99, 3),
            "max": round(v[-1], 3)}


def ms(t_us):
    return None if t_us is None else round(t_us / 1000.0, 3)


def dump(obj):
    return json.dumps(obj, sort_keys=True)
