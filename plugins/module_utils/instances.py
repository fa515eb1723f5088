# -*- coding: utf-8 -*-
# Copyright: contributors to the alicloud.ecs_images collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Instances and their disks: readers (DescribeInstances, DescribeDisks, DescribeKeyPairs), the lock vocabulary,
stop/start and waits for their real states.

All waits go through the waiter engine (``waiters.wait_until``): bounded by a timeout, failing at once when
the instance goes somewhere it should not (falls back to the state it was leaving), and failing when it is
not found for ``MISSING_GRACE`` seconds (the instance was read just before: it is gone). Instances report no
progress: a wait that follows a transition this run requested is aimed at the transition's typical duration
(``TRANSITION_SECONDS``, see ``waiters.PollSchedule``); any other wait (an instance found mid-transition)
backs off within the engine's poll-rate limit.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from ansible_collections.alicloud.ecs_images.plugins.module_utils.client import ApiError, describe_by_ids
from ansible_collections.alicloud.ecs_images.plugins.module_utils.waiters import reporter, wait_until

# Typical seconds from the request to the end state of each instance transition: the waits after a request
# aim their first poll just after it (instances report no progress to estimate from). A transition that
# takes longer is re-polled within the engine's poll-rate limit (at most about 10 s late); a shorter one is
# noticed at the typical time. Stop: StopInstance to Stopped (a forced stop skips the guest's shutdown: half);
# start: StartInstance to Running; launch: RunInstances to Running; replace: ReplaceSystemDisk to the new
# system disk In_use and unlocked. The emulator (tests/emulator) models the same durations.
TRANSITION_SECONDS = {'stop': 10.0, 'force_stop': 5.0, 'start': 15.0, 'launch': 20.0, 'replace': 40.0}


def transition_seconds(kind, requested=None):
    """The typical seconds left of an instance transition (TRANSITION_SECONDS) requested at ``requested``
    (``time.monotonic()``; None: just now), for ``expected=`` of a wait; at least half a second."""
    elapsed = time.monotonic() - requested if requested is not None else 0.0
    return max(0.5, TRANSITION_SECONDS[kind] - elapsed)


# Seconds an instance (or a new system disk) may be missing from the listing before a wait fails: it was read
# just before the wait, so a longer absence means it is gone.
MISSING_GRACE = 60


def describe_instances(client, instance_ids, region=None):
    """The raw DescribeInstances items of those of ``instance_ids`` that exist in the region."""
    return describe_by_ids(client, 'DescribeInstances', 'InstanceIds', ('Instances', 'Instance'), 'InstanceId',
                           instance_ids, region=region)


def describe_instance(client, instance_id, region=None):
    """The raw DescribeInstances item of ``instance_id`` in the region, or None."""
    found = describe_instances(client, [instance_id], region=region)
    return found[0] if found else None


def lock_reasons(obj):
    """Lock reasons of an instance or a disk, whatever shape the API used.

    Instances: ``OperationLocks: {LockReason: [{LockReason: 'security'}]}``;
    disks: ``OperationLocks: {OperationLock: [{LockReason: '...'}]}``.
    """
    locks = (obj or {}).get('OperationLocks') or {}
    if isinstance(locks, dict):
        items = locks.get('LockReason') or locks.get('OperationLock') or []
    else:
        items = locks
    reasons = []
    for item in items or []:
        if isinstance(item, dict):
            reason = item.get('LockReason')
        else:
            reason = item
        if reason:
            reasons.append(str(reason))
    return reasons


def describe_disk(client, disk_id, region=None):
    """The raw DescribeDisks item of ``disk_id``, or None."""
    found = describe_by_ids(client, 'DescribeDisks', 'DiskIds', ('Disks', 'Disk'), 'DiskId', [disk_id], region=region)
    return found[0] if found else None


def instance_disks(client, instance_id, region=None):
    """Every raw DescribeDisks item attached to the instance (all pages)."""
    return client.paginate('DescribeDisks', {'InstanceId': instance_id}, ('Disks', 'Disk'), region=region)


