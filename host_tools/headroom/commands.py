"""The `headroom` subcommands that work on files and simulated boards: sim, panel,
boards, headphones, uf2, virtual-board (the table and the arguments: cli.py; the
commands that talk to a board on a serial port: board_commands.py). Each `do_*` returns
the exit code or raises CommandError (errors.py), and the shared pieces for reading the
user's files (`read_text`, `load_board`) are here.
"""
import argparse
import json
import os
import sys

from .errors import BAD_INPUT, OK, PROBLEM, CommandError
from .firmware import pure
from .paths import BOARDS_DIR, SCENARIOS_DIR


def default_script(board_path):
    stem = os.path.splitext(os.path.basename(board_path))[0]
    return os.path.join(SCENARIOS_DIR, stem + ".scn")


def say(msg):
    print(msg, file=sys.stderr, flush=True)


def read_text(path, what):
    """A text file's contents, or CommandError(BAD_INPUT) saying why not."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise CommandError("cannot read %s %s: %s" % (what, path, e.strerror or e), BAD_INPUT)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise CommandError("%s %s is not UTF-8 text (byte 0x%02x at offset %d)"
                           % (what, path, data[e.start], e.start), BAD_INPUT)


def load_board(path):
    """The validated board, or CommandError(BAD_INPUT) naming the file and the field."""
    boardfile = pure("board")
    try:
        b = boardfile.load(path)
    except boardfile.BoardError as e:
        msg = str(e)
        raise CommandError(msg if msg.startswith(path) else "%s: %s" % (path, msg), BAD_INPUT)
    for w in b.warnings:
        print("%s: warning: %s" % (path, w), file=sys.stderr)
    return b



# ---- sim

def do_sim(args):
    from .sim import world
    from .sim.run import run_script
    from .sim.scenario import ScenarioError

    board = load_board(args.board)
    script = args.script or default_script(args.board)
    text = read_text(script, "scenario")
    png = getattr(args, "display_png", None)
    if png is not None:
        if not os.path.isdir(png):
            raise CommandError("--display-png: %s is not a folder (make it first)" % png, BAD_INPUT)
        if board.display is None:
            raise CommandError("--display-png: %s has no display section" % args.board, BAD_INPUT)
    try:
        trace_file = open(args.trace, "w") if args.trace else None
    except OSError as e:
        raise CommandError("cannot write the trace to %s: %s" % (args.trace, e.strerror), BAD_INPUT)
    try:
        result = run_script(args.board, text, trace_sink=trace_file, timeline=sys.stdout,
                            verbose=args.verbose, seed=args.seed, check=args.check,
                            display_png=png)
    except ScenarioError as e:
        raise CommandError("%s: %s" % (script, e), BAD_INPUT)
    except world.SimFault as e:
        raise CommandError("FAULT: %s" % e, PROBLEM)
    finally:
        if trace_file:
            trace_file.close()
    for line, text, why in result.failures:
        say("line %d: %s: %s" % (line, text, why))
    if result.crashes:
        say("headroom sim: the firmware crashed: %s" % result.crashes[0])
    for t, rule, msg in result.violations:
        say("%.3f s: safety rule %s broken: %s" % (t / 1e6, rule, msg))
    print("%d steps, %d expectations failed, %d flash writes, %.3f s simulated%s" % (
        result.steps, len(result.failures), result.flash_writes, result.t_us / 1e6,
        ", %d safety rules broken" % len(result.violations) if args.check else ""))
    return PROBLEM if result.failures or result.crashes or result.violations else OK


# ---- panel

def do_panel(args):
    from .panel.session import SPEEDS
    from .sim.scenario import ScenarioError

    if args.attach or args.control:
        return _attach(args)
    # Checked with or without a terminal: the same arguments are refused the same way.
    if not SPEEDS[0] <= args.speed <= SPEEDS[-1]:
        raise CommandError("--speed must be 1/16 to 64, got %g" % args.speed, BAD_INPUT)
    load_board(args.board)
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        # No terminal (CI, a pipe): the scripted timeline, exactly as `headroom sim` gives it.
        if args.save or args.trace:
            raise CommandError("--save and --trace need a terminal (the panel is interactive); "
                               "headroom sim --trace writes a script's trace", BAD_INPUT)
        # The safety rules are checked too, as the panel does live: exit 1 when one broke.
        return do_sim(argparse.Namespace(board=args.board, script=args.replay, trace=None,
                                         seed=args.seed, verbose=False, check=True))
    text = read_text(args.replay, "scenario") if args.replay else None
    for path in (args.save, args.trace):
        folder = os.path.dirname(os.path.abspath(path)) if path else None
        if folder and (not os.path.isdir(folder) or not os.access(folder, os.W_OK)):
            raise CommandError("cannot write to %s: no such folder, or not writable" % path,
                               BAD_INPUT)
    from .panel.app import PanelApp
    from .panel.session import Session
    try:
        session = Session(args.board, seed=args.seed, replay=text, speed=args.speed)
    except ScenarioError as e:
        raise CommandError("%s: %s" % (args.replay, e), BAD_INPUT)
    PanelApp(session, save_path=args.save).run()
    for path, write in ((args.save, session.save), (args.trace, _write_trace(session))):
        if path:
            try:
                write(path)
            except OSError as e:
                raise CommandError("cannot write to %s: %s" % (path, e.strerror or e), BAD_INPUT)
    sim = session.board.sim
    say("%.3f s simulated, %d lines recorded%s" % (
        session.board.now_us() / 1e6, len(session.lines),
        ", saved to %s" % args.save if args.save else ""))
    for t, rule, msg in session.checker.violations:
        say("%.3f s: safety rule %s broken: %s" % (t / 1e6, rule, msg))
    for line, text, why in session.failures():
        say("line %d: %s: %s" % (line, text, why))
    if session.stopped is not None:
        say("headroom panel: FAULT: %s" % session.stopped)
    bad = session.stopped or session.checker.violations or session.failures() or sim.crashes
    return PROBLEM if bad else OK


def _attach(args):
    """--attach: the panel on a running virtual board."""
    if not args.attach:
        raise CommandError("--control goes with --attach PORT", BAD_INPUT)
    extra = [o for o, v in (("--replay", args.replay), ("--save", args.save),
                            ("--trace", args.trace)) if v]
    if extra:
        raise CommandError("%s: for the simulated panel, not with --attach (the virtual board "
                           "keeps its own trace: headroom virtual-board --trace)" % ", ".join(extra),
                           BAD_INPUT)
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise CommandError("--attach needs a terminal; from a script, `headroom virtual-board "
                           "--port PORT --send LINE` sends the inputs", BAD_INPUT)
    from .panel.attached import Attached
    from .panel.attached_app import AttachedApp
    hands = Attached(args.attach, args.control)
    try:
        AttachedApp(hands).run()
    finally:
        hands.close()
    return OK


def _write_trace(session):
    def write(path):
        with open(path, "w") as f:
            f.write(session.board.trace.text())
    return write


# ---- boards

def do_boards(args):
    if args.action != "list":
        if not args.file:
            raise CommandError("boards %s: name a board file" % args.action, BAD_INPUT)
        b = load_board(args.file)
        if args.action == "wiring":
            from .wiring import markdown
            sys.stdout.write(markdown(b))
            return OK
        print("%s: ok (%s, %d PGA2311, outputs: %s)" % (
            args.file, b.name, len(b.pga_roles) // 2,
            ", ".join(("se", "balanced")[o] for o in b.outputs)))
        return OK
    bad = OK
    for name in sorted(os.listdir(BOARDS_DIR)):
        if name.endswith(".json"):
            try:
                b = load_board(os.path.join(BOARDS_DIR, name))
                print("%-24s %s" % (name, b.name))
            except CommandError as e:
                bad = PROBLEM
                print("%-24s INVALID: %s" % (name, e))
    return bad


# ---- headphones

def do_headphones(args):
    from . import headphones as hph
    profs, own = hph.profiles(args.profiles)
    if args.action == "list":
        if args.name or args.board:
            raise CommandError("headphones list takes no name or board", BAD_INPUT)
        if args.json:
            print(json.dumps([hph.entry(hp, hp.name in own) for hp in profs]))
        else:
            for hp in profs:
                print(hph.list_line(hp, hp.name in own))
        return OK
    if not args.name:
        raise CommandError("headphones recommend: name a headphone (see `headroom headphones list`)",
                           BAD_INPUT)
    if not args.board:
        raise CommandError("headphones recommend: name a board file with --board", BAD_INPUT)
    if not 60 <= args.target_spl <= 140:
        raise CommandError("--target-spl: %g dB is outside 60..140" % args.target_spl, BAD_INPUT)
    hp = hph.find(profs, args.name)
    b = load_board(args.board)
    boardfile = pure("board")
    OUTPUT_BALANCED, OUTPUT_SE, BoardError = (boardfile.OUTPUT_BALANCED, boardfile.OUTPUT_SE,
                                              boardfile.BoardError)
    outputs = None if args.output is None else (
        (OUTPUT_SE,) if args.output == "se" else (OUTPUT_BALANCED,))
    try:
        rep = hph.report(hp, b, args.target_spl, outputs)
    except BoardError as e:
        raise CommandError("%s: %s" % (args.board, e), BAD_INPUT)
    print(json.dumps(rep) if args.json else hph.table(rep))
    return OK


# ---- uf2, virtual-board

def do_uf2(args):
    from . import uf2
    load_board(args.board)
    if not os.path.isfile(os.path.join(args.firmware, "main.py")):
        raise CommandError("%s has no main.py: not a firmware folder" % args.firmware, BAD_INPUT)
    r = uf2.make(args.micropython, args.board, args.output, args.force, args.firmware)
    print(json.dumps(r) if args.json else uf2.describe(r))
    return OK



def do_vboard(args):
    if args.send:
        return _send_inputs(args)
    from .vboard.claims import DEFAULT_BOARD as VBOARD_DEFAULT
    from .vboard.launch import run
    args.board = args.board or VBOARD_DEFAULT
    return run(args)


def _send_inputs(args):
    """--send: input lines to a running virtual board, one after another, each once the one
    before it is over on the board."""
    from .vboard.client import ControlClient, control_path
    from .vboard.inputs import InputError, duration_us, parse
    extra = [o for o, v in (("--board", args.board), ("--image", args.image),
                            ("--trace", args.trace), ("--lenient-watchdog", args.lenient_watchdog),
                            ("--web-port", args.web_port))
             if v]
    if extra:
        raise CommandError("--send talks to a running virtual board; %s start%s one"
                           % (", ".join(extra), "s" if len(extra) == 1 else ""), BAD_INPUT)
    if not (args.port or args.control):
        raise CommandError("--send needs the virtual board's --port (or its --control socket)",
                           BAD_INPUT)
    steps = []
    for line in args.send:
        try:
            steps.append((line, parse(line, None)))
        except InputError as e:
            raise CommandError("%s: %s" % (_quote(line), e), BAD_INPUT)
    client = ControlClient(control_path(args.port, args.control))
    try:
        for line, step in steps:
            answer = client.ask(line, 30 + 2 * duration_us(step) / 1e6)
            if answer != "ok":
                raise CommandError("%s: %s" % (_quote(line), answer[7:] if answer.startswith(
                    "error: ") else answer), PROBLEM)
            print("%s: done" % line, flush=True)
    finally:
        client.close()
    return OK


def _quote(line, n=60):
    """A line as an error quotes it: cut to a readable length (a line can be megabytes)."""
    return repr(line) if len(line) <= n else "%r... (%d characters)" % (line[:n], len(line))
