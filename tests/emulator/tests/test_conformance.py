"""Conformance with the official response models: every action the collection uses (the action names quoted in
plugins/) is sent through the official ``alibabacloud_ecs20140526`` client, and every answer is checked against
its ``<Action>ResponseBody`` model, recursively: no key the model lacks, no value of the wrong JSON type (a
``bool`` field must not be ``"false"``), and every key the collection reads (the ``'Key'`` names plugins/ looks
up) that a model defines appears in some answer."""
import functools
import os
import re
import sys
import time
import typing

import pytest

pytest.importorskip("alibabacloud_ecs20140526")

from alibabacloud_ecs20140526 import models  # noqa: E402
from alibabacloud_tea_util.models import RuntimeOptions  # noqa: E402
from Tea.exceptions import TeaException  # noqa: E402

from ecs_emulator import testing  # noqa: E402
from ecs_emulator.api_spec import api_spec  # noqa: E402
from ecs_emulator.realism import BEHAVIOURS  # noqa: E402
from ecs_emulator.testvars import test_vars as make_test_vars  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
PLUGINS = os.path.join(ROOT, "plugins")


# ------------------------------------------------------------------------------------------ the collection
def _plugin_sources():
    for base, _dirs, files in os.walk(PLUGINS):
        for name in files:
            if name.endswith(".py"):
                with open(os.path.join(base, name), encoding="utf-8") as fh:
                    yield fh.read()


@functools.lru_cache(maxsize=None)
def collection_actions():
    words = set()
    for src in _plugin_sources():
        words.update(re.findall(r"['\"]([A-Z][A-Za-z]+)['\"]", src))
    return sorted(w for w in words if api_spec().knows(w))


@functools.lru_cache(maxsize=None)
def collection_read_keys():
    """Response keys plugins/ reads: ``.get('Key'`` and ``['Key']``."""
    keys = set()
    for src in _plugin_sources():
        keys.update(re.findall(r"\.get\(\s*'([A-Z][A-Za-z0-9]*)'", src))
        keys.update(re.findall(r"\[\s*'([A-Z][A-Za-z0-9]*)'\s*\]", src))
    return keys


# ------------------------------------------------------------------------------------------ model walking
def _hints(cls):
    return typing.get_type_hints(cls.__init__, globalns=dict(vars(sys.modules[cls.__module__])))


def _is_model(tp):
    return isinstance(tp, type) and hasattr(tp, "to_map") and hasattr(tp, "from_map")


def _sample(tp):
    origin = typing.get_origin(tp)
    if origin in (list, typing.List):
        return []
    if origin in (dict, typing.Dict):
        return {}
    if _is_model(tp):
        return tp()
    return "x"


@functools.lru_cache(maxsize=None)
def model_fields(cls):
    """wire key -> type of a Tea model (found by setting one field at a time and reading ``to_map``)."""
    out = {}
    for field, tp in _hints(cls).items():
        obj = cls()
        setattr(obj, field, _sample(tp))
        keys = list(obj.to_map() or {})
        if len(keys) == 1:
            out[keys[0]] = tp
    return out


def _type_name(tp):
    return getattr(tp, "__name__", str(tp))


def check_value(value, tp, path, problems, seen_keys):
    origin = typing.get_origin(tp)
    if value is None:
        return
    if origin in (list, typing.List):
        if not isinstance(value, list):
            problems.append("%s: a list in the model, got %s %r" % (path, type(value).__name__, value))
            return
        for i, item in enumerate(value):
            check_value(item, typing.get_args(tp)[0], "%s[%d]" % (path, i), problems, seen_keys)
        return
    if origin in (dict, typing.Dict) or tp is typing.Any:
        return
    if _is_model(tp):
        if not isinstance(value, dict):
            problems.append("%s: an object in the model, got %s %r" % (path, type(value).__name__, value))
            return
        fields = model_fields(tp)
        for key, item in value.items():
            if key not in fields:
                problems.append("%s.%s: not in the real model %s" % (path, key, tp.__name__))
                continue
            seen_keys.add(key)
            check_value(item, fields[key], "%s.%s" % (path, key), problems, seen_keys)
        return
    ok = {str: lambda v: isinstance(v, str),
          bool: lambda v: isinstance(v, bool),
          int: lambda v: isinstance(v, int) and not isinstance(v, bool),
          float: lambda v: isinstance(v, (int, float)) and not isinstance(v, bool)}.get(tp)
    if ok is not None and not ok(value):
        problems.append("%s: %s in the model, got %s %r" % (path, _type_name(tp), type(value).__name__, value))


# ------------------------------------------------------------------------------------------ the client
def _snake(action):
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", action).lower()


