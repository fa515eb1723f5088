# -*- coding: utf-8 -*-
"""Unit tests of the planning logic of ecs_image_copy / ecs_image_share (plugins/module_utils/distribute.py)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.alicloud.ecs_images.plugins.module_utils.distribute import (
    account_errors, copy_params, normalize_regions, plan_copy_absent, plan_copy_present,
    plan_share, region_errors, share_calls, unproven_regions)


def img(image_id, status='Available', is_copied=True):
    return {'image_id': image_id, 'status': status, 'is_copied': is_copied}


# ----------------------------------------------------------------------------------------------- regions

@pytest.mark.parametrize('value, expected', [
    (None, []),
    ('cn-beijing', ['cn-beijing']),
    ('cn-beijing, cn-shanghai', ['cn-beijing', 'cn-shanghai']),
    (['cn-beijing', ' cn-beijing ', '', 'cn-shanghai'], ['cn-beijing', 'cn-shanghai']),
    (['b', 'a', 'b'], ['b', 'a']),
])
def test_normalize_regions(value, expected):
    assert normalize_regions(value) == expected


def test_region_errors_names_each_problem():
    known = {'cn-hangzhou', 'cn-beijing', 'cn-shanghai'}
    assert region_errors('cn-hangzhou', ['cn-beijing'], known) == []
    errors = region_errors('cn-hangzhou', ['cn-hangzhou', 'mars-1', 'cn-beijing'], known)
    assert len(errors) == 2
    assert 'source region cn-hangzhou' in errors[0]
    assert 'mars-1' in errors[1] and 'cn-beijing,' not in errors[1].split('known')[0]
    assert region_errors('cn-hangzhou', [], known) == ['destination_regions must list at least one region']
    # unknown list of regions (DescribeRegions not available): only the structural checks
    assert region_errors('cn-hangzhou', ['mars-1'], None) == []


def test_unproven_regions_are_those_without_an_image():
    found = {'cn-beijing': img('m-1'), 'mars-1': None, 'cn-shanghai': img('m-2', 'Creating'), 'cn-x': None}
    assert unproven_regions(found) == ['mars-1', 'cn-x']
    assert unproven_regions({'cn-beijing': img('m-1')}) == []


# ----------------------------------------------------------------------------------------------- copy plan

def test_plan_copy_present_missing_region_copies():
    assert plan_copy_present('cn-beijing', 'n', []) == ('copy', None, None)


@pytest.mark.parametrize('status', ['Creating', 'Waiting'])
def test_plan_copy_present_in_flight_waits(status):
    action, image, error = plan_copy_present('cn-beijing', 'n', [img('m-1', status)])
    assert (action, image['image_id'], error) == ('wait', 'm-1', None)


@pytest.mark.parametrize('status', ['Available', 'Deprecated'])
def test_plan_copy_present_existing_left_alone(status):
    action, image, error = plan_copy_present('cn-beijing', 'n', [img('m-1', status)])
    assert (action, image['image_id'], error) == ('present', 'm-1', None)


@pytest.mark.parametrize('status', ['CreateFailed', 'UnAvailable'])
def test_plan_copy_present_failed_copy_is_an_error(status):
    action, image, error = plan_copy_present('cn-beijing', 'n', [img('m-1', status)])
    assert action is None
    assert 'm-1' in error and status in error and 'cn-beijing' in error


def test_plan_copy_present_ambiguous_names_both():
    action, image, error = plan_copy_present('cn-beijing', 'n', [img('m-2'), img('m-1', 'Creating')])
    assert action is None and image is None
    assert 'm-1, m-2' in error and '2 images' in error


def test_plan_copy_absent():
    assert plan_copy_absent('r', 'n', []) == ('none', None, None)
    assert plan_copy_absent('r', 'n', [img('m-1', 'Creating')])[0] == 'cancel'
    assert plan_copy_absent('r', 'n', [img('m-1', 'Waiting')])[0] == 'cancel'
    assert plan_copy_absent('r', 'n', [img('m-1', 'Available')])[0] == 'delete'
    assert plan_copy_absent('r', 'n', [img('m-1', 'CreateFailed')])[0] == 'delete'
    action, image, error = plan_copy_absent('r', 'n', [img('m-1', 'Available', is_copied=False)])
    assert action is None and 'not made by CopyImage' in error
    action, image, error = plan_copy_absent('r', 'n', [img('m-1', 'Creating', is_copied=False)])
    assert action is None and 'refusing to remove' in error
    assert plan_copy_absent('r', 'n', [img('m-1'), img('m-2')])[0] is None


def test_copy_params_drops_unset_and_flattens_tags():
    params = copy_params('cn-hangzhou', 'm-src', 'cn-beijing', 'web', tags={'b': '2', 'a': ''})
    assert params == {'RegionId': 'cn-hangzhou', 'ImageId': 'm-src', 'DestinationRegionId': 'cn-beijing',
                      'DestinationImageName': 'web', 'Tag.1.Key': 'a', 'Tag.1.Value': '',
                      'Tag.2.Key': 'b', 'Tag.2.Value': '2'}
    params = copy_params('cn-hangzhou', 'm-src', 'cn-beijing', 'web', description='d', encrypted=True,
                         kms_key_id='k', resource_group_id='rg')
    assert params['Encrypted'] is True and params['KMSKeyId'] == 'k' and params['ResourceGroupId'] == 'rg'
    assert params['DestinationDescription'] == 'd'


# ----------------------------------------------------------------------------------------------- share plan

def test_plan_share_present_adds_only_missing():
    assert plan_share(['1', '2'], ['2', '3']) == (['1', '2', '3'], ['3'], [])


def test_plan_share_purge_makes_set_exact():
    assert plan_share(['1', '2'], ['2', '3'], purge=True) == (['2', '3'], ['3'], ['1'])
    assert plan_share(['1', '2'], [], purge=True) == ([], [], ['1', '2'])


def test_plan_share_absent_removes_listed_only():
    assert plan_share(['1', '2'], ['2', '9'], state='absent') == (['1'], [], ['2'])


def test_plan_share_unchanged():
    assert plan_share(['1', '2'], ['1', '2'], purge=True) == (['1', '2'], [], [])
    assert plan_share([], [], state='absent') == ([], [], [])


def test_share_calls_batches_of_ten_removals_first():
    adds = ['%03d' % i for i in range(23)]
    removes = ['9%02d' % i for i in range(11)]
    calls = share_calls('cn-hangzhou', 'm-1', adds, removes)
    assert [sorted(k.split('.')[0] for k in c if '.' in k)[0] for c in calls] == \
        ['RemoveAccount', 'RemoveAccount', 'AddAccount', 'AddAccount', 'AddAccount']
    assert [sum(1 for k in c if '.' in k) for c in calls] == [10, 1, 10, 10, 3]
    sent_adds = [v for c in calls for k, v in sorted(c.items(), key=lambda kv: (len(kv[0]), kv[0]))
                 if k.startswith('AddAccount.')]
    assert sorted(sent_adds) == adds
    assert all(c['RegionId'] == 'cn-hangzhou' and c['ImageId'] == 'm-1' for c in calls)
    assert calls[-1] == {'RegionId': 'cn-hangzhou', 'ImageId': 'm-1',
                         'AddAccount.1': '020', 'AddAccount.2': '021', 'AddAccount.3': '022'}
    assert share_calls('r', 'm', [], []) == []


def test_account_errors():
    assert account_errors(['1234567890123456']) == []
    errors = account_errors(['12a', '1234', ' '], owner_id='1234')
    assert len(errors) == 2
    assert "'12a'" in errors[0] and "' '" in errors[0]
    assert 'owns the image' in errors[1]
