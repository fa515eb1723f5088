# -*- coding: utf-8 -*-
# Copyright (c) alicloud.ecs_images contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Images: the status vocabulary, the one normalised image model, and the image readers.

The image statuses and what they mean (in flight, failed, usable) are defined here and nowhere else; so is the
snake_case model every module returns (``normalize_image``), which check mode predictions are built from too
(``predict_image``).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.alicloud.ecs_images.plugins.module_utils.client import ApiError
from ansible_collections.alicloud.ecs_images.plugins.module_utils.regions import region_ids
from ansible_collections.alicloud.ecs_images.plugins.module_utils.tags import tags_to_dict

# ------------------------------------------------------------------------------------------ status vocabulary
# Every status DescribeImages can report.
IMAGE_STATUSES = ('Creating', 'Waiting', 'Available', 'UnAvailable', 'CreateFailed', 'Deprecated')
# DescribeImages hides every image that is not Available unless Status is given: readers pass them all.
ALL_IMAGE_STATUSES = ','.join(IMAGE_STATUSES)
# Still being made (created, copied or imported): waited for, never deleted by the API.
IN_FLIGHT_STATUSES = ('Creating', 'Waiting')
# The creation (copy, import) failed: such an image never becomes Available.
FAILED_STATUSES = ('CreateFailed', 'UnAvailable')
# Finished images that instances can be made from (a Deprecated image still runs instances).
USABLE_STATUSES = ('Available', 'Deprecated')
# Where a waiter for an image to finish (whatever the outcome) stops.
SETTLED_STATUSES = USABLE_STATUSES + FAILED_STATUSES
OWNER_ALIASES = ('system', 'self', 'others', 'marketplace')


def image_usable(image):
    """The cloud's Usable flag of a raw image: it can be used now (copied, shared, exported, put on a system
    disk). Usable lags Status for a while after a create, copy or import. An answer without the flag counts as
    usable when the status is Available or Deprecated."""
    if not image:
        return False
    value = image.get('Usable')
    if value is None or value == '':
        return image.get('Status') in USABLE_STATUSES
    return image.get('Status') in USABLE_STATUSES and (value is True or str(value).lower() == 'true')


def _with_region(images, client, region):
    """DescribeImages items carry no RegionId: fill it in from the region that was asked."""
    region = region or getattr(client, 'region', None)
    for image in images:
        if region and not image.get('RegionId'):
            image['RegionId'] = region
    return images


def describe_image(client, image_id, region=None):
    """The raw image (any status, any owner the API shows by id), or None when it does not exist."""
    response = client.call('DescribeImages', {'ImageId': image_id, 'Status': ALL_IMAGE_STATUSES},
                           region=region)
    for image in (response.get('Images') or {}).get('Image') or []:
        if image.get('ImageId') == image_id:
            return _with_region([image], client, region)[0]
    return None


def find_images_by_name(client, name, owner='self', region=None):
    """Images whose name is exactly ``name`` (the API's ImageName filter is fuzzy), every status."""
    params = {'ImageName': name, 'Status': ALL_IMAGE_STATUSES, 'ImageOwnerAlias': owner}
    images = client.paginate('DescribeImages', params, ('Images', 'Image'), region=region)
    return _with_region([image for image in images if image.get('ImageName') == name], client, region)


def list_images(client, filters, region=None):
    """Every page of DescribeImages for ``filters`` (API parameter names); every status unless Status given."""
    params = dict((k, v) for k, v in (filters or {}).items() if v is not None)
    params.setdefault('Status', ALL_IMAGE_STATUSES)
    images = client.paginate('DescribeImages', params, ('Images', 'Image'), region=region)
    seen = set()
    unique = []
    for image in images:   # pages may overlap when images change between reads
        if image.get('ImageId') in seen:
            continue
        seen.add(image.get('ImageId'))
        unique.append(image)
    return _with_region(unique, client, region)


def _int(value, default=None):
    if value is None or value == '':
        return default
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (int, float)):
        return int(value)
    match = re.match(r'\s*(-?\d+)', str(value))
    return int(match.group(1)) if match else default


def _bool(value):
    if isinstance(value, bool):
        return value
    if value is None:
        return False
    if isinstance(value, (int, float)):
        return bool(value)
    return str(value).strip().lower() in ('true', '1', 'yes')


def _str(value):
    return None if value in (None, '') else value


def _text(value):
    return None if value in (None, '') else str(value)


def _listed(mappings):
    """DiskDeviceMappings as a list ({'DiskDeviceMapping': [...]} or already a list)."""
    mappings = mappings or []
    return (mappings.get('DiskDeviceMapping') or []) if isinstance(mappings, dict) else mappings


def _fields(raw, fields):
    model = {}
    for key, api_keys, convert in fields:
        api_keys = api_keys if isinstance(api_keys, tuple) else (api_keys,)
        model[key] = convert(next((raw.get(k) for k in api_keys if raw.get(k)), raw.get(api_keys[0])))
    return model


def normalize_disk_mapping(raw):
    return _fields(raw, DISK_MAPPING_FIELDS)


