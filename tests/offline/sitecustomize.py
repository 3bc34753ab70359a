"""Refuse every network connection except to this machine (loaded via PYTHONPATH by the tests).

The strict build in tests/book/test_book.py runs with this folder on PYTHONPATH, so the build and
every chapter's kernel (a child process, same environment) fail loudly if anything tries to reach
the network: the book must work offline in a workshop room.
"""

import socket

_LOOPBACK = {"127.0.0.1", "::1", "localhost", "0.0.0.0"}
_connect = socket.socket.connect
_connect_ex = socket.socket.connect_ex


def _check(sock: socket.socket, address) -> None:
    if sock.family in (socket.AF_INET, socket.AF_INET6):
        host = address[0] if isinstance(address, tuple) else str(address)
        if host not in _LOOPBACK and not host.startswith("127."):
            raise OSError(f"network access blocked (the book must run offline): {address!r}")


def _guarded_connect(self, address):
    _check(self, address)
    return _connect(self, address)


def _guarded_connect_ex(self, address):
    _check(self, address)
    return _connect_ex(self, address)


socket.socket.connect = _guarded_connect
socket.socket.connect_ex = _guarded_connect_ex
