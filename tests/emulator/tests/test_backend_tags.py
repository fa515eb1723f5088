"""Tags, resource groups, resources() dump and testvars (direct dispatch)."""
import json

import pytest

from ecs_emulator.backend.testkit import Harness
from ecs_emulator.testvars import VARIABLES, test_vars as compute_test_vars

HZ = "cn-hangzhou"
RUN = "i-bp1emu0running000001"


@pytest.fixture
def h():
    return Harness()


def image(h, name="tag-img"):
    iid = h.call("CreateImage", InstanceId=RUN, ImageName=name)["ImageId"]
    h.advance(61)
    return iid


def listed(h, rtype, *ids, **kw):
    params = {"ResourceType": rtype}
    params.update({"ResourceId.%d" % (n + 1): i for n, i in enumerate(ids)})
    params.update(kw)
    return h.call("ListTagResources", **params)


def test_tag_untag_list(h):
    iid = image(h)
    h.call("TagResources", ResourceType="image", **{"ResourceId.1": iid, "Tag.1.Key": "env", "Tag.1.Value": "prod",
                                                    "Tag.2.Key": "team", "Tag.2.Value": ""})
    rows = listed(h, "image", iid)["TagResources"]["TagResource"]
    assert rows == [{"ResourceId": iid, "ResourceType": "image", "TagKey": "env", "TagValue": "prod"},
                    {"ResourceId": iid, "ResourceType": "image", "TagKey": "team", "TagValue": ""}]
    # overwrite an existing key
    h.call("TagResources", ResourceType="image", **{"ResourceId.1": iid, "Tag.1.Key": "env", "Tag.1.Value": "dev"})
    assert h.image(iid)["Tags"]["Tag"][0] == {"TagKey": "env", "TagValue": "dev"}
    h.call("UntagResources", ResourceType="image", **{"ResourceId.1": iid, "TagKey.1": "env", "TagKey.2": "absent"})
    assert [r["TagKey"] for r in listed(h, "image", iid)["TagResources"]["TagResource"]] == ["team"]
    h.call("UntagResources", ResourceType="image", All="true", **{"ResourceId.1": iid})
    assert listed(h, "image", iid)["TagResources"]["TagResource"] == []
    # instances, disks, snapshots and key pairs are taggable too
    h.call("TagResources", ResourceType="instance", **{"ResourceId.1": RUN, "Tag.1.Key": "x", "Tag.1.Value": "1"})
    assert {"TagKey": "x", "TagValue": "1"} in h.call("DescribeInstances", InstanceIds=json.dumps([RUN]))[
        "Instances"]["Instance"][0]["Tags"]["Tag"]
    h.call("TagResources", ResourceType="keypair", **{"ResourceId.1": "ansible-test-key", "Tag.1.Key": "k"})
    assert h.call("DescribeKeyPairs", **{"Tag.1.Key": "k"})["TotalCount"] == 1


def test_list_by_tag_and_pages(h):
    fx_ids = []
    for n in range(3):
        iid = h.call("CreateImage", SnapshotId=_snap(h), ImageName="many-%d" % n)["ImageId"]
        fx_ids.append(iid)
    tags = {"Tag.%d.Key" % n: "key%02d" % n for n in range(1, 21)}
    h.call("TagResources", ResourceType="image", **{"ResourceId.%d" % (i + 1): x for i, x in enumerate(fx_ids)},
           **tags)
    r = listed(h, "image")                      # every tagged image of the region, 60 rows, page of 50
    assert len(r["TagResources"]["TagResource"]) == 50 and r["NextToken"]
    r2 = listed(h, "image", NextToken=r["NextToken"])
    assert len(r2["TagResources"]["TagResource"]) == 10 and r2["NextToken"] == ""
    e = h.error("TagResources", ResourceType="image", **{"ResourceId.1": fx_ids[0], "Tag.1.Key": "one-too-many"})
    assert e.code == "OperationDenied.QuotaExceed"
    h.call("TagResources", ResourceType="image", **{"ResourceId.1": fx_ids[0], "Tag.1.Key": "key01",
                                                    "Tag.1.Value": "me"})     # overwriting stays within 20
    r = listed(h, "image", **{"Tag.1.Key": "key01", "Tag.1.Value": "me"})
    assert {row["ResourceId"] for row in r["TagResources"]["TagResource"]} == {fx_ids[0]}
    r = listed(h, "image", **{"TagFilter.1.TagKey": "key01", "TagFilter.1.TagValues.1": "m*"})
    assert {row["ResourceId"] for row in r["TagResources"]["TagResource"]} == {fx_ids[0]}
    assert h.error("ListTagResources", ResourceType="image", **{"Tag.1.Value": "v"}).code == \
        "InvalidParameter.TagValue"


