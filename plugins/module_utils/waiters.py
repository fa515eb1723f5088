# -*- coding: utf-8 -*-
# Copyright (c) alicloud.ecs_images contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bounded waiters that follow the real states and stop at once on a failed state."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from ansible_collections.alicloud.ecs_images.plugins.module_utils.images import (
    FAILED_STATUSES, describe_image, image_usable)
from ansible_collections.alicloud.ecs_images.plugins.module_utils.snapshots import describe_snapshot
from ansible_collections.alicloud.ecs_images.plugins.module_utils.tasks import (
    TASK_FAILED_STATUSES, describe_task, task_failure_message)

# how many consecutive polls may miss an object before the waiter gives up (eventual consistency)
MISSING_TOLERANCE = 3


class WaitTimeout(Exception):
    """The object did not reach the wanted state before the deadline. ``last`` is the last object seen."""

    failed = False

    def __init__(self, message, last=None, polls=0, elapsed=0.0):
        super(WaitTimeout, self).__init__(message)
        self.last = last
        self.polls = polls
        self.elapsed = elapsed


class WaitFailed(WaitTimeout):
    """The object reached a failed state (message from the cloud). ``last`` is the object.

    Subclass of WaitTimeout so that ``except WaitTimeout`` handles both; check ``isinstance(e, WaitFailed)``
    (or ``e.failed``) to tell them apart."""

    failed = True

    def __init__(self, message, last=None, polls=0, elapsed=0.0):
        super(WaitFailed, self).__init__(message, last, polls, elapsed)


def poll_delays(timeout, first_delay=1.0, max_delay=10.0, factor=1.5):
    """The sleep schedule wait_until uses when every poll is instantaneous (for docs and tests):
    it sleeps first_delay before the first poll, then first_delay*factor^n capped at max_delay, and the
    sum never exceeds timeout."""
    delays = []
    elapsed = 0.0
    delay = first_delay
    while elapsed < timeout:
        step = min(delay, timeout - elapsed)
        delays.append(step)
        elapsed += step
        delay = min(max_delay, delay * factor)
    return delays


def wait_until(fetch, done, failed=None, timeout=600, first_delay=1.0, max_delay=10.0, what='resource',
               sleep=time.sleep, now=time.monotonic, factor=1.5, poll_first=False):
    """Poll ``fetch`` until ``done(obj)``.

    Sleeps first_delay before the first poll (poll_first=True polls at once), then first_delay * factor^n
    capped at max_delay, never sleeping past the deadline (a last poll happens at the deadline).
    ``failed(obj)`` returning a message raises WaitFailed at once. Returns the last object.
    """
    start = now()
    deadline = start + max(0, timeout)
    delay = first_delay
    polls = 0
    if not poll_first and timeout > 0:
        sleep(min(delay, timeout))
        delay = min(max_delay, delay * factor)
    while True:
        obj = fetch()
        polls += 1
        if done(obj):
            return obj
        if failed is not None:
            message = failed(obj)
            if message:
                raise WaitFailed(message, obj, polls, now() - start)
        remaining = deadline - now()
        if remaining <= 0:
            raise WaitTimeout('timed out after %ds waiting for %s (%d polls)' % (timeout, what, polls),
                              obj, polls, now() - start)
        sleep(min(delay, remaining))
        delay = min(max_delay, delay * factor)


def _missing_guard(what):
    """An object never seen yet is tolerated until the wait's deadline (the cloud lists a new image late:
    eventual consistency); one seen and then missing fails at once."""
    state = {'missing': 0, 'seen': False}

    def check(obj):
        if obj is None:
            state['missing'] += 1
            if state['seen']:
                return '%s no longer exists' % what
            return None
        state['seen'] = True
        state['missing'] = 0
        return None
    return check


def image_failure_message(image):
    status = image.get('Status')
    message = 'image %s is %s' % (image.get('ImageId'), status)
    progress = image.get('Progress')
    if progress:
        message += ' (progress %s)' % progress
    for key in ('FailReason', 'StatusMessage', 'Message'):
        if image.get(key):
            message += ': %s' % image[key]
            break
    return message


def wait_image(client, image_id, timeout, region=None, target=('Available',), first_delay=1.0, max_delay=10.0,
               sleep=time.sleep, now=time.monotonic):
    """Wait until the image's Status is in ``target``. Fails at once on CreateFailed/UnAvailable (unless
    targeted) or when the image disappears. Returns the raw API image."""
    if isinstance(target, str):
        target = (target,)
    what = 'image %s to be %s' % (image_id, '/'.join(target))
    guard = _missing_guard('image %s' % image_id)

    def failed(image):
        message = guard(image)
        if message:
            return message
        if image is not None and image.get('Status') in FAILED_STATUSES and \
                image.get('Status') not in target:
            return image_failure_message(image)
        return None

    return wait_until(lambda: describe_image(client, image_id, region=region),
                      lambda image: image is not None and image.get('Status') in target,
                      failed, timeout, first_delay, max_delay, what, sleep=sleep, now=now)


def wait_image_usable(client, image_id, timeout, region=None, first_delay=1.0, max_delay=10.0, sleep=time.sleep,
                      now=time.monotonic):
    """Wait until the image is Usable (bounded); fails at once on CreateFailed/UnAvailable. Returns it."""
    guard = _missing_guard('image %s' % image_id)

    def failed(image):
        message = guard(image)
        if message:
            return message
        if image is not None and image.get('Status') in FAILED_STATUSES:
            return image_failure_message(image)
        return None

    return wait_until(lambda: describe_image(client, image_id, region=region), image_usable, failed=failed,
                      timeout=timeout, first_delay=first_delay, max_delay=max_delay,
                      what='image %s to be usable' % image_id, sleep=sleep, now=now)


def wait_task(client, task_id, timeout, region=None, first_delay=1.0, max_delay=10.0, sleep=time.sleep,
              now=time.monotonic):
    """Wait for an ImportImage/ExportImage task. Finished -> returns the DescribeTaskAttribute answer;
    Failed/Cancelled -> WaitFailed with the operation errors."""
    def fetch():
        return describe_task(client, task_id, region=region)

    guard = _missing_guard('task %s' % task_id)

    def failed(task):
        message = guard(task)
        if message:
            return message
        if task is not None and task.get('TaskStatus') in TASK_FAILED_STATUSES:
            return task_failure_message(task)
        return None

    return wait_until(fetch, lambda t: t is not None and t.get('TaskStatus') == 'Finished', failed, timeout,
                      first_delay, max_delay, 'task %s to finish' % task_id, sleep=sleep, now=now)


def wait_snapshot(client, snapshot_id, timeout, region=None, first_delay=1.0, max_delay=10.0,
                  sleep=time.sleep, now=time.monotonic):
    """Wait until a snapshot is 'accomplished'; 'failed' fails at once."""
    guard = _missing_guard('snapshot %s' % snapshot_id)

    def failed(snap):
        message = guard(snap)
        if message:
            return message
        if snap is not None and snap.get('Status') == 'failed':
            return 'snapshot %s failed' % snapshot_id
        return None

    return wait_until(lambda: describe_snapshot(client, snapshot_id, region),
                      lambda s: s is not None and s.get('Status') == 'accomplished', failed, timeout,
                      first_delay, max_delay, 'snapshot %s to be accomplished' % snapshot_id,
                      sleep=sleep, now=now)
