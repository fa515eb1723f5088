"""HTTP front end of the emulator: RPC request parsing, signatures, STS, ClientToken replay, faults, request log,
admin API. The resource logic lives in ``ecs_emulator.backend`` (see docs/dev/ARCHITECTURE.md).

Python API: ``emu = start_emulator(time_scale=0.01, faults=None, fixture=None, seed=0)``.
"""
import calendar
import copy
import email.utils
import hashlib
import json
import logging
import os
import socket
import threading
import time
import traceback
import uuid
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from . import jsonenc
from . import signatures as sig
from .clock import Clock
from .context import RequestContext
from .errors import ApiError
from .faults import (FaultInjector, FaultSpecError, internal_error, throttling_error, throttling_user_error,
                     unavailable_error)
from .oss_store import OssStore
from .realism import Realism, RealismError
from .sts import STS_ACTIONS, STS_VERSION, StsService

log = logging.getLogger("ecs_emulator")

DEFAULT_FIXTURE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "default.json")
DEFAULT_HOST_ID = "ecs.aliyuncs.com"
MAX_BODY = 16 * 1024 * 1024
MAX_PARAMS = 1000
MAX_PARAM_VALUE = 64 * 1024
TIMESTAMP_WINDOW = 15 * 60
JSON_CT = "application/json;charset=utf-8"

# Parameters that belong to the signature / transport, not to the action (removed before the backend sees the
# request and ignored by the ClientToken fingerprint).
COMMON_PARAMS = frozenset({"Action", "Version", "Format", "AccessKeyId", "Signature", "SignatureMethod",
                           "SignatureVersion", "SignatureType", "SignatureNonce", "Timestamp", "SecurityToken"})

# Used only when neither a fixture argument nor fixtures/default.json exists (bootstrap).
_MINIMAL_FIXTURE = {
    "accounts": [
        {"account_id": "1234567890123456", "name": "primary", "access_key_id": "LTAI5tEmuPrimaryKey0001",
         "access_key_secret": "emuPrimarySecret0000000000000001",
         "roles": ["acs:ram::1234567890123456:role/image-admin"]},
        {"account_id": "6543210987654321", "name": "secondary", "access_key_id": "LTAI5tEmuSecondKey0002",
         "access_key_secret": "emuSecondarySecret00000000000002",
         "roles": ["acs:ram::6543210987654321:role/image-admin"]},
    ],
    "regions": [{"region_id": "cn-hangzhou", "local_name": "华东1（杭州）", "zones": ["cn-hangzhou-h"]}],
    "oss": {"buckets": []},
}


def load_fixture(fixture):
    """``fixture``: dict, path, or None (default fixture)."""
    if isinstance(fixture, dict):
        return copy.deepcopy(fixture)
    path = fixture or DEFAULT_FIXTURE
    if fixture is None and not os.path.exists(path):
        return copy.deepcopy(_MINIMAL_FIXTURE)
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def new_request_id():
    return str(uuid.uuid4()).upper()


def mask_access_key(value):
    value = str(value)
    if len(value) <= 8:
        return "****"
    return value[:4] + "*" * (len(value) - 6) + value[-2:]


def mask_params(params):
    out = {}
    for k, v in params.items():
        lk = k.lower()
        if k == "AccessKeyId":
            out[k] = mask_access_key(v)
        elif k in ("SecurityToken", "Signature") or "password" in lk or "secret" in lk:
            out[k] = "******"
        else:
            out[k] = v
    return out


def _parse_timestamp(value):
    v = (value or "").strip()
    if "." in v and v.endswith("Z"):
        v = v.split(".")[0] + "Z"
    try:
        return calendar.timegm(time.strptime(v, "%Y-%m-%dT%H:%M:%SZ"))
    except (ValueError, OverflowError):
        return None


