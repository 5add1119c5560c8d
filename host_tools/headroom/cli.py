"""`headroom` command line, laid out as mpremote's: this module is the table of
subcommands (`COMMANDS`: name -> handler, argument factory, help), the argument
factories and the parser; the handlers are in commands.py (files and simulated boards)
and board_commands.py (a board on a serial port). Handlers raise CommandError, which
carries the exit code (see errors.py: the same codes for every subcommand). Output is
for people; `--json` gives the machine form where there is one.
"""
import argparse
import os
import sys

from . import board_commands as board
from . import commands
from .errors import BAD_INPUT, NO_BOARD, OK, PROBLEM, CommandError
from .paths import DEFAULT_BOARD, FIRMWARE_DIR


def protocol_names():
    """The names `get` takes and those `set` takes, from the firmware's protocol module
    (the one place the protocol's vocabulary is written; requests.py)."""
    from . import requests
    return requests.NAMES, requests.SETTABLE


def args_sim(p):
    p.add_argument("--board", default=DEFAULT_BOARD, help="board file (default: pico-se)")
    p.add_argument("--script", help="scenario script (default: the board's scenario in tests/scenarios)")
    p.add_argument("--trace", help="write the JSON Lines trace here")
    p.add_argument("--seed", type=int, default=1, help="seed for contact bounce (default 1)")
    p.add_argument("-v", "--verbose", action="store_true", help="show pins, SPI frames and PGA states")
    p.add_argument("--display-png", metavar="DIR",
                   help="write a PNG of the board's display at every expectation into DIR")
    p.add_argument("--check", action="store_true",
                   help="check the safety rules on every trace record (exit 1 naming the rule "
                        "and the time when one broke)")


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


def args_boards(p):
    p.add_argument("action", nargs="?", choices=("list", "check", "wiring"), default="list",
                   help="list (default), check FILE, or wiring FILE (a Markdown pin table)")
    p.add_argument("file", nargs="?", help="board file")


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


def _port_arg(p):
    p.add_argument("--port", help="serial port (default: the one Pico attached)")
    p.add_argument("--json", action="store_true", help="print the reply as JSON")
    p.add_argument("--wait-s", type=float, default=None, metavar="S",
                   help="how long the board may stay silent before the command gives up "
                        "(default 5; a reply on its way keeps it waiting): for a slow board, "
                        "such as the emulated one")


def args_status(p):
    _port_arg(p)


def args_get(p):
    _port_arg(p)
    p.add_argument("name", choices=protocol_names()[0])


def args_set(p):
    _port_arg(p)
    p.add_argument("name", choices=protocol_names()[1] + ("defaults",))
    p.add_argument("value", nargs="*",
                   help="dB (multiple of 0.5), low|high|auto, se|balanced, on|off; a headphone's "
                        "name (built-in, yours, or in the board's headphones.json) or none; "
                        "nothing for defaults")
    p.add_argument("--profiles", help="headphone: your own profiles (default: "
                                      "~/.config/headroom/headphones.json)")


def args_log(p):
    _port_arg(p)


def args_monitor(p):
    _port_arg(p)


def args_input(p):
    _port_arg(p)
    p.add_argument("name", nargs="?",
                   help="an input the board file names (inputs.names, any case): chosen under "
                        "the muting, faded back in; none: say which")


def args_standby(p):
    _port_arg(p)
    p.add_argument("state", nargs="?", choices=("on", "off"),
                   help="on: the trigger drops, the outputs mute, the relays release; off: wake "
                        "(the muted start, the fade-in to the level it had); none: say which")


def args_remote(p):
    _port_arg(p)
    p.add_argument("action", nargs="?", choices=("show", "learn", "defaults", "clear"),
                   default="show",
                   help="show the keys; learn keys (each function's, in turn, or those named); "
                        "defaults: the Apple and kit remotes' keys; clear: no key")
    p.add_argument("functions", nargs="*", metavar="FUNCTION",
                   help="learn: volume_up, volume_down, mute, menu, input, standby (default: all)")
    p.add_argument("--fresh", action="store_true",
                   help="learn: forget every key first (a new remote, whose keys the old map has)")


