# -*- coding: utf-8 -*-
# Copyright (c) alicloud.ecs_images contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Transport and errors: the one call path to the ECS API, its retry policy (also used for the STS and metadata
requests of credentials.py) and the error type every failure becomes.

Everything here except :class:`EcsClient` is pure logic so it can be unit tested without the SDK. Credentials are
resolved and obtained in credentials.py.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import importlib
import json
import logging
import random
import re
import time
import uuid


try:
    from urllib.request import proxy_bypass_environment
    from urllib.parse import urlparse
except ImportError:  # pragma: no cover - python 2 is not supported, keep sanity import test happy
    proxy_bypass_environment = urlparse = None

# Only the SDK's exception classes are imported with this file (cheap); its client and request classes (the
# vendored HTTP stack, most of a module's start-up time) are imported where the first request is built.
ALIYUN_SDK_IMPORT_ERROR = None
try:
    from aliyunsdkcore.acs_exception.exceptions import ClientException, ServerException
    HAS_ALIYUN_SDK = True
    # The SDK logs every failed attempt at ERROR level; we report errors ourselves.
    _sdk_logger = logging.getLogger('aliyunsdkcore')
    _sdk_logger.addHandler(logging.NullHandler())
    _sdk_logger.propagate = False
except ImportError as _exc:  # pragma: no cover - exercised only without the SDK
    HAS_ALIYUN_SDK = False
    ALIYUN_SDK_IMPORT_ERROR = _exc

    class ClientException(Exception):
        pass

    class ServerException(Exception):
        pass


ECS_API_VERSION = '2014-05-26'

# Retry policy (see docs/dev/ARCHITECTURE.md)
RETRY_BASE_DELAY = 0.5
RETRY_MAX_DELAY = 10.0
RETRY_MAX_TRIES = 8
RETRY_MAX_TOTAL = 120.0
MAX_PAGES = 1000   # safety net for paginate (100 000 items at 100 per page)

# The one retry rule (docs/dev/ARCHITECTURE.md). Transient for every action: these codes, any code containing
# 'Throttling' (Throttling, Throttling.User, Rejected.Throttling ...) and any HTTP 5xx answer.
RETRYABLE_CODES = frozenset([
    'ServiceUnavailable', 'InternalError', 'UnknownError', 'InternalError.Dispatch',
    'IdempotentProcessing', 'LastTokenProcessing', 'OperationConflict',
    'SDK.HttpError', 'SDK.ServerUnreachable', 'SDK.TimeoutError',
])
# Transient only for these actions: the instance is still settling right after a stop, start or system-disk
# replacement (the Terraform provider retries CreateImage, StopInstance and StartInstance on
# IncorrectInstanceStatus, and StartInstance after ReplaceSystemDisk on InvalidOperation.Conflict). For any other
# action these codes are final answers.
_SETTLING_CODES = ('IncorrectInstanceStatus', 'OperationConflict', 'InvalidOperation.Conflict')
RETRYABLE_CODES_BY_ACTION = {
    'CreateImage': _SETTLING_CODES,
    'StopInstance': _SETTLING_CODES,
    'StartInstance': _SETTLING_CODES,
    'ReplaceSystemDisk': _SETTLING_CODES,
}

_SECRET_WORDS = ('password', 'secret', 'token', 'accesskey')
_SECRET_EXACT = frozenset(['Password', 'SecurityToken', 'AccessKeyId', 'AccessKeySecret', 'Signature'])


def is_secret_param(name):
    """True when a request parameter must be masked in output. ClientToken is not a secret."""
    if name == 'ClientToken':
        return False
    if name in _SECRET_EXACT:
        return True
    low = name.lower()
    return any(word in low for word in _SECRET_WORDS)


_QUERY_RE = re.compile(r"(https?://[^\s'\"/]*)?(/?)\?[^\s'\")]+")
_SECRET_IN_TEXT_RE = re.compile(r"((?:AccessKeyId|AccessKeySecret|SecurityToken|Signature|Password)(?:=|%3D))"
                                r"(?:%(?!26)[0-9A-Fa-f]{2}|[^&%\s'\")])*")


