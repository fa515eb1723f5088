"""Regions, instances, disks, snapshots, key pairs: DescribeRegions, DescribeInstances, DescribeInstanceAttribute,
StopInstance, StartInstance, ReplaceSystemDisk, DescribeDisks, CreateSnapshot, DescribeSnapshots, DeleteSnapshot,
DescribeKeyPairs."""
import fnmatch

from ..errors import ApiError, missing_parameter
from ..params import check_client_token, parse_tag_filter, parse_tags
from .core import INSTANCE_TYPES
from .models import Disk, Job
from .util import (check_description, check_snapshot_name, iso, paged_answer, paginate, paging_of, match_tag_filter,
                   tag_list)

LANGUAGES = ("zh-CN", "en-US", "ja", "zh-TW", "fr", "de", "ko")
INSTANCE_STATUSES = ("Pending", "Running", "Starting", "Stopping", "Stopped")
DISK_STATUSES = ("In_use", "Available", "Attaching", "Detaching", "Creating", "ReIniting", "All")
DISK_CATEGORIES = ("all", "cloud", "cloud_efficiency", "cloud_ssd", "cloud_essd", "cloud_auto", "local_ssd_pro",
                   "local_hdd_pro", "cloud_essd_entry", "ephemeral", "ephemeral_ssd")
_PW_SPECIAL = set("()`~!@#$%^&*-_+=|{}[]:;'<>,.?/")


def instance_not_found(instance_id):
    return ApiError(404, "InvalidInstanceId.NotFound", 'The specified InstanceId "%s" does not exist.' % instance_id)


