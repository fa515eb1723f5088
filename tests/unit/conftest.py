# -*- coding: utf-8 -*-
"""Unit tests import the collection as ``ansible_collections.alicloud.ecs_images``.

In the collection copy (``make unit``) that name is importable already. From the working tree
(``.venv/bin/python -m pytest tests/unit``) it is made importable with the same symlink farm the integration
runner uses (tests/integration/emulator_helper.py ``collections_path``): one rule, one place.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import importlib.util
import os
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))


def _collections_path():
    spec = importlib.util.spec_from_file_location(
        '_ecs_images_emulator_helper', os.path.join(ROOT, 'tests', 'integration', 'emulator_helper.py'))
    helper = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(helper)
    try:
        return helper.collections_path(ROOT)
    except OSError:     # another pytest worker made the link at the same moment
        return helper.collections_path(ROOT)


try:
    import ansible_collections.alicloud.ecs_images  # noqa: F401  pylint: disable=unused-import
except ImportError:
    sys.path.insert(0, _collections_path())


# ---------------------------------------------------------------------------------------- loopback-only guard
# No unit test may send a request outside 127.0.0.0/8 (::1): not to a cloud endpoint, not to the instance metadata
# address 100.100.100.200. Every socket connect is checked; one elsewhere is refused (never sent) and fails the test
# even when the code under test swallows the error.

import ipaddress  # noqa: E402
import socket  # noqa: E402

import pytest  # noqa: E402


class OutsideLoopback(OSError):
    """Raised instead of connecting outside the loopback range."""


def _loopback(address):
    if not isinstance(address, tuple):     # AF_UNIX path
        return True
    host = address[0]
    if host == 'localhost':
        return True
    try:
        return ipaddress.ip_address(host.split('%')[0]).is_loopback
    except ValueError:      # a host name: connect() only takes resolved addresses, so this is a bug
        return False


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch):
    """Fails the test if any socket connects outside 127.0.0.0/8 or ::1. ``loopback_only`` is the list of
    refused addresses (a test of the guard itself may inspect and clear it)."""
    refused = []
    real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex

    def check(sock, address):
        if sock.family in (socket.AF_INET, socket.AF_INET6) and not _loopback(address):
            refused.append(address)
            raise OutsideLoopback('test tried to connect to %r outside the loopback range' % (address,))

    def connect(sock, address):
        check(sock, address)
        return real_connect(sock, address)

    def connect_ex(sock, address):
        check(sock, address)
        return real_connect_ex(sock, address)

    monkeypatch.setattr(socket.socket, 'connect', connect)
    monkeypatch.setattr(socket.socket, 'connect_ex', connect_ex)
    yield refused
    assert not refused, 'connections outside the loopback range were attempted: %r' % refused
