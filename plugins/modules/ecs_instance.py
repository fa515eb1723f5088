#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to the alicloud.ecs_images collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: ecs_instance
short_description: Launch ECS instances from an image, keep an exact number of them, stop, start and release them
version_added: 0.1.0
description:
  - Ensures that an exact number of Alibaba Cloud ECS instances launched from an image exist in one vSwitch
    (API C(RunInstances)), in the wanted state, and releases them (C(DeleteInstances)). Made for image work -
    proving that an image boots, baking a new image on a builder instance - not as a full instance manager.
  - The instances are the ones whose name is O(name) and that carry every tag of O(tags) (at least one of the two
    is required). O(count) of them are kept; missing ones are launched in one C(RunInstances) call, surplus ones
    are released, newest first.
  - Idempotent. A rerun that finds the instances (by O(name) and O(tags)) in place makes a single read call.
    C(RunInstances) carries a client token that every retry of the call reuses, so a lost answer never launches
    twice.
  - Safe. Before anything changes, the image must exist in the region and be C(Available) (or C(Deprecated)),
    the instance type must run the image's architecture and be offered with stock in the vSwitch's zone, the
    vSwitch must belong to the region and the security groups to its VPC, and the key pair must exist; each
    refusal names the option. An image that reads C(Available) but whose C(Usable) flag still lags (just after
    it was created, copied or imported) is waited for, within O(wait_timeout), before the launch.
author:
  - alicloud.ecs_images contributors (@alicloud)
