"""A readable timeline from trace records, for people.

By default it shows what a listener and a bench engineer care about: script
steps, power, boots, relay contacts, what reaches the jack, flash writes,
faults. Runs of ramp steps at the jack fold into one line. `verbose` adds every
pin change, SPI frame and PGA2311 state.
"""
from .trace import encode


def _t(t_us):
    return "%4d.%03d s" % (t_us // 1000000, (t_us // 1000) % 1000)


def _val(v):
    return v if isinstance(v, str) else encode(v)


def _state(fields):
    return dict(fields)


class Timeline:
    def __init__(self, out, verbose=False):
        self.out = out
        self.verbose = verbose
        self._ramp = None  # (t_start, first level text, last level text, steps, t_last, output)

    def _print(self, t_us, text):
        self.out.write("%s  %s\n" % (_t(t_us), text))

    def _flush(self):
        r = self._ramp
        if r is None:
            return
        self._ramp = None
        t0, first, last, steps, t1, output = r
        if steps == 1:
            self._print(t0, "jack %-8s L/R %s dBV" % (output, last))
        else:
            self._print(t0, "jack %-8s ramps %s -> %s dBV in %d steps over %d ms"
                        % (output, first, last, steps, (t1 - t0) // 1000))

    def record(self, t_us, kind, fields):
        f = _state(fields)
        if kind == "chip" and f["chip"] == "jack":
            s = _state(f["state"])
            left, right = _val(s["left"]), _val(s["right"])
            if left == right and left != "mute":
                r = self._ramp
                if r is not None and r[5] == s["output"] and t_us - r[4] <= 100000:
                    self._ramp = (r[0], r[1], left, r[3] + 1, t_us, r[5])
                else:
                    self._flush()
                    self._ramp = (t_us, left, left, 1, t_us, s["output"])
                return
            self._flush()
            if left == right:
                self._print(t_us, "jack %-8s muted" % s["output"])
            else:
                self._print(t_us, "jack %-8s L %s  R %s dBV" % (s["output"], left, right))
            return
        if kind in ("pin", "spi") or (kind == "chip" and f["chip"].startswith("pga2311")):
            if self.verbose:
                self._flush()
                self._print(t_us, "%s %s" % (kind, encode(fields)))
            return
        self._flush()
        if kind == "step":
            self._print(t_us, "-- line %d: %s" % (f["line"], f["text"]))
        elif kind == "power":
            self._print(t_us, "supply %s" % ("on" if f["on"] else "off"))
        elif kind == "boot":
            self._print(t_us, "MCU starts main.py")
        elif kind == "chip":
            s = _state(f["state"])
            if f["chip"].startswith("relay."):
                self._print(t_us, "%-14s contacts %s" % (
                    f["chip"].replace(".", " "), "energized" if s["energized"] else "released"))
            else:
                self._print(t_us, "%s %s" % (f["chip"], encode(f["state"])))
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

    def close(self):
        self._flush()
