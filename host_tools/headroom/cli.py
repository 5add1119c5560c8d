"""`headroom` command line: one table of subcommands (`COMMANDS`), each a `do_*` handler
with its argument factory, in mpremote's style. Handlers raise CommandError, which
carries the exit code (see errors.py: the same codes for every subcommand).
Output is for people; `--json` gives the machine form where there is one.
"""
import argparse
import json
import os
import sys

from .errors import BAD_INPUT, NO_BOARD, OK, PROBLEM, CommandError
from .sim.simboard import FIRMWARE_DIR

REPO = os.path.dirname(FIRMWARE_DIR)
DEFAULT_BOARD = os.path.join(REPO, "boards", "pico-se.json")


def default_script(board_path):
    stem = os.path.splitext(os.path.basename(board_path))[0]
    return os.path.join(REPO, "tests", "scenarios", stem + ".scn")


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
    from .sim.simboard import use_firmware
    use_firmware()
    from headroom_fw import board as boardfile
    try:
        b = boardfile.load(path)
    except boardfile.BoardError as e:
        msg = str(e)
        raise CommandError(msg if msg.startswith(path) else "%s: %s" % (path, msg), BAD_INPUT)
    for w in b.warnings:
        print("%s: warning: %s" % (path, w), file=sys.stderr)
    return b


# ---- sim

def args_sim(p):
    p.add_argument("--board", default=DEFAULT_BOARD, help="board file (default: pico-se)")
    p.add_argument("--script", help="scenario script (default: the board's scenario in tests/scenarios)")
    p.add_argument("--trace", help="write the JSON Lines trace here")
    p.add_argument("--seed", type=int, default=1, help="seed for contact bounce (default 1)")
    p.add_argument("-v", "--verbose", action="store_true", help="show pins, SPI frames and PGA states")
    p.add_argument("--check", action="store_true",
                   help="check the safety rules on every trace record (exit 1 naming the rule "
                        "and the time when one broke)")


def do_sim(args):
    from .sim import world
    from .sim.run import run_script
    from .sim.scenario import ScenarioError

    load_board(args.board)
    script = args.script or default_script(args.board)
    text = read_text(script, "scenario")
    try:
        trace_file = open(args.trace, "w") if args.trace else None
    except OSError as e:
        raise CommandError("cannot write the trace to %s: %s" % (args.trace, e.strerror), BAD_INPUT)
    try:
        result = run_script(args.board, text, trace_sink=trace_file, timeline=sys.stdout,
                            verbose=args.verbose, seed=args.seed, check=args.check)
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

def args_panel(p):
    p.add_argument("--board", default=DEFAULT_BOARD, help="board file (default: pico-se)")
    p.add_argument("--seed", type=int, default=1, help="seed for contact bounce (default 1)")
    p.add_argument("--speed", type=float, default=1.0,
                   help="virtual seconds per real second, 1/16 to 64 (default 1; [ and ] change it)")
    p.add_argument("--replay", help="a scenario script (a saved session) to run first, in real time")
    p.add_argument("--save", help="write the session here as a scenario script when the panel "
                   "closes (and on S)")
    p.add_argument("--trace", help="write the session's JSON Lines trace here when the panel closes "
                   "(with --save: the trace the saved script replays to)")
    p.add_argument("--attach", metavar="PORT",
                   help="instead of a simulated board: the virtual board running on PORT "
                        "(headroom virtual-board), its inputs sent to its control socket, what "
                        "its firmware reports on the screen")
    p.add_argument("--control", help="with --attach: the control socket (default: PORT + .control)")


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

def args_boards(p):
    p.add_argument("action", nargs="?", choices=("list", "check", "wiring"), default="list",
                   help="list (default), check FILE, or wiring FILE (a Markdown pin table)")
    p.add_argument("file", nargs="?", help="board file")


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
    for name in sorted(os.listdir(os.path.join(REPO, "boards"))):
        if name.endswith(".json"):
            try:
                b = load_board(os.path.join(REPO, "boards", name))
                print("%-24s %s" % (name, b.name))
            except CommandError as e:
                bad = PROBLEM
                print("%-24s INVALID: %s" % (name, e))
    return bad


# ---- headphones

