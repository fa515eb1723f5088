# -*- coding: utf-8 -*-
# Copyright (c) alicloud.ecs_images contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""AlicloudModule: AnsibleModule + common options + credentials + cached clients + uniform failures."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.alicloud.ecs_images.plugins.module_utils.validation import check_resource_id
from ansible_collections.alicloud.ecs_images.plugins.module_utils.client import (
    HAS_ALIYUN_SDK, ALIYUN_SDK_IMPORT_ERROR, ApiError, EcsClient,
)
from ansible_collections.alicloud.ecs_images.plugins.module_utils.credentials import (
    CredentialError, materialize_credentials, resolve_credentials,
)

# Matches plugins/doc_fragments/alicloud.py DOCUMENTATION exactly.
COMMON_ARGUMENT_SPEC = dict(
    access_key=dict(type='str', aliases=['alicloud_access_key'], no_log=False),
    secret_key=dict(type='str', aliases=['alicloud_secret_key'], no_log=True),
    security_token=dict(type='str', aliases=['alicloud_security_token'], no_log=True),
    region=dict(type='str', aliases=['alicloud_region']),
    profile=dict(type='str', aliases=['alicloud_profile']),
    assume_role_arn=dict(type='str', aliases=['alicloud_assume_role_arn']),
    assume_role_session_name=dict(type='str', aliases=['alicloud_assume_role_session_name']),
    ecs_role_name=dict(type='str', aliases=['alicloud_ecs_role_name']),
    oidc_provider_arn=dict(type='str', aliases=['alicloud_oidc_provider_arn']),
    oidc_token_file=dict(type='path', aliases=['alicloud_oidc_token_file']),
    endpoint=dict(type='str', aliases=['ecs_endpoint']),
    sts_endpoint=dict(type='str'),
    validate_certs=dict(type='bool', default=True),
)

# Matches the doc fragment alicloud.ecs_images.alicloud.wait.
WAIT_ARGUMENT_SPEC = dict(
    wait=dict(type='bool', default=True),
    wait_timeout=dict(type='int', default=600),
)

SDK_REQUIREMENT = 'aliyun-python-sdk-core and aliyun-python-sdk-ecs'


def common_argument_spec():
    return copy.deepcopy(COMMON_ARGUMENT_SPEC)


class AlicloudModule:
    """Wraps AnsibleModule. ``argument_spec`` is merged with the common options (module entries win)."""

    def __init__(self, argument_spec, id_options=None, **kwargs):
        """``id_options``: {option: kind} of the resource ids the module acts on (kind: image, instance,
        snapshot); each given value is checked for the shape of such an id before anything else happens."""
        spec = common_argument_spec()
        spec.update(argument_spec or {})
        kwargs.setdefault('supports_check_mode', True)
        self.module = AnsibleModule(argument_spec=spec, **kwargs)
        if not HAS_ALIYUN_SDK:
            self.module.fail_json(msg=missing_required_lib(SDK_REQUIREMENT), exception=str(ALIYUN_SDK_IMPORT_ERROR))
        self.params = self.module.params
        for option, kind in sorted((id_options or {}).items()):
            check_resource_id(self.module, option, self.params.get(option), kind)
        self.check_mode = bool(self.module.check_mode)
        self.diff_mode = bool(getattr(self.module, '_diff', False))
        try:
            self.credentials = resolve_credentials(self.params)
        except CredentialError as exc:
            self.module.fail_json(msg=str(exc))
        self.region = self.credentials.region
        self._clients = {}

    # ------------------------------------------------------------------ clients
    def client(self, region=None):
        """EcsClient for ``region`` (default: the resolved region), cached."""
        region = region or self.region
        if region not in self._clients:
            try:
                materialize_credentials(self.credentials)
            except CredentialError as exc:
                self.fail(str(exc))
            except ApiError as exc:     # STS or the metadata service refused (already retried)
                self.fail_api(exc, 'Cannot obtain credentials')
            self._clients[region] = EcsClient(self.credentials, region=region)
        return self._clients[region]

    @property
    def api_calls(self):
        """Total API requests sent by every client of this module run (retries included)."""
        return sum(client.calls for client in self._clients.values())

    def oss_auth(self):
        """oss2 auth object with the same credentials (StsAuth when a security token is in use).

        oss2 is imported here, not with this file: only the modules that use OSS pay for it."""
        try:
            import oss2
        except ImportError as exc:
            self.fail(missing_required_lib('oss2'), exception=str(exc))
        try:
            materialize_credentials(self.credentials)
        except CredentialError as exc:
            self.fail(str(exc))
        except ApiError as exc:
            self.fail_api(exc, 'Cannot obtain credentials')
        cred = self.credentials
        if cred.security_token:
            return oss2.StsAuth(cred.access_key, cred.secret_key, cred.security_token)
        return oss2.Auth(cred.access_key, cred.secret_key)

    # ------------------------------------------------------------------ results
    def fail(self, msg, **kwargs):
        self.module.fail_json(msg=msg, **kwargs)

    def fail_api(self, err, msg=None, **kwargs):
        """Fail with the API error: msg names action, code, message, request id, params (masked)."""
        if not isinstance(err, ApiError):
            self.fail('%s: %s' % (msg, err) if msg else str(err), **kwargs)
        text = '%s: %s' % (msg, err) if msg else str(err)
        if err.code in ('SDK.HttpError', 'SDK.ServerUnreachable', 'SDK.TimeoutError'):
            text += ('. Cannot reach the ECS endpoint %s of region %s: check the options endpoint and region (or '
                     'ALIBABA_CLOUD_ECS_ENDPOINT / ALIBABA_CLOUD_REGION_ID) and the network'
                     % (self.credentials.endpoint or 'ecs.%s.aliyuncs.com' % self.region, self.region))
        kwargs.setdefault('action', err.action)
        kwargs.setdefault('code', err.code)
        kwargs.setdefault('request_id', err.request_id)
        kwargs.setdefault('http_status', err.http_status)
        kwargs.setdefault('error', err.to_dict())
        self.module.fail_json(msg=text, **kwargs)

    def exit(self, changed, **result):
        """exit_json; 'diff' is kept only in diff mode."""
        if not self.diff_mode:
            result.pop('diff', None)
        self.module.exit_json(changed=bool(changed), **result)

    def warn(self, msg):
        self.module.warn(msg)
