"""STS (2015-04-01) on the ECS port: AssumeRole, AssumeRoleWithOIDC and GetCallerIdentity, plus the
temporary-credential store."""
import base64
import json
import os
import re
import secrets
import threading
import time

from .errors import ApiError

STS_VERSION = "2015-04-01"
STS_ACTIONS = frozenset({"AssumeRole", "AssumeRoleWithOIDC", "GetCallerIdentity"})
# Actions the real STS accepts without a signature (the OIDC token is the proof of identity).
ANONYMOUS_ACTIONS = frozenset({"AssumeRoleWithOIDC"})
_OIDC_PROVIDER_RE = re.compile(r"^acs:ram::(?P<account>[0-9]+):oidc-provider/(?P<name>[A-Za-z0-9._-]+)$", re.I)
_ROLE_ARN_RE = re.compile(r"^acs:ram::(?P<account>[0-9]+):role/(?P<role>[A-Za-z0-9._@-]+)$", re.I)
_SESSION_RE = re.compile(r"^[A-Za-z0-9._@-]{2,64}$")


class TempCredential:
    def __init__(self, access_key_id, secret, token, account_id, role_arn, session_name, expires_at):
        self.access_key_id = access_key_id
        self.access_key_secret = secret
        self.security_token = token
        self.account_id = account_id
        self.role_arn = role_arn
        self.session_name = session_name
        self.expires_at = expires_at     # epoch seconds (real time)

    def as_dict(self):
        return {"access_key_id": self.access_key_id, "account_id": self.account_id, "role_arn": self.role_arn,
                "session_name": self.session_name, "expires_at": self.expires_at,
                "expired": time.time() >= self.expires_at}


def _iso(ts):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


