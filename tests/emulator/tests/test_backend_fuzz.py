"""Garbage in: every action answers either a result or an ApiError, never another exception, and a refused
request changes nothing."""
import json
import random

from ecs_emulator import testing
from ecs_emulator.backend import Backend
from ecs_emulator.backend.testkit import Harness
from ecs_emulator.errors import ApiError

NAMES = ["RegionId", "ImageId", "InstanceId", "ImageName", "Description", "Status", "PageSize", "PageNumber",
         "DiskDeviceMapping.1.OSSBucket", "DiskDeviceMapping.1.OSSObject", "DiskDeviceMapping.1.Format",
         "DiskDeviceMapping.1.Size", "DiskDeviceMapping.2.SnapshotId", "DiskDeviceMapping.1.DiskImageSize",
         "SnapshotId", "Tag.1.Key", "Tag.1.Value", "Tag.0.Key", "AddAccount.1", "RemoveAccount.1", "IsPublic",
         "DestinationRegionId", "OSSBucket", "OSSPrefix", "ImageFormat", "TaskId", "TaskIds", "InstanceIds",
         "DiskIds", "SnapshotIds", "SystemDisk.Size", "Password", "KeyPairName", "DiskId", "ResourceType",
         "ResourceId.1", "TagKey.1", "All", "Force", "DryRun", "NextToken", "MaxResults", "Filter.1.Key",
         "Filter.1.Value", "ImageOwnerAlias", "Usage", "OSType", "Architecture", "ResourceGroupId", "AcceptLanguage",
         "TagFilter.1.TagValues.1", "Features.ImdsSupport", "ClientToken", "ResourceIds.1", "StartTime"]
VALUES = ["", " ", "0", "-1", "1", "101", "99999999999999999999", "true", "False", "ALL", "Available,Bogus",
          "cn-hangzhou", "cn-shanghai", "nowhere", "m-bp1emu0partnergolden1", "i-bp1emu0running000001",
          "aliyun_3_x64_20G_alibase_20240819.vhd", "d-bp1emu0sysrun0000001", "ecs-images-hz", "disks/alinux3-minimal.raw",
          "[\"i-bp1emu0running000001\"]", "[1,2]", "{", "\u4e2d\u6587", "x" * 300, "http://evil", "acs:x",
          "image", "instance", "qcow2", "RAW", "nt-5", "nt-x", "2026-01-01T00:00Z", "Abcdefg12!", "/dev/xvdb",
          "\x00\x01", "%s", "2234567890123456", "1234567890123456"]


def _state(h):
    return json.dumps(h.backend.resources(), sort_keys=True, default=str)


def _dispatch_checked(h, action, params, crashes):
    """Send one request; record in ``crashes`` any exception other than an ApiError, and any refusal that changed
    state. True when the request was served."""
    before = _state(h)
    try:
        h.backend.dispatch(h.ctx("primary", params.get("RegionId") or None), action, params)
        return True
    except ApiError as err:
        assert 400 <= err.status < 600 and err.code and err.message, (action, params, err)
        if err.code != "DryRunOperation" and _state(h) != before:
            crashes.append((action, params, "refused but changed state: %s" % err.code))
    except Exception as exc:       # noqa: BLE001 - this is what the test looks for
        crashes.append((action, params, repr(exc)))
    return False


def test_fuzz_every_action():
    h = Harness()
    rng = random.Random(1234)
    crashes = []
    for action in sorted(Backend.actions):
        for _i in range(30):
            params = {rng.choice(NAMES): rng.choice(VALUES) for _i in range(rng.randint(0, 6))}
            _dispatch_checked(h, action, params, crashes)
            h.advance(rng.choice([0, 1, 30, 400]))
    assert crashes == []


def test_sdk_param_names_found():
    assert {"ImageName", "DiskDeviceMapping.1.Size", "DiskDeviceMapping.2.SnapshotId", "Tag.1.Key"} <= set(
        testing.sdk_param_names("CreateImage"))
    assert {"AddAccount.1", "RemoveAccount.2", "IsPublic"} <= set(testing.sdk_param_names("ModifyImageSharePermission"))


def test_fuzz_every_action_with_its_own_parameters():
    """Like test_fuzz_every_action, but each request mixes the action's own parameters (from the SDK's request
    class) with valid-looking and garbage values, so validation paths deep inside each action are reached."""
    h = Harness()
    rng = random.Random(4321)
    crashes, accepted = [], 0
    for action in sorted(Backend.actions):
        own = testing.sdk_param_names(action)
        assert own, action
        for _i in range(40):
            params = {rng.choice(own if rng.random() < 0.8 else NAMES): rng.choice(VALUES)
                      for _i in range(rng.randint(1, 8))}
            if rng.random() < 0.7:
                params["RegionId"] = "cn-hangzhou"
            if _dispatch_checked(h, action, params, crashes):
                accepted += 1
            h.advance(rng.choice([0, 1, 30, 400]))
    assert crashes == []
    assert accepted > 50           # not only refusals: some garbage is valid enough to be served
