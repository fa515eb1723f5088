#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) alicloud.ecs_images contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: ecs_image_export
short_description: Export a custom ECS image to OSS
version_added: 0.1.0
description:
  - Exports a custom image of the account to an Object Storage Service (OSS) bucket of the same region with
    ExportImage, in RAW, VHD, QCOW2, VMDK or VDI format, and follows the export task until it has finished.
  - Idempotent. Nothing is exported when the bucket already holds the objects of an earlier export of the
    image with the same O(oss_prefix) and O(image_format) (unless O(force=true)), or when an export of the image
    to the same bucket, prefix and format is running; a run during an export waits for it (with O(wait=true)).
  - Refuses, before any change, images that cannot be exported - an image that is not the account's own
    custom image (public, shared, community or marketplace), an image derived from a marketplace image, an image
    that is not C(Available) - as well as an invalid O(oss_prefix) and a bucket that does not exist.
  - An export that fails makes the module fail with the error the export task reports.
author:
  - alicloud.ecs_images contributors (@alicloud)
options:
  image_id:
    description:
      - ID of the custom image to export.
    type: str
    required: true
  oss_bucket:
    description:
      - OSS bucket, in the module's region, the image file(s) are written to.
    type: str
    required: true
  oss_prefix:
    description:
      - Prefix of the object names, 1 to 30 letters and digits. The cloud names the objects
        C(<oss_prefix>_<image_id>_<task_id>...) followed by the format's extension.
    type: str
  image_format:
    description:
      - Format of the exported file(s).
    type: str
    choices: [raw, vhd, qcow2, vmdk, vdi]
    default: raw
  role_name:
    description:
      - RAM role the ECS service assumes to write to the bucket. The cloud defaults to
        C(AliyunECSImageExportDefaultRole).
    type: str
  force:
    description:
      - Export again even when the bucket already holds the objects of an earlier export of the image with the
        same prefix and format.
      - An export of the image that is running is still waited for and never started twice; the cloud runs one
        export of an image at a time.
    type: bool
    default: false
  wait:
    description:
      - Wait until the export task has finished and return the object keys it wrote.
      - With V(false) the module returns as soon as the export has started (RV(oss_objects) is then empty); a
        later run waits for it.
  wait_timeout:
    description:
      - How long to wait for the export task (and for another export of the image to end first), in seconds.
    default: 3600
extends_documentation_fragment:
  - alicloud.ecs_images.alicloud
  - alicloud.ecs_images.alicloud.wait
  - alicloud.ecs_images.oss
notes:
  - Exporting needs the RAM role O(role_name) authorised to write to the bucket.
  - The cloud exports an image of at most 4 data disks of at most 500 GiB each.
  - Earlier exports are recognised by their object names in the bucket (one list call per run).
seealso:
  - module: alicloud.ecs_images.ecs_image_import
  - module: alicloud.ecs_images.ecs_image_info
attributes:
  check_mode:
    support: full
    description: The refusals and the bucket check run in check mode too.
  diff_mode:
    support: full
    description: Shows the export objects of the image, prefix and format in the bucket before and after (a new export as C(<task id>)).
'''

EXAMPLES = r'''
- name: Export an image as QCOW2 for a private cloud
  alicloud.ecs_images.ecs_image_export:
    image_id: "{{ image.image_id }}"
    oss_bucket: images-hz
    oss_prefix: nightly
    image_format: qcow2
  register: exported

- name: Show where the files are
  ansible.builtin.debug:
    msg: "{{ exported.oss_objects | map('regex_replace', '^', 'oss://' ~ exported.oss_bucket ~ '/') | list }}"

- name: Export again although an export with this prefix and format exists
  alicloud.ecs_images.ecs_image_export:
    image_id: m-bp1g7004ksh0oeuc****
    oss_bucket: images-hz
    oss_prefix: nightly
    image_format: vmdk
    force: true
    wait: false
