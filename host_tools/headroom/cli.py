"""`headroom` command line: one subcommand per job, each with its own --help.

Exit codes: 0 success, 1 the run found a problem (failed expectation, fault,
firmware crash) or the board refused a command, 2 bad input (arguments, board file,
scenario script), 3 no board to talk to (port missing, busy, or no reply).
"""
import argparse
import os
import sys

from .sim.simboard import FIRMWARE_DIR

REPO = os.path.dirname(FIRMWARE_DIR)
DEFAULT_BOARD = os.path.join(REPO, "boards", "pico-se.json")


def default_script(board_path):
    stem = os.path.splitext(os.path.basename(board_path))[0]
    return os.path.join(REPO, "tests", "scenarios", stem + ".scn")


def do_sim(args):
    from .sim import world
    from .sim.run import run_script
    from .sim.scenario import ScenarioError

    script = args.script or default_script(args.board)
    try:
        with open(script) as f:
            text = f.read()
    except OSError as e:
        print("headroom sim: cannot read script: %s" % e, file=sys.stderr)
        return 2
    trace_file = open(args.trace, "w") if args.trace else None
    try:
        result = run_script(args.board, text, trace_sink=trace_file, timeline=sys.stdout,
                            verbose=args.verbose, seed=args.seed)
    except ScenarioError as e:
        print("headroom sim: %s: %s" % (script, e), file=sys.stderr)
        return 2
    except world.SimFault as e:
        print("headroom sim: FAULT: %s" % e, file=sys.stderr)
        return 1
    except ValueError as e:  # BoardError
        print("headroom sim: %s" % e, file=sys.stderr)
        return 2
    finally:
        if trace_file:
            trace_file.close()
    for line, text, why in result.failures:
        print("line %d: %s: %s" % (line, text, why), file=sys.stderr)
    if result.crashes:
        print("headroom sim: the firmware crashed: %s" % result.crashes[0], file=sys.stderr)
    print("%d steps, %d expectations failed, %d flash writes, %.3f s simulated" % (
        result.steps, len(result.failures), result.flash_writes, result.t_us / 1e6))
    return 1 if result.failures or result.crashes else 0


def do_boards(args):
    from .sim.simboard import use_firmware
    use_firmware()
    from headroom_fw import board as boardfile
    if args.action in ("check", "wiring"):
        try:
            b = boardfile.load(args.file)
        except boardfile.BoardError as e:
            print("%s: %s" % (args.file, e), file=sys.stderr)
            return 2
        if args.action == "wiring":
            from .wiring import markdown
            sys.stdout.write(markdown(b))
            return 0
        print("%s: ok (%s, %d PGA2311, outputs: %s)" % (
            args.file, b.name, len(b.pga_roles) // 2,
            ", ".join(("se", "balanced")[o] for o in b.outputs)))
        return 0
    bad = 0
    for name in sorted(os.listdir(os.path.join(REPO, "boards"))):
        if name.endswith(".json"):
            path = os.path.join(REPO, "boards", name)
            try:
                b = boardfile.load(path)
                print("%-24s %s" % (name, b.name))
            except boardfile.BoardError as e:
                bad = 1
                print("%-24s INVALID: %s" % (name, e))
    return bad


def _port(args):
    from .control import find_port
    return args.port or find_port()


def do_control(args):
    """status / get / set / monitor over the control protocol."""
    import json

    from .control import ControlError, monitor, open_port, request
    try:
        ser = open_port(_port(args))
        try:
            if args.cmd == "monitor":
                monitor(ser, sys.stdout)
                return 0
            line = {"status": "status", "get": "get %s" % getattr(args, "name", ""),
                    "set": "set %s %s" % (getattr(args, "name", ""), getattr(args, "value", ""))}[args.cmd]
            reply = request(ser, line)
        finally:
            ser.close()
    except ControlError as e:
        print("headroom %s: %s" % (args.cmd, e), file=sys.stderr)
        return 3
    if not reply.get("ok"):
        print("headroom %s: %s" % (args.cmd, reply.get("error", "refused")), file=sys.stderr)
        return 1
    reply.pop("ok")
    print(json.dumps(reply))
    return 0


def do_flash(args):
    from .flash import FlashError, flash
    try:
        port = _port(args)
        flash(args.board, port)
    except (FlashError, ValueError) as e:
        print("headroom flash: %s" % e, file=sys.stderr)
        return 3 if "no Pico" in str(e) or "several Picos" in str(e) else 1
    except Exception as e:  # ControlError from find_port
        print("headroom flash: %s" % e, file=sys.stderr)
        return 3
    return 0


def do_install(args):
    from .flash import FlashError, install_micropython
    try:
        install_micropython(args.uf2, [args.drive] if args.drive else None)
    except FlashError as e:
        print("headroom install-micropython: %s" % e, file=sys.stderr)
        return 3 if "no RPI-RP2" in str(e) else 1
    return 0


def build_parser():
    p = argparse.ArgumentParser(prog="headroom", description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("sim", help="run the firmware on a simulated board")
    s.add_argument("--board", default=DEFAULT_BOARD, help="board file (default: pico-se)")
    s.add_argument("--script", help="scenario script (default: the board's scenario in tests/scenarios)")
    s.add_argument("--trace", help="write the JSON Lines trace here")
    s.add_argument("--seed", type=int, default=1, help="seed for contact bounce (default 1)")
    s.add_argument("-v", "--verbose", action="store_true", help="show pins, SPI frames and PGA states")
    s.set_defaults(fn=do_sim)
    b = sub.add_parser("boards", help="list the board files, or check one")
    b.add_argument("action", nargs="?", choices=("list", "check", "wiring"), default="list",
                   help="list (default), check FILE, or wiring FILE (a Markdown pin table)")
    b.add_argument("file", nargs="?", help="board file")
    b.set_defaults(fn=do_boards)
    f = sub.add_parser("flash", help="copy the firmware and a board file to a Pico (incremental, verified)")
    f.add_argument("--board", required=True, help="board file, e.g. boards/pico-se.json")
    f.add_argument("--port", help="serial port (default: the one Pico attached)")
    f.set_defaults(fn=do_flash)
    u = sub.add_parser("install-micropython", help="copy a MicroPython UF2 to a Pico in BOOTSEL mode")
    u.add_argument("--uf2", required=True, help="the MicroPython .uf2 for the Pico")
    u.add_argument("--drive", help="where the RPI-RP2 drive is mounted (default: look for it)")
    u.set_defaults(fn=do_install)
    v = sub.add_parser("virtual-board",
                       help="the firmware on a simulated board behind a pty (mpremote works on it)")
    from .vboard.supervisor import add_arguments, run
    add_arguments(v)
    v.set_defaults(fn=run)
    names = ("volume", "balance", "gain", "output", "mute", "limit")
    for name, text in (("status", "every setting and the state, as JSON"),
                       ("get", "one setting"), ("set", "change a setting"),
                       ("monitor", "print every change of state until Ctrl-C")):
        c = sub.add_parser(name, help=text)
        c.add_argument("--port", help="serial port (default: the one Pico attached)")
        if name in ("get", "set"):
            c.add_argument("name", choices=names)
        if name == "set":
            c.add_argument("value", help="dB (multiple of 0.5), low|high, se|balanced, on|off")
        c.set_defaults(fn=do_control)
    return p


def main(argv=None):
    args = build_parser().parse_args(argv)
    if args.cmd == "boards" and args.action != "list" and not args.file:
        print("headroom boards %s: name a board file" % args.action, file=sys.stderr)
        return 2
    return args.fn(args)


if __name__ == "__main__":
    sys.exit(main())
