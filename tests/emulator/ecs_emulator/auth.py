"""Authentication of RPC requests: access keys (permanent and STS temporary), signature V1 (HMAC-SHA1) and V3
(ACS3-HMAC-SHA256), timestamp window and nonce replay. The signature algorithms themselves are in
``signatures``; the OSS scheme is part of the OSS protocol (``oss_server``)."""
import calendar
import hashlib
import threading
import time

from . import signatures as sig
from .errors import ApiError

TIMESTAMP_WINDOW = 15 * 60


def parse_timestamp(value):
    v = (value or "").strip()
    if "." in v and v.endswith("Z"):
        v = v.split(".")[0] + "Z"
    try:
        return calendar.timegm(time.strptime(v, "%Y-%m-%dT%H:%M:%SZ"))
    except (ValueError, OverflowError):
        return None


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


class Authenticator:
    """Checks an ``RpcRequest`` against ``state`` (accounts, STS keys, nonces); sets ``req.account``,
    ``req.temp``, ``req.scheme`` or raises the gateway's ApiError."""

    def __init__(self, state):
        self.state = state

    def authenticate(self, req):
        anonymous = self.state.sts.anonymous_caller(req.action, req.params)   # AssumeRoleWithOIDC: no key
        if anonymous is not None:
            req.account, req.scheme = anonymous, "anonymous"
            return
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

    def credential(self, req, access_key_id, token):
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
        ts = parse_timestamp(timestamp)
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
        account, secret = self.credential(req, ak, p.get("SecurityToken"))
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
        account, secret = self.credential(req, auth.credential, token)
        payload_hash = req.headers.get("x-acs-content-sha256") or sig.EMPTY_SHA256
        if payload_hash != hashlib.sha256(req.body).hexdigest():
            raise ApiError(400, "SignatureDoesNotMatch", "Specified signature is not matched with our calculation. "
                           "x-acs-content-sha256 does not match the request body.")
        for needed in ("x-acs-date", "x-acs-signature-nonce"):
            if needed not in auth.signed_headers:
                raise ApiError(400, "IncompleteSignature", "The request signature does not conform to Aliyun "
                               "standards. SignedHeaders must include %s." % needed)
        headers = {}
        for k, v in req.raw_headers:
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
