#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to the alicloud.ecs_images collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: ecs_disk_replace
short_description: Replace the system disk of an ECS instance with a public, custom, shared or marketplace image
version_added: 0.1.0
description:
  - Rolls an image onto an existing Alibaba Cloud ECS instance by replacing its system disk (API
    C(ReplaceSystemDisk)). The instance keeps its ID, IP addresses, data disks and identity; the system disk
    gets a new disk ID and the content of the image.
  - Idempotent. An instance that already runs O(image_id) is left alone (V(changed=false), nothing is
    stopped) unless O(force=true).
  - Safe. Everything that can be checked is checked before anything is changed - the image must exist in the
    instance's region and be usable, O(system_disk_size) must fit the image and the current disk, the password
    must follow the cloud's rules - and a Running instance is only stopped when O(stop=true).
  - Sequence. Stop (when asked) and wait for C(Stopped); call C(ReplaceSystemDisk) with a client token (a retry
    after a lost response never replaces twice); wait until the instance reports the new image and the new
    system disk is C(In_use) with no operation locks; start the instance again when it was running (see
    O(start)) and wait for C(Running). If anything fails after the instance was stopped, the error says which
    state the instance was left in.
  - Crash-safe. Before stopping a Running instance that is to be started again, the module tags it
    C(ecs_images:intent=disk_replace;image=<image_id>;was=Running) and removes the tag once the instance runs
    again. When a run is interrupted in between (Ctrl-C, a lost SSH session, a cancelled AWX job), rerunning
    the task finishes the job - it replaces the disk only if that has not happened and starts the instance
    again - so it ends as an uninterrupted run would. A rerun that only has the tag left to remove reports
    V(changed=true).
  - An instance that is C(Starting), C(Stopping) or busy with another operation (for example a replacement
    started earlier with O(wait=false)) is waited for before anything is decided; an instance locked for
    lasting reasons (C(security), C(financial) ...) is refused.
  - One instance per task. To roll an image over many instances, run the task once per host with C(serial)
    (see EXAMPLES).
author:
  - alicloud.ecs_images contributors (@alicloud)
options:
  instance_id:
    description:
      - ID of the instance whose system disk is replaced. The instance must be in the region of the task
        (O(region)).
    type: str
    required: true
  image_id:
    description:
      - The image to put on the system disk - a public (system) image, a custom image of this account, an
        image shared with this account, or a marketplace image.
      - It must exist in the instance's region and be C(Available) or C(Deprecated). Custom images are
        regional; copy one from another region first with M(alicloud.ecs_images.ecs_image_copy).
    type: str
    required: true
  system_disk_size:
    description:
      - Size of the new system disk in GiB.
      - Must be at least 20, at least the image's size and at least the current system disk's size (a system
        disk cannot shrink); at most 500 for C(cloud) disks and 2048 for the other categories. A value that does
        not fit is refused before anything is stopped.
      - Default is the current system disk's size, or the image's size when that is larger.
    type: int
  stop:
    description:
      - Allow the module to stop a Running instance (the system disk can only be replaced while the instance is
        C(Stopped)).
      - With V(false), a Running instance makes the task fail before any change.
    type: bool
    default: false
  force_stop:
    description:
      - Stop the instance forcibly (power off) instead of a clean shutdown. Only used when the module stops the
        instance.
    type: bool
    default: false
  stopped_mode:
    description:
      - How the module stops a Running instance (C(StoppedMode) of C(StopInstance)). Only used when the module
        stops the instance.
      - V(KeepCharging) (standard stop) keeps the instance's vCPUs, memory and public IP address while it is
        stopped, so the start after the replacement cannot fail for lack of stock in the zone; the instance type
        is still billed for those minutes. The cloud documentation advises this mode before a system-disk
        replacement.
      - V(StopCharging) (economical mode, pay-as-you-go VPC instances only) releases vCPUs and memory and stops
        their billing while the instance is stopped, but the start can then fail when the zone has no stock of
        the instance type left (the instance stays Stopped; rerun with O(start=true) later), and a public IP
        address that is not an EIP may change. Without this option the cloud would use economical mode for such
        instances when the account enabled it, which is why the module does not leave it to the cloud.
    type: str
    choices: [KeepCharging, StopCharging]
    default: KeepCharging
  start:
    description:
      - Whether to start the instance after the replacement.
      - Default is to bring the instance back to the state it was in - started again when it was Running,
        left Stopped when it was Stopped.
      - V(true) also starts a Stopped instance that already runs O(image_id) (for example after an earlier run
        failed to start it).
    type: bool
  force:
    description:
      - Replace the system disk even when the instance already runs O(image_id) (re-image it).
    type: bool
    default: false
