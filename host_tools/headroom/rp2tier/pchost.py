"""The emulated USB host's serial side behaves like a PC's: no OUT packet without bytes.

rp2040py's CDC host (`rp2040py.usb.cdc.USBCDC`, ported from rp2040js) answers every
arming of the CDC bulk-OUT endpoint, 10 µs later, with `min(size, bytes it holds)`
bytes: a zero-length packet when it holds none. TinyUSB completes that transfer, the USB
interrupt schedules MicroPython's USB task, the task re-arms the endpoint, and 10 µs
later the next empty packet comes: 13-33 completions per emulated millisecond, asleep or
not, about 20 % of the CPU (issue 18: `for i in range(n): pass` 9.87 µs a pass instead
of 3.34, `time.sleep_ms(1)` returning after 151 µs). A PC's host controller sends an OUT
packet only when its driver has bytes to send; until then the device's armed endpoint
NAKs the host's OUT tokens, in hardware, with no interrupt.

`PcHost(cdc)` wraps the CDC host in place (the installed package is not edited):

- an arming of the bulk-OUT endpoint while the host holds no bytes is remembered
  (`pending`), not answered;
- bytes the host queues later (`cdc.send_serial_byte`) complete that pending read, once
  the current batch is in (a zero-delay clock alarm, so a batch goes as one packet),
  through rp2040py's own handler, which then sends them as it always does;
- a controller reset (chip reset, re-enumeration) forgets the pending arming.

Everything else (EP0, enumeration, the IN direction, line coding) is rp2040py's own.
`packets` / `empty_packets` count the OUT packets handed to the board (the second: with
no data), with or without the fix (`enabled=False` keeps rp2040py's behaviour, counted,
to show the flood). Loop thread only, like everything the chip calls.
"""


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
