# -*- coding: utf-8 -*-
# Copyright (c) alicloud.ecs_images contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one call path to the ECS API (and STS), plus credential resolution.

Everything here except :class:`EcsClient` and the STS/metadata fetchers is pure logic so it can be unit tested
without the SDK.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import importlib
import json
import logging
import os
import random
import re
import time
import uuid

from ansible.module_utils.urls import open_url

try:
    from urllib.request import proxy_bypass_environment
    from urllib.parse import urlparse
except ImportError:  # pragma: no cover - python 2 is not supported, keep sanity import test happy
    proxy_bypass_environment = urlparse = None

ALIYUN_SDK_IMPORT_ERROR = None
try:
    from aliyunsdkcore.client import AcsClient
    from aliyunsdkcore.request import CommonRequest
    from aliyunsdkcore.auth.credentials import AccessKeyCredential, StsTokenCredential
    from aliyunsdkcore.acs_exception.exceptions import ClientException, ServerException
    HAS_ALIYUN_SDK = True
    # The SDK logs every failed attempt at ERROR level; we report errors ourselves.
    _sdk_logger = logging.getLogger('aliyunsdkcore')
    _sdk_logger.addHandler(logging.NullHandler())
    _sdk_logger.propagate = False
except ImportError as _exc:  # pragma: no cover - exercised only without the SDK
    HAS_ALIYUN_SDK = False
    ALIYUN_SDK_IMPORT_ERROR = _exc
    AcsClient = CommonRequest = AccessKeyCredential = StsTokenCredential = None

    class ClientException(Exception):
        pass

    class ServerException(Exception):
        pass


ECS_API_VERSION = '2014-05-26'
STS_API_VERSION = '2015-04-01'
METADATA_URL = 'http://100.100.100.200/latest/meta-data/ram/security-credentials/'
DEFAULT_SESSION_NAME = 'ansible-alicloud-ecs-images'

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

# Environment variable names, official names first.
ENV_NAMES = {
    'access_key': ('ALIBABA_CLOUD_ACCESS_KEY_ID', 'ALICLOUD_ACCESS_KEY', 'ALICLOUD_ACCESS_KEY_ID'),
    'secret_key': ('ALIBABA_CLOUD_ACCESS_KEY_SECRET', 'ALICLOUD_SECRET_KEY', 'ALICLOUD_ACCESS_KEY_SECRET'),
    'security_token': ('ALIBABA_CLOUD_SECURITY_TOKEN', 'ALICLOUD_SECURITY_TOKEN'),
    'region': ('ALIBABA_CLOUD_REGION_ID', 'ALICLOUD_REGION', 'ALICLOUD_REGION_ID'),
    'profile': ('ALIBABA_CLOUD_PROFILE', 'ALICLOUD_PROFILE'),
    'endpoint': ('ALIBABA_CLOUD_ECS_ENDPOINT', 'ALICLOUD_ECS_ENDPOINT'),
    'sts_endpoint': ('ALIBABA_CLOUD_STS_ENDPOINT', 'ALICLOUD_STS_ENDPOINT'),
    'assume_role_arn': ('ALIBABA_CLOUD_ROLE_ARN', 'ALICLOUD_ASSUME_ROLE_ARN'),
    'assume_role_session_name': ('ALIBABA_CLOUD_ROLE_SESSION_NAME', 'ALICLOUD_ASSUME_ROLE_SESSION_NAME'),
    'ecs_role_name': ('ALIBABA_CLOUD_ECS_METADATA', 'ALICLOUD_ECS_ROLE_NAME'),
    'config_file': ('ALIBABA_CLOUD_CONFIG_FILE', 'ALICLOUD_CONFIG_FILE'),
}

_SECRET_WORDS = ('password', 'secret', 'token', 'accesskey')
_SECRET_EXACT = frozenset(['Password', 'SecurityToken', 'AccessKeyId', 'AccessKeySecret', 'Signature'])


class CredentialError(Exception):
    """Credentials or region could not be resolved (raised before any API call)."""


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
        return is_retryable(self.code, self.http_status, self.action)