attributes:
  check_mode:
    support: full
    description: Makes no change and predicts whether a stop, a replacement and a start would happen, in RV(actions).
  diff_mode:
    support: full
    description: Shows the image, status and system disk size of the instance before and after.
notes:
  - O(wait) waits until the replacement has finished and, when the instance is started, until it is C(Running).
    With O(wait=false) the module returns as soon as the last call was accepted; the waits that the next step
    needs are always done (a stopped instance before the replacement, a finished replacement before a start).
    O(wait_timeout) counts for the stop, the replacement and the start together; it also bounds the retries of
    the refusals an instance gives for a short while after a stop, a start or a replacement
    (C(IncorrectInstanceStatus), C(OperationConflict), C(InvalidOperation.Conflict)).
  - How to log in after the replacement - exactly one of O(password), O(key_pair_name) and O(password_inherit)
    is required; O(password_inherit=false) is refused because it does not say how to log in.
  - The data disks, IP addresses, instance ID and tags are kept; everything on the old system disk is lost (the
    old system disk is released by the cloud). Take a snapshot or image first if you need it.
extends_documentation_fragment:
  - alicloud.ecs_images.alicloud
  - alicloud.ecs_images.alicloud.wait
  - alicloud.ecs_images.alicloud.login
'''

EXAMPLES = r'''
- name: Replace the system disk of a stopped instance, log in with a key pair afterwards
  alicloud.ecs_images.ecs_disk_replace:
    region: cn-hangzhou
    instance_id: i-bp1example0000000001
    image_id: m-bp1example0000000002
    key_pair_name: ops-key

- name: Re-image a running instance; it is stopped, replaced and started again
  alicloud.ecs_images.ecs_disk_replace:
    instance_id: i-bp1example0000000001
    image_id: aliyun_3_x64_20G_alibase_20240819.vhd
    password: "{{ vault_root_password }}"
    system_disk_size: 60
    stop: true

- name: Re-image a pay-as-you-go instance stopped in economical mode (cheaper, but the start may find no stock)
  alicloud.ecs_images.ecs_disk_replace:
    instance_id: i-bp1example0000000001
    image_id: m-bp1example0000000002
    key_pair_name: ops-key
    stop: true
    stopped_mode: StopCharging

- name: Keep the password baked into the image; leave the instance stopped
  alicloud.ecs_images.ecs_disk_replace:
    instance_id: i-bp1example0000000001
    image_id: m-bp1example0000000002
    password_inherit: true
    stop: true
    start: false

- name: What would happen? (check mode predicts stop / replace / start)
  alicloud.ecs_images.ecs_disk_replace:
    instance_id: i-bp1example0000000001
    image_id: m-bp1example0000000002
    key_pair_name: ops-key
    stop: true
  check_mode: true
  register: prediction

# Rolling replacement over a whole group: one instance per host, two hosts at a time,
# stop at the first failure. Each host's inventory sets ecs_instance_id and ecs_region.
- name: Roll the new image over the web tier
  hosts: web
  serial: 2
  max_fail_percentage: 0
  gather_facts: false
  module_defaults:
    group/alicloud.ecs_images.ecs:
      region: "{{ ecs_region }}"
  tasks:
    - name: Replace the system disk (stop, replace, start)
      alicloud.ecs_images.ecs_disk_replace:
        instance_id: "{{ ecs_instance_id }}"
        image_id: "{{ new_image_id }}"
        key_pair_name: ops-key
        stop: true
      delegate_to: localhost

    - name: Wait until the host answers again before the next batch starts
      ansible.builtin.wait_for_connection:
        timeout: 600
'''

RETURN = r'''
changed:
  description: Whether the instance was stopped, re-imaged or started.
  returned: always
  type: bool
