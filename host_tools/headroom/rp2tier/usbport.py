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
import errno
import os
import select
import termios

PUMP_NS = 100_000      # retry feeding the USB receive FIFO after 0.1 ms (emulated) when full
WATCH_S = 0.02         # how often (wall clock) to look for a program opening the port


def raw_termios(fd):
    """cfmakeraw on the pseudo-terminal: bytes pass unchanged, nothing echoed."""
    attr = termios.tcgetattr(fd)
    attr[0] &= ~(termios.IGNBRK | termios.BRKINT | termios.PARMRK | termios.ISTRIP | termios.INLCR
                 | termios.IGNCR | termios.ICRNL | termios.IXON | termios.IXOFF)
    attr[1] &= ~termios.OPOST
    attr[2] = (attr[2] & ~(termios.CSIZE | termios.PARENB)) | termios.CS8
    attr[3] = 0
    attr[6][termios.VMIN] = 1
    attr[6][termios.VTIME] = 0
    termios.tcsetattr(fd, termios.TCSANOW, attr)


class UsbPort:
    def __init__(self, emu, link=None):
        """`link`: where the port appears (a symlink to the current pseudo-terminal), or
        None for no pseudo-terminal at all (taps and send() only)."""
        self.emu = emu
        self.link = link
        self.master = None
        self.pty = None          # the current pseudo-terminal's name (/dev/pts/N)
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
        if self.link is None:
            return
        self._close()
        self.master, slave = os.openpty()
        raw_termios(slave)
        self.pty = os.ttyname(slave)
        os.close(slave)           # POLLHUP on the master now says nobody has the port open
        os.set_blocking(self.master, False)
        tmp = self.link + ".new"
        try:
            os.unlink(tmp)
        except OSError:
            pass
        os.symlink(self.pty, tmp)
        os.replace(tmp, self.link)
        self._gen += 1
        self._watching = False
        self._watch(self._gen)

    def unplug(self):
        """The chip reset: the board is gone from USB."""
        self.plugged = False
        self.inq.clear()
        self._close()
        if self.link is not None:
            try:
                os.unlink(self.link)
            except OSError:
                pass

    def close(self):
        self.unplug()

    def _close(self):
        loop = self.emu.loop
        self.outq.clear()
        if self.master is not None:
            if self._reading:
                loop.remove_reader(self.master)
            if self._writing:
                loop.remove_writer(self.master)
            self._reading = self._writing = False
            os.close(self.master)
            self.master = None

    def host_connected(self):
        """A program has the pseudo-terminal open."""
        if self.master is None:
            return False
        p = select.poll()
        p.register(self.master, select.POLLIN)
        return not any(ev & select.POLLHUP for _fd, ev in p.poll(0))

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
        try:
            data = os.read(self.master, 65536)
        except BlockingIOError:
            return
        except OSError as e:
            data = b""
            if e.errno != errno.EIO:
                raise
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
        try:
            while self.outq:
                n = os.write(self.master, self.outq)
                del self.outq[:n]
        except BlockingIOError:
            pass
        except OSError:  # closed just now
            self.outq.clear()
        if self.outq and not self._writing:
            self.emu.loop.add_writer(self.master, self._flush)
            self._writing = True
        elif not self.outq and self._writing:
            self.emu.loop.remove_writer(self.master)
            self._writing = False
