# -*- coding: utf-8 -*-
"""The image model is documented twice (RETURN of ecs_image and of ecs_image_info: Ansible has no return-value
doc fragments). Both must describe exactly what normalize_image returns, identically."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import yaml

from ansible_collections.alicloud.ecs_images.plugins.module_utils.images import normalize_image
from ansible_collections.alicloud.ecs_images.plugins.modules import ecs_image, ecs_image_info

RAW = {'ImageId': 'm-1', 'ImageName': 'web', 'Description': 'd', 'Status': 'Available', 'Progress': '100%',
       'Size': 40, 'RegionId': 'cn-hangzhou', 'ImageFamily': 'f', 'ImageVersion': '1', 'Architecture': 'x86_64',
       'OSType': 'linux', 'OSNameEn': 'CentOS', 'Platform': 'CentOS', 'BootMode': 'BIOS',
       'ImageOwnerAlias': 'self', 'ImageOwnerId': 123, 'Usage': 'none', 'IsSelfShared': 'false',
       'IsCopied': False, 'IsPublic': False, 'CreationTime': '2026-11-26T00:00:00Z', 'ResourceGroupId': 'rg-1',
       'Tags': {'Tag': [{'TagKey': 'a', 'TagValue': 'b'}]},
       'DiskDeviceMappings': {'DiskDeviceMapping': [{
           'Device': '/dev/xvda', 'Type': 'system', 'SnapshotId': 's-1', 'Size': '40', 'Format': 'RAW',
           'ImportOSSBucket': 'b', 'ImportOSSObject': 'o', 'Progress': '100%', 'RemainTime': 0}]}}
TYPES = {str: 'str', int: 'int', bool: 'bool', dict: 'dict', list: 'list'}


def documented_models():
    return {'ecs_image': yaml.safe_load(ecs_image.RETURN)['image']['contains'],
            'ecs_image_info': yaml.safe_load(ecs_image_info.RETURN)['images']['contains']}


def assert_matches(doc, value, where):
    assert sorted(doc) == sorted(value), where
    for key, item in value.items():
        assert doc[key]['type'] == TYPES[type(item)], '%s.%s' % (where, key)


def test_both_modules_document_exactly_normalize_image():
    image = normalize_image(RAW)
    for module, doc in documented_models().items():
        assert_matches(doc, image, module)
        assert_matches(doc['disk_device_mappings']['contains'], image['disk_device_mappings'][0],
                       module + '.disk_device_mappings')


def test_both_modules_describe_the_model_identically():
    models = documented_models()
    # only the image id differs: ecs_image's check mode returns a new image without one
    for doc in models.values():
        doc.pop('image_id')
    assert models['ecs_image'] == models['ecs_image_info']
