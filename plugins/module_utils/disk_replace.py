# -*- coding: utf-8 -*-
# Copyright: contributors to the alicloud.ecs_images collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure planning logic of ecs_disk_replace (no API calls, no SDK): unit-tested on its own.

Every function here takes plain dicts (the raw API objects) and the module parameters and returns either a
plan or an error message. Error messages name the option at fault and never contain a password.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.alicloud.ecs_images.plugins.module_utils.images import IN_FLIGHT_STATUSES, USABLE_STATUSES
from ansible_collections.alicloud.ecs_images.plugins.module_utils.instances import lock_reasons
from ansible_collections.alicloud.ecs_images.plugins.module_utils.login import LOGIN_OPTIONS

PASSWORD_SPECIALS = "()`~!@#$%^&*-_+=|{}[]:;'<>,.?/"
MIN_SYSTEM_DISK_SIZE = 20
# Largest system disk per category (GiB); anything not listed: 2048.
MAX_SYSTEM_DISK_SIZE = {'cloud': 500}
DEFAULT_MAX_SYSTEM_DISK_SIZE = 2048
TRANSITIONAL_INSTANCE_STATUSES = ('Pending', 'Starting', 'Stopping')

COPY_HINT = ('custom images are regional: copy it into %s first with alicloud.ecs_images.ecs_image_copy '
             '(then use the copy\'s image_id)')


def _int(value, default=0):
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def check_password(password):
    """ReplaceSystemDisk's password rules. Returns an error message (without the password) or None."""
    if password is None:
        return None
    if not 8 <= len(password) <= 30:
        return 'password must be 8 to 30 characters long (got %d characters)' % len(password)
    classes = 0
    classes += any(c.islower() and c.isascii() for c in password)
    classes += any(c.isupper() and c.isascii() for c in password)
    classes += any(c.isdigit() and c.isascii() for c in password)
    classes += any(c in PASSWORD_SPECIALS for c in password)
    bad = [c for c in password if not (c.isascii() and (c.isalnum() or c in PASSWORD_SPECIALS))]
    if bad:
        return ('password may contain only letters, digits and the special characters %s'
                % PASSWORD_SPECIALS)
    if classes < 3:
        return ('password must contain characters of at least three of these kinds: lower-case letters, '
                'upper-case letters, digits, special characters (%s)' % PASSWORD_SPECIALS)
    return None


def check_login_options(params):
    """Exactly one of password / key_pair_name / password_inherit=true. Returns an error message or None."""
    given = [name for name in LOGIN_OPTIONS if params.get(name) is not None]
    if len(given) != 1:
        return ('exactly one of password, key_pair_name or password_inherit must be set to say how to log in '
                'after the replacement (got: %s)' % (', '.join(given) or 'none'))
    if given == ['password_inherit'] and not params['password_inherit']:
        return ('password_inherit: false does not say how to log in after the replacement; set password or '
                'key_pair_name instead, or password_inherit: true')
    if given == ['key_pair_name'] and not params['key_pair_name']:
        return 'key_pair_name must not be empty'
    return check_password(params.get('password'))


def check_image(image, image_id, region, other_regions=None):
    """Is the image usable for a replacement in ``region``? Returns an error message or None.

    ``image`` is the raw image found in the instance's region (any status) or None;
    ``other_regions`` lists the regions where an image with this id was found instead.
    """
    if image is None:
        if other_regions:
            return ('image %s is in region %s, not in the instance\'s region %s; %s'
                    % (image_id, ', '.join(other_regions), region, COPY_HINT % region))
        return ('image_id %s was not found in the instance\'s region %s (neither a public, custom, shared nor '
                'marketplace image visible to this account); if it is a custom image of another region, %s'
                % (image_id, region, COPY_HINT % region))
    status = image.get('Status')
    if status in IN_FLIGHT_STATUSES:
        return ('image %s is still %s (progress %s); wait until it is Available (alicloud.ecs_images.ecs_image '
                'with wait: true does that) before replacing a system disk with it'
                % (image_id, status, image.get('Progress') or 'unknown'))
    if status not in USABLE_STATUSES:
        return 'image %s is %s and cannot be used to replace a system disk' % (image_id, status)
    return None


def target_disk_size(requested, image, current_disk):
    """Size (GiB) of the new system disk and an error message (or None).

    Default: the current system disk's size, or the image's size when that is larger (a replacement never
    shrinks the disk unless asked, and cannot shrink it below the image).
    """
    image_size = _int((image or {}).get('Size'))
    current_size = _int((current_disk or {}).get('Size'))
    category = (current_disk or {}).get('Category') or ''
    largest = MAX_SYSTEM_DISK_SIZE.get(category, DEFAULT_MAX_SYSTEM_DISK_SIZE)
    if requested is None:
        return max(image_size, current_size, MIN_SYSTEM_DISK_SIZE), None
    if requested < MIN_SYSTEM_DISK_SIZE:
        return None, 'system_disk_size %d is below the minimum of %d GiB' % (requested, MIN_SYSTEM_DISK_SIZE)
    if requested < image_size:
        return None, ('system_disk_size %d is smaller than the image %s (%d GiB); use at least %d'
                      % (requested, (image or {}).get('ImageId'), image_size, image_size))
    if requested < current_size:
        return None, ('system_disk_size %d is smaller than the current system disk %s (%d GiB); a system disk '
                      'cannot shrink, use at least %d' % (requested, current_disk.get('DiskId'), current_size,
                                                          current_size))
    if requested > largest:
        return None, ('system_disk_size %d is above the maximum of %d GiB for a %s system disk'
                      % (requested, largest, category or 'system'))
    return requested, None


