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
  - Idempotent without relying on how the cloud names the exported objects. Beside the export the module writes a
    small manifest object, C(<oss_prefix>_<image_id>.<format>.export-manifest.json) (RV(manifest_object)), naming
    the export task, the image, the region, the format written and, once the task has finished, the objects it
    wrote. A rerun reads the manifest and the image's export tasks (C(DescribeTasks)); nothing is exported when
    the manifest's objects are all in the bucket (unless O(force=true)), and an export of the image to the same
    bucket, prefix and format that is queued (C(Waiting)) or running (C(Processing)) is joined, never started
    twice. An export of the image elsewhere that is queued or running is waited for first (the cloud runs one
    export of an image at a time).
  - Formats by region. The cloud honours the format only in Tokyo (ap-northeast-1), Jakarta (ap-southeast-5),
    Frankfurt (eu-central-1), Dubai (me-east-1), Virginia (us-east-1), London (eu-west-1), Singapore
    (ap-southeast-1), Kuala Lumpur (ap-southeast-3) and Silicon Valley (us-west-1); elsewhere it exports RAW
    whatever is asked. A format other than V(raw) in another region is refused before any change, unless
    O(format_fallback=raw), which exports RAW with a warning. RV(image_format) is the format really written.
  - Refuses, before any change, images that cannot be exported - an image that is not the account's own
    custom image (public, shared, community or marketplace), an image derived from a marketplace image, a
    Windows image, an image that is not C(Available) - as well as an invalid O(oss_prefix) and a bucket that
    does not exist.
  - An image that is C(Available) but not yet C(Usable) (the cloud's flag lags the status for a while after a
    create, copy or import) is waited for, within O(wait_timeout), before it is exported.
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
      - OSS bucket, in the module's region, the image file(s) and the manifest are written to.
    type: str
    required: true
  oss_prefix:
    description:
      - Prefix of the object names, 1 to 30 letters and digits. The cloud starts the names of the objects it
        writes with it; how it names them otherwise is not relied upon (see RV(oss_objects)).
    type: str
  image_format:
    description:
      - Format of the exported file(s).
      - Formats other than V(raw) are produced only in the regions listed above; see O(format_fallback).
    type: str
    choices: [raw, vhd, qcow2, vmdk, vdi]
    default: raw
  format_fallback:
    description:
      - What to do when O(image_format) is not V(raw) and the module's region exports RAW only.
      - V(fail) refuses before any change, naming the regions that produce the format.
      - V(raw) exports RAW instead, with a warning; RV(image_format) is then V(raw), and a later run with
        O(image_format=raw) finds the same export.
    type: str
    choices: [fail, raw]
    default: fail
  role_name:
    description:
      - RAM role the ECS service assumes to write to the bucket. The cloud defaults to
        C(AliyunECSImageExportDefaultRole), which must exist and be authorised for the ECS service (the console
        creates it on the first export).
    type: str
  force:
    description:
      - Export again even when the manifest shows a finished export of the image with the same prefix and
        format whose objects are still in the bucket. The cloud may write the same object names again
        (overwriting the earlier export).
      - An export of the image that is queued or running is still joined or waited for, never started twice.
    type: bool
    default: false
extends_documentation_fragment:
  - alicloud.ecs_images.alicloud
  - alicloud.ecs_images.alicloud.wait
  - alicloud.ecs_images.oss
notes:
  - Exporting needs the RAM role O(role_name) (default C(AliyunECSImageExportDefaultRole)) authorised to write to
    the bucket, and the module's own credentials need C(oss:GetObject), C(oss:PutObject), C(oss:ListObjects) on
    the bucket for the manifest and the object list.
  - With O(wait=false) the module returns as soon as the export has started (RV(oss_objects) is then empty); a
    later run waits for it, or finds it finished and completes the manifest. O(wait_timeout) also covers waiting
    for the image to become usable and for another export of the image to end first.
  - The cloud exports an image of at most 4 data disks of at most 500 GiB each, does not export Windows images
    nor images derived from marketplace images, and limits the number of exports per week
    (C(WeeklyQuotaExceed.ExportImage)) and running at a time (C(ConcurrentQuotaExceed.ExportImage)).
  - The objects an export wrote are taken from the export task's record when it lists them, otherwise from the
    bucket listing under O(oss_prefix) (objects written after the task started; those naming the image first).
    The exact names the cloud writes are not relied upon; see docs/import_export.md.
