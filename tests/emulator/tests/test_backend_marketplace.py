"""Marketplace product codes follow disks into snapshots and custom images (direct dispatch, manual clock).

As on the cloud, a custom image made from an instance of a Marketplace image, or from snapshots of such a system
disk, carries the Marketplace ``ProductCode``; such an image cannot be exported (403 ``ImageNotSupported``).
"""
import json

import pytest

from ecs_emulator.backend.testkit import Harness

HZ, SH = "cn-hangzhou", "cn-shanghai"
EXPORTS = "ecs-exports-hz"
STOPPED = "i-bp1emu0stopped000001"       # Ubuntu system image, two data disks
RUN = "i-bp1emu0running000001"
DERIVED = "m-bp1emu0mktderived01"        # default fixture: primary's custom image with a ProductCode
WORDPRESS = "cmjj00060001"


@pytest.fixture
def h():
    return Harness()


def marketplace_image(h, code=WORDPRESS):
    imgs = h.call("DescribeImages", ImageOwnerAlias="marketplace", PageSize=100)["Images"]["Image"]
    return next(i for i in imgs if i["ProductCode"] == code)


def boot_from_marketplace(h, instance_id=STOPPED, code=WORDPRESS):
    """Replace the stopped instance's system disk with a Marketplace image; returns the new system disk id."""
    mkt = marketplace_image(h, code)
    disk_id = h.call("ReplaceSystemDisk", region=None, InstanceId=instance_id, ImageId=mkt["ImageId"])["DiskId"]
    h.advance(41)
    assert h.instance(instance_id)["ImageId"] == mkt["ImageId"]
    return disk_id


def create(h, **params):
    iid = h.call("CreateImage", **params)["ImageId"]
    h.advance(61)
    img = h.image(iid)
    assert img["Status"] == "Available"
    return img


def disk(h, disk_id):
    return h.call("DescribeDisks", DiskIds=json.dumps([disk_id]))["Disks"]["Disk"][0]


def test_fixture_derived_image_has_product_code_and_is_not_exportable(h):
    img = h.image(DERIVED)
    assert img["ImageOwnerAlias"] == "self" and img["ProductCode"] == WORDPRESS and img["Status"] == "Available"
    snaps = [h.snapshot(m["SnapshotId"]) for m in img["DiskDeviceMappings"]["DiskDeviceMapping"]]
    assert [s["ProductCode"] for s in snaps] == [WORDPRESS]
    before = h.call("DescribeTasks", TaskAction="ExportImage")["TotalCount"]
    err = h.error("ExportImage", ImageId=DERIVED, OSSBucket=EXPORTS)
    assert (err.status, err.code) == (403, "ImageNotSupported")
    assert h.call("DescribeTasks", TaskAction="ExportImage")["TotalCount"] == before
    assert h.oss.list(EXPORTS) == []


def test_image_of_a_system_image_instance_has_no_product_code(h):
    img = create(h, InstanceId=STOPPED, ImageName="plain")
    assert img["ProductCode"] == ""
    assert all(h.snapshot(m["SnapshotId"])["ProductCode"] == ""
               for m in img["DiskDeviceMappings"]["DiskDeviceMapping"])
    assert h.call("ExportImage", ImageId=img["ImageId"], OSSBucket=EXPORTS)["TaskId"].startswith("t-")


def test_image_from_marketplace_instance_carries_product_code(h):
    sys_disk = boot_from_marketplace(h)
    assert disk(h, sys_disk)["ProductCode"] == WORDPRESS
    img = create(h, InstanceId=STOPPED, ImageName="from-mkt")
    assert img["ImageOwnerAlias"] == "self" and img["ProductCode"] == WORDPRESS
    maps = img["DiskDeviceMappings"]["DiskDeviceMapping"]
    # the system disk's snapshot carries the code, the data disks' do not
    assert [(m["Type"], h.snapshot(m["SnapshotId"])["ProductCode"]) for m in maps] == \
        [("system", WORDPRESS), ("data", ""), ("data", "")]
    err = h.error("ExportImage", ImageId=img["ImageId"], OSSBucket=EXPORTS)
    assert (err.status, err.code) == (403, "ImageNotSupported")


def test_images_from_snapshots_of_a_marketplace_disk_carry_product_code(h):
    sys_disk = boot_from_marketplace(h, code="cmjj00060003")
    snap_id = h.call("CreateSnapshot", region=None, DiskId=sys_disk)["SnapshotId"]
    h.advance(31)
    assert h.snapshot(snap_id)["ProductCode"] == "cmjj00060003"
    by_snapshot = create(h, SnapshotId=snap_id, ImageName="by-snapshot")
    by_mapping = create(h, ImageName="by-mapping", **{"DiskDeviceMapping.1.SnapshotId": snap_id,
                                                      "DiskDeviceMapping.2.Size": "20",
                                                      "DiskDeviceMapping.2.DiskType": "data"})
    assert by_snapshot["ProductCode"] == by_mapping["ProductCode"] == "cmjj00060003"
    # the code stays with the snapshot when the disk is gone (system disk replaced by a system image)
    system = next(i for i in h.call("DescribeImages", ImageOwnerAlias="system", PageSize=100)["Images"]["Image"]
                  if i["Architecture"] == "x86_64" and i["OSType"] == "linux")
    h.call("ReplaceSystemDisk", region=None, InstanceId=STOPPED, ImageId=system["ImageId"])
    h.advance(41)
    assert h.call("DescribeDisks", DiskIds=json.dumps([sys_disk]))["Disks"]["Disk"] == []
    assert create(h, SnapshotId=snap_id, ImageName="disk-gone")["ProductCode"] == "cmjj00060003"
    # and a snapshot of the new system disk has none
    new_disk = h.backend.instances[STOPPED].system_disk_id
    assert new_disk != sys_disk and disk(h, new_disk)["ProductCode"] == ""
    new_snap = h.call("CreateSnapshot", region=None, DiskId=new_disk)["SnapshotId"]
    h.advance(31)
    assert h.snapshot(new_snap)["ProductCode"] == ""
    assert create(h, SnapshotId=new_snap, ImageName="plain-again")["ProductCode"] == ""


def test_derived_images_keep_product_code_through_copies_and_their_snapshots(h):
    # from the snapshot of a derived image (its own system snapshot)
    snap_id = h.image(DERIVED)["DiskDeviceMappings"]["DiskDeviceMapping"][0]["SnapshotId"]
    again = create(h, SnapshotId=snap_id, ImageName="derived-again")
    assert again["ProductCode"] == WORDPRESS
    # a copy to another region keeps it, and so do the copy's snapshots
    copy_id = h.call("CopyImage", ImageId=DERIVED, DestinationRegionId=SH)["ImageId"]
    h.advance(301)
    copy = h.image(copy_id, region=SH)
    assert copy["Status"] == "Available" and copy["ProductCode"] == WORDPRESS
    assert h.snapshot(copy["DiskDeviceMappings"]["DiskDeviceMapping"][0]["SnapshotId"], region=SH)["ProductCode"] \
        == WORDPRESS
    # an instance booted from the derived image makes derived images too
    h.call("ReplaceSystemDisk", region=None, InstanceId=STOPPED, ImageId=DERIVED)
    h.advance(41)
    assert create(h, InstanceId=STOPPED, ImageName="derived-instance")["ProductCode"] == WORDPRESS
