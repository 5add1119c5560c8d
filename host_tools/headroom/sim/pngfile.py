"""A PNG of a monochrome panel (models/oled.py's png()), with zlib and struct alone:
an 8-bit RGB image needs only the signature, IHDR, one IDAT and IEND, so a dependency
(pypng) would buy nothing."""
import struct
import zlib


def _chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data \
        + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def write_png(path, rows, on_rgb, scale=4, off_rgb=b"\x00\x00\x00"):
    """`rows`: lists of 0/1 per pixel; each pixel becomes a `scale` x `scale` square of
    `on_rgb` (3 bytes) where 1, `off_rgb` where 0."""
    on, off = bytes(on_rgb), bytes(off_rgb)
    h, w = len(rows), len(rows[0]) if rows else 0
    raw = bytearray()
    for row in rows:
        line = b"\x00" + b"".join((on if v else off) * scale for v in row)  # filter 0
        raw += line * scale
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n")
        f.write(_chunk(b"IHDR", struct.pack(">IIBBBBB", w * scale, h * scale, 8, 2, 0, 0, 0)))
        f.write(_chunk(b"IDAT", zlib.compress(bytes(raw), 9)))
        f.write(_chunk(b"IEND", b""))
