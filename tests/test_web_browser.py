"""The web remote's page (firmware/headroom_fw/www/index.html) in a real browser: Debian's
Chromium driven by Playwright, against the simulated Pico W's server on 127.0.0.1.

The board runs in a thread of its own, paced to wall time (the browser's timers and the
EventSource's reconnects are wall-clock ones); a test touches the board only while it
holds the board's lock. One browser for the module; every wait is on an event (the page's
text, the board's reply), never a guessed sleep.

HEADROOM_WEB_PICTURES=DIR (`make web-pictures`) also saves the pairing screen and the main
screen as DIR/pairing.png and DIR/main.png (the README's pictures).

The last test opens the page the virtual board serves (the firmware on the MicroPython
Unix port, `headroom flash` having put the page on it): the same page, pairing with the
code `headroom wifi` gives, + and a knob turn on its control socket seen both ways.
"""
import json
import os
import re
import threading
import time

import pytest
from webkit import join

from helpers import ask, booted, until_playing

CHROMIUM = "/usr/bin/chromium"
BOARD = "boards/pico-w-balanced.json"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PHONE = {"width": 390, "height": 844}   # a phone's viewport, in CSS pixels
WAIT_MS = 20000   # an upper bound on each wait for the page (a loaded machine paces the board slower)
PICTURES = os.environ.get("HEADROOM_WEB_PICTURES")

try:
    from playwright.sync_api import expect, sync_playwright
except ImportError:  # pragma: no cover - the venv has it (requirements.txt)
    sync_playwright = None

PAGE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                    "firmware", "headroom_fw", "www", "index.html")


def test_the_page_is_one_small_file_that_needs_nothing_else():
    """At most 8 KB (the board sends it 1,460 bytes a pass), nothing fetched from elsewhere
    (a home network without the internet): no src, no href, no URL, no @import."""
    with open(PAGE, "rb") as f:
        page = f.read()
    assert len(page) <= 8192, len(page)
    assert not re.search(rb"(src|href)\s*=|https?:|//[a-z]|@import|url\(", page, re.I)


_LIVE = []   # the module's LiveBoards: they run only while one of its tests does


@pytest.fixture(autouse=True)
def _live_boards_run_in_this_modules_tests_only():
    """A module-scoped board outlives a test, and a worker may run another module's test
    before this module's next (pytest-xdist's work stealing): a board running in its
    thread meanwhile would share the simulator's one `world.running` with that test's
    board, and either's firmware found no board running (RuntimeError in a pass: seen
    under load). So the thread runs the board only while a test of this module does."""
    for lb in _LIVE:
        lb.go.set()
    yield
    for lb in _LIVE:
        lb.pause()


class LiveBoard:
    """A simulated board run in a thread at wall-clock pace; `lock` guards every touch."""

    def __init__(self, b):
        self.b = b
        self.lock = threading.Lock()
        self.go = threading.Event()     # set while a test of this module runs
        self.go.set()
        self._stop = threading.Event()
        self.error = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        _LIVE.append(self)
        self.thread.start()

    def pause(self):
        """Stop running the board (at once: the lock is taken once the thread let go)."""
        self.go.clear()
        with self.lock:
            pass

    def _run(self):
        b = self.b
        t0 = time.monotonic()
        s0 = b.now_us()
        try:
            while not self._stop.is_set():
                if not self.go.wait(0.05):
                    continue
                with self.lock:
                    if not self.go.is_set():
                        continue
                    b.run_ms(5)
                    now = time.monotonic()
                    ahead = (b.now_us() - s0) / 1e6 - (now - t0)
                    if not -0.5 < ahead < 0.02:
                        # A test ran the board under the lock (ask: 100 ms at once), or
                        # this thread was starved: the pace starts again from here, never
                        # a wait (or a burst) to make up for it.
                        t0, s0, ahead = now, b.now_us(), 0
                if ahead > 0:
                    time.sleep(ahead)
        except Exception as e:  # noqa: BLE001 - said by the next test that looks
            self.error = e

    def stop(self):
        self._stop.set()
        self.go.set()
        self.thread.join(5)
        if self in _LIVE:
            _LIVE.remove(self)

    def ask(self, line):
        assert self.error is None, self.error
        with self.lock:
            try:
                return ask(self.b, line)
            except AssertionError as e:
                # What the board was doing: its crashes, faults and log.
                import os
                log = os.path.join(self.b.flash_dir, "headroom.log")
                text = open(log).read()[-1500:] if os.path.exists(log) else ""
                raise AssertionError("%s; crashes %r, faults %r, log: %s" % (
                    e, self.b.sim.crashes, self.b.sim.faults, text))


