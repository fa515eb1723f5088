# -*- coding: utf-8 -*-
# Copyright (c) alicloud.ecs_images contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Tag helpers: API shapes <-> dict, diff with purge semantics, Tag/UntagResources."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

MAX_TAGS_PER_CALL = 20
MAX_TAG_KEYS_PER_CALL = 20


def tags_to_dict(api_tags):
    """{'Tag': [{'TagKey', 'TagValue'}]} or a list of {'TagKey'/'Key', 'TagValue'/'Value'} -> dict."""
    if not api_tags:
        return {}
    if isinstance(api_tags, dict):
        if 'Tag' in api_tags:
            api_tags = api_tags.get('Tag') or []
        elif 'TagResource' in api_tags:
            api_tags = api_tags.get('TagResource') or []
        else:   # already a plain dict
            return dict((str(k), '' if v is None else str(v)) for k, v in api_tags.items())
    result = {}
    for tag in api_tags:
        key = tag.get('TagKey', tag.get('Key'))
        if key is None:
            continue
        value = tag.get('TagValue', tag.get('Value'))
        result[key] = '' if value is None else value
    return result


def tag_params(tags, prefix='Tag'):
    """{'k': 'v'} -> {'Tag.1.Key': 'k', 'Tag.1.Value': 'v'} (sorted by key for stable requests)."""
    params = {}
    for index, key in enumerate(sorted(tags or {}), 1):
        value = tags[key]
        params['%s.%d.Key' % (prefix, index)] = key
        params['%s.%d.Value' % (prefix, index)] = '' if value is None else str(value)
    return params


def diff_tags(current, desired, purge):
    """Return (to_set, to_remove). desired None means 'leave tags alone' -> ({}, [])."""
    current = current or {}
    if desired is None:
        return {}, []
    desired = dict((str(k), '' if v is None else str(v)) for k, v in desired.items())
    to_set = dict((k, v) for k, v in desired.items() if current.get(k) != v)
    to_remove = sorted(k for k in current if k not in desired) if purge else []
    return to_set, to_remove


def merged_tags(current, desired, purge):
    """The tags a resource will have after diff_tags/apply_tags (for check mode predictions)."""
    to_set, to_remove = diff_tags(current, desired, purge)
    result = dict(current or {})
    for key in to_remove:
        result.pop(key, None)
    result.update(to_set)
    return result


def _chunks(items, size):
    for start in range(0, len(items), size):
        yield items[start:start + size]


def apply_tags(client, resource_type, resource_id, to_set, to_remove, region=None):
    """UntagResources for to_remove, TagResources for to_set (batched by 20). Returns True if a call was made."""
    changed = False
    base = {'ResourceType': resource_type, 'ResourceId.1': resource_id}
    for keys in _chunks(sorted(to_remove or []), MAX_TAG_KEYS_PER_CALL):
        params = dict(base)
        for index, key in enumerate(keys, 1):
            params['TagKey.%d' % index] = key
        client.call('UntagResources', params, region=region)
        changed = True
    items = sorted((to_set or {}).items())
    for batch in _chunks(items, MAX_TAGS_PER_CALL):
        params = dict(base)
        params.update(tag_params(dict(batch)))
        client.call('TagResources', params, region=region)
        changed = True
    return changed
