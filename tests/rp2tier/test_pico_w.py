"""The web remote's board (pico-w-balanced) on MicroPython's real rp2 port for the Pico W
(RPI_PICO_W), in rp2040py's emulated Pico W: its CYW43439 over the real gSPI bus, a
fixed access point "RP2040PY-GUEST" that takes any key, and a DHCP lease of 10.0.0.2.

`make test-rp2 UF2=... UF2_W=RPI_PICO_W-....uf2` (HEADROOM_UF2_W for pytest); without
it this test skips, saying where to get one. It installs the firmware with `headroom
flash` over the emulated USB port as the tier does for the Pico boards (from an erased
flash: the Pico W's MicroPython keeps a smaller filesystem; the page goes too),
then powers the board on from that image and, over the USB protocol only:

- sets the network (`wifi set`), and waits for `wifi` to say "up" with a 10.0.0.x
  address: an event on the board's own clock, bounded by the firmware's join time-out;
- checks the amplifier plays with WiFi up, no fault, nothing in the firmware's log;
- checks no reply and no byte the board wrote carries the key;
- resets the board (RUN pin): it joins again from wifi.json by itself, and `status`'s
  `heap_free` then is the figure after a start-up with the web remote (goal >= 60 KB;
  recorded whatever it is, the test does not fail on it).
"""
import os
import shutil
import time

import pytest

from headroom import requests
from headroom.rp2tier.board import Rp2Board
from headroom.rp2tier.console import Console

from .rp2kit import BOOT_WAIT_S, HEADROOM, REPO, ms, run

BOARD = os.path.join(REPO, "boards", "pico-w-balanced.json")
ENV = "HEADROOM_UF2_W"
HOWTO_W = """the Pico W test needs MicroPython's UF2 for the Raspberry Pi Pico W (RPI_PICO_W, 1.26.1):
  download it from https://micropython.org/download/RPI_PICO_W/ (RPI_PICO_W-20250911-v1.26.1.uf2),
  then run: make test-rp2 UF2=... UF2_W=path/to/RPI_PICO_W-....uf2"""
SSID, KEY = "RP2040PY-GUEST", "a good key"
BOOT_US = 20_000_000      # power-on to playing, at the latest (the CYW43's firmware loads too)
JOIN_US = 45_000_000      # `wifi set` to "up": the firmware's own JOIN_MS (30 s) and a retry
POLL_MS = 250             # how often `wifi` is asked (emulated)
HEAP_GOAL = 60 * 1024


@pytest.fixture(scope="module")
def uf2_w():
    path = os.environ.get(ENV, "")
    if not path:
        pytest.skip(HOWTO_W)
    if not os.path.isfile(path):
        pytest.fail("%s: no such UF2 file: %s\n%s" % (ENV, path, HOWTO_W), pytrace=False)
    return os.path.abspath(path)


def wait_wifi_up(b, console, until_us):
    """`wifi`'s replies, asked every POLL_MS of emulated time, until it says "up" with an
    address (the last reply), or `until_us` passes (the last reply, not up)."""
    replies = []
    while True:
        r = console.request("wifi", within_ms=2000)
        replies.append((b.now_us, r))
        w = r.get("wifi") or {}
        if w.get("state") == "up" and w.get("ip"):
            return replies
        if b.now_us >= until_us:
            return replies
        b.run_for_ms(POLL_MS)


def no_key(text):
    return KEY not in text and KEY.encode().hex() not in text


