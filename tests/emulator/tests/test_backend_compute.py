"""Backend instances, disks, snapshots, key pairs and regions (direct dispatch, manual clock)."""
import json

import pytest

from ecs_emulator.backend.testkit import Harness

HZ, SH = "cn-hangzhou", "cn-shanghai"
RUN, STOP, ARM, LOCKED = ("i-bp1emu0running000001", "i-bp1emu0stopped000001", "i-bp1emu0armstop000001",
                          "i-bp1emu0locked0000001")
PUBLIC = "aliyun_3_x64_20G_alibase_20240819.vhd"
UBUNTU = "ubuntu_22_04_x64_20G_alibase_20240926.vhd"
WINDOWS = "win2022_21H2_x64_dtc_en-us_40G_alibase_20240910.vhd"


@pytest.fixture
def h():
    return Harness()


def listed(h, instance_id, region=HZ):
    """The DescribeInstances item (KeyPairName, OSType ... are not in DescribeInstanceAttribute)."""
    return h.call("DescribeInstances", region=region, InstanceIds=json.dumps([instance_id]))["Instances"]["Instance"][0]


def disks(h, instance_id, region=HZ):
    return h.call("DescribeDisks", region=region, InstanceId=instance_id)["Disks"]["Disk"]


def test_regions(h):
    r = h.call("DescribeRegions", region=None)["Regions"]["Region"]
    ids = [x["RegionId"] for x in r]
    assert len(ids) >= 12 and {HZ, SH, "cn-beijing", "ap-southeast-1", "us-west-1", "eu-central-1"} <= set(ids)
    hz = [x for x in r if x["RegionId"] == HZ][0]
    assert hz["RegionEndpoint"] == "ecs.cn-hangzhou.aliyuncs.com" and hz["Status"] == "available"
    assert "杭州" in hz["LocalName"]
    en = h.call("DescribeRegions", region=None, AcceptLanguage="en-US")["Regions"]["Region"]
    assert [x for x in en if x["RegionId"] == HZ][0]["LocalName"] == "China (Hangzhou)"
    assert h.error("DescribeRegions", region=None, AcceptLanguage="xx").code == "InvalidAcceptLanguage.NotFound"


def test_describe_instances_filters_and_pages(h):
    r = h.call("DescribeInstances")
    ids = [i["InstanceId"] for i in r["Instances"]["Instance"]]
    assert r["TotalCount"] == 4 and set(ids) == {RUN, STOP, ARM, LOCKED}      # partner's instance not listed
    inst = [i for i in r["Instances"]["Instance"] if i["InstanceId"] == RUN][0]
    assert inst["Status"] == "Running" and inst["ImageId"] == PUBLIC and inst["KeyPairName"] == "ansible-test-key"
    assert inst["OperationLocks"] == {"LockReason": []} and inst["IoOptimized"] is True
    assert inst["Tags"]["Tag"][0] == {"TagKey": "env", "TagValue": "test"}
    r = h.call("DescribeInstances", InstanceIds=json.dumps([RUN, "i-unknown"]))
    assert [i["InstanceId"] for i in r["Instances"]["Instance"]] == [RUN]
    assert h.call("DescribeInstances", Status="Stopped")["TotalCount"] == 3
    assert h.call("DescribeInstances", InstanceName="web-*")["TotalCount"] == 1
    assert h.call("DescribeInstances", ImageId=UBUNTU)["TotalCount"] == 1
    assert h.call("DescribeInstances", **{"Tag.1.Key": "role", "Tag.1.Value": "builder"})["TotalCount"] == 1
    assert h.call("DescribeInstances", LockReason="security")["TotalCount"] == 1
    p1 = h.call("DescribeInstances", MaxResults=3)
    assert len(p1["Instances"]["Instance"]) == 3 and p1["NextToken"]
    p2 = h.call("DescribeInstances", MaxResults=3, NextToken=p1["NextToken"])
    assert len(p2["Instances"]["Instance"]) == 1 and p2["NextToken"] == ""
    both = [i["InstanceId"] for i in p1["Instances"]["Instance"] + p2["Instances"]["Instance"]]
    assert sorted(both) == sorted(ids)
    pg = h.call("DescribeInstances", PageSize=2, PageNumber=2)
    assert pg["PageNumber"] == 2 and len(pg["Instances"]["Instance"]) == 2
    assert h.error("DescribeInstances", InstanceIds="i-abc").code == "InvalidInstanceIds.Malformed"
    assert h.error("DescribeInstances", Status="Flying").code == "InvalidStatus.NotFound"
    assert h.error("DescribeInstances", NextToken="garbage").code == "InvalidParameter"
    assert h.call("DescribeInstances", region=SH)["TotalCount"] == 2


