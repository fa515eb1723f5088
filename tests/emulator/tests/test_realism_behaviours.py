"""Each realism behaviour (ecs_emulator.realism), on and off, driven through Backend.dispatch with a manual clock."""
import json

import pytest

from ecs_emulator.backend.testkit import Harness

HZ, SH, TOKYO = "cn-hangzhou", "cn-shanghai", "ap-northeast-1"
RUN, STOP = "i-bp1emu0running000001", "i-bp1emu0stopped000001"
BUCKET, EXPORTS = "ecs-images-hz", "ecs-exports-hz"
RAW = "disks/alinux3-minimal.raw"


def harness(*on, **kw):
    """A harness with only the named behaviours on (the unconfirmed ones keep their defaults)."""
    h = Harness(**kw)
    h.realism({n: True for n in on})
    return h


def make_image(h, name="img", wait=True, **kw):
    kw.setdefault("InstanceId", RUN)
    iid = h.call("CreateImage", ImageName=name, **kw)["ImageId"]
    if wait:
        h.advance(61)
    return iid


def listed(h, iid, region=HZ, **kw):
    return [i["ImageId"] for i in h.call("DescribeImages", region=region, ImageId=iid, Status="ALL",
                                         **kw)["Images"]["Image"]]


def own_ids(h, region=HZ):
    return [i["ImageId"] for i in h.call("DescribeImages", region=region, ImageOwnerAlias="self", Status="ALL",
                                         PageSize=100)["Images"]["Image"]]


# ---------------------------------------------------------------------------------------------- task_waiting
def _export(h, iid, region=HZ, bucket=EXPORTS, **kw):
    return h.call("ExportImage", region=region, ImageId=iid, OSSBucket=bucket, **kw)["TaskId"]


def _task_status(h, tid, region=HZ):
    return h.call("DescribeTaskAttribute", region=region, TaskId=tid)["TaskStatus"]


def _processing(h, region=HZ):
    return [t["TaskId"] for t in h.call("DescribeTasks", region=region, TaskStatus="Processing")["TaskSet"]["Task"]]


def test_task_waiting_export_and_import():
    h = harness("task_waiting")
    iid = make_image(h)
    tid = _export(h, iid)
    assert _task_status(h, tid) == "Waiting" and tid not in _processing(h)
    assert h.call("DescribeTasks", TaskIds=tid)["TaskSet"]["Task"][0]["SupportCancel"] == "true"
    # a second export of the same image is refused while the first is queued
    assert h.error("ExportImage", ImageId=iid, OSSBucket=EXPORTS).code == "ImageIsExporting"
    h.advance(31)
    assert _task_status(h, tid) == "Processing" and tid in _processing(h)
    h.advance(300)
    assert _task_status(h, tid) == "Finished"
    r = h.call("ImportImage", **{"DiskDeviceMapping.1.OSSBucket": BUCKET, "DiskDeviceMapping.1.OSSObject": RAW})
    assert _task_status(h, r["TaskId"]) == "Waiting"
    h.call("CancelTask", TaskId=r["TaskId"])          # a queued task can be cancelled
    assert _task_status(h, r["TaskId"]) == "Cancelled"


def test_task_waiting_off():
    h = harness()
    tid = _export(h, make_image(h))
    assert _task_status(h, tid) == "Processing" and tid in _processing(h)


# ---------------------------------------------------------------------------------------------- create_failed
@pytest.mark.parametrize("fail_as", ["CreateFailed", "UnAvailable"])
def test_create_failed_fault_for_create_and_copy(fail_as):
    h = harness("create_failed")
    ctx = h.ctx()
    ctx.fail_as = fail_as
    iid = h.backend.dispatch(ctx, "CreateImage", {"RegionId": HZ, "InstanceId": RUN, "ImageName": "doomed"})["ImageId"]
    h.advance(61)
    img = h.image(iid)
    assert img["Status"] == fail_as
    good = make_image(h, "good")
    ctx = h.ctx()
    ctx.fail_as = fail_as
    cid = h.backend.dispatch(ctx, "CopyImage", {"RegionId": HZ, "ImageId": good, "DestinationRegionId": SH})["ImageId"]
    h.advance(301)
    assert h.image(cid, region=SH)["Status"] == fail_as
    # a failed image can be deleted
    h.call("DeleteImage", region=SH, ImageId=cid)


def test_create_failed_off_ignores_the_fault():
    h = harness()
    ctx = h.ctx()
    ctx.fail_as = "CreateFailed"
    iid = h.backend.dispatch(ctx, "CreateImage", {"RegionId": HZ, "InstanceId": RUN, "ImageName": "fine"})["ImageId"]
    h.advance(61)
    assert h.image(iid)["Status"] == "Available"