@pytest.fixture(scope="module")
def live():
    if sync_playwright is None:
        pytest.skip("no playwright in the venv: `make` installs requirements.txt")
    if not os.path.exists(CHROMIUM):
        pytest.skip("no Chromium: `make browser` installs Debian's chromium")
    b = booted(BOARD)
    until_playing(b)
    url = join(b)
    board = LiveBoard(b)
    try:
        with sync_playwright() as pw:
            # A plain launch: a fresh profile of its own, removed when it closes.
            browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
            try:
                yield board, browser, url
            finally:
                browser.close()
    finally:
        board.stop()


def new_page(browser):
    """A page in a context of its own (its own cookies: a phone never paired)."""
    ctx = browser.new_context(viewport=PHONE)
    ctx.set_default_timeout(WAIT_MS)
    return ctx, ctx.new_page()


def pair(board, page, url):
    page.goto(url)
    expect(page.locator("#pair")).to_be_visible()
    page.get_by_role("button", name="Show a code on the amplifier").click()
    expect(page.locator("#where")).to_contain_text("The code is shown")
    code = board.ask("wifi")["wifi"]["pairing_code"]
    assert re.fullmatch(r"\d{6}", code), code
    page.locator("#code").fill(code)
    page.get_by_role("button", name="Pair", exact=True).click()
    expect(page.locator("#main")).to_be_visible()
    expect(page.locator("#link")).to_have_text("live")


@pytest.fixture(scope="module")
def paired(live):
    board, browser, url = live
    board.go.set()   # set up inside a test, before its autouse fixture runs the board
    ctx, page = new_page(browser)
    pair(board, page, url)
    yield board, page
    ctx.close()


def level(page):
    return float(page.locator("#lvl").inner_text())


def test_a_new_phone_sees_the_pairing_panel_and_pairs(live):
    board, browser, url = live
    ctx, page = new_page(browser)
    try:
        page.goto(url)
        expect(page.locator("#pair")).to_be_visible()
        expect(page.locator("#main")).to_be_hidden()
        code = page.locator("#code")
        assert code.get_attribute("inputmode") == "numeric"
        assert code.get_attribute("autocomplete") == "one-time-code"
        if PICTURES:
            os.makedirs(PICTURES, exist_ok=True)
            page.locator("body").screenshot(path=os.path.join(PICTURES, "pairing.png"))
        # A wrong code is refused in words; the right one pairs.
        page.get_by_role("button", name="Show a code on the amplifier").click()
        expect(page.locator("#where")).to_contain_text("The code is shown")
        right = board.ask("wifi")["wifi"]["pairing_code"]
        code.fill("%06d" % ((int(right) + 1) % 1000000))
        page.get_by_role("button", name="Pair", exact=True).click()
        expect(page.locator("#msg")).not_to_be_empty()
        expect(page.locator("#pair")).to_be_visible()
        code.fill(right)
        page.get_by_role("button", name="Pair", exact=True).click()
        expect(page.locator("#main")).to_be_visible()
        assert board.ask("wifi")["wifi"]["devices"] >= 1
    finally:
        ctx.close()


def test_plus_raises_the_level_on_the_page_and_at_the_board(paired):
    board, page = paired
    before = board.ask("get volume")["volume"]
    shown = level(page)
    page.locator("button[data-v='0.5']").click()
    expect(page.locator("#lvl")).to_have_text("%.1f" % (shown + 0.5))
    assert board.ask("get volume")["volume"] == before + 0.5
    page.locator("button[data-v='-2']").click()
    expect(page.locator("#lvl")).to_have_text("%.1f" % (shown - 1.5))
    assert board.ask("get volume")["volume"] == before - 1.5


def test_the_page_follows_the_knob(paired):
    board, page = paired
    shown = level(page)
    before = board.ask("get volume")["volume"]
    with board.lock:
        board.b.turn(3, rate=2.0)   # slow: 0.5 dB a detent
    for _ in range(200):
        after = board.ask("get volume")["volume"]
        if after == before + 1.5:
            break
        time.sleep(0.02)
    assert after == before + 1.5
    expect(page.locator("#lvl")).to_have_text("%.1f" % (shown + 1.5))


def test_mute_toggles_from_the_page(paired):
    board, page = paired
    page.locator("#mute").click()
    expect(page.locator("#mute")).to_contain_text("Muted")
    assert board.ask("get mute")["mute"] is True
    page.locator("#mute").click()
    expect(page.locator("#mute")).to_have_text("Mute")
    assert board.ask("get mute")["mute"] is False


