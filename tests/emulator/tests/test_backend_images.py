"""Backend image actions driven directly through Backend.dispatch with a manual clock."""
import time

import pytest

from ecs_emulator.backend.testkit import Harness, load_default_fixture

HZ, SH = "cn-hangzhou", "cn-shanghai"
RUN, STOP = "i-bp1emu0running000001", "i-bp1emu0stopped000001"
PARTNER_ID = "2234567890123456"
PARTNER_IMAGE = "m-bp1emu0partnergolden1"
COMMUNITY_IMAGE = "m-bp1emu0partnercommty1"
PUBLIC = "aliyun_3_x64_20G_alibase_20240819.vhd"


@pytest.fixture
def h():
    return Harness()


def own_count(h, region=HZ, account="primary"):
    return h.call("DescribeImages", account=account, region=region, ImageOwnerAlias="self",
                  Status="ALL")["TotalCount"]


def create(h, name="img-a", **kw):
    kw.setdefault("InstanceId", RUN)
    return h.call("CreateImage", ImageName=name, **kw)["ImageId"]


# ---------------------------------------------------------------------------------------------- describe
def test_describe_defaults_and_aliases(h):
    r = h.call("DescribeImages")
    assert len(r["Images"]["Image"]) == min(10, r["TotalCount"]) and r["PageSize"] == 10 and r["PageNumber"] == 1
    r = h.call("DescribeImages", PageSize=100)
    ids = [i["ImageId"] for i in r["Images"]["Image"]]
    assert r["TotalCount"] == len(ids)
    assert PARTNER_IMAGE in ids                       # shared with primary -> "others"
    assert COMMUNITY_IMAGE not in ids                 # community images only with IsPublic
    system = h.call("DescribeImages", ImageOwnerAlias="system", PageSize=100)["Images"]["Image"]
    assert system and all(i["ImageOwnerAlias"] == "system" and i["ProductCode"] == "" for i in system)
    market = h.call("DescribeImages", ImageOwnerAlias="marketplace", PageSize=100)["Images"]["Image"]
    assert market and all(i["ImageOwnerAlias"] == "marketplace" and i["ProductCode"] for i in market)
    assert not set(i["ImageId"] for i in market) & set(ids)   # marketplace is not in the default listing
    others = h.call("DescribeImages", ImageOwnerAlias="others")["Images"]["Image"]
    assert [i["ImageId"] for i in others] == [PARTNER_IMAGE]
    assert others[0]["ImageOwnerId"] == int(PARTNER_ID) and others[0]["IsSelfShared"] == "False"
    community = h.call("DescribeImages", ImageOwnerAlias="others", IsPublic="true")["Images"]["Image"]
    assert COMMUNITY_IMAGE in [i["ImageId"] for i in community]
    # the auditor sees neither the shared image nor the partner's own images
    aud = h.call("DescribeImages", account="auditor", ImageOwnerAlias="others")
    assert aud["TotalCount"] == 0


def test_public_images_in_every_region_and_system_id(h):
    regions = [r["RegionId"] for r in h.call("DescribeRegions", region=None)["Regions"]["Region"]]
    assert len(regions) >= 12
    for region in regions:
        r = h.call("DescribeImages", region=region, ImageId=PUBLIC)
        assert r["Images"]["Image"][0]["ImageId"] == PUBLIC
        assert r["Images"]["Image"][0]["ImageOwnerAlias"] == "system"


def test_describe_string_oddities(h):
    img = h.call("DescribeImages", ImageId=PARTNER_IMAGE)["Images"]["Image"][0]
    assert img["Progress"] == "100%"
    assert isinstance(img["Size"], int)
    m = img["DiskDeviceMappings"]["DiskDeviceMapping"][0]
    assert isinstance(m["Size"], str) and m["Size"] == str(img["Size"])
    assert img["IsSelfShared"] in ("True", "False")
    assert img["Tags"] == {"Tag": []}                 # tags of someone else's image are not shown


def test_unknown_and_comma_list_ids(h):
    assert h.call("DescribeImages", ImageId="m-doesnotexist000000")["Images"]["Image"] == []
    r = h.call("DescribeImages", ImageId="%s,m-nope,%s" % (PUBLIC, PARTNER_IMAGE))
    assert {i["ImageId"] for i in r["Images"]["Image"]} == {PUBLIC, PARTNER_IMAGE}
    # a custom image of another region is not visible here
    iid = create(h)
    assert h.call("DescribeImages", region=SH, ImageId=iid, Status="ALL")["TotalCount"] == 0


