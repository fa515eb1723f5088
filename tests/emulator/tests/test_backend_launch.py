"""Backend: RunInstances, DeleteInstances and the network/capacity reads they need (direct dispatch, manual clock)."""
import base64
import json

import pytest

from ecs_emulator.backend.launch import user_data_of
from ecs_emulator.backend.testkit import Harness
from ecs_emulator.testvars import test_vars as compute_test_vars

HZ, SH = "cn-hangzhou", "cn-shanghai"
X86 = "aliyun_3_x64_20G_alibase_20240819.vhd"
ARM = "aliyun_3_arm64_20G_alibase_20240819.vhd"
VSW_H, VSW_I, VSW_J = "vsw-bp1emu0zoneh00000001", "vsw-bp1emu0zonei00000001", "vsw-bp1emu0zonej00000001"
VSW_OTHER_VPC, VSW_SH = "vsw-bp1emu0otherh0000001", "vsw-uf6emu0zonel00000001"
SG, SG_WEB, SG_OTHER_VPC, SG_SH = ("sg-bp1emu0default0000001", "sg-bp1emu0web00000000001",
                                   "sg-bp1emu0other000000001", "sg-uf6emu0default0000001")


@pytest.fixture
def h():
    return Harness()


def run(h, region=HZ, **params):
    base = {"ImageId": X86, "InstanceType": "ecs.g7.large", "VSwitchId": VSW_H, "SecurityGroupId": SG}
    base.update(params)
    base = {k: v for k, v in base.items() if v is not None}
    return h.call("RunInstances", region=region, **base)["InstanceIdSets"]["InstanceIdSet"]


def run_error(h, region=HZ, **params):
    base = {"ImageId": X86, "InstanceType": "ecs.g7.large", "VSwitchId": VSW_H, "SecurityGroupId": SG}
    base.update(params)
    base = {k: v for k, v in base.items() if v is not None}
    return h.error("RunInstances", region=region, **base)


def instances(h, region=HZ, **filters):
    return h.call("DescribeInstances", region=region, **filters)["Instances"]["Instance"]


def test_run_instances_state_machine_ips_and_disks(h):
    before = len(instances(h))
    ids = run(h, Amount=2, InstanceName="web", UniqueSuffix="true", InternetMaxBandwidthOut=5,
              **{"Tag.1.Key": "app", "Tag.1.Value": "demo", "SystemDisk.Category": "cloud_essd",
                 "SystemDisk.Size": 60, "DataDisk.1.Size": 100, "DataDisk.1.Category": "cloud_essd"})
    assert len(ids) == 2 and all(i.startswith("i-bp") for i in ids)
    listed = instances(h, **{"Tag.1.Key": "app", "Tag.1.Value": "demo"})
    assert sorted(i["InstanceId"] for i in listed) == sorted(ids)
    assert {i["Status"] for i in listed} == {"Pending"}
    assert sorted(i["InstanceName"] for i in listed) == ["web001", "web002"]
    first = listed[0]
    assert first["VpcAttributes"]["VSwitchId"] == VSW_H and first["ZoneId"] == "cn-hangzhou-h"
    assert first["VpcAttributes"]["PrivateIpAddress"]["IpAddress"][0].startswith("172.16.1.")
    assert first["PublicIpAddress"]["IpAddress"][0].startswith("47.")
    assert first["SecurityGroupIds"]["SecurityGroupId"] == [SG] and first["ImageId"] == X86
    h.advance(10)
    assert {i["Status"] for i in instances(h, InstanceIds=json.dumps(ids))} == {"Starting"}
    h.advance(11)
    assert {i["Status"] for i in instances(h, InstanceIds=json.dumps(ids))} == {"Running"}
    assert len(instances(h, Status="Running", ImageId=X86, VSwitchId=VSW_H)) >= 2
    assert len(instances(h)) == before + 2
    disks = h.call("DescribeDisks", InstanceId=ids[0])["Disks"]["Disk"]
    assert sorted((d["Type"], d["Size"], d["Category"]) for d in disks) == [("data", 100, "cloud_essd"),
                                                                            ("system", 60, "cloud_essd")]
    img = h.image(X86)
    assert img["Usage"] == "instance"