# A host name that does not resolve (a mistyped region or endpoint) is not a passing fault: never retried.
# "Temporary failure in name resolution" (EAI_AGAIN) is not listed here and is retried like a dropped connection.
_UNRESOLVABLE_HOST_TEXTS = ('Name or service not known', 'nodename nor servname provided',
                            'No address associated with hostname', 'getaddrinfo failed')


def client_error_code(code, message):
    """Error code for an SDK ClientException: SDK.HostNotFound when the host name cannot be resolved."""
    if code == 'SDK.HttpError' and any(text in (message or '') for text in _UNRESOLVABLE_HOST_TEXTS):
        return 'SDK.HostNotFound'
    return code


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


# ---------------------------------------------------------------------------------------------- credentials

class Credentials:
    """Resolved settings. ``kind`` is 'ak', 'sts', 'assume_role' or 'ecs_role'; the last two are completed by
    :func:`materialize_credentials` (network) when the first client is built."""

    def __init__(self, access_key=None, secret_key=None, security_token=None, region=None, endpoint=None,
                 sts_endpoint=None, validate_certs=True, source='', assume_role_arn=None,
                 session_name=None, role_duration=3600, ecs_role_name=None):
        self.access_key = access_key
        self.secret_key = secret_key
        self.security_token = security_token
        self.region = region
        self.endpoint = endpoint
        self.sts_endpoint = sts_endpoint
        self.validate_certs = validate_certs
        self.source = source
        self.assume_role_arn = assume_role_arn
        self.session_name = session_name or DEFAULT_SESSION_NAME
        self.role_duration = role_duration
        self.ecs_role_name = ecs_role_name

    @property
    def kind(self):
        if self.ecs_role_name and not self.access_key:
            return 'ecs_role'
        if self.assume_role_arn:
            return 'assume_role'
        return 'sts' if self.security_token else 'ak'

    def __repr__(self):  # never show secrets
        return 'Credentials(kind=%s, source=%s, region=%s, access_key=%s)' % (
            self.kind, self.source, self.region, (self.access_key or '')[:4] + '****')


def _env_first(env, option):
    for name in ENV_NAMES[option]:
        value = env.get(name)
        if value:
            return value, name
    return None, None


def default_config_path(env=None):
    env = os.environ if env is None else env
    value, dummy = _env_first(env, 'config_file')
    if value:
        return value
    home = env.get('HOME') or os.path.expanduser('~')
    return os.path.join(home, '.aliyun', 'config.json')


def load_cli_config(path):
    """Parse the aliyun CLI config file; returns None when the file does not exist."""
    if not path or not os.path.isfile(path):
        return None
    try:
        with open(path, 'r') as handle:
            data = json.load(handle)
    except (IOError, OSError, ValueError) as exc:
        raise CredentialError('cannot read the aliyun CLI config %s: %s' % (path, exc))
    if not isinstance(data, dict):
        raise CredentialError('the aliyun CLI config %s is not a JSON object' % path)
    return data


def select_profile(config, name=None, path='~/.aliyun/config.json'):
    """Return the profile dict called ``name`` (or the ``current`` one)."""
    profiles = config.get('profiles') or []
    wanted = name or config.get('current') or 'default'
    for profile in profiles:
        if profile.get('name') == wanted:
            return profile
    names = ', '.join(sorted(p.get('name', '?') for p in profiles)) or 'none'
    raise CredentialError('profile "%s" not found in %s (profiles: %s)' % (wanted, path, names))


