"""Variables for the integration targets, read from a running emulator.

    python -m ecs_emulator.testvars --admin http://127.0.0.1:PORT/_emulator

prints one JSON object with exactly the variables of docs/dev/ARCHITECTURE.md "Integration targets".
``test_vars(resources, accounts, admin_url)`` computes the same dict from the two admin documents.
"""
import argparse
import json
import os
import sys
import urllib.request
import uuid

VARIABLES = ("test_region", "test_region_2", "test_instance_running", "test_instance_stopped", "test_account_id",
             "test_second_account_id", "test_second_account", "test_oss_bucket", "test_oss_objects",
             "test_export_bucket", "test_oss_endpoints", "test_public_image_id", "test_key_pair_name",
             "test_share_account_ids", "test_marketplace_derived_image_id", "test_vswitch_id", "test_vswitch_id_2",
             "test_security_group_id", "test_security_group_id_2", "test_instance_type", "test_instance_type_arm",
             "test_arm_image_id", "test_resource_prefix",
             "emulator", "emulator_admin")


def _account(accounts, ref):
    for acc in accounts:
        if ref in (acc.get("name"), acc.get("account_id")):
            return acc
    return None


def _pick_instance(res_account, region, status):
    """First instance of ``status`` without operation locks in ``region`` (fixture order)."""
    reg = (res_account or {}).get("regions", {}).get(region, {})
    for inst in reg.get("instances", []):
        locks = inst.get("OperationLocks", {}).get("LockReason", [])
        if inst.get("Status") == status and not locks:
            return inst["InstanceId"]
    return None


def _share_account_ids(resources, accounts, exclude):
    """Ids of existing accounts to share with, without ``exclude`` (the test account and the second account): the
    fixture's keyless ``extra_account_ids`` (60 in the default fixture), or its other accounts when it has none."""
    ids = [str(a) for a in resources.get("extra_account_ids", [])] or [a["account_id"] for a in accounts]
    return [a for a in dict.fromkeys(ids) if a not in exclude]


def _marketplace_derived(res_account, region, hint):
    """Id of an Available own custom image in ``region`` that carries a ProductCode (fixture order)."""
    for img in (res_account or {}).get("regions", {}).get(region, {}).get("images", []):
        if hint and img.get("ImageId") != hint:
            continue
        if img.get("ProductCode") and img.get("Status") == "Available":
            return img["ImageId"]
    return None


def _network(resources, account_id, region, kind, hint):
    """First vswitch / security group id of the account in ``region`` (the fixture hint when it is there)."""
    items = (resources.get("networks") or {}).get(account_id, {}).get(region, {}).get(kind, [])
    key = "VSwitchId" if kind == "vswitches" else "SecurityGroupId"
    ids = [i[key] for i in items]
    return hint if hint in ids else (ids[0] if ids else None)


def test_vars(resources, accounts, admin_url, prefix=None):
    hints = resources.get("testvars") or {}
    primary = _account(accounts, hints.get("account")) if hints.get("account") else None
    primary = primary or accounts[0]
    second = _account(accounts, hints.get("second_account")) if hints.get("second_account") else None
    second = second or next(a for a in accounts if a["account_id"] != primary["account_id"])
    res_primary = resources.get("accounts", {}).get(primary["account_id"], {})
    regions_with_instances = [r for r, v in res_primary.get("regions", {}).items() if v.get("instances")]
    region = hints.get("region") or (regions_with_instances[0] if regions_with_instances else resources["regions"][0])
    region_2 = hints.get("region_2") or next(r for r in regions_with_instances + resources["regions"] if r != region)

    buckets = (resources.get("oss") or {}).get("buckets", [])
    mine = [b for b in buckets if b.get("region") == region
            and (_account(accounts, b.get("account")) or {}).get("account_id") == primary["account_id"]]
    bucket = next((b for b in mine if b.get("name") == hints.get("oss_bucket")), None) \
        or next((b for b in mine if b.get("objects")), None)
    export_bucket = hints.get("export_bucket") or next((b["name"] for b in mine if not b.get("objects")), None)
    objects = {}
    for obj in (bucket or {}).get("objects", []):
        role = obj.get("role") or obj.get("format")
        objects.setdefault(role, obj["key"])
    public = resources.get("public_images", {}).get(region, [])
    public_id = hints.get("public_image_id") or next(
        (i["ImageId"] for i in public if i.get("ImageOwnerAlias") == "system" and i.get("OSType") == "linux"
         and i.get("Architecture") == "x86_64"), None)
    arm_id = hints.get("arm_image_id") or next(
        (i["ImageId"] for i in public if i.get("ImageOwnerAlias") == "system" and i.get("OSType") == "linux"
         and i.get("Architecture") == "arm64"), None)
    net = {}
    for name, kind, reg in (("vswitch_id", "vswitches", region), ("vswitch_id_2", "vswitches", region_2),
                            ("security_group_id", "security_groups", region),
                            ("security_group_id_2", "security_groups", region_2)):
        net["test_" + name] = _network(resources, primary["account_id"], reg, kind, hints.get(name))
    key_pairs = res_primary.get("regions", {}).get(region, {}).get("key_pairs", [])
    key_pair = hints.get("key_pair_name") or (key_pairs[0]["KeyPairName"] if key_pairs else None)
    return {
        "test_region": region,
        "test_region_2": region_2,
        "test_instance_running": _pick_instance(res_primary, region, "Running"),
        "test_instance_stopped": _pick_instance(res_primary, region, "Stopped"),
        "test_account_id": primary["account_id"],
        "test_second_account_id": second["account_id"],
        "test_second_account": {"access_key": second.get("access_key_id"),
                                "secret_key": second.get("access_key_secret")},
        "test_oss_bucket": bucket["name"] if bucket else None,
        "test_oss_objects": {k: objects.get(k) for k in ("raw", "vhd", "qcow2", "corrupt")},
        "test_export_bucket": export_bucket,
        # region -> the emulator's OSS endpoint of that region (one endpoint per region, as on the cloud)
        "test_oss_endpoints": resources.get("oss_endpoints") or {},
        "test_public_image_id": public_id,
        "test_key_pair_name": key_pair,
        "test_share_account_ids": _share_account_ids(resources, accounts, (primary["account_id"], second["account_id"])),
        "test_marketplace_derived_image_id": _marketplace_derived(res_primary, region,
                                                                  hints.get("marketplace_derived_image_id")),
        "test_instance_type": hints.get("instance_type") or "ecs.g7.large",
        "test_instance_type_arm": hints.get("instance_type_arm") or "ecs.g8y.large",
        "test_arm_image_id": arm_id,
        "test_resource_prefix": prefix or "ansible-test-%s" % uuid.uuid4().hex[:8],
        **net,
        "emulator": True,
        "emulator_admin": admin_url,
    }


def _get(url):
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))   # never through a proxy
    with opener.open(url, timeout=30) as resp:
        return json.loads(resp.read().decode("utf-8"))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--admin", default=os.environ.get("ECS_EMULATOR_ADMIN"),
                    help="admin URL of the emulator (default: $ECS_EMULATOR_ADMIN)")
    ap.add_argument("--prefix", default=None, help="test_resource_prefix to use (default: random)")
    args = ap.parse_args(argv)
    if not args.admin:
        ap.error("--admin URL (or ECS_EMULATOR_ADMIN) is required")
    admin = args.admin.rstrip("/")
    resources = _get(admin + "/resources")
    accounts = _get(admin + "/accounts")
    json.dump(test_vars(resources, accounts, admin, args.prefix), sys.stdout, indent=2, sort_keys=True)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
