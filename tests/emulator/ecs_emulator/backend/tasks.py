"""ImportImage, ExportImage and their tasks: DescribeTasks, DescribeTaskAttribute, CancelTask."""
import re
import struct

from ..errors import ApiError, invalid_parameter
from ..realism import EXPORT_FORMAT_REGIONS
from ..params import parse_iso
from .formats import EXPORT_FORMATS, IMPORT_FORMATS, detect_format, synthesize
from .models import Job, Mapping, Task
from .util import gib_ceil, iso, paginate

TASK_ACTIONS = ("ImportImage", "ExportImage", "RedeployInstance", "ModifyDiskSpec", "ArchiveSnapshot")
IMPORT_ROLE = "AliyunECSImageImportDefaultRole"
EXPORT_ROLE = "AliyunECSImageExportDefaultRole"
EXPORT_BODY_SIZE = 64 * 1024
_PREFIX = re.compile(r"^[A-Za-z0-9]{1,30}$")


def declared_disk_size(data, fmt, fallback):
    """Virtual disk size (bytes) a disk image header declares; ``fallback`` when the format has none (raw)."""
    try:
        if fmt == "qcow2":
            return struct.unpack(">Q", data[24:32])[0]
        if fmt == "vhd":
            return struct.unpack(">Q", data[-512 + 48:-512 + 56])[0]
        if fmt == "vmdk":
            return struct.unpack("<Q", data[12:20])[0] * 512
        if fmt == "vdi":
            return struct.unpack("<Q", data[0x170:0x178])[0]
    except struct.error:
        pass
    return fallback


def task_not_found(task_id):
    return ApiError(400, "InvalidTaskId.NotFound", 'The specified "TaskId" is not found (%s).' % task_id)


def parse_import_disks(p):
    """ImportImage's ``DiskDeviceMapping.N.*`` -> [{n, bucket, key, format, size}] (pure: parameters only)."""
    groups = p.indexed_groups("DiskDeviceMapping")
    if not groups or groups[0][0] != 1:
        raise ApiError(400, "MissingParameter", 'An input parameter "DiskDeviceMapping.1.OSSBucket" that is '
                       'mandatory for processing the request is not supplied.')
    if len(groups) > 17:
        raise invalid_parameter("DiskDeviceMapping.N", "At most 17 disks (1 system + 16 data).")
    disks = []
    for idx, (n, f) in enumerate(groups):
        if idx + 1 != n:
            raise invalid_parameter("DiskDeviceMapping.%d" % n, "DiskDeviceMapping.N must be contiguous from 1.")
        for field in ("OSSBucket", "OSSObject"):
            if not f.get(field):
                raise ApiError(400, "MissingParameter", 'An input parameter "DiskDeviceMapping.%d.%s" that is '
                               'mandatory for processing the request is not supplied.' % (n, field))
        fmt = f.get("Format")
        if fmt:
            if fmt.upper() not in IMPORT_FORMATS:
                raise ApiError(400, "InvalidImageFormat.Malformed", 'The specified "DiskDeviceMapping.%d.Format" '
                               '%r is not supported (RAW, VHD, QCOW2, VMDK).' % (n, fmt))
            fmt = fmt.upper()
        size = f.get("DiskImageSize") or f.get("DiskImSize")
        if size:
            code = "InvalidImageSize" if n == 1 else "InvalidDataDiskSize"
            try:
                size = int(size)
            except ValueError:
                size = -1
            if not 1 <= size <= 2048:
                raise ApiError(400, code, 'The specified "DiskDeviceMapping.%d.DiskImageSize" must be an integer '
                               'between 1 and 2048 (GiB).' % n)
        key = f["OSSObject"]
        if key.startswith("/") or len(key) > 1023:
            raise ApiError(400, "InvalidOSSObject.Malformed", 'The specified "DiskDeviceMapping.%d.OSSObject" '
                           'is wrongly formed.' % n)
        disks.append({"n": n, "bucket": f["OSSBucket"], "key": key, "format": fmt, "size": size or None})
    return disks