def test_describe_instance_attribute_without_region(h):
    a = h.call("DescribeInstanceAttribute", region=None, InstanceId="i-uf6emu0running000001")
    assert a["RegionId"] == SH and a["IoOptimized"] == "optimized" and a["Status"] == "Running"
    assert "Instances" not in a                           # flat
    e = h.error("DescribeInstanceAttribute", region=None, InstanceId="i-bp1emu0partner000001")
    assert (e.status, e.code) == (404, "InvalidInstanceId.NotFound")
    assert h.error("DescribeInstanceAttribute", region=None).code == "MissingParameter"


def test_stop_start_state_machine(h):
    h.call("StopInstance", region=None, InstanceId=RUN)
    assert h.instance(RUN)["Status"] == "Stopping"
    e = h.error("StopInstance", InstanceId=RUN)
    assert (e.status, e.code) == (403, "IncorrectInstanceStatus")
    assert h.error("StartInstance", InstanceId=RUN).code == "IncorrectInstanceStatus"
    h.advance(9)
    assert h.instance(RUN)["Status"] == "Stopping"
    h.advance(1.5)
    a = h.instance(RUN)
    assert a["Status"] == "Stopped" and a["StoppedMode"] == "KeepCharging"
    h.call("StartInstance", region=None, InstanceId=RUN)
    assert h.instance(RUN)["Status"] == "Starting"
    h.advance(16)
    assert h.instance(RUN)["Status"] == "Running"
    h.call("StopInstance", InstanceId=RUN, StoppedMode="StopCharging", ForceStop="true")
    h.advance(6)
    assert h.instance(RUN)["StoppedMode"] == "StopCharging"
    assert h.error("StopInstance", InstanceId=RUN, StoppedMode="Hibernate").code == "InvalidParameter"
    assert h.error("StartInstance", InstanceId=LOCKED).code == "InstanceLockedForSecurity"
    assert h.error("StartInstance", InstanceId="i-nope").code == "InvalidInstanceId.NotFound"
    assert h.error("StartInstance", InstanceId=STOP, DryRun="true").code == "DryRunOperation"
    assert h.instance(STOP)["Status"] == "Stopped"


