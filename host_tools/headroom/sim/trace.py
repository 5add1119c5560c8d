"""The trace: JSON Lines, one record per event, keys in a fixed order.

Records are written by hand (not json.dumps) so the bytes are the same on
CPython and MicroPython. Numbers are ints or fixed-point strings made from ints.
See docs/trace-format.md for the contract; bump VERSION on any change.
"""
VERSION = 2


class Db:
    """A level held as an int in 1/scale dB, written as a JSON number."""

    def __init__(self, value, scale):
        self.value = value
        self.scale = scale

    def json(self):
        v = self.value
        sign = "-" if v < 0 else ""
        v = -v if v < 0 else v
        if self.scale == 2:
            return "%s%d.%d" % (sign, v // 2, 5 * (v % 2))
        return "%s%d.%02d" % (sign, v // 100, v % 100)

    def __eq__(self, other):
        return isinstance(other, Db) and self.value * other.scale == other.value * self.scale

    def __repr__(self):
        return self.json()


def _str(s):
    if '"' not in s and "\\" not in s and all(c >= " " for c in s):
        return '"' + s + '"'
    out = ['"']
    for ch in s:
        if ch == '"' or ch == "\\":
            out.append("\\" + ch)
        elif ord(ch) < 0x20:
            out.append("\\u%04x" % ord(ch))
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def encode(v):
    """JSON text of v: None, bool, int, str, Db, or a list of (key, value) pairs (an object)."""
    if v is None:
        return "null"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, str):
        return _str(v)
    if isinstance(v, Db):
        return v.json()
    if isinstance(v, (list, tuple)):
        return "{" + ", ".join(_str(k) + ": " + encode(x) for k, x in v) + "}"
    raise TypeError("cannot put %r in a trace" % (v,))


class Trace:
    """Collects records; `sink` (a file, or None) receives each line as it is made."""

    def __init__(self, board_name, sink=None, keep=True, header=True):
        """`header`: False when appending to a trace that has one (the virtual board's
        trace goes on across the VM's restarts)."""
        self.sink = sink
        self.keep = keep
        self.lines = []
        self.listeners = []
        self.muted = False        # while a board's state is restored: nothing happened
        if header:
            self._line(encode([("trace", VERSION), ("board", board_name)]))

    def _line(self, text):
        if self.keep:
            self.lines.append(text)
        if self.sink is not None:
            self.sink.write(text + "\n")

    def emit(self, t_us, kind, fields):
        """Record an event; `fields` is a list of (key, value) after t_us and kind."""
        if self.muted:
            return
        if self.keep or self.sink is not None:
            self._line(encode([("t_us", t_us), ("kind", kind)] + fields))
        for fn in self.listeners:
            fn(t_us, kind, fields)

    def text(self):
        return "\n".join(self.lines) + "\n"