options:
  state:
    description:
      - V(present) - O(count) instances exist; new ones are started by the cloud and waited for until C(Running),
        existing ones are left in their state.
      - V(running) - as V(present), and stopped instances are started.
      - V(stopped) - as V(present), and running instances are stopped (new ones too, once they have started).
      - V(absent) - every instance of the set is released.
    type: str
    choices: [present, running, stopped, absent]
    default: present
  name:
    description:
      - Name of the instances (C(InstanceName)); identifies the set with O(tags). 2-128 characters, starting with a
        letter. New instances get this name.
    type: str
  tags:
    description:
      - Tags identifying the set (every one must match) and given to new instances. Existing instances' tags are
        not changed.
    type: dict
  count:
    description:
      - Exact number of instances of the set. V(0) releases them all.
      - Default is the number that exists, at least 1.
    type: int
  image_id:
    description:
      - Image to launch from, in the region of the task - a public, custom, shared or marketplace image.
      - Custom images are regional; copy one first with M(alicloud.ecs_images.ecs_image_copy).
      - Mutually exclusive with O(image_family). One of them is required to launch instances.
    type: str
  image_family:
    description:
      - Launch from the newest C(Available) image of this image family (own, shared and public images).
    type: str
  instance_type:
    description:
      - Instance type, for example V(ecs.g7.large) (x86_64) or V(ecs.g8y.large) (arm64). Required to launch.
    type: str
  vswitch_id:
    description:
      - vSwitch of the instances (VPC only); its zone is the instances' zone. Required to launch.
    type: str
  security_group_ids:
    description:
      - Security groups (1-5) of the vSwitch's VPC. Required to launch.
    type: list
    elements: str
  host_name:
    description:
      - Host name of new instances.
    type: str
  description:
    description:
      - Description of new instances.
    type: str
  system_disk_category:
    description:
      - Category of the system disk, for example V(cloud_essd). Default is the cloud's (V(cloud_efficiency)).
    type: str
    choices: [cloud, cloud_efficiency, cloud_ssd, cloud_essd, cloud_auto, cloud_essd_entry]
  system_disk_size:
    description:
      - Size of the system disk in GiB (20-2048, at least the image's size). Default is the larger of 40 and the
        image's size.
    type: int
  data_disks:
    description:
      - Data disks. The data disks in the image's disk mappings are always created (from their snapshots); an entry
        whose O(data_disks[].device) is one of them changes its category or size, other entries add disks.
    type: list
    elements: dict
    suboptions:
      size:
        description: Size in GiB (20-32768).
        type: int
      category:
        description: Disk category (default the system disk's).
        type: str
      snapshot_id:
        description: Snapshot to create the disk from.
        type: str
      device:
        description: Device name, for example V(/dev/xvdb).
        type: str
      name:
        description: Disk name.
        type: str
      delete_with_instance:
        description: Release the disk with the instance.
        type: bool
        default: true
  internet_max_bandwidth_out:
    description:
      - Outbound public bandwidth in Mbit/s (0-100). Above 0 the instances get a public IP address.
    type: int
    default: 0
  internet_charge_type:
    description:
      - How public traffic is charged.
    type: str
    choices: [PayByTraffic, PayByBandwidth]
  instance_charge_type:
    description:
      - Billing of new instances. V(PrePaid) instances cannot be released by this module.
    type: str
    choices: [PostPaid, PrePaid]
    default: PostPaid
  spot_strategy:
    description:
      - Spot (preemptible) instances - V(SpotAsPriceGo) or V(SpotWithPriceLimit) (with O(spot_price_limit)).
    type: str
    choices: [NoSpot, SpotWithPriceLimit, SpotAsPriceGo]
    default: NoSpot
  spot_price_limit:
    description:
      - Highest hourly price for O(spot_strategy=SpotWithPriceLimit).
    type: float
  user_data:
    description:
      - User data (cloud-init) of new instances, plain text; the module encodes it in base64. At most 32 KiB.
    type: str
  resource_group_id:
    description:
      - Resource group of new instances.
    type: str
  force:
    description:
      - Release instances that are not C(Stopped) (C(Running) ones are powered off). Without it, releasing a
        running instance fails before any change.
    type: bool
    default: false
notes:
  - O(wait) waits until new and started instances are C(Running) and stopped ones C(Stopped); O(wait_timeout)
    counts for every wait of the task together.
  - How to log in to new instances - at most one of O(password), O(key_pair_name) and O(password_inherit);
    with none of them, new instances get no password and no key pair (set one later).
  - Supports C(check_mode) (the launch is checked by the cloud with C(DryRun); the result predicts the instances)
    and C(diff_mode) (the instances' ids and states before and after).
  - The result's RV(api_calls) counts the API requests the task sent (a rerun with nothing to do sends one).
extends_documentation_fragment:
  - alicloud.ecs_images.alicloud
  - alicloud.ecs_images.alicloud.wait
  - alicloud.ecs_images.alicloud.login
'''

EXAMPLES = r'''
- name: One throwaway instance to prove that the new image boots
  alicloud.ecs_images.ecs_instance:
    region: cn-hangzhou
    name: validate-golden-20260101
    tags:
      purpose: image-validation
    image_id: m-bp1example0000000001
    instance_type: ecs.g7.large
    vswitch_id: vsw-bp1example000000001
    security_group_ids: [sg-bp1example000000001]
    key_pair_name: ops-key
    internet_max_bandwidth_out: 5
    state: running
  register: probe

- name: Three web servers from the newest image of the family
  alicloud.ecs_images.ecs_instance:
    name: web
    tags: {tier: web}
    count: 3
    image_family: golden-web
    instance_type: ecs.g8y.large
    vswitch_id: vsw-bp1example000000001
    security_group_ids: [sg-bp1example000000001]
    password: "{{ vault_root_password }}"
    system_disk_category: cloud_essd
    system_disk_size: 60

- name: Release them (running ones too)
  alicloud.ecs_images.ecs_instance:
    name: web
    tags: {tier: web}
    state: absent
    force: true
'''

RETURN = r'''
changed:
  description: Whether instances were launched, started, stopped or released.
  returned: always
  type: bool
instances:
  description: The instances of the set after the task (in check mode, predicted; new ones have no id).
  returned: always
  type: list
  elements: dict
  contains:
    instance_id: {description: Instance id (V(null) for a predicted one)., type: str, returned: always}
    name: {description: Instance name., type: str, returned: always}
    host_name: {description: Host name., type: str, returned: always}
    status: {description: C(Pending) C(Starting) C(Running) C(Stopping) C(Stopped)., type: str, returned: always}
    image_id: {description: The image the instance runs., type: str, returned: always}
    instance_type: {description: Instance type., type: str, returned: always}
    region_id: {description: Region., type: str, returned: always}
    zone_id: {description: Zone., type: str, returned: always}
    vpc_id: {description: VPC., type: str, returned: always}
    vswitch_id: {description: vSwitch., type: str, returned: always}
    private_ip_address: {description: Private IP address in the vSwitch., type: str, returned: always}
    public_ip_address: {description: Public IP address (or EIP) or V(null)., type: str, returned: always}
    security_group_ids: {description: Security groups., type: list, elements: str, returned: always}
    key_pair_name: {description: SSH key pair or V(null)., type: str, returned: always}
    instance_charge_type: {description: C(PostPaid) or C(PrePaid)., type: str, returned: always}
    spot_strategy: {description: Spot strategy., type: str, returned: always}
    internet_max_bandwidth_out: {description: Public bandwidth (Mbit/s)., type: int, returned: always}
    creation_time: {description: Creation time (UTC)., type: str, returned: always}
    tags: {description: Tags., type: dict, returned: always}
instance_ids:
  description: Ids of RV(instances) (known ones).
  returned: always
  type: list
  elements: str
launched:
  description: Ids of the instances launched by the task (in check mode, the number is in RV(actions)).
  returned: always
  type: list
  elements: str
released:
  description: Ids of the instances released (or, in check mode, to be released).
  returned: always
  type: list
  elements: str
actions:
  description: What was (or would be) done, for example V(launch 2), V(stop i-...), V(release i-...).
  returned: always
  type: list
  elements: str
image_id:
  description: The image new instances are launched from (resolved from O(image_family)); V(null) when none were.
  returned: always
  type: str
api_calls:
  description: Number of API requests the task sent (retries included).
  returned: always
  type: int
elapsed_seconds:
  description: Seconds the task took, waits included (for a launch with O(wait=true), the time until the new
    instances were C(Running)).
  returned: always
  type: float
'''

import json
import time
import uuid

from ansible_collections.alicloud.ecs_images.plugins.module_utils.base import AlicloudModule, WAIT_ARGUMENT_SPEC
from ansible_collections.alicloud.ecs_images.plugins.module_utils.client import ApiError
from ansible_collections.alicloud.ecs_images.plugins.module_utils.images import describe_image, image_usable, list_images
from ansible_collections.alicloud.ecs_images.plugins.module_utils.instance_launch import (
    blocked_releases, check_architecture, check_image, check_network, check_options, check_stock, client_token,
    describe_filters, matches, normalize_instance, pick_family_image, plan, predicted_instance, run_params,
)
from ansible_collections.alicloud.ecs_images.plugins.module_utils.instances import (
    describe_instances, key_pair_exists, request_start, request_stop, transition_seconds,
)
from ansible_collections.alicloud.ecs_images.plugins.module_utils.login import (
    LOGIN_ARGUMENT_SPEC, LOGIN_MUTUALLY_EXCLUSIVE)
from ansible_collections.alicloud.ecs_images.plugins.module_utils.validation import OptionError, check_name, check_tags
from ansible_collections.alicloud.ecs_images.plugins.module_utils.waiters import (
    reporter_each, wait_image_usable, wait_until,
)


class InstanceSet:
    def __init__(self, mod):
        self.mod = mod
        self.p = mod.params
        self.region = mod.region
        self.client = mod.client()
        self.started = time.time()
        self.deadline = self.started + (self.p['wait_timeout'] or 600)
        self.actions = []
        self.fresh = set()      # ids whose last read (by a wait) is newer than this run's last write to them

    def remaining(self):
        return max(1, int(self.deadline - time.time() + 0.999))

    # ------------------------------------------------------------------ reads
    def read_set(self):
        items = self.client.paginate('DescribeInstances', describe_filters(self.p['name'], self.p['tags']),
                                     ('Instances', 'Instance'), region=self.region)
        return [i for i in items if matches(i, self.p['name'], self.p['tags'])]

    def read_ids(self, ids):
        return dict((item['InstanceId'], item) for item in describe_instances(self.client, ids, region=self.region))

    def resolve_image(self):
        p = self.p
        if p['image_id']:
            image = describe_image(self.client, p['image_id'], region=self.region)
            check_image(image, p['image_id'], 'image_id', self.region)
            return image
        images = []
        for owner in ('self', 'system', 'others'):
            images.extend(list_images(self.client, {'ImageFamily': p['image_family'], 'Status': 'Available',
                                                    'ImageOwnerAlias': owner}, region=self.region))
        image = pick_family_image(images, p['image_family'])
        if image is None:
            raise OptionError('option image_family: no Available image of family %r in region %s; %s'
                              % (p['image_family'], self.region, 'copy or create one first (alicloud.ecs_images.'
                                                                 'ecs_image_copy, alicloud.ecs_images.ecs_image)'),
                              'image_family')
        check_image(image, image.get('ImageId'), 'image_family', self.region)
        return image

    def check_launch(self):
        """Every refusal a launch can meet, before any change. Returns (image, vswitch)."""
        p = self.p
        for option in ('instance_type', 'vswitch_id', 'security_group_ids'):
            if not p[option]:
                raise OptionError('option %s is required to launch instances' % option, option)
        if not (p['image_id'] or p['image_family']):
            raise OptionError('one of image_id and image_family is required to launch instances', 'image_id')
        image = self.resolve_image()
        types = self.client.call('DescribeInstanceTypes', {'InstanceTypes': [p['instance_type']]},
                                 region=self.region)
        info = [t for t in (types.get('InstanceTypes') or {}).get('InstanceType') or []
                if t.get('InstanceTypeId') == p['instance_type']]
        check_architecture(image, info[0] if info else None, p['instance_type'])
        resp = self.client.call('DescribeVSwitches', {'VSwitchId': p['vswitch_id']}, region=self.region)
        vswitches = [v for v in (resp.get('VSwitches') or {}).get('VSwitch') or []
                     if v.get('VSwitchId') == p['vswitch_id']]
        vswitch = vswitches[0] if vswitches else None
        groups = []
        if vswitch is not None:
            resp = self.client.call('DescribeSecurityGroups',
                                    {'SecurityGroupIds': json.dumps(p['security_group_ids']), 'PageSize': 50},
                                    region=self.region)
            groups = (resp.get('SecurityGroups') or {}).get('SecurityGroup') or []
        check_network(vswitch, p['vswitch_id'], groups, p['security_group_ids'], self.region)
        resp = self.client.call('DescribeAvailableResource', {
            'DestinationResource': 'InstanceType', 'ZoneId': vswitch.get('ZoneId'),
            'InstanceType': p['instance_type'], 'InstanceChargeType': p['instance_charge_type'],
            'SpotStrategy': p['spot_strategy']}, region=self.region)
        check_stock((resp.get('AvailableZones') or {}).get('AvailableZone') or [], vswitch.get('ZoneId'),
                    p['instance_type'])
        if p['key_pair_name'] and not key_pair_exists(self.client, p['key_pair_name'], region=self.region):
            raise OptionError('option key_pair_name: key pair %r was not found in region %s'
                              % (p['key_pair_name'], self.region), 'key_pair_name')
        return image, vswitch

    # ------------------------------------------------------------------ waits
    def wait_for(self, ids, statuses, what, expected=None, requested=None):
        """Wait until every instance in ``ids`` has a status in ``statuses``; returns {id: raw}. ``expected``:
        the transition this run requested (instances.TRANSITION_SECONDS key), if any, at ``requested``
        (time.monotonic(); default: now)."""
        ids = list(ids)
        seen = set()

        def fetch():
            found = self.read_ids(ids)
            self.fresh.update(found)
            return found

        def done(found):
            return all(i in found and found[i].get('Status') in statuses for i in ids)

        def failed(found):
            # a new instance not listed yet is waited for until the timeout (the engine's missing-object rule);
            # one that was listed and is gone was released by someone else
            for iid in ids:
                if iid in found:
                    seen.add(iid)
                elif iid in seen:
                    return 'instance %s no longer exists' % iid
            return None

        return wait_until(fetch, done, failed=failed, timeout=self.remaining(),
                          what='instance(s) %s to be %s' % (', '.join(ids), what),
                          report=reporter_each(self.mod, 'instance', self.region),
                          expected=transition_seconds(expected, requested) if expected else None)

    def settle(self, instances):
        """Wait until the given instances are Running or Stopped (a launch, stop or start in progress)."""
        moving = [i['InstanceId'] for i in instances if i.get('Status') not in ('Running', 'Stopped')]
        if not moving:
            return dict((i['InstanceId'], i) for i in instances)
        found = self.wait_for(moving, ('Running', 'Stopped'), 'Running or Stopped')
        out = dict((i['InstanceId'], i) for i in instances)
        out.update(found)
        return out

    # ------------------------------------------------------------------ apply
    def apply(self, todo, image, existing):
        p = self.p
        wait = p['wait']
        launched, released = [], []
        current = dict((i['InstanceId'], i) for i in todo['keep'])
        if todo['release']:
            settled = self.settle(todo['release'])
            blocked = blocked_releases(list(settled.values()), p['force'])
            if blocked:   # a launch that finished while we waited: Running now
                raise OptionError('option force: instance(s) %s are %s; set force: true to release them'
                                  % (', '.join(i['InstanceId'] for i in blocked), blocked[0].get('Status')), 'force')
            ids = [i['InstanceId'] for i in todo['release']]
            for start in range(0, len(ids), 100):
                chunk = ids[start:start + 100]
                params = {'InstanceId': chunk, 'Force': True if p['force'] else None}
                try:
                    self.client.call('DeleteInstances', params, client_token=True, region=self.region)
                except ApiError as err:
                    if err.code != 'InvalidInstanceId.NotFound' or err.attempts < 2:
                        raise
                released.extend(chunk)
                self.actions.extend('release %s' % i for i in chunk)
        if todo['launch']:
            image_id = image['ImageId']
            if not image_usable(image):
                # Available but not yet Usable (the flag lags the status after a create, copy or import): the
                # cloud refuses RunInstances until then
                image = wait_image_usable(self.client, image_id, self.remaining(), region=self.region)
            params = run_params(p, image_id, todo['launch'])
            token = client_token(self.region, p, image_id, [i['InstanceId'] for i in existing], todo['launch'],
                                 uuid.uuid4().hex)
            resp = self.client.call('RunInstances', params, client_token=token, region=self.region)
            launched = list((resp.get('InstanceIdSets') or {}).get('InstanceIdSet') or [])
            self.actions.append('launch %d' % len(launched))
            if wait or p['state'] == 'stopped':
                current.update(self.wait_for(launched, ('Running',), 'Running', expected='launch'))
            else:
                current.update(dict((i, {'InstanceId': i, 'Status': 'Pending'}) for i in launched))
        to_stop = [i['InstanceId'] for i in todo['stop']]
        if p['state'] == 'stopped':
            to_stop += launched
        to_start = [i['InstanceId'] for i in todo['start']]
        if to_stop or to_start:
            current.update(self.settle([current[i] for i in to_stop + to_start]))
        requested = time.monotonic()
        stopped, started = [], []
        for iid in to_stop:
            if current[iid].get('Status') == 'Running':
                request_stop(self.client, iid, region=self.region)
                stopped.append(iid)
                self.actions.append('stop %s' % iid)
        for iid in to_start:
            if current[iid].get('Status') == 'Stopped':
                request_start(self.client, iid, region=self.region)
                started.append(iid)
                self.actions.append('start %s' % iid)
        self.fresh.difference_update(stopped + started)
        if wait and to_stop:
            current.update(self.wait_for(to_stop, ('Stopped',), 'Stopped', expected='stop' if stopped else None,
                                         requested=requested))
        if wait and to_start:
            current.update(self.wait_for(to_start, ('Running',), 'Running', expected='start' if started else None,
                                         requested=requested))
        # the final state of what this run changed: read again only what no wait has just read (wait: false)
        unread = [i for i in launched + to_stop + to_start if i not in self.fresh]
        if unread:
            current.update(self.read_ids(unread))
        return [current[i] for i in sorted(current, key=lambda x: (current[x].get('CreationTime') or '', x))], \
            launched, released

    # ------------------------------------------------------------------ main
    def run(self):
        p = self.p
        check_options(p)
        check_name(self.mod, 'name', p['name'])
        check_tags(self.mod, p['tags'])
        existing = self.read_set()
        todo = plan(existing, p)
        # Pending/Starting/Stopping ones are waited for first; Running ones need force
        blocked = [i for i in blocked_releases(todo['release'], p['force']) if i.get('Status') == 'Running']
        if blocked:
            raise OptionError('option force: %d instance(s) to release are not Stopped (%s); set force: true to '
                              'release them anyway, or stop them first (state: stopped)'
                              % (len(blocked), ', '.join('%s %s' % (i['InstanceId'], i.get('Status'))
                                                         for i in blocked)), 'force')
        if any(i.get('InstanceChargeType') == 'PrePaid' for i in todo['release']):
            raise OptionError('option count/state: subscription (PrePaid) instances cannot be released by this module: '
                              '%s' % ', '.join(i['InstanceId'] for i in todo['release']
                                               if i.get('InstanceChargeType') == 'PrePaid'), 'state')
        image, vswitch = None, None
        if todo['launch']:
            image, vswitch = self.check_launch()
        before = [normalize_instance(i) for i in existing]
        changed = bool(todo['launch'] or todo['release'] or todo['start'] or todo['stop'])
        if self.mod.check_mode or not changed:
            if todo['launch'] and self.mod.check_mode:
                self.dry_run(image, existing, todo['launch'])
            after, launched = self.predict(todo, image, vswitch)
            released = [i['InstanceId'] for i in todo['release']]
            self.actions = (['launch %d' % todo['launch']] if todo['launch'] else []) + \
                ['release %s' % i for i in released] + ['stop %s' % i['InstanceId'] for i in todo['stop']] + \
                ['start %s' % i['InstanceId'] for i in todo['start']]
        else:
            raw_after, launched, released = self.apply(todo, image, existing)
            after = [normalize_instance(i) for i in raw_after]
        self.mod.exit(
            changed=changed, instances=after, instance_ids=[i['instance_id'] for i in after if i['instance_id']],
            launched=launched, released=released, actions=self.actions,
            image_id=image.get('ImageId') if image else None, api_calls=self.mod.api_calls,
            elapsed_seconds=round(time.time() - self.started, 1),
            diff={'before': {'instances': [dict(id=i['instance_id'], status=i['status'], image_id=i['image_id'])
                                           for i in before]},
                  'after': {'instances': [dict(id=i['instance_id'], status=i['status'], image_id=i['image_id'])
                                          for i in after]}})

    def dry_run(self, image, existing, amount):
        params = run_params(self.p, image['ImageId'], amount)
        params['DryRun'] = True
        try:
            self.client.call('RunInstances', params, region=self.region)
        except ApiError as err:
            # an image whose Usable flag still lags is refused now; the real run waits for it (apply)
            if err.code != 'DryRunOperation' and not (err.code == 'IncorrectImageStatus' and not image_usable(image)):
                raise

    def predict(self, todo, image, vswitch):
        state = self.p['state']
        after = []
        for raw in todo['keep']:
            item = normalize_instance(raw)
            if raw in todo['start']:
                item['status'] = 'Running'
            elif raw in todo['stop']:
                item['status'] = 'Stopped'
            after.append(item)
        if todo['launch']:
            status = 'Stopped' if state == 'stopped' else ('Running' if self.p['wait'] else 'Pending')
            for _n in range(todo['launch']):
                after.append(predicted_instance(self.p, image['ImageId'], self.region, vswitch.get('ZoneId'),
                                                vswitch.get('VpcId'), status))
        return after, []


def main():
    argument_spec = dict(
        state=dict(type='str', default='present', choices=['present', 'running', 'stopped', 'absent']),
        name=dict(type='str'),
        tags=dict(type='dict'),
        count=dict(type='int'),
        image_id=dict(type='str'),
        image_family=dict(type='str'),
        instance_type=dict(type='str'),
        vswitch_id=dict(type='str'),
        security_group_ids=dict(type='list', elements='str'),
        host_name=dict(type='str'),
        description=dict(type='str'),
        system_disk_category=dict(type='str', choices=['cloud', 'cloud_efficiency', 'cloud_ssd', 'cloud_essd',
                                                       'cloud_auto', 'cloud_essd_entry']),
        system_disk_size=dict(type='int'),
        data_disks=dict(type='list', elements='dict', options=dict(
            size=dict(type='int'),
            category=dict(type='str'),
            snapshot_id=dict(type='str'),
            device=dict(type='str'),
            name=dict(type='str'),
            delete_with_instance=dict(type='bool', default=True),
        )),
        internet_max_bandwidth_out=dict(type='int', default=0),
        internet_charge_type=dict(type='str', choices=['PayByTraffic', 'PayByBandwidth']),
        instance_charge_type=dict(type='str', default='PostPaid', choices=['PostPaid', 'PrePaid']),
        spot_strategy=dict(type='str', default='NoSpot', choices=['NoSpot', 'SpotWithPriceLimit', 'SpotAsPriceGo']),
        spot_price_limit=dict(type='float'),
        user_data=dict(type='str'),
        resource_group_id=dict(type='str'),
        force=dict(type='bool', default=False),
    )
    argument_spec.update(WAIT_ARGUMENT_SPEC)
    argument_spec.update(LOGIN_ARGUMENT_SPEC)
    mod = AlicloudModule(
        argument_spec,
        supports_check_mode=True,
        mutually_exclusive=[('image_id', 'image_family')] + LOGIN_MUTUALLY_EXCLUSIVE,
        required_if=[('spot_strategy', 'SpotWithPriceLimit', ['spot_price_limit'])],
    )
    mod.run(run, mod)


def run(mod):
    worker = InstanceSet(mod)
    mod.failure_extras['actions'] = worker.actions    # the failure boundary reports them with the writes
    worker.run()


if __name__ == '__main__':
    main()
