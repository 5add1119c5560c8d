"""The virtual board's supervisor (CPython): the serial port's pseudo-terminal, and the VM's life.

    python -m headroom.vboard --board boards/pico-se.json [--image FILE] [--trace FILE]

The first line of output is the path of the board's USB serial port (a link to a
pseudo-terminal), the second the path of its control socket, and on a Pico W board (a
`wifi` section) the third its web remote's URL on 127.0.0.1 (launch.py chooses the port,
every VM of the board serves the page there: vm.py, vmsocket.py). Behind the port runs the
MicroPython Unix port (vm_boot.py, vm.py): the firmware from the flash image on the
simulated board, then MicroPython's own REPL (friendly, raw, raw-paste). Runs until
SIGINT or SIGTERM. SIGUSR1 cuts the power and turns it back on: the VM is killed
wherever it is, mid-write included, and the image holds what the flash would.

- **The port drops off USB.** At a hard reset or a power cycle the port goes away, as
  a Pico's does: the pseudo-terminal is closed (whoever has it open reads end of file:
  pyserial's "device disconnected"), the link is removed, and a new pseudo-terminal
  appears under the same link once the new VM is up. Nothing sent meanwhile arrives.
- **The control socket** takes one command per line and answers `ok` or `error: ...`:
  `power off`, `power on`, `power cycle` (the supply, with the board's supply monitor
  and hold-up: the firmware sees its supply fail), and `cut after N blocks` (power is
  lost in the middle of the flash block operation after N more: a program or erase of
  the image, as littlefs does them; the power comes back 0.1 s later), and `fault flash
  full|eio|ok` (every program and erase of the image is refused with ENOSPC or EIO, from
  the next one on and across restarts, until `ok`; at the REPL too). And a person's
  inputs, the scenario language's lines (inputs.py: `turn +5 at 20/s`, `press`,
  `hold 1000`, `switch gain high`, `wait MS`), run by the VM on the simulated board
  while the firmware runs, one after another, each answered once it is over.

What the supervisor does between the pseudo-terminal and the VM:

- **Input, as the board's USB receive buffer.** The VM reads a pipe, not a terminal:
  the Unix port switches a terminal's modes with TCSAFLUSH, which would throw away
  input sent ahead (mpremote sends "\\r\\x01" right behind "\\r\\x03"); a pipe keeps
  every byte, in order, as the board's buffer does.
- **Ctrl-C, as the board's interrupt character.** While main.py runs, it goes down a
  pipe of its own and the VM raises KeyboardInterrupt at the firmware's next sleep or
  call into `machine` (vmpipes.Interrupts), never inside the simulator's own code (on the
  board that code is C and hardware); what the host sent after it waits until the VM
  has taken it, and a firmware that neither sleeps nor calls gets a SIGINT after
  INBAND_WAIT_S instead (the byte claimed back from the pipe first: one Ctrl-C is one
  KeyboardInterrupt, never two). While code runs at the REPL (the VM has its SIGINT handler
  installed: /proc/PID/status), a Ctrl-C becomes SIGINT, a KeyboardInterrupt in the
  VM, and is not passed on; while the REPL reads, it is an ordinary byte (the raw REPL
  and readline take it as such). Not before the VM is up,
  and not in the middle of a flash operation: one that lands there waits for it to
  finish (blockdev.Unbroken; raised at the firmware's next call, or at the REPL sent
  again: "intr"), as rp2's C flash driver finishes first.
- **Soft reset.** On the board Ctrl-D (friendly REPL, or raw REPL with nothing to
  run) soft-resets; the Unix port exits instead. The supervisor starts a fresh VM on
  the same image and prints "MPY: soft reboot" as rp2 does. After a soft reset from
  the raw REPL (what mpremote does before its first command) the new VM skips
  main.py and is put back in the raw REPL, its friendly banner unseen, as rp2 does.
- **Hard reset.** machine.reset() and the watchdog end the VM (no "soft reboot"
  line); the new VM boots main.py, with machine.reset_cause() telling why. The port
  drops off USB meanwhile (above).
- **The watchdog.** Once code starts machine.WDT, the RP2040 resets unless it is fed,
  even after Ctrl-C and across soft resets (rp2 never stops it), until WATCHDOG_CTRL's
  ENABLE bit is cleared (machine.mem32: the Headroom firmware does it on Ctrl-C). The
  VM reports feeds and stops; the supervisor, which outlives the VM, keeps the count
  in wall time (--lenient-watchdog: the watchdog stops with whatever code stops). While
  main.py runs, the VM's simulated RP2040 counts it on the board's own clock, which a
  loaded machine slows below wall time, and resets by itself; the supervisor's count
  is then only a backstop (RUNNING_BACKSTOP_S more) for a VM whose clock stopped.
- **Output.** "\\n" becomes "\\r\\n" (rp2 cooks print output, the Unix port leaves it
  to a terminal), except after mpremote mount's binary protocol starts (replout.py).
  Output is dropped while nothing has the pseudo-terminal open, as rp2 drops it with
  no USB host listening.

Linux only (pseudo-terminals, pidfd, /proc/PID/status).
"""