def scrub_text(text):
    """Remove secrets from SDK/server messages: request query strings (they hold AccessKeyId, Signature and
    SecurityToken) and any 'AccessKeyId=...'-style pair, also URL-encoded (string-to-sign echoes)."""
    if not text:
        return text
    text = _QUERY_RE.sub(lambda m: (m.group(1) or '') + m.group(2) + '?<query omitted>', str(text))
    return _SECRET_IN_TEXT_RE.sub(lambda m: m.group(1) + '********', text)


def mask_params(params):
    """Copy of a flat parameter dict with secret values replaced by '********'."""
    return dict((k, '********' if is_secret_param(k) and v not in (None, '') else v)
                for k, v in (params or {}).items())


class ApiError(Exception):
    """An API call failed (after retries when the error was retryable)."""

    def __init__(self, action, code, message, request_id=None, http_status=None, params=None, attempts=1):
        self.action = action
        self.code = code
        self.message = scrub_text(message)
        self.request_id = request_id
        self.http_status = http_status
        self.params = mask_params(params)
        self.attempts = attempts
        self.final = False
        super(ApiError, self).__init__(str(self))

    def __str__(self):
        parts = ['%s failed: %s' % (self.action, self.code)]
        if self.message:
            parts.append('- %s' % self.message)
        details = []
        if self.http_status:
            details.append('HTTP %s' % self.http_status)
        if self.request_id:
            details.append('RequestId %s' % self.request_id)
        if self.attempts and self.attempts > 1:
            details.append('after %d attempts' % self.attempts)
        if self.params:
            details.append('params %s' % json.dumps(self.params, sort_keys=True))
        if details:
            parts.append('(%s)' % ', '.join(details))
        return ' '.join(parts)

    def to_dict(self):
        return dict(action=self.action, code=self.code, message=self.message, request_id=self.request_id,
                    http_status=self.http_status, params=self.params, attempts=self.attempts)

    @property
    def retryable(self):
        """False once retries were spent on it (an outer retry loop must not retry it again)."""
        return not self.final and is_retryable(self.code, self.http_status, self.action)


# A host name that does not resolve (a mistyped region or endpoint) is not a passing fault: never retried.
# "Temporary failure in name resolution" (EAI_AGAIN) is not listed here and is retried like a dropped connection.
_UNRESOLVABLE_HOST_TEXTS = ('Name or service not known', 'nodename nor servname provided',
                            'No address associated with hostname', 'getaddrinfo failed')


def client_error_code(code, message):
    """Error code for an SDK ClientException: SDK.HostNotFound when the host name cannot be resolved."""
    if code == 'SDK.HttpError' and any(text in (message or '') for text in _UNRESOLVABLE_HOST_TEXTS):
        return 'SDK.HostNotFound'
    return code


READ_ACTION_PREFIXES = ('Describe', 'List', 'Get', 'Query', 'Check')
# ids named in a write's parameters or answer, for the write log (what a failure says was changed)
WRITE_ID_KEYS = ('ImageId', 'InstanceId', 'SnapshotId', 'DiskId', 'TaskId', 'DestinationRegionId')


def is_read_action(action):
    """True for actions that change nothing (Describe*, List*, ...)."""
    return str(action or '').startswith(READ_ACTION_PREFIXES)


def write_ids(params, answer):
    """Resource ids a successful write names (parameters first, then ids in the answer), without repeats."""
    ids = []
    for source in (params or {}, answer if isinstance(answer, dict) else {}):
        for key in WRITE_ID_KEYS:
            value = source.get(key)
            if value and value not in ids:
                ids.append(value)
    return ids


def is_retryable(code, http_status=None, action=None):
    """The one retry rule: is this answer transient (retried with backoff, ClientToken kept)?"""
    code = code or ''
    if 'Throttling' in code or code in RETRYABLE_CODES:
        return True
    if action and code in RETRYABLE_CODES_BY_ACTION.get(action, ()):
        return True
    if http_status is not None and 500 <= int(http_status) <= 599:
        return True
    return False


