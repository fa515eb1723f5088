"""Backend state: accounts, regions, indexes, fixture loading, the lazy job scheduler and dispatch."""
import contextlib
import hashlib
import heapq
import itertools
import threading

from ..errors import ApiError, missing_parameter
from ..realism import REALISM_DURATIONS, Realism
from ..params import Params
from .models import Disk, Image, Instance, Job, KeyPair, Mapping, Snapshot
from .util import CreationIndex, IdFactory, REGION_CODES

# Simulated seconds (multiplied by the clock's time scale). Override any of them with the fixture's "durations".
DEFAULT_DURATIONS = {
    "CreateImage": 60,          # Creating -> Available (and the per-disk snapshots progressing -> accomplished)
    "CopyImage": 300,           # destination image Creating -> Available (one copy at a time per destination region)
    "ImportImage": 600,         # Waiting (first 10 %) -> Creating -> Available | CreateFailed (at half time)
    "ExportImage": 300,         # task Processing -> Finished, then the objects appear in the bucket
    "StopInstance": 10,         # Stopping -> Stopped
    "StartInstance": 15,        # Starting -> Running
    "ReplaceSystemDisk": 40,    # OperationLocks non-empty, new disk Creating -> In_use
    "CreateSnapshot": 30,       # progressing -> accomplished
    "RunInstances": 20,         # Pending (first quarter) -> Starting -> Running
}

DEFAULT_QUOTAS = {
    "custom_images_per_region": 20000,   # QuotaExceed.Image (real default is far lower; large for benchmarks)
    "share_accounts_per_image": 50,      # QuotaExceed.ShareImageUser
    "share_accounts_per_call": 10,       # AddAccount.N / RemoveAccount.N
    "tags_per_resource": 20,             # OperationDenied.QuotaExceed
    "snapshots_per_disk": 256,           # QuotaExceed.Snapshot
}

# Actions that never change state (the DescribeImages caches survive them; see BackendCore.caches).
READ_ONLY_PREFIXES = ("Describe", "List")

INSTANCE_TYPES = {
    # id: (vCPU, memory GiB, family, architecture)
    "ecs.t6-c1m1.large": (2, 2.0, "ecs.t6", "x86_64"),
    "ecs.g6.large": (2, 8.0, "ecs.g6", "x86_64"),
    "ecs.g7.large": (2, 8.0, "ecs.g7", "x86_64"),
    "ecs.g7.xlarge": (4, 16.0, "ecs.g7", "x86_64"),
    "ecs.c7.large": (2, 4.0, "ecs.c7", "x86_64"),
    "ecs.r7.large": (2, 16.0, "ecs.r7", "x86_64"),
    "ecs.g8i.large": (2, 8.0, "ecs.g8i", "x86_64"),
    "ecs.g8y.large": (2, 8.0, "ecs.g8y", "arm64"),
    "ecs.c8y.large": (2, 4.0, "ecs.c8y", "arm64"),
}


def image_not_found(image_id=None):
    msg = ('The specified ImageId "%s" does not exist.' % image_id if image_id
           else "The specified ImageId does not exist.")
    return ApiError(404, "InvalidImageId.NotFound", msg)


def _account_ref_map(accounts):
    out = {}
    for acc in accounts:
        out[acc["account_id"]] = acc["account_id"]
        if acc.get("name"):
            out[acc["name"]] = acc["account_id"]
    return out


