"""Power cuts at every block operation of a settings save, on the real filesystem.

Runs on the MicroPython Unix port (`python -m headroom.powercut` starts it):

    micropython -X heapsize=8M powercut.py BOARD WORKDIR SAVES BOOT_EVERY [broken]

The firmware's own SettingsStore writes to a littlefs image mounted through
`vfs.VfsLfs2`, with the Pico's geometry (blockdev.py: 4096-byte blocks, 352 of them,
progsize 256), over a block device whose power can go at any block operation: either
between two operations (the cut lands after the previous write) or in the middle of one
(half of it reaches the image). For each of SAVES saves in a row, and every operation
of that save, twice (between, in the middle): a copy of the image as it was before the
save, the cut, then a fresh mount of what is left. It must mount, and the settings
must read back as the old ones or the new ones, exactly: never corrupt, never lost.
Every BOOT_EVERY-th cut point also boots the firmware on the simulated board from
that image: silent until the settle delay (the trace checker's rules), then the level
of the settings it read (capped at the start-up limit).

`broken`: the save replaced by one that rewrites a single file in two steps (as a
store without the A/B pair might): the harness must find corruptions then.

Prints one JSON line: {"saves", "ops", "cut_points", "corruptions", "boots",
"violations", "problems": [first few, in words]}. Exit status 0 when there are none.
"""
import os
import sys

_file = __file__ if __file__.startswith("/") else os.getcwd() + "/" + __file__
_here = _file[:_file.rfind("/")]
_host = _here[:_here.rfind("/headroom/vboard")]
_repo = _host[:_host.rfind("/")]

import time as realtime  # noqa: E402 - the VM's own, before the shims shadow it

sys.modules.pop("time", None)
sys.path.insert(0, _host)
sys.path.insert(0, _host + "/headroom/sim/shims")
sys.path.insert(0, _repo + "/firmware")

import vfs  # noqa: E402

from headroom.vboard.blockdev import BLOCK_COUNT, BLOCK_SIZE, PROG_SIZE, FileBlockDev  # noqa: E402

MOUNT = "/flash"


class PowerCut(Exception):
    pass


class Gate:
    """Counts block operations; at operation `at` the power goes (mid: half of it written)."""

    def __init__(self, at=None, mid=False):
        self.n = 0
        self.at = at
        self.mid = mid
        self.dead = False

    def op(self):
        if self.dead:
            raise PowerCut()  # no power: nothing more reaches the flash
        i = self.n
        self.n += 1
        if i == self.at:
            if self.mid:
                return True   # FileBlockDev writes half, then calls lost()
            self.dead = True
            raise PowerCut()
        return False

    def lost(self):
        self.dead = True
        raise PowerCut()


class _Gone:
    """The image after a cut: the abandoned mount's files still get closed by the garbage
    collector later, and must neither reach the image nor print errors."""

    def seek(self, pos):
        pass

    def readinto(self, buf):
        for i in range(len(buf)):
            buf[i] = 0xFF
        return len(buf)

    def write(self, data):
        return len(data)

    def close(self):
        pass


def _copy(src, dst):
    with open(src, "rb") as a, open(dst, "wb") as b:
        buf = bytearray(BLOCK_SIZE)
        while True:
            n = a.readinto(buf)
            if not n:
                break
            b.write(buf[:n] if n < len(buf) else buf)


def _mount(image, gate=None, fresh=False):
    """Mount an image at MOUNT; returns its block device."""
    bdev = FileBlockDev(open(image, "r+b"), BLOCK_SIZE, BLOCK_COUNT, gate)
    if fresh:
        vfs.VfsLfs2.mkfs(bdev, progsize=PROG_SIZE)
    fs = vfs.VfsLfs2(bdev, progsize=PROG_SIZE)
    vfs.mount(fs, MOUNT)
    return bdev


def _umount(bdev):
    try:
        vfs.umount(MOUNT)
    except OSError:
        pass
    bdev.f.close()
    bdev.f = _Gone()
    bdev.gate = None