# Instance type families with ARM (arm64) processors; every other family is x86_64.
ARM_FAMILY = re.compile(r'^ecs\.[a-z]+\d+[yr]$')


def instance_architecture(instance):
    """x86_64 or arm64, from the instance type family (None when unknown)."""
    family = instance.get('InstanceTypeFamily')
    if not family:
        itype = instance.get('InstanceType') or ''
        family = itype.rsplit('.', 1)[0] if itype.count('.') >= 2 else None
    if not family:
        return None
    return 'arm64' if ARM_FAMILY.match(family) else 'x86_64'


def architectures_match(instance_arch, image_arch):
    if not instance_arch or not image_arch:
        return True
    if instance_arch == 'x86_64':
        return image_arch in ('x86_64', 'i386')
    return image_arch == instance_arch


def plan_replacement(instance, system_disk, image, params, other_regions=None, key_pair_found=None,
                     was_running=False):
    """Decide what to do. Pure: no API calls.

    instance: raw DescribeInstances item (settled: Running or Stopped); system_disk: raw DescribeDisks item of
    the current system disk (or None); image: raw image in the instance's region (or None).
    params: image_id, stop, start, force, system_disk_size, key_pair_name, password, password_inherit.
    other_regions: regions where the image was found instead (for the error message);
    key_pair_found: False when key_pair_name was looked up and does not exist in the region.
    was_running: an interrupted earlier run stopped this (Running) instance (its intent tag says so): a Stopped
    instance is started again at the end, as the interrupted run would have done (unless start is false).

    Returns a dict: ``error`` (message or None), ``replace``, ``stop``, ``start`` (bools),
    ``system_disk_size`` (int or None), ``final_status`` (what the instance will be), ``actions`` (list).
    """
    image_id = params['image_id']
    status = instance.get('Status')
    region = instance.get('RegionId')
    result = {'error': None, 'replace': False, 'stop': False, 'start': False, 'system_disk_size': None,
              'final_status': status, 'actions': []}

    def fail(msg):
        result['error'] = msg
        return result

    if instance.get('ImageId') == image_id and not params.get('force'):
        # Nothing to replace; nothing is stopped. start: true still brings a Stopped instance up.
        if status == 'Stopped' and (params.get('start') is True or (was_running and params.get('start') is None)):
            result.update(start=True, final_status='Running', actions=['start'])
        return result

    if status not in ('Running', 'Stopped'):
        return fail('instance %s is %s; a system disk can only be replaced from Running (with stop: true) or '
                    'Stopped' % (instance.get('InstanceId'), status))

    reasons = lock_reasons(instance)
    if reasons:
        return fail('instance %s is locked (%s); its system disk cannot be replaced until the lock is lifted'
                    % (instance.get('InstanceId'), ', '.join(reasons)))

    msg = check_image(image, image_id, region, other_regions)
    if msg:
        return fail(msg)

    if params.get('key_pair_name') is not None and (image.get('OSType') or '').lower() == 'windows':
        return fail('key_pair_name cannot be used with the Windows image %s; use password or password_inherit'
                    % image_id)
    if params.get('key_pair_name') is not None and key_pair_found is False:
        return fail('key_pair_name %s does not exist in region %s' % (params['key_pair_name'], region))

    inst_arch = instance_architecture(instance)
    if not architectures_match(inst_arch, image.get('Architecture')):
        return fail('image %s is built for %s but instance %s (%s) is %s; choose an image of the same architecture'
                    % (image_id, image.get('Architecture'), instance.get('InstanceId'),
                       instance.get('InstanceType'), inst_arch))

    size, msg = target_disk_size(params.get('system_disk_size'), image, system_disk)
    if msg:
        return fail(msg)
    if system_disk is not None:
        disk_reasons = lock_reasons(system_disk)
        if disk_reasons:
            return fail('system disk %s of instance %s is locked (%s)'
                        % (system_disk.get('DiskId'), instance.get('InstanceId'), ', '.join(disk_reasons)))

    if status == 'Running' and not params.get('stop'):
        return fail('instance %s is Running and its system disk can only be replaced while it is Stopped; set '
                    'stop: true to let this module stop it (it is started again afterwards), or stop it first'
                    % instance.get('InstanceId'))

    start = params.get('start')
    if start is None:
        start = status == 'Running' or bool(was_running)
    actions = []
    if status == 'Running':
        actions.append('stop')
    actions.append('replace')
    if start:
        actions.append('start')
    result.update(replace=True, stop=status == 'Running', start=bool(start), system_disk_size=size,
                  final_status='Running' if start else 'Stopped', actions=actions)
    return result
