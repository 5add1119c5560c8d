"""Import the firmware a module at a time, collecting the garbage between (main.py, before
anything else): what the board will run, loaded into as few holes as the heap has.

MicroPython keeps the name of everything it loads in a pool that grows by whole blocks,
each larger than the one before; loading a module also leaves its compile-time garbage.
Imported all at once (lifecycle imports app, which imports the rest), the garbage
fragments the heap just as the firmware's names fill the sixth block: on a Pico W (205 KB
of heap, the CYW43's driver and lwIP take 40 KB of a Pico's) the seventh, about 9.8 KB in
one piece, could not be had with 45-55 KB free, and the boot failed with MemoryError
three times (the rp2 tier's test_pico_w). One module at a time, leaves first, each
followed by a collection, the same firmware boots there.

The board file says which parts' modules the App will load (a display, a remote, WiFi);
a damaged or missing one loads the common modules only (the App then reports it).
"""
import gc

# Leaves first: importing one loads only itself (the import graph, tests/test_packaging.py).
COMMON = ("board", "volume", "controller", "files", "knob", "quadrature", "encoder", "inputs",
          "pcm5102a", "pga2311", "relay", "part", "supervisor", "supply", "version",
          "hardware", "health", "irdecode", "log", "jsonout", "protocol", "remote",
          "settings", "uptime", "waker", "app", "watchdog", "console", "lifecycle")
PARTS = (("display", ("ssd1306", "oled", "screen", "display")),
         ("ir", ("irrecv",)),
         ("wifi", ("net", "wifi", "pairing", "web", "webapp")))


def modules(d):
    """The firmware's modules a board (its file's JSON, or None) loads at boot, in order."""
    names = list(COMMON)
    if not isinstance(d, dict):
        return names
    enc = d.get("encoder")
    if isinstance(enc, dict) and enc.get("decoder") == "pio":
        names.insert(names.index("hardware"), "pio_encoder")
    dac = d.get("dac")
    if isinstance(dac, dict) and dac.get("chip") == "pcm5122":
        names.insert(names.index("hardware"), "pcm5122")
    inp = d.get("inputs")
    if isinstance(inp, dict) and inp.get("source") == "external" and not (
            isinstance(dac, dict) and dac.get("chip") == "pcm5122"):
        names.insert(names.index("hardware"), "clockwatch")   # a PCM5102A's music clock
    for key, mods in PARTS:
        if isinstance(d.get(key), dict):
            names[names.index("app"):names.index("app")] = list(mods)
    return names


def preload(path="board.json"):
    try:
        import json
        with open(path) as f:
            d = json.load(f)
    except Exception:  # noqa: BLE001 - any fault in the file is the App's to report
        d = None
    gc.collect()
    for name in modules(d):
        try:
            __import__("headroom_fw." + name)
        except ImportError:
            pass     # the App's own import says it, in its fault state
        gc.collect()