def test_describe_validation(h):
    assert h.error("DescribeImages", Status="Bogus").code == "InvalidParameter"
    assert "Status" in h.error("DescribeImages", Status="Available,Bogus").message
    assert h.error("DescribeImages", ImageOwnerAlias="nobody").code == "InvalidImageOwnerAlias.ValueNotSupported"
    e = h.error("DescribeImages", Usage="sometimes")
    assert (e.status, e.code) == (404, "InvalidUsage")
    assert h.error("DescribeImages", OSType="beos").code == "InvalidOSType"
    assert h.error("DescribeImages", Architecture="mips").code == "InvalidArchitecture"
    assert h.error("DescribeImages", PageSize=101).code == "InvalidParameter"
    assert "PageSize" in h.error("DescribeImages", PageSize=0).message
    assert h.error("DescribeImages", **{"Filter.1.Key": "Color", "Filter.1.Value": "x"}).code == \
        "InvalidFilterKey.NotFound"
    e = h.error("DescribeImages", region="xx-nowhere-1")
    assert (e.status, e.code) == (404, "InvalidRegionId.NotFound")
    e = h.error("DescribeImages", region=None)
    assert e.code == "MissingParameter" and "RegionId" in e.message
    assert h.error("DescribeImages", DryRun="true").code == "DryRunOperation"


def test_describe_filters_name_family_arch_os(h):
    a = create(h, "golden-web-1", ImageFamily="golden-web")
    h.advance(61)
    b = create(h, "other-image", InstanceId=STOP)
    h.advance(61)

    def names(response):
        return [i["ImageName"] for i in response["Images"]["Image"]]

    assert names(h.call("DescribeImages", ImageName="golden", ImageOwnerAlias="self")) == ["golden-web-1"]
    assert names(h.call("DescribeImages", ImageFamily="golden-web")) == ["golden-web-1"]
    arm = h.call("DescribeImages", Architecture="arm64", ImageOwnerAlias="system")["Images"]["Image"]
    assert arm and all(i["Architecture"] == "arm64" for i in arm)
    win = h.call("DescribeImages", OSType="windows", ImageOwnerAlias="system")["Images"]["Image"]
    assert win and all(i["OSType"] == "windows" for i in win)
    arm_types = h.call("DescribeImages", InstanceType="ecs.g8y.large", ImageOwnerAlias="system")["Images"]["Image"]
    assert {i["Architecture"] for i in arm_types} == {"arm64"}
    # newest first
    mine = h.call("DescribeImages", ImageOwnerAlias="self")["Images"]["Image"]
    assert [i["ImageId"] for i in mine][:2] == [b, a]
    assert all(i["CreationTime"] <= mine[1]["CreationTime"] for i in mine[2:])   # the fixture's older images
    snap = h.image(a)["DiskDeviceMappings"]["DiskDeviceMapping"][0]["SnapshotId"]
    assert [i["ImageId"] for i in h.call("DescribeImages", SnapshotId=snap)["Images"]["Image"]] == [a]
    # Usage: the fixture's public image is used by instances
    used = h.call("DescribeImages", Usage="instance", ImageOwnerAlias="system", PageSize=100)["Images"]["Image"]
    assert PUBLIC in [i["ImageId"] for i in used] and all(i["Usage"] == "instance" for i in used)
    rg = "rg-acfmemuprimary00002"
    h.call("JoinResourceGroup", ResourceType="image", ResourceId=a, ResourceGroupId=rg)
    assert [i["ImageId"] for i in h.call("DescribeImages", ResourceGroupId=rg)["Images"]["Image"]] == [a]


def test_pagination(h):
    base = h.call("DescribeImages", ImageOwnerAlias="self")["TotalCount"]      # the fixture's own images
    ids = []
    for n in range(25):
        ids.append(h.call("CreateImage", SnapshotId=_snapshot(h), ImageName="page-%02d" % n)["ImageId"])
    h.advance(61)
    seen = []
    for page in (1, 2, 3):
        r = h.call("DescribeImages", ImageOwnerAlias="self", PageSize=10, PageNumber=page)
        assert r["TotalCount"] == 25 + base and r["PageNumber"] == page
        seen += [i["ImageId"] for i in r["Images"]["Image"]]
    assert seen[:25] == list(reversed(ids)) and len(seen) == min(30, 25 + base)
    last = (25 + base + 9) // 10
    assert len(h.call("DescribeImages", ImageOwnerAlias="self", PageSize=10, PageNumber=last)["Images"]["Image"]) \
        == (25 + base) - 10 * (last - 1)
    assert h.call("DescribeImages", ImageOwnerAlias="self", PageSize=10, PageNumber=last + 1)["Images"]["Image"] == []


def _snapshot(h, disk="d-bp1emu0sysstp0000001"):
    if not hasattr(h, "_snap"):
        h._snap = h.call("CreateSnapshot", DiskId=disk)["SnapshotId"]
        h.advance(31)
    return h._snap


