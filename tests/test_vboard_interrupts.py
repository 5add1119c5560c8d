"""One Ctrl-C is one KeyboardInterrupt on the virtual board. While main.py runs, the
supervisor sends a Ctrl-C down a pipe the VM reads at the firmware's sleeps and calls
(vmpipes.Interrupts); if it is not taken in time it claims the byte back and sends a
SIGINT instead. Both read the same non-blocking pipe, so each Ctrl-C goes to exactly
one of them. Left to both (as before), a firmware interrupted by the SIGINT took the
pipe's Ctrl-C in the middle of its quieting, and the watchdog reset the board with the
setting unsaved (CI, test_flash)."""
import os
import random
import select
import subprocess
import time

import pytest

from headroom.vboard.vmproc import micropython_path

HERE = os.path.dirname(os.path.abspath(__file__))
HOST_TOOLS = os.path.join(os.path.dirname(HERE), "host_tools")


def test_a_ctrl_c_goes_to_the_vm_or_back_to_the_supervisor_never_both():
    try:
        vm = micropython_path()
    except Exception as e:  # no Unix port built
        pytest.skip("the MicroPython Unix port is not installed: %s" % e)
    r, w = os.pipe()
    os.set_blocking(r, False)
    p = subprocess.Popen([vm, os.path.join(HERE, "vm_interrupts.py"), HOST_TOOLS, str(r)],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=0,
                         pass_fds=(r,))
    rng = random.Random(7)
    sent = claimed = taken = 0

    got = [b""]

    def line():
        while b"\n" not in got[0]:
            ready, _, _ = select.select([p.stdout], [], [], 60)
            assert ready, "the VM stopped taking its Ctrl-Cs"
            got[0] += os.read(p.stdout.fileno(), 4096)
        one, got[0] = got[0].split(b"\n", 1)
        return one.decode().strip()

    try:
        assert line() == "ready"
        for i in range(400):
            os.write(w, b"\x03")
            sent += 1
            if i % 4 == 0:
                # Left to the VM: wait until it has taken every Ctrl-C not claimed back.
                while taken < sent - claimed:
                    assert line() == "k"
                    taken += 1
                continue
            time.sleep(rng.choice((0, 0, 20e-6, 100e-6)))   # a race, not a timing
            try:
                claimed += len(os.read(r, 16))
            except BlockingIOError:
                pass        # the VM took it
        p.stdin.write(b"end\n")
        p.stdin.flush()
        while True:
            out = line()
            if out.startswith("took"):
                break
            taken += 1
        p.wait(timeout=60)
    finally:
        if p.poll() is None:
            p.kill()
        os.close(r)
        os.close(w)
    took = int(out.split()[1])
    assert took == taken and took + claimed == sent, (took, taken, claimed, sent)
    assert took >= 100 and claimed > 0, (took, claimed)   # both sides won some
