#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to the alicloud.ecs_images collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: ecs_instance_power
short_description: Stop or start an ECS instance and wait for the state (helper of the image roles)
version_added: 0.1.0
description:
  - Helper module of the C(image_bake) role, which stops an instance before baking an image from it (a
    consistent disk) and starts it again afterwards. It is not a general instance management module.
  - Idempotent. An instance already in the requested state is left alone (V(changed=false)). An instance in a
    transitional state (C(Starting), C(Stopping), C(Pending)) is first waited for.
  - Waits follow the instance's real state, stay within O(wait_timeout) and fail at once when the instance falls
    back to the state it was leaving; an instance that disappears fails after a minute. A transitional state is
    always waited for; with O(wait=false) the module returns as soon as the stop or start was accepted.
author:
  - alicloud.ecs_images contributors (@alicloud)
options:
  instance_id:
    description:
      - ID of the instance, in the region of the task (O(region)).
    type: str
    required: true
  state:
    description:
      - V(stopped) stops the instance and waits for C(Stopped).
      - V(running) starts the instance and waits for C(Running).
      - V(restored) undoes a stop made with O(remember=true) - also one made by a run that was interrupted
        since then. When the instance carries the C(ecs_images:intent) tag saying it was C(Running), it is started
        again and the tag is removed. Without the tag nothing is done.
    type: str
    required: true
    choices: [running, stopped, restored]
  remember:
    description:
      - With O(state=stopped), tag a Running instance C(ecs_images:intent=power;was=Running) before stopping
        it, so that a later O(state=restored) - in this run or in a rerun after this run was killed - starts it
        again. The C(image_bake) role uses it so that an interrupted bake never leaves the instance stopped.
    type: bool
    default: false
  force_stop:
    description:
      - Stop without a clean shutdown of the operating system (like pulling the power cord).
    type: bool
    default: false
  stopped_mode:
    description:
      - C(StoppedMode) of the stop. V(KeepCharging) (standard stop) keeps the instance's vCPUs and memory, so a
        later start cannot fail for lack of stock; the instance type is billed while it is stopped.
      - V(StopCharging) (economical mode, pay-as-you-go VPC instances) stops that billing but a later start can
        fail when the zone has no stock left, and a public IP address that is not an EIP may change. Without this
        option the cloud would choose economical mode for such instances when the account enabled it; the
        module stops in standard mode unless told otherwise because the image roles start the instance again.
    type: str
    choices: [KeepCharging, StopCharging]
    default: KeepCharging
extends_documentation_fragment:
  - alicloud.ecs_images.alicloud
  - alicloud.ecs_images.alicloud.wait
attributes:
  check_mode:
    support: full
    description: Makes no change and reports whether a stop or a start would happen.
  diff_mode:
    support: full
    description: Shows the instance's status before and after.
seealso:
  - module: alicloud.ecs_images.ecs_disk_replace
'''

EXAMPLES = r'''
- name: Stop an instance before baking an image from it
  alicloud.ecs_images.ecs_instance_power:
    region: cn-hangzhou
    instance_id: i-bp1example0000000001
    state: stopped

- name: Start it again
  alicloud.ecs_images.ecs_instance_power:
    region: cn-hangzhou
    instance_id: i-bp1example0000000001
    state: running

- name: Stop an instance, remembering that it ran (a rerun after an interrupted play still starts it again)
  alicloud.ecs_images.ecs_instance_power:
    instance_id: i-bp1g6zv0ce8oghu7k5iy
    state: stopped
    remember: true

- name: Start it again if it was stopped with remember (now or by an interrupted earlier run)
  alicloud.ecs_images.ecs_instance_power:
    instance_id: i-bp1g6zv0ce8oghu7k5iy
    state: restored
'''

RETURN = r'''
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
      description: Instance status after the task (with O(wait=false) possibly C(Stopping) or C(Starting)).
      type: str
      returned: always
      sample: Stopped
    region_id:
      description: Region of the instance.
      type: str
      returned: always
      sample: cn-hangzhou
previous_status:
  description: Instance status before the task (after a transitional state settled).
  returned: always
  type: str
  sample: Running
api_calls:
  description: Number of API requests the module sent (retries included).
  returned: always
  type: int
  sample: 4
'''

from ansible_collections.alicloud.ecs_images.plugins.module_utils.base import AlicloudModule, WAIT_ARGUMENT_SPEC
from ansible_collections.alicloud.ecs_images.plugins.module_utils.intent import clear_intent, read_intent, record_intent
from ansible_collections.alicloud.ecs_images.plugins.module_utils.instances import (
    describe_instance, request_stop, settle_instance, start_instance, stop_instance,
)

TARGET = {'running': 'Running', 'stopped': 'Stopped'}
INTENT = 'power'


def main():
    argument_spec = dict(
        instance_id=dict(type='str', required=True),
        state=dict(type='str', required=True, choices=['running', 'stopped', 'restored']),
        remember=dict(type='bool', default=False),
        force_stop=dict(type='bool', default=False),
        stopped_mode=dict(type='str', default='KeepCharging', choices=['KeepCharging', 'StopCharging']),
    )
    argument_spec.update(WAIT_ARGUMENT_SPEC)
    amodule = AlicloudModule(argument_spec, supports_check_mode=True, id_options={'instance_id': 'instance'})
    amodule.run(run, amodule)


def run(amodule):
    p = amodule.params
    instance_id = p['instance_id']
    client = amodule.client()

    def result(status, previous, changed):
        out = dict(instance=dict(id=instance_id, status=status, region_id=amodule.region),
                   previous_status=previous,
                   diff=dict(before=dict(status=previous), after=dict(status=status)))
        amodule.exit(changed, **out)

    instance = describe_instance(client, instance_id)
    if instance is None:
        amodule.fail('instance_id %s does not exist in region %s (instances are regional: set region to the '
                     "instance's region)" % (instance_id, amodule.region))
    if not amodule.check_mode:
        instance = settle_instance(client, instance, p['wait_timeout'])
    current = instance.get('Status')
    intent = read_intent(instance, INTENT)
    if p['state'] == 'restored':
        target = 'Running' if intent and intent.get('was') == 'Running' else current
        if intent is not None and not amodule.check_mode and current == target:
            clear_intent(client, 'instance', instance_id)
    else:
        target = TARGET[p['state']]
    if current == target:
        result(current, current, p['state'] == 'restored' and intent is not None)
    if current not in ('Running', 'Stopped'):
        if amodule.check_mode:
            result(target, current, True)
        amodule.fail('instance %s is %s and cannot be made %s' % (instance_id, current, target))
    if amodule.check_mode:
        result(target, current, True)
    if target == 'Stopped':
        if p['remember'] and current == 'Running':
            record_intent(client, 'instance', instance_id, INTENT, was='Running')
        if p['wait']:
            final = stop_instance(client, instance_id, p['wait_timeout'], force_stop=p['force_stop'],
                                  stopped_mode=p['stopped_mode'])
        else:
            request_stop(client, instance_id, force_stop=p['force_stop'], stopped_mode=p['stopped_mode'])
            final = None
    else:
        final = start_instance(client, instance_id, p['wait_timeout'], wait=p['wait'])
        if intent is not None:
            clear_intent(client, 'instance', instance_id)
    if final is None:   # wait=false: the instance as it is now (Stopping/Starting)
        final = describe_instance(client, instance_id) or {'Status': target}
    result(final.get('Status'), current, True)


if __name__ == '__main__':
    main()
