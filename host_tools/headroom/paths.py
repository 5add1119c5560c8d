"""Where the host tools find the firmware, the board files and the example scenarios.

In a source checkout (`make`'s editable install, `python -m headroom` from the tree) they
are the checkout's own folders, firmware/, boards/ and tests/scenarios/; in an installed
package (`pip install ./host_tools`) the copies its build shipped as package data,
headroom/_data/ (host_tools/setup.py copies the files `shipped` names). `data(name)` is the
one lookup; the rest of the package asks it, never the layout.

Standard library only: setup.py loads this file by path, before the package is built.
"""
import os

HERE = os.path.dirname(os.path.abspath(__file__))
CHECKOUT = os.path.dirname(os.path.dirname(HERE))   # host_tools/headroom -> the repository
SHIPPED = os.path.join(HERE, "_data")

# name: (folder in the checkout, the file endings shipped from it, recursively)
FOLDERS = {
    "firmware": ("firmware", (".py", ".json")),
    "boards": ("boards", (".json",)),
    "scenarios": (os.path.join("tests", "scenarios"), (".scn",)),
}


def in_checkout(root=CHECKOUT):
    """True when `root` is a Headroom source checkout (its firmware beside host_tools)."""
    return (os.path.isfile(os.path.join(root, "firmware", "main.py"))
            and os.path.isdir(os.path.join(root, "host_tools", "headroom")))


def data(name):
    """The folder `name` (firmware, boards, scenarios): the checkout's when this package
    runs from one, else the installed copy."""
    rel, _ = FOLDERS[name]
    if in_checkout():
        return os.path.join(CHECKOUT, rel)
    return os.path.join(SHIPPED, name)


def shipped(root=CHECKOUT):
    """Every file the package ships, as (source path, path under headroom/_data), from the
    checkout at `root`: the firmware's Python and JSON (what flash, uf2 and mpy install),
    the board files, the example scenarios (`headroom sim`'s default script)."""
    out = []
    for name, (rel, endings) in sorted(FOLDERS.items()):
        top = os.path.join(root, rel)
        for folder, dirs, files in os.walk(top):
            dirs[:] = sorted(d for d in dirs if d != "__pycache__")
            for f in sorted(files):
                if f.endswith(endings):
                    src = os.path.join(folder, f)
                    out.append((src, os.path.join(name, os.path.relpath(src, top))))
    return out


def firmware_version(root=CHECKOUT):
    """The firmware's version (firmware/headroom_fw/version.py), which is the package's:
    one version for the firmware and the host tools."""
    import re
    for base in (os.path.join(root, "firmware"), os.path.join(SHIPPED, "firmware")):
        path = os.path.join(base, "headroom_fw", "version.py")
        if os.path.isfile(path):
            with open(path) as f:
                m = re.search(r'^VERSION = "([^"]+)"', f.read(), re.M)
            if m:
                return m.group(1)
    raise RuntimeError("no firmware/headroom_fw/version.py beside host_tools")


FIRMWARE_DIR = data("firmware")
BOARDS_DIR = data("boards")
SCENARIOS_DIR = data("scenarios")
DEFAULT_BOARD = os.path.join(BOARDS_DIR, "pico-se.json")
