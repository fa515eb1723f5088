# -*- coding: utf-8 -*-
"""Credential and settings resolution (plugins/module_utils/client.py): order, profiles, errors."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import pytest

from ansible_collections.alicloud.ecs_images.plugins.module_utils import client as C


def params(**kw):
    base = dict(access_key=None, secret_key=None, security_token=None, region=None, profile=None,
                assume_role_arn=None, assume_role_session_name=None, ecs_role_name=None, endpoint=None,
                sts_endpoint=None, validate_certs=True)
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


def test_explicit_options_win_over_environment_and_profile(cli_config):
    path = cli_config([AK_PROFILE])
    env = {'ALIBABA_CLOUD_ACCESS_KEY_ID': 'ENVAK', 'ALIBABA_CLOUD_ACCESS_KEY_SECRET': 'ENVSK',
           'ALIBABA_CLOUD_REGION_ID': 'cn-shanghai'}
    cred = C.resolve_credentials(params(access_key='OPTAK', secret_key='OPTSK', region='cn-hangzhou'), env, path)
    assert (cred.access_key, cred.secret_key, cred.region) == ('OPTAK', 'OPTSK', 'cn-hangzhou')
    assert cred.kind == 'ak' and cred.source == 'options'


def test_official_env_names_win_over_alicloud_names():
    env = {'ALIBABA_CLOUD_ACCESS_KEY_ID': 'A1', 'ALIBABA_CLOUD_ACCESS_KEY_SECRET': 'S1',
           'ALICLOUD_ACCESS_KEY': 'A2', 'ALICLOUD_SECRET_KEY': 'S2',
           'ALIBABA_CLOUD_REGION_ID': 'cn-hangzhou', 'ALICLOUD_REGION': 'cn-beijing'}
    cred = C.resolve_credentials(params(), env, '/nonexistent/config.json')
    assert (cred.access_key, cred.secret_key, cred.region) == ('A1', 'S1', 'cn-hangzhou')


def test_alicloud_env_names_used_when_official_absent():
    env = {'ALICLOUD_ACCESS_KEY': 'A2', 'ALICLOUD_SECRET_KEY': 'S2', 'ALICLOUD_SECURITY_TOKEN': 'T2',
           'ALICLOUD_REGION': 'cn-beijing'}
    cred = C.resolve_credentials(params(), env, '/nonexistent/config.json')
    assert (cred.access_key, cred.secret_key, cred.security_token, cred.region) == ('A2', 'S2', 'T2', 'cn-beijing')
    assert cred.kind == 'sts'


def test_env_beats_current_profile_but_profile_fills_region(cli_config):
    path = cli_config([AK_PROFILE])
    env = {'ALIBABA_CLOUD_ACCESS_KEY_ID': 'ENVAK', 'ALIBABA_CLOUD_ACCESS_KEY_SECRET': 'ENVSK'}
    cred = C.resolve_credentials(params(), env, path)
    assert cred.access_key == 'ENVAK'
    assert cred.region == 'cn-beijing'


def test_explicit_region_never_overridden_by_profile(cli_config):
    path = cli_config([AK_PROFILE])
    cred = C.resolve_credentials(params(profile='default', region='eu-central-1'), {}, path)
    assert cred.access_key == 'PROFAK' and cred.region == 'eu-central-1'


def test_explicit_profile_beats_env_keys(cli_config):
    path = cli_config([AK_PROFILE, dict(AK_PROFILE, name='other', access_key_id='OTHERAK')])
    env = {'ALIBABA_CLOUD_ACCESS_KEY_ID': 'ENVAK', 'ALIBABA_CLOUD_ACCESS_KEY_SECRET': 'ENVSK'}
    cred = C.resolve_credentials(params(profile='other'), env, path)
    assert cred.access_key == 'OTHERAK'
    assert 'profile other' in cred.source


def test_current_profile_used_without_anything_else(cli_config):
    path = cli_config([AK_PROFILE, dict(AK_PROFILE, name='work', access_key_id='WORKAK', region_id='cn-qingdao')],
                      current='work')
    cred = C.resolve_credentials(params(), {}, path)
    assert (cred.access_key, cred.region) == ('WORKAK', 'cn-qingdao')


def test_env_profile_selects_profile(cli_config):
    path = cli_config([AK_PROFILE, dict(AK_PROFILE, name='work', access_key_id='WORKAK')])
    cred = C.resolve_credentials(params(), {'ALIBABA_CLOUD_PROFILE': 'work'}, path)
    assert cred.access_key == 'WORKAK'


def test_config_file_env_variable(cli_config):
    path = cli_config([AK_PROFILE])
    cred = C.resolve_credentials(params(), {'ALIBABA_CLOUD_CONFIG_FILE': path})
    assert cred.access_key == 'PROFAK'


def test_ststoken_profile_keeps_its_token(cli_config):
    path = cli_config([dict(AK_PROFILE, mode='StsToken', sts_token='TOKEN1')])
    cred = C.resolve_credentials(params(), {}, path)
    assert cred.security_token == 'TOKEN1' and cred.kind == 'sts'


def test_ramrolearn_profile_requests_assume_role(cli_config):
    path = cli_config([dict(AK_PROFILE, mode='RamRoleArn', ram_role_arn='acs:ram::1:role/x',
                            ram_session_name='sess', expired_seconds=900)])
    cred = C.resolve_credentials(params(), {}, path)
    assert cred.kind == 'assume_role'
    assert (cred.assume_role_arn, cred.session_name, cred.role_duration) == ('acs:ram::1:role/x', 'sess', 900)


def test_ecsramrole_profile(cli_config):
    path = cli_config([{'name': 'default', 'mode': 'EcsRamRole', 'ram_role_name': 'imgrole',
                        'region_id': 'cn-hangzhou'}])
    cred = C.resolve_credentials(params(), {}, path)
    assert cred.kind == 'ecs_role' and cred.ecs_role_name == 'imgrole'


def test_unknown_profile_lists_available(cli_config):
    path = cli_config([AK_PROFILE])
    with pytest.raises(C.CredentialError) as exc:
        C.resolve_credentials(params(profile='nope'), {}, path)
    assert 'nope' in str(exc.value) and 'default' in str(exc.value)


def test_unsupported_profile_mode(cli_config):
    path = cli_config([dict(AK_PROFILE, mode='ChainableRamRoleArn')])
    with pytest.raises(C.CredentialError) as exc:
        C.resolve_credentials(params(), {}, path)
    assert 'ChainableRamRoleArn' in str(exc.value)


def test_missing_credentials_message_names_options_and_env():
    with pytest.raises(C.CredentialError) as exc:
        C.resolve_credentials(params(region='cn-hangzhou'), {}, '/nonexistent/config.json')
    msg = str(exc.value)
    for word in ('access_key', 'secret_key', 'profile', 'ALIBABA_CLOUD_ACCESS_KEY_ID', 'ALICLOUD_ACCESS_KEY',
                 '/nonexistent/config.json'):
        assert word in msg


def test_access_key_without_secret_names_secret_key():
    with pytest.raises(C.CredentialError) as exc:
        C.resolve_credentials(params(access_key='A', region='r'), {}, '/nonexistent')
    assert 'secret_key' in str(exc.value)


def test_missing_region_names_option_and_env():
    with pytest.raises(C.CredentialError) as exc:
        C.resolve_credentials(params(access_key='A', secret_key='S'), {}, '/nonexistent')
    assert 'region' in str(exc.value) and 'ALIBABA_CLOUD_REGION_ID' in str(exc.value)


def test_endpoints_and_role_from_env():
    env = {'ALIBABA_CLOUD_ACCESS_KEY_ID': 'A', 'ALIBABA_CLOUD_ACCESS_KEY_SECRET': 'S',
           'ALIBABA_CLOUD_REGION_ID': 'cn-hangzhou', 'ALIBABA_CLOUD_ECS_ENDPOINT': 'http://127.0.0.1:1',
           'ALIBABA_CLOUD_STS_ENDPOINT': 'http://127.0.0.1:2', 'ALICLOUD_ASSUME_ROLE_ARN': 'acs:ram::1:role/r'}
    cred = C.resolve_credentials(params(), env, '/nonexistent')
    assert cred.endpoint == 'http://127.0.0.1:1' and cred.sts_endpoint == 'http://127.0.0.1:2'
    assert cred.assume_role_arn == 'acs:ram::1:role/r' and cred.kind == 'assume_role'
    assert cred.session_name == C.DEFAULT_SESSION_NAME


def test_explicit_endpoint_wins_over_env():
    env = {'ALIBABA_CLOUD_ACCESS_KEY_ID': 'A', 'ALIBABA_CLOUD_ACCESS_KEY_SECRET': 'S',
           'ALIBABA_CLOUD_REGION_ID': 'cn-hangzhou', 'ALIBABA_CLOUD_ECS_ENDPOINT': 'http://127.0.0.1:1'}
    cred = C.resolve_credentials(params(endpoint='ecs-vpc.cn-hangzhou.aliyuncs.com'), env, '/nonexistent')
    assert cred.endpoint == 'ecs-vpc.cn-hangzhou.aliyuncs.com'


def test_repr_hides_secrets():
    cred = C.Credentials(access_key='LTAIabcdef', secret_key='SUPERSECRET', security_token='TOKENVALUE',
                         region='r')
    text = repr(cred)
    assert 'SUPERSECRET' not in text and 'TOKENVALUE' not in text and 'LTAIabcdef' not in text


def test_materialize_ecs_role_then_assume_role():
    cred = C.Credentials(region='cn-hangzhou', ecs_role_name='role1', assume_role_arn='acs:ram::1:role/x')
    seen = {}

    def metadata(role):
        seen['role'] = role
        return 'MA', 'MS', 'MT'

    def sts(c):
        seen['base'] = (c.access_key, c.secret_key, c.security_token)
        return 'RA', 'RS', 'RT'

    C.materialize_credentials(cred, metadata_fetcher=metadata, sts_caller=sts)
    assert seen == {'role': 'role1', 'base': ('MA', 'MS', 'MT')}
    assert (cred.access_key, cred.secret_key, cred.security_token) == ('RA', 'RS', 'RT')
    # idempotent: a second call does not assume the role again
    C.materialize_credentials(cred, metadata_fetcher=metadata, sts_caller=lambda c: pytest.fail('called twice'))
    assert cred.kind == 'sts'


def test_metadata_fetch_fails_fast_with_clear_message():
    # port 9 (discard) on localhost is closed: connection refused quickly
    with pytest.raises(C.CredentialError) as exc:
        C.fetch_ecs_role_credentials('r', timeout=0.5, url='http://127.0.0.1:9/latest/')
    assert 'ECS RAM role "r"' in str(exc.value)
