"""Small helpers shared by the tests."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from conftest import BALANCED, SE  # noqa: E402,F401


def board_dict(path):
    """A board file's dict, a fresh copy each call (a test may change it)."""
    import json
    with open(path) as f:
        return json.load(f)


def se():
    return board_dict(SE)


def bal():
    return board_dict(BALANCED)


def booted(path=SE, ms=3000, **kw):
    """A SimBoard powered on and run past its settle delay and ramp."""
    from headroom.sim.simboard import SimBoard
    b = SimBoard(path, **kw)
    b.power(True)
    b.run_ms(ms)
    return b


def until_playing(b, within_ms=10000):
    """Run a powered board until its fade-in is over (the firmware plays, no ramp step
    due): an event, not a guessed boot time, which follows the cost model's."""
    from headroom_fw.controller import PLAYING
    for _ in range(within_ms // 10):
        app = b.app
        if app is not None and app.ctl.phase == PLAYING and not app.ctl._ramping:
            return b
        b.run_ms(10)
    raise AssertionError("not playing %d ms after power-on" % within_ms)


def board_variant(base, edit):
    """A board file written from `base` (a path) changed by `edit(dict)`, in a folder of
    its own removed at exit, named after the board; returns its path."""
    import atexit
    import json
    import shutil
    import tempfile
    with open(base) as f:
        d = json.load(f)
    edit(d)
    folder = tempfile.mkdtemp(prefix="headroom-board-")
    atexit.register(shutil.rmtree, folder, True)
    path = os.path.join(folder, d["name"] + ".json")
    with open(path, "w") as f:
        json.dump(d, f)
    return path


def three_position(d, high_pin=9, pga_max_vrms=2.5):
    """pico-se with an ON-OFF-ON gain switch (its middle: auto) and the PGA2311's swing
    stated (so that auto really stages: the low gain tops out at 8 dBV, under the stage's
    16 dBV, and the volume limit is raised to reach it)."""
    d["name"] = d["name"] + "-3pos"
    d["gain_switch"] = {"low_pin": d["gain_switch"]["pin"], "high_pin": high_pin}
    d["analog"]["pga_max_vrms"] = pga_max_vrms
    d["volume"]["limit_dbv"] = 16.0


THREE_POS = board_variant(SE, three_position)


def external_source(d):
    """pico-se with an external source module as its I2S master (a USB bridge and an
    S/PDIF receiver, chosen on GP0): its PCM5102A cannot say whether music comes, so the
    firmware watches LRCK (GP27, a PWM slice's B input: clockwatch.py)."""
    d["name"] = d["name"] + "-external"
    d["inputs"] = {"source": "external", "names": ["USB", "S/PDIF"], "select": [0]}


SE_EXTERNAL = board_variant(SE, external_source)


def zcen_low(d):
    """ZCEN tied low on the board: the PGA2311 changes gains (and mutes) at once, no zero
    crossing waited for, so a DAC soft mute that starts late is heard as a click."""
    d["name"] = d["name"] + "-zcen-low"
    d["pga2311"]["zcen"] = "low"


def chip_per_side(d):
    """pico-balanced with one PGA2311 per side (left hot and cold legs on the chip nearest
    the MCU, right on the far one): the two chips carry different codes whenever the
    balance is off centre, so the chain's word order shows at the jack."""
    d["name"] = d["name"] + "-chip-per-side"
    d["pga2311"]["chips"] = [["L", "L-"], ["R", "R-"]]


def no_hardware_mute(d):
    """No hardware mute path from the supply monitor: the supply-fail handler alone mutes."""
    d["name"] = d["name"] + "-no-hw-mute"
    d["power_sense"]["hardware_mute"] = False


_NO_DISPLAY = {}


def no_display(path):
    """The board at `path` without its display (a variant file made once per board): a
    long press is balance mode there, as before the knob menu (docs/knob.md)."""
    if path not in _NO_DISPLAY:
        def edit(d):
            d["name"] = d["name"] + "-no-display"
            d.pop("display", None)
        _NO_DISPLAY[path] = board_variant(path, edit)
    return _NO_DISPLAY[path]


ZCEN_LOW = board_variant(SE, zcen_low)
CHIP_PER_SIDE = board_variant(BALANCED, chip_per_side)
SE_NO_HW = board_variant(SE, no_hardware_mute)
BALANCED_NO_HW = board_variant(BALANCED, no_hardware_mute)
NO_HW = {SE: SE_NO_HW, BALANCED: BALANCED_NO_HW}


def playing(path=SE, **kw):
    """A SimBoard powered on and run until it plays (its fade-in over)."""
    from headroom.sim.simboard import SimBoard
    b = SimBoard(path, **kw)
    b.power(True)
    return until_playing(b)


def long_press(b):
    """The knob's button held past its long press, then released."""
    b.press(True)
    b.run_ms(b.board.long_press_ms + 100)
    b.press(False)
    b.run_ms(100)


def trace_records(path):
    """A trace file's records after its header (a board may still be writing it: a last
    line not yet ended is left for later)."""
    import json
    with open(path) as f:
        lines = f.read().split("\n")[:-1]
    assert json.loads(lines[0])["trace"] == 2
    return [json.loads(x) for x in lines[1:]]


def ask(b, line, ms=100):
    """Send a protocol line to a simulated board, run it `ms` (longer, until the reply is
    in: a reply goes out as the host takes it); the line's one reply (a dict)."""
    import json
    n = len(b.console.replies())
    b.console.send(line + "\n")
    b.run_ms(ms)
    await_reply(b, n)
    new = b.console.replies()[n:]
    assert len(new) == 1, (line, new)
    return json.loads(new[0])


def await_reply(b, n, within_ms=2000):
    """Run the board until its host has received reply number `n` (counted from 0); return
    it (the line). An event, not a guessed time."""
    for _ in range(within_ms):
        got = b.console.replies()
        if len(got) > n:
            return got[n]
        b.run_ms(1)
    raise AssertionError("no reply within %d ms" % within_ms)


def watched(path, **kw):
    """A board under the trace checker from power-on, run until it plays; and the pins'
    moves as (t_us, GPIO, level), in order: (board, checker, moves)."""
    from headroom.sim.invariants import Checker
    from headroom.sim.simboard import SimBoard
    b = SimBoard(path, **kw)
    c = Checker(b.board)
    b.trace.listeners.append(c.live)
    pins = []
    b.trace.listeners.append(lambda t, k, f: pins.append((t, dict(f)["pin"], dict(f)["level"]))
                             if k == "pin" else None)
    b.power(True)
    until_playing(b)
    return b, c, pins