def args_headphones(p):
    p.add_argument("action", choices=("list", "recommend"),
                   help="list the profiles, or recommend NAME: gain and output for a headphone on a board")
    p.add_argument("name", nargs="?", help="headphone (recommend): case, spaces and punctuation ignored")
    p.add_argument("--board", help="board file (recommend), e.g. boards/pico-se.json")
    p.add_argument("--target-spl", type=float, default=110.0,
                   help="peak SPL to reach, dB (default 110: NwAvGuy's target for music peaks)")
    p.add_argument("--output", choices=("se", "balanced"),
                   help="only this output (the one your cable fits)")
    p.add_argument("--profiles", help="your own profiles (default: ~/.config/headroom/headphones.json)")
    p.add_argument("--json", action="store_true", help="print JSON")


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
    from headroom_fw.board import OUTPUT_BALANCED, OUTPUT_SE, BoardError
    outputs = None if args.output is None else (
        (OUTPUT_SE,) if args.output == "se" else (OUTPUT_BALANCED,))
    try:
        rep = hph.report(hp, b, args.target_spl, outputs)
    except BoardError as e:
        raise CommandError("%s: %s" % (args.board, e), BAD_INPUT)
    print(json.dumps(rep) if args.json else hph.table(rep))
    return OK


# ---- talking to a board

def _port_arg(p):
    p.add_argument("--port", help="serial port (default: the one Pico attached)")
    p.add_argument("--json", action="store_true", help="print the reply as JSON")
    p.add_argument("--wait-s", type=float, default=None, metavar="S",
                   help="how long the board may stay silent before the command gives up "
                        "(default 5; a reply on its way keeps it waiting): for a slow board, "
                        "such as the emulated one")


def _reply_s(args):
    from .control import REPLY_S
    wait = getattr(args, "wait_s", None)
    if wait is None:
        return REPLY_S
    if not 1 <= wait <= 3600:
        raise CommandError("--wait-s must be 1 to 3600 seconds, got %g" % wait, BAD_INPUT)
    return wait


def _board(args, wait_s=None):
    from .control import Board
    from .port import WAIT_S, find_port
    return Board(args.port or find_port(), WAIT_S if wait_s is None else wait_s, say=say)


def _ask(args, line, resend=True):
    reply_s = _reply_s(args)
    board = _board(args, wait_s=max(reply_s, _port_wait()))
    try:
        # Asked again after a fifth of the wait in silence (a reply lost to a reset).
        reply = board.request(line, timeout=reply_s, resend_s=reply_s / 5 if resend else None)
    finally:
        board.close()
    if not reply.get("ok"):
        raise CommandError(reply.get("error", "refused"), PROBLEM)
    reply.pop("ok")
    return reply


def _port_wait():
    from .port import WAIT_S
    return WAIT_S


def _out(args, reply, text):
    print(json.dumps(reply) if args.json else text)
    return OK


def args_status(p):
    _port_arg(p)


def do_status(args):
    from .readable import state_line
    r = _ask(args, "status")
    return _out(args, r, state_line(r))


NAMES = ("volume", "balance", "gain", "output", "mute", "limit", "spl_limit", "gain_headroom",
         "headphone", "spl", "gain_stage")
SETTABLE = NAMES[:-2]


def args_get(p):
    _port_arg(p)
    p.add_argument("name", choices=NAMES)


def do_get(args):
    from .readable import value_text
    r = _ask(args, "get " + args.name)
    return _out(args, r, value_text(args.name, r[args.name]))


def args_set(p):
    _port_arg(p)
    p.add_argument("name", choices=SETTABLE + ("defaults",))
    p.add_argument("value", nargs="*",
                   help="dB (multiple of 0.5), low|high|auto, se|balanced, on|off; a headphone's "
                        "name (built-in, yours, or in the board's headphones.json) or none; "
                        "nothing for defaults")
    p.add_argument("--profiles", help="headphone: your own profiles (default: "
                                      "~/.config/headroom/headphones.json)")


def do_set(args):
    from .readable import value_text
    if (args.name == "defaults") != (not args.value):
        raise CommandError("%s %s" % (args.name, "takes no value" if args.name == "defaults"
                                      else "needs a value"), BAD_INPUT)
    if args.name == "defaults":
        r = _ask(args, "set defaults", resend=False)
        return _out(args, r, "defaults restored")
    if args.name == "headphone":
        return _set_headphone(args, " ".join(args.value))
    if len(args.value) != 1:
        raise CommandError("%s takes one value, got %d" % (args.name, len(args.value)), BAD_INPUT)
    r = _ask(args, "set %s %s" % (args.name, args.value[0]), resend=False)
    return _out(args, r, value_text(args.name, r[args.name]))


def _set_headphone(args, name):
    """A built-in or host profile goes as its figures; any other name to the board, for
    its own headphones.json."""
    from . import headphones as hph
    from .readable import headphone_text
    if name == "none":
        line = "set headphone none"
    else:
        profs, _ = hph.profiles(args.profiles)
        try:
            line = hph.command(hph.find(profs, name))
        except CommandError as e:
            if e.code != BAD_INPUT or "unknown headphone" not in str(e):
                raise
            board_line = "set headphone " + name
            if len(board_line) > 96 or not name.isascii():
                raise
            try:
                r = _ask(args, board_line, resend=False)
            except CommandError as b:
                raise CommandError("%s; the board: %s" % (e, b), BAD_INPUT)
            return _out(args, r, headphone_text(r))
    r = _ask(args, line, resend=False)
    return _out(args, r, headphone_text(r))


