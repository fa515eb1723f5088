"""ImportImage / ExportImage and their tasks (direct dispatch, manual clock, the real in-memory OssStore)."""
import pytest

from ecs_emulator.backend.formats import detect_format
from ecs_emulator.backend.testkit import Harness

HZ, SH = "cn-hangzhou", "cn-shanghai"
BUCKET, EXPORTS = "ecs-images-hz", "ecs-exports-hz"
RAW, VHD, QCOW2, VMDK = ("disks/alinux3-minimal.raw", "disks/ubuntu2204-cloud.vhd", "disks/debian12-generic.qcow2",
                         "disks/centos7-legacy.vmdk")
CORRUPT = "disks/broken-really-raw.qcow2"
RUN = "i-bp1emu0running000001"


@pytest.fixture
def h():
    return Harness()


def _imp_params(key, fmt, bucket, kw):
    params = {"DiskDeviceMapping.1.OSSBucket": bucket, "DiskDeviceMapping.1.OSSObject": key}
    if fmt:
        params["DiskDeviceMapping.1.Format"] = fmt
    params.update(kw)
    return params


def imp(h, key, fmt=None, bucket=BUCKET, **kw):
    return h.call("ImportImage", **_imp_params(key, fmt, bucket, kw))


def task(h, task_id, region=HZ):
    return h.call("DescribeTaskAttribute", region=region, TaskId=task_id)


@pytest.mark.parametrize("key,fmt,size", [(RAW, "RAW", 5), (VHD, "vhd", 20), (QCOW2, "QCOW2", 10), (VMDK, None, 20)])
def test_import_success(h, key, fmt, size):
    r = imp(h, key, fmt, ImageName="imported-%s" % (fmt or "auto").lower(), OSType="linux", Platform="Ubuntu")
    assert r["RegionId"] == HZ and r["TaskId"].startswith("t-") and r["ImageId"].startswith("m-")
    img = h.image(r["ImageId"])
    assert img["Status"] == "Waiting" and img["Size"] == size
    m = img["DiskDeviceMappings"]["DiskDeviceMapping"][0]
    assert (m["ImportOSSBucket"], m["ImportOSSObject"]) == (BUCKET, key)
    assert m["Format"] == (fmt or "VMDK").upper() and m["SnapshotId"] == ""
    t = task(h, r["TaskId"])
    assert (t["TaskAction"], t["TaskStatus"], t["SupportCancel"], t["TaskProcess"]) == \
        ("ImportImage", "Processing", "true", "0%")
    h.advance(120)
    assert h.image(r["ImageId"])["Status"] == "Creating"
    h.advance(481)
    img = h.image(r["ImageId"])
    assert img["Status"] == "Available" and img["Platform"] == "Ubuntu"
    assert img["DiskDeviceMappings"]["DiskDeviceMapping"][0]["SnapshotId"].startswith("s-")
    t = task(h, r["TaskId"])
    assert (t["TaskStatus"], t["TaskProcess"], t["SupportCancel"], t["SuccessCount"]) == \
        ("Finished", "100%", "false", 1)
    op = t["OperationProgressSet"]["OperationProgress"][0]
    assert op["OperationStatus"] == "Success" and op["ErrorCode"] == ""


def test_import_corrupt_object_fails_asynchronously(h):
    r = imp(h, CORRUPT, "QCOW2", ImageName="corrupt-one")
    assert h.image(r["ImageId"])["Status"] == "Waiting"
    h.advance(301)
    img = h.image(r["ImageId"])
    assert img["Status"] == "CreateFailed"
    assert h.call("DescribeImages", ImageId=r["ImageId"])["Images"]["Image"] == []     # not Available
    t = task(h, r["TaskId"])
    assert t["TaskStatus"] == "Failed" and t["FailedCount"] == 1
    op = t["OperationProgressSet"]["OperationProgress"][0]
    assert op["OperationStatus"] == "Failed" and op["ErrorCode"] == "ImportImageFailed"
    assert CORRUPT in op["ErrorMsg"] and "RAW" in op["ErrorMsg"]
    assert h.call("DescribeTasks", TaskStatus="Failed")["TotalCount"] == 1
    h.call("DeleteImage", ImageId=r["ImageId"])         # a failed import can be cleaned up


