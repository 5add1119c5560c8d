"""The IR remote under a lamp: the decoder over 10,000 frames, the knob beside it.

    python -m headroom.bench_ir [FRAMES] [--json]

1. Frames: keys of every protocol (NEC, the Apple remote, RC5, Sony in its three
   forms), pressed or held (repeats), sent through the receiver model (sim/irframes.py:
   each frame's marks longer or shorter alike within the TSOP382's tolerance, every
   edge jittered by 30 us) under a fluorescent lamp (50 glitches/s), into the
   firmware's decoder (headroom_fw.irdecode) through an IRQ that is serviced 20-100 us
   after an edge (rp2 MicroPython's hard IRQ latency) and reads the line then: edges
   that come while one is pending are one service (a glitch shorter than that is then
   seen as nothing). Goal: 0 commands (a key pressed or held) missed and 0 wrong (an
   event of a key not sent, or a hold broken into two presses); the repeat frames lost
   and the glitches removed are counted.
2. The knob beside it: knob -> PGA2311 frame latency on the simulator's cost model with
   a key held (its frames decoded, mapped to nothing) and the lamp on, side by side
   with none (bench_latency.measure).
3. Memory and time on the MicroPython VM (sim/mp_irbench.py): the decoder's and the
   receiver's buffers, bytes allocated per decoded frame (goal 0), time per frame on
   this machine's VM (the rp2 tier measures it on the RP2040).
"""
import json
import os
import random
import subprocess
import sys

from .sim.simboard import REPO_DIR, use_firmware

FRAMES = 10000
GOAL_MISSED = 0
GOAL_WRONG = 0


def _keys(rng):
    """(proto, addr, cmd, hold_ms, nbits) forever: every protocol, presses and holds."""
    while True:
        proto = rng.choice(("nec", "apple", "rc5", "sony"))
        nbits = rng.choice((12, 15, 20)) if proto == "sony" else 12
        if proto == "nec":
            addr, cmd = rng.randrange(0x10000), rng.randrange(0x100)
            if addr >> 8 == (addr & 0xFF) ^ 0xFF:
                addr &= 0xFF           # the 8-bit form: what the remote means by it
        elif proto == "apple":
            addr, cmd = 0, rng.randrange(0x100)
        elif proto == "rc5":
            addr, cmd = rng.randrange(0x20), rng.randrange(0x80)
        else:
            addr = rng.randrange({12: 0x20, 15: 0x100, 20: 0x2000}[nbits])
            cmd = rng.randrange(0x80)
        hold = rng.choice((0, 0, 0, 250, 600, 1500))
        yield proto, addr, cmd, hold, nbits


def _irq(marks, rng, lat=(20, 100), handler_us=15):
    """(t_us, level) as the firmware's IRQ records them: each edge serviced 20-100 us
    later, the level read then; edges while one is pending share its service."""
    edges = []
    for s, e in marks:
        edges.append((s, 0))
        edges.append((e, 1))
    out = []
    i = 0
    free = 0          # the handler is busy until then
    while i < len(edges):
        t = max(edges[i][0] + rng.randint(*lat), free)
        j = i
        while j + 1 < len(edges) and edges[j + 1][0] <= t:
            j += 1      # came before the service: the same service
        out.append((t, edges[j][1]))
        free = t + handler_us
        i = j + 1
    return out


