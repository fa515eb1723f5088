"""STS AssumeRole on the ECS port; temporary keys accepted by ECS/STS/OSS; unknown and expired tokens refused."""
import json
import time

import oss2
import pytest
from aliyunsdkcore.acs_exception.exceptions import ServerException
from aliyunsdkcore.auth.credentials import StsTokenCredential
from alibabacloud_tea_openapi.exceptions import ClientException as TeaClientException

from ecs_emulator import testing


def _role(emulator, account=0):
    roles = emulator.accounts[account]["roles"]
    assert roles, "the fixture must give the account at least one role"
    return roles[0]


def _assume(client, role_arn, session="ci-session", **extra):
    req = testing.common_request("AssumeRole", dict({"RoleArn": role_arn, "RoleSessionName": session}, **extra),
                                 version="2015-04-01", product="Sts")
    return json.loads(client.do_action_with_exception(req))


def _who(client):
    req = testing.common_request("GetCallerIdentity", version="2015-04-01", product="Sts")
    return json.loads(client.do_action_with_exception(req))


def test_assume_role_shape(emulator, ecs_client):
    role = _role(emulator)
    out = _assume(ecs_client, role, DurationSeconds=900)
    cred = out["Credentials"]
    assert cred["AccessKeyId"].startswith("STS.")
    assert cred["AccessKeySecret"] and cred["SecurityToken"]
    exp = time.mktime(time.strptime(cred["Expiration"], "%Y-%m-%dT%H:%M:%SZ")) - time.timezone
    assert 890 <= exp - time.time() <= 910
    assert out["AssumedRoleUser"]["Arn"].endswith("/ci-session")
    assert out["AssumedRoleUser"]["AssumedRoleId"].endswith(":ci-session")


def test_temp_credentials_with_sdk_old(emulator, ecs_client, admin):
    cred = _assume(ecs_client, _role(emulator))["Credentials"]
    temp = testing.acs_client(emulator, credential=StsTokenCredential(
        cred["AccessKeyId"], cred["AccessKeySecret"], cred["SecurityToken"]))
    who = _who(temp)
    assert who["IdentityType"] == "AssumedRoleUser"
    assert who["AccountId"] == emulator.accounts[0]["account_id"]
    # the token travelled as SecurityToken and is masked in the log
    entry = admin("GET", "requests")["requests"][-1]
    assert entry["params"]["SecurityToken"] == "******"
    assert cred["AccessKeyId"] not in json.dumps(entry)


def test_temp_credentials_with_sdk_new(emulator, ecs_client):
    cred = _assume(ecs_client, _role(emulator))["Credentials"]
    client = testing.new_sdk_client(emulator, 0, access_key_id=cred["AccessKeyId"],
                                    access_key_secret=cred["AccessKeySecret"], security_token=cred["SecurityToken"])
    out = testing.new_sdk_call(client, "GetCallerIdentity", version="2015-04-01")
    assert out["body"]["IdentityType"] == "AssumedRoleUser"


def test_assume_role_through_sdk_new(emulator, new_sdk_client):
    out = testing.new_sdk_call(new_sdk_client, "AssumeRole", {"RoleArn": _role(emulator), "RoleSessionName": "x1"},
                               version="2015-04-01")
    assert out["body"]["Credentials"]["AccessKeyId"].startswith("STS.")


def test_temp_credentials_on_ecs_action(emulator, ecs_client, needs_backend):
    cred = _assume(ecs_client, _role(emulator))["Credentials"]
    temp = testing.acs_client(emulator, credential=StsTokenCredential(
        cred["AccessKeyId"], cred["AccessKeySecret"], cred["SecurityToken"]))
    out = testing.call(temp, "DescribeRegions")
    assert out["Regions"]["Region"]


