"""A whole simulated Headroom board: the parts of a board file, wired, running the firmware.

    b = SimBoard("boards/pico-se.json")
    b.power(True); b.run_ms(2500)
    b.turn(+4, rate=5); b.run_ms(1000)
    b.jack.levels        # what reaches the headphones, cdB per channel

The firmware is imported from firmware/ unchanged, fresh at every boot, and
reads board.json and settings.json from the board's flash directory.
"""
import os
import sys

from . import shims, world
from .models.controls import PowerSense, Rng, RotaryEncoder, Switch
from .models.jack import Jack
from .models.pga2311 import PGA2311Chain
from .models.relay import Relay
from .trace import Trace


def _dirname(p):
    i = p.rfind("/")
    return p[:i] if i > 0 else ("/" if i == 0 else ".")


def _basename(p):
    return p[p.rfind("/") + 1:]


def _join(a, b):
    return a + b if a.endswith("/") else a + "/" + b


def _abspath(p):
    return p if p.startswith("/") else _join(os.getcwd(), p)


# Paths by hand: MicroPython has no os.path, and this module runs there too.
_HERE = _dirname(_abspath(__file__))
REPO_DIR = _dirname(_dirname(_dirname(_HERE)))
FIRMWARE_DIR = _join(REPO_DIR, "firmware")


def use_firmware(path=None):
    """Make the firmware (default: firmware/) importable over the simulated machine modules."""
    shims.install()
    path = path or FIRMWARE_DIR
    if path not in sys.path:
        sys.path.insert(0, path)


def _purge_firmware():
    for name in list(sys.modules):
        if name == "headroom_fw" or name.startswith("headroom_fw."):
            del sys.modules[name]