def test_tag_filter(h):
    a = create(h, "tagged-a", **{"Tag.1.Key": "env", "Tag.1.Value": "prod"})
    h.advance(61)
    b = create(h, "tagged-b", InstanceId=STOP, **{"Tag.1.Key": "env", "Tag.1.Value": "dev"})
    h.advance(61)
    r = h.call("DescribeImages", **{"Tag.1.Key": "env", "Tag.1.Value": "prod"})
    assert [i["ImageId"] for i in r["Images"]["Image"]] == [a]
    assert r["Images"]["Image"][0]["Tags"] == {"Tag": [{"TagKey": "env", "TagValue": "prod"}]}
    r = h.call("DescribeImages", **{"Tag.1.Key": "env"})
    assert {i["ImageId"] for i in r["Images"]["Image"]} == {a, b}
    assert h.error("DescribeImages", **{"Tag.1.Value": "x"}).code == "InvalidTag.Mismatch"


# ---------------------------------------------------------------------------------------------- create
def test_create_from_instance_state_machine_and_snapshots(h):
    before = own_count(h)
    iid = create(h, "from-instance", Description="made by the test")
    assert iid.startswith("m-bp")
    # invisible with the default Status filter while Creating
    assert h.call("DescribeImages", ImageId=iid)["Images"]["Image"] == []
    img = h.image(iid)
    assert img["Status"] == "Creating" and img["Progress"] == "0%"
    maps = img["DiskDeviceMappings"]["DiskDeviceMapping"]
    assert [m["Type"] for m in maps] == ["system", "data"] and [m["Size"] for m in maps] == ["40", "100"]
    assert [m["Device"] for m in maps] == ["/dev/xvda", "/dev/xvdb"]
    snaps = [m["SnapshotId"] for m in maps]
    assert all(s.startswith("s-") for s in snaps)
    assert h.snapshot(snaps[0])["Status"] == "progressing"
    h.advance(30)
    img = h.image(iid)
    assert img["Status"] == "Creating" and img["Progress"] == "50%"
    assert h.snapshot(snaps[1])["Progress"] == "50%"
    h.advance(31)
    img = h.call("DescribeImages", ImageId=iid)["Images"]["Image"][0]
    assert img["Status"] == "Available" and img["Progress"] == "100%"
    assert img["Platform"] == "Aliyun" and img["Description"] == "made by the test"
    assert own_count(h) == before + 1
    s0 = h.snapshot(snaps[0])
    assert (s0["Status"], s0["Progress"], s0["Usage"], s0["SourceDiskType"]) == \
        ("accomplished", "100%", "image", "system")
    # delete the image: the snapshots survive with Usage none
    h.call("DeleteImage", ImageId=iid)
    assert h.image(iid) is None
    for s in snaps:
        snap = h.snapshot(s)
        assert snap is not None and snap["Usage"] == "none" and snap["Status"] == "accomplished"


def test_create_validation_changes_nothing(h):
    before = own_count(h)
    snaps_before = len(h.backend.snapshots)
    e = h.error("CreateImage", ImageName="no-source")
    assert (e.status, e.code) == (400, "MissingParameter") and "InstanceId" in e.message
    for bad in ("1abc", "a", "http://x", "aliyun-image", "has space", "x" * 129):
        e = h.error("CreateImage", InstanceId=RUN, ImageName=bad)
        assert e.code == "InvalidImageName.Malformed" and "ImageName" in e.message, bad
    assert h.error("CreateImage", InstanceId=RUN, Description="x").code == "InvalidDescription.Malformed"
    assert h.error("CreateImage", InstanceId=RUN, Architecture="sparc").code == "InvalidArchitecture.Malformed"
    assert h.error("CreateImage", InstanceId=RUN, Platform="Plan9").code == "InvalidPlatform.Malformed"
    e = h.error("CreateImage", InstanceId="i-bp1nothere")
    assert (e.status, e.code) == (404, "InvalidInstanceId.NotFound")
    e = h.error("CreateImage", InstanceId=RUN, ResourceGroupId="rg-nope")
    assert (e.status, e.code) == (404, "InvalidResourceGroup.NotFound")
    tags = {"Tag.%d.Key" % n: "k%d" % n for n in range(1, 22)}
    assert h.error("CreateImage", InstanceId=RUN, **tags).code == "NumberExceed.Tags"
    assert h.error("CreateImage", InstanceId=RUN, **{"Tag.1.Key": "a", "Tag.2.Key": "a"}).code == \
        "Duplicate.TagKey"
    assert h.error("CreateImage", InstanceId=RUN, **{"Tag.1.Key": "acs:x"}).code == "InvalidTagKey.Malformed"
    assert h.error("CreateImage", InstanceId=RUN, **{"Tag.1.Key": "k", "Tag.1.Value": "http://x"}).code == \
        "InvalidTagValue.Malformed"
    e = h.error("CreateImage", InstanceId="i-bp1emu0locked0000001")
    assert e.code == "InstanceLockedForSecurity"
    # instance of another region / another account
    assert h.error("CreateImage", InstanceId="i-uf6emu0running000001").code == "InvalidInstanceId.NotFound"
    assert h.error("CreateImage", InstanceId="i-bp1emu0partner000001").code == "InvalidInstanceId.NotFound"
    assert h.error("CreateImage", InstanceId=RUN, DryRun="true").code == "DryRunOperation"
    assert own_count(h) == before and len(h.backend.snapshots) == snaps_before