def test_a_limit_raise_from_the_page_is_refused_in_words(paired):
    board, page = paired
    reply = page.evaluate("hr.cmd('set limit -20')")
    assert reply["ok"], reply
    assert board.ask("get limit")["limit"] == -20
    expect(page.locator("#lim")).to_contain_text("-20.0")
    reply = page.evaluate("hr.cmd('set limit 0')")
    assert not reply["ok"]
    expect(page.locator("#msg")).to_contain_text("long press")
    assert board.ask("get limit")["limit"] == -20
    # The page's own + asks the same way, and is refused the same way.
    page.evaluate("document.getElementById('msg').textContent = ''")
    page.locator("button[data-l='0.5']").click()
    expect(page.locator("#msg")).to_contain_text("long press")


def test_a_stale_nonce_is_renewed_once(paired):
    """The board forgets nonces (eight outstanding, the oldest dropped): the page asks
    for a fresh one and sends the command again."""
    board, page = paired
    for _ in range(9):
        board_state = page.evaluate("fetch('/api/state').then(r => r.status)")
        assert board_state == 200
    mute = board.ask("get mute")["mute"]
    page.locator("#mute").click()
    expect(page.locator("#mute")).to_contain_text("Muted" if not mute else "Mute")
    assert board.ask("get mute")["mute"] is (not mute)
    page.locator("#mute").click()
    expect(page.locator("#msg")).to_be_empty()


def test_a_known_headphone_shows_db_spl(paired):
    """The level in dB SPL once the board knows the headphone (as its display), dBV beside."""
    board, page = paired
    assert board.ask("set headphone 300 97 dB/mW HD 600")["ok"]
    expect(page.locator("#unit")).to_have_text("dB SPL")
    expect(page.locator("#hp")).to_have_text("HD 600")
    spl = board.ask("get spl")["spl"]
    expect(page.locator("#lvl")).to_have_text("%.1f" % spl)
    expect(page.locator("#alt")).to_contain_text("dBV")
    if PICTURES:
        page.evaluate("document.getElementById('msg').textContent = ''")
        page.locator("body").screenshot(path=os.path.join(PICTURES, "main.png"))


def test_a_fault_is_named_on_the_page(paired):
    """Faults come from `status` (the page asks when it opens, and every 15 s)."""
    board, page = paired
    with board.lock:
        board.b.fault("display")
    for _ in range(100):
        faults = board.ask("status")["faults"]
        if faults:
            break
    assert faults
    page.reload()
    expect(page.locator("#faults")).to_contain_text(faults[0])
    expect(page.locator("#link")).to_have_text("live")
    with board.lock:
        board.b.fault("display", False)


def test_the_page_on_the_virtual_pico_w(live, tmp_path):
    """The page from the MicroPython VM's server: pairs, + reaches `headroom status`, a
    turn on the control socket reaches the page live."""
    from test_vboard import VBoard, needs_tools
    from test_vboard_web import PICO_W, headroom, wifi, wifi_until
    if needs_tools.args[0]:
        pytest.skip(needs_tools.kwargs["reason"])
    _, browser, _ = live
    vb = VBoard(tmp_path / "flash.img", board=PICO_W)
    try:
        url = vb.proc.stdout.readline().decode().strip()   # the third line: the page
        rc, out, err = headroom("flash", "--board", PICO_W, "--port", vb.path)
        assert rc == 0, out + err
        rc, out, err = headroom("wifi", "set", "home", "--port", vb.path, stdin="a good key\n")
        assert rc == 0, err
        wifi_until(vb.path, lambda w: w["state"] == "up")
        ctx, page = new_page(browser)
        ctx.set_default_timeout(20000)   # a VM at a board's pace, beside a busy suite
        try:
            page.goto(url)
            expect(page.locator("#pair")).to_be_visible()
            page.get_by_role("button", name="Show a code on the amplifier").click()
            expect(page.locator("#where")).to_contain_text("The code is shown")
            page.locator("#code").fill(wifi(vb.path)["pairing_code"])
            page.get_by_role("button", name="Pair", exact=True).click()
            expect(page.locator("#link")).to_have_text("live")
            shown = level(page)
            page.locator("button[data-v='0.5']").click()
            expect(page.locator("#lvl")).to_have_text("%.1f" % (shown + 0.5))
            rc, out, err = headroom("status", "--json", "--port", vb.path, timeout=60)
            assert rc == 0, err
            volume = json.loads(out)["volume"]
            expect(page.locator("#unit")).to_have_text("dBV")   # no headphone set
            assert volume == shown + 0.5
            assert vb.control("turn -2") == "ok"
            expect(page.locator("#lvl")).not_to_have_text("%.1f" % (shown + 0.5))
            rc, out, err = headroom("status", "--json", "--port", vb.path, timeout=60)
            assert rc == 0, err
            after = json.loads(out)["volume"]
            assert after < volume
            expect(page.locator("#lvl")).to_have_text("%.1f" % (shown + 0.5 + after - volume))
        finally:
            ctx.close()
    finally:
        vb.stop()
