"""The web remote under attack and abuse, on the simulated Pico W (CPython SimBoard), every
board watched by the trace checker (the `checked` fixture): who may change what
(pairing, nonces, the origin), requests the server must refuse without reading them,
clients that hold its slots (a flood, a stalled reader, a slow writer, a stream that
went away), and a limit raised from the page, which waits for the long press.

After every case the board still answers and plays, and nothing a refused request asked
for happened at the board (the volume and the limit as `status` over USB reports them,
the level at the jack as the chip models decode it)."""
import json
import os
import socket

from webkit import Client, ask_wifi, join

from headroom.bench_web import Frames, Stream, run_pumped, turn_latencies
from headroom_fw import web

from conftest import BOARDS
from helpers import ask

PICO_W = os.path.join(BOARDS, "pico-w-balanced.json")


def paired(checked):
    b = checked(PICO_W)
    join(b)
    c = Client(b)
    c.pair()
    return b, c


def at_board(b):
    """What a refused request must not have changed: volume and limit (USB `status`),
    the level at the jack."""
    s = ask(b, "status")
    return s["volume"], s["limit"], s["phase"], tuple(b.jack.levels)


def still_fine(b, c, before):
    """The board answers the paired page and plays on, unchanged; no simulator fault."""
    assert c.request("GET", "/api/state").status == 200   # a fresh nonce (a page reloaded)
    assert c.cmd("status").status == 200
    assert at_board(b) == before
    assert before[2] == "playing"
    assert not b.sim.faults and not b.sim.crashes


def conn(b):
    """The last connection the firmware accepted: its byte counts and times (sim/net.py)."""
    return b.net.counts[b.net.accepted]


def raw_conn(c, rcvbuf=None):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.connect(c.addr)
    s.setblocking(False)
    return s


