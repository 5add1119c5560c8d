"""The USB protocol's `wifi` command (a Pico W board): the network, the pairing, the phones.

    wifi                        the link: state, SSID, address, the page's URL, phones
                                paired, the pairing code while one is open, and what the
                                server refused (never the key)
    wifi set SSID KEY           join this network: both as hex of their UTF-8 (`-` for
                                no key: an open network); `headroom wifi set SSID` asks
                                for the key without echo and sends this
    wifi off                    forget the network (wifi.json removed)
    wifi pair                   open a pairing code (or show the one open): the page asks
                                for it
    wifi forget-devices         no phone paired any more: every page must pair again

Only over USB: the network cannot ask for any of these (webapp.py).
"""
from .wifi import parse_credentials

USE = ('{"ok": false, "error": "use: wifi, wifi set SSID_HEX KEY_HEX|-, wifi off, '
       'wifi pair or wifi forget-devices"}')


def _q(s):
    """A JSON string of text the user chose (an SSID): quotes and backslashes kept out."""
    if s is None:
        return "null"
    return '"%s"' % "".join(c if 32 <= ord(c) < 127 and c not in '"\\' else "?" for c in s)


def command(app, t, now):
    wifi = app.wifi
    if wifi is None:
        return ('{"ok": false, "error": "wifi: this board has none (a Pico W\'s board file '
                'has a wifi section)"}')
    try:
        if len(t) == 4 and t[1] == "set":
            try:
                ssid, key = parse_credentials(t[2], t[3])
            except ValueError as e:
                return '{"ok": false, "error": "%s"}' % e
            wifi.set_credentials(ssid, key, now)
        elif len(t) == 2 and t[1] == "off":
            wifi.forget(now)
        elif len(t) == 2 and t[1] == "pair":
            app.pairing.start(now)
        elif len(t) == 2 and t[1] == "forget-devices":
            app.pairing.forget()
        elif len(t) != 1:
            return USE
    except OSError as e:
        return '{"ok": false, "error": "wifi: not saved: OSError %s"}' % (e.args[0] if e.args else "")
    web = app.web
    state, ssid, ip = wifi.info()
    code = app.pairing.code_now(now)
    return ('{"ok": true, "wifi": {"state": "%s", "ssid": %s, "ip": %s, "url": %s, '
            '"devices": %d, "pairing_code": %s, "pages": %d, "refused": %d, "dropped": %d, '
            '"answered": %d, "fault": %s}}' % (
                state, _q(ssid), _q(ip), _q(web.address), len(app.pairing.devices),
                _q(code), web.streams(), web.refused + app.webapp.refused, web.dropped,
                web.answered, _q(wifi.fault)))
