"""The ECS/STS RPC listener: parse -> log -> authenticate -> process -> JSON answer; ``/_emulator/*`` goes to the
admin API. Glue only: parsing is ``rpc``, authentication ``auth``, processing ``dispatch``."""
import logging
import time
import traceback
from urllib.parse import urlsplit

from . import admin, jsonenc
from .auth import Authenticator
from .dispatch import process
from .errors import ApiError
from .faults import internal_error
from .httpd import DEFAULT_HOST_ID, BaseHandler, Dropped, new_request_id
from .requestlog import mask_params
from .rpc import error_body, parse_rpc_request

log = logging.getLogger("ecs_emulator")


class EcsHandler(BaseHandler):
    """ECS + STS RPC endpoint and the admin API."""

    def dispatch_request(self):
        started = time.time()
        path = urlsplit(self.path).path
        if path.startswith(admin.PREFIX):
            return admin.serve(self, path)
        req = None
        rid = new_request_id()
        host = (self.headers.get("Host") or DEFAULT_HOST_ID).split("://")[-1]
        entry = {"time": started, "request_id": rid, "account_id": None, "region_id": None, "action": None,
                 "params": {}, "status": None, "code": None, "fault": None, "signature": None,
                 "method": self.command}
        self.begin_log(entry)
        status, body, extra_headers = 500, None, {}
        try:
            try:
                req = parse_rpc_request(self)
                entry["action"] = req.action
                entry["params"] = mask_params(req.params)
                entry["region_id"] = req.params.get("RegionId") or None
                Authenticator(self.state).authenticate(req)
                entry["account_id"] = req.account["account_id"]
                entry["signature"] = req.scheme
                status, body, extra_headers = process(self.state, req, rid, host, entry)
            except ApiError as err:
                status, body = err.status, error_body(err, rid, host)
                retry_after = getattr(err, "retry_after", None)
                if retry_after:
                    extra_headers = {"x-acs-retry-after": str(retry_after)}
            except Dropped:
                entry["status"] = 0
                entry["code"] = None
                raise
            except Exception:  # noqa: BLE001 - never let a bug kill the connection without an answer
                log.error("unexpected error handling %s: %s", req.action if req else None, traceback.format_exc())
                status, body = 500, error_body(internal_error(), rid, host)
            entry["status"] = status
            entry["code"] = body.get("Code") if status >= 300 else None
            data = jsonenc.dumps(body).encode("utf-8")
            extra_headers = dict(extra_headers, **{"x-acs-request-id": rid})
            self.send_bytes(status, data, headers=extra_headers, head_only=self.command == "HEAD")
        finally:
            self.commit_log()       # no-op once send_response recorded it; a dropped request is recorded here
