# -*- coding: utf-8 -*-
# Copyright (c) alicloud.ecs_images contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Delete the snapshots an image leaves behind (they keep costing money), keeping those still in use.

Generic helper (added by the DIST part for ecs_image_copy state=absent delete_snapshots=true).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.alicloud.ecs_images.plugins.module_utils.client import ApiError
from ansible_collections.alicloud.ecs_images.plugins.module_utils.images import ALL_IMAGE_STATUSES
from ansible_collections.alicloud.ecs_images.plugins.module_utils.waiters import describe_snapshot


def image_snapshot_ids(image):
    """Snapshot ids of a normalised image's disks."""
    return [m['snapshot_id'] for m in image.get('disk_device_mappings') or [] if m.get('snapshot_id')]


def snapshot_keep_reasons(client, snapshot_id, image_id, region=None):
    """Why the snapshot must be kept (other own images or disks use it): a list, empty when it may be deleted,
    or None when the snapshot no longer exists."""
    images = client.paginate('DescribeImages', {'SnapshotId': snapshot_id, 'Status': ALL_IMAGE_STATUSES,
                                                'ImageOwnerAlias': 'self'}, ('Images', 'Image'), region=region)
    others = sorted(set(i.get('ImageId') for i in images if i.get('ImageId') != image_id and any(
        m.get('SnapshotId') == snapshot_id
        for m in ((i.get('DiskDeviceMappings') or {}).get('DiskDeviceMapping') or []))))
    snapshot = describe_snapshot(client, snapshot_id, region=region)
    if snapshot is None:
        return None
    reasons = []
    if others:
        reasons.append('used by image(s) %s' % ', '.join(others))
    if snapshot.get('Usage') in ('disk', 'image_disk'):
        reasons.append('disks were created from it (usage %s)' % snapshot.get('Usage'))
    return reasons


def delete_image_snapshots(client, snapshot_ids, image_id, region=None):
    """Delete ``snapshot_ids`` (of the deleted image ``image_id``) unless still used.

    Returns ``(deleted, kept)``: deleted ids, and ``{snapshot id: reason}`` for the kept ones. ApiError
    propagates (the caller reports which snapshots remain)."""
    deleted, kept = [], {}
    for snapshot_id in snapshot_ids:
        reasons = snapshot_keep_reasons(client, snapshot_id, image_id, region)
        if reasons is None:
            continue
        if reasons:
            kept[snapshot_id] = '; '.join(reasons)
            continue
        try:
            client.call('DeleteSnapshot', {'SnapshotId': snapshot_id}, region=region)
        except ApiError as err:
            if err.code != 'InvalidSnapshotId.NotFound':
                raise
            if err.attempts <= 1:
                continue
        deleted.append(snapshot_id)
    return deleted, kept