def test_expired_token_refused_everywhere(emulator, ecs_client, admin):
    cred = _assume(ecs_client, _role(emulator))["Credentials"]
    temp = testing.acs_client(emulator, credential=StsTokenCredential(
        cred["AccessKeyId"], cred["AccessKeySecret"], cred["SecurityToken"]))
    assert _who(temp)["IdentityType"] == "AssumedRoleUser"
    assert admin("POST", "sts/expire", {"access_key_id": cred["AccessKeyId"]}) == {"expired": 1}
    with pytest.raises(ServerException) as ei:
        _who(temp)
    assert ei.value.get_error_code() == "InvalidSecurityToken.Expired"
    assert ei.value.get_http_status() == 400
    client = testing.new_sdk_client(emulator, 0, access_key_id=cred["AccessKeyId"],
                                    access_key_secret=cred["AccessKeySecret"], security_token=cred["SecurityToken"])
    with pytest.raises(TeaClientException) as ei:
        testing.new_sdk_call(client, "GetCallerIdentity", version="2015-04-01")
    assert ei.value.code == "InvalidSecurityToken.Expired"
    buckets = [b for b in emulator.oss.buckets() if b.owner_account_id == emulator.accounts[0]["account_id"]]
    if buckets:
        bucket = oss2.Bucket(oss2.StsAuth(cred["AccessKeyId"], cred["AccessKeySecret"], cred["SecurityToken"]),
                             emulator.oss_endpoint, buckets[0].name)
        with pytest.raises(oss2.exceptions.OssError) as ei:
            bucket.list_objects()
        assert ei.value.status == 403 and ei.value.code == "SecurityTokenExpired"


def test_wrong_or_missing_token(emulator, ecs_client):
    cred = _assume(ecs_client, _role(emulator))["Credentials"]
    other = _assume(ecs_client, _role(emulator), session="other")["Credentials"]
    mixed = testing.acs_client(emulator, credential=StsTokenCredential(
        cred["AccessKeyId"], cred["AccessKeySecret"], other["SecurityToken"]))
    with pytest.raises(ServerException) as ei:
        _who(mixed)
    assert ei.value.get_error_code() == "InvalidSecurityToken.MismatchWithAccessKey"
    no_token = testing.acs_client(emulator, dict(emulator.accounts[0], access_key_id=cred["AccessKeyId"],
                                                 access_key_secret=cred["AccessKeySecret"]))
    with pytest.raises(ServerException) as ei:
        _who(no_token)
    assert ei.value.get_error_code() == "MissingSecurityToken"
    # a token sent with a permanent key is refused as well
    perm = testing.acs_client(emulator, credential=StsTokenCredential(
        emulator.accounts[0]["access_key_id"], emulator.accounts[0]["access_key_secret"], cred["SecurityToken"]))
    with pytest.raises(ServerException) as ei:
        _who(perm)
    assert ei.value.get_error_code() == "InvalidSecurityToken.MismatchWithAccessKey"


def test_temp_credentials_survive_until_reset(emulator, ecs_client, admin):
    cred = _assume(ecs_client, _role(emulator))["Credentials"]
    admin("POST", "reset")
    temp = testing.acs_client(emulator, credential=StsTokenCredential(
        cred["AccessKeyId"], cred["AccessKeySecret"], cred["SecurityToken"]))
    with pytest.raises(ServerException) as ei:
        _who(temp)
    assert ei.value.get_error_code() == "InvalidAccessKeyId.NotFound"


@pytest.mark.parametrize("params,status,code", [
    ({"RoleArn": "acs:ram::1234567890123456:role/no-such-role"}, 404, "EntityNotExist.Role"),
    ({"RoleArn": "not-an-arn"}, 400, "InvalidParameter.RoleArn"),
    ({"RoleArn": None}, 400, "MissingRoleArn"),
    ({"RoleSessionName": None}, 400, "MissingRoleSessionName"),
    ({"RoleSessionName": "a b"}, 400, "InvalidParameter.RoleSessionName"),
    ({"DurationSeconds": "60"}, 400, "InvalidParameter.DurationSeconds"),
    ({"DurationSeconds": "50000"}, 400, "InvalidParameter.DurationSeconds"),
])
def test_assume_role_errors(emulator, ecs_client, params, status, code):
    base = {"RoleArn": _role(emulator), "RoleSessionName": "s1"}
    base.update(params)
    req = testing.common_request("AssumeRole", base, version="2015-04-01", product="Sts")
    with pytest.raises(ServerException) as ei:
        ecs_client.do_action_with_exception(req)
    assert (ei.value.get_http_status(), ei.value.get_error_code()) == (status, code)


def test_role_of_other_account_must_exist_there(emulator, ecs_client):
    """A role ARN naming the second account but a role that only the first account has -> 404."""
    first_role = _role(emulator, 0)
    name = first_role.split("/", 1)[1]
    second_id = emulator.accounts[1]["account_id"]
    arn = "acs:ram::%s:role/%s-missing" % (second_id, name)
    with pytest.raises(ServerException) as ei:
        _assume(ecs_client, arn)
    assert ei.value.get_error_code() == "EntityNotExist.Role"
