"""The rp2 tier names the MicroPython release of the UF2 it runs (rp2tier/release.py)."""
import os
import struct

import pytest

from headroom.rp2tier.release import micropython_release

SHARED = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "..",
                      "..", "shared", "firmware")


def _uf2(payload, path):
    """payload as UF2 blocks: 512 bytes each, 256 of payload from offset 32."""
    blocks = [payload[i:i + 256].ljust(256, b"\0") for i in range(0, len(payload), 256)]
    with open(path, "wb") as f:
        for n, b in enumerate(blocks):
            head = struct.pack("<8I", 0x0A324655, 0x9E5D5157, 0x2000, 0x10000000 + 256 * n,
                               256, n, len(blocks), 0xE48BFF56)
            f.write(head + b + bytes(476 - 256) + struct.pack("<I", 0x0AB16F30))
    return str(path)


def test_the_release_is_read_from_the_build_string_across_blocks(tmp_path):
    # the string straddles two blocks: read from the payload, not the file's bytes
    payload = bytes(250) + b"MicroPython-1.26.1-arm--with-newlib4.5.0\0" + bytes(300)
    assert micropython_release(_uf2(payload, tmp_path / "a.uf2")) == "1.26.1"


def test_an_image_without_it_names_none(tmp_path):
    assert micropython_release(_uf2(b"v1.26.1" + bytes(600), tmp_path / "b.uf2")) is None


@pytest.mark.parametrize("name,release", [("RPI_PICO-20241129-v1.24.1.uf2", "1.24.1"),
                                          ("RPI_PICO-20250911-v1.26.1.uf2", "1.26.1")])
def test_the_shipped_uf2s(name, release):
    path = os.path.join(SHARED, name)
    if not os.path.exists(path):
        pytest.skip("no %s here" % name)
    assert micropython_release(path) == release
