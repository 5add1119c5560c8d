"""The LRCK watch (clockwatch.py) on MicroPython's real rp2 port: its PWM slice's
registers through machine.mem32, the pin handed to the slice, and rp2040py's PWM
counting the pin's rising edges (DIVMODE 2) divided by DIV. pico-se's GP27 (its I2S
WS, unused by the firmware, whose music is the Pico's own) is driven as a source
module's LRCK at exact emulated times; the firmware's own code, typed at the raw REPL
after a Ctrl-C, counts and classifies it. Every wait is on the emulated clock.

rp2040py ORs both of a slice's B pins into its input whatever their function (GP11,
pico-se's encoder B, pulled high, would hold slice 5's input high); an RP2040 feeds a
peripheral only from pins whose function selects it. So GP11 is held low meanwhile (its
contact closed, as a turn does; the firmware is stopped, its IRQs change nothing)."""
import pytest

SE = "pico-se"
WS = 27           # pico-se's i2s.ws: slice 5's B input (GP11 is its other)
OTHER_B = 11


def _drive(b, gpio, hz, ms):
    """A square wave of `hz` on `gpio` for `ms` from a little after now; its end (µs)."""
    half_ns = 1e9 / hz / 2

    def schedule():
        t0 = (b.now_us + 200) * 1000.0
        n = int(hz * ms / 1000)
        for k in range(n):
            b.sched.at_ns(t0 + 2 * k * half_ns, lambda: b.mcu.gpio[gpio].set_input_value(True))
            b.sched.at_ns(t0 + (2 * k + 1) * half_ns, lambda: b.mcu.gpio[gpio].set_input_value(False))
        return (t0 + 2 * n * half_ns) / 1000.0
    return b.call(schedule)


@pytest.mark.parametrize("hz,cls", [(48000, 3), (8000, 1)])
def test_the_real_port_counts_lrck_and_names_its_rate(tier, report, hz, cls):
    """The watch's window (100 ms here, 2 s in the firmware) inside a clock that runs
    through it: a count every 16 rising edges, the rate, its class; then the clock
    stopped: no count, no signal."""
    live = tier.live(SE)
    b, c = live.board, live.console
    c.enter_raw()
    live.stopped = True
    c.exec("import machine, time\nfrom headroom_fw.clockwatch import ClockWatch\n"
           "class Ctl:\n def set_signal(s, p, fs, now):\n  s.got = (p, fs)\n"
           "class Sup:\n pass\n"
           "w = ClockWatch(%d)\nw.sup = Sup()\nw.sup.ctl = Ctl()\n"
           "def look(ms):\n w.start(time.ticks_ms())\n c0 = machine.mem32[w._ctr]\n"
           " time.sleep_ms(ms)\n w._due = time.ticks_ms()\n c1 = machine.mem32[w._ctr]\n"
           " w.check(w._due)\n print((c1 - c0) & 0xFFFF, w.rate, w.sup.ctl.got[0], w.sup.ctl.got[1])\n"
           % WS)
    b.call(lambda: b.mcu.gpio[OTHER_B].set_input_value(False))
    try:
        end = _drive(b, WS, hz, 400)
        out = c.exec("look(100)").split()
        assert b.now_us < end, "the look outlasted the clock"
        counts, rate, present, got_cls = int(out[0]), int(out[1]), out[2], int(out[3])
        report("lrck watch", board=SE, hz=hz, window_ms=100, counts=counts, rate_hz=rate,
               rate_class=got_cls)
        want = hz * 100 // 1000 // 16
        assert abs(counts - want) <= 1, (counts, want)    # a count every 16 rising edges
        assert abs(rate - hz) <= hz // 20 and present == "True" and got_cls == cls, out
        b.run_until_us(end + 1000)
        out = c.exec("look(50)").split()       # the clock stopped
        assert out == ["0", "0", "False", "0"], out
    finally:
        b.call(lambda: b.mcu.gpio[OTHER_B].release_input())
