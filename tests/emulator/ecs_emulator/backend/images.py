"""Image actions: CreateImage, DescribeImages, DeleteImage, ModifyImageAttribute, CopyImage, CancelCopyImage,
ModifyImageSharePermission, DescribeImageSharePermission, DescribeImageSupportInstanceTypes."""
import heapq
from dataclasses import dataclass
from operator import attrgetter
from typing import Optional

from ..errors import ApiError, invalid_parameter, missing_parameter
from ..jsonenc import Encoded
from ..params import check_client_token, parse_iso, parse_tag_filter, parse_tags
from .core import INSTANCE_TYPES, image_not_found
from .models import Image, Job, Mapping, Snapshot
from .util import check_description, check_image_name, iso, paginate, match_tag_filter, tag_list

IMAGE_STATUSES = ("Creating", "Waiting", "Available", "UnAvailable", "CreateFailed", "Deprecated")
OWNER_ALIASES = ("system", "self", "others", "marketplace")
ARCHITECTURES = ("i386", "x86_64", "arm64")
BOOT_MODES = ("BIOS", "UEFI", "UEFI-Preferred")
PLATFORMS = ("Aliyun", "Anolis", "CentOS", "Ubuntu", "CoreOS", "SUSE", "Debian", "OpenSUSE", "FreeBSD", "RedHat",
             "Kylin", "UOS", "Fedora", "Fedora CoreOS", "CentOS Stream", "AlmaLinux", "Rocky Linux", "Gentoo",
             "Customized Linux", "Others Linux", "Windows Server 2022", "Windows Server 2019",
             "Windows Server 2016", "Windows Server 2012", "Windows Server 2008", "Windows Server 2003",
             "Other Windows")
DEVICES = tuple("/dev/xvd%s" % c for c in "abcdefghijklmnopqrstuvwxyz")


@dataclass(frozen=True)
class ImageQuery:
    """A parsed DescribeImages filter (hashable: the key of the query cache)."""
    ids: tuple
    statuses: frozenset
    aliases: Optional[frozenset]
    usage: Optional[str]
    os_type: Optional[str]
    arch: Optional[str]
    itype: Optional[str]
    is_public: Optional[bool]
    owner_id: Optional[str]
    name: Optional[str]
    family: Optional[str]
    snapshot_id: Optional[str]
    rg: Optional[str]
    tag_filter: tuple
    start_t: Optional[float]
    end_t: Optional[float]


def parse_describe_images(p, id_list=True):
    """DescribeImages parameters -> (ImageQuery, (page number, page size)); pure: parameters only, the cloud's
    error for each bad value. ``id_list``: ImageId may be a comma list (realism ``image_id_list``)."""
    status_raw = p.str("Status", default="Available")
    if status_raw.strip().upper() == "ALL":
        statuses = set(IMAGE_STATUSES)
    else:
        statuses = set()
        for s in status_raw.split(","):
            s = s.strip()
            if s not in IMAGE_STATUSES:
                raise invalid_parameter("Status", "Allowed: a comma list of %s, or ALL." % ", ".join(IMAGE_STATUSES))
            statuses.add(s)
    alias_raw = p.str("ImageOwnerAlias")
    aliases = None
    if alias_raw:
        aliases = set()
        for a in alias_raw.split(","):
            a = a.strip()
            if a not in OWNER_ALIASES:
                raise ApiError(400, "InvalidImageOwnerAlias.ValueNotSupported",
                               'The specified "ImageOwnerAlias" %r is not supported (system, self, others, '
                               'marketplace).' % a)
            aliases.add(a)
    usage = p.enum("Usage", ("instance", "none"), code="InvalidUsage", status=404)
    os_type = p.enum("OSType", ("windows", "linux"), code="InvalidOSType", status=404, ci=True)
    arch = p.enum("Architecture", ARCHITECTURES, code="InvalidArchitecture", status=404)
    itype = p.str("InstanceType")
    if itype is not None and itype not in INSTANCE_TYPES:
        raise ApiError(400, "InvalidInstanceType.ValueNotSupported",
                       'The specified "InstanceType" %s is not supported.' % itype)
    is_public = p.bool("IsPublic")
    for b in ("IsSupportIoOptimized", "IsSupportCloudinit", "ShowExpired", "Usable", "DryRun"):
        p.bool(b)
    p.enum("ActionType", ("CreateEcs", "ChangeOS"), ci=True)
    tag_filter = parse_tag_filter(p)
    start_t = end_t = None
    for n, f in p.indexed_groups("Filter"):
        key = f.get("Key")
        if key == "CreationStartTime":
            start_t = parse_iso(f.get("Value", ""), "Filter.%d.Value" % n)
        elif key == "CreationEndTime":
            end_t = parse_iso(f.get("Value", ""), "Filter.%d.Value" % n)
        elif key in ("NetworkType", "CpuOnlineUpgrade", "CpuOnlineDowngrade", "MemoryOnlineUpgrade",
                     "MemoryOnlineDowngrade"):
            continue
        else:
            raise ApiError(404, "InvalidFilterKey.NotFound", 'The specified "Filter.%d.Key" %r is not '
                           'supported.' % (n, key))
    paging = p.page()
    raw_ids = p.str("ImageId", default="")
    if id_list:
        ids = tuple(i.strip() for i in raw_ids.split(",") if i.strip())
    else:                                 # unconfirmed: the value is one id (a comma list matches nothing)
        ids = tuple(i for i in (raw_ids.strip(),) if i)
    query = ImageQuery(ids=ids, statuses=frozenset(statuses), aliases=frozenset(aliases) if aliases is not None
                       else None, usage=usage, os_type=os_type, arch=arch, itype=itype, is_public=is_public,
                       owner_id=p.str("ImageOwnerId"), name=p.str("ImageName"), family=p.str("ImageFamily"),
                       snapshot_id=p.str("SnapshotId"), rg=p.str("ResourceGroupId"), tag_filter=tuple(tag_filter),
                       start_t=start_t, end_t=end_t)
    return query, paging


