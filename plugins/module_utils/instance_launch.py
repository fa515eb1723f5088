# -*- coding: utf-8 -*-
# Copyright: contributors to the alicloud.ecs_images collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure planning logic of ecs_instance (no API calls, no SDK): unit-tested on its own.

The functions take plain dicts (raw API objects and module parameters) and return plans, request parameters or
raise ``OptionError`` naming the option at fault. Nothing here ever puts a password in a message.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import hashlib
import json

from ansible_collections.alicloud.ecs_images.plugins.module_utils.images import USABLE_STATUSES
from ansible_collections.alicloud.ecs_images.plugins.module_utils.login import login_params
from ansible_collections.alicloud.ecs_images.plugins.module_utils.tags import tag_params, tags_to_dict
from ansible_collections.alicloud.ecs_images.plugins.module_utils.validation import OptionError

SETTLED_STATUSES = ('Running', 'Stopped')
LIVE_STATUSES = ('Pending', 'Starting', 'Running', 'Stopping', 'Stopped')
# DescribeInstanceTypes CpuArchitecture -> image Architecture values it runs
ARCH_OF_CPU = {'X86': ('x86_64', 'i386'), 'ARM': ('arm64',)}
COPY_HINT = ('custom images are regional: copy it into %s first with alicloud.ecs_images.ecs_image_copy and use the '
             'copy\'s image_id')


def normalize_instance(raw):
    """snake_case view of a DescribeInstances item (the ``instances`` of ecs_instance's result)."""
    if raw is None:
        return None
    vpc = raw.get('VpcAttributes') or {}
    private = ((vpc.get('PrivateIpAddress') or {}).get('IpAddress') or [])
    public = ((raw.get('PublicIpAddress') or {}).get('IpAddress') or [])
    eip = (raw.get('EipAddress') or {}).get('IpAddress') or ''
    groups = (raw.get('SecurityGroupIds') or {}).get('SecurityGroupId') or []
    return {
        'instance_id': raw.get('InstanceId'),
        'name': raw.get('InstanceName'),
        'host_name': raw.get('HostName'),
        'status': raw.get('Status'),
        'image_id': raw.get('ImageId'),
        'instance_type': raw.get('InstanceType'),
        'region_id': raw.get('RegionId'),
        'zone_id': raw.get('ZoneId'),
        'vpc_id': vpc.get('VpcId'),
        'vswitch_id': vpc.get('VSwitchId'),
        'private_ip_address': private[0] if private else None,
        'public_ip_address': (public[0] if public else None) or eip or None,
        'security_group_ids': list(groups),
        'key_pair_name': raw.get('KeyPairName') or None,
        'instance_charge_type': raw.get('InstanceChargeType'),
        'spot_strategy': raw.get('SpotStrategy') or 'NoSpot',
        'internet_max_bandwidth_out': raw.get('InternetMaxBandwidthOut'),
        'creation_time': raw.get('CreationTime'),
        'tags': tags_to_dict(raw.get('Tags')),
    }


def matches(raw, name, tags):
    """Is the instance one of the set addressed by ``name`` (exact) and ``tags`` (all of them)?"""
    if name and raw.get('InstanceName') != name:
        return False
    have = tags_to_dict(raw.get('Tags'))
    return all(have.get(k) == ('' if v is None else str(v)) for k, v in (tags or {}).items())


def describe_filters(name, tags):
    """DescribeInstances parameters that narrow the read to the addressed set (the match is exact afterwards)."""
    params = {}
    if name:
        params['InstanceName'] = name
    params.update(tag_params(tags))
    return params


def check_options(params):
    """Input errors found before any API call. Raises OptionError."""
    state = params['state']
    if not params.get('name') and not params.get('tags'):
        raise OptionError('give name or tags (or both): they identify the instances this task manages', 'name')
    count = params.get('count')
    if count is not None and count < 0:
        raise OptionError('option count must be 0 or more (got %d)' % count, 'count')
    if state != 'absent' and (count or 0) > 100:
        raise OptionError('option count must be at most 100 (one RunInstances call)', 'count')
    if params.get('wait_timeout') is not None and params['wait_timeout'] <= 0:
        raise OptionError('option wait_timeout must be a positive number of seconds', 'wait_timeout')
    if params.get('internet_max_bandwidth_out') is not None and not 0 <= params['internet_max_bandwidth_out'] <= 100:
        raise OptionError('option internet_max_bandwidth_out must be 0-100 Mbit/s', 'internet_max_bandwidth_out')
    if params.get('spot_strategy') not in (None, 'NoSpot') and params.get('instance_charge_type') == 'PrePaid':
        raise OptionError('option spot_strategy %s needs instance_charge_type PostPaid (spot instances are pay-as-'
                          'you-go)' % params['spot_strategy'], 'spot_strategy')
    size = params.get('system_disk_size')
    if size is not None and not 20 <= size <= 2048:
        raise OptionError('option system_disk_size must be 20-2048 GiB (got %d)' % size, 'system_disk_size')
    for index, disk in enumerate(params.get('data_disks') or []):
        if not disk.get('snapshot_id') and not disk.get('size') and not disk.get('device'):
            raise OptionError('option data_disks[%d]: give size (or snapshot_id, or the device of a data disk of the '
                              'image to change)' % index, 'data_disks')
        if disk.get('size') is not None and not 20 <= disk['size'] <= 32768:
            raise OptionError('option data_disks[%d].size must be 20-32768 GiB' % index, 'data_disks')


