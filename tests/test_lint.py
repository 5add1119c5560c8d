"""The static check really holds the firmware to the rp2 port's API."""
import os
import shutil

import pytest

from headroom import lint

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_firmware_passes_the_rp2_stub_check():
    p = lint.mypy_firmware(capture=True)
    assert p.returncode == 0, p.stdout + p.stderr


@pytest.mark.parametrize("bad,why", [
    ("machine.Pin(b.button, machine.Pin.IN, machine.Pin.PULL_UP, valeu=1)", "unexpected keyword"),
    ("machine.SPI(b.spi_id, baudrate=b.spi_baudrate, mode=0)", "unexpected keyword"),
    ("machine.Pin.IRQ_BOTH", "no attribute"),
    ("machine.WDT(timeout='2s')", "incompatible type"),
])
def test_a_call_the_rp2_port_lacks_is_an_error(tmp_path, bad, why):
    fw = tmp_path / "firmware"
    shutil.copytree(os.path.join(REPO, "firmware"), fw)
    app = fw / "headroom_fw" / "app.py"
    src = app.read_text()
    app.write_text(src.replace("        self.waker = Waker()\n",
                               "        self.waker = Waker()\n        _x = %s\n" % bad, 1))
    p = lint.mypy_firmware(str(fw), capture=True)
    assert p.returncode == 1, p.stdout
    assert why in p.stdout.lower(), p.stdout
