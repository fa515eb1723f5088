# -*- coding: utf-8 -*-
"""Waiters with a fake clock: schedule, deadline, immediate failure on failed states."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from fake_clock import FakeClock

from ansible_collections.alicloud.ecs_images.plugins.module_utils import waiters as W
from ansible_collections.alicloud.ecs_images.plugins.module_utils.images import ALL_IMAGE_STATUSES


class Sequence:
    """fetch() returning the given objects in order, then the last one forever; counts polls."""

    def __init__(self, *objs):
        self.objs = list(objs)
        self.polls = 0

    def __call__(self):
        self.polls += 1
        return self.objs.pop(0) if len(self.objs) > 1 else self.objs[0]


def test_schedule_backs_off_and_never_passes_deadline():
    clock = FakeClock()
    fetch = Sequence('x')
    with pytest.raises(W.WaitTimeout) as exc:
        W.wait_until(fetch, lambda o: False, timeout=60, first_delay=1.0, max_delay=8.0,
                     sleep=clock.sleep, now=clock.now)
    assert exc.value.failed is False
    assert clock.sleeps[:5] == [1.0, 1.5, 2.25, 3.375, 5.0625]
    assert max(clock.sleeps) <= 8.0
    assert sum(clock.sleeps) == pytest.approx(60.0)      # waited exactly the timeout, not more
    assert fetch.polls == len(clock.sleeps)              # one poll after every sleep (the last at the deadline)
    assert exc.value.polls == fetch.polls and exc.value.last == 'x'


def test_poll_delays_matches_wait_until():
    clock = FakeClock()
    with pytest.raises(W.WaitTimeout):
        W.wait_until(Sequence(1), lambda o: False, timeout=45, first_delay=1, max_delay=6,
                     sleep=clock.sleep, now=clock.now)
    assert clock.sleeps == pytest.approx(W.poll_delays(45, 1, 6))


def test_done_returns_object_after_expected_sleeps():
    clock = FakeClock()
    fetch = Sequence({'s': 'Creating'}, {'s': 'Creating'}, {'s': 'Available'})
    obj = W.wait_until(fetch, lambda o: o['s'] == 'Available', timeout=600, sleep=clock.sleep, now=clock.now)
    assert obj == {'s': 'Available'} and fetch.polls == 3
    assert clock.sleeps == [1.0, 1.5, 2.25]


def test_poll_first_polls_without_sleeping():
    clock = FakeClock()
    obj = W.wait_until(Sequence('ok'), lambda o: True, timeout=10, sleep=clock.sleep, now=clock.now,
                       poll_first=True)
    assert obj == 'ok' and clock.sleeps == []


def test_failed_state_fails_at_once():
    clock = FakeClock()
    fetch = Sequence({'s': 'Creating'}, {'s': 'CreateFailed'}, {'s': 'Available'})
    with pytest.raises(W.WaitFailed) as exc:
        W.wait_until(fetch, lambda o: o['s'] == 'Available',
                     lambda o: 'broken' if o['s'] == 'CreateFailed' else None,
                     timeout=600, sleep=clock.sleep, now=clock.now)
    assert str(exc.value) == 'broken' and exc.value.failed is True and fetch.polls == 2
    assert isinstance(exc.value, W.WaitTimeout)         # except WaitTimeout catches both
    assert sum(clock.sleeps) < 5


def test_zero_timeout_polls_once():
    clock = FakeClock()
    fetch = Sequence('x')
    with pytest.raises(W.WaitTimeout):
        W.wait_until(fetch, lambda o: False, timeout=0, sleep=clock.sleep, now=clock.now)
    assert fetch.polls == 1 and clock.sleeps == []


class FakeEcs:
    """Minimal client: DescribeImages/DescribeTaskAttribute from scripted states."""

    def __init__(self, images=None, tasks=None):
        self.images = list(images or [])
        self.tasks = list(tasks or [])
        self.calls = []

    @staticmethod
    def _next(seq):
        return seq.pop(0) if len(seq) > 1 else seq[0]

    def call(self, action, params=None, client_token=None, region=None):
        self.calls.append((action, dict(params or {}), region))
        if action == 'DescribeImages':
            image = self._next(self.images)
            return {'Images': {'Image': [image] if image else []}}
        if action == 'DescribeTaskAttribute':
            return self._next(self.tasks)
        raise AssertionError(action)


def test_wait_image_passes_every_status_and_region():
    clock = FakeClock()
    ecs = FakeEcs(images=[{'ImageId': 'm-1', 'Status': 'Creating', 'Progress': '10%'},
                          {'ImageId': 'm-1', 'Status': 'Available', 'Progress': '100%'}])
    image = W.wait_image(ecs, 'm-1', 600, region='cn-beijing', sleep=clock.sleep, now=clock.now)
    assert image['Status'] == 'Available'
    action, params, region = ecs.calls[0]
    assert params == {'ImageId': 'm-1', 'Status': ALL_IMAGE_STATUSES} and region == 'cn-beijing'


def test_wait_image_create_failed_fails_at_once_with_message():
    clock = FakeClock()
    ecs = FakeEcs(images=[{'ImageId': 'm-1', 'Status': 'Creating', 'Progress': '40%'},
                          {'ImageId': 'm-1', 'Status': 'CreateFailed', 'Progress': '40%'}])
    with pytest.raises(W.WaitFailed) as exc:
        W.wait_image(ecs, 'm-1', 600, sleep=clock.sleep, now=clock.now)
    assert 'm-1' in str(exc.value) and 'CreateFailed' in str(exc.value) and len(ecs.calls) == 2


def test_wait_image_disappearing_fails_after_tolerance():
    clock = FakeClock()
    ecs = FakeEcs(images=[None])   # never listed (late visibility): waited for until the deadline
    with pytest.raises(W.WaitTimeout) as exc:
        W.wait_image(ecs, 'm-1', 60, sleep=clock.sleep, now=clock.now)
    assert not exc.value.failed and len(ecs.calls) > W.MISSING_TOLERANCE and sum(clock.sleeps) <= 60
    ecs = FakeEcs(images=[None, None, None, None, {'ImageId': 'm-1', 'Status': 'Available'}])
    assert W.wait_image(ecs, 'm-1', 600, sleep=clock.sleep, now=clock.now)['Status'] == 'Available'
    ecs = FakeEcs(images=[{'ImageId': 'm-2', 'Status': 'Creating'}, None])
    with pytest.raises(W.WaitFailed) as exc:
        W.wait_image(ecs, 'm-2', 600, sleep=clock.sleep, now=clock.now)
    assert 'no longer exists' in str(exc.value) and len(ecs.calls) == 2


def test_wait_image_timeout_reports_last_state():
    clock = FakeClock()
    ecs = FakeEcs(images=[{'ImageId': 'm-1', 'Status': 'Creating', 'Progress': '50%'}])
    with pytest.raises(W.WaitTimeout) as exc:
        W.wait_image(ecs, 'm-1', 30, sleep=clock.sleep, now=clock.now)
    assert exc.value.last['Status'] == 'Creating' and not exc.value.failed
    assert sum(clock.sleeps) == pytest.approx(30)


def test_wait_task_failed_reports_operation_errors():
    clock = FakeClock()
    ecs = FakeEcs(tasks=[{'TaskId': 't-1', 'TaskAction': 'ImportImage', 'TaskStatus': 'Processing'},
                         {'TaskId': 't-1', 'TaskAction': 'ImportImage', 'TaskStatus': 'Failed',
                          'OperationProgressSet': {'OperationProgress': [
                              {'OperationStatus': 'Failed', 'ErrorCode': 'InvalidImageFormat',
                               'ErrorMsg': 'not a qcow2 file'}]}}])
    with pytest.raises(W.WaitFailed) as exc:
        W.wait_task(ecs, 't-1', 600, sleep=clock.sleep, now=clock.now)
    assert 'InvalidImageFormat: not a qcow2 file' in str(exc.value) and 'Failed' in str(exc.value)


def test_wait_task_finished():
    clock = FakeClock()
    ecs = FakeEcs(tasks=[{'TaskId': 't-1', 'TaskStatus': 'Processing'}, {'TaskId': 't-1', 'TaskStatus': 'Finished'}])
    assert W.wait_task(ecs, 't-1', 600, sleep=clock.sleep, now=clock.now)['TaskStatus'] == 'Finished'
