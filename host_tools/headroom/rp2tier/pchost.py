"""The emulated USB host's serial side behaves like a PC's: no OUT packet without bytes.

rp2040py 0.3.6's CDC host (`rp2040py.usb.cdc.USBCDC`, ported from rp2040js) answers
every arming of the CDC bulk-OUT endpoint, 10 µs later, with `min(size, bytes it
holds)` bytes: a zero-length packet when it holds none. TinyUSB completes that transfer, the USB
interrupt schedules MicroPython's USB task, the task re-arms the endpoint, and 10 µs
later the next empty packet comes: 13-33 completions per emulated millisecond, asleep or
not, about 20 % of the CPU (issue 18: `for i in range(n): pass` 9.87 µs a pass instead
of 3.34, `time.sleep_ms(1)` returning after 151 µs). A PC's host controller sends an OUT
packet only when its driver has bytes to send; until then the device's armed endpoint
NAKs the host's OUT tokens, in hardware, with no interrupt. (rp2040py 1.0's host does
that too: it parks an arming until it has bytes. `PcHost` is the tier's host on both,
so the test that counts the packets counts the same thing on both.)

`PcHost(cdc)` wraps the CDC host in place (the installed package is not edited):

- an arming of the bulk-OUT endpoint while the host holds no bytes is remembered
  (`pending`), not answered;
- bytes the host queues later (`cdc.send_serial_byte`) complete that pending read, once
  the current batch is in (a zero-delay clock alarm, so a batch goes as one packet),
  through rp2040py's own handler, which then sends them as it always does;
- a controller reset (chip reset, re-enumeration) forgets the pending arming.

Everything else (EP0, enumeration, the IN direction, line coding) is rp2040py's own.

**Real time as a ceiling.** The flood also kept the emulated CPU from ever sleeping, so
emulated time always ran slower than the wall clock. Without it, an idle board sleeps in
WFI and rp2040py jumps straight to its next alarm: emulated time then runs hundreds of
times faster than real time, and a host program that times itself by the wall clock
(`headroom flash`, mpremote) looks hundreds of times slower to the board than a PC is:
`headroom flash` arms the watchdog at 8.4 s and feeds it between steps, and the board
reset under it, 8.4 emulated seconds later, while the host was still sending the next
step. So, with the fix, emulated time never runs ahead of the wall clock
(`RealTimeCeiling`): an alarm every 50 µs (emulated) sleeps off any lead, and keeps no
credit for time the emulator fell behind. The sleeps hold the emulator's loop, which
serves the host (the pseudo-terminal, `Emulator.call`) only between batches of 256
steps: at 1 ms a batch of an idle board lasted 0.1-0.3 s, and the host's requests
waited that long, in emulated time too (USB enumeration took 1.5 s); at 50 µs, about
13 ms. A busy board, slower than real time (2-4 times on
rp2040py 1.0, 12-30 times on 0.3.6), never waits; an idle one runs at a Pico's pace.
`packets` / `empty_packets` count the OUT packets handed to the board (the second: with
no data), with or without the fix (`enabled=False` keeps rp2040py's behaviour, counted,
to show 0.3.6's flood; on 1.0 it counts armings, which rp2040py parks). Loop thread
only, like everything the chip calls.
"""
import time

CEILING_NS = 50_000        # how often (emulated) emulated time is held to the wall clock


class RealTimeCeiling:
    """Emulated time never runs ahead of the wall clock (see above); `slept_s` in total."""

    def __init__(self, clock):
        self.clock = clock
        self.base = None           # (emulated s, wall s) it is measured from
        self.slept_s = 0.0
        self.alarm = clock.create_alarm(self._tick)
        self.alarm.schedule(CEILING_NS)

    def _tick(self):
        emu, wall = self.clock.nanos / 1e9, time.monotonic()
        lead = -1.0 if self.base is None else (emu - self.base[0]) - (wall - self.base[1])
        if lead > 0:
            time.sleep(lead)
            self.slept_s += lead
        else:
            self.base = (emu, wall)        # behind (busy): no credit for it
        self.alarm.schedule(CEILING_NS)


class PcHost:
    def __init__(self, cdc, enabled=True):
        self.cdc = cdc
        self.enabled = enabled
        self.pending = None        # size of the bulk-OUT arming not answered yet
        self.packets = 0           # OUT packets handed to the board on the bulk-OUT endpoint
        self.empty_packets = 0     # ... of them with no data (only with enabled=False)
        usb = cdc.usb
        self._read = usb.on_endpoint_read
        self._push = cdc.send_serial_byte
        self._reset = usb.on_reset
        self._kicking = False      # the kick alarm is set
        self._kick_alarm = usb.rp2040.clock.create_alarm(self._kick)
        usb.on_endpoint_read = self._on_endpoint_read
        usb.on_reset = self._on_reset
        cdc.send_serial_byte = self._send_serial_byte
        self.ceiling = RealTimeCeiling(usb.rp2040.clock) if enabled else None

    def _on_endpoint_read(self, endpoint, size):
        cdc = self.cdc
        if endpoint <= 0 or endpoint != cdc._out_endpoint:
            self._read(endpoint, size)       # EP0 (line coding's data stage): rp2040py's
            return
        if self.enabled and cdc.tx_fifo.item_count == 0:
            self.pending = size              # NAK until the host has bytes
            return
        self.pending = None
        self.packets += 1
        if cdc.tx_fifo.item_count == 0:
            self.empty_packets += 1
        self._read(endpoint, size)

    def _send_serial_byte(self, data):
        self._push(data)
        if self.pending is not None and not self._kicking:
            self._kicking = True
            self._kick_alarm.schedule(0)

    def _kick(self):
        self._kicking = False
        size, self.pending = self.pending, None
        if size is not None and self.cdc._out_endpoint > 0:
            self._on_endpoint_read(self.cdc._out_endpoint, size)

    def _on_reset(self):
        self.pending = None
        self._kicking = False
        self._kick_alarm.cancel()
        if self._reset is not None:
            self._reset()
