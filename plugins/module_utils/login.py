# -*- coding: utf-8 -*-
# Copyright: contributors to the alicloud.ecs_images collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Login options of a new or replaced system disk (ecs_instance, ecs_disk_replace): the one argument spec
(= doc fragment ``alicloud.ecs_images.alicloud.login``) and its rendering to API parameters (pure, no imports)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

LOGIN_OPTIONS = ('password', 'key_pair_name', 'password_inherit')

# At most one of them (each module adds its own rule on top: ecs_disk_replace requires exactly one).
LOGIN_MUTUALLY_EXCLUSIVE = [LOGIN_OPTIONS]


# The password is never logged.
LOGIN_ARGUMENT_SPEC = dict(
    password=dict(type='str', no_log=True),
    key_pair_name=dict(type='str', no_log=False),
    password_inherit=dict(type='bool', no_log=False),
)


def login_params(params):
    """The parameters of RunInstances / ReplaceSystemDisk that say how to log in: ``Password``, ``KeyPairName``
    or ``PasswordInherit`` (only when true), from the first login option given; {} when none is given."""
    if params.get('password') is not None:
        return {'Password': params['password']}
    if params.get('key_pair_name') is not None:
        return {'KeyPairName': params['key_pair_name']}
    if params.get('password_inherit'):
        return {'PasswordInherit': True}
    return {}
