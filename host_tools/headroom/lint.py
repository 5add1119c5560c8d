"""`make lint`: type-check firmware/ against the rp2 port's stubs, and ruff on all Python.

mypy sees only what MicroPython on a Pico has: the stdlib of
micropython-stdlib-stubs as its typeshed, and machine/rp2/micropython/time from
micropython-rp2-rpi-pico-stubs. A call the rp2 port lacks, or with arguments it
does not take, is an error.
"""
import os
import subprocess
import sys
from importlib import metadata

from .sim.simboard import REPO_DIR

BUILD = os.path.join(REPO_DIR, "build", "lint")


def _link_distribution(name, dest, keep):
    dist = metadata.distribution(name)
    for f in dist.files or ():
        rel = str(f)
        if ".dist-info" in rel or not keep(rel):
            continue
        src = str(f.locate())
        out = os.path.join(dest, rel)
        os.makedirs(os.path.dirname(out), exist_ok=True)
        try:
            os.symlink(src, out)
        except FileExistsError:
            pass  # made by an earlier run (or a parallel test worker)


def stub_dirs():
    """(stubs dir for MYPYPATH, custom typeshed dir), built under build/lint."""
    stubs = os.path.join(BUILD, "stubs")
    typeshed = os.path.join(BUILD, "typeshed")
    _link_distribution("micropython-rp2-rpi-pico-stubs", stubs, lambda r: r.endswith(".pyi"))
    # A Pico W's own modules, for the web remote's (net.py, wifi.py): only they import them.
    _link_distribution("micropython-rp2-rpi-pico-w-stubs", stubs,
                       lambda r: r in ("network.pyi", "socket.pyi"))
    _link_distribution("micropython-stdlib-stubs", typeshed,
                       lambda r: r.startswith("stdlib/") or r.startswith("stubs/"))
    _link_distribution("micropython-stdlib-stubs", stubs, lambda r: r.startswith("_mpy_shed/"))
    return stubs, typeshed


def mypy_firmware(firmware_dir=None, capture=False):
    """mypy over firmware_dir (default firmware/); returns the CompletedProcess."""
    stubs, typeshed = stub_dirs()
    env = dict(os.environ, MYPYPATH=stubs)
    # Checks of other trees (tests) run in parallel: they get no cache to fight over.
    cache = os.path.join(BUILD, "mypy-cache") if firmware_dir is None else os.devnull
    cmd = [sys.executable, "-m", "mypy", "--custom-typeshed-dir", typeshed, "--no-site-packages",
           "--python-version", "3.11", "--cache-dir", cache,
           "--check-untyped-defs", "--config-file", os.path.join(REPO_DIR, "pyproject.toml"),
           "boot.py", "main.py", "headroom_fw", "signals/headroom_signals"]
    return subprocess.run(cmd, cwd=firmware_dir or os.path.join(REPO_DIR, "firmware"), env=env,
                          capture_output=capture, text=True)


def ruff():
    return subprocess.run([sys.executable, "-m", "ruff", "check", REPO_DIR]).returncode


def main():
    a = mypy_firmware().returncode
    b = ruff()
    return 1 if a or b else 0


if __name__ == "__main__":
    sys.exit(main())
