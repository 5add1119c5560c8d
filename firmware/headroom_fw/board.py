"""Board file: pin map and analog facts, validated when loaded.

A board file is JSON (see boards/README.md). `load(path)` or `parse(dict)` returns a
`Board` whose numbers are integers in the units the firmware computes with:
levels in centi-dB (cdB, 0.01 dB), times in ms. Any problem raises `BoardError`
naming the field, before a single pin is touched.
"""
import json
import math

# GPIOs a Pico brings out (GP23 and GP29 are internal: SMPS mode and VSYS/3).
# GP24 (VBUS sense) and GP25 (LED) are allowed for sensing and indication.
_PICO_GPIOS = (0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18,
               19, 20, 21, 22, 24, 25, 26, 27, 28)

# the DACs' BCK-PLL rates the RP2040 can send (SLAS764B Table 5; no 88.2 or 176.4 kHz)
_I2S_RATES = (32000, 44100, 48000, 96000, 192000)

# The Pico's flash (W25Q16JV): a 4 KB sector erase takes up to 400 ms, with the MCU's
# interrupts off (rp2_flash.c), so the supply-fail IRQ can wait that long.
WORST_ERASE_MS = 400

MAX_BYTES = 16384   # a board file is a page of JSON; more is a mistake, not a board
MAX_DEPTH = 6       # sections nest at most 4 deep (relays.mute, pga2311.chips[i])

# Every key a board file may have, per section: anything else is a mistake (a misspelt
# optional section would silently vanish), reported with the closest known key.
_KEYS = {
    "board": ("board", "name", "description", "spi", "pga2311", "encoder", "button",
              "gain_switch", "output_switch", "power_sense", "i2s", "dac", "relays", "analog",
              "timing", "volume", "controls", "display", "ir", "trigger", "inputs", "wifi"),
    "spi": ("id", "sck", "mosi", "miso", "baudrate"),
    "pga2311": ("cs", "mute", "zcen", "chips"),
    "encoder": ("a", "b", "edges_per_detent", "decoder", "pio_sm"),
    "button": ("pin",),
    "gain_switch": ("pin", "high_level", "low_pin", "high_pin"),
    "output_switch": ("pin", "balanced_level"),
    "power_sense": ("pin", "holdup_ms", "hardware_mute"),
    "i2s": ("id", "sck", "ws", "sd", "rate", "bits"),
    "dac": ("chip", "xsmt", "i2c", "addr"),
    "dac.i2c": ("id", "sda", "scl", "freq"),
    "display": ("chip", "i2c", "addr", "spi"),
    "display.i2c": ("id", "sda", "scl", "freq"),
    "display.spi": ("id", "sck", "mosi", "cs", "dc", "res", "baudrate"),
    "ir": ("pin",),
    "trigger": ("pin", "active_high", "delay_ms"),
    "wifi": ("chip", "port", "hostname", "country", "led"),
    "inputs": ("source", "names", "select", "active_high", "switch_ms"),
    "relays": ("mute", "gain", "output"),
    "relays.*": ("pin", "active_high", "operate_ms", "release_ms", "sense"),
    "analog": ("dac_full_scale_vrms", "gain_low_db", "gain_high_db", "balanced_db",
               "max_output_dbv", "outputs", "pga_max_vrms"),
    "analog.max_output_dbv": ("se", "balanced"),
    "analog.outputs": ("se", "balanced"),
    "analog.outputs.*": ("max_vrms", "max_ma", "z_out_ohm", "noise_uvrms", "noise_weighting",
                         "noise_band_hz"),
    "analog.outputs.se.noise_uvrms": ("low", "high"),
    "analog.outputs.balanced.noise_uvrms": ("low", "high"),
    "timing": ("settle_ms", "relay_settle_ms", "ramp_step_db", "ramp_interval_ms"),
    "volume": ("default_dbv", "limit_dbv", "startup_max_dbv", "min_dbv"),
    "controls": ("debounce_ms", "long_press_ms", "balance_timeout_ms", "save_delay_ms"),
}

OUTPUT_SE = 0
OUTPUT_BALANCED = 1
GAIN_LOW = 0
GAIN_HIGH = 1
GAIN_AUTO = 2   # the same as controller.GAIN_AUTO: a three-position switch's middle


class BoardError(ValueError):
    pass


def spi_pin_role(gpio):
    """(SPI block, role) of a GPIO on the RP2040: role is 'rx', 'csn', 'sck' or 'tx'."""
    return (gpio >> 3) & 1, ("rx", "csn", "sck", "tx")[gpio & 3]


def _get(d, key, path, kind, default=None, required=True):
    if not isinstance(d, dict):
        raise BoardError("%s: must be an object" % path)
    if key not in d or d[key] is None:
        if required:
            raise BoardError("%s.%s: missing" % (path, key))
        return default
    v = d[key]
    name = path + "." + key
    if kind == "int":
        if not isinstance(v, int) or isinstance(v, bool):
            raise BoardError("%s: must be an integer, got %r" % (name, v))
    elif kind == "num":
        if not isinstance(v, (int, float)) or isinstance(v, bool) or v - v != 0:
            raise BoardError("%s: must be a finite number, got %r" % (name, v))
    elif kind == "bool":
        if not isinstance(v, bool):
            raise BoardError("%s: must be true or false, got %r" % (name, v))
    elif kind == "str":
        if not isinstance(v, str):
            raise BoardError("%s: must be a string, got %r" % (name, v))
    elif kind == "obj":
        if not isinstance(v, dict):
            raise BoardError("%s: must be an object" % name)
    elif kind == "list":
        if not isinstance(v, list):
            raise BoardError("%s: must be a list" % name)
    return v