def test_create_name_duplicate_and_instance_busy(h):
    create(h, "dup-name")
    e = h.error("CreateImage", InstanceId=STOP, ImageName="dup-name")
    assert (e.status, e.code) == (400, "InvalidImageName.Duplicated")
    # the running instance's disks are still being snapshotted
    e = h.error("CreateImage", InstanceId=RUN, ImageName="second")
    assert e.code == "IncorrectDiskStatus.CreatingSnapshot"
    h.advance(61)
    create(h, "second")
    # instance Stopping -> IncorrectInstanceStatus
    h.advance(61)
    h.call("StopInstance", InstanceId=RUN)
    assert h.error("CreateImage", InstanceId=RUN, ImageName="third").code == "IncorrectInstanceStatus"
    # same name in another region is fine
    h.call("CreateImage", region=SH, InstanceId="i-uf6emu0running000001", ImageName="dup-name")


def test_create_from_snapshot_and_mappings(h):
    sys_snap = h.call("CreateSnapshot", DiskId="d-bp1emu0sysstp0000001")["SnapshotId"]
    data_snap = h.call("CreateSnapshot", DiskId="d-bp1emu0datstp0000001")["SnapshotId"]
    e = h.error("CreateImage", SnapshotId=sys_snap, ImageName="too-early")
    assert (e.status, e.code) == (403, "InvalidSnapshotId.NotReady")
    h.advance(31)
    assert h.error("CreateImage", SnapshotId=data_snap).code == "OperationDenied"
    assert h.error("CreateImage", SnapshotId="s-bp1missing").code == "InvalidSnapshotId.NotFound"
    iid = h.call("CreateImage", SnapshotId=sys_snap, ImageName="from-snap")["ImageId"]
    h.advance(60)
    img = h.image(iid)
    assert img["Status"] == "Available" and img["Platform"] == "Ubuntu"
    assert img["DiskDeviceMappings"]["DiskDeviceMapping"][0]["SnapshotId"] == sys_snap
    # DiskDeviceMapping: system + data + an empty data disk
    iid2 = h.call("CreateImage", ImageName="from-map", **{
        "DiskDeviceMapping.1.SnapshotId": sys_snap, "DiskDeviceMapping.1.DiskType": "system",
        "DiskDeviceMapping.1.Size": "60",
        "DiskDeviceMapping.2.SnapshotId": data_snap, "DiskDeviceMapping.2.DiskType": "data",
        "DiskDeviceMapping.3.DiskType": "data", "DiskDeviceMapping.3.Size": "30"})["ImageId"]
    maps = h.image(iid2)["DiskDeviceMappings"]["DiskDeviceMapping"]
    assert [(m["Device"], m["Type"], m["Size"]) for m in maps] == \
        [("/dev/xvda", "system", "60"), ("/dev/xvdb", "data", "50"), ("/dev/xvdc", "data", "30")]
    assert h.image(iid2)["Size"] == 60
    e = h.error("CreateImage", **{"DiskDeviceMapping.1.SnapshotId": sys_snap, "DiskDeviceMapping.1.DiskType": "system",
                                  "DiskDeviceMapping.2.SnapshotId": sys_snap, "DiskDeviceMapping.2.DiskType": "system"})
    assert e.code == "OperationDenied"
    e = h.error("CreateImage", **{"DiskDeviceMapping.1.SnapshotId": sys_snap, "DiskDeviceMapping.1.Size": "10"})
    assert e.code == "InvalidSize.ValueNotSupported"
    e = h.error("CreateImage", **{"DiskDeviceMapping.1.SnapshotId": sys_snap,
                                  "DiskDeviceMapping.2.SnapshotId": data_snap, "DiskDeviceMapping.2.Device": "/dev/sdb"})
    assert e.code == "InvalidDevice.Malformed"
    e = h.error("CreateImage", **{"DiskDeviceMapping.1.SnapshotId": sys_snap,
                                  "DiskDeviceMapping.2.SnapshotId": data_snap, "DiskDeviceMapping.2.Device": "/dev/xvdb",
                                  "DiskDeviceMapping.3.Device": "/dev/xvdb"})
    assert e.code == "InvalidDevice.InUse"


def test_instance_source_has_precedence(h):
    snap = _snapshot(h)
    iid = h.call("CreateImage", InstanceId=RUN, SnapshotId=snap, ImageName="prec")["ImageId"]
    assert len(h.image(iid)["DiskDeviceMappings"]["DiskDeviceMapping"]) == 2   # instance (2 disks), not snapshot