class ImageActions:

    # ------------------------------------------------------------------------------------ rendering
    def render_image(self, img, viewer, now, in_use):
        if img.owner_id is None:
            alias = img.alias
        elif img.owner_id == viewer:
            alias = "self"
        else:
            alias = "others"
        job = img.job if (img.job is not None and img.job.active) else None
        mappings = []
        for m in img.mappings:
            d = {"Device": m.device, "Type": m.type, "SnapshotId": m.snapshot_id, "Size": str(m.size),
                 "Format": m.format, "ImportOSSBucket": m.import_bucket, "ImportOSSObject": m.import_object,
                 "Progress": img.progress(now), "RemainTime": job.remain_sim(now) if job else 0,
                 "Encrypted": bool(m.encrypted)}
            mappings.append(d)
        return {
            "ImageId": img.image_id, "ImageName": img.name, "ImageFamily": img.family,
            "ImageVersion": img.version, "Description": img.description,
            "Status": img.current_status(now), "Progress": img.progress(now), "Size": img.size,
            "CreationTime": iso(img.creation_time), "Architecture": img.architecture, "OSType": img.os_type,
            "OSName": img.os_name, "OSNameEn": img.os_name_en, "Platform": img.platform,
            "BootMode": img.boot_mode, "ImageOwnerAlias": alias,
            "ImageOwnerId": int(img.owner_id) if img.owner_id else 0,
            "Usage": "instance" if img.image_id in in_use else "none",
            "IsSelfShared": "True" if (alias == "self" and (img.shared_with or img.is_public)) else "False",
            "IsCopied": img.is_copied, "IsPublic": img.is_public, "IsSubscribed": False,
            "IsSupportCloudinit": True, "IsSupportIoOptimized": True,
            "Usable": img.usable(now) if self.real("usable_lag") else True,
            "LoginAsNonRootSupported": img.alias == "system" and img.os_type == "linux",
            "ProductCode": img.product_code, "SupplierName": img.supplier_name,
            "ResourceGroupId": img.resource_group_id if alias == "self" else "",
            "LicenseType": img.license_type,
            "DiskDeviceMappings": {"DiskDeviceMapping": mappings},
            "Tags": tag_list(img.tags if alias == "self" else {}),
            "Features": dict(img.features),
            "DetectionOptions": {"Status": "", "Items": {"Item": []}},
        }

    # ------------------------------------------------------------------------------------ DescribeImages
    def act_DescribeImages(self, ctx, p, now):
        """parse (pure parse_describe_images) -> select (cached per state epoch) -> render one page."""
        region = self.region_of(ctx, p)
        acct = ctx.account_id
        q, (number, size) = parse_describe_images(p, id_list=self.real("image_id_list"))
        self.dry_run(p)
        in_use = self.images_in_use()
        render_cache, query_cache = self.caches()
        key = (acct, region, q)
        result = query_cache.get(key)
        if result is None:
            result, moving = self._select_images(acct, region, q.ids, q.aliases, q.is_public, now, q.statuses, [
                (q.family is not None, lambda i: i.family == q.family),
                (q.arch is not None, lambda i: i.architecture == q.arch),
                (q.os_type is not None, lambda i: i.os_type == q.os_type),
                (q.usage is not None, lambda i: ("instance" if i.image_id in in_use else "none") == q.usage),
                (q.itype is not None, lambda i: INSTANCE_TYPES[q.itype][3] == i.architecture),
                (q.snapshot_id is not None, lambda i: any(m.snapshot_id == q.snapshot_id for m in i.mappings)),
                (q.rg is not None, lambda i: i.resource_group_id == q.rg),
                (q.owner_id is not None, lambda i: str(i.owner_id or "") == q.owner_id),
                (q.is_public is not None, lambda i: i.is_public == q.is_public or i.owner_id is None),
                (bool(q.tag_filter), lambda i: i.owner_id == acct and match_tag_filter(i.tags, q.tag_filter)),
                (q.start_t is not None, lambda i: i.creation_time >= q.start_t),
                (q.end_t is not None, lambda i: i.creation_time <= q.end_t),
                (q.name is not None, lambda i: q.name in i.name),
            ])
            if not moving:                # no image with a running job: the answer holds until the state changes
                if len(query_cache) >= 256:
                    query_cache.clear()
                query_cache[key] = result
        page = paginate(result, number, size)
        return {"RegionId": region, "TotalCount": len(result), "PageNumber": number, "PageSize": size,
                "Images": {"Image": [self.rendered_image(i, acct, now, in_use, render_cache) for i in page]}}

    def _select_images(self, acct, region, ids, aliases, is_public, now, statuses, checks):
        """The images a DescribeImages query matches, newest first, and whether one of them has a running job
        (its status moves with time, so the list must not be cached). ``checks``: (in use?, predicate)."""
        if ids:
            candidates, seen = [], set()
            for image_id in ids:
                img = self.visible_image(acct, region, image_id, listing=True)
                if img is not None and image_id not in seen:
                    seen.add(image_id)
                    candidates.append(img)
            if aliases is not None:
                candidates = [i for i in candidates if (i.alias if i.owner_id is None else
                                                        ("self" if i.owner_id == acct else "others")) in aliases]
            candidates.reverse()          # newest first, also among equal creation times
            candidates.sort(key=attrgetter("creation_time"), reverse=True)
        else:
            want = aliases or {"system", "self", "others"}
            others = []
            if "others" in want:
                others.extend(i for i in self.shared_to.get(acct, {}).values() if i.region == region)
                if is_public:
                    others.extend(i for i in self.community.values()
                                  if i.region == region and i.owner_id != acct and acct not in i.shared_with)
            if "system" in want or "marketplace" in want:
                others.extend(i for i in self.system.get(region, {}).values() if i.alias in want)
            own = self.custom.get((acct, region)) if "self" in want else None
            own = own.newest_first() if own is not None else []     # kept sorted on insert/delete
            if others:
                others.reverse()
                others.sort(key=attrgetter("creation_time"), reverse=True)
                candidates = list(heapq.merge(others, own, key=attrgetter("creation_time"), reverse=True))
            else:
                candidates = own
        if self.hidden:                   # realism late_visibility: new images not listed yet
            candidates = [i for i in candidates if i.image_id not in self.hidden]
        moving = any(i.job is not None and i.job.active for i in candidates)
        if len(statuses) == len(IMAGE_STATUSES):
            result = candidates
        elif moving:
            result = [i for i in candidates if i.current_status(now) in statuses]
        else:
            result = [i for i in candidates if i.status in statuses]
        for in_use, check in checks:
            if in_use:
                result = [i for i in result if check(i)]
        return result, moving

    def rendered_image(self, img, viewer, now, in_use, cache=None):
        """``render_image`` through the epoch's cache (images whose job is running are rendered every time)."""
        if img.job is not None and img.job.active:
            return self.render_image(img, viewer, now, in_use)
        if cache is None:
            cache = self.caches()[0]
        key = (id(img), viewer)
        out = cache.get(key)
        if out is None:
            out = cache[key] = Encoded(self.render_image(img, viewer, now, in_use))   # JSON encoded once
        return out

    # ------------------------------------------------------------------------------------ shared checks
    def _check_new_name(self, account, region, name, param="ImageName", exclude=None,
                        message="The specified Image name has already bean used."):
        check_image_name(name, param)
        existing = self.names.get((account, region), {}).get(name, set()) - {exclude}
        if existing:
            raise ApiError(400, "InvalidImageName.Duplicated", '%s ("%s" = %s)' % (message, param, name))

    def _check_quota(self, account, region):
        if len(self.custom.get((account, region), {})) >= self.quotas["custom_images_per_region"]:
            raise ApiError(403, "QuotaExceed.Image", "The Image Quota exceeds.")

    def _common_image_attrs(self, ctx, p, region):
        attrs = {}
        name = p.str("ImageName")
        if name is not None:
            self._check_new_name(ctx.account_id, region, name)
        attrs["name"] = name
        desc = p.str("Description")
        if desc is not None:
            check_description(desc)
        attrs["description"] = desc or ""
        family = p.str("ImageFamily")
        if family is not None:
            check_image_name(family, "ImageFamily", "InvalidImageFamily.Malformed")
        attrs["family"] = family or ""
        version = p.str("ImageVersion")
        if version is not None and (len(version) > 40 or not version.replace(".", "").replace("-", "").isalnum()):
            raise ApiError(400, "InvalidImageVersion.Malformed", 'The specified "ImageVersion" is wrongly formed.')
        attrs["version"] = version or ""
        attrs["architecture"] = p.enum("Architecture", ARCHITECTURES, code="InvalidArchitecture.Malformed")
        attrs["platform"] = p.enum("Platform", PLATFORMS, code="InvalidPlatform.Malformed", ci=True)
        attrs["boot_mode"] = p.enum("BootMode", BOOT_MODES, code="InvalidBootMode.Malformed")
        imds = p.enum("Features.ImdsSupport", ("v1", "v2"))
        nvme = p.enum("Features.NvmeSupport", ("supported", "unsupported"))
        attrs["features"] = {k: v for k, v in (("ImdsSupport", imds), ("NvmeSupport", nvme)) if v}
        attrs["rg"] = self.resource_group(ctx.account_id, p.str("ResourceGroupId"))
        attrs["tags"] = parse_tags(p)
        check_client_token(p.str("ClientToken"))
        p.enum("DetectionStrategy", ("Standard",))
        return attrs

    def _new_image(self, ctx, region, attrs, now, **kw):
        image_id = self.ids.new("m", region)
        default_name = kw.pop("default_name", None)
        name = attrs.get("name") or default_name or image_id
        features = {"NvmeSupport": "supported", "ImdsSupport": "v1"}
        features.update(kw.pop("features", {}))
        features.update(attrs.get("features") or {})
        img = Image(image_id=image_id, region=region, owner_id=ctx.account_id, alias="self", name=name,
                    creation_time=now, description=attrs.get("description") or "", family=attrs.get("family") or "",
                    version=attrs.get("version") or "", resource_group_id=attrs["rg"], tags=dict(attrs["tags"]),
                    features=features, **kw)
        if attrs.get("architecture"):
            img.architecture = attrs["architecture"]
        if attrs.get("platform"):
            img.platform = attrs["platform"]
            if img.platform.startswith("Windows") or img.platform == "Other Windows":
                img.os_type = "windows"
            img.os_name = img.os_name_en = img.platform
        if attrs.get("boot_mode"):
            img.boot_mode = attrs["boot_mode"]
        return img

    def new_snapshot(self, account, region, disk_type, size, now, image_id="", disk=None, job=None, name=""):
        snap = Snapshot(snapshot_id=self.ids.new("s", region), account_id=account, region=region, name=name,
                        creation_time=now, source_disk_id=disk.disk_id if disk else "", source_disk_type=disk_type,
                        source_disk_size=size, source_instance_id=disk.instance_id if disk else "",
                        description=("Created for image %s" % image_id) if image_id else "",
                        resource_group_id=self.resource_group(account, None), created_for_image=image_id,
                        status="accomplished", job=job)
        # A Marketplace product code follows the system disk into its snapshots (and an image into its own).
        if disk is not None:
            snap.product_code = disk.product_code if disk.type == "system" else ""
        elif image_id and disk_type == "system" and image_id in self.images:
            snap.product_code = self.images[image_id].product_code
        self.snapshots[snap.snapshot_id] = snap
        return snap

    # ------------------------------------------------------------------------------------ CreateImage
    def act_CreateImage(self, ctx, p, now):
        region = self.region_of(ctx, p)
        attrs = self._common_image_attrs(ctx, p, region)
        instance_id = p.str("InstanceId")
        mapping_groups = p.indexed_groups("DiskDeviceMapping")
        snapshot_id = p.str("SnapshotId")
        if not (instance_id or mapping_groups or snapshot_id):
            raise ApiError(400, "MissingParameter", "The input parameter SnapshotId or InstanceId or "
                           "DiskDeviceMapping that is mandatory for processing this request is not supplied.")
        self._check_quota(ctx.account_id, region)
        if instance_id:
            return self._create_from_instance(ctx, p, region, attrs, instance_id, now)
        if mapping_groups:
            sources = self._mappings_from_params(ctx, region, mapping_groups)
        else:
            snap = self._usable_snapshot(ctx, region, snapshot_id, "SnapshotId")
            if snap.source_disk_type != "system":
                raise ApiError(403, "OperationDenied", "The specified snapshot is not from system disk.")
            sources = [("/dev/xvda", "system", snap.source_disk_size, snap)]
        self.dry_run(p)
        system = [s for s in sources if s[1] == "system"][0]
        origin = None
        if system[3] is not None and system[3].source_disk_id in self.disks:
            origin = self.disks[system[3].source_disk_id].image_id
        base = self.visible_image(ctx.account_id, region, origin) if origin else None
        kw = self._inherit(base)
        # made from a Marketplace image's disk (directly or through a derived image): the product code stays
        code = (system[3].product_code if system[3] is not None else "") or kw.get("product_code", "")
        kw["product_code"] = code
        img = self._new_image(ctx, region, attrs, now, size=system[2], status="Creating",
                              source={"kind": "snapshot"}, **kw)
        img.mappings = [Mapping(dev, typ, size, snapshot_id=snap.snapshot_id if snap else "")
                        for dev, typ, size, snap in sources]
        self._start_create_job(img, now)
        self.add_custom_image(img)
        self.hide_new_image(img, now)
        return {"ImageId": img.image_id}

    @staticmethod
    def _inherit(base):
        if base is None:
            return {}
        return {"architecture": base.architecture, "os_type": base.os_type, "os_name": base.os_name,
                "os_name_en": base.os_name_en, "platform": base.platform, "boot_mode": base.boot_mode,
                "product_code": base.product_code}

    def _start_create_job(self, img, now):
        dur = self.duration("CreateImage")
        job = Job("create", now, now, now + dur, self.durations["CreateImage"], handler=self._finish_create)
        job.data["image"] = img
        job.data["fail_as"] = self.fail_next       # fault image_create_failed / image_unavailable (realism)
        img.job = job
        self.schedule(job)
        return job

    def _finish_create(self, job):
        img = job.data["image"]
        if self.images.get(img.image_id) is img:
            img.status = job.data.get("fail_as") or "Available"
            if img.status == "Available":
                self.image_ready(img, job.end)

    def _usable_snapshot(self, ctx, region, snapshot_id, param):
        snap = self.snapshots.get(snapshot_id)
        if snap is None or snap.account_id != ctx.account_id or snap.region != region:
            raise ApiError(404, "InvalidSnapshotId.NotFound", 'The specified "%s" %s does not exist.'
                           % (param, snapshot_id))
        if snap.current_status(self.clock.now()) != "accomplished":
            raise ApiError(403, "InvalidSnapshotId.NotReady", 'The specified snapshot "%s" has not completed '
                           'yet.' % snapshot_id)
        return snap

    def _mappings_from_params(self, ctx, region, groups):
        sources = []
        devices = set()
        for n, f in groups:
            unknown = set(f) - {"SnapshotId", "Size", "DiskType", "Device", "Format"}
            if unknown:
                raise invalid_parameter("DiskDeviceMapping.%d.%s" % (n, sorted(unknown)[0]))
            dtype = f.get("DiskType") or ("system" if not sources else "data")
            if dtype not in ("system", "data"):
                raise invalid_parameter("DiskDeviceMapping.%d.DiskType" % n, "Allowed values: system, data.")
            device = f.get("Device") or None
            if device is not None and device not in DEVICES:
                raise ApiError(400, "InvalidDevice.Malformed", 'The specified "DiskDeviceMapping.%d.Device" %r is '
                               'wrongly formed (/dev/xvda-/dev/xvdz).' % (n, device))
            snap = None
            if f.get("SnapshotId"):
                snap = self._usable_snapshot(ctx, region, f["SnapshotId"], "DiskDeviceMapping.%d.SnapshotId" % n)
            size = None
            if f.get("Size"):
                try:
                    size = int(f["Size"])
                except ValueError:
                    raise ApiError(400, "InvalidSize.ValueNotSupported", 'The specified '
                                   '"DiskDeviceMapping.%d.Size" is not an integer.' % n)
            if size is None:
                size = snap.source_disk_size if snap else 20
            if snap is not None and size < snap.source_disk_size:
                raise ApiError(400, "InvalidSize.ValueNotSupported", 'The specified "DiskDeviceMapping.%d.Size" is '
                               'smaller than the snapshot (%d GiB).' % (n, snap.source_disk_size))
            if not 5 <= size <= 32768:
                raise ApiError(400, "InvalidSize.ValueNotSupported", 'The specified "DiskDeviceMapping.%d.Size" '
                               'must be between 5 and 32768.' % n)
            sources.append([device, dtype, size, snap])
        systems = [s for s in sources if s[1] == "system"]
        if len(systems) != 1:
            raise ApiError(400, "OperationDenied", "DiskDeviceMapping must contain exactly one system disk "
                           "(DiskType=system); it has %d." % len(systems))
        if len(sources) > 17:
            raise invalid_parameter("DiskDeviceMapping.N", "At most 16 data disks.")
        if systems[0][0] not in (None, "/dev/xvda"):
            raise ApiError(400, "InvalidDevice.Malformed", "The system disk device must be /dev/xvda.")
        systems[0][0] = "/dev/xvda"
        devices.add("/dev/xvda")
        free = iter(d for d in DEVICES[1:])
        for s in sources:
            if s[1] == "data":
                if s[0] is None:
                    continue
                if s[0] in devices:
                    raise ApiError(400, "InvalidDevice.InUse", 'The device %s is used twice in DiskDeviceMapping.'
                                   % s[0])
                devices.add(s[0])
        for s in sources:
            if s[0] is None:
                s[0] = next(d for d in free if d not in devices)
                devices.add(s[0])
        ordered = [systems[0]] + [s for s in sources if s[1] == "data"]
        return [tuple(s) for s in ordered]

    def _create_from_instance(self, ctx, p, region, attrs, instance_id, now):
        inst = self.instances.get(instance_id)
        if inst is None or inst.account_id != ctx.account_id or inst.region != region:
            # the CreateImage error table documents 400 (realism documented_codes); other actions answer 404
            raise ApiError(400 if self.real("documented_codes") else 404, "InvalidInstanceId.NotFound",
                           'The specified InstanceId "%s" does not exist.' % instance_id)
        if any(lock.get("LockReason") == "security" for lock in inst.locks):
            raise ApiError(400, "InstanceLockedForSecurity", "The specified operation is denied as your instance "
                           "is locked for security reasons.")
        if inst.current_status(now) not in ("Running", "Stopped") or inst.operation_locks():
            raise ApiError(400, "IncorrectInstanceStatus", "The current status of the instance does not support "
                           "this operation.")
        self.check_settled(inst, now, "CreateImage", status=400)
        disks = [self.disks[inst.system_disk_id]] + [self.disks[d] for d in inst.data_disk_ids]
        for d in disks:
            if any(s.job is not None and s.job.active and s.source_disk_id == d.disk_id
                   for s in self.snapshots.values()):
                raise ApiError(403, "IncorrectDiskStatus.CreatingSnapshot", "A snapshot of disk %s is being "
                               "created; retry later." % d.disk_id)
        self.dry_run(p)
        base = self.visible_image(ctx.account_id, region, inst.image_id)
        kw = self._inherit(base)
        if not kw:
            kw = {"os_type": inst.os_type, "os_name": inst.os_name, "os_name_en": inst.os_name_en}
        kw["architecture"] = INSTANCE_TYPES.get(inst.instance_type, (0, 0, "", "x86_64"))[3]
        # an instance of a Marketplace image (or of an image derived from one) gives images with its product code
        kw["product_code"] = disks[0].product_code or kw.get("product_code", "")
        img = self._new_image(ctx, region, {**attrs, "architecture": None}, now, size=disks[0].size,
                              status="Creating", source={"kind": "instance", "instance_id": inst.instance_id},
                              **kw)
        job = self._start_create_job(img, now)
        for d in disks:
            snap = self.new_snapshot(ctx.account_id, region, d.type, d.size, now, image_id=img.image_id, disk=d,
                                     job=job)
            img.mappings.append(Mapping(d.device, d.type, d.size, snapshot_id=snap.snapshot_id))
        job.data["snapshots"] = [m.snapshot_id for m in img.mappings]
        self.add_custom_image(img)
        self.hide_new_image(img, now)
        return {"ImageId": img.image_id}

    # ------------------------------------------------------------------------------------ DeleteImage
    def image_busy_reason(self, img, now):
        """(status, code, message) that forbids deleting ``img`` now, or None."""
        if img.job is not None and img.job.active:
            kind = img.job.kind
            if kind == "copy":
                return 403, "OperationDenied.ImageCopying", "The image is being copied; cancel the copy first."
            if kind == "import":
                return 403, "ImageIsImporting", "The specified image is being imported."
            return 403, "ImageIsCreating", "The specified image is being created."
        for job in self.copy_jobs_from(img.image_id):
            return 403, "OperationDenied.ImageCopying", "The image is being copied to %s." % job.data["image"].region
        for task in self.tasks.values():
            if task.resource_id == img.image_id and task.action == "ExportImage" and task.job is not None \
                    and task.job.active:
                return 403, "ImageIsExporting", "The specified image is being exported. Please cancel task first."
        return None

    def copy_jobs_from(self, image_id):
        for queue in self.copy_queues.values():
            for job in queue:
                if job.active and job.data.get("source_image_id") == image_id:
                    yield job

    def act_DeleteImage(self, ctx, p, now):
        region = self.region_of(ctx, p)
        image_id = p.str("ImageId", required=True)
        force = p.bool("Force", False)
        img = self.own_image(ctx.account_id, region, image_id)
        if img is None:
            if self.real("delete_unknown_ignored") and self.visible_image(ctx.account_id, region, image_id) is None:
                self.dry_run(p)
                return {}               # "If the specified image does not exist, the request is ignored."
            raise image_not_found(image_id)
        busy = self.image_busy_reason(img, now)
        if busy:
            raise ApiError(*busy)
        if img.shared_with or img.is_public:
            raise ApiError(403, "ImageUseShared", "The specified image has been shared with other accounts; call "
                           "ModifyImageSharePermission to unshare it first (see DescribeImageSharePermission).")
        if not force and img.image_id in self.images_in_use():
            raise ApiError(403, "ImageUsingByInstance", "The specified image has been used to create instances, "
                           "or you can use the force parameter to proceed.")
        self.dry_run(p)
        linger = self.real_delay("delete_lingers")
        if linger > 0:
            # still listed for a while (its snapshots still refuse DeleteSnapshot); nothing else finds it
            img.deleting = True
            self._drop_name(img)
            self.tick_at(now + linger, handler=self._finish_delete, image=img)
        else:
            self.remove_custom_image(img)
        return {}

    def _finish_delete(self, job):
        img = job.data["image"]
        if self.images.get(img.image_id) is img:
            self.remove_custom_image(img)

    # ------------------------------------------------------------------------------------ ModifyImageAttribute
    def act_ModifyImageAttribute(self, ctx, p, now):
        region = self.region_of(ctx, p)
        image_id = p.str("ImageId", required=True)
        img = self.own_image(ctx.account_id, region, image_id, required=True)
        name = p.str("ImageName")
        if name is not None:
            self._check_new_name(ctx.account_id, region, name, exclude=img.image_id)
        desc = p.str("Description")
        if desc is not None:
            check_description(desc)
        family = p.str("ImageFamily")
        if family is not None:
            check_image_name(family, "ImageFamily", "InvalidImageFamily.Malformed")
        status = p.enum("Status", ("Deprecated", "Available"))
        boot = p.enum("BootMode", BOOT_MODES, code="InvalidBootMode.Malformed")
        license_type = p.enum("LicenseType", ("BYOL",))
        nvme = p.enum("Features.NvmeSupport", ("supported", "unsupported"))
        imds = p.enum("Features.ImdsSupport", ("v1", "v2"))
        if imds == "v1" and img.features.get("ImdsSupport") == "v2":
            raise invalid_parameter("Features.ImdsSupport", "ImdsSupport cannot be changed from v2 to v1.")
        current = img.current_status(now)
        if status is not None and status != current:
            if current not in ("Available", "Deprecated"):
                raise ApiError(400, "IncorrectImageStatus", 'The image status "%s" does not allow changing '
                               '"Status".' % current)
            if status == "Deprecated" and (img.shared_with or img.is_public):
                raise ApiError(403, "ImageUseShared", "A shared image cannot be deprecated; unshare it first.")
        self.dry_run(p)
        if name is not None and name != img.name:
            self.rename_image(img, name)
        if desc is not None:
            img.description = desc
        if family is not None:
            img.family = family
        if status is not None and (img.job is None or not img.job.active):
            img.status = status
        if boot:
            img.boot_mode = boot
        if license_type:
            img.license_type = license_type
        if nvme:
            img.features["NvmeSupport"] = nvme
        if imds:
            img.features["ImdsSupport"] = imds
        return {}

    # ------------------------------------------------------------------------------------ CopyImage
    def act_CopyImage(self, ctx, p, now):
        region = self.region_of(ctx, p)
        image_id = p.str("ImageId", required=True)
        dest = p.str("DestinationRegionId", required=True)
        if dest not in self.regions:
            raise ApiError(400, "DestinationRegion.NotFound", 'The specified "DestinationRegionId" %s does not '
                           'exist.' % dest)
        src = self.visible_image(ctx.account_id, region, image_id)
        if src is None or src.owner_id is None:
            raise image_not_found(image_id)
        if src.owner_id != ctx.account_id and dest != region:
            raise ApiError(403, "OperationDenied.SameRegionOnly", "A shared image can only be copied within its "
                           "region.")
        if src.current_status(now) != "Available":
            raise ApiError(400, "IncorrectImageStatus", "The image not available.")
        self.check_usable(src, now)
        if self.real("copy_source_busy") and next(self.copy_jobs_from(src.image_id), None) is not None:
            raise ApiError(403, "OperationDenied.ImageCopying", "The source image is being copied.")
        name = p.str("DestinationImageName")
        if name is not None:
            self._check_new_name(ctx.account_id, dest, name, "DestinationImageName",
                                 message="The destination image is exist.")
        desc = p.str("DestinationDescription")
        if desc is not None:
            check_description(desc, "DestinationDescription")
        encrypted = p.bool("Encrypted", False)
        kms = p.str("KMSKeyId")
        if kms and not encrypted:
            raise ApiError(400, "InvalidParameter.EncryptedIllegal", '"KMSKeyId" requires "Encrypted"=true.')
        p.enum("EncryptAlgorithm", ("AES256", "SM4"))
        rg = self.resource_group(ctx.account_id, p.str("ResourceGroupId"))
        tags = parse_tags(p)
        check_client_token(p.str("ClientToken"))
        self._check_quota(ctx.account_id, dest)
        self.dry_run(p)
        attrs = {"name": name, "description": desc if desc is not None else src.description, "family": src.family,
                 "version": src.version, "rg": rg, "tags": tags, "features": dict(src.features)}
        img = self._new_image(ctx, dest, attrs, now, default_name=src.name, size=src.size, status="Creating",
                              is_copied=True, source={"kind": "copy", "image_id": src.image_id, "region": region},
                              **self._inherit(src))
        img.license_type = src.license_type
        img.mappings = [Mapping(m.device, m.type, m.size, format=m.format, encrypted=encrypted or m.encrypted)
                        for m in src.mappings]
        queue = self.copy_queues.setdefault((ctx.account_id, dest), [])
        queue[:] = [j for j in queue if j.active]
        start = max([now] + [j.end for j in queue])
        dur = self.duration("CopyImage")
        job = Job("copy", now, start, start + dur, self.durations["CopyImage"], handler=self._finish_copy,
                  data={"image": img, "source_image_id": src.image_id, "fail_as": self.fail_next})
        img.job = job
        queue.append(job)
        self.schedule(job)
        self.add_custom_image(img)
        self.hide_new_image(img, now)
        return {"ImageId": img.image_id}

    def _finish_copy(self, job):
        img = job.data["image"]
        if self.images.get(img.image_id) is not img:
            return
        if job.data.get("fail_as"):
            img.status = job.data["fail_as"]
            return
        img.status = "Available"
        self.image_ready(img, job.end)
        for m in img.mappings:
            snap = self.new_snapshot(img.owner_id, img.region, m.type, m.size, job.end, image_id=img.image_id)
            snap.creation_time = job.end
            self.set_mapping_snapshot(img, m, snap.snapshot_id)

    def act_CancelCopyImage(self, ctx, p, now):
        region = self.region_of(ctx, p)
        image_id = p.str("ImageId", required=True)
        img = self.own_image(ctx.account_id, region, image_id, required=True)
        if img.source.get("kind") != "copy":
            raise ApiError(400, "ImageCreatedNotFromCopy", "The specified image is not created by copying.")
        if img.job is None or not img.job.active:
            raise ApiError(400, "IncorrectImageStatus", "The image has completed copy.")
        self.dry_run(p)
        job = img.job
        self.remove_custom_image(img)
        queue = self.copy_queues.get((ctx.account_id, region), [])
        queue[:] = [j for j in queue if j.active]
        prev_end = now
        for j in queue:
            if j.start > now:
                span = j.end - j.start
                j.start = max(now, prev_end)
                j.end = j.start + span
                self.schedule(j)
            prev_end = j.end
        del job
        return {}

    # ------------------------------------------------------------------------------------ sharing
    def act_ModifyImageSharePermission(self, ctx, p, now):
        region = self.region_of(ctx, p)
        image_id = p.str("ImageId", required=True)
        img = self.own_image(ctx.account_id, region, image_id, required=True)
        per_call = self.quotas["share_accounts_per_call"]
        add = [a.strip() for a in p.indexed("AddAccount")]
        remove = [a.strip() for a in p.indexed("RemoveAccount")]
        for label, lst in (("AddAccount", add), ("RemoveAccount", remove)):
            if len(lst) > per_call:
                raise invalid_parameter("%s.N" % label, "At most %d accounts per request (got %d)."
                                        % (per_call, len(lst)))
        both = set(add) & set(remove)
        if both:
            raise invalid_parameter("AddAccount.N", "Account %s is also in RemoveAccount.N." % sorted(both)[0])
        is_public = p.bool("IsPublic")
        p.str("LaunchPermission")
        for acc in add:
            if acc == ctx.account_id:
                raise ApiError(404, "InvalidAccount.Forbbiden", "The image cannot be shared with its own account "
                               "(AddAccount %s)." % acc)
            if acc not in self.known_accounts:
                raise ApiError(404, "InvalidAccount.NotFound", 'The specified account "%s" in AddAccount does not '
                               'exist.' % acc)
        status = img.current_status(now)
        if (add or is_public) and status != "Available":
            raise ApiError(400, "IncorrectImageStatus", 'The image is "%s"; only an Available image can be shared.'
                           % status)
        if (add or is_public):
            self.check_usable(img, now)
        if (is_public or (add and self.real("encrypted_share"))) and any(m.encrypted for m in img.mappings):
            raise ApiError(403, "OperationDeined.EncryptedSnapshot", "An encrypted image cannot be shared or made "
                           "public.")
        new_set = (set(img.shared_with) - set(remove)) | set(add)
        if len(new_set) > self.quotas["share_accounts_per_image"]:
            raise ApiError(403, "QuotaExceed.ShareImageUser", "The image can be shared with at most %d accounts; "
                           "this request would make it %d." % (self.quotas["share_accounts_per_image"], len(new_set)))
        self.dry_run(p)
        for acc in remove:
            if img.shared_with.pop(acc, None) is not None:
                self.shared_to.get(acc, {}).pop(img.image_id, None)
        for acc in add:
            if acc not in img.shared_with:
                img.shared_with[acc] = now
                self.shared_to.setdefault(acc, {})[img.image_id] = img
        if is_public is not None:
            img.is_public = is_public
            if is_public:
                self.community[img.image_id] = img
            else:
                self.community.pop(img.image_id, None)
        return {}

    def act_DescribeImageSharePermission(self, ctx, p, now):
        region = self.region_of(ctx, p)
        image_id = p.str("ImageId", required=True)
        number, size = p.page()
        img = self.own_image(ctx.account_id, region, image_id, required=True)
        accounts = sorted(img.shared_with.items(), key=lambda kv: kv[1])
        page = paginate(accounts, number, size)
        return {"RegionId": region, "ImageId": image_id, "TotalCount": len(accounts), "PageNumber": number,
                "PageSize": size,
                "Accounts": {"Account": [{"AliyunId": a, "SharedTime": iso(t)} for a, t in page]},
                "ShareGroups": {"ShareGroup": [{"Group": "all"}] if img.is_public else []}}

    # ------------------------------------------------------------------------------------ instance types
    def act_DescribeImageSupportInstanceTypes(self, ctx, p, now):
        region = self.region_of(ctx, p)
        image_id = p.str("ImageId")
        for n, f in p.indexed_groups("Filter"):
            if f.get("Key") == "imageId" and not image_id:
                image_id = f.get("Value")
        p.enum("ActionType", ("CreateEcs", "ChangeOS"), ci=True)
        if not image_id:
            raise missing_parameter("ImageId")
        img = self.visible_image(ctx.account_id, region, image_id)
        if img is None:
            raise image_not_found(image_id)
        types = [{"InstanceTypeId": t, "CpuCoreCount": c, "MemorySize": m, "InstanceTypeFamily": f}
                 for t, (c, m, f, a) in sorted(INSTANCE_TYPES.items()) if a == img.architecture]
        return {"RegionId": region, "ImageId": image_id, "InstanceTypes": {"InstanceType": types}}