def profile_credentials(profile, path='~/.aliyun/config.json'):
    """Translate an aliyun CLI profile into Credentials fields (dict)."""
    mode = profile.get('mode') or 'AK'
    name = profile.get('name')
    out = dict(region=profile.get('region_id') or None, source='profile %s (%s)' % (name, path))
    if mode in ('AK', 'StsToken', 'RamRoleArn'):
        out['access_key'] = profile.get('access_key_id') or None
        out['secret_key'] = profile.get('access_key_secret') or None
        if not out['access_key'] or not out['secret_key']:
            raise CredentialError('profile "%s" (mode %s) in %s has no access_key_id/access_key_secret'
                                  % (name, mode, path))
        if mode == 'StsToken':
            out['security_token'] = profile.get('sts_token') or None
            if not out['security_token']:
                raise CredentialError('profile "%s" (mode StsToken) in %s has no sts_token' % (name, path))
        if mode == 'RamRoleArn':
            out['assume_role_arn'] = profile.get('ram_role_arn') or None
            out['session_name'] = profile.get('ram_session_name') or None
            if profile.get('expired_seconds'):
                out['role_duration'] = int(profile['expired_seconds'])
            if not out['assume_role_arn']:
                raise CredentialError('profile "%s" (mode RamRoleArn) in %s has no ram_role_arn' % (name, path))
    elif mode == 'EcsRamRole':
        out['ecs_role_name'] = profile.get('ram_role_name') or None
        if not out['ecs_role_name']:
            raise CredentialError('profile "%s" (mode EcsRamRole) in %s has no ram_role_name' % (name, path))
    else:
        raise CredentialError('profile "%s" in %s uses mode %s; supported modes: AK, StsToken, RamRoleArn, '
                              'EcsRamRole' % (name, path, mode))
    return out


MISSING_CREDENTIALS_MSG = (
    'No Alibaba Cloud credentials found. Set the options access_key and secret_key (or profile, '
    'ecs_role_name), or the environment variables ALIBABA_CLOUD_ACCESS_KEY_ID and '
    'ALIBABA_CLOUD_ACCESS_KEY_SECRET (or ALICLOUD_ACCESS_KEY and ALICLOUD_SECRET_KEY), or '
    'ALIBABA_CLOUD_PROFILE, or configure the aliyun CLI (%s).')

MISSING_REGION_MSG = (
    'No region given. Set the option region (alias alicloud_region) or the environment variable '
    'ALIBABA_CLOUD_REGION_ID (or ALICLOUD_REGION), or a region_id in the aliyun CLI profile.')


def resolve_credentials(params, env=None, config_path=None):
    """Resolve credentials and settings without any network call.

    Order: explicit options > ALIBABA_CLOUD_* environment > ALICLOUD_* environment > aliyun CLI profile.
    An explicit region is never overridden. Raises CredentialError with a message naming the options and
    environment variables.
    """
    env = os.environ if env is None else env
    params = params or {}
    config_path = config_path or default_config_path(env)
    cred = {}

    def opt(name):
        value = params.get(name)
        return value if value not in (None, '') else None

    # 1. explicit access keys
    if opt('access_key') or opt('secret_key'):
        if not (opt('access_key') and opt('secret_key')):
            missing = 'secret_key' if opt('access_key') else 'access_key'
            raise CredentialError('option %s is required when %s is given'
                                  % (missing, 'access_key' if missing == 'secret_key' else 'secret_key'))
        cred.update(access_key=opt('access_key'), secret_key=opt('secret_key'),
                    security_token=opt('security_token'), source='options')
    # 2. explicit profile
    elif opt('profile'):
        config = load_cli_config(config_path)
        if config is None:
            raise CredentialError('option profile is "%s" but the aliyun CLI config %s does not exist'
                                  % (opt('profile'), config_path))
        cred.update(profile_credentials(select_profile(config, opt('profile'), config_path), config_path))
    # 3. explicit instance role
    elif opt('ecs_role_name'):
        cred.update(ecs_role_name=opt('ecs_role_name'), source='ECS instance RAM role (option ecs_role_name)')
    else:
        # 4./5. environment
        for prefix_index, label in ((0, 'ALIBABA_CLOUD_*'), (1, 'ALICLOUD_*')):
            ak = env.get(ENV_NAMES['access_key'][prefix_index])
            sk = env.get(ENV_NAMES['secret_key'][prefix_index])
            if prefix_index == 1:
                ak = ak or env.get(ENV_NAMES['access_key'][2])
                sk = sk or env.get(ENV_NAMES['secret_key'][2])
            if ak and sk:
                cred.update(access_key=ak, secret_key=sk,
                            security_token=opt('security_token') or env.get(
                                ENV_NAMES['security_token'][prefix_index]) or None,
                            source='environment (%s)' % label)
                break
        if not cred:
            env_profile, dummy = _env_first(env, 'profile')
            env_role, dummy = _env_first(env, 'ecs_role_name')
            config = load_cli_config(config_path)
            if env_profile:
                if config is None:
                    raise CredentialError('environment variable ALIBABA_CLOUD_PROFILE/ALICLOUD_PROFILE is "%s" '
                                          'but the aliyun CLI config %s does not exist' % (env_profile, config_path))
                cred.update(profile_credentials(select_profile(config, env_profile, config_path), config_path))
            elif env_role:
                cred.update(ecs_role_name=env_role, source='ECS instance RAM role (environment)')
            elif config is not None and config.get('profiles'):
                cred.update(profile_credentials(select_profile(config, None, config_path), config_path))
            else:
                raise CredentialError(MISSING_CREDENTIALS_MSG % config_path)

    # region: explicit > env > profile (the profile region only fills a gap)
    profile_region = cred.pop('region', None)
    region = opt('region') or _env_first(env, 'region')[0]
    if not region and profile_region is None and not opt('profile'):
        # region may still come from the current CLI profile even when keys came from elsewhere
        try:
            config = load_cli_config(config_path)
            if config and config.get('profiles'):
                env_profile = _env_first(env, 'profile')[0]
                profile_region = select_profile(config, env_profile, config_path).get('region_id') or None
        except CredentialError:
            profile_region = None
    region = region or profile_region
    if not region:
        raise CredentialError(MISSING_REGION_MSG)

    arn = opt('assume_role_arn') or _env_first(env, 'assume_role_arn')[0]
    if arn:
        cred['assume_role_arn'] = arn
    session_name = opt('assume_role_session_name') or _env_first(env, 'assume_role_session_name')[0]
    if session_name:
        cred['session_name'] = session_name
    if cred.get('assume_role_arn') and cred.get('ecs_role_name') and not cred.get('access_key'):
        # assume a role with the instance-role credentials: allowed, handled by materialize_credentials
        pass

    validate_certs = params.get('validate_certs')
    return Credentials(region=region,
                       endpoint=opt('endpoint') or _env_first(env, 'endpoint')[0],
                       sts_endpoint=opt('sts_endpoint') or _env_first(env, 'sts_endpoint')[0],
                       validate_certs=True if validate_certs is None else bool(validate_certs),
                       **cred)


