"""`headroom flash` end to end: the real mpremote against the virtual board (MicroPython VM,
littlefs image), from an empty image to a running firmware, then the incremental cases."""
import json
import os
import shutil
import signal
import subprocess
import sys
import time

from test_vboard import VBoard, needs_tools

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SE = os.path.join(REPO, "boards", "pico-se.json")


def flash(port, board=SE, timeout=180):
    p = subprocess.run([sys.executable, "-m", "headroom", "flash", "--board", board, "--port", port],
                       capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout + p.stderr


def copied(out):
    line = [x for x in out.splitlines() if "files to copy" in x]
    assert line, out
    return int(line[0].split(": ")[1].split(" of ")[0])


def status(port, tries=10):
    for _ in range(tries):
        p = subprocess.run([sys.executable, "-m", "headroom", "status", "--port", port],
                           capture_output=True, text=True, timeout=30)
        if p.returncode == 0:
            return json.loads(p.stdout)
        time.sleep(1)
    raise AssertionError(p.stderr)


@needs_tools
def test_flash_installs_then_copies_only_what_changed(tmp_path):
    vb = VBoard(tmp_path / "flash.img")
    try:
        rc, out = flash(vb.path)
        assert rc == 0, out
        total = copied(out)
        assert total >= 15 and "verified" in out
        assert status(vb.path)["volume"] == -30.0        # the firmware booted from the image
        # set and monitor against the flashed firmware, over its serial port.
        from headroom import control
        link = control.open_port(vb.path)
        try:
            assert control.request(link, "monitor on", timeout=5)["ok"]
            assert control.request(link, "set volume -24", timeout=5) == {"ok": True, "volume": -24.0}
            ev = link.next_json(time.monotonic() + 5)
            while ev is not None and ev.get("volume") != -24.0:
                ev = link.next_json(time.monotonic() + 5)
            assert ev is not None and ev.get("event") == "state"
            control.request(link, "monitor off", timeout=5)
        finally:
            link.close()

        rc, out = flash(vb.path)
        assert rc == 0 and copied(out) == 0, out         # nothing changed, nothing copied

        board = tmp_path / "pico-se.json"
        shutil.copy(SE, board)
        board.write_text(board.read_text().replace('"default_dbv": -30.0', '"default_dbv": -35.0'))
        rc, out = flash(vb.path, str(board))
        assert rc == 0 and copied(out) == 1, out         # only board.json

        # A file damaged on the board is found by its hash and copied again. (First let the
        # board finish restarting: what is sent before it is up is lost, as over USB.)
        status(vb.path)
        vb.mpremote("exec", "f = open('headroom_fw/volume.mpy', 'wb'); f.write(b'junk'); f.close()")
        rc, out = flash(vb.path, str(board))
        assert rc == 0 and copied(out) == 1, out
    finally:
        vb.stop()


@needs_tools
def test_a_power_cut_during_a_copy_is_repaired_by_the_next_flash(tmp_path):
    vb = VBoard(tmp_path / "cut.img")
    try:
        p = subprocess.Popen([sys.executable, "-m", "headroom", "flash", "--board", SE, "--port",
                              vb.path], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        time.sleep(6)                                    # some files are on, some not
        vb.proc.send_signal(signal.SIGUSR1)              # the supply fails and comes back
        out, _ = p.communicate(timeout=180)
        assert p.returncode != 0 or "verified" in out
        time.sleep(2)
        rc, out = flash(vb.path)
        assert rc == 0 and "verified" in out, out
        assert status(vb.path)["phase"] in ("boot", "unmuting", "playing")
    finally:
        vb.stop()
