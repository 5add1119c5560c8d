"""PCM5102A stereo DAC (hardware-controlled), as its datasheet (TI SLAS859C) describes it.

Audio in: 3-wire I2S (BCK, LRCK, DIN; SCK tied low, so the PLL runs from BCK), 16-32-bit
data in 32-, 48- or 64-BCK frames, at the rates the BCK PLL supports (PLL_RATES).
The control pins:

- XSMT low starts a soft mute: -1 dB per sample, so 104 samples from 0 dBFS to
  silence; high un-mutes with +1 dB per sample over 104 samples. The ramp advances
  once per LRCK: with the clocks stopped it waits.
- FMT low: I2S; high: left-justified. The RP2040 sends I2S, so with FMT high the
  chip reads every word one bit early (the previous word's LSB first): garbage.
- FLT selects the normal (low) or low-latency (high) interpolation filter. Both are
  flat in the passband; the model records the choice and changes nothing else.
- DEMP high applies the 44.1 kHz de-emphasis (50/15 us shelf), modelled as its
  bilinear-transform filter at 44.1 kHz coefficients, whatever the rate.

Zero data: after 1024 LRCKs of zero on both channels the analog output mutes; the
first non-zero sample un-mutes it at once (no ramp). Clock stop: the output is
hard-muted at once (the chip's internal-oscillator fade is not modelled). The
output stage: a full-scale sine is 2.1 Vrms, so each channel's output is
sample / full scale * 2.1 * sqrt(2) V, times the soft-mute gain. Power-up and
PLL lock times are not modelled.

Misuse is a fault: a frame rate (or BCK ratio) the BCK PLL cannot lock to.

The chip state goes to the trace as `pcm5102a` {"rate": Hz or null (no clocks),
"format": "i2s"|"lj", "filter": "normal"|"low-latency", "deemphasis": bool,
"xsmt": bool (pin level), "soft_mute": "off"|"down"|"on"|"up",
"zero_mute": bool, "output": "on"|"mute"}.
"""
import math
from array import array

from ..i2s import Receiver
from ..i2s import bus as i2s_bus
from ..part import Part

FULL_SCALE_VRMS = 2.1
RAMP_DB = 104          # soft mute: 1 dB per sample over 104 samples
ZERO_FRAMES = 1024     # zero-data detect, LRCKs

# 3-wire mode (SCK grounded): the PLL makes the system clock from BCK, for these frame
# rates and BCK ratios only: SLAS764B Table 5 (BCK-PLL) lists 16 kHz at 64 fs and 32,
# 44.1, 48, 96, 192 and 384 kHz at 32 and 64 fs. 88.2 and 176.4 kHz are not in it, so
# they are refused. 48 fs BCK never comes from the RP2040.
PLL_RATES = {16000: (64,), 32000: (32, 64), 44100: (32, 64), 48000: (32, 64),
             96000: (32, 64), 192000: (32, 64), 384000: (32, 64)}


def check_rate(sim, name, bus):
    """Fault unless the chip's BCK PLL can lock to this bus."""
    ratio = 2 * bus.bits
    if ratio not in PLL_RATES.get(bus.rate, ()):
        sim.fault("%s: LRCK %d Hz with BCK = %d fs has no BCK-PLL setting (3-wire, SCK "
                  "grounded): 16 kHz at 64 fs, or 32, 44.1, 48, 96, 192, 384 kHz"
                  % (name, bus.rate, ratio))

# dB -> gain for the soft-mute ramp; RAMP_DB is silence.
_RAMP_GAIN = [10 ** (-db / 20.0) for db in range(RAMP_DB)] + [0.0]


def deemphasis_coeffs(rate=44100):
    """First-order 50/15 us de-emphasis shelf by the bilinear transform, as (b0, b1, a1)."""
    t1, t2 = 50e-6, 15e-6
    k = 2.0 * rate
    # H(s) = (1 + s t2) / (1 + s t1), bilinear s = k (1 - z^-1) / (1 + z^-1)
    b0 = (1 + k * t2) / (1 + k * t1)
    b1 = (1 - k * t2) / (1 + k * t1)
    a1 = (1 - k * t1) / (1 + k * t1)
    return b0, b1, a1


_DEMP = deemphasis_coeffs()


