#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) alicloud.ecs_images contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: ecs_image_copy
short_description: Copy a custom ECS image to several regions at once, or remove its copies
version_added: 0.1.0
description:
  - Copies a custom image of the account to one or more destination regions with CopyImage, all regions at the
    same time, and waits for every copy concurrently, so ten regions take about as long as the slowest one.
  - Idempotent per region. A destination region that already holds an image of the account named O(name), in
    any status, is left alone; only the regions without one are copied. When that image is still being
    copied, the module waits for it instead of starting another copy.
  - With O(state=absent), copies still in progress are cancelled (CancelCopyImage) and finished copies are
    deleted, in the listed regions only. Images that were not made by CopyImage are never deleted.
  - Before any change the module refuses, with a message naming the option, a source image that is not an
    C(Available) custom image of the account, a destination region that does not exist, the source region as
    a destination, an ambiguous name and a failed copy left in a destination region. The regions are listed
    (DescribeRegions) only when a destination holds no copy yet, so a rerun with nothing to do skips it.
  - O(wait) waits until every copy is C(Available) (O(state=present)) or gone (O(state=absent)); with
    O(wait=false) the module returns as soon as the copies are started or cancelled. O(wait_timeout) counts
    for all regions together. While waiting, the module estimates from the reported progress when each copy
    will finish and polls shortly after that moment (see O(wait)).
author:
  - alicloud.ecs_images contributors (@alicloud)
options:
  image_id:
    description:
      - ID of the source image, a custom image of the account in O(source_region).
    type: str
    required: true
  source_region:
    description:
      - Region of the source image. Defaults to the module's O(region).
    type: str
  destination_regions:
    description:
      - Regions that must hold a copy (O(state=present)) or must not (O(state=absent)).
      - A single region may be given as a string. Duplicates are ignored.
    type: list
    elements: str
    required: true
    aliases: [destination_region]
  name:
    description:
      - Name of the copies; the idempotency key in every destination region (images of the account, every
        status).
      - Defaults to the name of the source image.
      - 2 to 128 characters, starting with a letter; letters, digits, C(.), C(:), C(_) and C(-).
    type: str
  description:
    description:
      - Description of new copies (2 to 256 characters). Not changed on existing copies.
    type: str
  encrypted:
    description:
      - Whether new copies are encrypted. Not changed on existing copies.
    type: bool
  kms_key_id:
    description:
      - KMS key used to encrypt new copies. Requires O(encrypted=true).
    type: str
  tags:
    description:
      - Tags of the copies. New copies are created with them; existing copies are updated to match.
      - When not set, the tags of existing copies are left alone and new copies get none.
    type: dict
  purge_tags:
    description:
      - Remove tags of existing copies that are not in O(tags). Only used when O(tags) is set, so O(tags={})
        with O(purge_tags=true) removes every tag.
    type: bool
    default: true
  resource_group_id:
    description:
      - Resource group of new copies. Not changed on existing copies.
    type: str
  delete_snapshots:
    description:
      - With O(state=absent), also delete the snapshots of each deleted copy (a finished copy has its own
        snapshots in its region, and they keep costing money after the image is gone).
      - Snapshots still used by another image or by a disk are kept, with a warning.
      - Check mode does not predict which snapshots would be deleted.
    type: bool
    default: false
  state:
    description:
      - C(present) makes every destination region hold a copy; C(absent) cancels or deletes the copies there.
    type: str
    choices: [present, absent]
    default: present
extends_documentation_fragment:
  - alicloud.ecs_images.alicloud
  - alicloud.ecs_images.alicloud.wait
attributes:
  check_mode:
    support: full
    description: Makes no write call and predicts exactly which regions gain a copy, have a copy cancelled or
      deleted, or have their tags changed. A region that would gain a copy is returned with C(null).
  diff_mode:
    support: full
    description: Shows the copy of each destination region (image id, name and tags) before and after.
notes:
  - C(CopyImage) carries a client token reused on every retry, so a lost response never starts a second copy;
    a rerun finds a copy by its name in any status.
  - Copying an image costs snapshot storage in every destination region.
seealso:
  - module: alicloud.ecs_images.ecs_image_info
  - module: alicloud.ecs_images.ecs_image_share
