# -*- coding: utf-8 -*-
"""plugins/module_utils/credentials.py: which source applies (precedence, no network), every source obtaining keys
(against the emulator's STS where the library's endpoint can be pointed there, at the library boundary with a
127.0.0.1 stub for the instance metadata service), retries, endpoint checks, masked key ids in errors.

Every request goes to 127.0.0.1 (the autouse ``loopback_only`` guard of tests/unit/conftest.py fails a test that
tries anything else, 100.100.100.200 included)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import json
import os
import socket
import subprocess
import sys
import threading
import time

try:
    from http.server import BaseHTTPRequestHandler, HTTPServer
    from urllib.parse import parse_qsl, urlparse
except ImportError:  # pragma: no cover
    BaseHTTPRequestHandler = HTTPServer = parse_qsl = urlparse = None

import pytest

from fake_clock import FakeClock

from ansible_collections.alicloud.ecs_images.plugins.module_utils import client as C
from ansible_collections.alicloud.ecs_images.plugins.module_utils import credential_providers as P
from ansible_collections.alicloud.ecs_images.plugins.module_utils import credentials as K

try:
    import alibabacloud_credentials  # noqa: F401  pylint: disable=unused-import
    HAS_LIBRARY = True
except ImportError:  # pragma: no cover
    HAS_LIBRARY = False

try:
    from ecs_emulator import server as emulator_server
except ImportError:  # pragma: no cover - emulator not installed
    emulator_server = None

needs_library = pytest.mark.skipif(not HAS_LIBRARY, reason='alibabacloud-credentials not installed')
needs_emulator = pytest.mark.skipif(emulator_server is None or not C.HAS_ALIYUN_SDK or not HAS_LIBRARY,
                                    reason='emulator, aliyun SDK or alibabacloud-credentials not installed')

NO_CONFIG = '/nonexistent/aliyun-config.json'
PROXY_VARS = ('http_proxy', 'https_proxy', 'HTTP_PROXY', 'HTTPS_PROXY', 'all_proxy', 'ALL_PROXY')


def params(**kw):
    base = dict(access_key=None, secret_key=None, security_token=None, region=None, profile=None,
                assume_role_arn=None, assume_role_session_name=None, ecs_role_name=None, oidc_provider_arn=None,
                oidc_token_file=None, endpoint=None, sts_endpoint=None, validate_certs=True)
    base.update(kw)
    return base


@pytest.fixture
def cli_config(tmp_path):
    def write(profiles, current='default'):
        path = tmp_path / 'config.json'
        path.write_text(json.dumps({'current': current, 'profiles': profiles}))
        return str(path)
    return write


AK_PROFILE = {'name': 'default', 'mode': 'AK', 'access_key_id': 'PROFAK', 'access_key_secret': 'PROFSK',
              'region_id': 'cn-beijing'}


# ------------------------------------------------------------------------------------------------ precedence

def test_explicit_options_win_over_environment_and_profile(cli_config):
    path = cli_config([AK_PROFILE])
    env = {'ALIBABA_CLOUD_ACCESS_KEY_ID': 'ENVAK', 'ALIBABA_CLOUD_ACCESS_KEY_SECRET': 'ENVSK',
           'ALIBABA_CLOUD_REGION_ID': 'cn-shanghai'}
    cred = K.resolve_credentials(params(access_key='OPTAK', secret_key='OPTSK', region='cn-hangzhou'), env, path)
    assert cred.keys() == ('OPTAK', 'OPTSK', None)
    assert cred.region == 'cn-hangzhou' and cred.kind == 'ak' and 'options' in cred.source


def test_official_env_names_win_over_alicloud_names():
    env = {'ALIBABA_CLOUD_ACCESS_KEY_ID': 'A1', 'ALIBABA_CLOUD_ACCESS_KEY_SECRET': 'S1',
           'ALICLOUD_ACCESS_KEY': 'A2', 'ALICLOUD_SECRET_KEY': 'S2',
           'ALIBABA_CLOUD_REGION_ID': 'cn-hangzhou', 'ALICLOUD_REGION': 'cn-beijing'}
    cred = K.resolve_credentials(params(), env, NO_CONFIG)
    assert (cred.access_key, cred.secret_key, cred.region) == ('A1', 'S1', 'cn-hangzhou')
    assert 'ALIBABA_CLOUD_ACCESS_KEY_ID' in cred.source


def test_alicloud_env_names_used_when_official_absent():
    env = {'ALICLOUD_ACCESS_KEY': 'A2', 'ALICLOUD_SECRET_KEY': 'S2', 'ALICLOUD_SECURITY_TOKEN': 'T2',
           'ALICLOUD_REGION': 'cn-beijing'}
    cred = K.resolve_credentials(params(), env, NO_CONFIG)
    assert cred.keys() == ('A2', 'S2', 'T2') and cred.region == 'cn-beijing'
    assert cred.kind == 'sts' and 'ALICLOUD_ACCESS_KEY' in cred.source


def test_empty_strings_count_as_unset(cli_config):
    # AWX injects credential inputs left empty as "": they must not hide the next source
    path = cli_config([AK_PROFILE])
    env = {'ALIBABA_CLOUD_ACCESS_KEY_ID': '', 'ALIBABA_CLOUD_ACCESS_KEY_SECRET': '', 'ALIBABA_CLOUD_SECURITY_TOKEN': '',
           'ALICLOUD_ACCESS_KEY': 'A2', 'ALICLOUD_SECRET_KEY': 'S2', 'ALIBABA_CLOUD_REGION_ID': '',
           'ALIBABA_CLOUD_ROLE_ARN': '', 'ALIBABA_CLOUD_ECS_ENDPOINT': '', 'ALIBABA_CLOUD_PROFILE': ''}
    cred = K.resolve_credentials(params(access_key='', secret_key='', security_token='', region='', profile='',
                                        assume_role_arn='', ecs_role_name='', endpoint='', sts_endpoint=''),
                                 env, path)
    assert cred.keys() == ('A2', 'S2', None)
    assert cred.region == 'cn-beijing' and cred.kind == 'ak'
    assert cred.endpoint is None and cred.sts_endpoint is None and cred.assume_role_arn is None


def test_env_beats_current_profile_but_profile_fills_region(cli_config):
    path = cli_config([AK_PROFILE])
    env = {'ALIBABA_CLOUD_ACCESS_KEY_ID': 'ENVAK', 'ALIBABA_CLOUD_ACCESS_KEY_SECRET': 'ENVSK'}
    cred = K.resolve_credentials(params(), env, path)
    assert cred.access_key == 'ENVAK' and cred.region == 'cn-beijing'


def test_explicit_region_never_overridden_by_profile(cli_config):
    path = cli_config([AK_PROFILE])
    cred = K.resolve_credentials(params(profile='default', region='eu-central-1'), {}, path)
    assert cred.access_key == 'PROFAK' and cred.region == 'eu-central-1'


def test_explicit_profile_beats_env_keys(cli_config):
    path = cli_config([AK_PROFILE, dict(AK_PROFILE, name='other', access_key_id='OTHERAK')])
    env = {'ALIBABA_CLOUD_ACCESS_KEY_ID': 'ENVAK', 'ALIBABA_CLOUD_ACCESS_KEY_SECRET': 'ENVSK'}
    cred = K.resolve_credentials(params(profile='other'), env, path)
    assert cred.access_key == 'OTHERAK' and 'profile other' in cred.source


def test_current_profile_used_without_anything_else(cli_config):
    path = cli_config([AK_PROFILE, dict(AK_PROFILE, name='work', access_key_id='WORKAK', region_id='cn-qingdao')],
                      current='work')
    cred = K.resolve_credentials(params(), {}, path)
    assert (cred.access_key, cred.region) == ('WORKAK', 'cn-qingdao')


def test_env_profile_selects_profile(cli_config):
    path = cli_config([AK_PROFILE, dict(AK_PROFILE, name='work', access_key_id='WORKAK')])
    cred = K.resolve_credentials(params(), {'ALIBABA_CLOUD_PROFILE': 'work'}, path)
    assert cred.access_key == 'WORKAK'


def test_config_file_env_variable(cli_config):
    path = cli_config([AK_PROFILE])
    cred = K.resolve_credentials(params(), {'ALIBABA_CLOUD_CONFIG_FILE': path})
    assert cred.access_key == 'PROFAK'


OIDC_ENV = {'ALIBABA_CLOUD_OIDC_PROVIDER_ARN': 'acs:ram::1:oidc-provider/ack-rrsa-c1',
            'ALIBABA_CLOUD_OIDC_TOKEN_FILE': '/var/run/secrets/tokens/oidc-token',
            'ALIBABA_CLOUD_ROLE_ARN': 'acs:ram::1:role/awx', 'ALIBABA_CLOUD_REGION_ID': 'cn-hangzhou'}


def test_oidc_environment_is_used_like_an_ack_pod():
    cred = K.resolve_credentials(params(), dict(OIDC_ENV), NO_CONFIG)
    assert cred.kind == 'oidc' and cred.needs_library
    assert (cred.assume_role_arn, cred.oidc_provider_arn, cred.oidc_token_file) == (
        'acs:ram::1:role/awx', 'acs:ram::1:oidc-provider/ack-rrsa-c1', '/var/run/secrets/tokens/oidc-token')
    assert 'ALIBABA_CLOUD_OIDC_TOKEN_FILE' in cred.source


def test_oidc_environment_order_between_official_and_alicloud_keys():
    env = dict(OIDC_ENV, ALIBABA_CLOUD_ACCESS_KEY_ID='A1', ALIBABA_CLOUD_ACCESS_KEY_SECRET='S1')
    cred = K.resolve_credentials(params(), env, NO_CONFIG)
    assert cred.access_key == 'A1' and cred.kind == 'assume_role'    # keys first; the role ARN is assumed with them
    env = dict(OIDC_ENV, ALICLOUD_ACCESS_KEY='A2', ALICLOUD_SECRET_KEY='S2')
    assert K.resolve_credentials(params(), env, NO_CONFIG).kind == 'oidc'


def test_oidc_options_need_both_and_a_role():
    with pytest.raises(K.CredentialError) as exc:
        K.resolve_credentials(params(oidc_provider_arn='acs:ram::1:oidc-provider/p', region='r'), {}, NO_CONFIG)
    assert exc.value.option == 'oidc_token_file' and 'oidc_token_file' in str(exc.value)
    with pytest.raises(K.CredentialError) as exc:
        K.resolve_credentials(params(oidc_provider_arn='acs:ram::1:oidc-provider/p', oidc_token_file='/t',
                                     region='r'), {}, NO_CONFIG)
    assert 'assume_role_arn' in str(exc.value) and 'ALIBABA_CLOUD_ROLE_ARN' in str(exc.value)


def test_ecs_role_from_option_and_environment():
    cred = K.resolve_credentials(params(ecs_role_name='imgrole', region='r'), {}, NO_CONFIG)
    assert cred.kind == 'ecs_role' and cred.ecs_role_name == 'imgrole' and cred.uses_metadata
    cred = K.resolve_credentials(params(region='r'), {'ALIBABA_CLOUD_ECS_METADATA': 'envrole'}, NO_CONFIG)
    assert cred.kind == 'ecs_role' and 'ALIBABA_CLOUD_ECS_METADATA' in cred.source


@pytest.mark.parametrize('mode, extra, kind', [
    ('StsToken', {'sts_token': 'TOKEN1'}, 'sts'),
    ('RamRoleArn', {'ram_role_arn': 'acs:ram::1:role/x', 'ram_session_name': 'sess', 'expired_seconds': 900},
     'profile'),
    ('EcsRamRole', {'ram_role_name': 'imgrole'}, 'profile'),
    ('OIDC', {'ram_role_arn': 'acs:ram::1:role/x', 'oidc_provider_arn': 'acs:ram::1:oidc-provider/p',
              'oidc_token_file': '/t'}, 'profile'),
    ('CloudSSO', {}, 'profile'),
])
def test_profile_modes(cli_config, mode, extra, kind):
    path = cli_config([dict(AK_PROFILE, mode=mode, **extra)])
    cred = K.resolve_credentials(params(), {}, path)
    assert cred.kind == kind
    if mode == 'StsToken':
        assert cred.keys() == ('PROFAK', 'PROFSK', 'TOKEN1')       # the token is kept
    else:
        assert cred.profile['mode'] == mode and cred.needs_library


def test_chainable_profile_needs_an_existing_source_profile(cli_config):
    path = cli_config([AK_PROFILE, {'name': 'chain', 'mode': 'ChainableRamRoleArn', 'source_profile': 'nope',
                                    'ram_role_arn': 'acs:ram::1:role/x'}], current='chain')
    with pytest.raises(K.CredentialError) as exc:
        K.resolve_credentials(params(region='r'), {}, path)
    assert 'nope' in str(exc.value) and 'default' in str(exc.value)


def test_unknown_profile_lists_available(cli_config):
    path = cli_config([AK_PROFILE])
    with pytest.raises(K.CredentialError) as exc:
        K.resolve_credentials(params(profile='nope'), {}, path)
    assert 'nope' in str(exc.value) and 'default' in str(exc.value)


def test_unsupported_profile_mode_lists_supported_ones(cli_config):
    path = cli_config([dict(AK_PROFILE, mode='Quantum')])
    with pytest.raises(K.CredentialError) as exc:
        K.resolve_credentials(params(), {}, path)
    assert 'Quantum' in str(exc.value) and 'ChainableRamRoleArn' in str(exc.value)


def test_profile_missing_fields_are_named(cli_config):
    path = cli_config([dict(AK_PROFILE, mode='RamRoleArn')])
    with pytest.raises(K.CredentialError) as exc:
        K.resolve_credentials(params(), {}, path)
    assert 'ram_role_arn' in str(exc.value)


def test_missing_credentials_message_names_options_and_env():
    with pytest.raises(K.CredentialError) as exc:
        K.resolve_credentials(params(region='cn-hangzhou'), {}, NO_CONFIG)
    msg = str(exc.value)
    for word in ('access_key', 'secret_key', 'profile', 'ALIBABA_CLOUD_ACCESS_KEY_ID', 'ALICLOUD_ACCESS_KEY',
                 'ALIBABA_CLOUD_OIDC_TOKEN_FILE', NO_CONFIG):
        assert word in msg


def test_access_key_without_secret_names_secret_key():
    with pytest.raises(K.CredentialError) as exc:
        K.resolve_credentials(params(access_key='A', region='r'), {}, NO_CONFIG)
    assert 'secret_key' in str(exc.value) and exc.value.option == 'secret_key'


def test_missing_region_names_option_and_env():
    with pytest.raises(K.CredentialError) as exc:
        K.resolve_credentials(params(access_key='A', secret_key='S'), {}, NO_CONFIG)
    assert 'region' in str(exc.value) and 'ALIBABA_CLOUD_REGION_ID' in str(exc.value)


def test_endpoints_and_role_from_env():
    env = {'ALIBABA_CLOUD_ACCESS_KEY_ID': 'A', 'ALIBABA_CLOUD_ACCESS_KEY_SECRET': 'S',
           'ALIBABA_CLOUD_REGION_ID': 'cn-hangzhou', 'ALIBABA_CLOUD_ECS_ENDPOINT': 'http://127.0.0.1:1',
           'ALIBABA_CLOUD_STS_ENDPOINT': 'http://127.0.0.1:2', 'ALICLOUD_ASSUME_ROLE_ARN': 'acs:ram::1:role/r'}
    cred = K.resolve_credentials(params(), env, NO_CONFIG)
    assert cred.endpoint == 'http://127.0.0.1:1' and cred.sts_endpoint == 'http://127.0.0.1:2'
    assert cred.assume_role_arn == 'acs:ram::1:role/r' and cred.kind == 'assume_role'
    assert cred.session_name == K.DEFAULT_SESSION_NAME


def test_explicit_endpoint_wins_over_env():
    env = {'ALIBABA_CLOUD_ACCESS_KEY_ID': 'A', 'ALIBABA_CLOUD_ACCESS_KEY_SECRET': 'S',
           'ALIBABA_CLOUD_REGION_ID': 'cn-hangzhou', 'ALIBABA_CLOUD_ECS_ENDPOINT': 'http://127.0.0.1:1'}
    cred = K.resolve_credentials(params(endpoint='ecs-vpc.cn-hangzhou.aliyuncs.com'), env, NO_CONFIG)
    assert cred.endpoint == 'ecs-vpc.cn-hangzhou.aliyuncs.com'


# -------------------------------------------------------------------------------------------- endpoint checks

@pytest.mark.parametrize('value', ['ecs-vpc.cn-hangzhou.aliyuncs.com', 'http://127.0.0.1:8080', 'https://ecs.x.com/',
                                   'HTTPS://Ecs.Example.COM:443', '127.0.0.1:1', 'http://[::1]:8080', 'localhost'])
def test_good_endpoints(value):
    assert K.endpoint_error(value) is None


@pytest.mark.parametrize('value, words', [
    ('htp://127.0.0.1:8080', ['scheme "htp"', 'http://']),
    ('ftp://ecs.aliyuncs.com', ['scheme "ftp"']),
    ('http://', ['host ""']),
    ('http://127.0.0.1:80800', ['port "80800"']),
    ('http://127.0.0.1:abc', ['port "abc"']),
    ('http://ecs.aliyuncs.com/path', ['path']),
    ('ecs aliyuncs com', ['host "ecs aliyuncs com"']),
    ('http://user@host', ['user part']),
    ('  ', ['empty']),
])
def test_bad_endpoints_are_refused_naming_the_option_and_the_form(value, words):
    for reason in (K.endpoint_error(value),):
        assert reason and all(w in reason for w in words), reason
    with pytest.raises(K.CredentialError) as exc:
        K.resolve_credentials(params(access_key='A', secret_key='S', region='r', endpoint=value), {}, NO_CONFIG)
    msg = str(exc.value)
    assert msg.startswith('option endpoint:') and 'http(s)://host[:port]' in msg and exc.value.option == 'endpoint'


def test_bad_endpoint_from_environment_names_the_variable():
    env = {'ALIBABA_CLOUD_STS_ENDPOINT': 'htp://127.0.0.1:1'}
    with pytest.raises(K.CredentialError) as exc:
        K.resolve_credentials(params(access_key='A', secret_key='S', region='r'), env, NO_CONFIG)
    assert 'environment variable ALIBABA_CLOUD_STS_ENDPOINT' in str(exc.value) and exc.value.option == 'sts_endpoint'


# ------------------------------------------------------------------------------------------ masking, messages

@pytest.mark.parametrize('key, masked', [('LTAI5tEmuPrimary0000001', 'LTAI****0001'), ('SHORTKEY', 'SH****EY'),
                                         ('abc', '****'), (None, '****')])
def test_mask_key(key, masked):
    assert K.mask_key(key) == masked


def test_repr_hides_secrets():
    cred = K.Credentials(access_key='LTAIabcdef123456', secret_key='SUPERSECRET', security_token='TOKENVALUE',
                         region='r')
    text = repr(cred)
    assert 'SUPERSECRET' not in text and 'TOKENVALUE' not in text and 'LTAIabcdef123456' not in text
    assert 'LTAI****3456' in text


@pytest.mark.parametrize('where, kw, env, label', [
    ('option', dict(access_key='LTAIoptionkey0001', secret_key='S'), {}, 'options access_key/secret_key'),
    ('official env', {}, {'ALIBABA_CLOUD_ACCESS_KEY_ID': 'LTAIofficial00002', 'ALIBABA_CLOUD_ACCESS_KEY_SECRET': 'S'},
     'ALIBABA_CLOUD_ACCESS_KEY_ID'),
    ('alicloud env', {}, {'ALICLOUD_ACCESS_KEY': 'LTAIalicloud00003', 'ALICLOUD_SECRET_KEY': 'S'},
     'ALICLOUD_ACCESS_KEY'),
])
def test_auth_hint_names_masked_key_and_source(where, kw, env, label):
    cred = K.resolve_credentials(params(region='r', **kw), env, NO_CONFIG)
    hint = cred.auth_hint('InvalidAccessKeyId.NotFound')
    key = cred.access_key
    assert key not in hint and K.mask_key(key) in hint and label in hint and 'not known' in hint
    assert 'does not match' in cred.auth_hint('SignatureDoesNotMatch')
    assert K.mask_key(key) in cred.auth_hint('InvalidAccessKeySecret')
    assert cred.auth_hint('Throttling') is None


# -------------------------------------------------------------------------------------------- lazy import

def test_library_not_imported_by_module_utils_nor_for_static_keys():
    code = ('import sys\n'
            'from ansible_collections.alicloud.ecs_images.plugins.module_utils import base, credentials as K\n'
            'c = K.resolve_credentials({"access_key": "A", "secret_key": "S", "region": "r"}, {}, "/none")\n'
            'assert c.keys() == ("A", "S", None)\n'
            'print(sorted(m for m in sys.modules if m.startswith(("alibabacloud_credentials", "Tea", "aiohttp")) or '
            'm.endswith(".module_utils.credential_providers")))\n')
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, check=False, env=dict(
        os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p)), timeout=60)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == '[]'


# --------------------------------------------------------------------------- a scripted STS / metadata stub

class _Stub(BaseHTTPRequestHandler):
    script = []
    seen = []

    def log_message(self, *args):
        pass

    def _answer(self):
        query = dict(parse_qsl(urlparse(self.path).query, keep_blank_values=True))
        type(self).seen.append((self.command, urlparse(self.path).path, dict(self.headers), query))
        item = type(self).script.pop(0) if type(self).script else (404, 'not scripted')
        status, body = item if not callable(item) else item(self)
        data = (json.dumps(body) if not isinstance(body, str) else body).encode('utf-8')
        self.send_response(status)
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = _answer


@pytest.fixture
def stub():
    _Stub.script = []
    _Stub.seen = []
    httpd = HTTPServer(('127.0.0.1', 0), _Stub)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield '127.0.0.1:%d' % httpd.server_address[1]
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def no_proxy_env(monkeypatch):
    for name in PROXY_VARS:
        monkeypatch.delenv(name, raising=False)


def _expiration(seconds=3600):
    return time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(time.time() + seconds))


def _sts_ok(ak='STS.AK1', secret='STSSECRET', token='STSTOKEN'):
    return 200, {'RequestId': 'R-OK', 'Credentials': {'AccessKeyId': ak, 'AccessKeySecret': secret,
                                                      'SecurityToken': token, 'Expiration': _expiration()}}


@needs_library
def test_assume_role_is_retried_through_the_shared_policy(stub, no_proxy_env):
    _Stub.script = [(503, {'RequestId': 'R1', 'Code': 'ServiceUnavailable', 'Message': 'busy'}),
                    (400, {'RequestId': 'R2', 'Code': 'Throttling.User', 'Message': 'slow'}),
                    _sts_ok()]
    cred = K.resolve_credentials(params(access_key='LTAIbasekey00001', secret_key='BASESECRET', region='cn-hangzhou',
                                        assume_role_arn='acs:ram::1:role/img', assume_role_session_name='s1',
                                        sts_endpoint='http://' + stub), {}, NO_CONFIG)
    clock = FakeClock()
    assert cred.keys(sleep=clock.sleep, now=clock.now) == ('STS.AK1', 'STSSECRET', 'STSTOKEN')
    assert len(_Stub.seen) == 3 and len(clock.sleeps) == 2
    query = _Stub.seen[0][3]
    assert query['Action'] == 'AssumeRole' and query['Version'] == '2015-04-01'
    assert query['RoleArn'] == 'acs:ram::1:role/img' and query['RoleSessionName'] == 's1'
    assert query['AccessKeyId'] == 'LTAIbasekey00001' and 'Signature' in query
    # cached by the library: no new request
    assert cred.keys() == ('STS.AK1', 'STSSECRET', 'STSTOKEN') and len(_Stub.seen) == 3


@needs_library
def test_assume_role_refusal_is_not_retried_and_names_role_key_and_source(stub, no_proxy_env):
    _Stub.script = [(404, {'RequestId': 'R-404', 'Code': 'EntityNotExist.Role', 'Message': 'The role not exists'})]
    cred = K.resolve_credentials(params(access_key='LTAIbasekey00001', secret_key='BASESECRET', region='cn-hangzhou',
                                        assume_role_arn='acs:ram::1:role/none', sts_endpoint='http://' + stub),
                                 {}, NO_CONFIG)
    with pytest.raises(C.ApiError) as exc:
        cred.keys(sleep=lambda s: pytest.fail('retried'))
    err = exc.value
    assert (err.action, err.code, err.http_status, err.request_id, err.attempts) == (
        'AssumeRole', 'EntityNotExist.Role', 404, 'R-404', 1)
    assert 'acs:ram::1:role/none' in str(err) and 'LTAI****0001' in str(err) and 'BASESECRET' not in str(err)
    assert not err.retryable     # an outer retry loop does not retry it again


@needs_library
def test_sts_connection_refused_is_retried_and_bounded(no_proxy_env):
    cred = K.resolve_credentials(params(access_key='A', secret_key='S', region='r', assume_role_arn='acs:ram::1:role/x',
                                        sts_endpoint='http://127.0.0.1:9'), {}, NO_CONFIG)
    clock = FakeClock()
    with pytest.raises(C.ApiError) as exc:
        cred.keys(sleep=clock.sleep, now=clock.now, max_tries=3)
    assert exc.value.code == 'SDK.HttpError' and exc.value.attempts == 3 and len(clock.sleeps) == 2


@needs_library
def test_loopback_sts_endpoint_bypasses_proxy_variables(stub, monkeypatch):
    for name in ('HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy'):
        monkeypatch.setenv(name, 'http://127.0.0.1:9')      # a proxy that refuses connections
    _Stub.script = [_sts_ok()]
    cred = K.resolve_credentials(params(access_key='A', secret_key='S', region='r', assume_role_arn='acs:ram::1:role/x',
                                        sts_endpoint='http://' + stub), {}, NO_CONFIG)
    assert cred.keys(max_tries=1)[0] == 'STS.AK1'
    assert os.environ['HTTP_PROXY'] == 'http://127.0.0.1:9'     # restored


def _oidc_via_stub(stub, tmp_path):
    token = tmp_path / 'token'
    token.write_text('header.payload.signature')
    cred = K.resolve_credentials(params(oidc_provider_arn='acs:ram::1:oidc-provider/p', oidc_token_file=str(token),
                                        assume_role_arn='acs:ram::1:role/awx', region='cn-hangzhou',
                                        sts_endpoint='http://' + stub), {}, NO_CONFIG)
    return cred, token


@needs_library
def test_temporary_keys_are_refreshed_before_they_expire(stub, no_proxy_env, tmp_path):
    """Keys that expire within the library's 15 minute margin are fetched again on the next request: a long wait
    keeps working, and EcsClient signs with the new keys."""
    soon = _expiration(600)
    _Stub.script = [(200, {'RequestId': 'R1', 'Credentials': {'AccessKeyId': 'STS.FIRST', 'AccessKeySecret': 'S1',
                                                              'SecurityToken': 'T1', 'Expiration': soon}}),
                    (200, {'RequestId': 'R2', 'Credentials': {'AccessKeyId': 'STS.SECOND', 'AccessKeySecret': 'S2',
                                                              'SecurityToken': 'T2', 'Expiration': _expiration()}})]
    cred, dummy = _oidc_via_stub(stub, tmp_path)
    assert cred.keys()[0] == 'STS.FIRST'
    assert cred.keys()[0] == 'STS.SECOND'
    assert [q['Action'] for m, p, h, q in _Stub.seen] == ['AssumeRoleWithOIDC', 'AssumeRoleWithOIDC']
    assert _Stub.seen[0][3]['OIDCToken'] == 'header.payload.signature' and 'Signature' not in _Stub.seen[0][3]


@needs_library
def test_a_failed_refresh_during_the_run_is_an_api_error(stub, no_proxy_env, tmp_path):
    _Stub.script = [(200, {'RequestId': 'R1', 'Credentials': {'AccessKeyId': 'STS.FIRST', 'AccessKeySecret': 'S1',
                                                              'SecurityToken': 'T1', 'Expiration': _expiration(600)}})]
    cred, token = _oidc_via_stub(stub, tmp_path)
    assert cred.keys()[0] == 'STS.FIRST'
    token.unlink()          # the token file disappears in the middle of the run
    with pytest.raises(C.ApiError) as exc:
        cred.keys()
    assert exc.value.code == 'CredentialRefreshFailed' and str(token) in str(exc.value) and not exc.value.retryable


# ---------------------------------------------------------------- ECS instance RAM role (IMDSv2) at the boundary

def _metadata_server(role='imgrole', require_token=True, keys=('MD.AK', 'MDSECRET', 'MDTOKEN')):
    def token(handler):
        if handler.command != 'PUT' or not handler.headers.get('X-aliyun-ecs-metadata-token-ttl-seconds'):
            return 400, 'token must be PUT with a TTL'
        return 200, 'IMDSV2-TOKEN'

    def creds(handler):
        if require_token and handler.headers.get('X-aliyun-ecs-metadata-token') != 'IMDSV2-TOKEN':
            return 401, 'missing token'
        if not handler.path.endswith('/latest/meta-data/ram/security-credentials/' + role):
            return 404, 'no such role'
        return 200, {'Code': 'Success', 'AccessKeyId': keys[0], 'AccessKeySecret': keys[1], 'SecurityToken': keys[2],
                     'Expiration': _expiration(), 'LastUpdated': _expiration(0)}
    return [token, creds]


def _point_metadata_at(cred, host):
    """The library reads 100.100.100.200 (a private attribute, no setting): at the boundary, point it at a stub."""
    provider, action = P.build_provider(cred)
    inner = provider
    if not hasattr(inner, '_EcsRamRoleCredentialsProvider__metadata_service_host'):
        pytest.fail('provider %r is not the library EcsRamRoleCredentialsProvider' % provider)
    inner._EcsRamRoleCredentialsProvider__metadata_service_host = host
    cred.provider, cred.provider_action = provider, action
    return provider


@needs_library
def test_ecs_role_uses_imdsv2_token(stub, no_proxy_env):
    _Stub.script = _metadata_server()
    cred = K.resolve_credentials(params(ecs_role_name='imgrole', region='cn-hangzhou'), {}, NO_CONFIG)
    provider = _point_metadata_at(cred, stub)
    assert provider.__class__.__name__ == 'EcsRamRoleCredentialsProvider'
    assert cred.keys() == ('MD.AK', 'MDSECRET', 'MDTOKEN')
    (m1, p1, h1, q1), (m2, p2, h2, q2) = _Stub.seen
    assert (m1, p1) == ('PUT', '/latest/api/token')
    assert (m2, p2) == ('GET', '/latest/meta-data/ram/security-credentials/imgrole')
    assert h2.get('X-aliyun-ecs-metadata-token') == 'IMDSV2-TOKEN'
    assert 'MD.AK' not in repr(cred) and 'MD.A****' not in repr(cred)


@needs_library
def test_ecs_role_profile_and_no_background_refresh_thread(cli_config, stub, no_proxy_env):
    path = cli_config([{'name': 'default', 'mode': 'EcsRamRole', 'ram_role_name': 'imgrole',
                        'region_id': 'cn-hangzhou'}])
    _Stub.script = _metadata_server()
    before = set(threading.enumerate())
    cred = K.resolve_credentials(params(), {}, path)
    _point_metadata_at(cred, stub)
    assert cred.keys()[0] == 'MD.AK' and 'profile default' in cred.source
    started = [t for t in threading.enumerate() if t not in before and 'APScheduler' in t.name]
    assert not started


@needs_library
def test_ecs_role_off_an_instance_fails_quickly_with_a_clear_message(stub, no_proxy_env):
    _Stub.script = [(404, 'no'), (404, 'no'), (404, 'no'), (404, 'no')]
    cred = K.resolve_credentials(params(ecs_role_name='imgrole', region='cn-hangzhou'), {}, NO_CONFIG)
    _point_metadata_at(cred, stub)
    clock = FakeClock()
    with pytest.raises(C.ApiError) as exc:
        cred.keys(sleep=clock.sleep, now=clock.now)
    assert exc.value.action == 'ECS metadata service' and 'ECS instance RAM role imgrole' in str(exc.value)
    assert exc.value.attempts <= 2


@needs_library
def test_ecs_role_then_assume_role_uses_instance_keys_and_fails_fast_off_an_instance(stub, no_proxy_env):
    cred = K.resolve_credentials(params(ecs_role_name='imgrole', assume_role_arn='acs:ram::1:role/x',
                                        region='cn-hangzhou', sts_endpoint='http://' + stub), {}, NO_CONFIG)
    assert cred.kind == 'assume_role' and cred.uses_metadata
    provider, action = P.build_provider(cred)
    inner = provider._credentials_provider
    assert inner.__class__.__name__ == 'EcsRamRoleCredentialsProvider' and action == 'AssumeRole'
    inner._EcsRamRoleCredentialsProvider__metadata_service_host = stub
    cred.provider, cred.provider_action = provider, action
    # the instance role answers, then STS: the role is assumed with the instance role's keys
    _Stub.script = _metadata_server() + [_sts_ok()]
    assert cred.keys() == ('STS.AK1', 'STSSECRET', 'STSTOKEN')
    assert _Stub.seen[2][3]['AccessKeyId'] == 'MD.AK' and _Stub.seen[2][3]['SecurityToken'] == 'MDTOKEN'
    # off an instance: no metadata answer, at most 2 attempts
    cred2 = K.resolve_credentials(params(ecs_role_name='imgrole', assume_role_arn='acs:ram::1:role/x',
                                         region='cn-hangzhou', sts_endpoint='http://' + stub), {}, NO_CONFIG)
    provider, action = P.build_provider(cred2)
    provider._credentials_provider._EcsRamRoleCredentialsProvider__metadata_service_host = '127.0.0.1:9'
    cred2.provider, cred2.provider_action = provider, action
    clock = FakeClock()
    with pytest.raises(C.ApiError) as exc:
        cred2.keys(sleep=clock.sleep, now=clock.now)
    assert exc.value.attempts <= 2 and len(clock.sleeps) <= 1


def test_guard_refuses_the_metadata_address(loopback_only):
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        with pytest.raises(OSError) as exc:
            sock.connect((K.METADATA_HOST, 80))
        assert 'outside the loopback range' in str(exc.value)
    finally:
        sock.close()
    assert loopback_only == [(K.METADATA_HOST, 80)]
    del loopback_only[:]     # this test proves the guard: do not fail it


# ------------------------------------------------------------------------------------- against the emulator

@pytest.fixture(scope='module')
def emu():
    for var in PROXY_VARS:
        os.environ.pop(var, None)
    emulator = emulator_server.start_emulator(time_scale=0.01)
    yield emulator
    emulator.stop()


def _admin(emu, path):
    from ecs_emulator.testing import admin
    return admin(emu, 'GET', path)


def _requests(emu):
    return list(_admin(emu, 'requests')['requests'])


def _call_regions(cred):
    return C.EcsClient(cred, sleep=lambda s: None).call('DescribeRegions')


def _primary(emu):
    return emu.accounts[0]


def _role(emu, name='image-admin'):
    return 'acs:ram::%s:role/%s' % (_primary(emu)['account_id'], name)


def _jwt(claims):
    def seg(data):
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip('=')
    return '%s.%s.%s' % (seg({'alg': 'RS256', 'typ': 'JWT'}), seg(claims), 'c2lnbmF0dXJl')


@needs_emulator
def test_emulator_static_keys_from_environment(emu):
    acc = _primary(emu)
    env = {'ALICLOUD_ACCESS_KEY': acc['access_key_id'], 'ALICLOUD_SECRET_KEY': acc['access_key_secret'],
           'ALICLOUD_REGION': 'cn-hangzhou', 'ALIBABA_CLOUD_ECS_ENDPOINT': emu.ecs_endpoint}
    cred = K.resolve_credentials(params(), env, NO_CONFIG)
    assert 'Regions' in _call_regions(cred)


@needs_emulator
def test_emulator_assume_role_then_sts_token_source(emu):
    acc = _primary(emu)
    cred = K.resolve_credentials(params(access_key=acc['access_key_id'], secret_key=acc['access_key_secret'],
                                        region='cn-hangzhou', endpoint=emu.ecs_endpoint,
                                        sts_endpoint=emu.ecs_endpoint, assume_role_arn=_role(emu)), {}, NO_CONFIG)
    assert 'Regions' in _call_regions(cred)
    assert cred.access_key.startswith('STS.') and cred.security_token
    issued = [c['access_key_id'] for c in _admin(emu, 'sts/credentials')['credentials']]
    assert cred.access_key in issued
    # the temporary keys as a static STS-token source (options)
    sts = K.resolve_credentials(params(access_key=cred.access_key, secret_key=cred.secret_key,
                                       security_token=cred.security_token, region='cn-hangzhou',
                                       endpoint=emu.ecs_endpoint), {}, NO_CONFIG)
    assert sts.kind == 'sts' and 'Regions' in _call_regions(sts)


@needs_emulator
def test_emulator_ak_and_ststoken_profiles(emu, cli_config):
    acc = _primary(emu)
    role = K.resolve_credentials(params(access_key=acc['access_key_id'], secret_key=acc['access_key_secret'],
                                        region='cn-hangzhou', sts_endpoint=emu.ecs_endpoint,
                                        assume_role_arn=_role(emu)), {}, NO_CONFIG)
    temp = role.keys()
    path = cli_config([
        {'name': 'ak', 'mode': 'AK', 'access_key_id': acc['access_key_id'],
         'access_key_secret': acc['access_key_secret'], 'region_id': 'cn-hangzhou'},
        {'name': 'sts', 'mode': 'StsToken', 'access_key_id': temp[0], 'access_key_secret': temp[1],
         'sts_token': temp[2], 'region_id': 'cn-hangzhou'}], current='sts')
    env = {'ALIBABA_CLOUD_ECS_ENDPOINT': emu.ecs_endpoint}
    for name, kind in (('ak', 'ak'), (None, 'sts')):      # None: the current profile
        cred = K.resolve_credentials(params(profile=name), env, path)
        assert cred.kind == kind and not cred.needs_library
        assert 'Regions' in _call_regions(cred), name


@needs_emulator
def test_emulator_ramrolearn_and_chainable_profiles(emu, cli_config):
    acc = _primary(emu)
    base = {'name': 'base', 'mode': 'AK', 'access_key_id': acc['access_key_id'],
            'access_key_secret': acc['access_key_secret'], 'region_id': 'cn-hangzhou'}
    role = {'name': 'role', 'mode': 'RamRoleArn', 'access_key_id': acc['access_key_id'],
            'access_key_secret': acc['access_key_secret'], 'ram_role_arn': _role(emu),
            'ram_session_name': 'profile-session', 'expired_seconds': 900, 'region_id': 'cn-hangzhou'}
    chain = {'name': 'chain', 'mode': 'ChainableRamRoleArn', 'source_profile': 'base', 'ram_role_arn': _role(emu),
             'ram_session_name': 'chain-session', 'region_id': 'cn-hangzhou'}
    path = cli_config([base, role, chain])
    env = {'ALIBABA_CLOUD_ECS_ENDPOINT': emu.ecs_endpoint, 'ALIBABA_CLOUD_STS_ENDPOINT': emu.ecs_endpoint}
    for name, session in (('role', 'profile-session'), ('chain', 'chain-session')):
        cred = K.resolve_credentials(params(profile=name), env, path)
        assert 'Regions' in _call_regions(cred), name
        issued = dict((c['access_key_id'], c) for c in _admin(emu, 'sts/credentials')['credentials'])
        assert issued[cred.access_key]['session_name'] == session


@needs_emulator
def test_emulator_chained_role_profile_sends_the_first_role_keys(emu, cli_config):
    acc = _primary(emu)
    role = {'name': 'role', 'mode': 'RamRoleArn', 'access_key_id': acc['access_key_id'],
            'access_key_secret': acc['access_key_secret'], 'ram_role_arn': _role(emu), 'region_id': 'cn-hangzhou'}
    chain = {'name': 'chain', 'mode': 'ChainableRamRoleArn', 'source_profile': 'role', 'ram_role_arn': _role(emu),
             'ram_session_name': 'second-hop', 'region_id': 'cn-hangzhou'}
    path = cli_config([role, chain])
    env = {'ALIBABA_CLOUD_STS_ENDPOINT': emu.ecs_endpoint}
    cred = K.resolve_credentials(params(profile='chain'), env, path)
    with pytest.raises(C.ApiError) as exc:       # the emulator refuses role chaining (as without explicit trust)
        cred.keys(sleep=lambda s: None)
    assert exc.value.code == 'NoPermission'
    hops = [r for r in _requests(emu) if r['action'] == 'AssumeRole'][-2:]
    assert hops[0]['params'].get('RoleSessionName') != 'second-hop'
    assert hops[1]['params'].get('RoleSessionName') == 'second-hop' and hops[1]['status'] == 403


@needs_emulator
def test_emulator_oidc_rrsa_from_environment(emu, tmp_path):
    token_file = tmp_path / 'oidc-token'
    token_file.write_text(_jwt({'iss': 'https://oidc-ack.cn-hangzhou.aliyuncs.com/c1', 'sub': 'system:serviceaccount:awx:runner',
                                'aud': 'sts.aliyuncs.com', 'exp': int(time.time()) + 3600}))
    env = {'ALIBABA_CLOUD_OIDC_PROVIDER_ARN': 'acs:ram::%s:oidc-provider/ack-rrsa-c1' % _primary(emu)['account_id'],
           'ALIBABA_CLOUD_OIDC_TOKEN_FILE': str(token_file), 'ALIBABA_CLOUD_ROLE_ARN': _role(emu),
           'ALIBABA_CLOUD_REGION_ID': 'cn-hangzhou', 'ALIBABA_CLOUD_ECS_ENDPOINT': emu.ecs_endpoint,
           'ALIBABA_CLOUD_STS_ENDPOINT': emu.ecs_endpoint}
    cred = K.resolve_credentials(params(), env, NO_CONFIG)
    assert cred.kind == 'oidc'
    assert 'Regions' in _call_regions(cred)
    oidc = [r for r in _requests(emu) if r['action'] == 'AssumeRoleWithOIDC'][-1]
    assert oidc['status'] == 200 and 'AccessKeyId' not in oidc['params']     # unsigned, the token is the proof
    assert oidc['params']['RoleSessionName'] == K.DEFAULT_SESSION_NAME


@needs_emulator
def test_emulator_oidc_profile_and_errors(emu, tmp_path, cli_config):
    account = _primary(emu)['account_id']
    good, expired = tmp_path / 'good', tmp_path / 'expired'
    good.write_text(_jwt({'sub': 's', 'exp': int(time.time()) + 3600}))
    expired.write_text(_jwt({'sub': 's', 'exp': int(time.time()) - 10}))
    profile = {'name': 'default', 'mode': 'OIDC', 'ram_role_arn': _role(emu), 'region_id': 'cn-hangzhou',
               'oidc_provider_arn': 'acs:ram::%s:oidc-provider/p1' % account, 'oidc_token_file': str(good)}
    env = {'ALIBABA_CLOUD_ECS_ENDPOINT': emu.ecs_endpoint, 'ALIBABA_CLOUD_STS_ENDPOINT': emu.ecs_endpoint}
    assert 'Regions' in _call_regions(K.resolve_credentials(params(), env, cli_config([profile])))
    cred = K.resolve_credentials(params(), env, cli_config([dict(profile, oidc_token_file=str(expired))]))
    with pytest.raises(C.ApiError) as exc:
        cred.keys(sleep=lambda s: None)
    assert exc.value.code == 'AuthenticationFail.OIDCToken.Expired' and exc.value.action == 'AssumeRoleWithOIDC'
    cred = K.resolve_credentials(params(), env, cli_config([dict(profile, oidc_token_file=str(tmp_path / 'none'))]))
    with pytest.raises(K.CredentialError) as exc:
        cred.keys()
    assert str(tmp_path / 'none') in str(exc.value)


@needs_emulator
@pytest.mark.parametrize('kw, env_keys, label', [
    (dict(access_key='LTAIunknownopt0001', secret_key='x'), {}, 'options access_key/secret_key'),
    ({}, {'ALIBABA_CLOUD_ACCESS_KEY_ID': 'LTAIunknownenv0002', 'ALIBABA_CLOUD_ACCESS_KEY_SECRET': 'x'},
     'ALIBABA_CLOUD_ACCESS_KEY_ID'),
    ({}, {'ALICLOUD_ACCESS_KEY': 'LTAIunknownali0003', 'ALICLOUD_SECRET_KEY': 'x'}, 'ALICLOUD_ACCESS_KEY'),
    (dict(profile='default'), {}, 'profile default'),
])
def test_emulator_unknown_access_key_names_masked_key_and_source(emu, cli_config, kw, env_keys, label):
    path = cli_config([dict(AK_PROFILE, access_key_id='LTAIunknownpro0004')])
    env = dict(env_keys, ALIBABA_CLOUD_ECS_ENDPOINT=emu.ecs_endpoint)
    cred = K.resolve_credentials(params(region='cn-hangzhou', **kw), env, path)
    with pytest.raises(C.ApiError) as exc:
        _call_regions(cred)
    text = str(exc.value)
    key = cred.access_key
    assert exc.value.code == 'InvalidAccessKeyId.NotFound'
    assert K.mask_key(key) in text and key not in text and label in text
