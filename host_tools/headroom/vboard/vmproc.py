"""One run of the MicroPython Unix port as the virtual board's MCU (CPython side).

The VM runs vm_boot.py: the firmware from the flash image on the simulated board, then
MicroPython's own REPL. Its stdin is a pipe from the supervisor, its stdout and stderr a
pipe to it; a side channel carries what the port's output cannot (ready, repl, reset,
watchdog feeds, block operations, the answers to input lines), and two more pipes carry
power cuts, flash faults and the control lines in. It dies with the supervisor, however
that dies (PR_SET_PDEATHSIG).
"""
import os
import signal
import subprocess
import sys
import time

from ..paths import FIRMWARE_DIR

HERE = os.path.dirname(os.path.abspath(__file__))
VM_BOOT = os.path.join(HERE, "vm_boot.py")
HEAP = "8M"


def micropython_path():
    p = os.path.join(os.path.dirname(sys.executable), "micropython")
    if os.path.exists(p):
        return p
    import shutil
    return shutil.which("micropython") or p


def _die_with_parent(parent):
    """A preexec_fn: the child gets SIGKILL when its parent dies (Linux's
    PR_SET_PDEATHSIG), and exits at once if the parent is gone already."""
    import ctypes
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        prctl = None

    def preexec():
        if prctl is not None:
            prctl(1, signal.SIGKILL, 0, 0, 0)   # 1: PR_SET_PDEATHSIG
        if os.getppid() != parent:              # died before the line above
            os._exit(1)
    return preexec


