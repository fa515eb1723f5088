"""Client helpers for tests and benchmarks (import only where the SDKs are installed).

``acs_client(emu)`` -> aliyunsdkcore AcsClient whose every request goes to the emulator;
``call(client, action, **params)`` -> dict via CommonRequest; ``new_sdk_client(emu)`` -> alibabacloud_ecs20140526
Client; ``admin(emu, method, path, body=None)`` -> JSON of the admin API. Proxies must be unset by the caller.
"""
import importlib
import inspect
import json
import re
import urllib.request


def _hostport(url):
    return url.split("://", 1)[-1].rstrip("/")


def acs_client(emu, account=0, region_id=None, credential=None, **kwargs):
    """aliyunsdkcore client pinned to the emulator (``account``: index or dict; ``credential``: SDK credential)."""
    from aliyunsdkcore.client import AcsClient

    endpoint = _hostport(emu.ecs_endpoint)

    class EmulatorAcsClient(AcsClient):
        def _resolve_endpoint(self, request):
            return endpoint

    acc = emu.accounts[account] if isinstance(account, int) else account
    region_id = region_id or emu.env()["ALIBABA_CLOUD_REGION_ID"]
    if credential is not None:
        return EmulatorAcsClient(region_id=region_id, credential=credential, **kwargs)
    return EmulatorAcsClient(acc["access_key_id"], acc["access_key_secret"], region_id, **kwargs)


def common_request(action, params=None, version="2014-05-26", product="Ecs", method="POST", body_params=None):
    from aliyunsdkcore.request import CommonRequest

    req = CommonRequest()
    req.set_accept_format("json")
    req.set_method(method)
    req.set_version(version)
    req.set_action_name(action)
    req.set_product(product)
    for k, v in (params or {}).items():
        if v is not None:
            req.add_query_param(k, v)
    for k, v in (body_params or {}).items():
        if v is not None:
            req.add_body_params(k, v)
    return req


def call(client, action, **params):
    """Send ``action`` with flat ``params`` through aliyunsdkcore; returns the decoded JSON (raises on errors)."""
    return json.loads(client.do_action_with_exception(common_request(action, params)))


def new_sdk_config(emu, account=0, **kwargs):
    from alibabacloud_tea_openapi.models import Config

    acc = emu.accounts[account] if isinstance(account, int) else account
    kwargs.setdefault("access_key_id", acc["access_key_id"])
    kwargs.setdefault("access_key_secret", acc["access_key_secret"])
    kwargs.setdefault("region_id", emu.env()["ALIBABA_CLOUD_REGION_ID"])
    return Config(endpoint=_hostport(emu.ecs_endpoint), protocol="http", **kwargs)


def new_sdk_client(emu, account=0, **kwargs):
    """alibabacloud_ecs20140526 Client (V3 signatures by default) pointed at the emulator."""
    from alibabacloud_ecs20140526.client import Client

    return Client(new_sdk_config(emu, account, **kwargs))


def new_sdk_call(client, action, params=None, version="2014-05-26", method="POST"):
    """Generic RPC call through the Tea OpenAPI client (used for STS and actions without a model)."""
    from alibabacloud_tea_openapi import models as open_api_models
    from alibabacloud_tea_util import models as util_models

    p = open_api_models.Params(action=action, version=version, protocol="HTTP", pathname="/", method=method,
                               auth_type="AK", style="RPC", req_body_type="formData", body_type="json")
    req = open_api_models.OpenApiRequest(query={k: str(v) for k, v in (params or {}).items()})
    return client.call_api(p, req, util_models.RuntimeOptions())


def admin(emu_or_url, method, path, body=None, timeout=30):
    base = emu_or_url if isinstance(emu_or_url, str) else emu_or_url.admin_url
    data = json.dumps(body).encode("utf-8") if body is not None else None
    req = urllib.request.Request(base.rstrip("/") + "/" + path.lstrip("/"), data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(req, timeout=timeout) as resp:
        return json.loads(resp.read().decode("utf-8"))


def sdk_param_names(action):
    """The query parameters aliyunsdkecs's request class sends for ``action`` (repeated lists with indexes 1 and 2;
    [] when the SDK has no such class): the names a real client may send, for fuzz tests."""
    try:
        src = inspect.getsource(importlib.import_module("aliyunsdkecs.request.v20140526.%sRequest" % action))
    except ImportError:
        return []
    names = set(re.findall(r"add_query_param\(\s*'([^']+)'\s*,", src))
    for prefix, rest in re.findall(r"add_query_param\(\s*'([^']+\.)'\s*\+\s*str\([^)]*\)\s*(?:\+\s*'([^']*)')?",
                                   src):
        for n in (1, 2):
            name = "%s%d%s" % (prefix, n, rest)
            names.add(name + "1" if name.endswith(".") else name)
    return sorted(names)
