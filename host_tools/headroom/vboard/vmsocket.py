"""The virtual board's `socket` for a Pico W's firmware (MicroPython VM only; vm.py).

The firmware's net.py binds its server to socket.getaddrinfo(ip, port): port 80 on a
Pico W, which a test (or a desktop user) cannot have. This module is the Unix port's own
socket module, every name re-exported, except that getaddrinfo() gives the host's port
the virtual board chose (`--web-port`, or a free one) for the board's port. vm.py puts it
in sys.modules['socket'] before boot.py runs; the firmware's sockets are the real ones.
"""
from socket import *  # noqa: F403 - the Unix port's socket module, as it is
from socket import getaddrinfo as _getaddrinfo

_ports = {}     # the board's port -> the host's


def map_port(board_port, host_port):
    _ports[board_port] = host_port


def getaddrinfo(host, port, *args):
    return _getaddrinfo(host, _ports.get(port, port), *args)