actions:
  description:
    - What the task did (or, in check mode, would do), in order - C(stop), C(replace), C(start).
    - Empty when nothing was (or would be) changed.
  returned: always
  type: list
  elements: str
  sample: [stop, replace, start]
instance:
  description: The instance after the task (in check mode, the predicted state).
  returned: always
  type: dict
  contains:
    id:
      description: Instance ID.
      type: str
      returned: always
      sample: i-bp1example0000000001
    status:
      description: Instance status (C(Running), C(Stopped) ...).
      type: str
      returned: always
      sample: Running
    image_id:
      description: The image the instance runs.
      type: str
      returned: always
      sample: m-bp1example0000000002
system_disk_id:
  description:
    - ID of the instance's system disk after the task (a replacement creates a new disk).
    - V(null) in check mode when a replacement would happen (the new ID is not known yet).
  returned: always
  type: str
  sample: d-bp1example0000000004
system_disk_size:
  description: Size in GiB of the system disk after the task (in check mode, the predicted size).
  returned: always
  type: int
  sample: 40
previous_system_disk_id:
  description: ID of the system disk before the task (released by the cloud after a replacement).
  returned: always
  type: str
  sample: d-bp1example0000000003
previous_image_id:
  description: The image the instance ran before the task.
  returned: always
  type: str
  sample: centos_7_9_x64_20G_alibase_20240628.vhd
api_calls:
  description: Number of API requests the module sent (retries included); also returned on failure.
  returned: always
  type: int
  sample: 2
