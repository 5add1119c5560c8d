"""The firmware's shell: runs the loop over the parts hardware.py builds from the board file.

`App.step()` reads the inputs, lets the controller decide, copies its outputs to the
pins and the PGA2311 (the knob's first: it is what a listener waits for), serves the
host, and returns how long to sleep; the Waker cuts the sleep short when the knob
moves. The pins, buses and drivers are the composition root's (hardware.py); a part
that does not answer (the DAC, the PGA2311 chain, the supply monitor; part.py) is a
fault, not a crash: the supervisor (supervisor.py) reports it in words naming the part
and its pins, keeps a critical one's fault before the controller (everything muted
while it stands) and tries again; health.py writes the board's health into `status`.
`lifecycle.py` runs App on the board (restarts, the fault state); the simulator calls
boot() and step() on its virtual clock.
"""
import time

import machine
from micropython import const

from . import board as boardfile
from . import inputs, protocol
from .controller import POWER_FAIL, Controller
from .files import Files
from .hardware import Controls, Hardware
from .health import Health
from .irdecode import REPEAT
from .log import FILE as LOG
from .log import Log
from .remote import INPUT, MENU, MUTE, STANDBY, VOLUME_DOWN, VOLUME_UP
from .settings import SettingsStore
from .supervisor import Supervisor
from .uptime import Uptime
from .waker import Waker

_WDT_MS = const(2000)
_SAVE_RETRY_MS = const(1000)      # a failed settings save is tried again after this,
_SAVE_RETRY_MAX_MS = const(60000)  # doubling up to this: a full flash is not hammered
# The writes that make it louder (App._louder).
_RELAY = const(1)
_PGA = const(2)
_DAC = const(3)
_TRIGGER = const(4)


