"""A local socket that takes text lines from several clients and answers them: the shape
of both the monitor's relay (control.py) and the virtual board's control socket.

Single-threaded: the owner polls `fds()` with its other file descriptors and calls
`readable(fd)` for each ready one; `on_line(client, text)` gets every complete line and
answers with `answer(client, text)`, now or later.
"""
import os
import socket

MAX_LINE = 65536   # longer lines are dropped as they arrive (answered `too_long`): time and
                   # memory stay proportional to what was sent, however long a line is


class LineServer:
    def __init__(self, path, on_line, too_long="error: a line longer than %d bytes" % MAX_LINE):
        self.path = path
        self.on_line = on_line
        self.too_long = too_long
        os.makedirs(os.path.dirname(path) or ".", mode=0o700, exist_ok=True)
        try:
            os.unlink(path)  # left by an owner that was killed
        except OSError:
            pass
        self.server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.server.bind(path)
        self.server.listen(4)
        self.server.setblocking(False)
        self.clients = {}   # fd -> [socket, bytes received, dropping an overlong line]

    def fds(self):
        return [self.server.fileno()] + list(self.clients)

    def owns(self, fd):
        return fd == self.server.fileno() or fd in self.clients

    def readable(self, fd):
        if fd == self.server.fileno():
            try:
                c, _ = self.server.accept()
            except OSError:
                return
            self.clients[c.fileno()] = [c, b"", False]
            return
        entry = self.clients.get(fd)
        if entry is None:
            return
        try:
            data = entry[0].recv(4096)
        except OSError:
            data = b""
        if not data:
            self.forget(fd)
            return
        if entry[2]:  # the rest of an overlong line: dropped up to its end
            i = data.find(b"\n")
            if i < 0:
                return
            data = data[i + 1:]
            entry[2] = False
            self.answer(fd, self.too_long)
        # Only the new bytes are searched for the end of a line: a long line costs its length.
        seen = len(entry[1])
        entry[1] += data
        while fd in self.clients and b"\n" in entry[1][seen:]:
            line, entry[1] = entry[1].split(b"\n", 1)
            seen = 0
            if len(line) > MAX_LINE:
                self.answer(fd, self.too_long)
                continue
            self.on_line(fd, line.decode("utf-8", "replace").strip())
        if fd in self.clients and len(entry[1]) > MAX_LINE:
            entry[1] = b""
            entry[2] = True

    def answer(self, fd, text):
        entry = self.clients.get(fd)
        if entry is None:
            return
        try:
            entry[0].sendall(text.encode() + b"\n")
        except OSError:
            self.forget(fd)

    def forget(self, fd):
        entry = self.clients.pop(fd, None)
        if entry is not None:
            entry[0].close()

    def close(self):
        for fd in list(self.clients):
            self.forget(fd)
        self.server.close()
        try:
            os.unlink(self.path)
        except OSError:
            pass
