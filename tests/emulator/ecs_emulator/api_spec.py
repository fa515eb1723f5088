"""What the real ECS API accepts: each action's parameter names and the documented values of its enumerated
parameters, from ``api_params.json`` (generated from the official SDK definitions by
``tests/emulator/tools/gen_api_params.py``; see there). Protocol side: checked on every ECS request before the
backend sees it, in strict mode (the default; ``--no-strict`` / ``start_emulator(strict=False)`` /
``PUT /_emulator/config {"strict": false}`` turn it off).

- A parameter the action does not have (``Tag.3.Key`` matches ``Tag.N.Key``) -> 400 ``InvalidParameter`` naming
  it (and the closest real name, if any). Actions the table does not know are not checked.
- The parameters of ``ENFORCED_ENUMS`` take only their documented values (case-insensitively; the comma-separated
  filters of ``COMMA_LISTS`` value by value) -> 400 ``InvalidParameter`` naming the parameter and the values.
  Values come from the "Valid values" lists of the SDK docstrings, except ``VALUE_OVERRIDES`` (each with its
  source) where the docstring cannot be read mechanically.
"""
import difflib
import functools
import json
import os
import re

from .errors import ApiError

SPEC_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "api_params.json")

# Accepted on every action: aliyunsdkcore (request.py, RpcRequest/CommonRequest) adds ``RegionId`` to the signed
# parameters of every RPC request, also of actions whose definition has none (DescribeRegions, StopInstance ...).
GATEWAY_PARAMS = frozenset({"RegionId"})

# Enumerated parameters whose values are checked (by parameter name, in every action that documents values).
ENFORCED_ENUMS = frozenset({
    "Architecture", "BootMode", "Platform", "LicenseType", "ImageFormat", "OSType", "Status", "TaskStatus",
    "TaskAction", "StoppedMode", "ImageOwnerAlias", "Usage", "Features.ImdsSupport", "Features.NvmeSupport",
    "SnapshotType", "SourceDiskType", "ActionType", "DiskType", "InstanceChargeType", "InstanceNetworkType",
})

# (action, parameter) documented as a comma-separated list of values.
COMMA_LISTS = frozenset({("DescribeImages", "Status")})

# (action, parameter) -> values, where the docstring is not a plain bullet list. Source noted per entry.
VALUE_OVERRIDES = {
    # alibabacloud_ecs20140526 ModifyImageAttributeRequest.license_type: "Currently, only BYOL is supported."
    ("ModifyImageAttribute", "LicenseType"): ["BYOL"],
    # ImportImageRequest.features.nvme_support docstring: "- supported: ... - unsupported: ..." (no "Valid values").
    ("ImportImage", "Features.NvmeSupport"): ["supported", "unsupported"],
}

_INDEX = re.compile(r"\.\d+(?=\.|$)")


class ApiSpec:
    def __init__(self, path=SPEC_FILE):
        with open(path, encoding="utf-8") as fh:
            doc = json.load(fh)
        self.sources = doc.get("sources", {})
        self.actions = {}
        for action, spec in doc["actions"].items():
            names = set(spec["params"]) | set(spec.get("core_only", ())) | GATEWAY_PARAMS
            values = dict(spec.get("values", {}))
            for (act, name), vals in VALUE_OVERRIDES.items():
                if act == action:
                    values[name] = vals
            enums = {n: v for n, v in values.items() if n in ENFORCED_ENUMS}
            self.actions[action] = (frozenset(names), enums)

    def knows(self, action):
        return action in self.actions

    def param_names(self, action):
        return sorted(self.actions[action][0]) if action in self.actions else None

    def documented_values(self, action, name):
        return self.actions.get(action, (None, {}))[1].get(name)

    def check(self, action, params):
        """Raise ApiError for a parameter ``action`` does not have or an enumerated value it does not take."""
        spec = self.actions.get(action)
        if spec is None:
            return
        names, enums = spec
        for key in sorted(params):
            generic = _INDEX.sub(".N", key)
            if generic not in names:
                close = difflib.get_close_matches(generic, names, n=1, cutoff=0.75)
                hint = ' Did you mean "%s"?' % close[0] if close else ""
                raise ApiError(400, "InvalidParameter", 'The specified parameter "%s" is not valid: %s has no such '
                               'parameter.%s' % (key, action, hint))
            allowed = enums.get(generic)
            value = params[key]
            if allowed is None or value is None or value == "":
                continue
            folded = {a.lower() for a in allowed}
            given = value.split(",") if (action, generic) in COMMA_LISTS else [value]
            for item in given:
                if item.strip().lower() not in folded:
                    raise ApiError(400, "InvalidParameter", 'The specified parameter "%s" is not valid: %r is not '
                                   'one of the documented values (%s).' % (key, item, ", ".join(allowed)))


@functools.lru_cache(maxsize=None)
def api_spec():
    """The process-wide ApiSpec (loaded once)."""
    return ApiSpec()
