"""Which MicroPython release a UF2 holds, so every figure the rp2 tier reports names it."""
import re

# The rp2 port's build string, e.g. "MicroPython-1.26.1-arm--with-newlib4.5.0": kept
# uncompressed in the image (1.26.1 compresses its error messages, not this string).
_BUILD = re.compile(rb"MicroPython-(\d+\.\d+\.\d+)-")


def uf2_payload(data):
    """The bytes a UF2 carries: 256 of each 512-byte block, from offset 32."""
    return b"".join(data[i + 32:i + 288] for i in range(0, len(data), 512))


def micropython_release(path):
    """"1.26.1" for a MicroPython UF2, None when it names no release."""
    with open(path, "rb") as f:
        m = _BUILD.search(uf2_payload(f.read()))
    return m.group(1).decode() if m else None