class App:
    def __init__(self, board, root="", console=None, files=None, log=None, uptime=None, net=None):
        b = board
        self.b = b
        self.root = root
        self.files = files if files is not None else Files()
        self.log = log if log is not None else Log(root + LOG, self.files)
        self.log.size()  # read once here (os.stat makes a tuple), not in the first `status`
        self.waker = Waker()
        self.sup = Supervisor(self.log)
        # Muted from the first instruction, in the muting order, and the supply monitor
        # armed (hardware.py).
        hw = self.hw = Hardware(b, self.waker)
        self.xsmt = hw.xsmt          # the DAC's XSMT (pcm5102a.PCM5102A), or None
        self.pga = hw.pga
        self.mute_relay = hw.mute_relay
        self.gain_relay = hw.gain_relay
        self.output_relay = hw.output_relay
        self.trigger = hw.trigger
        self.selects = hw.selects
        self._selected = 0   # the input the select pins show
        self.supply = hw.supply
        now = time.ticks_ms()
        c = self.controls = Controls(b)
        self.button = c.button
        self.gain_sw = c.gain_sw
        self.out_sw = c.out_sw

        self.store = SettingsStore(root + "settings.json", b, self.files)
        # A save that failed (a full or failing flash): why, in words (None: all saved),
        # when to try again, the wait after that, the tries, and the log line not yet
        # written (the log is on the same flash: it may not take the line either).
        self.settings_error = None
        self._save_at = now
        self._save_wait = _SAVE_RETRY_MS
        self._save_tries = 0
        self._save_unlogged = None
        self.ctl = Controller(b, self.store.load(),
                              c.gain() if c.gain_sw else None,
                              c.output() if c.out_pin else None, now)
        self.sup.ctl = self.ctl
        from .jsonout import prepare
        prepare(self.ctl.input_names_b)   # the inputs' names a state line can carry
        # The knob menu (menu.py), where there is a display to show it: a long press
        # opens it there (docs/knob.md); without one, the long press is balance mode.
        self.menu = None if b.display is None else LazyMenu(self.ctl, b, self)
        self.pairing = None
        if b.wifi is not None:   # the web remote's pairing: its code goes on the display
            import os

            from .pairing import FILE as DEVICES
            from .pairing import Pairing
            self.pairing = Pairing(self.files, root + DEVICES, os.urandom, self.log)
        self.chain, self.dac, self.display, self.ir = hw.parts(self.sup, now, self.menu,
                                                               self.pairing)
        self.remote = None
        if self.ir is not None:
            from . import remote
            keys, why = remote.load(self.files, root + remote.FILE)
            if why is not None:
                self.log.append(why)
            self.remote = remote.Remote(keys)
            self.ir.start(now)
        self.wifi = self.web = None
        if b.wifi is not None:
            self._web_init(net, now)
        self.supply.start(now)   # a monitor reading low at boot: a fault
        # The chain's state after a reset is never assumed (supervisor.PGAChain).
        self.chain.start(now)
        if self.dac is not None:
            self.dac.start(now)
        if self.display is not None:
            self.display.start(now)   # after the DAC: a bus they share is the DAC's first
        self.encoder = hw.knob(self.waker)
        self.console = console
        if console is not None:
            console.waker = self.waker  # a detent cuts the host's share of a pass short
        self.lines = protocol.LineReader()
        self._more = False  # the host's bytes outlasted the last pass's share
        self.session = protocol.Session()
        self._told = -1  # ctl.changes when the host last heard the state
        self._answer = self._handle  # bound once: serving the host allocates no method
        self._now = now
        self._mode = self.ctl.mode  # what the knob sets: a change starts a new gesture
        # Health: uptime (since the MCU's reset: lifecycle.Firmware's, carried across the
        # App's restarts), the worst pass of the last minute, reset cause.
        self.uptime = uptime if uptime is not None else Uptime()
        self.health = Health(self, self.uptime, now)
        self.wdt = machine.WDT(timeout=_WDT_MS)
        self._apply()
        self.ctl.moved(time.ticks_ms())
        # One `status` written (not sent) now: what a first reply makes once (JsonOut's
        # format strings, 816 B on rp2) is made at boot, not while the knob turns.
        protocol.state_into(self.session, self.ctl, b'"ok": true, ', self)

    @property
    def power_ok(self):
        """The supply is good (the supply monitor's IRQ clears it)."""
        return self.supply.ok

    def health_into(self, out):
        """The health fields of `status` (health.py), for protocol.state_into."""
        self.health.into(out)

    # ---- the loop
    def step(self):
        """One pass of the main loop; returns the milliseconds to sleep."""
        self._knob()   # the knob's frame first: it is what the listener waits for
        t0 = time.ticks_us()
        now = time.ticks_ms()
        ctl = self.ctl
        supply = self.supply
        w = self.waker
        if not supply.ok and supply.stage != 3:
            supply.finish()
        if not supply.ok:
            if ctl.phase != POWER_FAIL:
                ctl.power_fail(now)
            elif (supply.pin is not None and supply.pin.value() and supply.stage == 3
                    and ctl.power_back()):
                # The supply came back before the MCU lost power: the analog rails
                # dipped and the PGA2311 may have reset. Start again, muted, from boot -
                # once the muting is done (a reset lets the board's pull-downs cut MUTE
                # and the relay while the DAC's ramp may still be running).
                machine.reset()
        else:
            c = self.controls
            ev = self.button.update(c.btn_pin.value(), now)
            menu = self.menu
            if ev == inputs.CLICK:
                if menu is not None and menu.open:
                    menu.click(now)
                else:
                    ctl.click(now)
            elif ev == inputs.LONG_PRESS:
                # A raise waiting for the long press is confirmed first, always.
                if menu is None or ctl.pending(now) is not None:
                    ctl.long_press(now)
                else:
                    menu.long_press(now)
            if self.gain_sw and self.gain_sw.update(c.gain_levels(), now):
                ctl.set_gain(c.gain(), now)
            if w.woken:
                self._knob()
            if self.out_sw and self.out_sw.update(c.out_pin.value(), now):  # type: ignore[union-attr]
                ctl.set_output(c.output(), now)
            self.encoder.expire(now)
            if w.woken:
                self._knob()
            self.sup.check(now)   # every part's share: retries, echo checks, relay sense
            if w.woken:
                self._knob()   # a detent that came during the parts' checks (an echo frame, a retry)
            if self.ir is not None and self.ir.dec.count:
                self._remote(now)
            ctl.tick(now)
            mode = ctl.mode
            if menu is not None and menu.open:   # closed, the menu costs the pass nothing
                menu.tick(now)
                mode |= menu.mode << 1
            if mode != self._mode:
                self._mode = mode
                self.encoder.new_gesture()
        if self.console is not None:
            self._serve(now)
            if w.woken:
                self._knob()
        if self.web is not None:
            self._web(now)
            if w.woken:
                self._knob()
        self._apply()
        ctl.moved(time.ticks_ms())
        if w.woken:
            self._knob()
        if not supply.ok and ctl.phase != POWER_FAIL:
            ctl.power_fail(now)  # the supply failed during this pass: no save now
        if ctl.save_due(now) and (self.settings_error is None
                                  or time.ticks_diff(now, self._save_at) >= 0):
            self._save(now)
        self.wdt.feed()
        self.health.pass_done(now, t0)
        if w.woken:
            self._knob()
        wake = ctl.next_wake(now)
        if not supply.ok and supply.stage != 3:
            # The supply-fail muting still has stages to go: wake at the DAC ramp's end.
            left = supply.finish()
            if left and left < wake:
                wake = left
        con = self.console
        if con is not None and (not con.flush() and con.moved or self._more):
            # Last in the pass, so a detent's interrupt that cuts it short ends the pass.
            return 1  # a line goes out, or comes in, a share a pass: the next share soon
        return wake

    def idle(self):
        """The sleep's work, a piece a call (lifecycle.run calls it until the sleep is
        over, machine.idle() when there is none): the display's frame, a part drawn or a
        bus transaction at a time (display.py). A detent ends the sleep between two
        pieces, so the knob's frame waits for one piece at most. True: there was work."""
        disp = self.display
        if disp is None or not disp.busy or not self.supply.ok:
            return False
        disp.piece(self.waker)
        return True

    def _knob(self):
        """Detents the encoder counted since the last look: the controller's new level and
        its frame, at once. At the start of every pass, and again wherever the pass looks
        at the waker (its `woken` is set by the encoder's IRQ when a detent completes): a
        detent that comes mid-pass waits for the next look, a few calls away, not for the
        rest of the pass. Only the detent's own work: take(), turn, the codes for the
        state as it stands (every limit applies; time moves on in the pass's tick) and
        _apply, whose supply check and pin order hold here as everywhere; the rest (the
        relays' waits from `moved`, a save) is the pass's. Nothing allocated."""
        supply = self.supply
        if not supply.ok:
            return   # the supply-fail IRQ's wake-up stays for the pass to see
        w = self.waker
        w.woken = 0   # before take(): a detent after it wakes the loop again
        d = self.encoder.take()
        if not supply.ok:
            w.woken = 1   # the supply failed meanwhile: its wake-up is the pass's
        if d:
            menu = self.menu
            if menu is not None and menu.open:
                # The menu's: no frame here (a setting it changes goes out in the pass).
                menu.turn(d, self.encoder.steps, self.encoder.last_ms)
                return
            ctl = self.ctl
            ctl.turn(d, self.encoder.steps, self.encoder.last_ms)
            ctl.outputs()
            self._apply()

    def _remote(self, now):
        """The remote's keys decoded since the last pass (irrecv.py, remote.py): the
        volume keys turn as the knob does (every limit), mute is the click, menu opens
        the knob menu and goes back in it. Never the long press: a limit's raise waits
        for the knob's button, whatever the remote sends. Nothing allocated."""
        dec = self.ir.dec
        rem = self.remote
        ctl = self.ctl
        menu = self.menu
        while dec.count:
            ev = dec.take()
            if rem.learning_now(now) and not ev & REPEAT:   # type: ignore[union-attr]
                self._learn(ev)
                continue
            fn = rem.event(ev, now)   # type: ignore[union-attr]  # with self.ir
            is_open = menu is not None and menu.open
            if fn == VOLUME_UP or fn == VOLUME_DOWN:
                s = rem.steps   # type: ignore[union-attr]
                if is_open:
                    menu.turn(s, s, now)   # type: ignore[union-attr]
                else:
                    ctl.turn(s, s, now)
                    ctl.outputs()
                    self._apply()
            elif fn == MUTE:
                if is_open:
                    menu.click(now)   # type: ignore[union-attr]
                else:
                    ctl.click(now)
            elif fn == MENU and menu is not None:
                menu.long_press(now)
            elif fn == STANDBY:
                ctl.set_standby(not ctl.standby, now)
            elif fn == INPUT and len(ctl.trims) > 1:
                ctl.host_input((ctl.input + 1) % len(ctl.trims), now)   # the next one

    def _learn(self, code):
        """A key pressed while a function waits for its key (remote.py): the map saved
        (allocates: learning is the user's, not the music's), the outcome logged."""
        from .remote import FILE, save
        rem = self.remote
        if not rem.learn_key(code):   # type: ignore[union-attr]
            return
        what = rem.learned or ""   # type: ignore[union-attr]  # set by learn_key
        try:
            save(self.files, self.root + FILE, rem.keys)   # type: ignore[union-attr]
        except OSError as e:
            what += " (not saved: %s)" % _why(e)
            rem.learned = what   # type: ignore[union-attr]
            rem.learned_ok = False   # type: ignore[union-attr]
        self.log.append("remote: learned " + what)

    def remote_command(self, t, now):
        """`remote`, `remote learn FUNCTION`, `remote defaults`, `remote clear` (the
        protocol's: t the line's words): the reply."""
        from . import remote as R
        rem = self.remote
        if rem is None:
            return '{"ok": false, "error": "remote: this board has no IR receiver (ir.pin)"}'
        if len(t) == 3 and t[1] == "learn" and t[2] in R.NAMES[1:]:
            rem.learn(R.NAMES.index(t[2]), now)
        elif len(t) == 2 and t[1] in ("defaults", "clear"):
            rem.keys = [list(k) for k in R.DEFAULT_KEYS] if t[1] == "defaults" else []
            rem.learning = 0
            try:
                if t[1] == "defaults":
                    self.files.remove(self.root + R.FILE)
                else:
                    R.save(self.files, self.root + R.FILE, rem.keys)
            except OSError as e:
                if t[1] == "clear" or e.args[0] != 2:   # ENOENT: no file, the defaults already
                    return '{"ok": false, "error": "remote: not saved: %s"}' % _why(e)
        elif len(t) != 1:
            return ('{"ok": false, "error": "use: remote, remote learn %s, remote defaults or '
                    'remote clear"}' % "|".join(R.NAMES[1:]))
        learning = rem.learning_now(now)
        dec = self.ir.dec   # type: ignore[union-attr]
        keys = ", ".join('["%s", "%s"]' % (R.NAMES[f], R.key_text(c)) for c, f in rem.keys)
        return ('{"ok": true, "remote": {"receiver": "GP%d", "keys": [%s], "learning": %s, '
                '"learned": %s, "learned_ok": %s, "last": %s, "frames": %d, "refused": %d, '
                '"glitches": %d, "unknown": %d}}' % (
                    self.b.ir_pin, keys, '"%s"' % R.NAMES[learning] if learning else "null",
                    '"%s"' % rem.learned if rem.learned is not None else "null",
                    "true" if rem.learned_ok else "false",
                    '"%s"' % R.key_text(rem.last) if rem.last else "null",
                    dec.frames, dec.rejected, dec.glitches, rem.unknown))

    def _save(self, now):
        """Write the settings. A setting is a convenience: a write that fails (ENOSPC,
        EIO, anything) never stops the music. It is logged once, `status` says it until a
        save succeeds, and the controller keeps the settings unsaved, tried again after
        _SAVE_RETRY_MS, doubling up to _SAVE_RETRY_MAX_MS."""
        ctl = self.ctl
        try:
            self.store.save(*ctl.persistent())
        except Exception as e:  # noqa: BLE001 - whatever the flash does, the music goes on
            why = _why(e)
            if self.settings_error is None:
                line = "settings not saved: " + why
                self._save_unlogged = None if self.log.append(line) else line
                self._save_wait = _SAVE_RETRY_MS
            else:
                self._save_wait = min(self._save_wait * 2, _SAVE_RETRY_MAX_MS)
            self.settings_error = why
            self._save_tries += 1
            self._save_at = time.ticks_add(now, self._save_wait)
            return
        ctl.saved()
        if self.settings_error is not None:
            line = "settings saved again after %d failed tries" % self._save_tries
            if self._save_unlogged is not None:  # the flash took no log line then
                line = self._save_unlogged + "\n" + line
            self.log.append(line)
            self.settings_error = None
            self._save_unlogged = None
            self._save_tries = 0

    def log_text(self):
        return self.log.text()

    # ---- the headphone (control protocol): (Headphone, SPL offsets) or the error text
    def headphone_named(self, name):
        """A profile from the user's own file on the board (headphones.json)."""
        from . import headphones as H
        path = self.root + H.FILE
        try:
            self.files.size(path)
        except OSError:
            return ("headphone: no %s on the board for %r: copy your profiles there, or send "
                    "the figures (`headroom set headphone NAME` does)" % (H.FILE, name[:40]))
        try:
            return self._with_offsets(H, H.find(H.load(path), name))
        except ValueError as e:  # ProfileError: the file, the profile, the field
            return "headphone: " + str(e)

    def headphone_from_figures(self, ohm, sens, unit, name):
        from . import headphones as H
        try:
            return self._with_offsets(H, H.from_figures(ohm, sens, unit, name))
        except ValueError as e:
            return str(e)

    def _with_offsets(self, H, hp):
        return (hp, H.spl_offsets_cdb(hp, self.b))  # BoardError without the output figures

    def quiet(self):
        """Mute every stage in the controller's order, waiting as it says; then the
        settings a stop would lose; then the parts that are not critical. For when the
        main loop cannot go on."""
        ctl = self.ctl
        if self.trigger is not None:
            try:
                self.trigger.set(False)   # the power amplifier after this one goes first
            except Exception:  # noqa: S110 - the outputs' muting must still run
                pass
        for stage, wait_ms in ctl.quiet_sequence():
            try:
                if stage == "dac":
                    if self.xsmt is not None:
                        self.xsmt.mute(True)
                elif stage == "pga":
                    self.chain.quiet()
                else:
                    self.mute_relay.set(False)
            except Exception:  # noqa: S110 - a failed stage must not stop the next one
                pass
            if wait_ms:
                time.sleep_ms(wait_ms)
        if ctl.save_before_stop():
            try:
                self._save(time.ticks_ms())  # a failure logged once, as in the loop
            except Exception:  # noqa: S110 - going quiet matters more than the save
                pass
        for p in self.sup.parts:
            if not p.CRITICAL:
                try:
                    p.quiet()
                except Exception:  # noqa: S110 - the amplifier is quiet already
                    pass

    def _serve(self, now):
        """Answer the host (one line a pass), push changes. A state event is sent only
        when nothing else is going out: while the host does not read, changes are not
        queued; it gets the latest state once it reads again (coalesced, not a backlog)."""
        con = self.console
        ctl = self.ctl
        self._now = now
        told = ctl.changes
        self._more = protocol.serve(con, self.lines, self._answer)
        if ctl.changes != told:
            # A host's change (a lowered limit, a louder headphone) reaches the codes in
            # the pass that answers it, not at the next pass's tick: a GC pause between
            # the two once held the jack 51 ms above a new SPL limit.
            ctl.outputs()
        if ctl.changes == self._told:
            return
        if not self.session.monitoring:
            self._told = ctl.changes
        elif not con.busy():
            self._told = ctl.changes
            protocol.send(con, protocol.state_into(self.session, ctl, b'"event": "state", '))

    # ---- the web remote (boards with `wifi`: a Pico W)
    def _web_init(self, net, now):
        """The WiFi part, the pairing, the server and its routes: only boards with a
        `wifi` section load them."""
        from .web import WebServer
        from .webapp import WebApp
        from .wifi import FILE as WIFI
        from .wifi import Wifi
        if net is None:
            from .net import Net
            net = Net()
        b = self.b
        led = machine.Pin("LED", machine.Pin.OUT) if b.wifi.led else None
        wifi = self.wifi = self.sup.add(Wifi(b, net, self.files, self.root + WIFI, led))
        page = __file__[:__file__.rfind("/") + 1] + "www/"
        self.webapp = WebApp(self, self.pairing, page)
        self.web = WebServer(net, b.wifi.port, self.webapp.handle, protocol.Session, now)
        self._wifi_seen = 0
        self._web_state = self._write_web_state   # bound once: a stream's line allocates nothing
        wifi.start(now)

    def _write_web_state(self, session):
        protocol.state_into(session, self.ctl, b'"event": "state", ')

    def _web(self, now):
        """The web's share of a pass: the server follows the link; requests, streams. A
        change a request made reaches the codes in this pass, as the host's do."""
        wifi = self.wifi
        web = self.web
        if wifi is None or web is None:
            return
        if wifi.changes != self._wifi_seen:
            self._wifi_seen = wifi.changes
            if wifi.ip is not None:
                if not web.start(wifi.ip, now):
                    self.log.append(web.error)
            else:
                web.stop()
        ctl = self.ctl
        told = ctl.changes
        web.poll(now, ctl, self._web_state)
        if ctl.changes != told:
            ctl.outputs()

    def wifi_command(self, t, now):
        """`wifi ...` over USB (wificmd.py): the reply."""
        from .wificmd import command
        return command(self, t, now)

    def _handle(self, line):
        return protocol.handle(self.session, self.ctl, line, self._now, self)

    def _apply(self):
        """Copy the controller's outputs to the hardware, in the order that never pops; a
        pin is written only when it changes. Only while the supply is good: the
        supply-fail IRQ can land anywhere in a pass, and a pass must never undo what it
        did (re-close the relay, unmute) once it has run. So each write that makes it
        louder checks the supply with interrupts off for that write alone (_louder); the
        rest (the PGA2311's frame, the muting writes, which undo nothing of the IRQ's)
        runs with them on. Held off for a whole frame (0.9 ms on the rp2 tier), the IR
        receiver's IRQ stamped its edges late and the port refused NEC frames."""
        supply = self.supply
        if supply.reads_good():
            self._write()
            return
        # The pin too: a supply that failed since the pass began may have its IRQ still
        # to come; the muting begins here, the IRQ kept out while it does.
        st = machine.disable_irq()
        try:
            supply.begin_quiet()
        finally:
            machine.enable_irq(st)

    def _louder(self, step):
        """One write that makes it louder (`step`), with interrupts off, if the supply is
        still good; else the muting begins. Returns whether it was written."""
        st = machine.disable_irq()
        try:
            ok = self.supply.reads_good()
            if not ok:
                self.supply.begin_quiet()
            elif step == _RELAY:
                self.mute_relay.set(True)
            elif step == _PGA:
                self.pga.mute(False)
            elif step == _DAC:
                self.xsmt.mute(False)   # type: ignore[union-attr]
            elif step == _TRIGGER:
                self.trigger.set(True)   # type: ignore[union-attr]
        finally:
            machine.enable_irq(st)
        return ok

    def _write(self):
        ctl = self.ctl
        # Muting goes DAC, PGA, relay; unmuting relay, PGA, DAC.
        xsmt = self.xsmt
        if ctl.dac_mute and xsmt is not None and not xsmt.muted:
            xsmt.mute(True)
        if ctl.pga_mute and not self.pga.muted:
            self.pga.mute(True)
        if self.pga.set_codes(ctl.codes):
            self.chain.frame_ms = time.ticks_ms()
        if self.mute_relay.on != ctl.mute_relay:
            if not ctl.mute_relay:
                self.mute_relay.set(False)
            elif not self._louder(_RELAY):
                return
        # Written out, not looped over a tuple of pairs: the main loop allocates nothing.
        relay = self.gain_relay
        if relay is not None and relay.on != (ctl.gain_relay == 1):
            relay.set(ctl.gain_relay == 1)
        relay = self.output_relay
        if relay is not None and relay.on != (ctl.output_relay == 1):
            relay.set(ctl.output_relay == 1)
        i = ctl.input_relay
        if i != self._selected:
            self._selected = i
            k = 0
            for pin in self.selects:   # a list made once: iterating it allocates nothing
                pin.set(i >> k & 1 == 1)
                k += 1
        if not ctl.pga_mute and self.pga.muted and not self._louder(_PGA):
            return
        if not ctl.dac_mute and xsmt is not None and xsmt.muted and not self._louder(_DAC):
            return
        trig = self.trigger
        if trig is not None and trig.on != ctl.trigger:
            # Its delays are the controller's: after the unmute, before the mute.
            if not ctl.trigger:
                trig.set(False)
            else:
                self._louder(_TRIGGER)