def until_closed(b, k, within_ms, step_ms=5):
    """Run the board until the firmware has closed connection `k` (sim/net.py's view)."""
    for _ in range(within_ms // step_ms):
        if k.closed_us is not None:
            return k.closed_us
        b.run_ms(step_ms)
    raise AssertionError("connection %d still open after %d ms" % (k.n, within_ms))


# ---- who may change what


def test_without_the_pairing_token_nothing_changes(checked):
    b, c = paired(checked)
    before = at_board(b)
    anon = Client(b)
    for r in (anon.cmd("set volume -10"), anon.request("GET", "/api/state"),
              anon.request("GET", "/api/events")):
        assert r.status == 403 and "not paired" in r.json()["error"], r.body
        assert "nonce" not in r.json()
    # A token of the right shape, never given; a cookie not of that shape.
    for cookie in ("hr=" + "0" * 32, "hr=abc", "hr=" + "0" * 33 + "; hr=x"):
        anon.cookie = cookie
        anon.nonce = c.nonce
        r = anon.cmd("set limit -40")
        assert r.status == 403 and "not paired" in r.json()["error"], (cookie, r.body)
    still_fine(b, c, before)


def test_a_nonce_is_good_once_and_a_post_needs_one(checked):
    b, c = paired(checked)
    used = c.nonce
    assert c.cmd("set volume -25").json()["ok"] is True
    before = at_board(b)
    assert before[0] == -25.0
    c.nonce = used                       # the same request again, replayed
    r = c.cmd("set volume -12")
    assert r.status == 403 and "replayed" in r.json()["error"]
    r = c.cmd("set volume -12", nonce=False)
    assert r.status == 403 and "replayed" in r.json()["error"]
    still_fine(b, c, before)


def test_a_request_from_another_site_is_refused(checked):
    b, c = paired(checked)
    c.cmd("status")
    before = at_board(b)
    for origin in ("http://evil.example", "null", "http://%s.evil.example" % c.host):
        r = c.cmd("set volume -12", headers={"Origin": origin})
        assert r.status == 403 and "another site" in r.json()["error"], r.body
    # Its own origin is fine (the nonce was not spent by the refusals).
    assert c.cmd("status", headers={"Origin": "http://" + c.host}).status == 200
    still_fine(b, c, before)


def test_the_network_cannot_ask_for_what_only_usb_may(checked):
    b, c = paired(checked)
    before = at_board(b)
    for line in ("wifi off", "log", "remote learn volume_up"):
        r = c.cmd(line)
        assert r.status == 403 and "not from the network" in r.json()["error"], r.body
    assert ask_wifi(b)["state"] == "up"
    still_fine(b, c, before)


# ---- requests refused without being read


def test_a_1_mb_body_is_refused_at_once_and_never_read(checked):
    b, c = paired(checked)
    before = at_board(b)
    s = raw_conn(c)
    head = ("POST /api/cmd HTTP/1.1\r\nHost: %s\r\nCookie: %s\r\nX-Headroom-Nonce: %s\r\n"
            "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n"
            % (c.host, c.cookie, c.nonce, 1 << 20)).encode()
    body = b'{"line": "set volume 0", "pad": "' + b"x" * (1 << 20)
    sent = 0
    data = head + body
    t0 = b.now_us()
    got = b""
    for _ in range(400):
        try:
            sent += s.send(data[sent:sent + 65536])
        except (BlockingIOError, ConnectionResetError, BrokenPipeError):
            pass
        b.run_ms(1)
        try:
            chunk = s.recv(65536)
            got += chunk
            if not chunk:
                break
        except BlockingIOError:
            pass
        except ConnectionResetError:
            break
    s.close()
    k = conn(b)
    assert got.startswith(b"HTTP/1.0 413"), got[:100]
    assert k.closed_us is not None and k.closed_us - t0 < 50000      # at once: a few passes
    assert k.nrx <= web.REQ_MAX                                     # the body never read
    still_fine(b, c, before)


def test_malformed_requests_are_answered_and_change_nothing(checked):
    b, c = paired(checked)
    before = at_board(b)
    h = c.host
    cases = (
        (b"\x00\xff\x13garbage" * 20 + b"\r\n\r\n", 400),
        (b"\r\n\r\n", 400),
        (("POST /api/cmd HTTP/1.1\r\nHost: %s\r\nContent-Length: abc\r\n\r\n" % h).encode(), 413),
        (("POST /api/cmd HTTP/1.1\r\nHost: %s\r\nContent-Length: -5\r\n\r\n" % h).encode(), 413),
        (("POST /api/cmd HTTP/1.1\r\nHost: %s\r\nTransfer-Encoding: chunked\r\n\r\n"
          "5\r\nhello\r\n0\r\n\r\n" % h).encode(), 413),
        (("GET /api/state HTTP/1.1\r\nHost: %s\r\nX-Big: %s\r\n\r\n" % (h, "a" * 5000)).encode(),
         431),
        (("POST /api/cmd HTTP/1.1\r\nHost: %s\r\nCookie: %s\r\nContent-Type: application/json"
          "\r\nContent-Length: 9\r\n\r\n{\"line\": " % (h, c.cookie)).encode(), 403),
    )
    for data, status in cases:
        t0 = b.now_us()
        r = c.raw(data)
        assert r.split(b" ")[1] == str(status).encode(), (data[:60], r[:100])
        assert b.now_us() - t0 < 100000, data[:60]
    still_fine(b, c, before)


# ---- clients that hold the server's slots


def test_200_connections_at_once_leave_the_knob_alone(checked):
    b, c = paired(checked)
    frames = Frames(b)
    t = b.now_us() + 100000
    base = turn_latencies(b, frames, t, 6, 20)
    b.run_ms(1500)
    socks = []
    for _ in range(200):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        s.connect_ex(c.addr)
        socks.append(s)
    n0 = b.net.accepted
    # The same turn while the flood is being accepted (2 a pass, 1 more a pass closed).
    flood = turn_latencies(b, frames, b.now_us() + 2000, 6, 20)
    assert b.net.accepted - n0 > 20          # the turn did overlap the flood
    left = set(range(len(socks)))
    answered = 0
    for _ in range((web.REQ_MS + 1000) // 10):
        b.run_ms(10)
        for i in list(left):
            try:
                data = socks[i].recv(4096)
            except BlockingIOError:
                continue
            except ConnectionResetError:
                data = b""
            answered += bool(data)
            left.discard(i)
        if not left:
            break
    for s in socks:
        s.close()
    assert not left, "%d of 200 neither answered nor closed" % len(left)
    assert b.net.accepted - n0 == 200
    print("knob -> PGA2311 frame, us: alone %s, beside the flood %s" % (base, flood))
    assert max(flood) <= 2 * max(base) and max(flood) < 20000, (base, flood)
    w = ask_wifi(b)
    print("flood: %d answered, %d closed; wifi: %s" % (answered, 200 - answered, w))
    # Each closed at once (refused), or silent for IDLE_MS and giving its slot to a newer
    # one (dropped); none answered: none sent a request.
    assert answered == 0 and w["refused"] + w["dropped"] >= 200, w
    s = at_board(b)
    assert s[2] == "playing"
    still_fine(b, c, s)


def test_a_client_that_stops_reading_is_dropped_after_the_stall_time(checked):
    b, c = paired(checked)
    s = raw_conn(c, rcvbuf=1024)
    s.sendall(("GET /api/events HTTP/1.1\r\nHost: %s\r\nCookie: %s\r\n\r\n"
               % (c.host, c.cookie)).encode())
    b.run_ms(50)
    k = conn(b)
    # Every detent a new state for the stream; the client never reads.
    t = b.now_us() + 10000
    dur = b.turn(30, rate=15, at_us=t)
    b.turn(-30, rate=15, at_us=t + dur + 200000)
    sent = []
    while k.closed_us is None and b.now_us() < t + 2 * dur + 200000 + web.STALL_MS * 1000 + 500000:
        b.run_ms(10)
        sent.append(k.ntx)
    assert k.closed_us is not None, "a stalled stream was never dropped"
    stalled = k.tx_us
    # (The firmware times from its pass's ticks_ms, the send from within the pass.)
    assert web.STALL_MS * 1000 - 20000 <= k.closed_us - stalled <= web.STALL_MS * 1000 + 50000
    # No growth: once the socket was full nothing more went (nothing queued behind it:
    # the states it missed coalesced): a few kilobytes, not the turns' 60 states (some
    # 350 bytes each, 21 KB).
    assert sent[-1] == k.ntx < 16 * 1024
    s.close()
    before = at_board(b)
    still_fine(b, c, before)


def test_a_slow_client_is_dropped_after_the_request_time(checked):
    b, c = paired(checked)
    before = at_board(b)
    s = raw_conn(c)
    s.sendall(("GET /api/state HTTP/1.1\r\nHost: %s\r\n" % c.host).encode())
    b.run_ms(20)
    k = conn(b)
    for _ in range(20):                  # a byte now and then, never the end of the head
        s.sendall(b"X")
        b.run_ms(100)
    closed = until_closed(b, k, web.REQ_MS + 500)
    assert web.REQ_MS * 1000 <= closed - k.opened_us <= web.REQ_MS * 1000 + 50000
    s.close()
    still_fine(b, c, before)


def test_a_live_stream_whose_page_went_away_frees_its_slot(checked):
    b, c = paired(checked)
    st = Stream(b, c.addr, c.cookie)
    run_pumped(b, b.now_us() + 100000, st.pump)
    k = conn(b)
    assert st.got.startswith(b"HTTP/1.0 200") and b"data: {" in st.got
    t = b.now_us()
    st.close()                           # the page went away: its idle stream reads it
    closed = until_closed(b, k, 200)
    assert closed <= t + 20000           # within a pass or two, not at the next ping
    assert ask_wifi(b)["pages"] == 0
    assert Stream(b, c.addr, c.cookie).s is not None
    still_fine(b, c, at_board(b))


# ---- the limit: never raised from the network alone


def test_a_limit_raised_from_the_page_waits_for_the_long_press(checked):
    b, c = paired(checked)
    assert c.cmd("set limit -20").json() == {"nonce": c.nonce, "ok": True, "limit": -20.0} or \
        c.cmd("status").json()["limit"] == -20.0
    t = b.now_us() + 10000
    b.run_us(b.turn(30, rate=20, at_us=t) + 200000)
    assert ask(b, "status")["volume"] <= -20.0
    r = c.cmd("set limit 0").json()
    assert r["ok"] is False and "long press" in r["error"]
    t = b.now_us() + 10000
    b.run_us(b.turn(10, rate=20, at_us=t) + 200000)
    s = ask(b, "status")
    assert s["limit"] == -20.0 and s["volume"] <= -20.0
    assert max(lv for lv in b.jack.levels if lv is not None) <= -2000 + 50 * 12 * 2
    # The long press on the board, within 10 s of the request, confirms it.
    b.press(True)
    b.run_ms(b.board.long_press_ms + 100)
    b.press(False)
    b.run_ms(300)
    assert ask(b, "status")["limit"] == 0.0
    t = b.now_us() + 10000
    b.run_us(b.turn(10, rate=20, at_us=t) + 300000)
    assert ask(b, "status")["volume"] > -20.0


def test_the_checker_reads_the_webs_limits():
    """Hand-made traces: a web lowering binds; a raise from the web waits for the long
    press; a request refused before the protocol (403) changes nothing."""
    from test_invariants import jack, playing, rec, rules, turn

    def w_in(t, n, line):
        return rec(t, "web", dir="in", conn=n, method="POST", path="/api/cmd", line=line)

    def w_out(t, n, status, **fields):
        return rec(t, "web", dir="out", conn=n, status=status, line=json.dumps(fields))

    t = 3000000
    low = playing() + [w_in(t, 1, "set limit -40"), w_out(t + 500, 1, 200, ok=True, limit=-40.0),
                       jack(t + 20000, -40.5)]
    assert "limit" in rules(low + [jack(t + 60000, -35.0)])
    refused = playing() + [w_in(t, 1, "set limit -40"),
                           w_out(t + 500, 1, 403, ok=False, error="not paired"),
                           jack(t + 60000, -35.0)]
    assert "limit" not in rules(refused)
    ask_up = low + [w_in(t + 100000, 2, "set limit 0"),
                    w_out(t + 100500, 2, 200, ok=False, error="raising the limit to 0.0 dBV "
                          "needs a long press on the board within 10 s")]
    up = [turn(t + 1200000, 10, 10), jack(t + 1200001, -39.0)]
    assert "limit" in rules(ask_up + up)
    press = [rec(t + 200000, "input", what="button", closed=True)]
    assert "limit" not in rules(ask_up + press + up)
    # Replies pair with requests by connection, whatever the order.
    crossed = playing() + [w_in(t, 1, "set limit -40"), w_in(t + 100, 2, "status"),
                           w_out(t + 400, 2, 200, ok=True, volume=-30.0, balance=0.0),
                           w_out(t + 500, 1, 200, ok=True, limit=-40.0)]
    assert "limit" in rules(crossed + [jack(t + 60000, -35.0)])


def test_a_stalled_page_does_not_hold_back_the_other_pages_updates(checked):
    b, c = paired(checked)
    s = raw_conn(c, rcvbuf=1024)
    s.sendall(("GET /api/events HTTP/1.1\r\nHost: %s\r\nCookie: %s\r\n\r\n"
               % (c.host, c.cookie)).encode())
    good = Stream(b, c.addr, c.cookie)
    run_pumped(b, b.now_us() + 100000, good.pump)
    t = b.now_us() + 10000
    run_pumped(b, t + b.turn(30, rate=15, at_us=t) + 100000, good.pump)   # the first stalls
    n0 = good.events()
    t = b.now_us() + 10000
    run_pumped(b, t + b.turn(-5, rate=15, at_us=t) + 200000, good.pump)
    good.close()
    s.close()
    assert good.events() > n0


def test_silent_connections_never_keep_a_pages_request_out(checked):
    """A browser opens spare connections and sends nothing on them: with every slot held
    by such, the page's own request takes the slot of one silent for IDLE_MS and is
    answered (else the page saw "Failed to fetch" under load)."""
    b, c = paired(checked)
    idle = []
    for _ in range(web.SLOTS + 2):
        s = socket.create_connection(c.addr, timeout=5)
        s.setblocking(False)
        idle.append(s)
    b.run_ms(150)       # IDLE_MS (100 ms), far inside REQ_MS (3 s, which would free them)
    assert web.IDLE_MS + 50 <= 150 < web.REQ_MS
    r = c.request("GET", "/api/state")
    assert r.status == 200 and r.json()["ok"] is True
    for s in idle:
        s.close()
    still_fine(b, c, at_board(b))