class StsService:
    """Temporary credentials issued by AssumeRole. DurationSeconds is honoured in real (unscaled) time; tests
    expire credentials at once with ``expire()`` (admin API ``POST /_emulator/sts/expire``)."""

    def __init__(self, accounts):
        self._lock = threading.Lock()
        self._accounts = {a["account_id"]: a for a in accounts}
        self._creds = {}

    def lookup(self, access_key_id):
        with self._lock:
            return self._creds.get(access_key_id)

    def expire(self, access_key_id=None):
        """Expire one credential (or all); returns how many were expired."""
        now = time.time() - 1
        with self._lock:
            targets = [self._creds[access_key_id]] if access_key_id in self._creds else (
                [] if access_key_id else list(self._creds.values()))
            for c in targets:
                c.expires_at = min(c.expires_at, now)
            return len(targets)

    def dump(self):
        with self._lock:
            return [c.as_dict() for c in self._creds.values()]

    # ------------------------------------------------------------------------------------------ actions
    def dispatch(self, caller, action, params):
        """``caller``: dict with account_id and, for temp creds, the TempCredential under 'temp'."""
        if action == "AssumeRole":
            return self.assume_role(caller, params)
        if action == "AssumeRoleWithOIDC":
            return self.assume_role_with_oidc(params)
        if action == "GetCallerIdentity":
            return self.get_caller_identity(caller)
        raise ApiError(404, "InvalidAction.NotFound", "Specified api is not found, please check your url and method.")

    def assume_role(self, caller, params):
        arn = params.get("RoleArn")
        if not arn:
            raise ApiError(400, "MissingRoleArn", "RoleArn is mandatory for this action.")
        session = params.get("RoleSessionName")
        if not session:
            raise ApiError(400, "MissingRoleSessionName", "RoleSessionName is mandatory for this action.")
        if not _SESSION_RE.match(session):
            raise ApiError(400, "InvalidParameter.RoleSessionName",
                           "The parameter RoleSessionName is wrongly formed (2-64 chars of [A-Za-z0-9._@-]).")
        raw_duration = params.get("DurationSeconds", "3600")
        try:
            duration = int(raw_duration)
        except ValueError:
            duration = -1
        if not 900 <= duration <= 43200:
            raise ApiError(400, "InvalidParameter.DurationSeconds",
                           "The Min/Max value of DurationSeconds is 15min/12hr.")
        m = _ROLE_ARN_RE.match(arn)
        if not m:
            raise ApiError(400, "InvalidParameter.RoleArn", "The parameter RoleArn is wrongly formed.")
        owner = self._accounts.get(m.group("account"))
        roles = [r.lower() for r in (owner or {}).get("roles", [])]
        if owner is None or arn.lower() not in roles:
            raise ApiError(404, "EntityNotExist.Role", "The role not exists: %s." % arn)
        if caller.get("temp") is not None:
            # The real service allows role chaining only with explicit trust; keep it simple and refuse.
            raise ApiError(403, "NoPermission", "You are not authorized to do this action. You should be authorized "
                           "by RAM.")
        return self._issue(owner, arn, session, duration)

    def _issue(self, owner, arn, session, duration):
        role_name = arn.split("/", 1)[1]
        now = time.time()
        ak = "STS.NT" + secrets.token_hex(12).upper()[:22]
        secret = base64.b64encode(os.urandom(24)).decode("ascii").rstrip("=").replace("/", "x").replace("+", "y")
        token = "CAIS" + base64.b64encode(os.urandom(96)).decode("ascii")
        cred = TempCredential(ak, secret, token, owner["account_id"], arn, session, now + duration)
        with self._lock:
            self._creds[ak] = cred
        role_id = str(abs(hash(arn.lower())) % 10 ** 18).rjust(18, "3")
        return {
            "AssumedRoleUser": {"Arn": "acs:ram::%s:role/%s/%s" % (owner["account_id"], role_name, session),
                                "AssumedRoleId": "%s:%s" % (role_id, session)},
            "Credentials": {"AccessKeyId": ak, "AccessKeySecret": secret, "SecurityToken": token,
                            "Expiration": _iso(now + duration)},
        }

    # ------------------------------------------------------------------------------ AssumeRoleWithOIDC (RRSA)
    def _role_owner(self, arn):
        if not arn:
            raise ApiError(400, "MissingRoleArn", "RoleArn is mandatory for this action.")
        m = _ROLE_ARN_RE.match(arn)
        if not m:
            raise ApiError(400, "InvalidParameter.RoleArn", "The parameter RoleArn is wrongly formed.")
        owner = self._accounts.get(m.group("account"))
        if owner is None or arn.lower() not in [r.lower() for r in owner.get("roles", [])]:
            raise ApiError(404, "EntityNotExist.Role", "The role not exists: %s." % arn)
        return owner

    def anonymous_caller(self, action, params):
        """For an unsigned STS action: the account owning the role (the request needs no access key), else None."""
        if action not in ANONYMOUS_ACTIONS or params.get("Version") != STS_VERSION or "Signature" in params:
            return None
        return self._role_owner(params.get("RoleArn"))

    def assume_role_with_oidc(self, params):
        arn = params.get("RoleArn")
        owner = self._role_owner(arn)
        provider = params.get("OIDCProviderArn")
        if not provider:
            raise ApiError(400, "MissingOIDCProviderArn", "OIDCProviderArn is mandatory for this action.")
        m = _OIDC_PROVIDER_RE.match(provider)
        if not m:
            raise ApiError(400, "InvalidParameter.OIDCProviderArn", "The parameter OIDCProviderArn is wrongly formed.")
        known = owner.get("oidc_providers")
        if m.group("account") != owner["account_id"] or (known is not None and provider not in known):
            raise ApiError(404, "EntityNotExist.OIDCProvider", "The OIDC provider does not exist: %s." % provider)
        token = params.get("OIDCToken")
        if not token:
            raise ApiError(400, "MissingOIDCToken", "OIDCToken is mandatory for this action.")
        claims = _jwt_claims(token)
        if claims is None:
            raise ApiError(400, "AuthenticationFail.OIDCToken.Invalid", "The OIDCToken is not a valid JWT.")
        if isinstance(claims.get("exp"), (int, float)) and claims["exp"] < time.time():
            raise ApiError(400, "AuthenticationFail.OIDCToken.Expired", "The OIDCToken is expired.")
        session = params.get("RoleSessionName") or "oidc-session"
        if not _SESSION_RE.match(session):
            raise ApiError(400, "InvalidParameter.RoleSessionName",
                           "The parameter RoleSessionName is wrongly formed (2-64 chars of [A-Za-z0-9._@-]).")
        try:
            duration = int(params.get("DurationSeconds", "3600"))
        except ValueError:
            duration = -1
        if not 900 <= duration <= 43200:
            raise ApiError(400, "InvalidParameter.DurationSeconds",
                           "The Min/Max value of DurationSeconds is 15min/12hr.")
        out = self._issue(owner, arn, session, duration)
        out["OIDCTokenInfo"] = {"Subject": claims.get("sub", ""), "Issuer": claims.get("iss", ""),
                                "ClientIds": claims.get("aud", "") if isinstance(claims.get("aud", ""), str)
                                else ",".join(claims["aud"])}
        return out

    def get_caller_identity(self, caller):
        temp = caller.get("temp")
        account_id = caller["account_id"]
        if temp is not None:
            role_name = temp.role_arn.split("/", 1)[1]
            return {"AccountId": account_id, "IdentityType": "AssumedRoleUser",
                    "Arn": "acs:ram::%s:assumed-role/%s/%s" % (account_id, role_name, temp.session_name),
                    "PrincipalId": "%s:%s" % (role_name, temp.session_name),
                    "RoleId": role_name, "UserId": ""}
        return {"AccountId": account_id, "IdentityType": "Account", "Arn": "acs:ram::%s:root" % account_id,
                "PrincipalId": account_id, "UserId": account_id}


def _jwt_claims(token):
    """Claims of a JWT (header.payload.signature, base64url); None when ``token`` is not one. Not verified: the
    emulator trusts any well-formed token, as a provider configured to trust its issuer would."""
    parts = token.strip().split(".")
    if len(parts) != 3 or not all(parts[:2]):
        return None
    try:
        payload = parts[1] + "=" * (-len(parts[1]) % 4)
        claims = json.loads(base64.urlsafe_b64decode(payload.encode("ascii")).decode("utf-8"))
    except (ValueError, UnicodeError):
        return None
    return claims if isinstance(claims, dict) else None