def default_sts_endpoint(region):
    return 'sts.%s.aliyuncs.com' % region if region else 'sts.aliyuncs.com'


def _no_proxy_for(endpoint):
    """requests proxies mapping that disables proxies when NO_PROXY (or loopback) covers the endpoint."""
    if not endpoint or urlparse is None:
        return None
    target = endpoint if '://' in endpoint else 'https://' + endpoint
    host = urlparse(target).hostname or ''
    if host in ('127.0.0.1', 'localhost', '::1') or proxy_bypass_environment(host):
        return {'http': None, 'https': None}
    return None


def fetch_ecs_role_credentials(role_name, timeout=2.0, url=METADATA_URL):
    """Read temporary credentials of the instance RAM role from the metadata service (short timeout)."""
    try:
        response = open_url(url + role_name, timeout=timeout, use_proxy=False)
        data = json.loads(response.read().decode('utf-8'))
    except Exception as exc:
        raise CredentialError('cannot read credentials of ECS RAM role "%s" from %s (only works on an ECS '
                              'instance): %s' % (role_name, url, exc))
    if data.get('Code', 'Success') != 'Success' or not data.get('AccessKeyId'):
        raise CredentialError('metadata service refused credentials for RAM role "%s": %s'
                              % (role_name, data.get('Code')))
    return data['AccessKeyId'], data['AccessKeySecret'], data.get('SecurityToken')


def _acs_client(access_key, secret_key, security_token, region, validate_certs, endpoint=None):
    if security_token:
        credential = StsTokenCredential(access_key, secret_key, security_token)
    else:
        credential = AccessKeyCredential(access_key, secret_key)
    return AcsClient(region_id=region, credential=credential, auto_retry=False,
                     verify=None if validate_certs else False, proxy=_no_proxy_for(endpoint))