def test_delete_instances_force_and_disks(h):
    ids = run(h, Amount=2)
    e = h.error("DeleteInstances", **{"InstanceId.1": ids[0]})
    assert (e.status, e.code) == (403, "IncorrectInstanceStatus")     # Pending cannot be released at all
    h.advance(30)
    e = h.error("DeleteInstances", **{"InstanceId.1": ids[0], "InstanceId.2": ids[1]})
    assert e.code == "IncorrectInstanceStatus" and "Force" in e.message
    assert len(instances(h, InstanceIds=json.dumps(ids))) == 2          # refused: nothing released
    e = h.error("DeleteInstances", **{"InstanceId.1": ids[0], "Force": "true", "DryRun": "true"})
    assert e.code == "DryRunOperation"
    h.call("DeleteInstances", **{"InstanceId.1": ids[0], "InstanceId.2": ids[1], "Force": "true"})
    assert instances(h, InstanceIds=json.dumps(ids)) == []
    assert h.call("DescribeDisks", InstanceId=ids[0])["Disks"]["Disk"] == []
    e = h.error("DeleteInstances", **{"InstanceId.1": ids[0], "Force": "true"})
    assert (e.status, e.code) == (404, "InvalidInstanceId.NotFound")
    assert h.error("DeleteInstances").code == "MissingParameter"


def test_stopped_launched_instance_released_without_force(h):
    iid = run(h)[0]
    h.advance(30)
    h.call("StopInstance", InstanceId=iid)
    h.advance(20)
    assert h.instance(iid)["Status"] == "Stopped"
    h.call("DeleteInstances", **{"InstanceId.1": iid})
    assert instances(h, InstanceIds=json.dumps([iid])) == []


def test_dry_run_validates_and_changes_nothing(h):
    before = len(instances(h))
    assert run_error(h, DryRun="true").code == "DryRunOperation"
    assert run_error(h, DryRun="true").message == "Request validation has been passed with DryRun flag set."
    assert run_error(h, DryRun="true", ImageId="m-nothere").code == "InvalidImageId.NotFound"
    assert len(instances(h)) == before


@pytest.mark.parametrize("params,status,code", [
    ({"ImageId": "m-bp1doesnotexist0001"}, 404, "InvalidImageId.NotFound"),
    ({"ImageId": None}, 400, "MissingParameter"),
    ({"InstanceType": None}, 400, "MissingParameter"),
    ({"InstanceType": "ecs.nope.large"}, 400, "InvalidInstanceType.ValueNotSupported"),
    ({"ImageId": ARM}, 403, "ImageNotSupportInstanceType"),
    ({"InstanceType": "ecs.g8y.large"}, 403, "ImageNotSupportInstanceType"),
    ({"ImageId": ARM, "InstanceType": "ecs.g8y.large", "VSwitchId": VSW_J}, 403,
     "InvalidInstanceType.ZoneNotSupported"),
    ({"InstanceType": "ecs.r7.large", "VSwitchId": VSW_I}, 403, "OperationDenied.NoStock"),
    ({"VSwitchId": None}, 400, "InvalidVSwitchId.Necessary"),
    ({"VSwitchId": "vsw-bp1nothere"}, 404, "InvalidVSwitchId.NotExist"),
    ({"VSwitchId": VSW_SH}, 404, "InvalidVSwitchId.NotExist"),                  # vswitch of another region
    ({"SecurityGroupId": "sg-bp1nothere"}, 404, "InvalidSecurityGroupId.NotFound"),
    ({"SecurityGroupId": SG_OTHER_VPC}, 403, "OperationDenied.InconsistentNetwork"),
    ({"SecurityGroupId": None}, 400, "MissingParameter"),
    ({"KeyPairName": "nope"}, 404, "InvalidKeyPairName.NotFound"),
    ({"Password": "short"}, 400, "InvalidPassword.Malformed"),
    ({"SystemDisk.Size": 10}, 404, "InvalidSystemDiskSize.LessThanImageSize"),
    ({"SystemDisk.Category": "floppy"}, 400, "InvalidSystemDiskCategory.ValueNotSupported"),
    ({"DataDisk.1.Size": 5}, 400, "InvalidDataDiskSize.ValueNotSupported"),
    ({"InternetMaxBandwidthOut": 500}, 400, "InvalidParameter.Bandwidth"),
    ({"SpotStrategy": "Cheap"}, 400, "InvalidSpotStrategy"),
    ({"SpotStrategy": "SpotAsPriceGo", "InstanceChargeType": "PrePaid"}, 400, "InvalidSpotPrepaid"),
    ({"UserData": "not base64!"}, 400, "InvalidUserData.Base64FormatInvalid"),
    ({"Amount": 0}, 403, "InvalidParam.Amount"),
    ({"Amount": 2, "MinAmount": 3}, 403, "InvalidParam.Amount"),
    ({"ZoneId": "cn-hangzhou-i"}, 403, "InvalidParameter.NotMatch"),
    ({"InstanceName": "1bad"}, 400, "InvalidInstanceName.Malformed"),
])
def test_run_instances_refusals(h, params, status, code):
    before = len(instances(h))
    e = run_error(h, **params)
    assert (e.status, e.code) == (status, code), e.message
    assert len(instances(h)) == before