# ---------------------------------------------------------------------------------------------- delete
def test_delete_refusals(h):
    iid = create(h, "del-me")
    e = h.error("DeleteImage", ImageId=iid)
    assert (e.status, e.code) == (403, "ImageIsCreating")
    h.advance(61)
    e = h.error("DeleteImage", ImageId="m-bp1doesnotexist00")
    assert (e.status, e.code) == (404, "InvalidImageId.NotFound")
    assert h.error("DeleteImage", ImageId=PARTNER_IMAGE).code == "InvalidImageId.NotFound"   # not ours
    assert h.error("DeleteImage", ImageId=PUBLIC).code == "InvalidImageId.NotFound"
    assert h.error("DeleteImage").code == "MissingParameter"
    # shared -> refused even with Force
    h.call("ModifyImageSharePermission", ImageId=iid, **{"AddAccount.1": PARTNER_ID})
    for force in ("false", "true"):
        assert h.error("DeleteImage", ImageId=iid, Force=force).code == "ImageUseShared"
    h.call("ModifyImageSharePermission", ImageId=iid, **{"RemoveAccount.1": PARTNER_ID})
    # used by an instance -> refused unless Force
    h.call("ReplaceSystemDisk", InstanceId=STOP, ImageId=iid)
    h.advance(41)
    assert h.instance(STOP)["ImageId"] == iid
    e = h.error("DeleteImage", ImageId=iid)
    assert (e.status, e.code) == (403, "ImageUsingByInstance") and "force" in e.message
    assert h.error("DeleteImage", ImageId=iid, DryRun="true").code == "ImageUsingByInstance"
    h.call("DeleteImage", ImageId=iid, Force="true")
    assert h.image(iid) is None


def test_delete_dry_run_keeps_image(h):
    iid = create(h, "dry")
    h.advance(61)
    assert h.error("DeleteImage", ImageId=iid, DryRun="true").code == "DryRunOperation"
    assert h.image(iid)["Status"] == "Available"


# ---------------------------------------------------------------------------------------------- modify
def test_modify_attribute(h):
    iid = create(h, "mod-a")
    other = create(h, "mod-b", InstanceId=STOP)
    h.advance(61)
    h.call("ModifyImageAttribute", ImageId=iid, ImageName="mod-renamed", Description="new description",
           ImageFamily="fam-x", BootMode="UEFI", **{"Features.NvmeSupport": "unsupported"})
    img = h.image(iid)
    assert (img["ImageName"], img["Description"], img["ImageFamily"], img["BootMode"]) == \
        ("mod-renamed", "new description", "fam-x", "UEFI")
    assert img["Features"]["NvmeSupport"] == "unsupported"
    # the old name is free again, the new one is taken
    assert h.error("ModifyImageAttribute", ImageId=other, ImageName="mod-renamed").code == \
        "InvalidImageName.Duplicated"
    h.call("ModifyImageAttribute", ImageId=other, ImageName="mod-a")
    h.call("ModifyImageAttribute", ImageId=iid, ImageName="mod-renamed")       # own name: no conflict
    assert h.error("ModifyImageAttribute", ImageId=iid, ImageName="-bad").code == "InvalidImageName.Malformed"
    assert h.error("ModifyImageAttribute", ImageId=iid, Status="Gone").code == "InvalidParameter"
    assert h.error("ModifyImageAttribute", ImageId=PUBLIC, Description="abc").code == "InvalidImageId.NotFound"
    # deprecate: hidden by default, listed with Status=Deprecated, back to Available
    h.call("ModifyImageAttribute", ImageId=iid, Status="Deprecated")
    assert h.call("DescribeImages", ImageId=iid)["Images"]["Image"] == []
    assert h.call("DescribeImages", ImageId=iid, Status="Deprecated")["Images"]["Image"][0]["Status"] == "Deprecated"
    assert h.error("CopyImage", ImageId=iid, DestinationRegionId=SH).code == "IncorrectImageStatus"
    assert h.error("ModifyImageSharePermission", ImageId=iid, **{"AddAccount.1": PARTNER_ID}).code == \
        "IncorrectImageStatus"
    h.call("ModifyImageAttribute", ImageId=iid, Status="Available")
    assert h.image(iid)["Status"] == "Available"
    h.call("ModifyImageAttribute", ImageId=iid, **{"Features.ImdsSupport": "v2"})
    assert h.error("ModifyImageAttribute", ImageId=iid, **{"Features.ImdsSupport": "v1"}).code == "InvalidParameter"
    # a shared image cannot be deprecated
    h.call("ModifyImageSharePermission", ImageId=iid, **{"AddAccount.1": PARTNER_ID})
    assert h.error("ModifyImageAttribute", ImageId=iid, Status="Deprecated").code == "ImageUseShared"
    # a refused request changes nothing
    assert h.error("ModifyImageAttribute", ImageId=iid, Description="ok desc", Status="Deprecated").code
    assert h.image(iid)["Description"] == "new description"


