"""What the supervisor sends the VM beside its stdin, read without allocating (littlefs
calls the block device with the heap locked; the firmware's sleeps and calls into
`machine` must not allocate either). MicroPython VM side (select.ipoll).

- `CutGate`, the cut pipe: the flash's power (lost in the middle of the N-th block
  operation from now) and its faults (every program and erase refused).
- `Interrupts`, the intr pipe: the host's Ctrl-C while main.py runs.

Each tells the supervisor what happened on `side` (its side pipe, a file, or None)."""

_REFUSE = (0, 28, 5, 0)   # the cut pipe's 0xF0 + n: none, ENOSPC, EIO


class _Pipe:
    """A pipe from the supervisor, polled: one poll object and one buffer, made here."""

    def __init__(self, f, size, side):
        import select
        self.f = f
        self.buf = bytearray(size)
        self.side = side
        self.poll = select.poll()
        self.poll.register(f, select.POLLIN)
        for _ in self.poll.ipoll(0):   # the first ipoll allocates its iterator
            pass

    def waiting(self, ms=0):
        """True if the supervisor has sent something (within `ms`)."""
        for _obj, _ev in self.poll.ipoll(ms):
            return True
        return False


class CutGate:
    """The flash's power: asked before every block operation whether it is cut mid-way
    (True) or refused (an errno). `f`: the cut pipe, or None (no cuts, no faults);
    `hang()`: what losing power does to the VM (wait for the supervisor to end it)."""

    def __init__(self, f, side, hang):
        self.pipe = _Pipe(f, 4, side) if f is not None else None
        self.side = side
        self.hang = hang
        self.left = -1   # operations still allowed; -1: no cut armed
        self.refuse = 0  # the errno every operation fails with (0: none)

    def op(self):
        pipe = self.pipe
        if pipe is not None and pipe.waiting() and pipe.f.readinto(pipe.buf) == 4:
            b = pipe.buf
            if b[3] >= 0xF0:   # the flash's state, not a count
                self.refuse = _REFUSE[b[3] & 3]
            else:
                self.left = b[0] | b[1] << 8 | b[2] << 16 | b[3] << 24
        if self.refuse:
            return self.refuse   # FileBlockDev: the operation fails, nothing written
        if self.side is not None:
            self.side.write("b\n")
        if self.left < 0:
            return False
        if self.left == 0:
            self.left = -1
            return True
        self.left -= 1
        return False

    def lost(self):
        if self.side is not None:
            self.side.write("cut\n")
        self.hang()


class Interrupts(_Pipe):
    """The host's Ctrl-C while main.py runs: a byte on a pipe of its own, taken only at
    the firmware's sleeps and calls into `machine` (VmSim.safe_point), never inside the
    simulator's own code. On rp2 those calls are C and the chips are hardware: a
    KeyboardInterrupt waits for them. Here the models and the virtual clock are Python,
    and a SIGINT could land in the middle of them (an I2C transaction half decoded, the
    clock half run), leaving the firmware's quieting stuck. `realtime`: the VM's own
    time module."""

    def __init__(self, f, side, realtime):
        _Pipe.__init__(self, f, 1, side)
        self.realtime = realtime

    def take(self):
        """Raise KeyboardInterrupt if a Ctrl-C waits (the supervisor hears "kbd"). The
        pipe is non-blocking and the supervisor reads it too: a Ctrl-C it claimed back
        between our poll and our read (it sent it as SIGINT) reads as None, and is not
        raised twice."""
        if self.waiting() and self.f.readinto(self.buf) == 1:
            if self.side is not None:
                self.side.write("kbd\n")
            raise KeyboardInterrupt

    def drop(self):
        """Throw away a Ctrl-C that waits: main.py is over, and it was meant for it."""
        if self.waiting():
            self.f.readinto(self.buf)

    def sleep_us(self, us):
        """Sleep `us` (wall time); False if a Ctrl-C came first (not taken yet)."""
        ms = us // 1000
        if ms > 0 and self.waiting(ms):
            return False
        if us > ms * 1000:
            self.realtime.sleep_us(us - ms * 1000)
        return True
