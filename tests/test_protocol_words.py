"""The host builds every line it sends from the firmware's own protocol words
(host_tools/headroom/requests.py): each line is one the board takes, its reply carries
the key the host waits for, and a word changed in the firmware changes the host's line."""
from headroom import control, requests

from helpers import ask, playing


def _lines():
    return [requests.STATUS, requests.VERSION, requests.LOG, requests.monitor(True),
            requests.monitor(False), requests.get("volume"), requests.get("spl"),
            requests.set_("volume", "-31"), requests.set_("gain", "high"),
            requests.set_headphone(None), requests.set_defaults()]


def test_every_line_the_host_builds_is_one_the_board_takes():
    b = playing()
    for line in _lines():
        r = ask(b, line)
        assert r.get("ok"), (line, r)
        key = control.reply_key(line)
        assert key is None or key in r, (line, key, r)   # the host would take this reply


def test_a_word_changed_in_the_firmware_changes_the_hosts_line(monkeypatch):
    monkeypatch.setattr(requests.P, "MONITOR", "watch")
    monkeypatch.setattr(requests.P, "HEADPHONE", "phones")
    assert requests.monitor(True) == "watch on"
    assert requests.set_headphone(None) == "set phones none"
    assert set(requests.SETTABLE) >= {"volume", "limit", "headphone"}
    assert requests.NAMES[-1] == "rate"   # get's names are the protocol's tuple