def _values(board, i):
    """The settings of save i: the volume moves, and every third save lowers the limit,
    every twelfth raises it again (a save that writes both copies)."""
    span = board.limit_hdb - board.min_hdb
    limit = board.limit_hdb - (i // 3) % 4
    volume = min(limit, board.min_hdb + (7 * i + 11) % span)
    return (volume, (i % 9) - 4, i % 2, board.outputs[i % len(board.outputs)], limit)


def _as_dict(v):
    return {"volume": v[0], "balance": v[1], "gain": v[2], "output": v[3], "limit": v[4]}


def _outcomes(old, new):
    """What a cut save may leave: the old settings or the new; and for a save that
    raises the limit (it writes both copies), the new ones under the old, lower limit
    (cut between the two writes: a raise can be lost, a lowering never)."""
    out = [old, new]
    if new["limit"] > old["limit"]:
        out.append(dict(new, limit=old["limit"], volume=min(new["volume"], old["limit"])))
    return out


def _boot(board_path, board, want, problems):
    """The firmware on the simulated board, from the image at MOUNT: muted until the
    settle delay, then the settings' level. Returns the checker's violations."""
    from headroom.sim import world
    from headroom.sim.invariants import Checker
    from headroom.sim.simboard import SimBoard
    world.realtime = realtime
    b = SimBoard(board_path, flash_dir=MOUNT, keep_trace=False, decoder="irq")
    c = Checker(b.board)
    b.trace.listeners.append(c.live)
    b.power(True)
    b.run_ms(board.settle_ms - 1)
    if b.jack.levels != (None, None):
        problems.append("sound before the settle delay: %r" % (b.jack.levels,))
    # until it plays: the settle delay's end and the fade-in, however long the boot took
    # (a limit only against a board that never does)
    from headroom_fw.controller import PLAYING
    last = None
    for _ in range(400):
        b.run_ms(50)
        if b.app is not None and b.app.ctl.phase == PLAYING:
            if b.jack.levels == last:
                break   # the fade-in is over (a step comes every ramp interval, < 50 ms)
            last = b.jack.levels
    volume = min(want["volume"], board.startup_max_hdb, b.app.ctl.max_volume())
    got = b.jack.levels
    loud = max(x for x in got if x is not None) if got != (None, None) else None
    if volume * 50 >= b.board.path_cdb(b.app.ctl.gain, b.app.ctl.output) - 9550 and (
            loud is None or not volume * 50 - 50 < loud <= volume * 50 + 1):
        problems.append("booted to %r cdB, the settings say %d hdB" % (loud, volume))
    c.finish(b.now_us())
    b.power(False)
    b.run_ms(100)
    b.close()
    return len(c.violations)


def _break(store_class):
    """A save that writes one file, half and then the rest: a cut between leaves junk."""
    def save(self, volume, balance, gain, output, limit):
        from headroom_fw.settings import _db
        text = ('{"v": 1, "volume": %s, "balance": %s, "gain": "%s", "output": "%s", '
                '"limit": %s}' % (_db(volume), _db(balance), ("low", "high")[gain],
                                  ("se", "balanced")[output], _db(limit)))
        with open(self.path, "w") as f:
            f.write(text[:20])
        with open(self.path, "a") as f:
            f.write(text[20:])
    store_class.save = save


def run(board_path, workdir, saves, boot_every, broken=False):
    from headroom_fw import board as boardfile
    from headroom_fw.settings import SettingsStore
    if broken:
        _break(SettingsStore)
    board = boardfile.load(board_path)
    base = workdir + "/base.img"
    work = workdir + "/cut.img"
    with open(base, "wb") as f:
        f.write(b"\xff" * (BLOCK_SIZE * BLOCK_COUNT))
    f = _mount(base, fresh=True)
    with open(board_path) as src, open(MOUNT + "/board.json", "w") as dst:
        dst.write(src.read())
    store = SettingsStore(MOUNT + "/settings.json", board)
    store.load()
    store.save(*_values(board, 0))
    _umount(f)
    out = {"saves": saves, "ops": 0, "cut_points": 0, "corruptions": 0, "boots": 0,
           "violations": 0, "problems": []}
    problems = out["problems"]
    for i in range(1, saves + 1):
        old, new = _as_dict(_values(board, i - 1)), _as_dict(_values(board, i))
        # How many block operations this save takes, uncut.
        _copy(base, work)
        gate = Gate()
        f = _mount(work, gate)
        SettingsStore(MOUNT + "/settings.json", board).load()
        gate.n = 0
        s = SettingsStore(MOUNT + "/settings.json", board)
        s.load()
        gate.n = 0
        s.save(*_values(board, i))
        ops = gate.n
        _umount(f)
        out["ops"] += ops
        for at in range(ops):
            for mid in (False, True):
                out["cut_points"] += 1
                _copy(base, work)
                gate = Gate()
                f = _mount(work, gate)
                s = SettingsStore(MOUNT + "/settings.json", board)
                s.load()
                gate.n = 0
                gate.at = at
                gate.mid = mid
                try:
                    s.save(*_values(board, i))
                    problems.append("save %d: the cut at op %d never came" % (i, at))
                except PowerCut:
                    pass
                _umount(f)
                try:
                    f = _mount(work)
                except OSError as e:
                    out["corruptions"] += 1
                    problems.append("save %d, cut at op %d%s: does not mount (%s)" % (
                        i, at, " (mid)" if mid else "", e))
                    continue
                got = SettingsStore(MOUNT + "/settings.json", board).load()
                if got not in _outcomes(old, new):
                    out["corruptions"] += 1
                    problems.append("save %d, cut at op %d%s: read %r, neither %r nor %r" % (
                        i, at, " (mid)" if mid else "", got, old, new))
                elif boot_every and out["cut_points"] % boot_every == 0:
                    out["boots"] += 1
                    out["violations"] += _boot(board_path, board, got, problems)
                _umount(f)
        # The save, uncut, for the next round.
        f = _mount(base)
        s = SettingsStore(MOUNT + "/settings.json", board)
        s.load()
        s.save(*_values(board, i))
        _umount(f)
    del problems[5:]
    return out


def main(argv):
    if len(argv) < 5:
        print(__doc__)
        return 2
    try:
        os.mkdir(MOUNT)
    except OSError:
        pass
    out = run(argv[1], argv[2], int(argv[3]), int(argv[4]), argv[5:] == ["broken"])
    import json
    print(json.dumps(out))
    return 1 if out["corruptions"] or out["violations"] or out["problems"] else 0


sys.exit(main(sys.argv))