import os
import select
import signal
import sys
import tempfile
import time

from ..ptyport import PtyPort
from .claims import load_board
from .replout import FRIENDLY, RAW, ReplOutput
from .vmproc import VM

_MAX_QUEUE = 1 << 20
USB_DETACH_S = 0.1
RUNNING_BACKSTOP_S = 20.0   # the wall-time watchdog's allowance while main.py runs
INBAND_WAIT_S = 3.0         # a Ctrl-C main.py has not taken by then comes as SIGINT


def _cut(text, n=200):
    """A text as a message quotes it: at most `n` characters (a line can be megabytes)."""
    return text if len(text) <= n else "%s... (%d characters)" % (text[:n], len(text))


class Supervisor:
    def __init__(self, board, image, port_link, control_path=None, trace=None, log=None,
                 board_watchdog=True, web_port=None):
        self.board_watchdog = board_watchdog
        self.web_port = web_port    # a Pico W: the TCP port on 127.0.0.1 its page is served on
        self.board_file = load_board(board)   # which switches it has, for the inputs
        self.wdt_deadline = None    # the RP2040 watchdog: reset at this time.monotonic()
        self.wdt_hold = None        # since when a starting VM holds it
        self.board = board
        self.image = image
        self.trace = trace
        self.log = log or (lambda msg: print("virtual-board: " + msg, file=sys.stderr, flush=True))
        self.path = port_link       # where hosts open the port: a link to the current pty
        # What a soft reset keeps (pins, chip states), from one VM to the next
        self.state_dir = tempfile.mkdtemp(prefix="headroom-vboard-state-")
        self.state = os.path.join(self.state_dir, "soft-reset.json")
        import atexit
        import shutil
        atexit.register(shutil.rmtree, self.state_dir, True)
        self.port = PtyPort(port_link)
        self.plug_in()
        self.control = None
        if control_path:
            from headroom.linesock import LineServer
            self.control = LineServer(control_path, self._control_line)
        self.started = time.monotonic()
        self.powered = True
        self.cut_left = None        # block operations until the armed power cut
        self.flash_fail = None      # `fault flash full|eio`: kept across the VM's restarts
        self.usb_back = False       # plug the port in again once the new VM is up
        self.inq = bytearray()      # received from the host, not yet given to the VM
        self.outq = bytearray()     # for the host, not yet written
        self.out = ReplOutput()     # rp2's manners on the VM's output
        self.vm = None
        self.stop = False
        self.status = 0
        self.power_cycle = False
        self.quick_exits = 0
        self.inputs = {}            # tag -> (the control client waiting for it, the VM running it)
        self.levers = {}            # the switches' positions a person set (gain, output): a
                                    # lever stays where it is across a reset or a power cycle
        self.tags = 0
        debug = os.environ.get("VBOARD_DEBUG")
        self.debug = open(debug, "a") if debug else None  # every byte in and out, with times
        self.wake_r, self.wake_w = os.pipe()  # signal.set_wakeup_fd: a signal ends the poll
        os.set_blocking(self.wake_r, False)
        os.set_blocking(self.wake_w, False)

    def dbg(self, what, data):
        if self.debug:
            self.debug.write("%.6f %s %r\n" % (time.monotonic(), what, data))
            self.debug.flush()

    # ---- the VM's life
    def start_vm(self, mode, cause="power-on"):
        t0 = int((time.monotonic() - self.started) * 1e6) if self.vm is not None else 0
        self.vm = VM(self.board, self.image, mode, cause, self.trace, t0, self.state,
                     self.levers, self.web_port)
        if self.cut_left is not None:
            self.vm.arm_cut(self.cut_left)
        if self.flash_fail is not None:
            self.vm.flash_fails(self.flash_fail)
        self.out.new_vm(mode)
        if mode == RAW:
            # The new VM starts at its friendly prompt; the board would be in the raw REPL.
            # Ctrl-A goes ahead of anything the host sends (the pipe keeps it for the REPL).
            self.write_vm(b"\x01")

    def vm_ended(self):
        """The VM exited or was killed: restart it the way the board restarts."""
        vm = self.vm
        vm.read_side()
        while self.pump_vm_output():
            pass
        vm.close()
        self.settle_inputs(vm, "the board restarted (power, reset) before the input was over")
        rc = vm.proc.returncode
        if vm.formatted:
            self.log("the image did not mount: formatted (as rp2's _boot.py does)")
        if self.cut_left is not None:
            self.cut_left = max(self.cut_left - vm.blocks, 0)
        if vm.cut_happened:
            self.cut_left = None
            self.log("power cut in the middle of a flash block operation")
            self.power_cycle = True
        if self.stop:
            return
        if vm.off and not self.power_cycle:
            # The supply is off: the board is dead until `power on`.
            self.unplug()
            self.inq.clear()
            self.wdt_deadline = None
            self.vm = None
            self.log("power off")
            return
        if self.power_cycle or vm.reset_cause is not None:
            # A hard reset or a power cycle: the USB device goes away and comes back once
            # the new VM is up; what the host sent is lost. main.py runs, no "soft
            # reboot" line. The watchdog is off again until the firmware starts it. A host
            # notices a USB device gone a little after it went (the next frames fail): a
            # program closing the port right after the reset it asked for still can.
            time.sleep(USB_DETACH_S)
            self.unplug()
            self.inq.clear()
            self.wdt_deadline = None
            if self.power_cycle:
                self.power_cycle = False
                self.log("power cycle")
                time.sleep(0.1)
                self.start_vm(FRIENDLY, "power-on")
            else:
                self.start_vm(FRIENDLY, vm.reset_cause)
            return
        if rc is not None and rc < 0 and -rc != signal.SIGKILL:
            self.log("the VM died (signal %d); restarting it" % -rc)
        if not vm.ready:
            self.quick_exits += 1
            if self.quick_exits >= 3:
                self.log("the VM keeps failing to boot (exit status %s); retrying in 1 s" % rc)
                time.sleep(1.0)
        else:
            self.quick_exits = 0
        self.send_host(b"MPY: soft reboot\r\n")
        # a soft reset: the pins keep driving and the chips keep their state (the VM that
        # ended wrote them down; one that died without doing so starts as from power-on)
        self.start_vm(RAW if self.out.mode == RAW else FRIENDLY, "soft")

    # ---- the port: plugged in while the board's USB is up
    def plug_in(self):
        """A new pseudo-terminal behind the port's link, as a board appearing on USB."""
        self.port.plug_in()
        self.usb_back = False

    def unplug(self):
        """The board drops off USB: whoever has the port reads end of file, the link goes."""
        self.outq.clear()
        self.port.unplug()
        self.usb_back = True

    def power_off(self):
        """The supply goes off: the firmware sees its supply monitor fall (if the board
        has one) and the MCU stops after the hold-up time."""
        if not self.powered:
            return
        self.powered = False
        vm = self.vm
        # At its REPL nothing on the board reads the supply (the VM takes control lines
        # only between the firmware's passes), and nothing runs in the hold-up time to
        # wait for: the MCU just stops.
        if vm is not None and not vm.at_repl and vm.tell("power off"):
            # The VM runs the hold-up time and says `off`; the limit only guards against a
            # VM that hangs (a loaded machine takes well under a second).
            deadline = time.monotonic() + 20
            while vm.proc.poll() is None and not vm.off and time.monotonic() < deadline:
                vm.read_side()
                time.sleep(0.005)
        if vm is not None:
            vm.off = True
            vm.kill()
            self.settle_inputs(vm, "the power went off before the input was over")
        # no supply, no USB: the port is gone before the command is answered
        self.unplug()

    def power_on(self):
        if self.powered:
            return
        self.powered = True
        if self.vm is None:
            self.start_vm(FRIENDLY, "power-on")

    # ---- output: VM -> host
    def send_host(self, data):
        self.outq += data
        if len(self.outq) > _MAX_QUEUE:
            del self.outq[:len(self.outq) - _MAX_QUEUE]

    def from_vm(self, data):
        self.dbg("vm>", data)
        self.send_host(self.out.take(data, self.vm.at_repl))

    def pump_vm_output(self):
        """Read what the VM wrote; False when there is nothing (more) to read."""
        vm = self.vm
        # The VM sends a side message before the output it is about ("repl" before the
        # banner): read the side channel first, so that the two are taken in order.
        vm.read_side()
        if vm.eof:
            return False
        try:
            data = os.read(vm.stdout, 65536)
        except BlockingIOError:
            return False
        if not data:
            vm.eof = True
            return False
        self.from_vm(data)
        return True

    def flush_host(self):
        if not self.outq:
            return
        if not self.port.host_connected():
            self.outq.clear()  # nobody listening: rp2 drops its output too
            return
        self.port.keep_echo_off()
        n = self.port.write(self.outq)
        if n is None:  # the host closed it just now
            self.outq.clear()
            return
        del self.outq[:n]

    # ---- input: host -> VM
    def read_host(self):
        data = self.port.read()
        if not data:  # nothing waiting, or nobody has the port open
            return
        self.dbg("host>", data)
        self.inq += data
        if len(self.inq) > _MAX_QUEUE:
            del self.inq[:len(self.inq) - _MAX_QUEUE]

    def feed_vm(self):
        """Pass the host's bytes on, Ctrl-C as the interrupt character; returns a poll timeout (ms)."""
        vm = self.vm
        if vm.eof or vm.reset_cause is not None or vm.soft or vm.fatal is not None:
            return None
        if vm.intr_again:   # it landed in a flash operation, which finished first (vm.Unbroken)
            vm.intr_again = False
            self.log("a Ctrl-C landed in a flash operation at the REPL: sent again")
            self.inq[0:0] = b"\x03"
        if vm.kbd_sent is not None:
            # What follows a Ctrl-C waits until main.py has taken it: on rp2 the
            # KeyboardInterrupt comes before the firmware could read another byte.
            if vm.at_repl:
                vm.kbd_sent = None
            elif time.monotonic() - vm.kbd_sent < INBAND_WAIT_S:
                return 10
            else:
                # Code that makes no call and never sleeps (a loop in pure Python): as
                # rp2 would, interrupt it wherever it is. The Ctrl-C is claimed back
                # first, so that it is one interrupt, never two: left in the pipe, it
                # would cut short the quieting the SIGINT's KeyboardInterrupt starts.
                if vm.claim_interrupt():
                    if vm.sigint_caught():
                        self.log("main.py took no Ctrl-C for %.1f s: sent as SIGINT" % INBAND_WAIT_S)
                        os.kill(vm.proc.pid, signal.SIGINT)
                    else:   # no code runs: the REPL is next, and reads it as a character
                        self.inq[0:0] = b"\x03"
                        return 10
        while self.inq:
            i = self.inq.find(b"\x03")
            if i != 0:
                chunk = self.inq if i < 0 else self.inq[:i]
                n = self.write_vm(bytes(chunk))
                del self.inq[:n]
                if n < len(chunk):
                    return 20  # the pipe is full: the VM is not reading
                continue
            # Ctrl-C. Not while the VM sets the board up: that is not interruptible.
            if not vm.ready:
                return 10
            if not vm.at_repl:
                # main.py runs: in band, taken at its next sleep or call (vmpipes.Interrupts)
                del self.inq[0]
                self.dbg("Ctrl-C in band", b"")
                if vm.interrupt():
                    return 10
                return None
            if vm.sigint_caught():
                now = time.monotonic()
                if now - vm.last_sigint < 0.05:
                    return 10  # one at a time: let the VM take the last one first
                vm.last_sigint = now
                del self.inq[0]
                self.dbg("SIGINT", b"")
                os.kill(vm.proc.pid, signal.SIGINT)
            elif self.write_vm(b"\x03"):  # the REPL reads: Ctrl-C is a character
                del self.inq[0]
            else:
                return 20
        return None

    def write_vm(self, data):
        try:
            n = os.write(self.vm.stdin, data)
        except BlockingIOError:
            return 0
        except BrokenPipeError:  # the VM is ending
            return len(data)
        self.dbg(">vm", data[:n])
        return n

    def watchdog(self):
        """The RP2040's watchdog, in wall time: it outlives the VM (soft resets), as on the
        board, until the firmware clears its ENABLE bit ("wdt off"). Returns the poll timeout
        (ms) until it would bite."""
        vm = self.vm
        if vm.wdt_fed is not None:
            t, ms = vm.wdt_fed
            vm.wdt_fed = None
            if ms is None:                 # WATCHDOG_CTRL.ENABLE cleared: it stopped
                self.wdt_deadline = None
                self.wdt_hold = None
            elif self.board_watchdog:
                self.wdt_deadline = t + ms / 1000 + 0.05  # fed up to 50 ms after it was told
        if self.wdt_deadline is None or vm.reset_cause is not None:
            return None
        # A VM starting up is the board's soft reset, some 10 ms on an RP2040 but seconds
        # here on a loaded machine: the watchdog does not count it.
        if not vm.ready:
            if self.wdt_hold is None:
                self.wdt_hold = time.monotonic()
            return None
        if self.wdt_hold is not None:
            self.wdt_deadline += time.monotonic() - self.wdt_hold
            self.wdt_hold = None
        left = self.wdt_deadline - time.monotonic()
        if not vm.at_repl:
            # main.py runs: the VM's simulated RP2040 counts the watchdog on the board's
            # own clock and resets by itself ("reset watchdog"). That clock falls behind
            # wall time on a loaded machine (the VM waits for a CPU), where a wall-time
            # count would bite a firmware that fed it on time. Here only a backstop, for
            # a VM whose clock stopped (code that makes no call the clock is moved by).
            left += RUNNING_BACKSTOP_S
        if left > 0:
            return int(left * 1000) + 1
        self.log("watchdog reset: the firmware's machine.WDT was not fed")
        vm.reset_cause = "watchdog"
        return 0

    # ---- the loop
    def run(self):
        self.start_vm(FRIENDLY)
        while not self.stop:
            vm = self.vm
            if vm is None:  # powered off: only the control socket and signals matter
                self.wait([], None)
                if self.power_cycle:
                    self.power_cycle = False
                    self.power_on()
                continue
            if self.usb_back and vm.ready:
                self.plug_in()  # the new VM is up: the board is back on USB
            wdt_timeout = self.watchdog()
            if self.power_cycle:
                vm.kill()
            if vm.reset_cause is not None or vm.soft or vm.cut_happened or vm.off:
                vm.kill()
            if vm.fatal is not None:
                self.log("the VM could not set the board up: %s" % vm.fatal)
                self.status = 1
                break
            timeout = self.feed_vm()
            if wdt_timeout is not None:
                timeout = wdt_timeout if timeout is None else min(timeout, wdt_timeout)
            regs = []
            if self.port.host_connected():
                regs.append((self.port.master, select.POLLIN | (select.POLLOUT if self.outq else 0)))
            else:
                self.outq.clear()
                timeout = 100 if timeout is None else min(timeout, 100)
            if self.usb_back:
                timeout = 10 if timeout is None else min(timeout, 10)
            if len(self.outq) < 1 << 16 and not vm.eof:
                regs.append((vm.stdout, select.POLLIN))
            regs += [(vm.side, select.POLLIN), (vm.pidfd, select.POLLIN)]
            if vm.proc.poll() is not None:
                timeout = 0
            for fd, ev in self.wait(regs, timeout):
                if fd == self.port.master:
                    if ev & select.POLLIN:
                        self.read_host()
                elif fd == vm.stdout:
                    self.pump_vm_output()
                elif fd == vm.side:
                    vm.read_side()
            self.flush_host()
            if vm.answers or (vm.at_repl and self.inputs):
                self.settle_inputs(vm, "the firmware stopped (the board is at its REPL) "
                                       "before the input was over")
            if self.vm is vm and vm.proc.poll() is not None:
                self.vm_ended()
                self.flush_host()
        if self.vm is not None:
            self.vm.close()
        self.unplug()
        if self.control is not None:
            self.control.close()
        for fd in (self.wake_r, self.wake_w):
            os.close(fd)

    def wait(self, regs, timeout):
        """poll() on `regs` (fd, events), the control socket and the signal pipe; returns the
        events of `regs` (the others are handled here)."""
        p = select.poll()
        for fd, ev in regs:
            p.register(fd, ev)
        p.register(self.wake_r, select.POLLIN)
        if self.control is not None:
            for fd in self.control.fds():
                p.register(fd, select.POLLIN)
        try:
            events = p.poll(timeout)
        except InterruptedError:
            events = []
        out = []
        for fd, ev in events:
            if fd == self.wake_r:
                try:
                    os.read(self.wake_r, 512)
                except BlockingIOError:
                    pass
            elif self.control is not None and self.control.owns(fd):
                self.control.readable(fd)
            else:
                out.append((fd, ev))
        return out

    # ---- control commands (the control socket's lines)
    def _control_line(self, client, line):
        try:
            answer = self.command(line, client)
        except Exception as e:  # noqa: BLE001 - no line may take the board down
            self.log("control line %r failed: %s: %s" % (_cut(line), type(e).__name__, _cut(str(e))))
            answer = "error: %s" % _cut(str(e) or type(e).__name__)
        if answer is not None:
            self.control.answer(client, answer)

    def command(self, line, client=None):
        """Run one control line; returns the answer line, or None for an input passed to the
        VM (answered once it is over: settle_inputs)."""
        t = line.split()
        if t == ["power", "cycle"]:
            if self.vm is not None:
                self.power_cycle = True
            else:
                self.power_on()
            return "ok"
        if len(t) == 4 and t[:2] == ["cut", "after"] and t[3] in ("block", "blocks"):
            if not t[2].isdigit() or int(t[2]) >= 1 << 24:
                return "error: cut after N blocks: N must be a whole number below 16777216"
            n = int(t[2])
            self.cut_left = n
            if self.vm is not None:
                self.vm.blocks = 0
                self.vm.arm_cut(n)
            return "ok"
        from .inputs import InputError, parse
        try:
            step = parse(line, self.board_file, also="; and cut after N blocks")
        except InputError as e:
            return "error: %s" % e
        if step.op == "power":
            if step.args[0]:
                self.power_on()
            else:
                self.power_off()
            return "ok"
        if step.op == "fault":   # the flash: the image's, so the supervisor's (all VMs)
            self.flash_fail = step.args[1]
            if self.vm is not None:
                self.vm.flash_fails(self.flash_fail)
            return "ok"
        vm = self.vm
        if vm is None:
            return "error: the board is off (power on first)"
        if vm.at_repl:
            return ("error: the firmware is not running (the board is at its REPL): inputs "
                    "reach the board while its main.py runs")
        self.tags += 1
        tag = str(self.tags)
        if not vm.tell("input %s %s" % (tag, " ".join(t))):
            return "error: the board is restarting: try again"
        if step.op == "switch":
            self.levers[step.args[0]] = step.args[1]
        self.inputs[tag] = (client, vm)
        return None

    def settle_inputs(self, vm, lost):
        """Answer the inputs `vm` has finished; the rest, when it stopped running them
        (at its REPL, or gone), with `lost`."""
        for tag, error in vm.answers:
            entry = self.inputs.pop(tag, None)
            if entry is not None and entry[0] is not None:
                self.control.answer(entry[0], "ok" if error is None else "error: " + error)
        vm.answers = []
        if vm.at_repl or vm.proc.poll() is not None or vm.off:
            for tag, (client, owner) in list(self.inputs.items()):
                if owner is vm:
                    del self.inputs[tag]
                    if client is not None:
                        self.control.answer(client, "error: " + lost)
