# -*- coding: utf-8 -*-
# Copyright (c) alicloud.ecs_images contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""AlicloudModule: AnsibleModule + common options + credentials + cached clients + THE failure boundary.

Modules let ApiError, OptionError, CredentialError, WaitTimeout and WaitFailed propagate (they catch only to
implement behaviour, e.g. NotFound meaning absent); :meth:`AlicloudModule.run` turns any exception into one
failure format (:func:`failure_result`): the action, code, message and request id, what was already changed
(from the clients' write logs) and what a rerun will do. The format itself is in ``failures.py``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import gc

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

# The wait options: one spec (here) and one doc fragment (alicloud.ecs_images.alicloud.wait), bounds checked
# once by AlicloudModule before anything else happens.
MAX_WAIT_TIMEOUT = 86400
DEFAULT_WAIT_TIMEOUT = 3600


def wait_argument_spec(default_timeout=DEFAULT_WAIT_TIMEOUT):
    """``wait`` + ``wait_timeout`` (a module with another default documents ``wait_timeout``'s default in its
    own DOCUMENTATION, which overrides the fragment's)."""
    return dict(wait=dict(type='bool', default=True), wait_timeout=dict(type='int', default=default_timeout))


WAIT_ARGUMENT_SPEC = wait_argument_spec()


def wait_timeout_error(value):
    """Message when ``wait_timeout`` is out of bounds, else None (pure)."""
    if value is None or 0 <= value <= MAX_WAIT_TIMEOUT:
        return None
    return ('option wait_timeout must be between 0 and %d seconds (%d hours); got %s'
            % (MAX_WAIT_TIMEOUT, MAX_WAIT_TIMEOUT // 3600, value))


SDK_REQUIREMENT = 'aliyun-python-sdk-core and aliyun-python-sdk-ecs'


def _ending():
    """The module is about to print its result and exit: move every object made so far out of the garbage
    collector's reach (gc.freeze), so that the interpreter's shutdown does not walk the SDK's, requests' and
    Ansible's objects once more looking for cycles (about 40 ms of every module run, measured by
    tests/benchmarks/module_overhead.py). Objects are still freed by reference counting at shutdown, and open
    files and sockets closed as usual; only objects kept alive by reference cycles alone are left to the end of
    the process. (Python 3.7 and later; without it nothing is done.)"""
    freeze = getattr(gc, 'freeze', None)
    if freeze is not None:
        freeze()


def _failures():
    """The failure format (module_utils/failures.py), imported when a module fails: a run that succeeds does not
    compile it, nor the waiter engine it refers to (a read-only module never waits)."""
    from ansible_collections.alicloud.ecs_images.plugins.module_utils import failures  # pylint: disable=import-outside-toplevel
    return failures


def common_argument_spec():
    return copy.deepcopy(COMMON_ARGUMENT_SPEC)


class AlicloudModule:
    """Wraps AnsibleModule. ``argument_spec`` is merged with the common options (module entries win).

    Run the module's work through :meth:`run` (the failure boundary)."""

    def __init__(self, argument_spec, id_options=None, **kwargs):
        """``id_options``: {option: kind} of the resource ids the module acts on (kind: image, instance,
        snapshot); each given value is checked for the shape of such an id before anything else happens."""
        spec = common_argument_spec()
        spec.update(argument_spec or {})
        kwargs.setdefault('supports_check_mode', True)
        self.module = AnsibleModule(argument_spec=spec, **kwargs)
        self._clients = {}
        self._writes = []          # writes recorded by the module itself (e.g. OSS uploads)
        self.failure_extras = {}   # result keys a failure should carry (e.g. image_id once known)
        self.rerun_hint = None     # what a rerun will do, when the module knows better than the generic text
        # callable(exception) -> (state, rerun): where a failure left things (read at failure time, best effort)
        # and what a rerun will do; either may be None
        self.failure_state = None
        if not HAS_ALIYUN_SDK:
            self.module.fail_json(msg=missing_required_lib(SDK_REQUIREMENT), exception=str(ALIYUN_SDK_IMPORT_ERROR))
        self.params = self.module.params
        for option, kind in sorted((id_options or {}).items()):
            check_resource_id(self.module, option, self.params.get(option), kind)
        self.check_mode = bool(self.module.check_mode)
        self.diff_mode = bool(getattr(self.module, '_diff', False))
        message = wait_timeout_error(self.params.get('wait_timeout'))
        if message:
            self.module.fail_json(msg='%s. Nothing was changed.' % message, option='wait_timeout', changed=False,
                                  api_calls=0)
        try:
            self.credentials = resolve_credentials(self.params)
        except CredentialError as exc:
            self.fail_from(exc)
        self.region = self.credentials.region

    # ------------------------------------------------------------------ clients
    def client(self, region=None):
        """EcsClient for ``region`` (default: the resolved region), cached."""
        region = region or self.region
        if region not in self._clients:
            # CredentialError, or an ApiError from STS / the metadata service: reported by the failure boundary
            materialize_credentials(self.credentials)
            client = EcsClient(self.credentials, region=region)
            client.progress_module = self                 # waits report their polls (module_utils.progress)
            self._clients[region] = client
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
        materialize_credentials(self.credentials)     # failures: reported by the failure boundary
        cred = self.credentials
        if cred.security_token:
            return oss2.StsAuth(cred.access_key, cred.secret_key, cred.security_token)
        return oss2.Auth(cred.access_key, cred.secret_key)

    # ------------------------------------------------------------------ write log
    def record_write(self, action, region=None, ids=None):
        """Note a change made outside the ECS clients (e.g. an OSS upload) for failure reports."""
        self._writes.append(dict(action=action, region=region or self.region, ids=list(ids or [])))

    @property
    def writes(self):
        """Every successful write of this run: the clients' write logs plus :meth:`record_write` entries."""
        writes = []
        for client in self._clients.values():
            writes.extend(getattr(client, 'writes', []))
        return writes + list(self._writes)

    # ------------------------------------------------------------------ the failure boundary
    def run(self, func, *args, **kwargs):
        """Call ``func(*args, **kwargs)``; any exception it raises ends the module with :meth:`fail_from`."""
        try:
            return func(*args, **kwargs)
        except Exception as exc:  # pylint: disable=broad-except
            # the boundary: no module ends in a traceback
            self.fail_from(exc)

    def fail_from(self, exc, context=None, failures=None, **extra):
        """fail_json for ``exc`` in the one failure format (see failure_result); ``failures``: several
        ``(label, exception)`` when several parts (regions) failed."""
        state, rerun = None, self.rerun_hint
        if self.failure_state is not None:
            try:
                state, module_rerun = self.failure_state(exc)
                rerun = module_rerun or rerun
            except Exception as error:  # pylint: disable=broad-except
                # best effort: the failure is reported anyway
                state = 'the state after the failure could not be read (%s)' % error
        context = context or getattr(exc, 'context', None)   # what the module was doing (e.g. ecs_image's api())
        result = _failures().failure_result(exc, self.writes, context=context, rerun=rerun,
                                            endpoint_hint=self._endpoint_hint(exc), failures=failures, state=state)
        result.update(self.failure_extras)
        result.update(extra)
        result['api_calls'] = self.api_calls
        _ending()
        self.module.fail_json(**result)

    def _endpoint_hint(self, exc):
        if isinstance(exc, ApiError) and exc.code in ('SDK.HttpError', 'SDK.ServerUnreachable', 'SDK.TimeoutError',
                                                      'SDK.HostNotFound'):
            region = getattr(exc, 'region', None) or self.region
            return ('Cannot reach the ECS endpoint %s of region %s: check the options endpoint and region (or '
                    'ALIBABA_CLOUD_ECS_ENDPOINT / ALIBABA_CLOUD_REGION_ID) and the network'
                    % (self.credentials.endpoint or 'ecs.%s.aliyuncs.com' % region, region))
        return None

    # ------------------------------------------------------------------ results
    def fail(self, msg, **kwargs):
        """Fail with ``msg`` (bad input or a refusal found by the module); adds "Nothing was changed" (or the
        writes already made) unless ``msg`` says it, and ``changed``, ``changes``, ``api_calls``."""
        writes = self.writes
        msg, changes = _failures().refusal_text(msg, writes)
        kwargs.setdefault('changed', bool(writes))
        kwargs.setdefault('changes', changes)
        kwargs.setdefault('api_calls', self.api_calls)
        for key, value in self.failure_extras.items():
            kwargs.setdefault(key, value)
        _ending()
        self.module.fail_json(msg=msg, **kwargs)

    def fail_api(self, err, msg=None, **kwargs):
        """Fail with an exception in the one failure format; ``msg`` says what was being done."""
        self.fail_from(err, context=msg, **kwargs)

    def exit(self, changed, **result):
        """exit_json with ``api_calls``; 'diff' is kept only in diff mode."""
        if not self.diff_mode:
            result.pop('diff', None)
        result.setdefault('api_calls', self.api_calls)
        _ending()
        self.module.exit_json(changed=bool(changed), **result)

    def warn(self, msg):
        self.module.warn(msg)