seealso:
  - module: alicloud.ecs_images.ecs_image_import
  - module: alicloud.ecs_images.ecs_image_info
attributes:
  check_mode:
    support: full
    description: The refusals, the bucket check, the manifest and the task reads run in check mode too; nothing is written.
  diff_mode:
    support: full
    description: Shows the objects of the export of the image, prefix and format before and after (a new export as a placeholder).
'''

EXAMPLES = r'''
- name: Export an image as QCOW2 for a private cloud (in a region that produces QCOW2)
  alicloud.ecs_images.ecs_image_export:
    region: ap-southeast-1
    image_id: "{{ image.image_id }}"
    oss_bucket: images-sg
    oss_prefix: nightly
    image_format: qcow2
  register: exported

- name: Show where the files are
  ansible.builtin.debug:
    msg: "{{ exported.oss_objects | map('regex_replace', '^', 'oss://' ~ exported.oss_bucket ~ '/') | list }}"

- name: Ask for VHD in any region; take RAW where the region cannot write VHD
  alicloud.ecs_images.ecs_image_export:
    region: cn-hangzhou
    image_id: m-bp1g7004ksh0oeuc****
    oss_bucket: images-hz
    oss_prefix: nightly
    image_format: vhd
    format_fallback: raw
  register: exported_any   # exported_any.image_format is 'raw' in cn-hangzhou

- name: Export again although an export with this prefix and format exists
  alicloud.ecs_images.ecs_image_export:
    image_id: m-bp1g7004ksh0oeuc****
    oss_bucket: images-hz
    oss_prefix: nightly
    force: true
    wait: false
'''

RETURN = r'''
task_id:
  description:
    - ID of the ExportImage task that wrote (or is writing) the objects; for an export found through its
      manifest, the task the manifest names.
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
  description:
    - Format of the exported objects as the cloud writes it in this region (V(raw) where the region exports RAW
      only, with O(format_fallback=raw)); the export task's record wins when it names the format.
  returned: always
  type: str
  sample: qcow2
requested_format:
  description: The format asked for (O(image_format)).
  returned: always
  type: str
  sample: qcow2
oss_objects:
  description:
    - Keys of the objects the export wrote in O(oss_bucket) (the manifest not included).
    - Empty when the export is still running (O(wait=false)) and in check mode.
  returned: always
  type: list
  elements: str
  sample: [nightly_m-bp1g7004ksh0oeuc****_system.qcow2]
manifest_object:
  description: Key of the manifest object in O(oss_bucket) that records this export.
  returned: always
  type: str
  sample: nightly_m-bp1g7004ksh0oeuc****.qcow2.export-manifest.json
task_status:
  description:
    - Status of the export task when the module returned (C(Finished), C(Processing), C(Waiting));
      C(Finished) for an earlier export found through its manifest; empty in check mode.
  returned: always
  type: str
  sample: Finished
api_calls:
  description: Number of API requests the module sent (retries included); also returned on failure.
  returned: always
  type: int
  sample: 2