'''

RETURN = r'''
task_id:
  description:
    - ID of the ExportImage task that wrote (or is writing) the objects; for an export found in the bucket,
      the task id in the newest matching object names.
    - Empty in check mode when an export would be started.
  returned: always
  type: str
  sample: t-bp1d5a6s2hk8mfcs****
image_id:
  description: ID of the exported image.
  returned: always
  type: str
  sample: m-bp1g7004ksh0oeuc****
oss_bucket:
  description: The bucket the objects are in.
  returned: always
  type: str
  sample: images-hz
oss_prefix:
  description: The prefix of the object names (empty when none was given).
  returned: always
  type: str
  sample: nightly
image_format:
  description: Format of the exported objects.
  returned: always
  type: str
  sample: qcow2
oss_objects:
  description:
    - Keys of the objects the export wrote in O(oss_bucket).
    - Empty when the export is still running (O(wait=false)) and in check mode.
  returned: always
  type: list
  elements: str
  sample: [nightly_m-bp1g7004ksh0oeuc****_t-bp1d5a6s2hk8mfcs****.qcow2]
task_status:
  description:
    - Status of the export task when the module returned (C(Finished), C(Processing)); C(Finished) when the
      objects were found in the bucket; empty in check mode.
  returned: always
  type: str
  sample: Finished
