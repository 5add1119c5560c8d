"""PCM5122 stereo DAC in I2C mode, as its datasheet (TI SLAS763C) describes it.

I2C at 0x4C | ADR2 << 1 | ADR1. A write is the register address then data; bit 7 of
the address byte turns on auto-increment (else every data byte goes to the same
register). A read starts at the last address written. Register 0 of every page
selects the page. Modelled pages: 0 and 1. Audio: 3-wire I2S as on the board (SCK
not wired, so the PLL must take BCK: page 0 register 13 = 0x10 and the SCK-missing
error ignored, register 37 bit 3), at the rates the BCK PLL supports
(pcm5102a.PLL_RATES). Without that set-up the chip sits in standby with a clock error.

The register map (pages 0 and 1: reset values, writable bits, what acts) is
pcm5122_regs.py.

The output: a full-scale sine is 2.1 Vrms at 0 dB; the digital volume ramps at the
register 63 rates (volume changes and mutes alike); standby, powerdown and clock
errors mute the output at once (a standby or powerdown request ramps down first), and
leaving them ramps up from mute. Zero data
mutes a channel after its register 59 time (per ACTL), the first non-zero sample
un-mutes it. The XSMT pin (optional GPIO, else strapped high) soft-mutes like
register 3.

Misuse is a fault: a write to a page other than 0 or 1, a reserved or read-only
register, reserved bits, a reserved field value, RSTR/RSTM outside standby, a DSP
format or the high-attenuation filter at 384 kHz while the clocks run, an
unsupported rate. Unpowered, the chip does not acknowledge (OSError 5).

Trace: `pcm5122` {"power": "run"|"ramp-down"|"standby"|"powerdown"|"off", "rate": Hz or null,
"clock_error": bool, "filter": PSEL, "left"/"right": target dB or "mute",
"ramping": bool, "auto_mute": "none"|"left"|"right"|"both", "output": "on"|"mute"}.
"""
import math
from array import array

from ..i2s import Receiver
from ..i2s import bus as i2s_bus
from ..part import Part
from ..trace import Db
from .pcm5102a import _DEMP, PLL_RATES
from .pcm5122_regs import AUDIO, PAGES, READ_ONLY0

FULL_SCALE_VRMS = 2.1
BASE_ADDR = 0x4C
MUTE = -208                   # hdB below -103 dB (0xFE): silence
AUTO_MUTE_LRCKS = (1024, 5120, 10240, 25600, 51200, 102400, 256000, 512000)
RAMP_PERIOD = (1, 2, 4, 0)    # 0: at once
RAMP_STEP = (8, 4, 2, 1)      # hdB
FILTERS = (1, 2, 3, 5, 7)

def _gain(hdb):
    return 0.0 if hdb <= MUTE else 10 ** (hdb / 40.0)