class ComputeActions:

    # ------------------------------------------------------------------------------------ regions
    def act_DescribeRegions(self, ctx, p, now):
        lang = p.str("AcceptLanguage", default="zh-CN")
        if lang not in LANGUAGES:
            raise ApiError(404, "InvalidAcceptLanguage.NotFound", 'The specified "AcceptLanguage" %r is not '
                           'supported.' % lang)
        p.enum("InstanceChargeType", ("PrePaid", "PostPaid", "SpotWithPriceLimit", "SpotAsPriceGo"),
               code="InvalidInstanceChargeType.NotFound", status=404)
        p.enum("ResourceType", ("instance", "disk", "reservedinstance", "scu"), code="InvalidResourceType.NotFound",
               status=404)
        regions = []
        for rid, reg in self.regions.items():
            local = reg.get("local_name", rid)
            if lang != "zh-CN":
                local = reg.get("local_name_en", local)
            regions.append({"RegionId": rid, "LocalName": local,
                            "RegionEndpoint": "ecs.%s.aliyuncs.com" % rid, "Status": reg.get("status", "available")})
        return {"Regions": {"Region": regions}}

    # ------------------------------------------------------------------------------------ instances
    def find_instance(self, ctx, p, instance_id):
        inst = self.instances.get(instance_id)
        region = ctx.region_id or p.str("RegionId")
        other_region = bool(region and region in self.regions and inst is not None and inst.region != region)
        if inst is None or inst.account_id != ctx.account_id or other_region:
            raise instance_not_found(instance_id)
        return inst

    # DescribeInstances items carry these; the DescribeInstanceAttribute model (flat) has none of them.
    NOT_IN_ATTRIBUTE = ("InstanceTypeFamily", "OSType", "OSName", "OSNameEn", "StartTime", "KeyPairName",
                        "ResourceGroupId", "DeletionProtection")

    def render_instance(self, inst, now, flat=False):
        fam = INSTANCE_TYPES.get(inst.instance_type, (0, 0, "ecs.g7", "x86_64"))[2]
        status = inst.current_status(now)
        d = {"InstanceId": inst.instance_id, "InstanceName": inst.name, "HostName": inst.host_name,
             "Description": inst.description, "Status": status, "ImageId": inst.image_id,
             "RegionId": inst.region, "ZoneId": inst.zone, "InstanceType": inst.instance_type,
             "InstanceTypeFamily": fam, "Cpu": inst.cpu, "Memory": inst.memory, "OSType": inst.os_type,
             "OSName": inst.os_name, "OSNameEn": inst.os_name_en,
             "CreationTime": iso(inst.creation_time, seconds=False), "StartTime": iso(inst.start_time, False),
             "ExpiredTime": "2099-12-31T15:59Z", "InstanceChargeType": inst.charge_type,
             "InternetChargeType": "PayByTraffic", "InstanceNetworkType": "vpc",
             "IoOptimized": "optimized" if flat else True, "StoppedMode": inst.stopped_mode
             if status == "Stopped" else "Not-applicable",
             "KeyPairName": inst.key_pair_name, "ResourceGroupId": inst.resource_group_id,
             "DeletionProtection": False, "SerialNumber": "sn-" + inst.instance_id[2:],
             "SecurityGroupIds": {"SecurityGroupId": [inst.security_group_id]},
             "PublicIpAddress": {"IpAddress": []}, "InnerIpAddress": {"IpAddress": []},
             "VpcAttributes": {"VpcId": inst.vpc_id, "VSwitchId": inst.vswitch_id, "NatIpAddress": "",
                               "PrivateIpAddress": {"IpAddress": [inst.private_ip]}},
             "EipAddress": {"AllocationId": "", "IpAddress": "", "InternetChargeType": ""},
             "OperationLocks": {"LockReason": inst.operation_locks()}}
        if flat:
            for key in self.NOT_IN_ATTRIBUTE:
                del d[key]
            d.update({"InternetMaxBandwidthIn": 100, "InternetMaxBandwidthOut": 0,
                      "CreditSpecification": "",
                      "DedicatedHostAttribute": {"DedicatedHostId": "", "DedicatedHostName": ""}})
        else:
            d.update({"Tags": tag_list(inst.tags),
                      "NetworkInterfaces": {"NetworkInterface": [{
                          "NetworkInterfaceId": "eni-" + inst.instance_id[2:], "Type": "Primary",
                          "PrimaryIpAddress": inst.private_ip, "MacAddress": "00:16:3e:00:00:%02x"
                          % (sum(map(ord, inst.instance_id)) % 256)}]}})
        return d

    def act_DescribeInstances(self, ctx, p, now):
        region = self.region_of(ctx, p)
        ids = p.json_list("InstanceIds", error_code="InvalidInstanceIds.Malformed")
        status = p.enum("Status", INSTANCE_STATUSES, code="InvalidStatus.NotFound", status=404)
        charge = p.enum("InstanceChargeType", ("PostPaid", "PrePaid"), code="InvalidInstanceChargeType.NotFound",
                        status=404)
        p.enum("InstanceNetworkType", ("vpc", "classic"), code="InvalidNetworkType.NotFound", status=404)
        lock = p.enum("LockReason", ("financial", "security", "recycling", "dedicatedhostfinancial", "refunded"),
                      code="InvalidLockReason.NotFound", status=404)
        tag_filter = parse_tag_filter(p)
        filter_names = ("ImageId", "ZoneId", "InstanceType", "KeyPairName", "ResourceGroupId",
                        "VpcId", "VSwitchId", "SecurityGroupId", "InstanceTypeFamily")
        filters = {k: p.str(k) for k in filter_names}
        name = p.str("InstanceName")
        paging = paging_of(p)
        self.dry_run(p)
        out = []
        for inst in self.in_scope(self.instances.values(), ctx.account_id, region, ids, "instance_id"):
            if status and inst.current_status(now) != status:
                continue
            if charge and inst.charge_type != charge:
                continue
            if lock and not any(lk.get("LockReason") == lock for lk in inst.operation_locks()):
                continue
            if name and not fnmatch.fnmatchcase(inst.name, name):
                continue
            if tag_filter and not match_tag_filter(inst.tags, tag_filter):
                continue
            values = {"ImageId": inst.image_id, "ZoneId": inst.zone, "InstanceType": inst.instance_type,
                      "KeyPairName": inst.key_pair_name, "ResourceGroupId": inst.resource_group_id,
                      "VpcId": inst.vpc_id, "VSwitchId": inst.vswitch_id, "SecurityGroupId": inst.security_group_id,
                      "InstanceTypeFamily": INSTANCE_TYPES.get(inst.instance_type, (0, 0, "", ""))[2]}
            if any(v is not None and values[k] != v for k, v in filters.items()):
                continue
            out.append(inst)
        out.sort(key=lambda i: i.creation_time, reverse=True)
        return paged_answer(p, paging, out, "Instances", "Instance", lambda i: self.render_instance(i, now))

    def act_DescribeInstanceAttribute(self, ctx, p, now):
        inst = self.find_instance(ctx, p, p.str("InstanceId", required=True))
        return self.render_instance(inst, now, flat=True)

    def _check_locks(self, inst):
        if any(lk.get("LockReason") == "security" for lk in inst.locks):
            raise ApiError(403, "InstanceLockedForSecurity", "The specified operation is denied as your instance "
                           "is locked for security reasons.")

    def check_settled(self, inst, now, action, status=403):
        """Realism transient_conflict: shortly after a stop/start or a system disk replacement ended, the instance
        still refuses operations (the cloud's provider retries these codes)."""
        if not self.real("transient_conflict") or now >= inst.settle_until:
            return
        if inst.settle_kind == "replace":
            if action == "StartInstance":
                raise ApiError(403, "InvalidOperation.Conflict", "The operation conflicts with an operation in "
                               "progress on the instance (system disk replacement); try again later.")
            raise ApiError(403, "OperationConflict", "Request was denied due to conflict with a previous request.")
        raise ApiError(status, "IncorrectInstanceStatus", "The current status of the instance does not support "
                       "this operation (its last %s has just ended)." % inst.settle_kind)

    def _settle(self, inst, kind, when):
        delay = self.real_delay("transient_conflict")
        if delay > 0:
            inst.settle_until, inst.settle_kind = when + delay, kind
            self.tick_at(inst.settle_until)

    def act_StopInstance(self, ctx, p, now):
        inst = self.find_instance(ctx, p, p.str("InstanceId", required=True))
        force = p.bool("ForceStop", False)
        p.bool("ConfirmStop")
        p.bool("Hibernate")
        mode = p.enum("StoppedMode", ("StopCharging", "KeepCharging"))
        self._check_locks(inst)
        if inst.current_status(now) != "Running" or inst.operation_locks():
            raise ApiError(403, "IncorrectInstanceStatus", 'The current status of the instance (%s) does not '
                           'support this operation; StopInstance needs "Running".' % inst.current_status(now))
        self.check_settled(inst, now, "StopInstance")
        self.dry_run(p)
        if mode is None:
            # pay-as-you-go VPC instances stop in economical mode unless told (realism stopped_mode)
            economical = self.real("stopped_mode") and inst.charge_type == "PostPaid"
            mode = "StopCharging" if economical else "KeepCharging"
        dur = self.duration("StopInstance") * (0.5 if force else 1.0)
        job = Job("stop", now, now, now + dur, self.durations["StopInstance"], handler=self._finish_power,
                  data={"instance": inst, "target": "Stopped", "mode": mode or "KeepCharging"})
        inst.job = job
        self.schedule(job)
        return {}

    def act_StartInstance(self, ctx, p, now):
        inst = self.find_instance(ctx, p, p.str("InstanceId", required=True))
        p.bool("InitLocalDisk")
        self._check_locks(inst)
        if inst.current_status(now) != "Stopped" or inst.operation_locks():
            raise ApiError(403, "IncorrectInstanceStatus", 'The current status of the instance (%s) does not '
                           'support this operation; StartInstance needs "Stopped" with no operation in progress.'
                           % inst.current_status(now))
        self.check_settled(inst, now, "StartInstance")
        if self.real("stopped_mode") and inst.no_stock:
            if not p.bool("DryRun", False):
                inst.no_stock = False      # the stock comes back: a later start succeeds
            raise ApiError(403, "OperationDenied.NoStock", "The resource is out of stock in the specified zone; "
                           "the instance was stopped in economical mode (StopCharging). Please try again later.")
        self.dry_run(p)
        dur = self.duration("StartInstance")
        job = Job("start", now, now, now + dur, self.durations["StartInstance"], handler=self._finish_power,
                  data={"instance": inst, "target": "Running"})
        inst.job = job
        self.schedule(job)
        return {}

    def _finish_power(self, job):
        inst = job.data["instance"]
        inst.status = job.data["target"]
        if inst.status == "Running":
            inst.start_time = job.end
            inst.stopped_mode = "Not-applicable"
            inst.no_stock = False
        else:
            inst.stopped_mode = job.data.get("mode", "KeepCharging")
            inst.no_stock = inst.stopped_mode == "StopCharging" and self.real("stopped_mode")
        self._settle(inst, "stop" if inst.status == "Stopped" else "start", job.end)

    # ------------------------------------------------------------------------------------ ReplaceSystemDisk
    @staticmethod
    def _check_password(pw, windows):
        classes = sum([any(c.islower() for c in pw), any(c.isupper() for c in pw), any(c.isdigit() for c in pw),
                       any(c in _PW_SPECIAL for c in pw)])
        ok_chars = all(c.isalnum() and c.isascii() or c in _PW_SPECIAL for c in pw)
        if not 8 <= len(pw) <= 30 or classes < 3 or not ok_chars or (windows and pw.startswith("/")):
            raise ApiError(400, "InvalidPassword.Malformed", 'The specified "Password" is wrongly formed: 8-30 '
                           'characters with at least three of upper-case, lower-case, digits and special '
                           'characters.')

    def act_ReplaceSystemDisk(self, ctx, p, now):
        inst = self.find_instance(ctx, p, p.str("InstanceId", required=True))
        image_id = p.str("ImageId")
        if not image_id:
            raise missing_parameter("ImageId")
        check_client_token(p.str("ClientToken"))
        password = p.str("Password")
        inherit = p.bool("PasswordInherit", False)
        key_pair = p.str("KeyPairName")
        p.enum("SecurityEnhancementStrategy", ("Active", "Deactive"))
        encrypted = p.bool("Encrypted", False)
        p.bool("UseAdditionalService")
        self._check_locks(inst)
        if inst.current_status(now) != "Stopped" or inst.operation_locks():
            raise ApiError(403, "IncorrectInstanceStatus", 'The current status of the instance (%s) does not support '
                           'this operation; ReplaceSystemDisk needs "Stopped".' % inst.current_status(now))
        self.check_settled(inst, now, "ReplaceSystemDisk")
        img = self.visible_image(ctx.account_id, inst.region, image_id)
        if img is None:
            raise ApiError(404, "InvalidImageId.NotFound", 'The specified ImageId "%s" does not exist in %s.'
                           % (image_id, inst.region))
        if img.current_status(now) not in ("Available", "Deprecated"):
            raise ApiError(400, "IncorrectImageStatus", 'The specified image is "%s", not Available.'
                           % img.current_status(now))
        self.check_usable(img, now)
        if self.real("replace_data_snapshots") and any(m.type == "data" for m in img.mappings):
            raise ApiError(400, "OperationDenied", "The specified image contains data disk snapshots; it cannot be "
                           "used to replace a system disk.")
        if INSTANCE_TYPES.get(inst.instance_type, (0, 0, "", "x86_64"))[3] != img.architecture:
            raise ApiError(403, "ImageNotSupportInstanceType", "The image architecture %s does not support the "
                           "instance type %s." % (img.architecture, inst.instance_type))
        sys_disk = self.disks[inst.system_disk_id]
        size = p.int("SystemDisk.Size", error=ApiError(400, "InvalidSystemDiskSize.ValueNotSupported",
                                                       'The specified "SystemDisk.Size" is not an integer.'))
        if size is None:
            size = max(40, img.size)
        maximum = 500 if sys_disk.category == "cloud" else 2048
        if size < img.size:
            raise ApiError(404, "InvalidSystemDiskSize.LessThanImageSize", 'The specified "SystemDisk.Size" (%d) is '
                           'less than the image size (%d GiB).' % (size, img.size))
        if size < 20:
            raise ApiError(404, "InvalidSystemDiskSize.LessThanMinSize", 'The specified "SystemDisk.Size" (%d) is '
                           'less than 20 GiB.' % size)
        if size > maximum:
            raise ApiError(404, "InvalidSystemDiskSize.MoreThanMaxSize", 'The specified "SystemDisk.Size" (%d) '
                           'exceeds %d GiB for %s.' % (size, maximum, sys_disk.category))
        if password is not None and inherit:
            raise ApiError(400, "InvalidPasswordParam.Mismatch" if self.real("documented_codes") else
                           "InvalidParameter.Conflict", '"Password" must be empty when "PasswordInherit" is true.')
        if password is not None:
            self._check_password(password, img.os_type == "windows")
        if key_pair is not None:
            if img.os_type == "windows":
                raise ApiError(400, "InvalidParameter.Conflict", '"KeyPairName" is not supported for Windows '
                               'images.')
            if (ctx.account_id, inst.region, key_pair) not in self.key_pairs:
                raise ApiError(400, "InvalidKeyPairName.NotFound", 'The specified "KeyPairName" %s does not exist.'
                               % key_pair)
        if any(s.job is not None and s.job.active and s.source_disk_id == sys_disk.disk_id
               for s in self.snapshots.values()):
            raise ApiError(403, "DiskCreatingSnapshot", "A snapshot of the system disk is being created.")
        self.dry_run(p)
        new_id = self.ids.new("d", inst.region)
        new = Disk(disk_id=new_id, account_id=inst.account_id, region=inst.region, zone=inst.zone, type="system",
                   category=sys_disk.category, size=size, creation_time=now, status="Creating",
                   instance_id=inst.instance_id, device="/dev/xvda", image_id=img.image_id,
                   resource_group_id=sys_disk.resource_group_id, attached_time=now, encrypted=encrypted,
                   performance_level=sys_disk.performance_level, product_code=img.product_code)
        del self.disks[sys_disk.disk_id]          # the old system disk is released
        self.disks[new_id] = new
        inst.system_disk_id = new_id
        inst.key_pair_name = key_pair or ""
        dur = self.duration("ReplaceSystemDisk")
        job = Job("replace", now, now, now + dur, self.durations["ReplaceSystemDisk"], handler=self._finish_replace,
                  data={"instance": inst, "disk": new, "image": img})
        inst.job = job
        self.schedule(job)
        return {"DiskId": new_id}

    def _finish_replace(self, job):
        inst, disk, img = job.data["instance"], job.data["disk"], job.data["image"]
        disk.status = "In_use"
        self._settle(inst, "replace", job.end)
        inst.image_id = img.image_id
        inst.os_type, inst.os_name, inst.os_name_en = img.os_type, img.os_name, img.os_name_en

    # ------------------------------------------------------------------------------------ disks
    def render_disk(self, d, now):
        return {"DiskId": d.disk_id, "DiskName": d.name, "Description": d.description, "Type": d.type,
                "Category": d.category, "Size": d.size, "Status": d.status, "InstanceId": d.instance_id,
                "Device": d.device, "ImageId": d.image_id, "SourceSnapshotId": d.source_snapshot_id,
                "ProductCode": d.product_code,
                "ZoneId": d.zone, "RegionId": d.region, "Portable": d.type == "data",
                "DeleteWithInstance": d.delete_with_instance, "DeleteAutoSnapshot": True,
                "EnableAutoSnapshot": True, "Encrypted": d.encrypted, "DiskChargeType": "PostPaid",
                "CreationTime": iso(d.creation_time), "AttachedTime": iso(d.attached_time) if d.instance_id else "",
                "DetachedTime": "", "ExpiredTime": "2999-09-08T16:00Z", "PerformanceLevel": d.performance_level,
                "IOPS": min(50000, 1800 + 50 * d.size), "ResourceGroupId": d.resource_group_id,
                "OperationLocks": {"OperationLock": []},
                "Attachments": {"Attachment": [{"InstanceId": d.instance_id, "Device": d.device,
                                                "AttachedTime": iso(d.attached_time)}] if d.instance_id else []},
                "Tags": tag_list(d.tags)}

    def act_DescribeDisks(self, ctx, p, now):
        region = self.region_of(ctx, p, status=400)
        ids = p.json_list("DiskIds", error_code="InvalidDiskIds.Malformed")
        dtype = p.enum("DiskType", ("all", "system", "data"), code="InvalidDiskType.ValueNotSupported")
        category = p.enum("Category", DISK_CATEGORIES, code="InvalidCategory.ValueNotSupported")
        status = p.enum("Status", DISK_STATUSES, code="InvalidStatus.ValueNotSupported")
        tag_filter = parse_tag_filter(p)
        filt = {k: p.str(k) for k in ("InstanceId", "SnapshotId", "DiskName", "ZoneId", "ResourceGroupId")}
        paging = paging_of(p)
        self.dry_run(p)
        out = []
        for d in self.in_scope(self.disks.values(), ctx.account_id, region, ids, "disk_id"):
            if dtype not in (None, "all") and d.type != dtype:
                continue
            if category not in (None, "all") and d.category != category:
                continue
            if status not in (None, "All") and d.status != status:
                continue
            if tag_filter and not match_tag_filter(d.tags, tag_filter):
                continue
            values = {"InstanceId": d.instance_id, "SnapshotId": d.source_snapshot_id, "DiskName": d.name,
                      "ZoneId": d.zone, "ResourceGroupId": d.resource_group_id}
            if any(v is not None and values[k] != v for k, v in filt.items()):
                continue
            out.append(d)
        out.sort(key=lambda d: (d.instance_id, d.device, d.disk_id))
        return paged_answer(p, paging, out, "Disks", "Disk", lambda d: self.render_disk(d, now), max_results=500)

    # ------------------------------------------------------------------------------------ snapshots
    def snapshot_usage(self, snap):
        if self.snap_images.get(snap.snapshot_id):
            return "image"
        return "none"

    def render_snapshot(self, s, now):
        return {"SnapshotId": s.snapshot_id, "SnapshotName": s.name, "Description": s.description,
                "Status": s.current_status(now), "Progress": s.progress(now), "SourceDiskId": s.source_disk_id,
                "SourceDiskType": s.source_disk_type, "SourceDiskSize": str(s.source_disk_size),
                "SourceStorageType": s.source_storage_type, "Usage": self.snapshot_usage(s),
                "CreationTime": iso(s.creation_time), "LastModifiedTime": iso(s.creation_time),
                "RetentionDays": s.retention_days or 0, "SnapshotType": s.snapshot_type, "Encrypted": False,
                "Category": s.category, "InstantAccess": False, "Available": s.current_status(now) == "accomplished",
                "RegionId": s.region, "ResourceGroupId": s.resource_group_id, "Tags": tag_list(s.tags),
                "ProductCode": s.product_code}

    def act_CreateSnapshot(self, ctx, p, now):
        disk_id = p.str("DiskId", required=True)
        d = self.disks.get(disk_id)
        region = ctx.region_id or p.str("RegionId")
        if d is None or d.account_id != ctx.account_id or (region in self.regions and d.region != region):
            raise ApiError(404, "InvalidDiskId.NotFound", 'The specified "DiskId" %s does not exist.' % disk_id)
        name = p.str("SnapshotName")
        if name is not None:
            check_snapshot_name(name)
        desc = p.str("Description")
        if desc is not None:
            try:
                check_description(desc)
            except ApiError as err:
                raise ApiError(404, err.code, err.message)
        retention = p.int("RetentionDays", minimum=1, maximum=65536)
        tags = parse_tags(p)
        rg = self.resource_group(ctx.account_id, p.str("ResourceGroupId"))
        check_client_token(p.str("ClientToken"))
        p.enum("Category", ("Standard", "Flash", "standard", "flash"))
        p.bool("InstantAccess")
        inst = self.instances.get(d.instance_id)
        if inst is not None:
            self._check_locks(inst)
            if inst.current_status(now) not in ("Running", "Stopped"):
                raise ApiError(400, "IncorrectInstanceStatus", "The current status of the instance does not "
                               "support this operation.")
        if d.status not in ("In_use", "Available"):
            raise ApiError(403, "IncorrectDiskStatus", 'The disk is "%s"; a snapshot needs In_use or Available.'
                           % d.status)
        mine = [s for s in self.snapshots.values() if s.source_disk_id == d.disk_id]
        if any(s.job is not None and s.job.active for s in mine):
            raise ApiError(403, "IncorrectDiskStatus.CreatingSnapshot", "A snapshot of this disk is already being "
                           "created.")
        if len([s for s in mine if not s.created_for_image]) >= self.quotas["snapshots_per_disk"]:
            raise ApiError(403, "QuotaExceed.Snapshot", "The snapshot quota of the disk is exceeded.")
        self.dry_run(p)
        dur = self.duration("CreateSnapshot")
        job = Job("snapshot", now, now, now + dur, self.durations["CreateSnapshot"], handler=self._finish_snapshot)
        snap = self.new_snapshot(ctx.account_id, d.region, d.type, d.size, now, disk=d, job=job, name=name or "")
        job.data["snapshot"] = snap
        snap.description = desc or ""
        snap.retention_days = retention
        snap.tags = dict(tags)
        snap.resource_group_id = rg
        self.schedule(job)
        return {"SnapshotId": snap.snapshot_id}

    @staticmethod
    def _finish_snapshot(job):
        job.data["snapshot"].status = "accomplished"

    def act_DescribeSnapshots(self, ctx, p, now):
        region = self.region_of(ctx, p)
        ids = p.json_list("SnapshotIds", error_code="InvalidSnapshotIds.Malformed")
        status = p.enum("Status", ("progressing", "accomplished", "failed", "all"), code="InvalidStatus.NotFound",
                        status=404)
        stype = p.enum("SnapshotType", ("auto", "user", "all"), code="InvalidSnapshotType.NotFound", status=404)
        src_type = p.enum("SourceDiskType", ("system", "data"), code="InvalidSourceDiskType", status=404, ci=True)
        usage = p.enum("Usage", ("image", "disk", "image_disk", "none"), code="InvalidUsage", status=404)
        tag_filter = parse_tag_filter(p)
        for n, f in p.indexed_groups("Filter"):
            if f.get("Key") not in ("CreationStartTime", "CreationEndTime"):
                raise ApiError(404, "InvalidFilterKey.NotFound", 'The specified "Filter.%d.Key" is not supported.'
                               % n)
        filt = {k: p.str(k) for k in ("InstanceId", "DiskId", "SnapshotName", "ResourceGroupId")}
        paging = paging_of(p)
        self.dry_run(p)
        out = []
        for s in self.in_scope(self.snapshots.values(), ctx.account_id, region, ids, "snapshot_id"):
            if status not in (None, "all") and s.current_status(now) != status:
                continue
            if stype not in (None, "all") and s.snapshot_type != stype:
                continue
            if src_type and s.source_disk_type != src_type:
                continue
            if usage and self.snapshot_usage(s) != usage:
                continue
            if tag_filter and not match_tag_filter(s.tags, tag_filter):
                continue
            values = {"InstanceId": s.source_instance_id, "DiskId": s.source_disk_id, "SnapshotName": s.name,
                      "ResourceGroupId": s.resource_group_id}
            if any(v is not None and values[k] != v for k, v in filt.items()):
                continue
            out.append(s)
        out.reverse()
        out.sort(key=lambda s: s.creation_time, reverse=True)
        return paged_answer(p, paging, out, "Snapshots", "Snapshot", lambda s: self.render_snapshot(s, now))

    def act_DeleteSnapshot(self, ctx, p, now):
        snapshot_id = p.str("SnapshotId", required=True)
        p.bool("Force")
        s = self.snapshots.get(snapshot_id)
        region = ctx.region_id or p.str("RegionId")
        if s is None or s.account_id != ctx.account_id or (region in self.regions and s.region != region):
            raise ApiError(404, "InvalidSnapshotId.NotFound", 'The specified "SnapshotId" %s does not exist.'
                           % snapshot_id)
        users = self.snap_images.get(snapshot_id)
        if users:
            raise ApiError(403, "SnapshotCreatedImage", "The snapshot has been used to create custom image %s; "
                           "delete the image first." % sorted(users)[0])
        self.dry_run(p)
        if s.job is not None:
            s.job.active = False
        del self.snapshots[snapshot_id]
        return {}

    # ------------------------------------------------------------------------------------ key pairs
    def act_DescribeKeyPairs(self, ctx, p, now):
        region = self.region_of(ctx, p)
        name = p.str("KeyPairName")
        fp = p.str("KeyPairFingerPrint")
        rg = p.str("ResourceGroupId")
        tag_filter = parse_tag_filter(p)
        number, size = p.page(default_size=10, max_size=50)
        out = []
        for (acc, reg, kname), kp in sorted(self.key_pairs.items()):
            if acc != ctx.account_id or reg != region:
                continue
            if name is not None and not (fnmatch.fnmatchcase(kname, name) if "*" in name else kname == name):
                continue
            if fp is not None and kp.fingerprint != fp:
                continue
            if rg is not None and kp.resource_group_id != rg:
                continue
            if tag_filter and not match_tag_filter(kp.tags, tag_filter):
                continue
            out.append(kp)
        page = paginate(out, number, size)
        return {"TotalCount": len(out), "PageNumber": number, "PageSize": size,
                "KeyPairs": {"KeyPair": [{"KeyPairName": k.name, "KeyPairFingerPrint": k.fingerprint,
                                          "CreationTime": iso(k.creation_time),
                                          "ResourceGroupId": k.resource_group_id, "Tags": tag_list(k.tags)}
                                         for k in page]}}
