"""The analog path to the headphone jack: what the listener gets, per channel.

Level (dBV for a full-scale signal) = DAC full scale + PGA2311 gain + the stage
gain the gain relay's contacts select (+ the balanced gain when the output
relay's contacts select balanced). Nothing reaches the jack while the mute
relay's contacts are open, the PGA is muted, or the DAC's soft mute has ramped it
out (the level is for a full-scale signal: a DAC idle for want of data is not a
mute). A balanced output is hot minus cold: the mean of the two legs' gains, so a
leg that lags shows as a lower level.

The DAC's soft mute is a ramp, not a switch (PCM5102A/PCM5122: XSMT low takes the
signal down 1 dB a sample over 104 samples, XSMT high back up the same way): while it
runs the level is still there, fading (`dac` "down" or "up" in the record, with its
start time the record's), and only at its end is it "off" (silent) or "on". What cuts
the signal faster than that - the PGA2311 muting, the mute relay opening while the
DAC still passes it - is a click: the trace checker counts them.
"""
import math

from ..part import Part
from ..trace import Db

SE = 0
BALANCED = 1


class Jack(Part):
    chip = "jack"
    timeline_folds = True    # a ramp's steps are one line

    @classmethod
    def invariants_view(cls, checker, t, name, state):
        checker.jack_state(t, (checker.level(state["left"]), checker.level(state["right"])),
                           state.get("output"), state.get("dac", "on"))
    RAMP_SAMPLES = 104

    def __init__(self, sim, board, pga, mute_relay, gain_relay, output_relay, xsmt=None):
        """`xsmt`: the DAC's soft-mute line: low ramps the signal out, high back in."""
        self.sim = sim
        self.b = board
        self.pga = pga
        self.mute_relay = mute_relay
        self.gain_relay = gain_relay
        self.output_relay = output_relay
        self.state = None
        self.levels = (None, None)   # cdB per channel, None = silent
        self.output = SE
        self.listeners = []
        self.xsmt = xsmt
        self.dac = "off"          # the soft mute: "on", "down", "off", "up"
        self._ramp_event = None
        if xsmt is not None:
            self.ramp_us = (self.RAMP_SAMPLES * 1000000 + board.i2s_rate - 1) // board.i2s_rate

    def attach(self):
        # Added after the parts it follows (SimBoard's table): restored after them too.
        if self.xsmt is not None:
            self.sim.gpio[self.xsmt].listeners.append(self._on_xsmt)
        self.pga.listeners.append(self.update)
        for r in (self.mute_relay, self.gain_relay, self.output_relay):
            if r is not None:
                r.listeners.append(self.update)
        self.update()

    def _channel(self, ch, path_cdb, output):
        hot = cold = None
        for i in range(len(self.b.pga_roles)):
            if self.b.pga_roles[i] == ch:
                if self.b.pga_legs[i] > 0:
                    hot = self.pga.gain_hdb(i)
                else:
                    cold = self.pga.gain_hdb(i)
        if output == SE or len(self.b.pga_roles) == 2:
            return None if hot is None else hot * 50 + path_cdb
        # Balanced: the jack sees hot - cold, i.e. the mean of the two legs' gains
        # (the cold leg carries the inverted signal), times the balanced stage.
        if hot is None and cold is None:
            return None
        if hot == cold:
            return hot * 50 + path_cdb
        mean = (_lin(hot) + _lin(cold)) / 2
        return int(round(2000 * math.log10(mean))) + path_cdb

    def _on_xsmt(self, g):
        high = g.level == 1
        if high == (self.dac in ("on", "up")):
            return
        if self._ramp_event is not None:
            self._ramp_event.cancel()
        self.dac = "up" if high else "down"
        self._ramp_event = self.sim.clock.after(self.ramp_us, self._ramp_done, high)
        self.update()

    def _ramp_done(self, high):
        self._ramp_event = None
        self.dac = "on" if high else "off"
        self.update()

    def snapshot(self):
        return {"dac": self.dac}

    def restore(self, s):
        if self._ramp_event is not None:
            self._ramp_event.cancel()
            self._ramp_event = None
        d = s["dac"]
        self.dac = "on" if d in ("on", "up") else "off"
        self.state = None
        self.update()

    def update(self):
        output = BALANCED if self.output_relay is not None and self.output_relay.energized else SE
        gain = 1 if self.gain_relay is not None and self.gain_relay.energized else 0
        if not self.mute_relay.energized or (self.xsmt is not None and self.dac == "off"):
            levels = (None, None)
        else:
            path = self.b.path_cdb(gain, output)
            levels = (self._channel(0, path, output), self._channel(1, path, output))
        dac = self.dac if self.xsmt is not None else "on"
        key = (output, levels, dac)
        if key == self.state:
            return
        self.state = key
        self.levels = levels
        self.output = output
        self.sim.emit("chip", [("chip", "jack"), ("state", [
            ("output", "balanced" if output == BALANCED else "se"),
            ("left", "mute" if levels[0] is None else Db(levels[0], 100)),
            ("right", "mute" if levels[1] is None else Db(levels[1], 100)),
            ("dac", dac)])])
        for fn in self.listeners:
            fn()


def _lin(hdb):
    return 0.0 if hdb is None else 10 ** (hdb / 40)
