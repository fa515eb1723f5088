#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) alicloud.ecs_images contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: ecs_image_info
short_description: List ECS images
version_added: 0.1.0
description:
  - Lists the images of a region (custom, public, shared, community and marketplace) that match the filters.
  - Reads every page of the answer (never only the first one) and returns the images newest first, each in the
    normalised model that M(alicloud.ecs_images.ecs_image) returns.
  - Unlike C(DescribeImages) alone, images in every status are listed by default, including images still being
    created and images whose creation failed.
author:
  - alicloud.ecs_images contributors (@alicloud)
options:
  image_ids:
    description:
      - Only these images. Unknown IDs are simply not listed.
    type: list
    elements: str
    aliases: [ids]
  name:
    description:
      - Only images with exactly this name.
    type: str
    aliases: [image_name]
  owner:
    description:
      - Kind of image - V(self) (your custom images), V(system) (public images), V(others) (images shared with
        you and community images) or V(marketplace).
      - When omitted the cloud lists V(system), V(self) and V(others).
    type: str
    choices: [system, self, others, marketplace]
    aliases: [image_owner_alias]
  status:
    description:
      - Only images in these statuses. When omitted every status is listed.
    type: list
    elements: str
    choices: [Creating, Waiting, Available, UnAvailable, CreateFailed, Deprecated]
  image_family:
    description:
      - Only images of this family.
    type: str
  architecture:
    description:
      - Only images of this architecture.
    type: str
    choices: [i386, x86_64, arm64]
  os_type:
    description:
      - Only images of this operating system type.
    type: str
    choices: [linux, windows]
  usage:
    description:
      - V(instance) lists only images that instances run from, V(none) only images no instance uses.
    type: str
    choices: [instance, none]
  instance_type:
    description:
      - Only images that can be used with this instance type, for example V(ecs.g7.large).
    type: str
  tags:
    description:
      - Only images that have all these tags (key and value).
    type: dict
extends_documentation_fragment:
  - alicloud.ecs_images.alicloud
attributes:
  check_mode:
    support: full
    description: Only reads, so it runs in check mode too.
  diff_mode:
    support: none
    description: Nothing is changed.
seealso:
  - module: alicloud.ecs_images.ecs_image
'''

EXAMPLES = r'''
- name: All my images, newest first, in every status
  alicloud.ecs_images.ecs_image_info:
    owner: self
  register: mine

- name: The newest available image of a family
  alicloud.ecs_images.ecs_image_info:
    owner: self
    image_family: web-base
    status: [Available]
  register: family

- name: Use it
  ansible.builtin.debug:
    msg: "{{ family.images[0].image_id if family.images else 'none' }}"

- name: One image by name
  alicloud.ecs_images.ecs_image_info:
    name: web-base-2026-11-26
    owner: self

- name: Images tagged app=web that no instance uses
  alicloud.ecs_images.ecs_image_info:
    owner: self
    usage: none
    tags:
      app: web
'''

RETURN = r'''
images:
  description:
    - The matching images, newest first (by creation time).
    - Each item is the normalised image model that M(alicloud.ecs_images.ecs_image) returns.
  returned: always
  type: list
  elements: dict
  contains:
    image_id:
      description: Image ID.
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
  sample:
    - image_id: m-bp1g7004ksh0oeuc0000
      name: web-base-2026-11-26
      description: Web server base image
      status: Available
      progress: 100
      size: 40
      region_id: cn-hangzhou
      image_family: web-base
      image_version: null
      architecture: x86_64
      os_type: linux
      os_name: CentOS 7.9 64 bit
      platform: CentOS
      boot_mode: BIOS
      owner_alias: self
      owner_id: "1234567890123456"
      usage: none
      is_self_shared: false
      is_copied: false
      is_public: false
      creation_time: "2026-11-26T07:00:00Z"
      resource_group_id: null
      tags:
        app: web
      disk_device_mappings:
        - device: /dev/xvda
          type: system
          snapshot_id: s-bp17ot2q7x72ggtw0000
          size: 40
          format: null
          import_oss_bucket: null
          import_oss_object: null
          progress: null
          remain_time: null
api_calls:
  description: Number of API requests the module sent (retries included); also returned on failure.
  returned: always
  type: int
  sample: 2
'''

from ansible_collections.alicloud.ecs_images.plugins.module_utils.base import AlicloudModule
from ansible_collections.alicloud.ecs_images.plugins.module_utils.images import (
    ALL_IMAGE_STATUSES, IMAGE_STATUSES, list_images, normalize_image, sort_newest_first,
)
from ansible_collections.alicloud.ecs_images.plugins.module_utils.tags import tag_params
from ansible_collections.alicloud.ecs_images.plugins.module_utils.validation import check_tags

IDS_PER_CALL = 100


def build_filters(p):
    """DescribeImages parameters for the module options (without ImageId)."""
    filters = {
        'ImageName': p['name'],
        'ImageOwnerAlias': p['owner'],
        'Status': ','.join(p['status']) if p['status'] else ALL_IMAGE_STATUSES,
        'ImageFamily': p['image_family'],
        'Architecture': p['architecture'],
        'OSType': p['os_type'],
        'Usage': p['usage'],
        'InstanceType': p['instance_type'],
    }
    if p['tags']:
        filters.update(tag_params(p['tags']))
    return dict((k, v) for k, v in filters.items() if v is not None)


def matches(image, p):
    """Client-side exact checks (the API's name filter is fuzzy)."""
    if p['name'] is not None and image.get('name') != p['name']:
        return False
    if p['image_ids'] and image.get('image_id') not in p['image_ids']:
        return False
    if p['tags']:
        for key, value in p['tags'].items():
            if image['tags'].get(key) != ('' if value is None else str(value)):
                return False
    return True


def main():
    argument_spec = dict(
        image_ids=dict(type='list', elements='str', aliases=['ids']),
        name=dict(type='str', aliases=['image_name']),
        owner=dict(type='str', choices=['system', 'self', 'others', 'marketplace'], aliases=['image_owner_alias']),
        status=dict(type='list', elements='str',
                    choices=list(IMAGE_STATUSES)),
        image_family=dict(type='str'),
        architecture=dict(type='str', choices=['i386', 'x86_64', 'arm64']),
        os_type=dict(type='str', choices=['linux', 'windows']),
        usage=dict(type='str', choices=['instance', 'none']),
        instance_type=dict(type='str'),
        tags=dict(type='dict'),
    )
    mod = AlicloudModule(argument_spec, supports_check_mode=True)
    mod.run(run, mod)


def run(mod):
    p = mod.params
    check_tags(mod, p['tags'])
    filters = build_filters(p)
    client = mod.client()
    raw_images = []
    if p['image_ids'] is not None:
        ids = list(dict.fromkeys(i for i in p['image_ids'] if i))
        for start in range(0, len(ids), IDS_PER_CALL):
            batch = ids[start:start + IDS_PER_CALL]
            found = list_images(client, dict(filters, ImageId=','.join(batch)))
            raw_images.extend(found)
            if len(batch) > 1:
                # Unconfirmed whether the cloud takes a comma list in ImageId: ids a list call did not
                # return are asked one by one (one id always works), so the answer is right either way.
                seen = set(i.get('ImageId') for i in found)
                for image_id in batch:
                    if image_id not in seen:
                        raw_images.extend(list_images(client, dict(filters, ImageId=image_id)))
    else:
        raw_images = list_images(client, filters)
    images = [normalize_image(raw) for raw in raw_images]
    images = sort_newest_first([image for image in images if matches(image, p)])
    mod.exit(False, images=images)


if __name__ == '__main__':
    main()
