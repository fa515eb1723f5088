# -*- coding: utf-8 -*-
# Copyright (c) alicloud.ecs_images contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ImportImage / ExportImage task helpers (DescribeTasks, DescribeTaskAttribute) used by the IO modules."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from ansible_collections.alicloud.ecs_images.plugins.module_utils.client import ApiError
from ansible_collections.alicloud.ecs_images.plugins.module_utils.distribute import (
    ProgressSchedule, wait_with_progress)
from ansible_collections.alicloud.ecs_images.plugins.module_utils.waiters import (
    MISSING_TOLERANCE, TASK_FAILED_STATUSES, WaitFailed, WaitTimeout, task_failure_message)


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


def follow_task(client, task_id, timeout, region=None, sleep=time.sleep, clock=time.time):
    """Wait for an ImportImage/ExportImage task to be Finished, timing the polls from its TaskProcess.

    Polls at once, then backs off (1 s, x1.5, at most 10 s) until the progress moves, then aims one poll just
    after the predicted end (module_utils.distribute.ProgressSchedule). Returns the DescribeTaskAttribute answer;
    raises waiters.WaitFailed at once on Failed/Cancelled (message with the task's error codes) or when the
    task cannot be found on 3 polls in a row, waiters.WaitTimeout after ``timeout`` seconds.
    """
    missing = {'polls': 0}

    def failed(task):
        if task is None:
            missing['polls'] += 1
            return 'task %s was not found' % task_id if missing['polls'] >= MISSING_TOLERANCE else None
        missing['polls'] = 0
        if task.get('TaskStatus') in TASK_FAILED_STATUSES:
            return task_failure_message(task)
        return None

    schedule = ProgressSchedule(first_delay=1.0, min_interval=1.0, max_interval=10.0, margin=0.3)
    try:
        return wait_with_progress(lambda: describe_task(client, task_id, region=region),
                                  lambda t: t is not None and t.get('TaskStatus') == 'Finished',
                                  failed, task_progress, timeout, schedule=schedule, what='task %s' % task_id,
                                  timeout_error=WaitTimeout, sleep=sleep, clock=clock)
    except WaitTimeout:
        raise
    except RuntimeError as exc:
        raise WaitFailed(str(exc), getattr(exc, 'last', None))