def test_import_create_failed_fault_fails_the_task():
    h = harness("create_failed")
    ctx = h.ctx()
    ctx.fail_as = "CreateFailed"
    r = h.backend.dispatch(ctx, "ImportImage", {"RegionId": HZ, "DiskDeviceMapping.1.OSSBucket": BUCKET,
                                                "DiskDeviceMapping.1.OSSObject": RAW})
    h.advance(601)
    assert h.image(r["ImageId"])["Status"] == "CreateFailed" and _task_status(h, r["TaskId"]) == "Failed"


# ---------------------------------------------------------------------------------------------- usable_lag
def test_usable_lags_status_and_refuses_use():
    h = harness("usable_lag")
    iid = make_image(h)
    img = h.image(iid)
    assert img["Status"] == "Available" and img["Usable"] is False
    for action, params in (("CopyImage", {"DestinationRegionId": SH}), ("ExportImage", {"OSSBucket": EXPORTS}),
                           ("ModifyImageSharePermission", {"AddAccount.1": h.account_ids["partner"]})):
        err = h.error(action, ImageId=iid, **params)
        assert (err.status, err.code) == (400, "IncorrectImageStatus") and "Usable" in err.message
    err = h.error("ReplaceSystemDisk", region=None, InstanceId=STOP, ImageId=iid)
    assert err.code == "IncorrectImageStatus"
    h.advance(10)
    assert h.image(iid)["Usable"] is True
    h.call("CopyImage", ImageId=iid, DestinationRegionId=SH)
    # fixture images are usable
    assert all(i["Usable"] for i in h.call("DescribeImages", ImageOwnerAlias="self")["Images"]["Image"])


def test_usable_lag_off():
    h = harness()
    iid = make_image(h)
    assert h.image(iid)["Usable"] is True
    h.call("CopyImage", ImageId=iid, DestinationRegionId=SH)


# ---------------------------------------------------------------------------------------------- late_visibility
def test_late_visibility_after_create_copy_import():
    h = harness("late_visibility")
    iid = make_image(h, wait=False)
    assert listed(h, iid) == [] and iid not in own_ids(h)
    # the id works for other calls meanwhile
    h.call("ModifyImageAttribute", ImageId=iid, Description="still invisible")
    h.advance(10)
    assert listed(h, iid) == [iid] and iid in own_ids(h)
    h.advance(51)
    cid = h.call("CopyImage", ImageId=iid, DestinationRegionId=SH)["ImageId"]
    assert listed(h, cid, region=SH) == []
    h.advance(10)
    assert listed(h, cid, region=SH) == [cid]
    r = h.call("ImportImage", **{"DiskDeviceMapping.1.OSSBucket": BUCKET, "DiskDeviceMapping.1.OSSObject": RAW})
    assert listed(h, r["ImageId"]) == []
    h.advance(10)
    assert listed(h, r["ImageId"]) == [r["ImageId"]]


def test_late_visibility_off():
    h = harness()
    iid = make_image(h, wait=False)
    assert listed(h, iid) == [iid]


# ---------------------------------------------------------------------------------------------- delete_lingers
def test_delete_lingers_and_snapshots_are_refused_meanwhile():
    h = harness("delete_lingers")
    iid = make_image(h)
    snaps = [m["SnapshotId"] for m in h.image(iid)["DiskDeviceMappings"]["DiskDeviceMapping"]]
    h.call("DeleteImage", ImageId=iid)
    assert listed(h, iid) == [iid] and iid in own_ids(h)
    assert h.error("DeleteSnapshot", region=None, SnapshotId=snaps[0]).code == "SnapshotCreatedImage"
    # other calls no longer find it; the name is free again
    assert h.error("ModifyImageAttribute", ImageId=iid, Description="x").code == "InvalidImageId.NotFound"
    h.advance(15)
    assert listed(h, iid) == [] and iid not in own_ids(h)
    for s in snaps:
        h.call("DeleteSnapshot", region=None, SnapshotId=s)


def test_delete_lingers_off():
    h = harness()
    iid = make_image(h)
    h.call("DeleteImage", ImageId=iid)
    assert listed(h, iid) == []


# ---------------------------------------------------------------------------------------------- transient_conflict
def _wait_instance(h, iid, status):
    for _attempt in range(20):
        if h.instance(iid)["Status"] == status:
            return
        h.advance(1)
    raise AssertionError("instance never %s" % status)


