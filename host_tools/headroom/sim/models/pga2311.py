"""PGA2311 stereo volume control, one chip or a daisy chain, as its datasheet describes it.

Serial port: 16-bit word per chip, right byte first, MSB first, data taken on
the rising SCLK edge (SPI mode 0), SCLK up to 6.25 MHz, latched into the gain
registers when CS rises. Chips share CS and SCLK; each chip's SDO feeds the next
chip's SDI, so the first word shifted in ends up in the farthest chip.
Gain = 31.5 - 0.5 * (255 - N) dB, N = 0 is mute. MUTE (active low) mutes at
once. With ZCEN high a new gain waits for a positive-slope zero crossing or the
16 ms time-out; no signal is modelled, so it always takes the time-out, and a
new write before then replaces the pending value. At power-up the gains are 0 (mute).

Misuse is a fault: wrong SPI mode or word size, a clock above 6.25 MHz, or CS
rising after anything but 16 bits per chip.
"""
from ..part import Part
from ..trace import Db

MAX_SCLK_HZ = 6250000
ZC_TIMEOUT_US = 16000


class _Chip:
    def __init__(self):
        self.sr = 0
        self.reset()

    def reset(self):
        self.sr = 0
        self.codes = [0, 0]      # effective (left, right)

    def shift(self, byte):
        """Clock 8 bits in at SDI; returns the 8 bits that left at SDO."""
        v = (self.sr << 8) | byte
        self.sr = v & 0xFFFF
        return (v >> 16) & 0xFF


class PGA2311Chain(Part):
    chip = "pga2311"

    @classmethod
    def invariants_view(cls, checker, t, name, state):
        checker.pga_state(t, name, checker.level(state["left"]), checker.level(state["right"]),
                          state["mute"])

    @classmethod
    def timeline_line(cls, name, state, fields):
        return None   # the SPI frame before it and the jack after it say it

    def __init__(self, sim, spi_id, cs, mute, zcen, chips, name="pga2311"):
        """`zcen`: the GPIO on ZCEN, or True/False for ZCEN tied high/low on the board."""
        self.sim = sim
        self.spi_id = spi_id
        self.cs = cs
        self.mute_gpio = mute
        self.zcen_gpio = zcen
        self.name = name
        self.chips = [_Chip() for _ in range(chips)]
        self.bits = 0
        self.powered = False
        self._event = None       # the latched gains waiting for the zero-crossing time-out
        self.listeners = []
        self._last = [None] * chips

    def attach(self):
        sim = self.sim
        sim.gpio[self.cs].listeners.append(self._on_cs)
        sim.gpio[self.mute_gpio].listeners.append(self._on_mute)
        sim.on_power.append(self._on_power)
        sim.add_spi_device(self.spi_id, self)

    # ---- pins
    def muted(self):
        return self.sim.gpio[self.mute_gpio].level != 1

    def zc_enabled(self):
        if self.zcen_gpio is None or self.zcen_gpio is True:
            return True  # ZCEN tied high on the board
        if self.zcen_gpio is False:
            return False  # tied low
        return self.sim.gpio[self.zcen_gpio].level == 1

    def _on_power(self, on):
        self.powered = on
        self._cancel()
        for c in self.chips:
            c.reset()
        self.bits = 0
        self._report()

    def lose_codes(self):
        """Every chip resets (its supply dipped): gains and shift register back to zero."""
        self._cancel()
        for c in self.chips:
            c.reset()
        self._report()

    def _on_mute(self, g):
        self._report()

    def _on_cs(self, g):
        if g.level == 0:
            self.bits = 0
        elif g.level == 1 and self.powered:
            if self.bits == 0:
                return
            if self.bits != 16 * len(self.chips):
                self.sim.fault("%s: CS rose after %d bits; the chain takes %d"
                               % (self.name, self.bits, 16 * len(self.chips)))
            self.bits = 0
            new = [(c.sr & 0xFF, c.sr >> 8) for c in self.chips]  # the left byte came last
            # A new write replaces a pending one and restarts the time-out. No signal is
            # modelled, so every channel times out at the same instant: one event.
            self._cancel()
            if all(list(n) == c.codes for n, c in zip(new, self.chips)):
                return
            if self.zc_enabled():
                self._event = self.sim.clock.after(ZC_TIMEOUT_US, self._apply, new)
            else:
                self._apply(new)

    def _cancel(self):
        if self._event is not None:
            self._event.cancel()
            self._event = None

    def _apply(self, new):
        self._event = None
        for n, c in zip(new, self.chips):
            c.codes = [n[0], n[1]]
        self._report()

    # ---- the bus
    def spi_bytes(self, spi, data):
        if spi.polarity != 0 or spi.phase != 0:
            self.sim.fault("%s: needs SPI mode 0 (polarity 0, phase 0), got polarity %d phase %d"
                           % (self.name, spi.polarity, spi.phase))
        if spi.baudrate > MAX_SCLK_HZ:
            self.sim.fault("%s: SCLK %d Hz is above the 6.25 MHz maximum" % (self.name, spi.baudrate))
        if spi.bits != 8:
            self.sim.fault("%s: %d-bit SPI words; send bytes" % (self.name, spi.bits))
        if not self.powered:
            return bytes(len(data))
        out = bytearray(len(data))
        for i in range(len(data)):
            b = data[i]
            for c in self.chips:
                b = c.shift(b)
            out[i] = b
        self.bits += 8 * len(data)
        return bytes(out)

    # ---- state
    def gain_hdb(self, index):
        """Effective gain of PGA channel `index` (chip*2 + 0 left / 1 right) in hdB, None = mute."""
        c = self.chips[index >> 1]
        code = c.codes[index & 1]
        if code == 0 or self.muted() or not self.powered:
            return None
        return code - 192

    def snapshot(self):
        return {"chips": [[c.sr, c.codes[0], c.codes[1]] for c in self.chips]}

    def restore(self, s):
        self._cancel()
        self.bits = 0
        for c, (sr, left, right) in zip(self.chips, s["chips"]):
            c.sr, c.codes = sr, [left, right]
        self._report()

    def _report(self):
        mute = self.muted()
        for i, c in enumerate(self.chips):
            state = [("left", _gain(c.codes[0])), ("right", _gain(c.codes[1])), ("mute", mute)]
            key = (c.codes[0], c.codes[1], mute)
            if key != self._last[i]:
                self._last[i] = key
                self.sim.emit("chip", [("chip", "%s.%d" % (self.name, i)), ("state", state)])
        for fn in self.listeners:
            fn()


def _gain(code):
    return "mute" if code == 0 else Db(code - 192, 2)