def get_system_disk(client, instance_id, region=None):
    """The raw DescribeDisks item of the instance's system disk, or None."""
    resp = client.call('DescribeDisks', {'InstanceId': instance_id, 'DiskType': 'system'}, region=region)
    disks = [d for d in (resp.get('Disks') or {}).get('Disk') or []
             if d.get('InstanceId') == instance_id and (d.get('Type') or 'system') == 'system']
    return disks[0] if disks else None


def key_pair_exists(client, name, region=None):
    """Does the SSH key pair ``name`` exist in the region (DescribeKeyPairs, exact name)?"""
    resp = client.call('DescribeKeyPairs', {'KeyPairName': name}, region=region)
    return any(k.get('KeyPairName') == name for k in (resp.get('KeyPairs') or {}).get('KeyPair') or [])


def wait_instance(client, instance_id, status, timeout, region=None, leaving=None, expected=None):
    """Wait until the instance reports ``status``; returns the raw instance.

    ``leaving``: the stable state the instance is moving away from (Running when stopping, Stopped when
    starting). Once the instance has been seen in a transitional state, falling back to ``leaving`` fails at
    once (the operation was rolled back); so does the instance disappearing. ``expected``: the typical seconds
    of the transition just requested (``transition_seconds``), when this run requested it.
    Raises waiters.WaitTimeout when ``timeout`` passes.
    """
    seen = {'moved': False}

    def fetch():
        return describe_instance(client, instance_id, region=region)

    def done(obj):
        return obj is not None and obj.get('Status') == status

    def failed(obj):
        current = obj.get('Status')
        if current not in (leaving, status):
            seen['moved'] = True
        elif current == leaving and seen['moved']:
            return 'instance %s went back to %s instead of becoming %s' % (instance_id, leaving, status)
        return None

    return wait_until(fetch, done, failed=failed, timeout=timeout,
                      what='instance %s to be %s' % (instance_id, status), missing_grace=MISSING_GRACE,
                      report=reporter(client, 'instance', instance_id, region), expected=expected)


# Lock reasons that do not go away by waiting (DescribeInstances LockReason values). Any other lock (an
# operation in progress, such as a system disk replacement) is transient and is waited for.
PERMANENT_LOCKS = ('financial', 'security', 'recycling', 'dedicatedhostfinancial', 'refunded')


def transient_locks(obj):
    return [r for r in lock_reasons(obj) if r not in PERMANENT_LOCKS]


def is_settled(instance):
    """Running or Stopped, with no operation in progress."""
    return instance.get('Status') in ('Running', 'Stopped') and not transient_locks(instance)


def settle_instance(client, instance, timeout, region=None):
    """If the instance is Pending/Starting/Stopping or an operation holds a lock on it (for example a system
    disk replacement started earlier with wait: false), wait until it is Running or Stopped and unlocked.
    Returns it (unchanged when it is already settled)."""
    if is_settled(instance):
        return instance
    instance_id = instance['InstanceId']

    def fetch():
        return describe_instance(client, instance_id, region=region)

    def done(obj):
        return obj is not None and is_settled(obj)

    return wait_until(fetch, done, timeout=timeout,
                      what='instance %s to settle in Running or Stopped with no operation in progress'
                      % instance_id, missing_grace=MISSING_GRACE,
                      report=reporter(client, 'instance', instance_id, region))


def _call_transition(client, action, params, instance_id, heading, region=None, retry_for=None):
    """StopInstance/StartInstance. The client retries the refusals an instance gives while it settles after an
    earlier stop/start/replacement (IncorrectInstanceStatus, OperationConflict, InvalidOperation.Conflict; see
    client.RETRYABLE_CODES_BY_ACTION), for ``retry_for`` seconds when given. These calls take no ClientToken:
    when a retry after a lost response is refused because the first call did work (the instance is already in
    ``heading``), that is success, and the retries stop as soon as a read shows it."""
    def arrived():
        current = describe_instance(client, instance_id, region=region)
        return current is None or current.get('Status') in heading

    try:
        client.call(action, params, region=region, retry_for=retry_for, give_up=lambda err: arrived())
    except ApiError as err:
        if err.code != 'IncorrectInstanceStatus' or err.attempts < 2:
            raise
        current = describe_instance(client, instance_id, region=region)
        if current is None or current.get('Status') not in heading:
            raise


