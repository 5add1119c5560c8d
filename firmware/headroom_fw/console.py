"""The USB serial console, read without blocking the main loop.

Bytes come from sys.stdin through select.poll with no wait, so the loop never
stalls, Ctrl-C still raises KeyboardInterrupt and mpremote still gets its raw REPL.
"""
import select
import sys


class UsbConsole:
    def __init__(self):
        self._poll = select.poll()
        self._poll.register(sys.stdin, select.POLLIN)
        self._in = getattr(sys.stdin, "buffer", sys.stdin)

    def read_byte(self):
        """The next byte, or None when nothing is waiting."""
        if not self._poll.poll(0):
            return None
        c = self._in.read(1)
        if not c:
            return None
        return c[0] if isinstance(c, bytes) else ord(c)

    def write_line(self, text):
        sys.stdout.write(text)
        sys.stdout.write("\n")