def test_replace_system_disk(h):
    old = [d for d in disks(h, STOP) if d["Type"] == "system"][0]
    assert h.error("ReplaceSystemDisk", InstanceId=RUN, ImageId=PUBLIC).code == "IncorrectInstanceStatus"
    assert h.error("ReplaceSystemDisk", InstanceId=STOP).code == "MissingParameter"
    assert h.error("ReplaceSystemDisk", InstanceId=STOP, ImageId="m-nope").code == "InvalidImageId.NotFound"
    e = h.error("ReplaceSystemDisk", InstanceId=STOP, ImageId=WINDOWS, **{"SystemDisk.Size": "30"})
    assert (e.status, e.code) == (404, "InvalidSystemDiskSize.LessThanImageSize")
    assert h.error("ReplaceSystemDisk", InstanceId=STOP, ImageId=PUBLIC, **{"SystemDisk.Size": "5000"}).code == \
        "InvalidSystemDiskSize.MoreThanMaxSize"
    assert h.error("ReplaceSystemDisk", InstanceId=STOP, ImageId=PUBLIC, **{"SystemDisk.Size": "big"}).code == \
        "InvalidSystemDiskSize.ValueNotSupported"
    assert h.error("ReplaceSystemDisk", InstanceId=STOP, ImageId=PUBLIC, Password="short").code == \
        "InvalidPassword.Malformed"
    assert h.error("ReplaceSystemDisk", InstanceId=STOP, ImageId=PUBLIC, Password="Abcdefg12!",
                   PasswordInherit="true").code == "InvalidParameter.Conflict"
    assert h.error("ReplaceSystemDisk", InstanceId=STOP, ImageId=PUBLIC, KeyPairName="nokey").code == \
        "InvalidKeyPairName.NotFound"
    assert h.error("ReplaceSystemDisk", InstanceId=STOP, ImageId=WINDOWS, KeyPairName="ansible-test-key").code == \
        "InvalidParameter.Conflict"
    assert h.error("ReplaceSystemDisk", InstanceId=ARM, ImageId=PUBLIC).code == "ImageNotSupportInstanceType"
    assert h.error("ReplaceSystemDisk", InstanceId=LOCKED, ImageId=PUBLIC).code == "InstanceLockedForSecurity"
    assert h.error("ReplaceSystemDisk", InstanceId=STOP, ImageId=PUBLIC, DryRun="true").code == "DryRunOperation"
    assert [d["DiskId"] for d in disks(h, STOP) if d["Type"] == "system"] == [old["DiskId"]]   # nothing changed

    new_id = h.call("ReplaceSystemDisk", region=None, InstanceId=STOP, ImageId=PUBLIC, Password="Abcdefg12!",
                    KeyPairName="ansible-test-key", **{"SystemDisk.Size": "60"})["DiskId"]
    assert new_id.startswith("d-bp") and new_id != old["DiskId"]
    a = h.instance(STOP)
    assert a["OperationLocks"]["LockReason"] and a["ImageId"] == UBUNTU and a["Status"] == "Stopped"
    sysd = [d for d in disks(h, STOP) if d["Type"] == "system"]
    assert [(d["DiskId"], d["Status"], d["Size"]) for d in sysd] == [(new_id, "Creating", 60)]
    assert h.call("DescribeDisks", DiskIds=json.dumps([old["DiskId"]]))["TotalCount"] == 0   # released
    assert h.error("StartInstance", InstanceId=STOP).code == "IncorrectInstanceStatus"
    assert h.error("ReplaceSystemDisk", InstanceId=STOP, ImageId=PUBLIC).code == "IncorrectInstanceStatus"
    h.advance(41)
    a = h.instance(STOP)
    assert a["OperationLocks"]["LockReason"] == [] and a["ImageId"] == PUBLIC
    assert listed(h, STOP)["KeyPairName"] == "ansible-test-key"
    assert [d["Status"] for d in disks(h, STOP) if d["Type"] == "system"] == ["In_use"]
    h.call("ReplaceSystemDisk", InstanceId=STOP, ImageId=UBUNTU, PasswordInherit="true")
    h.advance(41)
    assert listed(h, STOP)["KeyPairName"] == ""          # not passed again -> the key pair binding is gone
    # default size = max(40, image size); data disks untouched
    h.call("ReplaceSystemDisk", InstanceId=STOP, ImageId=WINDOWS)
    assert [d["Size"] for d in disks(h, STOP) if d["Type"] == "system"] == [40]
    assert len([d for d in disks(h, STOP) if d["Type"] == "data"]) == 2


def test_replace_with_own_and_shared_images(h):
    iid = h.call("CreateImage", InstanceId=RUN, ImageName="for-replace")["ImageId"]
    assert h.error("ReplaceSystemDisk", InstanceId=STOP, ImageId=iid).code == "IncorrectImageStatus"
    h.advance(61)
    h.call("ReplaceSystemDisk", InstanceId=STOP, ImageId=iid)
    assert h.error("ReplaceSystemDisk", region=SH, InstanceId="i-uf6emu0stopped000001", ImageId=iid).code == \
        "InvalidImageId.NotFound"          # images are regional
    h.advance(41)
    assert h.instance(STOP)["ImageId"] == iid
    # the partner image shared with primary can be used
    h.call("ReplaceSystemDisk", InstanceId=STOP, ImageId="m-bp1emu0partnergolden1")
    h.advance(41)
    assert h.instance(STOP)["ImageId"] == "m-bp1emu0partnergolden1"


