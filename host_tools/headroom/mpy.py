"""Compile the firmware with mpy-cross: what flashing copies to the board.

    python -m headroom.mpy build/mpy

Every module of firmware/headroom_fw becomes .mpy (bytecode: the same file runs on
the Pico and on the MicroPython Unix port); main.py stays source, as MicroPython
runs main.py only from source.
"""
import os
import shutil
import subprocess
import sys

from .sim.simboard import FIRMWARE_DIR


def mpy_cross():
    exe = os.path.join(os.path.dirname(sys.executable), "mpy-cross")
    return exe if os.path.exists(exe) else "mpy-cross"


def build(dest, src=FIRMWARE_DIR):
    """Compile src into dest; returns the files written. Raises CalledProcessError on a bad file."""
    written = []
    for root, _dirs, files in os.walk(src):
        for f in sorted(files):
            if not f.endswith(".py"):
                continue
            path = os.path.join(root, f)
            rel = os.path.relpath(path, src)
            os.makedirs(os.path.join(dest, os.path.dirname(rel)), exist_ok=True)
            if rel == "main.py":
                out = os.path.join(dest, rel)
                shutil.copyfile(path, out)
            else:
                out = os.path.join(dest, rel[:-3] + ".mpy")
                subprocess.run([mpy_cross(), "-march=armv6m", "-o", out, path], check=True,
                               capture_output=True, text=True)
            written.append(out)
    return written


def main(argv):
    dest = argv[0] if argv else "build/mpy"
    if os.path.isdir(dest):
        shutil.rmtree(dest)
    try:
        files = build(dest)
    except subprocess.CalledProcessError as e:
        print("mpy-cross failed: %s" % (e.stderr or e), file=sys.stderr)
        return 1
    for f in files:
        print(f)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
