"""The admin API (JSON under ``/_emulator/`` on the ECS port, no signature) as a route table.

A route is ``(METHOD, "path")`` -> ``handler(state, info, payload, query) -> (status, JSON-able)``; add one with
``@route("GET", "things")``. ``payload`` is the decoded JSON object body ({} when empty), ``query`` the query
string as a dict, ``info`` a callable returning the emulator's endpoints (``GET /_emulator/``).
"""
import json
import logging
import traceback
from urllib.parse import parse_qsl, urlsplit

from .faults import FaultSpecError
from .httpd import MAX_BODY
from .realism import RealismError

log = logging.getLogger("ecs_emulator")

PREFIX = "/_emulator"
ROUTES = {}


def route(method, path):
    def register(func):
        ROUTES[(method, path.strip("/"))] = func
        return func
    return register


class AdminError(Exception):
    """A refused admin request: answered ``{"error": message}`` with ``status``."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status
        self.message = message


# ---------------------------------------------------------------------------------------------- routes
@route("GET", "")
def _info(state, info, payload, query):
    return 200, info()


@route("GET", "accounts")
def _accounts(state, info, payload, query):
    return 200, [{"account_id": a["account_id"], "name": a.get("name"), "access_key_id": a["access_key_id"],
                  "access_key_secret": a["access_key_secret"], "roles": a.get("roles", [])}
                 for a in state.accounts]


@route("GET", "requests")
def _requests(state, info, payload, query):
    try:
        since = int(query.get("since", "0"))
    except ValueError:
        raise AdminError(400, "since must be an integer")
    return 200, {"requests": state.log.since(since)}


@route("DELETE", "requests")
def _clear_requests(state, info, payload, query):
    state.log.clear()
    return 200, {"cleared": True}


@route("GET", "faults")
def _faults(state, info, payload, query):
    return 200, state.faults.as_dict()


@route("PUT", "faults")
def _set_faults(state, info, payload, query):
    spec = payload.get("spec", "")
    if not isinstance(spec, str):
        raise AdminError(400, "spec must be a string")
    try:
        state.faults.set_spec(spec)
    except FaultSpecError as exc:
        raise AdminError(400, str(exc))
    return 200, state.faults.as_dict()


@route("DELETE", "faults")
def _clear_faults(state, info, payload, query):
    state.faults.clear()
    return 200, state.faults.as_dict()


def _non_negative_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0


def _config_view(state):
    view = {"time_scale": state.clock.time_scale, "seed": state.seed, "strict": state.strict}
    if state.backend is not None:
        view["durations"] = dict(state.backend.durations)
    return view


@route("GET", "config")
def _config(state, info, payload, query):
    return 200, _config_view(state)


@route("PUT", "config")
def _set_config(state, info, payload, query):
    unknown = set(payload) - {"time_scale", "strict", "durations"}
    if "durations" in payload:
        durations = payload["durations"]
        known = state.backend.durations if state.backend is not None else {}
        if not isinstance(durations, dict) or any(name not in known or not _non_negative_number(value)
                                                  for name, value in durations.items()):
            raise AdminError(400, "durations must map known names (%s) to simulated seconds >= 0"
                             % ", ".join(sorted(known)))
        known.update(durations)          # operations started from now on take the new durations
    if "strict" in payload:
        if not isinstance(payload["strict"], bool):
            raise AdminError(400, "strict must be true or false")
        state.strict = payload["strict"]
    if "time_scale" in payload:
        ts = payload["time_scale"]
        if not _non_negative_number(ts):
            raise AdminError(400, "time_scale must be a number >= 0")
        state.clock.set_time_scale(ts)
    if unknown:
        raise AdminError(400, "unknown config keys: %s" % sorted(unknown))
    return 200, _config_view(state)


def _realism_view(state):
    return {"realism": state.realism.as_dict(), "behaviours": state.realism.describe()}


@route("GET", "realism")
def _realism(state, info, payload, query):
    return 200, _realism_view(state)


@route("PUT", "realism")
def _set_realism(state, info, payload, query):
    try:
        state.realism.update(payload)
    except RealismError as exc:
        raise AdminError(400, str(exc))
    with state.lock:
        if state.backend is not None:
            state.backend.epoch += 1        # cached answers may depend on a switch
    return 200, _realism_view(state)


@route("POST", "reset")
def _reset(state, info, payload, query):
    state.reset()
    return 200, {"reset": True}


@route("GET", "resources")
def _resources(state, info, payload, query):
    with state.lock:
        dump = state.backend.resources() if state.backend is not None else {}
    dump = dict(dump)
    dump.setdefault("oss", state.oss.dump())
    dump["oss_endpoints"] = (info() or {}).get("oss_endpoints") or {}
    return 200, dump


@route("POST", "sts/expire")
def _sts_expire(state, info, payload, query):
    return 200, {"expired": state.sts.expire(payload.get("access_key_id"))}


@route("GET", "sts/credentials")
def _sts_credentials(state, info, payload, query):
    return 200, {"credentials": state.sts.dump()}


# ---------------------------------------------------------------------------------------------- serving
def serve(handler, path):
    """Answer the admin request ``handler`` is serving (``path``: the URL path, starting with ``/_emulator``)."""
    def send(status, obj):
        handler.send_bytes(status, json.dumps(obj, ensure_ascii=False, default=str).encode("utf-8"))

    method = handler.command
    try:
        raw = handler.read_body(limit=MAX_BODY)
    except (ValueError, OverflowError):
        handler.close_connection = True
        return send(400, {"error": "bad request body"})
    try:
        payload = json.loads(raw.decode("utf-8")) if raw.strip() else {}
    except ValueError:
        return send(400, {"error": "body is not JSON"})
    if not isinstance(payload, dict):
        return send(400, {"error": "body must be a JSON object"})
    func = ROUTES.get((method, path[len(PREFIX):].strip("/")))
    if func is None:
        return send(404, {"error": "no admin route %s %s" % (method, path)})
    query = dict(parse_qsl(urlsplit(handler.path).query))
    try:
        status, obj = func(handler.server.state, handler.server.emulator_info, payload, query)
    except AdminError as exc:
        status, obj = exc.status, {"error": exc.message}
    except Exception:  # noqa: BLE001
        log.error("admin error: %s", traceback.format_exc())
        status, obj = 500, {"error": "internal error in the admin API"}
    return send(status, obj)