class LazyMenu:
    """The knob menu (menu.py), loaded by the first long press that opens it: its code
    (some 10 KB of RAM on a non-frozen install) stays out of the heap of an amplifier
    whose menu nobody opened. Closed and never loaded, it reads as closed (`open`,
    `changes` and `mode` are 0); loaded, it is the Menu itself."""

    def __init__(self, ctl, board, app):
        self._args = (ctl, board, app)
        self._m = None

    def long_press(self, now):
        if self._m is None:
            # A user's long press: the import may take its time. A heap with no room for
            # it (a Pico W's, its WiFi joined) is said in the log, never a crash: the
            # knob stays the volume, and the host and the page set everything.
            import gc
            for _ in range(2):
                try:
                    from .menu import Menu
                    self._m = Menu(*self._args)
                    break
                except MemoryError:
                    gc.collect()
            if self._m is None:
                self._args[2].log.append("menu: no memory to load it (%d B free)"
                                         % gc.mem_free())
                return
        self._m.long_press(now)

    def __getattr__(self, name):
        m = self._m
        if m is None:
            if name == "open" or name == "changes" or name == "mode":
                return 0
            raise AttributeError(name)
        return getattr(m, name)


def _why(e):
    """A failed save's cause, in words for `status` and the log."""
    n = e.args[0] if isinstance(e, OSError) and e.args else None
    if n == 28:
        return "the flash is full (OSError 28, ENOSPC)"
    if n == 36:  # littlefs's ENOSPC while creating a file: no room for its entry
        return "the flash is full (OSError 36: no room for a new file)"
    if n == 5:
        return "the flash failed a write (OSError 5, EIO)"
    text = ("%s %s" % (type(e).__name__, e))[:80]
    # Made safe for a JSON string once here, not at every `status`.
    return "".join(" " if c < " " else "'" if c == '"' else "/" if c == "\\" else c
                   for c in text)


def boot(root="", console=None, files=None, log=None):
    """Load the board file and start the app (raises BoardError on a bad board)."""
    return App(boardfile.load(root + "board.json"), root, console, files, log)
