"""The table a simulated board is built from: each board-file section and the part
(sim/part.py) that models it. SimBoard plugs them in in this order (the jack after the
parts it follows, so a soft reset restores it after them too) and keeps each as the
attribute named in the table (None where the board has no such part).

A new part is a model file and one row here: `(attribute, fn(SimBoard) -> Part or None)`.
"""
from .models.controls import HardwareMute, PowerSense, RotaryEncoder, Switch, ThreePositionSwitch
from .models.jack import Jack
from .models.pga2311 import PGA2311Chain
from .models.relay import Relay
from .part import Part


class RelaySense(Part):
    """A contact of a relay to ground on a GPIO: low while the contacts are energized."""

    def __init__(self, sim, relay, gpio):
        self.sim = sim
        self.relay = relay
        self.gpio = gpio

    def attach(self):
        self.relay.listeners.append(self._follow)
        self._follow()

    def _follow(self):
        self.sim.gpio[self.gpio].drive("relay.%s.sense" % self.relay.name,
                                       0 if self.relay.energized else None)


def _pga2311(sb):
    b = sb.board
    return PGA2311Chain(sb.sim, b.spi_id, b.pga_cs, b.pga_mute,
                        b.pga_zcen if b.pga_zcen is not None else b.pga_zc,
                        len(b.pga_roles) // 2)


def _relay(name):
    def make(sb):
        r = getattr(sb.board, name + "_relay")
        if r is None:
            return None
        return Relay(sb.sim, name, r.pin, r.active_high, r.operate_ms, r.release_ms)
    return make


def _relay_sense(name):
    def make(sb):
        r = getattr(sb.board, name + "_relay")
        if r is None or r.sense is None:
            return None
        return RelaySense(sb.sim, getattr(sb, name + "_relay"), r.sense)
    return make


def _pcm5102a(sb):
    from .models.pcm5102a import PCM5102A
    b = sb.board
    return PCM5102A(sb.sim, b.i2s_sck, b.i2s_sd, xsmt=b.dac_xsmt, record=sb.record_dac)


def _pcm5122(sb):
    from .models.pcm5122 import PCM5122
    b = sb.board
    addr = b.dac_addr - 0x4C
    return PCM5122(sb.sim, b.dac_i2c_id, b.i2s_sck, b.i2s_sd, adr1=addr & 1, adr2=addr >> 1,
                   xsmt=b.dac_xsmt, record=sb.record_dac)


DACS = {"pcm5102a": _pcm5102a, "pcm5122": _pcm5122}   # the board file's dac.chip


def _display(sb):
    """The board file's `display` section (None: no display): an SSD1306 or SH1106 on I2C,
    or an SSD1306 on SPI with its CS, DC and RES# pins."""
    d = getattr(sb.board, "display", None)
    if d is None:
        return None
    from .models.oled import CHIPS
    cls = CHIPS[d.chip]
    if d.bus == "spi":
        return cls(sb.sim, d.width, d.height, spi_bus=d.spi_id, cs=d.cs, dc=d.dc, res=d.res)
    return cls(sb.sim, d.width, d.height, i2c_bus=d.i2c_id, addr=d.addr)


def _chip_parts():
    from .models.cyw43 import CYW43
    from .models.oled import OLED
    from .models.pcm5102a import PCM5102A
    from .models.pcm5122 import PCM5122
    return {cls.chip: cls for cls in (PGA2311Chain, Relay, Jack, PCM5102A, PCM5122,
                                      OLED, CYW43)}


_CHIPS = []


def chip_part(name):
    """The Part class whose trace records carry chip name `name` ("relay.mute": Relay);
    Part itself for a name no part claims (its records shown as they are)."""
    if not _CHIPS:
        _CHIPS.append(_chip_parts())
    return _CHIPS[0].get(name.split(".")[0], Part)


def _dac(sb):
    make = DACS.get(sb.board.dac)
    return make(sb) if make is not None else None


def _jack(sb):
    b = sb.board
    return Jack(sb.sim, b, sb.pga, sb.mute_relay, sb.gain_relay, sb.output_relay,
                xsmt=b.dac_xsmt if b.dac else None)


def _encoder(sb):
    b = sb.board
    return RotaryEncoder(sb.sim, b.enc_a, b.enc_b, b.edges_per_detent, sb.rng)


def _button(sb):
    return Switch(sb.sim, sb.board.button, "button", sb.rng)


def _gain_switch(sb):
    b = sb.board
    if len(b.gain_switch_pins) == 2:
        return ThreePositionSwitch(sb.sim, b.gain_switch_pins, "gain_switch", sb.rng)
    if b.gain_switch is not None:
        return Switch(sb.sim, b.gain_switch, "gain_switch", sb.rng)
    return None


def _output_switch(sb):
    b = sb.board
    return Switch(sb.sim, b.output_switch, "output_switch", sb.rng) \
        if b.output_switch is not None else None


def _power_sense(sb):
    b = sb.board
    return PowerSense(sb.sim, b.power_sense, b.holdup_ms) if b.power_sense is not None else None


def _hardware_mute(sb):
    b = sb.board
    if not b.hardware_mute:
        return None
    r = b.mute_relay
    return HardwareMute(sb.sim, b.pga_mute, r.pin, 0 if r.active_high else 1,
                        b.dac_xsmt if b.dac else None, b.dac_mute_ms)


def _ir(sb):
    """The board file's `ir` section: a demodulating receiver on its GPIO."""
    b = sb.board
    if b.ir_pin is None:
        return None
    from .models.irrx import IrReceiver
    return IrReceiver(sb.sim, b.ir_pin, seed=sb.seed)


def _source(sb):
    """The board file's `inputs.source` "external": the module that is the I2S master."""
    b = sb.board
    if getattr(b, "source", "pico") != "external":
        return None
    from .models.source import ExternalSource
    return ExternalSource(sb.sim, b)


def _wifi(sb):
    """The board file's `wifi` section: a Pico W's CYW43439 and the access point it joins."""
    if getattr(sb.board, "wifi", None) is None:
        return None
    from .models.cyw43 import CYW43
    return CYW43(sb.sim)


PARTS = (
    ("pga", _pga2311),                      # pga2311
    ("mute_relay", _relay("mute")),         # relays.mute
    ("mute_relay_sense", _relay_sense("mute")),
    ("gain_relay", _relay("gain")),         # relays.gain
    ("gain_relay_sense", _relay_sense("gain")),
    ("output_relay", _relay("output")),     # relays.output
    ("output_relay_sense", _relay_sense("output")),
    ("dac", _dac),                          # dac (DACS)
    ("jack", _jack),                        # the output stages and relays to the jack
    ("encoder", _encoder),                  # encoder
    ("button", _button),                    # encoder.button
    ("gain_switch", _gain_switch),          # switches.gain
    ("output_switch", _output_switch),      # switches.output
    ("power_sense", _power_sense),          # power_sense
    ("hardware_mute", _hardware_mute),      # power_sense.hardware_mute
    ("display", _display),                  # display (None without one)
    ("ir_rx", _ir),                         # ir (None without a receiver)
    ("source", _source),                    # inputs.source "external"
    ("wifi", _wifi),                        # wifi (a Pico W's CYW43439)
)
