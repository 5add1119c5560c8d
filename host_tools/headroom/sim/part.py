"""What every chip model on a simulated board declares (world.Sim.models): what a soft
reset keeps of it. A model with nothing to keep inherits the defaults."""


class Part:
    def snapshot(self):
        """The state a soft reset keeps (JSON-able: it crosses to the virtual board's next
        VM); None: nothing, the part starts afresh."""
        return None

    def restore(self, state):
        """Back to a snapshot() of the same part, silently (the trace is muted meanwhile)."""
