"""The display on MicroPython's real rp2 port (issue 20, item 7): the bytes the port's I2C
driver puts on the bus, decoded by the simulator's own SSD1306 / SH1106 model
(`headroom.rp2tier.oled`), show the level `status` reports, before and after a turn of
the knob, and the same pixels the simulator's run of the firmware draws for that state.

Every wait is for an event on the emulated board: playing (the mute relay, XSMT, the
fade-in's last frame), the display's bus quiet for longer than the firmware's look
interval (it has nothing left to send), a reply on the serial port.
"""
import pytest

from headroom.sim.models.oled import pages
from headroom.sim.rules_display import read_level

from .rp2kit import BOARDS

SE, BAL = "pico-se", "pico-balanced"
QUIET_MS = 150          # > the firmware's 100 ms look interval: the display is idle
TURNS = ((+6, 20), (-9, 100))   # detents, detents per second


def boards(*names):
    return pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.xdist_group(n))
                                            for n in names])


def _idle_view(b):
    """The panel once the display is idle: (its rows as lit, the level it shows)."""
    assert b.wait_display_quiet(QUIET_MS, until_us=b.now_us + 2e6) is not None, \
        "the display was still being sent to after 2 s"
    rows = b.call(b.display.lit)
    return rows, read_level(pages(rows))


def _same_view(a, b):
    """The same pixels, up to the burn-in shift (the view moves 0..3 columns sideways
    every four minutes, so the two runs may be a few columns apart)."""
    for dx in range(-3, 4):
        if all(bytes(ra[max(0, dx):128 + min(0, dx)]) == bytes(rb[max(0, -dx):128 + min(0, -dx)])
               for ra, rb in zip(a, b)):
            return True
    return False


def _diff(a, b):
    return sum(1 for ra, rb in zip(a, b) for x, y in zip(ra, rb) if x != y)


class _Sim:
    """The same board file on the CPython simulator, brought to the tier's level."""

    def __init__(self, name, volume):
        from headroom.sim.simboard import SimBoard
        self.b = SimBoard(BOARDS[name], keep_trace=False)
        self.b.power(True)
        self.b.run_ms(3500)
        # Slow detents are 0.5 dB each (faster ones are accelerated).
        self.turn(round((volume * 10 - self.view()[1][0]) / 5), 4)

    def turn(self, detents, rate):
        if detents:
            dur = self.b.turn(detents, rate=rate, at_us=self.b.now_us() + 1000)
            self.b.run_until(self.b.now_us() + dur + 300_000)
        else:
            self.b.run_ms(300)

    def view(self):
        rows = self.b.display.lit()
        return rows, read_level(pages(rows))

    def close(self):
        assert not self.b.sim.faults, self.b.sim.faults
        self.b.close()


def _tenths(volume):
    return int(round(volume * 10))


@boards(SE, BAL)
def test_the_display_shows_the_level_status_reports(tier, name, report):
    live = tier.live(name)
    b, c = live.board, live.console
    rows, shown = _idle_view(b)
    st = c.request("status")
    assert b.display.writes > 0, "nothing reached the display"
    assert not [f for f in st.get("faults", []) if "display" in f.lower()], st["faults"]
    assert shown is not None, "the panel shows no level view"
    assert shown[1] == "dBV" and not shown[2], shown
    assert shown[0] == _tenths(st["volume"]), (shown, st["volume"])
    sim = _Sim(name, st["volume"])
    try:
        srows, sshown = sim.view()
        figures = {"boot_shown_dbv": shown[0] / 10, "boot_status_dbv": st["volume"],
                   "heap_free_bytes": st["heap_free"],
                   "sim_same_pixels": [_same_view(rows, srows)], "writes": b.display.writes,
                   "bytes": b.display.bytes}
        assert sshown == shown, (sshown, shown)
        assert _same_view(rows, srows), "%d pixels differ from the simulator's" % _diff(rows, srows)
        for detents, rate in TURNS:
            before = st["volume"]
            marks = b.encoder.turn(detents, rate)
            b.run_until_us(marks[-1][0] + 50_000)
            rows, shown = _idle_view(b)
            st = c.request("status")
            sim.turn(detents, rate)
            srows, sshown = sim.view()
            figures.setdefault("turns", []).append(
                {"detents": detents, "per_s": rate, "status_dbv": st["volume"],
                 "shown_dbv": shown and shown[0] / 10, "sim_dbv": sshown and sshown[0] / 10})
            figures["sim_same_pixels"].append(_same_view(rows, srows))
            assert (st["volume"] - before) * detents > 0, (before, detents, st["volume"])
            assert shown is not None and shown[0] == _tenths(st["volume"]), (shown, st["volume"])
            assert sshown == shown, (sshown, shown)
            assert _same_view(rows, srows), "%d pixels differ from the simulator's" % _diff(rows, srows)
        # The level the turns left is saved (the controls still for save_delay_ms): the
        # board goes to the next test settled, with no save pending (one allocates).
        t_turned = b.now_us
        delay = b.spec["controls"]["save_delay_ms"] * 1000.0
        saved = b.wait(lambda: any(t > t_turned and kind == "program" for t, kind, _us in list(b.flash.ops)),
                       until_us=t_turned + delay + 2e6, what="the settings save")
        figures["saved_ms_after_turn"] = round((next(t for t, kind, _us in b.flash.ops
                                                      if t > t_turned and kind == "program")
                                                 - t_turned) / 1000) if saved else None
        assert saved, "no settings save within %d ms of the turn" % (delay / 1000 + 2000)
    finally:
        sim.close()
        report("display", board=name, **figures)
    assert b.faults == []
