"""PCM5122 stereo DAC over I2C, fed 3-wire I2S (no SCK) from the RP2040.

Registers live in pages (register 0 selects one); this driver uses page 0. With no
SCK wired, init() points the PLL at BCK and has the chip ignore the missing SCK,
otherwise it stays in standby with a clock error. The driver keeps a shadow of
every register it wrote, so settings are never read back over the bus and an
unchanged value is never sent again.
"""
from micropython import const

_PAGE = const(0)
_RESET = const(1)
_POWER = const(2)
_MUTE = const(3)
_DEEMPH = const(7)
_PLL_REF = const(13)
_ERROR_DETECT = const(37)
_I2S_FORMAT = const(40)    # AFMT bits 5:4 (0: I2S), ALEN bits 1:0
_FILTER = const(43)
_VOL_L = const(61)
_VOL_R = const(62)
_RATE_DET = const(91)
_CLOCK_STATUS = const(94)
_POWER_STATE = const(118)
_AUTO_MUTE_FLAGS = const(120)

_RQST = const(0x10)
_RSTR = const(0x01)
_MUTE_BOTH = const(0x11)
_IDCH = const(0x08)        # ignore SCK halt
_SREF_BCK = const(0x10)
_DEMP = const(0x10)
_VOL_0DB = const(0x30)     # 0 dB; each code step is -0.5 dB
_VOL_MUTE = const(0xFF)
_MAX_HDB = const(48)       # +24 dB
_MIN_HDB = const(-206)     # -103 dB

ADDR = const(0x4C)         # ADR1 = ADR2 = 0; up to 0x4F

FILTER_NORMAL = const(1)
FILTER_LOW_LATENCY = const(2)
FILTER_HIGH_ATTENUATION = const(3)   # not at 384 kHz
FILTER_ASYMMETRIC = const(7)

# Register 91 DTFS -> the detected rate's class, (low Hz, high Hz); 0 is an error.
RATE_CLASSES = (None, (8000, 8000), (16000, 16000), (32000, 48000), (88200, 96000),
                (176400, 192000), (384000, 384000), None)

# Register 118 PSTM values
STATE_POWERDOWN = const(0)
STATE_RUN = const(5)
STATE_STANDBY = const(8)