def accuracy(frames=FRAMES, seed=11, glitch_per_s=50):
    use_firmware()
    from headroom_fw import irdecode as D

    from .sim import irframes as F
    rng = random.Random(seed)
    rx = F.Receiver(seed=seed, glitch_per_s=glitch_per_s)
    dec = D.Decoder()
    keys = _keys(rng)
    keys_sent = frames_sent = missed = wrong = repeats_lost = 0
    per_proto = {}
    t = 1000
    toggle = 0
    wrap = 1 << 30
    while frames_sent < frames:
        proto, addr, cmd, hold, nbits = next(keys)
        toggle ^= 1
        fr = [(t + s, r) for s, r in F.key_frames(proto, addr, cmd, hold, toggle, nbits)]
        end = F.span_us(fr)
        want = F.fw_code(proto, addr, cmd, nbits)
        got = []
        marks = list(F.union(F.frames_marks(rx, fr), rx.glitches(t - 20000, end + 20000)))
        for tu, level in _irq(marks, rng):
            dec.edge(tu % wrap, level == 0, tu // 1000 % wrap)
            while dec.count:            # as the main loop takes them, every pass
                got.append(dec.take())
        idle = end + 30000
        dec.idle(idle % wrap, idle // 1000 % wrap)
        while dec.count:
            got.append(dec.take())
        keys_sent += 1
        frames_sent += len(fr)
        p = per_proto.setdefault(proto, [0, 0, 0])
        p[0] += len(fr)
        # A command is a key pressed (and held): missed if its press never comes; wrong
        # for every event of a key not sent, and for a second press (a hold broken in
        # two: a mute key would mute and unmute). A repeat lost costs nothing a held
        # volume key gives (its steps go by the time held), but is counted.
        presses = got.count(want)
        repeats = got.count(want | D.REPEAT)
        others = len(got) - presses - repeats
        # Sony: a key is two frames alike, so its first frame gives no event.
        want_repeats = len(fr) - 1 - (1 if proto == "sony" else 0)
        m = 1 if presses == 0 else 0
        w = others + max(0, presses - 1)
        missed += m
        wrong += w
        repeats_lost += max(0, want_repeats - repeats)
        p[1] += m
        p[2] += w
        t = end + rng.randint(120000, 600000)
    return {"frames": frames_sent, "commands": keys_sent, "missed": missed, "wrong": wrong,
            "repeats_lost": repeats_lost, "glitches_removed": dec.glitches,
            "frames_rejected": dec.rejected, "lamp_glitches_per_s": glitch_per_s,
            "per_protocol": per_proto, "simulated_s": t // 1000000}


def latency():
    from . import bench_latency as L
    rows = []
    for board in ("pico-se", "pico-balanced"):
        path = "%s/boards/%s.json" % (REPO_DIR, board)
        for rate, detents in ((50, 12), (200, 12)):
            for ir in (False, True):
                info = {}
                lat = L.measure(path, "pio", rate, detents, None, 6, None, info, ir=ir)
                dec = info.get("ir")
                rows.append({"board": board, "turn": "%d/s" % rate, "ir": ir,
                             "detents": len(lat), "p50_us": L._percentile(lat, 50),
                             "p99_us": L._percentile(lat, 99), "max_us": max(lat),
                             "ir_frames": dec.frames if dec is not None else 0,
                             "glitches": dec.glitches if dec is not None else 0})
    return rows


def vm_costs():
    use_firmware()
    from headroom_fw import irrecv
    mp = os.path.join(os.path.dirname(sys.executable), "micropython")
    script = os.path.join(REPO_DIR, "host_tools", "headroom", "sim", "mp_irbench.py")
    p = subprocess.run([mp, "-X", "heapsize=2M", script, os.path.join(REPO_DIR, "host_tools"),
                        os.path.join(REPO_DIR, "firmware")], capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError("mp_irbench failed:\n" + p.stdout + p.stderr)
    out = json.loads(p.stdout.strip().splitlines()[-1])
    out["ring_bytes"] = irrecv.RING * 5     # times (array 'i') and levels (bytearray)
    return out


def main(argv):
    as_json = "--json" in argv
    args = [a for a in argv if a != "--json"]
    n = int(args[0]) if args else FRAMES
    acc = accuracy(n)
    vm = vm_costs()
    lat = latency()
    if as_json:
        print(json.dumps({"accuracy": acc, "vm": vm, "latency": lat}))
    else:
        ok = acc["missed"] <= GOAL_MISSED and acc["wrong"] <= GOAL_WRONG
        print("IR decoder: %d frames of %d key presses and holds (%s) under a lamp at %d "
              "glitches/s, %d s simulated" % (
                  acc["frames"], acc["commands"],
                  ", ".join("%s %d" % (k, v[0]) for k, v in sorted(acc["per_protocol"].items())),
                  acc["lamp_glitches_per_s"], acc["simulated_s"]))
        print("  commands missed %d, wrong %d (goal 0 and 0): %s; repeat frames lost %d; "
              "%d glitches removed, %d frames refused" % (
                  acc["missed"], acc["wrong"], "ok" if ok else "MISSED", acc["repeats_lost"],
                  acc["glitches_removed"], acc["frames_rejected"]))
        print("IR decoder on the MicroPython VM: decoder %d B, receiver ring %d B, %d B "
              "allocated over %d frames (goal 0), %.0f us a frame on this machine's VM" % (
                  vm["decoder_bytes"], vm["ring_bytes"], vm["allocated"], vm["frames"],
                  vm["us_per_frame"]))
        ok = ok and vm["allocated"] == 0
        print("Knob latency (last edge of a detent -> PGA2311 frame, typical costs), without "
              "and with a remote's key held and the lamp on:")
        print("  %-14s %-6s %-10s %8s %8s %8s %10s" % ("board", "turn", "IR", "p50 ms",
                                                       "p99 ms", "max ms", "IR frames"))
        for r in lat:
            print("  %-14s %-6s %-10s %8.2f %8.2f %8.2f %10d" % (
                r["board"], r["turn"], "key + lamp" if r["ir"] else "none", r["p50_us"] / 1000,
                r["p99_us"] / 1000, r["max_us"] / 1000, r["ir_frames"]))
        return 0 if ok else 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
