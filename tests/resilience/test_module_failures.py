"""Every module fails cleanly (issue 11; the 9 modules of the issue and ecs_instance): a wrong secret, an unknown region, 5xx on every call, and a read failing
during each wait (a fault on the describe action injected once the write has been made).

Each case runs the module with ansible-playbook against the emulator and asserts: rc != 0, no traceback and no
"MODULE FAILURE" in the output, a failure message naming the failed action, and saying what was already changed
("Nothing was changed" before any write; the write after it). Modules without a wait (ecs_image_info,
ecs_image_share, ecs_image_upload) have no wait case; ecs_image_upload talks to OSS only (no ECS region, no ECS
faults), so only the wrong secret applies to it.
"""
from __future__ import annotations

import json
import os
import re
import time

import pytest


FAULT_RETRY_TIMEOUT = 300

# module -> (arguments as a function of the test variables and the setup image, write action, read polled while
# waiting); None when the module has no wait.
MODULES = {
    'ecs_image': (lambda v, img: {'name': '%s-img' % v['test_resource_prefix'],
                                  'instance_id': v['test_instance_stopped']},
                  'CreateImage', 'DescribeImages'),
    'ecs_image_copy': (lambda v, img: {'image_id': img, 'destination_regions': [v['test_region_2']],
                                       'name': '%s-copy' % v['test_resource_prefix']},
                       'CopyImage', 'DescribeImages'),
    'ecs_image_import': (lambda v, img: {'name': '%s-imp' % v['test_resource_prefix'],
                                         'oss_bucket': v['test_oss_bucket'],
                                         'oss_object': v['test_oss_objects']['raw'], 'format': 'RAW'},
                         'ImportImage', 'DescribeTaskAttribute'),
    'ecs_image_export': (lambda v, img: {'image_id': img, 'oss_bucket': v['test_export_bucket'],
                                         'oss_prefix': 'fail'},
                         'ExportImage', 'DescribeTaskAttribute'),
    'ecs_disk_replace': (lambda v, img: {'instance_id': v['test_instance_stopped'],
                                         'image_id': v['test_public_image_id'],
                                         'key_pair_name': v['test_key_pair_name']},
                         'ReplaceSystemDisk', 'DescribeDisks'),
    'ecs_instance_power': (lambda v, img: {'instance_id': v['test_instance_running'], 'state': 'stopped'},
                           'StopInstance', 'DescribeInstances'),
    'ecs_instance': (lambda v, img: {'name': '%s-inst' % v['test_resource_prefix'], 'count': 1, 'state': 'running',
                                     'image_id': v['test_public_image_id'], 'instance_type': v['test_instance_type'],
                                     'vswitch_id': v['test_vswitch_id'],
                                     'security_group_ids': [v['test_security_group_id']],
                                     'key_pair_name': v['test_key_pair_name']},
                     'RunInstances', 'DescribeInstances'),
    'ecs_image_share': (lambda v, img: {'image_id': img, 'accounts': [v['test_second_account_id']]},
                        'ModifyImageSharePermission', None),
    'ecs_image_info': (lambda v, img: {'name': 'anything'}, None, None),
    'ecs_image_upload': (lambda v, img: {'src': v['upload_src'], 'oss_bucket': v['test_oss_bucket'],
                                         'oss_object': 'fail/upload.raw'}, None, None),
}
NEEDS_IMAGE = ('ecs_image_copy', 'ecs_image_export', 'ecs_image_share')
NO_ECS_CALLS = ('ecs_image_upload',)


def fq(module):
    return 'alicloud.ecs_images.%s' % module


def failure_of(output):
    """The module's failure result (the JSON after 'FAILED! =>') from ansible-playbook's output."""
    match = re.search(r'FAILED! => (\{.*\})\s*$', output, re.M)
    assert match, 'no failed task in the output:\n%s' % output[-3000:]
    return json.loads(match.group(1))


def assert_clean_failure(run, action, changed_action=None):
    text = run.output
    assert run.rc != 0, text[-3000:]
    assert 'Traceback' not in text and 'MODULE FAILURE' not in text, text[-5000:]
    result = failure_of(text)
    msg = result['msg']
    if action:
        assert action in msg, msg
    if changed_action:
        assert 'Already changed: %s' % changed_action in msg, msg
        assert result['changed'] is True and any(c.startswith(changed_action) for c in result['changes']), result
    else:
        assert 'Nothing was changed' in msg, msg
        assert not result.get('changed'), result
    assert 'api_calls' in result, result
    # the cloud's error is said once
    if result.get('code'):
        assert msg.count('%s failed: %s' % (result['action'], result['code'])) == 1, msg
    return result


