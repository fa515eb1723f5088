# -*- coding: utf-8 -*-
"""Unit tests of plugins/module_utils/tags.py."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.alicloud.ecs_images.plugins.module_utils import tags as T


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
