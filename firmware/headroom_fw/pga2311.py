"""PGA2311 stereo volume IC: one chip or a daisy chain, over SPI mode 0.

Each chip takes a 16-bit word, right-channel byte first, MSB first, clocked
on the rising SCLK edge and latched when CS rises. In a chain the first word
shifted in ends up in the chip farthest from the MCU. The chip cannot be read,
so the driver keeps what it last sent.
"""


class PGA2311:
    def __init__(self, spi, cs, mute=None, zcen=None, chips=1):
        """`spi`: a machine.SPI in mode 0 (<= 6.25 MHz); `cs`, `mute`, `zcen`: Pins."""
        self.spi = spi
        self.cs = cs
        self.mute_pin = mute
        self.chips = chips
        self._frame = bytearray(2 * chips)
        self.sent = bytearray(2 * chips)   # codes as last sent; 0 = mute
        self._valid = False                # nothing sent since reset
        cs.init(cs.OUT, value=1)
        if mute is not None:
            mute.init(mute.OUT, value=0)   # MUTE is active low
        if zcen is not None:
            zcen.init(zcen.OUT, value=1)   # change gains at zero crossings

    def mute(self, on):
        """Drive the MUTE pin (active low); safe in a hard IRQ."""
        if self.mute_pin is not None:
            self.mute_pin.value(0 if on else 1)

    def set_codes(self, codes):
        """Send `codes` (left, right per chip, chip 0 nearest the MCU) if they changed.

        Returns True when a frame went out.
        """
        if self._valid and codes == self.sent:
            return False
        f = self._frame
        n = self.chips
        for i in range(n):
            # The far chip's word goes first; within a word, right then left.
            j = 2 * (n - 1 - i)
            f[2 * i] = codes[j + 1]
            f[2 * i + 1] = codes[j]
        self.cs.value(0)
        self.spi.write(f)
        self.cs.value(1)
        for i in range(len(codes)):
            self.sent[i] = codes[i]
        self._valid = True
        return True