'''

import time

from ansible_collections.alicloud.ecs_images.plugins.module_utils.base import AlicloudModule, WAIT_ARGUMENT_SPEC
from ansible_collections.alicloud.ecs_images.plugins.module_utils.client import ApiError
from ansible_collections.alicloud.ecs_images.plugins.module_utils.disk_replace import (
    check_login_options,
    plan_replacement,
)
from ansible_collections.alicloud.ecs_images.plugins.module_utils.images import (
    describe_image, image_regions, image_usable)
from ansible_collections.alicloud.ecs_images.plugins.module_utils.intent import (
    INTENT_TAG, clear_intent, read_intent, record_intent,
)
from ansible_collections.alicloud.ecs_images.plugins.module_utils.instances import (
    describe_instance,
    get_system_disk,
    key_pair_exists,
    request_start,
    request_stop,
    settle_instance,
    STOPPED_MODES,
    transition_seconds,
    wait_instance,
    wait_system_disk_replaced,
)
from ansible_collections.alicloud.ecs_images.plugins.module_utils.login import (
    LOGIN_ARGUMENT_SPEC, LOGIN_MUTUALLY_EXCLUSIVE, LOGIN_OPTIONS, login_params)
from ansible_collections.alicloud.ecs_images.plugins.module_utils.waiters import WaitTimeout, wait_image_usable

INTENT = 'disk_replace'


class Replacer:
    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.region = module.region
        self.client = module.client()
        self.instance_id = self.params['instance_id']
        self.image_id = self.params['image_id']
        self.deadline = time.time() + self.params['wait_timeout']
        self.done = []          # steps whose call was accepted (they changed something): stop, replace, start
        self.step = None        # the step being done
        self.was_status = None  # the instance's status before the first step
        self.new_disk_id = None
        self.intent = None      # what an interrupted earlier run set out to do (its tag on the instance)

    def remaining(self):
        return max(1, int(self.deadline - time.time() + 0.999))

    def read(self):
        instance = describe_instance(self.client, self.instance_id, region=self.region)
        if instance is None:
            self.module.fail('instance_id %s was not found in region %s; set region to the instance\'s region'
                             % (self.instance_id, self.region))
        instance = settle_instance(self.client, instance, self.remaining(), region=self.region)
        self.intent = read_intent(instance, INTENT)
        disk = get_system_disk(self.client, self.instance_id, region=self.region)
        image = None
        extra = {}
        if instance.get('ImageId') != self.image_id or self.params['force']:
            image = describe_image(self.client, self.image_id, region=self.region)
            if image is None:
                extra['other_regions'] = image_regions(self.client, self.image_id, self.region)
            elif self.params['key_pair_name']:
                extra['key_pair_found'] = key_pair_exists(self.client, self.params['key_pair_name'],
                                                          region=self.region)
        return instance, disk, image, extra

    STEP_TEXT = {'stop': 'stopping the instance', 'replace': 'replacing the system disk',
                 'start': 'starting the instance', 'finish': 'removing the %s tag' % INTENT_TAG}

    def state_after_failure(self, was_status):
        """Where the instance was left and what to do (best effort: the read may fail too)."""
        try:
            instance = describe_instance(self.client, self.instance_id, region=self.region)
        except Exception as e:  # pylint: disable=broad-except
            return 'the instance\'s current state could not be read (%s)' % e
        if instance is None:
            return 'instance %s could no longer be found' % self.instance_id
        status = instance.get('Status')
        text = 'instance %s is now %s, running image %s' % (self.instance_id, status, instance.get('ImageId'))
        if 'replace' not in self.done:
            text += '; its system disk was not replaced'
        elif instance.get('ImageId') == self.image_id:
            text += '; the replacement is done (system disk %s)' % self.new_disk_id
        else:
            text += '; the replacement was accepted (new system disk %s) but had not finished' % self.new_disk_id
        if was_status == 'Running' and status != 'Running':
            text += ('; it was Running before this task: rerun the task to finish the job - the instance carries the '
                     '%s tag, so the rerun replaces the disk only if that has not happened and starts the '
                     'instance again' % INTENT_TAG)
        return text

    def failure_state(self, error):
        """For the failure boundary, once a step was accepted: ``(where the instance was left, None)``."""
        if not self.done:
            return None, None
        return 'failed while %s; %s' % (self.STEP_TEXT[self.step], self.state_after_failure(self.was_status)), None

    def restart_after_refusal(self, error):
        """ReplaceSystemDisk was refused after this run stopped the instance (for example an image the cloud
        does not accept, such as one holding data-disk snapshots where that is refused): nothing was replaced,
        so bring the instance back to Running; the caller then raises the refusal to the failure boundary."""
        try:
            request_start(self.client, self.instance_id, region=self.region, retry_for=self.remaining())
            wait_instance(self.client, self.instance_id, 'Running', self.remaining(), region=self.region,
                          leaving='Stopped', expected=transition_seconds('start'))
            clear_intent(self.client, 'instance', self.instance_id, region=self.region)
        except (ApiError, WaitTimeout):   # best effort: the refusal is reported with where the instance was left
            return
        self.done.append('start')
        self.module.failure_state = lambda exc: (
            'the system disk was not replaced; the instance, stopped for it, was started again', None)

    def apply(self, plan, was_status):
        """Stop, replace, start as planned. A failure goes to the failure boundary, which lists the accepted
        calls and adds failure_state (where the instance was left)."""
        wait = self.params['wait']
        instance = None
        disk = None
        self.was_status = was_status
        self.module.failure_extras['actions'] = self.done
        self.module.failure_state = self.failure_state
        if plan['stop'] and plan['start']:
            # Crash-safe intent: a run killed from here on leaves the tag, and the rerun starts the instance
            # again at the end, as this run would have.
            self.step = 'stop'
            record_intent(self.client, 'instance', self.instance_id, INTENT, region=self.region,
                          was='Running', image=self.image_id)
        if plan['stop']:
            self.step = 'stop'
            request_stop(self.client, self.instance_id, force_stop=self.params['force_stop'],
                         stopped_mode=self.params['stopped_mode'], region=self.region, retry_for=self.remaining())
            self.done.append('stop')
            instance = wait_instance(self.client, self.instance_id, 'Stopped', self.remaining(),
                                     region=self.region, leaving='Running', expected=transition_seconds(
                                         'force_stop' if self.params['force_stop'] else 'stop'))
        if plan['replace']:
            self.step = 'replace'
            params = {'InstanceId': self.instance_id, 'ImageId': self.image_id,
                      'SystemDisk.Size': plan['system_disk_size']}
            params.update(login_params(self.params))
            try:
                resp = self.client.call('ReplaceSystemDisk', params, client_token=True, region=self.region,
                                        retry_for=self.remaining())
            except ApiError as err:
                if 'stop' in self.done and plan['start']:
                    self.restart_after_refusal(err)
                raise
            self.new_disk_id = resp.get('DiskId')
            self.done.append('replace')
            if wait or plan['start']:
                instance, disk = wait_system_disk_replaced(self.client, self.instance_id, self.new_disk_id,
                                                           self.image_id, self.remaining(), region=self.region,
                                                           expected=transition_seconds('replace'))
        if plan['start']:
            self.step = 'start'
            request_start(self.client, self.instance_id, region=self.region, retry_for=self.remaining())
            self.done.append('start')
            instance = None
            if wait:
                instance = wait_instance(self.client, self.instance_id, 'Running', self.remaining(),
                                         region=self.region, leaving='Stopped', expected=transition_seconds('start'))
        if self.intent is not None or (plan['stop'] and plan['start']):
            self.step = 'finish'
            clear_intent(self.client, 'instance', self.instance_id, region=self.region)
        if instance is None or not wait:
            instance = describe_instance(self.client, self.instance_id, region=self.region) or {}
        if plan['replace'] and disk is None:
            disk = {'DiskId': self.new_disk_id, 'Size': plan['system_disk_size']}
        return instance, disk

    def run(self):
        msg = check_login_options(self.params)
        if msg:
            self.module.fail(msg)
        if self.params['system_disk_size'] is not None and self.params['system_disk_size'] <= 0:
            self.module.fail('system_disk_size must be a positive number of GiB')
        instance, disk, image, extra = self.read()
        was_running = bool(self.intent) and self.intent.get('was') == 'Running'
        plan = plan_replacement(instance, disk, image, self.params, was_running=was_running, **extra)
        if plan['error']:
            self.module.fail(plan['error'])

        disk = disk or {}
        before = {'image_id': instance.get('ImageId'), 'status': instance.get('Status'),
                  'system_disk_id': disk.get('DiskId'), 'system_disk_size': disk.get('Size')}
        if self.intent is not None and not plan['actions'] and not self.module.check_mode:
            # An interrupted run had finished everything but removing its tag.
            clear_intent(self.client, 'instance', self.instance_id, region=self.region)
        changed = bool(plan['actions']) or self.intent is not None
        if self.module.check_mode or not plan['actions']:
            after = {'image_id': self.image_id if plan['replace'] else before['image_id'],
                     'status': plan['final_status'],
                     'system_disk_id': None if plan['replace'] else before['system_disk_id'],
                     'system_disk_size': plan['system_disk_size'] if plan['replace'] else before['system_disk_size']}
        else:
            if plan['replace'] and not image_usable(image):
                # Available but not yet Usable (the flag lags the status after a create, copy or import): the
                # cloud refuses ReplaceSystemDisk until then. Waited for before anything is stopped.
                wait_image_usable(self.client, self.image_id, self.remaining(), region=self.region)
            final, new_disk = self.apply(plan, instance.get('Status'))
            new_disk = new_disk or disk
            after = {'image_id': final.get('ImageId'), 'status': final.get('Status'),
                     'system_disk_id': new_disk.get('DiskId'), 'system_disk_size': new_disk.get('Size')}
        self.module.exit(
            changed=changed,
            actions=plan['actions'],
            instance={'id': self.instance_id, 'status': after['status'], 'image_id': after['image_id']},
            system_disk_id=after['system_disk_id'],
            system_disk_size=after['system_disk_size'],
            previous_system_disk_id=before['system_disk_id'],
            previous_image_id=before['image_id'],
            diff={'before': before, 'after': after},
        )


def main():
    argument_spec = dict(
        instance_id=dict(type='str', required=True),
        image_id=dict(type='str', required=True),
        system_disk_size=dict(type='int'),
        stop=dict(type='bool', default=False),
        force_stop=dict(type='bool', default=False),
        stopped_mode=dict(type='str', default='KeepCharging', choices=list(STOPPED_MODES)),
        start=dict(type='bool'),
        force=dict(type='bool', default=False),
    )
    argument_spec.update(WAIT_ARGUMENT_SPEC)
    argument_spec.update(LOGIN_ARGUMENT_SPEC)
    module = AlicloudModule(
        argument_spec,
        supports_check_mode=True,
        id_options={'instance_id': 'instance', 'image_id': 'image'},
        mutually_exclusive=LOGIN_MUTUALLY_EXCLUSIVE,
        required_one_of=[LOGIN_OPTIONS],
    )
    module.run(run, module)


def run(module):
    Replacer(module).run()


if __name__ == '__main__':
    main()
