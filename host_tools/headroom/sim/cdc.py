"""The Pico's USB serial port (CDC) as MicroPython's rp2 port gives it to the firmware
(1.24.1, and 1.26.1's TX loop where `Sim.micropython` says so), and the host at its other end.

The firmware's own console (headroom_fw/console.py, `UsbConsole`) runs on it: the
simulator hands it this model's `stdin`, `stdout` and the model itself as `select`, in
place of `sys.stdin.buffer`, `sys.stdout.buffer` and the `select` module. What the port
does, from its sources (shared/tinyusb/mp_usbd_cdc.c, shared/runtime/sys_stdio_mphal.c,
extmod/modselect.c, ports/rp2/mphalport.c):

- Host to board: bytes wait in the port (stdin's ring buffer, then USB flow control
  holds the host back); POLLIN says at least one byte waits. `readinto(buf)` and
  `read(n)` wait until all of `buf` / `n` bytes came: a firmware that asks for more
  than POLLIN promised would hang the loop, a fault here.
- Board to host: a TX FIFO of TX_FIFO bytes (CFG_TUD_CDC_TX_BUFSIZE, full speed). While
  a host has the port open (DTR, `connected`), a write goes in chunks of up to 64 bytes
  (CFG_TUD_CDC_EP_BUFSIZE), each waiting up to TX_TIMEOUT_MS (MICROPY_HW_USB_CDC_TX_TIMEOUT)
  of virtual time for room, interrupts served meanwhile, then writing what fits and
  giving up on the rest once nothing fits; 1.26.1 writes what fits at once and waits
  only while nothing fits, up to TX_TIMEOUT_MS after the last progress (`tx`). With no
  host the FIFO keeps the newest bytes and a write never waits. POLLOUT: no host, or at
  least one byte of room.
- A host that reads (`reading`, the default) empties the FIFO at once; one that stops
  (`stop_reading()`: a paused `headroom monitor | less`) leaves it to fill, and gets
  what it holds when it reads again (`start_reading()`).
- Allocation as the port does it: `poll(0)` returns a new list of new tuples, `read(n)`
  new bytes; `ipoll`, `readinto`, `write` nothing (the model's own work is bracketed
  with sim_enter/sim_exit, so the benchmark counts only the firmware's bytes).

The host side keeps SimConsole's interface for the tests: `send(text)`; `out`, every
line the host received, in order; `replies()`, those that are not pushed events. Lines
go to the trace as `serial` records when the host receives them (`dir` "in" when it
sends, "out" per line received, "reset" when the firmware starts).
"""

POLLIN = 0x0001    # MP_STREAM_POLL_RD
POLLOUT = 0x0004   # MP_STREAM_POLL_WR
POLLERR = 0x0008
POLLHUP = 0x0010

TX_FIFO = 256          # CFG_TUD_CDC_TX_BUFSIZE on a full-speed port (rp2)
EP_CHUNK = 64          # CFG_TUD_CDC_EP_BUFSIZE: mp_usbd_cdc_tx_strn's chunk
TX_TIMEOUT_MS = 500    # MICROPY_HW_USB_CDC_TX_TIMEOUT


class _Poll:
    """select.poll() over the model's streams."""

    def __init__(self, cdc):
        self.cdc = cdc
        self.objs = []      # [obj, mask, ready-tuple]
        self._none = ()

    def register(self, obj, mask=POLLIN | POLLOUT):
        for e in self.objs:
            if e[0] is obj:
                e[1] = mask
                return
        self.objs.append([obj, mask, None])

    def modify(self, obj, mask):
        for e in self.objs:
            if e[0] is obj:
                e[1] = mask
                return
        raise OSError(2)  # MP_ENOENT, as modselect.c

    def unregister(self, obj):
        self.objs = [e for e in self.objs if e[0] is not obj]

    def _revents(self, e):
        return e[0].ioctl_poll(e[1])

    def poll(self, timeout=-1):
        """A new list of new (obj, revents) tuples: what the port allocates."""
        t = self.cdc.sim.sim_enter()
        try:
            self.cdc.charge_poll()
            got = [(e[0], self._revents(e)) for e in self.objs]
        finally:
            self.cdc.sim.sim_exit(t)
        return [(o, r) for (o, r) in got if r]

    def ipoll(self, timeout=-1, flags=0):
        """Something to iterate at once, allocated once (the port returns the poll
        object itself and reuses one tuple)."""
        t = self.cdc.sim.sim_enter()
        try:
            self.cdc.charge_poll()
            ready = None
            for e in self.objs:
                r = self._revents(e)
                if r:
                    if e[2] is None or e[2][0][1] != r:
                        e[2] = ((e[0], r),)
                    ready = e[2]
                    break   # the firmware registers one stream per poll object
        finally:
            self.cdc.sim.sim_exit(t)
        return ready if ready is not None else self._none


