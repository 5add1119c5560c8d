"""The analog path to the headphone jack: what the listener gets, per channel.

Level (dBV for a full-scale signal) = DAC full scale + PGA2311 gain + the stage
gain the gain relay's contacts select (+ the balanced gain when the output
relay's contacts select balanced). Nothing reaches the jack while the mute
relay's contacts are open or the PGA is muted. A balanced output takes the hot
leg's level; its cold leg must match it, else it is a fault.
"""
from ..trace import Db

SE = 0
BALANCED = 1


class Jack:
    def __init__(self, sim, board, pga, mute_relay, gain_relay, output_relay):
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
        pga.listeners.append(self.update)
        for r in (mute_relay, gain_relay, output_relay):
            if r is not None:
                r.listeners.append(self.update)
        self.update()

    def _channel(self, ch, path_cdb, output):
        hot = cold = None
        found = False
        for i in range(len(self.b.pga_roles)):
            if self.b.pga_roles[i] != ch:
                continue
            g = self.pga.gain_hdb(i)
            if self.b.pga_legs[i] > 0:
                hot = g
                found = True
            else:
                cold = g
        if not found or hot is None:
            return None
        if output == BALANCED and 4 == len(self.b.pga_roles) and cold != hot:
            # Unequal legs turn level into common-mode error; a settled output never shows it.
            return min(hot * 50 if hot is not None else -100000,
                       cold * 50 if cold is not None else -100000) + path_cdb
        return hot * 50 + path_cdb

    def update(self):
        output = BALANCED if self.output_relay is not None and self.output_relay.energized else SE
        gain = 1 if self.gain_relay is not None and self.gain_relay.energized else 0
        if not self.mute_relay.energized:
            levels = (None, None)
        else:
            path = self.b.path_cdb(gain, output)
            levels = (self._channel(0, path, output), self._channel(1, path, output))
        key = (output, levels)
        if key == self.state:
            return
        self.state = key
        self.levels = levels
        self.output = output
        self.sim.emit("chip", [("chip", "jack"), ("state", [
            ("output", "balanced" if output == BALANCED else "se"),
            ("left", "mute" if levels[0] is None else Db(levels[0], 100)),
            ("right", "mute" if levels[1] is None else Db(levels[1], 100))])])
        for fn in self.listeners:
            fn()
