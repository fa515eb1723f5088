# -*- coding: utf-8 -*-
"""Unit tests of plugins/module_utils/images.py: the status vocabulary, the image model and the image readers."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import yaml

from ansible_collections.alicloud.ecs_images.plugins.module_utils import images as IM
from ansible_collections.alicloud.ecs_images.plugins.modules import ecs_image, ecs_image_info


RAW = {
    'ImageId': 'm-bp1', 'ImageName': 'web', 'Description': '', 'Status': 'Creating', 'Progress': '37%',
    'Size': 40, 'RegionId': 'cn-hangzhou', 'ImageFamily': 'fam', 'ImageVersion': '', 'Architecture': 'x86_64',
    'OSType': 'linux', 'OSName': u'CentOS 7.9 64位', 'OSNameEn': 'CentOS 7.9 64 bit', 'Platform': 'CentOS',
    'BootMode': 'BIOS', 'ImageOwnerAlias': 'self', 'ImageOwnerId': 1234567890123456, 'Usage': 'none',
    'IsSelfShared': 'True', 'IsCopied': False, 'IsPublic': 'false', 'CreationTime': '2026-11-26T07:00:00Z',
    'ResourceGroupId': 'rg-1',
    'Tags': {'Tag': [{'TagKey': 'a', 'TagValue': '1'}, {'TagKey': 'b', 'TagValue': ''}]},
    'DiskDeviceMappings': {'DiskDeviceMapping': [
        {'Device': '/dev/xvda', 'Type': 'system', 'SnapshotId': 's-1', 'Size': '40', 'Format': '',
         'ImportOSSBucket': '', 'ImportOSSObject': '', 'Progress': '', 'RemainTime': 0}]},
}


def test_normalize_image_types_and_keys():
    img = IM.normalize_image(RAW)
    assert img['progress'] == 37 and isinstance(img['progress'], int)
    assert img['is_self_shared'] is True and img['is_copied'] is False and img['is_public'] is False
    assert img['owner_id'] == '1234567890123456'
    assert img['os_name'] == 'CentOS 7.9 64 bit'
    assert img['tags'] == {'a': '1', 'b': ''}
    assert img['image_version'] is None and img['description'] == ''
    assert img['disk_device_mappings'] == [{
        'device': '/dev/xvda', 'type': 'system', 'snapshot_id': 's-1', 'size': 40, 'format': None,
        'import_oss_bucket': None, 'import_oss_object': None, 'progress': None, 'remain_time': 0}]
    expected = set(['image_id', 'name', 'description', 'status', 'progress', 'size', 'region_id', 'image_family',
                    'image_version', 'architecture', 'os_type', 'os_name', 'platform', 'boot_mode', 'owner_alias',
                    'owner_id', 'usage', 'is_self_shared', 'is_copied', 'is_public', 'creation_time',
                    'resource_group_id', 'tags', 'disk_device_mappings'])
    assert set(img) == expected


def test_disk_progress_is_an_int_like_the_image_progress():
    disks = [{'Device': '/dev/xvda', 'Progress': '100%'}, {'Device': '/dev/xvdb', 'Progress': 37}]
    raw = dict(RAW, DiskDeviceMappings={'DiskDeviceMapping': disks})
    img = IM.normalize_image(raw)
    assert [m['progress'] for m in img['disk_device_mappings']] == [100, 37]


def test_status_vocabulary_partitions_the_statuses():
    groups = (IM.IN_FLIGHT_STATUSES, IM.FAILED_STATUSES, IM.USABLE_STATUSES)
    assert sorted(s for g in groups for s in g) == sorted(IM.IMAGE_STATUSES)
    assert IM.ALL_IMAGE_STATUSES.split(',') == list(IM.IMAGE_STATUSES)
    assert set(IM.SETTLED_STATUSES) == set(IM.IMAGE_STATUSES) - set(IM.IN_FLIGHT_STATUSES)


def test_predict_image_is_the_model_of_the_image_to_be_created():
    img = IM.predict_image('cn-hangzhou', 'web', 'Creating', description=None, image_family='fam',
                           architecture='x86_64', tags={'a': 1})
    assert set(img) == set(IM.normalize_image(RAW))
    assert img['image_id'] is None and img['name'] == 'web' and img['status'] == 'Creating'
    assert img['progress'] == 0 and img['description'] == '' and img['region_id'] == 'cn-hangzhou'
    assert img['owner_alias'] == 'self' and img['usage'] == 'none' and img['is_copied'] is False
    assert img['tags'] == {'a': '1'} and img['disk_device_mappings'] == [] and img['size'] is None
    assert IM.predict_image('cn-hangzhou', 'web', 'Available')['progress'] == 100


def test_normalize_image_minimal_and_none():
    assert IM.normalize_image(None) is None
    img = IM.normalize_image({'ImageId': 'm-x'})
    assert img['tags'] == {} and img['disk_device_mappings'] == [] and img['progress'] == 0


class PagedEcs:
    def __init__(self, images):
        self.images = images
        self.requests = []

    def paginate(self, action, params, result_key, page_size=100, region=None):
        self.requests.append((action, dict(params), region))
        return list(self.images)

    def call(self, action, params=None, client_token=None, region=None):
        self.requests.append((action, dict(params or {}), region))
        return {'Images': {'Image': [i for i in self.images if i['ImageId'] == params['ImageId']]}}


def test_find_images_by_name_is_exact_and_every_status():
    ecs = PagedEcs([{'ImageId': 'm-1', 'ImageName': 'web'}, {'ImageId': 'm-2', 'ImageName': 'web-2'},
                    {'ImageId': 'm-3', 'ImageName': 'web'}])
    found = IM.find_images_by_name(ecs, 'web', region='r1')
    assert [f['ImageId'] for f in found] == ['m-1', 'm-3']
    action, params, region = ecs.requests[0]
    assert params == {'ImageName': 'web', 'Status': IM.ALL_IMAGE_STATUSES, 'ImageOwnerAlias': 'self'}
    assert region == 'r1'


def test_list_images_defaults_to_every_status_and_dedupes():
    ecs = PagedEcs([{'ImageId': 'm-1'}, {'ImageId': 'm-1'}, {'ImageId': 'm-2'}])
    got = IM.list_images(ecs, {'ImageOwnerAlias': 'self', 'Usage': None})
    assert [g['ImageId'] for g in got] == ['m-1', 'm-2']
    assert ecs.requests[0][1] == {'ImageOwnerAlias': 'self', 'Status': IM.ALL_IMAGE_STATUSES}
    IM.list_images(ecs, {'Status': 'Available'})
    assert ecs.requests[1][1] == {'Status': 'Available'}


def test_describe_image_any_status_or_none():
    ecs = PagedEcs([{'ImageId': 'm-1', 'Status': 'CreateFailed'}])
    assert IM.describe_image(ecs, 'm-1')['Status'] == 'CreateFailed'
    assert ecs.requests[0][1]['Status'] == IM.ALL_IMAGE_STATUSES
    assert IM.describe_image(ecs, 'm-404') is None


def test_sort_newest_first():
    imgs = [{'image_id': 'a', 'creation_time': '2026-01-01T00:00:00Z'},
            {'image_id': 'b', 'creation_time': '2026-03-01T00:00:00Z'},
            {'image_id': 'c', 'creation_time': None}]
    assert [i['image_id'] for i in IM.sort_newest_first(imgs)] == ['b', 'a', 'c']


# ------------------------------------------------------------------------ the model as the modules document it
# The image model is documented twice (RETURN of ecs_image and of ecs_image_info: Ansible has no return-value doc
# fragments). Both must describe exactly what normalize_image returns, identically.

DOCUMENTED_RAW = {
    'ImageId': 'm-1', 'ImageName': 'web', 'Description': 'd', 'Status': 'Available', 'Progress': '100%',
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
    image = IM.normalize_image(DOCUMENTED_RAW)
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