def test_import_declared_format_mismatch(h):
    r = imp(h, RAW, "VHD", ImageName="raw-as-vhd")
    h.advance(601)
    assert h.image(r["ImageId"])["Status"] == "CreateFailed"


def test_import_refusals_change_nothing(h):
    before = len(h.backend.images), len(h.backend.tasks)
    e = h.error("ImportImage", **{"DiskDeviceMapping.1.OSSObject": RAW})
    assert e.code == "MissingParameter" and "DiskDeviceMapping.1.OSSBucket" in e.message
    e = h.error("ImportImage", **{"DiskDeviceMapping.1.OSSBucket": BUCKET})
    assert e.code == "MissingParameter" and "DiskDeviceMapping.1.OSSObject" in e.message
    e = imp_err(h, "disks/missing.raw")
    assert (e.status, e.code) == (400, "InvalidOSSObject.NotFound") and "disks/missing.raw" in e.message
    assert imp_err(h, RAW, bucket="no-such-bucket").code == "InvalidOSSBucket.NotFound"
    assert imp_err(h, RAW, bucket="ecs-images-sh").code == "InvalidOSSBucket.NotFound"       # other region
    assert imp_err(h, "disks/partner.qcow2", bucket="partner-images-hz").code == "InvalidOSSBucket.NotFound"
    assert imp_err(h, RAW, fmt="ISO").code == "InvalidImageFormat.Malformed"
    assert imp_err(h, RAW, **{"DiskDeviceMapping.1.DiskImageSize": "0"}).code == "InvalidImageSize"
    assert imp_err(h, RAW, OSType="beos").code == "InvalidOSType.Malformed"
    assert imp_err(h, RAW, Architecture="mips").code == "InvalidArchitecture.Malformed"
    assert imp_err(h, RAW, ImageName="9lives").code == "InvalidImageName.Malformed"
    assert imp_err(h, RAW, LicenseType="Free").code == "InvalidLicenseType.NotSupported"
    e = imp_err(h, RAW, RoleName="NoSuchRole")
    assert (e.status, e.code) == (403, "NoSetRoletoECSServiceAcount")
    assert imp_err(h, RAW, DryRun="true").code == "DryRunOperation"
    assert (len(h.backend.images), len(h.backend.tasks)) == before
    # the same object imported in its own region works
    assert h.call("ImportImage", region=SH, **{"DiskDeviceMapping.1.OSSBucket": "ecs-images-sh",
                                               "DiskDeviceMapping.1.OSSObject": RAW})["RegionId"] == SH


def imp_err(h, key, fmt=None, bucket=BUCKET, **kw):
    return h.error("ImportImage", **_imp_params(key, fmt, bucket, kw))


def test_import_with_data_disk_and_user_uploaded_object(h):
    h.oss.put(BUCKET, "uploads/data.qcow2", h.oss.get(BUCKET, QCOW2))
    r = h.call("ImportImage", ImageName="two-disks", **{
        "DiskDeviceMapping.1.OSSBucket": BUCKET, "DiskDeviceMapping.1.OSSObject": RAW,
        "DiskDeviceMapping.1.DiskImageSize": "40",
        "DiskDeviceMapping.2.OSSBucket": BUCKET, "DiskDeviceMapping.2.OSSObject": "uploads/data.qcow2"})
    maps = h.image(r["ImageId"])["DiskDeviceMappings"]["DiskDeviceMapping"]
    assert [(m["Device"], m["Type"], m["Size"], m["Format"]) for m in maps] == \
        [("/dev/xvda", "system", "40", "RAW"), ("/dev/xvdb", "data", "10", "QCOW2")]


def test_cancel_import_task(h):
    r = imp(h, RAW, "RAW", ImageName="cancel-me")
    h.call("CancelTask", TaskId=r["TaskId"])
    assert task(h, r["TaskId"])["TaskStatus"] == "Cancelled"
    assert h.image(r["ImageId"]) is None
    h.advance(700)
    assert task(h, r["TaskId"])["TaskStatus"] == "Cancelled"
    e = h.error("CancelTask", TaskId=r["TaskId"])
    assert (e.status, e.code) == (403, "IncorrectTaskStatus")
    assert h.error("CancelTask", TaskId="t-nope").code == "InvalidTaskId.NotFound"


