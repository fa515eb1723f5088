# -*- coding: utf-8 -*-
"""Unit tests of the helpers inside ecs_image_copy / ecs_image_share (scripted transport, no network)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import threading
import time

import pytest

from ansible_collections.alicloud.ecs_images.plugins.module_utils.client import ApiError, EcsClient
from ansible_collections.alicloud.ecs_images.plugins.module_utils.credentials import Credentials
from ansible_collections.alicloud.ecs_images.plugins.module_utils.image_snapshots import (
    delete_image_snapshots, delete_snapshots, plan_snapshot_deletion)
from ansible_collections.alicloud.ecs_images.plugins.modules.ecs_image_copy import (
    CopyRun, progress_of, run_parallel, with_region)
from ansible_collections.alicloud.ecs_images.plugins.modules.ecs_image_share import read_share_list
from ansible_collections.alicloud.ecs_images.plugins.modules.ecs_image_share import run as run_share


def scripted_client(handler):
    """EcsClient whose requests go to handler(action, params, region) -> dict (or raise ApiError)."""
    calls = []

    def transport(action, params, region):
        calls.append((action, dict(params), region))
        return handler(action, params, region)

    client = EcsClient(Credentials('ak', 'sk', region='cn-hangzhou'), transport=transport, sleep=lambda s: None)
    return client, calls


def test_run_parallel_runs_regions_at_the_same_time_and_keeps_errors_per_region():
    active = []
    peak = []
    lock = threading.Lock()

    def work(region):
        with lock:
            active.append(region)
            peak.append(len(active))
        time.sleep(0.2)
        with lock:
            active.remove(region)
        if region == 'bad':
            raise RuntimeError('boom')
        return region.upper()

    regions = ['r%d' % i for i in range(10)] + ['bad']
    started = time.time()
    results = run_parallel(work, regions)
    elapsed = time.time() - started
    assert elapsed < 1.0          # 11 x 0.2 s one after the other would take 2.2 s
    assert max(peak) > 1
    assert results['r3'] == ('R3', None)
    assert results['bad'][0] is None and str(results['bad'][1]) == 'boom'


def test_progress_of_prefers_image_progress_then_slowest_disk():
    assert progress_of(None) is None
    assert progress_of({'progress': 37, 'disk_device_mappings': []}) == 37
    assert progress_of({'progress': 0, 'disk_device_mappings': [{'progress': 40}, {'progress': 25}]}) == 25
    assert progress_of({'progress': 0, 'disk_device_mappings': []}) == 0


def test_with_region_fills_only_a_missing_region():
    assert with_region(None, 'cn-beijing') is None
    assert with_region({'region_id': None}, 'cn-beijing') == {'region_id': 'cn-beijing'}
    assert with_region({'region_id': 'cn-x'}, 'cn-beijing') == {'region_id': 'cn-x'}


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


# ------------------------------------------------------------------------------------ whole runs: read calls

class Failed(Exception):
    def __init__(self, msg, result):
        Exception.__init__(self, msg)
        self.msg = msg
        self.result = result


class Exited(Exception):
    def __init__(self, changed, result):
        Exception.__init__(self, 'exit')
        self.changed = changed
        self.result = result


class FakeModule:
    """Stands for AlicloudModule: clients use a scripted transport; fail/exit raise Failed/Exited."""

    def __init__(self, params, handler, check_mode=False):
        self.params = params
        self.region = 'cn-hangzhou'
        self.check_mode = check_mode
        self.diff_mode = True
        self.calls = []
        self.handler = handler
        self._clients = {}
        self.lock = threading.Lock()

    def client(self, region=None):
        region = region or self.region
        if region not in self._clients:
            def transport(action, params, call_region):
                with self.lock:
                    self.calls.append((action, dict(params), call_region))
                return self.handler(action, params, call_region)
            self._clients[region] = EcsClient(Credentials('ak', 'sk', region=region), region=region,
                                              transport=transport, sleep=lambda s: None)
        return self._clients[region]

    @property
    def api_calls(self):
        return sum(c.calls for c in self._clients.values())

    def fail(self, msg, **kwargs):
        raise Failed(msg, kwargs)

    def fail_api(self, err, msg=None, **kwargs):
        raise Failed('%s: %s' % (msg, err) if msg else str(err), kwargs)

    def exit(self, changed, **result):
        raise Exited(changed, result)

    def warn(self, msg):
        pass

    def actions(self):
        return sorted(c[0] for c in self.calls)


REGIONS = ['cn-hangzhou', 'cn-beijing', 'cn-shanghai']


def raw_image(image_id, name, status='Available', owner='self', is_copied=False):
    return {'ImageId': image_id, 'ImageName': name, 'Status': status, 'ImageOwnerAlias': owner,
            'ImageOwnerId': 1234567890123456, 'IsCopied': is_copied, 'Tags': {'Tag': []}}


def cloud_handler(copies):
    """Source m-src 'golden' in cn-hangzhou; copies = {region: raw image}; unknown regions answer 404."""
    def handler(action, params, region):
        region = params.get('RegionId', region)
        if action == 'DescribeRegions':
            return {'Regions': {'Region': [{'RegionId': r} for r in REGIONS]}}
        if region not in REGIONS:
            raise ApiError(action, 'InvalidRegionId.NotFound', 'no such region', http_status=404)
        if action == 'DescribeImages' and params.get('ImageId') == 'm-src':
            return {'TotalCount': 1, 'Images': {'Image': [raw_image('m-src', 'golden')]}}
        if action == 'DescribeImages' and params.get('ImageName'):
            images = [copies[region]] if region in copies else []
            return {'TotalCount': len(images), 'Images': {'Image': images}}
        raise AssertionError('unexpected call %s %s' % (action, params))
    return handler


def copy_params_for(regions, **extra):
    params = dict(image_id='m-src', source_region=None, destination_regions=regions, name=None, description=None,
                  encrypted=None, kms_key_id=None, tags=None, purge_tags=True, resource_group_id=None,
                  delete_snapshots=False, state='present', wait=True, wait_timeout=600)
    params.update(extra)
    return params


def test_copy_rerun_reads_source_and_destinations_only():
    copies = {'cn-beijing': raw_image('m-bj', 'golden', is_copied=True),
              'cn-shanghai': raw_image('m-sh', 'golden', is_copied=True)}
    m = FakeModule(copy_params_for(['cn-beijing', 'cn-shanghai']), cloud_handler(copies))
    with pytest.raises(Exited) as exc:
        CopyRun(m).run()
    assert exc.value.changed is False
    assert exc.value.result['images']['cn-beijing']['image_id'] == 'm-bj'
    # one read of the source + one per destination; no DescribeRegions (both regions hold their copy)
    assert m.actions() == ['DescribeImages'] * 3
    assert exc.value.result['api_calls'] == 3


@pytest.mark.parametrize('check_mode', [True, False])
def test_copy_checks_the_regions_when_a_destination_has_no_copy(check_mode):
    copies = {'cn-beijing': raw_image('m-bj', 'golden', is_copied=True)}
    m = FakeModule(copy_params_for(['cn-beijing', 'mars-1']), cloud_handler(copies), check_mode=check_mode)
    with pytest.raises(Failed) as exc:
        CopyRun(m).run()
    assert 'destination_regions: region(s) mars-1 do not exist' in exc.value.msg
    assert 'DescribeRegions' in m.actions()
    assert set(m.actions()) == {'DescribeImages', 'DescribeRegions'}     # refused before any change


def test_copy_check_mode_with_a_missing_copy_lists_the_regions_and_predicts_the_copy():
    copies = {'cn-beijing': raw_image('m-bj', 'golden', is_copied=True)}
    m = FakeModule(copy_params_for(['cn-beijing', 'cn-shanghai']), cloud_handler(copies), check_mode=True)
    with pytest.raises(Exited) as exc:
        CopyRun(m).run()
    assert exc.value.changed is True and exc.value.result['copied_regions'] == ['cn-shanghai']
    assert m.actions() == ['DescribeImages'] * 3 + ['DescribeRegions']


def test_copy_source_region_as_destination_is_refused_before_reading_destinations():
    m = FakeModule(copy_params_for(['cn-hangzhou', 'mars-1']), cloud_handler({}))
    with pytest.raises(Failed) as exc:
        CopyRun(m).run()
    assert 'must not contain the source region cn-hangzhou' in exc.value.msg
    assert 'mars-1 do not exist' in exc.value.msg
    assert m.actions() == ['DescribeImages', 'DescribeRegions']


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
    params = dict(image_id='m-1', accounts=accounts, state='present', purge_accounts=False, account_limit=50)
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
