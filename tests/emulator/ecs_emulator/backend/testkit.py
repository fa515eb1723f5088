"""Helpers for driving a Backend directly (no HTTP) in tests: a manual clock and a ready backend."""
import copy
import json
import os

from ..clock import Clock
from ..context import RequestContext
from ..errors import ApiError
from ..realism import DOCUMENTED, Realism

DEFAULT_FIXTURE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "fixtures",
                               "default.json")


class ManualClock(Clock):
    """A clock that only moves when told: ``advance(sim_seconds)`` (scaled by ``time_scale``)."""

    def __init__(self, time_scale=1.0, start=1_800_000_000.0):
        super().__init__(time_scale)
        self.t = float(start)

    def now(self):
        return self.t

    def advance(self, sim_seconds):
        self.t += self.scaled(sim_seconds)


def load_default_fixture():
    with open(DEFAULT_FIXTURE, encoding="utf-8") as fh:
        return json.load(fh)


class Harness:
    """``h.call(action, account='primary', region='cn-hangzhou', **params)`` -> response dict (raises ApiError);
    ``h.error(...)`` -> the ApiError a call raises (fails if it succeeds)."""

    def __init__(self, fixture=None, time_scale=1.0, seed=0, realism_off=DOCUMENTED):
        """``realism_off``: realism behaviours off (default: every documented one, the unconfirmed ones keep their
        defaults, so a test sees the plain state machines; pass
        ``()`` for the emulator's defaults, or turn single ones on with ``h.realism({"name": True})``)."""
        from ..oss_store import OssStore
        from . import Backend

        self.fixture = copy.deepcopy(fixture) if fixture is not None else load_default_fixture()
        self.clock = ManualClock(time_scale)
        self.oss = OssStore.from_fixture(self.fixture.get("oss"), self.fixture.get("accounts"))
        self.backend = Backend(self.fixture, self.clock, self.oss, seed=seed,
                               realism=Realism(off=realism_off, fixture=self.fixture))
        self.account_ids = {a["name"]: a["account_id"] for a in self.fixture["accounts"]}
        self._n = 0

    def ctx(self, account="primary", region="cn-hangzhou", client_token=None):
        self._n += 1
        return RequestContext(account_id=self.account_ids.get(account, account), region_id=region,
                              request_id="REQ-%d" % self._n, client_token=client_token)

    def call(self, action, account="primary", region="cn-hangzhou", **params):
        flat = {k: (str(v) if not isinstance(v, str) else v) for k, v in params.items() if v is not None}
        if region is not None:
            flat.setdefault("RegionId", region)
        return self.backend.dispatch(self.ctx(account, region), action, flat)

    def error(self, action, **kwargs):
        try:
            result = self.call(action, **kwargs)
        except ApiError as err:
            return err
        raise AssertionError("%s succeeded unexpectedly: %r" % (action, result))

    def realism(self, mapping):
        """Switch realism behaviours: ``h.realism({"usable_lag": True})``."""
        self.backend.realism.update(mapping)
        self.backend.epoch += 1

    def advance(self, sim_seconds):
        self.clock.advance(sim_seconds)

    def image(self, image_id, account="primary", region="cn-hangzhou"):
        imgs = self.call("DescribeImages", account=account, region=region, ImageId=image_id,
                         Status="ALL")["Images"]["Image"]
        return imgs[0] if imgs else None

    def snapshot(self, snapshot_id, account="primary", region="cn-hangzhou"):
        snaps = self.call("DescribeSnapshots", account=account, region=region,
                          SnapshotIds=json.dumps([snapshot_id]))["Snapshots"]["Snapshot"]
        return snaps[0] if snaps else None

    def instance(self, instance_id, account="primary"):
        return self.call("DescribeInstanceAttribute", account=account, region=None, InstanceId=instance_id)
