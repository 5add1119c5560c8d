"""The README's picture of the front panel: `make screenshot` (python -m headroom.panel.screenshot
OUT.svg [BOARD]).

A fixed session on virtual time (no wall clock in it), so the picture is the same every
run: power on, the fade-in, a slow turn and a fast one, then the gain switch: the
picture is taken as the level fades in again, with the relay sequence in the log.
"""
import asyncio
import html
import os
import re
import sys

from ..sim.simboard import REPO_DIR
from .app import PanelApp
from .session import Session

SIZE = (170, 58)
DEFAULT_BOARD = os.path.join(REPO_DIR, "boards", "pico-balanced.json")


async def _shoot(board_path):
    s = Session(board_path, wall=lambda: 0.0)   # the wall clock stands still: time is stepped
    app = PanelApp(s, live=False)
    async with app.run_test(size=SIZE) as pilot:
        s.step_ms(2600)                 # the settle delay, then the fade-in
        for _ in range(4):              # a slow turn: 0.5 dB a detent
            await pilot.press("right")
            s.step_ms(250)
        for _ in range(8):              # a fast one (key repeat): 1 dB a detent
            await pilot.press("right")
            s.step_ms(30)
        s.step_ms(400)
        await pilot.press("g")          # high gain: muted, the relay moves, fading in again
        s.step_ms(150)
        app.refresh_panel()
        await pilot.pause()
        return app.export_screenshot(title="headroom panel --board boards/%s"
                                     % os.path.basename(board_path))


def screenshot(board_path=DEFAULT_BOARD):
    """The panel after the fixed session, as SVG text."""
    return asyncio.run(_shoot(board_path))


def svg_text(svg):
    """The screen's rows as plain text, from a Textual (Rich) SVG screenshot."""
    rows = {}
    for m in re.finditer(r'<text [^>]*clip-path="url\(#[\w-]*?-line-(\d+)\)"[^>]*>([^<]*)</text>', svg):
        rows.setdefault(int(m.group(1)), []).append(html.unescape(m.group(2)).replace("\xa0", " "))
    return ["".join(rows[k]) for k in sorted(rows)]


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if not 1 <= len(argv) <= 2:
        print("usage: python -m headroom.panel.screenshot OUT.svg [BOARD]", file=sys.stderr)
        return 2
    out = argv[0]
    svg = screenshot(argv[1] if len(argv) > 1 else DEFAULT_BOARD)
    folder = os.path.dirname(out)
    if folder:
        os.makedirs(folder, exist_ok=True)
    with open(out, "w", encoding="utf-8") as f:
        f.write(svg)
    print("%s: %d bytes" % (out, len(svg)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
