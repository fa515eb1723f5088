# -*- coding: utf-8 -*-
"""Unit tests of the pure planning functions of ecs_image_import."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.alicloud.ecs_images.plugins.modules import ecs_image_import as imp  # noqa: E402


def params(**kw):
    base = dict(name='img', oss_bucket=None, oss_object=None, format=None, disk_device_mappings=None,
                architecture=None, platform=None, os_type=None, boot_mode=None, license_type=None, role_name=None,
                description=None, tags=None, resource_group_id=None)
    base.update(kw)
    return base


# ------------------------------------------------------------------ import: disks
def test_build_disks_single():
    disks = imp.build_disks(params(oss_bucket='b', oss_object='k.qcow2', format='qcow2'))
    assert disks == [dict(oss_bucket='b', oss_object='k.qcow2', format='QCOW2', disk_image_size=None, device=None)]


def test_build_disks_mappings_keep_order_and_sizes():
    disks = imp.build_disks(params(disk_device_mappings=[
        dict(oss_bucket='b', oss_object='sys.raw', format='raw', disk_image_size=40, device=None),
        dict(oss_bucket='b2', oss_object='data.vhd', format=None, disk_image_size=100, device='/dev/xvdb')]))
    assert [d['oss_object'] for d in disks] == ['sys.raw', 'data.vhd']
    assert disks[0]['format'] == 'RAW' and disks[1]['format'] is None
    assert disks[1]['device'] == '/dev/xvdb' and disks[1]['disk_image_size'] == 100


def test_build_disks_refuses_vmdk_naming_the_option():
    with pytest.raises(imp.PlanError) as err:
        imp.build_disks(params(disk_device_mappings=[
            dict(oss_bucket='b', oss_object='s.raw', format='RAW', disk_image_size=None, device=None),
            dict(oss_bucket='b', oss_object='d.vmdk', format='VMDK', disk_image_size=None, device=None)]))
    assert err.value.option == 'disk_device_mappings[1].format'
    assert 'qemu-img' in err.value.msg and 'RAW, VHD, QCOW2' in err.value.msg


@pytest.mark.parametrize('size', [0, 2049, -5])
def test_build_disks_refuses_bad_size(size):
    with pytest.raises(imp.PlanError) as err:
        imp.build_disks(params(disk_device_mappings=[
            dict(oss_bucket='b', oss_object='s.raw', format=None, disk_image_size=size, device=None)]))
    assert err.value.option == 'disk_device_mappings[0].disk_image_size'


def test_build_disks_refuses_more_than_17():
    one = dict(oss_bucket='b', oss_object='s.raw', format=None, disk_image_size=None, device=None)
    with pytest.raises(imp.PlanError) as err:
        imp.build_disks(params(disk_device_mappings=[one] * 18))
    assert 'at most 17' in err.value.msg


def test_boot_mode_for_arm64():
    assert imp.resolve_boot_mode('arm64', None) == 'UEFI'
    assert imp.resolve_boot_mode('x86_64', None) is None
    assert imp.resolve_boot_mode('x86_64', 'BIOS') == 'BIOS'
    with pytest.raises(imp.PlanError) as err:
        imp.resolve_boot_mode('arm64', 'BIOS')
    assert err.value.option == 'boot_mode'


def test_import_params_flattens_disks_and_drops_unset():
    p = params(architecture='arm64', os_type='linux', tags={'team': 'web'}, role_name='R')
    disks = [dict(oss_bucket='b', oss_object='s.raw', format='RAW', disk_image_size=40, device=None),
             dict(oss_bucket='b', oss_object='d.vhd', format='VHD', disk_image_size=None, device=None)]
    req = imp.import_params(p, disks, 'UEFI')
    assert req['DiskDeviceMapping.1.OSSObject'] == 's.raw'
    assert req['DiskDeviceMapping.1.DiskImageSize'] == 40
    assert req['DiskDeviceMapping.2.Format'] == 'VHD'
    assert 'DiskDeviceMapping.2.DiskImageSize' not in req
    assert req['BootMode'] == 'UEFI' and req['Architecture'] == 'arm64' and req['RoleName'] == 'R'
    assert req['Tag.1.Key'] == 'team' and req['Tag.1.Value'] == 'web'
    assert 'Description' not in req and 'Platform' not in req
    assert all(v is not None for v in req.values())


@pytest.mark.parametrize('given, sent', [('Auto', None), ('Aliyun', 'Aliyun'), ('BYOL', 'BYOL'), (None, None)])
def test_license_type_auto_is_not_sent(given, sent):
    req = imp.import_params(params(license_type=given), [dict(oss_bucket='b', oss_object='s.raw', format='RAW',
                                                              disk_image_size=None, device=None)], None)
    assert req.get('LicenseType') == sent


# ------------------------------------------------------------------ import: existing image by name
@pytest.mark.parametrize('status, action', [
    ('Available', 'present'), ('Creating', 'join'), ('Waiting', 'join'), ('CreateFailed', 'failed'),
    ('Deprecated', 'present'), ('UnAvailable', 'present'),
])
def test_plan_existing_every_status(status, action):
    image = {'ImageId': 'm-1', 'ImageName': 'img', 'Status': status}
    assert imp.plan_existing([image]) == (action, image)


def test_plan_existing_none_imports():
    assert imp.plan_existing([]) == ('import', None)


def test_plan_existing_refuses_duplicates():
    with pytest.raises(imp.PlanError) as err:
        imp.plan_existing([{'ImageId': 'm-2', 'ImageName': 'img'}, {'ImageId': 'm-1', 'ImageName': 'img'}])
    assert 'm-1, m-2' in err.value.msg and err.value.option == 'name'


def test_source_mismatch():
    image = {'ImageId': 'm-1', 'DiskDeviceMappings': {'DiskDeviceMapping': [
        {'ImportOSSBucket': 'b', 'ImportOSSObject': 'a.raw'}]}}
    same = [dict(oss_bucket='b', oss_object='a.raw')]
    other = [dict(oss_bucket='b', oss_object='z.raw')]
    assert imp.source_mismatch(image, same) is None
    assert 'oss://b/a.raw' in imp.source_mismatch(image, other)
    assert imp.source_mismatch({'ImageId': 'm-1'}, other) is None
