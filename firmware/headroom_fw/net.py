"""The WiFi chip and the sockets, as the firmware uses them: one small seam.

On a Pico W this is MicroPython's own `network.WLAN` (the CYW43439) and `socket`
(lwIP), every socket non-blocking: nothing here ever waits for the network. The
simulator hands the firmware its own Net (host_tools/headroom/sim/net.py: the same calls
on the desktop's sockets, and a simulated access point); the virtual board runs this one,
on the Unix port's sockets.
"""
import socket

_EAGAIN = (11, 115, 119)   # EAGAIN, EINPROGRESS (Linux), and lwIP's EINPROGRESS


class Net:
    def __init__(self):
        self._poll = None    # the listening socket's poller (select.poll), made by listen
        self._lsock = None

    def wlan(self):
        import network
        return network.WLAN(network.STA_IF)

    def country(self, code):
        """The radio's rules (a two-letter code); a port without the call keeps its own."""
        try:
            import network
            network.country(code)
        except (AttributeError, ImportError, OSError, ValueError):
            pass

    def hostname(self, name):
        try:
            import network
            network.hostname(name)
        except (AttributeError, ImportError, OSError, ValueError):
            pass

    def listen(self, ip, port, backlog):
        """A non-blocking listening socket on (ip, port); OSError when it cannot be had."""
        s = socket.socket()
        try:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(socket.getaddrinfo(ip, port)[0][-1])
            s.listen(backlog)
            s.setblocking(False)
        except OSError:
            s.close()
            raise
        # accept() with nobody waiting raises OSError (EAGAIN): an exception made every
        # pass, 96 B on the VM, a collection every 20 s. The poller asks first, and its
        # ipoll() allocates nothing.
        import select
        p = select.poll()
        p.register(s, select.POLLIN)
        self._poll = p
        self._lsock = s
        return s

    def address(self, ip, port):
        """The page's address as a phone types it."""
        return "http://%s/" % ip if port == 80 else "http://%s:%d/" % (ip, port)

    def accept(self, s):
        """A new connection, non-blocking, or None when none waits."""
        if s is self._lsock:
            for _ in self._poll.ipoll(0):   # type: ignore[union-attr]
                break
            else:
                return None
        try:
            c, _ = s.accept()
        except OSError:
            return None
        c.setblocking(False)
        return c

    def recv_into(self, c, mv):
        """Bytes read into memoryview `mv`: > 0; 0 when the peer closed; -1 when none wait.
        OSError: the connection broke."""
        try:
            n = c.readinto(mv)
        except OSError as e:
            if e.args and e.args[0] in _EAGAIN:
                return -1
            raise
        if n is None:
            return -1
        return n

    def send(self, c, buf, off, n):
        """Up to n bytes of buf from off: how many went (0: the peer's window is full).
        OSError: the connection broke. Allocates nothing (the stream's own offset)."""
        try:
            k = c.write(buf, off, n)
        except OSError as e:
            if e.args and e.args[0] in _EAGAIN:
                return 0
            raise
        return 0 if k is None else k

    def close(self, c):
        if c is self._lsock:
            self._lsock = self._poll = None
        try:
            c.close()
        except OSError:
            pass
