# -*- coding: utf-8 -*-
"""Id shapes checked before any call (plugins/module_utils/validation.py) and account ids (distribute.py)."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.alicloud.ecs_images.plugins.module_utils.distribute import account_errors  # noqa: E402
from ansible_collections.alicloud.ecs_images.plugins.module_utils.validation import resource_id_error  # noqa: E402


@pytest.mark.parametrize('kind,value', [
    ('image', 'm-bp1g6zv0ce8oghu7k5iy'), ('image', 'aliyun_3_x64_20G_alibase_20240819.vhd'),
    ('image', 'win2022_21H2_x64_dtc_en-us_40G_alibase_20240910.vhd'),
    ('instance', 'i-bp1g6zv0ce8oghu7k5iy'), ('snapshot', 's-bp1g6zv0ce8oghu7k5iy'),
])
def test_good_ids(kind, value):
    assert resource_id_error(value, kind) is None


@pytest.mark.parametrize('kind,value', [
    ('image', 'not an image id!'), ('image', ''), ('image', 'm'), ('image', '-m-1'), ('image', 'x' * 200),
    ('instance', 'm-bp1g6zv0ce8oghu7k5iy'), ('instance', 'i bp1'), ('instance', 'i-'),
    ('snapshot', 'snap-1'), ('snapshot', 's-1/2'),
])
def test_bad_ids_say_what_is_expected(kind, value):
    msg = resource_id_error(value, kind)
    assert msg and repr(value) in msg and ('%s id' % kind) in msg


@pytest.mark.parametrize('accounts,bad', [
    (['1234567890123456'], False), (['123'], True), (['abc'], True), (['12345678901234567'], True),
])
def test_account_ids_are_16_digits(accounts, bad):
    errors = account_errors(accounts)
    assert bool(errors) == bad
    if bad:
        assert errors[0].startswith('accounts:') and '16 digits' in errors[0]
