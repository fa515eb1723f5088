"""Admin API, request log (masking), request parsing/dispatch rules, response shapes, CLI."""
import json
import os
import re
import subprocess
import sys
import time
from urllib.error import HTTPError
from urllib.parse import quote, urlencode

import pytest

from ecs_emulator import testing
from ecs_emulator.server import mask_params
from ecs_emulator.signatures import sign_v1_params

UUID_RE = re.compile(r"^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$")


def _send(emulator, raw, params, method="POST", account=0, access_key_id=None, **kw):
    acc = emulator.accounts[account]
    p = sign_v1_params(method, params, access_key_id or acc["access_key_id"], acc["access_key_secret"], **kw)
    return raw(method, "/?" + urlencode(p, quote_via=quote))


def test_accounts(emulator, admin):
    accounts = admin("GET", "accounts")
    assert len(accounts) >= 2
    assert {"account_id", "name", "access_key_id", "access_key_secret"} <= set(accounts[0])
    assert accounts[0]["access_key_id"] == emulator.env()["ALIBABA_CLOUD_ACCESS_KEY_ID"]


def test_env_and_info(emulator, admin):
    env = emulator.env()
    assert env["ALIBABA_CLOUD_ECS_ENDPOINT"] == env["ALIBABA_CLOUD_STS_ENDPOINT"] == emulator.ecs_endpoint
    assert env["ALIBABA_CLOUD_OSS_ENDPOINT"] == emulator.oss_endpoint != emulator.ecs_endpoint
    assert env["ECS_EMULATOR_ADMIN"] == emulator.admin_url
    info = admin("GET", "")
    assert info["ecs_endpoint"] == emulator.ecs_endpoint and info["backend"] in (True, False)


def test_mask_params_unit():
    masked = mask_params({"AccessKeyId": "LTAI5tAbcdefghijkl", "SecurityToken": "CAIS123", "Signature": "abc=",
                          "Password": "P@ss", "LoginPassword": "x", "ClientSecret": "y", "SecretKey": "z",
                          "ImageName": "keep"})
    assert masked["AccessKeyId"].startswith("LTAI") and masked["AccessKeyId"].endswith("kl")
    assert "5tAbcdefghij" not in masked["AccessKeyId"]
    for k in ("SecurityToken", "Signature", "Password", "LoginPassword", "ClientSecret", "SecretKey"):
        assert masked[k] == "******"
    assert masked["ImageName"] == "keep"


def test_request_log_masks_secrets_and_records_refusals(emulator, raw, admin):
    acc = emulator.accounts[0]
    _send(emulator, raw, {"Action": "ReplaceSystemDisk", "InstanceId": "i-nope", "Password": "Sup3rSecret!",
                          "RegionId": "cn-hangzhou"})
    _send(emulator, raw, {"Action": "DescribeRegions"}, access_key_id="LTAIunknownkey00")
    raw("GET", "/?Action=DescribeRegions")                     # unsigned
    entries = admin("GET", "requests")["requests"]
    text = json.dumps(entries)
    assert "Sup3rSecret!" not in text and acc["access_key_secret"] not in text
    assert acc["access_key_id"] not in text
    first, second, third = entries[-3:]
    assert first["action"] == "ReplaceSystemDisk" and first["params"]["Password"] == "******"
    assert first["account_id"] == acc["account_id"] and first["region_id"] == "cn-hangzhou"
    assert (second["status"], second["code"], second["account_id"]) == (404, "InvalidAccessKeyId.NotFound", None)
    assert (third["status"], third["code"]) == (400, "MissingParameter")
    assert [e["seq"] for e in entries] == sorted(e["seq"] for e in entries)
    for e in entries:
        assert {"seq", "time", "account_id", "region_id", "action", "params", "status", "code", "fault"} <= set(e)


def test_request_log_since_and_clear(emulator, raw, admin):
    for _i in range(3):
        _send(emulator, raw, {"Action": "GetCallerIdentity", "Version": "2015-04-01"})
    entries = admin("GET", "requests")["requests"]
    last_seq = entries[-1]["seq"]
    assert admin("GET", "requests?since=%d" % entries[-2]["seq"])["requests"][0]["seq"] == last_seq
    assert admin("GET", "requests?since=%d" % last_seq)["requests"] == []
    admin("DELETE", "requests")
    assert admin("GET", "requests")["requests"] == []


def _slow_log(monkeypatch, emulator, delay=0.15):
    """Make every log append slow: if an entry were recorded after its response, the client would see its answer
    before the entry (the race behind intermittent failures of tests that read the log right after a call)."""
    log = emulator.state.log
    real_add = log.add

    def slow_add(entry, generation=None):
        time.sleep(delay)
        return real_add(entry, generation)
    monkeypatch.setattr(log, "add", slow_add)


