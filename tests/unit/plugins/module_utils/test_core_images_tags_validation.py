# -*- coding: utf-8 -*-
"""normalize_image, image lookups, tag helpers and client-side validation."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.alicloud.ecs_images.plugins.module_utils import images as IM
from ansible_collections.alicloud.ecs_images.plugins.module_utils import tags as T
from ansible_collections.alicloud.ecs_images.plugins.module_utils import validation as V

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
    raw = dict(RAW, DiskDeviceMappings={'DiskDeviceMapping': [{'Device': '/dev/xvda', 'Progress': '100%'},
                                                               {'Device': '/dev/xvdb', 'Progress': 37}]})
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


# ------------------------------------------------------------------------------------------------ tags

def test_tags_to_dict_shapes():
    assert T.tags_to_dict({'Tag': [{'TagKey': 'a', 'TagValue': None}]}) == {'a': ''}
    assert T.tags_to_dict([{'Key': 'k', 'Value': 'v'}]) == {'k': 'v'}
    assert T.tags_to_dict({'TagResource': [{'TagKey': 'x', 'TagValue': 'y'}]}) == {'x': 'y'}
    assert T.tags_to_dict(None) == {} and T.tags_to_dict({'Tag': []}) == {}


def test_tag_params_sorted_and_indexed():
    assert T.tag_params({'b': 2, 'a': None}) == {'Tag.1.Key': 'a', 'Tag.1.Value': '', 'Tag.2.Key': 'b',
                                                 'Tag.2.Value': '2'}


@pytest.mark.parametrize('current,desired,purge,to_set,to_remove', [
    ({'a': '1'}, None, True, {}, []),                       # tags omitted: untouched
    ({'a': '1'}, {}, True, {}, ['a']),                      # {} clears
    ({'a': '1'}, {}, False, {}, []),
    ({'a': '1', 'b': '2'}, {'a': '1'}, True, {}, ['b']),
    ({'a': '1', 'b': '2'}, {'a': '9', 'c': '3'}, False, {'a': '9', 'c': '3'}, []),
    ({'a': '1'}, {'a': '1'}, True, {}, []),
    ({'n': '1'}, {'n': 1}, True, {}, []),                   # values compared as strings
])
def test_diff_tags(current, desired, purge, to_set, to_remove):
    assert T.diff_tags(current, desired, purge) == (to_set, to_remove)


def test_merged_tags_predicts_result():
    assert T.merged_tags({'a': '1', 'b': '2'}, {'a': '9'}, True) == {'a': '9'}
    assert T.merged_tags({'a': '1', 'b': '2'}, {'a': '9'}, False) == {'a': '9', 'b': '2'}
    assert T.merged_tags({'a': '1'}, None, True) == {'a': '1'}


def test_apply_tags_batches_calls():
    calls = []

    class Ecs:
        def call(self, action, params=None, region=None, client_token=None):
            calls.append((action, params, region))
            return {}

    to_set = dict(('k%02d' % n, 'v') for n in range(25))
    assert T.apply_tags(Ecs(), 'image', 'm-1', to_set, ['old1', 'old2'], region='r') is True
    assert [c[0] for c in calls] == ['UntagResources', 'TagResources', 'TagResources']
    untag = calls[0][1]
    assert untag['TagKey.1'] == 'old1' and untag['TagKey.2'] == 'old2' and untag['ResourceId.1'] == 'm-1'
    assert untag['ResourceType'] == 'image'
    assert sum(1 for k in calls[1][1] if k.endswith('.Key')) == 20
    assert sum(1 for k in calls[2][1] if k.endswith('.Key')) == 5
    calls[:] = []
    assert T.apply_tags(Ecs(), 'image', 'm-1', {}, []) is False and calls == []


# ------------------------------------------------------------------------------------------ validation

@pytest.mark.parametrize('name,ok', [
    ('web-base_1.0:x', True), (u'镜像-web', True), ('ab', True), ('a' * 128, True),
    ('a', False), ('a' * 129, False), ('1web', False), ('-web', False), ('http://x', False),
    ('https://x', False), ('web base', False), ('web/base', False), ('aliyun-img', False), ('acs:img', False),
])
def test_name_rules(name, ok):
    assert (V.name_error(name) is None) is ok


@pytest.mark.parametrize('text,ok', [('ok', True), ('x' * 256, True), ('x', False), ('x' * 257, False),
                                     ('http://a.b', False), ('Has spaces and / slashes', True)])
def test_description_rules(text, ok):
    assert (V.description_error(text) is None) is ok


def test_tag_rules():
    assert V.tag_errors({'a': '1', 'b': ''}) == []
    assert V.tag_errors(dict(('k%d' % n, 'v') for n in range(21)))
    assert V.tag_errors({'': 'x'})
    assert V.tag_errors({'aliyun:x': 'v'}) and V.tag_errors({'acs:x': 'v'})
    assert V.tag_errors({'k': 'http://x'}) and V.tag_errors({'k' * 129: 'v'}) and V.tag_errors({'k': 'v' * 129})


class FailModule:
    def __init__(self):
        self.msgs = []

    def fail(self, msg, **kw):
        self.msgs.append(msg)
        raise SystemExit(1)


def test_check_functions_name_the_option():
    m = FailModule()
    with pytest.raises(SystemExit):
        V.check_name(m, 'image_family', '9bad')
    assert m.msgs[-1].startswith('option image_family:') and '9bad' in m.msgs[-1]
    with pytest.raises(SystemExit):
        V.check_description(m, 'description', 'x')
    assert m.msgs[-1].startswith('option description:')
    with pytest.raises(SystemExit):
        V.check_tags(m, {'acs:x': '1'})
    assert m.msgs[-1].startswith('option tags:')
    V.check_name(m, 'name', None)
    V.check_tags(m, None)
    assert len(m.msgs) == 3
