"""`python -m headroom.vboard` and `headroom virtual-board`: the options, the checks and
claims before the board starts (claims.py), the signals, the Supervisor's run."""
import argparse
import os
import signal
import sys
import tempfile

from .blockdev import IMAGE_BYTES
from .claims import (
    DEFAULT_BOARD,
    check_board,
    check_port,
    check_trace,
    hold,
    load_board,
    make_image,
    our_link,
    remove,
    remove_lock,
)
from .supervisor import Supervisor


def add_arguments(p):
    """The virtual board's options, on an argparse parser (or a `headroom` subcommand's)."""
    p.add_argument("--board", default=DEFAULT_BOARD, help="board file: the hardware (default: pico-se)")
    p.add_argument("--image", help="the flash image (littlefs, 352 blocks of 4096 bytes); created "
                                   "when missing (default: a temporary file, deleted at exit)")
    p.add_argument("--port", help="where the serial port appears (a link to a pseudo-terminal; "
                                  "default: ttyACM0 in a temporary folder)")
    p.add_argument("--control", help="the control socket's path (default: the port's path + .control)")
    p.add_argument("--trace", help="write the simulator's JSON Lines trace here (one trace across "
                                   "the board's restarts)")
    p.add_argument("--web-port", type=int, metavar="N",
                   help="a Pico W board (a wifi section): the TCP port on 127.0.0.1 its web "
                        "remote is served on in place of the board's 80 (default: a free one; "
                        "the third line of output is the page's URL)")
    p.add_argument("--lenient-watchdog", action="store_true",
                   help="the watchdog stops with the firmware (Ctrl-C, soft reset); on the board "
                        "it keeps counting and resets the board unless fed")
    return p


def build_parser():
    return add_arguments(argparse.ArgumentParser(
        prog="virtual-board",
        description="Run the firmware from a flash image on the simulated board, behind a "
                    "serial port that behaves like the Pico's USB serial port. The first line "
                    "of output is the port's path, the second the control socket's, and on a "
                    "Pico W board the third the web remote's URL. Runs until interrupted; "
                    "SIGUSR1 cycles the power."))


def run(args):
    """Run the virtual board for parsed arguments (add_arguments); returns the exit status."""
    import shutil
    board = os.path.abspath(args.board)
    err = check_board(board)
    if err:
        print("virtual-board: %s: %s" % (args.board, err), file=sys.stderr)
        return 2
    web_port, err = _web_port(board, getattr(args, "web_port", None))
    if err:
        print("virtual-board: %s" % err, file=sys.stderr)
        return 2
    folder = tempfile.mkdtemp(prefix="headroom-vboard-")
    try:
        return _run(args, board, folder, web_port)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _web_port(board, asked):
    """(the host's TCP port for a Pico W's page, None) or (None, why not): `asked`, if it
    is free, else a free one the kernel gives; None on a board without wifi. Chosen once:
    every VM of this board (resets, power cycles) serves the page there."""
    wifi = load_board(board).wifi
    if wifi is None:
        if asked is not None:
            return None, "--web-port: %s has no wifi section (a Pico W's)" % os.path.basename(board)
        return None, None
    if asked is not None and not 1 <= asked <= 65535:
        return None, "--web-port must be 1 to 65535, got %d" % asked
    import socket
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)   # as the firmware's net.py
        try:
            s.bind(("127.0.0.1", asked or 0))
        except OSError as e:
            return None, "--web-port %d: cannot listen there (%s)" % (asked, e.strerror or e)
        return s.getsockname()[1], None


def _run(args, board, folder, web_port=None):
    temp = None
    if args.image:
        image = os.path.abspath(args.image)
        if not os.path.exists(image):
            try:
                make_image(image)
            except OSError as e:
                print("virtual-board: cannot create %s: %s" % (image, e.strerror), file=sys.stderr)
                return 2
        elif os.path.getsize(image) != IMAGE_BYTES:
            print("virtual-board: %s: %d bytes; a Pico flash image has %d (352 blocks of 4096)"
                  % (image, os.path.getsize(image), IMAGE_BYTES), file=sys.stderr)
            return 2
    else:
        temp = image = os.path.join(folder, "flash.img")
        make_image(image)
    trace = os.path.abspath(args.trace) if args.trace else None
    err = check_trace(trace) if trace else None
    if err:
        print("virtual-board: %s" % err, file=sys.stderr)
        return 2
    port = os.path.abspath(args.port) if args.port else os.path.join(folder, "ttyACM0")
    from .client import control_path
    control = control_path(port, args.control)
    held = []   # what this board has to itself: closed (let go) at exit

    def let_go():
        for f in held:
            f.close()
    # The image itself is locked; the port (a link that comes and goes) by a lock file
    # beside it, made and removed by the board that holds it.
    lock = hold(image)
    if lock is None:
        print("virtual-board: %s is in use by another virtual board" % image, file=sys.stderr)
        return 2
    held.append(lock)
    port_lock = port + ".lock"
    try:
        plock = hold(port_lock)
    except OSError as e:
        let_go()
        print("virtual-board: cannot make the port at %s: %s" % (port, e.strerror or e),
              file=sys.stderr)
        return 2
    if plock is None:
        let_go()
        print("virtual-board: %s is the port of another virtual board (still running)" % port,
              file=sys.stderr)
        return 2
    held.append(plock)
    err = check_port(port, control)
    if err:
        let_go()
        remove_lock(port_lock)
        print("virtual-board: %s" % err, file=sys.stderr)
        return 2
    try:
        sup = Supervisor(board, image, port, control, trace,
                         board_watchdog=not args.lenient_watchdog, web_port=web_port)
    except OSError as e:
        print("virtual-board: cannot make the port or the control socket: %s" % e, file=sys.stderr)
        if our_link(port):
            remove(port)  # made by the Supervisor before it failed
        remove_lock(port_lock)
        let_go()
        return 2

    def stop(signum, frame):
        sup.stop = True

    def power_cycle(signum, frame):
        sup.power_cycle = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGHUP, stop)
    signal.signal(signal.SIGUSR1, power_cycle)
    signal.set_wakeup_fd(sup.wake_w)
    print(sup.path, flush=True)
    print(control, flush=True)
    if web_port is not None:
        print("http://127.0.0.1:%d/" % web_port, flush=True)
    print("virtual-board: %s on %s (control socket %s), image %s%s" % (
        os.path.basename(board), sup.path, control, image, " (temporary)" if temp else ""),
        file=sys.stderr, flush=True)
    try:
        sup.run()
    finally:
        # However the loop ended (an exception too), the VM goes with the board.
        if sup.vm is not None:
            sup.vm.close()
        sup.unplug()
        if sup.control is not None:
            sup.control.close()
        remove_lock(port_lock)  # still held: no other board can have taken it meanwhile
        let_go()
    return sup.status


def main(argv=None):
    return run(build_parser().parse_args(argv))
