"""The emulated Pico's USB serial port (CDC) as a pseudo-terminal, with a Pico's manners.

`headroom flash`, `headroom status` and mpremote open it as they open /dev/ttyACM0
(pyserial, exclusively). rp2040py's own pty bridge keeps one pseudo-terminal for the
emulator's whole life; a Pico does not, and the host tools rely on what a Pico does:

- **It drops off USB at a reset.** When the chip resets (watchdog, `machine.reset()`,
  the RUN pin), the pseudo-terminal is closed: whoever has the port open reads end of
  file or EIO (pyserial: "device reports readiness to read but returned no data"), and
  the port's path (a link) goes away. Once the new boot has enumerated on USB, a new
  pseudo-terminal appears behind the same link. Bytes sent meanwhile are lost.
- **Output nobody listens to is dropped**, as a Pico drops it while no program has the
  port open (the host's cdc-acm driver holds DTR low then).
- **Input has USB's back-pressure.** Bytes from the host go to the emulated USB
  controller's receive FIFO (512 bytes) only as fast as the firmware takes them, never
  dropped.

Besides the pseudo-terminal, in-process listeners (`taps`) see every byte the board
writes, with its emulated time, and `send()` writes as a host would: the tier's own
console uses them.

All methods run on the emulator's loop thread.
"""
from ..ptyport import PtyPort

PUMP_NS = 100_000      # retry feeding the USB receive FIFO after 0.1 ms (emulated) when full
WATCH_S = 0.02         # how often (wall clock) to look for a program opening the port


class UsbPort:
    def __init__(self, emu, link=None):
        """`link`: where the port appears (a symlink to the current pseudo-terminal), or
        None for no pseudo-terminal at all (taps and send() only)."""
        self.emu = emu
        self.pty = None if link is None else PtyPort(link)   # the port, made at plug_in()
        self.plugged = False
        self.inq = bytearray()   # host -> board, not yet in the USB FIFO
        self.outq = bytearray()  # board -> pseudo-terminal, not yet written
        self.taps = []           # fn(t_us, data) for every byte the board writes
        self._reading = False
        self._writing = False
        self._watching = False
        self._gen = 0            # pseudo-terminals so far: a look-again for an old one stops
        self._alarm = None
        self.plugs = 0           # how many times the port appeared

    # ---- plugged in / unplugged
    def plug_in(self):
        """The board enumerated: a new pseudo-terminal behind the link."""
        self.plugged = True
        self.plugs += 1
        if self._alarm is None:
            self._alarm = self.emu.clock.create_alarm(self._pump)
        if self.pty is None:
            return
        self._close()
        self.pty.plug_in()
        self._gen += 1
        self._watching = False
        self._watch(self._gen)

    def unplug(self):
        """The chip reset: the board is gone from USB."""
        self.plugged = False
        self.inq.clear()
        self._close()
        if self.pty is not None:
            self.pty.unplug()

    def close(self):
        self.unplug()

    @property
    def master(self):
        """The board's end of the current pseudo-terminal, None while off USB."""
        return None if self.pty is None else self.pty.master

    def _close(self):
        loop = self.emu.loop
        self.outq.clear()
        if self.master is not None:
            if self._reading:
                loop.remove_reader(self.master)
            if self._writing:
                loop.remove_writer(self.master)
            self._reading = self._writing = False
            self.pty.close()

    def host_connected(self):
        """A program has the pseudo-terminal open."""
        return self.pty is not None and self.pty.host_connected()

    def _watch(self, gen):
        """Read the pseudo-terminal while a program has it open; look again later if not."""
        if gen != self._gen or self.master is None:
            return
        self._watching = False
        if self.host_connected():
            if not self._reading:
                self.emu.loop.add_reader(self.master, self._readable)
                self._reading = True
        else:
            self._watching = True
            self.emu.loop.call_later(WATCH_S, self._watch, gen)

    # ---- host -> board
    def _readable(self):
        data = self.pty.read()
        if data is None:
            return
        if not data:  # the program closed the port
            self.emu.loop.remove_reader(self.master)
            self._reading = False
            if not self._watching:
                self._watch(self._gen)
            return
        self.send(data)

    def send(self, data):
        """Bytes from the host, in order, at USB's pace; lost if the board is off USB."""
        if not self.plugged:
            return
        self.inq += data
        self._pump()

    def _pump(self):
        cdc = self.emu.dev.cdc
        fifo = cdc.tx_fifo
        n = min(len(self.inq), fifo.size - fifo.item_count)
        for b in self.inq[:n]:
            cdc.send_serial_byte(b)
        del self.inq[:n]
        if self.inq:
            self._alarm.schedule(PUMP_NS)

    # ---- board -> host
    def from_board(self, data):
        """cdc.on_serial_data: bytes the board wrote."""
        t = self.emu.now_us
        for tap in self.taps:
            tap(t, data)
        if self.master is None or not self.host_connected():
            return  # nobody listening: dropped, as on a Pico
        self.outq += data
        self._flush()

    def _flush(self):
        if self.master is None:
            return
        while self.outq:
            n = self.pty.write(self.outq)
            if n is None:  # closed just now
                self.outq.clear()
            elif n == 0:
                break
            else:
                del self.outq[:n]
        if self.outq and not self._writing:
            self.emu.loop.add_writer(self.master, self._flush)
            self._writing = True
        elif not self.outq and self._writing:
            self.emu.loop.remove_writer(self.master)
            self._writing = False
