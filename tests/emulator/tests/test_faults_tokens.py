"""ClientToken replay (generic, protocol layer) and every fault kind, through both SDKs."""
import json
import time
import uuid

import pytest
from aliyunsdkcore.acs_exception.exceptions import ClientException, ServerException
from alibabacloud_tea_openapi.exceptions import ClientException as TeaClientException
from alibabacloud_tea_openapi.exceptions import ServerException as TeaServerException

from ecs_emulator import testing

pytestmark = pytest.mark.usefixtures("needs_backend")


def _region(emulator):
    return emulator.env()["ALIBABA_CLOUD_REGION_ID"]


def _instance(call, region, status=None):
    out = call("DescribeInstances", RegionId=region, PageSize=100)
    for inst in out["Instances"]["Instance"]:
        if status is None or inst["Status"] == status:
            return inst["InstanceId"]
    pytest.fail("the fixture has no instance (%s) in %s" % (status, region))


def _all_images(call, region):
    out = call("DescribeImages", RegionId=region, ImageOwnerAlias="self", PageSize=100,
               Status="Creating,Waiting,Available,UnAvailable,CreateFailed,Deprecated")
    return out["Images"]["Image"]


def _log(admin, action=None):
    entries = admin("GET", "requests")["requests"]
    return [e for e in entries if action is None or e["action"] == action]


# ------------------------------------------------------------------------------------------------ ClientToken
def test_client_token_replays_first_result(emulator, call, admin):
    region = _region(emulator)
    inst = _instance(call, region)
    token = uuid.uuid4().hex
    first = call("CreateImage", RegionId=region, InstanceId=inst, ImageName="tok-a", ClientToken=token)
    second = call("CreateImage", RegionId=region, InstanceId=inst, ImageName="tok-a", ClientToken=token)
    assert first["ImageId"] == second["ImageId"]
    assert first["RequestId"] != second["RequestId"]
    assert [i["ImageId"] for i in _all_images(call, region) if i["ImageName"] == "tok-a"] == [first["ImageId"]]
    assert [e["status"] for e in _log(admin, "CreateImage")] == [200, 200]


def test_client_token_other_params_refused(emulator, call):
    region = _region(emulator)
    inst = _instance(call, region)
    token = uuid.uuid4().hex
    call("CreateImage", RegionId=region, InstanceId=inst, ImageName="tok-b", ClientToken=token)
    with pytest.raises(ServerException) as ei:
        call("CreateImage", RegionId=region, InstanceId=inst, ImageName="tok-c", ClientToken=token)
    assert ei.value.get_http_status() == 400
    assert ei.value.get_error_code() == "IdempotentParameterMismatch"
    assert not [i for i in _all_images(call, region) if i["ImageName"] == "tok-c"]


def test_client_token_not_remembered_after_failure(emulator, call):
    region = _region(emulator)
    inst = _instance(call, region)
    token = uuid.uuid4().hex
    with pytest.raises(ServerException) as ei:
        call("CreateImage", RegionId=region, InstanceId=inst, ImageName="1-bad-name", ClientToken=token)
    assert ei.value.get_error_code().startswith("InvalidImageName")
    out = call("CreateImage", RegionId=region, InstanceId=inst, ImageName="tok-d", ClientToken=token)
    assert out["ImageId"].startswith("m-")


def test_client_token_scoped_by_account_and_action(emulator, call, second_client):
    region = _region(emulator)
    inst = _instance(call, region)
    token = uuid.uuid4().hex
    img = call("CreateImage", RegionId=region, InstanceId=inst, ImageName="tok-e", ClientToken=token)["ImageId"]
    # same token, other action: a fresh request (not a mismatch)
    with pytest.raises(ServerException) as ei:
        call("CreateSnapshot", DiskId="d-doesnotexist", ClientToken=token)
    assert ei.value.get_error_code() != "IdempotentParameterMismatch"
    # same token, other account: not a replay of the first account's answer
    with pytest.raises(ServerException) as ei:
        testing.call(second_client, "CreateImage", RegionId=region, InstanceId=inst, ImageName="tok-e",
                     ClientToken=token)
    assert ei.value.get_error_code() != "IdempotentParameterMismatch"
    assert img not in json.dumps(ei.value.get_error_msg())


