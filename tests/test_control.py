"""The host side of the control protocol, against a fake serial port."""
import json
import time

import pytest
import serial  # noqa: F401 - before time.monotonic is faked below: pyserial's Timeout.TIME keeps the real one

from headroom import control
from headroom.errors import CommandError


class FakeSerial:
    """Answers like the firmware: replies after some noise and pushed events."""

    def __init__(self, script):
        self.script = script  # request line -> list of byte chunks to return
        self.pending = b""
        self.sent = []

    def write(self, data):
        line = data.decode().strip()
        self.sent.append(line)
        self.pending += b"".join(self.script.get(line, []))

    def read(self, n):
        if not self.pending:
            time.sleep(0.001)
            return b""
        out, self.pending = self.pending[:n], self.pending[n:]
        return out


def test_request_skips_events_and_noise_and_split_lines():
    ser = FakeSerial({"get volume": [b"MPY: soft reboot\r\n", b'{"event": "state", "volume": -3',
                                     b'1.0}\n{"ok": tr', b'ue, "volume": -30.0}\n']})
    assert control.request(control.Link(ser), "get volume") == {"ok": True, "volume": -30.0}
    assert ser.sent == ["get volume"]


def test_request_times_out_with_a_clear_message():
    with pytest.raises(CommandError) as e:
        control.request(control.Link(FakeSerial({})), "status", timeout=0.05)
    assert "no reply" in str(e.value) and "firmware running" in str(e.value)


def test_cli_without_a_port_and_no_board_says_what_to_do(monkeypatch, capsys):
    from serial.tools import list_ports

    from headroom import cli
    monkeypatch.setattr(list_ports, "comports", lambda: [])
    assert cli.main(["status"]) == 3
    assert "no Pico found" in capsys.readouterr().err


# ---- a reply left over from an earlier request is not taken for this one's

STALE = {"version": b'{"ok": true, "protocol": 1, "firmware": "0.9"}\n',
         "status": b'{"ok": true, "phase": "playing", "volume": -30.0}\n',
         "get volume": b'{"ok": true, "volume": -30.0}\n',
         "get balance": b'{"ok": true, "balance": 1.5}\n',
         "set volume -20": b'{"ok": true, "volume": -20.0}\n'}


class LateSerial(FakeSerial):
    """A slow board: the reply to the request before arrives first, then this one's."""

    def __init__(self, stale_for):
        super().__init__({})
        self.stale_for = stale_for  # request line -> the earlier request's reply

    def write(self, data):
        line = data.decode().strip()
        self.sent.append(line)
        self.pending += self.stale_for.get(line, b"") + STALE[line]

    def close(self):
        pass


@pytest.mark.parametrize("line,earlier", [("version", "status"), ("status", "version"),
                                          ("get balance", "get volume"),
                                          ("set volume -20", "get balance")])
def test_board_request_skips_a_stale_reply(line, earlier):
    board = control.Board("/dev/fake")
    board.link = control.Link(LateSerial({line: STALE[earlier]}))
    reply = board.request(line, timeout=2.0, resend_s=1.0)
    assert reply == json.loads(STALE[line])


def test_a_refusal_is_a_reply_though_it_names_no_setting():
    board = control.Board("/dev/fake")
    board.link = control.Link(FakeSerial({"set volume x": [b'{"ok": false, "error": "volume: no"}\n']}))
    assert board.request("set volume x", timeout=2.0) == {"ok": False, "error": "volume: no"}


def test_flash_waits_for_the_status_reply_not_a_stale_version(monkeypatch):
    from headroom import flash
    # The new firmware answers `version`; a second `version` reply, late, comes before
    # `status`'s: the old wait took it for the status (no phase, no faults checked).
    ser = LateSerial({"status": STALE["version"]})
    monkeypatch.setattr(control, "open_serial", lambda *a, **k: ser)
    status = flash.wait_running("/dev/fake", wait_s=3.0)
    assert status["phase"] == "playing" and status["firmware"] == "0.9"
    assert ser.sent == ["version", "status"]


