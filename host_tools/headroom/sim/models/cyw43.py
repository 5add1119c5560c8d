"""A Pico W's CYW43439, as MicroPython's `network.WLAN` sees it, and the access point it
joins: the simulated board's network (the `network` shim, sim/shims/network.py, reaches
it as `sim.peripherals["cyw43"]`).

Not the gSPI bus (the rp2 tier runs MicroPython's real driver on rp2040py's CYW43439): the
join as the driver reports it, on the board's virtual clock. `connect()` starts a join
that takes ASSOC_US, then DHCP_US for an address; `status()` says where it is, with the
CYW43_LINK_* codes rp2's WLAN.status() returns: 0 down, 1 joining, 2 joined without an
address, 3 up, -2 no such network, -3 the key refused.

The world around it, for tests, scenarios and the panel:
- `ap` False: the access point vanished (a join finds no network after SCAN_US; a link
  up goes down);
- `dhcp` False: the join completes and no address ever comes (status 2 for good);
- `key`: what the access point takes (None: any key).

The board's address is 127.0.0.1: the web server's sockets are the desktop's
(sim/net.py; the virtual board's VM, its own Unix-port sockets). Its LED (WL_GPIO0,
machine.Pin("LED")) is the shim's GP25.
"""
from ..part import Part

ASSOC_US = 1200000
DHCP_US = 400000
SCAN_US = 3000000
DOWN, JOIN, NOIP, UP, NONET, BADAUTH = 0, 1, 2, 3, -2, -3
WORDS = {DOWN: "down", JOIN: "joining", NOIP: "no address", UP: "up", NONET: "no network",
         BADAUTH: "key refused"}
IP = "127.0.0.1"


class CYW43(Part):
    chip = "cyw43"

    def __init__(self, sim, ssid="home", key=None):
        self.sim = sim
        self.ssid = ssid      # the access point's network
        self.key = key        # what it takes (None: any)
        self.ap = True
        self.dhcp = True
        self.active = False
        self.country = None
        self.hostname = None
        self._join = None     # (ssid, key, started us) of the join under way, or None
        self._shown = None

    @classmethod
    def timeline_line(cls, name, state, fields):
        return "wifi %s%s" % (state.get("link"), " " + state["ip"] if state.get("ip") else "")

    def attach(self):
        self.sim.peripherals["cyw43"] = self

    # ---- the world
    def set_ap(self, on):
        self.ap = bool(on)
        self.sim.emit("input", [("what", "wifi ap"), ("on", self.ap)])
        self._publish()

    def set_dhcp(self, on):
        self.dhcp = bool(on)
        self.sim.emit("input", [("what", "wifi dhcp"), ("on", self.dhcp)])
        self._publish()

    # ---- network.WLAN
    def connect(self, ssid, key):
        if not self.active:
            raise OSError(1, "EPERM")   # rp2: the interface must be active first
        self._join = (ssid, key, self.sim.clock.now_us)
        self._publish()

    def disconnect(self):
        self._join = None
        self._publish()

    def status(self):
        j = self._join
        if j is None or not self.active:
            return DOWN
        dt = self.sim.clock.now_us - j[2]
        if not self.ap or j[0] != self.ssid:
            return JOIN if dt < SCAN_US else NONET
        if dt < ASSOC_US:
            return JOIN
        if self.key is not None and j[1] != self.key:
            return BADAUTH
        if not self.dhcp or dt < ASSOC_US + DHCP_US:
            return NOIP
        return UP

    def ifconfig(self):
        up = self.status() == UP
        return (IP if up else "0.0.0.0", "255.255.255.0", IP if up else "0.0.0.0", "0.0.0.0")

    def _publish(self):
        st = self.status()
        if st != self._shown:
            self._shown = st
            self.sim.emit("chip", [("chip", "cyw43"), ("state", [
                ("link", WORDS[st]), ("ip", IP if st == UP else None)])])
