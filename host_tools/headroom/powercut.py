"""Power cuts at every block operation of a settings save (the CPython side): runs
vboard/powercut.py on the MicroPython Unix port, in a folder of its own.

    python -m headroom.powercut BOARD [SAVES] [BOOT_EVERY]
"""
import json
import os
import subprocess
import sys
import tempfile

from .vboard.vmproc import micropython_path

SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "vboard", "powercut.py")


def run(board, saves=20, boot_every=8, broken=False, timeout=1800):
    """The harness's counts (dict): saves, ops, cut_points, corruptions, boots,
    violations, problems."""
    with tempfile.TemporaryDirectory(prefix="headroom-powercut-") as tmp:
        args = [micropython_path(), "-X", "heapsize=8M", SCRIPT, os.path.abspath(board), tmp,
                str(saves), str(boot_every)] + (["broken"] if broken else [])
        p = subprocess.run(args, capture_output=True, text=True, timeout=timeout)
    lines = [x for x in p.stdout.splitlines() if x.startswith("{")]
    if not lines:
        raise RuntimeError("powercut.py gave no result (exit %d): %s" % (
            p.returncode, (p.stdout + p.stderr)[-2000:]))
    return json.loads(lines[-1])


def main(argv):
    if not argv:
        print(__doc__)
        return 2
    out = run(argv[0], *[int(a) for a in argv[1:3]])
    print(json.dumps(out))
    return 1 if out["corruptions"] or out["violations"] or out["problems"] else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
