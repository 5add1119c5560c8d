"""The rp2 tier's display target (headroom.rp2tier.oled): the simulator's chip model fed
one I2C transaction at a time, as the emulated bus hands the bytes over; misuse lands in
the board's faults (which fail the tier's test) instead of being drawn."""
from headroom.rp2tier.oled import OledTarget


class _Board:
    now_us = 1500.0

    def __init__(self):
        self.faults = []

    def fault(self, t, message):
        self.faults.append((t, message))


def _send(target, data):
    target.start("w")
    for x in data:
        assert target.write(x) is True          # the chip ACKs every byte
    target.stop()


def test_transactions_reach_the_model_and_light_the_panel():
    b = _Board()
    t = OledTarget(b, "ssd1306", 0x3C)
    for cmd in (0x8D, 0x14, 0xA1, 0xC8, 0xAF):   # micropython-lib: [0x80, cmd] each
        _send(t, [0x80, cmd])
    _send(t, [0x00, 0x21, 0, 127, 0x22, 0, 0])   # the firmware's window, then a span
    _send(t, [0x40, 0xFF])
    assert b.faults == []
    assert t.writes == 7 and t.last_us == 1500.0
    rows = t.lit()
    assert [rows[y][0] for y in range(8)] == [1] * 8 and rows[8][0] == 0 and rows[0][1] == 0
    t.start("r")
    assert t.read() == 0x00                      # status: display on


def test_misuse_is_a_board_fault_and_the_next_write_starts_afresh():
    b = _Board()
    t = OledTarget(b, "ssd1306", 0x3C)
    _send(t, [0x80, 0xAF])                       # on, with the charge pump never enabled
    assert len(b.faults) == 1 and "charge pump" in b.faults[0][1], b.faults
    _send(t, [0x80, 0x81])                       # contrast waits for its parameter...
    _send(t, [0x40, 1, 2])                       # ...and gets display data
    assert len(b.faults) == 2 and "waits for 1 parameter" in b.faults[1][1], b.faults
    _send(t, [0x80, 0xA7])                       # a command again (inverse), not the parameter
    assert len(b.faults) == 2 and t.model.invert and t.model.contrast == 0x7F


def test_an_sh1106_rejects_the_ssd1306_window():
    b = _Board()
    t = OledTarget(b, "sh1106", 0x3C)
    _send(t, [0x00, 0x21, 0, 127])
    assert len(b.faults) == 1 and "SSD1306 command" in b.faults[0][1], b.faults
    _send(t, [0x00, 0xB1, 0x02, 0x10])           # page 1, column 2: the panel's first
    _send(t, [0x40, 0x81])
    assert t.model.ram[132 + 2] == 0x81 and len(b.faults) == 1