class PCM5102A(Receiver, Part):
    chip = "pcm5102a"
    READOUT_KEYS = ("xsmt", "soft_mute", "output")

    @classmethod
    def mute_detail(cls, state):
        return "soft mute %s, output %s" % (state.get("soft_mute", "?"), state.get("output", "?"))
    """One PCM5102A on the I2S bus at BCK `bck` (LRCK = bck + 1), DIN `din`.

    `xsmt`, `flt`, `demp`, `fmt`: the GPIO driving each pin, or None when the pin is
    strapped (XSMT to 3.3 V, the others to ground). A driven pin has a pull-down on the
    board (so XSMT holds the chip muted until the firmware drives it) unless the
    matching `*_pull` says otherwise (0, 1 or None for none).
    """

    def __init__(self, sim, bck, din, xsmt=None, flt=None, demp=None, fmt=None, name="pcm5102a",
                 record=False, full_scale_vrms=FULL_SCALE_VRMS, xsmt_pull=0, flt_pull=0,
                 demp_pull=0, fmt_pull=0):
        Receiver.__init__(self, sim, name, i2s_bus(sim, bck, din), record)
        self.peak = full_scale_vrms * math.sqrt(2.0)
        self.pins = {}
        for key, gpio, pull in (("xsmt", xsmt, xsmt_pull), ("flt", flt, flt_pull),
                                ("demp", demp, demp_pull), ("fmt", fmt, fmt_pull)):
            if gpio is not None:
                self.pins[key] = gpio
                sim.gpio[gpio].board_pull = pull
        self.powered = sim.rails_on
        self.xsmt = self._level("xsmt", 1)
        self.lj = self._level("fmt", 0) == 1
        self.low_latency = self._level("flt", 0) == 1
        self.demp = self._level("demp", 0) == 1
        self.rate = 0          # 0: no clocks
        # frame state
        self.att = 0 if self.xsmt else RAMP_DB
        self.zrun = ZERO_FRAMES
        self.zmuted = True
        self.prev = 0          # last right word, for the left-justified misread
        self.dx = [0.0, 0.0]   # de-emphasis state: last input, last output per channel
        self.dy = [0.0, 0.0]

    def attach(self):
        self.attach_bus()
        for gpio in self.pins.values():
            self.sim.gpio[gpio].listeners.append(self._on_pin)
        self.sim.on_power.append(self._on_power)
        self.publish_now()

    # ---- pins
    def _level(self, key, strap):
        gpio = self.pins.get(key)
        if gpio is None:
            return strap
        lv = self.sim.gpio[gpio].level
        return 0 if lv is None else lv

    def _on_pin(self, g):
        def apply():
            self.xsmt = self._level("xsmt", 1)
            self.lj = self._level("fmt", 0) == 1
            self.low_latency = self._level("flt", 0) == 1
            self.demp = self._level("demp", 0) == 1
        self.control(apply)

    def _on_power(self, on):
        def apply():
            self.powered = on
        self.control(apply)

    # ---- clocks
    def _clock_change(self, running):
        if running:
            check_rate(self.sim, self.name, self.bus)
            self.rate = self.bus.rate
        else:
            self.rate = 0
            self.zrun = ZERO_FRAMES
            self.zmuted = True

    # ---- frames
    def _save(self):
        return (self.att, self.zrun, self.zmuted, self.prev, self.dx[0], self.dx[1],
                self.dy[0], self.dy[1])

    def _restore(self, s):
        self.att, self.zrun, self.zmuted, self.prev = s[0], s[1], s[2], s[3]
        self.dx = [s[4], s[5]]
        self.dy = [s[6], s[7]]

    def i2s_idle_ok(self, bus):
        target = 0 if self.xsmt else RAMP_DB
        return self.zmuted and self.att == target and not self.demp

    def _frames(self, data, i, j, f0):
        target = 0 if self.xsmt else RAMP_DB
        steady = self.att == target and not self.lj and not self.demp and not self.record
        if data is None and (steady or j - i > 4096):
            self._silence(i, j, f0, target)
            return None
        if steady:
            self._scan(data, i, j, f0)
            return None
        return self._each(data, i, j, f0, target)

    def _silence(self, i, j, f0, target):
        n = j - i
        steps = min(n, abs(target - self.att))
        if steps:
            self.att += steps if target > self.att else -steps
            if self.att == target:
                self._mark(f0 + i + steps)
        if not self.zmuted:
            if self.zrun + n >= ZERO_FRAMES:
                self.zmuted = True
                self._mark(f0 + i + (ZERO_FRAMES - self.zrun))
        self.zrun = min(ZERO_FRAMES, self.zrun + n)
        self.prev = 0
        self.dx = [0.0, 0.0]
        self.dy = [0.0, 0.0]

    def _scan(self, data, i, j, f0):
        """Zero detection only: the gain is steady and nothing is recorded."""
        k = 2 * j - 1
        while k >= 2 * i and data[k] == 0:
            k -= 1
        if k < 2 * i:
            self._silence(i, j, f0, self.att)
            return
        first = 2 * i
        while data[first] == 0:
            first += 1
        if self.zmuted:
            self.zmuted = False
            self._mark(f0 + first // 2)
        elif self.zrun + (first // 2 - i) >= ZERO_FRAMES:
            # a run long enough ended inside this block: it muted, then unmuted here
            self.zmuted = True
            self._mark(f0 + i + ZERO_FRAMES - self.zrun)
            self.zmuted = False
            self._mark(f0 + first // 2)
        self.zrun = j - 1 - k // 2
        if self.zrun >= ZERO_FRAMES:
            self.zrun = ZERO_FRAMES
            self.zmuted = True
            self._mark(f0 + k // 2 + 1 + ZERO_FRAMES)
        self.prev = data[2 * j - 1]

    def _each(self, data, i, j, f0, target):
        bits = self.bus.bits
        full = float(1 << (bits - 1))
        mask = (1 << bits) - 1
        top = 1 << (bits - 1)
        scale = self.peak / full
        out = array("f")
        on = self.powered and self.rate
        b0, b1, a1 = _DEMP
        for f in range(i, j):
            if data is None:
                lv = rv = 0
            else:
                lv = data[2 * f]
                rv = data[2 * f + 1]
            if self.lj:
                # left-justified read of an I2S stream: one bit early, the previous LSB first
                lw = ((self.prev & 1) << (bits - 1)) | ((lv & mask) >> 1)
                rw = ((lv & 1) << (bits - 1)) | ((rv & mask) >> 1)
                self.prev = rv
                lv = lw - (1 << bits) if lw & top else lw
                rv = rw - (1 << bits) if rw & top else rw
            if lv == 0 and rv == 0:
                self.zrun += 1
                if self.zrun == ZERO_FRAMES and not self.zmuted:
                    self.zmuted = True
                    self._mark(f0 + f + 1)
                elif self.zrun > ZERO_FRAMES:
                    self.zrun = ZERO_FRAMES
            else:
                self.zrun = 0
                if self.zmuted:
                    self.zmuted = False
                    self._mark(f0 + f)
            if self.att != target:
                self.att += 1 if target > self.att else -1
                if self.att == target:
                    self._mark(f0 + f + 1)
            g = _RAMP_GAIN[self.att] * scale
            xl = lv * g
            xr = rv * g
            if self.demp:
                yl = b0 * xl + b1 * self.dx[0] - a1 * self.dy[0]
                yr = b0 * xr + b1 * self.dx[1] - a1 * self.dy[1]
                self.dx[0], self.dx[1], self.dy[0], self.dy[1] = xl, xr, yl, yr
                xl, xr = yl, yr
            if not on or self.zmuted:
                xl = xr = 0.0
            out.append(xl)
            out.append(xr)
        return out

    # ---- state
    def soft_mute(self):
        target = 0 if self.xsmt else RAMP_DB
        if self.att == target:
            return "off" if target == 0 else "on"
        return "up" if target == 0 else "down"

    def output_on(self):
        return bool(self.powered and self.rate and not self.zmuted and self.att < RAMP_DB)

    def level_cdb(self, ch=0):
        """Full-scale output level in cdB re 1 Vrms, None while the output is muted."""
        if not self.output_on():
            return None
        return int(round(2000 * math.log10(self.peak / math.sqrt(2.0) * _RAMP_GAIN[self.att])))

    def _state(self):
        return [("rate", self.rate or None), ("format", "lj" if self.lj else "i2s"),
                ("filter", "low-latency" if self.low_latency else "normal"),
                ("deemphasis", self.demp), ("xsmt", bool(self.xsmt)),
                ("soft_mute", self.soft_mute()), ("zero_mute", self.zmuted),
                ("output", "on" if self.output_on() else "mute")]
