"""PGA2311 stereo volume IC: one chip or a daisy chain, over SPI mode 0.

Each chip takes a 16-bit word, right-channel byte first, MSB first, clocked on the
rising SCLK edge and latched when CS rises. In a chain the first word shifted in ends
up in the chip farthest from the MCU. The gain registers cannot be read, so the driver
keeps what it last sent; but SDO shifts out what the chain's shift registers held, so
with SDO wired to MISO every frame gives back the previous frame. That is the check:
`echo` says whether the chain gave back what it was sent before - a chip that reset
(its registers back to zero) or a broken chain does not.
"""

_PATTERN = (0x5A, 0xA5)   # shifted through the chain (under MUTE) at boot


class PGA2311:
    def __init__(self, spi, cs, mute=None, zcen=None, chips=1, readback=False):
        """`spi`: a machine.SPI in mode 0 (<= 6.25 MHz); `cs`, `mute`, `zcen`: Pins;
        `readback`: the chain's last SDO is wired to the SPI's MISO."""
        self.spi = spi
        self.cs = cs
        self.mute_pin = mute
        self.chips = chips
        self.readback = readback
        self._frame = bytearray(2 * chips)
        self._rx = bytearray(2 * chips)
        self._prev = bytearray(2 * chips)  # the frame the chain should give back next
        self.sent = bytearray(2 * chips)   # codes as last sent; 0 = mute
        self._valid = False                # nothing sent since reset
        self.echo = None                   # the last frame's check: True, False, None (cannot tell)
        self.muted = True
        cs.init(cs.OUT, value=1)
        if mute is not None:
            mute.init(mute.OUT, value=0)   # MUTE is active low
        if zcen is not None:
            zcen.init(zcen.OUT, value=1)   # change gains at zero crossings

    def mute(self, on):
        """Drive the MUTE pin (active low); safe in a hard IRQ."""
        self.muted = on
        if self.mute_pin is not None:
            self.mute_pin.value(0 if on else 1)

    def set_codes(self, codes, force=False):
        """Send `codes` (left, right per chip, chip 0 nearest the MCU) if they changed (or
        `force`). Returns True when a frame went out; `echo` then tells whether the chain
        gave back the previous one."""
        if self._valid and not force and codes == self.sent:
            return False
        f = self._frame
        n = self.chips
        for i in range(n):
            # The far chip's word goes first; within a word, right then left.
            j = 2 * (n - 1 - i)
            f[2 * i] = codes[j + 1]
            f[2 * i + 1] = codes[j]
        self._send(f)
        for i in range(len(codes)):
            self.sent[i] = codes[i]
        self._valid = True
        return True

    def _send(self, f):
        self.cs.value(0)
        if self.readback:
            self.spi.write_readinto(f, self._rx)
        else:
            self.spi.write(f)
        self.cs.value(1)
        if self.readback and self._valid:
            ok = True
            for i in range(len(f)):
                if self._rx[i] != self._prev[i]:
                    ok = False
            self.echo = ok
        else:
            self.echo = None
        for i in range(len(f)):
            self._prev[i] = f[i]

    def check(self):
        """Send the current codes again (the gains do not change) and say whether the chain
        gave back the frame it was last sent; None without MISO or before the first frame."""
        if not self._valid:
            return None
        self.set_codes(self.sent, True)
        return self.echo

    def verify_chain(self):
        """At boot, under MUTE: shift a pattern through the chain, then mute codes; True if
        the pattern came back (the chain is wired and every chip answers), None without
        MISO. Leaves every gain at mute."""
        if not self.readback:
            self.set_codes(bytearray(2 * self.chips), True)
            return None
        pat = self._frame
        for i in range(len(pat)):
            pat[i] = _PATTERN[i & 1]
        self._valid = False
        self._send(pat)
        self._valid = True
        self.set_codes(bytearray(2 * self.chips), True)
        return self.echo
