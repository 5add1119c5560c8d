"""Standby and the 12 V trigger (controller.set_standby, the board's `trigger`): the
trigger drops first, then the outputs mute in order and every relay is released; a
touch, the remote or the host wakes it through the muted start to the level it had; the
trigger rises its delay after the outputs play. Under the trace checker throughout."""
import pytest

from helpers import BALANCED, SE, ask, board_variant, no_display, watched

POWER = ("nec", 0x00, 0x45)      # the kit remote's POWER: standby


def key(b, k, hold_ms=0):
    b.run_us(b.ir(*k, hold_ms=hold_ms) + 300000)


def test_standby_drops_the_trigger_then_mutes_in_order_and_releases_every_relay():
    b, c, pins = watched(no_display(BALANCED))
    bd = b.board
    assert ask(b, "set gain high")["ok"] and ask(b, "set output balanced")["ok"]
    b.run_ms(3000)
    s = ask(b, "status")
    assert s["trigger"] is True and b.gain_relay.energized and b.output_relay.energized
    v = s["volume"]
    n = len(pins)
    key(b, POWER)
    b.run_ms(bd.trigger_delay_ms + 500)
    s = ask(b, "status")
    assert (s["phase"], s["standby"], s["trigger"]) == ("standby", True, False)
    assert b.jack.levels == (None, None)
    assert not b.gain_relay.energized and not b.output_relay.energized
    assert not b.mute_relay.energized
    muting = (bd.trigger_pin, bd.dac_xsmt, bd.pga_mute, bd.mute_relay.pin)
    moves = [(t, p, lv) for t, p, lv in pins[n:] if p in muting]
    order = [p for _, p, _ in moves]
    # The trigger first, its delay ahead of the DAC's soft mute; then PGA2311, mute relay.
    assert order[:4] == [bd.trigger_pin, bd.dac_xsmt, bd.pga_mute, bd.mute_relay.pin]
    assert moves[1][0] - moves[0][0] >= bd.trigger_delay_ms * 1000
    # Woken by a turn: the muted start, the same level, the trigger its delay after.
    b.run_us(b.turn(1))
    b.run_ms(bd.settle_ms + 3000 + bd.trigger_delay_ms)
    s = ask(b, "status")
    assert (s["phase"], s["standby"], s["trigger"], s["volume"]) == ("playing", False, True, v)
    assert b.gain_relay.energized and b.output_relay.energized
    c.finish(b.now_us())
    assert c.ok(), c.report()


@pytest.mark.parametrize("wake", ["press", "remote", "host"])
def test_a_press_the_remote_or_the_host_wakes_it(wake):
    b, c, _ = watched(no_display(SE))
    assert ask(b, "set standby on")["standby"] is True
    b.run_ms(2000)
    assert ask(b, "status")["phase"] == "standby"
    if wake == "press":
        b.press(True)
        b.run_ms(150)
        b.press(False)
    elif wake == "remote":
        key(b, POWER)
    else:
        assert ask(b, "set standby off")["standby"] is False
    b.run_ms(6000)
    s = ask(b, "status")
    assert s["phase"] == "playing" and s["trigger"] and not s["mute"]
    c.finish(b.now_us())
    assert c.ok(), c.report()


def test_a_faulty_part_drops_the_trigger_with_the_outputs():
    b, c, _ = watched(no_display(BALANCED))
    b.run_ms(1500)
    assert ask(b, "status")["trigger"] is True
    b.fault("dac", True)
    b.run_ms(3000)
    assert ask(b, "status")["trigger"] is False
    b.fault("dac", False)
    b.run_ms(6000)
    assert ask(b, "status")["trigger"] is True
    c.finish(b.now_us())
    assert c.ok(), c.report()


def _no_delay(d):
    d["name"] += "-trigger-now"
    d["trigger"]["delay_ms"] = 0


def test_without_a_delay_the_trigger_follows_the_outputs_at_once():
    b, c, pins = watched(no_display(board_variant(SE, _no_delay)))
    assert ask(b, "status")["trigger"] is True
    n = len(pins)
    ask(b, "set standby on")
    b.run_ms(500)
    bd = b.board
    order = [p for _, p, _ in pins[n:] if p in (bd.trigger_pin, bd.dac_xsmt, bd.pga_mute)]
    assert order[0] == bd.trigger_pin and ask(b, "status")["phase"] == "standby"
    c.finish(b.now_us())
    assert c.ok(), c.report()


def test_the_checker_sees_a_trigger_left_high_in_standby():
    """The rule can fire: a firmware that kept the trigger up in standby breaks it."""
    b, c, _ = watched(no_display(SE))
    b.run_ms(1500)
    ctl = b.app.ctl
    real = ctl.set_standby

    def keeps_it(on, now):
        real(on, now)
        if on:
            ctl.trigger = True
    ctl.set_standby = keeps_it
    ask(b, "set standby on")
    b.run_ms(3000)
    c.finish(b.now_us())
    assert [v[1] for v in c.violations] == ["trigger-late"]


def test_the_checker_sees_a_trigger_that_rises_before_its_delay():
    b, c, _ = watched(no_display(SE))
    ctl = b.app.ctl
    assert not ctl.trigger     # the fade-in is over, the delay (1 s) not yet
    real = ctl.tick

    def early(now):
        real(now)
        ctl.trigger = True
    ctl.tick = early
    b.run_ms(100)
    c.finish(b.now_us())
    assert [v[1] for v in c.violations] == ["trigger-early"]
