"""The virtual board (`python -m headroom.vboard`): the firmware on the simulated board behind a
pseudo-terminal that behaves like the Pico's USB serial port, driven with the real mpremote.

No test here waits for a guessed duration: each waits for an event (a reply, a line on
stderr, a prompt), bounded by a generous time-out that only a hang reaches.

- the pty's path is the first line of output; mpremote's fs ls / cp both ways / sha256sum /
  mkdir / exec / soft-reset / mount work on it, and what it wrote is in the littlefs image
  (read back with littlefs-python, a separate littlefs implementation);
- the image keeps its files from one run to the next;
- the REPL's framing is the board's: raw REPL, soft reset from the raw REPL (no main.py,
  back in the raw REPL) and from the friendly REPL (main.py runs);
- the firmware copied into the image boots on a soft reset, answers the control protocol,
  runs on the virtual clock in step with wall time, stops on Ctrl-C with a
  KeyboardInterrupt and gives the REPL back with its watchdog stopped (the REPL and a
  soft reset's raw REPL are the user's); `mpremote reset` (machine.reset) boots it again;
- a power cut in the middle of a copy (at a block operation counted by the image's own block
  device, so mid-file however fast the machine) leaves an image that mounts, with the
  earlier files whole;
- the port drops off at a reset and comes back once the board is up, as a Pico's does;
- the MicroPython-side PIO engine counts exactly as the rp2040-pio-emulator one.
"""
import glob
import hashlib
import json
import os
import random
import select
import signal
import subprocess
import sys
import time

import pytest

from headroom.vboard.blockdev import BLOCK_COUNT, BLOCK_SIZE, IMAGE_BYTES

from helpers import SE

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MPREMOTE = os.path.join(os.path.dirname(sys.executable), "mpremote")

needs_tools = pytest.mark.skipif(
    not os.path.exists(MPREMOTE) or not sys.platform.startswith("linux"),
    reason="the virtual board tests need mpremote in the venv (pip install mpremote==1.29.0) "
           "and Linux pseudo-terminals")


STARTED = []   # every VBoard of the test running now: its log goes into a failure's report


