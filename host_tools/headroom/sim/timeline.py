"""A readable timeline from trace records, for people.

By default it shows what a listener and a bench engineer care about: script
steps, power, boots, relay contacts, what reaches the jack, flash writes,
faults. Runs of ramp steps at the jack fold into one line. `verbose` adds every
pin change, SPI frame and PGA2311 state.
"""
from .boardparts import chip_part
from .trace import encode


def _t(t_us):
    return "%4d.%03d s" % (t_us // 1000000, (t_us // 1000) % 1000)


def _val(v):
    return v if isinstance(v, str) else encode(v)


def _state(fields):
    return dict(fields)


FOLD_GAP_US = 250000  # jack changes closer than this fold into one line


class Timeline:
    def __init__(self, out, verbose=False):
        self.out = out
        self.verbose = verbose
        self._run = None  # [t_first, t_last, output, first (L, R), last (L, R), count]

    def _print(self, t_us, text):
        self.out.write("%s  %s\n" % (_t(t_us), text))

    @staticmethod
    def _levels(lr):
        left, right = lr
        if left == right:
            return "muted" if left == "mute" else "L/R %s dBV" % left
        return "L %s  R %s dBV" % (left, right)

    def _flush(self):
        r = self._run
        if r is None:
            return
        self._run = None
        t0, t1, output, first, last, n = r
        if n == 1:
            self._print(t0, "jack %-8s %s" % (output, self._levels(last)))
        else:
            self._print(t0, "jack %-8s %s -> %s in %d steps over %d ms" % (
                output, self._levels(first), self._levels(last), n, (t1 - t0) // 1000))

    def _jack(self, t_us, s):
        lr = (_val(s["left"]), _val(s["right"]))
        r = self._run
        silent = lr == ("mute", "mute")
        if (r is not None and not silent and r[4] != ("mute", "mute") and r[2] == s["output"]
                and t_us - r[1] <= FOLD_GAP_US):
            r[1], r[4], r[5] = t_us, lr, r[5] + 1
            return
        self._flush()
        self._run = [t_us, t_us, s["output"], lr, lr, 1]
        if silent:
            self._flush()

    def record(self, t_us, kind, fields):
        f = _state(fields)
        if kind == "chip":
            self._chip(t_us, f["chip"], _state(f["state"]), fields)
            return
        if kind in ("pin", "spi"):
            self._verbose(t_us, kind, fields)
            return
        self._flush()
        if kind == "step":
            self._print(t_us, "-- line %d: %s" % (f["line"], f["text"]))
        elif kind == "power":
            self._print(t_us, "supply %s" % ("on" if f["on"] else "off"))
        elif kind == "boot":
            self._print(t_us, "MCU starts main.py")
        elif kind == "flash":
            self._print(t_us, "flash: %s written (%d bytes)" % (f["file"], f["bytes"]))
        elif kind == "expect":
            ok = "ok" if f["ok"] else "FAILED: " + f.get("why", "")
            self._print(t_us, "   expectation on line %d %s" % (f["line"], ok))
        elif kind == "fault":
            self._print(t_us, "FAULT: %s" % f["message"])
        elif kind == "crash":
            self._print(t_us, "FIRMWARE CRASH: %s" % f["error"])
        elif kind == "reset":
            self._print(t_us, "MCU reset (%s)" % f["cause"])
        else:
            self._print(t_us, "%s %s" % (kind, encode(fields)))

    def _verbose(self, t_us, kind, fields):
        if self.verbose:
            self._flush()
            self._print(t_us, "%s %s" % (kind, encode(fields)))

    def _chip(self, t_us, name, state, fields):
        """A part's state: the part's class words it (sim/part.py), or folds its runs."""
        part = chip_part(name)
        if part.timeline_folds:
            self._jack(t_us, state)
            return
        line = part.timeline_line(name, state, fields)
        if line is None:
            self._verbose(t_us, "chip", fields)
            return
        self._flush()
        self._print(t_us, line)

    def close(self):
        self._flush()
