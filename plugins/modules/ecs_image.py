#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) alicloud.ecs_images contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: ecs_image
short_description: Create, update and delete custom ECS images
version_added: 0.1.0
description:
  - Creates a custom image of Alibaba Cloud ECS from an instance, a system-disk snapshot or a list of disk
    snapshots, updates it in place and deletes it (optionally with the snapshots it was made from).
  - The image is addressed by O(image_id) or by O(name). A name is matched exactly among the account's own images
    of the region in every status (also C(Creating) and C(CreateFailed)); two images with that name are an error,
    never a guess.
  - Idempotent. An existing image is never recreated; name (with O(image_id)), description, family, tags,
    resource group, boot mode and deprecation are changed in place. Options that cannot change in place
    (O(architecture), O(platform), O(image_version)) give a warning naming the option when they differ.
  - So does a source option (O(snapshot_id), O(disk_device_mappings)) given for an existing image whose disks have
    other snapshots. O(instance_id) is compared with an existing image only with O(check_source=true), which reads
    the image's snapshots and the instance's disks (none of the disks its snapshots were taken of belongs to the
    instance is a warning). When the source cannot be told (no snapshots, or they or the instance's disks are
    gone) nothing is said.
  - The source of a new image is read before it is created (it must exist in the region and be usable). A run that
    finds the image reads nothing else unless it changes it, so a rerun makes one read.
  - Every input is checked before any change; instances and snapshots must exist in the module's region.
  - With O(wait=true), an existing image in status C(CreateFailed) or C(UnAvailable) is an error (it never becomes
    C(Available)); delete it and run again.
author:
  - alicloud.ecs_images contributors (@alicloud)
