# -*- coding: utf-8 -*-
# Copyright (c) alicloud.ecs_images contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Following an ImportImage / ExportImage task through the waiter engine (the task readers are in tasks.py)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.alicloud.ecs_images.plugins.module_utils.tasks import (
    TASK_FAILED_STATUSES, describe_task, task_failure_message, task_progress)
from ansible_collections.alicloud.ecs_images.plugins.module_utils.waiters import reporter, wait_until


def follow_task(client, task_id, timeout, region=None, sleep=None, clock=None, kind=None,
                missing_grace=None):
    """Wait for an ImportImage/ExportImage task to be Finished (waiters.wait_until: polls timed from its
    TaskProcess). Returns the DescribeTaskAttribute answer; raises waiters.WaitFailed at once on
    Failed/Cancelled (message with the task's error codes), waiters.WaitTimeout after ``timeout`` seconds.
    A task not found yet is waited for (missing-object rule). Progress is reported as ``kind`` ('import',
    'export'; default from the task's action)."""
    state = {'kind': kind}

    def fetch():
        task = describe_task(client, task_id, region=region)
        if task is not None and state['kind'] is None:
            state['kind'] = 'import' if task.get('TaskAction') == 'ImportImage' else 'export'
        return task

    def failed(task):
        if task.get('TaskStatus') in TASK_FAILED_STATUSES:
            return task_failure_message(task)
        return None

    def report(task, status, percent):
        reporter(client, state['kind'] or 'task', task_id, region or getattr(client, 'region', None))(
            task, status, percent)

    return wait_until(fetch, lambda t: t is not None and t.get('TaskStatus') == 'Finished', failed, timeout,
                      'task %s to finish' % task_id, progress=task_progress,
                      status=lambda t: t.get('TaskStatus'), missing_grace=missing_grace, report=report,
                      sleep=sleep, now=clock)
