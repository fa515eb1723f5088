# -*- coding: utf-8 -*-
"""Unit tests of the pure planning functions of ecs_image_export."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import pytest

from ansible_collections.alicloud.ecs_images.plugins.modules import ecs_image_export as exp  # noqa: E402


# ------------------------------------------------------------------ export: refusals
def own(**kw):
    image = {'ImageId': 'm-1', 'ImageOwnerAlias': 'self', 'Status': 'Available', 'ProductCode': '',
             'IsSubscribed': False}
    image.update(kw)
    return image


@pytest.mark.parametrize('image, needle', [
    (None, 'does not exist'),
    (own(ImageOwnerAlias='system'), 'not a custom image of this account'),
    (own(ImageOwnerAlias='others'), 'not a custom image of this account'),
    (own(ImageOwnerAlias='marketplace'), 'not a custom image of this account'),
    (own(ProductCode='cmjj0123'), 'Marketplace'),
    (own(IsSubscribed='true'), 'Marketplace'),
    (own(Status='Creating'), 'status Creating'),
    (own(Status='CreateFailed'), 'status CreateFailed'),
])
def test_refusal(image, needle):
    msg = exp.refusal(image, 'm-1', 'cn-hangzhou')
    assert msg and needle in msg and 'm-1' in msg


def test_no_refusal_for_own_available_image():
    assert exp.refusal(own(), 'm-1', 'cn-hangzhou') is None


# ------------------------------------------------------------------ export: formats, manifest, tasks
def test_windows_image_is_refused():
    msg = exp.refusal(own(OSType='windows'), 'm-1', 'cn-hangzhou')
    assert 'Windows' in msg


def test_format_refusal_names_the_option_regions_and_the_fallback():
    assert exp.format_refusal('raw', 'cn-hangzhou') is None
    assert exp.format_refusal('qcow2', 'ap-southeast-1') is None
    msg = exp.format_refusal('qcow2', 'cn-hangzhou')
    assert 'image_format qcow2' in msg and 'cn-hangzhou' in msg and 'ap-southeast-1' in msg
    assert 'format_fallback=raw' in msg


def test_manifest_key():
    assert exp.manifest_key('m-1', 'p', 'raw') == 'p_m-1.raw.export-manifest.json'
    assert exp.manifest_key('m-1', '', 'qcow2') == 'm-1.qcow2.export-manifest.json'


def test_parse_manifest_accepts_only_this_export():
    m = exp.new_manifest('m-1', 'cn-hangzhou', 'b', 'p', 'raw', 'vhd')
    body = json.dumps(m).encode()
    got = exp.parse_manifest(body, 'm-1', 'b', 'raw')
    assert got['status'] == 'Starting' and got['requested_format'] == 'vhd' and got['objects'] == []
    assert exp.parse_manifest(body, 'm-2', 'b', 'raw') is None
    assert exp.parse_manifest(body, 'm-1', 'other', 'raw') is None
    assert exp.parse_manifest(body, 'm-1', 'b', 'qcow2') is None
    assert exp.parse_manifest(b'not json', 'm-1', 'b', 'raw') is None
    assert exp.parse_manifest(b'{"kind": "something else"}', 'm-1', 'b', 'raw') is None


def attrs(bucket, obj, fmt):
    return {'TaskId': 't', 'OperationProgressSet': {'OperationProgress': [{'RelatedItemSet': {'RelatedItem': [
        {'Name': 'OSSBucket', 'Value': bucket}, {'Name': 'OSSObject', 'Value': obj},
        {'Name': 'ImageFormat', 'Value': fmt}]}}]}}


def test_task_is_ours_from_the_manifest_first():
    m = dict(exp.new_manifest('m-1', 'r', 'b', 'p', 'raw', 'raw'), task_id='t-a', status='Exporting')
    assert exp.task_is_ours('t-a', None, m, 'b', 'p', 'raw')
    assert not exp.task_is_ours('t-b', None, m, 'b', 'p', 'raw')       # unknown destination: not ours
    starting = exp.new_manifest('m-1', 'r', 'b', 'p', 'raw', 'raw')    # interrupted before the task id was kept
    assert exp.task_is_ours('t-b', None, starting, 'b', 'p', 'raw')


def test_task_is_ours_from_the_task_record():
    assert exp.task_is_ours('t', attrs('b', 'p_m-1_system.raw.tar.gz', 'raw'), None, 'b', 'p', 'raw')
    assert not exp.task_is_ours('t', attrs('b', 'p_m-1_system.vhd', 'vhd'), None, 'b', 'p', 'raw')
    assert not exp.task_is_ours('t', attrs('other', 'p_m-1_system.raw', 'raw'), None, 'b', 'p', 'raw')
    assert not exp.task_is_ours('t', attrs('b', 'q_m-1_system.raw', 'raw'), None, 'b', 'p', 'raw')
    assert not exp.task_is_ours('t', None, None, 'b', 'p', 'raw')


def test_pick_objects_by_time_preferring_the_image():
    listing = [('p_m-1_system.raw.tar.gz', 200), ('p_m-1_data1.raw.tar.gz', 210), ('p_m-2_system.raw', 205),
               ('p_m-1.raw.export-manifest.json', 220), ('p_m-1_old.raw', 50)]
    assert exp.pick_objects(listing, 'm-1', 100) == ['p_m-1_data1.raw.tar.gz', 'p_m-1_system.raw.tar.gz']
    # names without the image id: everything written since the task started (manifest excluded)
    assert exp.pick_objects([('p_disk0.raw', 200), ('p_x.raw', 10)], 'm-1', 100) == ['p_disk0.raw']


def test_parse_time():
    assert exp.parse_time('2026-01-02T03:04Z') == exp.parse_time('2026-01-02T03:04:00Z') == 1767323040
    assert exp.parse_time('') is None and exp.parse_time('garbage') is None