def test_client_token_sdk_new(emulator, new_sdk_client, call):
    from alibabacloud_ecs20140526 import models
    region = _region(emulator)
    inst = _instance(call, region)
    token = uuid.uuid4().hex
    req = models.CreateImageRequest(region_id=region, instance_id=inst, image_name="tok-f", client_token=token)
    a = new_sdk_client.create_image(req).body.image_id
    b = new_sdk_client.create_image(req).body.image_id
    assert a == b
    req.image_name = "tok-g"
    with pytest.raises(TeaClientException) as ei:
        new_sdk_client.create_image(req)
    assert ei.value.code == "IdempotentParameterMismatch" and ei.value.status_code == 400


def test_reset_forgets_tokens(emulator, call, admin):
    region = _region(emulator)
    inst = _instance(call, region)
    token = uuid.uuid4().hex
    call("CreateImage", RegionId=region, InstanceId=inst, ImageName="tok-h", ClientToken=token)
    admin("POST", "reset")
    out = call("CreateImage", RegionId=region, InstanceId=inst, ImageName="tok-i", ClientToken=token)
    assert out["ImageId"]


# ------------------------------------------------------------------------------------------------ lost
def test_lost_response_sdk_old_retry_without_token_duplicates(emulator, call, admin):
    region = _region(emulator)
    inst = _instance(call, region)
    before = len(_all_images(call, region))
    admin("PUT", "faults", {"spec": "CreateImage=lost*1"})
    out = call("CreateImage", RegionId=region, InstanceId=inst)      # SDK-old retries the 503 on its own
    after = _all_images(call, region)
    assert len(after) == before + 2                                  # the lost one + the retry
    assert out["ImageId"] in [i["ImageId"] for i in after]
    log = _log(admin, "CreateImage")
    assert [(e["status"], e["fault"]) for e in log] == [(503, "lost"), (200, None)]
    assert log[0]["code"] == "ServiceUnavailable"


def test_lost_response_with_token_does_not_duplicate(emulator, call, admin):
    region = _region(emulator)
    inst = _instance(call, region)
    before = len(_all_images(call, region))
    admin("PUT", "faults", {"spec": "CreateImage=lost*1"})
    out = call("CreateImage", RegionId=region, InstanceId=inst, ClientToken=uuid.uuid4().hex)
    after = _all_images(call, region)
    assert len(after) == before + 1
    assert out["ImageId"] in [i["ImageId"] for i in after]
    log = _log(admin, "CreateImage")
    assert [(e["status"], e["fault"]) for e in log] == [(503, "lost"), (200, None)]   # the retry was a replay


# ------------------------------------------------------------------------------------------------ other kinds
def test_throttling_retried_by_sdk_old(emulator, call, admin):
    region = _region(emulator)
    admin("PUT", "faults", {"spec": "DescribeImages=throttling*2"})
    out = call("DescribeImages", RegionId=region)
    assert "Images" in out
    assert [(e["status"], e["code"]) for e in _log(admin, "DescribeImages")] == [
        (400, "Throttling"), (400, "Throttling"), (200, None)]
    assert admin("GET", "faults")["rules"][0]["remaining"] == 0


def test_throttling_user_not_retried(emulator, call, admin):
    admin("PUT", "faults", {"spec": "DescribeImages=throttling_user"})
    with pytest.raises(ServerException) as ei:
        call("DescribeImages", RegionId=_region(emulator))
    assert ei.value.get_error_code() == "Throttling.User" and ei.value.get_http_status() == 400
    assert len(_log(admin, "DescribeImages")) == 1


def test_unavailable_and_internal(emulator, call, admin, new_sdk_client):
    admin("PUT", "faults", {"spec": "DeleteImage=unavailable;DescribeRegions=internal"})
    with pytest.raises(ServerException) as ei:
        call("DeleteImage", RegionId=_region(emulator), ImageId="m-whatever")
    assert (ei.value.get_http_status(), ei.value.get_error_code()) == (503, "ServiceUnavailable")
    assert len(_log(admin, "DeleteImage")) == 1            # SDK-old does not retry DeleteImage
    with pytest.raises(TeaServerException) as ei:
        new_sdk_client.describe_regions(__import__("alibabacloud_ecs20140526.models", fromlist=["x"])
                                        .DescribeRegionsRequest())
    assert ei.value.code == "InternalError" and ei.value.status_code == 500 and ei.value.request_id


def test_retry_after_header_gives_sdk_new_throttling_exception(emulator, admin, new_sdk_client):
    from alibabacloud_ecs20140526 import models
    from alibabacloud_tea_openapi.exceptions import ThrottlingException
    admin("PUT", "faults", {"spec": "DescribeRegions=throttling:2000*1"})
    with pytest.raises(ThrottlingException) as ei:
        new_sdk_client.describe_regions(models.DescribeRegionsRequest())
    assert ei.value.code == "Throttling"
    assert ei.value.retry_after == 2000
    assert new_sdk_client.describe_regions(models.DescribeRegionsRequest()).body.regions.region


