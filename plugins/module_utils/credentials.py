# -*- coding: utf-8 -*-
# Copyright (c) alicloud.ecs_images contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Credentials: which source applies (our documented precedence, options, environment and aliyun CLI profiles; no
network), the endpoint options' checks, and the masked key names used in messages.

Static keys (options, environment, ``AK``/``StsToken`` profiles) are used as they are. Every source that needs a
call (RAM role ARN, OIDC/RRSA, ECS instance RAM role with IMDSv2, the aliyun CLI's role profiles) is handled by
``credential_providers.py`` with the official ``alibabacloud-credentials`` library; ``Credentials.keys()`` imports
that file, and the library, only for such a source (the library costs about 0.3 s of imports per module run).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import re

DEFAULT_SESSION_NAME = 'ansible-alicloud-ecs-images'
DEFAULT_ROLE_DURATION = 3600
METADATA_HOST = '100.100.100.200'

# Environment variable names, official names first. An empty value counts as unset.
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
    'oidc_provider_arn': ('ALIBABA_CLOUD_OIDC_PROVIDER_ARN',),
    'oidc_token_file': ('ALIBABA_CLOUD_OIDC_TOKEN_FILE',),
    'config_file': ('ALIBABA_CLOUD_CONFIG_FILE', 'ALICLOUD_CONFIG_FILE'),
}

# aliyun CLI profile modes: static ones are read here, the others are obtained with the library.
STATIC_PROFILE_MODES = ('AK', 'StsToken')
LIBRARY_PROFILE_MODES = ('RamRoleArn', 'ChainableRamRoleArn', 'EcsRamRole', 'OIDC')
# Modes the library handles entirely by itself (their own sign-in endpoints; not pointed at sts_endpoint).
DELEGATED_PROFILE_MODES = ('CloudSSO', 'OAuth', 'External')
PROFILE_MODES = STATIC_PROFILE_MODES + LIBRARY_PROFILE_MODES + DELEGATED_PROFILE_MODES

LIBRARY_REQUIREMENT = 'alibabacloud-credentials'

ENDPOINT_FORM = ('host[:port] or http(s)://host[:port] (for example ecs-vpc.cn-hangzhou.aliyuncs.com or '
                 'http://127.0.0.1:8080)')
_HOST_RE = re.compile(r'^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)'
                      r'(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$')
_IPV6_RE = re.compile(r'^\[[0-9A-Fa-f:.]+\]$')


class CredentialError(Exception):
    """Credentials, region or an endpoint could not be resolved, or the library could not obtain keys.

    ``option`` names the option at fault (or None); ``api_error`` is the ApiError of a failed STS/metadata call.
    """

    def __init__(self, msg, option=None, api_error=None):
        super(CredentialError, self).__init__(msg)
        self.msg = msg
        self.option = option
        self.api_error = api_error


def mask_key(key):
    """``LTAI5tAbCdEfGh1234`` -> ``LTAI****1234``: enough to recognise a key id, never a whole one."""
    key = key or ''
    if len(key) >= 12:
        return '%s****%s' % (key[:4], key[-4:])
    if len(key) >= 6:
        return '%s****%s' % (key[:2], key[-2:])
    return '****'


def endpoint_error(value):
    """Reason why ``value`` is not host[:port] or http(s)://host[:port][/], or None when it is."""
    text = value.strip()
    if not text:
        return 'is empty'
    rest = text
    if '://' in text:
        scheme, rest = text.split('://', 1)
        if scheme.lower() not in ('http', 'https'):
            return 'has the scheme "%s"; only http:// and https:// are allowed' % scheme
    rest = rest.rstrip('/')
    if '/' in rest or '?' in rest or '#' in rest or '@' in rest:
        return 'has a path, query or user part; give only the scheme, host and port'
    host, port = rest, None
    if rest.startswith('['):
        end = rest.find(']')
        host, tail = rest[:end + 1], rest[end + 1:]
        if tail:
            if not tail.startswith(':'):
                return 'is not a valid host'
            port = tail[1:]
    elif rest.count(':') == 1:
        host, port = rest.split(':')
    if port is not None and (not port.isdigit() or not 0 < int(port) < 65536):
        return 'has the port "%s"; a port is a number from 1 to 65535' % port
    if not (_HOST_RE.match(host) or _IPV6_RE.match(host)):
        return 'has the host "%s", which is not a valid host name or IP address' % host
    return None


