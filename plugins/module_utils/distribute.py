# -*- coding: utf-8 -*-
# Copyright: alicloud.ecs_images contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Planning logic of ecs_image_copy and ecs_image_share: pure functions, no API calls, no waiting (the copies
are waited for by the waiter engine, module_utils/waiters.py).

Everything here is deterministic and unit-tested in tests/unit/plugins/module_utils/test_distribute.py.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.alicloud.ecs_images.plugins.module_utils.images import FAILED_STATUSES, IN_FLIGHT_STATUSES
from ansible_collections.alicloud.ecs_images.plugins.module_utils.tags import tag_params

SHARE_BATCH_SIZE = 10      # AddAccount.N / RemoveAccount.N: at most 10 per ModifyImageSharePermission call
SHARE_ACCOUNT_LIMIT = 50   # accounts an image may be shared with in total (default quota)

ACCOUNT_ID_RE = re.compile(r'^[0-9]{16}$')   # Alibaba Cloud account ids (UIDs) are 16 digits


# --------------------------------------------------------------------------------------------- regions

def normalize_regions(value):
    """Destination regions as a list without blanks and duplicates, in the order given."""
    if value is None:
        return []
    if isinstance(value, str):
        value = value.split(',')
    seen = []
    for item in value:
        item = str(item).strip()
        if item and item not in seen:
            seen.append(item)
    return seen


def region_errors(source_region, destinations, known_regions):
    """Messages for destinations that cannot be used; empty when all are fine."""
    errors = []
    if not destinations:
        errors.append('destination_regions must list at least one region')
    if source_region in destinations:
        errors.append('destination_regions must not contain the source region %s: an image already exists in its '
                      'own region' % source_region)
    if known_regions is not None:
        unknown = [r for r in destinations if r not in known_regions]
        if unknown:
            errors.append('destination_regions: region(s) %s do not exist (known regions: %s)'
                          % (', '.join(unknown), ', '.join(sorted(known_regions))))
    return errors


def unproven_regions(found):
    """Destinations whose existence is not proven by a read: ``found`` maps each region to the image found
    there (``None`` when no image, or the read failed). Only these need a DescribeRegions check, so an
    idempotent rerun where every destination holds its copy skips it."""
    return [region for region, image in found.items() if image is None]


# --------------------------------------------------------------------------------------------- copy

def plan_copy_present(region, name, images):
    """Action for one destination region when state=present.

    ``images`` are the account's own images named ``name`` in ``region`` (normalised, every status).
    Returns ``(action, image, error)`` with action one of ``copy`` (no copy yet), ``wait`` (a copy is in
    flight), ``present`` (the region holds it); ``error`` is a message when the region cannot be handled.
    """
    if not images:
        return 'copy', None, None
    if len(images) > 1:
        return None, None, ('region %s holds %d images named %s (%s): cannot tell which one is the copy; '
                            'remove the extra ones or choose another name'
                            % (region, len(images), name, ', '.join(sorted(i['image_id'] for i in images))))
    image = images[0]
    status = image.get('status')
    if status in IN_FLIGHT_STATUSES:
        return 'wait', image, None
    if status in FAILED_STATUSES:
        return None, image, ('region %s holds image %s named %s in state %s: delete it (state=absent) and run '
                             'again to copy anew' % (region, image['image_id'], name, status))
    return 'present', image, None


def plan_copy_absent(region, name, images):
    """Action for one destination region when state=absent: ``none``, ``cancel`` (copy in flight, use
    CancelCopyImage) or ``delete``; ``error`` refuses images that are not copies or are ambiguous."""
    if not images:
        return 'none', None, None
    if len(images) > 1:
        return None, None, ('region %s holds %d images named %s (%s): cannot tell which one is the copy'
                            % (region, len(images), name, ', '.join(sorted(i['image_id'] for i in images))))
    image = images[0]
    if not image.get('is_copied'):
        return None, image, ('region %s holds image %s named %s but it was not made by CopyImage; refusing to '
                             'remove it (use alicloud.ecs_images.ecs_image with state=absent)'
                             % (region, image['image_id'], name))
    if image.get('status') in IN_FLIGHT_STATUSES:
        return 'cancel', image, None
    return 'delete', image, None


def copy_params(source_region, image_id, region, name, description=None, encrypted=None, kms_key_id=None,
                resource_group_id=None, tags=None):
    """Parameters of the CopyImage call that copies ``image_id`` to ``region``."""
    params = {
        'RegionId': source_region,
        'ImageId': image_id,
        'DestinationRegionId': region,
        'DestinationImageName': name,
        'DestinationDescription': description,
        'Encrypted': encrypted,
        'KMSKeyId': kms_key_id,
        'ResourceGroupId': resource_group_id,
    }
    params.update(tag_params(tags))
    return dict((k, v) for k, v in params.items() if v is not None)


# --------------------------------------------------------------------------------------------- share

def account_errors(accounts, owner_id=None):
    """Messages for malformed account ids and for sharing with the image's own account."""
    errors = []
    bad = [a for a in accounts if not ACCOUNT_ID_RE.match(str(a))]
    if bad:
        errors.append('accounts: %s %s not an Alibaba Cloud account id (16 digits)'
                      % (', '.join(repr(b) for b in bad), 'is' if len(bad) == 1 else 'are'))
    if owner_id and str(owner_id) in [str(a) for a in accounts]:
        errors.append('accounts: %s is the account that owns the image; an image cannot be shared with its owner'
                      % owner_id)
    return errors


def plan_share(current, accounts, state='present', purge=False):
    """Return ``(desired, to_add, to_remove)``, each a sorted list of account ids (strings)."""
    current = set(str(a) for a in current)
    wanted = set(str(a) for a in accounts or [])
    if state == 'absent':
        desired = current - wanted
    elif purge:
        desired = wanted
    else:
        desired = current | wanted
    return sorted(desired), sorted(desired - current), sorted(current - desired)


def share_calls(region, image_id, to_add, to_remove, batch_size=SHARE_BATCH_SIZE):
    """ModifyImageSharePermission parameter sets: removals first (they free quota), then additions, at most
    ``batch_size`` accounts each."""
    calls = []
    for key, accounts in (('RemoveAccount', to_remove), ('AddAccount', to_add)):
        for start in range(0, len(accounts), batch_size):
            params = {'RegionId': region, 'ImageId': image_id}
            for index, account in enumerate(accounts[start:start + batch_size], start=1):
                params['%s.%d' % (key, index)] = account
            calls.append(params)
    return calls