# ---------------------------------------------------------------------------------------------- copy
def test_copy_queue_progress_cancel(h):
    src = create(h, "copy-src")
    e = h.error("CopyImage", ImageId=src, DestinationRegionId=SH)
    assert e.code == "IncorrectImageStatus"
    h.advance(61)
    c1 = h.call("CopyImage", ImageId=src, DestinationRegionId=SH, DestinationImageName="copy-1")["ImageId"]
    c2 = h.call("CopyImage", ImageId=src, DestinationRegionId=SH, DestinationImageName="copy-2")["ImageId"]
    c3 = h.call("CopyImage", ImageId=src, DestinationRegionId="cn-beijing")["ImageId"]
    assert c1.startswith("m-uf") and c3.startswith("m-2z")
    i1, i2 = h.image(c1, region=SH), h.image(c2, region=SH)
    assert (i1["Status"], i2["Status"]) == ("Creating", "Waiting")
    assert i1["IsCopied"] is True and i1["ImageName"] == "copy-1"
    assert h.image(c3, region="cn-beijing")["ImageName"] == "copy-src"     # default: the source's name
    assert h.image(c3, region="cn-beijing")["Status"] == "Creating"        # other region runs in parallel
    h.advance(150)
    m = h.image(c1, region=SH)["DiskDeviceMappings"]["DiskDeviceMapping"][0]
    assert m["Progress"] == "50%" and m["RemainTime"] == 150 and m["SnapshotId"] == ""
    # the source cannot be deleted while copied
    assert h.error("DeleteImage", ImageId=src).code == "OperationDenied.ImageCopying"
    assert h.error("DeleteImage", region=SH, ImageId=c1).code == "OperationDenied.ImageCopying"
    # cancel the running copy: the waiting one starts now
    h.call("CancelCopyImage", region=SH, ImageId=c1)
    assert h.image(c1, region=SH) is None
    assert h.image(c2, region=SH)["Status"] == "Creating"
    h.advance(300)
    i2 = h.image(c2, region=SH)
    assert i2["Status"] == "Available"
    assert all(m["SnapshotId"].startswith("s-uf") for m in i2["DiskDeviceMappings"]["DiskDeviceMapping"])
    assert h.error("CancelCopyImage", region=SH, ImageId=c2).code == "IncorrectImageStatus"
    assert h.error("CancelCopyImage", ImageId=src).code == "ImageCreatedNotFromCopy"
    assert h.error("CancelCopyImage", region=SH, ImageId=c1).code == "InvalidImageId.NotFound"
    h.call("DeleteImage", ImageId=src)


def test_copy_validation(h):
    src = create(h, "copy-val")
    h.advance(61)
    assert h.error("CopyImage", ImageId=src).code == "MissingParameter"
    assert h.error("CopyImage", ImageId=src, DestinationRegionId="mars-1").code == "DestinationRegion.NotFound"
    assert h.error("CopyImage", ImageId="m-nope", DestinationRegionId=SH).code == "InvalidImageId.NotFound"
    assert h.error("CopyImage", ImageId=PUBLIC, DestinationRegionId=SH).code == "InvalidImageId.NotFound"
    assert h.error("CopyImage", ImageId=PARTNER_IMAGE, DestinationRegionId=SH).code == \
        "OperationDenied.SameRegionOnly"
    assert h.error("CopyImage", ImageId=src, DestinationRegionId=SH, DestinationImageName="1x").code == \
        "InvalidImageName.Malformed"
    assert h.error("CopyImage", ImageId=src, DestinationRegionId=SH, KMSKeyId="k").code == \
        "InvalidParameter.EncryptedIllegal"
    h.call("CopyImage", ImageId=src, DestinationRegionId=SH, DestinationImageName="taken")
    e = h.error("CopyImage", ImageId=src, DestinationRegionId=SH, DestinationImageName="taken")
    assert e.code == "InvalidImageName.Duplicated" and "destination" in e.message
    # a shared image can be copied into the own account in its region
    cp = h.call("CopyImage", ImageId=PARTNER_IMAGE, DestinationRegionId=HZ, DestinationImageName="my-copy")["ImageId"]
    assert h.image(cp)["ImageOwnerAlias"] == "self"


