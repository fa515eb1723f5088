"""The backend's main paths over HTTP through the real SDKs (aliyun-python-sdk-core/ecs and
alibabacloud_ecs20140526), using the protocol side's conftest fixtures (time scale 0.001)."""
import json
import time

import pytest

from ecs_emulator import testing

RUN, STOP = "i-bp1emu0running000001", "i-bp1emu0stopped000001"
PUBLIC = "aliyun_3_x64_20G_alibase_20240819.vhd"
ALL = "Creating,Waiting,Available,UnAvailable,CreateFailed,Deprecated"


def wait_for(fetch, done, timeout=10.0):
    deadline = time.time() + timeout
    while True:
        obj = fetch()
        if done(obj):
            return obj
        if time.time() > deadline:
            raise AssertionError("timed out; last value %r" % (obj,))
        time.sleep(0.02)


def image(call, image_id, region="cn-hangzhou"):
    imgs = call("DescribeImages", RegionId=region, ImageId=image_id, Status=ALL)["Images"]["Image"]
    return imgs[0] if imgs else None


def test_create_wait_copy_share_delete_old_sdk(needs_backend, ecs_client, second_client, call):
    from aliyunsdkcore.acs_exception.exceptions import ServerException
    from aliyunsdkecs.request.v20140526.CreateImageRequest import CreateImageRequest
    from aliyunsdkecs.request.v20140526.DescribeImagesRequest import DescribeImagesRequest

    req = CreateImageRequest()
    req.set_InstanceId(RUN)
    req.set_ImageName("sdk-old-image")
    req.set_Tags([{"Key": "env", "Value": "ci"}])
    image_id = json.loads(ecs_client.do_action_with_exception(req))["ImageId"]
    # default Status filter hides the Creating image
    d = DescribeImagesRequest()
    d.set_ImageId(image_id)
    assert json.loads(ecs_client.do_action_with_exception(d))["Images"]["Image"] == []
    img = wait_for(lambda: image(call, image_id), lambda i: i["Status"] == "Available")
    assert img["Tags"]["Tag"] == [{"TagKey": "env", "TagValue": "ci"}]
    assert img["Progress"] == "100%" and isinstance(img["DiskDeviceMappings"]["DiskDeviceMapping"][0]["Size"], str)

    copy_id = call("CopyImage", RegionId="cn-hangzhou", ImageId=image_id, DestinationRegionId="cn-shanghai",
                   DestinationImageName="sdk-old-copy")["ImageId"]
    first = image(call, copy_id, "cn-shanghai")
    assert first["Status"] in ("Creating", "Available") and first["IsCopied"] is True
    wait_for(lambda: image(call, copy_id, "cn-shanghai"), lambda i: i["Status"] == "Available")

    call("ModifyImageSharePermission", RegionId="cn-hangzhou", ImageId=image_id,
         **{"AddAccount.1": "2234567890123456"})
    seen = testing.call(second_client, "DescribeImages", RegionId="cn-hangzhou", ImageOwnerAlias="others")
    assert image_id in [i["ImageId"] for i in seen["Images"]["Image"]]
    with pytest.raises(ServerException) as exc:
        call("DeleteImage", RegionId="cn-hangzhou", ImageId=image_id)
    assert exc.value.get_http_status() == 403 and exc.value.get_error_code() == "ImageUseShared"
    call("ModifyImageSharePermission", RegionId="cn-hangzhou", ImageId=image_id,
         **{"RemoveAccount.1": "2234567890123456"})
    call("DeleteImage", RegionId="cn-hangzhou", ImageId=image_id)
    assert image(call, image_id) is None
    # its snapshots survive the deletion
    snaps = call("DescribeSnapshots", RegionId="cn-hangzhou", InstanceId=RUN)["Snapshots"]["Snapshot"]
    assert len(snaps) == 2 and {s["Usage"] for s in snaps} == {"none"}
    with pytest.raises(ServerException) as exc:
        call("DeleteImage", RegionId="cn-hangzhou", ImageId=image_id)
    assert exc.value.get_http_status() == 404 and exc.value.get_error_code() == "InvalidImageId.NotFound"


