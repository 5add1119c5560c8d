"""A PCM5122 on the emulated I2C bus: page 0's register file, at 0x4C, ACKing every byte.

Enough of the chip for its driver (`headroom_fw/pcm5122.py`) and for a test to read what
was set: a write is [register, data, data, ...] (the register pointer increments when
bit 7 of the register byte is set, as on the chip); a read returns from the pointer.
Register 0 selects the page; only page 0 is kept, writes to other pages are recorded
and dropped. Register 1's RSTR bit resets page 0 to its defaults. The status registers
read as a chip with BCK running and no SCK: 94 (clock status) 0x40, 91 (detected rate)
48 kHz class, 118 (power state) run or standby from register 2.

`present=False` takes the chip off the bus (nothing ACKs its address).
"""

ADDR = 0x4C

# Page 0 power-on values (PCM5122 datasheet / Linux pcm512x); unlisted ones are 0.
DEFAULTS = {19: 0x10, 40: 0x02, 61: 0x30, 62: 0x30, 63: 0x22, 65: 0x07}


class FakePCM5122:
    def __init__(self, present=True):
        self.present = present
        self.page = 0
        self.regs = bytearray(128)
        self.reset_registers()
        self.ptr = 0
        self.inc = False
        self._first = True
        self.writes = []          # (page, register, value) in the order written
        self.resets = 0

    def reset_registers(self):
        self.regs[:] = bytes(128)
        for r, v in DEFAULTS.items():
            self.regs[r] = v

    # ---- status registers, as the chip would report them
    def _read_reg(self, r):
        if r == 94:
            return 0x40                       # SCK missing (3-wire I2S, expected)
        if r == 91:
            return 0x30                       # 32-48 kHz class
        if r == 118:
            if self.regs[2] & 0x01:
                return 0x00                   # powerdown
            return 0x08 if self.regs[2] & 0x10 else 0x05
        return self.regs[r & 0x7F]

    # ---- the I2C target interface (buses.I2cBus)
    def start(self, rw):
        self._first = rw == "w"

    def write(self, value):
        if self._first:
            self.ptr = value & 0x7F
            self.inc = bool(value & 0x80)
            self._first = False
            return True
        r = self.ptr
        self.writes.append((self.page, r, value))
        if r == 0:
            self.page = value
        elif self.page == 0:
            self.regs[r] = value
            if r == 1 and value & 0x01:       # RSTR: registers to their defaults
                self.resets += 1
                self.reset_registers()
        if self.inc:
            self.ptr = (self.ptr + 1) & 0x7F
        return True

    def read(self):
        v = self._read_reg(self.ptr) if self.page == 0 else 0
        if self.inc:
            self.ptr = (self.ptr + 1) & 0x7F
        return v

    def stop(self):
        self._first = True
