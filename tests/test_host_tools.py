"""The host tools' manners, without a board: ports that vanish or are not ports, any line
(however long, whatever its numbers) refused with a short error, local errors not blamed
on the board, negative values as values, the command line's messages. Fast: no board, no
simulator run."""
import errno
import os
import socket
import termios
import threading
import time

import pytest

from headroom import cli, port
from headroom.errors import BAD_INPUT, NO_BOARD, OK
from headroom.linesock import MAX_LINE, LineServer
from headroom.sim.scenario import ScenarioError, parse_line


def test_a_port_that_vanishes_while_being_configured_is_waited_for(monkeypatch):
    """Right after `power cycle` the port's pty can go between open() and tcsetattr():
    pyserial lets termios.error (EIO) out. That is the board restarting: waited for."""
    import serial
    tries = []

    def vanishing(*a, **kw):
        tries.append(a[0])
        if len(tries) < 3:
            raise termios.error(errno.EIO, "Input/output error")
        return "the port"

    monkeypatch.setattr(serial, "Serial", vanishing)
    monkeypatch.setattr(port, "not_a_port", lambda p: None)
    monkeypatch.setattr(time, "sleep", lambda s: None)
    said = []
    assert port.open_serial("/dev/ttyACM7", wait_s=5, say=said.append) == "the port"
    assert len(tries) == 3 and said == ["waiting for /dev/ttyACM7 (the board may be restarting)..."]


@pytest.mark.parametrize("what", ["/dev/null", "folder", "file"])
def test_a_path_that_is_not_a_serial_port_is_refused_at_once(what, tmp_path, capsys):
    path = {"/dev/null": "/dev/null", "folder": str(tmp_path),
            "file": str(tmp_path / "notes.txt")}[what]
    (tmp_path / "notes.txt").write_text("mine")
    t0 = time.monotonic()
    assert cli.main(["status", "--port", path]) == BAD_INPUT
    assert time.monotonic() - t0 < 2.0      # not waited for as a board restarting (5 s)
    err = capsys.readouterr().err
    assert err.startswith("headroom status: %s is " % path) and "not a serial port" in err, err
    assert "waiting for" not in err and "ioctl" not in err


@pytest.mark.parametrize("line", [
    "turn +" + "9" * 5000, "turn -" + "0" * 4999 + "1" + "0" * 10, "wait " + "1" * 5000,
    "hold " + "7" * 100000, "turn +1 at " + "5" * 5000 + "/s", "turn +1 bounce " + "3" * 5000,
    "expect volume -" + "2" * 5000, "x" * 10_000_000, "turn +1 " + "y" * 10_000_000,
])
def test_any_number_or_token_gets_a_short_error(line):
    """int() refuses more than 4300 digits with a ValueError of its own (a traceback in
    --send, a dead virtual board on its control socket); a 10 MB token must not come back
    in full."""
    with pytest.raises(ScenarioError) as e:
        parse_line(1, line)
    assert len(str(e.value)) <= 300 and str(e.value).startswith("line 1: "), str(e.value)[:400]


def test_leading_zeros_are_still_a_number():
    assert parse_line(1, "wait " + "0" * 20 + "250").args == (250,)


def test_local_oserrors_are_not_called_port_failures(monkeypatch, capsys):
    def full_disk(args):
        raise OSError(errno.ENOSPC, "No space left on device", "/home/me/out.txt")

    monkeypatch.setitem(cli.COMMANDS, "boards", (full_disk,) + cli.COMMANDS["boards"][1:])
    code = cli.main(["boards"])
    err = capsys.readouterr().err
    assert code != NO_BOARD and "port" not in err, (code, err)
    assert err == "headroom boards: /home/me/out.txt: No space left on device\n"


def test_a_closed_output_pipe_ends_a_command_quietly(monkeypatch, capsys):
    def reader_gone(args):
        raise BrokenPipeError(errno.EPIPE, "Broken pipe")

    monkeypatch.setitem(cli.COMMANDS, "boards", (reader_gone,) + cli.COMMANDS["boards"][1:])
    monkeypatch.setattr(os, "dup2", lambda a, b: None)   # pytest's own stdout stays
    assert cli.main(["boards"]) == OK
    assert capsys.readouterr().err == ""


def test_negative_values_are_values_and_errors_name_the_command_once(capsys):
    p = cli.build_parser()
    for v in ("-20", "-0.5", "-inf", "-INF", "-nan"):
        assert p.parse_args(["set", "volume", v]).value == [v]
    assert p.parse_args(["set", "balance", "-1.5", "--port", "/dev/x"]).port == "/dev/x"
    assert cli.main(["status", "--bogus"]) == BAD_INPUT
    assert capsys.readouterr().err == "headroom: unrecognized arguments: --bogus\n"
    assert cli.main(["set", "volume", "-inf", "--bogus"]) == BAD_INPUT
    assert capsys.readouterr().err == "headroom: unrecognized arguments: --bogus\n"


def test_a_line_socket_refuses_an_overlong_line_and_goes_on(tmp_path):
    """A line over MAX_LINE is answered with an error and never passed on (its tail is
    not a command either); the next line is."""
    got = []
    server = LineServer(str(tmp_path / "s"), lambda c, text: (got.append(text[:20]),
                                                                server.answer(c, "ok")))
    client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    client.connect(str(tmp_path / "s"))
    long_line = b"wait 1" + b" " * (4 * MAX_LINE) + b"\n"
    sender = threading.Thread(target=client.sendall, args=(long_line + b"press\n",))
    sender.start()
    answers = b""
    import select
    end = time.monotonic() + 30
    while answers.count(b"\n") < 2 and time.monotonic() < end:
        fds = server.fds() + [client.fileno()]
        for fd in select.select(fds, [], [], 0.5)[0]:
            if fd == client.fileno():
                answers += client.recv(4096)
            else:
                server.readable(fd)
    sender.join()
    client.close()
    server.close()
    assert got == ["press"]
    assert answers == b"error: a line longer than %d bytes\nok\n" % MAX_LINE


def test_the_attached_panel_logs_a_state_once_however_many_phases_read_the_same():
    from headroom.panel.attached_app import board_changes
    base = {"volume": -30.0, "balance": 0.0, "gain": "high", "output": "se", "limit": 6.0}
    phases = ["playing", "muting", "switching", "releasing", "unmuting", "dac-muting", "playing"]
    lines, last = board_changes([(i, dict(base, phase=p)) for i, p in enumerate(phases)], None)
    assert [x[1].split(" · ")[-1] for x in lines] == ["playing", "switching (muted)", "playing"]
    more, _ = board_changes([(9, dict(base, phase="playing"))], last)
    assert more == []


@pytest.mark.parametrize("speed", ["0", "100", "nan"])
def test_panel_refuses_a_bad_speed_without_a_terminal_too(speed, capsys):
    """In a terminal --speed 0 is refused; without one (a pipe, CI) it was silently
    ignored. The same arguments get the same answer either way."""
    assert cli.main(["panel", "--speed", speed]) == BAD_INPUT
    assert "--speed must be 1/16 to 64" in capsys.readouterr().err
