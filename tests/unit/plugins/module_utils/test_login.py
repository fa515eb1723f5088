# -*- coding: utf-8 -*-
"""Unit tests of the login options of a new or replaced system disk (plugins/module_utils/login.py)."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.alicloud.ecs_images.plugins.module_utils.login import (  # noqa: E402
    LOGIN_ARGUMENT_SPEC,
    LOGIN_MUTUALLY_EXCLUSIVE,
    LOGIN_OPTIONS,
    login_params,
)

SECRET = 'Sup3r-Secret!x'
BASE = {'password': None, 'key_pair_name': None, 'password_inherit': None}


def test_login_params():
    assert login_params(dict(BASE, password=SECRET)) == {'Password': SECRET}
    assert login_params(dict(BASE, key_pair_name='k')) == {'KeyPairName': 'k'}
    assert login_params(dict(BASE, password_inherit=True)) == {'PasswordInherit': True}


def test_login_params_nothing_to_send():
    # ecs_instance: no login option, or password_inherit: false, sends none of the three
    assert login_params(BASE) == {}
    assert login_params(dict(BASE, password_inherit=False)) == {}
    assert login_params({}) == {}


def test_spec():
    assert set(LOGIN_ARGUMENT_SPEC) == set(LOGIN_OPTIONS)
    assert LOGIN_ARGUMENT_SPEC['password']['no_log'] is True
    assert LOGIN_MUTUALLY_EXCLUSIVE == [LOGIN_OPTIONS]
