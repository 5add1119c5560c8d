"""The pictures of the display in docs/display.md: `make display-pictures` (python -m
headroom.display_pictures [DIR], default docs/display).

Each is the simulated SSD1306 of pico-se as lit (its model's PNG), taken once the
firmware has sent the whole frame (its display part no longer busy): starting (the
settle delay), the level in dBV, muted, a headphone chosen (dB SPL), a limit raise
waiting for the long press; a critical fault on pico-balanced's SH1106; the web
remote's pairing code on pico-w-balanced's (the code drawn from fixed random bytes). Virtual
time only: the same pictures
every run.
"""
import json
import os
import sys

from .sim.simboard import REPO_DIR, SimBoard

DEFAULT_DIR = os.path.join(REPO_DIR, "docs", "display")
BOARD = os.path.join(REPO_DIR, "boards", "pico-se.json")
BALANCED = os.path.join(REPO_DIR, "boards", "pico-balanced.json")
PICO_W = os.path.join(REPO_DIR, "boards", "pico-w-balanced.json")


def _settled(b, within_ms=2000):
    """Run until the display has drawn and sent what the state asks for: a pass has
    looked at the state (an idle pass comes every 10 ms), and nothing waits to be sent.
    An event, not a guessed time."""
    passes = []
    count = passes.append   # a pass ended
    b.sim.after_step.append(lambda: count(1))
    try:
        for _ in range(within_ms):
            app = b.app
            if (len(passes) > 1 and app is not None and app.display is not None
                    and not app.display.busy):
                return
            b.run_ms(1)
    finally:
        b.sim.after_step.pop()
    raise RuntimeError("the display was still sending after %d ms" % within_ms)


def _ask(b, line):
    n = len(b.console.replies())
    b.console.send(line + "\n")
    for _ in range(2000):
        if len(b.console.replies()) > n:
            return json.loads(b.console.replies()[n])
        b.run_ms(1)
    raise RuntimeError("no reply to %r" % line)


def make(folder=DEFAULT_DIR):
    """Write the pictures into `folder`; returns their paths."""
    os.makedirs(folder, exist_ok=True)
    out = []

    def shot(b, name):
        path = os.path.join(folder, name + ".png")
        b.display.png(path, scale=3)
        out.append(path)

    b = SimBoard(BOARD, keep_trace=False)
    try:
        b.power(True)
        b.run_ms(600)          # in the settle delay
        _settled(b)
        shot(b, "starting")
        b.run_ms(2500)
        b.turn(+7)
        b.run_ms(500)
        _settled(b)
        shot(b, "level-dbv")
        b.press(True)
        b.run_ms(60)
        b.press(False)
        b.run_ms(300)
        _settled(b)
        shot(b, "muted")
        b.press(True)
        b.run_ms(60)
        b.press(False)
        b.run_ms(1500)
        _ask(b, "set headphone 300 103.5 dB/V HD 650")
        _settled(b)
        shot(b, "level-spl")
        _ask(b, "set limit 0")
        b.run_ms(200)
        _ask(b, "set limit 6")     # a raise: it waits for the long press
        _settled(b)
        shot(b, "confirm")
    finally:
        b.close()
    # A critical fault, on pico-balanced's SH1106: the PCM5122 does not answer.
    b = SimBoard(BALANCED, keep_trace=False)
    try:
        b.power(True)
        b.run_ms(3000)
        b.fault("dac", True)
        b.run_ms(3000)
        _settled(b)
        shot(b, "fault")
    finally:
        b.close()
    # The web remote's pairing code (`wifi pair`), on the Pico W board.
    b = SimBoard(PICO_W, keep_trace=False)
    try:
        b.power(True)
        b.run_ms(3000)
        b.app.pairing.urandom = lambda n: bytes(range(7, 7 + n))   # the same code every run
        _ask(b, "wifi pair")
        b.run_ms(200)
        _settled(b)
        shot(b, "pairing")
    finally:
        b.close()
    return out


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    for path in make(argv[0] if argv else DEFAULT_DIR):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
