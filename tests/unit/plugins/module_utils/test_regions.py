# -*- coding: utf-8 -*-
"""Unit tests of plugins/module_utils/regions.py on a scripted transport."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.alicloud.ecs_images.plugins.module_utils.client import EcsClient
from ansible_collections.alicloud.ecs_images.plugins.module_utils.credentials import Credentials
from ansible_collections.alicloud.ecs_images.plugins.module_utils.regions import region_ids


def test_region_ids_one_describe_regions_call_in_api_order():
    calls = []

    def transport(action, params, region):
        calls.append(action)
        return {'Regions': {'Region': [{'RegionId': 'cn-b'}, {'RegionId': 'cn-a'}, {'LocalName': 'no id'}]}}

    client = EcsClient(Credentials('ak', 'sk', region='cn-hangzhou'), transport=transport)
    assert region_ids(client) == ['cn-b', 'cn-a']
    assert calls == ['DescribeRegions']