def _snap(h):
    if not hasattr(h, "_s"):
        h._s = h.call("CreateSnapshot", DiskId="d-bp1emu0sysstp0000001")["SnapshotId"]
        h.advance(31)
    return h._s


def test_tag_errors_change_nothing(h):
    iid = image(h)
    e = h.error("TagResources", region=None, ResourceType="image", **{"ResourceId.1": iid, "Tag.1.Key": "a"})
    assert (e.status, e.code) == (404, "MissingParameter.RegionId")
    e = h.error("TagResources", **{"ResourceId.1": iid, "Tag.1.Key": "a"})
    assert (e.status, e.code) == (404, "MissingParameter.ResourceType")
    e = h.error("TagResources", ResourceType="image", **{"ResourceId.1": iid})
    assert (e.status, e.code) == (404, "MissingParameter.Tags")
    assert h.error("TagResources", ResourceType="bucket", **{"ResourceId.1": iid, "Tag.1.Key": "a"}).code == \
        "InvalidResourceType.NotFound"
    # one unknown id refuses the whole request
    e = h.error("TagResources", ResourceType="image", **{"ResourceId.1": iid, "ResourceId.2": "m-nope",
                                                         "Tag.1.Key": "a"})
    assert (e.status, e.code) == (404, "InvalidResourceId.NotFound")
    assert h.image(iid)["Tags"]["Tag"] == []
    e = h.error("TagResources", ResourceType="image", **{"ResourceId.1": "m-bp1emu0partnergolden1",
                                                         "Tag.1.Key": "a"})
    assert e.code == "InvalidResourceId.NotSupported"
    ids = {"ResourceId.%d" % n: iid for n in range(1, 52)}
    assert h.error("TagResources", ResourceType="image", **ids, **{"Tag.1.Key": "a"}).code == \
        "NumberExceed.ResourceIds"
    assert h.error("TagResources", ResourceType="image", **{"ResourceId.1": iid, "Tag.1.Key": "aliyun-x"}).code == \
        "InvalidTagKey.Malformed"
    assert h.error("TagResources", ResourceType="image", **{"ResourceId.1": iid, "Tag.1.Key": "a", "Tag.2.Key": "a"}
                   ).code == "Duplicate.TagKey"
    assert h.error("UntagResources", ResourceType="image", **{"ResourceId.1": iid}).code == "MissingParameter.Tags"
    assert h.error("UntagResources", ResourceType="image", All="true",
                   **{"ResourceId.1": iid, "TagKey.1": "a"}).code == "InvalidParameter"


def test_join_resource_group(h):
    iid = image(h)
    rg = "rg-acfmemuprimary00002"
    h.call("JoinResourceGroup", ResourceType="image", ResourceId=iid, ResourceGroupId=rg)
    assert h.image(iid)["ResourceGroupId"] == rg
    assert h.error("JoinResourceGroup", ResourceType="image", ResourceId=iid,
                   ResourceGroupId="rg-acfmemupartner00001").code == "InvalidResourceGroup.NotFound"
    assert h.error("JoinResourceGroup", ResourceType="image", ResourceId="m-nope",
                   ResourceGroupId=rg).code == "InvalidResourceId.NotFound"
    assert h.error("JoinResourceGroup", ResourceType="image", ResourceId=iid).code == "MissingParameter"
    h.call("JoinResourceGroup", ResourceType="instance", ResourceId=RUN, ResourceGroupId=rg)
    assert h.call("DescribeInstances", ResourceGroupId=rg)["TotalCount"] == 1


