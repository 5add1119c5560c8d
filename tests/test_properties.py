"""Safety invariants of the whole firmware on the simulated board, under random use.

A hypothesis state machine turns the knob (fast, slow, bouncing), presses and
holds the button, flips the switches (bouncing), waits, cuts and restores the
power and corrupts the settings file while the power is off. Every record the
board produces is checked as it happens, at the level of what the chip models
decode, never the firmware's variables:

- the level at the jack never exceeds the limit, nor the start-up cap after a
  power-on until the user turns the knob up;
- no relay contact moves unless every PGA2311 channel is muted;
- the level rises only by the user's own turn, or by one ramp step at a time
  (a rise out of silence lands no higher than the path's floor plus a step);
- after power-on the jack is silent until the settle delay has passed;
- after a power cycle the level comes back to the last settings written
  (capped at the start-up limit), and a corrupt file brings safe defaults;
- no simulator fault (bus misuse, floating input, short) and no firmware crash;
- and every rule of the trace checker (headroom.sim.invariants), on every record: no
  relay moves unless the mute relay is open and every stage muted, the settle delay
  from power-good, each relay's operate/release + settle time before the mute relay
  closes, ramp steps at least the ramp interval apart, silence when the MCU dies.

The firmware runs in the cost model's jitter mode: every call costs a time drawn
within its measured bounds, with now and then a garbage-collection stall, and flash
writes hold interrupts off; hard IRQs land in the middle of passes.
"""
import json
import os

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from headroom.sim import world
from headroom.sim.cost import BOOT, CostModel
from headroom.sim.invariants import Checker
from headroom.sim.simboard import SimBoard

from helpers import BALANCED, SE

TOL_CDB = 1  # integer rounding of the jack level

# How long after the last encoder edge a level change still counts as the turn's doing:
# one main-loop poll (10 ms) + the PGA's zero-crossing time-out (16 ms) + margin.
TURN_LATENCY_US = 40000


# What a power cut might leave in the settings file (None: whatever the firmware wrote).
CORRUPT = [None, b"", b'{"v": 1, "volume": ', b"\xff\x00garbage", b'{"v": 1, "volume": 40.0}']