def test_arm_image_on_arm_type_and_security_group_list(h):
    iid = run(h, ImageId=ARM, InstanceType="ecs.g8y.large", SecurityGroupId=None,
              **{"SecurityGroupIds.1": SG, "SecurityGroupIds.2": SG_WEB})[0]
    inst = h.instance(iid)
    assert inst["InstanceType"] == "ecs.g8y.large" and inst["SecurityGroupIds"]["SecurityGroupId"] == [SG, SG_WEB]
    assert inst["PublicIpAddress"]["IpAddress"] == []                              # no bandwidth, no public IP


def test_stock_and_min_amount(h):
    ids = run(h, InstanceType="ecs.c7.large", VSwitchId=VSW_I, Amount=5, MinAmount=1)
    assert len(ids) == 2                                                          # the zone had 2 left
    assert run_error(h, InstanceType="ecs.c7.large", VSwitchId=VSW_I).code == "OperationDenied.NoStock"
    h.advance(30)
    h.call("DeleteInstances", **{"InstanceId.1": ids[0], "Force": "true"})
    assert len(run(h, InstanceType="ecs.c7.large", VSwitchId=VSW_I)) == 1         # released capacity is back


def test_image_family_latest_available_and_user_data(h):
    created = h.call("CreateImage", InstanceId="i-bp1emu0running000001", ImageName="fam-a", ImageFamily="golden")
    h.advance(100)
    created2 = h.call("CreateImage", InstanceId="i-bp1emu0running000001", ImageName="fam-b", ImageFamily="golden")
    h.advance(100)
    data = base64.b64encode(b"#!/bin/sh\necho hi\n").decode()
    iid = run(h, ImageId=None, ImageFamily="golden", UserData=data)[0]
    assert h.instance(iid)["ImageId"] == created2["ImageId"] != created["ImageId"]
    assert user_data_of(h.backend, iid) == data
    assert run_error(h, ImageId=None, ImageFamily="none-such").code == "InvalidImageFamily.MissingAvailableImage"


def test_image_data_disks_come_from_the_image(h):
    src = h.call("CreateImage", InstanceId="i-bp1emu0running000001", ImageName="with-data")["ImageId"]
    h.advance(100)
    iid = run(h, ImageId=src)[0]
    disks = h.call("DescribeDisks", InstanceId=iid, DiskType="data")["Disks"]["Disk"]
    img = h.image(src)
    data_maps = [m for m in img["DiskDeviceMappings"]["DiskDeviceMapping"] if m["Type"] == "data"]
    assert len(disks) == len(data_maps) == 1
    assert disks[0]["SourceSnapshotId"] == data_maps[0]["SnapshotId"] and disks[0]["Size"] == int(data_maps[0]["Size"])


def test_network_reads(h):
    vs = h.call("DescribeVSwitches")["VSwitches"]["VSwitch"]
    assert {v["VSwitchId"] for v in vs} == {VSW_H, VSW_I, VSW_J, VSW_OTHER_VPC}
    assert h.call("DescribeVSwitches", VSwitchId=VSW_H)["VSwitches"]["VSwitch"][0]["ZoneId"] == "cn-hangzhou-h"
    assert h.call("DescribeVSwitches", VSwitchId=VSW_SH)["TotalCount"] == 0        # other region
    assert h.call("DescribeVSwitches", region=SH)["TotalCount"] == 2
    assert h.call("DescribeVSwitches", account="partner")["TotalCount"] == 1
    sgs = h.call("DescribeSecurityGroups", SecurityGroupIds=json.dumps([SG, SG_WEB, "sg-x"]))
    assert sorted(s["SecurityGroupId"] for s in sgs["SecurityGroups"]["SecurityGroup"]) == [SG, SG_WEB]
    assert h.call("DescribeSecurityGroups", VpcId="vpc-bp1emu0other00000001")["TotalCount"] == 1
    assert h.call("DescribeKeyPairs", KeyPairName="ansible-test-key")["TotalCount"] == 1