class _Stdin:
    def __init__(self, cdc):
        self.cdc = cdc

    def ioctl_poll(self, mask):
        return POLLIN if mask & POLLIN and self.cdc.rx_waiting() else 0

    def readinto(self, buf, n=None):
        n = len(buf) if n is None else min(n, len(buf))
        cdc = self.cdc
        t = cdc.sim.sim_enter()
        try:
            data = cdc.take(n)
            for i in range(n):
                buf[i] = data[i]
        finally:
            cdc.sim.sim_exit(t)
        return n

    def read(self, n):
        cdc = self.cdc
        t = cdc.sim.sim_enter()
        try:
            data = cdc.take(n)
        finally:
            cdc.sim.sim_exit(t)
        return bytes(data)   # a new bytes object, as the port makes


class _Stdout:
    def __init__(self, cdc):
        self.cdc = cdc

    def ioctl_poll(self, mask):
        return POLLOUT if mask & POLLOUT and self.cdc.tx_writable() else 0

    def write(self, buf, off=0, n=None):
        """stream write(buf[, off, n]) (MicroPython's 4-argument form too): the bytes of
        `buf` (str: its UTF-8) from `off`, `n` of them, through mp_usbd_cdc_tx_strn."""
        sim = self.cdc.sim
        t = sim.sim_enter()
        try:
            if n is None:
                n = len(buf) - off
            return self.cdc.tx(buf, off, n)
        finally:
            sim.sim_exit(t)


