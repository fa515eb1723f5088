# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark helper callback: writes when each task started and ended (wall clock) as JSON."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: task_timeline
type: aggregate
short_description: Record the start and end time of every task (used by tests/benchmarks)
description:
  - Writes a JSON list of C({name, role, start, end}) (seconds since the epoch) to the file named by
    the environment variable E(TASK_TIMELINE_FILE) when the playbook ends.
requirements:
  - enable it with E(ANSIBLE_CALLBACKS_ENABLED=task_timeline) and E(ANSIBLE_CALLBACK_PLUGINS)
"""

import json
import os
import time

from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    """Record task start/end times."""

    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'aggregate'
    CALLBACK_NAME = 'task_timeline'
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super(CallbackModule, self).__init__()
        self.tasks = []

    def _close_last(self):
        if self.tasks and self.tasks[-1]['end'] is None:
            self.tasks[-1]['end'] = time.time()

    def _start(self, task, kind):
        self._close_last()
        role = task._role.get_name(include_role_fqcn=False) if getattr(task, '_role', None) else ''
        self.tasks.append({'name': task.name or task.action, 'role': role, 'action': task.action, 'kind': kind,
                           'start': time.time(), 'end': None})

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._start(task, 'task')

    def v2_playbook_on_handler_task_start(self, task):
        self._start(task, 'handler')

    def v2_playbook_on_stats(self, stats):
        self._close_last()
        path = os.environ.get('TASK_TIMELINE_FILE')
        if path:
            with open(path, 'w') as handle:
                json.dump(self.tasks, handle, indent=1)