def setup_image(lab):
    """An Available custom image of the test account (for copy, export and share)."""
    name = '%s-src' % lab.vars['test_resource_prefix']
    source = {'name': name, 'instance_id': lab.vars['test_instance_stopped']}
    run = lab.run([{'name': 'source image', fq('ecs_image'): source, 'register': 'made'},
                   {'name': 'show', 'ansible.builtin.debug': {'msg': 'IMAGE={{ made.image.image_id }}'}}])
    assert run.rc == 0, run.output[-3000:]
    return re.search(r'IMAGE=(m-[A-Za-z0-9]+)', run.output).group(1)


def prepared(lab, module, tmp_path):
    lab.vars['upload_src'] = str(tmp_path / 'disk.raw')
    with open(lab.vars['upload_src'], 'wb') as handle:
        handle.write(b'\0' * 510 + b'\x55\xaa' + b'\0' * 4096)
    image = setup_image(lab) if module in NEEDS_IMAGE else None
    lab.emu.admin('DELETE', 'requests')
    return MODULES[module][0](lab.vars, image)


def task(module, args):
    return [{'name': 'run %s' % module, fq(module): args}]


def first_ecs_action(lab):
    entries = [e for e in lab.requests() if not e.get('service')]
    assert entries, 'the module sent no ECS request'
    return entries[0]['action']


@pytest.mark.parametrize('module', sorted(MODULES))
def test_wrong_secret(lab, module, tmp_path):
    args = prepared(lab, module, tmp_path)
    args['secret_key'] = 'not-the-secret-%s' % os.getpid()
    run = lab.run(task(module, args), timeout=FAULT_RETRY_TIMEOUT)
    action = None if module in NO_ECS_CALLS else first_ecs_action(lab)
    assert_clean_failure(run, action)
    assert not lab.writes()


@pytest.mark.parametrize('module', sorted(m for m in MODULES if m not in NO_ECS_CALLS))
def test_unknown_region(lab, module, tmp_path):
    args = prepared(lab, module, tmp_path)
    args['region'] = 'xx-nowhere-9'
    if module == 'ecs_image_copy':
        args['source_region'] = 'xx-nowhere-9'
    run = lab.run(task(module, args), timeout=FAULT_RETRY_TIMEOUT)
    assert_clean_failure(run, first_ecs_action(lab))
    assert not lab.writes()


@pytest.mark.parametrize('module', sorted(m for m in MODULES if m not in NO_ECS_CALLS))
def test_5xx_on_every_call(lab, module, tmp_path):
    args = prepared(lab, module, tmp_path)
    lab.emu.admin('PUT', 'faults', {'spec': '*=internal'})
    run = lab.run(task(module, args), timeout=FAULT_RETRY_TIMEOUT)
    result = assert_clean_failure(run, first_ecs_action(lab))
    assert result['code'] == 'InternalError' and 'A rerun does the same' in result['msg']
    assert not lab.writes()


@pytest.mark.parametrize('module', sorted(m for m, spec in MODULES.items() if spec[2]))
def test_read_failing_during_the_wait(lab, module, tmp_path):
    args = prepared(lab, module, tmp_path)
    _build, write, read = MODULES[module]
    play, vars_path = lab.write_play(task(module, args))
    proc = lab.start(play, vars_path)
    deadline = time.monotonic() + FAULT_RETRY_TIMEOUT
    injected = False
    while proc.poll() is None and time.monotonic() < deadline and not injected:
        if lab.writes(write):
            lab.emu.admin('PUT', 'faults', {'spec': '%s=internal' % read})
            injected = True
        time.sleep(0.02)
    assert injected, 'the module ended before %s was seen' % write
    run = lab.finish(proc, timeout=max(1, deadline - time.monotonic()))
    result = assert_clean_failure(run, read, changed_action=write)
    assert 'while waiting for' in result['msg'], result['msg']
    assert result['action'] == read
