# -*- coding: utf-8 -*-
"""Unit tests of the crash-safe intent tag (plugins/module_utils/intent.py)."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.alicloud.ecs_images.plugins.module_utils.intent import (  # noqa: E402
    INTENT_TAG,
    decode,
    encode,
    read_intent,
)


def test_round_trip():
    value = encode('disk_replace', was='Running', image='ubuntu_22_04_x64_20G_alibase_20240926.vhd')
    assert value == 'disk_replace;image=ubuntu_22_04_x64_20G_alibase_20240926.vhd;was=Running'
    assert decode(value) == ('disk_replace', {'image': 'ubuntu_22_04_x64_20G_alibase_20240926.vhd',
                                              'was': 'Running'})


def test_too_long_refused():
    with pytest.raises(ValueError):
        encode('disk_replace', image='x' * 200)


@pytest.mark.parametrize('value', ['', None, 'foreign;garbage', 'disk_replace;noequals'])
def test_foreign_or_broken_values_are_not_intents(value):
    resource = {'Tags': {'Tag': [{'TagKey': INTENT_TAG, 'TagValue': value}]}}
    assert read_intent(resource, 'disk_replace') is None


def test_read_from_describe_item():
    resource = {'Tags': {'Tag': [{'TagKey': 'team', 'TagValue': 'a'},
                                 {'TagKey': INTENT_TAG, 'TagValue': 'disk_replace;was=Running'}]}}
    assert read_intent(resource, 'disk_replace') == {'was': 'Running'}
    assert read_intent(resource, 'other') is None
    assert read_intent({}, 'disk_replace') is None