def test_request_log_entry_recorded_before_the_response(emulator, raw, admin, monkeypatch, new_sdk_client):
    _slow_log(monkeypatch, emulator)
    _send(emulator, raw, {"Action": "GetCallerIdentity", "Version": "2015-04-01"})
    last = admin("GET", "requests")["requests"][-1]
    assert (last["action"], last["status"], last["signature"]) == ("GetCallerIdentity", 200, "v1")
    assert last["duration_ms"] >= 0
    testing.new_sdk_call(new_sdk_client, "GetCallerIdentity", version="2015-04-01")
    last = admin("GET", "requests")["requests"][-1]
    assert (last["action"], last["status"], last["signature"]) == ("GetCallerIdentity", 200, "v3")
    raw("GET", "/?Action=DescribeRegions")                     # refused (unsigned)
    last = admin("GET", "requests")["requests"][-1]
    assert (last["status"], last["code"]) == (400, "MissingParameter")
    testing.admin(emulator, "PUT", "faults", {"spec": "GetCallerIdentity=drop*1"})
    import requests
    with pytest.raises(requests.ConnectionError):
        _send(emulator, raw, {"Action": "GetCallerIdentity", "Version": "2015-04-01"})
    last = admin("GET", "requests")["requests"][-1]
    assert (last["status"], last["fault"]) == (0, "drop")
    assert len(admin("GET", "requests")["requests"]) == 4


def test_request_log_ignores_requests_started_before_a_reset(emulator, raw, admin):
    import threading
    testing.admin(emulator, "PUT", "faults", {"spec": "GetCallerIdentity=slow:0.6*1"})
    t = threading.Thread(target=_send, args=(emulator, raw, {"Action": "GetCallerIdentity",
                                                             "Version": "2015-04-01"}))
    t.start()
    time.sleep(0.2)
    admin("DELETE", "requests")
    t.join()
    assert admin("GET", "requests")["requests"] == []


def test_faults_admin(admin):
    out = admin("PUT", "faults", {"spec": "CreateImage=lost*1;DescribeImages=throttling*2@0.5;*=slow:0.1"})
    assert [r["kind"] for r in out["rules"]] == ["lost", "throttling", "slow"]
    assert out["rules"][1]["remaining"] == 2 and out["rules"][1]["probability"] == 0.5
    assert admin("GET", "faults")["spec"].startswith("CreateImage=lost*1")
    with pytest.raises(HTTPError) as ei:
        admin("PUT", "faults", {"spec": "CreateImage=explode"})
    assert ei.value.code == 400 and "explode" in json.loads(ei.value.read())["error"]
    assert admin("GET", "faults")["rules"][0]["kind"] == "lost"           # a bad spec changes nothing
    assert admin("DELETE", "faults")["rules"] == []


@pytest.mark.parametrize("spec", ["X", "A=slow", "A=lost:3", "A=drop*x", "A=throttling@2", "=drop"])
def test_bad_fault_specs(admin, spec):
    with pytest.raises(HTTPError) as ei:
        admin("PUT", "faults", {"spec": spec})
    assert ei.value.code == 400


def test_config_time_scale(emulator, admin):
    assert admin("PUT", "config", {"time_scale": 0.5})["time_scale"] == 0.5
    assert emulator.state.clock.time_scale == 0.5
    for bad in ({"time_scale": "fast"}, {"time_scale": -1}, {"speed": 2}):
        with pytest.raises(HTTPError) as ei:
            admin("PUT", "config", bad)
        assert ei.value.code == 400


def test_config_durations(emulator, admin):
    before = admin("GET", "config")["durations"]
    try:
        view = admin("PUT", "config", {"durations": {"usable_lag": 400, "StopInstance": 3}})
        assert view["durations"]["usable_lag"] == 400 and view["durations"]["StopInstance"] == 3
        assert emulator.state.backend.durations["usable_lag"] == 400
        for bad in ({"durations": {"NoSuchAction": 1}}, {"durations": {"usable_lag": -1}},
                    {"durations": {"usable_lag": True}}, {"durations": [1]}):
            with pytest.raises(HTTPError) as ei:
                admin("PUT", "config", bad)
            assert ei.value.code == 400
        assert emulator.state.backend.durations["usable_lag"] == 400      # a refused change changes nothing
    finally:
        admin("PUT", "config", {"durations": {"usable_lag": before["usable_lag"],
                                              "StopInstance": before["StopInstance"]}})


def test_unknown_admin_route(admin):
    with pytest.raises(HTTPError) as ei:
        admin("GET", "nope")
    assert ei.value.code == 404


def test_resources(admin, needs_backend):
    res = admin("GET", "resources")
    assert isinstance(res, dict) and res


# ------------------------------------------------------------------------------------------------ protocol rules
def test_dispatch_on_header_action(emulator, raw):
    """SDK-new style: Action travels in x-acs-action (here with a V1-signed query lacking Action)."""
    acc = emulator.accounts[0]
    p = sign_v1_params("POST", {"Version": "2015-04-01"}, acc["access_key_id"], acc["access_key_secret"])
    p.pop("Version")
    p = sign_v1_params("POST", {k: v for k, v in p.items() if k != "Signature"}, acc["access_key_id"],
                       acc["access_key_secret"])
    resp = raw("POST", "/?" + urlencode(p, quote_via=quote),
               headers={"x-acs-action": "GetCallerIdentity", "x-acs-version": "2015-04-01"})
    assert resp.status_code == 200, resp.text
    assert resp.json()["AccountId"] == acc["account_id"]