class Recorder:
    """The official client, with every raw answer body checked against its response model."""

    def __init__(self, emulator):
        self.client = testing.new_sdk_client(emulator, 0)
        self.answers = {}           # action -> number of successful answers checked
        self.problems = []
        self.seen_keys = set()
        self._last = None
        original = self.client.call_api

        def call_api(params, request, runtime):
            out = original(params, request, runtime)
            self._last = out.get("body")
            return out

        self.client.call_api = call_api

    def __call__(self, action, **fields):
        req_cls = getattr(models, action + "Request")
        body_cls = getattr(models, action + "ResponseBody")
        self._last = None
        method = getattr(self.client, _snake(action) + "_with_options")
        resp = method(req_cls(**fields), RuntimeOptions())
        check_value(self._last, body_cls, action, self.problems, self.seen_keys)
        self.answers[action] = self.answers.get(action, 0) + 1
        return resp.body


def _until(what, fn, timeout=20.0):
    deadline = time.time() + timeout
    while True:
        try:
            out = fn()
        except TeaException:
            out = None
        if out:
            return out
        if time.time() > deadline:
            pytest.fail("timed out waiting for %s" % what)
        time.sleep(0.05)


def _image(api, region, image_id):
    body = api("DescribeImages", region_id=region, image_id=image_id, status="ALL", image_owner_alias="self")
    images = body.images.image if body.images else []
    return images[0] if images else None


def _available(api, region, image_id):
    img = _image(api, region, image_id)
    return img if img is not None and img.status == "Available" else None


def _task_done(api, region, task_id):
    attr = api("DescribeTaskAttribute", region_id=region, task_id=task_id)
    return attr if attr.task_status in ("Finished", "Failed") else None


def _instance_status(api, instance_id, status):
    attr = api("DescribeInstanceAttribute", instance_id=instance_id)
    return attr if attr.status == status else None


