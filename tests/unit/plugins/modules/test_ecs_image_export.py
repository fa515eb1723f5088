# -*- coding: utf-8 -*-
"""Unit tests of the pure planning functions of ecs_image_export."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

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


# ------------------------------------------------------------------ export: running tasks and earlier exports
def attrs(bucket, obj, fmt):
    return {'TaskId': 't', 'OperationProgressSet': {'OperationProgress': [{'RelatedItemSet': {'RelatedItem': [
        {'Name': 'OSSBucket', 'Value': bucket}, {'Name': 'OSSObject', 'Value': obj},
        {'Name': 'ImageFormat', 'Value': fmt}]}}]}}


def test_classify_running():
    pairs = [
        ('t-a', attrs('b', 'p_m-1_t-a.qcow2', 'qcow2')),   # ours
        ('t-b', attrs('b', 'p_m-1_t-b.vhd', 'vhd')),       # other format
        ('t-c', attrs('other', 'p_m-1_t-c.qcow2', 'qcow2')),  # other bucket
        ('t-d', attrs('b', 'q_m-1_t-d.qcow2', 'qcow2')),   # other prefix
        ('t-e', None),                                     # unknown destination: joined
    ]
    matching, other = exp.classify_running(pairs, 'm-1', 'b', 'p', 'qcow2')
    assert matching == ['t-a', 't-e']
    assert other == ['t-b', 't-c', 't-d']


def test_newest_export():
    groups = {'t-1': ['p_m-1_t-1.raw'], 't-2': ['p_m-1_t-2.raw', 'p_m-1_t-2_data.raw']}
    modified = {'p_m-1_t-1.raw': 200, 'p_m-1_t-2.raw': 100, 'p_m-1_t-2_data.raw': 150}
    assert exp.newest_export(groups, modified) == ('t-1', ['p_m-1_t-1.raw'])
    assert exp.newest_export({}, {}) == (None, [])


def test_list_prefix():
    assert exp.list_prefix('m-1', 'p') == 'p_m-1_'
    assert exp.list_prefix('m-1', '') == 'm-1_'
