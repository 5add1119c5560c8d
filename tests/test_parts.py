"""The firmware's parts (part.py): one interface, a declared policy and a declared budget.

A part that is not critical (a display, a remote receiver) is reported in `status` and
retried and never mutes the amplifier; a critical one mutes while it stands. Each part
declares what its share of a pass may take (BUDGET_US): measured here on the cost
model's clock, and their sum kept within the pass's budget for parts.
"""
import pytest

from headroom.sim.simboard import SimBoard
from headroom_fw.part import Part

from helpers import BALANCED, SE, ask, board_variant, until_playing


class Display(Part):
    """A test part that stops answering when told: a display on the I2C bus, say."""
    NAME = "display"
    CRITICAL = False
    BUDGET_US = 10
    RETRY_US = 10

    def __init__(self):
        Part.__init__(self)
        self.broken = False
        self.checks = 0
        self.quieted = 0

    def check(self, now):
        self.checks += 1
        if self.broken:
            self.sup.fault(self, "display: no answer from the SSD1306 at 0x3C on I2C0", now)
        elif self.fault is not None:
            self.sup.fault(self, None, now)

    def quiet(self):
        self.quieted += 1


class CriticalDisplay(Display):
    CRITICAL = True
    FAULT = 1 << 8     # a controller fault bit of its own


def playing_with(part, path=SE):
    b = SimBoard(path)
    b.power(True)
    until_playing(b)
    app = b.app
    app.sup.add(part)
    part.start(b.sim.clock.ticks_ms())
    b.run_ms(200)
    return b


def test_a_part_that_is_not_critical_is_reported_and_never_mutes():
    part = Display()
    b = playing_with(part)
    level = b.jack.levels
    assert level[0] is not None
    part.broken = True
    b.run_ms(2000)
    s = ask(b, "status")
    assert s["faults"] == ["display: no answer from the SSD1306 at 0x3C on I2C0"]
    assert s["phase"] == "playing" and b.jack.levels == level   # the music plays on
    assert part.checks > 100                                   # checked every pass
    assert "fault: display" in ask(b, "log")["log"]
    part.broken = False
    b.run_ms(200)
    assert ask(b, "status")["faults"] == []
    assert "cleared: display" in ask(b, "log")["log"]
    b.sim.cpu_enter()                  # the test's own call runs as this board's code
    b.app.quiet()                      # the stop path quiets it after the amplifier
    assert part.quieted == 1


def test_the_same_part_declared_critical_mutes_while_it_stands():
    part = CriticalDisplay()
    b = playing_with(part)
    part.broken = True
    b.run_ms(2000)
    s = ask(b, "status")
    assert s["phase"] == "held" and b.jack.levels == (None, None)
    assert s["faults"] == ["display: no answer from the SSD1306 at 0x3C on I2C0"]
    part.broken = False
    b.run_ms(3000)
    assert ask(b, "status")["phase"] == "playing" and b.jack.levels[0] is not None


def _sensed(d):
    d["name"] = d["name"] + "-parts-sensed"
    d["relays"]["gain"]["sense"] = 6   # free on pico-se, as test_relay_sense.py uses it
    d["relays"]["mute"]["sense"] = 3


SENSED = board_variant(SE, _sensed)


@pytest.mark.parametrize("path,faults", [(SE, ("pga",)), (BALANCED, ("dac", "pga")),
                                         (BALANCED, ("i2c",)), (SENSED, ())],
                         ids=["se-pga-reset", "balanced-dac-and-pga", "balanced-i2c-stuck",
                              "se-relay-sense"])
def test_each_parts_check_keeps_within_its_declared_budget(path, faults):
    """Each part's check() on the cost model's clock, over boots, plays and retries of
    faulty parts, never takes more than the part declares: BUDGET_US while it answers,
    RETRY_US while it is faulty (or turns so); and the answering budgets together stay
    within part.PASS_BUDGET_US."""
    from headroom_fw.part import PASS_BUDGET_US
    b = SimBoard(path)
    b.power(True)
    until_playing(b)
    app = b.app
    worst = {}
    logged = [0]   # a log line is the log's cost (a flash write, once per event), not the part's

    def log_timed(line, append=app.log.append):
        t = b.sim.clock.now_us
        try:
            return append(line)
        finally:
            logged[0] += b.sim.clock.now_us - t
    app.log.append = log_timed
    for p in app.sup.parts:
        def timed(now, p=p, check=p.check):
            t = b.sim.clock.now_us
            irq = b.sim.irq_us          # the IRQs' time that lands in it is theirs
            logged[0] = 0
            was = p.fault
            check(now)
            key = (p.NAME, "retry" if was is not None or p.fault is not None else "check")
            own = b.sim.clock.now_us - t - logged[0] - (b.sim.irq_us - irq)
            worst[key] = max(worst.get(key, 0), own)
        p.check = timed
    # The remote's receiver at its busiest: a key held (frames every 108 ms, mapped to
    # nothing) and a lamp's glitches, all the while.
    b.ir_noise(200)
    b.ir("nec", 0x10, 0x20, hold_ms=10000)
    for what in faults:
        b.fault(what, True)
    b.run_ms(5000)
    for what in faults:
        b.fault(what, False)
    b.run_ms(5000)
    declared = {}
    for p in app.sup.parts:
        declared[(p.NAME, "check")] = p.BUDGET_US
        declared[(p.NAME, "retry")] = p.RETRY_US
    for key, us in worst.items():
        assert us <= declared[key], (key, us, declared[key])
    assert sum(p.BUDGET_US for p in app.sup.parts) <= PASS_BUDGET_US
    assert app.sup.budget_us() == sum(p.BUDGET_US for p in app.sup.parts)