def test_success_shape(emulator, raw):
    resp = _send(emulator, raw, {"Action": "GetCallerIdentity", "Version": "2015-04-01"})
    assert resp.headers["Content-Type"] == "application/json;charset=utf-8"
    assert UUID_RE.match(resp.json()["RequestId"])


def test_missing_action(emulator, raw):
    resp = _send(emulator, raw, {})
    body = resp.json()
    assert resp.status_code == 400 and body["Code"] == "MissingParameter" and '"Action"' in body["Message"]
    assert UUID_RE.match(body["RequestId"]) and body["HostId"]


def test_unknown_action(emulator, raw, needs_backend):
    resp = _send(emulator, raw, {"Action": "LaunchRockets"})
    assert resp.status_code == 404 and resp.json()["Code"] == "InvalidAction.NotFound"


def test_unsupported_method(raw):
    resp = raw("PUT", "/?Action=DescribeRegions", b"x")
    assert resp.status_code == 403 and resp.json()["Code"] == "UnsupportedHTTPMethod"


def test_duplicate_param_with_different_values(emulator, raw):
    acc = emulator.accounts[0]
    p = sign_v1_params("POST", {"Action": "GetCallerIdentity", "Version": "2015-04-01"}, acc["access_key_id"],
                       acc["access_key_secret"])
    resp = raw("POST", "/?" + urlencode(p, quote_via=quote) + "&Version=2014-05-26")
    assert resp.status_code == 400 and '"Version"' in resp.json()["Message"]


def test_region_id_not_required_for_instance_calls(emulator, raw, needs_backend):
    """DescribeRegions without RegionId (as SDK-new sends it) is served."""
    resp = _send(emulator, raw, {"Action": "DescribeRegions"})
    assert resp.status_code == 200, resp.text
    assert resp.json()["Regions"]["Region"]


def test_concurrent_requests(emulator, raw):
    """ThreadingHTTPServer: a slow request does not block others."""
    import threading
    testing.admin(emulator, "PUT", "faults", {"spec": "GetCallerIdentity=slow:1*1"})
    results = {}

    def slow():
        results["slow"] = _send(emulator, raw, {"Action": "GetCallerIdentity", "Version": "2015-04-01"}).status_code

    t = threading.Thread(target=slow)
    t.start()
    time.sleep(0.2)
    t0 = time.time()
    import requests
    s = requests.Session()
    s.trust_env = False
    acc = emulator.accounts[0]
    p = sign_v1_params("POST", {"Action": "GetCallerIdentity", "Version": "2015-04-01"}, acc["access_key_id"],
                       acc["access_key_secret"])
    assert s.post(emulator.ecs_endpoint + "/?" + urlencode(p, quote_via=quote), timeout=5).status_code == 200
    assert time.time() - t0 < 0.5
    t.join()
    assert results["slow"] == 200


# ------------------------------------------------------------------------------------------------ CLI
def _env():
    env = dict(os.environ)
    for k in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        env.pop(k, None)
    return env


def test_cli_prints_exports_and_serves(tmp_path):
    proc = subprocess.Popen([sys.executable, "-m", "ecs_emulator", "--time-scale", "0.01", "--seed", "3",
                             "--faults", "DescribeRegions=throttling_user*1"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env())
    try:
        lines = [proc.stdout.readline().strip() for _i in range(7)]
        exports = dict(line[len("export "):].split("=", 1) for line in lines)
        assert set(exports) == {"ALIBABA_CLOUD_ECS_ENDPOINT", "ALIBABA_CLOUD_STS_ENDPOINT",
                                "ALIBABA_CLOUD_OSS_ENDPOINT", "ALIBABA_CLOUD_ACCESS_KEY_ID",
                                "ALIBABA_CLOUD_ACCESS_KEY_SECRET", "ALIBABA_CLOUD_REGION_ID", "ECS_EMULATOR_ADMIN"}
        info = testing.admin(exports["ECS_EMULATOR_ADMIN"], "GET", "")
        assert info["time_scale"] == 0.01 and info["seed"] == 3
        faults = testing.admin(exports["ECS_EMULATOR_ADMIN"], "GET", "faults")
        assert faults["rules"][0]["kind"] == "throttling_user"
    finally:
        proc.terminate()
        assert proc.wait(timeout=10) == 0


def test_cli_rejects_bad_faults():
    proc = subprocess.run([sys.executable, "-m", "ecs_emulator", "--faults", "X=boom"], check=False, capture_output=True,
                          text=True, env=_env(), timeout=30)
    assert proc.returncode == 2 and "--faults" in proc.stderr


def test_cli_bad_fixture(tmp_path):
    bad = tmp_path / "fixture.json"
    bad.write_text('{"accounts": []}')
    proc = subprocess.run([sys.executable, "-m", "ecs_emulator", "--fixture", str(bad)], check=False, capture_output=True,
                          text=True, env=_env(), timeout=30)
    assert proc.returncode == 1 and "no accounts" in proc.stderr and "Traceback" not in proc.stderr
