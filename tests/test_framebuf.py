"""The simulator's framebuf (sim/cpython_framebuf.py) against the Unix port's built-in
one: random drawing sequences from hypothesis run on both and the buffers compare byte
for byte. One VM process per test: the programs are collected first, then run as a batch."""
import json
import os
import subprocess
import sys
from array import array

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from headroom.sim import cpython_framebuf as framebuf

MICROPYTHON = os.path.join(os.path.dirname(sys.executable), "micropython")

# The Unix-port side: reads the programs (JSON), prints each final buffer as hex.
RUNNER = r"""
import framebuf, json, sys
from array import array

def make(spec):
    w, h, fmt, data = spec
    buf = bytearray(bytes.fromhex(data))
    return framebuf.FrameBuffer(buf, w, h, fmt)

def run(p):
    w, h, fmt, stride, data = p["fb"]
    buf = bytearray(bytes.fromhex(data))
    fb = framebuf.FrameBuffer(buf, w, h, fmt, stride)
    out = []
    for op in p["ops"]:
        name, args = op[0], op[1:]
        if name == "poly":
            args = args[:2] + [array("h", args[2])] + args[3:]
        elif name == "blit":
            args = [make(args[0])] + args[1:4] + ([make(args[4])] if len(args) > 4 else [])
        r = getattr(fb, name)(*args)
        if r is not None:
            out.append(r)
    return buf.hex() + " " + json.dumps(out)

with open(sys.argv[1]) as f:
    programs = json.load(f)
for p in programs:
    print(run(p))
"""

FORMATS = (framebuf.MONO_VLSB, framebuf.MONO_HLSB, framebuf.MONO_HMSB, framebuf.RGB565,
           framebuf.GS2_HMSB, framebuf.GS4_HMSB, framebuf.GS8)
BPP = {framebuf.MONO_VLSB: 1, framebuf.MONO_HLSB: 1, framebuf.MONO_HMSB: 1,
       framebuf.RGB565: 16, framebuf.GS2_HMSB: 2, framebuf.GS4_HMSB: 4, framebuf.GS8: 8}


def size_of(w, h, fmt, stride):
    align = {framebuf.MONO_HLSB: 8, framebuf.MONO_HMSB: 8, framebuf.GS2_HMSB: 4,
             framebuf.GS4_HMSB: 2}.get(fmt, 1)
    stride = (stride + align - 1) // align * align
    if fmt == framebuf.MONO_VLSB:
        return (h + 7) // 8 * stride
    return stride * h * BPP[fmt] // 8


@st.composite
def program(draw, fmt=None, max_ops=8):
    """A buffer of noise and up to `max_ops` drawing calls. Hypothesis picks the format and
    a seeded Random the rest (its own choices shrink towards the degenerate: tiny buffers,
    colour 0, the first op)."""
    fmt = draw(st.sampled_from(FORMATS)) if fmt is None else fmt
    rnd = draw(st.randoms(use_true_random=False))
    w = rnd.choice((1, 3, 8, 13, 24, 40))
    h = rnd.choice((1, 5, 8, 16, 21, 40))
    stride = w + rnd.choice((0, 0, 0, 3, 9))

    def colour():
        if fmt == framebuf.RGB565:
            return rnd.randint(-3, 0x1FFFF)
        return rnd.choice((1, 1, 0, 2, 3, 5, 15, 16, 255, 256, -1, -2))

    def cx():
        return rnd.randint(-12, w + 12)

    def cy():
        return rnd.randint(-12, h + 12)

    def r():
        return rnd.randint(-3, 25)

    def data(w, h, f):
        return bytes(rnd.getrandbits(8) for _ in range(size_of(w, h, f, w))).hex()
    ops = []
    for _ in range(rnd.randint(1, max_ops)):
        kind = rnd.choice(("line", "ellipse", "poly", "text", "blit", "scroll", "rect",
                           "fill_rect", "pixel", "pixel_get", "hline", "vline", "fill"))
        if kind == "fill":
            ops.append(["fill", colour()])
        elif kind == "pixel":
            ops.append(["pixel", cx(), cy(), colour()])
        elif kind == "pixel_get":
            ops.append(["pixel", cx(), cy()])
        elif kind in ("hline", "vline"):
            ops.append([kind, cx(), cy(), r(), colour()])
        elif kind == "line":
            ops.append(["line", cx(), cy(), cx(), cy(), colour()])
        elif kind == "rect":
            ops.append(["rect", cx(), cy(), r(), r(), colour(), rnd.random() < 0.5])
        elif kind == "fill_rect":
            ops.append(["fill_rect", cx(), cy(), r(), r(), colour()])
        elif kind == "text":
            ops.append(["text", "".join(chr(rnd.choice((rnd.randint(32, 127), rnd.randint(0, 300))))
                                        for _ in range(rnd.randint(0, 5))), cx(), cy(), colour()])
        elif kind == "scroll":
            ops.append(["scroll", rnd.randint(-w - 3, w + 3), rnd.randint(-h - 3, h + 3)])
        elif kind == "ellipse":
            ops.append(["ellipse", cx(), cy(), rnd.randint(0, 20), rnd.randint(0, 20), colour(),
                        rnd.random() < 0.5, rnd.randint(0, 15)])
        elif kind == "poly":
            n = rnd.randint(1, 6)
            pts = [rnd.randint(-10, 45) for _ in range(2 * n)]
            ops.append(["poly", cx(), cy(), pts, colour(), rnd.random() < 0.5])
        else:
            sw, sh = rnd.randint(1, 12), rnd.randint(1, 12)
            sfmt = rnd.choice((fmt, framebuf.MONO_HLSB, framebuf.GS2_HMSB))
            op = ["blit", [sw, sh, sfmt, data(sw, sh, sfmt)], cx(), cy(), rnd.choice((-1, 0, 1, 3))]
            if sfmt != fmt and rnd.random() < 0.5:
                n = 1 << BPP[sfmt]    # a palette with an entry for every source colour
                op.append([n, 1, fmt, data(n, 1, fmt)])
            ops.append(op)
    n = size_of(w, h, fmt, stride)   # the buffer starts as noise: every op shows
    return {"fb": [w, h, fmt, stride, bytes(rnd.getrandbits(8) for _ in range(n)).hex()],
            "ops": ops}