class RequestLog:
    """The admin request log. ``generation`` changes on every ``clear()``: a request that started before a clear
    (or a reset) is not added afterwards, so a cleared log never receives a previous test's late request."""

    def __init__(self, maxlen=200000):
        self._lock = threading.Lock()
        self._entries = deque(maxlen=maxlen)
        self._seq = 0
        self.generation = 0

    def add(self, entry, generation=None):
        """Append ``entry`` (numbered ``seq``); returns it, or None if the log was cleared since ``generation``."""
        with self._lock:
            if generation is not None and generation != self.generation:
                return None
            self._seq += 1
            entry["seq"] = self._seq
            self._entries.append(entry)
            return entry

    def since(self, seq=0):
        with self._lock:
            return [dict(e) for e in self._entries if e["seq"] > seq]

    def clear(self):
        with self._lock:
            self._entries.clear()
            self.generation += 1


class ClientTokenStore:
    """(account, action, token) -> (fingerprint, response body without RequestId)."""

    PROCESSING = object()

    def __init__(self):
        self._lock = threading.Lock()
        self._entries = {}

    @staticmethod
    def fingerprint(params):
        items = sorted((k, v) for k, v in params.items() if k not in COMMON_PARAMS)
        return hashlib.sha256(json.dumps(items, ensure_ascii=False).encode("utf-8")).hexdigest()

    def begin(self, key, fingerprint):
        """Returns ('new', None), ('replay', body) or raises the cloud's error."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                self._entries[key] = (fingerprint, self.PROCESSING)
                return "new", None
            fp, body = entry
            if fp != fingerprint:
                raise ApiError(400, "IdempotentParameterMismatch", "The request is retried with updated parameters.")
            if body is self.PROCESSING:
                raise ApiError(403, "IdempotentProcessing",
                               "The previous idempotent request(s) is still processing.")
            return "replay", copy.deepcopy(body)

    def finish(self, key, fingerprint, body):
        with self._lock:
            if body is None:
                self._entries.pop(key, None)      # failed: the token is not remembered
            else:
                self._entries[key] = (fingerprint, copy.deepcopy(body))

    def clear(self):
        with self._lock:
            self._entries.clear()

    def __len__(self):
        return len(self._entries)


class NonceStore:
    def __init__(self):
        self._lock = threading.Lock()
        self._seen = {}

    def use(self, key, now):
        """Returns False if ``key`` was used within the timestamp window."""
        with self._lock:
            if len(self._seen) > 50000:
                cutoff = now - TIMESTAMP_WINDOW
                self._seen = {k: t for k, t in self._seen.items() if t > cutoff}
            t = self._seen.get(key)
            if t is not None and t > now - TIMESTAMP_WINDOW:
                return False
            self._seen[key] = now
            return True

    def clear(self):
        with self._lock:
            self._seen.clear()


class _Dropped(Exception):
    """Fault ``drop``: close the connection without an answer."""


class EmulatorState:
    """Everything the HTTP handlers share. ``reset()`` reloads the fixture."""

    def __init__(self, fixture=None, time_scale=1.0, seed=0, faults=None, realism_off=None):
        self.fixture_source = fixture
        self.realism = Realism(off=realism_off)
        self.seed = seed
        self.clock = Clock(time_scale)
        self.lock = threading.RLock()          # serialises backend dispatch
        self.log = RequestLog()
        self.tokens = ClientTokenStore()
        self.nonces = NonceStore()
        self.faults = FaultInjector(faults, seed)
        self.host_port = None
        self.reset(keep_faults=True)

    def reset(self, keep_faults=False):
        with self.lock:
            self.fixture = load_fixture(self.fixture_source)
            self.accounts = self.fixture.get("accounts") or []
            if not self.accounts:
                raise ValueError("the fixture has no accounts")
            self.by_key = {a["access_key_id"]: a for a in self.accounts}
            self.by_id = {a["account_id"]: a for a in self.accounts}
            self.oss = OssStore.from_fixture(self.fixture.get("oss"), self.accounts)
            self.sts = StsService(self.accounts)
            self.realism.reset(self.fixture)
            self.backend = self._make_backend()
            self.log.clear()
            self.tokens.clear()
            self.nonces.clear()
            if not keep_faults:
                self.faults.clear()

    def _make_backend(self):
        try:
            from .backend import Backend
        except ImportError as exc:            # backend not written yet (bootstrap) -> STS/admin still work
            log.warning("ecs_emulator.backend unavailable: %s", exc)
            self.backend_error = str(exc)
            return None
        self.backend_error = None
        return Backend(self.fixture, self.clock, self.oss, seed=self.seed, realism=self.realism)

    def default_region(self):
        regions = self.fixture.get("regions") or []
        return regions[0]["region_id"] if regions else "cn-hangzhou"


# ================================================================================================ handler
class _Request:
    """One parsed RPC request."""

    def __init__(self):
        self.method = "GET"
        self.path = "/"
        self.query_pairs = []
        self.body_pairs = []
        self.params = {}
        self.body = b""
        self.headers = {}
        self.action = None
        self.account = None
        self.temp = None
        self.scheme = None
        self.access_key_id = None


class BaseHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "AliyunEmulator/1.0"
    sys_version = ""
    error_content_type = JSON_CT
    disable_nagle_algorithm = True      # headers and body are separate writes: avoid the 40 ms delayed-ACK stall
    timeout = 120                       # an idle or stalled client frees its thread after 2 minutes

    _log_entry = None                   # request-log entry of the request being served, until it is recorded

    def log_message(self, fmt, *args):     # quiet; use logging at debug level
        log.debug("%s - %s", self.address_string(), fmt % args)

    # -- request log: an entry is recorded BEFORE the first byte of its response is written, so a client that has
    #    its answer always finds the request in the log (tests count calls through GET /_emulator/requests).
    def begin_log(self, entry):
        """Start the log entry of this request (``entry["time"]`` = start time)."""
        self._log_entry = entry
        self._log_generation = self.server.state.log.generation

    def commit_log(self, status=None):
        """Record the pending entry once: called by ``send_response`` (status = the HTTP status unless the entry
        already has one) and, for requests that get no answer (fault ``drop``), when the request ends."""
        entry, self._log_entry = self._log_entry, None
        if entry is None:
            return
        if entry.get("status") is None and status is not None:
            entry["status"] = status
        entry["duration_ms"] = round((time.time() - entry["time"]) * 1000, 3)
        self.server.state.log.add(entry, self._log_generation)

    def send_response(self, code, message=None):
        self.commit_log(code)
        super().send_response(code, message)

    def handle_one_request(self):
        """Like the stdlib one, but every method goes to ``self.dispatch_request`` and nothing escapes."""
        try:
            self.raw_requestline = self.rfile.readline(65537)
            if len(self.raw_requestline) > 65536:
                self.requestline = ""
                self.request_version = ""
                self.command = ""
                self.send_error(414)
                return
            if not self.raw_requestline:
                self.close_connection = True
                return
            if not self.parse_request():
                return
            self.dispatch_request()
            self.wfile.flush()
        except (socket.timeout, TimeoutError) as exc:
            self.log_error("Request timed out: %r", exc)
            self.close_connection = True
        except (ConnectionError, BrokenPipeError):
            self.close_connection = True
        except _Dropped:
            self._drop()

    def _drop(self):
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def send_error(self, code, message=None, explain=None):
        """Malformed HTTP (bad request line, too long headers ...) -> JSON error, not the stdlib HTML page."""
        try:
            short, _long = self.responses.get(code, ("Error", ""))
        except Exception:   # pragma: no cover
            short = "Error"
        body = {"RequestId": new_request_id(), "HostId": DEFAULT_HOST_ID,
                "Code": "BadRequest" if code < 500 else "InternalError", "Message": message or short}
        data = json.dumps(body).encode("utf-8")
        self.close_connection = True
        if getattr(self, "request_version", "HTTP/0.9") not in ("HTTP/1.0", "HTTP/1.1"):
            self.request_version = "HTTP/1.0"     # always answer with a status line and headers
        try:
            self.send_response(code, message)
            self.send_header("Content-Type", JSON_CT)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Connection", "close")
            self.end_headers()
            if getattr(self, "command", "") != "HEAD" and code >= 200 and code not in (204, 304):
                self.wfile.write(data)
        except OSError:
            pass

    # -- body
    def read_body(self, limit=MAX_BODY):
        te = (self.headers.get("Transfer-Encoding") or "").lower()
        if "chunked" in te:
            chunks, total = [], 0
            while True:
                line = self.rfile.readline(1024)
                if not line:
                    raise ValueError("truncated chunked body")
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                total += size
                if total > limit:
                    raise OverflowError()
                chunks.append(self.rfile.read(size))
                self.rfile.readline(1024)
            return b"".join(chunks)
        length = self.headers.get("Content-Length")
        if not length:
            return b""
        n = int(length)
        if n < 0:
            raise ValueError("negative Content-Length")
        if n > limit:
            raise OverflowError()
        return self.rfile.read(n)

    def send_bytes(self, status, data, content_type=JSON_CT, headers=None, head_only=False):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Date", email.utils.formatdate(usegmt=True))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if not head_only and data:
            self.wfile.write(data)


class EcsHandler(BaseHandler):
    """ECS + STS RPC endpoint and the admin API."""

    @property
    def state(self):
        return self.server.state

    def dispatch_request(self):
        started = time.time()
        path = urlsplit(self.path).path
        if path.startswith("/_emulator"):
            return self._admin(path)
        req = _Request()
        rid = new_request_id()
        host = (self.headers.get("Host") or DEFAULT_HOST_ID).split("://")[-1]
        entry = {"time": started, "request_id": rid, "account_id": None, "region_id": None, "action": None,
                 "params": {}, "status": None, "code": None, "fault": None, "signature": None,
                 "method": self.command}
        self.begin_log(entry)
        status, body, extra_headers = 500, None, {}
        try:
            try:
                self._parse(req)
                entry["action"] = req.action
                entry["params"] = mask_params(req.params)
                entry["region_id"] = req.params.get("RegionId") or None
                self._authenticate(req)
                entry["account_id"] = req.account["account_id"]
                entry["signature"] = req.scheme
                status, body, extra_headers = self._process(req, rid, host, entry)
            except ApiError as err:
                status, body = err.status, self._error_body(err, rid, host)
                retry_after = getattr(err, "retry_after", None)
                if retry_after:
                    extra_headers = {"x-acs-retry-after": str(retry_after)}
            except _Dropped:
                entry["status"] = 0
                entry["code"] = None
                raise
            except Exception:  # noqa: BLE001 - never let a bug kill the connection without an answer
                log.error("unexpected error handling %s: %s", req.action, traceback.format_exc())
                status, body = 500, self._error_body(internal_error(), rid, host)
            entry["status"] = status
            entry["code"] = body.get("Code") if status >= 300 else None
            data = jsonenc.dumps(body).encode("utf-8")
            extra_headers = dict(extra_headers, **{"x-acs-request-id": rid})
            self.send_bytes(status, data, headers=extra_headers, head_only=self.command == "HEAD")
        finally:
            self.commit_log()       # no-op once send_response recorded it; a dropped request is recorded here

    @staticmethod
    def _error_body(err, rid, host):
        return {"RequestId": rid, "HostId": host, "Code": err.code, "Message": err.message,
                "Recommend": "https://api.aliyun.com/troubleshoot?q=%s&product=Ecs&requestId=%s" % (err.code, rid)}

    # -- parsing
    def _parse(self, req):
        req.method = self.command
        split = urlsplit(self.path)
        req.path = split.path or "/"
        req.headers = {k.lower(): v for k, v in self.headers.items()}
        if req.method not in ("GET", "POST", "HEAD"):
            # read and discard a body so the connection stays usable
            try:
                self.read_body()
            except Exception:  # noqa: BLE001
                self.close_connection = True
            raise ApiError(403, "UnsupportedHTTPMethod", "This HTTP method is not supported.")
        try:
            req.body = self.read_body()
        except OverflowError:
            self.close_connection = True
            raise ApiError(413, "RequestEntityTooLarge", "The request body is larger than %d bytes." % MAX_BODY)
        except ValueError:
            self.close_connection = True
            raise ApiError(400, "InvalidParameter", "The request body or its Content-Length is malformed.")
        try:
            req.query_pairs = parse_qsl(split.query, keep_blank_values=True, max_num_fields=MAX_PARAMS)
            ctype = (req.headers.get("content-type") or "").lower()
            if req.body and "application/x-www-form-urlencoded" in ctype:
                req.body_pairs = parse_qsl(req.body.decode("utf-8", "replace"), keep_blank_values=True,
                                           max_num_fields=MAX_PARAMS)
        except ValueError:
            raise ApiError(400, "InvalidParameter", "Too many parameters (at most %d)." % MAX_PARAMS)
        params = {}
        for k, v in req.query_pairs + req.body_pairs:
            if not k:
                raise ApiError(400, "InvalidParameter", "A parameter without a name was sent.")
            if k in params and params[k] != v:
                raise ApiError(400, "InvalidParameter",
                               'The specified parameter "%s" is not valid. It is given more than once with '
                               'different values.' % k)
            if len(v) > MAX_PARAM_VALUE:
                raise ApiError(400, "InvalidParameter",
                               'The specified parameter "%s" is not valid. It is longer than %d characters.'
                               % (k, MAX_PARAM_VALUE))
            params[k] = v
        req.params = params
        req.action = params.get("Action") or req.headers.get("x-acs-action")
        if not req.action:
            raise ApiError(400, "MissingParameter",
                           'The input parameter "Action" that is mandatory for processing this request is not '
                           'supplied.')

    # -- authentication
    def _authenticate(self, req):
        auth = req.headers.get("authorization")
        if auth and auth.startswith(sig.V3Authorization.ALGORITHM):
            self._auth_v3(req, auth)
        elif "Signature" in req.params or "AccessKeyId" in req.params:
            self._auth_v1(req)
        elif auth:
            raise ApiError(400, "IncompleteSignature", "The request signature does not conform to Aliyun standards. "
                           "Unsupported Authorization scheme.")
        else:
            raise ApiError(400, "MissingParameter", 'The input parameter "AccessKeyId" that is mandatory for '
                           'processing this request is not supplied.')

    def _credential(self, req, access_key_id, token):
        """Resolve the key -> (account, secret); checks the security token of temporary keys."""
        acc = self.state.by_key.get(access_key_id)
        if acc is not None:
            if token:
                raise ApiError(400, "InvalidSecurityToken.MismatchWithAccessKey",
                               "The security token you provided does not match your AccessKeyId.")
            return acc, acc["access_key_secret"]
        temp = self.state.sts.lookup(access_key_id)
        if temp is None:
            raise ApiError(404, "InvalidAccessKeyId.NotFound", "Specified access key is not found.")
        if not token:
            raise ApiError(400, "MissingSecurityToken", "SecurityToken is mandatory for temporary AccessKeyId.")
        if not sig.constant_time_equal(token, temp.security_token):
            raise ApiError(400, "InvalidSecurityToken.MismatchWithAccessKey",
                           "The security token you provided does not match your AccessKeyId.")
        if time.time() >= temp.expires_at:
            raise ApiError(400, "InvalidSecurityToken.Expired", "Specified SecurityToken is expired.")
        req.temp = temp
        return self.state.by_id[temp.account_id], temp.access_key_secret

    def _check_time_and_nonce(self, access_key_id, timestamp, ts_name, nonce, nonce_name):
        if not timestamp:
            raise ApiError(400, "MissingParameter", 'The input parameter "%s" that is mandatory for processing '
                           'this request is not supplied.' % ts_name)
        ts = _parse_timestamp(timestamp)
        if ts is None:
            raise ApiError(400, "InvalidTimeStamp.Format",
                           'Specified time stamp or date value is not well formatted (parameter "%s", expected '
                           'YYYY-MM-DDThh:mm:ssZ).' % ts_name)
        now = time.time()
        if abs(now - ts) > TIMESTAMP_WINDOW:
            raise ApiError(400, "IllegalTimestamp", 'The input parameter "%s" that is mandatory for processing this '
                           'request is not supplied or is outside the allowed 15-minute window.' % ts_name)
        if not nonce:
            raise ApiError(400, "MissingParameter", 'The input parameter "%s" that is mandatory for processing '
                           'this request is not supplied.' % nonce_name)
        if not self.state.nonces.use((access_key_id, nonce), now):
            raise ApiError(400, "SignatureNonceUsed", "The request signature nonce has been used.")

    def _auth_v1(self, req):
        p = req.params
        ak = p.get("AccessKeyId")
        if not ak:
            raise ApiError(400, "MissingParameter", 'The input parameter "AccessKeyId" that is mandatory for '
                           'processing this request is not supplied.')
        req.access_key_id = ak
        if "Signature" not in p:
            raise ApiError(400, "MissingParameter", 'The input parameter "Signature" that is mandatory for '
                           'processing this request is not supplied.')
        method = (p.get("SignatureMethod") or "HMAC-SHA1").upper()
        if method != "HMAC-SHA1":
            raise ApiError(400, "InvalidParameter", 'The specified parameter "SignatureMethod" is not valid. '
                           'Only HMAC-SHA1 is supported.')
        account, secret = self._credential(req, ak, p.get("SecurityToken"))
        pairs = [(k, v) for k, v in req.query_pairs + req.body_pairs if k != "Signature"]
        # the same parameter sent twice (query and body) counts once
        seen, unique = set(), []
        for kv in pairs:
            if kv[0] not in seen:
                seen.add(kv[0])
                unique.append(kv)
        sts = sig.v1_string_to_sign(req.method if req.method != "HEAD" else "GET", unique)
        expected = sig.v1_sign(secret, sts)
        if not sig.constant_time_equal(expected, p["Signature"]):
            raise ApiError(400, "SignatureDoesNotMatch",
                           "Specified signature is not matched with our calculation. server string to sign is:" + sts)
        self._check_time_and_nonce(ak, p.get("Timestamp"), "Timestamp", p.get("SignatureNonce"), "SignatureNonce")
        req.account, req.scheme = account, "v1"

    def _auth_v3(self, req, header):
        try:
            auth = sig.V3Authorization.parse(header)
        except ValueError as exc:
            raise ApiError(400, "IncompleteSignature",
                           "The request signature does not conform to Aliyun standards. %s." % exc)
        req.access_key_id = auth.credential
        token = req.headers.get("x-acs-security-token")
        account, secret = self._credential(req, auth.credential, token)
        payload_hash = req.headers.get("x-acs-content-sha256") or sig.EMPTY_SHA256
        if payload_hash != hashlib.sha256(req.body).hexdigest():
            raise ApiError(400, "SignatureDoesNotMatch", "Specified signature is not matched with our calculation. "
                           "x-acs-content-sha256 does not match the request body.")
        for needed in ("x-acs-date", "x-acs-signature-nonce"):
            if needed not in auth.signed_headers:
                raise ApiError(400, "IncompleteSignature", "The request signature does not conform to Aliyun "
                               "standards. SignedHeaders must include %s." % needed)
        headers = {}
        for k, v in self.headers.items():
            lk = k.lower()
            headers[lk] = headers[lk] + "," + v.strip() if lk in headers else v.strip()
        canonical = sig.v3_canonical_request(req.method, req.path, req.query_pairs, headers, auth.signed_headers,
                                             payload_hash)
        sts = sig.v3_string_to_sign(canonical)
        expected = sig.v3_sign(secret, sts)
        if not sig.constant_time_equal(expected, auth.signature.lower()):
            raise ApiError(400, "SignatureDoesNotMatch",
                           "Specified signature is not matched with our calculation. server string to sign is:" + sts)
        self._check_time_and_nonce(auth.credential, req.headers.get("x-acs-date"), "x-acs-date",
                                   req.headers.get("x-acs-signature-nonce"), "x-acs-signature-nonce")
        req.account, req.scheme = account, "v3"

    # -- processing
    def _process(self, req, rid, host, entry):
        state = self.state
        action = req.action
        version = req.params.get("Version") or req.headers.get("x-acs-version")
        biz = {k: v for k, v in req.params.items() if k not in COMMON_PARAMS}
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
                raise _Dropped()
            elif rule.kind == "lost":
                lost = True
            else:
                err = {"throttling": throttling_error, "throttling_user": throttling_user_error,
                       "unavailable": unavailable_error, "internal": internal_error}[rule.kind]()
                if rule.arg:
                    err.retry_after = rule.arg
                raise err

        is_sts = action in STS_ACTIONS and (version == STS_VERSION or state.backend is None
                                            or action not in state.backend.actions)
        if is_sts:
            if delay:
                time.sleep(delay)
            body = state.sts.dispatch({"account_id": account_id, "temp": req.temp}, action, biz)
        else:
            body = self._dispatch_ecs(ctx, action, biz, delay)
        if lost:
            raise unavailable_error()
        out = {"RequestId": rid}
        out.update(body)
        return 200, out, {}

    def _dispatch_ecs(self, ctx, action, biz, delay=0.0):
        """Backend call with generic ClientToken handling. ``delay`` (fault ``slow``) is spent after the token is
        registered, so a retry with the same token meanwhile gets 403 IdempotentProcessing, as on the cloud."""
        state = self.state
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
        mode, stored = state.tokens.begin(key, fp)
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

    # -- admin API
    def _admin_send(self, status, obj):
        self.send_bytes(status, json.dumps(obj, ensure_ascii=False, default=str).encode("utf-8"))

    def _admin(self, path):
        state = self.state
        method = self.command
        try:
            raw = self.read_body(limit=MAX_BODY)
        except (ValueError, OverflowError):
            self.close_connection = True
            return self._admin_send(400, {"error": "bad request body"})
        try:
            payload = json.loads(raw.decode("utf-8")) if raw.strip() else {}
        except ValueError:
            return self._admin_send(400, {"error": "body is not JSON"})
        if not isinstance(payload, dict):
            return self._admin_send(400, {"error": "body must be a JSON object"})
        route = path[len("/_emulator"):].strip("/")
        query = dict(parse_qsl(urlsplit(self.path).query))
        try:
            if route == "" and method == "GET":
                return self._admin_send(200, self.server.emulator_info())
            if route == "accounts" and method == "GET":
                return self._admin_send(200, [{"account_id": a["account_id"], "name": a.get("name"),
                                               "access_key_id": a["access_key_id"],
                                               "access_key_secret": a["access_key_secret"],
                                               "roles": a.get("roles", [])} for a in state.accounts])
            if route == "requests" and method == "GET":
                try:
                    since = int(query.get("since", "0"))
                except ValueError:
                    return self._admin_send(400, {"error": "since must be an integer"})
                return self._admin_send(200, {"requests": state.log.since(since)})
            if route == "requests" and method == "DELETE":
                state.log.clear()
                return self._admin_send(200, {"cleared": True})
            if route == "faults":
                if method == "GET":
                    return self._admin_send(200, state.faults.as_dict())
                if method == "PUT":
                    spec = payload.get("spec", "")
                    if not isinstance(spec, str):
                        return self._admin_send(400, {"error": "spec must be a string"})
                    try:
                        state.faults.set_spec(spec)
                    except FaultSpecError as exc:
                        return self._admin_send(400, {"error": str(exc)})
                    return self._admin_send(200, state.faults.as_dict())
                if method == "DELETE":
                    state.faults.clear()
                    return self._admin_send(200, state.faults.as_dict())
            if route == "config":
                if method == "PUT":
                    if "time_scale" in payload:
                        ts = payload["time_scale"]
                        if not isinstance(ts, (int, float)) or isinstance(ts, bool) or ts < 0:
                            return self._admin_send(400, {"error": "time_scale must be a number >= 0"})
                        state.clock.set_time_scale(ts)
                    unknown = set(payload) - {"time_scale"}
                    if unknown:
                        return self._admin_send(400, {"error": "unknown config keys: %s" % sorted(unknown)})
                if method in ("GET", "PUT"):
                    return self._admin_send(200, {"time_scale": state.clock.time_scale, "seed": state.seed})
            if route == "realism":
                if method == "PUT":
                    try:
                        state.realism.update(payload)
                    except RealismError as exc:
                        return self._admin_send(400, {"error": str(exc)})
                    with state.lock:
                        if state.backend is not None:
                            state.backend.epoch += 1        # cached answers may depend on a switch
                if method in ("GET", "PUT"):
                    return self._admin_send(200, {"realism": state.realism.as_dict(),
                                                  "behaviours": state.realism.describe()})
            if route == "reset" and method == "POST":
                state.reset()
                return self._admin_send(200, {"reset": True})
            if route == "resources" and method == "GET":
                with state.lock:
                    dump = state.backend.resources() if state.backend is not None else {}
                dump = dict(dump)
                dump.setdefault("oss", state.oss.dump())
                return self._admin_send(200, dump)
            if route == "sts/expire" and method == "POST":
                n = state.sts.expire(payload.get("access_key_id"))
                return self._admin_send(200, {"expired": n})
            if route == "sts/credentials" and method == "GET":
                return self._admin_send(200, {"credentials": state.sts.dump()})
            return self._admin_send(404, {"error": "no admin route %s %s" % (method, path)})
        except Exception:  # noqa: BLE001
            log.error("admin error: %s", traceback.format_exc())
            return self._admin_send(500, {"error": "internal error in the admin API"})


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def handle_error(self, request, client_address):   # never print tracebacks of dropped clients
        log.debug("connection error from %s: %s", client_address, traceback.format_exc())


# ================================================================================================ API
class Emulator:
    """A running emulator (ECS/STS/admin on one port, OSS on another), serving in background threads."""

    def __init__(self, host="127.0.0.1", port=0, oss_port=0, time_scale=1.0, fixture=None, seed=0, faults=None,
                 realism_off=None):
        self.state = EmulatorState(fixture=fixture, time_scale=time_scale, seed=seed, faults=faults,
                                   realism_off=realism_off)
        self.host = host
        self._ecs = _Server((host, port), EcsHandler)
        self._ecs.state = self.state
        self._ecs.emulator_info = self.info
        self.port = self._ecs.server_address[1]
        self._oss = None
        self.oss_port = None
        try:
            from .oss_server import make_oss_server
        except ImportError:   # pragma: no cover - bootstrap
            make_oss_server = None
        if make_oss_server is not None:
            self._oss = make_oss_server(host, oss_port, self.state)
            self.oss_port = self._oss.server_address[1]
        self._threads = []

    def start(self):
        for srv, name in ((self._ecs, "ecs"), (self._oss, "oss")):
            if srv is None:
                continue
            t = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.2},
                                 name="ecs-emulator-" + name, daemon=True)
            t.start()
            self._threads.append(t)
        return self

    def stop(self):
        for srv in (self._ecs, self._oss):
            if srv is not None:
                srv.shutdown()
                srv.server_close()
        for t in self._threads:
            t.join(timeout=5)
        self._threads = []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    # -- accessors
    @property
    def ecs_endpoint(self):
        return "http://%s:%d" % (self.host, self.port)

    @property
    def oss_endpoint(self):
        return "http://%s:%d" % (self.host, self.oss_port) if self.oss_port else None

    @property
    def admin_url(self):
        return self.ecs_endpoint + "/_emulator"

    @property
    def accounts(self):
        return [{"account_id": a["account_id"], "name": a.get("name"), "access_key_id": a["access_key_id"],
                 "access_key_secret": a["access_key_secret"], "roles": list(a.get("roles", []))}
                for a in self.state.accounts]

    @property
    def backend(self):
        return self.state.backend

    @property
    def oss(self):
        return self.state.oss

    def env(self):
        acc = self.state.accounts[0]
        env = {"ALIBABA_CLOUD_ECS_ENDPOINT": self.ecs_endpoint, "ALIBABA_CLOUD_STS_ENDPOINT": self.ecs_endpoint}
        if self.oss_endpoint:
            env["ALIBABA_CLOUD_OSS_ENDPOINT"] = self.oss_endpoint
        env.update({"ALIBABA_CLOUD_ACCESS_KEY_ID": acc["access_key_id"],
                    "ALIBABA_CLOUD_ACCESS_KEY_SECRET": acc["access_key_secret"],
                    "ALIBABA_CLOUD_REGION_ID": self.state.default_region(),
                    "ECS_EMULATOR_ADMIN": self.admin_url})
        return env

    def info(self):
        return {"ecs_endpoint": self.ecs_endpoint, "oss_endpoint": self.oss_endpoint, "admin_url": self.admin_url,
                "time_scale": self.state.clock.time_scale, "seed": self.state.seed,
                "realism": self.state.realism.as_dict(),
                "backend": self.state.backend is not None}


def start_emulator(time_scale=0.01, faults=None, fixture=None, seed=0, host="127.0.0.1", port=0, oss_port=0,
                   realism_off=None):
    """Start an emulator in background threads and return it (see :class:`Emulator`). ``realism_off``: realism
    behaviours to switch off (list, comma string or ``"all"``; see ``ecs_emulator.realism``)."""
    return Emulator(host=host, port=port, oss_port=oss_port, time_scale=time_scale, fixture=fixture, seed=seed,
                    faults=faults, realism_off=realism_off).start()
