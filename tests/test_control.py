"""The host side of the control protocol, against a fake serial port."""
import time

import pytest

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
