"""Talking to a running board over its USB serial port: the control protocol's host side.

One request line, one JSON reply line; lines that are not replies (pushed events,
anything else the board prints) are skipped while waiting. See the README's
"Control protocol" for the commands.
"""
import json
import time

RASPBERRY_PI_VID = 0x2E8A  # the Pico's USB vendor id (MicroPython's CDC port)


class ControlError(Exception):
    pass


def find_port():
    """The one attached MicroPython Pico's serial port; ControlError when none or several."""
    from serial.tools import list_ports
    ports = [p.device for p in list_ports.comports() if p.vid == RASPBERRY_PI_VID]
    if not ports:
        raise ControlError("no Pico found: plug it in (not in BOOTSEL mode) or give --port")
    if len(ports) > 1:
        raise ControlError("several Picos attached (%s): choose one with --port" % ", ".join(ports))
    return ports[0]


class Link:
    """A serial port with the bytes read but not yet used (half a line, the next line)."""

    def __init__(self, ser):
        self.ser = ser
        self.buf = b""

    def write(self, data):
        self.ser.write(data)

    def close(self):
        self.ser.close()

    def next_json(self, until):
        """The next line that is a JSON object, or None at `until` (time.monotonic())."""
        while True:
            while b"\n" in self.buf:
                line, self.buf = self.buf.split(b"\n", 1)
                text = line.strip().decode("utf-8", "replace")
                if text.startswith("{"):
                    try:
                        obj = json.loads(text)
                    except ValueError:
                        continue
                    if isinstance(obj, dict):
                        return obj
            if time.monotonic() >= until:
                return None
            self.buf += self.ser.read(256)


def open_port(port):
    import serial
    try:
        return Link(serial.Serial(port, 115200, timeout=0.05))
    except (OSError, serial.SerialException) as e:
        raise ControlError("cannot open %s: %s" % (port, e))


def request(link, line, timeout=2.0):
    """Send one command; returns its reply (a dict with "ok"), skipping events."""
    link.write(line.encode() + b"\n")
    until = time.monotonic() + timeout
    while True:
        obj = link.next_json(until)
        if obj is None:
            raise ControlError("no reply to %r within %.1f s: is the Headroom firmware running?"
                               % (line, timeout))
        if "ok" in obj:
            return obj


def monitor(link, out, stop=lambda: False):
    """Ask for events and write each as a line to `out` until stop() or Ctrl-C."""
    request(link, "monitor on")
    try:
        while not stop():
            obj = link.next_json(time.monotonic() + 0.2)
            if obj is not None and obj.get("event"):
                out.write(json.dumps(obj) + "\n")
                out.flush()
    except KeyboardInterrupt:
        pass
    finally:
        try:
            request(link, "monitor off", timeout=0.5)
        except ControlError:
            pass
