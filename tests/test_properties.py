"""Safety invariants of the whole firmware on the simulated board, under random use.

A hypothesis state machine turns the knob (fast, slow, bouncing), presses and
holds the button, flips the switches (bouncing), sends the host's commands (every
`set`: volume, balance, gain, output, mute, limit up and down, defaults; `status`),
waits, cuts and restores the power (also during the boot, and just as a save falls
due), and damages the settings copies while the power is off; on the Pico W board the
same host lines come from the web remote's paired page too (POSTs with their nonces,
some replayed: refused), a second host the checker hears (sim/net.py's `web` records). Every record the board
produces goes through the trace checker (headroom.sim.invariants), which knows only
the trace: what the chip models decoded, the pins, the supply, the user's hands and
the serial lines. Its rules, all of them on every record: the jack never above the
limit in force (right after a lowered one too) nor the start-up cap after a boot;
rises only by the user's turn (detents x the largest step per detent, plus one ramp
step) or in ramp steps (a host's rise, an unmute, a restore); left and right follow
volume and balance once settled; no relay moves unless the mute relay is open and
every stage muted; the settle delay from power-good, each relay's operate/release +
settle time before the mute relay closes; at every supply-off edge XSMT low, PGA2311
MUTE and the mute relay released before the hold-up ends; no settings write while the
supply fails, at most one per pause; no click; nothing undoes a supply-fail mute; with a
headphone chosen over the control protocol, the SPL at the jack never above the SPL
limit (`spl-limit`); no simulator fault, no crash. Soft resets (from the raw REPL,
main.py not run, and from the friendly REPL) keep the pins driving, and boot.py mutes.

On top, from the files: after a power cycle the level comes back to the last
settings written (capped at the start-up limit), or to the previous copy when the
newest was damaged.

The firmware runs in the cost model's jitter mode: every call costs a time drawn
within its measured bounds, with now and then a garbage-collection stall, and flash
writes hold interrupts off; hard IRQs land in the middle of passes.

The boards (each without its display: there a long press opens the knob menu, whose
settings by hand the checker does not model; tests/test_menu.py drives the menu under
the checker with the hands alone): pico-se, pico-balanced, the three-position gain
switch (TestAmp), the test
boards with one PGA2311 per side (TestChipPerSide), the Pico W board (TestPicoW: the web
remote beside USB) and with ZCEN tied low (TestZcenLow:
only the firmware's walk keeps a fall from clicking there), fewer examples each, and all
of them in one randomized run with a new seed each time
(test_a_randomized_run_on_every_board).

`STATS` counts what ran (examples, checks, start-up cap boots); `make reliability`
prints them.
"""
import json
import os
import random

import pytest
from hypothesis import Phase, seed, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from headroom import headphones as hph
from headroom.sim.cost import CostModel
from headroom.sim.invariants import Checker
from headroom.sim.simboard import SimBoard

from helpers import BALANCED, CHIP_PER_SIDE, SE, THREE_POS, ZCEN_LOW, no_display

PICO_W = os.path.join(os.path.dirname(BALANCED), "pico-w-balanced.json")

TOL_CDB = 1  # integer rounding of the jack level
COPIES = ("settings.json", "settings-b.json")

# What damage might leave in a settings copy.
DAMAGE = [b"", b'{"v": 1, "n": 99, "volume": ', b"\xff\x00garbage", b'{"v": 1, "volume": 40.0}']

# Host command lines, valid and not: levels on and off the grid, in and out of range.
DB = st.sampled_from([-80, -60, -40.5, -30, -25, -20, -19.5, -10, -5, 0, 3, 6, 6.5, 12, -100])
BAL = st.sampled_from([-10, -7.5, -2, 0, 1.5, 4, 10, 10.5, 0.25])
# Headphones a host may choose: the most and least sensitive per volt, and between.
HP_LINES = [hph.command(hph.find(hph.builtin(), n)) for n in ("SE215", "ER4P", "HD 600", "HE6se")]
HP_LINES.append("set headphone none")
HOST = st.one_of(
    st.sampled_from(HP_LINES),
    st.sampled_from([70, 90, 100, 110, 125]).map(lambda v: "set spl_limit %d" % v),
    DB.map(lambda v: "set volume %s" % v),
    DB.map(lambda v: "set limit %s" % v),
    BAL.map(lambda v: "set balance %s" % v),
    st.sampled_from(["set input USB", "set input S/PDIF", "set trim -3", "set trim 0",
                     "set trim -20", "set auto_standby_min 1", "set auto_standby_min 0"]),
    st.sampled_from(["set mute on", "set mute off", "set standby on", "set standby off",
                     "set defaults", "set gain low",
                     "set gain high", "set gain auto", "set output se", "set output balanced", "status",
                     "set volume loud", "set limit", "bogus"]))

