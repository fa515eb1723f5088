# -*- coding: utf-8 -*-
"""ecs_disk_replace apply step on a scripted client: the stop carries the chosen StoppedMode, and a
ReplaceSystemDisk refused for good after the module stopped a Running instance starts the instance again
(the unconfirmed refusal of an image holding data-disk snapshots: correct whichever way the cloud answers)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.alicloud.ecs_images.plugins.module_utils import waiters
from ansible_collections.alicloud.ecs_images.plugins.module_utils.client import ApiError
from ansible_collections.alicloud.ecs_images.plugins.modules import ecs_disk_replace as M


@pytest.fixture(autouse=True)
def fake_clock(monkeypatch):
    """Every wait runs on a fake clock (sleeping advances it)."""
    now = [1000.0]

    def sleep(seconds):
        now[0] += seconds
    monkeypatch.setattr(waiters, 'SLEEP', sleep)
    monkeypatch.setattr(waiters, 'NOW', lambda: now[0])


class Failed(Exception):
    def __init__(self, msg, **kwargs):
        super(Failed, self).__init__(msg)
        self.msg = msg
        self.kwargs = kwargs


class Client:
    """The instance is Running, stops when asked, starts when asked; ReplaceSystemDisk is refused."""

    def __init__(self, refuse_replace=True):
        self.status = 'Running'
        self.refuse_replace = refuse_replace
        self.calls = []

    def call(self, action, params=None, client_token=None, region=None, **kwargs):
        self.calls.append((action, dict(params or {})))
        if action == 'StopInstance':
            self.status = 'Stopped'
        elif action == 'StartInstance':
            self.status = 'Running'
        elif action == 'ReplaceSystemDisk' and self.refuse_replace:
            raise ApiError(action, 'OperationDenied', 'The image holds data disk snapshots.', http_status=400)
        elif action == 'DescribeInstances':
            return {'Instances': {'Instance': [{'InstanceId': 'i-1', 'Status': self.status, 'ImageId': 'm-old',
                                                'OperationLocks': {'LockReason': []}}]}}
        return {}

    def actions(self):
        return [c[0] for c in self.calls]


class Module:
    def __init__(self, client, **params):
        self.params = dict(instance_id='i-1', image_id='m-new', password=None, key_pair_name='k',
                           password_inherit=None, system_disk_size=None, stop=True, force_stop=False,
                           stopped_mode='KeepCharging', start=None, force=False, wait=True, wait_timeout=60)
        self.params.update(params)
        self.region = 'cn-hangzhou'
        self.check_mode = False
        self._client = client
        self.failure_extras = {}
        self.failure_state = None
        self.rerun_hint = None

    def client(self, region=None):
        return self._client

    def fail(self, msg, **kwargs):
        raise Failed(msg, **kwargs)

    def fail_api(self, err, msg=None, **kwargs):
        raise Failed(msg or str(err), **kwargs)


PLAN = dict(stop=True, replace=True, start=True, system_disk_size=40, actions=['stop', 'replace', 'start'])


def test_refused_replacement_starts_the_stopped_instance_again():
    client = Client()
    module = Module(client)
    with pytest.raises(ApiError) as exc:     # the refusal goes on to the failure boundary
        M.Replacer(module).apply(PLAN, 'Running')
    assert exc.value.code == 'OperationDenied'
    assert module.failure_extras['actions'] == ['stop', 'start']
    assert 'started again' in module.failure_state(exc.value)[0]
    writes = [a for a in client.actions() if not a.startswith('Describe') and 'tag' not in a.lower()]
    assert writes == ['StopInstance', 'ReplaceSystemDisk', 'StartInstance']
    assert client.actions().index('UntagResources') > client.actions().index('StartInstance')   # intent cleared
    assert client.status == 'Running'
    stop = [c for c in client.calls if c[0] == 'StopInstance'][0]
    assert stop[1]['StoppedMode'] == 'KeepCharging'


def test_stopped_mode_is_sent_as_chosen():
    client = Client(refuse_replace=False)
    replacer = M.Replacer(Module(client, stopped_mode='StopCharging'))
    with pytest.raises(Exception):   # the scripted client has no disks: the wait for the new disk cannot end
        replacer.apply(dict(PLAN, start=False), 'Running')
    stop = [c for c in client.calls if c[0] == 'StopInstance'][0]
    assert stop[1]['StoppedMode'] == 'StopCharging'
