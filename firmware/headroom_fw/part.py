"""A part of the board the firmware supervises: one small interface, one declared policy.

Every part (the PGA2311 chain, the DAC, the supply monitor, the relays' sense contacts;
later a display or a remote receiver) is a `Part`:

- `start(now)`: bring it up at boot (the composition root, hardware.py, made its pins
  and handed it its bus); a part that does not answer reports a fault, never raises.
- `check(now)`: its share of every main-loop pass: retry while faulty, check that it
  still answers (a timer of its own decides when). It takes at most `BUDGET_US` on an
  RP2040 (the cost model's figures) while the part answers, `RETRY_US` while it is
  faulty (a critical part: the amplifier is muted then; a part that is not critical
  retries while the music plays, so its RETRY_US must stay small too: a short bus
  time-out), not counting a log line (log.py: a flash write, once per fault); it
  allocates nothing.
- `quiet()`: make it silent, for when the main loop cannot go on (critical parts: the
  App's quiet() goes through the controller's order instead).
- `fault`: None, or the sentence `status` shows in `faults`, naming the part and its
  pins. A part reports it through its supervisor (`self.sup.fault(self, text, now)`),
  which logs it once and, for a CRITICAL part, tells the controller under the part's
  FAULT bit: the amplifier stays muted while it stands. A part that is not CRITICAL
  (a display, a remote receiver) is reported and retried and never mutes.

`PASS_BUDGET_US` is what the answering parts' checks may take together in one pass, on
top of the pass's own work (an idle pass is some 1.5 ms on an RP2040, a turning one
3 ms): the main loop sleeps at most 10 ms and a detent's frame can wait for the rest of
a pass, so the parts get a bounded share of it (a fifth). tests/test_parts.py keeps
the declared budgets within it and measures each part's worst check against its own
on the simulator's cost model.
"""
from micropython import const

PASS_BUDGET_US = const(2000)


class Part:
    NAME = "part"       # what the fault text and the log start with
    CRITICAL = True     # a fault mutes the amplifier while it stands
    FAULT = 0           # the controller's fault bit (controller.FAULT_*): critical parts
    BUDGET_US = 0       # the longest check() of an answering part may take, on an RP2040
    RETRY_US = 0        # the longest check() of a faulty part (a retry) may take

    def __init__(self):
        self.fault = None
        self.sup = None   # the Supervisor, set when it takes the part (Supervisor.add)

    def start(self, now):
        """Bring the part up at boot; a fault is reported, not raised."""

    def check(self, now):
        """The part's share of a pass: retries, health checks. Nothing allocated."""

    def quiet(self):
        """Make the part silent (the main loop cannot go on)."""