def args_wifi(p):
    _port_arg(p)
    p.add_argument("action", nargs="?", choices=("show", "set", "off", "pair", "forget-devices"),
                   default="show",
                   help="show: the link, the page's address, the phones paired (never the key); "
                        "set SSID: join that network (the key is asked for, not echoed; read "
                        "from standard input when that is not a terminal); off: forget the "
                        "network; pair: a pairing code for the page; forget-devices: every "
                        "phone must pair again")
    p.add_argument("ssid", nargs="?", metavar="SSID",
                   help="set: the network's name (quoted when it has spaces)")
    p.add_argument("--open", action="store_true",
                   help="set: a network without a key (none is asked for)")


def args_flash(p):
    p.add_argument("--board", required=True, help="board file, e.g. boards/pico-se.json")
    p.add_argument("--port", help="serial port (default: the one Pico attached)")
    p.add_argument("--firmware", default=FIRMWARE_DIR,
                   help="the firmware folder to install (default: this repository's firmware/)")
    p.add_argument("--wait-s", type=float, default=None, metavar="S",
                   help="after the reset, how long the board may show no sign of life (its "
                        "port back, a byte sent) before flash stops waiting for the new "
                        "firmware (default 60; the wait goes on while the board makes progress)")


def args_install(p):
    p.add_argument("--uf2", required=True, help="the MicroPython .uf2 for the Pico")
    p.add_argument("--drive", help="where the RPI-RP2 drive is mounted (default: look for it)")


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


def args_vboard(p):
    from .vboard.launch import add_arguments
    add_arguments(p)
    p.set_defaults(board=None)
    p.add_argument("--send", action="append", metavar="LINE",
                   help="instead of starting a board: send an input line (turn +N [at R/s], "
                        "press, hold MS, switch gain|output ..., wait MS, power off|on|cycle) to "
                        "the virtual board running on --port, and wait until the board has done "
                        "it; repeat for several, in order")



# name: (handler, argument factory, help)
COMMANDS = {
    "sim": (commands.do_sim, args_sim, "run the firmware on a simulated board"),
    "panel": (commands.do_panel, args_panel,
              "the simulated board's front panel, live in the terminal (the knob on the keys)"),
    "boards": (commands.do_boards, args_boards, "list the board files, or check one"),
    "headphones": (commands.do_headphones, args_headphones,
                   "headphone profiles: list them, or recommend a gain and output for one on a board"),
    "flash": (board.do_flash, args_flash,
              "copy the firmware and a board file to a Pico (incremental, verified), then check it runs"),
    "install-micropython": (board.do_install, args_install,
                            "copy a MicroPython UF2 to a Pico in BOOTSEL mode"),
    "uf2": (commands.do_uf2, args_uf2,
            "one UF2 for a Pico in BOOTSEL mode: your MicroPython UF2 with Headroom and a board "
            "file on its filesystem (a first install; it erases a board's settings)"),
    "virtual-board": (commands.do_vboard, args_vboard,
                      "the firmware on a simulated board behind a serial port (mpremote works on it)"),
    "status": (board.do_status, args_status, "every setting and the state"),
    "get": (board.do_get, args_get, "one setting"),
    "set": (board.do_set, args_set, "change a setting (or restore the defaults)"),
    "monitor": (board.do_monitor, args_monitor, "print every change of state until Ctrl-C"),
    "log": (board.do_log, args_log, "the board's log: faults and what failed, with tracebacks"),
    "input": (board.do_input, args_input,
              "the input the music comes from (each keeps its own trim: `set trim DB`)"),
    "standby": (board.do_standby, args_standby,
                "standby on or off (a turn, a press or the remote wakes it too)"),
    "remote": (board.do_remote, args_remote,
               "the IR remote: its keys, or learn any remote's keys, one function at a time"),
    "wifi": (board.do_wifi, args_wifi,
             "a Pico W's web remote: the network it joins, pairing a phone, the phones paired"),
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

