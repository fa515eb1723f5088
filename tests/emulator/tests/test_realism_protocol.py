"""Realism behaviours on the protocol side, over HTTP: token_codes, rejected_throttling (and its fault kind), the
image_create_failed fault kind, oss_region_endpoints."""
import threading
import time
import uuid

import pytest
from aliyunsdkcore.acs_exception.exceptions import ServerException

from ecs_emulator import testing

REGION, RUN = "cn-hangzhou", "i-bp1emu0running000001"


def _no_retry(emulator):
    return testing.acs_client(emulator, 0, auto_retry=False)


def _err(client, action, **params):
    with pytest.raises(ServerException) as ei:
        testing.call(client, action, **params)
    return ei.value.get_http_status(), ei.value.get_error_code()


@pytest.mark.parametrize("on", [True, False])
def test_token_codes(emulator, admin, on):
    admin("PUT", "realism", {"token_codes": on})
    client = _no_retry(emulator)
    token = uuid.uuid4().hex
    admin("PUT", "faults", {"spec": "CreateImage=slow:1.0*1"})
    first = {}

    def slow_first():
        first["out"] = testing.call(testing.acs_client(emulator, 0), "CreateImage", RegionId=REGION, InstanceId=RUN,
                                    ImageName="tok-slow", ClientToken=token)

    t = threading.Thread(target=slow_first)
    t.start()
    time.sleep(0.3)
    got = _err(client, "CreateImage", RegionId=REGION, InstanceId=RUN, ImageName="tok-slow", ClientToken=token)
    t.join()
    assert got == ((403, "LastTokenProcessing") if on else (403, "IdempotentProcessing"))
    got = _err(client, "CreateImage", RegionId=REGION, InstanceId=RUN, ImageName="tok-other", ClientToken=token)
    assert got == ((403, "InvalidParamter.Conflict") if on else (400, "IdempotentParameterMismatch"))
    again = testing.call(client, "CreateImage", RegionId=REGION, InstanceId=RUN, ImageName="tok-slow",
                         ClientToken=token)
    assert again["ImageId"] == first["out"]["ImageId"]


def _throttled(emulator, n=200):
    client = _no_retry(emulator)
    codes = []
    for _attempt in range(n):
        try:
            testing.call(client, "DescribeRegions")
            codes.append(None)
        except ServerException as exc:
            codes.append((exc.get_http_status(), exc.get_error_code()))
    return codes


def test_rejected_throttling_seeded_and_never_twice_in_a_row(emulator, admin):
    admin("PUT", "realism", {"rejected_throttling": True})
    codes = _throttled(emulator)
    hits = [i for i, c in enumerate(codes) if c is not None]
    assert 1 <= len(hits) <= 20 and all(codes[i] == (400, "Rejected.Throttling") for i in hits)
    assert all(b - a > 1 for a, b in zip(hits, hits[1:]))
    log = [e for e in admin("GET", "requests")["requests"] if e["code"] == "Rejected.Throttling"]
    assert len(log) == len(hits)
    admin("POST", "reset")                                # reset: same seed, same sequence
    admin("PUT", "realism", {"rejected_throttling": True})
    assert _throttled(emulator) == codes
    admin("PUT", "realism", {"rejected_throttling": False})
    assert all(c is None for c in _throttled(emulator, 50))


def test_rejected_throttling_fault_kind(emulator, admin):
    admin("PUT", "faults", {"spec": "DescribeRegions=rejected_throttling*1"})
    client = _no_retry(emulator)
    assert _err(client, "DescribeRegions") == (400, "Rejected.Throttling")
    assert testing.call(client, "DescribeRegions")["Regions"]


@pytest.mark.parametrize("kind,status", [("image_create_failed", "CreateFailed"), ("image_unavailable", "UnAvailable")])
def test_create_failed_fault_kinds(emulator, admin, call, kind, status):
    admin("PUT", "realism", {"create_failed": True})
    admin("PUT", "faults", {"spec": "CreateImage=%s*1" % kind})
    iid = call("CreateImage", RegionId=REGION, InstanceId=RUN, ImageName="doomed")["ImageId"]
    for _attempt in range(100):
        img = call("DescribeImages", RegionId=REGION, ImageId=iid, Status="ALL")["Images"]["Image"][0]
        if img["Status"] not in ("Creating", "Waiting"):
            break
        time.sleep(0.02)
    assert img["Status"] == status
    assert [e["fault"] for e in admin("GET", "requests")["requests"] if e["action"] == "CreateImage"] == [kind]


def test_oss_region_endpoints(emulator, admin):
    import oss2
    acc = emulator.accounts[0]
    auth = oss2.Auth(acc["access_key_id"], acc["access_key_secret"])
    eps = emulator.oss_endpoints
    assert eps[REGION] == emulator.oss_endpoint and eps["cn-shanghai"] != eps[REGION]
    assert admin("GET", "resources")["oss_endpoints"] == eps
    admin("PUT", "realism", {"oss_region_endpoints": True})
    sh = oss2.Bucket(auth, eps["cn-shanghai"], "ecs-images-sh")
    assert sh.get_bucket_info().name == "ecs-images-sh"
    wrong = oss2.Bucket(auth, eps[REGION], "ecs-images-sh")
    with pytest.raises(oss2.exceptions.AccessDenied) as ei:
        wrong.get_bucket_info()
    assert ei.value.details.get("Endpoint") == "oss-cn-shanghai.aliyuncs.com"
    hz_via_sh = oss2.Bucket(auth, eps["cn-shanghai"], "ecs-images-hz")
    with pytest.raises(oss2.exceptions.AccessDenied):
        list(oss2.ObjectIterator(hz_via_sh))
    # ListBuckets works from any endpoint
    assert "ecs-images-hz" in [b.name for b in oss2.Service(auth, eps["cn-shanghai"]).list_buckets().buckets]
    admin("PUT", "realism", {"oss_region_endpoints": False})
    assert wrong.get_bucket_info().name == "ecs-images-sh"
