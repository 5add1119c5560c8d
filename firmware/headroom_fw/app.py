"""The firmware's shell: builds the drivers from the board file and runs the loop.

`App.step()` reads the inputs, lets the controller decide, copies its outputs to the
pins and the PGA2311 (the knob's first: it is what a listener waits for), serves the
host, and returns how long to sleep; the Waker cuts the sleep short when the knob
moves. A part that does not answer (the DAC, the PGA2311 chain, the supply monitor)
is a fault, not a crash: it is reported in words naming the part and its pins, the
controller keeps everything muted while it stands, and the app tries again.
`lifecycle.py` runs App on the board (restarts, the fault state); the simulator
calls boot() and step() on its virtual clock.
"""
import gc
import time

import machine
from micropython import const

from . import board as boardfile
from . import controller as C
from . import inputs, protocol
from .controller import POWER_FAIL, Controller
from .encoder import Encoder
from .files import Files
from .log import Log
from .pga2311 import PGA2311
from .relay import Relay
from .settings import SettingsStore
from .uptime import Uptime
from .version import VERSION
from .waker import Waker

_WDT_MS = const(2000)
_RETRY_MS = const(2000)      # a faulty part is tried again this often
_CHECK_MS = const(1000)      # the PGA2311 chain is checked (its echo) this often...
_QUIET_MS = const(100)       # ...and only when no frame went out for this long: a write
                             # restarts the chip's zero-crossing wait, and would make a
                             # pending ramp step be skipped
_SENSE_PASSES = const(3)     # a sense pin that disagrees this many passes in a row: a fault
_WINDOW_MS = const(60000)    # "worst pass in the last minute": two windows of this
_SAVE_RETRY_MS = const(1000)      # a failed settings save is tried again after this,
_SAVE_RETRY_MAX_MS = const(60000)  # doubling up to this: a full flash is not hammered
LOG = "headroom.log"


