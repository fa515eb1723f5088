# -*- coding: utf-8 -*-
# Copyright (c) alicloud.ecs_images contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Keys from the sources that need a call: RAM role ARN, OIDC/RRSA, the ECS instance RAM role (IMDSv2) and the
aliyun CLI's role profiles, obtained with the official ``alibabacloud-credentials`` library.

Which source applies is decided in ``credentials.py`` (no network). ``Credentials.keys()`` imports this file only
for a source that needs it, so a run with static keys compiles neither this file nor the library. STS and metadata
requests made by the library go through the same bounded, jittered retry policy as every ECS call
(:func:`client.retry_call`); their failures become ApiError (with the masked key and its source) or CredentialError.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import json
import os
import re

try:
    from urllib.parse import urlparse
    from urllib.request import proxy_bypass_environment
except ImportError:  # pragma: no cover - python 2 is not supported, keep sanity import test happy
    urlparse = proxy_bypass_environment = None

from ansible_collections.alicloud.ecs_images.plugins.module_utils.client import (
    ApiError, client_error_code, retry_call,
)
from ansible_collections.alicloud.ecs_images.plugins.module_utils.credentials import (
    DEFAULT_ROLE_DURATION, DEFAULT_SESSION_NAME, LIBRARY_REQUIREMENT, METADATA_HOST, STATIC_PROFILE_MODES,
    CredentialError, select_profile,
)


def fetch_keys(cred, **retry):
    """Keys of ``cred`` (a Credentials whose source needs the library), obtained through the library with our
    bounded, jittered retries; stores them on ``cred`` and returns (access_key, secret_key, security_token)."""
    if cred.provider is None:
        cred.provider, cred.provider_action = build_provider(cred)
    action = cred.provider_action
    if cred.uses_metadata:
        # off an ECS instance the metadata address does not answer: do not retry for long (also when a role is
        # then assumed with the instance role's keys)
        retry.setdefault('max_tries', 2)
        retry.setdefault('max_total', 10.0)
    try:
        creds = retry_call(lambda attempt: _fetch(cred.provider, action, attempt, cred), **retry)
    except CredentialError as exc:
        if not cred.fetched:
            raise
        # a refresh in the middle of the run (e.g. the OIDC token file is gone): report it like a failed call
        err = ApiError(action or 'credentials', 'CredentialRefreshFailed', '%s (%s)' % (exc.msg, cred.source))
        err.final = True
        raise err
    except ApiError as err:
        context = cred.auth_hint(err.code) or 'with the %s' % cred.describe_key()
        if cred.assume_role_arn and action in ('AssumeRole', 'AssumeRoleWithOIDC'):
            context = 'assuming role %s; %s' % (cred.assume_role_arn, context)
        if cred.sts_endpoint and action.startswith('AssumeRole'):
            context += '; STS endpoint %s' % cred.sts_endpoint
        err.message = '%s (%s)' % (err.message, context) if err.message else context
        raise
    cred.fetched = True
    cred.access_key = creds.get_access_key_id()
    cred.secret_key = creds.get_access_key_secret()
    cred.security_token = creds.get_security_token() or None
    return cred.access_key, cred.secret_key, cred.security_token


def build_provider(cred):
    """(library provider, action name for messages) for the source of ``cred``."""
    lib = _library()
    if cred.kind == 'oidc':
        return _oidc_provider(cred, lib, cred.assume_role_arn, cred.oidc_provider_arn, cred.oidc_token_file,
                              cred.session_name, cred.role_duration, None), 'AssumeRoleWithOIDC'
    if cred.profile:
        base, action = _profile_provider(cred, lib, cred.profile, set())
    elif cred.ecs_role_name:
        base, action = _ecs_role_provider(cred, lib, cred.ecs_role_name), 'ECS metadata service'
    else:
        base, action = _static_provider(lib, cred.access_key, cred.secret_key, cred.security_token), None
    if cred.assume_role_arn:
        return _role_provider(cred, lib, base, cred.assume_role_arn, cred.session_name, cred.role_duration,
                              None, None), 'AssumeRole'
    return base, action