class SimBoard:
    def __init__(self, board_path, flash_dir=None, trace_sink=None, seed=1, start_ms=0,
                 keep_trace=True, firmware_dir=None, decoder=None, record_dac=False):
        """`decoder` ("pio"/"irq") overrides the board file's encoder.decoder;
        `record_dac` keeps the DAC's analog output, for jack_vrms()."""
        self.record_dac = record_dac
        use_firmware(firmware_dir)
        from headroom_fw import board as boardfile
        with open(board_path) as f:
            text = f.read()
        self.board_name = _basename(board_path)
        d = _json_loads(text)
        if decoder is not None:
            d["encoder"]["decoder"] = decoder
            text = _json_dumps(d)
        self.board = boardfile.parse(d, self.board_name)
        if flash_dir is None:
            # A folder of its own, removed with the board (or at exit): CPython only, as
            # MicroPython callers always pass theirs.
            import shutil
            import tempfile
            import weakref
            flash_dir = tempfile.mkdtemp(prefix="headroom-flash-")
            weakref.finalize(self, shutil.rmtree, flash_dir, True)
        self.flash_dir = flash_dir
        with open(_join(flash_dir, "board.json"), "w") as f:
            f.write(text)
        self.trace = Trace(self.board_name, trace_sink, keep_trace)
        self.sim = world.Sim(self.trace, start_ms * 1000)
        world.current = self.sim
        self.sim.firmware = self._boot_firmware
        self.rng = Rng(seed)
        self._build()
        self.console = SimConsole(self.sim)
        self._settings_path = _join(flash_dir, "settings.json")
        self._flash_stat = None
        self.flash_writes = 0
        self.sim.after_step.append(self._watch_flash)

    def _build(self):
        b, s = self.board, self.sim
        # Board resistors: CS held high and MUTE held low while the MCU is not driving them.
        s.gpio[b.pga_cs].board_pull = 1
        s.gpio[b.pga_mute].board_pull = 0
        self.pga = PGA2311Chain(s, b.spi_id, b.pga_cs, b.pga_mute, b.pga_zcen,
                                len(b.pga_roles) // 2)
        self.relays = {}
        for name in ("mute", "gain", "output"):
            r = getattr(b, name + "_relay")
            if r is not None:
                self.relays[name] = Relay(s, name, r.pin, r.active_high, r.operate_ms, r.release_ms)
        self.dac = None
        if b.dac == "pcm5102a":
            from .models.pcm5102a import PCM5102A
            self.dac = PCM5102A(s, b.i2s_sck, b.i2s_sd, xsmt=b.dac_xsmt, record=self.record_dac)
        elif b.dac == "pcm5122":
            from .models.pcm5122 import PCM5122
            addr = b.dac_addr - 0x4C
            self.dac = PCM5122(s, b.dac_i2c_id, b.i2s_sck, b.i2s_sd, adr1=addr & 1, adr2=addr >> 1,
                               xsmt=b.dac_xsmt, record=self.record_dac)
        self.jack = Jack(s, b, self.pga, self.relays["mute"], self.relays.get("gain"),
                         self.relays.get("output"), xsmt=b.dac_xsmt if b.dac else None)
        self.encoder = RotaryEncoder(s, b.enc_a, b.enc_b, b.edges_per_detent, self.rng)
        self.button = Switch(s, b.button, "button", self.rng)
        self.gain_switch = (Switch(s, b.gain_switch, "gain_switch", self.rng)
                            if b.gain_switch is not None else None)
        self.output_switch = (Switch(s, b.output_switch, "output_switch", self.rng)
                              if b.output_switch is not None else None)
        if b.power_sense is not None:
            PowerSense(s, b.power_sense, b.holdup_ms)
        # Switches start in the low-gain, single-ended positions.
        self.set_gain("low")
        self.set_output("se")

    def _boot_firmware(self, sim):
        _purge_firmware()
        from headroom_fw import app
        self.console.reset()
        return app.boot(self.flash_dir + "/", self.console)

    def _watch_flash(self):
        # An atomic replace always lands on a new inode (the old file is still there
        # while the new one is written), so (inode, size, mtime) sees every write.
        # Indexed, not st_ino: MicroPython's os.stat gives a plain tuple.
        try:
            st = os.stat(self._settings_path)
            key = (st[1], st[6], st[8])
        except OSError:
            key = None
        if key != self._flash_stat:
            self._flash_stat = key
            if key is not None:
                self.flash_writes += 1
                self.sim.emit("flash", [("file", "settings.json"), ("bytes", key[1])])

    # ---- the user's hands
    def power(self, on):
        self.sim.power(on)

    def turn(self, detents, rate=10.0, bounce_us=0):
        """Turn the knob; returns the time the turn takes in us (the caller runs the board)."""
        if detents == 0:
            return 0
        return self.encoder.turn(detents, int(round(rate * 1000)), bounce_us)

    def set_gain(self, pos, bounce_us=0):
        if self.gain_switch is None:
            return
        level = self.board.gain_switch_high_level if pos == "high" else 1 - self.board.gain_switch_high_level
        self.gain_switch.set(level == 0, bounce_us)

    def set_output(self, pos, bounce_us=0):
        if self.output_switch is None:
            return
        b = self.board.output_switch_balanced_level
        level = b if pos == "balanced" else 1 - b
        self.output_switch.set(level == 0, bounce_us)

    def press(self, closed, bounce_us=0):
        self.button.set(closed, bounce_us)

    # ---- time
    def run_ms(self, ms):
        self.sim.run_for(int(ms * 1000))

    def run_us(self, us):
        self.sim.run_for(us)

    def now_us(self):
        return self.sim.now()

    def jack_vrms(self, ms=100):
        """Signal level at the jack per channel, in cdB re 1 Vrms (None: silent), over the
        last `ms` of the DAC's analog output (needs record_dac=True), recorded in the trace.

        The DAC's output as its model made it from the captured I2S samples, times the
        gain from the DAC to the jack that the jack model gives (PGA2311 as decoded from
        the bus, the relays' contacts, the stage gains, mutes).
        """
        import math
        want = self.board.i2s_rate * ms // 1000
        sums = [0.0, 0.0]
        n = 0
        for _t, _f0, count, volts in reversed(self.dac.analog):
            take = min(count, want - n)
            if volts is not None:
                for f in range(count - take, count):
                    sums[0] += volts[2 * f] ** 2
                    sums[1] += volts[2 * f + 1] ** 2
            n += take
            if n >= want:
                break
        out = []
        for ch in (0, 1):
            path = self.jack.levels[ch]
            if n == 0 or sums[ch] == 0 or path is None:
                out.append(None)
                continue
            dac_db = 10 * math.log10(sums[ch] / n)
            out.append(int(round(dac_db * 100)) + path - self.board.dac_cdb)
        from .trace import Db
        self.sim.emit("signal", [("left", "mute" if out[0] is None else Db(out[0], 100)),
                                 ("right", "mute" if out[1] is None else Db(out[1], 100))])
        return out

    def settings_text(self):
        """The settings file as text (undecodable bytes replaced), None when absent."""
        try:
            with open(self._settings_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return None

    def close(self):
        if world.current is self.sim:
            world.current = None


def _json_loads(text):
    import json
    return json.loads(text)


def _json_dumps(d):
    import json
    return json.dumps(d)


class SimConsole:
    """The USB serial port as the firmware sees it: bytes the host sent, lines it wrote.

    Both directions go to the trace as `serial` records (`dir` "in" or "out").
    """

    def __init__(self, sim):
        self.sim = sim
        self.pending = bytearray()
        self.out = []

    def reset(self):
        """A boot: what was sent to a dead MCU is gone."""
        self.pending = bytearray()

    def send(self, text):
        """The host writes `text` (str or bytes)."""
        data = text.encode() if isinstance(text, str) else bytes(text)
        self.pending.extend(data)
        self.sim.emit("serial", [("dir", "in"), ("data", data.decode("latin-1"))])

    def read_byte(self):
        if not self.pending or not self.sim.mcu_powered:
            return None
        b = self.pending[0]
        self.pending = self.pending[1:]
        return b

    def write_line(self, text):
        t = self.sim.sim_enter()
        self.out.append(text)
        self.sim.emit("serial", [("dir", "out"), ("line", text)])
        self.sim.sim_exit(t)

    def replies(self):
        """Lines written that are replies (not pushed events), oldest first."""
        return [x for x in self.out if not x.startswith('{"event"')]
