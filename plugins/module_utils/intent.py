# -*- coding: utf-8 -*-
# Copyright (c) alicloud.ecs_images contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Crash-safe intent: a tag on the resource that says what an interrupted run set out to do.

A module whose operation is several writes to one resource (ecs_disk_replace: stop -> replace -> start) tags the
resource BEFORE its first write with what the uninterrupted run would end with, and removes the tag at the end.
When a run is killed in between (Ctrl-C, a lost SSH session, a cancelled AWX job), the tag is still there and the
next run reads it and finishes the job: the final state is the same as an uninterrupted run's.

The tag is one key, ``ecs_images:intent``, whose value is ``<operation>;<key>=<value>;...`` (at most 128
characters, the cloud's limit for a tag value). Only this module reads or writes it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.alicloud.ecs_images.plugins.module_utils.tags import apply_tags, tags_to_dict

INTENT_TAG = 'ecs_images:intent'
MAX_VALUE = 128


def encode(operation, **facts):
    """'disk_replace;was=Running;image=m-123' (keys sorted); raises ValueError past the tag value limit."""
    value = ';'.join([operation] + ['%s=%s' % (k, facts[k]) for k in sorted(facts) if facts[k] is not None])
    if len(value) > MAX_VALUE:
        raise ValueError('intent %r is longer than %d characters' % (value, MAX_VALUE))
    return value


def decode(value):
    """(operation, facts) from a tag value, or (None, {}) when it is not an intent we wrote."""
    if not value:
        return None, {}
    parts = str(value).split(';')
    facts = {}
    for part in parts[1:]:
        if '=' not in part:
            return None, {}
        key, val = part.split('=', 1)
        facts[key] = val
    return parts[0], facts


def read_intent(raw_resource, operation):
    """The facts of ``operation``'s intent on a raw Describe* item (its Tags), or None."""
    tags = tags_to_dict((raw_resource or {}).get('Tags'))
    found, facts = decode(tags.get(INTENT_TAG))
    return facts if found == operation else None


def record_intent(client, resource_type, resource_id, operation, region=None, **facts):
    """Tag the resource with the intent (before the operation's first write)."""
    apply_tags(client, resource_type, resource_id, {INTENT_TAG: encode(operation, **facts)}, [], region=region)


def clear_intent(client, resource_type, resource_id, region=None):
    """Remove the intent tag (after the operation's last step)."""
    apply_tags(client, resource_type, resource_id, {}, [INTENT_TAG], region=region)