def test_transient_conflict_after_stop_start_and_replace():
    h = harness("transient_conflict")
    h.call("StopInstance", region=None, InstanceId=RUN)
    _wait_instance(h, RUN, "Stopped")
    err = h.error("StartInstance", region=None, InstanceId=RUN)
    assert (err.status, err.code) == (403, "IncorrectInstanceStatus")
    assert h.error("CreateImage", InstanceId=RUN, ImageName="too-soon").code == "IncorrectInstanceStatus"
    h.advance(5)
    h.call("ReplaceSystemDisk", region=None, InstanceId=RUN, ImageId="aliyun_3_x64_20G_alibase_20240819.vhd")
    h.advance(41)
    err = h.error("StartInstance", region=None, InstanceId=RUN)
    assert (err.status, err.code) == (403, "InvalidOperation.Conflict")
    err = h.error("CreateImage", InstanceId=RUN, ImageName="too-soon")
    assert (err.status, err.code) == (403, "OperationConflict")
    h.advance(5)
    h.call("StartInstance", region=None, InstanceId=RUN)
    _wait_instance(h, RUN, "Running")
    assert h.error("StopInstance", region=None, InstanceId=RUN).code == "IncorrectInstanceStatus"
    h.advance(5)
    h.call("StopInstance", region=None, InstanceId=RUN)


def test_transient_conflict_off():
    h = harness()
    h.call("StopInstance", region=None, InstanceId=RUN)
    _wait_instance(h, RUN, "Stopped")
    h.call("StartInstance", region=None, InstanceId=RUN)


# ---------------------------------------------------------------------------------------------- stopped_mode
def test_stopped_mode_economical_by_default_then_no_stock_once():
    h = harness("stopped_mode")
    h.call("StopInstance", region=None, InstanceId=RUN)
    _wait_instance(h, RUN, "Stopped")
    assert h.instance(RUN)["StoppedMode"] == "StopCharging"
    err = h.error("StartInstance", region=None, InstanceId=RUN)
    assert (err.status, err.code) == (403, "OperationDenied.NoStock")
    assert h.instance(RUN)["Status"] == "Stopped"
    h.call("StartInstance", region=None, InstanceId=RUN)          # the stock is back
    _wait_instance(h, RUN, "Running")
    h.call("StopInstance", region=None, InstanceId=RUN, StoppedMode="KeepCharging")
    _wait_instance(h, RUN, "Stopped")
    assert h.instance(RUN)["StoppedMode"] == "KeepCharging"
    h.call("StartInstance", region=None, InstanceId=RUN)


def test_stopped_mode_off_keeps_charging():
    h = harness()
    h.call("StopInstance", region=None, InstanceId=RUN)
    _wait_instance(h, RUN, "Stopped")
    assert h.instance(RUN)["StoppedMode"] == "KeepCharging"
    h.call("StartInstance", region=None, InstanceId=RUN)


# ---------------------------------------------------------------------------------------------- export
def _export_objects(h, tid, region=HZ):
    items = h.call("DescribeTaskAttribute", region=region, TaskId=tid)["OperationProgressSet"][
        "OperationProgress"][0]["RelatedItemSet"]["RelatedItem"]
    return [i["Value"] for i in items if i["Name"] == "OSSObject"], \
        [i["Value"] for i in items if i["Name"] == "ImageFormat"]


def test_export_format_regions_and_object_names():
    h = harness("export_format_regions", "export_object_names")
    iid = make_image(h)
    tid = _export(h, iid, ImageFormat="qcow2", OSSPrefix="bk")
    names, fmt = _export_objects(h, tid)
    assert fmt == ["raw"]                                       # cn-hangzhou: RAW whatever was asked
    assert names == ["bk_%s_system.raw.tar.gz" % iid, "bk_%s_data_xvdb.raw.tar.gz" % iid]
    h.advance(301)
    for name in names:
        assert h.oss.head(EXPORTS, name) is not None


def test_export_format_honoured_in_documented_regions():
    fixture = Harness().fixture
    fixture["oss"]["buckets"].append({"name": "exports-tokyo", "region": TOKYO, "account": "primary"})
    h = harness("export_format_regions", "export_object_names", fixture=fixture)
    sid = h.call("CreateSnapshot", region=None, DiskId=_system_disk(h))["SnapshotId"]
    h.advance(31)
    iid = make_image(h, "src", InstanceId=None, SnapshotId=sid)
    cid = h.call("CopyImage", ImageId=iid, DestinationRegionId=TOKYO)["ImageId"]
    h.advance(301)
    tid = _export(h, cid, region=TOKYO, bucket="exports-tokyo", ImageFormat="qcow2")
    names, fmt = _export_objects(h, tid, region=TOKYO)
    assert fmt == ["qcow2"] and names == ["%s_system.qcow2" % cid]


def _system_disk(h):
    disks = h.call("DescribeDisks", InstanceId=RUN, DiskType="system")["Disks"]["Disk"]
    return disks[0]["DiskId"]


