# -*- coding: utf-8 -*-
"""Unit tests of plugins/module_utils/snapshots.py on a scripted transport."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

from ansible_collections.alicloud.ecs_images.plugins.module_utils.client import EcsClient
from ansible_collections.alicloud.ecs_images.plugins.module_utils.credentials import Credentials
from ansible_collections.alicloud.ecs_images.plugins.module_utils.snapshots import describe_snapshot, describe_snapshots


def client_with(snapshots):
    calls = []

    def transport(action, params, region):
        calls.append((action, dict(params), region))
        wanted = json.loads(params['SnapshotIds'])
        return {'Snapshots': {'Snapshot': [s for s in snapshots if s['SnapshotId'] in wanted]}}

    return EcsClient(Credentials('ak', 'sk', region='cn-hangzhou'), transport=transport), calls


def test_describe_snapshots_one_call_only_the_ids_asked_for():
    client, calls = client_with([{'SnapshotId': 's-1'}, {'SnapshotId': 's-2'}])
    assert [s['SnapshotId'] for s in describe_snapshots(client, ['s-1', 's-3'], region='cn-beijing')] == ['s-1']
    assert [(c[0], c[2]) for c in calls] == [('DescribeSnapshots', 'cn-beijing')]


def test_describe_snapshots_of_nothing_reads_nothing():
    client, calls = client_with([])
    assert describe_snapshots(client, []) == [] and calls == []


def test_describe_snapshot_none_when_missing():
    client, dummy = client_with([{'SnapshotId': 's-1', 'Status': 'accomplished'}])
    assert describe_snapshot(client, 's-1')['Status'] == 'accomplished'
    assert describe_snapshot(client, 's-9') is None


def test_describe_snapshots_of_many_ids_asks_for_pages_that_hold_them():
    client, calls = client_with([{'SnapshotId': 's-%d' % i} for i in range(150)])
    found = describe_snapshots(client, ['s-%d' % i for i in range(120)])
    assert len(found) == 120
    assert [len(json.loads(c[1]['SnapshotIds'])) for c in calls] == [100, 20]
    assert all(c[1]['PageSize'] == '100' for c in calls)
    describe_snapshots(client, ['s-1', 's-2'])
    assert 'PageSize' not in calls[-1][1]