def run_here(p):
    w, h, fmt, stride, data = p["fb"]
    buf = bytearray(bytes.fromhex(data))
    fb = framebuf.FrameBuffer(buf, w, h, fmt, stride)

    def make(spec):
        return framebuf.FrameBuffer(bytearray(bytes.fromhex(spec[3])), spec[0], spec[1], spec[2])
    out = []
    for op in p["ops"]:
        name, args = op[0], list(op[1:])
        if name == "poly":
            args[2] = array("h", args[2])
        elif name == "blit":
            args = [make(args[0])] + args[1:4] + ([make(args[4])] if len(args) > 4 else [])
        res = getattr(fb, name)(*args)
        if res is not None:
            out.append(res)
    return buf.hex() + " " + json.dumps(out)


def run_vm(programs, tmp_path):
    data, script = tmp_path / "programs.json", tmp_path / "runner.py"
    data.write_text(json.dumps(programs))
    script.write_text(RUNNER)
    p = subprocess.run([MICROPYTHON, "-X", "heapsize=16M", str(script), str(data)],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr + p.stdout
    return p.stdout.splitlines()


def compare(examples, tmp_path):
    got = run_vm([p for p, _ in examples], tmp_path)
    assert len(got) == len(examples)
    bad = [(p, mine, theirs) for (p, mine), theirs in zip(examples, got) if mine != theirs]
    if bad:
        p, mine, theirs = min(bad, key=lambda b: len(json.dumps(b[0])))
        pytest.fail("%d of %d programs differ; the shortest:\n%s\nhere: %s\nport: %s"
                    % (len(bad), len(examples), json.dumps(p), mine, theirs))


def collect(strategy, n):
    examples = []

    @settings(max_examples=n, database=None, deadline=None,
              suppress_health_check=list(HealthCheck))
    @given(strategy)
    def one(p):
        examples.append((p, run_here(p)))
    one()
    return examples


def test_random_drawing_matches_the_unix_port_byte_for_byte(tmp_path):
    compare(collect(program(), 300), tmp_path)


def test_the_oled_format_and_full_size_text_match(tmp_path):
    """The display's own case: 128x64 MONO_VLSB, every printable character at odd places."""
    chars = "".join(chr(c) for c in range(32, 128))
    ops = [["text", chars[i:i + 16], i % 7 - 3, i // 2 - 2, 1] for i in range(0, 96, 16)]
    ops += [["text", "dB SPL -12.5", 5, 50, 1], ["rect", 0, 0, 128, 64, 1], ["fill_rect", 60, 20, 9, 30, 0]]
    p = {"fb": [128, 64, framebuf.MONO_VLSB, 128, "00" * 1024], "ops": ops}
    compare([(p, run_here(p))] + collect(program(fmt=framebuf.MONO_VLSB, max_ops=12), 60),
            tmp_path)


def test_constructor_refuses_what_the_port_refuses():
    with pytest.raises(ValueError):
        framebuf.FrameBuffer(bytearray(7), 8, 8, framebuf.MONO_VLSB)      # too small
    with pytest.raises(ValueError):
        framebuf.FrameBuffer(bytearray(8), 8, 8, framebuf.MONO_VLSB, 7)   # stride < width
    with pytest.raises(ValueError, match="invalid format"):
        framebuf.FrameBuffer(bytearray(8), 8, 8, 9)
    with pytest.raises(TypeError):
        framebuf.FrameBuffer(bytearray(8), 8, 8, 0).pixel(1.0, 1, 1)


def test_the_firmware_gets_this_framebuf():
    from headroom.sim.shims import install
    install()
    import framebuf as fw_framebuf
    assert fw_framebuf is framebuf


def test_pure_firmware_gets_it_too_and_only_when_it_draws():
    """firmware.pure(): a pure module that imports framebuf gets this one, the same module
    object the shims install; nothing of it is loaded until then."""
    code = """if True:
        import sys
        from headroom.firmware import use_pure
        use_pure()
        assert "framebuf" not in sys.modules and "headroom.sim.cpython_framebuf" not in sys.modules
        import framebuf
        from headroom.sim import cpython_framebuf
        from headroom.sim.shims import install
        install()
        import framebuf as again
        assert framebuf is cpython_framebuf is again
        print(framebuf.FrameBuffer(bytearray(8), 8, 8, framebuf.MONO_VLSB).pixel(0, 0))
    """
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0 and p.stdout == "0\n", p.stderr
