"""Strict mode: the emulator refuses parameter names and enumerated values the real API does not take (the table
``ecs_emulator/api_params.json`` is generated from the official SDKs; see ``ecs_emulator.api_spec``)."""
import json
import os
import subprocess
import sys

import pytest
from aliyunsdkcore.acs_exception.exceptions import ServerException

from ecs_emulator.api_spec import ApiSpec, api_spec
from ecs_emulator.backend import Backend

HERE = os.path.dirname(os.path.abspath(__file__))
GENERATOR = os.path.join(HERE, "..", "tools", "gen_api_params.py")


def _region(emulator):
    return emulator.env()["ALIBABA_CLOUD_REGION_ID"]


def _instance(call, region):
    out = call("DescribeInstances", RegionId=region, PageSize=100)
    return out["Instances"]["Instance"][0]["InstanceId"]


def _refusal(call, action, **params):
    with pytest.raises(ServerException) as exc:
        call(action, **params)
    return exc.value


def _own_images(call, region):
    out = call("DescribeImages", RegionId=region, ImageOwnerAlias="self", PageSize=100, Status="ALL")
    return [i["ImageName"] for i in out["Images"]["Image"]]


def test_misspelled_parameter_fails_and_changes_nothing(emulator, call, admin):
    region = _region(emulator)
    inst = _instance(call, region)
    err = _refusal(call, "CreateImage", RegionId=region, InstanceId=inst, ImageNmae="typo-image")
    assert err.get_http_status() == 400
    assert err.get_error_code() == "InvalidParameter"
    assert '"ImageNmae"' in err.get_error_msg() and "CreateImage" in err.get_error_msg()
    assert 'Did you mean "ImageName"' in err.get_error_msg()
    assert "typo-image" not in _own_images(call, region)
    log = [e for e in admin("GET", "requests")["requests"] if e["action"] == "CreateImage"]
    assert [(e["status"], e["code"]) for e in log] == [(400, "InvalidParameter")]


def test_misspelled_parameter_through_the_official_v3_client(emulator, new_sdk_client):
    """The Tea client sends only model fields; a generic call with a wrong name is refused the same way."""
    from Tea.exceptions import TeaException

    from ecs_emulator import testing
    with pytest.raises(TeaException) as exc:
        testing.new_sdk_call(new_sdk_client, "DescribeImages", {"RegionId": _region(emulator), "ImageIds": "m-x"})
    assert exc.value.code == "InvalidParameter"
    assert '"ImageIds"' in exc.value.message


def test_indexed_and_json_list_names(emulator, call):
    region = _region(emulator)
    # Tag.N.Key with any N, DiskDeviceMapping.N.*, JSON-array InstanceIds: real names, accepted
    call("DescribeImages", RegionId=region, **{"Tag.3.Key": "k", "Tag.3.Value": "v"})
    call("DescribeInstances", RegionId=region, InstanceIds='["i-nothing"]')
    err = _refusal(call, "DescribeImages", RegionId=region, **{"Tag.1.Name": "k"})
    assert '"Tag.1.Name"' in err.get_error_msg()
    err = _refusal(call, "DescribeInstances", RegionId=region, **{"InstanceId.1": "i-x"})
    assert '"InstanceId.1"' in err.get_error_msg()


@pytest.mark.parametrize("action,params,name", [
    ("ImportImage", {"LicenseType": "Auto"}, "LicenseType"),            # current spec: Aliyun or BYOL
    ("ImportImage", {"Platform": "Windows 95"}, "Platform"),
    ("ImportImage", {"Architecture": "amd64"}, "Architecture"),
    ("CreateImage", {"BootMode": "Legacy"}, "BootMode"),
    ("ExportImage", {"ImageFormat": "iso"}, "ImageFormat"),
    ("StopInstance", {"StoppedMode": "KeepCharge"}, "StoppedMode"),
    ("DescribeImages", {"Status": "Available,Broken"}, "Status"),
    ("DescribeTasks", {"TaskStatus": "Running"}, "TaskStatus"),
    ("ModifyImageAttribute", {"LicenseType": "Aliyun"}, "LicenseType"),   # "only BYOL is supported"
])
def test_enumerated_values_outside_the_documented_set(emulator, call, action, params, name):
    err = _refusal(call, action, RegionId=_region(emulator), **params)
    assert err.get_error_code() == "InvalidParameter"
    assert '"%s"' % name in err.get_error_msg()
    assert "documented values" in err.get_error_msg()


def test_documented_values_pass_the_check(emulator, call):
    region = _region(emulator)
    out = call("DescribeImages", RegionId=region, Status="Creating,Waiting,Available,UnAvailable,CreateFailed,"
               "Deprecated", ImageOwnerAlias="self", Architecture="x86_64", OSType="linux")
    assert "Images" in out
    out = call("DescribeTasks", RegionId=region, TaskStatus="Processing", TaskAction="ExportImage")
    assert "TaskSet" in out


def test_strict_mode_can_be_switched_off(emulator, call, admin):
    region = _region(emulator)
    assert admin("GET", "config")["strict"] is True
    assert admin("PUT", "config", {"strict": False})["strict"] is False
    try:
        out = call("DescribeImages", RegionId=region, ImageOwnerAlias="self", ImageIds="m-x")
        assert "Images" in out           # the backend ignores what it does not read
    finally:
        admin("PUT", "config", {"strict": True})
    _refusal(call, "DescribeImages", RegionId=region, ImageIds="m-x")


def test_every_emulated_ecs_action_is_in_the_table():
    spec = api_spec()
    missing = sorted(a for a in Backend.actions if not spec.knows(a))
    assert missing == []


def test_enforced_enums_come_from_the_table():
    spec = ApiSpec()
    assert spec.documented_values("ImportImage", "LicenseType") == ["Aliyun", "BYOL"]
    assert set(spec.documented_values("StopInstance", "StoppedMode")) == {"StopCharging", "KeepCharging"}
    assert "qcow2" in spec.documented_values("ExportImage", "ImageFormat")


def test_committed_table_matches_the_installed_sdks():
    """api_params.json is what tools/gen_api_params.py prints for the installed SDK versions."""
    with open(os.path.join(HERE, "..", "ecs_emulator", "api_params.json"), encoding="utf-8") as fh:
        committed = json.load(fh)
    out = subprocess.run([sys.executable, GENERATOR], check=True, capture_output=True, text=True, timeout=300)
    fresh = json.loads(out.stdout)
    if fresh["sources"] != committed["sources"]:
        pytest.skip("other SDK versions installed (%s, table from %s): regenerate the table"
                    % (fresh["sources"], committed["sources"]))
    assert fresh == committed, "regenerate: python tests/emulator/tools/gen_api_params.py > ecs_emulator/api_params.json"