# ---------------------------------------------------------------------------------------------- parameters

def _render(value):
    if isinstance(value, bool):
        return 'true' if value else 'false'
    return str(value) if not isinstance(value, str) else value


def flatten_params(params, prefix=''):
    """Flatten nested params the way the RPC API expects.

    ``{'Tag': [{'Key': 'a', 'Value': 'b'}], 'SystemDisk': {'Size': 40}, 'AddAccount': ['1'], 'X': None}`` ->
    ``{'Tag.1.Key': 'a', 'Tag.1.Value': 'b', 'SystemDisk.Size': '40', 'AddAccount.1': '1'}``.
    None values are dropped; booleans become 'true'/'false'; list indexes are 1-based and contiguous over the
    non-None entries.
    """
    flat = {}
    for key, value in (params or {}).items():
        name = '%s.%s' % (prefix, key) if prefix else key
        if value is None:
            continue
        if isinstance(value, dict):
            flat.update(flatten_params(value, name))
        elif isinstance(value, (list, tuple)):
            index = 0
            for item in value:
                if item is None:
                    continue
                index += 1
                item_name = '%s.%d' % (name, index)
                if isinstance(item, dict):
                    flat.update(flatten_params(item, item_name))
                else:
                    flat[item_name] = _render(item)
        else:
            flat[name] = _render(value)
    return flat


# ------------------------------------------------------------------------------------------------- backoff

def backoff_delay(attempt, base=RETRY_BASE_DELAY, cap=RETRY_MAX_DELAY, rand=random.random):
    """Delay before retry number ``attempt`` (0-based): 'equal jitter' in [d/2, d] with d = min(cap, base*2^n)."""
    ceiling = min(cap, base * (2 ** attempt))
    return ceiling / 2.0 + rand() * ceiling / 2.0


def backoff_schedule(tries=RETRY_MAX_TRIES, base=RETRY_BASE_DELAY, cap=RETRY_MAX_DELAY):
    """Upper bounds of the delays between ``tries`` attempts (for docs and tests)."""
    return [min(cap, base * (2 ** n)) for n in range(max(0, tries - 1))]


def retry_call(send, max_tries=RETRY_MAX_TRIES, max_total=RETRY_MAX_TOTAL, base_delay=RETRY_BASE_DELAY,
               max_delay=RETRY_MAX_DELAY, sleep=time.sleep, now=time.monotonic, retry_for=None, give_up=None):
    """Call ``send(attempt)`` (1-based) until it returns; retry an ApiError that is transient (:func:`is_retryable`)
    with jittered backoff, for at most ``max_tries`` attempts and ``max_total`` seconds. The one retry policy of the
    collection (ECS calls, and the STS and metadata requests of credentials.py).

    ``retry_for`` (seconds) replaces both bounds (a module retrying a start within its own timeout). ``give_up(err)``
    is asked before each retry of an action-specific refusal (RETRYABLE_CODES_BY_ACTION); True raises ``err`` at once
    (for example when the instance already reached the state a lost first answer asked for). The error raised is
    marked ``final`` so that an outer loop does not retry it again.
    """
    started = now()
    attempt = 0
    while True:
        attempt += 1
        try:
            return send(attempt)
        except ApiError as err:
            delay = backoff_delay(attempt - 1, base_delay, max_delay)
            if (not err.retryable or (retry_for is None and attempt >= max_tries)
                    or (give_up is not None and err.code in RETRYABLE_CODES_BY_ACTION.get(err.action, ())
                        and give_up(err))
                    or now() - started + delay > (max_total if retry_for is None else retry_for)):
                err.final = True
                raise
            sleep(delay)


# --------------------------------------------------------------------------------------------------- client

def _no_proxy_for(endpoint):
    """requests proxies mapping that disables proxies when NO_PROXY (or loopback) covers the endpoint."""
    if not endpoint or urlparse is None:
        return None
    target = endpoint if '://' in endpoint else 'https://' + endpoint
    host = urlparse(target).hostname or ''
    if host in ('127.0.0.1', 'localhost', '::1') or proxy_bypass_environment(host):
        return {'http': None, 'https': None}
    return None


