"""How both SDKs see the emulator's errors: code, message, HTTP status and request id all come through."""
import pytest
from aliyunsdkcore.acs_exception.exceptions import ServerException
from alibabacloud_tea_openapi.exceptions import ClientException as TeaClientException
from alibabacloud_ecs20140526 import models


pytestmark = pytest.mark.usefixtures("needs_backend")


def _log(admin):
    return admin("GET", "requests")["requests"]


def test_sdk_old_server_exception_fields(emulator, call, admin):
    with pytest.raises(ServerException) as ei:
        call("DescribeInstanceAttribute", InstanceId="i-doesnotexist000")
    err = ei.value
    entry = _log(admin)[-1]
    assert err.get_http_status() == entry["status"] and 400 <= err.get_http_status() < 500
    assert err.get_error_code() == entry["code"]
    assert err.get_error_msg()
    assert err.get_request_id() == entry["request_id"]
    assert "RequestID: %s" % entry["request_id"] in str(err)


def test_sdk_new_client_exception_fields(emulator, new_sdk_client, admin):
    with pytest.raises(TeaClientException) as ei:
        new_sdk_client.describe_instance_attribute(
            models.DescribeInstanceAttributeRequest(instance_id="i-doesnotexist000"))
    err = ei.value
    entry = _log(admin)[-1]
    assert entry["signature"] == "v3" and entry["region_id"] is None      # SDK-new sends no RegionId here
    assert err.code == entry["code"] and err.status_code == entry["status"]
    assert err.request_id == entry["request_id"]
    assert err.data["statusCode"] == entry["status"] and err.data["Code"] == entry["code"]
    assert "request id: %s" % entry["request_id"] in err.message


def test_sdk_new_missing_parameter(emulator, new_sdk_client):
    with pytest.raises(TeaClientException) as ei:
        new_sdk_client.create_image(models.CreateImageRequest(region_id=emulator.env()["ALIBABA_CLOUD_REGION_ID"]))
    assert ei.value.status_code == 400
    assert ei.value.code.startswith(("MissingParameter", "InvalidParameter", "Invalid"))


def test_sdk_new_http_scheme_endpoint(emulator):
    """endpoint='http://127.0.0.1:PORT' makes SDK-new send 'Host: http://...'; the signature still verifies."""
    from alibabacloud_ecs20140526.client import Client
    from alibabacloud_tea_openapi.models import Config
    acc = emulator.accounts[0]
    client = Client(Config(access_key_id=acc["access_key_id"], access_key_secret=acc["access_key_secret"],
                           region_id="cn-hangzhou", endpoint=emulator.ecs_endpoint, protocol="http"))
    out = client.describe_regions(models.DescribeRegionsRequest())
    assert out.body.regions.region and out.status_code == 200


def test_sdk_new_drop_is_a_transport_error(emulator, new_sdk_client, admin):
    from darabonba.exceptions import UnretryableException
    admin("PUT", "faults", {"spec": "DescribeRegions=drop*1"})
    with pytest.raises(UnretryableException):
        new_sdk_client.describe_regions(models.DescribeRegionsRequest())
    assert new_sdk_client.describe_regions(models.DescribeRegionsRequest()).body.regions.region


def test_both_sdks_same_answer(emulator, call, new_sdk_client):
    region = emulator.env()["ALIBABA_CLOUD_REGION_ID"]
    old = call("DescribeImages", RegionId=region, ImageOwnerAlias="system", PageSize=50)
    new = new_sdk_client.describe_images(models.DescribeImagesRequest(region_id=region, image_owner_alias="system",
                                                                      page_size=50)).body.to_map()
    assert old["TotalCount"] == new["TotalCount"] > 0
    assert [i["ImageId"] for i in old["Images"]["Image"]] == [i["ImageId"] for i in new["Images"]["Image"]]
