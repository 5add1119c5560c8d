"""The emulated board's USB serial port from inside the test process.

`Console` listens on the port (a tap: it sees every byte the board writes, with its
emulated time) and writes as a host would. It gives the control protocol's request and
reply (`request("status")`), a Ctrl-C, and a raw-REPL `exec` for probes that run on the
board (calibration). Every wait is for bytes from the board, bounded by emulated time
(`until_us`) where the board is expected to answer; the wall-clock guard is only there
for a hung emulator.

Use it while no program has the pseudo-terminal open: both would read the same bytes.
"""
import json

from .emulator import EmulatorError


class Console:
    def __init__(self, board):
        self.board = board
        self.rx = bytearray()     # bytes not yet consumed by a wait
        self.log = []             # (t_us, bytes): everything the board wrote
        board.call(lambda: board.port.taps.append(self._tap))

    def _tap(self, t_us, data):
        self.rx += data
        self.log.append((t_us, bytes(data)))
        self.board.changed()

    def text(self):
        return b"".join(d for _t, d in self.log).decode("utf-8", "replace")

    def write(self, data):
        self.board.post(self.board.port.send, bytes(data))

    def send(self, data):
        """Write `data` now; the emulated time (µs) at which the board got it."""
        def go():
            self.board.port.send(bytes(data))
            return self.board.now_us
        return self.board.call(go)

    def time_of(self, marker, after_us=-1.0):
        """When the board finished writing `marker` after `after_us` (None: not yet)."""
        seen = b""
        for t, d in list(self.log):
            if t <= after_us:
                continue
            seen += d
            if marker in seen:
                return t
        return None

    def clear(self):
        self.board.call(self.rx.clear)

    def read_until(self, marker, until_us=None, what=None):
        """Consume the board's output up to and including `marker`; EmulatorError if it
        does not come by emulated time `until_us`."""
        def seen():
            return marker in self.rx
        if not self.board.wait(seen, until_us, what=what or repr(marker)):
            raise EmulatorError("no %r from the board by %.1f ms (emulated); it wrote %r" % (
                marker, until_us / 1000, bytes(self.rx[-300:])))

        def take():
            i = self.rx.index(marker) + len(marker)
            out = bytes(self.rx[:i])
            del self.rx[:i]
            return out
        return self.board.call(take)

    # ---- the control protocol
    def request(self, line, within_ms=2000):
        """The firmware's JSON reply (with "ok") to one command line."""
        self.clear()
        self.write(line.encode() + b"\n")
        until = self.board.now_us + within_ms * 1000.0
        while True:
            got = self.read_until(b"\n", until, what="a reply to %r" % line)
            text = got.decode("utf-8", "replace").strip()
            if text.startswith("{"):
                try:
                    obj = json.loads(text)
                except ValueError:
                    continue
                if isinstance(obj, dict) and "ok" in obj:
                    return obj

    # ---- the REPL
    def interrupt(self):
        """Ctrl-C as mpremote sends it (CR, then ETX)."""
        self.write(b"\r\x03")

    def enter_raw(self, within_ms=2000):
        self.clear()
        self.write(b"\r\x03\x03\x01")
        self.read_until(b"raw REPL; CTRL-B to exit\r\n>", self.board.now_us + within_ms * 1000.0)

    def exec(self, code, within_ms=10000):
        """Run `code` at the raw REPL; (stdout, stderr) as text. Raises on a traceback."""
        until = self.board.now_us + within_ms * 1000.0
        self.write(code.encode() + b"\x04")
        self.read_until(b"OK", until)
        out = self.read_until(b"\x04", until)[:-1]
        err = self.read_until(b"\x04", until)[:-1]
        self.read_until(b">", until)
        out, err = out.decode("utf-8", "replace"), err.decode("utf-8", "replace")
        if err:
            raise EmulatorError("the board raised:\n%s" % err)
        return out

    def exit_raw(self):
        self.write(b"\x02")
