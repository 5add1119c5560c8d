"""The REPL's output on its way from the VM to the host, as rp2's USB console gives it.

- **Cooked.** rp2 cooks print() and sys.stdout.write: LF becomes CR LF (an LF already
  after CR stays); the Unix port leaves that to a terminal. Binary output is mostly
  mpremote mount's protocol, whose every exchange starts with 0x18 (CAN): from the first
  0x18 on, until the next boot, the output passes raw.
- **Which REPL.** The friendly and raw REPLs' banners tell which one the VM is in
  (`mode`), for the supervisor's soft reset.
- **A soft reset from the raw REPL** comes back in the raw REPL on rp2, its friendly
  banner unseen: boot.py's output is passed on; after "repl", the friendly banner and
  prompt are held back, up to the raw REPL's "raw REPL; CTRL-B...".
"""
FRIENDLY = "friendly"
RAW = "raw"

_RAW_BANNER = b"raw REPL; CTRL-B to exit\r\n"
_FRIENDLY_BANNER = b'Type "help()" for more information.'


class ReplOutput:
    def __init__(self):
        self.last_out = b""   # the last byte cooked, across reads and VMs
        self.new_vm(FRIENDLY)

    def new_vm(self, mode):
        """A new VM starts, in `mode` (RAW: after a soft reset from the raw REPL)."""
        self.mode = FRIENDLY        # the REPL the VM is in (from its output)
        self.tail = b""             # the end of the output so far, to find banners across reads
        self.hide_banner = mode == RAW
        self.held = b""
        self.raw_output = False     # mpremote mount's binary protocol seen: no more cooking

    def take(self, data, at_repl):
        """What the host gets of `data`, the VM's output (`at_repl`: boot.py and main.py
        are done, the REPL's banner is next)."""
        data = self.cook(data)
        out = b""
        if self.hide_banner:
            if not at_repl:
                return self._pass_on(data)
            self.held += data
            i = self.held.find(b"raw REPL;")
            if i < 0:
                return out
            j = self.held.find(b"MicroPython ", 0, i)
            if j > 0:
                out = self._pass_on(self.held[:j])
            data, self.held, self.hide_banner = self.held[i:], b"", False
        return out + self._pass_on(data)

    def _pass_on(self, data):
        self.track_mode(data)
        return data

    def cook(self, data):
        """rp2's cooked output (see the module)."""
        if self.raw_output:
            return data
        i = data.find(b"\x18")
        if i >= 0:
            self.raw_output = True
            return self.cook(data[:i]) + data[i:]
        out = bytearray()
        prev = self.last_out
        start = 0
        i = data.find(b"\n")
        while i >= 0:
            before = data[i - 1:i] if i > 0 else prev
            out += data[start:i]
            out += b"\n" if before == b"\r" else b"\r\n"
            start = i + 1
            i = data.find(b"\n", start)
        out += data[start:]
        if data:
            self.last_out = data[-1:]
        return bytes(out)

    def track_mode(self, data):
        text = self.tail + data
        r = text.rfind(_RAW_BANNER)
        f = text.rfind(_FRIENDLY_BANNER)
        if r >= 0 or f >= 0:
            self.mode = RAW if r > f else FRIENDLY
        self.tail = text[-64:]