class BootingSerial(FakeSerial):
    """A slow board after its reset, on a fake clock that each read moves on 50 ms: it
    sends a byte every `every_s` (it boots, it prints), answers from `up_s` on."""

    def __init__(self, clock, up_s, every_s):
        super().__init__({})
        self.clock, self.up_s, self.every_s = clock, up_s, every_s
        self.next_sign = every_s

    def write(self, data):
        line = data.decode().strip()
        self.sent.append(line)
        if self.clock[0] >= self.up_s:
            self.pending += STALE[line]

    def read(self, n):
        self.clock[0] += 0.05
        if self.clock[0] >= self.next_sign and self.clock[0] < self.up_s:
            self.next_sign += self.every_s
            return b"."
        out, self.pending = self.pending[:n], self.pending[n:]
        return out

    def close(self):
        pass


@pytest.mark.parametrize("every_s,answers", [(0.8, True), (None, False)],
                         ids=["shows-progress", "silent"])
def test_flash_waits_for_a_slow_board_while_it_shows_signs_of_life(monkeypatch, every_s, answers):
    """The new firmware answers 6 s (fake clock) after the reset, 3 times `wait_s`: flash
    waits for it while the board sends bytes, and gives up `wait_s` after the last sign of
    life from one that is silent. No wall-clock time passes (a fake clock)."""
    from headroom import flash
    clock = [0.0]
    monkeypatch.setattr(time, "monotonic", lambda: clock[0])
    ser = BootingSerial(clock, up_s=6.0, every_s=every_s or 1e9)
    monkeypatch.setattr(control, "open_serial", lambda *a, **k: ser)
    monkeypatch.setattr(flash, "boot_output", lambda *a: "  | (nothing)")
    if answers:
        status = flash.wait_running("/dev/fake", wait_s=2.0)
        assert status["phase"] == "playing" and clock[0] >= 6.0
    else:
        with pytest.raises(CommandError) as e:
            flash.wait_running("/dev/fake", wait_s=2.0)
        assert "did not start" in str(e.value) and 2.0 <= clock[0] < 2.5, clock[0]


class SlowReplySerial(FakeSerial):
    """A slow board's reply (the emulated RP2040 under load): on a fake clock that each read
    moves on 0.5 s, the reply comes a few bytes a read; nothing before `first_s`."""

    def __init__(self, clock, reply, first_s, chunk):
        super().__init__({})
        self.clock, self.reply, self.first_s, self.chunk = clock, reply, first_s, chunk

    def read(self, n):
        self.clock[0] += 0.5
        if not self.sent or self.clock[0] < self.first_s or not self.reply:
            return b""
        out, self.reply = self.reply[:self.chunk], self.reply[self.chunk:]
        return out


@pytest.mark.parametrize("chunk", [8, 10_000])
def test_a_reply_still_arriving_is_waited_for(monkeypatch, chunk):
    """A reply that starts within the wait and keeps coming, 8 bytes every 0.5 s (fake
    clock): taken whole, though it ends long after the 5 s wait; no wall-clock time."""
    clock = [0.0]
    monkeypatch.setattr(time, "monotonic", lambda: clock[0])
    reply = b'{"ok": true, "phase": "playing", "volume": -30.0, "pad": "' + b"x" * 200 + b'"}\n'
    ser = SlowReplySerial(clock, reply, first_s=4.0, chunk=chunk)
    obj = control.request(control.Link(ser), "status", timeout=5.0)
    assert obj["phase"] == "playing" and clock[0] > 5.0 * (chunk == 8)


def test_a_silent_board_is_still_given_up_on(monkeypatch):
    """Silence after the request: the wait ends at its time, not at the progress cap."""
    clock = [0.0]
    monkeypatch.setattr(time, "monotonic", lambda: clock[0])
    ser = SlowReplySerial(clock, b"", first_s=0.0, chunk=8)
    with pytest.raises(CommandError):
        control.request(control.Link(ser), "status", timeout=5.0)
    assert clock[0] <= 5.5


def test_wait_s_is_checked_and_used_by_every_board_command(monkeypatch):
    from headroom import cli
    seen = []

    class Fake:
        def __init__(self, port, wait_s, say=None):
            seen.append(wait_s)

        def request(self, line, timeout=5.0, resend_s=None):
            seen.append((timeout, resend_s))
            return {"ok": True, "phase": "playing", "volume": -30.0}

        def close(self):
            pass

    monkeypatch.setattr(control, "Board", Fake)
    assert cli.main(["status", "--port", "/dev/fake", "--json", "--wait-s", "600"]) == 0
    assert seen[-1] == (600.0, 120.0) and seen[0] >= 600
    assert cli.main(["status", "--port", "/dev/fake", "--wait-s", "0"]) == 2