class TaskActions:

    # ------------------------------------------------------------------------------------ helpers
    def _check_role(self, account_id, role_name):
        roles = self.accounts.get(account_id, {}).get("roles") or []
        wanted = role_name.lower()
        if not any(r.lower() == wanted or r.lower().endswith(":role/" + wanted) for r in roles):
            raise ApiError(403, "NoSetRoletoECSServiceAcount", 'The RAM role "%s" (RoleName) does not exist or is '
                           'not authorized for the ECS service.' % role_name)

    def _own_bucket(self, account_id, region, name):
        bucket = self.oss.bucket(name) if self.oss is not None else None
        if bucket is None or bucket.region != region or bucket.owner_account_id != account_id:
            raise ApiError(400, "InvalidOSSBucket.NotFound", 'The specified OSS bucket "%s" does not exist in this '
                           'region (%s).' % (name, region))
        return bucket

    def _new_task(self, account_id, region, action, resource_id, now, job, related):
        task = Task(task_id=self.ids.new("t", region), account_id=account_id, region=region, action=action,
                    resource_id=resource_id, creation_time=now, job=job, related=related,
                    show_waiting=self.real("task_waiting"))
        self.tasks[task.task_id] = task
        return task

    # ------------------------------------------------------------------------------------ ImportImage
    def act_ImportImage(self, ctx, p, now):
        """parse (pure) -> check against the state -> probe the objects -> change -> render."""
        region = self.region_of(ctx, p)
        disks = parse_import_disks(p)
        attrs = self._common_image_attrs(ctx, p, region)
        os_type = p.enum("OSType", ("windows", "linux"), code="InvalidOSType.Malformed", ci=True)
        license_type = p.enum("LicenseType", ("Auto", "Aliyun", "BYOL"), code="InvalidLicenseType.NotSupported")
        if attrs["architecture"] == "arm64" and attrs["boot_mode"] == "BIOS":
            raise invalid_parameter("BootMode", "arm64 images boot with UEFI only.")
        self._check_import_sources(ctx, region, disks, p.str("RoleName", default=IMPORT_ROLE))
        self.dry_run(p)
        failure = self._probe_import_objects(disks)
        img, task = self._start_import(ctx, region, attrs, disks, os_type, license_type, failure, now)
        return {"ImageId": img.image_id, "RegionId": region, "TaskId": task.task_id}

    def _check_import_sources(self, ctx, region, disks, role_name):
        """The role, every bucket (the caller's, in the region) and object exist, the image quota; changes nothing."""
        self._check_role(ctx.account_id, role_name)
        for d in disks:
            self._own_bucket(ctx.account_id, region, d["bucket"])
            meta = self.oss.head(d["bucket"], d["key"])
            if meta is None:
                raise ApiError(400, "InvalidOSSObject.NotFound", 'The specified OSS object "%s" in bucket "%s" '
                               '(DiskDeviceMapping.%d.OSSObject) does not exist.' % (d["key"], d["bucket"], d["n"]))
            d["meta"] = meta
        self._check_quota(ctx.account_id, region)

    def _probe_import_objects(self, disks):
        """Read each object: its real format and disk size into ``disks``; the failure message the import will
        end with (None when the objects are good)."""
        failure = None
        for d in disks:
            data = self.oss.get(d["bucket"], d["key"])
            real = detect_format(data)
            if real is None or real == "vdi":
                failure = failure or "The OSS object %s is not a recognised disk image." % d["key"]
            elif d["format"] and d["format"].lower() != real:
                failure = failure or ("The OSS object %s holds a %s image, not the declared %s."
                                      % (d["key"], real.upper(), d["format"]))
            d["format"] = (d["format"] or (real or "raw")).upper()
            vsize = getattr(d["meta"], "virtual_size", None) or declared_disk_size(data, (real or ""), len(data))
            d["gib"] = d["size"] or max(1, gib_ceil(vsize))
        return failure

    def _start_import(self, ctx, region, attrs, disks, os_type, license_type, failure, now):
        """The change: a Waiting image, its job and task. Returns (image, task)."""
        kw = {"os_type": os_type} if os_type else {}
        img = self._new_image(ctx, region, attrs, now, size=disks[0]["gib"], status="Waiting",
                              source={"kind": "import"}, **kw)
        if license_type:
            img.license_type = license_type
        if not attrs.get("platform"):
            img.platform = img.os_name = img.os_name_en = "Others Linux" if img.os_type == "linux" else "Other Windows"
        img.mappings = [Mapping("/dev/xvd%s" % chr(ord("a") + i), "system" if i == 0 else "data", d["gib"],
                                format=d["format"], import_bucket=d["bucket"], import_object=d["key"])
                        for i, d in enumerate(disks)]
        dur = self.duration("ImportImage")
        start = now + 0.1 * dur
        end = now + (0.5 * dur if failure else dur)
        job = Job("import", now, start, end, self.durations["ImportImage"] * (0.4 if failure else 0.9),
                  handler=self._finish_import, outcome="fail" if failure else "ok",
                  data={"image": img, "fail_as": self.fail_next})
        img.job = job
        related = [{"Name": "OSSBucket", "Value": disks[0]["bucket"]}, {"Name": "OSSObject", "Value": disks[0]["key"]},
                   {"Name": "ImageId", "Value": img.image_id}]
        task = self._new_task(ctx.account_id, region, "ImportImage", img.image_id, now, job, related)
        if failure:
            task.error_code, task.error_msg = "ImportImageFailed", failure
        job.data["task"] = task
        self.schedule(job)
        self.add_custom_image(img)
        self.hide_new_image(img, now)
        return img, task

    def _finish_import(self, job):
        img, task = job.data["image"], job.data["task"]
        task.finished_time = job.end
        task.support_cancel = False
        if job.outcome == "fail":
            task.status = "Failed"
            if self.images.get(img.image_id) is img:
                img.status = "CreateFailed"
            return
        if job.data.get("fail_as") == "CreateFailed":
            task.status = "Failed"
            task.error_code, task.error_msg = "ImportImageFailed", "The image import failed."
            if self.images.get(img.image_id) is img:
                img.status = "CreateFailed"
            return
        task.status = "Finished"
        if self.images.get(img.image_id) is img:
            img.status = job.data.get("fail_as") or "Available"
            if img.status == "Available":
                self.image_ready(img, job.end)
            for m in img.mappings:
                snap = self.new_snapshot(img.owner_id, img.region, m.type, m.size, job.end, image_id=img.image_id)
                self.set_mapping_snapshot(img, m, snap.snapshot_id)

    # ------------------------------------------------------------------------------------ ExportImage
    def act_ExportImage(self, ctx, p, now):
        region = self.region_of(ctx, p)
        image_id = p.str("ImageId", required=True)
        bucket_name = p.str("OSSBucket", required=True)
        prefix = p.str("OSSPrefix")
        if prefix is not None and not _PREFIX.match(prefix):
            raise ApiError(400, "InvalidOSSPrefix.Malformed", 'The specified "OSSPrefix" must be 1-30 letters and '
                           'digits.')
        fmt = p.str("ImageFormat", default="raw")
        if fmt.lower() not in EXPORT_FORMATS:
            raise ApiError(400, "InvalidImageFormat.Malformed", 'The specified "ImageFormat" %r is not supported '
                           '(%s).' % (fmt, ", ".join(EXPORT_FORMATS)))
        fmt = fmt.lower()
        self._check_role(ctx.account_id, p.str("RoleName", default=EXPORT_ROLE))
        img = self.own_image(ctx.account_id, region, image_id, required=True)
        if img.product_code or img.source.get("product_code"):
            raise ApiError(403, "ImageNotSupported", "Images from the marketplace cannot be exported.")
        if any(m.encrypted for m in img.mappings):
            raise ApiError(403, "ImageNotSupported", "Encrypted images cannot be exported.")
        if self.real("windows_not_exportable") and img.os_type == "windows":
            raise ApiError(403, "ImageNotSupported", "Windows images cannot be exported.")
        if img.current_status(now) != "Available":
            raise ApiError(400, "IncorrectImageStatus", "The specified Image is not available.")
        self.check_usable(img, now)
        data = [m for m in img.mappings if m.type == "data"]
        if len(data) > 4 or any(m.size > 500 for m in data):
            raise ApiError(400, "InvalidImage.DiskAmountOrSize", "An exported image may hold at most 4 data disks "
                           "of at most 500 GiB each.")
        self._own_bucket(ctx.account_id, region, bucket_name)
        running = [t for t in self.tasks.values() if t.action == "ExportImage" and t.job is not None and t.job.active
                   and t.account_id == ctx.account_id and t.region == region]
        if any(t.resource_id == image_id for t in running):
            raise ApiError(403, "ImageIsExporting", "The specified image is already being exported.")
        if len(running) >= self.quotas.get("concurrent_exports", 10):
            raise ApiError(403, "ConcurrentQuotaExceed.ExportImage", "Too many export tasks are running.")
        self.dry_run(p)
        if self.real("export_format_regions") and region not in EXPORT_FORMAT_REGIONS:
            fmt = "raw"                   # ImageFormat is honoured only in some regions; RAW elsewhere
        dur = self.duration("ExportImage")
        start = now + self.real_delay("task_waiting")
        job = Job("export", now, start, start + dur, self.durations["ExportImage"], handler=self._finish_export)
        task = self._new_task(ctx.account_id, region, "ExportImage", image_id, now, job, [])
        if self.real("export_object_names"):
            names = cloud_export_object_names(prefix, image_id, fmt, [m.device for m in img.mappings])
        else:
            names = export_object_names(prefix, image_id, task.task_id, fmt, len(img.mappings))
        task.related = [{"Name": "OSSBucket", "Value": bucket_name}, {"Name": "OSSObject", "Value": names[0]},
                        {"Name": "ImageFormat", "Value": fmt}]
        task.related += [{"Name": "OSSObject", "Value": n} for n in names[1:]]
        job.data.update({"task": task, "bucket": bucket_name, "names": names, "format": fmt,
                         "sizes": [m.size for m in img.mappings]})
        self.schedule(job)
        return {"TaskId": task.task_id, "RegionId": region}

    def _finish_export(self, job):
        task = job.data["task"]
        task.finished_time = job.end
        task.support_cancel = False
        try:
            for name, size in zip(job.data["names"], job.data["sizes"]):
                self.oss.put(job.data["bucket"], name, synthesize(job.data["format"], size << 30, EXPORT_BODY_SIZE))
        except Exception as exc:   # the bucket vanished: the task fails like the cloud's would
            task.status = "Failed"
            task.error_code, task.error_msg = "ExportImageFailed", "Writing to OSS failed: %s" % exc
            return
        task.status = "Finished"

    # ------------------------------------------------------------------------------------ tasks
    def render_task(self, t, now):
        status = t.current_status(now)
        return {"TaskId": t.task_id, "TaskAction": t.action, "TaskStatus": status,
                "SupportCancel": "true" if (t.support_cancel and status in ("Processing", "Waiting")) else "false",
                "CreationTime": iso(t.creation_time, seconds=False),
                "FinishedTime": iso(t.finished_time, seconds=False) if t.finished_time else "",
                "ResourceId": t.resource_id}

    def _task(self, ctx, p, region):
        task_id = p.str("TaskId", required=True)
        t = self.tasks.get(task_id)
        if t is None or t.account_id != ctx.account_id or t.region != region:
            raise task_not_found(task_id)
        return t

    def act_DescribeTasks(self, ctx, p, now):
        region = self.region_of(ctx, p, status=400)
        ids = None
        if p.str("TaskIds"):
            ids = [i.strip() for i in p.str("TaskIds").split(",") if i.strip()]
            if len(ids) > 100:
                raise invalid_parameter("TaskIds", "At most 100 ids.")
        action = p.enum("TaskAction", TASK_ACTIONS)
        status = p.str("TaskStatus")
        if status not in ("Finished", "Processing", "Failed"):
            status = None                     # other values are ignored, as the cloud documents
        resource_ids = p.indexed("ResourceIds")
        if len(resource_ids) > 100:
            raise invalid_parameter("ResourceIds.N", "At most 100 ids.")
        start = parse_iso(p.str("StartTime"), "StartTime") if p.str("StartTime") else None
        end = parse_iso(p.str("EndTime"), "EndTime") if p.str("EndTime") else None
        number, size = p.page()
        out = []
        for t in self.in_scope(self.tasks.values(), ctx.account_id, region, ids, "task_id"):
            if action and t.action != action:
                continue
            if status and t.current_status(now) != status:
                continue
            if resource_ids and t.resource_id not in resource_ids:
                continue
            if start is not None and t.creation_time < start:
                continue
            if end is not None and t.creation_time > end:
                continue
            out.append(t)
        out.reverse()
        out.sort(key=lambda t: t.creation_time, reverse=True)
        page = paginate(out, number, size)
        return {"RegionId": region, "TotalCount": len(out), "PageNumber": number, "PageSize": size,
                "TaskSet": {"Task": [self.render_task(t, now) for t in page]}}

    def act_DescribeTaskAttribute(self, ctx, p, now):
        region = self.region_of(ctx, p, status=400)
        t = self._task(ctx, p, region)
        d = self.render_task(t, now)
        del d["ResourceId"]                 # a DescribeTasks field; the DescribeTaskAttribute model has none
        status = d["TaskStatus"]
        op_status = {"Processing": "Processing", "Finished": "Success", "Failed": "Failed",
                     "Cancelled": "Cancelled"}.get(status, status)
        d.update({"TaskProcess": t.progress(now), "RegionId": t.region, "TotalCount": 1,
                  "SuccessCount": 1 if status == "Finished" else 0,
                  "FailedCount": 1 if status in ("Failed", "Cancelled") else 0,
                  "OperationProgressSet": {"OperationProgress": [{
                      "OperationStatus": op_status,
                      "ErrorCode": t.error_code if status == "Failed" else "",
                      "ErrorMsg": t.error_msg if status == "Failed" else "",
                      "RelatedItemSet": {"RelatedItem": list(t.related)}}]}})
        return d

    def act_CancelTask(self, ctx, p, now):
        region = self.region_of(ctx, p, status=400)
        t = self._task(ctx, p, region)
        if t.current_status(now) not in ("Processing", "Waiting") or not t.support_cancel:
            raise ApiError(403, "IncorrectTaskStatus", 'The task is "%s"; only a Waiting or Processing task can be '
                           'cancelled.' % t.current_status(now))
        self.dry_run(p)
        t.job.active = False
        t.status = "Cancelled"
        t.finished_time = now
        t.support_cancel = False
        if t.action == "ImportImage":
            img = self.images.get(t.resource_id)
            if img is not None:
                self.remove_custom_image(img)
        return {}


