# -*- coding: utf-8 -*-
# Copyright (c) alicloud.ecs_images contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The controller side of "progress while waiting" (see docs/progress.md).

The action plugins of the modules that wait (plugins/action/*.py) are this class. It runs the module
exactly as ansible-core's own `normal` action does; when progress reporting is on and the module will
wait, it also names a progress file in the module's environment (module_utils/progress.py writes it on
each poll of the waiter engine) and a watcher thread prints one line from it every interval while the
module runs. The module's result, its idempotency and its check mode are untouched: the module runs
synchronously, in the same process tree, with the same arguments.

Settings (first one set wins): the variable ``alicloud_ecs_images_progress_interval`` (inventory, play,
extra vars, AWX survey), the controller environment variable ``ALICLOUD_ECS_IMAGES_PROGRESS_INTERVAL``,
else 30. The value is the number of seconds between two lines; 0 (or false/off) turns progress off.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextvars
import json
import os
import shutil
import tempfile
import threading
import time

from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase
from ansible.utils.display import Display
from ansible.utils.vars import merge_hash

from ansible_collections.alicloud.ecs_images.plugins.module_utils.progress import PROGRESS_ENV

display = Display()

INTERVAL_VAR = 'alicloud_ecs_images_progress_interval'
INTERVAL_ENV = 'ALICLOUD_ECS_IMAGES_PROGRESS_INTERVAL'
DEFAULT_INTERVAL = 30.0
MIN_INTERVAL = 1.0
DONE_STATUSES = ('Available', 'Finished', 'Succeeded', 'Success', 'Completed', 'Done', 'Running', 'Stopped',
                 'Uploaded', 'Exported', 'Deleted')


def parse_interval(value):
    """Seconds between two progress lines, or 0 (off). Raises ValueError on nonsense."""
    if value is None:
        return None
    if isinstance(value, bool):
        return DEFAULT_INTERVAL if value else 0.0
    text = str(value).strip().lower()
    if text == '':
        return None
    if text in ('off', 'false', 'no', 'none', 'disabled'):
        return 0.0
    if text in ('on', 'true', 'yes'):
        return DEFAULT_INTERVAL
    seconds = float(text)
    if seconds < 0:
        raise ValueError('must be >= 0')
    return 0.0 if seconds == 0 else max(MIN_INTERVAL, seconds)


def human_duration(seconds):
    seconds = int(max(0, seconds))
    if seconds < 60:
        return '%ds' % seconds
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return '%dm%02ds' % (minutes, seconds)
    hours, minutes = divmod(minutes, 60)
    return '%dh%02dm' % (hours, minutes)


def _is_done(item):
    return item.get('percent') == 100 or item.get('status') in DONE_STATUSES


def _item_text(item, with_region=True, with_id=False):
    parts = []
    if with_region and item.get('region'):
        parts.append(item['region'])
    if with_id and item.get('id'):
        parts.append(item['id'])
    if item.get('status'):
        parts.append(item['status'])
    if item.get('percent') is not None:
        parts.append('%d%%' % item['percent'])
    text = ' '.join(parts) or 'waiting'
    if item.get('detail'):
        text += ' (%s)' % item['detail']
    return text


def format_progress(label, elapsed, payload):
    """One line: per kind of wait (copy, import, ...) each resource with its region, status and percentage,
    how many are done, and the time since the task started."""
    head = '%s, %s:' % (label, human_duration(elapsed))
    items = (payload or {}).get('items') or []
    if not items:
        return '%s running (no progress reported yet)' % head
    groups = []
    index = {}
    for item in items:
        what = item.get('what') or 'resource'
        if what not in index:
            index[what] = len(groups)
            groups.append((what, []))
        groups[index[what]][1].append(item)
    parts = []
    for what, group in groups:
        ids = set(item.get('id') for item in group)
        if len(group) == 1:
            item = group[0]
            name = ' '.join(x for x in (what, item.get('id')) if x)
            where = ' in %s' % item['region'] if item.get('region') else ''
            parts.append('%s%s: %s' % (name, where, _item_text(item, with_region=False)))
            continue
        same_id = len(ids) == 1
        name = ' '.join(x for x in (what, group[0].get('id') if same_id else None) if x)
        text = ', '.join(_item_text(item, with_id=not same_id) for item in group)
        done = sum(1 for item in group if _is_done(item))
        unit = 'regions' if all(item.get('region') for item in group) and \
            len(set(item.get('region') for item in group)) == len(group) else 'items'
        parts.append('%s: %s (%d of %d %s done)' % (name, text, done, len(group), unit))
    return '%s %s' % (head, '; '.join(parts))


class ProgressWatcher:
    """Prints a progress line from ``path`` every ``interval`` seconds until stop()."""

    def __init__(self, path, interval, label, emit_line=None, clock=time.monotonic):
        self.path = path
        self.interval = interval
        self.label = label
        self.emit_line = emit_line or display.display
        self.clock = clock
        self.start = clock()
        self.lines = 0
        self._last = None
        self._stop = threading.Event()
        self._thread = None

    def read(self):
        try:
            with open(self.path) as handle:
                text = handle.read()
            if text:
                self._last = json.loads(text)
        except (IOError, OSError, ValueError):
            pass    # not written yet, or caught half-written: keep the last good state
        return self._last

    def tick(self):
        line = format_progress(self.label, self.clock() - self.start, self.read())
        self.lines += 1
        self.emit_line(line)
        return line

    def _run(self):
        while not self._stop.wait(self.interval):
            try:
                self.tick()
            except Exception as exc:   # pylint: disable=broad-except
                display.vvv('progress: %s' % exc)

    def begin(self):
        context = contextvars.copy_context()
        self._thread = threading.Thread(target=context.run, args=(self._run,), name='ecs-images-progress')
        self._thread.daemon = True
        self._thread.start()

    def stop(self):
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)


class ProgressActionModule(ActionBase):
    """Runs the module like ansible-core's `normal` action, printing progress while it waits."""

    _supports_check_mode = True
    _supports_async = True

    # module option that turns the wait off (None: the module always waits when it changes something)
    WAIT_OPTION = 'wait'
    # option values for which the module never waits, e.g. {'state': ['absent']}
    NO_WAIT_WHEN = {}

    def progress_interval(self, task_vars):
        """Seconds between lines (0: off), from the variable, else the environment, else 30."""
        sources = []
        if task_vars and INTERVAL_VAR in task_vars:
            sources.append(('variable ' + INTERVAL_VAR, lambda: self._templar.template(task_vars[INTERVAL_VAR])))
        sources.append(('environment variable ' + INTERVAL_ENV, lambda: os.environ.get(INTERVAL_ENV)))
        for name, getter in sources:
            try:
                value = parse_interval(getter())
            except (TypeError, ValueError) as exc:
                display.warning('alicloud.ecs_images: ignoring %s (%s): give seconds between progress lines, '
                                'or 0 to turn progress off' % (name, exc))
                continue
            if value is not None:
                return value
        return DEFAULT_INTERVAL

    def will_wait(self):
        args = self._task.args or {}
        for option, values in self.NO_WAIT_WHEN.items():
            if args.get(option) in values:
                return False
        if self.WAIT_OPTION is None:
            return True
        try:
            return boolean(args.get(self.WAIT_OPTION, True), strict=False)
        except TypeError:
            return True

    def runs_on_controller(self):
        return getattr(self._connection, 'transport', None) in ('local', 'ansible.builtin.local')

    def progress_label(self, task_vars):
        """'alicloud.ecs_images.ecs_image_copy [host]'."""
        name = self._task.action
        if '.' not in name:
            name = 'alicloud.ecs_images.' + name
        return '%s [%s]' % (name, (task_vars or {}).get('inventory_hostname', 'localhost'))

    def run(self, tmp=None, task_vars=None):
        result = super(ProgressActionModule, self).run(tmp, task_vars)
        del tmp  # tmp no longer has any effect

        wrap_async = self._task.async_val and not self._connection.has_native_async
        watcher = None
        workdir = None
        saved_environment = self._task.environment
        interval = 0
        if not wrap_async and not self._play_context.check_mode and self.will_wait() and self.runs_on_controller():
            interval = self.progress_interval(task_vars)
        if interval:
            try:
                workdir = tempfile.mkdtemp(prefix='ecs_images_progress_')
                path = os.path.join(workdir, 'progress.json')
                if self._play_context.become:
                    # the module runs as another user: let it write this one file (no secret in it)
                    os.chmod(workdir, 0o711)
                    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o666)
                    os.fchmod(fd, 0o666)
                    os.close(fd)
                environment = saved_environment
                if environment is None:
                    environment = []
                elif not isinstance(environment, list):
                    environment = [environment]
                self._task.environment = list(environment) + [{PROGRESS_ENV: path}]
                watcher = ProgressWatcher(path, interval, self.progress_label(task_vars))
                watcher.begin()
            except (IOError, OSError) as exc:
                display.vvv('alicloud.ecs_images: no progress for this task (%s)' % exc)
                self._task.environment = saved_environment
                watcher = None
        try:
            result = merge_hash(result, self._execute_module(task_vars=task_vars, wrap_async=wrap_async))
        finally:
            if watcher is not None:
                watcher.stop()
            self._task.environment = saved_environment
            if workdir:
                shutil.rmtree(workdir, ignore_errors=True)

        if not wrap_async:
            # remove a temporary path we created
            self._remove_tmp_path(self._connection._shell.tmpdir)
        return result
