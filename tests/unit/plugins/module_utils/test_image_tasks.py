# -*- coding: utf-8 -*-
"""Unit tests of plugins/module_utils/image_tasks.py: the progress-timed task waiter,
with a scripted client (answers depend on a simulated clock) instead of the network."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.alicloud.ecs_images.plugins.module_utils.client import ApiError  # noqa: E402
from ansible_collections.alicloud.ecs_images.plugins.module_utils.image_tasks import follow_task  # noqa: E402
from ansible_collections.alicloud.ecs_images.plugins.module_utils.waiters import (  # noqa: E402
    MAX_INTERVAL, POLL_BURST, POLLS_PER_MINUTE, WaitFailed, WaitTimeout)


class Clock:
    def __init__(self):
        self.now = 1000.0

    def time(self):
        return self.now

    def sleep(self, seconds):
        assert seconds >= 0
        self.now += seconds


class TaskClient:
    """A task that runs from t=1000 for ``duration`` seconds, then ends in ``outcome``."""

    def __init__(self, clock, duration, outcome='Finished'):
        self.clock = clock
        self.duration = duration
        self.outcome = outcome
        self.calls = []

    def call(self, action, params=None, client_token=None, region=None):
        self.calls.append((self.clock.now, action, dict(params or {})))
        if action != 'DescribeTaskAttribute':
            raise AssertionError(action)
        if params['TaskId'] == 't-gone':
            raise ApiError(action, 'InvalidTaskId.NotFound', 'not found', http_status=400)
        elapsed = self.clock.now - 1000.0
        if elapsed < self.duration:
            status, progress = 'Processing', '%d%%' % int(100 * elapsed / self.duration)
        else:
            status, progress = self.outcome, '100%' if self.outcome == 'Finished' else '40%'
        task = {'TaskId': params['TaskId'], 'TaskAction': 'ExportImage', 'TaskStatus': status,
                'TaskProcess': progress, 'OperationProgressSet': {'OperationProgress': [{
                    'OperationStatus': status, 'ErrorCode': 'ExportImageFailed' if status == 'Failed' else '',
                    'ErrorMsg': 'disk unreadable' if status == 'Failed' else '',
                    'RelatedItemSet': {'RelatedItem': [{'Name': 'OSSBucket', 'Value': 'b'},
                                                       {'Name': 'OSSObject', 'Value': 'p_m-1_t-1.raw'},
                                                       {'Name': 'ImageFormat', 'Value': 'raw'},
                                                       {'Name': 'OSSObject', 'Value': 'p_m-1_t-1_data1.raw'}]}}]}}
        return task


@pytest.mark.parametrize('duration', [60.0, 300.0, 1200.0, 3000.0])
def test_follow_task_detects_the_end_quickly_with_bounded_polls(duration):
    clock = Clock()
    client = TaskClient(clock, duration)
    task = follow_task(client, 't-1', timeout=3600, sleep=clock.sleep, clock=clock.time)
    assert task['TaskStatus'] == 'Finished'
    latency = clock.now - (1000.0 + duration)
    assert 0 <= latency <= 1.5            # a poll lands right after the predicted end
    intervals = [b[0] - a[0] for a, b in zip(client.calls, client.calls[1:])]
    assert max(intervals) <= MAX_INTERVAL + 1e-9       # never sleeps more than the cap between polls
    assert len(client.calls) <= POLL_BURST + duration * POLLS_PER_MINUTE / 60.0


def test_follow_task_fails_at_once_with_the_task_error():
    clock = Clock()
    client = TaskClient(clock, 20.0, outcome='Failed')
    with pytest.raises(WaitFailed) as err:
        follow_task(client, 't-1', timeout=3600, sleep=clock.sleep, clock=clock.time)
    assert 'ExportImageFailed' in str(err.value) and 'disk unreadable' in str(err.value)
    assert clock.now - 1020.0 <= 1.0      # detected by the poll aimed at the predicted end


def test_follow_task_times_out():
    clock = Clock()
    client = TaskClient(clock, 500.0)
    with pytest.raises(WaitTimeout) as err:
        follow_task(client, 't-1', timeout=60, sleep=clock.sleep, clock=clock.time)
    assert not isinstance(err.value, WaitFailed)
    assert 60 <= clock.now - 1000.0 <= 61


def test_follow_task_waits_for_a_missing_task_until_the_timeout_or_grace():
    clock = Clock()
    client = TaskClient(clock, 20.0)
    with pytest.raises(WaitTimeout) as err:
        follow_task(client, 't-gone', timeout=600, sleep=clock.sleep, clock=clock.time)
    assert 'not found' in str(err.value) and not isinstance(err.value, WaitFailed)
    assert len(client.calls) <= POLL_BURST + 600 * POLLS_PER_MINUTE / 60.0
    with pytest.raises(WaitFailed) as err:
        follow_task(client, 't-gone', timeout=600, missing_grace=30, sleep=clock.sleep, clock=clock.time)
    assert 'was not found' in str(err.value)