# ---------------------------------------------------------------------------------------------- share
def test_share_visibility_from_second_account(h):
    iid = create(h, "share-me")
    assert h.error("ModifyImageSharePermission", ImageId=iid, **{"AddAccount.1": PARTNER_ID}).code == \
        "IncorrectImageStatus"
    h.advance(61)
    assert h.call("DescribeImages", account="partner", ImageId=iid)["Images"]["Image"] == []
    h.call("ModifyImageSharePermission", ImageId=iid, **{"AddAccount.1": PARTNER_ID})
    seen = h.call("DescribeImages", account="partner", ImageOwnerAlias="others")["Images"]["Image"]
    assert [i["ImageId"] for i in seen] == [iid] and seen[0]["ImageOwnerAlias"] == "others"
    assert h.image(iid)["IsSelfShared"] == "True"
    perm = h.call("DescribeImageSharePermission", ImageId=iid)
    assert perm["TotalCount"] == 1 and perm["Accounts"]["Account"][0]["AliyunId"] == PARTNER_ID
    assert perm["ShareGroups"]["ShareGroup"] == []
    # not visible in another region, nor to the auditor
    assert h.call("DescribeImages", account="partner", region=SH, ImageId=iid)["TotalCount"] == 0
    assert h.call("DescribeImages", account="auditor", ImageId=iid)["TotalCount"] == 0
    # the partner can use it but not share, delete or modify it
    assert h.error("ModifyImageSharePermission", account="partner", ImageId=iid,
                   **{"AddAccount.1": "3234567890123456"}).code == "InvalidImageId.NotFound"
    assert h.error("DeleteImage", account="partner", ImageId=iid).code == "InvalidImageId.NotFound"
    h.call("ModifyImageSharePermission", ImageId=iid, **{"RemoveAccount.1": PARTNER_ID})
    assert h.call("DescribeImages", account="partner", ImageId=iid)["TotalCount"] == 0
    assert h.image(iid)["IsSelfShared"] == "False"
    # public (community)
    h.call("ModifyImageSharePermission", ImageId=iid, IsPublic="true")
    assert h.call("DescribeImageSharePermission", ImageId=iid)["ShareGroups"]["ShareGroup"] == [{"Group": "all"}]
    pub = h.call("DescribeImages", account="auditor", ImageOwnerAlias="others", IsPublic="true")["Images"]["Image"]
    assert iid in [i["ImageId"] for i in pub]


def test_share_limits(h):
    iid = create(h, "share-limits")
    h.advance(61)
    extras = [str(5000000000000000 + n) for n in range(1, 61)]
    e = h.error("ModifyImageSharePermission", ImageId=iid, **{"AddAccount.%d" % n: extras[n - 1] for n in range(1, 12)})
    assert e.code == "InvalidParameter" and "AddAccount" in e.message
    for batch in range(5):
        h.call("ModifyImageSharePermission", ImageId=iid,
               **{"AddAccount.%d" % (n + 1): extras[batch * 10 + n] for n in range(10)})
    assert h.call("DescribeImageSharePermission", ImageId=iid, PageSize=100)["TotalCount"] == 50
    e = h.error("ModifyImageSharePermission", ImageId=iid, **{"AddAccount.1": extras[55]})
    assert (e.status, e.code) == (403, "QuotaExceed.ShareImageUser")
    # remove + add in one call stays within 50
    h.call("ModifyImageSharePermission", ImageId=iid, **{"RemoveAccount.1": extras[0], "AddAccount.1": extras[55]})
    p1 = h.call("DescribeImageSharePermission", ImageId=iid, PageSize=20, PageNumber=3)
    assert p1["TotalCount"] == 50 and len(p1["Accounts"]["Account"]) == 10
    e = h.error("ModifyImageSharePermission", ImageId=iid, **{"AddAccount.1": "9999999999999999"})
    assert (e.status, e.code) == (404, "InvalidAccount.NotFound")
    e = h.error("ModifyImageSharePermission", ImageId=iid, **{"AddAccount.1": "1234567890123456"})
    assert (e.status, e.code) == (404, "InvalidAccount.Forbbiden")
    assert h.error("DescribeImageSharePermission", ImageId="m-nope").code == "InvalidImageId.NotFound"


# ---------------------------------------------------------------------------------------------- scale
def test_describe_fast_on_10000_images():
    fx = load_default_fixture()
    fx["generated_images"] = [{"account": "primary", "region": HZ, "count": 10000, "name_prefix": "bulk"}]
    fx["images"] = [i for i in fx["images"] if i["account"] != "primary"]     # exactly the 10,000
    h = Harness(fx)
    t0 = time.perf_counter()
    n = 20
    for page in range(1, n + 1):
        r = h.call("DescribeImages", ImageOwnerAlias="self", PageSize=100, PageNumber=page)
    per_call = (time.perf_counter() - t0) / n
    assert r["TotalCount"] == 10000 and len(r["Images"]["Image"]) == 100
    assert per_call < 0.25, per_call
    r = h.call("DescribeImages", ImageName="bulk-09999")
    assert [i["ImageName"] for i in r["Images"]["Image"]] == ["bulk-09999"]


def test_same_region_copy_keeps_name_reserved(h):
    src = create(h, "twin-name")
    h.advance(61)
    cp = h.call("CopyImage", ImageId=src, DestinationRegionId=HZ)["ImageId"]
    assert h.image(cp)["ImageName"] == "twin-name"
    h.advance(301)
    h.call("DeleteImage", ImageId=src)
    # the copy still holds the name
    assert h.error("CreateImage", InstanceId=STOP, ImageName="twin-name").code == "InvalidImageName.Duplicated"
    h.call("ModifyImageAttribute", ImageId=cp, ImageName="twin-renamed")
    h.call("CreateImage", InstanceId=STOP, ImageName="twin-name")