def check_endpoint(value, option, env_name=None):
    """Raise CredentialError naming ``option`` (or the environment variable it came from) for a bad endpoint."""
    reason = endpoint_error(value)
    if reason:
        where = 'environment variable %s' % env_name if env_name else 'option %s' % option
        raise CredentialError('%s: the endpoint %r %s. Allowed form: %s.' % (where, value, reason, ENDPOINT_FORM),
                              option=option)
    return value.strip()


# ---------------------------------------------------------------------------------------------- the sources

class Credentials:
    """Resolved settings and the source of the keys (no secret in repr).

    ``kind`` is one of 'ak', 'sts' (static keys, no library), 'assume_role' (static or profile keys + a role to
    assume), 'profile' (an aliyun CLI role profile), 'ecs_role', 'oidc'. :meth:`keys` returns the keys to sign with,
    obtaining them through the library (with our retries) when the source needs it.
    """

    def __init__(self, access_key=None, secret_key=None, security_token=None, region=None, endpoint=None,
                 sts_endpoint=None, validate_certs=True, source='', assume_role_arn=None, session_name=None,
                 role_duration=DEFAULT_ROLE_DURATION, ecs_role_name=None, oidc_provider_arn=None,
                 oidc_token_file=None, profile=None, config=None, config_path=None):
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
        self.role_duration = role_duration or DEFAULT_ROLE_DURATION
        self.ecs_role_name = ecs_role_name
        self.oidc_provider_arn = oidc_provider_arn
        self.oidc_token_file = oidc_token_file
        self.profile = profile            # a library-backed aliyun CLI profile (dict), else None
        self.config = config              # the whole CLI config (for ChainableRamRoleArn source profiles)
        self.config_path = config_path
        self.base_key = access_key or (profile or {}).get('access_key_id') or None
        self.provider = None              # the library provider, once built (credential_providers)
        self.provider_action = None       # what it calls, for messages (AssumeRole, ECS metadata service, ...)
        self.fetched = False              # keys were obtained once (a later failure is a failed refresh)
        self._kind = self._initial_kind()

    @property
    def kind(self):
        return self._kind

    @property
    def needs_library(self):
        return self._kind in ('assume_role', 'profile', 'ecs_role', 'oidc')

    def _initial_kind(self):
        if self.oidc_provider_arn:
            return 'oidc'
        if self.assume_role_arn:
            return 'assume_role'
        if self.ecs_role_name:
            return 'ecs_role'
        if self.profile:
            return 'profile'
        return 'sts' if self.security_token else 'ak'

    @property
    def uses_metadata(self):
        """True when keys come from the instance metadata service (option/env role, or an EcsRamRole profile)."""
        return bool(self.ecs_role_name) or (self.profile or {}).get('mode') == 'EcsRamRole'

    def __repr__(self):  # never show secrets
        return 'Credentials(kind=%s, source=%s, region=%s, access_key=%s)' % (
            self.kind, self.source, self.region, mask_key(self.access_key))

    def describe_key(self):
        """'access key LTAI****abcd from <source>' for messages (the key id masked)."""
        if self.needs_library and self.access_key and self.access_key != self.base_key:
            text = 'temporary access key %s obtained from %s' % (mask_key(self.access_key), self.source)
            if self.base_key:
                text += ' with access key %s' % mask_key(self.base_key)
            return text
        key = self.access_key or self.base_key
        if key:
            return 'access key %s from %s' % (mask_key(key), self.source)
        return 'credentials from %s' % self.source

    def auth_hint(self, code):
        """Explanation added to an authentication error code, naming the (masked) key and its source."""
        code = code or ''
        if code.startswith('InvalidAccessKeyId'):
            state = 'is disabled' if code.endswith('Inactive') else 'is not known to Alibaba Cloud'
            return 'the %s %s' % (self.describe_key(), state)
        if code in ('SignatureDoesNotMatch', 'IncompleteSignature', 'InvalidAccessKeySecret'):
            return 'the secret does not match the %s' % self.describe_key()
        if code.startswith('InvalidSecurityToken') or code == 'MissingSecurityToken':
            return 'the security token used with the %s is wrong or expired' % self.describe_key()
        return None

    # ------------------------------------------------------------------ obtaining keys
    def keys(self, **retry):
        """(access_key, secret_key, security_token) to sign requests with; calls the library when needed.

        Static keys are returned as they are. Other sources are handled by ``credential_providers`` (imported here,
        only for them); the library caches temporary keys and refreshes them before they expire, so calling this
        before each request is cheap and keeps long waits working. ``retry``: keyword arguments for ``retry_call``.
        """
        if not self.needs_library:
            return self.access_key, self.secret_key, self.security_token
        from ansible_collections.alicloud.ecs_images.plugins.module_utils import credential_providers  # pylint: disable=import-outside-toplevel
        return credential_providers.fetch_keys(self, **retry)


