#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) alicloud.ecs_images contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: ecs_image_import
short_description: Import a custom ECS image from disk image files in OSS
version_added: 0.1.0
description:
  - Imports a custom image from one or more disk image files (RAW, VHD or QCOW2) stored in an Object Storage
    Service (OSS) bucket of the same region, with ImportImage, and follows the import task and the image until
    the image is C(Available).
  - O(name) is the idempotency key. When an image of this name owned by the account already exists, in any
    status, nothing is imported again; when that image is still being imported, the module waits for it
    (with O(wait=true)).
  - Before any change the module checks, through the OSS API, that each bucket and object exists and that
    the declared format is one ImportImage accepts and matches what the file looks like (qcow2 magic at the
    start, C(conectix) VHD footer at the end, VMDK and VDI signatures; RAW is a file with none of these).
  - An import that fails makes the module fail with the error the import task reports.
  - Tags, description and the other settings are applied only when the image is imported; use
    M(alicloud.ecs_images.ecs_image) to change them afterwards.
author:
  - alicloud.ecs_images contributors (@alicloud)
options:
  name:
    description:
      - Name of the image to import; the idempotency key (images owned by the account, every status).
      - 2 to 128 characters, starting with a letter; letters, digits, C(.), C(:), C(_) and C(-).
    type: str
    required: true
  oss_bucket:
    description:
      - OSS bucket holding the system disk image file, for a single-disk import.
      - The bucket must be in the module's region.
      - Required with O(oss_object); mutually exclusive with O(disk_device_mappings).
    type: str
  oss_object:
    description:
      - Object key of the system disk image file in O(oss_bucket).
    type: str
  format:
    description:
      - Format of the file in O(oss_object) - C(RAW), C(VHD) or C(QCOW2), in any case.
      - Any other format (VMDK, VDI, ...) must be converted first, for example with C(qemu-img convert).
      - When not set, the format is detected from the file.
    type: str
  disk_device_mappings:
    description:
      - The disks of the image, for an import of a system disk plus data disks. The first entry is the system
        disk, the others (up to 16) are data disks.
      - Mutually exclusive with O(oss_bucket), O(oss_object) and O(format).
    type: list
    elements: dict
    suboptions:
      oss_bucket:
        description: OSS bucket holding the disk image file (in the module's region).
        type: str
        required: true
      oss_object:
        description: Object key of the disk image file.
        type: str
        required: true
      format:
        description:
          - C(RAW), C(VHD) or C(QCOW2) (any case); detected from the file when not set.
        type: str
      disk_image_size:
        description:
          - Size of the disk in GiB (1 to 2048); must not be smaller than the virtual size of the file.
          - When not set, the cloud uses the size of the file.
        type: int
      device:
        description:
          - Device name of the disk, for example C(/dev/xvdb). Deprecated by the cloud; usually left unset.
        type: str
  architecture:
    description:
      - Architecture of the operating system in the image. The cloud defaults to C(x86_64).
      - C(arm64) images boot only in UEFI mode; O(boot_mode) is set to C(UEFI) when not given.
    type: str
    choices: [x86_64, i386, arm64]
  platform:
    description:
      - Operating system distribution, for example C(CentOS), C(Ubuntu), C(Windows Server 2022),
        C(Others Linux) (the cloud's default) or C(Other Windows).
    type: str
  os_type:
    description:
      - Type of the operating system. The cloud defaults to C(linux).
    type: str
    choices: [linux, windows]
  boot_mode:
    description:
      - Boot mode of the image. The cloud defaults to C(BIOS) (C(UEFI) for arm64).
    type: str
    choices: [BIOS, UEFI]
  license_type:
    description:
      - Licence used to activate the operating system after the import - V(Aliyun) (Alibaba Cloud's licence) or
        V(BYOL) (bring your own licence), the values of the current ImportImage API.
      - V(Auto) (a value of older API versions) is accepted and means "let the cloud choose" - C(LicenseType) is
        then not sent, which is the same as leaving this option out.
    type: str
    choices: [Auto, Aliyun, BYOL]
  role_name:
    description:
      - RAM role the ECS service assumes to read the bucket. The cloud defaults to
        C(AliyunECSImageImportDefaultRole).
    type: str
  description:
    description:
      - Description of the image, 2 to 256 characters, not starting with C(http://) or C(https://).
    type: str
  tags:
    description:
      - Tags to put on the image when it is imported (up to 20).
    type: dict
  resource_group_id:
    description:
      - Resource group the image is put in.
    type: str
extends_documentation_fragment:
  - alicloud.ecs_images.alicloud
  - alicloud.ecs_images.alicloud.wait
  - alicloud.ecs_images.oss
notes:
  - With O(wait=false) the module returns as soon as the import has started; a later run with the same O(name)
    waits for it. O(wait_timeout) covers the import task and the image together.
  - Importing needs the RAM role O(role_name) authorised to read the bucket (see the cloud's documentation on
    authorising ECS to access OSS).
  - The OSS checks read at most 1 KiB of each object (ranged reads of its first and last 512 bytes).
  - The import call carries a client token reused on every retry, so a lost answer never creates a second image.
seealso:
  - module: alicloud.ecs_images.ecs_image_export
  - module: alicloud.ecs_images.ecs_image_info
  - module: alicloud.ecs_images.ecs_image
attributes:
  check_mode:
    support: full
    description: The OSS checks run in check mode too, so a missing object or a wrong format fails there as well.
  diff_mode:
    support: full
    description: Shows the image to import (name and disks) before and after; nothing changes when the name exists.
'''

EXAMPLES = r'''
- name: Import a QCOW2 system disk
  alicloud.ecs_images.ecs_image_import:
    name: web-base-2026-11
    oss_bucket: images-hz
    oss_object: disks/web-base.qcow2
    format: QCOW2
    platform: Ubuntu
    architecture: x86_64
    tags:
      team: web
  register: imported

- name: Import a system disk and a data disk, start only (a rerun waits for it)
  alicloud.ecs_images.ecs_image_import:
    name: db-2026-11
    disk_device_mappings:
      - oss_bucket: images-hz
        oss_object: disks/db-system.raw
        format: RAW
        disk_image_size: 40
      - oss_bucket: images-hz
        oss_object: disks/db-data.vhd
        format: VHD
        disk_image_size: 100
    os_type: linux
    wait: false

- name: Import an arm64 image through another endpoint
  alicloud.ecs_images.ecs_image_import:
    name: arm-base
    oss_bucket: images-hz
    oss_object: disks/arm.raw
    architecture: arm64
    oss_endpoint: oss-cn-hangzhou-internal.aliyuncs.com
'''

RETURN = r'''
image:
  description:
    - The image (normalised like M(alicloud.ecs_images.ecs_image_info)), as read after the import or the wait.
    - Empty in check mode when the image would be imported.
  returned: always
  type: dict
  sample:
    image_id: m-bp1g7004ksh0oeuc****
    name: web-base-2026-11
    status: Available
    progress: 100
    size: 40
    architecture: x86_64
    platform: Ubuntu
    os_type: linux
    tags: {team: web}
    disk_device_mappings:
      - device: /dev/xvda
        type: system
        snapshot_id: s-bp1a5f5k0p0ue9ll****
        size: 40
        format: QCOW2
        import_oss_bucket: images-hz
        import_oss_object: disks/web-base.qcow2
        progress: 100
        remain_time: 0
image_id:
  description: ID of the image; empty in check mode when the image would be imported.
  returned: always
  type: str
  sample: m-bp1g7004ksh0oeuc****
adopted:
  description:
    - V(true) when another run (a second AWX job, another operator) started importing an image of the same
      name at the same time and won the race for the name; this run adopted that import and waited for it as a
      rerun would, instead of failing with C(InvalidImageName.Duplicated).
  returned: success
  type: bool
  sample: false
task_id:
  description:
    - ID of the ImportImage task this run started or waited for.
    - Empty when the image already existed and no import of it was running, and in check mode.
  returned: always
  type: str
  sample: t-bp1d5a6s2hk8mfcs****
disks:
  description: The disks as checked in OSS and sent to ImportImage (format upper-case, size of the file in bytes).
  returned: when the image is imported (also in check mode)
  type: list
  elements: dict
  sample:
    - oss_bucket: images-hz
      oss_object: disks/web-base.qcow2
      format: QCOW2
      object_size: 1073741824
      disk_image_size: null
      device: null
api_calls:
  description: Number of API requests the module sent (retries included); also returned on failure.
  returned: always
  type: int
  sample: 2
'''

import time

from ansible_collections.alicloud.ecs_images.plugins.module_utils.base import AlicloudModule, WAIT_ARGUMENT_SPEC
from ansible_collections.alicloud.ecs_images.plugins.module_utils.client import ApiError
from ansible_collections.alicloud.ecs_images.plugins.module_utils.images import (
    IN_FLIGHT_STATUSES, create_or_adopt, find_images_by_name, describe_image, normalize_image)
from ansible_collections.alicloud.ecs_images.plugins.module_utils.tags import tag_params
from ansible_collections.alicloud.ecs_images.plugins.module_utils.validation import (
    OptionError, check_name, check_description, check_tags)
from ansible_collections.alicloud.ecs_images.plugins.module_utils.waiters import (
    WaitFailed, WaitTimeout, wait_image)
from ansible_collections.alicloud.ecs_images.plugins.module_utils.image_tasks import follow_task
from ansible_collections.alicloud.ecs_images.plugins.module_utils.tasks import (
    describe_task, find_tasks, running_tasks, task_failure_message)
from ansible_collections.alicloud.ecs_images.plugins.module_utils.oss import (
    OSS_ARGUMENT_SPEC, HAS_OSS2, OSS2_IMPORT_ERROR, IMPORT_FORMATS, OssCheckError, check_import_disk,
    check_import_format, normalize_import_format, oss_client)

MAX_DISKS = 17


class PlanError(OptionError):
    """The import cannot be planned from the options given."""


def build_disks(params):
    """The list of disks to import from the module parameters (pure; raises PlanError naming the option)."""
    if params.get('disk_device_mappings'):
        raw = params['disk_device_mappings']
        if len(raw) > MAX_DISKS:
            raise PlanError('disk_device_mappings has %d entries; ImportImage takes at most %d (1 system disk and '
                            '16 data disks)' % (len(raw), MAX_DISKS), 'disk_device_mappings')
        disks = []
        for i, d in enumerate(raw):
            where = 'disk_device_mappings[%d]' % i
            disks.append(_disk(d, where))
        return disks
    return [_disk(dict(oss_bucket=params['oss_bucket'], oss_object=params['oss_object'], format=params.get('format'),
                       disk_image_size=None, device=None), 'oss_object')]


def _disk(d, where):
    fmt = normalize_import_format(d.get('format'))
    if fmt is not None and fmt not in IMPORT_FORMATS:
        try:
            check_import_format(fmt, None, where)
        except OssCheckError as e:
            raise PlanError(e.msg, where + '.format' if where.startswith('disk_') else 'format')
    size = d.get('disk_image_size')
    if size is not None and not 1 <= size <= 2048:
        raise PlanError('%s.disk_image_size is %s; it must be 1 to 2048 (GiB)' % (where, size),
                        where + '.disk_image_size')
    if not d.get('oss_bucket') or not d.get('oss_object'):
        raise PlanError('%s: oss_bucket and oss_object must not be empty' % where, where)
    return dict(oss_bucket=d['oss_bucket'], oss_object=d['oss_object'], format=fmt,
                disk_image_size=size, device=d.get('device'))


def resolve_boot_mode(architecture, boot_mode):
    """arm64 boots only in UEFI mode (pure; raises PlanError)."""
    if architecture == 'arm64':
        if boot_mode == 'BIOS':
            raise PlanError('boot_mode BIOS is not possible with architecture arm64; arm64 images boot in UEFI mode',
                            'boot_mode')
        return 'UEFI'
    return boot_mode


def import_params(params, disks, boot_mode):
    """ImportImage request parameters (pure)."""
    req = {
        'ImageName': params['name'],
        'Description': params.get('description'),
        'Architecture': params.get('architecture'),
        'Platform': params.get('platform'),
        'OSType': params.get('os_type'),
        'BootMode': boot_mode,
        'LicenseType': None if params.get('license_type') == 'Auto' else params.get('license_type'),
        'RoleName': params.get('role_name'),
        'ResourceGroupId': params.get('resource_group_id'),
    }
    for n, d in enumerate(disks, 1):
        req['DiskDeviceMapping.%d.OSSBucket' % n] = d['oss_bucket']
        req['DiskDeviceMapping.%d.OSSObject' % n] = d['oss_object']
        req['DiskDeviceMapping.%d.Format' % n] = d['format']
        req['DiskDeviceMapping.%d.DiskImageSize' % n] = d['disk_image_size']
        req['DiskDeviceMapping.%d.Device' % n] = d['device']
    if params.get('tags'):
        req.update(tag_params(params['tags']))
    return dict((k, v) for k, v in req.items() if v is not None)


def plan_existing(images):
    """Decide what to do from the images already carrying the name (pure).

    Returns one of ('import', None), ('present', image), ('join', image), ('failed', image);
    raises PlanError when several images carry the name.
    """
    if not images:
        return 'import', None
    if len(images) > 1:
        raise PlanError('%d images owned by this account are named %r (%s); the name must identify one image'
                        % (len(images), images[0].get('ImageName'),
                           ', '.join(sorted(i.get('ImageId', '?') for i in images))), 'name')
    image = images[0]
    status = image.get('Status')
    if status in IN_FLIGHT_STATUSES:
        return 'join', image
    if status == 'CreateFailed':   # an UnAvailable image was imported once: it is present
        return 'failed', image
    return 'present', image


def source_mismatch(image, disks):
    """Text describing how an existing image's import source differs from the requested disks, or None."""
    mappings = ((image.get('DiskDeviceMappings') or {}).get('DiskDeviceMapping')) or []
    have = [(m.get('ImportOSSBucket'), m.get('ImportOSSObject')) for m in mappings
            if m.get('ImportOSSBucket') or m.get('ImportOSSObject')]
    if not have:
        return None
    want = [(d['oss_bucket'], d['oss_object']) for d in disks]
    if sorted(have) != sorted(want):
        return ('the existing image %s was imported from %s, not from %s; it is kept as it is (the name is the '
                'idempotency key)' % (image.get('ImageId'), _oss_list(have), _oss_list(want)))
    return None


def _oss_list(pairs):
    return ', '.join('oss://%s/%s' % p for p in pairs)


def diff_for(name, disks, image=None):
    before = {}
    if image is not None:
        before = dict(name=name, image_id=image.get('image_id'), status=image.get('status'))
        return dict(before=before, after=before)
    after = dict(name=name, disks=['oss://%s/%s (%s)' % (d['oss_bucket'], d['oss_object'], d['format']) for d in disks])
    return dict(before=before, after=after)


class Importer:

    def __init__(self, amodule):
        self.am = amodule
        self.params = amodule.params
        self.client = amodule.client()

    def find_import_task(self, image_id, status=None):
        """The image's import task that is queued or running (``status`` None), or the one in ``status``."""
        if status is None:
            tasks = running_tasks(self.client, 'ImportImage', resource_id=image_id)
        else:
            tasks = find_tasks(self.client, 'ImportImage', status=status, resource_id=image_id)
        return tasks[0]['TaskId'] if tasks else None

    def follow(self, image_id, task_id):
        """Wait for the import task (when known), then for the image; fail at once with the task's error
        (WaitFailed/WaitTimeout/ApiError go to the failure boundary, which says that the import started)."""
        self.am.failure_extras.update(image_id=image_id, task_id=task_id or '')
        deadline = time.monotonic() + self.params['wait_timeout']
        try:
            if task_id:
                follow_task(self.client, task_id, self.params['wait_timeout'], kind='import')
                # the image is normally Available as soon as its task has finished: look before waiting
                raw = describe_image(self.client, image_id)
                if raw is not None and raw.get('Status') == 'Available':
                    return raw
            return wait_image(self.client, image_id, max(0, deadline - time.monotonic()), kind='import')
        except WaitFailed as e:
            if not task_id:
                # the image failed, and its task is not known: add the failed task's error (the cloud's reason)
                e = WaitFailed('%s; %s' % (e, self.failure_text(image_id)), e.last, e.polls, e.elapsed, e.what)
            e.context = 'import of image %s (%s)' % (self.params['name'], image_id)
            raise e
        except WaitTimeout as e:
            e.context = 'import of image %s (%s)' % (self.params['name'], image_id)
            raise

    def failure_text(self, image_id):
        """The failed import task's error for an image whose import failed."""
        try:
            task_id = self.find_import_task(image_id, status='Failed')
            task = describe_task(self.client, task_id) if task_id else None
        except ApiError:
            task = None
        if task:
            return task_failure_message(task)
        return 'no failed import task found for the image'

    def exit_if_exists(self, action, existing, disks, adopted=False):
        """Fail on a failed earlier import; exit (after waiting, like a rerun) when the image exists or is being
        imported; return when there is nothing yet. ``adopted``: another run won the race for the name."""
        p = self.params
        if action == 'failed':
            self.am.fail('image %s (%s) already exists in status %s - an earlier import failed (%s). '
                         'It is not imported again automatically: delete it (alicloud.ecs_images.ecs_image '
                         'state=absent) and run again.'
                         % (p['name'], existing.get('ImageId'), existing.get('Status'), self.failure_text(existing['ImageId'])),
                         image=normalize_image(existing), image_id=existing.get('ImageId'), task_id='')

        if action in ('present', 'join'):
            mismatch = source_mismatch(existing, disks)
            if mismatch:
                self.am.warn(mismatch)
            image_id = existing['ImageId']
            task_id = ''
            raw = existing
            if action == 'join':
                task_id = self.find_import_task(image_id) or ''
                if p['wait'] and not self.am.check_mode:
                    raw = self.follow(image_id, task_id)
            elif existing.get('Status') != 'Available':
                self.am.warn('image %s (%s) exists in status %s' % (p['name'], image_id, existing.get('Status')))
            image = normalize_image(raw)
            self.am.exit(False, image=image, image_id=image_id, task_id=task_id, adopted=adopted,
                         diff=diff_for(p['name'], disks, image))

    def run(self):
        p = self.params
        check_name(self.am, 'name', p['name'])
        if p.get('description') is not None:
            check_description(self.am, 'description', p['description'])
        if p.get('tags'):
            check_tags(self.am, p['tags'])
        try:
            disks = build_disks(p)
            boot_mode = resolve_boot_mode(p.get('architecture'), p.get('boot_mode'))
            action, existing = plan_existing(find_images_by_name(self.client, p['name'], owner='self'))
        except PlanError as e:
            self.am.fail(e.msg, option=e.option)

        self.exit_if_exists(action, existing, disks)

        # import: check every object first (read-only OSS calls), then call ImportImage once.
        if not HAS_OSS2:
            self.am.module.fail_json(msg='the oss2 Python library is required to check the OSS objects',
                                     exception=OSS2_IMPORT_ERROR)
        oss = oss_client(self.am)
        checked = []
        for i, d in enumerate(disks):
            where = ('disk_device_mappings[%d] (oss://%s/%s)' % (i, d['oss_bucket'], d['oss_object'])
                     if p.get('disk_device_mappings') else 'oss://%s/%s' % (d['oss_bucket'], d['oss_object']))
            try:
                fmt, size = check_import_disk(oss, d, where)
            except OssCheckError as e:
                if not p.get('disk_device_mappings'):
                    raise
                raise OptionError(e.msg, 'disk_device_mappings[%d].%s' % (i, e.option or 'oss_object'))
            checked.append(dict(d, format=fmt, object_size=size))

        diff = diff_for(p['name'], checked)
        if self.am.check_mode:
            self.am.exit(True, image={}, image_id='', task_id='', disks=checked, adopted=False, diff=diff)

        req = import_params(p, checked, boot_mode)
        resp, other = create_or_adopt(self.client, 'ImportImage', req, p['name'])
        if other is not None:
            # another run (a second AWX job, another operator) imports this name meanwhile: adopt its import
            action, existing = plan_existing([other])
            self.exit_if_exists(action, existing, disks, adopted=True)
        image_id, task_id = resp.get('ImageId'), resp.get('TaskId') or ''
        if p['wait']:
            raw = self.follow(image_id, task_id)
        else:
            raw = describe_image(self.client, image_id)
            if raw is None:   # not listed yet (eventual consistency): what ImportImage just created
                raw = {'ImageId': image_id, 'ImageName': p['name'], 'Status': 'Creating'}
        image = normalize_image(raw)
        diff['after'].update(image_id=image_id)
        self.am.exit(True, image=image, image_id=image_id, task_id=task_id, disks=checked, adopted=False, diff=diff)


def main():
    disk_spec = dict(
        oss_bucket=dict(type='str', required=True),
        oss_object=dict(type='str', required=True),
        format=dict(type='str'),
        disk_image_size=dict(type='int'),
        device=dict(type='str'),
    )
    argument_spec = dict(
        name=dict(type='str', required=True),
        oss_bucket=dict(type='str'),
        oss_object=dict(type='str'),
        format=dict(type='str'),
        disk_device_mappings=dict(type='list', elements='dict', options=disk_spec),
        architecture=dict(type='str', choices=['x86_64', 'i386', 'arm64']),
        platform=dict(type='str'),
        os_type=dict(type='str', choices=['linux', 'windows']),
        boot_mode=dict(type='str', choices=['BIOS', 'UEFI']),
        license_type=dict(type='str', choices=['Auto', 'Aliyun', 'BYOL']),
        role_name=dict(type='str'),
        description=dict(type='str'),
        tags=dict(type='dict'),
        resource_group_id=dict(type='str'),
    )
    argument_spec.update(WAIT_ARGUMENT_SPEC)
    argument_spec.update(OSS_ARGUMENT_SPEC)
    amodule = AlicloudModule(
        argument_spec,
        supports_check_mode=True,
        mutually_exclusive=[('disk_device_mappings', 'oss_bucket'), ('disk_device_mappings', 'oss_object'),
                            ('disk_device_mappings', 'format')],
        required_one_of=[('oss_object', 'disk_device_mappings')],
        required_together=[('oss_bucket', 'oss_object')],
    )
    amodule.run(run, amodule)


def run(amodule):
    Importer(amodule).run()


if __name__ == '__main__':
    main()