'''

EXAMPLES = r'''
- name: Copy the golden image to three regions and wait for all copies
  alicloud.ecs_images.ecs_image_copy:
    region: cn-hangzhou
    image_id: m-bp1g7004ksh0oeuc0000
    destination_regions: [cn-beijing, cn-shanghai, cn-shenzhen]
    tags:
      team: platform
  register: copies

- name: Show the image id of the Beijing copy
  ansible.builtin.debug:
    msg: "{{ copies.images['cn-beijing'].image_id }}"

- name: Start an encrypted copy under another name and return at once
  alicloud.ecs_images.ecs_image_copy:
    image_id: m-bp1g7004ksh0oeuc0000
    source_region: cn-hangzhou
    destination_regions: cn-hongkong
    name: golden-encrypted
    encrypted: true
    kms_key_id: 0e478b7a-4262-4802-b8cb-00d3fb40xxxx
    wait: false

- name: Remove the copies (cancels those still being copied)
  alicloud.ecs_images.ecs_image_copy:
    image_id: m-bp1g7004ksh0oeuc0000
    destination_regions: [cn-beijing, cn-shanghai, cn-shenzhen]
    state: absent
'''

RETURN = r'''
source_image:
  description: The source image (normalised image model, see M(alicloud.ecs_images.ecs_image_info)).
  returned: always
  type: dict
  sample: {"image_id": "m-bp1g7004ksh0oeuc0000", "name": "golden", "status": "Available"}
images:
  description:
    - The copy in each destination region after the task, keyed by region id (normalised image model with
      C(image_id), C(name), C(status), C(progress), C(region_id), C(is_copied), C(tags), ...).
    - C(null) for a region without a copy, that is after O(state=absent), or in check mode for a region that
      would gain a copy.
  returned: always
  type: dict
  sample: {"cn-beijing": {"image_id": "m-2ze0000000000000", "status": "Available", "progress": 100,
           "region_id": "cn-beijing", "is_copied": true, "tags": {"team": "platform"}}}
copied_regions:
  description: Regions where a copy was started (in check mode, would be started).
  returned: always
  type: list
  elements: str
  sample: [cn-beijing, cn-shanghai]
in_progress_regions:
  description:
    - Regions where a copy started earlier was still in progress when the module ran; the module waited for it
      with O(wait=true) and did not start another one.
  returned: always
  type: list
  elements: str
  sample: []
tagged_regions:
  description: Regions whose existing copy had its tags changed (in check mode, would have).
  returned: always
  type: list
  elements: str
  sample: []
cancelled_regions:
  description: Regions where a copy in progress was cancelled (O(state=absent)).
  returned: always
  type: list
  elements: str
  sample: []
deleted_regions:
  description: Regions where a finished copy was deleted (O(state=absent)).
  returned: always
  type: list
  elements: str
  sample: []
deleted_snapshots:
  description: Snapshots deleted with the copies (O(delete_snapshots=true)), keyed by region id.
  returned: always
  type: dict
  sample: {"cn-beijing": ["s-2ze0000000000001"]}
api_calls:
  description: Number of API requests the module sent (retries included).
  returned: always
  type: int
  sample: 12
