"""Compile the firmware with mpy-cross: what flashing copies to the board.

    python -m headroom.mpy build/mpy

Every module of firmware/headroom_fw becomes .mpy (bytecode: the same file runs on
the Pico and on the MicroPython Unix port); main.py stays source, as MicroPython
runs main.py only from source. Each .mpy names its source relative to firmware/
(`-s headroom_fw/app.py`), so a traceback on the board shows that, not this
machine's paths. Compiled files are cached by the source's hash (and mpy-cross's
version and options) in the user's cache folder, so a flash compiles only what
changed.
"""
import hashlib
import os
import shutil
import subprocess
import sys

from .paths import FIRMWARE_DIR

ARCH = "-march=armv6m"


def mpy_cross():
    exe = os.path.join(os.path.dirname(sys.executable), "mpy-cross")
    return exe if os.path.exists(exe) else "mpy-cross"


# What goes on the board: boot.py, main.py and the headroom_fw package. Nothing else
# under firmware/ ships: manifest.py and package.json are for MicroPython's tools, and
# signals/ (headroom_signals: test signals and WAV playback) is a package of its own,
# with its own manifest.py, that nothing on the board imports.
SHIPPED = ("boot.py", "main.py", "headroom_fw")


def sources(src=FIRMWARE_DIR):
    """{path relative to firmware/: absolute path} of every file that goes on the board."""
    out = {}
    for top in SHIPPED:
        path = os.path.join(src, top)
        if top.endswith(".py"):
            if os.path.exists(path):
                out[top] = path
            continue
        for root, _dirs, files in os.walk(path):
            for f in sorted(files):
                if f.endswith(".py"):
                    p = os.path.join(root, f)
                    out[os.path.relpath(p, src)] = p
    return dict(sorted(out.items()))


# rp2 runs these by name, as source: boot.py after every reset, main.py after it.
AS_SOURCE = ("boot.py", "main.py")


def target(rel):
    """What a firmware file becomes on the board."""
    return rel if rel in AS_SOURCE else rel[:-3] + ".mpy"


def _version():
    try:
        from importlib import metadata
        return metadata.version("mpy_cross")
    except Exception:  # mpy-cross from the PATH, not from the venv
        return "?"


def cache_dir():
    from platformdirs import user_cache_dir
    return os.path.join(user_cache_dir("headroom"), "mpy")


def compile_one(rel, path, dest):
    """Compile firmware file `rel` into `dest` (raises CalledProcessError on a bad file)."""
    subprocess.run([mpy_cross(), ARCH, "-s", rel, "-o", dest, path], check=True,
                   capture_output=True, text=True)


def compiled(src=FIRMWARE_DIR, cache=None):
    """{board path: local file} of the firmware, compiled, from the cache where possible."""
    cache = cache or cache_dir()
    os.makedirs(cache, exist_ok=True)
    tag = ("%s %s" % (_version(), ARCH)).encode()
    out = {}
    for rel, path in sources(src).items():
        if rel in AS_SOURCE:
            out[rel] = path
            continue
        with open(path, "rb") as f:
            key = hashlib.sha256(tag + b"\0" + rel.encode() + b"\0" + f.read()).hexdigest()
        dest = os.path.join(cache, key + ".mpy")
        if not os.path.exists(dest):
            tmp = dest + ".%d.tmp" % os.getpid()
            compile_one(rel, path, tmp)
            os.replace(tmp, dest)
        out[target(rel)] = dest
    return out


def build(dest, src=FIRMWARE_DIR):
    """Compile src into dest; returns the files written. Raises CalledProcessError on a bad file."""
    written = []
    for rel, path in sources(src).items():
        out = os.path.join(dest, target(rel))
        os.makedirs(os.path.dirname(out), exist_ok=True)
        if rel in AS_SOURCE:
            shutil.copyfile(path, out)
        else:
            compile_one(rel, path, out)
        written.append(out)
    return written


# A Pico W board's web remote (a `wifi` section) adds its page, as it is (not a module:
# mpy-cross leaves it alone). Boards without WiFi do not get it.
PAGE = "headroom_fw/www/index.html"


def web_files(src=FIRMWARE_DIR):
    """{board path: local file} of what a board with `wifi` adds: the page."""
    return {PAGE: os.path.join(src, PAGE)}


def package_json(src=FIRMWARE_DIR):
    """firmware/package.json for `mpremote mip install`: every file flash installs (as source:
    mip installs .py), at the path flash gives it, with URLs relative to the file; and the
    firmware's version. A board's board.json is the user's, so it is not in the package."""
    import json
    ns = {}
    with open(os.path.join(src, "headroom_fw", "version.py")) as f:
        exec(f.read(), ns)
    urls = [[rel, rel] for rel in sorted(sources(src))]
    return json.dumps({"urls": urls, "deps": [], "version": ns["VERSION"]}, indent=2) + "\n"


def main(argv):
    if argv[:1] == ["--package"]:
        with open(os.path.join(FIRMWARE_DIR, "package.json"), "w") as f:
            f.write(package_json())
        print(os.path.join(FIRMWARE_DIR, "package.json"))
        return 0
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