def _distance(a, b):
    """Edit distance (insert, delete, replace), for 'did you mean'."""
    row = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        prev, row[0] = row[0], i
        for j in range(1, len(b) + 1):
            cur = row[j]
            row[j] = min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] != b[j - 1]))
            prev = cur
    return row[len(b)]


def closest(word, choices):
    """The choice nearest to `word` if it is plausibly a misspelling of it, else None."""
    best = None
    best_d = 0
    for c in choices:
        # A key cut short ("settle" for "settle_ms") is as likely as a typo.
        d = 1 if c.startswith(word) or word.startswith(c) else _distance(word, c)
        if best is None or d < best_d:
            best, best_d = c, d
    if best is not None and best_d <= max(2, len(word) // 3):
        return best
    return None


def _check_keys(d, path):
    """Unknown keys in this section and every known subsection raise BoardError."""
    if not isinstance(d, dict):
        return
    known = _KEYS.get(path)
    if known is None:
        known = _KEYS.get(path[:path.rfind(".")] + ".*") if "." in path else None
    if known is None:
        return
    for key in d:
        if key not in known:
            guess = closest(key, known) if isinstance(key, str) else None
            where = "" if path == "board" else path + "."
            raise BoardError("%s%s: unknown field%s" % (
                where, key, " (did you mean %s%s?)" % (where, guess) if guess else ""))
        if isinstance(d[key], dict):
            _check_keys(d[key], key if path == "board" else path + "." + key)


def check_text(text):
    """Refuse a board file too large or nested too deeply to be one, before parsing it
    (a parser's recursion or a Pico's heap would fail first, with a worse message)."""
    if len(text) > MAX_BYTES:
        raise BoardError("board: %d bytes is too large for a board file (at most %d)"
                         % (len(text), MAX_BYTES))
    if too_deep(text, MAX_DEPTH):
        raise BoardError("board: nested more than %d levels deep: not a board file" % MAX_DEPTH)


def too_deep(text, limit):
    """Whether JSON `text` nests objects/arrays more than `limit` deep (strings skipped),
    found before json.loads, whose recursion a deep document would exhaust."""
    depth = 0
    in_str = False
    esc = False
    for c in text:
        if in_str:
            if esc:
                esc = False
            elif c == "\\":
                esc = True
            elif c == '"':
                in_str = False
        elif c == '"':
            in_str = True
        elif c == "{" or c == "[":
            depth += 1
            if depth > limit:
                return True
        elif c == "}" or c == "]":
            depth -= 1
    return False


def _range(v, lo, hi, name):
    if v < lo or v > hi:
        raise BoardError("%s: %r is outside %r..%r" % (name, v, lo, hi))
    return v


def _cdb(v):
    return int(round(v * 100))


class Relay:
    """A relay coil on a pin: `active_high` says which level energizes it; `sense` (or
    None) a GPIO on one of its contacts to ground: low while the contacts are energized."""

    def __init__(self, pin, d, path, sense=None):
        self.pin = pin
        self.sense = sense
        self.active_high = _get(d, "active_high", path, "bool")
        self.operate_ms = _range(_get(d, "operate_ms", path, "int"), 0, 1000, path + ".operate_ms")
        self.release_ms = _range(_get(d, "release_ms", path, "int"), 0, 1000, path + ".release_ms")


class OutputStage:
    """The output stage of one output (`analog.outputs.se` / `.balanced`), as seen at its
    jack: the largest sine it gives cleanly (Vrms, and mA rms into a low load), its output
    impedance, and its noise floor per gain (uVrms, weighting, band). The voltage and
    current limits are the stage's rails and output devices, after the gain, so they do
    not depend on it; the noise does. `max_vrms` is derived from `analog.max_output_dbv`
    when left out, and must agree with it (within 0.1 dB) when given."""

    def __init__(self, d, path, max_out_cdb, has_high):
        v = _get(d, "max_vrms", path, "num", None, False)
        if v is not None:
            _range(v, 0.01, 100, path + ".max_vrms")
            dbv = 20 * math.log10(v)
            if abs(dbv * 100 - max_out_cdb) > 10:
                raise BoardError("%s.max_vrms: %r Vrms is %.2f dBV, but analog.max_output_dbv.%s is "
                                 "%.2f dBV: they must agree within 0.1 dB (or leave max_vrms out: "
                                 "it is derived from max_output_dbv)"
                                 % (path, v, dbv, path[path.rfind(".") + 1:], max_out_cdb / 100))
            self.max_vrms = float(v)
        else:
            self.max_vrms = 10 ** (max_out_cdb / 2000)
        self.max_ma = float(_range(_get(d, "max_ma", path, "num"), 1, 10000, path + ".max_ma"))
        self.z_out_ohm = float(_range(_get(d, "z_out_ohm", path, "num"), 0, 1000,
                                      path + ".z_out_ohm"))
        n = _get(d, "noise_uvrms", path, "obj")
        p = path + ".noise_uvrms"
        low = float(_range(_get(n, "low", p, "num"), 0.01, 10000, p + ".low"))
        high = _get(n, "high", p, "num", None, has_high)
        self.noise_uvrms = (low, low if high is None else float(_range(high, 0.01, 10000,
                                                                       p + ".high")))
        self.noise_weighting = _get(d, "noise_weighting", path, "str")
        if self.noise_weighting not in ("A", "unweighted"):
            raise BoardError('%s.noise_weighting: must be "A" or "unweighted", got %r'
                             % (path, self.noise_weighting))
        band = _get(d, "noise_band_hz", path, "list")
        p = path + ".noise_band_hz"
        if len(band) != 2:
            raise BoardError("%s: the band's lower and upper edge, [20, 20000], got %r" % (p, band))
        for i in (0, 1):
            e = band[i]
            if not isinstance(e, (int, float)) or isinstance(e, bool) or e - e != 0:
                raise BoardError("%s[%d]: must be a finite number, got %r" % (p, i, e))
            _range(e, 1, 100000, "%s[%d]" % (p, i))
        if band[0] >= band[1]:
            raise BoardError("%s: the lower edge must be below the upper one, got %r" % (p, band))
        self.noise_band_hz = (float(band[0]), float(band[1]))


class Display:
    """The `display` section: a 128x64 OLED (SSD1306 or SH1106) on I2C - its own bus, or
    the DAC's, sharing its pins and clock - or an SSD1306 on the SPI block the PGA2311
    does not use (micropython-lib's driver sets the bus's clock and mode for itself)."""
    WIDTH = 128
    HEIGHT = 64

    def __init__(self, board, d):
        self.chip = _get(d, "chip", "display", "str")
        if self.chip not in ("ssd1306", "sh1106"):
            raise BoardError('display.chip: must be "ssd1306" or "sh1106", got %r' % self.chip)
        self.width = self.WIDTH
        self.height = self.HEIGHT
        i2c = _get(d, "i2c", "display", "obj", None, False)
        spi = _get(d, "spi", "display", "obj", None, False)
        if (i2c is None) == (spi is None):
            raise BoardError("display: name its bus, i2c or spi (one of them)")
        self.bus = "i2c" if i2c is not None else "spi"
        self.addr = self.spi_id = self.i2c_id = self.cs = self.dc = self.res = None
        if i2c is not None:
            self.addr = _range(_get(d, "addr", "display", "int", 0x3C, False), 0x3C, 0x3D,
                               "display.addr")
            self.i2c_id = _range(_get(i2c, "id", "display.i2c", "int"), 0, 1, "display.i2c.id")
            if board.dac == "pcm5122" and board.dac_i2c_id == self.i2c_id:
                # The DAC's bus: the same pins (claimed once, by the DAC) and one clock.
                if (_get(i2c, "sda", "display.i2c", "int") != board.dac_sda
                        or _get(i2c, "scl", "display.i2c", "int") != board.dac_scl):
                    raise BoardError("display.i2c: I2C%d is the DAC's bus: its pins are GP%d "
                                     "(SDA) and GP%d (SCL)" % (self.i2c_id, board.dac_sda,
                                                               board.dac_scl))
                freq = _get(i2c, "freq", "display.i2c", "int", None, False)
                if freq is not None and freq != board.i2c_freq[self.i2c_id]:
                    raise BoardError("display.i2c.freq: I2C%d runs at %d Hz for the DAC: one "
                                     "clock per bus" % (self.i2c_id, board.i2c_freq[self.i2c_id]))
                self.sda, self.scl = board.dac_sda, board.dac_scl
            else:
                self.i2c_id, self.sda, self.scl = board._i2c(i2c, "display.i2c")
            self.freq = board.i2c_freq[self.i2c_id]
            if self.freq > 400000:
                board.warnings.append("display.i2c.freq: %d Hz is beyond the %s's 400 kHz "
                                      "(fast mode)" % (self.freq, self.chip.upper()))
        else:
            if "addr" in d:
                raise BoardError("display.addr: an I2C address; a display on SPI has none")
            if self.chip != "ssd1306":
                raise BoardError("display.spi: the SH1106 is driven on I2C only")
            self.spi_id = _range(_get(spi, "id", "display.spi", "int"), 0, 1, "display.spi.id")
            if self.spi_id == board.spi_id:
                raise BoardError("display.spi.id: SPI%d is the PGA2311's; put the display on "
                                 "SPI%d" % (self.spi_id, 1 - self.spi_id))
            self.sck = board._pin(spi, "sck", "display.spi")
            self.mosi = board._pin(spi, "mosi", "display.spi")
            for field, role in (("sck", "sck"), ("mosi", "tx")):
                gpio = getattr(self, field)
                if spi_pin_role(gpio) != (self.spi_id, role):
                    raise BoardError("display.spi.%s: GP%d cannot be SPI%d %s" % (
                        field, gpio, self.spi_id, role.upper()))
            self.cs = board._pin(spi, "cs", "display.spi")
            self.dc = board._pin(spi, "dc", "display.spi")
            self.res = board._pin(spi, "res", "display.spi")
            # The SSD1306's shortest clock cycle is 100 ns (datasheet, 4-wire SPI timing).
            self.freq = _range(_get(spi, "baudrate", "display.spi", "int", 10000000, False),
                               100000, 10000000, "display.spi.baudrate")


class Wifi:
    """The `wifi` section: a Pico W's CYW43439, and the web remote it serves."""
    PINS = (23, 24, 25, 29)   # WL_ON, WL_D, WL_CS, WL_CLK on a Pico W

    def __init__(self, board, d):
        self.chip = _get(d, "chip", "wifi", "str", "cyw43439", False)
        if self.chip != "cyw43439":
            raise BoardError('wifi.chip: "cyw43439" (a Pico W\'s), not %r' % self.chip[:20])
        self.port = _range(_get(d, "port", "wifi", "int", 80, False), 1, 65535, "wifi.port")
        self.hostname = _get(d, "hostname", "wifi", "str", "headroom", False)
        if not 1 <= len(self.hostname) <= 32 or not all(
                "a" <= c <= "z" or "0" <= c <= "9" or c == "-" for c in self.hostname):
            raise BoardError("wifi.hostname: 1 to 32 lower-case letters, digits or '-'")
        self.country = _get(d, "country", "wifi", "str", "XX", False)
        if len(self.country) != 2 or not self.country.isupper() or not self.country.isalpha():
            raise BoardError("wifi.country: a two-letter country code such as \"GB\" "
                             "(the radio's rules), or \"XX\" (worldwide)")
        # The LED on the CYW43's own GPIO (machine.Pin("LED")): blinks while it joins,
        # lit once the page can be reached.
        self.led = _get(d, "led", "wifi", "bool", True, False)
        for g in self.PINS:
            if g in board._pins:
                raise BoardError("wifi: GP%d is the WiFi chip's on a Pico W, but %s uses it"
                                 % (g, board._pins[g]))
            board._pins[g] = "wifi (the CYW43439 on a Pico W)"


class Board:
    """A validated board description; see boards/README.md for every field."""

    def __init__(self, d, name="board"):
        if not isinstance(d, dict):
            raise BoardError("board: must be a JSON object")
        if isinstance(d.get("board"), bool) or d.get("board") != 1:
            raise BoardError("board: format version must be 1, got %r" % (d.get("board"),))
        _check_keys(d, "board")
        self.name = _get(d, "name", "board", "str", name, False)
        self.warnings = []   # legal but risky choices, said by the host tools
        self._pins = {}  # type: dict[int, str]
        # A Pico W's WiFi chip (the web remote, web.py), optional. It owns GP23, GP24,
        # GP25 and GP29 (its power, data, chip select and clock): the board cannot use them.
        wifi = _get(d, "wifi", "board", "obj", None, False)
        self.wifi = Wifi(self, wifi) if wifi is not None else None

        spi = _get(d, "spi", "board", "obj")
        self.spi_id = _range(_get(spi, "id", "spi", "int"), 0, 1, "spi.id")
        self.spi_sck = self._pin(spi, "sck", "spi")
        self.spi_mosi = self._pin(spi, "mosi", "spi")
        self.spi_miso = self._pin(spi, "miso", "spi", required=False)
        self.spi_baudrate = _range(_get(spi, "baudrate", "spi", "int"), 10000, 6250000,
                                   "spi.baudrate")
        for field, role in (("sck", "sck"), ("mosi", "tx"), ("miso", "rx")):
            gpio = getattr(self, "spi_" + field)
            if gpio is not None and spi_pin_role(gpio) != (self.spi_id, role):
                raise BoardError("spi.%s: GP%d cannot be SPI%d %s" % (
                    field, gpio, self.spi_id, role.upper()))

        if self.spi_miso is None:
            # rp2's machine.SPI takes its default MISO pin when none is given.
            self._spi_default_miso = (16, 8)[self.spi_id]  # type: int | None
        else:
            self._spi_default_miso = None

        pga = _get(d, "pga2311", "board", "obj")
        self.pga_cs = self._pin(pga, "cs", "pga2311")
        self.pga_mute = self._pin(pga, "mute", "pga2311")
        # ZCEN: a GPIO the firmware drives high, or tied on the board: "high" (or omitted,
        # as the PGA2311's datasheet has it: ZCEN high enables zero-crossing detection) or
        # "low" (changes at once). `pga_zc`: whether gain changes wait for a zero crossing.
        zc = pga.get("zcen") if isinstance(pga, dict) else None
        if isinstance(zc, str):
            if zc not in ("high", "low"):
                raise BoardError('pga2311.zcen: a GPIO, "high" or "low" (tied on the board), '
                                 'got %r' % zc)
            self.pga_zcen = None
            self.pga_zc = zc == "high"
        else:
            self.pga_zcen = self._pin(pga, "zcen", "pga2311", required=False)
            self.pga_zc = True
        chips = _get(pga, "chips", "pga2311", "list")
        if not 1 <= len(chips) <= 2:
            raise BoardError("pga2311.chips: one or two chips, got %d" % len(chips))
        # roles[i] is the user channel (0 left, 1 right) of PGA channel i; the
        # PGA channels are numbered chip 0 (nearest the MCU) left, right, then chip 1.
        self.pga_roles = []
        self.pga_legs = []
        for i, chip in enumerate(chips):
            p = "pga2311.chips[%d]" % i
            if not isinstance(chip, list) or len(chip) != 2:
                raise BoardError("%s: must list the roles of its left and right channel" % p)
            for role in chip:
                if role not in ("L", "R", "L-", "R-"):
                    raise BoardError("%s: role %r is not one of L, R, L-, R-" % (p, role))
                self.pga_roles.append(0 if role[0] == "L" else 1)
                self.pga_legs.append(-1 if role.endswith("-") else 1)
        # Every user channel once as a hot leg and, with two chips, once as a cold leg:
        # L+R on one chip; L+R and L-+R- (or L+L- and R+R-) on two.
        roles = sorted(r for chip in chips for r in chip)
        want = ["L", "R"] if len(chips) == 1 else ["L", "L-", "R", "R-"]
        if roles != want:
            raise BoardError("pga2311.chips: need each of %s exactly once, got %s" % (
                ", ".join(want), ", ".join(roles)))

        enc = _get(d, "encoder", "board", "obj")
        self.enc_a = self._pin(enc, "a", "encoder")
        self.enc_b = self._pin(enc, "b", "encoder")
        self.edges_per_detent = _get(enc, "edges_per_detent", "encoder", "int")
        if self.edges_per_detent not in (1, 2, 4):
            raise BoardError("encoder.edges_per_detent: must be 1, 2 or 4, got %r"
                             % self.edges_per_detent)
        self.decoder = _get(enc, "decoder", "encoder", "str", "pio", False)
        if self.decoder not in ("pio", "irq"):
            raise BoardError("encoder.decoder: must be \"pio\" or \"irq\", got %r" % self.decoder)
        self.pio_sm = _range(_get(enc, "pio_sm", "encoder", "int", 4, False), 0, 7, "encoder.pio_sm")
        self.button = self._pin(_get(d, "button", "board", "obj"), "pin", "button")

        # Two positions: one pin, `high_level` is high gain. Three (an ON-OFF-ON toggle, the
        # common to GND): `low_pin` reads 0 at low gain, `high_pin` at high, neither is auto.
        self.gain_switch = None
        self.gain_switch_pins = ()  # type: tuple[int, ...]
        self.gain_switch_high_level = None
        gs = _get(d, "gain_switch", "board", "obj", None, False)
        if gs is not None:
            if "low_pin" in gs or "high_pin" in gs:
                for k in ("pin", "high_level"):
                    if k in gs:
                        raise BoardError(
                            "gain_switch.%s: a two-position switch's key; a three-position one "
                            "has low_pin and high_pin only (the middle is auto)" % k)
                self.gain_switch_pins = (self._pin(gs, "low_pin", "gain_switch"),
                                         self._pin(gs, "high_pin", "gain_switch"))
            else:
                self.gain_switch_pins = (self._pin(gs, "pin", "gain_switch"),)
                self.gain_switch_high_level = _range(_get(gs, "high_level", "gain_switch", "int"),
                                                     0, 1, "gain_switch.high_level")
            self.gain_switch = self.gain_switch_pins[0]
        self.output_switch = None
        osw = _get(d, "output_switch", "board", "obj", None, False)
        if osw is not None:
            self.output_switch = self._pin(osw, "pin", "output_switch")
            self.output_switch_balanced_level = _range(
                _get(osw, "balanced_level", "output_switch", "int"), 0, 1,
                "output_switch.balanced_level")

        self.power_sense = None
        self.hardware_mute = False
        ps = _get(d, "power_sense", "board", "obj", None, False)
        if ps is not None:
            self.power_sense = self._pin(ps, "pin", "power_sense")
            self.holdup_ms = _range(_get(ps, "holdup_ms", "power_sense", "int"), 1, 1000,
                                    "power_sense.holdup_ms")
            self.hardware_mute = _get(ps, "hardware_mute", "power_sense", "bool", False, False)
            if not self.hardware_mute and self.holdup_ms < WORST_ERASE_MS:
                self.warnings.append(
                    "power_sense: holdup_ms %d is shorter than a flash erase (up to %d ms, "
                    "interrupts off), and there is no hardware_mute: a power cut during a "
                    "settings save may leave the output live until the MCU dies"
                    % (self.holdup_ms, WORST_ERASE_MS))

        self.i2s = None
        i2s = _get(d, "i2s", "board", "obj", None, False)
        if i2s is not None:
            self.i2s = i2s
            self.i2s_id = _range(_get(i2s, "id", "i2s", "int"), 0, 1, "i2s.id")
            self.i2s_sck = self._pin(i2s, "sck", "i2s")
            self.i2s_ws = self._pin(i2s, "ws", "i2s")
            self.i2s_sd = self._pin(i2s, "sd", "i2s")
            if self.i2s_ws != self.i2s_sck + 1:
                raise BoardError("i2s.ws: rp2 needs ws = sck + 1, GP%d" % (self.i2s_sck + 1))
            self.i2s_rate = _get(i2s, "rate", "i2s", "int")
            if self.i2s_rate not in _I2S_RATES:
                raise BoardError("i2s.rate: %r is not one of %r" % (self.i2s_rate, _I2S_RATES))
            self.i2s_bits = _get(i2s, "bits", "i2s", "int")
            if self.i2s_bits not in (16, 32):
                raise BoardError("i2s.bits: must be 16 or 32, got %r" % self.i2s_bits)
        self.i2c_freq = {}   # I2C block -> its clock (Hz), for every part on it
        self.dac = None
        self.dac_mute_ms = 0
        dac = _get(d, "dac", "board", "obj", None, False)
        if dac is not None:
            if self.i2s is None:
                raise BoardError("dac: an I2S DAC needs the i2s section")
            self.dac = _get(dac, "chip", "dac", "str")
            if self.dac not in ("pcm5102a", "pcm5122"):
                raise BoardError("dac.chip: must be \"pcm5102a\" or \"pcm5122\", got %r" % self.dac)
            self.dac_xsmt = self._pin(dac, "xsmt", "dac")
            # Both chips soft-mute 1 dB per sample over 104 dB; +1 ms for ticks_ms.
            self.dac_mute_ms = (105 * 1000 + self.i2s_rate - 1) // self.i2s_rate + 1
            if self.dac == "pcm5122":
                bus = _get(dac, "i2c", "dac", "obj")
                self.dac_i2c_id, self.dac_sda, self.dac_scl = self._i2c(bus, "dac.i2c")
                self.dac_addr = _range(_get(dac, "addr", "dac", "int"), 0x4C, 0x4F, "dac.addr")

        relays = _get(d, "relays", "board", "obj")
        self.mute_relay = self._relay(relays, "mute", True)
        self.gain_relay = self._relay(relays, "gain", False)
        self.output_relay = self._relay(relays, "output", False)
        if (self.output_relay is None) != (self.output_switch is None):
            raise BoardError("relays.output: an output relay and an output_switch go together")
        if len(self.gain_switch_pins) == 2 and self.gain_relay is None:
            raise BoardError("gain_switch.low_pin: a three-position switch's middle is auto gain, "
                             "which needs relays.gain")

        an = _get(d, "analog", "board", "obj")
        vrms = _get(an, "dac_full_scale_vrms", "analog", "num")
        _range(vrms, 0.1, 10, "analog.dac_full_scale_vrms")
        self.dac_cdb = _cdb(20 * math.log10(vrms))
        self.gain_cdb = (
            _cdb(_range(_get(an, "gain_low_db", "analog", "num"), -20, 40, "analog.gain_low_db")),
            _cdb(_range(_get(an, "gain_high_db", "analog", "num"), -20, 40,
                        "analog.gain_high_db")))
        if self.gain_relay is None and self.gain_cdb[0] != self.gain_cdb[1]:
            raise BoardError("analog.gain_high_db: differs from gain_low_db but there is no gain relay")
        self.balanced_cdb = _cdb(_range(_get(an, "balanced_db", "analog", "num"), 0, 12,
                                        "analog.balanced_db"))
        # The PGA2311's own output swing (optional): on a low gain it can be the limit
        # before the stage is; the firmware then never drives it past this.
        pmx = _get(an, "pga_max_vrms", "analog", "num", None, False)
        self.pga_max_cdb = None if pmx is None else _cdb(
            20 * math.log10(_range(pmx, 0.1, 20, "analog.pga_max_vrms")))
        mx = _get(an, "max_output_dbv", "analog", "obj")
        self.outputs = (OUTPUT_SE, OUTPUT_BALANCED) if self.output_relay else (OUTPUT_SE,)
        self.max_out_cdb = [0, 0]
        for o, key in ((OUTPUT_SE, "se"), (OUTPUT_BALANCED, "balanced")):
            if o in self.outputs:
                self.max_out_cdb[o] = _cdb(_range(_get(mx, key, "analog.max_output_dbv", "num"),
                                                  -40, 40, "analog.max_output_dbv." + key))
        # The output stages' facts (optional section, for the headphone calculations):
        # output_stage[o] is an OutputStage, or None when the board file has no
        # analog.outputs. With the section, every output the board has needs its entry
        # (like max_output_dbv, an output the board lacks is not read).
        self.output_stage = [None, None]  # type: list[OutputStage | None]
        st = _get(an, "outputs", "analog", "obj", None, False)
        if st is not None:
            for o, key in ((OUTPUT_SE, "se"), (OUTPUT_BALANCED, "balanced")):
                if o in self.outputs:
                    self.output_stage[o] = OutputStage(
                        _get(st, key, "analog.outputs", "obj"), "analog.outputs." + key,
                        self.max_out_cdb[o], self.gain_relay is not None)
        if len(self.pga_roles) == 4 and OUTPUT_BALANCED not in self.outputs:
            raise BoardError("pga2311.chips: two chips need a balanced output (relays.output)")

        t = _get(d, "timing", "board", "obj")
        self.settle_ms = _range(_get(t, "settle_ms", "timing", "int"), 0, 30000, "timing.settle_ms")
        self.relay_settle_ms = _range(_get(t, "relay_settle_ms", "timing", "int"), 0, 1000,
                                      "timing.relay_settle_ms")
        self.ramp_step_hdb = int(round(_range(_get(t, "ramp_step_db", "timing", "num"), 0.5, 6,
                                              "timing.ramp_step_db") * 2))
        if self.ramp_step_hdb * 50 != _cdb(t["ramp_step_db"]):
            raise BoardError("timing.ramp_step_db: must be a multiple of 0.5 dB")
        # The PGA2311 applies a change at a zero crossing or after its 16 ms time-out,
        # and a new write replaces a pending one: a ramp step must outlast the
        # time-out (plus 1 ms of ticks_ms granularity) or steps get skipped.
        self.ramp_interval_ms = _range(_get(t, "ramp_interval_ms", "timing", "int"),
                                       17 if self.pga_zc else 1, 1000,
                                       "timing.ramp_interval_ms")

        v = _get(d, "volume", "board", "obj")
        self.default_hdb = self._hdb(v, "default_dbv", "volume")
        self.limit_hdb = self._hdb(v, "limit_dbv", "volume")
        self.startup_max_hdb = self._hdb(v, "startup_max_dbv", "volume")
        self.min_hdb = self._hdb(v, "min_dbv", "volume")
        if not self.min_hdb <= self.startup_max_hdb <= self.limit_hdb:
            raise BoardError("volume: need min_dbv <= startup_max_dbv <= limit_dbv")
        if not self.min_hdb <= self.default_hdb <= self.limit_hdb:
            raise BoardError("volume.default_dbv: must lie between min_dbv and limit_dbv")

        if self.decoder == "pio" and self.enc_b != self.enc_a + 1:
            raise BoardError("encoder.b: the PIO decoder reads A and B as consecutive pins, "
                             "so b must be GP%d (or set encoder.decoder to \"irq\")" % (self.enc_a + 1))
        dm = self._spi_default_miso
        if dm is not None and dm in self._pins:
            raise BoardError("spi.miso: not given, so SPI%d takes its default MISO GP%d, "
                             "which %s uses" % (self.spi_id, dm, self._pins[dm]))

        c = _get(d, "controls", "board", "obj")
        self.debounce_ms = _range(_get(c, "debounce_ms", "controls", "int"), 1, 500,
                                  "controls.debounce_ms")
        self.long_press_ms = _range(_get(c, "long_press_ms", "controls", "int"), 200, 10000,
                                    "controls.long_press_ms")
        self.balance_timeout_ms = _range(_get(c, "balance_timeout_ms", "controls", "int"),
                                         1000, 60000, "controls.balance_timeout_ms")
        self.save_delay_ms = _range(_get(c, "save_delay_ms", "controls", "int"), 500, 600000,
                                    "controls.save_delay_ms")

        disp = _get(d, "display", "board", "obj", None, False)
        self.display = Display(self, disp) if disp is not None else None
        # A demodulating IR receiver's output (TSOP382xx: low during a burst), optional.
        ir = _get(d, "ir", "board", "obj", None, False)
        self.ir_pin = self._pin(ir, "pin", "ir") if ir is not None else None
        # Where the music comes from: the Pico's own I2S (test signals, WAV files), or an
        # external module that is the I2S master (a USB bridge, an S/PDIF receiver), with
        # up to four named inputs chosen by GPIOs (a relay or a mux: input i sets select
        # pin k to bit k of i). Optional: one input, the Pico's.
        inp = _get(d, "inputs", "board", "obj", None, False)
        self.source = "pico"
        self.input_names = ("",)
        self.input_select = ()
        self.input_active_high = True
        self.input_switch_ms = 0
        if inp is not None:
            self.source = _get(inp, "source", "inputs", "str", "pico", False)
            if self.source not in ("pico", "external"):
                raise BoardError('inputs.source: "pico" or "external", not %r' % self.source[:20])
            names = _get(inp, "names", "inputs", "list")
            if not 1 <= len(names) <= 4 or not all(
                    isinstance(n, str) and 1 <= len(n) <= 10 and n.strip() == n
                    and all(33 <= ord(c) <= 126 and c not in '"\\' for c in n) for n in names):
                raise BoardError("inputs.names: one to four names of 1 to 10 printable "
                                 "characters (one word: no space, quote or backslash)")
            if len(set(names)) != len(names):
                raise BoardError("inputs.names: a name is given twice")
            self.input_names = tuple(names)
            sel = _get(inp, "select", "inputs", "list", [], False)
            if (1 << len(sel)) < len(names):
                raise BoardError("inputs.select: %d inputs need %d select pins (a pin per bit "
                                 "of the input's number)" % (len(names), (len(names) - 1).bit_length()))
            pins = []
            for i, g in enumerate(sel):
                pins.append(self._pin({str(i): g}, str(i), "inputs.select"))
            self.input_select = tuple(pins)
            self.input_active_high = _get(inp, "active_high", "inputs", "bool", True, False)
            self.input_switch_ms = _range(_get(inp, "switch_ms", "inputs", "int", 5, False), 0,
                                          1000, "inputs.switch_ms")
            # A PCM5102A cannot say whether music comes: the Pico counts the source's
            # LRCK edges on a PWM slice's B input (clockwatch.py), an odd GPIO.
            if self.source == "external" and self.dac == "pcm5102a" and self.i2s_ws % 2 == 0:
                raise BoardError("i2s.ws: GP%d is even; with an external source and a "
                                 "PCM5102A the Pico watches LRCK on a PWM slice's B input, "
                                 "an odd GPIO" % self.i2s_ws)
        # A 12 V trigger out (a GPIO driving a transistor stage), optional: high while
        # playing, `delay_ms` after it starts; low in standby, `delay_ms` before it mutes.
        trig = _get(d, "trigger", "board", "obj", None, False)
        self.trigger_pin = self._pin(trig, "pin", "trigger") if trig is not None else None
        self.trigger_active_high = True
        self.trigger_delay_ms = 0
        if trig is not None:
            self.trigger_active_high = _get(trig, "active_high", "trigger", "bool", True, False)
            self.trigger_delay_ms = _range(_get(trig, "delay_ms", "trigger", "int", 0, False),
                                           0, 10000, "trigger.delay_ms")

    def gain_position(self, levels):
        """The gain switch's position from its pins' levels (the first pin in bit 0, the
        second in bit 1): GAIN_LOW, GAIN_HIGH, or GAIN_AUTO for a three-position switch's
        middle. Both throws closed at once is a wiring fault: low gain."""
        if self.gain_switch_high_level is not None:
            return GAIN_HIGH if levels == self.gain_switch_high_level else GAIN_LOW
        if levels & 1 == 0:
            return GAIN_LOW
        return GAIN_HIGH if levels == 1 else GAIN_AUTO

    def _pin(self, d, key, path, required=True):
        gpio = _get(d, key, path, "int", None, required)
        if gpio is None:
            return None
        name = path + "." + key
        if gpio not in _PICO_GPIOS:
            raise BoardError("%s: GP%d is not a usable Pico GPIO" % (name, gpio))
        if gpio in self._pins:
            raise BoardError("%s: GP%d is already used by %s" % (name, gpio, self._pins[gpio]))
        self._pins[gpio] = name
        return gpio

    def _i2c(self, bus, path):
        """(block, SDA GPIO, SCL GPIO) of an I2C section, its pins claimed, and its clock
        (`freq`, 400 kHz if not given) kept in i2c_freq: one clock per block."""
        bus_id = _range(_get(bus, "id", path, "int"), 0, 1, path + ".id")
        sda = self._pin(bus, "sda", path)
        scl = self._pin(bus, "scl", path)
        if sda & 1 or (sda >> 1) & 1 != bus_id:
            raise BoardError("%s.sda: GP%d cannot be I2C%d SDA" % (path, sda, bus_id))
        if scl != sda + 1:
            raise BoardError("%s.scl: must be GP%d (sda + 1)" % (path, sda + 1))
        self.i2c_freq[bus_id] = _range(_get(bus, "freq", path, "int", 400000, False), 10000,
                                       1000000, path + ".freq")
        return bus_id, sda, scl

    def _relay(self, relays, key, required):
        r = _get(relays, key, "relays", "obj", None, required)
        if r is None:
            return None
        path = "relays." + key
        return Relay(self._pin(r, "pin", path), r, path, self._pin(r, "sense", path, required=False))

    def _hdb(self, d, key, path):
        v = _get(d, key, path, "num")
        _range(v, -120, 40, path + "." + key)
        h = int(round(v * 2))
        if h * 50 != _cdb(v):
            raise BoardError("%s.%s: must be a multiple of 0.5 dB" % (path, key))
        return h

    def path_cdb(self, gain, output):
        """Gain from a 0 dB PGA2311 setting to the jack for full scale, in cdB re 1 V."""
        g = self.dac_cdb + self.gain_cdb[gain]
        if output == OUTPUT_BALANCED:
            g += self.balanced_cdb
        return g

    def top_hdb(self, gain, output):
        """The highest volume (hdB) a path gives cleanly: the PGA2311 at +31.5 dB, the
        stage's max_output_dbv, and the PGA2311's own swing (pga_max_vrms) when given."""
        from .volume import path_max_hdb  # here: host tools parse board files without micropython
        path = self.path_cdb(gain, output)
        top = path_max_hdb(path, self.max_out_cdb[output])
        if self.pga_max_cdb is not None:
            clip = (self.pga_max_cdb + path - self.dac_cdb) // 50
            if clip < top:
                top = clip
        return top

    def pins(self):
        """{gpio: field name} of every pin the board uses."""
        return dict(self._pins)


def parse(d, name="board"):
    return Board(d, name)


def load(path):
    """Read and validate a board file; raises BoardError naming the field."""
    import os
    try:
        size = os.stat(path)[6]
        if size > MAX_BYTES:
            raise BoardError("%s: %d bytes is too large for a board file (at most %d)"
                             % (path, size, MAX_BYTES))
        with open(path) as f:
            text = f.read()
    except OSError as e:
        raise BoardError("%s: cannot read (%s)" % (path, e))
    except UnicodeError:
        raise BoardError("%s: not a text file (UTF-8 JSON expected)" % path)
    check_text(text)
    try:
        d = json.loads(text)
    except ValueError as e:
        raise BoardError("%s: not valid JSON (%s)" % (path, e))
    return Board(d, path)