# StopInstance StoppedMode: KeepCharging (standard stop: resources kept, the later start cannot fail for lack of
# stock) or StopCharging (economical mode: vCPUs and memory released, billing stops, the start may fail).
STOPPED_MODES = ('KeepCharging', 'StopCharging')


def request_stop(client, instance_id, force_stop=False, region=None, stopped_mode='KeepCharging', retry_for=None):
    """StopInstance (no wait). ``stopped_mode``: one of STOPPED_MODES; KeepCharging (standard stop) unless told
    otherwise, so that a later start cannot fail for lack of stock; None leaves it to the cloud (economical mode
    for pay-as-you-go VPC instances where the account enabled it)."""
    params = {'InstanceId': instance_id}
    if force_stop:
        params['ForceStop'] = True
    if stopped_mode:
        params['StoppedMode'] = stopped_mode
    _call_transition(client, 'StopInstance', params, instance_id, ('Stopping', 'Stopped'), region=region,
                     retry_for=retry_for)


def request_start(client, instance_id, region=None, retry_for=None):
    """StartInstance (no wait); transient refusals retried for ``retry_for`` seconds when given."""
    _call_transition(client, 'StartInstance', {'InstanceId': instance_id}, instance_id, ('Starting', 'Running'),
                     region=region, retry_for=retry_for)


def stop_instance(client, instance_id, timeout, force_stop=False, region=None, stopped_mode='KeepCharging'):
    """StopInstance, then wait for Stopped (always: nothing can follow a stop before it). Returns it. Transient
    refusals of the stop are retried within ``timeout``."""
    request_stop(client, instance_id, force_stop=force_stop, region=region, stopped_mode=stopped_mode,
                 retry_for=timeout)
    return wait_instance(client, instance_id, 'Stopped', timeout, region=region, leaving='Running',
                         expected=transition_seconds('force_stop' if force_stop else 'stop'))


def start_instance(client, instance_id, timeout, region=None, wait=True):
    """StartInstance and (when ``wait``) wait for Running. Returns the instance (None when not waiting).
    Transient refusals of the start are retried within ``timeout``."""
    request_start(client, instance_id, region=region, retry_for=timeout)
    if not wait:
        return None
    return wait_instance(client, instance_id, 'Running', timeout, region=region, leaving='Stopped',
                         expected=transition_seconds('start'))


def system_disk_replaced(instance, disk, instance_id, image_id):
    """Has a replacement finished? The instance reports the new image and the new disk is In_use, unlocked."""
    if disk is None or instance is None:
        return False
    return (disk.get('Status') == 'In_use' and disk.get('InstanceId') == instance_id
            and not lock_reasons(disk) and instance.get('ImageId') == image_id and not lock_reasons(instance))


def wait_system_disk_replaced(client, instance_id, disk_id, image_id, timeout, region=None, expected=None):
    """Wait until the new system disk ``disk_id`` is In_use without OperationLocks and the instance reports
    ``image_id``. Returns ``(instance, disk)``. The instance is read only once the disk is ready.
    ``expected``: see wait_instance (``transition_seconds('replace')`` right after ReplaceSystemDisk)."""

    def fetch():
        disk = describe_disk(client, disk_id, region=region)
        if disk is None:  # may not be listed yet (eventual consistency): the missing-object rule
            return None
        instance = None
        if disk.get('Status') == 'In_use' and not lock_reasons(disk):
            instance = describe_instance(client, instance_id, region=region)
        return {'disk': disk, 'instance': instance, 'Status': disk.get('Status')}

    def done(obj):
        return obj is not None and system_disk_replaced(obj['instance'], obj['disk'], instance_id, image_id)

    def failed(obj):
        disk = obj['disk']
        if disk.get('Status') in ('Available',) or (disk.get('InstanceId') and disk['InstanceId'] != instance_id):
            return 'the new system disk %s is %s and not attached to instance %s' % (
                disk_id, disk.get('Status'), instance_id)
        return None

    obj = wait_until(fetch, done, failed=failed, timeout=timeout,
                     what='the new system disk %s of instance %s to be in use' % (disk_id, instance_id),
                     missing_grace=MISSING_GRACE, report=reporter(client, 'instance', instance_id, region),
                     expected=expected)
    return obj['instance'], obj['disk']