def pick_family_image(images, family):
    """The newest Available image of ``family`` among raw DescribeImages items, or None."""
    candidates = [i for i in images if i.get('ImageFamily') == family and i.get('Status') == 'Available']
    if not candidates:
        return None
    return sorted(candidates, key=lambda i: (i.get('CreationTime') or '', i.get('ImageId') or ''))[-1]


def check_image(image, image_ref, option, region):
    """Refuse an image that is missing in the region or not Available/Deprecated. Raises OptionError.

    An Available image whose ``Usable`` flag still lags (after a create, copy or import) passes: the module
    waits for it before launching (``waiters.wait_image_usable``), as ecs_disk_replace does."""
    if image is None:
        raise OptionError('option %s: image %s was not found in region %s; %s'
                          % (option, image_ref, region, COPY_HINT % region), option)
    status = image.get('Status')
    if status not in USABLE_STATUSES:
        raise OptionError('option %s: image %s in region %s is %s and cannot launch instances (wait until it '
                          'is Available, for example with ecs_image wait: true)'
                          % (option, image.get('ImageId'), region, status), option)


def check_architecture(image, type_info, instance_type):
    """Refuse an image whose architecture the instance type cannot run. Raises OptionError."""
    if type_info is None:
        raise OptionError('option instance_type: %s is not an instance type of this region (DescribeInstanceTypes '
                          'does not know it)' % instance_type, 'instance_type')
    cpu = type_info.get('CpuArchitecture')
    arch = image.get('Architecture')
    if cpu in ARCH_OF_CPU and arch and arch not in ARCH_OF_CPU[cpu]:
        raise OptionError('option instance_type: %s is a %s type and cannot run image %s, which is %s; choose an %s '
                          'instance type or an image of that architecture'
                          % (instance_type, 'arm64' if cpu == 'ARM' else 'x86_64', image.get('ImageId'), arch,
                             'arm64' if arch == 'arm64' else 'x86_64'), 'instance_type')


def check_network(vswitch, vswitch_id, groups, group_ids, region):
    """Refuse a vSwitch not in the region and missing security groups (or of another VPC). Raises OptionError."""
    if vswitch is None:
        raise OptionError('option vswitch_id: vSwitch %s was not found in region %s (a vSwitch belongs to one '
                          'region and zone; use a vSwitch of %s)' % (vswitch_id, region, region), 'vswitch_id')
    found = dict((g.get('SecurityGroupId'), g) for g in groups)
    missing = [g for g in group_ids if g not in found]
    if missing:
        raise OptionError('option security_group_ids: security group(s) %s not found in region %s'
                          % (', '.join(missing), region), 'security_group_ids')
    other = [g for g in group_ids if found[g].get('VpcId') != vswitch.get('VpcId')]
    if other:
        raise OptionError('option security_group_ids: security group(s) %s are not in VPC %s of vSwitch %s'
                          % (', '.join(other), vswitch.get('VpcId'), vswitch_id), 'security_group_ids')


def check_stock(zones, zone, instance_type):
    """DescribeAvailableResource(DestinationResource=InstanceType, ZoneId=zone) answer -> refusal or None."""
    for entry in zones:
        if entry.get('ZoneId') != zone:
            continue
        for res in (entry.get('AvailableResources') or {}).get('AvailableResource') or []:
            for item in (res.get('SupportedResources') or {}).get('SupportedResource') or []:
                if item.get('Value') != instance_type:
                    continue
                if item.get('Status') == 'Available' or item.get('StatusCategory') == 'WithStock':
                    return
                raise OptionError('option instance_type: %s is sold out in zone %s (no stock); try another '
                                  'instance type or a vSwitch of another zone' % (instance_type, zone),
                                  'instance_type')
    raise OptionError('option instance_type: %s is not offered in zone %s (the zone of vswitch_id); choose a type '
                      'offered there or a vSwitch of another zone' % (instance_type, zone), 'instance_type')