def test_describe_disks(h):
    r = h.call("DescribeDisks", InstanceId=STOP)
    assert r["TotalCount"] == 3
    d = r["Disks"]["Disk"]
    assert [x["Device"] for x in d] == ["/dev/xvda", "/dev/xvdb", "/dev/xvdc"]
    assert d[0]["Type"] == "system" and d[0]["Status"] == "In_use" and d[0]["ImageId"] == UBUNTU
    assert d[0]["Attachments"]["Attachment"][0]["InstanceId"] == STOP
    assert h.call("DescribeDisks", InstanceId=STOP, DiskType="data")["TotalCount"] == 2
    assert h.call("DescribeDisks", Category="cloud_efficiency")["TotalCount"] == 1
    ids = json.dumps(["d-bp1emu0sysrun0000001", "d-bp1emu0sysptn0000001"])
    assert [x["DiskId"] for x in h.call("DescribeDisks", DiskIds=ids)["Disks"]["Disk"]] == ["d-bp1emu0sysrun0000001"]
    assert h.error("DescribeDisks", DiskType="boot").code == "InvalidDiskType.ValueNotSupported"
    assert h.error("DescribeDisks", Status="Busy").code == "InvalidStatus.ValueNotSupported"
    e = h.error("DescribeDisks", DiskIds=json.dumps(["d-%d" % n for n in range(101)]))
    assert (e.status, e.code) == (403, "InvalidDiskIds.Malformed")
    p1 = h.call("DescribeDisks", MaxResults=2)
    p2 = h.call("DescribeDisks", MaxResults=2, NextToken=p1["NextToken"])
    assert p1["TotalCount"] == 7 and len(p1["Disks"]["Disk"]) == 2 and p2["NextToken"]


def test_snapshots(h):
    disk = "d-bp1emu0datrun0000001"
    sid = h.call("CreateSnapshot", region=None, DiskId=disk, SnapshotName="manual-1", Description="by test",
                 RetentionDays=7, **{"Tag.1.Key": "k", "Tag.1.Value": "v"})["SnapshotId"]
    s = h.snapshot(sid)
    assert (s["Status"], s["Progress"], s["SourceDiskId"], s["SourceDiskType"]) == \
        ("progressing", "0%", disk, "data")
    assert s["SourceDiskSize"] == "100" and s["Tags"]["Tag"] == [{"TagKey": "k", "TagValue": "v"}]
    e = h.error("CreateSnapshot", DiskId=disk)
    assert (e.status, e.code) == (403, "IncorrectDiskStatus.CreatingSnapshot")
    h.advance(15)
    assert h.snapshot(sid)["Progress"] == "50%"
    assert h.call("DescribeSnapshots", Status="progressing")["TotalCount"] == 1
    h.advance(16)
    assert h.snapshot(sid)["Status"] == "accomplished"
    assert h.call("DescribeSnapshots", DiskId=disk)["TotalCount"] == 1
    assert h.call("DescribeSnapshots", InstanceId=RUN, SourceDiskType="DATA")["TotalCount"] == 1
    assert h.call("DescribeSnapshots", SnapshotName="manual-1")["TotalCount"] == 1
    for bad in ("auto-snap", "1x", "http://x"):
        assert h.error("CreateSnapshot", DiskId=disk, SnapshotName=bad).code == "InvalidSnapshotName.Malformed"
    assert h.error("CreateSnapshot", DiskId="d-nope").code == "InvalidDiskId.NotFound"
    assert h.error("CreateSnapshot", DiskId="d-bp1emu0sysptn0000001").code == "InvalidDiskId.NotFound"
    assert h.error("CreateSnapshot", DiskId="d-bp1emu0syslck0000001").code == "InstanceLockedForSecurity"
    assert h.error("DescribeSnapshots", Status="done").code == "InvalidStatus.NotFound"
    assert h.error("DescribeSnapshots", Usage="x").code == "InvalidUsage"
    e = h.error("DescribeSnapshots", SnapshotIds=json.dumps(["s-%d" % n for n in range(101)]))
    assert e.code == "InvalidSnapshotIds.Malformed"
    # a snapshot used by an image cannot be deleted; after the image is gone it can
    sys_snap = h.call("CreateSnapshot", DiskId="d-bp1emu0sysrun0000001")["SnapshotId"]
    h.advance(31)
    iid = h.call("CreateImage", SnapshotId=sys_snap, ImageName="snap-img")["ImageId"]
    assert h.snapshot(sys_snap)["Usage"] == "image"
    used = h.call("DescribeSnapshots", Usage="image", PageSize=100)["Snapshots"]["Snapshot"]
    assert sys_snap in [s["SnapshotId"] for s in used] and all(s["Usage"] == "image" for s in used)
    assert "d-bp1emu0sysrun0000001" not in [s["SourceDiskId"] for s in used if s["SnapshotId"] != sys_snap]
    e = h.error("DeleteSnapshot", SnapshotId=sys_snap)
    assert (e.status, e.code) == (403, "SnapshotCreatedImage")
    h.advance(61)
    h.call("DeleteImage", ImageId=iid)
    h.call("DeleteSnapshot", SnapshotId=sys_snap)
    assert h.snapshot(sys_snap) is None
    assert h.error("DeleteSnapshot", SnapshotId=sys_snap).code == "InvalidSnapshotId.NotFound"


