#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) alicloud.ecs_images contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: ecs_image_share
short_description: Share a custom ECS image with other Alibaba Cloud accounts, with exact account sets
version_added: 0.1.0
description:
  - Adds accounts to, or removes them from, the share list of a custom image of the account
    (ModifyImageSharePermission).
  - Reads the current share list (every page of DescribeImageSharePermission), changes only the difference, at
    most 10 accounts per call (the API's limit; removals first, then additions), then reads the list again and
    returns it. The image itself is read only when the share list is to change, so a task with nothing to do
    makes a single read.
  - Before any change the module refuses, naming the option, a share list that would exceed O(account_limit)
    accounts, malformed account ids, the image's own account, and an image that cannot be shared - not a
    custom image of this account, or (when accounts are to be added) not C(Available), for example
    C(Deprecated) or still being created.
  - Shared images are regional; a receiving account sees the image in the same region with the owner alias
    C(others) (see M(alicloud.ecs_images.ecs_image_info) with O(alicloud.ecs_images.ecs_image_info#module:owner=others)).
author:
  - alicloud.ecs_images contributors (@alicloud)
options:
  image_id:
    description:
      - ID of a custom image of the account in the module's O(region).
    type: str
    required: true
  accounts:
    description:
      - Alibaba Cloud account ids (digits) to share the image with (O(state=present)) or to stop sharing it
        with (O(state=absent)).
    type: list
    elements: str
    default: []
  state:
    description:
      - C(present) makes sure the image is shared with every account in O(accounts).
      - C(absent) makes sure it is shared with none of them; the other accounts are kept.
    type: str
    choices: [present, absent]
    default: present
  purge_accounts:
    description:
      - With O(state=present), also stop sharing with every account that is not in O(accounts), so the share
        list becomes exactly O(accounts). O(accounts=[]) with O(purge_accounts=true) unshares the image
        completely.
      - Not allowed with O(state=absent).
    type: bool
    default: false
  account_limit:
    description:
      - Most accounts an image may be shared with. The module refuses, before any change, to add accounts when
        the result would have more.
      - The cloud's default quota is 50; raise it only when your quota was raised.
    type: int
    default: 50
  wait_timeout:
    description:
      - How long to wait, in seconds, for an C(Available) image to become C(Usable) before it is shared (the
        cloud's Usable flag lags the status for a while after a create, copy or import, and sharing is refused
        until then). Only used when accounts are added to such an image.
    type: int
    default: 600
extends_documentation_fragment:
  - alicloud.ecs_images.alicloud
attributes:
  check_mode:
    support: full
    description: Makes no write call and predicts exactly the share list and the accounts added and removed.
  diff_mode:
    support: full
    description: Shows the sorted list of accounts the image is shared with before and after.
notes:
  - Encrypted images cannot be shared (the cloud refuses them); the module refuses them before any change.
  - After a change the share list is read again; the module fails if it differs from the wanted one, and a
    rerun completes a change that was interrupted.
seealso:
  - module: alicloud.ecs_images.ecs_image_copy
  - module: alicloud.ecs_images.ecs_image_info
'''

EXAMPLES = r'''
- name: Share the golden image with two more accounts (keeps the others)
  alicloud.ecs_images.ecs_image_share:
    region: cn-hangzhou
    image_id: m-bp1g7004ksh0oeuc0000
    accounts:
      - "1234567890123456"
      - "2234567890123456"

- name: Make the share list exactly these accounts
  alicloud.ecs_images.ecs_image_share:
    image_id: m-bp1g7004ksh0oeuc0000
    accounts: "{{ consumer_accounts }}"
    purge_accounts: true
  register: share

- name: Stop sharing with one account
  alicloud.ecs_images.ecs_image_share:
    image_id: m-bp1g7004ksh0oeuc0000
    accounts: ["2234567890123456"]
    state: absent

- name: Unshare the image completely
  alicloud.ecs_images.ecs_image_share:
    image_id: m-bp1g7004ksh0oeuc0000
    accounts: []
    purge_accounts: true
'''

RETURN = r'''
image_id:
  description: ID of the image.
  returned: always
  type: str
  sample: m-bp1g7004ksh0oeuc0000
accounts:
  description:
    - Account ids the image is shared with after the task, sorted. In check mode, the predicted list.
  returned: always
  type: list
  elements: str
  sample: ["1234567890123456", "2234567890123456"]
added:
  description: Account ids added to the share list (in check mode, that would be added).
  returned: always
  type: list
  elements: str
  sample: ["2234567890123456"]
removed:
  description: Account ids removed from the share list (in check mode, that would be removed).
  returned: always
  type: list
  elements: str
  sample: []
api_calls:
  description: Number of API requests the module sent (retries included).
  returned: always
  type: int
  sample: 3
'''

from ansible_collections.alicloud.ecs_images.plugins.module_utils.base import AlicloudModule
from ansible_collections.alicloud.ecs_images.plugins.module_utils.client import ApiError
from ansible_collections.alicloud.ecs_images.plugins.module_utils.distribute import (
    account_errors, plan_share, share_calls)
from ansible_collections.alicloud.ecs_images.plugins.module_utils.images import (
    describe_image, image_usable, normalize_image)
from ansible_collections.alicloud.ecs_images.plugins.module_utils.waiters import wait_image_usable


def encrypted(raw):
    """Does any disk of the raw image carry an encrypted snapshot?"""
    mappings = ((raw or {}).get('DiskDeviceMappings') or {})
    mappings = mappings.get('DiskDeviceMapping') if isinstance(mappings, dict) else mappings
    return any(str(m.get('Encrypted')).lower() == 'true' for m in mappings or [])


def read_share_list(client, image_id):
    """Sorted account ids the image is shared with (every page)."""
    accounts = client.paginate('DescribeImageSharePermission', {'ImageId': image_id}, ('Accounts', 'Account'))
    return sorted(set(str(a.get('AliyunId')) for a in accounts if a.get('AliyunId') is not None))


def read_image(m, image_id, region):
    """The image (normalised); fails, naming image_id, when it is not a custom image of this account."""
    client = m.client()
    raw = describe_image(client, image_id)
    image = normalize_image(raw)
    m.image_raw = raw
    if image is None:
        m.fail('image_id: image %s does not exist in region %s (custom images are regional: copy it with '
               'alicloud.ecs_images.ecs_image_copy and share the copy)' % (image_id, region))
    if image['owner_alias'] != 'self':
        m.fail('image_id: image %s is not a custom image of this account (owner alias %s); only the account\'s '
               'own custom images can be shared' % (image_id, image['owner_alias']))
    return image


def run(m):
    p = m.params
    image_id = p['image_id']
    accounts = [str(a).strip() for a in p['accounts'] or []]
    if p['state'] == 'absent' and p['purge_accounts']:
        m.fail('purge_accounts is only used with state=present (to unshare completely use state=present, '
               'accounts=[] and purge_accounts=true)')
    if p['account_limit'] < 0:
        m.fail('account_limit must be 0 or more')
    errors = account_errors(accounts)
    if errors:
        m.fail('; '.join(errors))

    client = m.client()
    region = m.region
    # The share list first: when it already is the wanted one (an idempotent rerun) that single read is all the
    # task needs. The image itself is only read when something is to change.
    try:
        current = read_share_list(client, image_id)
    except ApiError as err:
        if err.code == 'InvalidImageId.NotFound':
            read_image(m, image_id, region)     # missing or not ours: fails with the message naming why
        raise

    desired, to_add, to_remove = plan_share(current, accounts, p['state'], p['purge_accounts'])
    changed = bool(to_add or to_remove)
    if changed:
        image = read_image(m, image_id, region)
        errors = account_errors(accounts, owner_id=image['owner_id'])
        if errors:
            m.fail('; '.join(errors))
        if to_add and image['status'] != 'Available':
            m.fail('image_id: image %s is %s, not Available; it cannot be shared with %s'
                   % (image_id, image['status'], ', '.join(to_add)), accounts=current)
        if to_add and encrypted(m.image_raw):
            m.fail('image_id: image %s is encrypted; the cloud does not share encrypted images (copy it '
                   'unencrypted first); nothing was changed' % image_id, accounts=current)
    if to_add and len(desired) > p['account_limit']:
        m.fail('accounts: the image would be shared with %d accounts, more than the limit of %d (account_limit); '
               'nothing was changed' % (len(desired), p['account_limit']), accounts=current)

    diff = {'before': {'accounts': current}, 'after': {'accounts': desired}}
    if m.check_mode or not changed:
        m.exit(changed, image_id=image_id, accounts=desired, added=to_add, removed=to_remove,
               api_calls=m.api_calls, diff=diff)
        return

    if to_add and not image_usable(m.image_raw):
        # Available but not yet Usable (the flag lags the status after a create, copy or import): the cloud
        # refuses to share it until then
        wait_image_usable(client, image_id, p['wait_timeout'])

    def share_state(exc):
        """For the failure boundary: the share list as it is after a refused call (what really changed)."""
        now = read_share_list(client, image_id)
        m.failure_extras['accounts'] = now
        if sorted(now) == sorted(current):
            return 'the share list is unchanged (%s)' % (', '.join(now) or 'empty'), None
        return ('the share list was changed only in part (now %s)' % (', '.join(now) or 'empty'),
                'A rerun changes only what is still missing, but the refused call will be refused again until its '
                'cause is fixed')

    # a refused call fails through the failure boundary: it lists the calls that changed the share list (none
    # when the first one is refused) and adds share_state
    m.failure_state = share_state
    for params in share_calls(region, image_id, to_add, to_remove):
        client.call('ModifyImageSharePermission', params)

    after = read_share_list(client, image_id)
    missing = sorted(set(desired) - set(after))
    extra = sorted(set(after) - set(desired))
    if missing or extra:
        m.fail('image %s: after the change the share list differs from the wanted one (missing %s, unexpected %s)'
               % (image_id, missing, extra), changed=True, accounts=after)
    diff['after'] = {'accounts': after}
    m.exit(True, image_id=image_id, accounts=after, added=to_add, removed=to_remove,
           api_calls=m.api_calls, diff=diff)


def main():
    argument_spec = dict(
        image_id=dict(type='str', required=True),
        accounts=dict(type='list', elements='str', default=[]),
        state=dict(type='str', default='present', choices=['present', 'absent']),
        purge_accounts=dict(type='bool', default=False),
        account_limit=dict(type='int', default=50),
        wait_timeout=dict(type='int', default=600),
    )
    module = AlicloudModule(argument_spec, supports_check_mode=True, id_options={'image_id': 'image'})
    module.run(run, module)


if __name__ == '__main__':
    main()
