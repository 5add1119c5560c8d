"""Ctrl-C leaves a usable REPL (issue 17.6).

rp2's machine.WDT cannot be stopped through its API and a soft reset leaves it counting;
the firmware clears WATCHDOG_CTRL.ENABLE itself (headroom_fw/watchdog.py) once the
outputs are quiet after a KeyboardInterrupt, and boot.py does after every reset. The
simulator's watchdog follows the RP2040's: it counts through Ctrl-C and soft resets until
ENABLE is cleared, feed() does not start a stopped one, machine.WDT() does.
"""
import machine
import pytest

from helpers import BALANCED, SE, until_playing
from helpers import playing as _playing

CTRL = 0x40058000
ENABLE = 1 << 30


def playing(path=SE):
    b = _playing(path)
    b.sim.cpu_enter()   # the test's own machine calls are typed at this board's REPL
    return b


@pytest.mark.parametrize("path", [SE, BALANCED])
def test_after_ctrl_c_the_board_stays_in_the_repl(path):
    b = playing(path)
    assert machine.mem32[CTRL] & ENABLE   # the firmware's watchdog counts
    b.interrupt()                          # mpremote connecting: KeyboardInterrupt
    assert not machine.mem32[CTRL] & ENABLE
    b.run_ms(60000)                        # a minute at the REPL: nobody feeds it
    assert b.sim.resets == 0 and b.sim.mcu_powered and b.app is None
    # mpremote's soft reset (raw REPL: main.py does not run), another minute
    b.soft_reset(main=False)
    b.run_ms(60000)
    assert b.sim.resets == 0 and b.app is None
    assert b.jack.levels == (None, None) and not b.relays["mute"].energized
    b.close()


def test_a_soft_reset_from_a_repl_with_the_watchdog_running_stops_it():
    """However the REPL got the board with the watchdog counting (an exception out of the
    main loop: the watchdog restarts the firmware then), a soft reset's boot.py stops it,
    as a hard reset does: the raw REPL is the user's."""
    b = playing()
    fw = b.sim.app
    b.sim.app = None                       # the main loop ended: nothing feeds it
    fw.quiet()
    b.soft_reset(main=False)
    b.run_ms(10000)
    assert b.sim.resets == 0 and not machine.mem32[CTRL] & ENABLE
    b.close()


def test_the_firmware_starts_it_again_after_ctrl_d():
    b = playing()
    b.interrupt()
    b.soft_reset(main=True)                # Ctrl-D at the friendly REPL: main.py runs
    until_playing(b)
    assert machine.mem32[CTRL] & ENABLE
    b.app.wdt.feed = lambda: None          # and it still bites when not fed
    b.run_ms(2500)
    assert b.sim.resets == 1
    b.close()


def test_an_exception_out_of_the_loop_leaves_the_watchdog_to_restart_it():
    """Only Ctrl-C stops it: anything else that ends the main loop is left to the
    watchdog, which starts the firmware again."""
    from headroom_fw import lifecycle

    b = playing()
    fw = b.sim.app

    class Broken:
        waker = fw.waker

        def step(self):
            raise MemoryError("out of the loop")

        def quiet(self):
            fw.quiet()

    b.sim.app = None
    b.sim.in_firmware += 1
    try:
        with pytest.raises(MemoryError):
            lifecycle.run(Broken())
    finally:
        b.sim.in_firmware -= 1
    assert machine.mem32[CTRL] & ENABLE
    b.run_ms(2500)
    assert b.sim.resets == 1
    b.close()


def test_run_stops_it_on_keyboard_interrupt_only_once_quiet():
    """lifecycle.run itself (SimBoard.interrupt calls the same `interrupted`): the
    KeyboardInterrupt out of a pass goes quiet in order, then stops the watchdog."""
    from headroom_fw import lifecycle

    b = playing()
    fw = b.sim.app
    seen = []

    class Interrupted:
        waker = fw.waker

        def step(self):
            raise KeyboardInterrupt

        def quiet(self):
            seen.append(bool(machine.mem32[CTRL] & ENABLE))
            fw.quiet()

    b.sim.app = None
    b.sim.in_firmware += 1
    try:
        with pytest.raises(KeyboardInterrupt):
            lifecycle.run(Interrupted())
    finally:
        b.sim.in_firmware -= 1
    assert seen == [True]                  # still counting while it went quiet
    b.run_ms(10000)
    assert b.sim.resets == 0 and b.jack.levels == (None, None)
    assert not b.relays["mute"].energized
    b.close()