def assume_role(cred, sleep=time.sleep):
    """Call STS AssumeRole with the base credentials in ``cred``; returns (ak, secret, token)."""
    endpoint = cred.sts_endpoint or default_sts_endpoint(cred.region)
    client = _acs_client(cred.access_key, cred.secret_key, cred.security_token, cred.region,
                         cred.validate_certs, endpoint)
    params = {'RoleArn': cred.assume_role_arn, 'RoleSessionName': cred.session_name,
              'DurationSeconds': str(cred.role_duration or 3600)}
    last = None
    for attempt in range(4):
        request = CommonRequest(domain=endpoint, version=STS_API_VERSION, action_name='AssumeRole',
                                product='Sts')
        request.set_method('POST')
        if '://' not in endpoint:
            request.set_protocol_type('https')
        for key, value in params.items():
            request.add_query_param(key, value)
        try:
            data = json.loads(client.do_action_with_exception(request))
            creds = data['Credentials']
            return creds['AccessKeyId'], creds['AccessKeySecret'], creds['SecurityToken']
        except ServerException as exc:
            last = ApiError('AssumeRole', exc.get_error_code(), exc.get_error_msg(), exc.get_request_id(),
                            exc.get_http_status(), params, attempt + 1)
        except ClientException as exc:
            last = ApiError('AssumeRole', client_error_code(exc.get_error_code(), exc.get_error_msg()),
                            exc.get_error_msg(), None, None, params, attempt + 1)
        if not last.retryable:
            break
        sleep(backoff_delay(attempt))
    raise CredentialError('cannot assume role %s at %s: %s' % (cred.assume_role_arn, endpoint, last))


def materialize_credentials(cred, metadata_fetcher=fetch_ecs_role_credentials, sts_caller=assume_role):
    """Turn instance-role / assume-role settings into static keys (network calls). Idempotent."""
    if cred.ecs_role_name and not cred.access_key:
        cred.access_key, cred.secret_key, cred.security_token = metadata_fetcher(cred.ecs_role_name)
    if cred.assume_role_arn:
        cred.access_key, cred.secret_key, cred.security_token = sts_caller(cred)
        cred.source = '%s, assumed role %s' % (cred.source, cred.assume_role_arn)
        cred.assume_role_arn = None
    return cred


# --------------------------------------------------------------------------------------------------- client

def _request_for(action):
    """SDK generated request class instance for ``action`` if it exists, else a CommonRequest."""
    try:
        module = importlib.import_module('aliyunsdkecs.request.v20140526.%sRequest' % action)
        return getattr(module, '%sRequest' % action)()
    except (ImportError, AttributeError):
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
        self._sleep = sleep
        self._now = now
        self._transport = transport   # callable(action, flat_params, region) -> dict, for tests
        self._acs = {}

    # -- transport
    def _acs_for(self, region):
        if region not in self._acs:
            materialize_credentials(self.credentials)
            c = self.credentials
            self._acs[region] = _acs_client(c.access_key, c.secret_key, c.security_token, region,
                                            self.validate_certs, self.endpoint)
        return self._acs[region]

    def _send(self, action, flat, region):
        if self._transport is not None:
            return self._transport(action, dict(flat), region)
        request = _request_for(action)
        if self.endpoint:
            request.set_endpoint(self.endpoint)
        if not self.endpoint or '://' not in self.endpoint:
            request.set_protocol_type('https')
        for key, value in flat.items():
            request.add_query_param(key, value)
        body = self._acs_for(region).do_action_with_exception(request)
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
        started = self._now()
        attempt = 0
        while True:
            attempt += 1
            self.calls += 1
            if attempt > 1:
                self.retries += 1
            try:
                result = self._send(action, flat, region)
                self.history.append((action, 'ok'))
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
            if not err.retryable or (retry_for is None and attempt >= self.max_tries):
                raise err
            if give_up is not None and err.code in RETRYABLE_CODES_BY_ACTION.get(action, ()) and give_up(err):
                raise err
            delay = backoff_delay(attempt - 1, self.base_delay, self.max_delay)
            if self._now() - started + delay > (self.max_total if retry_for is None else retry_for):
                raise err
            self._sleep(delay)

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
