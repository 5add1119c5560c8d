"""The display as a part on the simulated board: not critical (a display that does not
answer is reported and retried, the music plays on), dimming, dark mode and the burn-in
shift, as the OLED model lights the panel."""
from headroom.sim.rules_display import read_level

from helpers import BALANCED, SE, ask, playing


def _img(b):
    return b.display.lit_pages()


def _idle(b, within_ms=1000):
    """Run until the display has sent its frame (an event: its part no longer busy)."""
    for _ in range(within_ms):
        b.run_ms(1)
        if not b.app.display.busy:
            b.run_ms(20)       # a pass has looked at the state since
            if not b.app.display.busy:
                return
    raise AssertionError("the display still sends after %d ms" % within_ms)


def test_an_absent_display_is_reported_retried_and_never_mutes():
    b = playing(SE)
    try:
        level = b.jack.levels
        b.fault("display", True)
        b.turn(+2)
        b.run_ms(3000)
        st = ask(b, "status")
        assert st["phase"] == "playing" and b.jack.levels[0] > level[0]   # it plays on, louder
        assert st["faults"] == ["display: no answer from the SSD1306 at 0x3C on I2C0 (GP4 SDA, "
                                "GP5 SCL) (no acknowledge): check its wiring and its 3.3 V supply"]
        b.fault("display", False)
        b.run_ms(2500)          # the next retry (every 2 s) finds it
        _idle(b)
        assert ask(b, "status")["faults"] == []
        shown = read_level(_img(b))
        assert shown is not None and abs(shown[0] * 10 - b.jack.levels[0]) < 50
        assert "cleared: display" in b.app.log.text()
    finally:
        b.close()


def test_a_stuck_bus_of_its_own_costs_the_display_not_the_music():
    b = playing(SE)
    try:
        b.fault("i2c", True)    # pico-se: the display's own bus (GP4 held low)
        b.turn(-2)
        b.run_ms(3000)
        st = ask(b, "status")
        assert st["phase"] == "playing"
        assert st["faults"][0].startswith("display: no answer from the SSD1306") \
            and "(time-out)" in st["faults"][0]
    finally:
        b.close()


def test_it_dims_after_the_timeout_and_a_turn_brings_it_back():
    b = playing(SE)
    try:
        assert ask(b, "set display_timeout_s 5")["ok"]
        _idle(b)
        bright = b.display.contrast
        b.run_ms(5200)
        assert b.display.on and b.display.contrast < bright      # dimmed, still lit
        b.turn(+1)
        b.run_ms(200)
        assert b.display.contrast == bright
    finally:
        b.close()


def test_dark_mode_shows_the_level_for_a_moment_on_a_turn():
    b = playing(BALANCED)
    try:
        assert ask(b, "set display_dark 1")["ok"] or ask(b, "set display_dark on")["ok"]
        b.run_ms(4500)
        assert not b.display.on                                  # dark
        b.turn(+1)
        b.run_ms(300)
        assert b.display.on                                      # the level, for a moment
        _idle(b)
        shown = read_level(_img(b))
        assert shown is not None and abs(shown[0] * 10 - b.jack.levels[0]) < 50
        b.run_ms(4500)
        assert not b.display.on
    finally:
        b.close()


def test_the_view_moves_a_pixel_every_four_minutes():
    b = playing(SE)
    try:
        assert ask(b, "set display_timeout_s 0")["ok"]           # never dims: compare lit
        _idle(b)
        before = _img(b)
        b.run_ms(240500)
        _idle(b)
        after = _img(b)
        assert before != after
        # The same view, one column to the right.
        assert all(after[p * 128 + x + 1] == before[p * 128 + x]
                   for p in range(8) for x in range(120))
    finally:
        b.close()


def _spi_display(d):
    """pico-se with its SSD1306 on SPI1 (GP14 SCK, GP15 MOSI): the gain relay goes, the
    mute relay moves to GP24 (the test board of test_board.py's SPI case)."""
    d["name"] = "pico-se-spi-display"
    del d["relays"]["gain"]
    d["analog"]["gain_high_db"] = 0.0
    d["relays"]["mute"]["pin"] = 24
    d["display"] = {"chip": "ssd1306", "spi": {"id": 1, "sck": 14, "mosi": 15, "cs": 9,
                                               "dc": 8, "res": 6}}


def test_an_ssd1306_on_spi_shows_the_level_as_on_i2c():
    from helpers import board_variant
    b = playing(board_variant(SE, _spi_display))
    try:
        _idle(b)
        shown = read_level(_img(b))
        assert shown is not None and abs(shown[0] * 10 - b.jack.levels[0]) < 50
        b.turn(-3)
        b.run_ms(300)
        _idle(b)
        shown = read_level(_img(b))
        assert abs(shown[0] * 10 - b.jack.levels[0]) < 50
        assert ask(b, "status")["faults"] == []
    finally:
        b.close()


def test_the_menu_is_loaded_by_the_long_press_that_opens_it():
    """Its code stays out of the heap until then (app.LazyMenu): closed, it reads closed."""
    b = playing(SE)
    try:
        menu = b.app.menu
        assert menu._m is None and not menu.open and menu.changes == 0
        b.press(True)
        b.run_ms(b.board.long_press_ms + 100)
        b.press(False)
        b.run_ms(100)
        assert menu._m is not None and menu.open and menu.title() == "MENU"
    finally:
        b.close()
