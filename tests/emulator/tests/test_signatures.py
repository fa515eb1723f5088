"""Signature V1 (aliyunsdkcore, HMAC-SHA1) and V3 (alibabacloud SDKs, ACS3-HMAC-SHA256) verification."""
import json
import time

import pytest
from aliyunsdkcore.acs_exception.exceptions import ServerException
from alibabacloud_tea_openapi.exceptions import ClientException as TeaClientException

from ecs_emulator import testing
from ecs_emulator.signatures import percent_encode, sign_v1_params, v1_sign, v1_string_to_sign

STS = {"Version": "2015-04-01"}


def _who(client):
    """GetCallerIdentity through aliyunsdkcore (works with or without the ECS backend)."""
    req = testing.common_request("GetCallerIdentity", version="2015-04-01", product="Sts")
    return json.loads(client.do_action_with_exception(req))


def _requests(admin):
    return admin("GET", "requests")["requests"]


def test_percent_encoding_rules():
    assert percent_encode("a b*~/é") == "a%20b%2A~%2F%C3%A9"
    # the documented example: blank values are kept in the canonical query
    sts = v1_string_to_sign("GET", [("SignatureType", ""), ("Action", "X")])
    assert sts == "GET&%2F&Action%3DX%26SignatureType%3D"


def test_v1_sdk_old_roundtrip_and_log(emulator, ecs_client, admin):
    out = _who(ecs_client)
    assert out["AccountId"] == emulator.accounts[0]["account_id"]
    assert out["IdentityType"] == "Account"
    rid = out["RequestId"]
    assert rid == rid.upper() and len(rid.split("-")) == 5
    entry = _requests(admin)[-1]
    assert entry["signature"] == "v1" and entry["status"] == 200 and entry["request_id"] == rid
    assert entry["params"]["SignatureType"] == ""        # blank param arrived (and was signed)


def test_v1_second_account(emulator, second_client):
    assert _who(second_client)["AccountId"] == emulator.accounts[1]["account_id"]


def test_v1_wrong_secret_sdk_old_maps_to_invalid_secret(emulator):
    """Generated request classes keep the string to sign: SDK-old compares it with the server's (the text after
    ':' in the message) and rewrites the code. Works without the backend: the signature is checked first."""
    from aliyunsdkecs.request.v20140526.DescribeRegionsRequest import DescribeRegionsRequest
    acc = dict(emulator.accounts[0], access_key_secret="not-the-secret")
    client = testing.acs_client(emulator, acc)
    with pytest.raises(ServerException) as ei:
        client.do_action_with_exception(DescribeRegionsRequest())
    assert ei.value.get_http_status() == 400
    assert ei.value.get_error_code() == "InvalidAccessKeySecret"
    assert ei.value.get_request_id()
    # CommonRequest keeps no string to sign: the server's code comes through unchanged
    with pytest.raises(ServerException) as ei:
        _who(client)
    assert ei.value.get_error_code() == "SignatureDoesNotMatch"
    assert ei.value.get_error_msg().split(":")[1].startswith("POST&%2F&AccessKeyId%3D")


def test_v1_bad_signature_message_has_server_string_to_sign(signed, raw, emulator):
    resp, params = signed(dict(STS, Action="GetCallerIdentity"), secret="wrong")
    body = resp.json()
    assert resp.status_code == 400
    assert resp.headers["Content-Type"] == "application/json;charset=utf-8"
    assert body["Code"] == "SignatureDoesNotMatch"
    server_sts = body["Message"].split(":", 1)[1]
    expected = v1_string_to_sign("POST", [(k, v) for k, v in params.items() if k != "Signature"])
    assert server_sts == expected
    assert set(body) >= {"RequestId", "HostId", "Code", "Message", "Recommend"}
    assert body["RequestId"] in body["Recommend"]


def test_v1_get_and_post_form_body(emulator, raw):
    acc = emulator.accounts[0]
    p = sign_v1_params("POST", dict(STS, Action="GetCallerIdentity"), acc["access_key_id"], acc["access_key_secret"])
    from urllib.parse import urlencode, quote
    # everything in a form body
    resp = raw("POST", "/", urlencode(p, quote_via=quote),
               {"Content-Type": "application/x-www-form-urlencoded"})
    assert resp.status_code == 200, resp.text
    # GET with query
    p = sign_v1_params("GET", dict(STS, Action="GetCallerIdentity"), acc["access_key_id"], acc["access_key_secret"])
    resp = raw("GET", "/?" + urlencode(p, quote_via=quote))
    assert resp.status_code == 200, resp.text
    # the signature covers the method: a GET-signed request sent as POST fails
    p = sign_v1_params("GET", dict(STS, Action="GetCallerIdentity"), acc["access_key_id"], acc["access_key_secret"])
    resp = raw("POST", "/?" + urlencode(p, quote_via=quote))
    assert resp.json()["Code"] == "SignatureDoesNotMatch"


def test_v1_unknown_access_key_is_404(signed):
    resp, _body = signed(dict(STS, Action="GetCallerIdentity"), access_key_id="LTAIdoesnotexist")
    assert resp.status_code == 404
    assert resp.json()["Code"] == "InvalidAccessKeyId.NotFound"


def test_v1_unknown_access_key_sdk_old(emulator):
    client = testing.acs_client(emulator, dict(emulator.accounts[0], access_key_id="LTAInope"))
    with pytest.raises(ServerException) as ei:
        _who(client)
    assert ei.value.get_http_status() == 404
    assert ei.value.get_error_code() == "InvalidAccessKeyId.NotFound"


