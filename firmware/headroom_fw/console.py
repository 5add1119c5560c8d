"""The USB serial console: never blocks the main loop, allocates nothing per byte.

What the rp2 port does (MicroPython 1.24.1 and 1.26.1, shared/tinyusb/mp_usbd_cdc.c,
shared/runtime/sys_stdio_mphal.c) decides the shape of this file:

- `sys.stdin.buffer.readinto(buf)` waits until the whole of `buf` has arrived, and
  POLLIN only says that one byte is waiting: so one byte is read per POLLIN, into a
  bytearray made once.
- A write to a connected host waits until the CDC TX FIFO (256 bytes) has room for
  it (1.24.1: up to 500 ms per 64-byte chunk; 1.26.1: up to 500 ms after the last
  byte that fit), and POLLOUT only says that one byte of room is free: so a line
  goes out a byte per POLLOUT, up to a budget per pass, and the rest waits for the
  next pass. A host that stops reading (a paused
  `headroom monitor | less`) costs the loop one poll a pass, never a wait.
- `poll.poll(0)` builds a list of tuples each call; `ipoll(0)` returns the poll
  object itself as the iterator and reuses one tuple (extmod/modselect.c): it is
  iterated here at once, never kept, so nothing is allocated after the first call.

The caller pushes the line out with flush() as the last thing in its pass: a detent's
interrupt (the Waker's `woken`) ends the share at once, and with it the pass, so the
next pass carries the detent as soon as with no host at all.

One line is on its way at a time (`busy()`): the protocol answers one line a pass and
only while nothing is waiting to go out, and what the host sent meanwhile waits in the
port's own buffers (USB flow control holds the host back once they are full), so no
command is lost and none is read that cannot be answered. Pushed state events are not
queued: the app sends the latest state once the line before has gone (app._serve).

Writes go to `sys.stdout.buffer` (raw: a line ends in "\\n"; the text stream would
write "\\r\\n" in one call, two bytes where POLLOUT promised one). The simulator hands
in its model of the rp2 CDC (sim/cdc.py) for `stdin`, `stdout` and `select`; the
virtual board runs this file as it is on the Unix port, over pipes.
"""
import select
import sys

from micropython import const

_WRITE_BUDGET = const(128)  # bytes pushed per pass at most (a detent's interrupt ends it sooner)


def _ready(p):
    # ipoll(0) returns `p` itself; its one tuple is reused, so nothing is kept from it.
    for _ in p.ipoll(0):
        return True
    return False


class UsbConsole:
    def __init__(self, stdin=None, stdout=None, select_module=None):
        sel = select_module if select_module is not None else select
        self._in = stdin if stdin is not None else getattr(sys.stdin, "buffer", sys.stdin)
        self._out = stdout if stdout is not None else getattr(sys.stdout, "buffer", sys.stdout)
        # One poll object a direction: on rp2 stdin.buffer and stdout.buffer are the same
        # object, and one registration would say "ready" for either.
        self._pin = sel.poll()
        self._pin.register(self._in, sel.POLLIN)
        self._pout = sel.poll()
        self._pout.register(self._out, sel.POLLOUT)
        self._one = bytearray(1)
        self._line = None   # the line going out (str or bytes), None when none
        self._pos = 0       # its next byte; len(line) is the newline
        self._len = 0
        self.moved = False  # the last flush() sent something: the host is taking bytes
        # The main loop's Waker (the App sets it): a knob's interrupt that sets its
        # `woken` ends a flush at once, so the pass ends and the next carries the detent.
        self.waker = None
        _ready(self._pin)   # ipoll's first call makes its tuple: here, not in a pass
        _ready(self._pout)

    def read_byte(self):
        """The next byte the host sent, or None when nothing is waiting."""
        if not _ready(self._pin):
            return None
        if not self._in.readinto(self._one):  # type: ignore[misc]  # (the stubs: a text stream)
            return None
        return self._one[0]

    def busy(self):
        """True while a line is still going out: nothing more is sent until it is."""
        return self._line is not None

    def write_line(self, text, n=-1):
        """Take `text` (ASCII: every reply escapes the rest), or its first `n` bytes, to
        send with a newline, by flush(); False, and nothing taken, while the line before
        is still going out (see busy()): a line is never cut into another, and the loop
        never waits for the host. `text` is kept, not copied: a buffer handed in (the
        protocol's JsonOut) is not written again until the line is out, as nothing is
        answered while busy()."""
        if self._line is not None:
            return False
        self._line = text
        self._pos = 0
        self._len = len(text) if n < 0 else n
        return True

    def flush(self):
        """Push out what the host can take now, a byte per POLLOUT, at most
        _WRITE_BUDGET bytes. Returns True when the line is out."""
        line = self._line
        self.moved = False
        if line is None:
            return True
        out = self._out
        pos = self._pos
        n = self._len
        w = self.waker
        for _ in range(_WRITE_BUDGET):
            if w is not None and w.woken:
                break
            if not _ready(self._pout):
                break
            self.moved = True
            if pos < n:
                # MicroPython's stream write(buf, offset, length): no slice made
                out.write(line, pos, 1)  # type: ignore[call-overload]
            else:
                out.write(b"\n")
                self._line = None
                self._pos = 0
                return True
            pos += 1
        self._pos = pos
        return False
