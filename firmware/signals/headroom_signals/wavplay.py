"""WAV playback to I2S, non-blocking: PCM, 16 or 24 bits, 44.1 or 48 kHz, mono or stereo.

The file's header is read and checked first; a file the player cannot play raises
ValueError naming the problem before the I2S is even set up. 16-bit data goes out
as read (16-bit slots); 24-bit samples are sent left-justified in 32-bit slots
(sample << 8). Mono uses the port's MONO format, which sends each sample to both
channels. The I2S handler (scheduled, never a hard IRQ) reads the next piece of the
file into the one preallocated buffer and writes it.

The rp2 port only sends whole 128-byte DMA blocks from its ring buffer (a mono block
takes 64 bytes, but only once 128 are waiting): a shorter tail would sit there
unplayed. So the last buffer is padded with zeros to a 128-byte boundary, plus one
more block of zeros.
"""
import struct

import machine
from micropython import const

_DMA_BLOCK = const(128)
_FMT_PCM = const(1)
_FMT_EXTENSIBLE = const(0xFFFE)
RATES = (44100, 48000)


class WavInfo:
    def __init__(self, rate, bits, channels, data_offset, data_bytes):
        self.rate = rate
        self.bits = bits
        self.channels = channels
        self.data_offset = data_offset
        self.data_bytes = data_bytes

    def frames(self):
        return self.data_bytes // (self.bits // 8 * self.channels)


def parse(f):
    """Check a WAV file's header (file object at any position); returns a WavInfo."""
    f.seek(0, 2)
    size = f.tell()
    f.seek(0)
    head = f.read(12)
    if len(head) < 12 or head[0:4] != b"RIFF":
        raise ValueError("not a RIFF file")
    if head[8:12] != b"WAVE":
        raise ValueError("not a WAVE file")
    pos = 12
    fmt = None
    while True:
        f.seek(pos)
        ch = f.read(8)
        if len(ch) < 8:
            if fmt is None:
                raise ValueError("truncated: no fmt chunk")
            raise ValueError("truncated: no data chunk")
        cid = ch[0:4]
        clen = struct.unpack("<I", ch[4:8])[0]
        body = pos + 8
        if cid == b"fmt ":
            if clen < 16:
                raise ValueError("truncated: fmt chunk of %d bytes" % clen)
            raw = f.read(min(clen, 40))
            if len(raw) < 16:
                raise ValueError("truncated: fmt chunk")
            tag, chans, rate, byte_rate, align, bits = struct.unpack("<HHIIHH", raw[0:16])
            if tag == _FMT_EXTENSIBLE:
                # the sub-format GUID starts with the format tag
                if len(raw) < 26 or struct.unpack("<H", raw[24:26])[0] != _FMT_PCM:
                    raise ValueError("not PCM (extensible sub-format)")
            elif tag != _FMT_PCM:
                raise ValueError("not PCM (format tag %d)" % tag)
            if bits not in (16, 24):
                raise ValueError("unsupported bits: %d (16 or 24)" % bits)
            if rate not in RATES:
                raise ValueError("unsupported rate: %d Hz (44100 or 48000)" % rate)
            if chans not in (1, 2):
                raise ValueError("unsupported channels: %d (1 or 2)" % chans)
            if align != chans * bits // 8 or byte_rate != rate * align:
                raise ValueError("inconsistent fmt chunk (block align %d)" % align)
            fmt = (rate, bits, chans)
        elif cid == b"data":
            if fmt is None:
                raise ValueError("no fmt chunk before the data chunk")
            if body + clen > size:
                raise ValueError("truncated: data chunk of %d bytes, %d in the file"
                                 % (clen, size - body))
            if clen % (fmt[1] // 8 * fmt[2]):
                raise ValueError("truncated: data ends inside a frame")
            return WavInfo(fmt[0], fmt[1], fmt[2], body, clen)
        pos = body + clen + (clen & 1)   # chunks are padded to even sizes


class WavPlayer:
    def __init__(self, i2s_id, sck, ws, sd, ibuf=8192, buf_bytes=4096):
        """The I2S pins and sizes; the port is set up per file, as its format needs.

        `buf_bytes` (a multiple of 384: whole frames of every format, whole DMA
        blocks) is the most one refill writes.
        """
        self.i2s_id = i2s_id
        self.sck = sck
        self.ws = ws
        self.sd = sd
        self.ibuf = ibuf
        n = buf_bytes - buf_bytes % 384
        # room for the padded tail: up to a block to fill, one block of zeros
        self._buf = bytearray(n + 2 * _DMA_BLOCK)
        self._mv = memoryview(self._buf)
        self._raw = bytearray(n * 3 // 4)     # 24-bit samples as read
        self._rmv = memoryview(self._raw)
        self._chunk = n
        self.i2s = None
        self.info = None
        self._bits = 16
        self._f = None
        self._left = 0
        self.playing = False
        self.finished = False
        self._cb = self._refill

    def play(self, path):
        """Start playing `path`; returns its WavInfo. ValueError when it cannot be played."""
        self.stop()
        f = open(path, "rb")
        try:
            info = parse(f)
        except Exception:
            f.close()
            raise
        self.info = info
        self._bits = info.bits
        self._f = f
        f.seek(info.data_offset)
        self._left = info.data_bytes
        self.finished = False
        self.i2s = machine.I2S(self.i2s_id, sck=self.sck, ws=self.ws, sd=self.sd,
                               mode=machine.I2S.TX, bits=16 if info.bits == 16 else 32,
                               format=machine.I2S.STEREO if info.channels == 2 else
                               machine.I2S.MONO,
                               rate=info.rate, ibuf=self.ibuf)
        self.i2s.irq(self._cb)
        self.playing = True
        self._refill(self.i2s)
        return info

    def stop(self):
        """Stop at once and release the port."""
        if self.i2s is not None:
            self.i2s.deinit()
            self.i2s = None
        if self._f is not None:
            self._f.close()
            self._f = None
        self.playing = False

    def _refill(self, i2s):
        f = self._f
        if not self.playing or f is None:
            return
        if self._left <= 0:
            # the padded tail has been queued: what follows is the port's own zeros
            f.close()
            self._f = None
            self.playing = False
            self.finished = True
            return
        if self._bits == 16:
            n = self._read16(f)
        else:
            n = self._read24(f)
        if self._left <= 0:
            pad = (-n) % _DMA_BLOCK + _DMA_BLOCK
            buf = self._buf
            for i in range(n, n + pad):
                buf[i] = 0
            n += pad
        i2s.write(self._mv[0:n])

    def _read16(self, f):
        want = min(self._chunk, self._left)
        got = f.readinto(self._mv[0:want])
        if got != want:
            raise OSError("WAV file shrank while playing")
        self._left -= got
        return got

    def _read24(self, f):
        want = min(len(self._raw), self._left)
        got = f.readinto(self._rmv[0:want])
        if got != want:
            raise OSError("WAV file shrank while playing")
        self._left -= got
        raw = self._raw
        buf = self._buf
        j = 0
        for i in range(0, got, 3):
            buf[j] = 0
            buf[j + 1] = raw[i]
            buf[j + 2] = raw[i + 1]
            buf[j + 3] = raw[i + 2]
            j += 4
        return j
