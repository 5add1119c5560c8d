"""Run by bench_ir.py on MicroPython's Unix port: the IR decoder's buffers and what it
allocates and takes per frame. Frames are rendered first (sim/irframes.py, into arrays
made before the measurement), then decoded with gc.mem_alloc() read around the loop.
Prints one JSON line."""
import gc
import sys
import time
from array import array

sys.path.insert(0, sys.argv[1])
sys.path.insert(0, sys.argv[2])

from headroom.sim import irframes as F  # noqa: E402
from headroom_fw import irdecode as D  # noqa: E402

KEYS = (("nec", 0x00, 0x46, 600), ("apple", 0, 0x0B, 0), ("rc5", 5, 0x10, 300),
        ("sony", 1, 0x12, 0))
times = array("i")
levels = bytearray()
nframes = 0
t = 1000
rx = F.Receiver(seed=3, glitch_per_s=50)
for rep in range(10):
    for proto, addr, cmd, hold in KEYS:
        fr = [(t + s, r) for s, r in F.key_frames(proto, addr, cmd, hold, rep & 1)]
        nframes += len(fr)
        end = F.span_us(fr)
        for s, e in F.union(F.frames_marks(rx, fr), rx.glitches(t - 5000, end + 5000)):
            times.append(s)
            levels.append(0)
            times.append(e)
            levels.append(1)
        t = end + 200000
gc.collect()
free0 = gc.mem_free()
dec = D.Decoder()
decoder_bytes = free0 - gc.mem_free()


def decode_all(dec, times, levels, t_end):
    """Every edge, as irrecv.check() hands them over; locals only (a module-level
    name's first assignment would grow the globals' dict and count)."""
    events = 0
    n = len(times)
    i = 0
    while i < n:
        tu = times[i]
        dec.edge(tu, levels[i] == 0, tu // 1000)
        while dec.count:
            dec.take()
            events += 1
        i += 1
    dec.idle(t_end, t_end // 1000)
    while dec.count:
        dec.take()
        events += 1
    return events


t0 = events = a0 = 0     # the globals made before the count starts
gc.collect()
a0 = gc.mem_alloc()
t0 = time.ticks_us()
events = decode_all(dec, times, levels, t + 10000)
us = time.ticks_diff(time.ticks_us(), t0)
allocated = gc.mem_alloc() - a0
print('{"decoder_bytes": %d, "allocated": %d, "frames": %d, "events": %d, "us_per_frame": %d}'
      % (decoder_bytes, allocated, nframes, events, us // max(1, nframes)))
