#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to the alicloud.ecs_images collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: ecs_image_upload
short_description: Upload a local disk image file to OSS for import, or remove it (helper of the image_import role)
version_added: 0.1.0
description:
  - Helper module of the C(image_import) role. Uploads a local disk image file to an Object Storage Service
    (OSS) bucket so that M(alicloud.ecs_images.ecs_image_import) can import it, and removes the object again
    afterwards when asked. It is not a general OSS module.
  - Files larger than O(multipart_threshold) are uploaded with the C(oss2) resumable multipart upload, in parts
    of O(part_size) bytes sent by O(threads) threads. The upload records its progress in a checkpoint under
    O(checkpoint_dir), so an interrupted upload resumes where it stopped instead of starting again.
  - Progress (percentage, bytes, throughput) is written to O(progress_file) while the upload runs, so that a
    playbook running the module with C(async) can show it (the C(image_import) role does).
  - Idempotent. An object of the same size whose C(x-oss-meta-content-md5) metadata matches the file's MD5 is not
    uploaded again. An object of the same size without that metadata is taken as the same file.
author:
  - alicloud.ecs_images contributors (@alicloud)
options:
  src:
    description:
      - Path of the local file to upload (on the host that runs the module).
      - Required with O(state=present).
    type: path
  oss_bucket:
    description:
      - Name of the OSS bucket. It must be in the region of the images it will be imported into.
    type: str
    required: true
  oss_object:
    description:
      - Object key to write, for example C(images/web-2026-11.qcow2).
    type: str
    required: true
  state:
    description:
      - V(present) uploads the file unless the same content is already there.
      - V(absent) deletes the object; deleting an object that does not exist is V(changed=false).
    type: str
    default: present
    choices: [present, absent]
  force:
    description:
      - Upload even when the object already holds a file of the same size and checksum.
    type: bool
    default: false
  part_size:
    description:
      - Size in bytes of each part of a multipart upload (at least 102400).
    type: int
    default: 10485760
  multipart_threshold:
    description:
      - Files of at least this many bytes are uploaded in parts (resumable); smaller ones in one request.
    type: int
    default: 104857600
  threads:
    description:
      - Number of parts uploaded at the same time.
    type: int
    default: 4
  checkpoint_dir:
    description:
      - Directory where resumable uploads keep their checkpoints.
    type: path
    default: ~/.ansible/tmp/ecs_image_upload
  progress_file:
    description:
      - File rewritten with one line of progress (percentage, bytes, throughput) while the upload runs.
      - Not written when not set.
    type: path
extends_documentation_fragment:
  - alicloud.ecs_images.alicloud
  - alicloud.ecs_images.oss
attributes:
  check_mode:
    support: full
    description: Makes no change and reports whether the file would be uploaded or the object deleted, reading only
      the object's metadata.
  diff_mode:
    support: full
    description: Shows the object's existence, size and checksum before and after.
notes:
  - The credentials are the same as for the ECS modules (including an STS token).
seealso:
  - module: alicloud.ecs_images.ecs_image_import
'''

EXAMPLES = r'''
- name: Upload a converted disk to OSS
  alicloud.ecs_images.ecs_image_upload:
    region: cn-hangzhou
    src: /var/tmp/web.qcow2
    oss_bucket: images-hz
    oss_object: import/web.qcow2

- name: Remove the object once the image is imported
  alicloud.ecs_images.ecs_image_upload:
    region: cn-hangzhou
    oss_bucket: images-hz
    oss_object: import/web.qcow2
    state: absent
'''

RETURN = r'''
oss_bucket:
  description: The bucket.
  returned: always
  type: str
  sample: images-hz
oss_object:
  description: The object key.
  returned: always
  type: str
  sample: import/web.qcow2
size:
  description: Size in bytes of the object after the task (0 when it does not exist).
  returned: always
  type: int
  sample: 1073741824
md5:
  description: MD5 (hex) of the uploaded file. Empty with O(state=absent).
  returned: always
  type: str
  sample: 9e107d9d372bb6826bd81d3542a419d6
multipart:
  description: Whether the file was (or would be) uploaded in parts.
  returned: always
  type: bool
  sample: true
uploaded_bytes:
  description: Bytes sent by this run (0 when nothing was uploaded; less than the size when a run resumed).
  returned: always
  type: int
  sample: 1073741824
