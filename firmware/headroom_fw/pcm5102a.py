"""PCM5102A stereo DAC, hardware mode: its control pins on GPIOs.

XSMT low soft-mutes (-1 dB per sample, 104 samples to silence), high un-mutes the
same way. FLT high picks the low-latency filter, DEMP high the 44.1 kHz
de-emphasis, FMT high left-justified data; the RP2040's I2S is I2S, so FMT must
stay low. Pins left as None are strapped on the board.

The PCM5122 has the same XSMT pin with the same ramp: the firmware drives it through
this class on both (app.py's muting order, the supply-fail IRQ); the PCM5122's registers
are pcm5122.py's.
"""
import machine
from micropython import const

_RAMP_SAMPLES = const(105)   # 104 one-dB steps, plus the sample the XSMT edge lands in


class PCM5102A:
    def __init__(self, xsmt_pin, flt_pin=None, demp_pin=None, fmt_pin=None, *, muted=True,
                 low_latency=False, deemphasis=False):
        """Drive the pins at once, muted unless told otherwise (the board holds XSMT low).
        `xsmt_pin`: a Pin, or its GPIO number: then the pin is made here as an output at
        its level in the one call, so the DAC is driven muted from its first instruction."""
        if isinstance(xsmt_pin, int):
            xsmt_pin = machine.Pin(xsmt_pin, machine.Pin.OUT, value=0 if muted else 1)
        else:
            xsmt_pin.init(xsmt_pin.OUT, value=0 if muted else 1)
        self.xsmt = xsmt_pin
        self.flt = flt_pin
        self.demp = demp_pin
        self.muted = muted
        if flt_pin is not None:
            flt_pin.init(flt_pin.OUT, value=1 if low_latency else 0)
        if demp_pin is not None:
            demp_pin.init(demp_pin.OUT, value=1 if deemphasis else 0)
        if fmt_pin is not None:
            fmt_pin.init(fmt_pin.OUT, value=0)   # I2S

    def mute(self, on):
        """Start the soft mute (True) or un-mute; safe in a hard IRQ."""
        self.muted = on
        self.xsmt.value(0 if on else 1)

    def mute_time_ms(self, rate):
        """Milliseconds the soft-mute ramp takes at `rate` Hz (rounded up): wait this long
        after mute(True) before anything may click (a relay), or after mute(False) for full level."""
        return (_RAMP_SAMPLES * 1000 + rate - 1) // rate

    def mute_time_us(self, rate):
        """The same ramp in microseconds (rounded up): the supply-fail IRQ waits it out
        before the PGA2311 cuts."""
        return (_RAMP_SAMPLES * 1000000 + rate - 1) // rate

    def set_filter(self, low_latency):
        if self.flt is not None:
            self.flt.value(1 if low_latency else 0)

    def set_deemphasis(self, on):
        if self.demp is not None:
            self.demp.value(1 if on else 0)