def test_export_realism_off_keeps_format_and_task_names():
    h = harness()
    iid = make_image(h)
    tid = _export(h, iid, ImageFormat="qcow2")
    names, fmt = _export_objects(h, tid)
    assert fmt == ["qcow2"] and names[0] == "%s_%s.qcow2" % (iid, tid)


def test_windows_not_exportable():
    h = harness("windows_not_exportable")
    iid = make_image(h, "win", Platform="Windows Server 2022")
    err = h.error("ExportImage", ImageId=iid, OSSBucket=EXPORTS)
    assert (err.status, err.code) == (403, "ImageNotSupported") and "Windows" in err.message
    h.realism({"windows_not_exportable": False})
    _export(h, iid)


# ---------------------------------------------------------------------------------------------- sharing / delete / codes
def test_encrypted_share_refused():
    h = harness("encrypted_share")
    iid = make_image(h)
    enc = h.call("CopyImage", ImageId=iid, DestinationRegionId=HZ, DestinationImageName="enc",
                 Encrypted="true")["ImageId"]
    h.advance(301)
    err = h.error("ModifyImageSharePermission", ImageId=enc, **{"AddAccount.1": h.account_ids["partner"]})
    assert (err.status, err.code) == (403, "OperationDeined.EncryptedSnapshot")
    h.realism({"encrypted_share": False})
    h.call("ModifyImageSharePermission", ImageId=enc, **{"AddAccount.1": h.account_ids["partner"]})


def test_delete_unknown_ignored():
    h = harness("delete_unknown_ignored")
    assert h.call("DeleteImage", ImageId="m-bp1doesnotexist0000") == {}
    # an image the caller can see but does not own is still refused
    assert h.error("DeleteImage", ImageId="aliyun_3_x64_20G_alibase_20240819.vhd").code == "InvalidImageId.NotFound"
    h.realism({"delete_unknown_ignored": False})
    assert h.error("DeleteImage", ImageId="m-bp1doesnotexist0000").status == 404


def test_documented_codes():
    h = harness("documented_codes")
    err = h.error("CreateImage", InstanceId="i-bp1doesnotexist00000", ImageName="img-x")
    assert (err.status, err.code) == (400, "InvalidInstanceId.NotFound")
    err = h.error("ReplaceSystemDisk", region=None, InstanceId=STOP, ImageId="aliyun_3_x64_20G_alibase_20240819.vhd",
                  Password="Abcdef12!x", PasswordInherit="true")
    assert (err.status, err.code) == (400, "InvalidPasswordParam.Mismatch")
    h.realism({"documented_codes": False})
    assert h.error("CreateImage", InstanceId="i-bp1doesnotexist00000", ImageName="img-x").status == 404
    err = h.error("ReplaceSystemDisk", region=None, InstanceId=STOP, ImageId="aliyun_3_x64_20G_alibase_20240819.vhd",
                  Password="Abcdef12!x", PasswordInherit="true")
    assert err.code == "InvalidParameter.Conflict"


# ---------------------------------------------------------------------------------------------- unconfirmed
def test_image_id_list_both_ways():
    h = harness()
    a, b = make_image(h, "img-a"), make_image(h, "img-b")
    assert sorted(listed(h, "%s,%s" % (a, b))) == sorted([a, b])
    h.realism({"image_id_list": False})
    assert listed(h, "%s,%s" % (a, b)) == [] and listed(h, a) == [a]


def test_copy_source_busy_both_ways():
    h = harness()
    iid = make_image(h)
    h.call("CopyImage", ImageId=iid, DestinationRegionId=SH)
    h.call("CopyImage", ImageId=iid, DestinationRegionId="cn-beijing")     # default: allowed (queued)
    h.realism({"copy_source_busy": True})
    err = h.error("CopyImage", ImageId=iid, DestinationRegionId="cn-shenzhen")
    assert (err.status, err.code) == (403, "OperationDenied.ImageCopying")


def test_replace_data_snapshots_both_ways():
    h = harness()
    iid = make_image(h)                     # the running instance has a data disk: the image holds its snapshot
    h.realism({"replace_data_snapshots": True})
    err = h.error("ReplaceSystemDisk", region=None, InstanceId=STOP, ImageId=iid)
    assert (err.status, err.code) == (400, "OperationDenied")
    h.realism({"replace_data_snapshots": False})
    h.call("ReplaceSystemDisk", region=None, InstanceId=STOP, ImageId=iid)


def test_all_on_by_default_in_a_plain_backend():
    h = Harness(realism_off=())
    assert h.backend.realism.on("late_visibility") and h.backend.realism.on("delete_lingers")
    iid = make_image(h, wait=False)
    assert listed(h, iid) == []
    assert json.dumps(h.backend.realism.as_dict())