def _sts(cred, sts_region=None):
    """(sts_endpoint, sts_region_id) for the library: our option/env first, else sts.<region>."""
    if cred.sts_endpoint:
        return cred.sts_endpoint, None
    return None, sts_region or cred.region


def _static_provider(lib, access_key, secret_key, security_token):
    try:
        if security_token:
            return lib.StaticSTSCredentialsProvider(access_key_id=access_key, access_key_secret=secret_key,
                                                    security_token=security_token)
        return lib.StaticAKCredentialsProvider(access_key_id=access_key, access_key_secret=secret_key)
    except ValueError as exc:
        raise CredentialError('incomplete static credentials: %s' % exc)


def _role_provider(cred, lib, base, role_arn, session_name, duration, sts_region, profile):
    endpoint, region = _sts(cred, sts_region)
    try:
        return lib.RamRoleArnCredentialsProvider(
            credentials_provider=base, role_arn=role_arn, role_session_name=session_name or DEFAULT_SESSION_NAME,
            duration_seconds=int(duration or DEFAULT_ROLE_DURATION),
            policy=(profile or {}).get('policy') or None, external_id=(profile or {}).get('external_id') or None,
            sts_endpoint=endpoint, sts_region_id=region, enable_vpc=(profile or {}).get('enable_vpc'),
            http_options=lib.HttpOptions(connect_timeout=5000, read_timeout=10000))
    except (ValueError, TypeError) as exc:
        raise CredentialError('cannot assume role %s (%s): %s' % (role_arn, cred.source, exc))


def _oidc_provider(cred, lib, role_arn, provider_arn, token_file, session_name, duration, profile):
    endpoint, region = _sts(cred, (profile or {}).get('sts_region'))
    try:
        return lib.OIDCRoleArnCredentialsProvider(
            role_arn=role_arn, oidc_provider_arn=provider_arn, oidc_token_file_path=token_file,
            role_session_name=session_name or DEFAULT_SESSION_NAME,
            duration_seconds=int(duration or DEFAULT_ROLE_DURATION), policy=(profile or {}).get('policy') or None,
            sts_endpoint=endpoint, sts_region_id=region, enable_vpc=(profile or {}).get('enable_vpc'),
            http_options=lib.HttpOptions(connect_timeout=5000, read_timeout=10000))
    except (ValueError, TypeError) as exc:
        raise CredentialError('cannot use OIDC (%s): %s' % (cred.source, exc))


def _ecs_role_provider(cred, lib, role_name):
    try:
        # no background refresh thread in a module process; 1 s timeouts (the library default)
        return lib.EcsRamRoleCredentialsProvider(role_name=role_name or None, async_update_enabled=False,
                                                 http_options=lib.HttpOptions(connect_timeout=1000,
                                                                              read_timeout=1000))
    except ValueError as exc:
        raise CredentialError('cannot use the ECS instance RAM role (%s): %s' % (cred.source, exc))


def _profile_provider(cred, lib, profile, seen):
    """Library provider for an aliyun CLI profile; STS requests go to our STS endpoint."""
    name, mode = profile.get('name'), profile.get('mode') or 'AK'
    if name in seen:
        raise CredentialError('profile "%s" in %s: source_profile loops back to itself' % (name, cred.config_path),
                              option='profile')
    seen.add(name)
    duration = profile.get('expired_seconds') or DEFAULT_ROLE_DURATION
    if mode in STATIC_PROFILE_MODES:
        return _static_provider(lib, profile.get('access_key_id'), profile.get('access_key_secret'),
                                profile.get('sts_token') if mode == 'StsToken' else None), None
    if mode == 'RamRoleArn':
        base = _static_provider(lib, profile.get('access_key_id'), profile.get('access_key_secret'), None)
        return _role_provider(cred, lib, base, profile.get('ram_role_arn'), profile.get('ram_session_name'),
                              duration, profile.get('sts_region'), profile), 'AssumeRole'
    if mode == 'ChainableRamRoleArn':
        source = select_profile(cred.config, profile.get('source_profile') or '', cred.config_path)
        base, dummy = _profile_provider(cred, lib, source, seen)
        return _role_provider(cred, lib, base, profile.get('ram_role_arn'), profile.get('ram_session_name'),
                              duration, profile.get('sts_region'), profile), 'AssumeRole'
    if mode == 'EcsRamRole':
        return _ecs_role_provider(cred, lib, profile.get('ram_role_name')), 'ECS metadata service'
    if mode == 'OIDC':
        return _oidc_provider(cred, lib, profile.get('ram_role_arn'), profile.get('oidc_provider_arn'),
                              profile.get('oidc_token_file'), profile.get('role_session_name'), duration,
                              profile), 'AssumeRoleWithOIDC'
    # CloudSSO, OAuth, External: entirely the library's (its own sign-in endpoints)
    return lib.CLIProfileCredentialsProvider(profile_name=name, profile_file=cred.config_path), 'profile %s' % mode