'''

import time

from ansible_collections.alicloud.ecs_images.plugins.module_utils.base import AlicloudModule
from ansible_collections.alicloud.ecs_images.plugins.module_utils.client import ApiError
from ansible_collections.alicloud.ecs_images.plugins.module_utils.images import describe_image
from ansible_collections.alicloud.ecs_images.plugins.module_utils.validation import OptionError
from ansible_collections.alicloud.ecs_images.plugins.module_utils.waiters import WaitFailed, WaitTimeout
from ansible_collections.alicloud.ecs_images.plugins.module_utils.image_tasks import follow_task
from ansible_collections.alicloud.ecs_images.plugins.module_utils.tasks import (
    describe_task, find_tasks, task_related_values)
from ansible_collections.alicloud.ecs_images.plugins.module_utils.oss import (
    OSS_ARGUMENT_SPEC, HAS_OSS2, OSS2_IMPORT_ERROR, EXPORT_FORMATS, check_export_prefix, export_key_pattern,
    match_export_objects, oss2_exceptions, oss_client, oss_error_text)


class Refusal(OptionError):
    """The image cannot be exported (found before any change)."""


def _truthy(value):
    return str(value).lower() == 'true' if value is not None else False


def refusal(image, image_id, region):
    """Why ``image`` (raw DescribeImages entry or None) cannot be exported, or None (pure)."""
    if image is None:
        return 'image_id %s does not exist in region %s' % (image_id, region)
    alias = image.get('ImageOwnerAlias')
    if alias != 'self':
        return ('image_id %s is not a custom image of this account (owner alias %r); only your own custom images '
                'can be exported' % (image_id, alias))
    if image.get('ProductCode') or _truthy(image.get('IsSubscribed')):
        return ('image_id %s is derived from an Alibaba Cloud Marketplace image (product code %r); the cloud does '
                'not export marketplace-derived images' % (image_id, image.get('ProductCode') or ''))
    if image.get('Status') != 'Available':
        return ('image_id %s is in status %s; only Available images can be exported'
                % (image_id, image.get('Status')))
    return None


def classify_running(tasks_attrs, image_id, bucket, prefix, image_format):
    """Split running export tasks of the image into (matching, other) task ids (pure).

    ``tasks_attrs``: list of (task_id, DescribeTaskAttribute answer or None). A task writes what we want when
    its bucket, format and object names (as far as the task tells them) match; a task whose destination cannot
    be told is counted as matching (the cloud runs one export per image at a time).
    """
    pattern = export_key_pattern(image_id, prefix, image_format)
    matching, other = [], []
    for task_id, attrs in tasks_attrs:
        buckets = task_related_values(attrs, 'OSSBucket')
        formats = [f.lower() for f in task_related_values(attrs, 'ImageFormat')]
        objects = task_related_values(attrs, 'OSSObject')
        ok = ((not buckets or bucket in buckets) and (not formats or image_format in formats)
              and (not objects or all(pattern.match(o) for o in objects)))
        (matching if ok else other).append(task_id)
    return matching, other


def newest_export(groups, modified):
    """From {task_id: [keys]} pick the group with the most recently modified object (pure)."""
    if not groups:
        return None, []
    best = max(groups, key=lambda t: (max(modified.get(k, 0) for k in groups[t]), t))
    return best, groups[best]


def list_prefix(image_id, prefix):
    return '%s_%s_' % (prefix, image_id) if prefix else '%s_' % image_id


class Exporter:

    def __init__(self, amodule):
        self.am = amodule
        self.p = amodule.params
        self.client = amodule.client()
        self.deadline = time.monotonic() + self.p['wait_timeout']
        self.fmt = self.p['image_format']
        self.prefix = self.p.get('oss_prefix') or ''

    def result(self, changed, task_id, keys, status, diff):
        self.am.exit(changed, task_id=task_id or '', image_id=self.p['image_id'], oss_bucket=self.p['oss_bucket'],
                     oss_prefix=self.prefix, image_format=self.fmt, oss_objects=list(keys), task_status=status or '',
                     diff=diff)

    def remaining(self):
        return max(1, self.deadline - time.monotonic())

    def running_exports(self):
        tasks = find_tasks(self.client, 'ExportImage', status='Processing', resource_id=self.p['image_id'])
        pairs = [(t['TaskId'], describe_task(self.client, t['TaskId'])) for t in tasks]
        return classify_running(pairs, self.p['image_id'], self.p['oss_bucket'], self.prefix, self.fmt)

    def wait_for(self, task_id, what):
        """Wait for an export task until the overall deadline; fail at once with the task's error."""
        try:
            return follow_task(self.client, task_id, self.remaining())
        except WaitFailed as e:
            self.am.fail('%s failed: %s' % (what, e), task_id=task_id)
        except WaitTimeout as e:
            self.am.fail('%s did not finish within wait_timeout=%s seconds: %s' % (what, self.p['wait_timeout'], e),
                         task_id=task_id)

    def objects_of(self, oss, task_id, task):
        """Keys the finished task wrote: from the task's related items, else from the bucket listing."""
        keys = sorted(set(task_related_values(task, 'OSSObject')))
        if keys:
            return keys
        groups = match_export_objects(self.bucket_keys(oss)[0], self.p['image_id'], self.prefix, self.fmt)
        return groups.get(task_id, [])

    def list_keys(self, oss):
        bucket = oss.bucket(self.p['oss_bucket'])
        keys, modified, marker = [], {}, ''
        while True:
            res = bucket.list_objects(prefix=list_prefix(self.p['image_id'], self.prefix), marker=marker,
                                      max_keys=1000)
            for o in res.object_list:
                keys.append(o.key)
                modified[o.key] = o.last_modified or 0
            if not res.is_truncated or not res.next_marker:
                return keys, modified
            marker = res.next_marker

    def bucket_keys(self, oss):
        """(keys, last_modified by key) of earlier exports of the image; fails naming oss_bucket on OSS errors."""
        try:
            return self.list_keys(oss)
        except oss2_exceptions.NoSuchBucket:
            self.am.fail('oss_bucket %r does not exist at %s' % (self.p['oss_bucket'], oss.endpoint),
                         option='oss_bucket')
        except oss2_exceptions.OssError as e:
            self.am.fail('oss_bucket %r cannot be listed at %s: %s'
                         % (self.p['oss_bucket'], oss.endpoint, oss_error_text(e)), option='oss_bucket')

    def finish(self, oss, changed, task_id, diff):
        """Wait (or not) for ``task_id`` and exit."""
        if not self.p['wait']:
            task = describe_task(self.client, task_id)
            status = (task or {}).get('TaskStatus', '')
            keys = self.objects_of(oss, task_id, task) if status == 'Finished' else []
            self.result(changed, task_id, keys, status, diff)
        task = self.wait_for(task_id, 'export of image %s' % self.p['image_id'])
        keys = self.objects_of(oss, task_id, task)
        diff['after'] = dict(oss_objects=sorted(set(diff['before'].get('oss_objects', [])) | set(keys)))
        self.result(changed, task_id, keys, 'Finished', diff)

    def run(self):
        p = self.p
        msg = check_export_prefix(p.get('oss_prefix'))
        if msg:
            self.am.fail(msg, option='oss_prefix')
        if not HAS_OSS2:
            self.am.module.fail_json(msg='the oss2 Python library is required to check the bucket',
                                     exception=OSS2_IMPORT_ERROR)
        image = describe_image(self.client, p['image_id'])
        why = refusal(image, p['image_id'], self.am.region)
        if why:
            self.am.fail(why, option='image_id', image_status=(image or {}).get('Status', ''))
        oss = oss_client(self.am)
        keys, modified = self.bucket_keys(oss)     # also the bucket check, before any change

        # an export of the image that is running: join it when it writes what we want, else let it end first
        matching, other = self.running_exports()
        diff = dict(before=dict(oss_objects=[]), after=dict(oss_objects=[]))
        if matching:
            if self.am.check_mode:
                self.result(False, matching[0], [], 'Processing', diff)
            self.finish(oss, False, matching[0], diff)
        if other:
            if not p['wait']:
                self.am.fail('another export of image %s is running (task %s); the cloud runs one export of an '
                             'image at a time. Run again later or with wait=true to wait for it first.'
                             % (p['image_id'], ', '.join(other)), task_id=other[0])
            if not self.am.check_mode:   # check mode predicts from the bucket as it is (the other export
                for task_id in other:    # writes other objects)
                    self.wait_for(task_id, 'the other export of image %s' % p['image_id'])
                keys, modified = self.bucket_keys(oss)

        groups = match_export_objects(keys, p['image_id'], self.prefix, self.fmt)
        existing = sorted(k for ks in groups.values() for k in ks)
        diff = dict(before=dict(oss_objects=existing), after=dict(oss_objects=existing))
        if groups and not p['force']:
            task_id, found = newest_export(groups, modified)
            self.result(False, task_id, found, 'Finished', diff)

        predicted = '%s%s_<task id>.%s' % (self.prefix + '_' if self.prefix else '', p['image_id'], self.fmt)
        diff['after'] = dict(oss_objects=existing + [predicted])
        if self.am.check_mode:
            self.result(True, '', [], '', diff)

        req = dict(ImageId=p['image_id'], OSSBucket=p['oss_bucket'], OSSPrefix=p.get('oss_prefix'),
                   ImageFormat=self.fmt, RoleName=p.get('role_name'))
        try:
            resp = self.client.call('ExportImage', req)
            task_id = resp.get('TaskId')
        except ApiError as e:
            # A retried call whose first answer was lost finds its own export running: adopt it.
            task_id = None
            if e.code == 'ImageIsExporting':
                matching, other = self.running_exports()
                task_id = matching[0] if matching else None
            if not task_id:
                self.am.fail_api(e, msg='ExportImage of %s failed: %s' % (p['image_id'], e))
            self.am.warn('ExportImage answered ImageIsExporting; following the running export task %s of the '
                         'same image, bucket, prefix and format' % task_id)
        self.finish(oss, True, task_id, diff)


def main():
    argument_spec = dict(
        image_id=dict(type='str', required=True),
        oss_bucket=dict(type='str', required=True),
        oss_prefix=dict(type='str'),
        image_format=dict(type='str', default='raw', choices=list(EXPORT_FORMATS)),
        role_name=dict(type='str'),
        force=dict(type='bool', default=False),
        wait=dict(type='bool', default=True),
        wait_timeout=dict(type='int', default=3600),
    )
    argument_spec.update(OSS_ARGUMENT_SPEC)
    amodule = AlicloudModule(argument_spec, supports_check_mode=True, id_options={'image_id': 'image'})
    Exporter(amodule).run()


if __name__ == '__main__':
    main()
