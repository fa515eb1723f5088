"""Loopback-only guard for pytest: no test may send a request outside 127.0.0.0/8 or ::1 (not to a cloud endpoint,
not to the instance metadata address 100.100.100.200).

Import the autouse fixture into a conftest.py: ``from ecs_emulator.netguard import loopback_only``. Every socket
connect is checked; one elsewhere is refused (never sent) and fails the test even when the code under test swallows
the error."""
import ipaddress
import socket

import pytest


class OutsideLoopback(OSError):
    """Raised instead of connecting outside the loopback range."""


def _loopback(address):
    if not isinstance(address, tuple):     # AF_UNIX path
        return True
    host = address[0]
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:      # a host name: connect() takes resolved addresses, so this is a bug
        return False


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch):
    """Fails the test if any socket connects outside 127.0.0.0/8 or ::1. The fixture value is the list of refused
    addresses (a test of the guard itself may inspect and clear it)."""
    refused = []
    real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex

    def check(sock, address):
        if sock.family in (socket.AF_INET, socket.AF_INET6) and not _loopback(address):
            refused.append(address)
            raise OutsideLoopback("test tried to connect to %r outside the loopback range" % (address,))

    def connect(sock, address):
        check(sock, address)
        return real_connect(sock, address)

    def connect_ex(sock, address):
        check(sock, address)
        return real_connect_ex(sock, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    yield refused
    assert not refused, "connections outside the loopback range were attempted: %r" % refused
