# -*- coding: utf-8 -*-
# Copyright (c) alicloud.ecs_images contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Client-side validation of names, descriptions and tags: fail before any API call, naming the option.

The ``*_error`` functions are pure (return a message or None); the ``check_*`` functions fail the module.
``module`` may be an AlicloudModule (has ``fail``) or an AnsibleModule (has ``fail_json``).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

MAX_TAGS = 20
_CJK = u'\u4e00-\u9fff\u3400-\u4dbf\uf900-\ufaff'
# Name patterns as text: re compiles (and caches) them on the first name checked, not when a module that checks no
# name imports this file (the CJK ranges make them the costliest patterns of the collection, about 1 ms each).
_FIRST_CHAR = u'^[A-Za-z%s]' % _CJK
_NAME_CHARS = u'^[A-Za-z0-9%s.:_\\-]*$' % _CJK
_URL_PREFIX = re.compile(r'^https?://', re.IGNORECASE)
_RESERVED_PREFIX = re.compile(r'^(aliyun|acs:)', re.IGNORECASE)

NAME_RULE = ('2-128 characters, starting with a letter or a Chinese character, not starting with http:// or '
             'https:// (nor aliyun or acs:), containing only letters, digits, ".", ":", "_" and "-"')
DESCRIPTION_RULE = '2-256 characters, not starting with http:// or https://'


class OptionError(Exception):
    """Bad input found before any change; ``option`` names the module option at fault (or None)."""

    def __init__(self, msg, option=None):
        super(OptionError, self).__init__(msg)
        self.msg = msg
        self.option = option


def _text(value):
    return value if isinstance(value, str) else str(value)


def name_error(value):
    """Rule check for image names, image families and similar names; returns a reason or None."""
    value = _text(value)
    error = _length_or_url_error(value, 128)
    if error:
        return error
    if _RESERVED_PREFIX.match(value):
        return 'must not start with "aliyun" or "acs:"'
    if not re.match(_FIRST_CHAR, value):
        return 'must start with a letter or a Chinese character'
    if not re.match(_NAME_CHARS, value):
        bad = sorted(set(c for c in value if not re.match(_NAME_CHARS, c)))
        return 'may contain only letters, digits, ".", ":", "_" and "-" (found %s)' % ', '.join(
            repr(c) for c in bad)
    return None


def description_error(value):
    return _length_or_url_error(_text(value), 256)


def _length_or_url_error(value, longest):
    """The rules names and descriptions share: 2 to ``longest`` characters, no http:// or https:// start."""
    if not 2 <= len(value) <= longest:
        return 'must be 2-%d characters long (got %d)' % (longest, len(value))
    if _URL_PREFIX.match(value):
        return 'must not start with http:// or https://'
    return None


def tag_errors(tags):
    """List of reasons why a tag dict is not acceptable (empty list when fine)."""
    errors = []
    if not isinstance(tags, dict):
        return ['must be a dictionary of key: value']
    if len(tags) > MAX_TAGS:
        errors.append('at most %d tags are allowed (got %d)' % (MAX_TAGS, len(tags)))
    for key, value in tags.items():
        key = '' if key is None else _text(key)
        if not key:
            errors.append('tag keys must not be empty')
            continue
        if len(key) > 128:
            errors.append('tag key %r is longer than 128 characters' % key)
        if _RESERVED_PREFIX.match(key):
            errors.append('tag key %r must not start with "aliyun" or "acs:"' % key)
        if 'http://' in key.lower() or 'https://' in key.lower():
            errors.append('tag key %r must not contain http:// or https://' % key)
        value = '' if value is None else _text(value)
        if len(value) > 128:
            errors.append('value of tag %r is longer than 128 characters' % key)
        if value.lower().startswith('acs:'):
            errors.append('value of tag %r must not start with "acs:"' % key)
        if 'http://' in value.lower() or 'https://' in value.lower():
            errors.append('value of tag %r must not contain http:// or https://' % key)
    return errors


def _fail(module, msg):
    if hasattr(module, 'fail'):
        module.fail(msg)
    else:
        module.fail_json(msg=msg)


def check_name(module, option, value):
    """Fail unless ``value`` (if given) is a valid image-style name."""
    if value is None:
        return
    reason = name_error(value)
    if reason:
        _fail(module, 'option %s: %r is not a valid name: it %s (rule: %s)' % (option, value, reason, NAME_RULE))


def check_description(module, option, value):
    if value is None:
        return
    reason = description_error(value)
    if reason:
        _fail(module, 'option %s: the description %s (rule: %s)' % (option, reason, DESCRIPTION_RULE))


def check_tags(module, tags, option='tags'):
    if tags is None:
        return
    errors = tag_errors(tags)
    if errors:
        _fail(module, 'option %s: %s' % (option, '; '.join(errors)))


# Shapes of the ids the modules act on. Custom images are m-<letters/digits>; public and marketplace images have
# file-like ids (aliyun_3_x64_20G_alibase_20240819.vhd): letters, digits, ".", "_" and "-", no spaces.
ID_SHAPES = {
    'image': (re.compile(r'^[A-Za-z0-9][A-Za-z0-9._-]{1,127}$'),
              'an image id such as m-bp1g6zv0ce8oghu7k5iy or aliyun_3_x64_20G_alibase_20240819.vhd'),
    'instance': (re.compile(r'^i-[A-Za-z0-9]+$'), 'an instance id such as i-bp1g6zv0ce8oghu7k5iy'),
    'snapshot': (re.compile(r'^s-[A-Za-z0-9]+$'), 'a snapshot id such as s-bp1g6zv0ce8oghu7k5iy'),
}


def resource_id_error(value, kind):
    """Why ``value`` is not an id of ``kind`` (image, instance, snapshot), or None."""
    pattern, example = ID_SHAPES[kind]
    if not pattern.match(_text(value)):
        return '%r is not %s' % (value, example)
    return None


def check_resource_id(module, option, value, kind):
    """Fail unless ``value`` (if given) has the shape of an id of ``kind``."""
    if value is None:
        return
    reason = resource_id_error(value, kind)
    if reason:
        _fail(module, 'option %s: %s' % (option, reason))