def test_v1_nonce_replay_refused(emulator, raw):
    acc = emulator.accounts[0]
    p = sign_v1_params("POST", dict(STS, Action="GetCallerIdentity"), acc["access_key_id"], acc["access_key_secret"])
    from urllib.parse import urlencode, quote
    first = raw("POST", "/?" + urlencode(p, quote_via=quote))
    second = raw("POST", "/?" + urlencode(p, quote_via=quote))
    assert first.status_code == 200
    assert second.status_code == 400 and second.json()["Code"] == "SignatureNonceUsed"


@pytest.mark.parametrize("ts,code", [("2001-01-01T00:00:00Z", "IllegalTimestamp"),
                                     ("yesterday", "InvalidTimeStamp.Format")])
def test_v1_timestamp_checked(signed, ts, code):
    resp, _body = signed(dict(STS, Action="GetCallerIdentity", Timestamp=ts))
    assert resp.status_code == 400 and resp.json()["Code"] == code


def test_v1_missing_signature_params(emulator, raw):
    resp = raw("GET", "/?Action=GetCallerIdentity&Version=2015-04-01")
    assert resp.status_code == 400
    assert resp.json()["Code"] == "MissingParameter" and "AccessKeyId" in resp.json()["Message"]
    resp = raw("GET", "/?Action=GetCallerIdentity&AccessKeyId=%s" % emulator.accounts[0]["access_key_id"])
    assert resp.json()["Code"] == "MissingParameter" and "Signature" in resp.json()["Message"]


def test_v3_sdk_new_roundtrip(emulator, new_sdk_client, admin):
    out = testing.new_sdk_call(new_sdk_client, "GetCallerIdentity", version="2015-04-01")
    assert out["statusCode"] == 200
    assert out["body"]["AccountId"] == emulator.accounts[0]["account_id"]
    entry = _requests(admin)[-1]
    assert entry["signature"] == "v3" and entry["action"] == "GetCallerIdentity"


def test_v3_wrong_secret(emulator):
    client = testing.new_sdk_client(emulator, 0, access_key_secret="wrong-secret")
    with pytest.raises(TeaClientException) as ei:
        testing.new_sdk_call(client, "GetCallerIdentity", version="2015-04-01")
    assert ei.value.code == "SignatureDoesNotMatch"
    assert ei.value.status_code == 400
    assert ei.value.request_id
    assert "ACS3-HMAC-SHA256\n" in ei.value.data["Message"]


def test_v3_unknown_key(emulator):
    client = testing.new_sdk_client(emulator, 0, access_key_id="LTAIunknown")
    with pytest.raises(TeaClientException) as ei:
        testing.new_sdk_call(client, "GetCallerIdentity", version="2015-04-01")
    assert ei.value.code == "InvalidAccessKeyId.NotFound" and ei.value.status_code == 404


def test_sdk_new_with_v1_signature(emulator):
    client = testing.new_sdk_client(emulator, 1, signature_algorithm="v2")
    out = testing.new_sdk_call(client, "GetCallerIdentity", version="2015-04-01")
    assert out["body"]["AccountId"] == emulator.accounts[1]["account_id"]


def test_v3_tampered_query_is_refused(emulator, raw):
    """Sign one query, send another: the canonical request covers the query."""
    import hashlib
    import uuid
    from ecs_emulator.signatures import v3_canonical_request, v3_sign, v3_string_to_sign
    acc = emulator.accounts[0]
    host = "127.0.0.1:%d" % emulator.port
    headers = {"host": host, "x-acs-action": "GetCallerIdentity", "x-acs-version": "2015-04-01",
               "x-acs-date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
               "x-acs-signature-nonce": uuid.uuid4().hex, "x-acs-content-sha256": hashlib.sha256(b"").hexdigest()}
    signed_headers = sorted(headers)
    canon = v3_canonical_request("POST", "/", [("A", "1")], headers, signed_headers, headers["x-acs-content-sha256"])
    signature = v3_sign(acc["access_key_secret"], v3_string_to_sign(canon))
    auth = "ACS3-HMAC-SHA256 Credential=%s,SignedHeaders=%s,Signature=%s" % (
        acc["access_key_id"], ";".join(signed_headers), signature)
    send = {k: v for k, v in headers.items() if k != "host"}
    send["Authorization"] = auth
    bad = raw("POST", "/?A=2", headers=send)
    assert bad.status_code == 400 and bad.json()["Code"] == "SignatureDoesNotMatch"
    good = raw("POST", "/?A=1", headers=send)
    assert good.status_code == 200, good.text
    again = raw("POST", "/?A=1", headers=send)        # same nonce
    assert again.json()["Code"] == "SignatureNonceUsed"


def test_v3_malformed_authorization(raw):
    resp = raw("POST", "/", headers={"Authorization": "ACS3-HMAC-SHA256 garbage", "x-acs-action": "DescribeRegions"})
    assert resp.status_code == 400 and resp.json()["Code"] == "IncompleteSignature"


def test_sign_helper_matches_sdk_signature():
    """Our verifier's algorithm equals what aliyunsdkcore computes (independent implementation)."""
    from aliyunsdkcore.auth.algorithm import sha_hmac1
    assert v1_sign("secret", "GET&%2F&x") == sha_hmac1.get_sign_string("GET&%2F&x", "secret&")