def plan(existing, params):
    """What to do with the addressed instances ``existing`` (raw, live ones).

    Returns dict(launch=int, release=[raw], start=[raw], stop=[raw], keep=[raw]).
    ``count`` None keeps as many as exist (at least one for present/running/stopped)."""
    state = params['state']
    live = [i for i in existing if i.get('Status') in LIVE_STATUSES]
    if state == 'absent':
        return dict(launch=0, release=list(live), start=[], stop=[], keep=[])
    count = params.get('count')
    if count is None:
        count = max(1, len(live))
    # keep the oldest, release the newest first (CreationTime, then id for a stable order)
    ordered = sorted(live, key=lambda i: (i.get('CreationTime') or '', i.get('InstanceId') or ''))
    keep, release = ordered[:count], ordered[count:]
    launch = max(0, count - len(keep))
    start = [i for i in keep if state == 'running' and i.get('Status') in ('Stopped', 'Stopping')]
    stop = [i for i in keep if state == 'stopped' and i.get('Status') in ('Running', 'Starting', 'Pending')]
    return dict(launch=launch, release=release, start=start, stop=stop, keep=keep)


def blocked_releases(release, force):
    """Instances that cannot be released without ``force`` (not Stopped)."""
    return [] if force else [i for i in release if i.get('Status') != 'Stopped']


def run_params(params, image_id, amount):
    """RunInstances parameters (nested; flattened by the client); user data base64-encoded, as the API wants it.
    The password is included when given: the client masks it in every error and it is never returned."""
    p = params
    tags = p.get('tags') or {}
    data = []
    for disk in p.get('data_disks') or []:
        data.append({'Size': disk.get('size'), 'Category': disk.get('category'), 'SnapshotId': disk.get('snapshot_id'),
                     'Device': disk.get('device'), 'DiskName': disk.get('name'),
                     'DeleteWithInstance': disk.get('delete_with_instance')})
    out = {
        'ImageId': image_id, 'InstanceType': p['instance_type'], 'VSwitchId': p['vswitch_id'],
        'SecurityGroupIds': list(p.get('security_group_ids') or []), 'Amount': amount, 'MinAmount': amount,
        'InstanceName': p.get('name'), 'HostName': p.get('host_name'), 'Description': p.get('description'),
        'SystemDisk': {'Category': p.get('system_disk_category'), 'Size': p.get('system_disk_size')},
        'DataDisk': data or None,
        'InternetMaxBandwidthOut': p.get('internet_max_bandwidth_out'),
        'InternetChargeType': p.get('internet_charge_type'),
        'InstanceChargeType': p.get('instance_charge_type'), 'SpotStrategy': p.get('spot_strategy'),
        'SpotPriceLimit': p.get('spot_price_limit'),
        'UserData': (base64.b64encode(p['user_data'].encode('utf-8')).decode('ascii')
                     if p.get('user_data') is not None else None),
        'ResourceGroupId': p.get('resource_group_id'),
        'Tag': [{'Key': k, 'Value': '' if tags[k] is None else str(tags[k])} for k in sorted(tags)] or None,
    }
    out.update(login_params(p))
    if not any(v is not None for v in out['SystemDisk'].values()):
        out['SystemDisk'] = None
    return out


def client_token(region, params, image_id, existing_ids, amount, nonce):
    """ClientToken of one launch, reused by every retry of the RunInstances call (a lost answer is replayed, never
    launched twice). ``nonce`` is new for every module run: a token derived from the request alone would make a
    later run that asks for the same launch (after the first instances were released) get the old answer back,
    naming instances that no longer exist; across runs the instances are found by name and tags instead.
    Secrets are not part of it (hashed input only)."""
    spec = {'region': region, 'image': image_id, 'amount': amount, 'existing': sorted(existing_ids), 'nonce': nonce,
            'name': params.get('name'), 'tags': params.get('tags') or {}, 'type': params.get('instance_type'),
            'vswitch': params.get('vswitch_id'), 'groups': sorted(params.get('security_group_ids') or [])}
    digest = hashlib.sha256(json.dumps(spec, sort_keys=True, default=str).encode('utf-8')).hexdigest()
    return 'ansible-ecs-instance-' + digest[:40]


def predicted_instance(params, image_id, region, zone, vpc_id, status):
    """What a new instance will look like (check mode)."""
    return {
        'instance_id': None, 'name': params.get('name'), 'host_name': params.get('host_name'), 'status': status,
        'image_id': image_id, 'instance_type': params.get('instance_type'), 'region_id': region, 'zone_id': zone,
        'vpc_id': vpc_id, 'vswitch_id': params.get('vswitch_id'), 'private_ip_address': None,
        'public_ip_address': None, 'security_group_ids': list(params.get('security_group_ids') or []),
        'key_pair_name': params.get('key_pair_name'),
        'instance_charge_type': params.get('instance_charge_type') or 'PostPaid',
        'spot_strategy': params.get('spot_strategy') or 'NoSpot',
        'internet_max_bandwidth_out': params.get('internet_max_bandwidth_out') or 0, 'creation_time': None,
        'tags': dict((k, '' if v is None else str(v)) for k, v in (params.get('tags') or {}).items()),
    }
