"""What every part on a simulated board declares: a chip model or a control
(sim/models/). Made with its board's Sim and its configuration, a part changes nothing
yet; `Sim.add_part(part)` plugs it in: `attach()` wires its pins, hooks and bus and
publishes its first state, and from then on a soft reset keeps what its `snapshot()`
returns (`restore()` brings it back, in the virtual board's next VM too).

Trace consumers (sim/timeline.py, panel/readout.py) read a part's `chip` records through
its class, which names them (`chip`: the family of its records' chip names, "relay" for
"relay.mute") and words them for people (`timeline_line`, `readout_line`); they find the
class with boardparts.chip_part(name), so they work on a trace file with no board at hand.
"""
from .trace import encode


class Part:
    chip = None        # the family of this part's trace `chip` names (None: it has none)
    timeline_folds = False  # sim/timeline.py folds runs of its records into one line
    READOUT_KEYS = None     # the state keys the panel's bus timeline shows ("NAME k v, ...")

    @classmethod
    def timeline_line(cls, name, state, fields):
        """The timeline's line for one of its `chip` records (`state` a dict, `fields` the
        record's own): by default the record itself; None shows it in the verbose timeline
        only."""
        return "chip %s" % encode(fields)

    @classmethod
    def invariants_view(cls, checker, t, name, state):
        """Tell the trace checker (sim/invariants.py) what one of its `chip` records means
        for the rules: checker.relay_state, pga_state or jack_state; by default nothing."""

    @classmethod
    def mute_detail(cls, state):
        """The panel's row for a part that can mute (panel/readout.py: Mute stages): how
        its last `chip` state (a dict) mutes or passes."""
        return ", ".join("%s %s" % kv for kv in sorted(state.items()))

    @classmethod
    def readout_line(cls, name, state, fields):
        """The panel's bus timeline (panel/readout.py): READOUT_KEYS' values when the part
        names them, else the timeline's line."""
        if cls.READOUT_KEYS is None:
            return cls.timeline_line(name, state, fields)
        return "%s %s" % (name.upper(), ", ".join("%s %s" % (k, state.get(k))
                                                  for k in cls.READOUT_KEYS))

    def attach(self):
        """Wire the part to self.sim: pin listeners, power and supply hooks, its bus
        address; publish its first state. Called once, by Sim.add_part."""

    def snapshot(self):
        """The state a soft reset keeps (JSON-able: it crosses to the virtual board's next
        VM); None: nothing, the part starts afresh."""
        return None

    def restore(self, state):
        """Back to a snapshot() of the same part, silently (the trace is muted meanwhile)."""
