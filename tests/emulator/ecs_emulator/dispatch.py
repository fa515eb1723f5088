"""What happens to an authenticated RPC request: faults, STS or ECS, ClientToken replay around the backend call.
Returns the answer body; never sees HTTP."""
import logging
import random
import threading
import time

from .api_spec import api_spec
from .context import RequestContext
from .errors import ApiError
from .faults import (internal_error, rejected_throttling_error, throttling_error, throttling_user_error,
                     unavailable_error)
from .httpd import Dropped
from .realism import THROTTLE_EVERY
from .sts import STS_ACTIONS, STS_VERSION

log = logging.getLogger("ecs_emulator")


def process(state, req, rid, host, entry):
    """-> (status, body, extra headers) for the authenticated ``req``; ``entry`` is its request-log entry."""
    action = req.action
    version = req.version
    biz = req.business_params()
    account_id = req.account["account_id"]
    ctx = RequestContext(account_id=account_id, region_id=req.params.get("RegionId") or None, request_id=rid,
                         host=host, client_token=req.params.get("ClientToken") or None)

    rule = state.faults.pick(action)
    delay, lost = 0.0, False
    if rule is not None:
        entry["fault"] = rule.kind
        if rule.kind == "slow":
            delay = rule.arg
        elif rule.kind == "drop":
            raise Dropped()
        elif rule.kind == "lost":
            lost = True
        elif rule.kind in ("image_create_failed", "image_unavailable"):
            ctx.fail_as = "CreateFailed" if rule.kind == "image_create_failed" else "UnAvailable"
        else:
            err = {"throttling": throttling_error, "throttling_user": throttling_user_error,
                   "rejected_throttling": rejected_throttling_error,
                   "unavailable": unavailable_error, "internal": internal_error}[rule.kind]()
            if rule.arg:
                err.retry_after = rule.arg
            raise err

    is_sts = action in STS_ACTIONS and (version == STS_VERSION or state.backend is None
                                        or action not in state.backend.actions)
    if rule is None and not is_sts and state.realism.on("rejected_throttling"):
        state.throttle.check(account_id)
    if is_sts:
        if delay:
            time.sleep(delay)
        body = state.sts.dispatch({"account_id": account_id, "temp": req.temp}, action, biz)
    else:
        if state.strict:
            try:
                api_spec().check(action, biz)
            except ApiError as err:       # logged: a client that swallows the refusal still leaves a trace
                log.warning("strict mode refused %s: %s", action, err.message)
                raise
        body = dispatch_ecs(state, ctx, action, biz, delay)
    if lost:
        raise unavailable_error()
    out = {"RequestId": rid}
    out.update(body)
    return 200, out, {}


def dispatch_ecs(state, ctx, action, biz, delay=0.0):
    """Backend call with generic ClientToken handling. ``delay`` (fault ``slow``) is spent after the token is
    registered, so a retry with the same token meanwhile gets 403 IdempotentProcessing, as on the cloud."""
    backend = state.backend
    if backend is None:
        raise ApiError(500, "InternalError", "The emulator backend is not available: %s" % state.backend_error)
    if action not in backend.actions:
        raise ApiError(404, "InvalidAction.NotFound", "Specified api is not found, please check your url and "
                       "method.")

    def run():
        if delay:
            time.sleep(delay)
        with state.lock:
            out = backend.dispatch(ctx, action, dict(biz))
        out.pop("RequestId", None)
        return out

    token = ctx.client_token
    if not token:
        return run()
    key = (ctx.account_id, action, token)
    fp = state.tokens.fingerprint(biz)
    mode, stored = state.tokens.begin(key, fp, documented=state.realism.on("token_codes"))
    if mode == "replay":
        if delay:
            time.sleep(delay)
        return stored
    body = None
    try:
        body = run()
        return body
    finally:
        state.tokens.finish(key, fp, body)


class RejectedThrottling:
    """Realism rejected_throttling: about one ECS request in THROTTLE_EVERY is refused 400 Rejected.Throttling
    (seeded; never two in a row for one account, so one retry gets through)."""

    def __init__(self, seed=0):
        self._lock = threading.Lock()
        self._seed = seed
        self.reset()

    def reset(self):
        with self._lock:
            self._rng = random.Random("rejected_throttling-%s" % self._seed)
            self._last = {}

    def check(self, account_id):
        with self._lock:
            hit = self._rng.random() < 1.0 / THROTTLE_EVERY and not self._last.get(account_id)
            self._last[account_id] = hit
        if hit:
            raise rejected_throttling_error()