def materialize_credentials(cred, **retry):
    """Obtain the keys of ``cred`` now (network calls for role sources). Cheap once done."""
    cred.keys(**retry)
    return cred


# ---------------------------------------------------------------------------------------------- resolution

def _env_first(env, option):
    for name in ENV_NAMES[option]:
        value = env.get(name)
        if value not in (None, ''):
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
        raise CredentialError('cannot read the aliyun CLI config %s: %s' % (path, exc), option='profile')
    if not isinstance(data, dict):
        raise CredentialError('the aliyun CLI config %s is not a JSON object' % path, option='profile')
    return data


def select_profile(config, name=None, path='~/.aliyun/config.json'):
    """Return the profile dict called ``name`` (or the ``current`` one)."""
    profiles = config.get('profiles') or []
    wanted = name or config.get('current') or 'default'
    for profile in profiles:
        if profile.get('name') == wanted:
            return profile
    names = ', '.join(sorted(p.get('name', '?') for p in profiles)) or 'none'
    raise CredentialError('profile "%s" not found in %s (profiles: %s)' % (wanted, path, names), option='profile')


def profile_credentials(profile, path='~/.aliyun/config.json', config=None):
    """Translate an aliyun CLI profile into Credentials fields (dict); checks the fields its mode needs."""
    mode = profile.get('mode') or 'AK'
    name = profile.get('name')
    out = dict(region=profile.get('region_id') or None, source='profile %s (%s)' % (name, path))

    def need(*fields):
        missing = [f for f in fields if not profile.get(f)]
        if missing:
            raise CredentialError('profile "%s" (mode %s) in %s has no %s' % (name, mode, path, '/'.join(missing)),
                                  option='profile')

    if mode in STATIC_PROFILE_MODES:
        need('access_key_id', 'access_key_secret', *(('sts_token',) if mode == 'StsToken' else ()))
        out.update(access_key=profile['access_key_id'], secret_key=profile['access_key_secret'],
                   security_token=profile.get('sts_token') if mode == 'StsToken' else None)
    elif mode in LIBRARY_PROFILE_MODES or mode in DELEGATED_PROFILE_MODES:
        if mode == 'RamRoleArn':
            need('access_key_id', 'access_key_secret', 'ram_role_arn')
        elif mode == 'ChainableRamRoleArn':
            need('source_profile', 'ram_role_arn')
            select_profile(config or {}, profile['source_profile'], path)
        elif mode == 'OIDC':
            need('ram_role_arn', 'oidc_provider_arn', 'oidc_token_file')
        out.update(profile=profile, config=config, config_path=path)
    else:
        raise CredentialError('profile "%s" in %s uses mode %s; supported modes: %s'
                              % (name, path, mode, ', '.join(PROFILE_MODES)), option='profile')
    return out


