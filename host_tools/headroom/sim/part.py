"""What every part on a simulated board declares: a chip model or a control
(sim/models/). Made with its board's Sim and its configuration, a part changes nothing
yet; `Sim.add_part(part)` plugs it in: `attach()` wires its pins, hooks and bus and
publishes its first state, and from then on a soft reset keeps what its `snapshot()`
returns (`restore()` brings it back, in the virtual board's next VM too)."""


class Part:
    def attach(self):
        """Wire the part to self.sim: pin listeners, power and supply hooks, its bus
        address; publish its first state. Called once, by Sim.add_part."""

    def snapshot(self):
        """The state a soft reset keeps (JSON-able: it crosses to the virtual board's next
        VM); None: nothing, the part starts afresh."""
        return None

    def restore(self, state):
        """Back to a snapshot() of the same part, silently (the trace is muted meanwhile)."""