def test_resources_dump_and_testvars(h):
    iid = image(h, "dumped")
    res = h.backend.resources()
    json.dumps(res)                                             # JSON-able
    primary = res["accounts"]["1234567890123456"]
    assert iid in [i["ImageId"] for i in primary["regions"][HZ]["images"]]
    assert RUN in [i["InstanceId"] for i in primary["regions"][HZ]["instances"]]
    assert len([s for s in primary["regions"][HZ]["snapshots"] if iid in s["Description"]]) == 2
    assert len(res["regions"]) >= 12
    accounts = [{k: a[k] for k in ("account_id", "name", "access_key_id", "access_key_secret")}
                for a in h.fixture["accounts"]]
    tv = compute_test_vars(res, accounts, "http://127.0.0.1:1/_emulator")
    assert tuple(sorted(tv)) == tuple(sorted(VARIABLES))
    assert tv["test_region"] == HZ and tv["test_region_2"] == "cn-shanghai"
    assert tv["test_instance_running"] == RUN and tv["test_instance_stopped"] == "i-bp1emu0stopped000001"
    assert tv["test_second_account"]["access_key"] == "LTAI5tEmuPartner0000001"
    assert tv["test_oss_objects"]["corrupt"].endswith(".qcow2")
    for role in ("raw", "vhd", "qcow2", "corrupt"):
        assert h.oss.head(tv["test_oss_bucket"], tv["test_oss_objects"][role]) is not None
    assert h.oss.bucket(tv["test_export_bucket"]).region == HZ and h.oss.list(tv["test_export_bucket"]) == []
    assert tv["emulator"] is True and tv["test_resource_prefix"].startswith("ansible-test-")
    # the fixture's marketplace-derived custom image (own, Available, ProductCode set)
    mkt = h.image(tv["test_marketplace_derived_image_id"])
    assert mkt["ImageOwnerAlias"] == "self" and mkt["ProductCode"] and mkt["Status"] == "Available"
    # 60 existing keyless accounts (the fixture's extra_account_ids), never the test accounts, each a valid share target
    share_ids = tv["test_share_account_ids"]
    assert len(share_ids) == 60 and len(set(share_ids)) == 60 and share_ids == res["extra_account_ids"]
    assert tv["test_account_id"] not in share_ids and tv["test_second_account_id"] not in share_ids
    shared = image(h, "share-targets")
    for n in range(0, 50, 10):
        h.call("ModifyImageSharePermission", ImageId=shared,
               **{"AddAccount.%d" % (k + 1): a for k, a in enumerate(share_ids[n:n + 10])})
    assert h.error("ModifyImageSharePermission", ImageId=shared,
                   **{"AddAccount.1": share_ids[50]}).code == "QuotaExceed.ShareImageUser"
    # the prefix makes valid image names
    h.call("CreateImage", InstanceId="i-bp1emu0stopped000001", ImageName=tv["test_resource_prefix"] + "-x")
    # derived without the fixture's hints as well
    res.pop("testvars")
    tv2 = compute_test_vars(res, accounts, "")
    assert tv2["test_instance_running"] == RUN and tv2["test_oss_bucket"] == "ecs-images-hz"
    assert tv2["test_public_image_id"] == "aliyun_3_x64_20G_alibase_20240819.vhd"
    assert tv2["test_key_pair_name"] == "ansible-test-key" and tv2["test_export_bucket"] == "ecs-exports-hz"
    assert tv2["test_marketplace_derived_image_id"] == tv["test_marketplace_derived_image_id"]