seconds:
  description: Duration of the upload in seconds (0 when nothing was uploaded).
  returned: always
  type: float
  sample: 12.5
throughput_mib_s:
  description: Average upload throughput in MiB/s (0 when nothing was uploaded).
  returned: always
  type: float
  sample: 81.9
api_calls:
  description: Number of API requests the module sent (retries included); also returned on failure.
  returned: always
  type: int
  sample: 2
'''

import hashlib
import json
import os
import time
import traceback

from ansible.module_utils.common.text.converters import to_native

from ansible_collections.alicloud.ecs_images.plugins.module_utils.base import AlicloudModule
from ansible_collections.alicloud.ecs_images.plugins.module_utils.oss import (
    OSS_ARGUMENT_SPEC, oss_client, oss_error_text, resumable_upload_retrying,
)
from ansible_collections.alicloud.ecs_images.plugins.module_utils import progress as task_progress

try:
    import oss2
    import oss2.exceptions
except ImportError:  # pragma: no cover - AlicloudModule.oss_auth() reports the missing library
    oss2 = None

MD5_META = 'x-oss-meta-content-md5'
MIN_PART_SIZE = 102400


def file_md5(path, chunk=8 * 1024 * 1024):
    digest = hashlib.md5()
    with open(path, 'rb') as f:
        while True:
            data = f.read(chunk)
            if not data:
                break
            digest.update(data)
    return digest.hexdigest()


def remote_matches(bucket, key, size, md5):
    """Is the object already complete (same size and the MD5 this module stores with it)? Asked before an
    upload is resumed after a transient error: a lost answer to the last request must not upload it again."""
    try:
        head = bucket.head_object(key)
    except oss2.exceptions.NotFound:
        return False
    return int(head.content_length) == size and head.headers.get(MD5_META, '') == md5


class Progress:
    """oss2 progress_callback that rewrites one line of progress into a file, at most every half second."""

    def __init__(self, path, total, clock=time.time, report=None):
        self.path = path
        self.report = report     # report(percent, line): the task's progress lines (module_utils/progress.py)
        self.total = total
        self.clock = clock
        self.start = clock()
        self.first = None
        self.last_write = 0.0
        self.sent = 0

    def line(self, consumed, total):
        elapsed = max(self.clock() - self.start, 1e-6)
        done = consumed - (self.first or 0)
        rate = done / elapsed / 1048576.0
        pct = 100.0 * consumed / total if total else 100.0
        return '%5.1f%% %d/%d MiB %.1f MiB/s' % (pct, consumed // 1048576, total // 1048576, rate)

    def __call__(self, consumed, total):
        if self.first is None:
            self.first = consumed if consumed < (total or 1) else 0
        self.sent = consumed - (self.first or 0)
        now = self.clock()
        if self.report is not None:
            self.report(int(100 * consumed // total) if total else 100, self.line(consumed, total))
        if self.path and (now - self.last_write >= 0.5 or consumed >= total):
            self.last_write = now
            tmp = self.path + '.tmp'
            with open(tmp, 'w') as f:
                f.write(json.dumps({'percent': round(100.0 * consumed / total, 1) if total else 100.0,
                                    'bytes': consumed, 'total': total, 'line': self.line(consumed, total)}))
            os.rename(tmp, self.path)


def main():
    argument_spec = dict(
        src=dict(type='path'),
        oss_bucket=dict(type='str', required=True),
        oss_object=dict(type='str', required=True),
        state=dict(type='str', default='present', choices=['present', 'absent']),
        force=dict(type='bool', default=False),
        part_size=dict(type='int', default=10485760),
        multipart_threshold=dict(type='int', default=104857600),
        threads=dict(type='int', default=4),
        checkpoint_dir=dict(type='path', default='~/.ansible/tmp/ecs_image_upload'),
        progress_file=dict(type='path'),
    )
    argument_spec.update(OSS_ARGUMENT_SPEC)
    amodule = AlicloudModule(argument_spec, supports_check_mode=True,
                             required_if=[('state', 'present', ['src'])])
    amodule.run(run, amodule)


def run(amodule):
    p = amodule.params
    bucket_name, key = p['oss_bucket'], p['oss_object']
    if not key or key.startswith('/'):
        amodule.fail('oss_object must be a non-empty object key that does not start with "/" (got %r)' % key)
    if p['part_size'] < MIN_PART_SIZE:
        amodule.fail('part_size must be at least %d bytes (got %d)' % (MIN_PART_SIZE, p['part_size']))
    if p['threads'] < 1:
        amodule.fail('threads must be at least 1 (got %d)' % p['threads'])

    local_size, local_md5 = 0, ''
    if p['state'] == 'present':
        src = p['src']
        if not os.path.isfile(src):
            amodule.fail('src %s is not a file' % src)
        local_size = os.path.getsize(src)
        local_md5 = file_md5(src)

    client = oss_client(amodule)
    bucket = client.bucket(bucket_name)
    out = dict(oss_bucket=bucket_name, oss_object=key, size=0, md5=local_md5, uploaded_bytes=0, seconds=0.0,
               throughput_mib_s=0.0, multipart=bool(local_size >= p['multipart_threshold']))
    try:
        try:
            head = bucket.head_object(key)
            remote = dict(size=int(head.content_length), md5=head.headers.get(MD5_META, ''))
        except oss2.exceptions.NotFound:
            remote = None
    except oss2.exceptions.OssError as err:
        amodule.fail('cannot read oss_object %s in oss_bucket %s at %s: %s'
                     % (key, bucket_name, client.endpoint, oss_error_text(err)))
    before = dict(exists=remote is not None, size=remote['size'] if remote else 0, md5=remote['md5'] if remote else '')

    if p['state'] == 'absent':
        out['md5'] = ''
        if remote is None:
            amodule.exit(False, diff=dict(before=before, after=before), **out)
        if not amodule.check_mode:
            try:
                bucket.delete_object(key)
                amodule.record_write('oss:DeleteObject', ids=['oss://%s/%s' % (bucket_name, key)])
            except oss2.exceptions.OssError as err:
                amodule.fail('cannot delete oss_object %s from oss_bucket %s: %s'
                             % (key, bucket_name, oss_error_text(err)))
        amodule.exit(True, diff=dict(before=before, after=dict(exists=False, size=0, md5='')), **out)

    same = remote is not None and remote['size'] == local_size and remote['md5'] in ('', local_md5)
    after = dict(exists=True, size=local_size, md5=local_md5)
    if same and not p['force']:
        out['size'] = local_size
        amodule.exit(False, diff=dict(before=before, after=before), **out)
    if amodule.check_mode:
        out['size'] = local_size
        out['uploaded_bytes'] = local_size
        amodule.exit(True, diff=dict(before=before, after=after), **out)

    checkpoint_dir = p['checkpoint_dir']
    where = 'oss://%s/%s' % (bucket_name, key)

    def report(percent, line):
        task_progress.emit(amodule, 'upload', where, region=amodule.region, status='uploading', percent=percent,
                           detail=line.split('% ', 1)[-1].strip())

    progress = Progress(p['progress_file'], local_size, report=report)
    started = time.time()
    try:
        if not os.path.isdir(checkpoint_dir):
            os.makedirs(checkpoint_dir, 0o700)
        resumable_upload_retrying(bucket, key, src, client.retry,
                                  done=lambda: remote_matches(bucket, key, local_size, local_md5),
                                  store=oss2.ResumableStore(root=checkpoint_dir),
                                  headers={MD5_META: local_md5}, multipart_threshold=p['multipart_threshold'],
                                  part_size=p['part_size'], num_threads=p['threads'], progress_callback=progress)
        amodule.record_write('oss:PutObject', ids=['oss://%s/%s' % (bucket_name, key)])
    except oss2.exceptions.OssError as err:
        amodule.fail('cannot upload %s to oss_object %s in oss_bucket %s at %s: %s (a rerun resumes the upload)'
                     % (src, key, bucket_name, client.endpoint, oss_error_text(err)))
    except (IOError, OSError) as err:
        amodule.fail('cannot upload %s to oss_object %s in oss_bucket %s: %s (a rerun resumes the upload)'
                     % (src, key, bucket_name, to_native(err)), exception=traceback.format_exc())
    task_progress.emit(amodule, 'upload', where, region=amodule.region, status='uploaded', percent=100)
    seconds = max(time.time() - started, 1e-6)
    sent = progress.sent if progress.first is not None else local_size
    out.update(size=local_size, uploaded_bytes=sent, seconds=round(seconds, 3),
               throughput_mib_s=round(sent / seconds / 1048576.0, 1))
    amodule.exit(True, diff=dict(before=before, after=after), **out)


if __name__ == '__main__':
    main()