'''

import json
import time

from ansible_collections.alicloud.ecs_images.plugins.module_utils.base import AlicloudModule, WAIT_ARGUMENT_SPEC
from ansible_collections.alicloud.ecs_images.plugins.module_utils.client import ApiError
from ansible_collections.alicloud.ecs_images.plugins.module_utils.images import describe_image, image_usable
from ansible_collections.alicloud.ecs_images.plugins.module_utils.validation import OptionError
from ansible_collections.alicloud.ecs_images.plugins.module_utils.waiters import wait_image_usable
from ansible_collections.alicloud.ecs_images.plugins.module_utils.image_tasks import follow_task
from ansible_collections.alicloud.ecs_images.plugins.module_utils.tasks import (
    describe_task, running_tasks, task_related_values)
from ansible_collections.alicloud.ecs_images.plugins.module_utils.oss import (
    OSS_ARGUMENT_SPEC, HAS_OSS2, OSS2_IMPORT_ERROR, EXPORT_FORMATS, EXPORT_FORMAT_REGIONS, check_export_prefix,
    export_format_in_region, oss2_exceptions, oss_client, oss_error_text)

MANIFEST_SUFFIX = '.export-manifest.json'
MANIFEST_KIND = 'alicloud.ecs_images.ecs_image_export'


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
    if str(image.get('OSType') or '').lower() == 'windows':
        return 'image_id %s is a Windows image; the cloud does not export Windows images' % image_id
    if image.get('Status') != 'Available':
        return ('image_id %s is in status %s; only Available images can be exported'
                % (image_id, image.get('Status')))
    return None


def format_refusal(image_format, region):
    """Message refusing ``image_format`` in ``region`` (it would be exported as RAW), or None (pure)."""
    if export_format_in_region(image_format, region) == image_format:
        return None
    return ('image_format %s cannot be produced in region %s: ExportImage honours ImageFormat only in %s and '
            'exports RAW elsewhere. Use image_format=raw, export in one of those regions (copy the image there '
            'with alicloud.ecs_images.ecs_image_copy), or set format_fallback=raw to export RAW with a warning'
            % (image_format, region, ', '.join(EXPORT_FORMAT_REGIONS)))


def manifest_key(image_id, prefix, image_format):
    """Key of the manifest of the exports of ``image_id`` with ``prefix`` in ``image_format`` (pure)."""
    return '%s%s.%s%s' % (prefix + '_' if prefix else '', image_id, image_format, MANIFEST_SUFFIX)


def new_manifest(image_id, region, bucket, prefix, image_format, requested, previous=None):
    return dict(kind=MANIFEST_KIND, version=1, image_id=image_id, region=region, oss_bucket=bucket,
                oss_prefix=prefix, image_format=image_format, requested_format=requested, task_id='',
                status='Starting', objects=[], started=time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime()),
                finished='', previous=previous)


def parse_manifest(body, image_id, bucket, image_format):
    """The manifest dict when ``body`` is a manifest of this export, else None (pure)."""
    try:
        data = json.loads(body.decode('utf-8') if isinstance(body, bytes) else body)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(data, dict) or data.get('kind') != MANIFEST_KIND:
        return None
    if data.get('image_id') != image_id or data.get('oss_bucket') != bucket or data.get('image_format') != image_format:
        return None
    data['objects'] = [o for o in data.get('objects') or [] if isinstance(o, str)]
    return data


def task_is_ours(task_id, attrs, manifest, bucket, prefix, image_format):
    """Is the queued/running export task ``task_id`` the export this run wants (pure)?

    Yes when the manifest names it, or when the manifest records an export being started whose task id was not
    written yet (the run that started it was interrupted), or when the task's record (DescribeTaskAttribute
    related items, where the cloud lists them) names this bucket and format and only objects under the prefix.
    A task whose destination cannot be told is not ours: it is waited for, then this export is started."""
    if manifest is not None:
        if manifest.get('task_id') == task_id:
            return True
        if manifest.get('status') == 'Starting' and not manifest.get('task_id'):
            return True
    buckets = task_related_values(attrs, 'OSSBucket')
    formats = [f.lower() for f in task_related_values(attrs, 'ImageFormat')]
    objects = task_related_values(attrs, 'OSSObject')
    if not buckets or not formats:
        return False
    lead = prefix + '_' if prefix else ''
    return bucket in buckets and image_format in formats and all(o.startswith(lead) for o in objects)


def pick_objects(listing, image_id, since, exclude=()):
    """Objects an export wrote, from a bucket listing (pure): ``listing`` is [(key, last_modified epoch)],
    ``since`` the task's creation (epoch, minute precision). Keys naming the image are preferred."""
    keys = sorted(k for k, modified in listing
                  if not k.endswith(MANIFEST_SUFFIX) and k not in exclude and (since is None or modified >= since))
    named = [k for k in keys if image_id in k]
    return named or keys


def parse_time(value):
    """Epoch seconds of an API time ('2026-01-02T03:04Z' or with seconds), or None."""
    if not value:
        return None
    import calendar
    for fmt in ('%Y-%m-%dT%H:%M:%SZ', '%Y-%m-%dT%H:%MZ'):
        try:
            return calendar.timegm(time.strptime(value, fmt))
        except ValueError:
            continue
    return None


class Exporter:

    def __init__(self, amodule):
        self.am = amodule
        self.p = amodule.params
        self.client = amodule.client()
        self.deadline = time.monotonic() + self.p['wait_timeout']
        self.requested = self.p['image_format']
        self.fmt = self.requested
        self.prefix = self.p.get('oss_prefix') or ''
        self.bucket_name = self.p['oss_bucket']
        self.key = None
        self.produced = None      # the format the export task says it wrote, when it says
        self.oss = None
        self.bucket = None

    # ------------------------------------------------------------------ results
    def result(self, changed, task_id, keys, status, diff):
        self.am.exit(changed, task_id=task_id or '', image_id=self.p['image_id'], oss_bucket=self.bucket_name,
                     oss_prefix=self.prefix, image_format=self.produced or self.fmt, requested_format=self.requested,
                     oss_objects=list(keys), manifest_object=self.key, task_status=status or '', diff=diff)

    def remaining(self):
        return max(0, self.deadline - time.monotonic())

    def oss_fail(self, err, doing):
        if isinstance(err, oss2_exceptions.NoSuchBucket):
            self.am.fail('oss_bucket %r does not exist at %s' % (self.bucket_name, self.oss.endpoint),
                         option='oss_bucket')
        self.am.fail('oss_bucket %r: cannot %s at %s: %s'
                     % (self.bucket_name, doing, self.oss.endpoint, oss_error_text(err)), option='oss_bucket')

    # ------------------------------------------------------------------ manifest
    def read_manifest(self):
        """The manifest of this export or None; also the bucket check (before any change)."""
        try:
            body = self.bucket.get_object(self.key).read()
        except oss2_exceptions.NoSuchBucket as e:
            self.oss_fail(e, 'read')
        except oss2_exceptions.NotFound:
            return None
        except oss2_exceptions.OssError as e:
            self.oss_fail(e, 'read the manifest %s' % self.key)
        return parse_manifest(body, self.p['image_id'], self.bucket_name, self.fmt)

    def write_manifest(self, manifest):
        body = json.dumps(manifest, sort_keys=True, indent=1).encode('utf-8')
        try:
            self.bucket.put_object(self.key, body, headers={'Content-Type': 'application/json'})
        except oss2_exceptions.OssError as e:
            self.oss_fail(e, 'write the export manifest %s (the module needs oss:PutObject on the bucket)'
                          % self.key)

    def restore_manifest(self, previous):
        """Best effort after a refused ExportImage: put back the earlier manifest (or remove ours)."""
        try:
            if previous:
                self.bucket.put_object(self.key, json.dumps(previous, sort_keys=True, indent=1).encode('utf-8'))
            else:
                self.bucket.delete_object(self.key)
        except oss2_exceptions.OssError:
            pass

    def existing_objects(self, keys):
        """The subset of ``keys`` still in the bucket (HEAD each)."""
        found = []
        for key in keys:
            try:
                self.bucket.head_object(key)
            except oss2_exceptions.NotFound:
                continue
            except oss2_exceptions.OssError as e:
                self.oss_fail(e, 'read object %s' % key)
            found.append(key)
        return found

    # ------------------------------------------------------------------ tasks
    def running(self):
        """[(task_id, DescribeTaskAttribute answer)] of the image's queued or running exports."""
        tasks = running_tasks(self.client, 'ExportImage', resource_id=self.p['image_id'])
        return [(t['TaskId'], describe_task(self.client, t['TaskId'])) for t in tasks]

    def wait_for(self, task_id):
        """Wait for an export task until the overall deadline; fail at once with the task's error (the failure
        boundary reports WaitFailed/WaitTimeout/ApiError, naming the task)."""
        self.am.failure_extras['task_id'] = task_id
        return follow_task(self.client, task_id, self.remaining(), kind='export')

    def produced_format(self, task):
        formats = [f.lower() for f in task_related_values(task, 'ImageFormat')]
        return formats[0] if formats else self.fmt

    def objects_of(self, task):
        """Keys the finished task wrote: from the task's record when it lists them, else from the bucket
        listing under the prefix (objects written since the task was created, those naming the image first)."""
        keys = sorted(set(task_related_values(task, 'OSSObject')))
        if keys:
            return keys
        since = parse_time((task or {}).get('CreationTime'))
        listing, marker = [], ''
        try:
            while True:
                res = self.bucket.list_objects(prefix=self.prefix, marker=marker, max_keys=1000)
                listing.extend((o.key, o.last_modified or 0) for o in res.object_list)
                if not res.is_truncated or not res.next_marker:
                    break
                marker = res.next_marker
        except oss2_exceptions.OssError as e:
            self.oss_fail(e, 'list the exported objects')
        return pick_objects(listing, self.p['image_id'], since)

    def complete(self, manifest, task_id, task):
        """Record the finished export in the manifest; returns its objects."""
        keys = self.objects_of(task)
        manifest = dict(manifest or new_manifest(self.p['image_id'], self.am.region, self.bucket_name, self.prefix,
                                                 self.fmt, self.requested))
        produced = self.produced_format(task)
        manifest.update(task_id=task_id, status='Finished', objects=keys, previous=None, produced_format=produced,
                        finished=time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime()))
        self.write_manifest(manifest)
        self.produced = produced
        return keys

    def finish(self, changed, task_id, manifest, diff):
        """Wait (or not) for ``task_id``, complete the manifest and exit."""
        if not self.p['wait']:
            task = describe_task(self.client, task_id)
            status = (task or {}).get('TaskStatus', '')
            keys = []
            if status == 'Finished':
                keys = self.complete(manifest, task_id, task)
                diff['after'] = dict(oss_objects=keys)
            self.result(changed, task_id, keys, status, diff)
        task = self.wait_for(task_id)
        keys = self.complete(manifest, task_id, task)
        diff['after'] = dict(oss_objects=keys)
        self.result(changed, task_id, keys, 'Finished', diff)

    # ------------------------------------------------------------------ run
    def check_format(self):
        why = format_refusal(self.requested, self.am.region)
        if why:
            if self.p['format_fallback'] != 'raw':
                self.am.fail(why, option='image_format')
            self.am.warn('image_format %s is not produced in region %s (ExportImage honours ImageFormat only in %s); '
                         'exporting RAW instead as format_fallback=raw asks'
                         % (self.requested, self.am.region, ', '.join(EXPORT_FORMAT_REGIONS)))
            self.fmt = 'raw'

    def ensure_usable(self, image):
        """Wait (bounded) until the cloud flags the image Usable; in check mode only predict."""
        if image_usable(image) or self.am.check_mode:
            return
        wait_image_usable(self.client, self.p['image_id'], self.remaining())   # failures: the boundary

    def run(self):
        p = self.p
        msg = check_export_prefix(p.get('oss_prefix'))
        if msg:
            self.am.fail(msg, option='oss_prefix')
        self.check_format()
        if not HAS_OSS2:
            self.am.module.fail_json(msg='the oss2 Python library is required to check the bucket',
                                     exception=OSS2_IMPORT_ERROR)
        image = describe_image(self.client, p['image_id'])
        why = refusal(image, p['image_id'], self.am.region)
        if why:
            self.am.fail(why, option='image_id', image_status=(image or {}).get('Status', ''))
        self.oss = oss_client(self.am)
        self.bucket = self.oss.bucket(self.bucket_name)
        self.key = manifest_key(p['image_id'], self.prefix, self.fmt)
        manifest = self.read_manifest()     # also the bucket check, before any change
        before = manifest.get('objects') if manifest and manifest.get('status') == 'Finished' else []
        diff = dict(before=dict(oss_objects=list(before)), after=dict(oss_objects=list(before)))

        # a queued or running export of the image: join it when it is this export, else let it end first
        running = self.running()
        mine = [t for t, attrs in running
                if task_is_ours(t, attrs, manifest, self.bucket_name, self.prefix, self.fmt)]
        other = [t for t, dummy in running if t not in mine]
        if mine:
            task_id = mine[0]
            status = dict((t, (a or {}).get('TaskStatus', '')) for t, a in running).get(task_id) or 'Processing'
            if self.am.check_mode:
                self.result(False, task_id, [], status, diff)
            if manifest is None or manifest.get('task_id') != task_id:
                manifest = dict(manifest or new_manifest(p['image_id'], self.am.region, self.bucket_name,
                                                         self.prefix, self.fmt, self.requested),
                                task_id=task_id, status='Exporting')
                self.write_manifest(manifest)
            self.finish(False, task_id, manifest, diff)
        if other:
            if not p['wait']:
                self.am.fail('another export of image %s is queued or running (task %s); the cloud runs one export '
                             'of an image at a time. Run again later or with wait=true to wait for it first.'
                             % (p['image_id'], ', '.join(other)), task_id=other[0])
            if not self.am.check_mode:   # check mode predicts from the manifest as it is
                for task_id in other:
                    self.wait_for(task_id)
                manifest = self.read_manifest()

        if manifest and manifest.get('status') == 'Starting' and not manifest.get('task_id') and not mine:
            # a start interrupted before the task id was recorded, with no export of the image queued or running:
            # go on from the export recorded before it
            manifest = manifest.get('previous') or None

        # an earlier export recorded in the manifest
        if manifest and manifest.get('task_id') and not p['force']:
            if manifest.get('status') == 'Finished':
                present = self.existing_objects(manifest['objects'])
                if manifest['objects'] and present == manifest['objects']:
                    self.produced = manifest.get('produced_format') or None
                    diff = dict(before=dict(oss_objects=present), after=dict(oss_objects=present))
                    self.result(False, manifest['task_id'], present, 'Finished', diff)
            else:   # started by an earlier run without waiting (or interrupted): finished meanwhile?
                task = describe_task(self.client, manifest['task_id'])
                if task is not None and task.get('TaskStatus') == 'Finished':
                    if self.am.check_mode:
                        self.result(False, manifest['task_id'], [], 'Finished', diff)
                    keys = self.complete(manifest, manifest['task_id'], task)
                    self.result(False, manifest['task_id'], keys, 'Finished',
                                dict(before=diff['before'], after=dict(oss_objects=keys)))

        self.ensure_usable(image)
        predicted = '<objects of a new %s export of %s>' % (self.fmt, p['image_id'])
        diff['after'] = dict(oss_objects=[predicted])
        if self.am.check_mode:
            self.result(True, '', [], '', diff)

        previous = manifest if manifest and manifest.get('status') == 'Finished' else None
        pending = new_manifest(p['image_id'], self.am.region, self.bucket_name, self.prefix, self.fmt,
                               self.requested, previous=previous)
        self.write_manifest(pending)      # written before the export starts: an interrupted run is found again
        req = dict(ImageId=p['image_id'], OSSBucket=self.bucket_name, OSSPrefix=p.get('oss_prefix'),
                   ImageFormat=self.fmt, RoleName=p.get('role_name'))
        try:
            resp = self.client.call('ExportImage', req)
            task_id = resp.get('TaskId')
        except ApiError as e:
            # A retried call whose first answer was lost finds its own export queued or running: adopt it.
            task_id = None
            if e.code == 'ImageIsExporting' and e.attempts > 1:
                ours = [t for t, attrs in self.running()
                        if task_is_ours(t, attrs, pending, self.bucket_name, self.prefix, self.fmt)]
                task_id = ours[0] if ours else None
            if not task_id:
                self.restore_manifest(previous)
                raise
            self.am.warn('ExportImage answered ImageIsExporting; following the export task %s of the same image, '
                         'bucket, prefix and format (a retried request whose first answer was lost)' % task_id)
        pending.update(task_id=task_id, status='Exporting', previous=None)
        self.write_manifest(pending)
        self.finish(True, task_id, pending, diff)


def main():
    argument_spec = dict(
        image_id=dict(type='str', required=True),
        oss_bucket=dict(type='str', required=True),
        oss_prefix=dict(type='str'),
        image_format=dict(type='str', default='raw', choices=list(EXPORT_FORMATS)),
        format_fallback=dict(type='str', default='fail', choices=['fail', 'raw']),
        role_name=dict(type='str'),
        force=dict(type='bool', default=False),
    )
    argument_spec.update(WAIT_ARGUMENT_SPEC)
    argument_spec.update(OSS_ARGUMENT_SPEC)
    amodule = AlicloudModule(argument_spec, supports_check_mode=True, id_options={'image_id': 'image'})
    amodule.run(run, amodule)


def run(amodule):
    Exporter(amodule).run()


if __name__ == '__main__':
    main()
