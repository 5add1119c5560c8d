"""JSON written into a buffer made once: the replies a host asks for often cost the heap
nothing (pure).

`status` and the state events a monitoring host gets are a few hundred bytes of text.
Built with `%` they allocated about 3.9 KB each (every number's text, every fragment,
the joined line), so a host polling `status` made the GC run under the knob. Here the
fixed text is bytes constants and the numbers are written digit by digit into one
bytearray: nothing is allocated while the reply fits the buffer (it grows, once, if a
reply is ever longer than any before).

Fragments go in with `struct.pack_into("Ns", buf, offset, frag)`, not a slice
assignment: before 1.26 (PR #12518) `buf[a:b] = frag` makes its slice object on the
heap, 16 bytes a fragment (measured on the rp2 tier: 1.24.1 allocated 348 B for a state
line that way, 1.26.1 none), while pack_into allocates nothing on either and costs
about the same (3.6 against 3.3 ms for that line on the emulated RP2040). Its format
strings are made once per fragment length met, and kept.

The text is ASCII: every str that goes in (`text`) was escaped where it was made.
"""
import struct

from micropython import const

_SIZE = const(768)  # a status reply is about 600 bytes with a headphone and no faults
_DIGITS = const(14)  # room checked for before a number: sign, ten digits, ".5"


_pack_into = struct.pack_into
_FORMATS = {}  # type: dict[int, str]  # fragment length -> "Ns", made the first time a length is met


def _format(k):
    f = _FORMATS.get(k)
    if f is None:
        f = _FORMATS[k] = "%ds" % k
    return f


def prepare(frags):
    """Make the formats for these fragments now (at import or boot), not in the reply
    that first meets their length: the words a field can take (phase names, gains)."""
    for frag in frags:
        _format(len(frag))


class JsonOut:
    def __init__(self, size=_SIZE):
        self.buf = bytearray(size)
        self.n = 0  # bytes of the line written so far

    def clear(self):
        self.n = 0

    def raw(self, frag):
        """bytes (or a bytearray) as they are."""
        n = self.n
        k = len(frag)
        if n + k > len(self.buf):
            self.buf.extend(bytes(n + k - len(self.buf) + 64))  # a longer reply than any before
        _pack_into(_format(k), self.buf, n, frag)
        self.n = n + k

    def text(self, s):
        """A str (ASCII). Its bytes are made here: for text that is rare in a reply (a
        fault, a failed save), never for what every reply carries."""
        self.raw(s.encode())

    def _room(self):
        if self.n + _DIGITS > len(self.buf):
            self.buf.extend(bytes(64))

    def _digits(self, v):
        # v >= 0: its decimal digits, written back to front after counting them
        k = 1
        t = v
        while t >= 10:
            t //= 10
            k += 1
        buf = self.buf
        end = self.n + k
        i = end
        while k:
            i -= 1
            buf[i] = 48 + v % 10
            v //= 10
            k -= 1
        self.n = end

    def _sign(self, neg):
        self._room()
        if neg:
            self.buf[self.n] = 45  # "-"
            self.n += 1

    def int(self, v):
        self._sign(v < 0)
        self._digits(-v if v < 0 else v)

    def hdb(self, h):
        """hdB (half decibels) as a JSON number with one decimal: -41 -> -20.5."""
        self._sign(h < 0)
        h = -h if h < 0 else h
        self._digits(h >> 1)
        self.buf[self.n] = 46  # "."
        self.buf[self.n + 1] = 53 if h & 1 else 48
        self.n += 2

    def cdb(self, c):
        """cdB (hundredths of a decibel) rounded to one decimal; None: null."""
        if c is None:
            self.raw(b"null")
            return
        self._sign(c < 0)
        d = ((-c if c < 0 else c) + 5) // 10
        self._digits(d // 10)
        self.buf[self.n] = 46
        self.buf[self.n + 1] = 48 + d % 10
        self.n += 2

    def bool(self, v):
        self.raw(b"true" if v else b"false")

    def line(self):
        """The line as a str (allocates: for tests and the host, not the loop)."""
        return bytes(self.buf[:self.n]).decode()
