"""WAV playback: bit-exact on the simulated I2S bus, and files it cannot play refused up front."""
import struct
import wave

import numpy as np
import pytest
from headroom_signals import wavplay

from headroom.sim.i2s import registry as i2s_registry

SCK, WS, SD = 16, 17, 18


def write_wav(path, rate, bits, channels, frames, seed=1):
    """A WAV of random samples (never zero, so the start is easy to find); returns them (n, ch)."""
    rng = np.random.default_rng(seed)
    top = 1 << (bits - 1)
    x = rng.integers(1, top, size=(frames, channels)) * rng.choice([-1, 1], size=(frames, channels))
    if bits == 16:
        raw = x.astype("<i2").tobytes()
    else:
        b = x.astype("<i4").view(np.uint8).reshape(-1, 4)[:, :3]
        raw = b.tobytes()
    with wave.open(str(path), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(bits // 8)
        w.setframerate(rate)
        w.writeframes(raw)
    return x


def player():
    from machine import Pin
    return wavplay.WavPlayer(0, Pin(SCK), Pin(WS), Pin(SD))


def played(sim):
    bus = i2s_registry(sim).streams[0]
    t, a = bus.samples()
    return bus, np.frombuffer(a, dtype=np.int32).reshape(-1, 2)


@pytest.mark.parametrize("rate,bits,channels", [
    (44100, 16, 2), (48000, 16, 1), (48000, 24, 2), (44100, 24, 1), (48000, 16, 2),
])
def test_playback_is_bit_exact(sim, tmp_path, rate, bits, channels):
    path = tmp_path / "t.wav"
    frames = rate // 5 + 37                          # 0.2 s and an odd tail
    x = write_wav(path, rate, bits, channels, frames)
    p = player()
    info = p.play(str(path))
    assert (info.rate, info.bits, info.channels, info.frames()) == (rate, bits, channels, frames)
    sim.run_for(400000)
    assert p.finished and not p.playing
    bus, y = played(sim)
    assert bus.rate == rate and bus.bits == (16 if bits == 16 else 32)
    if bits == 24:
        assert not (y & 0xFF).any()                  # left-justified in the 32-bit slot
        y = y >> 8
    start = np.flatnonzero(y[:, 0])[0]
    got = y[start:start + frames]
    want = np.repeat(x, 2, axis=1) if channels == 1 else x
    assert np.array_equal(got, want)
    assert not y[start + frames:].any()              # then silence: the padding, the port's zeros


def test_playback_does_not_block(sim, tmp_path):
    path = tmp_path / "t.wav"
    write_wav(path, 48000, 16, 2, 48000)
    p = player()
    t0 = sim.now()
    p.play(str(path))
    assert sim.now() == t0
    sim.run_for(500000)
    assert p.playing
    p.stop()
    assert not i2s_registry(sim).streams[0].running


def riff(*chunks, form=b"WAVE", fourcc=b"RIFF"):
    body = form + b"".join(chunks)
    return fourcc + struct.pack("<I", len(body)) + body


def chunk(cid, data):
    return cid + struct.pack("<I", len(data)) + data + (b"\0" if len(data) & 1 else b"")


def fmt(tag=1, ch=2, rate=48000, bits=16, align=None, byte_rate=None, extra=b""):
    align = ch * bits // 8 if align is None else align
    byte_rate = rate * align if byte_rate is None else byte_rate
    return chunk(b"fmt ", struct.pack("<HHIIHH", tag, ch, rate, byte_rate, align, bits) + extra)


GOOD_DATA = chunk(b"data", bytes(4 * 100))


@pytest.mark.parametrize("content,msg", [
    (b"RIFX" + bytes(40), "not a RIFF file"),
    (b"RI", "not a RIFF file"),
    (riff(fmt(), GOOD_DATA, form=b"AVI "), "not a WAVE file"),
    (riff(fmt(tag=3, bits=32), GOOD_DATA), r"not PCM \(format tag 3\)"),
    (riff(fmt(tag=0xFFFE, extra=struct.pack("<HHIH", 22, 16, 3, 3) + bytes(14)), GOOD_DATA),
     "not PCM"),
    (riff(fmt(bits=8), GOOD_DATA), r"unsupported bits: 8 \(16 or 24\)"),
    (riff(fmt(bits=32), GOOD_DATA), "unsupported bits: 32"),
    (riff(fmt(rate=22050), GOOD_DATA), r"unsupported rate: 22050 Hz \(44100 or 48000\)"),
    (riff(fmt(rate=96000), GOOD_DATA), "unsupported rate: 96000 Hz"),
    (riff(fmt(ch=6), GOOD_DATA), "unsupported channels: 6"),
    (riff(fmt(align=3), GOOD_DATA), "inconsistent fmt chunk"),
    (riff(fmt()), "truncated: no data chunk"),
    (riff(), "truncated: no fmt chunk"),
    (riff(fmt(), chunk(b"data", bytes(400)))[:-100], "truncated: data chunk of 400 bytes, 300"),
    (riff(fmt(), chunk(b"data", bytes(402))), "truncated: data ends inside a frame"),
    (riff(GOOD_DATA, fmt()), "no fmt chunk before the data chunk"),
])
def test_unsupported_files_are_refused_before_anything_is_sent(sim, tmp_path, content, msg):
    path = tmp_path / "bad.wav"
    path.write_bytes(content)
    p = player()
    with pytest.raises(ValueError, match=msg):
        p.play(str(path))
    assert "i2s" not in sim.peripherals          # no I2S was even set up
    assert not p.playing


def test_other_chunks_are_skipped_and_extensible_pcm_plays(sim, tmp_path):
    samples = struct.pack("<6h", 1, -1, 2, -2, 3, -3) * 100
    ext = struct.pack("<HHI", 22, 16, 3) + struct.pack("<H", 1) + bytes(14)
    content = riff(chunk(b"LIST", b"INFOjunk!"), fmt(tag=0xFFFE, extra=ext),
                   chunk(b"data", samples))
    path = tmp_path / "ext.wav"
    path.write_bytes(content)
    p = player()
    info = p.play(str(path))
    assert info.frames() == 300
    sim.run_for(100000)
    bus, y = played(sim)
    start = np.flatnonzero(y[:, 0])[0]
    assert y[start:start + 3].ravel().tolist() == [1, -1, 2, -2, 3, -3]