class BackendCore:
    """State and plumbing; the actions live in the mixins of ``ecs_emulator.backend``."""

    def __init__(self, fixture, clock, oss, seed=0, realism=None):
        self._lock = threading.RLock()
        # realism switches (ecs_emulator.realism); a Backend made without them has every default behaviour
        self.realism = realism if realism is not None else Realism(fixture=fixture)
        self.clock = clock
        self.oss = oss
        self.fixture = fixture or {}
        self.ids = IdFactory(seed)
        self._heap = []
        self.finished_jobs = []      # every job finished, in order (benchmarks read when a resource was ready)
        self._seq = itertools.count()
        self.durations = dict(DEFAULT_DURATIONS)
        self.durations.update(REALISM_DURATIONS)
        self.durations.update(self.fixture.get("durations") or {})
        self.quotas = dict(DEFAULT_QUOTAS)
        self.quotas.update(self.fixture.get("quotas") or {})
        # --- indexes
        self.accounts = {}          # account id -> fixture account dict
        self.known_accounts = set()  # ids that exist (accounts + extra_account_ids), for sharing
        self.regions = {}           # region id -> fixture region dict
        self.images = {}            # custom image id -> Image (all accounts and regions)
        self.custom = {}            # (account, region) -> CreationIndex of its custom images (sorted by time)
        # (account, region) -> {name: set of image ids} (a default-named copy may share its source's name)
        self.names = {}
        self.system = {}            # region -> {image id: Image} (system + marketplace)
        self.shared_to = {}         # account -> {image id: Image} shared with that account
        self.community = {}         # image id -> Image (IsPublic)
        self.instances = {}         # id -> Instance
        self.disks = {}             # id -> Disk
        self.snapshots = {}         # id -> Snapshot
        self.snap_images = {}       # snapshot id -> set of image ids whose mappings use it
        self.tasks = {}             # id -> Task
        self.key_pairs = {}         # (account, region, name) -> KeyPair
        self.copy_queues = {}       # (account, destination region) -> [Job] in order
        self.hidden = set()         # realism late_visibility: ids of new images DescribeImages does not list yet
        self.fail_next = None       # fault image_create_failed / image_unavailable of the call being served
        self._local = threading.local()
        # Caches (DescribeImages): valid while ``epoch`` is unchanged; ``epoch`` moves on every change of state
        # (any action but Describe*/List*, any job that ends, any image added or removed).
        self.epoch = 0
        self._cache_epoch = 0
        self._render_cache = {}     # (id(image), viewer) -> rendered dict (images without an active job)
        self._query_cache = {}      # (account, region, filters) -> [images] newest first (no active job among them)
        self._load(self.fixture)
        if oss is not None:
            oss.before_read = self.advance

    # ------------------------------------------------------------------------------------ plumbing
    def dispatch(self, ctx, action, params):
        handler = getattr(self, "act_" + action, None)
        if handler is None or action not in self.actions:
            raise ApiError(404, "InvalidAction.NotFound", "Specified api is not found, please check your url "
                           "and method.")
        with self.serving() as now:
            fail_as = getattr(ctx, "fail_as", None)
            self.fail_next = fail_as if (fail_as and self.real("create_failed")) else None
            if action.startswith(READ_ONLY_PREFIXES):
                return handler(ctx, Params(params), now)
            self.epoch += 1
            try:
                return handler(ctx, Params(params), now)
            finally:
                self.epoch += 1

    def caches(self):
        """(render cache, query cache) of the current epoch (emptied when the state has changed)."""
        if self._cache_epoch != self.epoch:
            self._cache_epoch = self.epoch
            self._render_cache.clear()
            self._query_cache.clear()
        return self._render_cache, self._query_cache

    @contextlib.contextmanager
    def serving(self):
        """Hold the backend lock with this thread marked busy and every due job finished; yields ``now``.
        While busy, the backend's own OSS reads (import checks inside job handlers) do not re-enter ``advance``."""
        with self._lock:
            outer = getattr(self._local, "busy", False)
            self._local.busy = True
            try:
                now = self.clock.now()
                self._advance(now)
                yield now
            finally:
                self._local.busy = outer

    def duration(self, action):
        """Real seconds a transition of ``action`` lasts now."""
        return self.clock.scaled(self.durations[action])

    # ------------------------------------------------------------------------------------ realism
    def real(self, name):
        """Whether the realism behaviour ``name`` is on (ecs_emulator.realism)."""
        return self.realism.on(name)

    def real_delay(self, name):
        """Real seconds of the realism behaviour ``name`` (its simulated duration, scaled); 0 when it is off."""
        return self.clock.scaled(self.durations[name]) if self.realism.on(name) else 0.0

    def tick_at(self, when, handler=None, **data):
        """Schedule a state change at real time ``when`` (its end bumps ``epoch``, so cached answers that depend on
        time-based attributes such as Usable or late visibility are dropped then)."""
        job = Job("tick", when, when, when, 0, handler=handler, data=data)
        self.schedule(job)
        return job

    def hide_new_image(self, img, now):
        """Realism late_visibility: a new image is missing from DescribeImages for a while."""
        delay = self.real_delay("late_visibility")
        if delay > 0:
            self.hidden.add(img.image_id)
            self.tick_at(now + delay, handler=lambda job: self.hidden.discard(img.image_id))

    def image_ready(self, img, when):
        """A create/copy/import ends at ``when``: Usable from then on, or later with realism usable_lag."""
        delay = self.real_delay("usable_lag")
        img.usable_at = when + delay
        if delay > 0:
            self.tick_at(img.usable_at)

    def check_usable(self, img, now, param="ImageId"):
        """Realism usable_lag: an image whose Status reads Available but Usable is still false is refused."""
        if self.real("usable_lag") and img.current_status(now) in ("Available", "Deprecated") \
                and not img.usable(now):
            raise ApiError(400, "IncorrectImageStatus", 'The specified image "%s" (%s) is not usable yet '
                           '(Usable=false).' % (img.image_id, param))

    def schedule(self, job):
        heapq.heappush(self._heap, (job.end, next(self._seq), job))

    def _advance(self, now):
        """Finish every job whose end has passed, in time order (handlers may schedule further jobs)."""
        while self._heap and self._heap[0][0] <= now:
            end, _seq, job = heapq.heappop(self._heap)
            if not job.active or job.end != end:
                continue
            job.active = False
            self.finished_jobs.append(job)
            self.epoch += 1
            if job.handler is not None:
                job.handler(job)

    def advance(self):
        """Finish every job due by now. Registered as the OSS store's ``before_read`` hook, so an export's objects
        appear at the task's end even when the client polls OSS only (jobs are otherwise advanced by ECS requests).
        A no-op when called from inside a backend call (the jobs are being advanced there)."""
        if getattr(self._local, "busy", False):
            return
        with self.serving():
            pass

    def region_of(self, ctx, p, required=True, missing=None, status=404):
        region = ctx.region_id or p.str("RegionId")
        if not region:
            if required:
                raise missing or missing_parameter("RegionId")
            return None
        if region not in self.regions:
            raise ApiError(status, "InvalidRegionId.NotFound", 'The specified RegionId "%s" does not exist.'
                           % region)
        return region

    @staticmethod
    def dry_run(p):
        if p.bool("DryRun", False):
            raise ApiError(400, "DryRunOperation", "Request validation has been passed with DryRun flag set.")

    def account_ref(self, ref):
        return self._refs.get(ref, ref)

    def resource_group(self, account_id, rg, required_exists=True):
        """Validate ResourceGroupId; returns the account's default group when ``rg`` is None."""
        groups = self.accounts.get(account_id, {}).get("resource_groups") or []
        ids = [g["id"] if isinstance(g, dict) else g for g in groups]
        if rg is None:
            return ids[0] if ids else ""
        if required_exists and rg not in ids:
            raise ApiError(404, "InvalidResourceGroup.NotFound", 'The specified "ResourceGroupId" %s does not '
                           'exist.' % rg)
        return rg

    # ------------------------------------------------------------------------------------ indexes
    def add_custom_image(self, img):
        self.epoch += 1
        self.images[img.image_id] = img
        key = (img.owner_id, img.region)
        index = self.custom.get(key)
        if index is None:
            index = self.custom[key] = CreationIndex()
        index.add(img)
        if img.name:
            self.names.setdefault((img.owner_id, img.region), {}).setdefault(img.name, set()).add(img.image_id)
        for m in img.mappings:
            if m.snapshot_id:
                self.snap_images.setdefault(m.snapshot_id, set()).add(img.image_id)
        for acc in img.shared_with:
            self.shared_to.setdefault(acc, {})[img.image_id] = img
        if img.is_public:
            self.community[img.image_id] = img

    def remove_custom_image(self, img):
        self.epoch += 1
        self.images.pop(img.image_id, None)
        index = self.custom.get((img.owner_id, img.region))
        if index is not None:
            index.remove(img)
        self._drop_name(img)
        for m in img.mappings:
            if m.snapshot_id:
                self.snap_images.get(m.snapshot_id, set()).discard(img.image_id)
        for acc in list(img.shared_with):
            self.shared_to.get(acc, {}).pop(img.image_id, None)
        self.community.pop(img.image_id, None)
        self.hidden.discard(img.image_id)
        if img.job is not None:
            img.job.active = False

    def _drop_name(self, img):
        ids = self.names.get((img.owner_id, img.region), {}).get(img.name)
        if ids is not None:
            ids.discard(img.image_id)
            if not ids:
                del self.names[(img.owner_id, img.region)][img.name]

    def rename_image(self, img, new_name):
        self._drop_name(img)
        img.name = new_name
        self.names.setdefault((img.owner_id, img.region), {}).setdefault(new_name, set()).add(img.image_id)

    def set_mapping_snapshot(self, img, mapping, snapshot_id):
        mapping.snapshot_id = snapshot_id
        self.snap_images.setdefault(snapshot_id, set()).add(img.image_id)

    def visible_image(self, account_id, region, image_id, listing=False):
        """An image ``account_id`` can see in ``region`` (own, shared with it, community, system, marketplace).
        An image being deleted (realism delete_lingers) is seen only when ``listing`` (DescribeImages)."""
        img = self.images.get(image_id)
        if img is not None and img.deleting and not listing:
            return None
        if img is not None and img.region == region:
            if img.owner_id == account_id or account_id in img.shared_with or img.is_public:
                return img
            return None
        return self.system.get(region, {}).get(image_id)

    def own_image(self, account_id, region, image_id, required=False):
        """The account's custom image ``image_id`` in ``region``; None, or with ``required`` 404
        InvalidImageId.NotFound, when it is not there (system, marketplace and shared images are not one's own)."""
        img = self.images.get(image_id)
        if img is not None and img.region == region and img.owner_id == account_id and not img.deleting:
            return img
        if required:
            raise image_not_found(image_id)
        return None

    @staticmethod
    def in_scope(objects, account_id, region, ids=None, id_attr=None):
        """The ``objects`` (instances, disks, snapshots, tasks) of ``account_id`` in ``region``; with ``ids``, only
        those whose ``id_attr`` is one of them."""
        for o in objects:
            if o.account_id == account_id and o.region == region and (ids is None or getattr(o, id_attr) in ids):
                yield o

    def images_in_use(self):
        return {i.image_id for i in self.instances.values()}

    # ------------------------------------------------------------------------------------ fixture
    def _load(self, fx):
        self._refs = _account_ref_map(fx.get("accounts", []))
        for acc in fx.get("accounts", []):
            self.accounts[acc["account_id"]] = acc
            self.known_accounts.add(acc["account_id"])
        for extra in fx.get("extra_account_ids", []):
            self.known_accounts.add(str(extra))
        for reg in fx.get("regions", []):
            self.regions[reg["region_id"]] = reg
            self.system[reg["region_id"]] = {}
        t0 = self.clock.now()
        for spec in fx.get("public_images", []):
            for region in self._spec_regions(spec):
                img = self._image_from_spec(spec, region, None, "system", t0)
                self.system[region][img.image_id] = img
        for spec in fx.get("marketplace_images", []):
            for region in self._spec_regions(spec):
                img = self._image_from_spec(spec, region, None, "marketplace", t0)
                self.system[region][img.image_id] = img
        for kp in fx.get("key_pairs", []):
            acc = self.account_ref(kp["account"])
            self.key_pairs[(acc, kp["region"], kp["name"])] = KeyPair(
                name=kp["name"], account_id=acc, region=kp["region"],
                fingerprint=kp.get("fingerprint") or self._fingerprint(kp["name"] + acc),
                creation_time=t0 - 86400 * 30, resource_group_id=self.resource_group(acc, None),
                tags=dict(kp.get("tags") or {}))
        for spec in fx.get("images", []):
            acc = self.account_ref(spec["account"])
            img = self._image_from_spec(spec, spec["region"], acc, "self", t0 - 86400)
            img.resource_group_id = spec.get("resource_group_id") or self.resource_group(acc, None)
            img.shared_with = {self.account_ref(a): t0 - 3600 for a in spec.get("shared_with", [])}
            img.is_public = bool(spec.get("is_public", False))
            img.tags = dict(spec.get("tags") or {})
            self._give_snapshots(img, t0 - 86400)
            self.add_custom_image(img)
        for gen in fx.get("generated_images", []):
            acc = self.account_ref(gen["account"])
            for n in range(int(gen.get("count", 0))):
                img = Image(image_id=self.ids.new("m", gen["region"]), region=gen["region"], owner_id=acc,
                            alias="self", name="%s-%05d" % (gen.get("name_prefix", "generated"), n),
                            creation_time=t0 - 86400 + n * 0.001, size=int(gen.get("size", 40)),
                            resource_group_id=self.resource_group(acc, None),
                            mappings=[Mapping("/dev/xvda", "system", int(gen.get("size", 40)))])
                self.add_custom_image(img)
        for spec in fx.get("instances", []):
            self._instance_from_spec(spec, t0)

    def _spec_regions(self, spec):
        regs = spec.get("regions", "all")
        return list(self.regions) if regs == "all" else [r for r in regs if r in self.regions]

    @staticmethod
    def _fingerprint(seed):
        digest = hashlib.md5(seed.encode()).hexdigest()
        return ":".join(digest[i:i + 2] for i in range(0, 32, 2))

    def _image_from_spec(self, spec, region, owner, alias, t0):
        image_id = spec.get("image_id")
        if image_id:
            image_id = image_id.replace("{region}", region).replace("{code}", REGION_CODES.get(region, "zz"))
        else:
            digest = hashlib.sha1(("%s|%s" % (spec.get("name"), region)).encode()).hexdigest()
            image_id = "m-%s%s" % (REGION_CODES.get(region, "zz"), digest[:18])
        self.ids.reserve(image_id)
        size = int(spec.get("size", 40))
        img = Image(image_id=image_id, region=region, owner_id=owner, alias=alias,
                    name=spec.get("name") or image_id, creation_time=t0 - 86400 * 60,
                    size=size, description=spec.get("description", ""), family=spec.get("image_family", ""),
                    version=spec.get("image_version", ""), architecture=spec.get("architecture", "x86_64"),
                    os_type=spec.get("os_type", "linux"), os_name=spec.get("os_name", "Others Linux"),
                    os_name_en=spec.get("os_name_en", spec.get("os_name", "Others Linux")),
                    platform=spec.get("platform", "Others Linux"), boot_mode=spec.get("boot_mode", "BIOS"),
                    status=spec.get("status", "Available"), product_code=spec.get("product_code", ""),
                    supplier_name=spec.get("supplier_name", ""), license_type=spec.get("license_type", "Auto"),
                    features={"NvmeSupport": spec.get("nvme_support", "supported"),
                              "ImdsSupport": spec.get("imds_support", "v1")},
                    source={"kind": "fixture"})
        img.mappings = [Mapping("/dev/xvda", "system", size)]
        for n, dsize in enumerate(spec.get("data_disk_sizes", [])):
            img.mappings.append(Mapping("/dev/xvd%s" % chr(ord("b") + n), "data", int(dsize)))
        return img

    def _give_snapshots(self, img, t0):
        for m in img.mappings:
            snap = Snapshot(snapshot_id=self.ids.new("s", img.region), account_id=img.owner_id, region=img.region,
                            name="", creation_time=t0, source_disk_id="", source_disk_type=m.type,
                            source_disk_size=m.size, description="Created for image %s" % img.image_id,
                            resource_group_id=img.resource_group_id, created_for_image=img.image_id,
                            product_code=img.product_code if m.type == "system" else "")
            self.snapshots[snap.snapshot_id] = snap
            m.snapshot_id = snap.snapshot_id

    def _instance_from_spec(self, spec, t0):
        acc = self.account_ref(spec["account"])
        region = spec["region"]
        zone = spec.get("zone") or (self.regions[region].get("zones") or [region + "-a"])[0]
        itype = spec.get("instance_type", "ecs.g7.large")
        cpu, mem, _fam, _arch = INSTANCE_TYPES.get(itype, (2, 8.0, "ecs.g7", "x86_64"))
        image = self.system.get(region, {}).get(spec.get("image_id")) or self.images.get(spec.get("image_id"))
        iid = spec.get("instance_id") or self.ids.new("i", region)
        self.ids.reserve(iid)
        rg = spec.get("resource_group_id") or self.resource_group(acc, None)
        sd = spec.get("system_disk") or {}
        sys_id = sd.get("disk_id") or self.ids.new("d", region)
        self.ids.reserve(sys_id)
        created = t0 - 86400 * 10
        self.disks[sys_id] = Disk(disk_id=sys_id, account_id=acc, region=region, zone=zone, type="system",
                                  category=sd.get("category", "cloud_essd"), size=int(sd.get("size", 40)),
                                  creation_time=created, instance_id=iid, device="/dev/xvda",
                                  image_id=spec.get("image_id", ""), resource_group_id=rg, attached_time=created,
                                  product_code=image.product_code if image else "",
                                  performance_level="PL0" if sd.get("category", "cloud_essd") == "cloud_essd" else "")
        data_ids = []
        for n, dd in enumerate(spec.get("data_disks", [])):
            did = dd.get("disk_id") or self.ids.new("d", region)
            self.ids.reserve(did)
            self.disks[did] = Disk(disk_id=did, account_id=acc, region=region, zone=zone, type="data",
                                   category=dd.get("category", "cloud_essd"), size=int(dd.get("size", 100)),
                                   creation_time=created, instance_id=iid,
                                   device=dd.get("device") or "/dev/xvd%s" % chr(ord("b") + n),
                                   resource_group_id=rg, attached_time=created,
                                   delete_with_instance=bool(dd.get("delete_with_instance", False)))
            data_ids.append(did)
        n_inst = len(self.instances) + 1
        inst = Instance(instance_id=iid, account_id=acc, region=region, zone=zone,
                        name=spec.get("name") or "instance-%d" % n_inst, instance_type=itype, cpu=cpu,
                        memory=int(mem * 1024), image_id=spec.get("image_id", ""), system_disk_id=sys_id,
                        creation_time=created, status=spec.get("status", "Running"), data_disk_ids=data_ids,
                        key_pair_name=spec.get("key_pair_name") or "",
                        os_type=image.os_type if image else "linux",
                        os_name=image.os_name if image else "Others Linux",
                        os_name_en=image.os_name_en if image else "Others Linux",
                        tags=dict(spec.get("tags") or {}), resource_group_id=rg,
                        locks=[{"LockReason": r} for r in ([spec["lock_reason"]] if spec.get("lock_reason") else [])],
                        private_ip="172.16.%d.%d" % (n_inst // 250, 10 + n_inst % 250),
                        vpc_id="vpc-%s%s" % (REGION_CODES.get(region, "zz"), hashlib.md5(acc.encode()).hexdigest()[:18]),
                        vswitch_id="vsw-%s%s" % (REGION_CODES.get(region, "zz"),
                                                 hashlib.md5((acc + zone).encode()).hexdigest()[:18]),
                        security_group_id="sg-%s%s" % (REGION_CODES.get(region, "zz"),
                                                       hashlib.md5((acc + region).encode()).hexdigest()[:18]),
                        start_time=created, host_name="iZ%sZ" % iid[2:], description=spec.get("description", ""))
        if inst.status == "Stopped":
            inst.stopped_mode = "KeepCharging"
        self.instances[iid] = inst
        return inst