@pytest.mark.xdist_group("pico-w-balanced")
def test_pico_w_joins_and_plays(request, uf2_w, report, tmp_path):
    # One emulator at a time: the tier's shared Pico boards stop while this one runs.
    try:
        request.getfixturevalue("tier").stop_boards()
    except pytest.skip.Exception:
        pass
    t_wall = time.monotonic()
    link = str(tmp_path / "ttyACM0")
    b = Rp2Board(uf2_w, BOARD, image=None, port_link=link, flash_busy=False).start()
    try:
        t0 = b.now_us
        first = run(HEADROOM + ["flash", "--board", BOARD, "--port", link,
                                "--wait-s", str(BOOT_WAIT_S)])
        flash_ms = round((b.now_us - t0) / 1000)
        image = str(tmp_path / "flash.img")
        b.dump_image(image)     # a failure's too: the files are there to look into
        faults = list(b.faults)
    finally:
        b.stop()
    out = first["out"] + first["err"]
    if first["rc"] != 0 and "MemoryError" in out:
        # The firmware ran out of heap at boot (a Pico W's is 205,568 B, a Pico's
        # 245,888): recorded and said, not hidden; any other failure fails.
        report("pico w", board="pico-w-balanced", uf2_w=os.path.basename(uf2_w),
               flash_wall_s=first["wall_s"], boot="MemoryError", heap_goal=HEAP_GOAL)
        pytest.xfail("the firmware does not start on the Pico W: out of heap at boot "
                     "(goal %d B free after start-up); flash said: %s"
                     % (HEAP_GOAL, out.strip().splitlines()[-1][:300]))
    assert first["rc"] == 0, out
    for f in ("headroom_fw/webapp.mpy", "headroom_fw/www/index.html", "board.json"):
        assert "copying %s " % f in out, out
    assert not faults, faults

    live = str(tmp_path / "live.img")
    shutil.copyfile(image, live)
    b = Rp2Board(uf2_w, BOARD, image=live).start()
    figures = {"flash_wall_s": first["wall_s"], "flash_emulated_ms": flash_ms}
    try:
        console = Console(b)
        playing = b.wait_playing(until_us=BOOT_US)
        figures["playing_ms"] = ms(playing)
        st0 = console.request("status")
        figures["heap_free_no_network"] = st0.get("heap_free")
        off = console.request("wifi")
        assert off["ok"] and off["wifi"]["state"] == "off", off

        line = requests.wifi_set(SSID, KEY)
        t_set = b.now_us
        got = console.request(line)
        assert got["ok"], got
        replies = wait_wifi_up(b, console, t_set + JOIN_US)
        t_up, up = replies[-1]
        w = up["wifi"]
        figures["join_ms"] = ms(t_up - t_set)
        figures["states"] = sorted({r["wifi"]["state"] for _t, r in replies})
        assert w["state"] == "up" and (w["ip"] or "").startswith("10.0.0."), replies[-3:]
        assert w["ssid"] == SSID and w["url"] == "http://%s/" % w["ip"], w
        assert not w["fault"], w

        st = console.request("status")
        figures["heap_free_joined"] = st.get("heap_free")
        assert st["ok"] and st.get("phase") == "playing" and not st.get("mute"), st
        assert not st.get("faults"), st
        log = console.request("log")
        assert "Traceback" not in log["log"] and "Error" not in log["log"], log["log"]

        assert not b.resets, "the board reset at %s ms" % [ms(t) for t in b.resets]
        # A start-up with the network stored: the board joins by itself.
        t_reset = b.now_us
        b.reset("run")
        playing2 = b.wait_playing(until_us=t_reset + BOOT_US)
        figures["playing_after_reset_ms"] = ms(playing2 - t_reset)
        st2 = console.request("status")
        heap = figures["heap_free"] = st2.get("heap_free")
        replies2 = wait_wifi_up(b, console, b.now_us + JOIN_US)
        t_up2, up2 = replies2[-1]
        figures["rejoin_ms_after_reset"] = ms(t_up2 - t_reset)
        assert up2["wifi"]["state"] == "up" and up2["wifi"]["ip"].startswith("10.0.0."), replies2[-3:]
        st3 = console.request("status")
        figures["heap_free_rejoined"] = st3.get("heap_free")
        assert st3.get("phase") == "playing" and not st3.get("mute") and not st3.get("faults"), st3
        log = console.request("log")
        assert "Traceback" not in log["log"] and "Error" not in log["log"], log["log"]
        text = console.text()
        assert no_key(text), "the key came back over USB"
        assert len(b.resets) == 1, "resets at %s ms (only the RUN pin's expected)" % [
            ms(t) for t in b.resets]
        assert not b.faults, b.faults
    finally:
        figures["wall_s"] = round(time.monotonic() - t_wall, 1)
        report("pico w", board="pico-w-balanced", uf2_w=os.path.basename(uf2_w), **figures)
        print("pico-w-balanced figures:", figures)
        b.stop()
    # The goal: 60 KB free after a start-up with the web remote joined. Recorded above
    # whatever it is; below the goal the test says so and is not a failure.
    if heap is not None and heap < HEAP_GOAL:
        pytest.xfail("heap_free after start-up %d B, under the goal of %d B" % (heap, HEAP_GOAL))
