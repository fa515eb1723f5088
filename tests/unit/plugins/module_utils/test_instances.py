# -*- coding: utf-8 -*-
"""Unit tests of plugins/module_utils/instances.py against a scripted fake client (no network, no sleeping)."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from fake_clock import FakeClock

from ansible_collections.alicloud.ecs_images.plugins.module_utils import instances, waiters  # noqa: E402
from ansible_collections.alicloud.ecs_images.plugins.module_utils.client import ApiError  # noqa: E402
from ansible_collections.alicloud.ecs_images.plugins.module_utils.waiters import (  # noqa: E402
    WaitFailed,
    WaitTimeout,
)


@pytest.fixture(autouse=True)
def fake_clock(monkeypatch):
    clock = FakeClock()
    monkeypatch.setattr(waiters, 'SLEEP', clock.sleep)
    monkeypatch.setattr(waiters, 'NOW', clock.now)
    return clock


class FakeClient:
    """Instance statuses come from a script: each DescribeInstances pops the next one (the last repeats)."""

    def __init__(self, statuses, image_id='img-old', disks=None, errors=None):
        self.statuses = list(statuses)
        self.image_id = image_id
        self.disks = list(disks or [])
        self.errors = dict(errors or {})
        self.log = []

    def call(self, action, params=None, client_token=None, region=None, **kwargs):  # pylint: disable=unused-argument
        self.log.append((action, dict(params or {})))
        if action in self.errors:
            raise self.errors.pop(action)
        if action == 'DescribeInstances':
            status = self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]
            if status is None:
                return {'Instances': {'Instance': []}}
            return {'Instances': {'Instance': [{'InstanceId': 'i-1', 'Status': status, 'ImageId': self.image_id,
                                               'OperationLocks': {'LockReason': []}}]}}
        if action == 'DescribeDisks':
            disk = self.disks.pop(0) if len(self.disks) > 1 else (self.disks[0] if self.disks else None)
            return {'Disks': {'Disk': [disk] if disk else []}}
        return {}

    def actions(self):
        return [entry[0] for entry in self.log]


def test_stop_waits_through_stopping():
    c = FakeClient(['Stopping', 'Stopping', 'Stopped'])
    inst = instances.stop_instance(c, 'i-1', timeout=600, force_stop=True)
    assert inst['Status'] == 'Stopped'
    assert c.log[0] == ('StopInstance', {'InstanceId': 'i-1', 'ForceStop': True, 'StoppedMode': 'KeepCharging'})
    assert c.actions().count('DescribeInstances') == 3


def test_stop_fails_at_once_when_instance_falls_back_to_running():
    c = FakeClient(['Stopping', 'Running', 'Stopped'])
    with pytest.raises(WaitFailed) as e:
        instances.stop_instance(c, 'i-1', timeout=600)
    assert 'went back to Running' in str(e.value)


def test_stop_times_out_bounded():
    c = FakeClient(['Stopping'])
    with pytest.raises(WaitTimeout) as e:
        instances.stop_instance(c, 'i-1', timeout=0.05)
    assert not isinstance(e.value, WaitFailed) and 'timed out' in str(e.value)


def test_instance_disappearing_fails_after_the_grace(fake_clock):
    c = FakeClient(['Stopping'] + [None] * 100)
    with pytest.raises(WaitFailed) as e:
        instances.stop_instance(c, 'i-1', timeout=600)
    assert 'no longer exists' in str(e.value)
    assert instances.MISSING_GRACE <= fake_clock.t - 1000.0 < instances.MISSING_GRACE + 31
    c = FakeClient(['Stopping', None, None, None, 'Stopped'])  # misses shorter than the grace are tolerated
    assert instances.stop_instance(c, 'i-1', timeout=600)['Status'] == 'Stopped'


def test_lost_stop_response_then_incorrect_status_on_retry_is_success():
    err = ApiError('StopInstance', 'IncorrectInstanceStatus', 'The current status does not support this.',
                   http_status=403, attempts=2)
    c = FakeClient(['Stopping', 'Stopped'], errors={'StopInstance': err})
    assert instances.stop_instance(c, 'i-1', timeout=600)['Status'] == 'Stopped'


def test_incorrect_status_on_first_attempt_is_an_error():
    err = ApiError('StartInstance', 'IncorrectInstanceStatus', 'no', http_status=403, attempts=1)
    c = FakeClient(['Running'], errors={'StartInstance': err})
    with pytest.raises(ApiError):
        instances.start_instance(c, 'i-1', timeout=600)


def test_stop_sends_the_stopped_mode():
    c = FakeClient(['Stopped'])
    instances.request_stop(c, 'i-1', stopped_mode='KeepCharging')
    assert c.log[0] == ('StopInstance', {'InstanceId': 'i-1', 'StoppedMode': 'KeepCharging'})
    c = FakeClient(['Stopped'])
    instances.request_stop(c, 'i-1')      # standard stop unless told otherwise
    assert c.log[0] == ('StopInstance', {'InstanceId': 'i-1', 'StoppedMode': 'KeepCharging'})
    c = FakeClient(['Stopped'])
    instances.request_stop(c, 'i-1', stopped_mode=None)   # the cloud's default
    assert c.log[0] == ('StopInstance', {'InstanceId': 'i-1'})


def test_start_passes_its_retry_budget_and_gives_up_once_the_instance_is_starting():
    seen = {}

    class Recording(FakeClient):
        def call(self, action, params=None, client_token=None, region=None, **kwargs):
            if action == 'StartInstance':
                seen.update(kwargs)
            return FakeClient.call(self, action, params, client_token, region)
    c = Recording(['Stopped', 'Starting'])
    instances.request_start(c, 'i-1', retry_for=42)
    assert seen['retry_for'] == 42
    err = ApiError('StartInstance', 'IncorrectInstanceStatus', 'no', http_status=403)
    assert seen['give_up'](err) is False      # still Stopped: keep retrying
    assert seen['give_up'](err) is True       # Starting: a lost first answer did start it


def test_start_without_wait_does_not_poll():
    c = FakeClient(['Stopped'])
    assert instances.start_instance(c, 'i-1', timeout=600, wait=False) is None
    assert c.actions() == ['StartInstance']


def test_settle_waits_for_stable_state():
    c = FakeClient(['Starting', 'Running'])
    inst = instances.settle_instance(c, {'InstanceId': 'i-1', 'Status': 'Starting'}, timeout=600)
    assert inst['Status'] == 'Running'
    c = FakeClient(['Running'])
    same = {'InstanceId': 'i-1', 'Status': 'Stopped'}
    assert instances.settle_instance(c, same, timeout=600) is same and c.log == []


def disk(status, locks=(), instance_id='i-1'):
    return {'DiskId': 'd-new', 'Status': status, 'InstanceId': instance_id, 'Size': 40,
            'OperationLocks': {'OperationLock': [{'LockReason': r} for r in locks]}}


def test_replacement_wait_needs_in_use_unlocked_disk_and_new_image():
    c = FakeClient(['Stopped'], image_id='img-new',
                   disks=[disk('Creating'), disk('In_use', locks=['replacing']), disk('In_use')])
    inst, d = instances.wait_system_disk_replaced(c, 'i-1', 'd-new', 'img-new', timeout=600)
    assert d['Status'] == 'In_use' and inst['ImageId'] == 'img-new'
    # the instance is read only once the disk is ready
    assert c.actions() == ['DescribeDisks', 'DescribeDisks', 'DescribeDisks', 'DescribeInstances']


def test_replacement_wait_keeps_polling_until_instance_reports_image():
    c = FakeClient(['Stopped'], image_id='img-old', disks=[disk('In_use')])
    with pytest.raises(WaitTimeout):
        instances.wait_system_disk_replaced(c, 'i-1', 'd-new', 'img-new', timeout=0.05)


def test_replacement_wait_fails_on_detached_disk():
    c = FakeClient(['Stopped'], disks=[disk('Available', instance_id='')])
    with pytest.raises(WaitFailed) as e:
        instances.wait_system_disk_replaced(c, 'i-1', 'd-new', 'img-new', timeout=600)
    assert 'not attached' in str(e.value)


def test_replacement_wait_fails_when_disk_never_appears():
    c = FakeClient(['Stopped'], disks=[])
    with pytest.raises(WaitFailed) as e:
        instances.wait_system_disk_replaced(c, 'i-1', 'd-new', 'img-new', timeout=600)
    assert 'not found' in str(e.value)


def test_get_system_disk_filters_type_and_instance():
    c = FakeClient(['Stopped'], disks=[{'DiskId': 'd-sys', 'Type': 'system', 'InstanceId': 'i-1'}])
    assert instances.get_system_disk(c, 'i-1')['DiskId'] == 'd-sys'
    assert c.log[0] == ('DescribeDisks', {'InstanceId': 'i-1', 'DiskType': 'system'})


class LockingClient(FakeClient):
    """Stopped throughout; the first DescribeInstances answers carry a lock."""

    def __init__(self, locks):
        FakeClient.__init__(self, ['Stopped'])
        self.locks = list(locks)

    def call(self, action, params=None, client_token=None, region=None):
        resp = FakeClient.call(self, action, params, client_token, region)
        if action == 'DescribeInstances':
            lock = self.locks.pop(0) if self.locks else None
            resp['Instances']['Instance'][0]['OperationLocks'] = {
                'LockReason': [{'LockReason': lock}] if lock else []}
        return resp


def test_settle_waits_for_operation_lock_to_clear():
    c = LockingClient(['replacing', 'replacing'])
    locked = {'InstanceId': 'i-1', 'Status': 'Stopped', 'OperationLocks': {'LockReason': [{'LockReason': 'x'}]}}
    inst = instances.settle_instance(c, locked, timeout=600)
    assert inst['OperationLocks']['LockReason'] == []
    assert c.actions() == ['DescribeInstances'] * 3


def test_settle_does_not_wait_for_permanent_lock():
    c = LockingClient([])
    locked = {'InstanceId': 'i-1', 'Status': 'Stopped',
              'OperationLocks': {'LockReason': [{'LockReason': 'security'}]}}
    assert instances.settle_instance(c, locked, timeout=600) is locked and c.log == []
