# -*- coding: utf-8 -*-
# Copyright (c) alicloud.ecs_images contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Delete the snapshots an image leaves behind (they keep costing money), keeping those still in use.

The one rule for "delete the snapshots of an image, keeping the ones still used", for every module that deletes
images with delete_snapshots=true (ecs_image, ecs_image_copy).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


from ansible_collections.alicloud.ecs_images.plugins.module_utils.client import ApiError
from ansible_collections.alicloud.ecs_images.plugins.module_utils.images import list_images
from ansible_collections.alicloud.ecs_images.plugins.module_utils.snapshots import describe_snapshot


def image_snapshot_ids(image):
    """Snapshot ids of a normalised image's disks."""
    return [m['snapshot_id'] for m in image.get('disk_device_mappings') or [] if m.get('snapshot_id')]


# DeleteSnapshot refusals meaning "still used" (an image or a disk was made from it meanwhile): keep it
IN_USE_CODES = ('SnapshotCreatedImage', 'SnapshotUsedByImage', 'IncorrectSnapshotStatus')


def snapshot_keep_reasons(client, snapshot_id, image_id, region=None):
    """Why the snapshot must be kept (other own images or disks use it): a list, empty when it may be deleted,
    or None when the snapshot no longer exists."""
    images = list_images(client, {'SnapshotId': snapshot_id, 'ImageOwnerAlias': 'self'}, region=region)
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


def plan_snapshot_deletion(client, snapshot_ids, image_id, region=None):
    """Split the snapshots of image ``image_id`` (deleted or about to be) into ``(to_delete, kept)``:
    ids that may be deleted, and ``{snapshot id: reason}`` for those still used. Snapshots that no longer exist
    are in neither. Only reads (check mode can use it). ApiError propagates."""
    to_delete, kept = [], {}
    for snapshot_id in snapshot_ids:
        reasons = snapshot_keep_reasons(client, snapshot_id, image_id, region)
        if reasons is None:
            continue
        if reasons:
            kept[snapshot_id] = '; '.join(reasons)
        else:
            to_delete.append(snapshot_id)
    return to_delete, kept


def delete_snapshots(client, snapshot_ids, region=None):
    """DeleteSnapshot each of ``snapshot_ids`` (planned by plan_snapshot_deletion).

    Returns ``(deleted, kept)`` like delete_image_snapshots: a refusal because the snapshot is in use
    (IN_USE_CODES) keeps it; one already gone counts as deleted only when an earlier attempt of this call
    deleted it (lost answer). Any other ApiError propagates with ``deleted``, ``kept`` and ``remaining`` (ids
    not deleted yet, the failed one first) set on it, so the caller can say which snapshots are left."""
    deleted, kept = [], {}
    for index, snapshot_id in enumerate(snapshot_ids):
        try:
            client.call('DeleteSnapshot', {'SnapshotId': snapshot_id}, region=region)
        except ApiError as err:
            if err.code == 'InvalidSnapshotId.NotFound':
                if err.attempts <= 1:
                    continue
            elif err.code in IN_USE_CODES:
                kept[snapshot_id] = err.message
                continue
            else:
                err.deleted, err.kept, err.remaining = deleted, kept, list(snapshot_ids[index:])
                raise
        deleted.append(snapshot_id)
    return deleted, kept


def delete_image_snapshots(client, snapshot_ids, image_id, region=None):
    """Delete ``snapshot_ids`` (of the deleted image ``image_id``) unless still used.

    Returns ``(deleted, kept)``: deleted ids, and ``{snapshot id: reason}`` for the kept ones. ApiError
    propagates (the caller reports which snapshots remain)."""
    to_delete, kept = plan_snapshot_deletion(client, snapshot_ids, image_id, region)
    deleted, refused = delete_snapshots(client, to_delete, region)
    kept.update(refused)
    return deleted, kept