def test_capacity_reads(h):
    types = h.call("DescribeInstanceTypes", **{"InstanceTypes.1": "ecs.g7.large",
                                               "InstanceTypes.2": "ecs.g8y.large"})["InstanceTypes"]["InstanceType"]
    assert {t["InstanceTypeId"]: t["CpuArchitecture"] for t in types} == {"ecs.g7.large": "X86",
                                                                          "ecs.g8y.large": "ARM"}
    arm = h.call("DescribeInstanceTypes", CpuArchitecture="ARM")["InstanceTypes"]["InstanceType"]
    assert arm and all(t["CpuArchitecture"] == "ARM" for t in arm)
    zones = h.call("DescribeAvailableResource", DestinationResource="InstanceType",
                   InstanceType="ecs.r7.large")["AvailableZones"]["AvailableZone"]
    status = {z["ZoneId"]: z["AvailableResources"]["AvailableResource"][0]["SupportedResources"][
        "SupportedResource"][0]["StatusCategory"] for z in zones}
    assert status == {"cn-hangzhou-h": "WithStock", "cn-hangzhou-i": "WithoutStock", "cn-hangzhou-j": "WithStock"}
    zones = h.call("DescribeAvailableResource", DestinationResource="InstanceType",
                   InstanceType="ecs.g8y.large")["AvailableZones"]["AvailableZone"]
    assert "cn-hangzhou-j" not in {z["ZoneId"] for z in zones}                     # not offered there
    assert h.error("DescribeAvailableResource").code == "MissingParameter"
    assert h.error("DescribeAvailableResource", DestinationResource="InstanceType",
                   ZoneId="cn-hangzhou-z").code == "InvalidZoneId.NotFound"


def test_testvars_expose_the_network(h):
    tv = compute_test_vars(h.backend.resources(), h.fixture["accounts"], "http://127.0.0.1:1/_emulator")
    assert tv["test_vswitch_id"] == VSW_H and tv["test_vswitch_id_2"] == VSW_SH
    assert tv["test_security_group_id"] == SG and tv["test_security_group_id_2"] == SG_SH
    assert tv["test_instance_type"] == "ecs.g7.large" and tv["test_instance_type_arm"] == "ecs.g8y.large"
    assert tv["test_arm_image_id"] == ARM


# ------------------------------------------------------------------------------------------------ over HTTP
def test_http_lost_run_instances_replayed_by_client_token_and_password_masked(emulator, call, admin):
    from aliyunsdkcore.acs_exception.exceptions import ServerException

    params = {"RegionId": HZ, "ImageId": X86, "InstanceType": "ecs.g7.large", "VSwitchId": VSW_H,
              "SecurityGroupId": SG, "Password": "Sup3r-Secret!", "ClientToken": "tok-launch-1",
              "Tag.1.Key": "http-test", "Tag.1.Value": "lost"}
    with pytest.raises(ServerException) as ei:
        call("RunInstances", DryRun="true", **params)
    assert ei.value.get_error_code() == "DryRunOperation" and ei.value.get_http_status() == 400
    admin("PUT", "faults", {"spec": "RunInstances=lost*1"})
    again = call("RunInstances", **params)     # the change is made, its answer lost; aliyunsdkcore retries it
    found = call("DescribeInstances", RegionId=HZ, **{"Tag.1.Key": "http-test"})["Instances"]["Instance"]
    assert [i["InstanceId"] for i in found] == again["InstanceIdSets"]["InstanceIdSet"]
    log = admin("GET", "requests")["requests"]
    runs = [e for e in log if e["action"] == "RunInstances"]
    assert [(e["status"], e["fault"]) for e in runs] == [(400, None), (503, "lost"), (200, None)]
    assert all(e["params"].get("Password") == "******" for e in runs)
    assert all(e["params"].get("ClientToken") == "tok-launch-1" for e in runs)
    assert "Sup3r-Secret!" not in json.dumps(log)


def test_image_not_usable_yet_is_refused_realism_usable_lag(h):
    h.realism({"usable_lag": True})
    src = h.call("CreateImage", InstanceId="i-bp1emu0running000001", ImageName="lagging")["ImageId"]
    h.advance(61)
    img = h.image(src)
    assert img["Status"] == "Available" and img["Usable"] is False
    e = run_error(h, ImageId=src)
    assert (e.status, e.code) == (400, "IncorrectImageStatus")
    h.advance(30)
    assert h.image(src)["Usable"] is True
    assert len(run(h, ImageId=src)) == 1