options:
  state:
    description:
      - V(present) creates the image when it does not exist and updates it otherwise.
      - V(absent) deletes it. Deleting an image that does not exist is not a change; when O(image_id) is not
        found in the task's region but exists in another region, a warning names that region (images are
        regional).
    type: str
    choices: [present, absent]
    default: present
  image_id:
    description:
      - ID of an existing image. With O(state=present) and O(name), the image is renamed to O(name).
      - One of O(image_id) and O(name) is required.
      - A value that is not shaped like an image id (letters, digits, C(.), C(_) and C(-), 2-128 characters, no
        spaces) is refused before any call.
    type: str
  name:
    description:
      - Exact name of the image, 2-128 characters, starting with a letter or a Chinese character, not starting
        with C(http://) or C(https://), made of letters, digits, C(.), C(:), C(_) and C(-).
      - Required to create an image, so that a second run finds the image instead of creating another one.
    type: str
    aliases: [image_name]
  instance_id:
    description:
      - Create the image from this instance (C(Running) or C(Stopped)); a snapshot is taken of each of its disks.
      - An instance that is starting or stopping is waited for (with O(wait=true)); other states are an error.
      - Mutually exclusive with O(snapshot_id) and O(disk_device_mappings). Used only to create; an existing image
        made from another instance's disks is left as it is (with O(check_source=true), with a warning naming this
        option).
    type: str
    aliases: [instance]
  snapshot_id:
    description:
      - Create the image from this system-disk snapshot.
      - Mutually exclusive with O(instance_id) and O(disk_device_mappings). Used only to create; an existing image
        whose system disk has another snapshot is left as it is, with a warning naming this option.
    type: str
    aliases: [snapshot]
  disk_device_mappings:
    description:
      - Create the image from these snapshots, exactly one of them of the system disk.
      - Mutually exclusive with O(instance_id) and O(snapshot_id). Used only to create; an existing image made from
        other snapshots is left as it is, with a warning naming this option.
    type: list
    elements: dict
    aliases: [disk_mapping]
    suboptions:
      snapshot_id:
        description: Snapshot of the disk. Without it an empty disk of O(disk_device_mappings[].size) is added.
        type: str
      size:
        description: Disk size in GiB (at least the snapshot's size).
        type: int
        aliases: [disk_size]
      device:
        description: Device name, V(/dev/xvda) for the system disk, V(/dev/xvdb) to V(/dev/xvdz) for data disks.
        type: str
      disk_type:
        description: Whether this is the system disk or a data disk.
        type: str
        choices: [system, data]
  description:
    description:
      - Description of the image, 2-256 characters, not starting with C(http://) or C(https://).
    type: str
  image_family:
    description:
      - Image family (same rules as O(name)).
    type: str
  image_version:
    description:
      - Version of the image. Set only at creation.
    type: str
    aliases: [version]
  architecture:
    description:
      - System architecture. Set only at creation (only relevant for images made from data-disk snapshots).
    type: str
    choices: [i386, x86_64, arm64]
  platform:
    description:
      - Operating system distribution, for example V(CentOS) or V(Ubuntu). Set only at creation.
    type: str
  boot_mode:
    description:
      - Boot mode of the image. Changed in place on an existing image.
    type: str
    choices: [BIOS, UEFI, UEFI-Preferred]
  tags:
    description:
      - Tags of the image as a dictionary, at most 20.
      - When omitted the tags are left untouched; V({}) with O(purge_tags=true) removes every tag.
    type: dict
  purge_tags:
    description:
      - Remove tags that are not in O(tags). Only used when O(tags) is given.
    type: bool
    default: true
  resource_group_id:
    description:
      - Resource group of the image. An existing image is moved with C(JoinResourceGroup).
    type: str
  deprecated:
    description:
      - V(true) marks the image C(Deprecated), V(false) makes a deprecated image C(Available) again.
      - Omitted leaves the status alone.
    type: bool
  force:
    description:
      - With O(state=absent), delete the image even when instances were created from it.
    type: bool
    default: false
  check_source:
    description:
      - When the image exists and O(instance_id) is given, read the snapshots of the image and the disks of the
        instance (two more reads) to warn when the image was made from another instance.
      - Without it an existing image is only read; the source options are then used only to create.
    type: bool
    default: false
  delete_snapshots:
    description:
      - With O(state=absent), also delete the snapshots of the image's disks (they keep costing money).
      - Snapshots still used by another image or by a disk are kept, with a warning.
      - The cloud keeps listing a deleted image for a while and refuses to delete its snapshots until it is gone,
        so the module waits (up to O(wait_timeout), also with O(wait=false)) until the image is no longer listed
        before it deletes them. Snapshots it could not delete in that time are kept, reported in
        RV(kept_snapshots) and named in a warning.
    type: bool
    default: false
extends_documentation_fragment:
  - alicloud.ecs_images.alicloud
  - alicloud.ecs_images.alicloud.wait
attributes:
  check_mode:
    support: full
    description: Makes no change and predicts exactly whether a change would be made; a new image is returned
      with the values it would get (and no O(image_id)).
  diff_mode:
    support: full
    description: Shows name, description, image family, tags, status and resource group before and after.
notes:
  - Custom images are regional. To use an image in another region, copy it with M(alicloud.ecs_images.ecs_image_copy).
  - C(CreateImage) carries a client token reused on every retry, so a lost response never creates a second image.
  - Two runs at once (two AWX jobs, two operators) creating the same name do not fail; the run that loses the race
    for the name adopts the image the other run is creating, waits for it as a rerun would, and returns
    RV(adopted=true).
  - Only the account's own images (owner alias C(self)) are changed or deleted.
seealso:
  - module: alicloud.ecs_images.ecs_image_info
  - module: alicloud.ecs_images.ecs_image_copy
'''

EXAMPLES = r'''
- name: Create an image from an instance and wait until it is Available
  alicloud.ecs_images.ecs_image:
    name: web-base-2026-11-26
    instance_id: i-bp1j6qtvdm8w0z1o0000
    description: Web server base image
    image_family: web-base
    tags:
      app: web
      stage: prod
  register: web_image

- name: Create an image from a system-disk snapshot without waiting
  alicloud.ecs_images.ecs_image:
    name: from-snapshot
    snapshot_id: s-bp17ot2q7x72ggtw0000
    wait: false

- name: Create an image from a system and a data disk snapshot
  alicloud.ecs_images.ecs_image:
    name: app-with-data
    disk_device_mappings:
      - snapshot_id: s-bp17ot2q7x72ggtw0000
        disk_type: system
      - snapshot_id: s-bp17ot2q7x72ggtw0001
        disk_type: data
        size: 100

- name: Rename an image and replace its tags
  alicloud.ecs_images.ecs_image:
    image_id: m-bp1g7004ksh0oeuc0000
    name: web-base-renamed
    tags:
      app: web

- name: Add a tag, keeping the others
  alicloud.ecs_images.ecs_image:
    name: web-base-renamed
    tags:
      owner: team-a
    purge_tags: false

- name: Deprecate an image
  alicloud.ecs_images.ecs_image:
    name: web-base-renamed
    deprecated: true

- name: Delete an image and the snapshots it was made from
  alicloud.ecs_images.ecs_image:
    name: web-base-renamed
    state: absent
    delete_snapshots: true
'''

RETURN = r'''
image:
  description:
    - The image after the run (normalised); in check mode the predicted image.
    - With O(state=absent) the image that was deleted, or an empty dictionary when there was none.
  returned: always
  type: dict
  contains:
    image_id:
      description: Image ID (V(null) for an image check mode would create).
      type: str
      sample: m-bp1g7004ksh0oeuc0000
    name:
      description: Image name.
      type: str
    description:
      description: Description (empty string when none).
      type: str
    status:
      description: C(Creating), C(Waiting), C(Available), C(UnAvailable), C(CreateFailed) or C(Deprecated).
      type: str
    progress:
      description: Creation progress in percent.
      type: int
    size:
      description: Size in GiB.
      type: int
    region_id:
      description: Region of the image.
      type: str
    image_family:
      description: Image family.
      type: str
    image_version:
      description: Image version.
      type: str
    architecture:
      description: Architecture.
      type: str
    os_type:
      description: C(linux) or C(windows).
      type: str
    os_name:
      description: Operating system name.
      type: str
    platform:
      description: Platform.
      type: str
    boot_mode:
      description: Boot mode.
      type: str
    owner_alias:
      description: C(self), C(system), C(others) or C(marketplace).
      type: str
    owner_id:
      description: Account ID of the owner.
      type: str
    usage:
      description: C(instance) when instances run from the image, else C(none).
      type: str
    is_self_shared:
      description: Whether the image is shared with other accounts.
      type: bool
    is_copied:
      description: Whether the image is a copy.
      type: bool
    is_public:
      description: Whether the image is public.
      type: bool
    creation_time:
      description: Creation time (ISO 8601, UTC).
      type: str
    resource_group_id:
      description: Resource group.
      type: str
    tags:
      description: Tags.
      type: dict
    disk_device_mappings:
      description: Disks of the image.
      type: list
      elements: dict
      contains:
        device:
          description: Device name.
          type: str
        type:
          description: C(system) or C(data).
          type: str
        snapshot_id:
          description: Snapshot of the disk.
          type: str
        size:
          description: Size in GiB.
          type: int
        format:
          description: Image file format (imported images).
          type: str
        import_oss_bucket:
          description: OSS bucket it was imported from.
          type: str
        import_oss_object:
          description: OSS object it was imported from.
          type: str
        progress:
          description: Copy progress of the disk in percent.
          type: int
        remain_time:
          description: Remaining copy time in seconds.
          type: int
deleted_snapshots:
  description: Snapshots deleted (or, in check mode, that would be deleted) with O(delete_snapshots=true).
  returned: when O(state=absent)
  type: list
  elements: str
kept_snapshots:
  description:
    - Snapshots of the image kept because another image or a disk uses them, or because the deleted image was
      still listed after O(wait_timeout) (each is named in a warning with the reason).
  returned: when O(state=absent)
  type: list
  elements: str
adopted:
  description:
    - V(true) when another run (a second AWX job, another operator) was creating an image of the same name at
      the same time and won the race for the name; this run adopted that image and waited for it as a rerun
      would, instead of failing with C(InvalidImageName.Duplicated).
  returned: always
  type: bool
  sample: false
api_calls:
  description: Number of API requests the module sent (retries included); also returned on failure.
  returned: always
  type: int
  sample: 2
'''

import copy

from ansible_collections.alicloud.ecs_images.plugins.module_utils.base import AlicloudModule, WAIT_ARGUMENT_SPEC
from ansible_collections.alicloud.ecs_images.plugins.module_utils.client import ApiError
from ansible_collections.alicloud.ecs_images.plugins.module_utils.image_snapshots import (
    delete_snapshots, image_snapshot_ids, plan_snapshot_deletion,
)
from ansible_collections.alicloud.ecs_images.plugins.module_utils.images import (
    FAILED_STATUSES, IN_FLIGHT_STATUSES, SETTLED_STATUSES, USABLE_STATUSES, describe_image, find_images_by_name,
    create_or_adopt, image_regions, normalize_image, predict_image,
)
from ansible_collections.alicloud.ecs_images.plugins.module_utils.tags import apply_tags, diff_tags, merged_tags, tag_params
from ansible_collections.alicloud.ecs_images.plugins.module_utils.validation import (
    check_description, check_name, check_tags,
)
from ansible_collections.alicloud.ecs_images.plugins.module_utils.instances import (
    describe_instance, instance_disks, settle_instance,
)
from ansible_collections.alicloud.ecs_images.plugins.module_utils.snapshots import describe_snapshot, describe_snapshots
from ansible_collections.alicloud.ecs_images.plugins.module_utils.waiters import (
    WaitTimeout, wait_image, wait_image_gone,
)

REGIONAL_HINT = ('custom images, instances and snapshots are regional: create the image in the region of its '
                 'source, then copy it with alicloud.ecs_images.ecs_image_copy')
DIFF_KEYS = ('name', 'description', 'image_family', 'tags', 'status', 'resource_group_id')
IMMUTABLE = ('architecture', 'platform', 'image_version')
# DeleteImage refusals: what a rerun will do (the failure boundary says it after the cloud's message)
DELETE_REFUSALS = {
    'ImageUsingByInstance': 'Instances were created from the image: a rerun fails the same way unless force=true',
    'ImageUseShared': ('The image is shared with other accounts: unshare it first '
                       '(alicloud.ecs_images.ecs_image_share), then run again'),
}
LEFT_AS_IS = 'it cannot be changed in place, so it is left as it is (create a new image to change it)'


def diff_view(image):
    if not image:
        return {}
    return dict((key, image.get(key)) for key in DIFF_KEYS)


# ------------------------------------------------------------------------------------------------ plan (pure)
# read -> plan -> apply: the plan_* functions below take the parameters and what was read (normalised images,
# raw snapshots and disks) and return what to do; they make no call and are unit-tested on their own.

def new_image_error(p, region):
    """Why an image cannot be created from these options (message), or None."""
    if not p['name']:
        if p['image_id']:
            return 'image %s was not found in region %s (%s)' % (p['image_id'], region, REGIONAL_HINT)
        return 'option name is required to create an image'
    if not (p['instance_id'] or p['snapshot_id'] or p['disk_device_mappings']):
        return ('no image named %r in region %s; to create it give one of instance_id, snapshot_id, '
                'disk_device_mappings' % (p['name'], region))
    if p['image_id']:
        return ('image %s was not found in region %s; to create a new image give name and a source without '
                'image_id' % (p['image_id'], region))
    if p['deprecated'] and not p['wait']:
        return ('option deprecated=true on a new image needs wait=true (an image can be deprecated only once it '
                'is Available)')
    return None


def source_options(p):
    """The sources to check before creating: ``[(kind, option, id)]`` with kind 'instance' or 'snapshot'."""
    sources = []
    if p['instance_id']:
        sources.append(('instance', 'instance_id', p['instance_id']))
    if p['snapshot_id']:
        sources.append(('snapshot', 'snapshot_id', p['snapshot_id']))
    for index, mapping in enumerate(p['disk_device_mappings'] or []):
        if mapping.get('snapshot_id'):
            sources.append(('snapshot', 'disk_device_mappings[%d].snapshot_id' % index, mapping['snapshot_id']))
    return sources


def plan_create(p, region):
    """``{'error'}`` or ``{'params': CreateImage parameters, 'image': the predicted image, 'sources': ...}``."""
    error = new_image_error(p, region)
    if error:
        return {'error': error}
    mappings = None
    if p['disk_device_mappings']:
        mappings = [{'SnapshotId': m.get('snapshot_id'), 'Size': m.get('size'), 'Device': m.get('device'),
                     'DiskType': m.get('disk_type')} for m in p['disk_device_mappings']]
    params = {
        'ImageName': p['name'], 'Description': p['description'], 'ImageFamily': p['image_family'],
        'ImageVersion': p['image_version'], 'Architecture': p['architecture'], 'Platform': p['platform'],
        'BootMode': p['boot_mode'], 'InstanceId': p['instance_id'], 'SnapshotId': p['snapshot_id'],
        'DiskDeviceMapping': mappings, 'ResourceGroupId': p['resource_group_id'],
    }
    params.update(tag_params(p['tags']))
    status = 'Deprecated' if p['deprecated'] else ('Available' if p['wait'] else 'Creating')
    image = predict_image(region, p['name'], status, description=p['description'],
                          image_family=p['image_family'], image_version=p['image_version'],
                          architecture=p['architecture'], platform=p['platform'], boot_mode=p['boot_mode'],
                          resource_group_id=p['resource_group_id'], tags=p['tags'])
    return {'error': None, 'params': params, 'image': image, 'sources': source_options(p)}


def source_error(kind, option, resource_id, item, region, can_wait):
    """Why the source ``item`` (raw instance or snapshot read by id, or None) cannot be used, or None.
    An instance that is starting or stopping is usable when it can be waited for (``can_wait``)."""
    if item is None:
        return 'option %s: %s %s was not found in region %s; %s' % (option, kind, resource_id, region, REGIONAL_HINT)
    if kind == 'instance' and item.get('Status') not in ('Running', 'Stopped', None):
        if item.get('Status') in ('Pending', 'Starting', 'Stopping') and can_wait:
            return None
        return ('option instance_id: instance %s is %s; CreateImage needs it Running or Stopped'
                % (resource_id, item.get('Status')))
    if kind == 'snapshot' and item.get('Status') == 'failed':
        return 'option %s: snapshot %s has failed and cannot be used' % (option, resource_id)
    return None


def source_warning(p, before, snapshots=None, disks=None):
    """A warning when a source option names another source than the one the existing image ``before`` was made
    from (read from the snapshots of its disks); None when it is the same or cannot be told.

    snapshot_id and disk_device_mappings are compared with the image's snapshots. instance_id needs the image's
    ``snapshots`` (raw, for their source disks) and the instance's ``disks``: without them (None, not read)
    nothing is said."""
    image_id = before['image_id']
    has = [m['snapshot_id'] for m in before['disk_device_mappings'] if m.get('snapshot_id')]
    if not has:
        return None
    if p['snapshot_id']:
        system = [m['snapshot_id'] for m in before['disk_device_mappings']
                  if m.get('snapshot_id') and m.get('type') == 'system'] or has[:1]
        if p['snapshot_id'] not in system:
            return ('option snapshot_id is %r but image %s was made from snapshot %s (system disk); %s'
                    % (p['snapshot_id'], image_id, ', '.join(system), LEFT_AS_IS))
    elif p['disk_device_mappings']:
        given = sorted(set(m['snapshot_id'] for m in p['disk_device_mappings'] if m.get('snapshot_id')))
        if given != sorted(set(has)):
            return ('option disk_device_mappings has snapshots %s but image %s was made from snapshots %s; %s'
                    % (', '.join(given) or 'none', image_id, ', '.join(sorted(set(has))), LEFT_AS_IS))
    elif p['instance_id'] and snapshots is not None and disks is not None:
        sources = sorted(set(s.get('SourceDiskId') for s in snapshots if s.get('SourceDiskId')))
        if sources and disks and not set(sources) & set(d.get('DiskId') for d in disks):
            return ('option instance_id is %r but image %s was made from disk(s) %s, none of which is a disk of '
                    'that instance; %s' % (p['instance_id'], image_id, ', '.join(sources), LEFT_AS_IS))
    return None


def plan_update(p, before, snapshots=None, disks=None):
    """What to change on the existing image ``before`` (normalised). Returns a dict: ``error`` (message or None;
    ``error_image`` True when the result should carry the image), ``changed``, ``modify``
    (ModifyImageAttribute parameters), ``to_set``/``to_remove`` (tags), ``join_group`` (bool), ``after`` (the
    predicted image), ``wait_first`` (wait for an image still being made), ``warnings``."""
    image_id = before['image_id']
    after = copy.deepcopy(before)
    modify = {}
    if p['image_id'] and p['name'] and p['name'] != before['name']:
        modify['ImageName'] = after['name'] = p['name']
    if p['description'] is not None and p['description'] != before['description']:
        modify['Description'] = after['description'] = p['description']
    if p['image_family'] is not None and p['image_family'] != before['image_family']:
        modify['ImageFamily'] = after['image_family'] = p['image_family']
    if p['boot_mode'] is not None and p['boot_mode'] != before['boot_mode']:
        modify['BootMode'] = after['boot_mode'] = p['boot_mode']
    if p['deprecated'] is True and before['status'] != 'Deprecated':
        modify['Status'] = after['status'] = 'Deprecated'
    elif p['deprecated'] is False and before['status'] == 'Deprecated':
        modify['Status'] = after['status'] = 'Available'
    to_set, to_remove = diff_tags(before['tags'], p['tags'], p['purge_tags'])
    if to_set or to_remove:
        after['tags'] = merged_tags(before['tags'], p['tags'], p['purge_tags'])
    join_group = p['resource_group_id'] is not None and p['resource_group_id'] != before['resource_group_id']
    if join_group:
        after['resource_group_id'] = p['resource_group_id']

    warnings = []
    for option in IMMUTABLE:
        if p[option] is not None and before.get(option) is not None and \
                str(p[option]).lower() != str(before[option]).lower():
            warnings.append('option %s is %r but image %s has %r; %s' % (option, p[option], image_id, before[option],
                                                                         LEFT_AS_IS))
    warning = source_warning(p, before, snapshots, disks)
    if warning:
        warnings.append(warning)

    changed = bool(modify or to_set or to_remove or join_group)
    in_flight = before['status'] in IN_FLIGHT_STATUSES
    plan = {'error': None, 'error_image': False, 'changed': changed, 'modify': modify, 'to_set': to_set,
            'to_remove': to_remove, 'join_group': join_group, 'after': after, 'warnings': warnings,
            'wait_first': bool(p['wait'] and in_flight)}
    if changed and before['owner_alias'] not in ('self', None):
        plan['error'] = ('image %s belongs to another owner (owner_alias %s, owner_id %s): only your own custom '
                         'images can be changed' % (image_id, before['owner_alias'], before['owner_id']))
    elif 'Status' in modify and before['status'] not in USABLE_STATUSES and not plan['wait_first']:
        plan['error'] = ('image %s is %s: only an Available image can be deprecated or made available again%s'
                         % (image_id, before['status'],
                            ' (use wait=true to wait for the end of its creation)' if in_flight else ''))
    elif p['wait'] and before['status'] in FAILED_STATUSES:
        plan['error'] = ('image %s is %s: it cannot become Available; delete it (state=absent) and run again to '
                         'create a new one (or set wait=false to manage it anyway)' % (image_id, before['status']))
        plan['error_image'] = True
    elif before['status'] in FAILED_STATUSES:
        warnings.append('image %s is %s; delete it (state=absent) and run again to create a new one'
                        % (image_id, before['status']))
    return plan


def plan_delete(p, before):
    """``error`` (not one's own image, shared, used by instances without force) and ``wait_first`` (the API
    refuses to delete an image being made)."""
    if before['owner_alias'] not in ('self', None):
        return {'error': 'refusing to delete image %s: it is not your own custom image (owner_alias %s, owner_id '
                         '%s)' % (before['image_id'], before['owner_alias'], before['owner_id']),
                'wait_first': False}
    # What DeleteImage would refuse (ImageUsingByInstance, ImageUseShared), said before any change, from the read
    if before.get('is_self_shared'):
        return {'error': 'cannot delete image %s: it is shared with other accounts; unshare it first '
                         '(alicloud.ecs_images.ecs_image_share with state=absent or purge_accounts=true)'
                         % before['image_id'], 'wait_first': False}
    if before.get('usage') == 'instance' and not p['force']:
        return {'error': 'cannot delete image %s: instances were created from it (Usage=instance); set force=true to '
                         'delete it anyway (the instances keep running, but their system disks can no longer be '
                         're-initialised from it)' % before['image_id'], 'wait_first': False}
    return {'error': None, 'wait_first': bool(p['wait'] and before['status'] in IN_FLIGHT_STATUSES)}


def reads_source(p, before):
    """Whether an existing image's source is read (the image's snapshots and the instance's disks): only when
    asked for with check_source and instance_id is given (snapshot ids are compared without reading)."""
    return bool(p['check_source'] and p['instance_id'] and before is not None and p['state'] == 'present'
                and any(m.get('snapshot_id') for m in before['disk_device_mappings']))


# ------------------------------------------------------------------------------------------ read and apply

class EcsImage:

    def __init__(self, mod):
        self.mod = mod
        self.p = mod.params
        self.region = mod.region
        self.client = mod.client()
        self.warnings = []
        self.adopted = False    # the image was being created by another run; this run adopted it

    def api(self, msg, function, *args, **kwargs):
        """``function(*args, **kwargs)``. An ApiError goes on to the failure boundary (base.py), which reports it
        once, prefixed with ``msg`` (what was being done: ``err.context``)."""
        try:
            return function(*args, **kwargs)
        except ApiError as err:
            if getattr(err, 'context', None) is None:
                err.context = msg
            raise

    def validate(self):
        """Bad input, found before any read."""
        p = self.p
        check_name(self.mod, 'name', p['name'])
        check_description(self.mod, 'description', p['description'])
        check_name(self.mod, 'image_family', p['image_family'])
        check_tags(self.mod, p['tags'])
        mappings = p['disk_device_mappings']
        if mappings is not None:
            if not mappings:
                self.mod.fail('option disk_device_mappings must list at least the system disk')
            systems = [m for m in mappings if m.get('disk_type') == 'system' or
                       (m.get('disk_type') is None and m.get('device') in ('/dev/xvda', None) and
                        mappings.index(m) == 0)]
            if len(systems) != 1:
                self.mod.fail('option disk_device_mappings must contain exactly one system disk '
                              '(disk_type: system, or the first entry without disk_type); found %d' % len(systems))
            devices = [m['device'] for m in mappings if m.get('device')]
            if len(devices) != len(set(devices)):
                self.mod.fail('option disk_device_mappings: device names must be unique (%s)' % ', '.join(devices))
            for index, m in enumerate(mappings):
                if not m.get('snapshot_id') and not m.get('size'):
                    self.mod.fail('option disk_device_mappings[%d]: give snapshot_id, or size for an empty disk'
                                  % index)
                if m.get('size') is not None and m['size'] <= 0:
                    self.mod.fail('option disk_device_mappings[%d].size must be positive' % index)

    # ------------------------------------------------------------------ read
    def read(self):
        """The image (normalised) or None: one DescribeImages. Fails on an ambiguous name, naming the ids."""
        p = self.p
        if p['image_id']:
            return normalize_image(self.read_by_id(p['image_id']))
        matches = self.api('cannot look up images named %r' % p['name'], find_images_by_name, self.client,
                           p['name'], owner='self')
        if len(matches) > 1:
            ids = ', '.join(sorted('%s (%s)' % (m.get('ImageId'), m.get('Status')) for m in matches))
            self.mod.fail('name %r is ambiguous: %d of your images in region %s have it: %s. Use image_id to '
                          'choose one.' % (p['name'], len(matches), self.region, ids))
        return normalize_image(matches[0]) if matches else None

    def read_by_id(self, image_id):
        return self.api('cannot read image %s' % image_id, describe_image, self.client, image_id)

    def read_source(self, before):
        """The snapshots of the image and the disks of instance_id (check_source), or (None, None) unread."""
        if not reads_source(self.p, before):
            return None, None
        msg = 'cannot read the source of image %s (option instance_id)' % before['image_id']
        ids = sorted(set(m['snapshot_id'] for m in before['disk_device_mappings'] if m.get('snapshot_id')))
        snapshots = self.api(msg, describe_snapshots, self.client, ids)
        disks = self.api(msg, instance_disks, self.client, self.p['instance_id'])
        return snapshots, disks

    def check_sources(self, sources):
        """Read each source of a new image: it must exist in the region, an instance be Running or Stopped (one
        that is starting or stopping is waited for), a snapshot not have failed."""
        readers = {'instance': describe_instance, 'snapshot': describe_snapshot}
        can_wait = self.p['wait'] and not self.mod.check_mode
        for kind, option, resource_id in sources:
            item = self.api('cannot check %s %s' % (kind, resource_id), readers[kind], self.client, resource_id)
            error = source_error(kind, option, resource_id, item, self.region, can_wait)
            if error:
                self.mod.fail(error)
            if kind == 'instance' and item.get('Status') in ('Pending', 'Starting', 'Stopping'):
                # a transient state: wait for Running or Stopped (CreateImage refuses others)
                settle_instance(self.client, item, self.p['wait_timeout'])

    def wait_for(self, image_id, target=('Available',)):
        """Wait for the image (waiter engine); a failure (WaitFailed/WaitTimeout/ApiError) goes to the failure
        boundary with the image as last seen."""
        try:
            return wait_image(self.client, image_id, self.p['wait_timeout'], target=target)
        except WaitTimeout as exc:
            self.mod.failure_extras['image'] = normalize_image(exc.last) if exc.last else None
            raise

    # ------------------------------------------------------------------ present
    def create(self):
        p = self.p
        plan = plan_create(p, self.region)
        if plan['error']:
            self.mod.fail(plan['error'])
        self.check_sources(plan['sources'])
        predicted = plan['image']
        diff = {'before': {}, 'after': diff_view(predicted)}
        if self.mod.check_mode:
            return True, predicted, diff

        response, other = self.api('cannot create image %r in region %s' % (p['name'], self.region), create_or_adopt,
                                   self.client, 'CreateImage', plan['params'], p['name'])
        if other is not None:
            # Another run (a second AWX job, another operator) created this name meanwhile: adopt its image and
            # go on as a rerun would.
            self.adopted = True
            return self.update(normalize_image(other))
        image_id = response.get('ImageId')
        raw = self.wait_for(image_id) if p['wait'] else None
        if raw and p['deprecated']:
            self.api('image %s was created but could not be deprecated' % image_id, self.client.call,
                     'ModifyImageAttribute', {'ImageId': image_id, 'Status': 'Deprecated'})
        if not raw or p['deprecated']:
            raw = self.read_by_id(image_id)
        image = normalize_image(raw) if raw else dict(predicted, image_id=image_id)
        diff['after'] = diff_view(image)
        return True, image, diff

    def update(self, before):
        p = self.p
        snapshots, disks = self.read_source(before)
        plan = plan_update(p, before, snapshots, disks)
        self.warnings.extend(plan['warnings'])
        if plan['error']:
            self.mod.fail(plan['error'], **({'image': before} if plan['error_image'] else {}))
        if self.mod.check_mode:
            return plan['changed'], plan['after'], {'before': diff_view(before), 'after': diff_view(plan['after'])}

        image_id = before['image_id']
        if plan['wait_first']:      # an image still being made: a status change needs it Available
            self.wait_for(image_id)
        if plan['modify']:
            self.api('cannot modify image %s' % image_id, self.client.call, 'ModifyImageAttribute',
                     dict(plan['modify'], ImageId=image_id))
        if plan['to_set'] or plan['to_remove']:
            self.api('cannot update the tags of image %s' % image_id, apply_tags, self.client, 'image', image_id,
                     plan['to_set'], plan['to_remove'])
        if plan['join_group']:
            self.api('cannot move image %s to resource group %s' % (image_id, p['resource_group_id']),
                     self.client.call, 'JoinResourceGroup',
                     {'ResourceGroupId': p['resource_group_id'], 'ResourceId': image_id, 'ResourceType': 'image'})
        image = before
        if plan['changed'] or plan['wait_first']:
            image = normalize_image(self.read_by_id(image_id)) or plan['after']
        return plan['changed'], image, {'before': diff_view(before), 'after': diff_view(image)}

    # ------------------------------------------------------------------ absent
    def delete(self, before):
        p = self.p
        image_id = before['image_id']
        plan = plan_delete(p, before)
        if plan['error']:
            self.mod.fail(plan['error'])
        if plan['wait_first'] and not self.mod.check_mode:
            self.wait_for(image_id, target=SETTLED_STATUSES)

        to_delete, kept = [], {}
        if p['delete_snapshots']:
            to_delete, kept = self.api('cannot check whether the snapshots of image %s are still used' % image_id,
                                       plan_snapshot_deletion, self.client, image_snapshot_ids(before), image_id)
            self.warn_kept(image_id, kept)
        diff = {'before': diff_view(before), 'after': {}}
        if self.mod.check_mode:
            return True, before, diff, to_delete, list(kept)

        params = {'ImageId': image_id}
        if p['force']:
            params['Force'] = True
        try:
            self.client.call('DeleteImage', params)
        except ApiError as err:
            if err.code == 'InvalidImageId.NotFound' and err.attempts > 1:
                pass    # an earlier attempt deleted it, its answer was lost
            else:
                self.mod.rerun_hint = DELETE_REFUSALS.get(err.code)
                raise
        if to_delete or p['wait']:
            # The cloud lists a deleted image for a while and refuses its snapshots meanwhile
            # (SnapshotCreatedImage): wait until it is no longer listed - always when snapshots are to be deleted.
            self.mod.failure_extras.update(image=before, deleted_snapshots=[],
                                           kept_snapshots=list(kept) + list(to_delete))
            try:
                wait_image_gone(self.client, image_id, p['wait_timeout'])
            except WaitTimeout as exc:
                for snapshot_id in to_delete:
                    kept[snapshot_id] = ('image %s was still listed after wait_timeout=%ss, so its snapshots could '
                                         'not be deleted yet; delete the snapshot once the image is gone'
                                         % (image_id, p['wait_timeout']))
                self.warnings.append('image %s was deleted but is still listed: %s' % (image_id, exc))
                self.warn_kept(image_id, dict((s, kept[s]) for s in to_delete))
                return True, before, diff, [], list(kept)
        try:
            deleted, refused = delete_snapshots(self.client, to_delete)
        except ApiError as err:
            # the image is gone, so a rerun does not find these snapshots any more: say which they are
            self.mod.rerun_hint = ('Image %s is deleted, so a rerun does not see its snapshots: delete these yourself: '
                                   '%s' % (image_id, ', '.join(err.remaining)))
            self.mod.failure_extras.update(image=before, deleted_snapshots=err.deleted,
                                           kept_snapshots=list(kept) + list(err.kept))
            raise
        self.warn_kept(image_id, refused)
        kept.update(refused)
        return True, before, diff, deleted, list(kept)

    def warn_kept(self, image_id, kept):
        for snapshot_id, reason in kept.items():
            self.warnings.append('snapshot %s of image %s is kept: %s' % (snapshot_id, image_id, reason))

    # ------------------------------------------------------------------ main
    def run(self):
        p = self.p
        self.validate()
        before = self.read()
        result = {}
        if p['state'] == 'absent':
            if before is None:
                changed, image, diff, deleted, kept = False, {}, {'before': {}, 'after': {}}, [], []
                if p['image_id']:
                    elsewhere = image_regions(self.client, p['image_id'], self.region)
                    if elsewhere:
                        self.warnings.append(
                            'image_id %s does not exist in region %s, so nothing was deleted; it exists in %s - set '
                            'region to delete it there' % (p['image_id'], self.region, ', '.join(elsewhere)))
            else:
                changed, image, diff, deleted, kept = self.delete(before)
            result.update(deleted_snapshots=deleted, kept_snapshots=kept)
        elif before is None:
            changed, image, diff = self.create()
        else:
            changed, image, diff = self.update(before)
        for warning in self.warnings:
            self.mod.warn(warning)
        self.mod.exit(changed, image=image, diff=diff, adopted=self.adopted, **result)


def main():
    argument_spec = dict(
        state=dict(type='str', default='present', choices=['present', 'absent']),
        image_id=dict(type='str'),
        name=dict(type='str', aliases=['image_name']),
        instance_id=dict(type='str', aliases=['instance']),
        snapshot_id=dict(type='str', aliases=['snapshot']),
        disk_device_mappings=dict(type='list', elements='dict', aliases=['disk_mapping'], options=dict(
            snapshot_id=dict(type='str'),
            size=dict(type='int', aliases=['disk_size']),
            device=dict(type='str'),
            disk_type=dict(type='str', choices=['system', 'data']),
        )),
        description=dict(type='str'),
        image_family=dict(type='str'),
        image_version=dict(type='str', aliases=['version']),
        architecture=dict(type='str', choices=['i386', 'x86_64', 'arm64']),
        platform=dict(type='str'),
        boot_mode=dict(type='str', choices=['BIOS', 'UEFI', 'UEFI-Preferred']),
        tags=dict(type='dict'),
        purge_tags=dict(type='bool', default=True),
        resource_group_id=dict(type='str'),
        deprecated=dict(type='bool'),
        force=dict(type='bool', default=False),
        delete_snapshots=dict(type='bool', default=False),
        check_source=dict(type='bool', default=False),
    )
    argument_spec.update(WAIT_ARGUMENT_SPEC)
    mod = AlicloudModule(
        argument_spec,
        mutually_exclusive=[['instance_id', 'snapshot_id', 'disk_device_mappings']],
        required_one_of=[['image_id', 'name']],
        supports_check_mode=True,
        id_options={'image_id': 'image', 'instance_id': 'instance', 'snapshot_id': 'snapshot'},
    )
    mod.run(run, mod)


def run(mod):
    EcsImage(mod).run()


if __name__ == '__main__':
    main()
