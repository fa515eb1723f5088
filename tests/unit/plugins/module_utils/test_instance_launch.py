# -*- coding: utf-8 -*-
"""ecs_instance's pure planner: set membership, count plans, refusals naming the option, request parameters and
the ClientToken."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.alicloud.ecs_images.plugins.module_utils import instance_launch as L
from ansible_collections.alicloud.ecs_images.plugins.module_utils.client import flatten_params
from ansible_collections.alicloud.ecs_images.plugins.module_utils.validation import OptionError


def inst(iid, status='Running', created='2026-01-01T00:00Z', name='web', tags=None):
    return {'InstanceId': iid, 'Status': status, 'CreationTime': created, 'InstanceName': name,
            'Tags': {'Tag': [{'TagKey': k, 'TagValue': v} for k, v in (tags or {'t': '1'}).items()]}}


def params(**kw):
    base = dict(state='present', count=None, name='web', tags={'t': '1'}, force=False, wait=True, wait_timeout=600,
                instance_type='ecs.g7.large', vswitch_id='vsw-1', security_group_ids=['sg-1'], password=None,
                key_pair_name=None, password_inherit=None, system_disk_category=None, system_disk_size=None,
                data_disks=None, internet_max_bandwidth_out=0, internet_charge_type=None,
                instance_charge_type='PostPaid', spot_strategy='NoSpot', spot_price_limit=None, user_data=None,
                resource_group_id=None, host_name=None, description=None)
    base.update(kw)
    return base


def test_matches_exact_name_and_all_tags():
    assert L.matches(inst('i-1'), 'web', {'t': '1'})
    assert not L.matches(inst('i-1', name='web2'), 'web', {'t': '1'})
    assert not L.matches(inst('i-1', tags={'t': '2'}), 'web', {'t': '1'})
    assert L.matches(inst('i-1', tags={'t': '1', 'x': 'y'}), None, {'t': '1'})


def test_plan_counts_exact_difference_keeping_the_oldest():
    have = [inst('i-new', created='2026-01-03T00:00Z'), inst('i-old', created='2026-01-01T00:00Z'),
            inst('i-mid', created='2026-01-02T00:00Z')]
    todo = L.plan(have, params(count=5))
    assert todo['launch'] == 2 and todo['release'] == []
    todo = L.plan(have, params(count=1))
    assert todo['launch'] == 0 and [i['InstanceId'] for i in todo['release']] == ['i-mid', 'i-new']
    assert [i['InstanceId'] for i in todo['keep']] == ['i-old']
    assert L.plan(have, params(count=None))['launch'] == 0
    assert L.plan([], params(count=None))['launch'] == 1
    assert len(L.plan(have, params(state='absent'))['release']) == 3
    stopped = [inst('i-s', status='Stopped')]
    assert L.plan(stopped, params(state='running'))['start'] == stopped
    assert L.plan(have, params(state='stopped', count=3))['stop'] == L.plan(have, params(count=3))['keep']
    assert L.blocked_releases(have, force=False) == have and L.blocked_releases(have, force=True) == []


@pytest.mark.parametrize('kw,option', [
    (dict(name=None, tags=None), 'name'),
    (dict(count=-1), 'count'),
    (dict(count=101), 'count'),
    (dict(internet_max_bandwidth_out=101), 'internet_max_bandwidth_out'),
    (dict(spot_strategy='SpotAsPriceGo', instance_charge_type='PrePaid'), 'spot_strategy'),
    (dict(system_disk_size=10), 'system_disk_size'),
    (dict(data_disks=[{'size': None, 'snapshot_id': None, 'device': None}]), 'data_disks'),
])
def test_option_errors(kw, option):
    with pytest.raises(OptionError) as err:
        L.check_options(params(**kw))
    assert err.value.option == option and option in err.value.msg


def test_image_and_architecture_refusals():
    with pytest.raises(OptionError) as err:
        L.check_image(None, 'm-1', 'image_id', 'cn-hangzhou')
    assert 'ecs_image_copy' in err.value.msg and err.value.option == 'image_id'
    with pytest.raises(OptionError) as err:
        L.check_image({'ImageId': 'm-1', 'Status': 'Creating'}, 'm-1', 'image_id', 'cn-hangzhou')
    assert 'Creating' in err.value.msg
    # Available but Usable still false (the flag lags): passes; the module waits for it before launching
    L.check_image({'ImageId': 'm-1', 'Status': 'Available', 'Usable': False}, 'm-1', 'image_id', 'r')
    L.check_image({'ImageId': 'm-1', 'Status': 'Available', 'Usable': True}, 'm-1', 'image_id', 'r')
    arm = {'ImageId': 'm-a', 'Architecture': 'arm64'}
    x86 = {'ImageId': 'm-x', 'Architecture': 'x86_64'}
    with pytest.raises(OptionError) as err:
        L.check_architecture(arm, {'CpuArchitecture': 'X86'}, 'ecs.g7.large')
    assert err.value.option == 'instance_type' and 'arm64' in err.value.msg
    with pytest.raises(OptionError):
        L.check_architecture(x86, {'CpuArchitecture': 'ARM'}, 'ecs.g8y.large')
    L.check_architecture(arm, {'CpuArchitecture': 'ARM'}, 'ecs.g8y.large')
    with pytest.raises(OptionError):
        L.check_architecture(x86, None, 'ecs.nope')


def test_network_and_stock_refusals():
    vsw = {'VSwitchId': 'vsw-1', 'VpcId': 'vpc-1', 'ZoneId': 'z-1'}
    with pytest.raises(OptionError) as err:
        L.check_network(None, 'vsw-1', [], ['sg-1'], 'cn-hangzhou')
    assert err.value.option == 'vswitch_id'
    with pytest.raises(OptionError) as err:
        L.check_network(vsw, 'vsw-1', [{'SecurityGroupId': 'sg-1', 'VpcId': 'vpc-1'}], ['sg-1', 'sg-2'], 'r')
    assert err.value.option == 'security_group_ids' and 'sg-2' in err.value.msg
    with pytest.raises(OptionError) as err:
        L.check_network(vsw, 'vsw-1', [{'SecurityGroupId': 'sg-1', 'VpcId': 'vpc-9'}], ['sg-1'], 'r')
    assert 'not in VPC' in err.value.msg
    zones = [{'ZoneId': 'z-1', 'AvailableResources': {'AvailableResource': [{'SupportedResources': {
        'SupportedResource': [{'Value': 'a', 'Status': 'Available'}, {'Value': 'b', 'Status': 'SoldOut',
                                                                      'StatusCategory': 'WithoutStock'}]}}]}}]
    L.check_stock(zones, 'z-1', 'a')
    with pytest.raises(OptionError) as err:
        L.check_stock(zones, 'z-1', 'b')
    assert 'sold out' in err.value.msg
    with pytest.raises(OptionError) as err:
        L.check_stock(zones, 'z-1', 'c')
    assert 'not offered' in err.value.msg


def test_run_params_and_token():
    p = params(password='Secret-123', tags={'b': '2', 'a': '1'}, system_disk_size=60,
               data_disks=[{'size': 100, 'category': 'cloud_essd', 'snapshot_id': None, 'device': None,
                            'name': None, 'delete_with_instance': True}], security_group_ids=['sg-1', 'sg-2'])
    flat = flatten_params(L.run_params(p, 'm-1', 2))
    assert flat['Amount'] == flat['MinAmount'] == '2' and flat['SystemDisk.Size'] == '60'
    assert flat['SecurityGroupIds.1'] == 'sg-1' and flat['SecurityGroupIds.2'] == 'sg-2'
    assert flat['Tag.1.Key'] == 'a' and flat['DataDisk.1.Category'] == 'cloud_essd'
    assert 'SystemDisk.Category' not in flat and 'PasswordInherit' not in flat
    t1 = L.client_token('r', p, 'm-1', ['i-1'], 2, 'run-1')
    assert t1 == L.client_token('r', p, 'm-1', ['i-1'], 2, 'run-1') and len(t1) <= 64
    assert t1 != L.client_token('r', p, 'm-1', ['i-1', 'i-2'], 2, 'run-1')
    assert t1 != L.client_token('r', p, 'm-1', ['i-1'], 2, 'run-2')        # a later run: a new launch
    assert 'Secret' not in t1
    assert L.pick_family_image([{'ImageFamily': 'f', 'Status': 'Available', 'CreationTime': '2026-01-02',
                                 'ImageId': 'm-2'},
                                {'ImageFamily': 'f', 'Status': 'Available', 'CreationTime': '2026-01-01',
                                 'ImageId': 'm-1'},
                                {'ImageFamily': 'f', 'Status': 'Creating', 'CreationTime': '2026-01-03',
                                 'ImageId': 'm-3'}], 'f')['ImageId'] == 'm-2'