def run_scenario(emulator, api):
    v = make_test_vars(testing.admin(emulator, "GET", "resources"), testing.admin(emulator, "GET", "accounts"),
                       emulator.admin_url)
    region, region_2 = v["test_region"], v["test_region_2"]
    running, stopped = v["test_instance_running"], v["test_instance_stopped"]
    tag = [models.CreateImageRequestTag(key="conformance", value="yes")]

    api("DescribeRegions")
    api("DescribeInstances", region_id=region, instance_ids='["%s","%s"]' % (running, stopped), page_size=100)
    api("DescribeInstanceAttribute", instance_id=running)
    api("DescribeDisks", region_id=region, instance_id=running)
    api("DescribeKeyPairs", region_id=region)

    # an image from the running instance, its snapshots, attributes, tags, resource group, sharing
    image_id = api("CreateImage", region_id=region, instance_id=running, image_name="conformance-a", tag=tag,
                   client_token="conformance-a").image_id
    img = _until("image Available", lambda: _available(api, region, image_id))
    snap_ids = [m.snapshot_id for m in img.disk_device_mappings.disk_device_mapping]
    api("DescribeSnapshots", region_id=region, snapshot_ids='["%s"]' % '","'.join(snap_ids))
    api("ModifyImageAttribute", region_id=region, image_id=image_id, description="conformance image")
    api("TagResources", region_id=region, resource_type="image", resource_id=[image_id],
        tag=[models.TagResourcesRequestTag(key="second", value="2")])
    api("UntagResources", region_id=region, resource_type="image", resource_id=[image_id], tag_key=["second"])
    groups = [a for a in testing.admin(emulator, "GET", "resources")["accounts"].values()
              if a["account_id"] == v["test_account_id"]][0]["resource_groups"]
    if len(groups) > 1:
        api("JoinResourceGroup", region_id=region, resource_type="image", resource_id=image_id,
            resource_group_id=groups[1])
    partner = v["test_second_account_id"]
    api("ModifyImageSharePermission", region_id=region, image_id=image_id, add_account=[partner])
    api("DescribeImageSharePermission", region_id=region, image_id=image_id)
    api("ModifyImageSharePermission", region_id=region, image_id=image_id, remove_account=[partner])

    # copy to another region, cancelled
    copy_id = api("CopyImage", region_id=region, image_id=image_id, destination_region_id=region_2,
                  destination_image_name="conformance-copy", client_token="conformance-copy").image_id
    try:
        api("CancelCopyImage", region_id=region_2, image_id=copy_id)
    except TeaException as exc:           # the copy may already be done at this time scale
        assert exc.code in ("IncorrectImageStatus",), exc

    # export, then the task
    export = api("ExportImage", region_id=region, image_id=image_id, ossbucket=v["test_export_bucket"],
                 ossprefix="conformance", image_format="raw")
    api("DescribeTasks", region_id=region, task_action="ExportImage", page_size=100)
    _until("export task", lambda: _task_done(api, region, export.task_id))

    # import
    obj = v["test_oss_objects"].get("raw") or sorted(v["test_oss_objects"].values())[0]
    imported = api("ImportImage", region_id=region, image_name="conformance-import", client_token="conformance-i",
                   architecture="x86_64", platform="Others Linux", ostype="linux",
                   disk_device_mapping=[models.ImportImageRequestDiskDeviceMapping(
                       ossbucket=v["test_oss_bucket"], ossobject=obj, format="RAW")])
    api("DescribeTasks", region_id=region, task_ids=imported.task_id)

    # stop, replace the system disk, start
    api("StopInstance", instance_id=running, stopped_mode="KeepCharging")
    _until("instance Stopped", lambda: _instance_status(api, running, "Stopped"))
    api("ReplaceSystemDisk", instance_id=running, image_id=image_id, client_token="conformance-r")
    _until("replacement", lambda: _start(api, running))
    _until("instance Running", lambda: _instance_status(api, running, "Running"))

    # launch an instance from the image (ecs_instance's reads first), then release it
    vsw = api("DescribeVSwitches", region_id=region, v_switch_id=v["test_vswitch_id"]).v_switches.v_switch[0]
    api("DescribeSecurityGroups", region_id=region, security_group_ids='["%s"]' % v["test_security_group_id"],
        page_size=50)
    api("DescribeInstanceTypes", instance_types=[v["test_instance_type"]])
    api("DescribeAvailableResource", region_id=region, destination_resource="InstanceType", zone_id=vsw.zone_id,
        instance_type=v["test_instance_type"], instance_charge_type="PostPaid", spot_strategy="NoSpot")
    launched = api("RunInstances", region_id=region, image_id=image_id, instance_type=v["test_instance_type"],
                   v_switch_id=v["test_vswitch_id"], security_group_ids=[v["test_security_group_id"]], amount=1,
                   instance_name="conformance-vm", client_token="conformance-run",
                   tag=[models.RunInstancesRequestTag(key="conformance", value="yes")])
    new_ids = launched.instance_id_sets.instance_id_set
    _until("launched instance Running", lambda: _instance_status(api, new_ids[0], "Running"))
    api("DeleteInstances", region_id=region, instance_id=new_ids, force=True, client_token="conformance-del")

    # an image of the stopped instance (its own snapshots), deleted, then its snapshots
    second_id = api("CreateImage", region_id=region, instance_id=stopped, image_name="conformance-b").image_id
    second = _until("second image Available", lambda: _available(api, region, second_id))
    second_snaps = [m.snapshot_id for m in second.disk_device_mappings.disk_device_mapping]
    api("DeleteImage", region_id=region, image_id=second_id)
    _until("second image gone", lambda: _image(api, region, second_id) is None)
    for snap_id in second_snaps:       # refused (SnapshotCreatedImage) while the image is still being deleted
        _until("snapshot %s deleted" % snap_id, lambda: api("DeleteSnapshot", snapshot_id=snap_id) and True)


def _start(api, instance_id):
    api("StartInstance", instance_id=instance_id)
    return True


@pytest.fixture(scope="module")
def recorded(_emulator_session):
    """One run of the scenario with the realism behaviours at their defaults (every documented one on; the
    unconfirmed ones at the likelier answer), as the CLI and the integration targets run."""
    emulator = _emulator_session
    testing.admin(emulator, "POST", "reset")
    testing.admin(emulator, "PUT", "realism", {name: spec[0] for name, spec in BEHAVIOURS.items()})
    try:
        api = Recorder(emulator)
        run_scenario(emulator, api)
    finally:
        testing.admin(emulator, "POST", "reset")       # back to the session's start configuration
    return api


def test_collection_actions_found():
    actions = collection_actions()
    assert "DescribeImages" in actions and "CreateImage" in actions and len(actions) >= 20


def test_every_collection_action_answers_as_the_real_model(recorded):
    assert recorded.problems == []
    missing = [a for a in collection_actions() if a not in recorded.answers]
    assert missing == [], "actions the collection uses that the conformance scenario does not send"


def test_every_key_the_collection_reads_is_answered(recorded):
    """A key plugins/ reads that some response model of the used actions defines must appear in an answer."""
    defined = set()

    def walk(cls, seen):
        if cls in seen:
            return
        seen.add(cls)
        for key, tp in model_fields(cls).items():
            defined.add(key)
            inner = typing.get_args(tp)[0] if typing.get_origin(tp) in (list, typing.List) else tp
            if _is_model(inner):
                walk(inner, seen)

    for action in collection_actions():
        walk(getattr(models, action + "ResponseBody"), set())
    read = collection_read_keys() & defined
    assert sorted(read - recorded.seen_keys) == []