class PCM5122:
    def __init__(self, i2c, addr=ADDR):
        """`i2c`: a machine.I2C with the chip on it at `addr` (0x4C..0x4F)."""
        self.i2c = i2c
        self.addr = addr
        self._b2 = bytearray(2)
        self._b1 = bytearray(1)
        self._page = -1              # unknown until written
        self.shadow = bytearray(128)  # page 0 as written
        self._known = bytearray(16)   # one bit per page 0 register written

    # ---- registers
    def _select(self, page):
        if page != self._page:
            b = self._b2
            b[0] = _PAGE
            b[1] = page
            self.i2c.writeto(self.addr, b)
            self._page = page

    def write(self, reg, value, force=False):
        """Write page 0 register `reg` unless the shadow says it already holds `value`."""
        if not force and self.written(reg) == value:
            return
        self._select(0)
        b = self._b2
        b[0] = reg
        b[1] = value
        self.i2c.writeto(self.addr, b)
        self.shadow[reg] = value
        self._known[reg >> 3] |= 1 << (reg & 7)

    def written(self, reg):
        """The value last written to page 0 register `reg`, None if never (or reset since)."""
        if self._known[reg >> 3] & (1 << (reg & 7)):
            return self.shadow[reg]
        return None

    def read(self, reg):
        """Read page 0 register `reg` from the chip (status registers)."""
        self._select(0)
        self.i2c.readfrom_mem_into(self.addr, reg, self._b1)
        return self._b1[0]

    # ---- set-up and control
    def init(self, filter=FILTER_NORMAL, bits=32):
        """Reset to defaults, set up 3-wire clocking for I2S words of `bits` (16 or 32,
        as the RP2040 sends them), muted at 0 dB, then leave standby.

        Raises OSError when the chip does not answer.
        """
        alen = self._alen(bits)
        self._page = -1
        self.write(_POWER, _RQST, True)      # registers may only be reset in standby
        self.write(_RESET, _RSTR, True)
        for i in range(16):
            self._known[i] = 0
        self.shadow[_RESET] = 0
        self.write(_POWER, _RQST, True)      # the reset cleared the standby request too
        self.write(_ERROR_DETECT, _IDCH, True)
        self.write(_PLL_REF, _SREF_BCK, True)
        # the reset leaves 24-bit words: 16-bit frames would be read across channels
        self.write(_I2S_FORMAT, alen, True)
        self.write(_MUTE, _MUTE_BOTH, True)
        self.write(_FILTER, self._check_filter(filter), True)
        self.write(_VOL_L, _VOL_0DB, True)
        self.write(_VOL_R, _VOL_0DB, True)
        self.write(_POWER, 0, True)

    def mute(self, on):
        """Soft mute (the chip ramps the volume down or back up, 1 dB per sample by default)."""
        self.write(_MUTE, _MUTE_BOTH if on else 0)

    def standby(self, on):
        self.write(_POWER, _RQST if on else 0)

    def set_volume_hdb(self, left, right):
        """Digital volume per channel in 0.5 dB steps (hdB: -40 is -20 dB), +24 dB at most.

        Below -103 dB, or None, mutes that channel.
        """
        self.write(_VOL_L, self._code(left))
        self.write(_VOL_R, self._code(right))

    def volume_hdb(self):
        """(left, right) as last set, None for a muted channel."""
        return self._hdb(self.written(_VOL_L)), self._hdb(self.written(_VOL_R))

    def set_filter(self, n):
        """Interpolation filter (FILTER_*); changed in standby, then running again if it was."""
        n = self._check_filter(n)
        if self.written(_FILTER) == n:
            return
        running = self.written(_POWER) == 0
        if running:
            self.standby(True)
        self.write(_FILTER, n)
        if running:
            self.standby(False)

    def set_deemphasis(self, on):
        self.write(_DEEMPH, _DEMP if on else 0)

    # ---- status
    def detected_rate(self):
        """The detected frame rate's class as (low Hz, high Hz), None on a clock error."""
        return RATE_CLASSES[(self.read(_RATE_DET) >> 4) & 7]

    def clock_status(self):
        """Register 94 (CDST): 0x40 SCK missing (expected here), 0x20 PLL unlocked, ..."""
        return self.read(_CLOCK_STATUS)

    def power_state(self):
        """STATE_RUN, STATE_STANDBY or STATE_POWERDOWN (register 118)."""
        return self.read(_POWER_STATE) & 0x0F

    def auto_muted(self):
        """(left, right): muted after a run of zero samples."""
        v = self.read(_AUTO_MUTE_FLAGS)
        return bool(v & 0x10), bool(v & 0x01)

    # ---- helpers
    @staticmethod
    def _alen(bits):
        if bits == 16:
            return 0
        if bits == 32:
            return 3
        raise ValueError("I2S words are 16 or 32 bits")

    @staticmethod
    def _check_filter(n):
        if n not in (FILTER_NORMAL, FILTER_LOW_LATENCY, FILTER_HIGH_ATTENUATION,
                     FILTER_ASYMMETRIC):
            raise ValueError("filter must be 1, 2, 3 or 7")
        return n

    @staticmethod
    def _code(hdb):
        if hdb is None or hdb < _MIN_HDB:
            return _VOL_MUTE
        if hdb > _MAX_HDB:
            raise ValueError("volume above +24 dB")
        return _VOL_0DB - hdb

    @staticmethod
    def _hdb(code):
        if code is None or code == _VOL_MUTE:
            return None
        return _VOL_0DB - code