def args_log(p):
    _port_arg(p)


def do_log(args):
    r = _ask(args, "log")
    if args.json:
        print(json.dumps(r))
    else:
        text = r.get("log", "")
        sys.stdout.write(text if text else "(the log is empty: nothing has gone wrong)\n")
    return OK


def args_monitor(p):
    _port_arg(p)


def do_monitor(args):
    from .control import monitor
    from .readable import state_line
    reply_s = _reply_s(args)
    board = _board(args, wait_s=max(30.0, reply_s))
    board.connect()  # the port is ours (or busy) before anything else

    def state(obj):
        obj = dict(obj)
        obj.pop("ok", None)
        if args.json:
            print(json.dumps(obj), flush=True)
        else:
            print("%s: %s" % (board.port, state_line(obj)), flush=True)
            say("monitoring %s: every change is printed; Ctrl-C stops" % board.port)

    def event(obj):
        print(json.dumps(obj) if args.json else state_line(obj), flush=True)

    try:
        monitor(board, event, state, reply_s=reply_s)
    finally:
        board.close()
    return OK


# ---- flashing

def args_flash(p):
    p.add_argument("--board", required=True, help="board file, e.g. boards/pico-se.json")
    p.add_argument("--port", help="serial port (default: the one Pico attached)")
    p.add_argument("--firmware", default=FIRMWARE_DIR,
                   help="the firmware folder to install (default: this repository's firmware/)")
    p.add_argument("--wait-s", type=float, default=None, metavar="S",
                   help="after the reset, how long the board may show no sign of life (its "
                        "port back, a byte sent) before flash stops waiting for the new "
                        "firmware (default 60; the wait goes on while the board makes progress)")


def do_flash(args):
    from .flash import BOOT_S, flash
    from .port import find_port
    if args.wait_s is not None and not 1 <= args.wait_s <= 3600:
        raise CommandError("--wait-s must be 1 to 3600 seconds, got %g" % args.wait_s, BAD_INPUT)
    load_board(args.board)
    if not os.path.isfile(os.path.join(args.firmware, "main.py")):
        raise CommandError("%s has no main.py: not a firmware folder" % args.firmware, BAD_INPUT)
    flash(args.board, args.port or find_port(), say=say, firmware=args.firmware,
          wait_s=BOOT_S if args.wait_s is None else args.wait_s)
    return OK


def args_install(p):
    p.add_argument("--uf2", required=True, help="the MicroPython .uf2 for the Pico")
    p.add_argument("--drive", help="where the RPI-RP2 drive is mounted (default: look for it)")


def do_install(args):
    from .flash import install_micropython
    install_micropython(args.uf2, [args.drive] if args.drive else None)
    return OK


def args_uf2(p):
    p.add_argument("--micropython", required=True, metavar="FILE",
                   help="MicroPython's UF2 for the Raspberry Pi Pico (RPI_PICO, 1.24.x to 1.26.x, "
                        "from https://micropython.org/download/RPI_PICO/)")
    p.add_argument("--board", required=True, help="board file, e.g. boards/pico-se.json")
    p.add_argument("-o", "--output", metavar="FILE",
                   help="the UF2 to write (default: headroom-BOARD-micropython-RELEASE.uf2 here)")
    p.add_argument("--force", action="store_true", help="overwrite the output file if it exists")
    p.add_argument("--firmware", default=FIRMWARE_DIR,
                   help="the firmware folder to install (default: this repository's firmware/)")
    p.add_argument("--json", action="store_true", help="print what was written as JSON")


def do_uf2(args):
    from . import uf2
    load_board(args.board)
    if not os.path.isfile(os.path.join(args.firmware, "main.py")):
        raise CommandError("%s has no main.py: not a firmware folder" % args.firmware, BAD_INPUT)
    r = uf2.make(args.micropython, args.board, args.output, args.force, args.firmware)
    print(json.dumps(r) if args.json else uf2.describe(r))
    return OK


def args_vboard(p):
    from .vboard.launch import add_arguments
    add_arguments(p)
    p.set_defaults(board=None)
    p.add_argument("--send", action="append", metavar="LINE",
                   help="instead of starting a board: send an input line (turn +N [at R/s], "
                        "press, hold MS, switch gain|output ..., wait MS, power off|on|cycle) to "
                        "the virtual board running on --port, and wait until the board has done "
                        "it; repeat for several, in order")


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
                            ("--trace", args.trace), ("--lenient-watchdog", args.lenient_watchdog))
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