def test_validation_error_over_http(needs_backend, call):
    from aliyunsdkcore.acs_exception.exceptions import ServerException

    with pytest.raises(ServerException) as exc:
        call("CreateImage", RegionId="cn-hangzhou", InstanceId=RUN, ImageName="1-bad-name")
    assert exc.value.get_http_status() == 400 and exc.value.get_error_code() == "InvalidImageName.Malformed"
    assert "ImageName" in exc.value.get_error_msg()
    with pytest.raises(ServerException) as exc:
        call("DescribeImages", RegionId="cn-hangzhou", PageSize="1000")
    assert exc.value.get_error_code() == "InvalidParameter"


def test_stop_replace_start_old_sdk(needs_backend, ecs_client, call):
    from aliyunsdkecs.request.v20140526.ReplaceSystemDiskRequest import ReplaceSystemDiskRequest

    call("StopInstance", InstanceId=RUN)
    wait_for(lambda: call("DescribeInstanceAttribute", InstanceId=RUN), lambda a: a["Status"] == "Stopped")
    req = ReplaceSystemDiskRequest()
    req.set_InstanceId(RUN)
    req.set_ImageId("ubuntu_22_04_x64_20G_alibase_20240926.vhd")
    req.set_SystemDiskSize(50)
    req.set_KeyPairName("ansible-test-key")
    disk_id = json.loads(ecs_client.do_action_with_exception(req))["DiskId"]
    attr = wait_for(lambda: call("DescribeInstanceAttribute", InstanceId=RUN),
                    lambda a: not a["OperationLocks"]["LockReason"])
    assert attr["ImageId"] == "ubuntu_22_04_x64_20G_alibase_20240926.vhd"
    disk = call("DescribeDisks", RegionId="cn-hangzhou", DiskIds=json.dumps([disk_id]))["Disks"]["Disk"][0]
    assert (disk["Status"], disk["Size"], disk["Type"]) == ("In_use", 50, "system")
    call("StartInstance", InstanceId=RUN)
    wait_for(lambda: call("DescribeInstanceAttribute", InstanceId=RUN), lambda a: a["Status"] == "Running")


def test_import_corrupt_and_export_through_oss2(needs_backend, emulator, call):
    import oss2

    bad = call("ImportImage", RegionId="cn-hangzhou", ImageName="sdk-import-bad", **{
        "DiskDeviceMapping.1.OSSBucket": "ecs-images-hz",
        "DiskDeviceMapping.1.OSSObject": "disks/broken-really-raw.qcow2", "DiskDeviceMapping.1.Format": "qcow2"})
    task = wait_for(lambda: call("DescribeTaskAttribute", RegionId="cn-hangzhou", TaskId=bad["TaskId"]),
                    lambda t: t["TaskStatus"] != "Processing")
    assert task["TaskStatus"] == "Failed" and image(call, bad["ImageId"])["Status"] == "CreateFailed"

    good = call("ImportImage", RegionId="cn-hangzhou", ImageName="sdk-import-good", **{
        "DiskDeviceMapping.1.OSSBucket": "ecs-images-hz",
        "DiskDeviceMapping.1.OSSObject": "disks/ubuntu2204-cloud.vhd", "DiskDeviceMapping.1.Format": "VHD"})
    wait_for(lambda: image(call, good["ImageId"]), lambda i: i["Status"] == "Available")

    acc = emulator.accounts[0]
    bucket = oss2.Bucket(oss2.Auth(acc["access_key_id"], acc["access_key_secret"]), emulator.oss_endpoint,
                         "ecs-exports-hz")
    tid = call("ExportImage", RegionId="cn-hangzhou", ImageId=good["ImageId"], OSSBucket="ecs-exports-hz",
               OSSPrefix="sdk", ImageFormat="vhd")["TaskId"]
    name = "sdk_%s_%s.vhd" % (good["ImageId"], tid)
    # poll OSS only (no ECS call): the object appears once the task's time is over
    body = wait_for(lambda: bucket.get_object(name).read() if bucket.object_exists(name) else None,
                    lambda b: b is not None)
    assert body[-512:-504] == b"conectix"


