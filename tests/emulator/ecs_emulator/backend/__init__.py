"""The emulator's ECS backend: resource models and state machines, no HTTP.

``Backend(fixture, clock, oss, seed).dispatch(ctx, action, params)`` returns the response body without RequestId
or raises ``ecs_emulator.errors.ApiError``. See docs/dev/ARCHITECTURE.md and tests/emulator/README.md.
"""
from .compute import ComputeActions
from .core import DEFAULT_DURATIONS, DEFAULT_QUOTAS, BackendCore
from .images import ImageActions
from .launch import LaunchActions
from .util import iso

from .tagging import TagActions
from .tasks import TaskActions

__all__ = ["Backend", "DEFAULT_DURATIONS", "DEFAULT_QUOTAS"]


class Backend(BackendCore, ImageActions, LaunchActions, ComputeActions, TaskActions, TagActions):
    """ECS backend. ``actions`` lists every ECS action it implements."""

    actions = frozenset()

    def resources(self):
        """JSON-able dump for ``GET /_emulator/resources``: per account and region, every resource."""
        with self.serving() as now:
            in_use = self.images_in_use()
            accounts = {}
            for acc_id, acc in self.accounts.items():
                regions = {}
                for region in self.regions:
                    regions[region] = {"images": [], "instances": [], "disks": [], "snapshots": [], "tasks": [],
                                       "key_pairs": []}
                accounts[acc_id] = {"name": acc.get("name"), "account_id": acc_id, "regions": regions,
                                    "resource_groups": [g["id"] if isinstance(g, dict) else g
                                                        for g in acc.get("resource_groups", [])]}

            def slot(acc_id, region):
                entry = accounts.get(acc_id)
                return entry["regions"].get(region) if entry else None

            for kind, objects, render in (
                    ("images", self.images.values(), lambda i: self.render_image(i, i.owner_id, now, in_use)),
                    ("instances", self.instances.values(), lambda i: self.render_instance(i, now)),
                    ("disks", self.disks.values(), lambda d: self.render_disk(d, now)),
                    ("snapshots", self.snapshots.values(), lambda s: self.render_snapshot(s, now)),
                    ("tasks", self.tasks.values(), lambda t: self.render_task(t, now))):
                for obj in objects:
                    s = slot(obj.owner_id if kind == "images" else obj.account_id, obj.region)
                    if s is not None:
                        s[kind].append(render(obj))
            for (acc_id, region, name), kp in self.key_pairs.items():
                s = slot(acc_id, region)
                if s is not None:
                    s["key_pairs"].append({"KeyPairName": name, "KeyPairFingerPrint": kp.fingerprint,
                                           "CreationTime": iso(kp.creation_time)})
            for entry in accounts.values():
                entry["regions"] = {r: v for r, v in entry["regions"].items() if any(v.values())}
            public = {}
            for region, imgs in self.system.items():
                public[region] = [{"ImageId": i.image_id, "ImageOwnerAlias": i.alias, "OSType": i.os_type,
                                   "Architecture": i.architecture, "Platform": i.platform, "Size": i.size,
                                   "ProductCode": i.product_code} for i in imgs.values()]
            extra = [a for a in dict.fromkeys(str(x) for x in self.fixture.get("extra_account_ids", []))
                     if a not in self.accounts]
            return {"time": now, "regions": list(self.regions), "accounts": accounts, "public_images": public,
                    "extra_account_ids": extra, "networks": self.network_dump(),
                    "oss": (self.fixture.get("oss") or {}), "testvars": self.fixture.get("testvars") or {},
                    "durations": dict(self.durations), "time_scale": self.clock.time_scale}


Backend.actions = frozenset(name[4:] for name in dir(Backend) if name.startswith("act_"))