def _available_image(h, name="to-export", instance=RUN):
    iid = h.call("CreateImage", InstanceId=instance, ImageName=name)["ImageId"]
    h.advance(61)
    return iid


def test_export_names_and_magic_bytes(h):
    iid = _available_image(h)                          # system + one data disk
    r = h.call("ExportImage", ImageId=iid, OSSBucket=EXPORTS, OSSPrefix="nightly", ImageFormat="qcow2")
    tid = r["TaskId"]
    assert r["RegionId"] == HZ and tid.startswith("t-")
    t = task(h, tid)
    assert (t["TaskAction"], t["TaskStatus"]) == ("ExportImage", "Processing")
    assert h.oss.list(EXPORTS) == []
    e = h.error("DeleteImage", ImageId=iid)
    assert (e.status, e.code) == (403, "ImageIsExporting")
    assert h.error("ExportImage", ImageId=iid, OSSBucket=EXPORTS).code == "ImageIsExporting"
    h.advance(150)
    assert task(h, tid)["TaskProcess"] == "50%"
    h.advance(151)
    t = task(h, tid)
    assert t["TaskStatus"] == "Finished"
    system_name = "nightly_%s_%s.qcow2" % (iid, tid)
    data_name = "nightly_%s_%s_data1.qcow2" % (iid, tid)
    assert sorted(m.key for m in h.oss.list(EXPORTS)) == sorted([system_name, data_name])
    assert detect_format(h.oss.get(EXPORTS, system_name)) == "qcow2"
    items = t["OperationProgressSet"]["OperationProgress"][0]["RelatedItemSet"]["RelatedItem"]
    assert {"Name": "OSSObject", "Value": system_name} in items
    assert {"Name": "ImageFormat", "Value": "qcow2"} in items
    h.call("DeleteImage", ImageId=iid)                 # no longer exporting


@pytest.mark.parametrize("fmt", ["raw", "vhd", "vmdk", "vdi"])
def test_export_formats_without_prefix(h, fmt):
    iid = _available_image(h, instance="i-bp1emu0armstop000001")      # one disk only
    tid = h.call("ExportImage", ImageId=iid, OSSBucket=EXPORTS, ImageFormat=fmt)["TaskId"]
    h.advance(301)
    names = [m.key for m in h.oss.list(EXPORTS)]
    assert names == ["%s_%s.%s" % (iid, tid, fmt)]
    assert detect_format(h.oss.get(EXPORTS, names[0])) == fmt


def test_export_refusals_and_cancel(h):
    iid = _available_image(h)
    assert h.error("ExportImage", ImageId=iid).code == "MissingParameter"
    assert h.error("ExportImage", OSSBucket=EXPORTS).code == "MissingParameter"
    assert h.error("ExportImage", ImageId=iid, OSSBucket=EXPORTS, OSSPrefix="has-dash").code == \
        "InvalidOSSPrefix.Malformed"
    assert h.error("ExportImage", ImageId=iid, OSSBucket=EXPORTS, OSSPrefix="x" * 31).code == \
        "InvalidOSSPrefix.Malformed"
    assert h.error("ExportImage", ImageId=iid, OSSBucket=EXPORTS, ImageFormat="iso").code == \
        "InvalidImageFormat.Malformed"
    assert h.error("ExportImage", ImageId=iid, OSSBucket="ecs-images-sh").code == "InvalidOSSBucket.NotFound"
    assert h.error("ExportImage", ImageId="aliyun_3_x64_20G_alibase_20240819.vhd", OSSBucket=EXPORTS).code == \
        "InvalidImageId.NotFound"
    assert h.error("ExportImage", ImageId=iid, OSSBucket=EXPORTS, RoleName="Nope").code == \
        "NoSetRoletoECSServiceAcount"
    creating = h.call("CreateImage", InstanceId="i-bp1emu0stopped000001", ImageName="still-creating")["ImageId"]
    assert h.error("ExportImage", ImageId=creating, OSSBucket=EXPORTS).code == "IncorrectImageStatus"
    assert h.backend.tasks == {}
    tid = h.call("ExportImage", ImageId=iid, OSSBucket=EXPORTS)["TaskId"]
    h.call("CancelTask", TaskId=tid)
    h.advance(400)
    assert task(h, tid)["TaskStatus"] == "Cancelled" and h.oss.list(EXPORTS) == []
    h.call("DeleteImage", ImageId=iid)


