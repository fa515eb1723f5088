# -*- coding: utf-8 -*-
# Copyright (c) alicloud.ecs_images contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Snapshot readers (DescribeSnapshots)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.alicloud.ecs_images.plugins.module_utils.client import describe_by_ids


def describe_snapshots(client, snapshot_ids, region=None):
    """The raw snapshots (any status) among ``snapshot_ids`` that exist, in the API's order (one call)."""
    return describe_by_ids(client, 'DescribeSnapshots', 'SnapshotIds', ('Snapshots', 'Snapshot'), 'SnapshotId',
                           snapshot_ids, region=region)


def describe_snapshot(client, snapshot_id, region=None):
    """The raw snapshot (any status), or None when it does not exist."""
    found = describe_snapshots(client, [snapshot_id], region=region)
    return found[0] if found else None
