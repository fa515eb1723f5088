"""Everything the listeners share: fixture, accounts, clock, backend, OSS store, STS keys, request log, ClientTokens,
nonces, faults. ``reset()`` reloads the fixture."""
import copy
import json
import logging
import os
import threading

from .auth import NonceStore
from .clock import Clock
from .faults import FaultInjector
from .idempotency import ClientTokenStore
from .oss_store import OssStore
from .dispatch import RejectedThrottling
from .realism import Realism
from .requestlog import RequestLog
from .sts import StsService

log = logging.getLogger("ecs_emulator")

DEFAULT_FIXTURE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "default.json")

# Used only when neither a fixture argument nor fixtures/default.json exists (bootstrap).
_MINIMAL_FIXTURE = {
    "accounts": [
        {"account_id": "1234567890123456", "name": "primary", "access_key_id": "LTAI5tEmuPrimaryKey0001",
         "access_key_secret": "emuPrimarySecret0000000000000001",
         "roles": ["acs:ram::1234567890123456:role/image-admin"]},
        {"account_id": "6543210987654321", "name": "secondary", "access_key_id": "LTAI5tEmuSecondKey0002",
         "access_key_secret": "emuSecondarySecret00000000000002",
         "roles": ["acs:ram::6543210987654321:role/image-admin"]},
    ],
    "regions": [{"region_id": "cn-hangzhou", "local_name": "华东1（杭州）", "zones": ["cn-hangzhou-h"]}],
    "oss": {"buckets": []},
}


def load_fixture(fixture):
    """``fixture``: dict, path, or None (default fixture)."""
    if isinstance(fixture, dict):
        return copy.deepcopy(fixture)
    path = fixture or DEFAULT_FIXTURE
    if fixture is None and not os.path.exists(path):
        return copy.deepcopy(_MINIMAL_FIXTURE)
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


class EmulatorState:
    """Everything the HTTP handlers share. ``reset()`` reloads the fixture."""

    def __init__(self, fixture=None, time_scale=1.0, seed=0, faults=None, realism_off=None, strict=True):
        self.fixture_source = fixture
        self.realism = Realism(off=realism_off)
        self.throttle = RejectedThrottling(seed)
        self.seed = seed
        self.strict = bool(strict)             # refuse parameters/values the real API does not take (api_spec)
        self.clock = Clock(time_scale)
        self.lock = threading.RLock()          # serialises backend dispatch
        self.log = RequestLog()
        self.tokens = ClientTokenStore()
        self.nonces = NonceStore()
        self.faults = FaultInjector(faults, seed)
        self.host_port = None
        self.reset(keep_faults=True)

    def reset(self, keep_faults=False):
        with self.lock:
            self.fixture = load_fixture(self.fixture_source)
            self.accounts = self.fixture.get("accounts") or []
            if not self.accounts:
                raise ValueError("the fixture has no accounts")
            self.by_key = {a["access_key_id"]: a for a in self.accounts}
            self.by_id = {a["account_id"]: a for a in self.accounts}
            self.oss = OssStore.from_fixture(self.fixture.get("oss"), self.accounts)
            self.sts = StsService(self.accounts)
            self.realism.reset(self.fixture)
            self.throttle.reset()
            self.backend = self._make_backend()
            self.log.clear()
            self.tokens.clear()
            self.nonces.clear()
            if not keep_faults:
                self.faults.clear()

    def _make_backend(self):
        try:
            from .backend import Backend
        except ImportError as exc:            # backend not written yet (bootstrap) -> STS/admin still work
            log.warning("ecs_emulator.backend unavailable: %s", exc)
            self.backend_error = str(exc)
            return None
        self.backend_error = None
        return Backend(self.fixture, self.clock, self.oss, seed=self.seed, realism=self.realism)

    def default_region(self):
        regions = self.fixture.get("regions") or []
        return regions[0]["region_id"] if regions else "cn-hangzhou"
