# -*- coding: utf-8 -*-
"""Unit tests of the planning logic of ecs_image_copy / ecs_image_share (plugins/module_utils/distribute.py)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from fake_clock import FakeClock

from ansible_collections.alicloud.ecs_images.plugins.module_utils.distribute import (
    ProgressSchedule, account_errors, copy_params, normalize_regions, plan_copy_absent, plan_copy_present,
    plan_share, region_errors, share_calls, unproven_regions, wait_with_progress)


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


# ----------------------------------------------------------------------------------------------- waiting

def test_schedule_backs_off_until_progress_moves():
    s = ProgressSchedule(first_delay=2, min_interval=2, max_interval=10)
    s.observe(0, 0)
    assert s.next_delay(0) == 2
    s.observe(2, 0)
    assert s.next_delay(2) == 3
    assert s.next_delay(5) == 4.5
    assert s.next_delay(9.5) == 6.75
    assert s.next_delay(16) == 10


def test_schedule_lands_just_after_predicted_finish():
    s = ProgressSchedule(first_delay=2, min_interval=2, max_interval=10, margin=0.3)
    s.observe(0, 10)
    s.observe(2, 20)          # 5 %/s -> 100 % at t=17.9 (half-point correction)
    delay = s.next_delay(2)
    assert delay == 10        # too far ahead: poll at the cap
    s.observe(12, 70)
    delay = s.next_delay(12)  # finishes 5.9 s later -> poll 0.3 s after it
    assert delay == pytest.approx(5.9 + 0.3)


def test_schedule_keeps_min_interval_before_final_poll():
    s2 = ProgressSchedule(first_delay=2, min_interval=2, max_interval=10, margin=0.3)
    s2.observe(0, 10)
    s2.observe(1, 18.8)       # 8.8 %/s -> remaining (100-19.3)/8.8 = 9.17 s, target 9.47 <= 10: direct hit
    assert s2.next_delay(1) == pytest.approx((100 - 19.3) / 8.8 + 0.3)
    s3 = ProgressSchedule(first_delay=2, min_interval=2, max_interval=10, margin=0.3)
    s3.observe(0, 0.5)
    s3.observe(10, 10.5)      # 1 %/s -> remaining 89 s: capped at 10
    assert s3.next_delay(10) == 10
    s4 = ProgressSchedule(first_delay=2, min_interval=2, max_interval=10, margin=0.3)
    s4.observe(0, 0.5)
    s4.observe(10, 88.5)      # 8.8 %/s -> remaining 1.25 s + 0.3: never faster than the min interval
    assert s4.next_delay(10) == 2
    s5 = ProgressSchedule(first_delay=2, min_interval=2, max_interval=10, margin=0.3)
    s5.observe(0, 0.5)
    s5.observe(1, 1.5)        # 1 %/s -> 100 % at t=99; at t=88.2 the target is 11.1 s away (> cap 10):
    # waiting 10 would leave 1.1 s (< min interval) before the finishing poll, so wait 9.1 and then 2.0
    assert s5.next_delay(88.2) == pytest.approx(9.1)


def test_schedule_restarts_when_progress_goes_back():
    s = ProgressSchedule()
    s.observe(0, 50)
    s.observe(1, 60)
    assert s.remaining() is not None
    s.observe(2, 5)
    assert s.remaining() is None


def linear_copy(clock, duration, start=0.0):
    """An object that goes 0..100 % linearly over duration seconds, then Available."""
    def fetch():
        elapsed = clock.now() - start
        if elapsed >= duration:
            return {'status': 'Available', 'progress': 100, 'at': clock.now()}
        return {'status': 'Creating', 'progress': int(100 * elapsed / duration), 'at': clock.now()}
    return fetch


@pytest.mark.parametrize('duration', [7.0, 20.0, 33.3, 61.0, 300.0])
def test_wait_with_progress_returns_soon_after_finish_and_polls_gently(duration):
    clock = FakeClock(start=0.0)
    fetch = linear_copy(clock, duration)
    obj = wait_with_progress(fetch, lambda o: o['status'] == 'Available', None, lambda o: o['progress'],
                             timeout=1000, sleep=clock.sleep, clock=clock.now)
    assert obj['status'] == 'Available'
    latency = obj['at'] - duration
    assert 0 <= latency < 1.0, (latency, clock.sleeps)
    assert min(clock.sleeps) >= 2.0 and max(clock.sleeps) <= 10.0


def test_wait_with_progress_fails_at_once_on_failed_state():
    clock = FakeClock(start=0.0)
    seen = []

    def fetch():
        seen.append(clock.now())
        return {'status': 'CreateFailed' if len(seen) > 1 else 'Creating', 'progress': 0}

    with pytest.raises(RuntimeError, match='copy failed'):
        wait_with_progress(fetch, lambda o: o['status'] == 'Available',
                           lambda o: 'copy failed' if o['status'] == 'CreateFailed' else None,
                           lambda o: o['progress'], timeout=100, sleep=clock.sleep, clock=clock.now)
    assert len(seen) == 2


def test_wait_with_progress_times_out_within_bound():
    clock = FakeClock(start=0.0)

    class Timeout(Exception):
        pass

    with pytest.raises(Timeout, match='timed out after 25 s waiting for copy .*Creating, 0%'):
        wait_with_progress(lambda: {'status': 'Creating', 'progress': 0}, lambda o: False, None,
                           lambda o: o['progress'], timeout=25, what='copy', timeout_error=Timeout,
                           sleep=clock.sleep, clock=clock.now)
    assert clock.now() == pytest.approx(25)


def test_wait_with_progress_uses_first_object_and_handles_gone():
    clock = FakeClock(start=0.0)
    calls = []

    def fetch():
        calls.append(1)
        return None

    obj = wait_with_progress(fetch, lambda o: o is None, None, lambda o: None, timeout=10,
                             sleep=clock.sleep, clock=clock.now, first_object={'status': 'Creating'})
    assert obj is None and len(calls) == 1


@pytest.mark.parametrize('accounts,bad', [
    (['1234567890123456'], False), (['123'], True), (['abc'], True), (['12345678901234567'], True),
])
def test_account_ids_are_16_digits(accounts, bad):
    errors = account_errors(accounts)
    assert bool(errors) == bad
    if bad:
        assert errors[0].startswith('accounts:') and '16 digits' in errors[0]