def test_slow(emulator, call, admin):
    admin("PUT", "faults", {"spec": "DescribeRegions=slow:0.6*1"})
    t0 = time.time()
    call("DescribeRegions")
    slow = time.time() - t0
    t0 = time.time()
    call("DescribeRegions")
    fast = time.time() - t0
    assert slow >= 0.6 and fast < 0.5
    assert [e["fault"] for e in _log(admin, "DescribeRegions")] == ["slow", None]


def test_drop(emulator, call, admin):
    admin("PUT", "faults", {"spec": "DescribeRegions=drop*1"})
    out = call("DescribeRegions")                    # SDK-old retries the connection error (RetryableAPIs)
    assert out["Regions"]["Region"]
    assert [(e["status"], e["fault"]) for e in _log(admin, "DescribeRegions")] == [(0, "drop"), (200, None)]
    admin("PUT", "faults", {"spec": "DescribeRegions=drop*1"})
    no_retry = testing.acs_client(emulator, 0, auto_retry=False)
    with pytest.raises(ClientException) as ei:
        testing.call(no_retry, "DescribeRegions")
    assert ei.value.get_error_code() == "SDK.HttpError"


def test_drop_changes_nothing(emulator, call, admin):
    region = _region(emulator)
    inst = _instance(call, region)
    before = len(_all_images(call, region))
    admin("PUT", "faults", {"spec": "CreateImage=drop*1"})
    no_retry = testing.acs_client(emulator, 0, auto_retry=False)
    with pytest.raises(ClientException):
        testing.call(no_retry, "CreateImage", RegionId=region, InstanceId=inst)
    assert len(_all_images(call, region)) == before


def test_probability_is_seeded_and_reproducible(emulator, admin, raw):
    from urllib.parse import quote, urlencode

    from ecs_emulator.signatures import sign_v1_params
    acc = emulator.accounts[0]

    def run():
        admin("PUT", "faults", {"spec": "DescribeRegions=unavailable@0.5"})
        codes = []
        for _i in range(24):
            p = sign_v1_params("POST", {"Action": "DescribeRegions"}, acc["access_key_id"], acc["access_key_secret"])
            codes.append(raw("POST", "/?" + urlencode(p, quote_via=quote)).status_code)
        return codes

    first, second = run(), run()
    assert first == second
    assert 503 in first and 200 in first


def test_wildcard_and_count(emulator, call, admin):
    admin("PUT", "faults", {"spec": "*=unavailable*1"})
    no_retry = testing.acs_client(emulator, 0, auto_retry=False)
    with pytest.raises(ServerException):
        testing.call(no_retry, "DescribeRegions")
    assert testing.call(no_retry, "DescribeRegions")["Regions"]


def test_same_token_while_first_still_processing(emulator, call, admin):
    """The first request is slow (token registered, change not yet done): a retry with the same token gets
    403 IdempotentProcessing; after the first finishes, the retry gets the stored answer."""
    import threading
    region = _region(emulator)
    inst = _instance(call, region)
    token = uuid.uuid4().hex
    admin("PUT", "faults", {"spec": "CreateImage=slow:1.0*1"})
    first = {}

    def slow_first():
        first["out"] = testing.call(testing.acs_client(emulator, 0), "CreateImage", RegionId=region,
                                    InstanceId=inst, ImageName="tok-slow", ClientToken=token)

    t = threading.Thread(target=slow_first)
    t.start()
    time.sleep(0.3)
    with pytest.raises(ServerException) as ei:
        call("CreateImage", RegionId=region, InstanceId=inst, ImageName="tok-slow", ClientToken=token)
    assert (ei.value.get_http_status(), ei.value.get_error_code()) == (403, "IdempotentProcessing")
    t.join()
    again = call("CreateImage", RegionId=region, InstanceId=inst, ImageName="tok-slow", ClientToken=token)
    assert again["ImageId"] == first["out"]["ImageId"]
    assert len([i for i in _all_images(call, region) if i["ImageName"] == "tok-slow"]) == 1


def test_request_id_header(emulator, raw, signed):
    resp, _body = signed({"Action": "DescribeRegions"})
    assert resp.headers["x-acs-request-id"] == resp.json()["RequestId"]
