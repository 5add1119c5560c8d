"""The `headroom` subcommands that talk to a board on its serial port: status, get,
set, log, monitor, input, standby, remote, wifi (the control protocol, control.py),
flash and install-micropython (the table and the arguments: cli.py). Each `do_*`
returns the exit code or raises CommandError (errors.py).
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


def _get_or_set(args, name, value):
    """`set NAME VALUE`, or `get NAME` without a value; the reply in words."""
    from .readable import value_text
    if value is None:
        r = _ask(args, requests.get(name))
    else:
        r = _ask(args, requests.set_(name, value), resend=False)
    return _out(args, r, value_text(name, r[name]))


def do_input(args):
    """`headroom input [NAME]`."""
    return _get_or_set(args, "input", args.name)


def do_standby(args):
    """`headroom standby [on|off]`."""
    return _get_or_set(args, "standby", args.state)


# ---- the IR remote

LEARN_POLL_S = 0.2


def remote_text(r):
    """The `remote` reply in words: the keys by function, the last key, the counts."""
    from .readable import function_words
    rem = r["remote"]
    by_fn = {}
    for fn, key in rem["keys"]:
        by_fn.setdefault(fn, []).append(key)
    lines = ["IR receiver on %s: %d keys" % (rem["receiver"], len(rem["keys"]))]
    for fn in requests.REMOTE_FUNCTIONS:
        lines.append("  %-12s %s" % (function_words(fn), ", ".join(by_fn.get(fn, [])) or "(no key)"))
    lines.append("last key: %s; %d frames decoded, %d refused, %d glitches removed, %d presses "
                 "of keys with no function" % (rem["last"] or "none yet", rem["frames"],
                                               rem["refused"], rem["glitches"], rem["unknown"]))
    if rem.get("learned"):
        lines.append("last learned: " + rem["learned"])
    return "\n".join(lines)


def do_remote(args):
    if args.action in ("defaults", "clear"):
        if args.functions:
            raise CommandError("remote %s takes no function" % args.action, BAD_INPUT)
        r = _ask(args, requests.remote_reset(args.action), resend=False)
        return _out(args, r, remote_text(r))
    if args.action == "show":
        if args.functions or args.fresh:
            raise CommandError("remote show takes no function and no --fresh", BAD_INPUT)
        r = _ask(args, requests.REMOTE)
        return _out(args, r, remote_text(r))
    return _learn(args)


def _learn(args):
    """Each function in turn: the board waits for its key, the host asks how it went
    (a reply each time: no guessed wait), and says so."""
    import time

    from .readable import function_words
    fns = args.functions or list(requests.REMOTE_FUNCTIONS)
    bad = [f for f in fns if f not in requests.REMOTE_FUNCTIONS]
    if bad:
        raise CommandError("remote learn: no function %s (the functions: %s)"
                           % (", ".join(bad), ", ".join(requests.REMOTE_FUNCTIONS)), BAD_INPUT)
    reply_s = _reply_s(args)
    board = _board(args, wait_s=max(reply_s, _port_wait()))
    results = []
    failed = 0
    try:
        def ask(line):
            r = board.request(line, timeout=reply_s)
            if not r.get("ok"):
                raise CommandError(r.get("error", "refused"), PROBLEM)
            return r
        if args.fresh:
            ask(requests.remote_reset("clear"))
            say("the remote's old keys are forgotten")
        for fn in fns:
            ask(requests.remote_learn(fn))
            say("press the remote's key for %s (within 10 s)" % function_words(fn))
            while True:
                time.sleep(LEARN_POLL_S)     # polling the board: its reply is the event
                r = ask(requests.REMOTE)["remote"]
                if r["learning"] is None:
                    break
            outcome = r["learned"] or "%s: nothing" % fn
            ok = r["learned_ok"]
            failed += 0 if ok else 1
            results.append({"function": fn, "ok": ok, "outcome": outcome})
            if not args.json:
                print(outcome, flush=True)
    finally:
        board.close()
    if args.json:
        print(json.dumps({"learned": results}))
    if failed:
        raise CommandError("%d of %d keys not learned" % (failed, len(fns)), PROBLEM)
    return OK


# ---- the web remote (a Pico W)

def wifi_text(r):
    """The `wifi` reply in words: the link, the page's address, the phones, the pairing
    code while one is open, what the server refused. The board never sends the key."""
    w = r["wifi"]
    state = w["state"]
    if state == "off":
        link = "off (no network: headroom wifi set SSID)"
    else:
        link = "%s on %s" % (state, json.dumps(w["ssid"]))
        if state == "up" and w.get("url"):
            link += ", the page at " + w["url"]
    lines = ["WiFi: " + link,
             "%d phone%s paired; %d page%s live; %d requests answered, %d refused, %d "
             "connections dropped" % (w["devices"], "" if w["devices"] == 1 else "s",
                                      w["pages"], "" if w["pages"] == 1 else "s",
                                      w["answered"], w["refused"], w["dropped"])]
    if w.get("pairing_code"):
        lines.append("pairing code %s (type it into the page)" % w["pairing_code"])
    if w.get("fault"):
        lines.append("fault: " + w["fault"])
    return "\n".join(lines)


def _wifi_key(ssid):
    """The network's key: asked for without echo on a terminal, else the first line of
    standard input (a script: `printf '%s\\n' "$KEY" | headroom wifi set SSID`)."""
    if sys.stdin is not None and sys.stdin.isatty():
        import getpass
        return getpass.getpass("key for %s (not shown): " % ssid)
    line = sys.stdin.readline() if sys.stdin is not None else ""
    return line.rstrip("\r\n")


def do_wifi(args):
    """`headroom wifi [show|set SSID [--open]|off|pair|forget-devices]`."""
    if args.action != "set" and (args.ssid is not None or args.open):
        raise CommandError("wifi %s takes no SSID and no --open" % args.action, BAD_INPUT)
    if args.action == "show":
        r = _ask(args, requests.wifi())
        return _out(args, r, wifi_text(r))
    if args.action == "set":
        return _wifi_set(args)
    r = _ask(args, requests.wifi(args.action), resend=False)
    if args.action == "pair":
        code = r["wifi"].get("pairing_code")
        return _out(args, r, "pairing code %s: type it into the page (the display shows it too)"
                    % code if code else wifi_text(r))
    if args.action == "off":
        return _out(args, r, "WiFi off: the network is forgotten\n" + wifi_text(r))
    return _out(args, r, "no phone paired any more: every page must pair again\n" + wifi_text(r))


def _wifi_set(args):
    from .firmware import pure
    if not args.ssid:
        raise CommandError("wifi set needs the network's name: headroom wifi set SSID", BAD_INPUT)
    key = "" if args.open else _wifi_key(args.ssid)
    if not args.open and not key:
        raise CommandError("no key given (a network without one: --open)", BAD_INPUT)
    line = requests.wifi_set(args.ssid, key)
    try:   # the board's own rules (its wifi.py), before anything is sent
        pure("wifi").parse_credentials(*line.split()[2:])
    except ValueError as e:
        raise CommandError(str(e)[6:] if str(e).startswith("wifi: ") else str(e), BAD_INPUT)
    r = _ask(args, line, resend=False)
    return _out(args, r, wifi_text(r))


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