def _library():
    """The alibabacloud_credentials providers, imported on first use (heavy: aiohttp, requests, apscheduler)."""
    try:
        import logging
        from alibabacloud_credentials import provider as lib
        from alibabacloud_credentials.http import HttpOptions
    except ImportError as exc:
        raise CredentialError('these credentials need the Python library %s (pip install %s): %s'
                              % (LIBRARY_REQUIREMENT, LIBRARY_REQUIREMENT, exc))
    # The library logs failed refreshes (with the server's answer) to stderr; we report errors ourselves.
    logging.getLogger('credentials').disabled = True
    lib.HttpOptions = HttpOptions
    return lib


_HTTP_CODE_RE = re.compile(r'http_code:\s*(\d+),\s*result:\s*(.*)$', re.S)


def _fetch(provider, action, attempt, cred):
    """One attempt to get keys from the library provider; failures become ApiError (retryable ones are retried)
    or CredentialError (a missing token file, a bad setting)."""
    with _no_proxy_for_library(cred):
        try:
            return provider.get_credentials()
        except ApiError:
            raise
        except (IOError, OSError) as exc:   # the OIDC token file cannot be read
            raise CredentialError('cannot read %s for %s (%s): %s' % (
                getattr(exc, 'filename', None) or 'a file', action, cred.source, exc.strerror or exc))
        except ValueError as exc:
            raise CredentialError('%s (%s) answered something unexpected: %s' % (action, cred.source, exc))
        except Exception as exc:  # CredentialException, Tea's RetryError (connection failed) and the like
            raise _library_error(action, exc, attempt)


def _library_error(action, exc, attempt):
    text = getattr(exc, 'message', None) or str(exc)
    if exc.__class__.__name__ == 'RetryError':
        # the connection failed (refused, reset, timeout, unknown host): retried like a dropped ECS connection
        return ApiError(action, client_error_code('SDK.HttpError', text), text, attempts=attempt)
    match = _HTTP_CODE_RE.search(text)
    if match:
        status = int(match.group(1))
        try:
            body = json.loads(match.group(2))
        except ValueError:
            body = {}
        return ApiError(action, body.get('Code') or 'HTTP%d' % status, body.get('Message') or match.group(2)[:300],
                        body.get('RequestId'), status, attempts=attempt)
    if 'HttpCode=' in text:     # metadata service
        status = text.rsplit('HttpCode=', 1)[1].strip()
        return ApiError(action, 'MetadataHttp%s' % status, text, None, int(status) if status.isdigit() else None,
                        attempts=attempt)
    return ApiError(action, exc.__class__.__name__, text, attempts=attempt)


@contextlib.contextmanager
def _no_proxy_for_library(cred):
    """The library sends every request through HTTP(S)_PROXY; like our ECS path, loopback hosts, hosts in NO_PROXY
    and the metadata address are contacted directly."""
    hosts = [METADATA_HOST] if cred.uses_metadata else []
    if cred.sts_endpoint:
        target = cred.sts_endpoint if '://' in cred.sts_endpoint else 'https://' + cred.sts_endpoint
        hosts.append(urlparse(target).hostname or '')
    names = ('HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy')
    saved = {}
    if any(h in (METADATA_HOST, '127.0.0.1', 'localhost', '::1') or proxy_bypass_environment(h) for h in hosts if h):
        saved = dict((n, os.environ.pop(n)) for n in names if n in os.environ)
    try:
        yield
    finally:
        os.environ.update(saved)