class App:
    def __init__(self, board, root="", console=None, files=None, log=None, uptime=None):
        b = board
        self.b = b
        self.root = root
        self.files = files if files is not None else Files()
        self.log = log if log is not None else Log(root + LOG, self.files)
        self.log.size()  # read once here (os.stat makes a tuple), not in the first `status`
        self.waker = Waker()
        self.fault_text = {}      # controller fault bit -> what the user reads
        self._xsmt_high = False   # XSMT's shadow: a pass writes the mute pins only when they change
        # Muted from the first instruction, in the muting order: the board's pull-downs
        # held XSMT and MUTE low and the relays released until now; drive XSMT, then the
        # PGA2311's MUTE low before any relay pin is touched.
        self.dac_xsmt = None
        self.dac = None
        # The DAC's soft-mute ramp (104 samples, and the one XSMT lands in), for the
        # supply-fail IRQ to wait out before the PGA2311 cuts: no click even then.
        self._ramp_us = (105 * 1000000 + b.i2s_rate - 1) // b.i2s_rate if b.dac is not None else 0
        if b.dac is not None:
            self.dac_xsmt = machine.Pin(b.dac_xsmt, machine.Pin.OUT, value=0)
        self.pga = PGA2311(self._spi(b), machine.Pin(b.pga_cs), mute=machine.Pin(b.pga_mute),
            zcen=machine.Pin(b.pga_zcen) if b.pga_zcen is not None else None,
            chips=len(b.pga_roles) // 2, readback=b.spi_miso is not None)
        self.mute_relay = Relay(machine.Pin(b.mute_relay.pin), b.mute_relay.active_high)
        self.gain_relay = self._relay(b.gain_relay)
        self.output_relay = self._relay(b.output_relay)
        # Relays with a sense contact: [name, driver, sense pin, passes it disagreed, GPIO].
        self._senses = []
        for name, r, drv in (("mute", b.mute_relay, self.mute_relay),
                             ("gain", b.gain_relay, self.gain_relay),
                             ("output", b.output_relay, self.output_relay)):
            if r is not None and r.sense is not None:
                self._senses.append([name, drv, machine.Pin(r.sense, machine.Pin.IN,
                                                            machine.Pin.PULL_UP), 0, r.sense])
        self.power_ok = True
        # The supply-fail muting, stage by stage (_fail_quiet): 0 none yet, 1 XSMT low (at
        # _xsmt_low_us), 2 the PGA2311 muted, 3 the mute relay open.
        self._fail_stage = 0
        self._xsmt_low_us = time.ticks_us()
        self._sense = None
        if b.power_sense is not None:
            self._sense = machine.Pin(b.power_sense, machine.Pin.IN)
            self._sense.irq(self._power_fail_isr, machine.Pin.IRQ_FALLING, hard=True)
            if not self._sense.value():
                self._power_fail_isr(self._sense)
        now = time.ticks_ms()
        self._btn_pin = machine.Pin(b.button, machine.Pin.IN, machine.Pin.PULL_UP)
        self.button = inputs.Button(self._btn_pin.value(), 0, b.debounce_ms, b.long_press_ms)
        # The gain switch's pins (one, or two for three positions), debounced as one value.
        self._gain_pins = [self._switch_pin(g) for g in b.gain_switch_pins]
        self._out_pin = self._switch_pin(b.output_switch)
        self.gain_sw = (inputs.Debounced(self._gain_levels(), b.debounce_ms)
                        if self._gain_pins else None)
        self.out_sw = self._debounced(self._out_pin)

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
                              self._gain_from_switch() if self.gain_sw else None,
                              self._output_from_switch() if self._out_pin else None, now)
        if not self.power_ok:
            self.fault(C.FAULT_POWER_SENSE, "power_sense: the supply monitor on GP%d reads low "
                       "at boot: the supply is failing, or the monitor is not connected"
                       % b.power_sense, now)
        # The chain's state after a reset is never assumed: a pattern through it and mute
        # codes into it, under MUTE; no echo is a fault (muted until it answers).
        self._check_chain(now)
        if b.dac == "pcm5122":
            self._start_dac(now)
        if b.decoder == "pio":
            from .pio_encoder import PIOEncoder  # only boards that count with PIO load it
            self.encoder = PIOEncoder(b.pio_sm, machine.Pin(b.enc_a), machine.Pin(b.enc_b),
                                      b.edges_per_detent, time.ticks_ms, self.waker)
        else:
            # Same interface as PIOEncoder: take(), steps, last_ms, expire().
            self.encoder = Encoder(machine.Pin(b.enc_a), machine.Pin(b.enc_b),  # type: ignore[assignment]
                                   b.edges_per_detent, self.waker)
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
        self._retry = time.ticks_add(now, _RETRY_MS)
        self._check = time.ticks_add(now, _CHECK_MS)
        self._frame_ms = now       # when the last PGA2311 frame went out
        # Health: uptime (since the MCU's reset: lifecycle.Firmware's, carried across the
        # App's restarts), the worst pass of the last minute (two windows), reset cause.
        self.uptime = uptime if uptime is not None else Uptime()
        self._window = now
        self._worst = 0
        self._worst_prev = 0
        self.reset_cause = machine.reset_cause()
        # The fixed words of `status`, as bytes once (health_into writes them every time)
        self._head = b'"firmware": "' + VERSION.encode() + b'", "uptime_s": '
        self._cause = b'"' + _cause(self.reset_cause).encode() + b'"'
        self.wdt = machine.WDT(timeout=_WDT_MS)
        self._apply()
        self.ctl.moved(time.ticks_ms())
        # One `status` written (not sent) now: what a first reply makes once (JsonOut's
        # format strings, 816 B on rp2) is made at boot, not while the knob turns.
        protocol.state_into(self.session, self.ctl, b'"ok": true, ', self)

    # ---- parts
    @staticmethod
    def _spi(b):
        sck = machine.Pin(b.spi_sck)
        mosi = machine.Pin(b.spi_mosi)
        if b.spi_miso is None:
            # Left out, the block takes its default MISO pin on every release; miso=None
            # would mean that pin before 1.25 and no pin at all after.
            return machine.SPI(b.spi_id, baudrate=b.spi_baudrate, polarity=0, phase=0,
                               bits=8, firstbit=machine.SPI.MSB, sck=sck, mosi=mosi)
        return machine.SPI(b.spi_id, baudrate=b.spi_baudrate, polarity=0, phase=0, bits=8,
                           firstbit=machine.SPI.MSB, sck=sck, mosi=mosi,
                           miso=machine.Pin(b.spi_miso))

    def _relay(self, r):
        return Relay(machine.Pin(r.pin), r.active_high) if r is not None else None

    def _switch_pin(self, gpio):
        return machine.Pin(gpio, machine.Pin.IN, machine.Pin.PULL_UP) if gpio is not None else None

    def _debounced(self, pin):
        return inputs.Debounced(pin.value(), self.b.debounce_ms) if pin is not None else None

    def _gain_levels(self):
        """The gain switch's pins as one int: the first in bit 0, the second in bit 1."""
        p = self._gain_pins
        return p[0].value() | (p[1].value() << 1) if len(p) == 2 else p[0].value()

    def _gain_from_switch(self):
        """GAIN_LOW, GAIN_HIGH, or GAIN_AUTO (controller.GAIN_AUTO: a three-position middle)."""
        return self.b.gain_position(self.gain_sw.level)  # type: ignore[union-attr]  # only with a switch

    def _output_from_switch(self):
        level = self.out_sw.level if self.out_sw else self._out_pin.value()
        if level == self.b.output_switch_balanced_level:
            return boardfile.OUTPUT_BALANCED
        return boardfile.OUTPUT_SE

    def fault(self, bit, text, now):
        """A part is faulty (text) or answers again (None): reported, logged once, muted."""
        was = self.fault_text.get(bit)
        if text is None:
            if was is not None:
                del self.fault_text[bit]
                self.log.append("cleared: " + was)
        elif was is None:
            self.fault_text[bit] = text
            self.log.append("fault: " + text)
        self.ctl.set_fault(bit, text is not None, now)

    def _start_dac(self, now):
        """The PCM5122 over I2C: unity digital volume (the PGA2311 sets the level), soft mute
        off (muting is XSMT's job: a pin works in an IRQ, I2C not). A bus held low or a chip
        that does not answer is a fault naming the part and its pins."""
        b = self.b
        where = "PCM5122 at 0x%02X on I2C%d (GP%d SDA, GP%d SCL)" % (
            b.dac_addr, b.dac_i2c_id, b.dac_sda, b.dac_scl)
        sda = machine.Pin(b.dac_sda, machine.Pin.IN)
        if not sda.value():
            self.fault(C.FAULT_DAC, "dac: I2C%d is stuck: SDA (GP%d) is held low, so the %s "
                       "cannot be reached" % (b.dac_i2c_id, b.dac_sda, where), now)
            return
        try:
            if self.dac is None:
                from .pcm5122 import PCM5122
                self.dac = PCM5122(machine.I2C(b.dac_i2c_id, scl=machine.Pin(b.dac_scl),
                                               sda=machine.Pin(b.dac_sda)), b.dac_addr)
            self.dac.init(bits=b.i2s_bits)
            self.dac.mute(False)
        except OSError as e:
            self.fault(C.FAULT_DAC, "dac: no answer from the %s (%s)" % (
                where, "time-out" if e.args and e.args[0] == 110 else "no acknowledge"), now)
            return
        self.fault(C.FAULT_DAC, None, now)

    def _check_chain(self, now):
        if self.pga.verify_chain() is False:
            self.fault(C.FAULT_PGA, "pga2311: the chain gave back nothing on SDO (GP%d): check "
                       "its wiring and supply" % self.b.spi_miso, now)
        else:
            self.fault(C.FAULT_PGA, None, now)

    def _power_fail_isr(self, pin):
        # Hard IRQ: pin writes only - nothing allocated, no sleep (the pico-sdk forbids
        # sleep_us in an interrupt), no wait. It goes as far as it can at once
        # (_fail_quiet): XSMT low; the PGA2311's MUTE and the mute relay too when no DAC
        # ramp is running. What is left (the PGA2311 and the relay after the DAC's ramp)
        # the main loop finishes, woken here, at the ramp's end; it also finishes a
        # handler cut short (a pending KeyboardInterrupt is raised inside it at a branch,
        # and rp2 then disables the handler). The main loop then tells the controller,
        # which stays muted.
        self.power_ok = False
        self.waker.woken = 1   # first, with no branch before it: a cut-short handler wakes the loop too
        self._fail_quiet()

    def _fail_quiet(self):
        """The supply-fail muting from the stage it stands at, in the order that never
        pops: XSMT low, the DAC's soft-mute ramp (_ramp_us), the PGA2311's MUTE, the mute
        relay open. Never waits: it returns where the ramp is still running. Every write
        goes towards quiet, so running it again (the IRQ, then the loop) undoes nothing."""
        if self._fail_stage == 0:
            xsmt = self.dac_xsmt
            if xsmt is not None:
                xsmt.value(0)
                self._xsmt_high = False
            self._xsmt_low_us = time.ticks_us()  # after the write: the ramp starts there
            self._fail_stage = 1
        if self._fail_stage == 1:
            if self._ramp_us and \
                    time.ticks_diff(time.ticks_us(), self._xsmt_low_us) < self._ramp_us:
                return
            self.pga.mute(True)
            self._fail_stage = 2
        if self._fail_stage == 2:
            self.mute_relay.set(False)
            self._fail_stage = 3

    def _finish_fail_quiet(self):
        """The main loop's part of the supply-fail muting: the stages the IRQ left (the
        ramp's end, or a handler cut short), with interrupts off so the IRQ cannot run
        the same stage meanwhile. Returns the ms until the next stage is due (0: none)."""
        st = machine.disable_irq()
        try:
            self._fail_quiet()
            if self._fail_stage == 3:
                return 0
            left = self._ramp_us - time.ticks_diff(time.ticks_us(), self._xsmt_low_us)
        finally:
            machine.enable_irq(st)
        return left // 1000 + 1 if left > 0 else 1

    # ---- the loop
    def step(self):
        """One pass of the main loop; returns the milliseconds to sleep."""
        self._knob()   # the knob's frame first: it is what the listener waits for
        t0 = time.ticks_us()
        now = time.ticks_ms()
        ctl = self.ctl
        sense = self._sense
        w = self.waker
        if not self.power_ok and self._fail_stage != 3:
            self._finish_fail_quiet()
        if not self.power_ok:
            if ctl.phase != POWER_FAIL:
                ctl.power_fail(now)
            elif (sense is not None and sense.value() and self._fail_stage == 3
                    and ctl.power_back()):
                # The supply came back before the MCU lost power: the analog rails
                # dipped and the PGA2311 may have reset. Start again, muted, from boot -
                # once the muting is done (a reset lets the board's pull-downs cut MUTE
                # and the relay while the DAC's ramp may still be running).
                machine.reset()
        else:
            ev = self.button.update(self._btn_pin.value(), now)
            if ev == inputs.CLICK:
                ctl.click(now)
            elif ev == inputs.LONG_PRESS:
                ctl.long_press(now)
            if self.gain_sw and self.gain_sw.update(self._gain_levels(), now):
                ctl.set_gain(self._gain_from_switch(), now)
            if w.woken:
                self._knob()
            if self.out_sw and self.out_sw.update(self._out_pin.value(), now):
                ctl.set_output(self._output_from_switch(), now)
            self.encoder.expire(now)
            if w.woken:
                self._knob()
            self._parts(now)
            ctl.tick(now)
            if ctl.mode != self._mode:
                self._mode = ctl.mode
                self.encoder.new_gesture()
        if self.console is not None:
            self._serve(now)
            if w.woken:
                self._knob()
        self._apply()
        ctl.moved(time.ticks_ms())
        if w.woken:
            self._knob()
        if not self.power_ok and ctl.phase != POWER_FAIL:
            ctl.power_fail(now)  # the supply failed during this pass: no save now
        if ctl.save_due(now) and (self.settings_error is None
                                  or time.ticks_diff(now, self._save_at) >= 0):
            self._save(now)
        self.wdt.feed()
        self._health(now, t0)
        if w.woken:
            self._knob()
        wake = ctl.next_wake(now)
        if not self.power_ok and self._fail_stage != 3:
            # The supply-fail muting still has stages to go: wake at the DAC ramp's end.
            left = self._finish_fail_quiet()
            if left and left < wake:
                wake = left
        con = self.console
        if con is not None and (not con.flush() and con.moved or self._more):
            # Last in the pass, so a detent's interrupt that cuts it short ends the pass.
            return 1  # a line goes out, or comes in, a share a pass: the next share soon
        return wake

    def _knob(self):
        """Detents the encoder counted since the last look: the controller's new level and
        its frame, at once. At the start of every pass, and again wherever the pass looks
        at the waker (its `woken` is set by the encoder's IRQ when a detent completes): a
        detent that comes mid-pass waits for the next look, a few calls away, not for the
        rest of the pass. Only the detent's own work: take(), turn, the codes for the
        state as it stands (every limit applies; time moves on in the pass's tick) and
        _apply, whose supply check and pin order hold here as everywhere; the rest (the
        relays' waits from `moved`, a save) is the pass's. Nothing allocated."""
        if not self.power_ok:
            return   # the supply-fail IRQ's wake-up stays for the pass to see
        w = self.waker
        w.woken = 0   # before take(): a detent after it wakes the loop again
        d = self.encoder.take()
        if not self.power_ok:
            w.woken = 1   # the supply failed meanwhile: its wake-up is the pass's
        if d:
            ctl = self.ctl
            ctl.turn(d, self.encoder.steps, self.encoder.last_ms)
            ctl.outputs()
            self._apply()

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

    def _check_relays(self, now):
        """Contacts that do not follow their coil (a sense pin reads the other way on
        _SENSE_PASSES passes in a row, while everything has settled - playing or held; the
        mute relay also while it is held open, at boot and while the others move): a
        fault, kept until the next boot - a relay that stuck once is not trusted again."""
        p = self.ctl.phase
        if C.FAULT_RELAY in self.fault_text:
            return
        settled = p == C.PLAYING or p == C.HELD
        if not settled and p != C.SWITCHING and p != C.BOOT:
            return
        for s in self._senses:
            if not settled and s[0] != "mute":
                continue
            closed = s[2].value() == 0
            if closed == s[1].on:
                s[3] = 0
                continue
            s[3] += 1
            if s[3] >= _SENSE_PASSES:
                self.fault(C.FAULT_RELAY, "relay.%s: its contacts do not follow the coil (sense "
                           "GP%d reads them %s, the coil is %s)" % (
                               s[0], s[4],
                               "energized" if closed else "released",
                               "on" if s[1].on else "off"), now)
                return

    def _parts(self, now):
        """Retry faulty parts; check the PGA2311 chain's echo now and then, the relays'
        sense contacts every pass."""
        if self._senses:
            self._check_relays(now)
        if time.ticks_diff(now, self._retry) >= 0:
            self._retry = time.ticks_add(now, _RETRY_MS)
            if C.FAULT_DAC in self.fault_text:
                self._start_dac(now)
            elif self.dac is not None:
                # Still there? (It may have lost power and its registers: then it is set up
                # again once it answers.)
                try:
                    self.dac.power_state()
                except OSError:
                    self._start_dac(now)
            if C.FAULT_PGA in self.fault_text and self.pga.muted:
                self._check_chain(now)
        quiet = time.ticks_diff(now, self._frame_ms) >= _QUIET_MS
        if quiet:
            # Quiet long enough: the last frame's time held at _QUIET_MS ago, so that
            # ticks_diff (2**29 ms at most, then it wraps) never meets one days old - the
            # check would stop for 6.2 days at a time on an amplifier left untouched.
            self._frame_ms = time.ticks_add(now, -_QUIET_MS)
        if time.ticks_diff(now, self._check) >= 0 and quiet:
            self._check = time.ticks_add(now, _CHECK_MS)
            if self.pga.check() is False and not self.pga.muted:
                # It gave back zeros where it had codes: it reset (a dip the supply monitor
                # did not see). The codes go out again, as a fade-in.
                self.log.append("pga2311: the chain lost its codes (a reset?): faded in again")
                self.ctl.pga_lost(now)

    def _health(self, now, t0):
        self.uptime.update(now)  # seconds and ms: small ints for years (uptime.py)
        us = time.ticks_diff(time.ticks_us(), t0)
        if time.ticks_diff(now, self._window) >= _WINDOW_MS:
            self._window = now
            self._worst_prev = self._worst
            self._worst = 0
        if us > self._worst:
            self._worst = us

    def health_into(self, out):
        """The health fields of `status` into `out` (a JsonOut): the body of a JSON
        object, without a trailing comma. Nothing is allocated but for a fault's or a
        failed save's words (rare: a reply while something is wrong)."""
        try:
            heap = gc.mem_free()  # type: ignore[attr-defined]
        except AttributeError:  # CPython running the simulator has no such figure
            heap = -1
        out.raw(self._head)
        out.int(self.uptime.s)
        out.raw(b', "reset_cause": ')
        out.raw(self._cause)
        out.raw(b', "heap_free": ')
        out.int(heap)
        out.raw(b', "worst_pass_us": ')
        out.int(self._worst if self._worst > self._worst_prev else self._worst_prev)
        out.raw(b', "faults": [')
        if self.fault_text:
            out.text(", ".join('"%s"' % t.replace('"', "'") for t in self.fault_text.values()))
        out.raw(b'], "settings_error": ')
        err = self.settings_error
        if err is None:
            out.raw(b"null")
        else:
            out.text('"%s"' % err)
        out.raw(b', "log_bytes": ')
        out.int(self.log.size())
        out.raw(b', "inputs": ')
        self.inputs_into(out)

    def inputs_into(self, out):
        """What the inputs did that was not the user's: bounces each filtered out since boot,
        the encoder's skipped edges (null where the PIO counts) and the clockwise detents it
        refused as bounce during a turn down, a button held from power-on."""
        enc = self.encoder
        out.raw(b'{"encoder": {"bounces": ')
        out.int(enc.bounces)
        out.raw(b', "skips": ')
        if enc.skips is None:
            out.raw(b"null")
        else:
            out.int(enc.skips)
        out.raw(b', "refused": ')
        out.int(enc.refused)
        out.raw(b'}, "button": {"bounces": ')
        out.int(self.button.bounces)
        out.raw(b', "held_since_boot": ')
        out.bool(self.button.held_since_boot)
        out.raw(b"}")
        if self.gain_sw is not None:
            out.raw(b', "gain_switch": {"bounces": ')
            out.int(self.gain_sw.bounces)
            out.raw(b"}")
        if self.out_sw is not None:
            out.raw(b', "output_switch": {"bounces": ')
            out.int(self.out_sw.bounces)
            out.raw(b"}")
        out.raw(b"}")

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
        settings a stop would lose. For when the main loop cannot go on."""
        ctl = self.ctl
        for stage, wait_ms in ctl.quiet_sequence():
            try:
                if stage == "dac":
                    if self.dac_xsmt is not None:
                        self.dac_xsmt.value(0)
                elif stage == "pga":
                    self.pga.mute(True)
                    self.pga.set_codes(bytearray(2 * self.pga.chips))
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

    def _serve(self, now):
        """Answer the host (one line a pass), push changes. A state event is sent only
        when nothing else is going out: while the host does not read, changes are not
        queued; it gets the latest state once it reads again (coalesced, not a backlog)."""
        con = self.console
        self._now = now
        self._more = protocol.serve(con, self.lines, self._answer)
        if self.ctl.changes == self._told:
            return
        if not self.session.monitoring:
            self._told = self.ctl.changes
        elif not con.busy():
            self._told = self.ctl.changes
            protocol.send(con, protocol.state_into(self.session, self.ctl, b'"event": "state", '))

    def _handle(self, line):
        return protocol.handle(self.session, self.ctl, line, self._now, self)

    def _apply(self):
        """Copy the controller's outputs to the hardware, in the order that never pops; a
        pin is written only when it changes. With interrupts off, and only while the
        supply is good: the supply-fail IRQ can land anywhere in a pass, and a pass must
        never undo what it did (re-close the relay, unmute) once it has run."""
        st = machine.disable_irq()
        try:
            # The pin too: a supply that failed since the pass began has its IRQ waiting
            # for this critical section to end; do not close the relay meanwhile.
            sense = self._sense
            if self.power_ok and (sense is None or sense.value()):
                self._write()
            elif self._fail_stage == 0:
                # The supply monitor reads low and no IRQ has begun the muting: its IRQ
                # waits for this section, or never comes (a handler cut short before its
                # first line; rp2 disables a handler that raised). Begin it here.
                self.power_ok = False
                self._fail_quiet()
        finally:
            machine.enable_irq(st)

    def _write(self):
        ctl = self.ctl
        # Muting goes DAC, PGA, relay; unmuting relay, PGA, DAC.
        xsmt = self.dac_xsmt
        if ctl.dac_mute and xsmt is not None and self._xsmt_high:
            xsmt.value(0)
            self._xsmt_high = False
        if ctl.pga_mute and not self.pga.muted:
            self.pga.mute(True)
        if self.pga.set_codes(ctl.codes):
            self._frame_ms = time.ticks_ms()
        if self.mute_relay.on != ctl.mute_relay:
            self.mute_relay.set(ctl.mute_relay)
        # Written out, not looped over a tuple of pairs: the main loop allocates nothing.
        relay = self.gain_relay
        if relay is not None and relay.on != (ctl.gain_relay == 1):
            relay.set(ctl.gain_relay == 1)
        relay = self.output_relay
        if relay is not None and relay.on != (ctl.output_relay == 1):
            relay.set(ctl.output_relay == 1)
        if not ctl.pga_mute and self.pga.muted:
            self.pga.mute(False)
        if not ctl.dac_mute and xsmt is not None and not self._xsmt_high:
            xsmt.value(1)
            self._xsmt_high = True


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


def _cause(c):
    if c == machine.PWRON_RESET:
        return "power-on"
    if c == machine.WDT_RESET:
        return "watchdog or reset"
    return "other (%d)" % c


def boot(root="", console=None, files=None, log=None):
    """Load the board file and start the app (raises BoardError on a bad board)."""
    return App(boardfile.load(root + "board.json"), root, console, files, log)


def main():
    from .lifecycle import main as run_board
    run_board()