STATS = {"examples": 0, "records": 0, "cap_boots": 0, "cap_tight": 0, "balance_checks": 0,
         "off_checks": 0, "host_commands": 0, "web_commands": 0, "worst_silent_us": 0, "violations": 0,
         "boards": {}}


class AmpMachine(RuleBasedStateMachine):
    @initialize(path=st.sampled_from([SE, BALANCED, THREE_POS]), seed=st.integers(1, 2 ** 16))
    def boot(self, path, seed):
        # Without the display: there a long press opens the knob menu, which sets limits
        # and the headphone by hand, and the checker models those from the host's lines
        # and the long press alone (tests/test_menu.py drives the menu under the checker
        # with the hands alone).
        self.b = SimBoard(no_display(path), seed=seed, keep_trace=False,
                          cost=CostModel(jitter=seed))
        self.board = self.b.board
        self.checker = Checker(self.board)
        self.b.trace.listeners.append(self.checker.live)
        self.b.trace.listeners.append(self.on_record)
        self.expect_restore = None      # (volume hdB, balance hdB) to see after a power-on
        self.page = None                # a Pico W's paired page (tests/webkit.py)
        if self.board.wifi is not None:
            self.b.provision_wifi()     # its network set, as `headroom wifi set` leaves it
        STATS["examples"] += 1
        name = os.path.basename(path)
        STATS["boards"][name] = STATS["boards"].get(name, 0) + 1
        self._power_on()
        self.wait_ms(3000)

    def on_record(self, t_us, kind, fields):
        if kind in ("fault", "crash"):
            raise AssertionError("%s: %r" % (kind, fields))

    # ---- actions
    def _power_on(self, ask=True):
        self.power_on_us = self.b.now_us()
        self.b.power(True)
        if not ask:
            return
        # The firmware's reports flow (status, every change as an event); the checker
        # models the limits from the requests and the hands and takes nothing from them.
        # Asked once the firmware runs: what the port gets before (boot.py, imports:
        # 0.6 s) is lost when main.py opens it, as on the board.
        for _ in range(600):
            if self.b.sim.app is not None:
                break
            self.b.run_ms(5)
        self._send("status")
        self._send("monitor on")

    def _send(self, line):
        self.b.console.send(line + "\n")
        self.b.run_ms(30)

    def wait_ms(self, ms):
        self.b.run_ms(ms)

    @rule(size=st.integers(1, 12), up=st.booleans(),
          rate=st.sampled_from([2, 5, 10, 40, 200]),
          bounce=st.sampled_from([0, 300, 1500]))
    def turn(self, size, up, rate, bounce):
        # An encoder's bounce ends before its next edge (at 200/s they are 1.25 ms apart);
        # bounce that outlasts it reads as turns the other way, outside any encoder's
        # rating: `make reliability` measures that apart.
        bounce = min(bounce, 1000000 // (rate * self.board.edges_per_detent) * 9 // 10)
        d = self.b.turn(size if up else -size, rate=rate, bounce_us=bounce)
        self.b.run_us(d)

    @rule(line=HOST, replay=st.booleans())
    def web(self, line, replay):
        """A host's line from the web remote's page (a Pico W board): paired once (the
        code read over USB), every command as a POST with its nonce; now and then the
        same request replayed, which must be refused and change nothing. The checker
        hears the web as a second host (sim/net.py's records)."""
        if self.board.wifi is None or self.b.app is None or not self.b.web_url:
            return
        import webkit
        if self.page is None or self.page.addr[1] != int(self.b.web_url.rsplit(":", 1)[1][:-1]):
            cookie = self.page.cookie if self.page is not None else None
            self.page = webkit.Client(self.b)
            self.page.cookie = cookie
            if cookie is None or self.page.request("GET", "/api/state").status != 200:
                self.page.cookie = None
                self.page.pair()
        nonce = self.page.nonce
        STATS["web_commands"] += 1
        r = self.page.cmd(line)
        if r.status == 403 and "replayed" in r.json().get("error", ""):
            self.page.request("GET", "/api/state")    # a new nonce, as the page does
            r = self.page.cmd(line)
        assert r.status in (200, 400, 403), r.status
        if replay and nonce is not None:
            again = self.page.cmd(line, headers={"X-Headroom-Nonce": nonce})
            assert again.status == 403, (line, again.body)

    @rule(key=st.sampled_from([("nec", 0x00, 0x46), ("nec", 0x00, 0x15), ("nec", 0x00, 0x40),
                               ("nec", 0x00, 0x47), ("nec", 0x00, 0x45), ("nec", 0x55, 0x12),
                               ("apple", 0, 0x0B), ("apple", 0, 0x0D), ("apple", 0, 0x04),
                               ("rc5", 0, 16), ("sony", 1, 18)]),
          hold=st.sampled_from([0, 400, 1500]), lamp=st.sampled_from([0, 0, 80]))
    def remote(self, key, hold, lamp):
        """A remote's key (the kit remote's VOL+, VOL-, play, FUNC, POWER and a key of no
        known remote; the Apple remote's up, down, play; an RC5 and a Sony key), pressed
        or held, a lamp on or off: a volume key turns as the knob does, under every rule."""
        if self.board.ir_pin is None:
            return
        self.b.ir_noise(lamp)
        us = self.b.ir(key[0], key[1], key[2], hold_ms=hold)
        self.b.run_us(us + 300000)

    @rule(name=st.sampled_from(["usb", "spdif"]), play=st.booleans(),
          rate=st.sampled_from([None, 44100, 96000]), ms=st.sampled_from([30, 300, 2500]))
    def source(self, name, play, rate, ms):
        """The external source's input plays or stops, or changes its rate (a relock):
        the signal the firmware reads comes and goes (auto-standby, waking) under every
        rule. Boards whose music is the Pico's take nothing."""
        src = self.b.source
        if src is None:
            return
        if rate is not None:
            src.rate(name, rate)
        if play:
            src.play(name, 1000, -10000)
        else:
            src.stop(name)
        self.wait_ms(ms)

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

    @rule(pos=st.sampled_from(["low", "high", "auto"]), bounce=st.sampled_from([0, 2000]))
    def switch_gain(self, pos, bounce):
        if pos == "auto" and len(self.board.gain_switch_pins) != 2:
            pos = "low"       # a two-position switch has no middle
        self.b.set_gain(pos, bounce)
        self.b.run_ms(100)

    @precondition(lambda self: self.b.output_switch is not None)
    @rule(pos=st.sampled_from(["se", "balanced"]), bounce=st.sampled_from([0, 2000]))
    def switch_output(self, pos, bounce):
        self.b.set_output(pos, bounce)
        self.b.run_ms(100)

    @rule(line=HOST, ms=st.sampled_from([30, 100, 400]))
    def host(self, line, ms):
        STATS["host_commands"] += 1
        self.b.console.send(line + "\n")
        self.b.run_ms(ms)

    @rule(first=HOST)
    def host_then_settle(self, first):
        """A command, then `status` and a full ramp's time: the balance rule's check."""
        STATS["host_commands"] += 2
        self.b.console.send(first + "\n")
        self.b.run_ms(50)
        self.b.console.send("status\n")
        self.b.run_ms(1500)

    @rule(main=st.booleans(), ms=st.sampled_from([30, 300, 3000]))
    def soft_reset(self, main, ms):
        """mpremote's Ctrl-C then its raw REPL (main.py does not run; Ctrl-C stopped the
        watchdog: the board stays there, muted, until a power cycle), or Ctrl-C and Ctrl-D
        at the friendly REPL: the pins keep driving, boot.py mutes."""
        self.b.interrupt()
        self.b.soft_reset(main)
        self.b.run_ms(ms)
        if main:
            self._send("monitor on")

    @rule(ms=st.sampled_from([5, 30, 300, 1000, 4000]))
    def wait(self, ms):
        self.wait_ms(ms)

    def _copies(self):
        """[(file, decoded or None)] of both settings copies, newest first."""
        out = []
        for name in COPIES:
            try:
                with open(os.path.join(self.b.flash_dir, name), "rb") as f:
                    d = json.loads(f.read().decode("utf-8"))
            except (OSError, ValueError):
                d = None
            out.append((name, d if isinstance(d, dict) else None))
        # The loader's order: the higher sequence number (none: 0), A on a tie (a stable sort).
        out.sort(key=lambda c: -1 if c[1] is None or c[1].get("v") != 1 else c[1].get("n", 0),
                 reverse=True)
        return out

    @rule(off_ms=st.sampled_from([1, 50, 2000]), damage=st.sampled_from([None, "newest", "both"]),
          junk=st.sampled_from(DAMAGE))
    def power_cycle(self, off_ms, damage, junk):
        self.b.power(False)
        self.b.run_ms(off_ms)
        copies = self._copies()
        lost = {None: 0, "newest": 1, "both": 2}[damage]
        if lost and copies[0][1] is None:
            lost = 0  # nothing written yet: nothing to damage
        for name, _ in copies[:lost]:
            with open(os.path.join(self.b.flash_dir, name), "wb") as f:
                f.write(junk)
        if lost:
            self.b.sim.emit("input", [("what", "settings"), ("lost", lost)])
        # What the loader sees: both copies as the flash holds them now, the damaged too
        # (a damaged copy may still carry valid fields, e.g. b'{"v": 1, "volume": 40.0}').
        volume, balance = self.expected_settings([d for _, d in self._copies()])
        if volume > self.board.startup_max_hdb:
            STATS["cap_boots"] += 1
        self.expect_restore = (min(volume, self.board.startup_max_hdb), balance)
        self._power_on()
        self.until_settled()
        self.check_restored()

    @rule(volume=st.sampled_from([-10, 0, 6]), off_ms=st.sampled_from([50, 2000]))
    def loud_saved_then_power_cycle(self, volume, off_ms):
        """A volume above the start-up cap, saved, then a power cycle: the cap must hold
        it (the checker's startup-cap) and the rest come back."""
        self.b.console.send("set volume %s\n" % volume)
        self.b.run_ms(self.board.save_delay_ms + 300)
        self.power_cycle(off_ms, None, None)

    @precondition(lambda self: self.b.board.power_sense is not None)
    @rule(size=st.integers(1, 6), early_us=st.sampled_from([1000, 5000, 15000]))
    def power_off_as_save_falls_due(self, size, early_us):
        """The supply fails just before a save falls due: the save must not happen in
        the hold-up (the checker's save-while-failing), and the board comes back with
        the settings saved before."""
        t0 = self.b.now_us()
        d = self.b.turn(size, rate=5)
        last = t0 + d - 200000 // (2 * self.board.edges_per_detent)  # the last detent's edge
        self.b.run_until(last + self.board.save_delay_ms * 1000 - early_us)
        self.b.power(False)
        self.b.run_ms(100)
        self._power_on()
        self.wait_ms(self.board.settle_ms + 1400)

    @rule(after_ms=st.sampled_from([1, 100, 290, 300, 600]), off_ms=st.sampled_from([1, 30, 500]))
    def power_blip_at_boot(self, after_ms, off_ms):
        """Power cut and back while the firmware boots (or before it starts): the supply
        already failing at its first line."""
        self.b.power(False)
        self.b.run_ms(100)
        self._power_on(ask=False)   # cut again while it boots: nothing to ask yet
        self.b.run_ms(after_ms)
        self.b.power(False)
        self.b.run_ms(off_ms)
        self._power_on()
        self.wait_ms(self.board.settle_ms + 1400)

    def expected_settings(self, copies):
        """(volume, balance) in hdB the two copies (decoded, newest first: `_copies`) should
        give, as settings.py documents it: each field from the newest copy where it is
        valid, else from the other copy, else its default; the limit the lowest either
        holds validly; the volume never above it.

        Not each bad field of the newest copy its default: a copy damaged into valid JSON
        without a sequence number ties with an older copy at 0, reads as the newest, and
        its missing volume and balance come from the older copy. The model once gave them
        their defaults and expected -30 dBV where the board rightly restored the older
        copy's level held at the start-up cap (HEADROOM_SEED=2384738881). Hearing safety
        does not rest on this: the restored level is checked against the start-up cap and
        the lowest limit of either copy, and the checker's startup-cap rule holds it
        under the cap on every record."""
        b = self.board
        copies = [d for d in copies if isinstance(d, dict) and d.get("v") == 1]

        def grid(v, lo, hi):
            ok = isinstance(v, (int, float)) and not isinstance(v, bool) and v * 2 == int(v * 2)
            return int(v * 2) if ok and lo <= v * 2 <= hi else None

        def first(name, lo, hi, default):
            for d in copies:
                v = grid(d.get(name), lo, hi)
                if v is not None:
                    return v
            return default

        limits = []
        for d in copies:
            v = d.get("limit")
            if isinstance(v, (int, float)) and not isinstance(v, bool) and v * 2 < b.min_hdb:
                limits.append(b.min_hdb)  # below the board's range: held at its lowest
            elif grid(v, b.min_hdb, b.limit_hdb) is not None:
                limits.append(grid(v, b.min_hdb, b.limit_hdb))
        limit = min(limits) if limits else b.limit_hdb
        return (min(limit, first("volume", b.min_hdb, b.limit_hdb, b.default_hdb)),
                first("balance", -20, 20, 0))

    def until_settled(self, within_ms=20000):
        """Run until the firmware plays with its fade-in over, or shows why it will not (a
        fault, a mute): an event, not a guessed boot time. There may be none: a power dip
        shorter than the hold-up while the board sat in the REPL (a soft reset without
        main.py) boots nothing."""
        for _ in range(within_ms // 10):
            app = self.b.app
            if app is not None:
                c = app.ctl
                if c.faults or c.user_muted or (c.phase_name() == "playing" and not c._ramping):
                    # The last ramp step's codes reach the outputs at a zero crossing, or
                    # at the PGA2311's 16 ms time-out.
                    self.b.run_ms(20)
                    return
            self.b.run_ms(10)

    def check_restored(self):
        volume, balance = self.expect_restore
        self.expect_restore = None
        levels = self.b.jack.levels
        ctl = self.b.app.ctl if self.b.app else None
        if ctl is None or ctl.faults or ctl.phase_name() != "playing" or ctl.user_muted:
            return  # the supply monitor may read low at boot (a fault: muted, its own rule)
        gain = 1 if self.b.relays.get("gain") is not None and self.b.relays["gain"].energized else 0
        path = self.board.path_cdb(gain, self.b.jack.output)
        for ch in (0, 1):
            trim = (-balance if balance > 0 else 0) if ch == 0 else (balance if balance < 0 else 0)
            want = (min(volume, ctl.max_volume()) + trim + ctl.trims[ctl.input_relay]) * 50
            got = levels[ch]
            if want < path - 9550:
                assert got is None, "expected silence below the PGA range, got %r" % got
            else:
                assert got is not None and want - 50 < got <= want + TOL_CDB, (
                    "channel %d restored to %r cdB, expected %d" % (ch, got, want))

    @invariant()
    def no_faults(self):
        if hasattr(self, "b"):
            assert not self.b.sim.faults
            assert not self.b.sim.crashes
            self.checker.at(self.b.now_us())
            assert self.checker.ok(), self.checker.report()

    def teardown(self):
        if hasattr(self, "b"):
            c = self.checker
            c.finish(self.b.now_us())
            STATS["records"] += c.checks
            STATS["cap_tight"] += c.cap_tight
            STATS["balance_checks"] += c.balance_checks
            STATS["off_checks"] += c.off_checks
            STATS["worst_silent_us"] = max(STATS["worst_silent_us"], c.worst_silent_us)
            STATS["violations"] += len(c.violations)
            self.b.close()
            assert c.ok(), c.report()


TestAmp = AmpMachine.TestCase


class ChipPerSide(AmpMachine):
    """The same machine on a board with one PGA2311 per side: its chips carry different
    codes whenever the balance is off centre, so a swapped chain order would show."""

    @initialize(path=st.just(CHIP_PER_SIDE), seed=st.integers(1, 2 ** 16))
    def boot(self, path, seed):
        AmpMachine.boot(self, path, seed)


# An eighth of the profile's examples (ci: 5): `make test`'s time is the budget.
TestChipPerSide = ChipPerSide.TestCase
TestChipPerSide.settings = settings(settings.default,
                                    max_examples=max(4, settings.default.max_examples // 8))


class ZcenLow(AmpMachine):
    """The same machine on a board with ZCEN tied low: the PGA2311 takes every gain at
    once, so only the firmware's walk keeps a fall from clicking (every path: knob, host,
    limits, headphone, balance)."""

    @initialize(path=st.just(ZCEN_LOW), seed=st.integers(1, 2 ** 16))
    def boot(self, path, seed):
        AmpMachine.boot(self, path, seed)


TestZcenLow = ZcenLow.TestCase
TestZcenLow.settings = settings(settings.default,
                                max_examples=max(4, settings.default.max_examples // 8))


class PicoW(AmpMachine):
    """The same machine on the Pico W board, its page a second host beside USB."""

    @initialize(path=st.just(PICO_W), seed=st.integers(1, 2 ** 16))
    def boot(self, path, seed):
        AmpMachine.boot(self, path, seed)


TestPicoW = PicoW.TestCase
TestPicoW.settings = settings(settings.default,
                              max_examples=max(4, settings.default.max_examples // 8))


class EveryBoard(AmpMachine):
    @initialize(path=st.sampled_from([SE, BALANCED, THREE_POS, CHIP_PER_SIDE, ZCEN_LOW,
                                      PICO_W]),
                seed=st.integers(1, 2 ** 16))
    def boot(self, path, seed):
        AmpMachine.boot(self, path, seed)


# The randomized run in `make test`: a new seed every run (HEADROOM_SEED=N repeats one),
# longer runs than the ci profile's (50 steps, as `make reliability` takes), few of them:
# what `make test`'s time allows (3 x 50 steps, about 3 s). The rest of the suite stays
# derandomized. Not shrunk unless HEADROOM_SEED is given: a failing state machine can
# shrink for minutes, so `make test` reports the seed and the steps as they came, and
# the seed, given back, shrinks them.
RANDOM_SEED = int(os.environ.get("HEADROOM_SEED") or random.SystemRandom().getrandbits(32))
RANDOM_EXAMPLES = 3
RANDOM_STEPS = 50
RANDOM_PHASES = (tuple(Phase) if os.environ.get("HEADROOM_SEED") else
                 (Phase.explicit, Phase.reuse, Phase.generate))


def test_a_randomized_run_on_every_board():
    """The state machine on every board (the test boards too) from a seed of its own:
    the derandomized profile repeats the same 40 runs, this finds new ones. The seed is
    printed (pytest shows it with a failure) and put in the failure's message."""
    why = "randomized property run: seed %d (HEADROOM_SEED=%d repeats it)" % (
        RANDOM_SEED, RANDOM_SEED)
    print(why)
    try:
        run_state_machine_as_test(
            seed(RANDOM_SEED)(EveryBoard),
            settings=settings(settings.default, derandomize=False, max_examples=RANDOM_EXAMPLES,
                              stateful_step_count=RANDOM_STEPS, phases=RANDOM_PHASES))
    except BaseException as e:
        e.add_note(why)
        raise


@pytest.mark.parametrize("path", [SE, BALANCED], ids=["se", "balanced"])
def test_a_dip_shorter_than_the_holdup_in_the_repl_boots_nothing(path):
    """Found by `make reliability`: in the REPL (a soft reset without main.py) a power dip
    the hold-up rides through boots nothing. Ctrl-C stopped the watchdog (issue 17.6;
    before, it reset the board 2 s later), so the board stays in the REPL, muted, and
    the restore check has no fade-in to wait for."""
    m = AmpMachine()
    m.boot(path=path, seed=1)
    m.soft_reset(main=False, ms=30)
    m.turn(bounce=0, rate=10, size=3, up=True)
    m.power_cycle(off_ms=1, damage=None, junk=b"")
    assert m.b.app is None and m.b.sim.resets == 0 and m.b.sim.mcu_powered
    assert m.b.jack.levels == (None, None) and not m.b.relays["mute"].energized
    m.no_faults()
    m.teardown()


def test_a_damaged_copy_without_a_number_takes_the_older_copys_level():
    """Found by the randomized run (HEADROOM_SEED=2384738881, and one on pico-se): the
    newest copy damaged into valid JSON without a sequence number ties with the older copy
    at 0 and reads first, its missing volume and balance come from the older copy (held
    at the start-up cap), not the defaults; at the second power cycle too."""
    m = AmpMachine()
    m.boot(path=BALANCED, seed=711)
    m.host(line="set balance 4", ms=30)
    m.loud_saved_then_power_cycle(off_ms=50, volume=-10)
    m.loud_saved_then_power_cycle(off_ms=50, volume=0)
    m.power_cycle(damage="newest", junk=DAMAGE[3], off_ms=50)
    m.power_cycle(damage=None, junk=b"", off_ms=1)
    cap = m.board.startup_max_hdb * 50
    assert m.b.jack.levels[0] <= cap - 400 + TOL_CDB < m.b.jack.levels[1] <= cap + TOL_CDB
    m.no_faults()
    m.teardown()


@pytest.mark.parametrize("path", [SE, ZCEN_LOW], ids=["se", "zcen-low"])
def test_a_turn_up_going_on_across_a_power_on_lifts_the_cap_by_its_rest(path):
    """Found by the randomized run (after a soft reset into the REPL): the knob turned up
    while the board powers on. The firmware raises the level above the start-up cap by
    the detents it sees once it runs (the user turns it up: the cap is done); the
    checker had put the whole cap back at the boot, after the turn's record. Its rest
    still bounds the rise: a restore above the cap would be far above it."""
    m = AmpMachine()
    m.boot(path=path, seed=1)
    m.loud_saved_then_power_cycle(off_ms=50, volume=0)
    m.b.power(False)
    m.b.run_ms(2000)
    d = m.b.turn(8, rate=2)          # 4 s, from 0.3 s before the power comes back
    m.b.run_ms(300)
    m.b.power(True)
    m.b.run_us(d)
    m.b.run_ms(1000)
    cap = m.board.startup_max_hdb * 50
    assert cap + 100 < m.b.jack.levels[0] <= cap + 8 * 4 * 50
    m.no_faults()
    m.teardown()


def test_a_status_answered_after_a_set_was_sent_sets_no_expectation():
    """Found by the randomized run (HEADROOM_SEED=1411079572): `status`, then `set volume`
    sent before the status reply came (30 ms later, under jitter). The reply tells the
    level before the set; the checker took it as what the jack must settle to and saw
    the set's rise as a balance violation."""
    m = AmpMachine()
    m.boot(path=SE, seed=1)
    m.b.console.send("status\nset volume -10\n")
    m.b.run_ms(3000)
    assert m.b.jack.levels[0] == m.b.jack.levels[1] > m.board.default_hdb * 50 + 1000
    m.no_faults()
    m.teardown()


@pytest.fixture(autouse=True)
def _reset_world():
    yield


def teardown_module(module):
    """The counts, for `make reliability` (HEADROOM_STATS=FILE)."""
    out = os.environ.get("HEADROOM_STATS")
    if out:
        with open(out, "w") as f:
            json.dump(STATS, f)


def test_a_status_answered_as_a_turn_begins_is_not_checked_against_the_turn():
    """Found by `make test-long` (2026-12-07, hypothesis seed
    179496300563909560070026939623986428974; shrinking gave up): a `status` answered 6 ms
    after a 5-detent turn began said volume -20.0 dBV; the checker held the jack to that
    once the level had settled, 1.4 s later, when the turn had lifted it to -17.56: a
    broken "balance" rule on a correct firmware. The checker no longer takes a reply
    given while a turn is under way. The state machine's steps as hypothesis found them."""
    m = AmpMachine()
    m.boot(THREE_POS, 2741)
    try:
        m.power_blip_at_boot(after_ms=300, off_ms=1)
        m.loud_saved_then_power_cycle(off_ms=50, volume=-10)
        m.click(bounce=0)
        m.turn(bounce=0, rate=2, size=3, up=False)
        m.turn(bounce=0, rate=2, size=6, up=True)
        m.power_blip_at_boot(after_ms=1, off_ms=1)
        m.turn(bounce=0, rate=2, size=9, up=True)
        m.power_cycle(damage=None, junk=b'', off_ms=1)
        m.click(bounce=0)
        m.power_cycle(damage=None, junk=b'', off_ms=1)
        m.wait(ms=5)
        m.loud_saved_then_power_cycle(off_ms=50, volume=-10)
        m.host(line='status', ms=30)
        m.power_off_as_save_falls_due(early_us=5000, size=5)
    finally:
        m.teardown()