class VBoard:
    """A running `python -m headroom.vboard`, and mpremote on its port."""

    def __init__(self, image, board=SE, args=()):
        """`args`: more options, e.g. ["--lenient-watchdog"]."""
        self.image = str(image)
        self.started = time.monotonic()
        self.proc = subprocess.Popen([sys.executable, "-m", "headroom.vboard", "--board", board,
                                      "--image", self.image] + list(args),
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        r, _, _ = select.select([self.proc.stdout], [], [], 30)
        assert r, "no first line from the virtual board"
        self.path = self.proc.stdout.readline().decode().strip()
        self.control_path = self.proc.stdout.readline().decode().strip()
        if not os.path.islink(self.path):
            self.proc.wait(10)
            raise AssertionError("no port: %r %s" % (self.path, self.proc.stderr.read()))
        self.err = b""
        self.log = None   # its stderr once stopped
        os.set_blocking(self.proc.stderr.fileno(), False)
        STARTED.append(self)

    def control(self, line):
        """One line to the control socket; its answer."""
        import socket
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(30)
            s.connect(self.control_path)
            s.sendall(line.encode() + b"\n")
            data = b""
            while not data.endswith(b"\n"):
                chunk = s.recv(4096)
                assert chunk, "the control socket closed"
                data += chunk
        return data.decode().strip()

    def wait_port(self, timeout=30):
        """Wait until the port is there (the board on USB: an event, a file appearing)."""
        end = time.monotonic() + timeout
        while not os.path.exists(self.path):
            assert time.monotonic() < end, "the port never came back"
            time.sleep(0.02)

    def wait_stderr(self, text, timeout=60, count=1):
        """Wait until the virtual board has logged `text` `count` times (an event, not a
        duration)."""
        end = time.monotonic() + timeout
        while True:
            try:
                self.err += self.proc.stderr.read() or b""
            except (BlockingIOError, TypeError):
                pass
            if self.err.count(text.encode()) >= count:
                return
            assert time.monotonic() < end, "virtual board never said %r: %s" % (text, self.err)
            select.select([self.proc.stderr], [], [], 0.5)

    def log_so_far(self):
        """What it has logged: all of it once stopped, else what it has said so far."""
        if self.log is not None:
            return self.log
        try:
            self.err += self.proc.stderr.read() or b""
        except (BlockingIOError, TypeError, ValueError):
            pass
        return self.err.decode(errors="replace")

    def mpremote(self, *args, timeout=30, check=True):
        p = subprocess.run([MPREMOTE, "connect", self.path] + list(args), capture_output=True,
                           timeout=timeout)
        if check:
            assert p.returncode == 0, (args, p.stdout, p.stderr)
        return p.stdout.decode()

    def serial(self):
        import serial
        return serial.Serial(self.path, timeout=0.1)

    def stop(self):
        """Stop it (SIGINT); its stderr."""
        if self.proc.stderr.closed:
            return ""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        os.set_blocking(self.proc.stderr.fileno(), True)
        err = (self.err + self.proc.stderr.read()).decode()
        self.proc.stdout.close()
        self.proc.stderr.close()
        self.log = err
        return err


@pytest.fixture
def vboard(tmp_path):
    boards = []

    def start(image=None):
        b = VBoard(image or tmp_path / "flash.img")
        boards.append(b)
        return b

    yield start
    for b in boards:
        b.stop()


def read_until(ser, ending, timeout=10):
    data = b""
    end = time.monotonic() + timeout
    while not data.endswith(ending) and time.monotonic() < end:
        data += ser.read(1)
    return data


def lfs(image):
    """The image mounted with littlefs-python (a mount that fails raises: no silent format)."""
    import littlefs
    fs = littlefs.LittleFS(block_size=BLOCK_SIZE, block_count=BLOCK_COUNT, mount=False)
    with open(image, "rb") as f:
        fs.context.buffer = bytearray(f.read())
    fs.mount()
    return fs


def ask_status(ser, timeout=5):
    """The firmware's reply to the control protocol's `status` on an open port (other lines
    skipped), asked again every second."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        ser.write(b"status\n")
        line = read_until(ser, b"\n", 1.0).strip()
        if line.startswith(b"{") and b'"volume"' in line:
            return json.loads(line)
    return None


def status(b, timeout=30, until=lambda s: True):
    """The firmware's `status`, through the host tools' own Board (which waits for a port
    that is away while the board resets, and asks again), once `until(status)` holds."""
    from headroom.control import Board
    end = time.monotonic() + timeout
    board = Board(b.path, wait_s=timeout)
    try:
        while True:
            s = board.request("status", timeout=timeout, resend_s=1.0)
            if until(s) or time.monotonic() > end:
                return s
            time.sleep(0.05)
    finally:
        board.close()


def playing(s):
    return s.get("phase") == "playing"


def copy_firmware(b):
    files = sorted(glob.glob(os.path.join(REPO, "firmware", "headroom_fw", "*.py")))
    b.mpremote("fs", "mkdir", ":headroom_fw", "+", "fs", "cp", *files, ":headroom_fw/", "+",
               "fs", "cp", os.path.join(REPO, "firmware", "main.py"), ":main.py", "+",
               "fs", "cp", SE, ":board.json")


@needs_tools
def test_mpremote_on_the_virtual_board_and_the_image_it_leaves(vboard, tmp_path):
    b = vboard()
    data = bytes(range(256)) * 12 + random.Random(1).randbytes(1000)
    local = tmp_path / "data.bin"
    local.write_bytes(data)
    assert b.mpremote("fs", "ls").strip() == "ls :"  # a freshly formatted flash
    b.mpremote("fs", "cp", str(local), ":data.bin")
    b.mpremote("fs", "cp", ":data.bin", str(tmp_path / "back.bin"))
    assert (tmp_path / "back.bin").read_bytes() == data
    assert hashlib.sha256(data).hexdigest() in b.mpremote("fs", "sha256sum", ":data.bin")
    assert b.mpremote("exec", "print(1+1)") == "2\r\n"  # print output is cooked, as on rp2
    b.mpremote("fs", "mkdir", ":sub")
    b.mpremote("fs", "cp", str(local), ":sub/copy.bin")
    b.mpremote("soft-reset")
    out = b.mpremote("fs", "ls")
    assert "sub/" in out and "%d data.bin" % len(data) in out
    # mpremote mount: the board reads and writes the host's folder, binary both ways.
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    (mnt / "in.bin").write_bytes(data)
    out = b.mpremote("mount", str(mnt), "exec",
                     "d = open('in.bin', 'rb').read()\n"
                     "open('out.bin', 'wb').write(d + b'!')\nprint(len(d))")
    assert out.split()[-1] == str(len(data)) and (mnt / "out.bin").read_bytes() == data + b"!"
    # MicroPython's own VM, its own errors: a missing file is ENOENT through mpremote.
    p = subprocess.run([MPREMOTE, "connect", b.path, "fs", "cat", ":nope"], capture_output=True)
    assert p.returncode != 0 and b"No such file" in p.stderr + p.stdout
    assert "formatted" in b.stop()

    assert os.path.getsize(b.image) == IMAGE_BYTES
    fs = lfs(b.image)
    st = fs.fs_stat()
    assert (st.block_size, st.block_count) == (4096, 352)
    assert sorted(fs.listdir("/")) == ["data.bin", "sub"]
    with fs.open("data.bin", "rb") as f:
        assert f.read() == data
    with fs.open("sub/copy.bin", "rb") as f:
        assert f.read() == data


@needs_tools
def test_a_second_run_sees_what_was_flashed(vboard, tmp_path):
    b = vboard()
    b.mpremote("exec", "with open('note.txt', 'w') as f:\n f.write('kept')")
    # One board per image: a second one on the same image is refused.
    p = subprocess.run([sys.executable, "-m", "headroom.vboard", "--image", b.image],
                       capture_output=True, timeout=30)
    assert p.returncode == 2 and b"in use" in p.stderr
    b.stop()
    b2 = vboard()
    assert b2.mpremote("fs", "cat", ":note.txt") == "kept"
    assert "formatted" not in b2.stop()


@needs_tools
def test_repl_framing_and_soft_resets_are_the_boards(vboard):
    b = vboard()
    b.mpremote("exec", "open('main.py', 'w').write('print(\"main ran\")')")
    with b.serial() as ser:
        ser.write(b"\r\x03")
        read_until(ser, b">>> ")
        ser.write(b"\r\x01")
        assert read_until(ser, b"raw REPL; CTRL-B to exit\r\n>").endswith(
            b"\r\nraw REPL; CTRL-B to exit\r\n>")
        ser.write(b"print(6*7)\x04")
        assert read_until(ser, b"\x04>") == b"OK42\r\n\x04\x04>"
        # Soft reset from the raw REPL: no main.py, straight back to the raw REPL (rp2 main.c).
        ser.write(b"\x04")
        assert read_until(ser, b">") == b"OK\r\nMPY: soft reboot\r\nraw REPL; CTRL-B to exit\r\n>"
        # Raw-paste mode, as mpremote uses it.
        ser.write(b"\x05A\x01")
        assert read_until(ser, b"\x01", 5).startswith(b"R\x01")
        ser.write(b"x = 'pasted'\nprint(x)\x04")
        assert read_until(ser, b"\x04>").endswith(b"pasted\r\n\x04\x04>")
        # Friendly REPL, and a soft reset from there: main.py runs. The soft reset closes
        # the files left open (rp2's gc_sweep_all runs their finalisers).
        ser.write(b"\x02")
        assert b'Type "help()" for more information.\r\n>>> ' in read_until(ser, b">>> ")
        ser.write(b"f = open('u.txt', 'w'); f.write('abc')\r")
        read_until(ser, b">>> ")
        ser.write(b"\x04")
        out = read_until(ser, b">>> ")
        assert out.startswith(b"\r\nMPY: soft reboot\r\nmain ran\r\n"), out
        assert out.endswith(b'Type "help()" for more information.\r\n>>> ')
        ser.write(b"print(open('u.txt').read())\r")
        assert read_until(ser, b">>> ").endswith(b"\r\nabc\r\n>>> ")
        # Typed ahead while code runs: kept for the REPL, as the board's USB buffer keeps it.
        ser.write(b"import time; time.sleep_ms(300)\r" + b"print('typed ahead')\r")
        out = read_until(ser, b"typed ahead\r\n>>> ", 5)
        assert out.endswith(b"print('typed ahead')\r\ntyped ahead\r\n>>> "), out


@needs_tools
def test_the_firmware_boots_from_the_image_and_ctrl_c_gives_the_repl(vboard):
    b = vboard()
    copy_firmware(b)
    with b.serial() as ser:
        ser.write(b"\r\x03")
        read_until(ser, b">>> ")
        ser.write(b"\x04")  # Ctrl-D at the friendly REPL: soft reset, main.py runs
        assert read_until(ser, b"soft reboot\r\n").endswith(b"MPY: soft reboot\r\n")
        booted = time.monotonic()
        state = None
        while time.monotonic() < booted + 30:  # until the settle delay has passed
            state = ask_status(ser)
            if state and state["phase"] == "playing":
                break
        assert state and state["volume"] == -30.0 and state["phase"] == "playing", state
        # Ctrl-C with Ctrl-A right behind it, as mpremote sends them: the firmware takes
        # the interrupt before it can read the Ctrl-A (the REPL gets it: the raw REPL
        # answers), at its own code, never in the simulator's (machine is C on rp2).
        ser.write(b"\x03\r\x01")
        out = read_until(ser, b"raw REPL; CTRL-B to exit\r\n>")
        assert b"KeyboardInterrupt" in out and b'File "main.py"' in out, out
        frames = [x.strip() for x in out.split(b"\r\n") if x.strip().startswith(b"File ")]
        assert frames[-1].startswith(b'File "headroom_fw/') and b"/headroom/" not in out, out
        ser.write(b"\x02")   # back to the friendly REPL
        read_until(ser, b">>> ")
        wall_ms = (time.monotonic() - booted) * 1000
    # The REPL is the firmware's VM: its modules are loaded, its clock (the virtual one)
    # moved with wall time, and the Ctrl-C left the outputs quiet: XSMT, the PGA2311's
    # MUTE and the mute relay all low (the firmware muted them, in that order, on its way out).
    out = b.mpremote("resume", "exec",
                     "import sys, time, machine\n"
                     "print('headroom_fw.app' in sys.modules, machine.Pin(7).value(), "
                     "machine.Pin(20).value(), machine.Pin(14).value(), time.ticks_ms(), "
                     "machine.reset_cause())")
    loaded, xsmt, pga_unmuted, mute_relay, ticks, cause = out.split()
    assert (loaded, xsmt, pga_unmuted, mute_relay, cause) == ("True", "0", "0", "0", "1")
    # A soft reset keeps the ticks counting from power-on (as rp2's hardware timer does):
    # never ahead of wall time since power-on, and on by at least the time since the soft
    # reset, less the VM's boot; the first boot (cost.BOOT) is run ahead, unpaced.
    from headroom.sim.cost import BOOT
    ahead_ms = BOOT[0] // 1000 + 100
    assert wall_ms - 5000 < int(ticks) < (time.monotonic() - b.started) * 1000 + ahead_ms, (
        ticks, wall_ms)
    # Ctrl-C stopped the firmware's watchdog (WATCHDOG_CTRL.ENABLE cleared): 3 s of the
    # board's own time at the REPL, past its 2 s, and no reset (what the REPL set is kept).
    _no_reset_at_the_repl(b, ms=3000)
    # mpremote reset is machine.reset(): a hard reset, and the firmware runs again. Any
    # mpremote command soft-resets first (from the raw REPL: main.py does not run then).
    b.mpremote("reset")
    assert status(b)["volume"] == -30.0
    out = b.mpremote("fs", "ls", "+", "exec", "import sys; print('headroom_fw.app' in sys.modules)")
    assert "board.json" in out and out.endswith("False\r\n")
    # ...and mpremote's Ctrl-C stopped the watchdog there too: the raw REPL is the user's.
    _no_reset_at_the_repl(b, ms=3000)
    assert b"watchdog reset" not in b.err


def _no_reset_at_the_repl(b, ms):
    """Set a variable at the REPL, wait `ms` by the board's clock (time.sleep_ms), then
    read it back with the ticks: the board was not reset meanwhile."""
    out = b.mpremote("resume", "exec", "import time; kept = time.ticks_ms(); print(kept)")
    t0 = int(out.split()[-1])
    b.mpremote("resume", "exec", "time.sleep_ms(%d)" % ms, timeout=ms / 1000 + 30)
    out = b.mpremote("resume", "exec", "import machine; print(kept, time.ticks_ms(), "
                     "machine.mem32[0x40058000] >> 30 & 1)")
    kept, now, enabled = (int(x) for x in out.split())
    assert kept == t0 and now - t0 >= ms, (t0, out)
    assert enabled == 0
    b.wait_stderr("", timeout=0)
    assert b"watchdog reset" not in b.err, b.err


long_run = pytest.mark.skipif(not os.environ.get("HEADROOM_LONG"),
                              reason="a minute of the board's time, which the virtual board "
                                     "runs in wall time: make test-long")


@needs_tools
@long_run
def test_a_plain_mpremote_session_on_a_running_board(vboard, tmp_path):
    """Issue 17.6 in full: on a board playing, stock mpremote copies a 200 KB file, mounts
    a folder and runs a script from it, and holds a REPL for a minute of the board's own
    time: no watchdog reset anywhere (its 2 s are long gone), the outputs muted throughout;
    a reset starts the firmware again. (make test-long; make test has the 3 s version.)"""
    b = vboard()
    copy_firmware(b)
    b.mpremote("fs", "cp", os.path.join(REPO, "firmware", "boot.py"), ":boot.py")
    b.mpremote("reset")
    status(b, until=playing)
    data = random.Random(3).randbytes(200 * 1024)
    (tmp_path / "big.bin").write_bytes(data)
    b.mpremote("fs", "cp", str(tmp_path / "big.bin"), ":big.bin", timeout=120)
    assert hashlib.sha256(data).hexdigest() in b.mpremote("fs", "sha256sum", ":big.bin")
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    (mnt / "job.py").write_text("import machine, time\n"
                                "print('job', len(open('/big.bin', 'rb').read()), "
                                "[machine.Pin(p).value() for p in (7, 20, 14)])\n")
    out = b.mpremote("mount", str(mnt), "exec", "import job", timeout=60)
    assert out.split("job")[-1].split() == [str(len(data)), "[0,", "0,", "0]"], out
    out = b.mpremote("resume", "exec",
                     "import time\nt0 = time.ticks_ms()\nfor i in range(12):\n"
                     " time.sleep(5)\n print(time.ticks_diff(time.ticks_ms(), t0))\n"
                     "import machine\nprint([machine.Pin(p).value() for p in (7, 20, 14)])",
                     timeout=180)
    lines = out.split()
    assert len(lines) == 15 and int(lines[11]) >= 60000 and lines[12:] == ["[0,", "0,", "0]"], out
    b.wait_stderr("", timeout=0)
    assert b"watchdog reset" not in b.err and b"power cycle" not in b.err, b.err
    b.mpremote("reset")
    assert status(b, until=playing)["phase"] == "playing"


@needs_tools
@pytest.mark.parametrize("cut_after", [3, 40])
def test_a_power_cut_mid_copy_leaves_a_mountable_image(vboard, tmp_path, cut_after):
    b = vboard()
    small = b"x" * 3000
    (tmp_path / "small.txt").write_bytes(small)
    b.mpremote("fs", "cp", str(tmp_path / "small.txt"), ":small.txt")
    big = random.Random(2).randbytes(400 * 1024)
    (tmp_path / "big.bin").write_bytes(big)
    # The power goes in the middle of a block operation of the copy itself (the 4th, or
    # the 41st, of the ~100 a 400 KB file takes), on a fast machine or a slow one.
    assert b.control("cut after %d blocks" % cut_after) == "ok"
    cp = subprocess.run([MPREMOTE, "connect", b.path, "fs", "cp", str(tmp_path / "big.bin"),
                         ":big.bin"], capture_output=True, timeout=120)
    assert cp.returncode != 0  # the board went away under it
    b.wait_stderr("power cut in the middle of a flash block operation")
    b.wait_stderr("power cycle")
    err = b.stop()
    assert "formatted" in err  # only the first boot formatted the image
    fs = lfs(b.image)
    with fs.open("small.txt", "rb") as f:
        assert f.read() == small
    names = fs.listdir("/")
    if "big.bin" in names:  # never more than was sent, and what is there is the start of it
        with fs.open("big.bin", "rb") as f:
            part = f.read()
        assert len(part) < len(big) and big.startswith(part)
    # The board still boots from it, without formatting.
    b2 = vboard()
    assert "small.txt" in b2.mpremote("fs", "ls")
    assert "formatted" not in b2.stop()


@needs_tools
def test_the_port_drops_off_at_a_reset_and_comes_back(vboard):
    b = vboard()
    import serial
    with b.serial() as ser:
        b.proc.send_signal(signal.SIGUSR1)  # a power cycle
        with pytest.raises(serial.SerialException):
            end = time.monotonic() + 30
            while time.monotonic() < end:
                ser.read(100)   # end of file once the board drops off
    b.wait_stderr("power cycle")
    b.wait_port()
    assert b.mpremote("exec", "print(6*7)").strip() == "42"
    assert b.control("power off") == "ok"
    assert not os.path.exists(b.path)   # no supply, no USB
    assert b.control("power on") == "ok"
    b.wait_port()                       # it enumerates once the board is up
    assert b.mpremote("exec", "print(6*7)").strip() == "42"
    assert b.control("boil the kettle").startswith("error: unknown command")


def test_a_bad_board_file_or_image_is_refused(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{}")
    p = subprocess.run([sys.executable, "-m", "headroom.vboard", "--board", str(bad)],
                       capture_output=True, timeout=30)
    assert p.returncode == 2 and b"bad.json" in p.stderr
    img = tmp_path / "short.img"
    img.write_bytes(b"\xff" * 4096)
    p = subprocess.run([sys.executable, "-m", "headroom.vboard", "--image", str(img)],
                       capture_output=True, timeout=30)
    assert p.returncode == 2 and b"352 blocks of 4096" in p.stderr


def test_the_micropython_pio_engine_counts_as_the_emulator_does():
    from headroom.sim.simboard import SimBoard
    from headroom.vboard.pio_mp import PIOEngine
    from headroom_fw import pio_encoder

    def run(seq, mine):
        b = SimBoard(SE, keep_trace=False)
        try:
            if mine:
                b.sim.peripherals["pio"] = PIOEngine(b.sim)
            b.power(True)
            b.run_ms(2500)
            for detents, rate, bounce in seq:
                step_us = 1000000 // (rate * 4)
                b.run_us(b.turn(detents, rate=rate, bounce_us=min(bounce, step_us // 2)))
            b.run_ms(100)
            sm = b.sim.peripherals["pio"].sms[b.board.pio_sm]
            x = sm.x if mine else sm.state.x_register
            return ((x - pio_encoder._START) & 0xFFFFFFFF, b.app.encoder._count,
                    b.encoder.turned, sorted(sm.sample_gaps.items()), b.sim.faults)
        finally:
            b.close()

    rnd = random.Random(5)
    for _ in range(6):
        seq = [(rnd.choice([-1, 1]) * rnd.randint(1, 30), rnd.choice([2, 10, 50, 300, 1000]),
                rnd.choice([0, 20, 50, 100])) for _ in range(rnd.randint(1, 5))]
        want = run(seq, False)
        assert run(seq, True) == want, seq
        assert want[2] == sum(d for d, _r, _b in seq)


@needs_tools
def test_the_headphone_setting_on_the_micropython_vm(vboard):
    """The headphone, the SPL limit and auto gain through the protocol on MicroPython's
    Unix port: the reply, the stored setting, and both after a reset."""
    from headroom.control import Board
    b = vboard()
    copy_firmware(b)
    b.mpremote("reset")
    status(b, until=playing)
    board = Board(b.path, wait_s=30)
    try:
        r = board.request("set headphone 300 97 dB/mW Sennheiser HD 600")
        assert r["ok"] and r["headphone"] == {"name": "Sennheiser HD 600", "ohm": 300, "db_v": 102.229}
        assert r["spl"] == 72.2
        assert board.request("set spl_limit 90")["ok"] and board.request("set gain auto")["ok"]
        assert "plausible" in board.request("set headphone 32 300 dB/mW Loud")["error"]
    finally:
        board.close()
    # mpremote's Ctrl-C makes the firmware save what changed on its way out (no wait for
    # the 3 s save delay), then it resets the board
    b.mpremote("reset")
    s = status(b, until=playing)
    assert s["headphone"]["name"] == "Sennheiser HD 600" and s["spl_limit"] == 90.0
    assert s["gain"] == "low" and s["spl"] <= 90.0   # pico-se's gain switch wins at power-on


def _vboard_refuses(*args):
    """`python -m headroom.vboard ARGS` refused before it starts: (exit status, stderr).
    One that starts instead (the bug) is stopped and fails the test."""
    p = subprocess.Popen([sys.executable, "-m", "headroom.vboard"] + [str(a) for a in args],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        out, err = p.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=10)
        raise AssertionError("it started instead of refusing: %s" % err.decode())
    assert out == b"", out
    return p.returncode, err.decode()


@needs_tools
def test_the_virtual_board_never_replaces_a_file_it_did_not_make(tmp_path):
    """A --port or --control path that is a file of someone else's (a text file; a device
    node, as root /dev/ttyACM0 would be) is refused, not replaced and later deleted; a
    --trace in a folder that does not exist is refused up front, naming the path. Exit 2
    (bad input), before anything starts."""
    text = tmp_path / "notes.txt"
    text.write_text("mine\n")
    rc, err = _vboard_refuses("--port", text)
    assert rc == 2 and "notes.txt exists and is not a virtual board's port" in err, err
    assert text.read_text() == "mine\n" and not os.path.islink(text)
    rc, err = _vboard_refuses("--port", tmp_path / "tty", "--control", text)
    assert rc == 2 and "is not a control socket" in err, err
    assert text.read_text() == "mine\n"
    rc, err = _vboard_refuses("--port", "/dev/null")   # a device node
    assert rc == 2 and "/dev/null exists" in err, err
    assert os.path.exists("/dev/null") and not os.path.islink("/dev/null")
    rc, err = _vboard_refuses("--trace", tmp_path / "nowhere" / "t.jsonl")
    assert rc == 2 and str(tmp_path / "nowhere" / "t.jsonl") in err, err
    assert "Traceback" not in err
    assert sorted(os.listdir(tmp_path)) == ["notes.txt"]   # no lock file, link or socket left


@needs_tools
def test_a_killed_virtual_board_takes_its_vm_with_it(tmp_path):
    """SIGKILL of the supervisor (nothing of it runs any more): the kernel ends the
    MicroPython VM too (PR_SET_PDEATHSIG), no orphan left running."""
    b = VBoard(tmp_path / "flash.img", args=["--lenient-watchdog"])
    leftovers = []
    try:
        b.wait_port()
        # The VM busy running code (as the firmware keeps it), not reading its input:
        # the end of its input would not end it. (mpremote's soft reset starts a new VM.)
        b.mpremote("exec", "--no-follow", "import time\nwhile True:\n time.sleep_ms(10)")
        with open("/proc/%d/task/%d/children" % (b.proc.pid, b.proc.pid)) as f:
            vms = [int(x) for x in f.read().split()]
        assert vms, "no VM under the supervisor"
        with open("/proc/%d/cmdline" % vms[0], "rb") as f:
            state = [a[6:].decode() for a in f.read().split(b"\0") if a.startswith(b"state=")]
        leftovers = [os.path.dirname(b.path)] + [os.path.dirname(x) for x in state]
        b.proc.kill()
        b.proc.wait()
        end = time.monotonic() + 10
        alive = vms
        while alive and time.monotonic() < end:
            alive = [p for p in vms if os.path.exists("/proc/%d" % p)
                     and open("/proc/%d/stat" % p).read().split(")")[-1].split()[0] != "Z"]
            time.sleep(0.02)
        for p in alive:  # the bug: clean up the orphan before failing
            os.kill(p, signal.SIGKILL)
        assert not alive, "the VM outlived its supervisor"
    finally:
        b.stop()
        import shutil
        for d in leftovers:   # a SIGKILLed board cannot remove its temporary folders
            if os.path.basename(d).startswith("headroom-vboard-"):
                shutil.rmtree(d, ignore_errors=True)