# name: (handler, argument factory, help)
COMMANDS = {
    "sim": (do_sim, args_sim, "run the firmware on a simulated board"),
    "panel": (do_panel, args_panel,
              "the simulated board's front panel, live in the terminal (the knob on the keys)"),
    "boards": (do_boards, args_boards, "list the board files, or check one"),
    "headphones": (do_headphones, args_headphones,
                   "headphone profiles: list them, or recommend a gain and output for one on a board"),
    "flash": (do_flash, args_flash,
              "copy the firmware and a board file to a Pico (incremental, verified), then check it runs"),
    "install-micropython": (do_install, args_install, "copy a MicroPython UF2 to a Pico in BOOTSEL mode"),
    "uf2": (do_uf2, args_uf2,
            "one UF2 for a Pico in BOOTSEL mode: your MicroPython UF2 with Headroom and a board "
            "file on its filesystem (a first install; it erases a board's settings)"),
    "virtual-board": (do_vboard, args_vboard,
                      "the firmware on a simulated board behind a serial port (mpremote works on it)"),
    "status": (do_status, args_status, "every setting and the state"),
    "get": (do_get, args_get, "one setting"),
    "set": (do_set, args_set, "change a setting (or restore the defaults)"),
    "monitor": (do_monitor, args_monitor, "print every change of state until Ctrl-C"),
    "log": (do_log, args_log, "the board's log: faults and what failed, with tracebacks"),
}


class _ArgError(CommandError):
    """Bad arguments: the message names the (sub)command itself."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # exit code 2 for bad arguments, without argparse's own exit
        raise _ArgError("%s: %s" % (self.prog, message), BAD_INPUT)


class _ValueParser(_Parser):
    """`set`'s: a value that starts with "-" is a value when it looks like a number
    (-20, -0.5, -inf, -nan), not an option (argparse takes only -20 and -0.5)."""

    def __init__(self, *a, **kw):
        _Parser.__init__(self, *a, **kw)
        import re
        self._negative_number_matcher = re.compile(r"^-(\d|\.\d|inf|nan)", re.IGNORECASE)


def build_parser():
    p = _Parser(prog="headroom", description="Headroom: firmware tools, simulator and board control. "
                "Exit codes: 0 ok, 1 problem or refused, 2 bad input, 3 no board to talk to.")
    sub = p.add_subparsers(dest="cmd", required=True, parser_class=_Parser)
    for name, (fn, add_args, text) in COMMANDS.items():
        sub._parser_class = _ValueParser if name == "set" else _Parser
        s = sub.add_parser(name, help=text, description=text)
        add_args(s)
        s.set_defaults(fn=fn)
    return p


def _stop_on_signals():
    """SIGINT (Ctrl-C) and SIGTERM stop every subcommand the same way, as
    KeyboardInterrupt: a monitor then tells the board `monitor off`. SIGINT is set even
    where it came ignored (a script's background job inherits it so), so that `kill -INT`
    stops a command as Ctrl-C does."""
    import signal

    def stop(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, stop)


def main(argv=None):
    prog = "headroom"
    if argv is None:
        _stop_on_signals()    # a process of its own (the tests call main() in theirs too)
    try:
        args = build_parser().parse_args(argv)
        prog = "headroom " + args.cmd
        return args.fn(args)
    except _ArgError as e:
        print(e, file=sys.stderr)
        return e.code
    except CommandError as e:
        print("%s: %s" % (prog, e), file=sys.stderr)
        return e.code
    except KeyboardInterrupt:
        print("%s: interrupted" % prog, file=sys.stderr)
        return PROBLEM
    except BrokenPipeError:
        # Whoever read our output stopped (`headroom monitor | head -1`): done. Nothing
        # more may go to that pipe, not even Python's flush at exit.
        try:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except (OSError, ValueError):
            pass
        return OK
    except OSError as e:
        if _port_failure(e):  # a port that went away mid-way
            print("%s: the board's port failed (%s): it may be resetting; try again" % (prog, e),
                  file=sys.stderr)
            return NO_BOARD
        # Anything else is this computer's, not the board's: said as it is.
        what = "%s: %s" % (e.filename, e.strerror) if e.filename else (e.strerror or str(e))
        print("%s: %s" % (prog, what), file=sys.stderr)
        return PROBLEM


def _port_failure(e):
    """True for an error of the board's port: pyserial's SerialException (which is an
    OSError), or the errors of a device that went away."""
    import errno
    try:
        from serial import SerialException
    except ImportError:
        SerialException = ()
    if isinstance(e, SerialException):
        return True
    return e.filename is None and e.errno in (errno.EIO, errno.ENXIO, errno.ENODEV)


if __name__ == "__main__":
    sys.exit(main())