MISSING_CREDENTIALS_MSG = (
    'No Alibaba Cloud credentials found. Set the options access_key and secret_key (or profile, ecs_role_name, '
    'oidc_provider_arn with oidc_token_file), or the environment variables ALIBABA_CLOUD_ACCESS_KEY_ID and '
    'ALIBABA_CLOUD_ACCESS_KEY_SECRET (or ALICLOUD_ACCESS_KEY and ALICLOUD_SECRET_KEY), or '
    'ALIBABA_CLOUD_OIDC_PROVIDER_ARN, ALIBABA_CLOUD_OIDC_TOKEN_FILE and ALIBABA_CLOUD_ROLE_ARN, or '
    'ALIBABA_CLOUD_PROFILE, or configure the aliyun CLI (%s).')

MISSING_REGION_MSG = (
    'No region given. Set the option region (alias alicloud_region) or the environment variable '
    'ALIBABA_CLOUD_REGION_ID (or ALICLOUD_REGION), or a region_id in the aliyun CLI profile.')


def resolve_credentials(params, env=None, config_path=None):
    """Resolve credentials and settings without any network call (see docs/credentials.md for the order).

    Order: explicit options > ALIBABA_CLOUD_* environment > ALICLOUD_* environment > aliyun CLI profile. An empty
    option or variable counts as unset (AWX injects unset inputs as ""). An explicit region is never overridden.
    Raises CredentialError with a message naming the options and environment variables.
    """
    env = os.environ if env is None else env
    params = params or {}
    config_path = config_path or default_config_path(env)
    cred = {}

    def opt(name):
        value = params.get(name)
        return value if value not in (None, '') else None

    def env_value(name):
        return _env_first(env, name)[0]

    role_arn = opt('assume_role_arn') or env_value('assume_role_arn')

    def from_profile(name, label):
        config = load_cli_config(config_path)
        if config is None:
            raise CredentialError('%s is "%s" but the aliyun CLI config %s does not exist' % (label, name, config_path),
                                  option='profile')
        return profile_credentials(select_profile(config, name, config_path), config_path, config)

    def oidc(provider_arn, token_file, label):
        if not role_arn:
            raise CredentialError('%s is set but no role to assume: set the option assume_role_arn or '
                                  'ALIBABA_CLOUD_ROLE_ARN' % label, option='assume_role_arn')
        return dict(oidc_provider_arn=provider_arn, oidc_token_file=token_file,
                    source='OIDC token file %s (%s)' % (token_file, label))

    # 1. explicit access keys
    if opt('access_key') or opt('secret_key'):
        if not (opt('access_key') and opt('secret_key')):
            missing = 'secret_key' if opt('access_key') else 'access_key'
            raise CredentialError('option %s is required when %s is given'
                                  % (missing, 'access_key' if missing == 'secret_key' else 'secret_key'),
                                  option=missing)
        cred.update(access_key=opt('access_key'), secret_key=opt('secret_key'),
                    security_token=opt('security_token'), source='the options access_key/secret_key')
    # 2. explicit profile
    elif opt('profile'):
        cred.update(from_profile(opt('profile'), 'option profile'))
    # 3. explicit instance role
    elif opt('ecs_role_name'):
        cred.update(ecs_role_name=opt('ecs_role_name'),
                    source='ECS instance RAM role %s (option ecs_role_name)' % opt('ecs_role_name'))
    # 4. explicit OIDC (RRSA)
    elif opt('oidc_provider_arn') or opt('oidc_token_file'):
        if not (opt('oidc_provider_arn') and opt('oidc_token_file')):
            missing = 'oidc_token_file' if opt('oidc_provider_arn') else 'oidc_provider_arn'
            raise CredentialError('option %s is required when %s is given' % (
                missing, 'oidc_provider_arn' if missing == 'oidc_token_file' else 'oidc_token_file'), option=missing)
        cred.update(oidc(opt('oidc_provider_arn'), opt('oidc_token_file'), 'options oidc_provider_arn/oidc_token_file'))
    else:
        # 5. keys in the environment (official names), 6. OIDC/RRSA in the environment (ACK pods, AWX on ACK),
        # 7. keys in the environment (ALICLOUD_* names)
        for label, names, secrets, tokens in (
                ('ALIBABA_CLOUD_ACCESS_KEY_ID', ENV_NAMES['access_key'][:1], ENV_NAMES['secret_key'][:1],
                 ENV_NAMES['security_token'][:1]),
                ('OIDC', (), (), ()),
                ('ALICLOUD_ACCESS_KEY', ENV_NAMES['access_key'][1:], ENV_NAMES['secret_key'][1:],
                 ENV_NAMES['security_token'][1:])):
            if label == 'OIDC':
                if env_value('oidc_provider_arn') and env_value('oidc_token_file') and role_arn:
                    cred.update(oidc(env_value('oidc_provider_arn'), env_value('oidc_token_file'),
                                     'environment ALIBABA_CLOUD_OIDC_PROVIDER_ARN/ALIBABA_CLOUD_OIDC_TOKEN_FILE'))
                    break
                continue
            ak_name = next((n for n in names if env.get(n)), None)
            sk = next((env[n] for n in secrets if env.get(n)), None)
            if ak_name and sk:
                token = opt('security_token') or next((env[n] for n in tokens if env.get(n)), None)
                cred.update(access_key=env[ak_name], secret_key=sk, security_token=token,
                            source='the environment variable %s' % ak_name)
                break
        if not cred:
            env_profile, env_profile_name = _env_first(env, 'profile')
            env_role, env_role_name = _env_first(env, 'ecs_role_name')
            if env_profile:
                cred.update(from_profile(env_profile, 'environment variable %s' % env_profile_name))
            elif env_role:
                cred.update(ecs_role_name=env_role,
                            source='ECS instance RAM role %s (environment %s)' % (env_role, env_role_name))
            else:
                config = load_cli_config(config_path)
                if config is not None and config.get('profiles'):
                    cred.update(profile_credentials(select_profile(config, None, config_path), config_path, config))
                else:
                    raise CredentialError(MISSING_CREDENTIALS_MSG % config_path)

    # region: explicit > env > profile (the profile region only fills a gap)
    profile_region = cred.pop('region', None)
    region = opt('region') or env_value('region')
    if not region and profile_region is None and not opt('profile'):
        # region may still come from the current CLI profile even when keys came from elsewhere
        try:
            config = load_cli_config(config_path)
            if config and config.get('profiles'):
                profile_region = select_profile(config, env_value('profile'), config_path).get('region_id') or None
        except CredentialError:
            profile_region = None
    region = region or profile_region
    if not region:
        raise CredentialError(MISSING_REGION_MSG, option='region')

    if role_arn:
        cred['assume_role_arn'] = role_arn
    session_name = opt('assume_role_session_name') or env_value('assume_role_session_name')
    if session_name:
        cred['session_name'] = session_name

    endpoints = {}
    for name in ('endpoint', 'sts_endpoint'):
        value, env_name = (opt(name), None) if opt(name) else _env_first(env, name)
        endpoints[name] = check_endpoint(value, name, env_name) if value else None

    validate_certs = params.get('validate_certs')
    return Credentials(region=region, validate_certs=True if validate_certs is None else bool(validate_certs),
                       **dict(cred, **endpoints))