# The image model: (model key, API key, conversion). Keys missing from the API answer become None
# (empty for the description, 0 for the progress, False for the flags).
DISK_MAPPING_FIELDS = (
    ('device', 'Device', _str), ('type', 'Type', _str), ('snapshot_id', 'SnapshotId', _str),
    ('size', 'Size', _int), ('format', 'Format', _str), ('import_oss_bucket', 'ImportOSSBucket', _str),
    ('import_oss_object', 'ImportOSSObject', _str), ('progress', 'Progress', _int),
    ('remain_time', 'RemainTime', _int),
)
IMAGE_FIELDS = (
    ('image_id', 'ImageId', _str), ('name', 'ImageName', _str), ('description', 'Description', lambda v: v or ''),
    ('status', 'Status', _str), ('progress', 'Progress', lambda v: _int(v, 0)), ('size', 'Size', _int),
    ('region_id', 'RegionId', _str), ('image_family', 'ImageFamily', _str), ('image_version', 'ImageVersion', _str),
    ('architecture', 'Architecture', _str), ('os_type', 'OSType', _str), ('os_name', ('OSNameEn', 'OSName'), _str),
    ('platform', 'Platform', _str), ('boot_mode', 'BootMode', _str), ('owner_alias', 'ImageOwnerAlias', _str),
    ('owner_id', 'ImageOwnerId', _text), ('usage', 'Usage', _str), ('is_self_shared', 'IsSelfShared', _bool),
    ('is_copied', 'IsCopied', _bool), ('is_public', 'IsPublic', _bool), ('creation_time', 'CreationTime', _str),
    ('resource_group_id', 'ResourceGroupId', _str), ('tags', 'Tags', tags_to_dict),
    ('disk_device_mappings', 'DiskDeviceMappings', lambda v: [normalize_disk_mapping(m) for m in _listed(v)]),
)


def normalize_image(raw):
    """The snake_case image model every module returns (see docs/dev/ARCHITECTURE.md), or None."""
    if raw is None:
        return None
    return _fields(raw, IMAGE_FIELDS)


def sort_newest_first(images, key='creation_time'):
    """Sort normalised images newest first (ISO 8601 strings sort chronologically); stable for ties."""
    return sorted(images, key=lambda image: (image.get(key) or '', image.get('image_id') or ''), reverse=True)


def predict_image(region_id, name, status, description=None, image_family=None, image_version=None,
                  architecture=None, platform=None, boot_mode=None, resource_group_id=None, tags=None):
    """The model of an image this account is about to create (check mode): ``normalize_image`` of the API
    image it will be, with what the API fills in for a new own image (owner self, not shared, not copied, not
    used) and no id, size or creation time yet."""
    progress = '100%' if status in USABLE_STATUSES else '0%'
    raw = {'ImageName': name, 'Description': description, 'Status': status, 'Progress': progress,
           'RegionId': region_id, 'ImageFamily': image_family, 'ImageVersion': image_version,
           'Architecture': architecture, 'Platform': platform, 'BootMode': boot_mode, 'ImageOwnerAlias': 'self',
           'Usage': 'none', 'ResourceGroupId': resource_group_id, 'Tags': dict(tags or {})}
    return normalize_image(raw)


def image_regions(client, image_id, region):
    """Regions other than ``region`` where this account sees ``image_id`` (reads only; used to explain why an
    image is not where the task looks for it). Read errors give an empty list: this only words a message."""
    found = []
    try:
        for other in region_ids(client):
            if other and other != region and describe_image(client, image_id, region=other) is not None:
                found.append(other)
    except ApiError:
        pass
    return found


DUPLICATE_NAME_CODE = 'InvalidImageName.Duplicated'
ADOPT_LOOKUP_SECONDS = 60


def create_or_adopt(client, action, params, name, region=None, lookup_seconds=ADOPT_LOOKUP_SECONDS, sleep=None):
    """Call an image-creating ``action`` (CreateImage, ImportImage) with a client token.

    Returns ``(response, None)``, or - when another run created an image of the same name in the meantime (two
    AWX jobs, two operators: the API answers InvalidImageName.Duplicated) - ``(None, raw image)``: the image the
    other run is creating, for the caller to adopt and wait for as a rerun would. The real cloud may list a new
    image late, so it is looked for by name for up to ``lookup_seconds``; when it never shows, the API's error
    is raised. Any other error is raised as it is.
    """
    try:
        return client.call(action, params, client_token=True, region=region), None
    except ApiError as err:
        if err.code != DUPLICATE_NAME_CODE:
            raise
        duplicate = err
    # imported here: waiters imports this file
    from ansible_collections.alicloud.ecs_images.plugins.module_utils.waiters import (  # pylint: disable=import-outside-toplevel
        WaitTimeout, wait_until,
    )
    kwargs = {} if sleep is None else {'sleep': sleep}
    try:
        found = wait_until(lambda: find_images_by_name(client, name, owner='self', region=region), bool,
                           timeout=lookup_seconds, first_delay=1.0, max_delay=5.0, poll_first=True,
                           what='image named %r' % name, **kwargs)
    except WaitTimeout:
        raise duplicate
    return None, found[0]
