"""A small log file on the board: what went wrong, with its traceback, newest last.

Bounded (MAX_BYTES): when an entry would take it over, the oldest entries go. Written
only when something fails (a crash, a faulty part), so it costs the flash nothing in
normal use. `headroom log` shows it (the control protocol's `log` command).
"""
import io
import sys

MAX_BYTES = 4096
FILE = "headroom.log"   # beside board.json


class Log:
    def __init__(self, path, files):
        self.path = path
        self.files = files
        self._size = -1  # known after the first size(): only append() changes the file

    def size(self):
        """Bytes in the log. Read from the filesystem once, then kept: `status` asks
        every time and os.stat makes a tuple each call."""
        if self._size < 0:
            try:
                self._size = self.files.size(self.path)
            except OSError:
                self._size = 0
        return self._size

    def text(self):
        try:
            with self.files.open(self.path) as f:
                return f.read(MAX_BYTES)
        except OSError:
            return ""

    def append(self, entry):
        """Add `entry` (a line or more); never raises (a full or broken flash loses it:
        then False)."""
        if not entry.endswith("\n"):
            entry += "\n"
        try:
            entry = entry[-MAX_BYTES:]
            if self.size() + len(entry) <= MAX_BYTES:
                with self.files.open(self.path, "a") as f:
                    f.write(entry)
                return True
            keep = (self.text() + entry)[-MAX_BYTES:]
            cut = keep.find("\n")  # start at a whole line
            if 0 <= cut < len(keep) - 1:
                keep = keep[cut + 1:]
            tmp = self.path + ".tmp"
            with self.files.open(tmp, "w") as f:
                f.write(keep)
            self.files.rename(tmp, self.path)
            return True
        except Exception:  # noqa: S110 - the log must never be what stops the amplifier
            return False
        finally:
            self._size = -1  # the file changed (or may have): read its size again

    def exception(self, e, what):
        """An exception and its traceback, under a line saying `what` happened."""
        buf = io.StringIO()
        sys.print_exception(e, buf)
        self.append("%s\n%s" % (what, buf.getvalue()))
