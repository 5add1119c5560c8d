"""Drop-in `network` for the firmware on a simulated Pico W: WLAN over the board's
CYW43439 model (sim/models/cyw43.py), on its virtual clock. A board without one has no
WiFi: WLAN() raises OSError, as MicroPython's would on a chip that is not there.

On CPython `headroom.sim.shims.install` makes this `network`; on the MicroPython VM the
shims directory is on sys.path first.
"""
from headroom.sim.shims.shimbase import busy as _busy
from headroom.sim.shims.shimbase import running_sim as _sim

STA_IF = 0
AP_IF = 1
STAT_IDLE = 0
STAT_CONNECTING = 1
STAT_GOT_IP = 3
STAT_NO_AP_FOUND = -2
STAT_WRONG_PASSWORD = -3


def _chip():
    s = _sim()
    _busy(s)
    c = s.peripherals.get("cyw43")
    if c is None:
        raise OSError(19, "ENODEV: no CYW43 on this board")
    return c


def country(code=None):
    c = _chip()
    if code is None:
        return c.country or "XX"
    c.country = code


def hostname(name=None):
    c = _chip()
    if name is None:
        return c.hostname or "PicoW"
    c.hostname = name


class WLAN:
    IF_STA = STA_IF
    IF_AP = AP_IF
    PM_NONE = 0x000010
    PM_PERFORMANCE = 0xA11142
    PM_POWERSAVE = 0x000011

    def __init__(self, interface=STA_IF):
        if interface != STA_IF:
            raise OSError(95, "EOPNOTSUPP: the simulated CYW43 has no access point mode")
        self._c = _chip()

    def active(self, on=None):
        _busy(self._c.sim)
        if on is None:
            return self._c.active
        self._c.active = bool(on)
        if not on:
            self._c.disconnect()

    def connect(self, ssid, key=None):
        _busy(self._c.sim)
        self._c.connect(ssid, key)

    def disconnect(self):
        _busy(self._c.sim)
        self._c.disconnect()

    def status(self, param=None):
        _busy(self._c.sim)
        if param is not None:
            raise ValueError("unknown status param")
        st = self._c.status()
        self._c._publish()
        return st

    def isconnected(self):
        return self.status() == STAT_GOT_IP

    def ifconfig(self):
        _busy(self._c.sim)
        return self._c.ifconfig()

    def config(self, *args, **kw):
        _busy(self._c.sim)
        for k in kw:
            if k not in ("pm", "hostname", "txpower"):
                raise ValueError("unknown config param")
        if args:
            if args[0] == "mac":
                return b"\x28\xcd\xc1\x00\x00\x01"
            if args[0] == "ssid":
                return self._c.ssid
            raise ValueError("unknown config param")