class SimCdc:
    """The USB serial port: the firmware's streams, and the host's end (send, out)."""

    POLLIN = POLLIN    # as the select module has them
    POLLOUT = POLLOUT

    def __init__(self, sim):
        self.sim = sim
        self.stdin = _Stdin(self)
        self.stdout = _Stdout(self)
        self.pending = bytearray()   # host to board, not read yet
        self.fifo = bytearray()      # board to host, not taken by the host yet
        self.connected = True        # a host has the port open (DTR)
        self.reading = True          # and reads what comes
        self.out = []                # lines the host received
        self._partial = bytearray()  # the host's line so far
        self.waited_us = 0           # virtual time the firmware spent waiting in writes
        self.writes_waited = 0       # writes that waited

    # ---- select
    def poll(self):
        return _Poll(self)

    def charge_poll(self):
        self.sim.charge(self.sim.cost.console_poll())

    # ---- the firmware's start
    def reset(self):
        """The firmware starts: what was sent before (to a dead or booting MCU, or the
        REPL) is gone, and no reply will come for it (a `serial` record, dir "reset")."""
        self.pending = bytearray()
        self.fifo = bytearray()
        self._partial = bytearray()
        self.sim.emit("serial", [("dir", "reset")])

    # ---- host to board
    def send(self, text):
        """The host writes `text` (str or bytes). The trace records it, but for a WiFi
        key (`wifi set SSID KEY`), which no file the board's tools write may hold."""
        data = text.encode() if isinstance(text, str) else bytes(text)
        self.pending.extend(data)
        self.sim.emit("serial", [("dir", "in"), ("data", redact(data.decode("latin-1")))])

    def rx_waiting(self):
        return len(self.pending) > 0 and self.sim.mcu_powered

    def take(self, n):
        if len(self.pending) < n:
            self.sim.fault("the firmware read %d bytes from the USB serial port where %d "
                           "waited: rp2's stdin waits for all of them (a hung loop)"
                           % (n, len(self.pending)))
        data = self.pending[:n]
        self.pending = self.pending[n:]
        self.sim.charge(self.sim.cost.console_byte() * n)
        return data

    # ---- board to host
    def tx_writable(self):
        return not self.connected or len(self.fifo) < TX_FIFO

    def tx(self, buf, off, n):
        """mp_usbd_cdc_tx_strn as the release has it (`Sim.micropython`); returns the bytes
        written. (Inside sim_enter: the port allocates nothing here.)"""
        data = buf.encode() if isinstance(buf, str) else bytes(buf)
        data = data[off:off + n]
        if self.sim.micropython >= (1, 26, 1):
            return self._tx_1_26_1(data)
        return self._tx_1_24(data)

    def _tx_1_26_1(self, data):
        """1.26.1 rewrote the loop ("shared/tinyusb/mp_usbd_cdc: rewrite USB CDC TX loop",
        in its release notes): no chunks; while connected it writes what fits at once,
        and waits (1 ms at a time) only while nothing fits, giving up TX_TIMEOUT_MS after
        the last byte that went in (any progress restarts the count)."""
        sim = self.sim
        i = 0
        last = waited = 0
        while i < len(data):
            k = len(data) - i
            if self.connected:
                k = min(k, TX_FIFO - len(self.fifo))
            if k:
                self._to_fifo(data[i:i + k])
                i += k
                last = waited
                continue
            if waited - last >= TX_TIMEOUT_MS:
                break
            sim.sleep_us(1000)             # mp_event_wait_ms(1): interrupts run meanwhile
            waited += 1
        if waited:
            self.waited_us += waited * 1000
            self.writes_waited += 1
        sim.charge(sim.cost.console_byte() * i)
        return i

    def _tx_1_24(self, data):
        """Up to 1.26.0: chunks of EP_CHUNK, each waiting up to TX_TIMEOUT_MS for room for
        the whole chunk while a host is connected, then writing what fits, and giving up
        once nothing fits."""
        sim = self.sim
        i = 0
        while i < len(data):
            k = min(len(data) - i, EP_CHUNK)
            if self.connected:
                waited = 0
                while k > TX_FIFO - len(self.fifo) and waited < TX_TIMEOUT_MS:
                    sim.sleep_us(1000)     # mp_event_wait_ms(1): interrupts run meanwhile
                    waited += 1
                if waited:
                    self.waited_us += waited * 1000
                    self.writes_waited += 1
                k = min(k, TX_FIFO - len(self.fifo))
                if k == 0:
                    break
            self._to_fifo(data[i:i + k])
            i += k
        sim.charge(sim.cost.console_byte() * i)
        return i

    def _to_fifo(self, chunk):
        self.fifo.extend(chunk)
        if not self.connected and len(self.fifo) > TX_FIFO:
            self.fifo = self.fifo[-TX_FIFO:]   # no host: the newest bytes stay
        if self.connected and self.reading:
            self._drain()

    def _drain(self):
        data = self.fifo
        self.fifo = bytearray()
        for b in data:
            if b == 10:
                line = self._partial.decode("latin-1")
                self._partial = bytearray()
                self.out.append(line)
                self.sim.emit("serial", [("dir", "out"), ("line", line)])
            else:
                self._partial.append(b)

    # ---- the host
    def stop_reading(self):
        """The host keeps the port open but reads nothing (a paused pipe)."""
        self.reading = False

    def start_reading(self):
        """The host reads again: first what the FIFO held, then everything as it comes."""
        self.reading = True
        if self.connected:
            t = self.sim.sim_enter()
            try:
                self._drain()
            finally:
                self.sim.sim_exit(t)

    def replies(self):
        """Lines received that are replies (not pushed events), oldest first."""
        return [x for x in self.out if not x.startswith('{"event"')]


def redact(text):
    """`text` with the key of any `wifi set SSID KEY` line replaced by `<key>`."""
    if "wifi" not in text:
        return text
    out = []
    for line in text.split("\n"):
        t = line.split(" ")
        if len(t) >= 4 and t[0].strip() == "wifi" and t[1] == "set":
            line = " ".join(t[:3] + ["<key>"])
        out.append(line)
    return "\n".join(out)
