# -*- coding: utf-8 -*-
"""Unit tests of plugins/module_utils/validation.py."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.alicloud.ecs_images.plugins.module_utils import validation as V


@pytest.mark.parametrize('name,ok', [
    ('web-base_1.0:x', True), (u'镜像-web', True), ('ab', True), ('a' * 128, True),
    ('a', False), ('a' * 129, False), ('1web', False), ('-web', False), ('http://x', False),
    ('https://x', False), ('web base', False), ('web/base', False), ('aliyun-img', False), ('acs:img', False),
])
def test_name_rules(name, ok):
    assert (V.name_error(name) is None) is ok


@pytest.mark.parametrize('text,ok', [('ok', True), ('x' * 256, True), ('x', False), ('x' * 257, False),
                                     ('http://a.b', False), ('Has spaces and / slashes', True)])
def test_description_rules(text, ok):
    assert (V.description_error(text) is None) is ok


def test_tag_rules():
    assert V.tag_errors({'a': '1', 'b': ''}) == []
    assert V.tag_errors(dict(('k%d' % n, 'v') for n in range(21)))
    assert V.tag_errors({'': 'x'})
    assert V.tag_errors({'aliyun:x': 'v'}) and V.tag_errors({'acs:x': 'v'})
    assert V.tag_errors({'k': 'http://x'}) and V.tag_errors({'k' * 129: 'v'}) and V.tag_errors({'k': 'v' * 129})


class FailModule:
    def __init__(self):
        self.msgs = []

    def fail(self, msg, **kw):
        self.msgs.append(msg)
        raise SystemExit(1)


def test_check_functions_name_the_option():
    m = FailModule()
    with pytest.raises(SystemExit):
        V.check_name(m, 'image_family', '9bad')
    assert m.msgs[-1].startswith('option image_family:') and '9bad' in m.msgs[-1]
    with pytest.raises(SystemExit):
        V.check_description(m, 'description', 'x')
    assert m.msgs[-1].startswith('option description:')
    with pytest.raises(SystemExit):
        V.check_tags(m, {'acs:x': '1'})
    assert m.msgs[-1].startswith('option tags:')
    V.check_name(m, 'name', None)
    V.check_tags(m, None)
    assert len(m.msgs) == 3


# ------------------------------------------------------------------------ id shapes

@pytest.mark.parametrize('kind,value', [
    ('image', 'm-bp1g6zv0ce8oghu7k5iy'), ('image', 'aliyun_3_x64_20G_alibase_20240819.vhd'),
    ('image', 'win2022_21H2_x64_dtc_en-us_40G_alibase_20240910.vhd'),
    ('instance', 'i-bp1g6zv0ce8oghu7k5iy'), ('snapshot', 's-bp1g6zv0ce8oghu7k5iy'),
])
def test_good_ids(kind, value):
    assert V.resource_id_error(value, kind) is None


@pytest.mark.parametrize('kind,value', [
    ('image', 'not an image id!'), ('image', ''), ('image', 'm'), ('image', '-m-1'), ('image', 'x' * 200),
    ('instance', 'm-bp1g6zv0ce8oghu7k5iy'), ('instance', 'i bp1'), ('instance', 'i-'),
    ('snapshot', 'snap-1'), ('snapshot', 's-1/2'),
])
def test_bad_ids_say_what_is_expected(kind, value):
    msg = V.resource_id_error(value, kind)
    assert msg and repr(value) in msg and ('%s id' % kind) in msg
