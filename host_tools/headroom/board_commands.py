"""The `headroom` subcommands that talk to a board on its serial port: status, get,
set, log, monitor (the control protocol, control.py), flash and install-micropython (the
table and the arguments: cli.py). Each `do_*` returns the exit code or raises
CommandError (errors.py).
"""
import json
import os
import sys

from . import requests
from .commands import load_board, say
from .errors import BAD_INPUT, OK, PROBLEM, CommandError


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


def do_status(args):
    from .readable import state_line
    r = _ask(args, requests.STATUS)
    return _out(args, r, state_line(r))


def do_get(args):
    from .readable import value_text
    r = _ask(args, requests.get(args.name))
    return _out(args, r, value_text(args.name, r[args.name]))


def do_set(args):
    from .readable import value_text
    if (args.name == "defaults") != (not args.value):
        raise CommandError("%s %s" % (args.name, "takes no value" if args.name == "defaults"
                                      else "needs a value"), BAD_INPUT)
    if args.name == "defaults":
        r = _ask(args, requests.set_defaults(), resend=False)
        return _out(args, r, "defaults restored")
    if args.name == "headphone":
        return _set_headphone(args, " ".join(args.value))
    if len(args.value) != 1:
        raise CommandError("%s takes one value, got %d" % (args.name, len(args.value)), BAD_INPUT)
    r = _ask(args, requests.set_(args.name, args.value[0]), resend=False)
    return _out(args, r, value_text(args.name, r[args.name]))


def _set_headphone(args, name):
    """A built-in or host profile goes as its figures; any other name to the board, for
    its own headphones.json."""
    from . import headphones as hph
    from .readable import headphone_text
    if name == "none":
        line = requests.set_headphone(None)
    else:
        profs, _ = hph.profiles(args.profiles)
        try:
            line = hph.command(hph.find(profs, name))
        except CommandError as e:
            if e.code != BAD_INPUT or "unknown headphone" not in str(e):
                raise
            board_line = requests.set_headphone(name)
            if len(board_line) > 96 or not name.isascii():
                raise
            try:
                r = _ask(args, board_line, resend=False)
            except CommandError as b:
                raise CommandError("%s; the board: %s" % (e, b), BAD_INPUT)
            return _out(args, r, headphone_text(r))
    r = _ask(args, line, resend=False)
    return _out(args, r, headphone_text(r))


def do_log(args):
    r = _ask(args, requests.LOG)
    if args.json:
        print(json.dumps(r))
    else:
        text = r.get("log", "")
        sys.stdout.write(text if text else "(the log is empty: nothing has gone wrong)\n")
    return OK


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


def do_install(args):
    from .flash import install_micropython
    install_micropython(args.uf2, [args.drive] if args.drive else None)
    return OK