def test_snapshot_quota():
    from ecs_emulator.backend.testkit import load_default_fixture
    fx = load_default_fixture()
    fx["quotas"] = {"snapshots_per_disk": 2}
    fx["durations"] = {"CreateSnapshot": 1}
    h = Harness(fx)
    for _i in range(2):
        h.call("CreateSnapshot", DiskId="d-bp1emu0datrun0000001")
        h.advance(2)
    assert h.error("CreateSnapshot", DiskId="d-bp1emu0datrun0000001").code == "QuotaExceed.Snapshot"


def test_key_pairs(h):
    r = h.call("DescribeKeyPairs")
    assert [k["KeyPairName"] for k in r["KeyPairs"]["KeyPair"]] == ["ansible-test-key"]
    assert ":" in r["KeyPairs"]["KeyPair"][0]["KeyPairFingerPrint"]
    assert h.call("DescribeKeyPairs", KeyPairName="ansible-test-key")["TotalCount"] == 1
    assert h.call("DescribeKeyPairs", KeyPairName="ansible-*")["TotalCount"] == 1
    assert h.call("DescribeKeyPairs", KeyPairName="ansible")["TotalCount"] == 0
    assert h.call("DescribeKeyPairs", account="partner")["KeyPairs"]["KeyPair"][0]["KeyPairName"] == "partner-key"
    assert h.call("DescribeKeyPairs", region="cn-beijing")["TotalCount"] == 0


def test_durations_overridable():
    from ecs_emulator.backend.testkit import load_default_fixture
    fx = load_default_fixture()
    fx["durations"] = {"StopInstance": 100}
    h = Harness(fx)
    h.call("StopInstance", InstanceId=RUN)
    h.advance(50)
    assert h.instance(RUN)["Status"] == "Stopping"
    h.advance(51)
    assert h.instance(RUN)["Status"] == "Stopped"


def test_time_scale_shortens_transitions():
    h = Harness(time_scale=0.01)
    h.call("StopInstance", InstanceId=RUN)
    h.clock.t += 0.05            # 0.05 real seconds = 5 simulated seconds at scale 0.01
    assert h.instance(RUN)["Status"] == "Stopping"
    h.clock.t += 0.06
    assert h.instance(RUN)["Status"] == "Stopped"


def test_image_support_instance_types(h):
    r = h.call("DescribeImageSupportInstanceTypes", ImageId="aliyun_3_arm64_20G_alibase_20240819.vhd")
    types = r["InstanceTypes"]["InstanceType"]
    assert types and {t["InstanceTypeId"] for t in types} == {"ecs.g8y.large", "ecs.c8y.large"}
    assert isinstance(types[0]["CpuCoreCount"], int) and isinstance(types[0]["MemorySize"], float)
    x86 = h.call("DescribeImageSupportInstanceTypes", **{"Filter.1.Key": "imageId", "Filter.1.Value": PUBLIC})
    assert "ecs.g7.large" in [t["InstanceTypeId"] for t in x86["InstanceTypes"]["InstanceType"]]
    assert h.error("DescribeImageSupportInstanceTypes").code == "MissingParameter"
    assert h.error("DescribeImageSupportInstanceTypes", ImageId="m-nope").code == "InvalidImageId.NotFound"