class VM:
    """One run of the MicroPython VM: stdin a pipe from us, stdout and stderr a pipe to us."""

    def __init__(self, board, image, mode, cause, trace=None, t0_us=0, state=None, levers=None,
                 web_port=None):
        self.mode = mode
        side_r, side_w = os.pipe()
        cut_r, self.cut = os.pipe()
        ctl_r, self.ctl = os.pipe()
        # The host's Ctrl-C while main.py runs (vmpipes.Interrupts). The read end is
        # non-blocking and shared: the VM inherits it (not reopened), and we keep it to
        # claim a Ctrl-C the VM has not taken (claim_interrupt): a byte goes to one reader.
        intr_r, self.intr = os.pipe()
        os.set_blocking(intr_r, False)
        self.intr_r = intr_r
        self.side = side_r
        os.set_blocking(side_r, False)
        args = [micropython_path(), "-X", "heapsize=" + HEAP, "-i", VM_BOOT,
                "image=" + image, "board=" + board, "mode=" + mode, "cause=" + cause,
                "side=%d" % side_w, "cut=%d" % cut_r, "ctl=%d" % ctl_r, "intr=%d" % intr_r,
                "t0=%d" % t0_us,
                "firmware=" + FIRMWARE_DIR]
        if trace:
            args.append("trace=" + trace)
        if state:
            args.append("state=" + state)
        if web_port:
            args.append("web=%d" % web_port)   # a Pico W: its page on this TCP port
        if levers:
            args.append("levers=" + ",".join("%s:%s" % kv for kv in sorted(levers.items())))
        # A session of its own: a Ctrl-C typed at the supervisor's terminal is not the VM's.
        # It dies with the supervisor: killed from run()'s finally on any exception or
        # signal, and by the kernel (PR_SET_PDEATHSIG) when the supervisor is SIGKILLed.
        self.proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, close_fds=True,
                                     pass_fds=(side_w, cut_r, ctl_r, intr_r),
                                     start_new_session=True, bufsize=0,
                                     preexec_fn=_die_with_parent(os.getpid()))
        for fd in (side_w, cut_r, ctl_r):
            os.close(fd)
        self.stdin = self.proc.stdin.fileno()
        self.stdout = self.proc.stdout.fileno()
        os.set_blocking(self.stdin, False)
        os.set_blocking(self.stdout, False)
        self.pidfd = os.pidfd_open(self.proc.pid)  # readable when the VM exits
        self.side_buf = b""
        self.ready = False        # "ready": the board is up, Ctrl-C may go in
        self.at_repl = False      # "repl": boot.py/main.py are done, the REPL's banner is next
        self.reset_cause = None   # "reset CAUSE": a hard reset
        self.soft = False         # "soft": SystemExit out of boot.py/main.py, a soft reset
        self.fatal = None         # "fatal ERROR": the VM could not set the board up
        self.formatted = False    # "formatted": the image did not mount and was formatted
        self.eof = False
        self.last_sigint = 0.0
        self.wdt_fed = None       # (when, ms left or None: stopped) of the latest "wdt ..."
        self.blocks = 0           # "b": flash block operations done
        self.intr_again = False   # "intr": a Ctrl-C landed in a block operation: again
        self.kbd_sent = None      # when a Ctrl-C went down `intr`, until "kbd": taken
        self.cut_happened = False  # "cut": power lost mid-operation
        self.off = False          # "off": the MCU stopped, its supply gone
        self.answers = []         # "input TAG ok|error WHY": (tag, None or the error)

    def arm_cut(self, n):
        """Lose power in the middle of the block operation after `n` more."""
        os.write(self.cut, bytes([n & 255, n >> 8 & 255, n >> 16 & 255, n >> 24 & 255]))

    def flash_fails(self, how):
        """From the next block operation on, the flash refuses every program and erase:
        `how` "full" (ENOSPC), "eio" (EIO), or None (it takes them again)."""
        os.write(self.cut, bytes([0, 0, 0, 0xF0 + (None, "full", "eio").index(how)]))

    def interrupt(self):
        """A Ctrl-C for main.py, in band (vmpipes.Interrupts): taken at the firmware's next
        sleep or call. False if the VM is gone."""
        try:
            os.write(self.intr, b"\x03")
        except OSError:
            return False
        self.kbd_sent = time.monotonic()
        return True

    def claim_interrupt(self):
        """Take back the Ctrl-C `interrupt` sent, if the VM has not taken it: True if
        it was still waiting (it is ours now: the VM can never raise it too), False if
        the VM took it first."""
        self.kbd_sent = None
        try:
            return len(os.read(self.intr_r, 16)) > 0
        except (BlockingIOError, OSError):
            return False

    def tell(self, line):
        """A line for the simulated board (vm.py's _Control); False if the VM is gone."""
        try:
            os.write(self.ctl, line.encode() + b"\n")
            return True
        except OSError:
            return False

    def sigint_caught(self):
        """True while code runs: the Unix port installs its SIGINT handler only then."""
        try:
            with open("/proc/%d/status" % self.proc.pid) as f:
                for line in f:
                    if line.startswith("SigCgt:"):
                        return bool(int(line.split()[1], 16) & (1 << (signal.SIGINT - 1)))
        except OSError:
            pass
        return False

    def read_side(self):
        while True:
            try:
                data = os.read(self.side, 4096)
            except BlockingIOError:
                break
            if not data:
                break
            self.side_buf += data
        while b"\n" in self.side_buf:
            line, self.side_buf = self.side_buf.split(b"\n", 1)
            m = line.decode("ascii", "replace")
            if m == "ready":
                self.ready = True
            elif m == "repl":
                self.at_repl = True
            elif m == "formatted":
                self.formatted = True
            elif m == "soft":
                self.soft = True
            elif m.startswith("reset "):
                self.reset_cause = m[6:]
            elif m.startswith("fatal "):
                self.fatal = m[6:]
            elif m == "wdt off":
                self.wdt_fed = (time.monotonic(), None)
            elif m.startswith("wdt "):
                self.wdt_fed = (time.monotonic(), int(m[4:]))
            elif m == "b":
                self.blocks += 1
            elif m == "intr":
                self.intr_again = True
            elif m == "kbd":
                self.kbd_sent = None
            elif m == "cut":
                self.cut_happened = True
            elif m == "off":
                self.off = True
            elif m.startswith("input "):
                tag, _, rest = m[6:].partition(" ")
                self.answers.append((tag, None if rest == "ok" else rest[6:]))

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()

    def close(self):
        """Idempotent: the supervisor's way out closes the VM again, whatever closed it
        before (a file descriptor closed twice could be another's by then)."""
        if getattr(self, "closed", False):
            return
        self.closed = True
        self.kill()
        for f in (self.proc.stdin, self.proc.stdout):
            try:
                f.close()
            except OSError:
                pass
        for fd in (self.side, self.pidfd, self.cut, self.ctl, self.intr, self.intr_r):
            try:
                os.close(fd)
            except OSError:
                pass
