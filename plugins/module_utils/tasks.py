# -*- coding: utf-8 -*-
# Copyright (c) alicloud.ecs_images contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Task readers (DescribeTasks, DescribeTaskAttribute) and the task status vocabulary: ImportImage and
ExportImage run as tasks."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.alicloud.ecs_images.plugins.module_utils.client import ApiError

# A task in one of these states never finishes.
TASK_FAILED_STATUSES = ('Failed', 'Cancelled', 'Canceled', 'Deleted', 'Expired')


def find_tasks(client, action, status=None, resource_id=None, region=None):
    """Tasks of ``action`` (ImportImage/ExportImage), optionally filtered by status and resource id.

    Every page is read. ``resource_id`` is filtered on the client side as well (the filter parameter is
    not honoured by every endpoint).
    """
    params = {'TaskAction': action, 'TaskStatus': status}
    if resource_id:
        params['ResourceIds'] = [resource_id]
    tasks = client.paginate('DescribeTasks', params, ('TaskSet', 'Task'), region=region)
    if resource_id:
        tasks = [t for t in tasks if t.get('ResourceId') == resource_id]
    return tasks


# Statuses of an import/export task that has not ended: queued first (Waiting), then Processing.
RUNNING_TASK_STATUSES = ('Waiting', 'Processing')


def running_tasks(client, action, resource_id=None, region=None):
    """Tasks of ``action`` that are queued (Waiting) or running (Processing).

    DescribeTasks is read without a TaskStatus filter: the filter documents only Finished, Processing and Failed,
    so a queued task would be missed by ``TaskStatus=Processing``. The status is checked here instead."""
    return [t for t in find_tasks(client, action, resource_id=resource_id, region=region)
            if t.get('TaskStatus') in RUNNING_TASK_STATUSES]


def describe_task(client, task_id, region=None):
    """DescribeTaskAttribute answer, or None when the task is unknown."""
    try:
        task = client.call('DescribeTaskAttribute', {'TaskId': task_id}, region=region)
    except ApiError as e:
        if e.code == 'InvalidTaskId.NotFound':
            return None
        raise
    if not task.get('TaskId'):
        return None
    return task


def task_operations(task):
    """OperationProgress entries of a DescribeTaskAttribute answer (list of dicts)."""
    ops = (task or {}).get('OperationProgressSet') or {}
    ops = ops.get('OperationProgress') if isinstance(ops, dict) else ops
    return ops or []


def task_related_values(task, name):
    """Every RelatedItem value called ``name`` of a task, across its operations, in order.

    An ExportImage task lists OSSBucket, ImageFormat and one OSSObject per disk it writes."""
    values = []
    for op in task_operations(task):
        items = op.get('RelatedItemSet') or {}
        items = items.get('RelatedItem') if isinstance(items, dict) else items
        values.extend(i.get('Value') for i in (items or []) if i.get('Name') == name and i.get('Value'))
    return values


def task_progress(task):
    """TaskProcess ('37%') as a number, or None."""
    value = str((task or {}).get('TaskProcess') or '').strip().rstrip('%').strip()
    try:
        return float(value)
    except ValueError:
        return None


def task_failure_message(task):
    message = 'task %s (%s) is %s' % (task.get('TaskId'), task.get('TaskAction'), task.get('TaskStatus'))
    progress = ((task.get('OperationProgressSet') or {}).get('OperationProgress')) or []
    errors = ['%s: %s' % (p.get('ErrorCode'), p.get('ErrorMsg')) for p in progress
              if p.get('ErrorCode') or p.get('ErrorMsg')]
    if errors:
        message += ': ' + '; '.join(errors)
    return message