class AmpMachine(RuleBasedStateMachine):
    @initialize(path=st.sampled_from([SE, BALANCED]), seed=st.integers(1, 2 ** 16))
    def boot(self, path, seed):
        self.b = SimBoard(path, seed=seed, keep_trace=False, cost=CostModel(jitter=seed))
        self.board = self.b.board
        self.checker = Checker(self.board)
        self.b.trace.listeners.append(self.checker.live)
        self.b.trace.listeners.append(self.on_record)
        self.prev = [None, None]       # last jack level per channel (cdB, None = silent)
        self.turn_until_us = -1         # rises are the user's until then
        self.capped = True              # start-up cap applies until the user turns up
        self.expect_restore = None      # (volume hdB, balance hdB) to see after a power-on
        self._power_on()
        self.wait_ms(3000)

    # ---- continuous checks, on every record
    def on_record(self, t_us, kind, fields):
        if kind == "chip":
            chip = fields[0][1]
            if chip == "jack":
                self.check_jack(t_us)
            elif chip.startswith("relay."):
                self.check_relay_move(chip)
        elif kind in ("fault", "crash"):
            raise AssertionError("%s: %r" % (kind, fields))

    def check_jack(self, t_us):
        b = self.board
        levels = self.b.jack.levels
        settle_end = self.power_on_us + b.settle_ms * 1000
        for ch in (0, 1):
            new, old = levels[ch], self.prev[ch]
            if new is not None:
                assert t_us >= settle_end, "sound %d us after power-on, before the settle delay" % (
                    t_us - self.power_on_us)
                assert new <= b.limit_hdb * 50 + TOL_CDB, "level %d cdB above the limit" % new
                if self.capped:
                    assert new <= b.startup_max_hdb * 50 + TOL_CDB, (
                        "start-up cap exceeded: %d, %d us after power-on, phase %s" % (
                            new, t_us - self.power_on_us,
                            self.b.app.ctl.phase_name() if self.b.app else None))
                if t_us > self.turn_until_us:
                    step = b.ramp_step_hdb * 50
                    if old is None:
                        path = b.path_cdb(self._gain_contact(), self.b.jack.output)
                        assert new <= path - 9550 + step + TOL_CDB, (
                            "out of silence straight to %d cdB (floor %d)" % (new, path - 9550))
                    else:
                        assert new - old <= step + TOL_CDB, "jump up by %d cdB, not the user's turn" % (
                            new - old)
        self.prev = list(levels)

    def _gain_contact(self):
        r = self.b.relays.get("gain")
        return 1 if r is not None and r.energized else 0

    def check_relay_move(self, chip):
        if self.board.dac is not None:
            assert self.b.sim.gpio[self.board.dac_xsmt].level != 1, "%s moved with the DAC unmuted" % chip
        pga = self.b.pga
        for i in range(len(self.board.pga_roles)):
            assert pga.gain_hdb(i) is None, "%s moved while PGA channel %d was at %s half-dB" % (
                chip, i, pga.gain_hdb(i))

    # ---- actions
    def _power_on(self):
        self.power_on_us = self.b.now_us()
        self.capped = True
        self.b.power(True)

    def wait_ms(self, ms):
        self.b.run_ms(ms)

    @rule(size=st.integers(1, 12), up=st.booleans(),
          rate=st.sampled_from([2, 5, 10, 40, 200]),
          bounce=st.sampled_from([0, 300, 1500]))
    def turn(self, size, up, rate, bounce):
        detents = size if up else -size
        d = self.b.turn(detents, rate=rate, bounce_us=bounce)
        self.turn_until_us = self.b.now_us() + d + TURN_LATENCY_US
        if detents > 0:
            self.capped = False
        self.b.run_us(d)

    @rule(bounce=st.sampled_from([0, 800]))
    def click(self, bounce):
        self.b.press(True, bounce)
        self.b.run_ms(150)
        self.b.press(False, bounce)
        self.b.run_ms(100)

    @rule()
    def long_press(self):
        self.b.press(True)
        self.b.run_ms(self.board.long_press_ms + 100)
        self.b.press(False)
        self.b.run_ms(100)

    @rule(pos=st.sampled_from(["low", "high"]), bounce=st.sampled_from([0, 2000]))
    def switch_gain(self, pos, bounce):
        self.b.set_gain(pos, bounce)
        self.b.run_ms(100)

    @precondition(lambda self: self.b.output_switch is not None)
    @rule(pos=st.sampled_from(["se", "balanced"]), bounce=st.sampled_from([0, 2000]))
    def switch_output(self, pos, bounce):
        self.b.set_output(pos, bounce)
        self.b.run_ms(100)

    @rule(ms=st.sampled_from([5, 30, 300, 1000, 4000]))
    def wait(self, ms):
        self.wait_ms(ms)

    @rule(off_ms=st.sampled_from([1, 50, 2000]), corrupt=st.sampled_from(CORRUPT))
    def power_cycle(self, off_ms, corrupt):
        text = self.b.settings_text()
        self.b.power(False)
        self.b.run_ms(off_ms)
        path = os.path.join(self.b.flash_dir, "settings.json")
        if corrupt is not None:
            with open(path, "wb") as f:
                f.write(corrupt)
            text = None
        volume, balance = self.expected_settings(text)
        self.expect_restore = (min(volume, self.board.startup_max_hdb), balance)
        self._power_on()
        # The boot (the cost model's longest), the settle delay, a full ramp from the floor.
        self.wait_ms(BOOT[2] // 1000 + self.board.settle_ms + 1200)
        self.check_restored()

    def expected_settings(self, text):
        """(volume, balance) in hdB that a file should give: each bad field its default."""
        b = self.board
        try:
            saved = json.loads(text)
        except (TypeError, ValueError):
            saved = None
        if not isinstance(saved, dict) or saved.get("v") != 1:
            return b.default_hdb, 0

        def grid(v, lo, hi, default):
            ok = isinstance(v, (int, float)) and not isinstance(v, bool) and v * 2 == int(v * 2)
            return int(v * 2) if ok and lo <= v * 2 <= hi else default

        return (grid(saved.get("volume"), b.min_hdb, b.limit_hdb, b.default_hdb),
                grid(saved.get("balance"), -20, 20, 0))

    def check_restored(self):
        volume, balance = self.expect_restore
        self.expect_restore = None
        levels = self.b.jack.levels
        for ch in (0, 1):
            trim = (-balance if balance > 0 else 0) if ch == 0 else (balance if balance < 0 else 0)
            want = (volume + trim) * 50
            got = levels[ch]
            path = self.board.path_cdb(self._gain_contact(), self.b.jack.output)
            if want < path - 9550:
                assert got is None, "expected silence below the PGA range, got %r" % got
            else:
                assert got is not None and want - 50 < got <= want + TOL_CDB, (
                    "channel %d restored to %r cdB, expected %d (settings %r)" % (ch, got, want,
                                                                                  self.expect_restore))

    @invariant()
    def no_faults(self):
        if hasattr(self, "b"):
            assert not self.b.sim.faults
            assert not self.b.sim.crashes
            assert self.checker.ok(), self.checker.report()

    def teardown(self):
        if hasattr(self, "b"):
            self.b.close()


TestAmp = AmpMachine.TestCase


@pytest.fixture(autouse=True)
def _reset_world():
    yield
    world.current = None
