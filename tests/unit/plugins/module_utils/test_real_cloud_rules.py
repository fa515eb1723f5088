# -*- coding: utf-8 -*-
"""Rules for surviving the real cloud's behaviour (issue 10): the Usable flag, queued (Waiting) tasks."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from fake_clock import FakeClock

from ansible_collections.alicloud.ecs_images.plugins.module_utils.images import image_usable
from ansible_collections.alicloud.ecs_images.plugins.module_utils.tasks import running_tasks
from ansible_collections.alicloud.ecs_images.plugins.module_utils.waiters import (
    WaitFailed, WaitTimeout, wait_image_usable)


@pytest.mark.parametrize('image, usable', [
    ({'Status': 'Available', 'Usable': True}, True),
    ({'Status': 'Available', 'Usable': 'true'}, True),
    ({'Status': 'Available', 'Usable': False}, False),
    ({'Status': 'Available', 'Usable': 'false'}, False),
    ({'Status': 'Available'}, True),                   # an answer without the flag
    ({'Status': 'Deprecated', 'Usable': True}, True),
    ({'Status': 'Creating', 'Usable': True}, False),
    ({'Status': 'Creating'}, False),
    (None, False)])
def test_image_usable(image, usable):
    assert image_usable(image) is usable


class ImageClient:
    """DescribeImages answers from a script (None = not listed); the last answer repeats."""

    def __init__(self, answers):
        self.answers = list(answers)
        self.calls = 0

    def call(self, action, params=None, client_token=None, region=None, **kwargs):
        assert action == 'DescribeImages'
        self.calls += 1
        image = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        return {'Images': {'Image': [dict(image, ImageId='m-1')] if image else []}}


def test_wait_image_usable_follows_the_flag():
    clock = FakeClock()
    client = ImageClient([{'Status': 'Available', 'Usable': False}, {'Status': 'Available', 'Usable': False},
                          {'Status': 'Available', 'Usable': True}])
    image = wait_image_usable(client, 'm-1', 60, sleep=clock.sleep, now=clock.now)
    assert image['Usable'] is True and client.calls == 3


def test_wait_image_usable_is_bounded_and_fails_on_failed_status():
    clock = FakeClock()
    with pytest.raises(WaitTimeout):
        wait_image_usable(ImageClient([{'Status': 'Available', 'Usable': False}]), 'm-1', 30,
                          sleep=clock.sleep, now=clock.now)
    assert sum(clock.sleeps) <= 30
    with pytest.raises(WaitFailed):
        wait_image_usable(ImageClient([{'Status': 'UnAvailable', 'Usable': False}]), 'm-1', 30,
                          sleep=clock.sleep, now=clock.now)


class TaskListClient:
    def __init__(self, tasks):
        self.tasks = tasks
        self.params = []

    def paginate(self, action, params, result_key, page_size=100, region=None):
        assert action == 'DescribeTasks'
        self.params.append(dict(params))
        return list(self.tasks)


def test_running_tasks_include_queued_ones_and_send_no_status_filter():
    client = TaskListClient([
        {'TaskId': 't-1', 'TaskStatus': 'Waiting', 'ResourceId': 'm-1'},
        {'TaskId': 't-2', 'TaskStatus': 'Processing', 'ResourceId': 'm-1'},
        {'TaskId': 't-3', 'TaskStatus': 'Finished', 'ResourceId': 'm-1'},
        {'TaskId': 't-4', 'TaskStatus': 'Waiting', 'ResourceId': 'm-2'}])
    assert [t['TaskId'] for t in running_tasks(client, 'ExportImage', resource_id='m-1')] == ['t-1', 't-2']
    assert client.params[0].get('TaskStatus') is None