def test_new_sdk_models(needs_backend, new_sdk_client, emulator):
    from alibabacloud_ecs20140526 import models as m

    c = new_sdk_client
    regions = c.describe_regions(m.DescribeRegionsRequest()).body.regions.region
    assert len(regions) >= 12
    r = c.create_image(m.CreateImageRequest(region_id="cn-hangzhou", instance_id=STOP, image_name="sdk-new-image",
                                            tag=[m.CreateImageRequestTag(key="team", value="images")]))
    image_id = r.body.image_id

    def fetch():
        res = c.describe_images(m.DescribeImagesRequest(region_id="cn-hangzhou", image_id=image_id, status=ALL))
        return res.body.images.image[0]
    img = wait_for(fetch, lambda i: i.status == "Available")
    assert img.progress == "100%" and img.image_owner_alias == "self"
    assert img.tags.tag[0].tag_key == "team" and img.disk_device_mappings.disk_device_mapping[0].size == "40"
    c.modify_image_share_permission(m.ModifyImageSharePermissionRequest(
        region_id="cn-hangzhou", image_id=image_id, add_account=["2234567890123456", "3234567890123456"]))
    perm = c.describe_image_share_permission(m.DescribeImageSharePermissionRequest(region_id="cn-hangzhou",
                                                                                   image_id=image_id))
    assert sorted(a.aliyun_id for a in perm.body.accounts.account) == ["2234567890123456", "3234567890123456"]
    # StopInstance / DescribeInstanceAttribute carry no RegionId in this SDK
    c.stop_instance(m.StopInstanceRequest(instance_id=RUN))
    attr = wait_for(lambda: c.describe_instance_attribute(m.DescribeInstanceAttributeRequest(instance_id=RUN)).body,
                    lambda a: a.status == "Stopped")
    assert attr.region_id == "cn-hangzhou"
    tasks = c.describe_tasks(m.DescribeTasksRequest(region_id="cn-hangzhou")).body
    assert tasks.total_count == 0
    from alibabacloud_tea_openapi.exceptions import ClientException
    with pytest.raises(ClientException) as exc:
        c.delete_image(m.DeleteImageRequest(region_id="cn-hangzhou", image_id="m-bp1doesnotexist0000"))
    assert exc.value.code == "InvalidImageId.NotFound" and exc.value.status_code == 404


def test_new_sdk_import_replace_tags(needs_backend, new_sdk_client):
    from alibabacloud_ecs20140526 import models as m

    c = new_sdk_client
    r = c.import_image(m.ImportImageRequest(
        region_id="cn-hangzhou", image_name="sdk-new-import", architecture="x86_64", ostype="linux",
        platform="Debian", disk_device_mapping=[m.ImportImageRequestDiskDeviceMapping(
            ossbucket="ecs-images-hz", ossobject="disks/debian12-generic.qcow2", format="QCOW2")])).body
    img = wait_for(lambda: c.describe_images(m.DescribeImagesRequest(region_id="cn-hangzhou", image_id=r.image_id,
                                                                     status=ALL)).body.images.image[0],
                   lambda i: i.status == "Available")
    mapping = img.disk_device_mappings.disk_device_mapping[0]
    assert (mapping.import_ossbucket, mapping.format, mapping.size) == ("ecs-images-hz", "QCOW2", "10")
    t = c.describe_task_attribute(m.DescribeTaskAttributeRequest(region_id="cn-hangzhou", task_id=r.task_id)).body
    assert t.task_status == "Finished" and t.task_process == "100%"

    c.stop_instance(m.StopInstanceRequest(instance_id=RUN))
    wait_for(lambda: c.describe_instance_attribute(m.DescribeInstanceAttributeRequest(instance_id=RUN)).body,
             lambda a: a.status == "Stopped")
    disk_id = c.replace_system_disk(m.ReplaceSystemDiskRequest(
        instance_id=RUN, image_id=r.image_id, system_disk=m.ReplaceSystemDiskRequestSystemDisk(size=20),
        password_inherit=True)).body.disk_id
    a = wait_for(lambda: c.describe_instance_attribute(m.DescribeInstanceAttributeRequest(instance_id=RUN)).body,
                 lambda a: not a.operation_locks.lock_reason)
    assert a.image_id == r.image_id
    c.tag_resources(m.TagResourcesRequest(region_id="cn-hangzhou", resource_type="image", resource_id=[r.image_id],
                                          tag=[m.TagResourcesRequestTag(key="stage", value="golden")]))
    rows = c.list_tag_resources(m.ListTagResourcesRequest(region_id="cn-hangzhou", resource_type="image",
                                                          resource_id=[r.image_id])).body.tag_resources.tag_resource
    assert [(x.tag_key, x.tag_value) for x in rows] == [("stage", "golden")]
    disks = c.describe_disks(m.DescribeDisksRequest(region_id="cn-hangzhou", disk_ids='["%s"]' % disk_id)).body
    assert disks.disks.disk[0].size == 20
