# -*- coding: utf-8 -*-
"""Unit tests of ecs_image_copy: its helpers, and whole runs on a scripted transport asserting the calls."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import threading
import time

import pytest

from ansible_collections.alicloud.ecs_images.plugins.module_utils.client import ApiError
from ansible_collections.alicloud.ecs_images.plugins.modules.ecs_image_copy import (
    CopyRun, progress_of, run_parallel, with_region)

from scripted_module import Exited, Failed, FakeModule, raw_image


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


REGIONS = ['cn-hangzhou', 'cn-beijing', 'cn-shanghai']


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
