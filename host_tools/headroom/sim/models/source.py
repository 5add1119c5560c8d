"""An external source module (a USB-I2S bridge, an S/PDIF receiver): the I2S master of a
board whose `inputs.source` is "external". The Pico only chooses the input (the
selector's GPIOs, `inputs.select`); the module drives BCK, LRCK and DIN into the DAC
model on the board's I2S pins, from the input chosen.

Each input is a player: `play(name, freq_hz, dbfs_milli)` (a sine), `stop(name)` (no
signal: a receiver without a stream stops its clocks), `rate(name, hz)` (the stream's
rate: the clocks start again at it, as a receiver relocks). What the chosen input
plays goes out; a change of input is a relock too (the clocks stop, then start at the
new input's rate). Frames go out a block at a time on the virtual clock (BLOCK_MS);
the sine's phase runs on with the frame count, so blocks join without a step. Runs
on CPython and on MicroPython (the virtual board's VM).
"""
import math
from array import array

from ..i2s import bus as i2s_bus
from ..part import Part


def name_key(name):
    """An input's name as it is matched, as the firmware's protocol.name_key: letters and
    digits, any case ("spdif" is S/PDIF)."""
    return "".join(c for c in name.lower() if "a" <= c <= "z" or "0" <= c <= "9")


BLOCK_MS = 10
RELOCK_US = 2000      # a receiver's clocks are gone this long across a relock


class ExternalSource(Part):
    def __init__(self, sim, board):
        self.sim = sim
        self.b = board
        self.names = tuple(name_key(n) for n in board.input_names)
        self.players = [[board.i2s_rate, None] for _ in self.names]   # [rate, (f, dbfs)]
        self.selected = 0
        self.bus = None
        self._gen = 0          # bumped on every relock: a pending block of an old run stops
        self._cache = None     # (tone, rate, bits, n), the block a periodic sine makes

    def attach(self):
        b = self.b
        self.bus = i2s_bus(self.sim, b.i2s_sck, b.i2s_sd)
        self.bus.external = self
        for g in b.input_select:
            self.sim.gpio[g].listeners.append(self._select_moved)
        self._select_moved()

    def index(self, name):
        """The input called `name` (letters and digits, any case: "spdif" is S/PDIF);
        ValueError naming the inputs."""
        n = name_key(name)
        if n not in self.names:
            raise ValueError("no input %s (the board's: %s)" % (name, ", ".join(self.b.input_names)))
        return self.names.index(n)

    # ---- what a person does to the sources
    def play(self, name, freq_hz, dbfs_milli):
        self.players[self.index(name)][1] = (freq_hz, dbfs_milli)
        self._relock_if(self.index(name))

    def stop(self, name):
        self.players[self.index(name)][1] = None
        self._relock_if(self.index(name))

    def rate(self, name, hz):
        self.players[self.index(name)][0] = hz
        self._relock_if(self.index(name))

    # ---- the wires
    def _select_moved(self, *_):
        sel = 0
        on = 1 if self.b.input_active_high else 0
        for k, g in enumerate(self.b.input_select):
            if self.sim.gpio[g].level == on:
                sel |= 1 << k
        if sel >= len(self.names):
            sel = 0
        if sel != self.selected or self.bus is not None and not self.bus.running:
            self.selected = sel
            self._relock()

    def _relock_if(self, i):
        if i == self.selected:
            self._relock()

    def _relock(self):
        bus = self.bus
        if bus is None:
            return
        self._gen += 1
        if bus.running:
            bus.stop()
        rate, tone = self.players[self.selected]
        if tone is None:
            return                       # no stream: the clocks stay stopped
        self.sim.clock.after(RELOCK_US, self._start, (self._gen, rate))

    def _start(self, gen_rate):
        gen, rate = gen_rate
        if gen != self._gen:
            return
        self.bus.start(self, rate, self.b.i2s_bits)
        self._block(gen)

    def unpark(self):
        """Bus.wake(): the blocks never stop while a stream plays."""

    def _block(self, gen):
        if gen != self._gen or not self.bus.running:
            return
        bus = self.bus
        n = bus.rate * BLOCK_MS // 1000
        f0 = bus.frames
        bus.deliver(f0, n, self._samples(self.players[self.selected][1], bus.rate, bus.bits, f0, n))
        self.sim.clock.after(BLOCK_MS * 1000, self._block, gen)

    def _samples(self, tone, rate, bits, f0, n):
        """Frames f0 .. f0 + n of the sine, both channels. A sine whose period is a whole
        number of frames that divides the block (1 kHz at 48 kHz: 48 frames, ten to a
        10 ms block) makes the same block every time, from frame 0 of a run on: it is
        made once (the virtual board's VM could not make 96,000 values a second)."""
        freq, dbfs_milli = tone
        key = (freq, dbfs_milli, rate, bits, n)
        periodic = rate % freq == 0 and n % (rate // freq) == 0
        if periodic:
            if self._cache is not None and self._cache[0] == key:
                return self._cache[1]
            f0 = 0
        full = (1 << (bits - 1)) - 1
        amp = full * 10 ** (dbfs_milli / 20000.0)
        w = 2 * math.pi * freq / rate
        data = array("i", bytes(8 * n))
        for k in range(n):
            v = int(amp * math.sin(w * (f0 + k)))
            data[2 * k] = v
            data[2 * k + 1] = v
        if periodic:
            self._cache = (key, data)
        return data
