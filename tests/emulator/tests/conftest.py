"""Fixtures for the emulator's own tests.

``emulator``: one emulator per test session (time_scale 0.001), reset through the admin API before each test.
``ecs_client`` / ``second_client``: aliyunsdkcore AcsClient of the first / second fixture account.
``call(action, **params)``: CommonRequest through ``ecs_client`` -> dict.
``new_sdk_client``: alibabacloud_ecs20140526 Client (V3 signature) of the first account.
"""
import os

for _var in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
    os.environ.pop(_var, None)

import pytest  # noqa: E402

from ecs_emulator import testing  # noqa: E402
from ecs_emulator.server import start_emulator  # noqa: E402

TIME_SCALE = float(os.environ.get("ECS_EMULATOR_TEST_TIME_SCALE", "0.001"))


@pytest.fixture(scope="session")
def _emulator_session():
    emu = start_emulator(time_scale=TIME_SCALE, seed=0)
    yield emu
    emu.stop()


@pytest.fixture
def emulator(_emulator_session):
    emu = _emulator_session
    testing.admin(emu, "POST", "reset")
    testing.admin(emu, "PUT", "config", {"time_scale": TIME_SCALE})
    return emu


@pytest.fixture
def admin(emulator):
    def _admin(method, path, body=None):
        return testing.admin(emulator, method, path, body)
    return _admin


@pytest.fixture
def ecs_client(emulator):
    return testing.acs_client(emulator, 0)


@pytest.fixture
def second_client(emulator):
    return testing.acs_client(emulator, 1)


@pytest.fixture
def call(ecs_client):
    def _call(action, **params):
        return testing.call(ecs_client, action, **params)
    return _call


@pytest.fixture
def new_sdk_client(emulator):
    return testing.new_sdk_client(emulator, 0)