class PCM5122(Receiver, Part):
    """One PCM5122 on I2C bus `i2c_bus` and the I2S bus at BCK `bck` (LRCK = bck + 1), DIN `din`."""
    chip = "pcm5122"
    READOUT_KEYS = ("power", "left", "right", "output")

    @classmethod
    def mute_detail(cls, state):
        def db(v):
            return "mute" if v is None or v == "mute" else "%s dB" % v
        return "%s, volume L %s R %s, output %s" % (
            state.get("power", "?"), db(state.get("left")), db(state.get("right")),
            state.get("output", "?"))


    def __init__(self, sim, i2c_bus, bck, din, adr1=0, adr2=0, xsmt=None, name="pcm5122",
                 record=False, full_scale_vrms=FULL_SCALE_VRMS, sck_wired=False, xsmt_pull=0):
        Receiver.__init__(self, sim, name, i2s_bus(sim, bck, din), record)
        self.i2c_bus = i2c_bus
        self.i2c_addr = BASE_ADDR | (adr2 << 1) | adr1
        self.peak = full_scale_vrms * math.sqrt(2.0)
        self.sck_wired = sck_wired
        self.xsmt_gpio = xsmt
        if xsmt is not None:
            sim.gpio[xsmt].board_pull = xsmt_pull
        self.powered = sim.rails_on
        self.absent = False             # a fault: the chip does not acknowledge (not fitted, dead)
        self.xsmt = self._xsmt_level()
        self.rate = 0
        self.halt_latch = 0
        self.err_latch = 0
        self._reset_registers()
        # frame state
        self.eff = [MUTE, MUTE]         # effective digital volume, hdB
        self.zrun = [0, 0]
        self.amute = [False, False]
        self.tick = 0
        self.prev = 0
        self.dx = [0.0, 0.0]
        self.dy = [0.0, 0.0]
        self.ptr = 0
        self.inc = False

    def attach(self):
        self.attach_bus()
        if self.xsmt_gpio is not None:
            self.sim.gpio[self.xsmt_gpio].listeners.append(self._on_xsmt)
        self.sim.on_power.append(self._on_power)
        self.sim.add_i2c_device(self.i2c_bus, self.i2c_addr, self)
        self.publish_now()

    # ---- registers
    def _reset_registers(self):
        self.page = 0
        self.regs = {0: bytearray(128), 1: bytearray(128)}
        for p in PAGES:
            for r in PAGES[p]:
                self.regs[p][r] = PAGES[p][r][0]

    def snapshot(self):
        return {"page": self.page, "regs": [list(self.regs[0]), list(self.regs[1])]}

    def restore(self, s):
        self.page = s["page"]
        self.regs = {0: bytearray(s["regs"][0]), 1: bytearray(s["regs"][1])}
        self._stopped_dac()
        self.publish_now()

    def reg(self, page, r):
        """A register as the chip holds it (test access, no side effects)."""
        return self.regs[page][r]

    def i2c_write(self, data):
        if not self.powered or self.absent:
            raise OSError(5)
        if not data:
            return
        self.ptr = data[0] & 0x7F
        self.inc = bool(data[0] & 0x80)
        for b in data[1:]:
            self._write(self.ptr, b)
            if self.inc:
                self.ptr = (self.ptr + 1) & 0x7F

    def i2c_read(self, n):
        if not self.powered or self.absent:
            raise OSError(5)
        out = bytearray(n)
        for k in range(n):
            out[k] = self._read(self.ptr)
            if self.inc:
                self.ptr = (self.ptr + 1) & 0x7F
        return bytes(out)

    def _where(self, r):
        return "%s: page %d register %d" % (self.name, self.page, r)

    def _write(self, r, v):
        if r == 0:
            if v not in PAGES:
                self.sim.fault("%s: page %d is not modelled (pages 0 and 1 are)" % (self.name, v))
            self.page = v
            return
        p = self.page
        table = PAGES[p]
        if p == 0 and r in READ_ONLY0:
            self.sim.fault("%s is read-only" % self._where(r))
        if r not in table:
            self.sim.fault("%s is reserved" % self._where(r))
        if v & ~table[r][1] & 0xFF:
            self.sim.fault("%s: 0x%02x sets reserved bits (writable: 0x%02x)"
                           % (self._where(r), v, table[r][1]))
        if p == 0:
            self._check_value(r, v)
        if r in AUDIO[p] or (p == 0 and r == 1):
            self.control(lambda: self._store(p, r, v))
        else:
            self.regs[p][r] = v

    def _check_value(self, r, v):
        bad = None
        if r == 43 and v not in FILTERS:
            bad = "PSEL %d is reserved (filters: 1, 2, 3, 5, 7)" % v
        elif r == 13 and (v >> 4) not in (0, 1, 3):
            bad = "SREF %d is reserved" % (v >> 4)
        elif r == 14 and (v >> 4) not in (0, 1, 3, 4, 5):
            bad = "SDAC %d is reserved" % (v >> 4)
        elif r == 42 and ((v >> 4) & 3 == 3 or v & 3 == 3):
            bad = "DAC path 3 is reserved"
        elif r == 60 and v & 3 == 3:
            bad = "PCTL 3 is reserved"
        elif r == 1 and v and not self.regs[0][2] & 0x11:
            bad = "RSTM/RSTR only in standby or powerdown (register 2)"
        if bad is not None:
            self.sim.fault("%s: %s" % (self._where(r), bad))

    def _store(self, p, r, v):
        if p == 0 and r == 1:
            if v & 0x01:
                page = self.page
                self._reset_registers()
                self.page = page
            # self-clearing; RSTM (modules) has nothing more to reset here
        else:
            self.regs[p][r] = v
        self._stopped_dac()

    def _stopped_dac(self):
        """Not running (even for no time at all): the volume restarts from mute."""
        if not self._active():
            self.eff = [MUTE, MUTE]
            self.zrun = [0, 0]
            self.amute = [False, False]

    def _read(self, r):
        if r == 0:
            return self.page
        p = self.page
        if p == 0 and r in READ_ONLY0:
            return self._status(r)
        if r not in PAGES[p]:
            self.sim.fault("%s is reserved" % self._where(r))
        v = self.regs[p][r]
        if p == 0 and r == 4:
            v = (v & 0x01) | (0 if self.pll_locked() else 0x10)
        return v

    # ---- clocks and power state
    def clock_ok(self):
        if not self.rate:
            return False
        if self.sck_wired:
            return True
        return (self.pll_locked() and (self.regs[0][13] >> 4) == 1
                and bool(self.regs[0][37] & 0x08))

    def pll_locked(self):
        if not self.regs[0][4] & 0x01:
            return False                # PLLE off: the PLL does not run at all
        return bool(self.rate) and (self.sck_wired or (self.regs[0][13] >> 4) == 1)

    def power_state(self):
        if not self.powered:
            return "off"
        pw = self.regs[0][2]
        if not self.clock_ok():
            return "powerdown" if pw & 0x01 else "standby"
        if pw & 0x11:
            # a request to leave run mode ramps the volume down first (PSTM 7)
            if self.eff != [MUTE, MUTE]:
                return "ramp-down"
            return "powerdown" if pw & 0x01 else "standby"
        return "run"

    def _active(self):
        """Frames reach the output: running, or ramping down towards standby."""
        return self.power_state() in ("run", "ramp-down")

    def _status(self, r):
        if r == 91:
            return self._dtfs() << 4
        if r == 92:
            return (2 * self.bus.bits) >> 8 if self.rate else 0
        if r == 93:
            return (2 * self.bus.bits) & 0xFF if self.rate else 0
        if r == 94:
            v = 0
            if not self.sck_wired:
                v |= 0x40 | 0x04
            if not self.pll_locked():
                v |= 0x20
            if not self.rate:
                v |= 0x10 | 0x02 | 0x01
            elif not self.clock_ok():
                v |= 0x08
            return v
        if r == 95:
            v = (0x10 if self.halt_latch else 0) | (0 if self.rate else 0x04) \
                | (0x01 if self.err_latch or not self.clock_ok() else 0)
            self.halt_latch = 0
            self.err_latch = 0
            return v
        if r == 108:
            on = self._active()
            return ((0x02 if on and self._chan_on(0) else 0)
                    | (0x01 if on and self._chan_on(1) else 0))
        if r == 118:
            st = self.power_state()
            return 0x80 | {"off": 0, "powerdown": 0, "standby": 8, "run": 5,
                           "ramp-down": 7}[st]
        if r == 120:
            return (0x10 if self.amute[0] else 0) | (0x01 if self.amute[1] else 0)
        return 0

    def _dtfs(self):
        rate = self.rate
        if not rate:
            return 0
        for code, lo, hi in ((1, 8000, 8000), (2, 16000, 16000), (3, 32000, 48000),
                             (4, 88200, 96000), (5, 176400, 192000), (6, 384000, 384000)):
            if lo <= rate <= hi:
                return code
        return 0

    def _chan_on(self, ch):
        return not self.amute[ch] and self.eff[ch] > MUTE

    # ---- pins and power
    def _xsmt_level(self):
        if self.xsmt_gpio is None:
            return 1
        lv = self.sim.gpio[self.xsmt_gpio].level
        return 0 if lv is None else lv

    def _on_xsmt(self, g):
        def apply():
            self.xsmt = self._xsmt_level()
        self.control(apply)

    def _on_power(self, on):
        def apply():
            self.powered = on
            self._reset_registers()
            self._stopped_dac()
        self.control(apply)

    def _clock_change(self, running):
        if running:
            b = self.bus
            if 2 * b.bits not in PLL_RATES.get(b.rate, ()) and not self.sck_wired:
                self.sim.fault("%s: LRCK %d Hz with BCK = %d fs has no BCK-PLL setting "
                               "(3-wire): 16 kHz at 64 fs, or 32, 44.1, 48, 96, 192, 384 kHz"
                               % (self.name, b.rate, 2 * b.bits))
            self.rate = b.rate
            self._check_running()
            self._stopped_dac()
        else:
            if self.rate:
                self.halt_latch = 1
                self.err_latch = 1
            self.rate = 0
            self.eff = [MUTE, MUTE]
            self.zrun = [0, 0]
            self.amute = [False, False]

    def _check_running(self):
        if not self.rate:
            return
        if (self.regs[0][40] >> 4) & 3 == 1:
            self.sim.fault("%s: DSP format (page 0 register 40) with an I2S-framed LRCK"
                           % self.name)
        alen = (16, 20, 24, 32)[self.regs[0][40] & 3]
        if alen > self.bus.bits:
            self.sim.fault("%s: ALEN %d bits (page 0 register 40) but the I2S words are %d "
                           "bits: samples would be read across channels"
                           % (self.name, alen, self.bus.bits))
        if self.regs[0][43] == 3 and self.rate == 384000:
            self.sim.fault("%s: filter 3 (high attenuation) has no 384 kHz mode" % self.name)

    def control(self, apply):
        Receiver.control(self, apply)
        self._check_running()
        if self.rate and not self.clock_ok():
            self.err_latch = 1

    # ---- frames
    def _save(self):
        return (self.eff[0], self.eff[1], self.zrun[0], self.zrun[1], self.amute[0],
                self.amute[1], self.tick, self.prev, self.dx[0], self.dx[1], self.dy[0],
                self.dy[1])

    def _restore(self, s):
        self.eff = [s[0], s[1]]
        self.zrun = [s[2], s[3]]
        self.amute = [s[4], s[5]]
        self.tick, self.prev = s[6], s[7]
        self.dx = [s[8], s[9]]
        self.dy = [s[10], s[11]]

    def targets(self):
        """The digital volume each channel heads for, hdB (MUTE: silence)."""
        r = self.regs[0]
        pctl = r[60] & 3
        codes = [r[61], r[62]]
        if pctl == 1:
            codes[1] = codes[0]
        elif pctl == 2:
            codes[0] = codes[1]
        out = []
        for ch in (0, 1):
            c = codes[ch]
            mute = (c == 0xFF or not self.xsmt or r[3] & (0x10 if ch == 0 else 0x01)
                    or r[2] & 0x11)
            out.append(MUTE if mute else 48 - c)
        return out

    def _thresholds(self):
        v = self.regs[0][59]
        return AUTO_MUTE_LRCKS[(v >> 4) & 7], AUTO_MUTE_LRCKS[v & 7]

    def i2s_idle_ok(self, bus):
        if not self._active():
            return True
        if self.eff != self.targets() or self.regs[0][7] & 0x10:
            return False
        am = self.regs[0][65]
        for ch in (0, 1):
            if am & (0x02 if ch == 0 else 0x01) and not self.amute[ch]:
                return False
        return True

    def _frames(self, data, i, j, f0):
        running = self._active()
        if not running:
            self.eff = [MUTE, MUTE]
            self.zrun = [0, 0]
            self.amute = [False, False]
            return None
        tg = self.targets()
        if data is None and (self.eff == tg and not self.record or j - i > 4096):
            self._silence(i, j, f0, tg)
            return None
        return self._each(data, i, j, f0, tg)

    def _ramp(self, tg):
        """One LRCK of the volume ramp; True when a channel reached its target."""
        r63 = self.regs[0][63]
        self.tick += 1
        done = False
        for ch in (0, 1):
            e, t = self.eff[ch], tg[ch]
            if e == t:
                continue
            if t < e:
                period, step = RAMP_PERIOD[r63 >> 6], RAMP_STEP[(r63 >> 4) & 3]
            else:
                period, step = RAMP_PERIOD[(r63 >> 2) & 3], RAMP_STEP[r63 & 3]
            if period == 0:
                e = t
            elif self.tick % period == 0:
                # MUTE is the floor of every ramp down: below -103 dB is silence
                e = max(t, e - step) if t < e else min(t, e + step)
            self.eff[ch] = e
            if e == t:
                done = True
        return done

    def _silence(self, i, j, f0, tg):
        n = j - i
        k = 0
        while k < n and self.eff != tg:
            if self._ramp(tg) and self.eff == tg:
                self._mark(f0 + i + k + 1)
            k += 1
        thr = self._thresholds()
        am = self.regs[0][65]
        was = list(self.amute)
        z0 = list(self.zrun)
        self.zrun = [min(z + n, 600000) for z in z0]
        reach = [None, None]
        for ch in (0, 1):
            if am & (0x02 if ch == 0 else 0x01) and self.zrun[ch] >= thr[ch]:
                reach[ch] = i + max(0, thr[ch] - z0[ch] - 1)
        new, at = self._auto(reach, am)
        if new != was:
            self.amute = new
            self._mark(f0 + at + 1)
        self.prev = 0
        self.dx = [0.0, 0.0]
        self.dy = [0.0, 0.0]

    def _auto(self, reach, am):
        """Auto-mute flags from the frames at which each channel's zero run reached its time."""
        if am & 0x04:
            if reach[0] is not None and reach[1] is not None:
                at = max(reach[0], reach[1])
                return [True, True], at
            return [False, False], 0
        at = max([x for x in reach if x is not None] or [0])
        return [reach[0] is not None, reach[1] is not None], at

    def _each(self, data, i, j, f0, tg):
        r = self.regs[0]
        bits = self.bus.bits
        full = float(1 << (bits - 1))
        mask = (1 << bits) - 1
        top = 1 << (bits - 1)
        afmt = (r[40] >> 4) & 3
        alen = (16, 20, 24, 32)[r[40] & 3]
        keep = min(alen, bits)
        lowmask = ~((1 << (bits - keep)) - 1)
        route = ((r[42] >> 4) & 3, r[42] & 3)
        demp = bool(r[7] & 0x10)
        b0, b1, a1 = _DEMP
        thr = self._thresholds()
        am = r[65]
        en = (bool(am & 0x02), bool(am & 0x01))
        again = self.regs[1][2]
        ag = (0.5 if again & 0x10 else 1.0, 0.5 if again & 0x01 else 1.0)
        scale = self.peak / full
        out = array("f")
        for f in range(i, j):
            if data is None:
                lv = rv = 0
            else:
                lv = data[2 * f]
                rv = data[2 * f + 1]
            if afmt == 3:      # left-justified read of I2S: one bit early
                lw = ((self.prev & 1) << (bits - 1)) | ((lv & mask) >> 1)
                rw = ((lv & 1) << (bits - 1)) | ((rv & mask) >> 1)
                self.prev = rv
                lv = lw - (1 << bits) if lw & top else lw
                rv = rw - (1 << bits) if rw & top else rw
            elif afmt == 2:    # right-justified: the last ALEN bits of the slot
                sh = bits - alen if alen < bits else 0
                lv = ((lv << sh) & mask)
                rv = ((rv << sh) & mask)
                lv = lv - (1 << bits) if lv & top else lv
                rv = rv - (1 << bits) if rv & top else rv
            else:
                lv &= lowmask
                rv &= lowmask
            src = (lv, rv)
            x = [0, 0]
            for ch in (0, 1):
                sel = route[ch]
                x[ch] = 0 if sel == 0 else src[ch if sel == 1 else 1 - ch]
            was = list(self.amute)
            reach = [None, None]
            for ch in (0, 1):
                if x[ch] == 0:
                    self.zrun[ch] += 1
                else:
                    self.zrun[ch] = 0
                if en[ch] and self.zrun[ch] >= thr[ch]:
                    reach[ch] = f
            new, at = self._auto(reach, am)
            if new != was:
                self.amute = new
                # a run completes at f (muted from f + 1); a sample un-mutes at once
                self._mark(f0 + f + (1 if (new[0] and not was[0]) or (new[1] and not was[1])
                                     else 0))
            if self.eff != tg and self._ramp(tg) and self.eff == tg:
                self._mark(f0 + f + 1)
            y = [0.0, 0.0]
            for ch in (0, 1):
                v = x[ch] * scale * _gain(self.eff[ch]) * ag[ch]
                if demp:
                    w = b0 * v + b1 * self.dx[ch] - a1 * self.dy[ch]
                    self.dx[ch] = v
                    self.dy[ch] = w
                    v = w
                if self.amute[ch]:
                    v = 0.0
                y[ch] = v
            out.append(y[0])
            out.append(y[1])
        return out

    # ---- state
    def output_on(self, ch=None):
        if not self._active():
            return False
        if ch is None:
            return self._chan_on(0) or self._chan_on(1)
        return self._chan_on(ch)

    def level_cdb(self, ch):
        """Full-scale output level of channel ch in cdB re 1 Vrms, None while muted."""
        if not self.output_on(ch):
            return None
        ag = 0.5 if self.regs[1][2] & (0x10 if ch == 0 else 0x01) else 1.0
        return int(round(2000 * math.log10(self.peak / math.sqrt(2.0) * ag)
                         + 50 * self.eff[ch]))

    def _state(self):
        tg = self.targets()
        am = ("none", "left", "right", "both")[(1 if self.amute[0] else 0)
                                                 + (2 if self.amute[1] else 0)]
        return [("power", self.power_state()), ("rate", self.rate or None),
                ("clock_error", bool(self.rate) and not self.clock_ok()),
                ("filter", self.regs[0][43]),
                ("left", "mute" if tg[0] == MUTE else Db(tg[0], 2)),
                ("right", "mute" if tg[1] == MUTE else Db(tg[1], 2)),
                ("ramping", self._active() and self.eff != tg),
                ("auto_mute", am), ("output", "on" if self.output_on() else "mute")]
