# -*- coding: utf-8 -*-
# Copyright: alicloud.ecs_images contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Planning logic of ecs_image_copy and ecs_image_share (pure functions, no API calls), and a waiter that
uses an operation's reported progress to poll right after it finishes.

Owned by the DIST part. Everything here is deterministic and unit-tested in
tests/unit/plugins/module_utils/test_distribute.py.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
import time

from ansible_collections.alicloud.ecs_images.plugins.module_utils.images import FAILED_STATUSES, IN_FLIGHT_STATUSES
from ansible_collections.alicloud.ecs_images.plugins.module_utils.tags import tag_params

SHARE_BATCH_SIZE = 10      # AddAccount.N / RemoveAccount.N: at most 10 per ModifyImageSharePermission call
SHARE_ACCOUNT_LIMIT = 50   # accounts an image may be shared with in total (default quota)

ACCOUNT_ID_RE = re.compile(r'^[0-9]{16}$')   # Alibaba Cloud account ids (UIDs) are 16 digits


# --------------------------------------------------------------------------------------------- regions

def normalize_regions(value):
    """Destination regions as a list without blanks and duplicates, in the order given."""
    if value is None:
        return []
    if isinstance(value, str):
        value = value.split(',')
    seen = []
    for item in value:
        item = str(item).strip()
        if item and item not in seen:
            seen.append(item)
    return seen


def region_errors(source_region, destinations, known_regions):
    """Messages for destinations that cannot be used; empty when all are fine."""
    errors = []
    if not destinations:
        errors.append('destination_regions must list at least one region')
    if source_region in destinations:
        errors.append('destination_regions must not contain the source region %s: an image already exists in its '
                      'own region' % source_region)
    if known_regions is not None:
        unknown = [r for r in destinations if r not in known_regions]
        if unknown:
            errors.append('destination_regions: region(s) %s do not exist (known regions: %s)'
                          % (', '.join(unknown), ', '.join(sorted(known_regions))))
    return errors


def unproven_regions(found):
    """Destinations whose existence is not proven by a read: ``found`` maps each region to the image found
    there (``None`` when no image, or the read failed). Only these need a DescribeRegions check, so an
    idempotent rerun where every destination holds its copy skips it."""
    return [region for region, image in found.items() if image is None]


# --------------------------------------------------------------------------------------------- copy

def plan_copy_present(region, name, images):
    """Action for one destination region when state=present.

    ``images`` are the account's own images named ``name`` in ``region`` (normalised, every status).
    Returns ``(action, image, error)`` with action one of ``copy`` (no copy yet), ``wait`` (a copy is in
    flight), ``present`` (the region holds it); ``error`` is a message when the region cannot be handled.
    """
    if not images:
        return 'copy', None, None
    if len(images) > 1:
        return None, None, ('region %s holds %d images named %s (%s): cannot tell which one is the copy; '
                            'remove the extra ones or choose another name'
                            % (region, len(images), name, ', '.join(sorted(i['image_id'] for i in images))))
    image = images[0]
    status = image.get('status')
    if status in IN_FLIGHT_STATUSES:
        return 'wait', image, None
    if status in FAILED_STATUSES:
        return None, image, ('region %s holds image %s named %s in state %s: delete it (state=absent) and run '
                             'again to copy anew' % (region, image['image_id'], name, status))
    return 'present', image, None


def plan_copy_absent(region, name, images):
    """Action for one destination region when state=absent: ``none``, ``cancel`` (copy in flight, use
    CancelCopyImage) or ``delete``; ``error`` refuses images that are not copies or are ambiguous."""
    if not images:
        return 'none', None, None
    if len(images) > 1:
        return None, None, ('region %s holds %d images named %s (%s): cannot tell which one is the copy'
                            % (region, len(images), name, ', '.join(sorted(i['image_id'] for i in images))))
    image = images[0]
    if not image.get('is_copied'):
        return None, image, ('region %s holds image %s named %s but it was not made by CopyImage; refusing to '
                             'remove it (use alicloud.ecs_images.ecs_image with state=absent)'
                             % (region, image['image_id'], name))
    if image.get('status') in IN_FLIGHT_STATUSES:
        return 'cancel', image, None
    return 'delete', image, None


def copy_params(source_region, image_id, region, name, description=None, encrypted=None, kms_key_id=None,
                resource_group_id=None, tags=None):
    """Parameters of the CopyImage call that copies ``image_id`` to ``region``."""
    params = {
        'RegionId': source_region,
        'ImageId': image_id,
        'DestinationRegionId': region,
        'DestinationImageName': name,
        'DestinationDescription': description,
        'Encrypted': encrypted,
        'KMSKeyId': kms_key_id,
        'ResourceGroupId': resource_group_id,
    }
    params.update(tag_params(tags))
    return dict((k, v) for k, v in params.items() if v is not None)


# --------------------------------------------------------------------------------------------- share

def account_errors(accounts, owner_id=None):
    """Messages for malformed account ids and for sharing with the image's own account."""
    errors = []
    bad = [a for a in accounts if not ACCOUNT_ID_RE.match(str(a))]
    if bad:
        errors.append('accounts: %s %s not an Alibaba Cloud account id (16 digits)'
                      % (', '.join(repr(b) for b in bad), 'is' if len(bad) == 1 else 'are'))
    if owner_id and str(owner_id) in [str(a) for a in accounts]:
        errors.append('accounts: %s is the account that owns the image; an image cannot be shared with its owner'
                      % owner_id)
    return errors


