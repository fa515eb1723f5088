"""Robustness: garbage on the wire never kills the server; every answer is a proper JSON (or OSS XML) error."""
import json
import random
import socket
import time
from urllib.parse import quote, urlencode

import pytest

from ecs_emulator import testing
from ecs_emulator.signatures import sign_v1_params


def _raw_exchange(port, payload, timeout=3.0):
    """Send bytes, return what the server answers (b'' if it closed without answering)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(payload)
        try:
            s.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        chunks = []
        try:
            while True:
                data = s.recv(65536)
                if not data:
                    break
                chunks.append(data)
        except (socket.timeout, ConnectionResetError):
            pass
    return b"".join(chunks)


def _status_and_body(resp):
    head, _sep, body = resp.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    return status, head, body


def _alive(emulator):
    info = testing.admin(emulator, "GET", "")
    assert info["ecs_endpoint"] == emulator.ecs_endpoint


def _assert_json_error(resp):
    status, head, body = _status_and_body(resp)
    assert 400 <= status < 600, resp[:200]
    assert b"application/json" in head
    doc = json.loads(body.decode("utf-8"))
    assert doc["Code"] and doc["Message"] and doc["RequestId"]
    assert "Traceback" not in doc["Message"]
    return status, doc


CASES = [
    b"\x00\x01\x02\xff\xfe garbage\r\n\r\n",
    b"GET\r\n\r\n",
    b"BREW /coffee HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET / HTTP/9.9\r\nHost: x\r\n\r\n",
    b"GET /" + b"A" * 70000 + b" HTTP/1.1\r\n\r\n",
    b"GET / HTTP/1.1\r\n" + b"X-Long: " + b"b" * 70000 + b"\r\n\r\n",
    b"GET /?Action=%ZZ%E9%&&&==&Action HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET /?Action=DescribeImages&Action=DeleteImage HTTP/1.1\r\nHost: x\r\n\r\n",
    b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n",
    b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
    b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 999999999999\r\n\r\n",
    b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 9\r\n\r\n\xff\xfe=\x00&a=%",
    b"GET /?" + b"&".join(b"P%d=1" % i for i in range(3000)) + b" HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET /?Action=DescribeRegions&Signature=abc&AccessKeyId=LTAI5tEmuPrimary0000001 HTTP/1.1\r\n\r\n",
    b"POST /?Action=x HTTP/1.1\r\nAuthorization: ACS3-HMAC-SHA256 Credential=,SignedHeaders=,Signature=\r\n\r\n",
    b"POST / HTTP/1.1\r\nAuthorization: ACS3-HMAC-SHA256\r\nx-acs-action: DescribeRegions\r\n\r\n",
    b"GET /_emulator/faults HTTP/1.1\r\nContent-Length: 3\r\n\r\n{{{",
    b"PUT /_emulator/faults HTTP/1.1\r\nContent-Length: 4\r\n\r\n[12]",
    b"PUT /_emulator/config HTTP/1.1\r\nContent-Length: 21\r\n\r\n{\"time_scale\": \"NaN\"}",
]


@pytest.mark.parametrize("payload", CASES, ids=range(len(CASES)))
def test_garbage_gets_an_answer(emulator, payload):
    resp = _raw_exchange(emulator.port, payload)
    if resp:
        status, head, body = _status_and_body(resp)
        assert 400 <= status < 600
        assert b"Traceback" not in body
        if not head.split(b"\r\n", 1)[0].endswith(b"OK") and b"/_emulator" not in payload:
            assert b"application/json" in head
    _alive(emulator)


def test_known_shapes(emulator):
    status, doc = _assert_json_error(_raw_exchange(emulator.port, CASES[7]))
    assert status == 400 and '"Action"' in doc["Message"]
    status, doc = _assert_json_error(_raw_exchange(emulator.port, CASES[13]))
    assert status == 400
    status, doc = _assert_json_error(_raw_exchange(emulator.port, CASES[10]))
    assert status == 413


def test_random_fuzz(emulator):
    """Random methods, paths, params, encodings and bytes: the server answers every one (or closes cleanly) and
    keeps serving signed requests."""
    rng = random.Random(1234)
    methods = [b"GET", b"POST", b"HEAD", b"PUT", b"DELETE", b"OPTIONS", b"PATCH", b"X" * 20]
    names = ["Action", "RegionId", "ImageId", "Tag.1.Key", "Signature", "AccessKeyId", "ClientToken", "PageSize",
             "SignatureNonce", "Timestamp", "Format", "", "%", "\u00e9"]
    values = ["DescribeImages", "CreateImage", "", "%", "%ZZ", "\u0000", "x" * 5000, "-1", "True", "\ud800"]
    answered = 0
    for i in range(300):
        kind = rng.random()
        if kind < 0.2:
            payload = bytes(rng.getrandbits(8) for _i in range(rng.randint(1, 400)))
        else:
            pairs = []
            for _i in range(rng.randint(0, 12)):
                k, v = rng.choice(names), rng.choice(values)
                pairs.append("%s=%s" % (quote(k, safe="%"), quote(v, safe="%", errors="replace")))
            query = "&".join(pairs).encode("utf-8", "replace")
            body = bytes(rng.getrandbits(8) for _i in range(rng.randint(0, 64))) if rng.random() < 0.5 else b""
            headers = [b"Host: 127.0.0.1"]
            if rng.random() < 0.3:
                headers.append(b"Content-Type: application/x-www-form-urlencoded")
            if rng.random() < 0.2:
                headers.append(b"x-acs-action: " + rng.choice([b"DescribeImages", b"", b"\xff\xfe"]))
            if rng.random() < 0.2:
                headers.append(b"Authorization: " + rng.choice([b"ACS3-HMAC-SHA256 a=b", b"OSS x:y", b"\x00"]))
            headers.append(b"Content-Length: %d" % len(body))
            payload = (rng.choice(methods) + b" /?" + query + b" HTTP/1.1\r\n" + b"\r\n".join(headers) +
                       b"\r\n\r\n" + body)
        resp = _raw_exchange(emulator.port, payload, timeout=2)
        if resp:
            answered += 1
            status, head, rbody = _status_and_body(resp)
            assert 200 <= status < 600
            assert b"Traceback" not in rbody
            if status >= 400 and b"/_emulator" not in payload:
                doc = json.loads(rbody.decode("utf-8")) if rbody else {"Code": "x"}
                assert doc["Code"]
    assert answered > 250
    # still fully functional, and nothing was logged as an internal error
    acc = emulator.accounts[0]
    p = sign_v1_params("POST", {"Action": "GetCallerIdentity", "Version": "2015-04-01"}, acc["access_key_id"],
                       acc["access_key_secret"])
    resp = _raw_exchange(emulator.port, b"POST /?" + urlencode(p, quote_via=quote).encode() +
                         b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert _status_and_body(resp)[0] == 200
    internal = [e for e in testing.admin(emulator, "GET", "requests")["requests"] if e["status"] == 500]
    assert internal == []


def test_oss_port_garbage(emulator):
    for payload in (b"\x00\xff\r\n\r\n", b"GET /bucket/%ZZ HTTP/1.1\r\n\r\n",
                    b"PUT /b/k HTTP/1.1\r\nContent-Length: zz\r\n\r\n",
                    b"GET /ecs-images-hz/x HTTP/1.1\r\nAuthorization: OSS nocolon\r\n\r\n",
                    b"GET /ecs-images-hz/x HTTP/1.1\r\nAuthorization: OSS a:b\r\nDate: not a date\r\n\r\n"):
        resp = _raw_exchange(emulator.oss_port, payload)
        status, head, body = _status_and_body(resp)
        assert 400 <= status < 500, resp[:300]
        assert body.startswith(b"<?xml") and b"<Code>" in body
    _alive(emulator)


def test_slow_client_does_not_block_others(emulator):
    """A client that sends half a request and stalls holds one thread only."""
    s = socket.create_connection(("127.0.0.1", emulator.port))
    try:
        s.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc")
        t0 = time.time()
        _alive(emulator)
        assert time.time() - t0 < 1
    finally:
        s.close()


def test_signed_garbage_to_every_action(emulator, needs_backend):
    """Correctly signed requests with garbage parameters, to every ECS action and to STS, over HTTP (ClientToken
    replay, faults and dispatch included): each gets a JSON answer, never a 5xx, and the server keeps serving."""
    import requests

    from ecs_emulator.backend import Backend
    from test_backend_fuzz import NAMES, VALUES

    acc = emulator.accounts[0]
    rng = random.Random(99)
    session = requests.Session()
    session.trust_env = False
    sts = {"AssumeRole": ["RoleArn", "RoleSessionName", "DurationSeconds", "Policy"], "GetCallerIdentity": []}
    role = acc["roles"][0] if acc.get("roles") else "acs:ram::1:role/x"
    bad, codes = [], {}
    targets = [(a, "2014-05-26", testing.sdk_param_names(a)) for a in sorted(Backend.actions)]
    targets += [(a, "2015-04-01", names) for a, names in sts.items()]
    for action, version, own in targets:
        for _i in range(20):
            params = {rng.choice(own if own and rng.random() < 0.8 else NAMES): rng.choice(VALUES + [role])
                      for _i in range(rng.randint(0, 6))}
            if rng.random() < 0.7:
                params["RegionId"] = "cn-hangzhou"
            if rng.random() < 0.3:
                params["ClientToken"] = rng.choice(["tok-1", "tok-2", ""])
            params.update(Action=action, Version=version)
            signed = sign_v1_params("POST", params, acc["access_key_id"], acc["access_key_secret"])
            resp = session.post(emulator.ecs_endpoint + "/?" + urlencode(signed, quote_via=quote), timeout=10)
            doc = resp.json()
            assert doc["RequestId"], (action, params)
            code = doc.get("Code", "ok")
            if code == "MissingParameter":
                code += ":" + (doc["Message"].split('"') + ["", "?"])[1]
            codes[code] = codes.get(code, 0) + 1
            if resp.status_code >= 500 or (resp.status_code >= 400 and not (doc.get("Code") and doc.get("Message"))):
                bad.append((action, params, resp.status_code, doc))
    session.close()
    assert bad == []
    assert codes.get("ok", 0) > 30 and not codes.get("SignatureDoesNotMatch"), codes    # reached the actions
    assert not [c for c in codes if c.startswith("MissingParameter:") and c.split(":")[1] in (
        "AccessKeyId", "Signature", "Timestamp", "SignatureNonce", "Action")], codes
    _alive(emulator)
    assert [e for e in testing.admin(emulator, "GET", "requests")["requests"] if e["status"] >= 500] == []


def test_signed_garbage_to_every_oss_operation(emulator):
    """Correctly signed OSS requests (every operation: methods x sub-resources) with garbage arguments, headers and
    bodies: each gets an answer, never a 5xx; errors are OSS XML; the server keeps serving."""
    import email.utils

    import requests

    from ecs_emulator.oss_server import _canonical_resource, oss_sign, oss_string_to_sign

    acc = emulator.accounts[0]
    bucket = next(b.name for b in emulator.oss.buckets() if b.owner_account_id == acc["account_id"] and b.objects)
    keys = [m.key for m in emulator.oss.list(bucket)][:2] + ["fuzz/new", "fuzz/%ZZ", "", "a" * 1100]
    subs = [{}, {"uploads": ""}, {"uploadId": "nope"}, {"uploadId": "nope", "partNumber": "x"},
            {"partNumber": "0", "uploadId": ""}, {"delete": ""}, {"list-type": "2"}, {"max-keys": "abc"},
            {"max-keys": "0"}, {"list-type": "2", "continuation-token": "%%%"},
            {"encoding-type": "url", "prefix": "\u00e9"},
            {"delimiter": "/", "marker": "zzz"}, {"bucketInfo": ""}, {"location": ""}, {"acl": ""},
            {"uploads": "", "max-uploads": "-1"}]
    headers_pool = [{}, {"Range": "bytes=abc"}, {"Range": "bytes=5-1"}, {"Range": "bytes=-999999"},
                    {"x-oss-range-behavior": "standard", "Range": "bytes=999999-"}, {"Content-MD5": "garbage"},
                    {"x-oss-copy-source": "/%s/x" % bucket}, {"x-oss-complete-all": "yes"},
                    {"Content-Type": "application/xml"}]
    bodies = [b"", b"<Delete><Object><Key>x</Key></Object></Delete>", b"<CompleteMultipartUpload><Part>",
              b"<?xml version='1.0'?><!DOCTYPE x [<!ENTITY a 'b'>]><x>&a;</x>", b"\x00\xff" * 50]
    rng = random.Random(7)
    session = requests.Session()
    session.trust_env = False
    bad, statuses = [], {}
    for i in range(250):
        method = rng.choice(["GET", "PUT", "POST", "DELETE", "HEAD"])
        key = rng.choice(keys)
        params = dict(rng.choice(subs))
        headers = dict(rng.choice(headers_pool))
        body = rng.choice(bodies) if method in ("PUT", "POST") else b""
        date = email.utils.formatdate(usegmt=True)
        low = {k.lower(): v for k, v in headers.items()}
        low["date"] = date
        resource = _canonical_resource(bucket, key or None, params)
        sig = oss_sign(acc["access_key_secret"], oss_string_to_sign(method, low, resource, date))
        headers.update({"Date": date, "Authorization": "OSS %s:%s" % (acc["access_key_id"], sig)})
        url = "%s/%s/%s" % (emulator.oss_endpoint, bucket, quote(key, safe="/%"))
        resp = session.request(method, url, params=params, headers=headers, data=body, timeout=10)
        statuses[resp.status_code] = statuses.get(resp.status_code, 0) + 1
        if resp.status_code >= 500:
            bad.append((method, key, params, headers, resp.status_code, resp.text[:300]))
        elif resp.status_code >= 400 and method != "HEAD":
            if not (resp.text.startswith("<?xml") and "<Code>" in resp.text):
                bad.append((method, key, params, resp.status_code, resp.text[:300]))
    session.close()
    assert bad == []
    assert sum(n for s, n in statuses.items() if s < 300) > 20 and statuses.get(403, 0) < 50, statuses
    _alive(emulator)
    assert [e for e in testing.admin(emulator, "GET", "requests")["requests"] if e["status"] >= 500] == []
