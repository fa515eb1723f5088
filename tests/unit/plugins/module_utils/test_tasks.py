# -*- coding: utf-8 -*-
"""Unit tests of plugins/module_utils/tasks.py (task readers and vocabulary) on a scripted transport."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.alicloud.ecs_images.plugins.module_utils.client import ApiError, EcsClient
from ansible_collections.alicloud.ecs_images.plugins.module_utils.credentials import Credentials
from ansible_collections.alicloud.ecs_images.plugins.module_utils.tasks import (
    TASK_FAILED_STATUSES, describe_task, find_tasks, task_failure_message, task_progress, task_related_values)

TASK = {'TaskId': 't-1', 'TaskAction': 'ExportImage', 'TaskStatus': 'Failed', 'TaskProcess': '40%',
        'OperationProgressSet': {'OperationProgress': [{
            'OperationStatus': 'Failed', 'ErrorCode': 'ExportImageFailed', 'ErrorMsg': 'disk unreadable',
            'RelatedItemSet': {'RelatedItem': [{'Name': 'OSSBucket', 'Value': 'b'},
                                               {'Name': 'OSSObject', 'Value': 'p_m-1_t-1.raw'},
                                               {'Name': 'ImageFormat', 'Value': 'raw'},
                                               {'Name': 'OSSObject', 'Value': 'p_m-1_t-1_data1.raw'}]}}]}}


def client_with(tasks):
    calls = []

    def transport(action, params, region):
        calls.append((action, dict(params)))
        if action == 'DescribeTaskAttribute':
            found = [t for t in tasks if t['TaskId'] == params['TaskId']]
            if not found:
                raise ApiError(action, 'InvalidTaskId.NotFound', 'not found', http_status=400)
            return found[0]
        assert action == 'DescribeTasks'
        return {'TotalCount': len(tasks), 'TaskSet': {'Task': list(tasks)}}

    return EcsClient(Credentials('ak', 'sk', region='cn-hangzhou'), transport=transport), calls


def test_describe_task_none_when_unknown():
    client, dummy = client_with([TASK])
    assert describe_task(client, 't-gone') is None
    assert describe_task(client, 't-1')['TaskId'] == 't-1'


def test_task_related_values_keeps_repeated_names():
    assert task_related_values(TASK, 'OSSObject') == ['p_m-1_t-1.raw', 'p_m-1_t-1_data1.raw']
    assert task_related_values(TASK, 'OSSBucket') == ['b']
    assert task_related_values(None, 'OSSObject') == []


def test_task_progress():
    assert task_progress({'TaskProcess': '37%'}) == 37.0
    assert task_progress({'TaskProcess': ''}) is None
    assert task_progress(None) is None


def test_find_tasks_filters_by_resource_and_flattens_filter():
    client, calls = client_with([{'TaskId': 't-1', 'ResourceId': 'm-1'}, {'TaskId': 't-2', 'ResourceId': 'm-2'}])
    assert [t['TaskId'] for t in find_tasks(client, 'ExportImage', status='Processing', resource_id='m-2')] == ['t-2']
    params = calls[-1][1]
    assert params['TaskAction'] == 'ExportImage' and params['TaskStatus'] == 'Processing'
    assert params['ResourceIds.1'] == 'm-2'


def test_task_failure_message_names_the_task_and_the_operation_errors():
    assert TASK['TaskStatus'] in TASK_FAILED_STATUSES and 'Finished' not in TASK_FAILED_STATUSES
    assert task_failure_message(TASK) == 'task t-1 (ExportImage) is Failed: ExportImageFailed: disk unreadable'
