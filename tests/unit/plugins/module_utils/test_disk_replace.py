# -*- coding: utf-8 -*-
"""Unit tests of ecs_disk_replace's pure planning logic (plugins/module_utils/disk_replace.py)."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.alicloud.ecs_images.plugins.module_utils.instances import lock_reasons  # noqa: E402
from ansible_collections.alicloud.ecs_images.plugins.module_utils.disk_replace import (  # noqa: E402
    check_image,
    check_login_options,
    check_password,
    instance_architecture,
    plan_replacement,
    target_disk_size,
)

SECRET = 'Sup3r-Secret!x'


def instance(status='Running', image_id='centos_7', locks=None, region='cn-hangzhou'):
    return {'InstanceId': 'i-1', 'Status': status, 'ImageId': image_id, 'RegionId': region,
            'OperationLocks': {'LockReason': [{'LockReason': r} for r in (locks or [])]}}


def disk(size=40, category='cloud_essd', locks=None):
    return {'DiskId': 'd-1', 'Size': size, 'Category': category, 'Type': 'system', 'InstanceId': 'i-1',
            'Status': 'In_use', 'OperationLocks': {'OperationLock': [{'LockReason': r} for r in (locks or [])]}}


def image(image_id='m-new', status='Available', size=20, os_type='linux'):
    return {'ImageId': image_id, 'Status': status, 'Size': size, 'OSType': os_type, 'Progress': '100%'}


def params(**kw):
    p = {'image_id': 'm-new', 'stop': False, 'start': None, 'force': False, 'system_disk_size': None,
         'key_pair_name': 'k', 'password': None, 'password_inherit': None}
    p.update(kw)
    return p


# --- login options -----------------------------------------------------------------------------------------

@pytest.mark.parametrize('pw', ['short1A!', 'abcdefgh1A', 'ABCdef123', 'a1!bcdefgh', 'Zz9!' * 7 + 'Zz'])
def test_good_passwords(pw):
    assert check_password(pw) is None


@pytest.mark.parametrize('pw,words', [
    ('aA1!', '8 to 30'),
    ('A1!' * 11, '8 to 30'),
    ('abcdefghij', 'three'),
    ('abcdefgh12', 'three'),
    ('ABCDEFGH!!', 'three'),
    ('Abcdefg1 x', 'only letters'),
    ('Abcdéfg12!', 'only letters'),
])
def test_bad_passwords_name_rule_never_echo(pw, words):
    msg = check_password(pw)
    assert msg and words in msg and msg.startswith('password')
    assert pw not in msg


@pytest.mark.parametrize('kw,ok', [
    ({'password': SECRET}, True),
    ({'key_pair_name': 'k'}, True),
    ({'password_inherit': True}, True),
    ({'password_inherit': False}, False),
    ({'key_pair_name': ''}, False),
    ({}, False),
    ({'password': SECRET, 'key_pair_name': 'k'}, False),
    ({'password_inherit': True, 'key_pair_name': 'k'}, False),
])
def test_exactly_one_login_option(kw, ok):
    p = {'password': None, 'key_pair_name': None, 'password_inherit': None}
    p.update(kw)
    msg = check_login_options(p)
    assert (msg is None) == ok
    if msg:
        assert SECRET not in msg


# --- image and size checks -----------------------------------------------------------------------------------

def test_missing_image_in_other_region_points_to_copy():
    msg = check_image(None, 'm-x', 'cn-hangzhou', other_regions=['cn-shanghai'])
    assert 'cn-shanghai' in msg and 'cn-hangzhou' in msg and 'ecs_image_copy' in msg


def test_missing_image_nowhere_still_names_option_and_copy():
    msg = check_image(None, 'm-x', 'cn-hangzhou')
    assert msg.startswith('image_id m-x') and 'ecs_image_copy' in msg


@pytest.mark.parametrize('status,ok', [('Available', True), ('Deprecated', True), ('Creating', False),
                                       ('Waiting', False), ('UnAvailable', False), ('CreateFailed', False)])
def test_image_status(status, ok):
    assert (check_image(image(status=status), 'm-new', 'cn-hangzhou') is None) == ok


@pytest.mark.parametrize('req,img,cur,cat,size,err', [
    (None, 20, 40, 'cloud_essd', 40, None),        # default keeps the current size
    (None, 60, 40, 'cloud_essd', 60, None),        # ... or grows to the image
    (None, 5, 10, 'cloud', 20, None),              # ... never below the minimum
    (80, 20, 40, 'cloud_essd', 80, None),
    (19, 5, 5, 'cloud_essd', None, 'minimum'),
    (30, 60, 20, 'cloud_essd', None, 'smaller than the image'),
    (30, 20, 40, 'cloud_essd', None, 'cannot shrink'),
    (600, 20, 40, 'cloud', None, 'maximum of 500'),
    (2049, 20, 40, 'cloud_essd', None, 'maximum of 2048'),
    (2048, 20, 40, 'cloud_essd', 2048, None),
])
def test_target_disk_size(req, img, cur, cat, size, err):
    got, msg = target_disk_size(req, image(size=img), disk(size=cur, category=cat))
    assert got == size
    if err:
        assert err in msg and msg.startswith('system_disk_size')
    else:
        assert msg is None


def test_lock_reasons_shapes():
    assert lock_reasons(instance(locks=['security'])) == ['security']
    assert lock_reasons(disk(locks=['financial'])) == ['financial']
    assert lock_reasons({'OperationLocks': {'LockReason': []}}) == []
    assert lock_reasons({}) == []


# --- the plan --------------------------------------------------------------------------------------------------

def test_already_on_image_is_noop_even_when_running_and_stop_false():
    p = plan_replacement(instance('Running', 'm-new'), disk(), None, params())
    assert p['error'] is None and p['actions'] == [] and not p['stop'] and not p['replace']


def test_already_on_image_stopped_start_true_only_starts():
    p = plan_replacement(instance('Stopped', 'm-new'), disk(), None, params(start=True))
    assert p['actions'] == ['start'] and not p['replace'] and p['final_status'] == 'Running'


def test_already_on_image_stopped_default_stays():
    p = plan_replacement(instance('Stopped', 'm-new'), disk(), None, params())
    assert p['actions'] == [] and p['final_status'] == 'Stopped'


def test_force_replaces_same_image():
    p = plan_replacement(instance('Stopped', 'm-new'), disk(), image(), params(force=True))
    assert p['actions'] == ['replace'] and p['replace']


def test_running_without_stop_fails_before_change_and_says_how():
    p = plan_replacement(instance('Running'), disk(), image(), params())
    assert 'stop: true' in p['error'] and 'Running' in p['error']
    assert p['actions'] == [] and not p['replace']


def test_running_with_stop_restarts_by_default():
    p = plan_replacement(instance('Running'), disk(), image(), params(stop=True))
    assert p['error'] is None
    assert p['actions'] == ['stop', 'replace', 'start'] and p['final_status'] == 'Running'
    assert p['system_disk_size'] == 40


def test_running_with_stop_and_start_false_stays_stopped():
    p = plan_replacement(instance('Running'), disk(), image(), params(stop=True, start=False))
    assert p['actions'] == ['stop', 'replace'] and p['final_status'] == 'Stopped'


def test_stopped_stays_stopped_by_default_and_can_be_started():
    assert plan_replacement(instance('Stopped'), disk(), image(), params())['actions'] == ['replace']
    p = plan_replacement(instance('Stopped'), disk(), image(), params(start=True))
    assert p['actions'] == ['replace', 'start'] and p['final_status'] == 'Running'


def test_size_error_wins_over_stop():
    """A too-small disk is refused even though stop: true would allow stopping: nothing is stopped."""
    p = plan_replacement(instance('Running'), disk(size=40), image(), params(stop=True, system_disk_size=30))
    assert 'system_disk_size' in p['error'] and not p['stop']


def test_image_error_before_status_error():
    p = plan_replacement(instance('Running'), disk(), None, params(), other_regions=['cn-shanghai'])
    assert 'ecs_image_copy' in p['error']


def test_windows_image_refuses_key_pair():
    p = plan_replacement(instance('Stopped'), disk(), image(os_type='windows'), params())
    assert p['error'].startswith('key_pair_name')
    p = plan_replacement(instance('Stopped'), disk(), image(os_type='windows'),
                         params(key_pair_name=None, password=SECRET))
    assert p['error'] is None


def test_security_lock_refused():
    p = plan_replacement(instance('Stopped', locks=['security']), disk(), image(), params())
    assert 'locked' in p['error'] and 'security' in p['error']


def test_locked_disk_refused():
    p = plan_replacement(instance('Stopped'), disk(locks=['financial']), image(), params())
    assert 'locked' in p['error']


def test_transitional_status_refused():
    p = plan_replacement(instance('Starting'), disk(), image(), params(stop=True))
    assert 'Starting' in p['error']


def test_missing_key_pair_refused():
    p = plan_replacement(instance('Stopped'), disk(), image(), params(), key_pair_found=False)
    assert p['error'].startswith('key_pair_name k does not exist')
    assert plan_replacement(instance('Stopped'), disk(), image(), params(), key_pair_found=True)['error'] is None


@pytest.mark.parametrize('family,itype,arch', [
    ('ecs.g7', 'ecs.g7.large', 'x86_64'),
    ('ecs.g8y', 'ecs.g8y.large', 'arm64'),
    ('ecs.c6r', 'ecs.c6r.large', 'arm64'),
    ('ecs.r7', 'ecs.r7.large', 'x86_64'),
    (None, 'ecs.c8y.large', 'arm64'),
    (None, None, None),
])
def test_instance_architecture(family, itype, arch):
    assert instance_architecture({'InstanceTypeFamily': family, 'InstanceType': itype}) == arch


def test_architecture_mismatch_refused_before_stop():
    inst = dict(instance('Running'), InstanceTypeFamily='ecs.g8y', InstanceType='ecs.g8y.large')
    img = dict(image(), Architecture='x86_64')
    p = plan_replacement(inst, disk(), img, params(stop=True))
    assert 'arm64' in p['error'] and not p['stop']
    assert plan_replacement(inst, disk(), dict(img, Architecture='arm64'), params(stop=True))['error'] is None
    x86 = dict(instance('Stopped'), InstanceTypeFamily='ecs.g7')
    assert plan_replacement(x86, disk(), dict(img, Architecture='i386'), params())['error'] is None


def test_interrupted_run_stopped_instance_is_started_after_replacement():
    plan = plan_replacement(instance('Stopped'), disk(), image(), params(), was_running=True)
    assert plan['actions'] == ['replace', 'start'] and plan['final_status'] == 'Running'


def test_interrupted_run_already_replaced_only_starts():
    plan = plan_replacement(instance('Stopped', image_id='m-new'), disk(), image(), params(), was_running=True)
    assert plan['actions'] == ['start'] and plan['final_status'] == 'Running'


def test_interrupted_run_start_false_is_respected():
    plan = plan_replacement(instance('Stopped'), disk(), image(), params(start=False), was_running=True)
    assert plan['actions'] == ['replace'] and plan['final_status'] == 'Stopped'