def test_describe_tasks(h):
    a = imp(h, RAW, "RAW", ImageName="t-a")
    b = imp(h, CORRUPT, "QCOW2", ImageName="t-b")
    iid = _available_image(h)
    c = h.call("ExportImage", ImageId=iid, OSSBucket=EXPORTS)
    r = h.call("DescribeTasks")
    assert r["TotalCount"] == 3 and r["TaskSet"]["Task"][0]["TaskId"] == c["TaskId"]
    t0 = r["TaskSet"]["Task"][0]
    assert t0["SupportCancel"] == "true" and t0["ResourceId"] == iid and t0["CreationTime"].endswith("Z")
    assert h.call("DescribeTasks", TaskAction="ImportImage")["TotalCount"] == 2
    assert h.call("DescribeTasks", TaskIds="%s,%s" % (a["TaskId"], c["TaskId"]))["TotalCount"] == 2
    assert h.call("DescribeTasks", **{"ResourceIds.1": b["ImageId"]})["TaskSet"]["Task"][0]["TaskId"] == b["TaskId"]
    assert h.call("DescribeTasks", TaskStatus="Processing")["TotalCount"] == 3
    assert h.call("DescribeTasks", TaskStatus="Whatever")["TotalCount"] == 3      # ignored, as documented
    h.advance(700)
    assert h.call("DescribeTasks", TaskStatus="Finished")["TotalCount"] == 2
    assert h.call("DescribeTasks", PageSize=2, PageNumber=2)["TaskSet"]["Task"][0]["TaskId"] == a["TaskId"]
    assert h.call("DescribeTasks", region=SH)["TotalCount"] == 0
    assert h.error("DescribeTasks", TaskAction="Bake").code == "InvalidParameter"
    assert h.error("DescribeTaskAttribute", TaskId="t-nope").code == "InvalidTaskId.NotFound"
    assert h.error("DescribeTaskAttribute", account="partner", TaskId=a["TaskId"]).code == "InvalidTaskId.NotFound"
    assert h.error("DescribeTaskAttribute").code == "MissingParameter"


def test_oss_reads_finish_due_jobs_through_the_before_read_hook(h):
    """One mechanism: the store calls ``before_read`` (the backend's ``advance``) before every read; reads made by
    the backend itself while it advances jobs (import checks) do not re-enter it."""
    assert h.oss.before_read == h.backend.advance
    depth, deepest = [0], [0]
    real_advance = h.backend._advance

    def tracking(now):
        depth[0] += 1
        deepest[0] = max(deepest[0], depth[0])
        try:
            return real_advance(now)
        finally:
            depth[0] -= 1
    h.backend._advance = tracking
    bad = imp(h, CORRUPT, "QCOW2", ImageName="hook-corrupt")         # its job reads the object from OSS
    h.advance(301)
    h.backend.resources()                                           # runs that job: an OSS read inside
    assert h.backend.tasks[bad["TaskId"]].status == "Failed"
    iid = _available_image(h, instance="i-bp1emu0armstop000001")
    tid = h.call("ExportImage", ImageId=iid, OSSBucket=EXPORTS)["TaskId"]
    h.advance(301)
    assert h.backend.tasks[tid].status == "Processing"              # nobody has looked yet
    assert h.oss.head(EXPORTS, "%s_%s.raw" % (iid, tid)) is not None   # the read finished the export job
    assert h.backend.tasks[tid].status == "Finished"
    assert deepest[0] == 1
    h.oss.before_read = None                                        # without the hook reads do not advance
    tid2 = h.call("ExportImage", ImageId=iid, OSSBucket=EXPORTS, OSSPrefix="late")["TaskId"]
    h.advance(301)
    assert h.oss.head(EXPORTS, "late_%s_%s.raw" % (iid, tid2)) is None
