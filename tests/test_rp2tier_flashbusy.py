"""The rp2 tier's flash chip takes its datasheet's erase and program times
(rp2tier/emulator.FlashBusy), seen only through what every rp2040py release offers: the
QSPI chip-select pin's listeners and the SSI's register window. rp2040py 1.0's SSI is a
C++ block with nothing else to hook (the tier used to patch 0.3.6's Python SSI's
private methods, which 1.0 does not have), so the fake SSI here has only its window and
answers a status read as rp2040py does: never busy."""
from headroom.rp2tier.emulator import ERASE_US, PROGRAM_US, SSI_KEY, FlashBusy

DR0, SSIENR = 0x60, 0x08


class Pin:
    def __init__(self):
        self.value = 1                 # deselected (the pad's pull-up)
        self.listeners = []

    def add_listener(self, fn):
        self.listeners.append(fn)

    def drive(self, level):
        old, self.value = self.value, level
        for fn in self.listeners:
            fn(level, old)


class Ssi:
    """Only a register window, as rp2040py's SSI: every byte answers 0 (a status read:
    never busy)."""

    def __init__(self):
        self.rx = []

    def read_uint32(self, offset):
        if offset == DR0:
            return self.rx.pop(0) if self.rx else 0
        return 1 if offset == SSIENR else 0

    def write_uint32_atomic(self, offset, value, atomic_type):
        if offset == DR0:
            self.rx.append(0)


class Mcu:
    def __init__(self):
        self.qspi = [Pin(), Pin()]
        self.peripherals = {SSI_KEY: Ssi()}


class Emu:
    def __init__(self):
        self.mcu = Mcu()
        self.now_us = 0.0


def command(emu, data, t_us, answer=0):
    """Chip select low, `data` through DR0 (reading back each byte), chip select high, at
    emulated time t_us; the bytes read back."""
    emu.now_us = t_us
    window, ss = emu.mcu.peripherals[SSI_KEY], emu.mcu.qspi[1]
    ss.drive(0)
    out = []
    for b in data:
        window.write_uint32_atomic(DR0, b, 0)
        out.append(window.read_uint32(DR0))
    ss.drive(1)
    return out


def busy(emu, t_us):
    return bool(command(emu, [0x05, 0x00], t_us)[1] & 0x01)


def test_an_erase_keeps_busy_set_for_its_time():
    emu = Emu()
    fb = FlashBusy(emu)
    command(emu, [0x06], 100.0)                       # write enable
    command(emu, [0x20, 0x01, 0x00, 0x00], 200.0)     # sector erase
    assert fb.ops == [(200.0, "erase", ERASE_US[0x20])]
    assert busy(emu, 300.0)
    assert busy(emu, 200.0 + ERASE_US[0x20] - 1)
    assert not busy(emu, 200.0 + ERASE_US[0x20])


def test_a_page_program_and_a_block_erase():
    emu = Emu()
    fb = FlashBusy(emu)
    command(emu, [0x06], 0.0)
    command(emu, [0x02, 0x00, 0x10, 0x00] + [0x5A] * 256, 10.0)
    assert busy(emu, 10.0 + PROGRAM_US - 1) and not busy(emu, 10.0 + PROGRAM_US)
    command(emu, [0x06], 1000.0)
    command(emu, [0xD8, 0x01, 0x00, 0x00], 1010.0)
    assert [k for _t, k, _us in fb.ops] == ["program", "erase"]
    assert busy(emu, 1010.0 + ERASE_US[0xD8] - 1)


def test_without_write_enable_nothing_is_written_nor_busy():
    emu = Emu()
    fb = FlashBusy(emu)
    command(emu, [0x20, 0x01, 0x00, 0x00], 0.0)                   # no WREN
    command(emu, [0x06], 10.0)
    command(emu, [0x04], 20.0)                                     # WRDI
    command(emu, [0x20, 0x01, 0x00, 0x00], 30.0)
    command(emu, [0x06], 40.0)
    command(emu, [0x20, 0x01, 0x00], 50.0)                         # too short: not an erase
    assert fb.ops == [] and not busy(emu, 60.0)
    command(emu, [0x20, 0x01, 0x00, 0x00], 70.0)                   # the latch was kept for it
    command(emu, [0x20, 0x01, 0x00, 0x00], 80.0 + ERASE_US[0x20])  # and spent by it
    assert fb.ops == [(70.0, "erase", ERASE_US[0x20])]


def test_a_status_read_elsewhere_is_the_chips():
    # only a status read's answer is amended; a read of data during an erase is not
    emu = Emu()
    FlashBusy(emu)
    command(emu, [0x06], 0.0)
    command(emu, [0x20, 0x00, 0x00, 0x00], 10.0)
    assert command(emu, [0x03, 0x00, 0x00, 0x00, 0x00], 20.0) == [0, 0, 0, 0, 0]