def export_object_names(prefix, image_id, task_id, fmt, disks):
    """Objects ExportImage writes: ``<OSSPrefix>_<ImageId>_<TaskId>.<fmt>`` for the system disk (no prefix part when
    OSSPrefix is empty), then ``..._data<N>.<fmt>`` for data disk N (1-based, in mapping order)."""
    base = "_".join(x for x in (prefix, image_id, task_id) if x)
    return ["%s.%s" % (base, fmt)] + ["%s_data%d.%s" % (base, n, fmt) for n in range(1, disks)]


def cloud_export_object_names(prefix, image_id, fmt, devices):
    """Object names as the cloud writes them (realism export_object_names; unconfirmed, from the provider's
    cleanup code and the console guide): ``<OSSPrefix>_<ImageId>_system.<ext>`` for the system disk and
    ``<OSSPrefix>_<ImageId>_data_<device>.<ext>`` (device without /dev/, e.g. xvdb) for each data disk; ``<ext>``
    is ``raw.tar.gz`` for RAW, else the format."""
    base = "_".join(x for x in (prefix, image_id) if x)
    ext = "raw.tar.gz" if fmt == "raw" else fmt
    out = ["%s_system.%s" % (base, ext)]
    for dev in devices[1:]:
        out.append("%s_data_%s.%s" % (base, dev.rsplit("/", 1)[-1], ext))
    return out
