# -*- coding: utf-8 -*-
"""Unit tests of ecs_image_share: the share list reader, and whole runs on a scripted transport asserting the
calls."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.alicloud.ecs_images.plugins.module_utils.client import ApiError
from ansible_collections.alicloud.ecs_images.plugins.modules.ecs_image_share import read_share_list
from ansible_collections.alicloud.ecs_images.plugins.modules.ecs_image_share import run as run_share

from scripted_module import Exited, Failed, FakeModule, raw_image, scripted_client


def test_read_share_list_reads_every_page():
    accounts = ['%016d' % i for i in range(1, 24)]

    def handler(action, params, region):
        assert action == 'DescribeImageSharePermission'
        size = int(params['PageSize'])
        page = int(params['PageNumber'])
        chunk = accounts[(page - 1) * size:page * size]
        return {'TotalCount': len(accounts), 'PageNumber': page, 'PageSize': size,
                'Accounts': {'Account': [{'AliyunId': a} for a in chunk]}}

    client, calls = scripted_client(handler)
    client_page_size = 10
    # the module uses the paginator's default page size; force small pages to prove every page is read
    original = client.paginate
    client.paginate = lambda action, params, key, **kw: original(action, params, key, page_size=client_page_size)
    assert read_share_list(client, 'm-1') == sorted(accounts)
    assert len(calls) == 3


def share_handler(shared, image=None, foreign=False):
    """DescribeImageSharePermission answers ``shared`` (404 when the image is missing or foreign)."""
    state = {'shared': list(shared)}

    def handler(action, params, region):
        if action == 'DescribeImageSharePermission':
            if image is None or foreign:
                raise ApiError(action, 'InvalidImageId.NotFound', 'The specified ImageId does not exist.',
                               http_status=404)
            return {'TotalCount': len(state['shared']),
                    'Accounts': {'Account': [{'AliyunId': a} for a in state['shared']]}}
        if action == 'DescribeImages':
            return {'TotalCount': 1 if image else 0, 'Images': {'Image': [image] if image else []}}
        if action == 'ModifyImageSharePermission':
            removed = set(v for k, v in params.items() if k.startswith('RemoveAccount'))
            added = set(v for k, v in params.items() if k.startswith('AddAccount'))
            state['shared'] = sorted((set(state['shared']) - removed) | added)
            return {}
        raise AssertionError(action)
    return handler


def share_params(accounts, **extra):
    params = dict(image_id='m-1', accounts=accounts, state='present', purge_accounts=False, account_limit=50,
                  wait_timeout=600)
    params.update(extra)
    return params


A, B = '1111111111111111', '2222222222222222'


@pytest.mark.parametrize('extra', [{}, {'purge_accounts': True}, {'state': 'absent', 'accounts': ['3' * 16]}])
def test_share_rerun_makes_one_read(extra):
    params = share_params([A, B])
    params.update(extra)
    m = FakeModule(params, share_handler([A, B], raw_image('m-1', 'golden', status='Deprecated')))
    with pytest.raises(Exited) as exc:
        run_share(m)
    assert exc.value.changed is False
    assert exc.value.result['accounts'] == [A, B] and exc.value.result['api_calls'] == 1
    assert m.actions() == ['DescribeImageSharePermission']


def test_share_change_reads_the_image_before_changing():
    m = FakeModule(share_params([A, B]), share_handler([A], raw_image('m-1', 'golden')))
    with pytest.raises(Exited) as exc:
        run_share(m)
    assert exc.value.changed is True and exc.value.result['added'] == [B]
    assert [c[0] for c in m.calls] == ['DescribeImageSharePermission', 'DescribeImages',
                                       'ModifyImageSharePermission', 'DescribeImageSharePermission']


@pytest.mark.parametrize('image, foreign, message', [
    (None, False, 'image_id: image m-1 does not exist in region cn-hangzhou'),
    (raw_image('m-1', 'pub', owner='system'), True, 'image_id: image m-1 is not a custom image of this account '
                                                    '(owner alias system)'),
])
def test_share_missing_or_foreign_image_fails_clearly(image, foreign, message):
    m = FakeModule(share_params([A]), share_handler([], image, foreign=foreign))
    with pytest.raises(Failed) as exc:
        run_share(m)
    assert exc.value.msg.startswith(message)
    assert m.actions() == ['DescribeImageSharePermission', 'DescribeImages']


@pytest.mark.parametrize('check_mode', [True, False])
def test_share_refusals_come_before_any_change(check_mode):
    deprecated = raw_image('m-1', 'golden', status='Deprecated')
    m = FakeModule(share_params([A, B]), share_handler([A], deprecated), check_mode=check_mode)
    with pytest.raises(Failed) as exc:
        run_share(m)
    assert 'is Deprecated, not Available; it cannot be shared with %s' % B in exc.value.msg
    m = FakeModule(share_params(['1234567890123456']), share_handler([], raw_image('m-1', 'golden')),
                   check_mode=check_mode)
    with pytest.raises(Failed) as exc:
        run_share(m)
    assert 'owns the image' in exc.value.msg
    assert 'ModifyImageSharePermission' not in m.actions()


def test_share_refuses_an_encrypted_image_before_any_change():
    image = dict(raw_image('m-1', 'golden'), DiskDeviceMappings={'DiskDeviceMapping': [
        {'Device': '/dev/xvda', 'SnapshotId': 's-1', 'Encrypted': True}]})
    m = FakeModule(share_params([A]), share_handler([], image))
    with pytest.raises(Failed) as exc:
        run_share(m)
    assert 'encrypted' in exc.value.msg and 'ModifyImageSharePermission' not in m.actions()


def test_share_waits_until_the_image_is_usable():
    answers = [dict(raw_image('m-1', 'golden'), Usable=False), dict(raw_image('m-1', 'golden'), Usable=False),
               dict(raw_image('m-1', 'golden'), Usable=True)]
    handler = share_handler([], answers[0])

    def scripted(action, params, region):
        if action == 'DescribeImages':
            image = answers.pop(0) if len(answers) > 1 else answers[0]
            return {'TotalCount': 1, 'Images': {'Image': [image]}}
        return handler(action, params, region)
    m = FakeModule(share_params([A]), scripted)
    with pytest.raises(Exited) as exc:
        run_share(m)
    assert exc.value.changed is True
    actions = m.actions()
    assert actions.count('DescribeImages') == 3
    assert actions.index('ModifyImageSharePermission') > max(i for i, a in enumerate(actions) if a == 'DescribeImages')
