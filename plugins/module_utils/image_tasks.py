# -*- coding: utf-8 -*-
# Copyright (c) alicloud.ecs_images contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Following an ImportImage / ExportImage task to its end (readers and vocabulary: tasks.py)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from ansible_collections.alicloud.ecs_images.plugins.module_utils.distribute import (
    ProgressSchedule, wait_with_progress)
from ansible_collections.alicloud.ecs_images.plugins.module_utils.tasks import (
    TASK_FAILED_STATUSES, describe_task, task_failure_message, task_progress)
from ansible_collections.alicloud.ecs_images.plugins.module_utils.waiters import (
    MISSING_TOLERANCE, WaitFailed, WaitTimeout)


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
