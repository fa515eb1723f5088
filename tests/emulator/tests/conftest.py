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

# autouse loopback_only: no test connects outside 127.0.0.0/8 or ::1 (metadata address included)
from ecs_emulator import testing  # noqa: E402
from ecs_emulator.netguard import loopback_only  # noqa: E402,F401  pylint: disable=unused-import
from ecs_emulator.realism import DOCUMENTED  # noqa: E402
from ecs_emulator.server import start_emulator  # noqa: E402

TIME_SCALE = float(os.environ.get("ECS_EMULATOR_TEST_TIME_SCALE", "0.001"))


@pytest.fixture(scope="session")
def _emulator_session():
    # realism behaviours off for the plain state-machine tests; test_realism*.py turn single ones on
    emu = start_emulator(time_scale=TIME_SCALE, seed=0, realism_off=DOCUMENTED)
    yield emu
    emu.stop()


@pytest.fixture
def emulator(_emulator_session):
    emu = _emulator_session
    testing.admin(emu, "POST", "reset")
    testing.admin(emu, "PUT", "config", {"time_scale": TIME_SCALE, "strict": True})
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


@pytest.fixture
def needs_backend(emulator):
    """Skip a test that drives ECS actions while ecs_emulator.backend is not importable (bootstrap only)."""
    if emulator.backend is None:
        pytest.skip("ecs_emulator.backend is not available yet")
    return emulator.backend


@pytest.fixture
def raw(emulator):
    """Send a raw HTTP request to the ECS port: raw(method, path_and_query, body=b'', headers=None) -> Response."""
    import requests

    session = requests.Session()
    session.trust_env = False

    def _raw(method, path="/", body=b"", headers=None, port=None):
        url = "http://127.0.0.1:%d%s" % (port or emulator.port, path)
        return session.request(method, url, data=body, headers=headers or {}, timeout=10)
    yield _raw
    session.close()


@pytest.fixture
def signed(emulator, raw):
    """V1-sign ``params`` with an account's key and send them: signed(params, method='POST', account=0, ...)."""
    from urllib.parse import urlencode, quote

    from ecs_emulator.signatures import sign_v1_params

    def _signed(params, method="POST", account=0, secret=None, security_token=None, access_key_id=None):
        acc = emulator.accounts[account]
        p = sign_v1_params(method, params, access_key_id or acc["access_key_id"], secret or acc["access_key_secret"],
                           security_token)
        return raw(method, "/?" + urlencode(p, quote_via=quote)), p
    return _signed