def plan_share(current, accounts, state='present', purge=False):
    """Return ``(desired, to_add, to_remove)``, each a sorted list of account ids (strings)."""
    current = set(str(a) for a in current)
    wanted = set(str(a) for a in accounts or [])
    if state == 'absent':
        desired = current - wanted
    elif purge:
        desired = wanted
    else:
        desired = current | wanted
    return sorted(desired), sorted(desired - current), sorted(current - desired)


def share_calls(region, image_id, to_add, to_remove, batch_size=SHARE_BATCH_SIZE):
    """ModifyImageSharePermission parameter sets: removals first (they free quota), then additions, at most
    ``batch_size`` accounts each."""
    calls = []
    for key, accounts in (('RemoveAccount', to_remove), ('AddAccount', to_add)):
        for start in range(0, len(accounts), batch_size):
            params = {'RegionId': region, 'ImageId': image_id}
            for index, account in enumerate(accounts[start:start + batch_size], start=1):
                params['%s.%d' % (key, index)] = account
            calls.append(params)
    return calls


# --------------------------------------------------------------------------------------------- waiting

class ProgressSchedule:
    """Chooses the delay before the next poll of an operation that reports its progress in percent.

    Until the progress moves it backs off from ``first_delay`` (x1.5, capped at ``max_interval``). Once two
    polls have seen the progress move, it estimates the finishing time from the observed rate and plans the
    polls so that one lands ``margin`` seconds after it, never polling more often than every
    ``min_interval`` seconds nor less often than every ``max_interval`` seconds.
    """

    def __init__(self, first_delay=2.0, min_interval=2.0, max_interval=10.0, margin=0.3, factor=1.5):
        self.first_delay = float(first_delay)
        self.min_interval = float(min_interval)
        self.max_interval = max(float(max_interval), self.min_interval)
        self.margin = float(margin)
        self.factor = float(factor)
        self.samples = []          # (time, progress) while the progress moves
        self._backoff = None

    def observe(self, now, progress):
        if progress is None:
            return
        progress = float(progress)
        if self.samples and progress < self.samples[-1][1]:
            self.samples = []      # progress went back (a new phase): start over
        if progress > 0 and (not self.samples or progress > self.samples[-1][1]):
            self.samples.append((float(now), progress))

    def remaining(self):
        """Estimated seconds until 100 %, measured from the last sample, or None when unknown."""
        if len(self.samples) < 2:
            return None
        (t0, p0), (t1, p1) = self.samples[0], self.samples[-1]
        if t1 <= t0 or p1 <= p0:
            return None
        rate = (p1 - p0) / (t1 - t0)
        # Progress is reported in whole percent (rounded down): on average the true value is half a point higher.
        return max(0.0, (100.0 - min(p1 + 0.5, 100.0)) / rate)

    def next_delay(self, now):
        remaining = self.remaining()
        if remaining is None:
            self._backoff = self.first_delay if self._backoff is None else self._backoff * self.factor
            return min(max(self._backoff, self.min_interval), self.max_interval)
        target = remaining - (now - self.samples[-1][0]) + self.margin
        if target <= self.max_interval:
            return max(target, self.min_interval)
        # Too far: poll at most max_interval ahead, but keep at least min_interval before the finishing poll.
        return max(min(self.max_interval, target - self.min_interval), self.min_interval)


def wait_with_progress(fetch, done, failed, progress, timeout, schedule=None, what='operation',
                       timeout_error=None, sleep=time.sleep, clock=time.time, first_object=None):
    """Poll ``fetch()`` until ``done(obj)``; ``failed(obj)`` returning a message raises RuntimeError at once,
    ``progress(obj)`` gives percent progress (or None). ``done`` and ``failed`` also get None (object gone). Waits at most ``timeout`` seconds, then raises
    ``timeout_error(message)`` (default RuntimeError); both exceptions carry the last object as ``last``.
    ``first_object`` is an object already fetched (saves a
    call). Returns the last object."""
    schedule = schedule or ProgressSchedule()
    timeout_error = timeout_error or RuntimeError
    deadline = clock() + float(timeout)
    obj = first_object if first_object is not None else fetch()
    while True:
        message = failed(obj) if failed else None
        if message:
            error = RuntimeError(message)
            error.last = obj
            raise error
        if done(obj):
            return obj
        if obj is not None:
            schedule.observe(clock(), progress(obj))
        now = clock()
        if now >= deadline:
            error = timeout_error('timed out after %s s waiting for %s (last seen: %s)'
                                  % (timeout, what, describe_progress(obj, progress)))
            error.last = obj
            raise error
        sleep(max(0.0, min(schedule.next_delay(now), deadline - now)))
        obj = fetch()


def describe_progress(obj, progress):
    if obj is None:
        return 'not found'
    status = obj.get('status') or obj.get('Status')
    value = progress(obj)
    return '%s, %s%%' % (status, value) if value is not None else str(status)