'''

import threading
import time

from ansible_collections.alicloud.ecs_images.plugins.module_utils.base import AlicloudModule, WAIT_ARGUMENT_SPEC
from ansible_collections.alicloud.ecs_images.plugins.module_utils.client import ApiError
from ansible_collections.alicloud.ecs_images.plugins.module_utils.distribute import (
    copy_params, normalize_regions, plan_copy_absent, plan_copy_present, region_errors, unproven_regions)
from ansible_collections.alicloud.ecs_images.plugins.module_utils.image_snapshots import (
    delete_image_snapshots, image_snapshot_ids)
from ansible_collections.alicloud.ecs_images.plugins.module_utils.images import (
    FAILED_STATUSES, IN_FLIGHT_STATUSES, describe_image, find_images_by_name, image_usable, normalize_image)
from ansible_collections.alicloud.ecs_images.plugins.module_utils.regions import region_ids
from ansible_collections.alicloud.ecs_images.plugins.module_utils.tags import apply_tags, diff_tags, merged_tags
from ansible_collections.alicloud.ecs_images.plugins.module_utils.validation import (
    check_description, check_name, check_tags)
from ansible_collections.alicloud.ecs_images.plugins.module_utils.waiters import (
    WaitTimeout, image_progress, reporter, wait_image_gone, wait_image_usable, wait_until)


def run_parallel(func, regions):
    """Run func(region) in one thread per region. Returns {region: (result, exception)}."""
    results = {}

    def runner(region):
        try:
            results[region] = (func(region), None)
        except Exception as exc:  # reported per region by the caller
            results[region] = (None, exc)

    threads = [threading.Thread(target=runner, args=(region,), name='copy-%s' % region) for region in regions]
    for thread in threads:
        thread.daemon = True
        thread.start()
    for thread in threads:
        thread.join()
    return results


def with_region(image, region):
    """DescribeImages has the region at the top of the answer, not in each image: fill it in."""
    if image is not None and not image.get('region_id'):
        image = dict(image, region_id=region)
    return image


def progress_of(image):
    """Copy progress in percent: the image's Progress, else the slowest disk's."""
    value = image_progress(image)
    return int(value) if value is not None else None


class CopyRun:
    def __init__(self, amodule):
        self.m = amodule
        p = amodule.params
        self.p = p
        self.state = p['state']
        self.source_region = p['source_region'] or amodule.region
        self.regions = normalize_regions(p['destination_regions'])
        self.deadline = time.time() + p['wait_timeout']
        self.source = None
        self.name = p['name']
        self.plan = {}
        self.clients = {}
        self.latest = {}       # region -> latest image seen while applying
        self.deleted_snapshots = {}
        self.warnings = []

    # ------------------------------------------------------------------ read + refuse
    def validate_options(self):
        p = self.p
        if p['name'] is not None:
            check_name(self.m, 'name', p['name'])
        if p['description'] is not None:
            check_description(self.m, 'description', p['description'])
        if p['tags']:
            check_tags(self.m, p['tags'])
        if p['kms_key_id'] and not p['encrypted']:
            self.m.fail('kms_key_id requires encrypted=true')
        if not self.source_region:
            self.m.fail('source_region: no region given (set source_region or region)')

    def read_source(self):
        client = self.m.client(self.source_region)
        raw = describe_image(client, self.p['image_id'], region=self.source_region)
        self.source = with_region(normalize_image(raw), self.source_region)
        self.source_raw = raw
        if self.state == 'present':
            if raw is None:
                self.m.fail('image_id: image %s does not exist in region %s (custom images are regional; set '
                            'source_region to the region that holds it)' % (self.p['image_id'], self.source_region))
            if self.source['owner_alias'] != 'self':
                self.m.fail('image_id: image %s is not a custom image of this account (owner alias %s); only '
                            'the account\'s own images can be copied to other regions'
                            % (self.p['image_id'], self.source['owner_alias']))
            if self.source['status'] != 'Available':
                self.m.fail('image_id: image %s is %s, not Available; only Available images can be copied'
                            % (self.p['image_id'], self.source['status']))
        if self.name is None:
            if raw is None:
                self.m.fail('name: image %s does not exist in region %s, so its name is unknown; set name to '
                            'find the copies' % (self.p['image_id'], self.source_region))
            self.name = self.source['name']

    def check_regions(self):
        """Refuse destinations that cannot be used (DescribeRegions: whether they exist)."""
        known = set(region_ids(self.m.client(self.source_region)))
        errors = region_errors(self.source_region, self.regions, known)
        if errors:
            self.m.fail('; '.join(errors))

    def read_destinations(self):
        for region in self.regions:          # clients are created here, one per region and thread
            self.clients[region] = self.m.client(region)

        def read(region):
            raws = find_images_by_name(self.clients[region], self.name, owner='self', region=region)
            return [normalize_image(r) for r in raws]

        results = run_parallel(read, self.regions)
        # A region where an image of that name was found obviously exists: DescribeRegions is only needed for the
        # others (no image, or the read failed), so a rerun where every region holds its copy skips it.
        found = dict((region, (results[region][0] or [None])[0]) for region in self.regions)
        if unproven_regions(found):
            self.check_regions()
        failures = [(region, results[region][1]) for region in self.regions if results[region][1] is not None]
        if failures:
            self.m.fail_from(failures[0][1], failures=failures, source_image=self.source)
        errors = []
        for region in self.regions:
            planner = plan_copy_present if self.state == 'present' else plan_copy_absent
            action, image, error = planner(region, self.name, results[region][0])
            if error:
                errors.append(error)
            self.plan[region] = {'action': action, 'image': image}
        if errors:
            self.m.fail('nothing was changed: ' + '; '.join(errors), source_image=self.source)
        if self.state == 'present' and self.p['tags'] is not None:
            for region, item in self.plan.items():
                if item['image'] is not None:
                    item['tags'] = diff_tags(item['image']['tags'], self.p['tags'], self.p['purge_tags'])

    # ------------------------------------------------------------------ apply (one thread per region)
    def remaining(self):
        return max(0.0, self.deadline - time.time())

    def wait_copy(self, region, image_id, image=None, find=None):
        """Wait for the copy to be Available (the waiter engine). ``image``: the copy as last read (None: not
        listed yet); ``find``: fetch the copy another way (by name) when its id is unknown."""
        client = self.clients[region]

        def fetch():
            if find is not None:
                return find()
            return with_region(normalize_image(describe_image(client, image_id, region=region)), region)

        def failed(obj):
            if obj['status'] in FAILED_STATUSES:
                return 'copy %s in region %s is %s' % (obj['image_id'], region, obj['status'])
            return None

        return wait_until(fetch, lambda obj: obj is not None and obj['status'] == 'Available', failed,
                          self.remaining(), 'copy %s in region %s to be Available' % (image_id or self.name, region),
                          progress=progress_of, first_object=image,
                          report=reporter(client, 'copy', image_id or self.name, region))

    def copy_image(self, client, params):
        """CopyImage. Where the cloud refuses a copy of a source that is being copied to another region
        (OperationDenied.ImageCopying - unconfirmed; elsewhere copies of one source queue), the copy is asked
        again with backoff until that copy is done or the time is up: the copies then run one after another.
        The refusal created nothing, so each new request gets a new ClientToken."""
        delay = 2.0
        while True:
            try:
                return client.call('CopyImage', params, client_token=True, region=self.source_region)
            except ApiError as err:
                if err.code != 'OperationDenied.ImageCopying' or self.remaining() <= delay:
                    raise
            time.sleep(delay)
            delay = min(delay * 1.5, 30.0)

    def apply_present(self, region):
        item = self.plan[region]
        client = self.clients[region]
        out = {'changed': False, 'image': item['image']}
        action = item['action']
        if action == 'copy':
            params = copy_params(self.source_region, self.p['image_id'], region, self.name,
                                 self.p['description'], self.p['encrypted'], self.p['kms_key_id'],
                                 self.p['resource_group_id'], self.p['tags'])
            try:
                response = self.copy_image(client, params)
                image_id = response.get('ImageId')
                out['changed'] = True
            except ApiError as err:
                if err.code != 'InvalidImageName.Duplicated':
                    raise
                # an earlier attempt of this call whose answer was lost (attempts > 1), or another run, started
                # the same copy meanwhile: follow it instead of failing
                image_id = None
                out['changed'] = err.attempts > 1

            def find():
                found = find_images_by_name(client, self.name, owner='self', region=region)
                return with_region(normalize_image(found[0]), region) if len(found) == 1 else None

            if self.p['wait']:
                # the new copy may not be listed at once: the waiter tolerates that until wait_timeout
                out['image'] = self.latest[region] = self.wait_copy(region, image_id,
                                                                    find=None if image_id else find)
                return out
            image = with_region(normalize_image(describe_image(client, image_id, region=region)), region) \
                if image_id else find()
            if image is None:   # not listed yet: what CopyImage just started
                image = with_region(normalize_image({'ImageId': image_id, 'ImageName': self.name,
                                                     'Status': 'Creating', 'IsCopied': True}), region)
            out['image'] = self.latest[region] = image
        elif item.get('tags') and (item['tags'][0] or item['tags'][1]):
            apply_tags(client, 'image', item['image']['image_id'], item['tags'][0], item['tags'][1],
                       region=region)
            out['changed'] = True
            out['image'] = dict(item['image'], tags=merged_tags(item['image']['tags'], self.p['tags'],
                                                                self.p['purge_tags']))
        if self.p['wait'] and out['image']['status'] in IN_FLIGHT_STATUSES:
            out['image'] = self.wait_copy(region, out['image']['image_id'], out['image'])
        return out

    def wait_gone(self, region, image_id):
        wait_image_gone(self.clients[region], image_id, self.remaining(), region=region)

    def apply_absent(self, region):
        item = self.plan[region]
        client = self.clients[region]
        image = item['image']
        action = item['action']
        if action == 'none':
            return {'changed': False, 'action': 'none'}
        if action == 'cancel':
            try:
                client.call('CancelCopyImage', {'ImageId': image['image_id']}, region=region)
            except ApiError as err:
                if err.code == 'InvalidImageId.NotFound':
                    # gone: by our own earlier attempt whose answer was lost, or by someone else
                    return {'changed': err.attempts > 1, 'action': 'cancel' if err.attempts > 1 else 'none'}
                if err.code != 'IncorrectImageStatus':
                    raise
                # the copy finished (or failed) between the read and the cancel: delete it instead
                current = normalize_image(describe_image(client, image['image_id'], region=region))
                if current is None:
                    return {'changed': False, 'action': 'none'}
                action = 'delete'
        if action == 'delete':
            try:
                client.call('DeleteImage', {'ImageId': image['image_id']}, region=region)
            except ApiError as err:
                if err.code != 'InvalidImageId.NotFound':
                    raise
                return {'changed': err.attempts > 1, 'action': 'delete' if err.attempts > 1 else 'none'}
        if self.p['wait'] or (action == 'delete' and self.p['delete_snapshots']):
            self.wait_gone(region, image['image_id'])
        if action == 'delete' and self.p['delete_snapshots']:
            snapshot_ids = image_snapshot_ids(image)
            # a failure here is reported by the failure boundary (the DeleteImage above is listed as done); the
            # copy is gone, so a rerun finds nothing to delete: the snapshots left are named in the message
            self.m.failure_extras.setdefault('snapshots_left', {})[region] = snapshot_ids
            deleted, kept = delete_image_snapshots(client, snapshot_ids, image['image_id'], region)
            self.m.failure_extras['snapshots_left'].pop(region, None)
            self.deleted_snapshots[region] = deleted
            for snapshot_id, reason in sorted(kept.items()):
                self.warnings.append('%s: snapshot %s of copy %s is kept: %s'
                                     % (region, snapshot_id, image['image_id'], reason))
        return {'changed': True, 'action': action}

    # ------------------------------------------------------------------ result
    def diff(self, after_images):
        before = {}
        after = {}
        for region in self.regions:
            image = self.plan[region]['image']
            before[region] = self.diff_entry(image)
            after[region] = self.diff_entry(after_images.get(region), region)
        return {'before': before, 'after': after}

    def diff_entry(self, image, region=None):
        if image is None:
            if region and self.state == 'present' and self.plan[region]['action'] == 'copy':
                return {'image_id': '(new copy of %s)' % self.p['image_id'], 'name': self.name,
                        'tags': self.p['tags'] or {}}
            return None
        return {'image_id': image['image_id'], 'name': image['name'], 'tags': image['tags']}

    def run(self):
        self.validate_options()
        self.read_source()
        if region_errors(self.source_region, self.regions, None):
            self.check_regions()       # fails, naming every problem (unknown regions too), before any read
        self.read_destinations()       # checks the regions that hold no copy yet
        if self.state == 'present':
            self.run_present()
        else:
            self.run_absent()

    def predicted_tags(self, region):
        item = self.plan[region]
        to_set, to_remove = item.get('tags') or ({}, [])
        return bool(to_set or to_remove)

    def run_present(self):
        copied = [r for r in self.regions if self.plan[r]['action'] == 'copy']
        in_progress = [r for r in self.regions if self.plan[r]['action'] == 'wait']
        tagged = [r for r in self.regions if self.plan[r]['action'] != 'copy' and self.predicted_tags(r)]
        images = {}
        if self.m.check_mode:
            for region in self.regions:
                image = self.plan[region]['image']
                if image is not None and region in tagged:
                    image = dict(image, tags=merged_tags(image['tags'], self.p['tags'], self.p['purge_tags']))
                images[region] = with_region(image, region)
            self.exit(bool(copied or tagged), images, copied, in_progress, tagged, [], [])
        if copied and not image_usable(self.source_raw):
            # Available but not yet Usable (the flag lags the status after a create, copy or import): the cloud
            # refuses CopyImage until then
            self.m.failure_extras['source_image'] = self.source
            wait_image_usable(self.m.client(self.source_region), self.p['image_id'], self.remaining(),
                              region=self.source_region)
        results = run_parallel(self.apply_present, self.regions)
        failures = []
        changed = False
        for region in self.regions:
            out, exc = results[region]
            if exc is not None:
                failures.append((region, exc))
                image = getattr(exc, 'last', None)
                if not (isinstance(image, dict) and image.get('image_id')):
                    image = self.latest.get(region, self.plan[region]['image'])
                images[region] = with_region(image, region)
                continue
            changed = changed or out['changed']
            images[region] = with_region(out['image'], region)
        if failures:
            if all(isinstance(exc, WaitTimeout) and not exc.failed for _region, exc in failures):
                self.m.rerun_hint = ('Nothing is lost: the copy goes on in the cloud; run the task again to keep '
                                     'waiting for it (it is not copied twice), or with state=absent to cancel it')
            self.m.fail_from(failures[0][1], failures=failures, images=images, source_image=self.source,
                             copied_regions=copied, in_progress_regions=in_progress, tagged_regions=tagged)
        self.exit(changed, images, copied, in_progress, tagged, [], [])

    def run_absent(self):
        cancelled = [r for r in self.regions if self.plan[r]['action'] == 'cancel']
        deleted = [r for r in self.regions if self.plan[r]['action'] == 'delete']
        images = dict((r, None) for r in self.regions)
        if self.m.check_mode:
            self.exit(bool(cancelled or deleted), images, [], [], [], cancelled, deleted)
        results = run_parallel(self.apply_absent, self.regions)
        failures = []
        changed = False
        cancelled, deleted = [], []
        for region in self.regions:
            out, exc = results[region]
            if exc is not None:
                failures.append((region, exc))
                images[region] = with_region(self.plan[region]['image'], region)
                continue
            changed = changed or out['changed']
            if out['action'] == 'cancel':
                cancelled.append(region)
            elif out['action'] == 'delete':
                deleted.append(region)
        if failures:
            self.m.fail_from(failures[0][1], failures=failures, images=images, source_image=self.source,
                             cancelled_regions=cancelled, deleted_regions=deleted,
                             deleted_snapshots=self.deleted_snapshots)
        self.exit(changed, images, [], [], [], cancelled, deleted)

    def exit(self, changed, images, copied, in_progress, tagged, cancelled, deleted):
        for warning in self.warnings:
            self.m.warn(warning)
        self.m.exit(changed, images=images, source_image=self.source, copied_regions=copied,
                    in_progress_regions=in_progress, tagged_regions=tagged, cancelled_regions=cancelled,
                    deleted_regions=deleted, deleted_snapshots=self.deleted_snapshots, diff=self.diff(images))


def main():
    argument_spec = dict(
        image_id=dict(type='str', required=True),
        source_region=dict(type='str'),
        destination_regions=dict(type='list', elements='str', required=True, aliases=['destination_region']),
        name=dict(type='str'),
        description=dict(type='str'),
        encrypted=dict(type='bool'),
        kms_key_id=dict(type='str', no_log=False),
        tags=dict(type='dict'),
        purge_tags=dict(type='bool', default=True),
        resource_group_id=dict(type='str'),
        delete_snapshots=dict(type='bool', default=False),
        state=dict(type='str', default='present', choices=['present', 'absent']),
    )
    argument_spec.update(WAIT_ARGUMENT_SPEC)
    amodule = AlicloudModule(argument_spec, supports_check_mode=True, id_options={'image_id': 'image'})
    amodule.run(CopyRun(amodule).run)


if __name__ == '__main__':
    main()
