# -*- coding: utf-8 -*-
"""Adoption of an image another run is creating (images.create_or_adopt)."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.alicloud.ecs_images.plugins.module_utils.client import ApiError  # noqa: E402
from ansible_collections.alicloud.ecs_images.plugins.module_utils.images import create_or_adopt  # noqa: E402


class Client(object):
    """Scripted: the create answers ``create`` (dict or ApiError); name lookups return ``listings`` in turn."""

    def __init__(self, create, listings=()):
        self.create = create
        self.listings = list(listings)
        self.calls = []

    def call(self, action, params=None, client_token=False, region=None):
        self.calls.append(action)
        assert client_token, 'a create always carries a client token'
        if isinstance(self.create, Exception):
            raise self.create
        return self.create

    def paginate(self, action, params, result_key, page_size=100, region=None):
        self.calls.append(action)
        return self.listings.pop(0) if self.listings else []

    region = 'cn-hangzhou'


def duplicated():
    return ApiError('CreateImage', 'InvalidImageName.Duplicated', 'The specified Image name has already been used.')


def test_created_by_this_run():
    client = Client({'ImageId': 'm-1'})
    assert create_or_adopt(client, 'CreateImage', {'ImageName': 'web'}, 'web') == ({'ImageId': 'm-1'}, None)


def test_adopts_the_other_runs_image_even_when_listed_late():
    other = {'ImageId': 'm-2', 'ImageName': 'web', 'Status': 'Creating'}
    client = Client(duplicated(), listings=[[], [], [other]])
    response, adopted = create_or_adopt(client, 'CreateImage', {'ImageName': 'web'}, 'web', sleep=lambda s: None)
    assert response is None and adopted['ImageId'] == 'm-2'
    assert client.calls == ['CreateImage', 'DescribeImages', 'DescribeImages', 'DescribeImages']


def test_other_errors_are_raised_unchanged():
    error = ApiError('CreateImage', 'QuotaExceed.Image', 'too many images')
    with pytest.raises(ApiError) as raised:
        create_or_adopt(Client(error), 'CreateImage', {}, 'web')
    assert raised.value is error


def test_duplicate_that_never_shows_raises_the_api_error():
    clock = [0.0]

    def sleep(seconds):
        clock[0] += seconds

    with pytest.raises(ApiError) as raised:
        create_or_adopt(Client(duplicated()), 'CreateImage', {}, 'web', lookup_seconds=0.2, sleep=sleep)
    assert raised.value.code == 'InvalidImageName.Duplicated'
