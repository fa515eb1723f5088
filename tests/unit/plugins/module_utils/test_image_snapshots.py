# -*- coding: utf-8 -*-
"""Unit tests of plugins/module_utils/image_snapshots.py on a scripted transport."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import pytest

from ansible_collections.alicloud.ecs_images.plugins.module_utils.client import ApiError, EcsClient
from ansible_collections.alicloud.ecs_images.plugins.module_utils.credentials import Credentials
from ansible_collections.alicloud.ecs_images.plugins.module_utils.image_snapshots import (
    delete_image_snapshots, delete_snapshots, plan_snapshot_deletion)


def scripted_client(handler):
    """EcsClient whose requests go to handler(action, params, region) -> dict (or raise ApiError)."""
    calls = []

    def transport(action, params, region):
        calls.append((action, dict(params), region))
        return handler(action, params, region)

    client = EcsClient(Credentials('ak', 'sk', region='cn-hangzhou'), transport=transport, sleep=lambda s: None)
    return client, calls


def test_delete_image_snapshots_keeps_used_ones_and_tolerates_gone_ones():
    def handler(action, params, region):
        if action == 'DescribeImages':
            if params['SnapshotId'] == 's-shared':
                return {'TotalCount': 1, 'Images': {'Image': [{'ImageId': 'm-other', 'DiskDeviceMappings': {
                    'DiskDeviceMapping': [{'SnapshotId': 's-shared'}]}}]}}
            return {'TotalCount': 0, 'Images': {'Image': []}}
        if action == 'DescribeSnapshots':
            if 's-gone' in params['SnapshotIds']:
                return {'Snapshots': {'Snapshot': []}}
            usage = 'disk' if 's-disk' in params['SnapshotIds'] else 'image'
            return {'Snapshots': {'Snapshot': [{'SnapshotId': json.loads(params['SnapshotIds'])[0], 'Usage': usage}]}}
        if action == 'DeleteSnapshot':
            return {}
        raise AssertionError(action)

    client, calls = scripted_client(handler)
    deleted, kept = delete_image_snapshots(client, ['s-free', 's-shared', 's-disk', 's-gone'], 'm-copy',
                                           region='cn-beijing')
    assert deleted == ['s-free']
    assert sorted(kept) == ['s-disk', 's-shared']
    assert 'm-other' in kept['s-shared'] and 'usage disk' in kept['s-disk']
    assert [c[1]['SnapshotId'] for c in calls if c[0] == 'DeleteSnapshot'] == ['s-free']
    assert all(c[2] == 'cn-beijing' for c in calls)


def test_delete_image_snapshots_counts_a_delete_whose_answer_was_lost():
    state = {'deletes': 0}

    def handler(action, params, region):
        if action == 'DescribeImages':
            return {'TotalCount': 0, 'Images': {'Image': []}}
        if action == 'DescribeSnapshots':
            return {'Snapshots': {'Snapshot': [{'SnapshotId': 's-1', 'Usage': 'image'}]}}
        state['deletes'] += 1
        if state['deletes'] == 1:
            raise ApiError(action, 'ServiceUnavailable', 'lost', http_status=503)
        raise ApiError(action, 'InvalidSnapshotId.NotFound', 'gone', http_status=404)

    client, _calls = scripted_client(handler)
    assert delete_image_snapshots(client, ['s-1'], 'm-copy') == (['s-1'], {})


@pytest.mark.parametrize('attempts, expected', [(1, []), (2, ['s-1'])])
def test_delete_image_snapshots_not_found_at_first_attempt_is_not_ours(attempts, expected):
    def handler(action, params, region):
        if action == 'DescribeImages':
            return {'TotalCount': 0, 'Images': {'Image': []}}
        if action == 'DescribeSnapshots':
            return {'Snapshots': {'Snapshot': [{'SnapshotId': 's-1', 'Usage': 'image'}]}}
        if attempts == 2 and not handler.failed:
            handler.failed = True
            raise ApiError(action, 'InternalError', 'lost', http_status=500)
        raise ApiError(action, 'InvalidSnapshotId.NotFound', 'gone', http_status=404)

    handler.failed = False
    client, _calls = scripted_client(handler)
    assert delete_image_snapshots(client, ['s-1'], 'm-copy')[0] == expected


def free_snapshot_handler(delete):
    """Every snapshot exists and is used by nothing else; DeleteSnapshot answers with delete(snapshot_id)."""
    def handler(action, params, region):
        if action == 'DescribeImages':
            return {'TotalCount': 0, 'Images': {'Image': []}}
        if action == 'DescribeSnapshots':
            return {'Snapshots': {'Snapshot': [{'SnapshotId': json.loads(params['SnapshotIds'])[0], 'Usage': 'image'}]}}
        return delete(params['SnapshotId'])
    return handler


def test_delete_image_snapshots_keeps_one_the_api_refuses_as_in_use():
    def delete(snapshot_id):
        if snapshot_id == 's-2':
            raise ApiError('DeleteSnapshot', 'SnapshotCreatedImage', 'an image was created from it', http_status=403)
        return {}

    client, _calls = scripted_client(free_snapshot_handler(delete))
    assert delete_image_snapshots(client, ['s-1', 's-2', 's-3'], 'm-copy') == (
        ['s-1', 's-3'], {'s-2': 'an image was created from it'})


def test_delete_snapshots_error_says_what_was_done_and_what_remains():
    def delete(snapshot_id):
        if snapshot_id == 's-2':
            raise ApiError('DeleteSnapshot', 'Forbidden.RAM', 'not allowed', http_status=403)
        if snapshot_id == 's-1':
            raise ApiError('DeleteSnapshot', 'IncorrectSnapshotStatus', 'in use', http_status=403)
        return {}

    client, calls = scripted_client(free_snapshot_handler(delete))
    with pytest.raises(ApiError) as exc:
        delete_snapshots(client, ['s-0', 's-1', 's-2', 's-3'])
    assert (exc.value.deleted, exc.value.kept, exc.value.remaining) == (['s-0'], {'s-1': 'in use'}, ['s-2', 's-3'])
    assert [c[1]['SnapshotId'] for c in calls] == ['s-0', 's-1', 's-2']


def test_plan_snapshot_deletion_only_reads():
    client, calls = scripted_client(free_snapshot_handler(lambda snapshot_id: 1 / 0))
    assert plan_snapshot_deletion(client, ['s-1', 's-2'], 'm-1') == (['s-1', 's-2'], {})
    assert set(c[0] for c in calls) == {'DescribeImages', 'DescribeSnapshots'}