def _acs_client(access_key, secret_key, security_token, region, validate_certs, endpoint=None):
    from aliyunsdkcore.auth.credentials import AccessKeyCredential, StsTokenCredential
    from aliyunsdkcore.client import AcsClient
    if security_token:
        credential = StsTokenCredential(access_key, secret_key, security_token)
    else:
        credential = AccessKeyCredential(access_key, secret_key)
    return AcsClient(region_id=region, credential=credential, auto_retry=False,
                     verify=None if validate_certs else False, proxy=_no_proxy_for(endpoint))


def _request_for(action):
    """SDK generated request class instance for ``action`` if it exists, else a CommonRequest."""
    try:
        module = importlib.import_module('aliyunsdkecs.request.v20140526.%sRequest' % action)
        return getattr(module, '%sRequest' % action)()
    except (ImportError, AttributeError):
        from aliyunsdkcore.request import CommonRequest
        request = CommonRequest(version=ECS_API_VERSION, action_name=action, product='Ecs')
        request.set_method('POST')
        return request


class EcsClient:
    """ECS RPC client: one call path with our own bounded, jittered retries and ClientToken handling."""

    def __init__(self, credentials, region=None, endpoint=None, validate_certs=None,
                 max_tries=RETRY_MAX_TRIES, max_total=RETRY_MAX_TOTAL, base_delay=RETRY_BASE_DELAY,
                 max_delay=RETRY_MAX_DELAY, sleep=time.sleep, now=time.monotonic, transport=None):
        self.credentials = credentials
        self.region = region or credentials.region
        self.endpoint = endpoint if endpoint is not None else credentials.endpoint
        self.validate_certs = credentials.validate_certs if validate_certs is None else validate_certs
        self.max_tries = max_tries
        self.max_total = max_total
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.calls = 0          # HTTP requests sent (every attempt counts)
        self.retries = 0        # of which retries
        self.history = []       # [(action, outcome)] outcome = 'ok' or error code
        self.writes = []        # successful writes: [{action, region, ids}] (what a failure says was changed)
        self._sleep = sleep
        self._now = now
        self._transport = transport   # callable(action, flat_params, region) -> dict, for tests
        self._acs = {}

    # -- transport
    def _acs_for(self, region):
        """SDK client for ``region`` signed with the credentials' current keys (temporary keys are refreshed by
        the credentials library before they expire; a new SDK client is made when they change)."""
        keys = self.credentials.keys()
        cached = self._acs.get(region)
        if cached is None or cached[0] != keys:
            cached = (keys, _acs_client(keys[0], keys[1], keys[2], region, self.validate_certs, self.endpoint))
            self._acs[region] = cached
        return cached[1]

    def _send(self, action, flat, region, acs=None):
        if self._transport is not None:
            return self._transport(action, dict(flat), region)
        request = _request_for(action)
        if self.endpoint:
            request.set_endpoint(self.endpoint)
        if not self.endpoint or '://' not in self.endpoint:
            request.set_protocol_type('https')
        for key, value in flat.items():
            request.add_query_param(key, value)
        body = (acs or self._acs_for(region)).do_action_with_exception(request)
        if isinstance(body, bytes):
            body = body.decode('utf-8')
        return json.loads(body) if body else {}

    # -- public API
    def call(self, action, params=None, client_token=None, region=None, retry_for=None, give_up=None):
        """Send ``action`` and return the decoded answer; raise ApiError.

        Transient answers (:func:`is_retryable`) are retried with jittered backoff, with the same ClientToken,
        for at most ``max_tries`` attempts and ``max_total`` seconds; ``retry_for`` (seconds) replaces both bounds
        for this call (a module retrying a start within its own timeout). ``give_up(err)`` is asked before each
        retry of an action-specific refusal (RETRYABLE_CODES_BY_ACTION); True raises ``err`` at once (for
        example when the instance already reached the state a lost first answer asked for).
        """
        region = region or self.region
        flat = flatten_params(params)
        flat.setdefault('RegionId', region)
        if client_token is True:
            client_token = str(uuid.uuid4())
        if client_token:
            flat['ClientToken'] = client_token

        def send(attempt):
            # credentials first, outside the try: an STS failure is reported as itself (already retried)
            acs = None if self._transport is not None else self._acs_for(region)
            self.calls += 1
            if attempt > 1:
                self.retries += 1
            try:
                result = self._send(action, flat, region, acs)
                self.history.append((action, 'ok'))
                if not is_read_action(action):
                    self.writes.append({'action': action, 'region': region, 'ids': write_ids(flat, result)})
                return result
            except ServerException as exc:
                err = ApiError(action, exc.get_error_code(), exc.get_error_msg(), exc.get_request_id(),
                               exc.get_http_status(), flat, attempt)
            except ClientException as exc:
                err = ApiError(action, client_error_code(exc.get_error_code(), exc.get_error_msg()),
                               exc.get_error_msg(), None, None, flat, attempt)
            except ApiError as exc:   # from a test transport
                err = ApiError(action, exc.code, exc.message, exc.request_id, exc.http_status, flat, attempt)
            except ValueError as exc:  # non-JSON 200 body
                err = ApiError(action, 'InvalidResponse', 'response is not JSON: %s' % exc, None, None, flat,
                               attempt)
            self.history.append((action, err.code))
            hint = getattr(self.credentials, 'auth_hint', lambda code: None)(err.code)
            if hint:
                err.message = '%s (%s)' % (err.message, hint) if err.message else hint
            raise err

        return retry_call(send, self.max_tries, self.max_total, self.base_delay, self.max_delay, self._sleep,
                          self._now, retry_for=retry_for, give_up=give_up)

    def paginate(self, action, params, result_key, page_size=100, region=None):
        """Read every page. Uses PageNumber/TotalCount, or NextToken when the API answers with one."""
        params = dict(params or {})
        items = []
        page = 1
        token = None
        while True:
            query = dict(params)
            if token:
                query['NextToken'] = token
            else:
                query['PageNumber'] = page
            if page_size:
                query['PageSize'] = page_size
            response = self.call(action, query, region=region)
            batch = response
            for key in result_key:
                batch = (batch or {}).get(key) if isinstance(batch, dict) else None
            batch = batch or []
            if isinstance(batch, dict):
                batch = [batch]
            items.extend(batch)
            token = response.get('NextToken') or None
            total = response.get('TotalCount')
            if total is None and 'NextToken' in response:
                if token:               # token-based API: follow the token until it is empty
                    continue
                break
            if total is not None:
                if len(items) >= int(total) or not batch:
                    break
            elif not batch or (page_size and len(batch) < page_size):
                break
            page += 1
            token = None
            if page > MAX_PAGES:
                raise ApiError(action, 'TooManyPages', 'more than %d pages; narrow the filters' % MAX_PAGES,
                               params=flatten_params(params))
        return items


IDS_PER_CALL = 100     # the most ids (and the largest PageSize) these Describe* calls take


def describe_by_ids(client, action, ids_param, result_key, id_key, ids, region=None):
    """The items of a Describe* call that takes a JSON list of ids (``InstanceIds``, ``DiskIds``,
    ``SnapshotIds``), keeping only those whose ``id_key`` is one of ``ids``, in the API's order: one call per 100
    ids (with a PageSize covering them: the default page holds 10). ``result_key`` is the answer's path, e.g.
    ('Snapshots', 'Snapshot')."""
    ids = list(ids or [])
    found = []
    for start in range(0, len(ids), IDS_PER_CALL):
        chunk = ids[start:start + IDS_PER_CALL]
        params = {ids_param: json.dumps(chunk)}
        if len(chunk) > 10:
            params['PageSize'] = IDS_PER_CALL
        items = client.call(action, params, region=region)
        for key in result_key:
            items = (items or {}).get(key) if isinstance(items, dict) else None
        found.extend(item for item in items or [] if item.get(id_key) in chunk)
    return found