def test_creation_index_keeps_time_order():
    from types import SimpleNamespace as NS

    from ecs_emulator.backend.util import CreationIndex
    idx = CreationIndex()
    imgs = [NS(image_id="m-%d" % n, creation_time=t) for n, t in enumerate([5, 1, 3, 3, 9, 1])]
    for img in imgs:
        idx.add(img)
    assert [i.image_id for i in idx.values()] == ["m-1", "m-5", "m-2", "m-3", "m-0", "m-4"]
    assert [i.image_id for i in idx.newest_first()] == ["m-4", "m-0", "m-3", "m-2", "m-5", "m-1"]
    assert idx.remove(imgs[2]) and not idx.remove(imgs[2])
    assert len(idx) == 5 and "m-2" not in idx and idx.get("m-3") is imgs[3] and idx.get("m-2") is None
    idx.add(imgs[3])                                  # re-added: last among its equal times
    assert [i.image_id for i in idx.values()] == ["m-1", "m-5", "m-3", "m-0", "m-4"]


def _page(h, **kw):
    kw.setdefault("ImageOwnerAlias", "self")
    kw.setdefault("PageSize", 100)
    return h.call("DescribeImages", **kw)


def test_describe_caches_follow_every_change(h):
    """DescribeImages answers from caches that must never be stale: check after each kind of change."""
    iid = create(h, "cache-a")
    h.advance(61)
    first = _page(h)
    assert h.backend._query_cache and _page(h) == first            # second answer from the cache, the same
    img = next(i for i in first["Images"]["Image"] if i["ImageId"] == iid)
    assert _page(h)["Images"]["Image"][0] is img                   # the rendered dict is reused

    def mine():
        return next(i for i in _page(h, Status="ALL")["Images"]["Image"] if i["ImageId"] == iid)
    h.call("ModifyImageAttribute", ImageId=iid, ImageName="cache-b", Description="new text")
    assert (mine()["ImageName"], mine()["Description"]) == ("cache-b", "new text")
    assert [i["ImageName"] for i in _page(h, ImageName="cache-")["Images"]["Image"]] == ["cache-b"]
    h.call("TagResources", ResourceType="image", **{"ResourceId.1": iid, "Tag.1.Key": "k", "Tag.1.Value": "v"})
    assert mine()["Tags"] == {"Tag": [{"TagKey": "k", "TagValue": "v"}]}
    assert _page(h, **{"Tag.1.Key": "k"})["TotalCount"] == 1
    h.call("ModifyImageSharePermission", ImageId=iid, **{"AddAccount.1": PARTNER_ID})
    assert mine()["IsSelfShared"] == "True"
    assert iid in [i["ImageId"] for i in _page(h, account=PARTNER_ID, ImageOwnerAlias="others")["Images"]["Image"]]
    h.call("ModifyImageSharePermission", ImageId=iid, **{"RemoveAccount.1": PARTNER_ID})
    h.call("ModifyImageAttribute", ImageId=iid, Status="Deprecated")
    assert iid not in [i["ImageId"] for i in _page(h)["Images"]["Image"]]          # default Status=Available
    h.call("DeleteImage", ImageId=iid)
    assert iid not in [i["ImageId"] for i in _page(h, Status="ALL")["Images"]["Image"]]
    # a status that moves with time alone (no call changes anything): import Waiting -> Creating at 10 %
    imp = h.call("ImportImage", ImageName="cache-import", **{
        "DiskDeviceMapping.1.OSSBucket": "ecs-images-hz",
        "DiskDeviceMapping.1.OSSObject": "disks/debian12-generic.qcow2"})
    assert _page(h, Status="Waiting")["TotalCount"] == 1 and _page(h, Status="Creating")["TotalCount"] == 0
    h.advance(61)
    assert _page(h, Status="Waiting")["TotalCount"] == 0
    creating = _page(h, Status="Creating")["Images"]["Image"]
    assert [i["ImageId"] for i in creating] == [imp["ImageId"]] and creating[0]["Progress"] != "100%"
    h.advance(540)                                  # the job's end (a handler runs) makes it Available
    done = _page(h, ImageName="cache-import")["Images"]["Image"]
    assert (done[0]["Status"], done[0]["Progress"]) == ("Available", "100%")


def test_json_encoder_splices_encoded_parts():
    import copy
    import json

    from ecs_emulator.jsonenc import Encoded, dumps
    inner = Encoded({"ImageId": "m-1", "Name": "ünï", "Tags": {"Tag": []}, "N": 1.5, "B": True, "Z": None})
    body = {"RequestId": "R", "TotalCount": 2, "Images": {"Image": [inner, inner]}, "Plain": [{"a": [1, {"b": 2}]}]}
    expected = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    assert dumps(body) == expected and dumps(body) == expected                # cached text spliced, same bytes
    assert dumps(inner) == json.dumps(inner, ensure_ascii=False, separators=(",", ":"))
    assert dumps([]) == "[]" and dumps({}) == "{}" and dumps("x") == '"x"'
    clone = copy.deepcopy(body)
    assert clone == body and json.loads(dumps(clone)) == json.loads(expected)
