# -*- coding: utf-8 -*-
"""A job run the way AWX runs it: ansible-runner with a private data dir, the environment the credential type's
injectors give (docs/awx/credential_type_injectors.yml, empty inputs injected as empty strings), an inventory,
extra vars - against the emulator, slowed down so that the copy takes a while.

Asserts on the job events: the job succeeds, progress lines naming the copy, its regions, status and percentage
are emitted while the copy waits (before the task's result), and no secret appears in any event or artifact.

    make awx-job          (pytest tests/awx from the collection copy)
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import re
import shutil
import sys
from pathlib import Path

import pytest
import yaml

ansible_runner = pytest.importorskip('ansible_runner')
jinja2 = pytest.importorskip('jinja2')

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / 'tests' / 'integration'))
from emulator_helper import Emulator, collections_path  # noqa: E402  pylint: disable=wrong-import-position

# CopyImage is 300 simulated seconds: 0.04 makes it about 12 s, long enough for several lines at 2 s.
TIME_SCALE = 0.04
PROGRESS_INTERVAL = 2

PLAYBOOK = """
- name: Bake and copy an image (AWX job)
  hosts: cloud
  gather_facts: false
  module_defaults:
    group/alicloud.ecs_images.ecs:
      region: "{{ test_region }}"
  tasks:
    - name: Create the image
      alicloud.ecs_images.ecs_image:
        name: "{{ test_resource_prefix }}-awx"
        instance_id: "{{ test_instance_stopped }}"
      register: image

    - name: Copy the image to the other regions
      alicloud.ecs_images.ecs_image_copy:
        image_id: "{{ image.image.image_id }}"
        destination_regions: "{{ copy_regions }}"
      register: copies

    - name: Check the copies
      ansible.builtin.assert:
        that:
          - copies is changed
          - copies.images | length == copy_regions | length
"""


def _realism_off():
    listed = ROOT / 'tests' / 'integration' / 'realism_off.txt'
    if not listed.exists():
        return []
    names = [line.split('#', 1)[0].strip() for line in listed.read_text().splitlines()]
    return [name for name in names if name]


def injected_env(inputs):
    """What AWX puts into the job's environment for a credential of our type (every input, empty when unset)."""
    injectors = yaml.safe_load((ROOT / 'docs' / 'awx' / 'credential_type_injectors.yml').read_text())
    fields = yaml.safe_load((ROOT / 'docs' / 'awx' / 'credential_type_inputs.yml').read_text())['fields']
    values = dict((field['id'], inputs.get(field['id'], '')) for field in fields)
    env = jinja2.Environment(undefined=jinja2.StrictUndefined)
    return dict((name, env.from_string(template).render(values)) for name, template in injectors['env'].items())


@pytest.fixture(scope='module')
def emulator(tmp_path_factory):
    kwargs = dict(time_scale=TIME_SCALE, log_path=str(tmp_path_factory.mktemp('emu') / 'emulator.log'))
    if _realism_off():
        kwargs['realism_off'] = _realism_off()
    with Emulator(**kwargs) as emu:
        yield emu


def test_job_like_awx(emulator, tmp_path):
    test_vars = emulator.test_vars()
    secret = emulator.env['ALIBABA_CLOUD_ACCESS_KEY_SECRET']
    copy_regions = [test_vars['test_region_2']]
    inputs = dict(access_key_id=emulator.env['ALIBABA_CLOUD_ACCESS_KEY_ID'], access_key_secret=secret,
                  region=test_vars['test_region'], ecs_endpoint=emulator.env['ALIBABA_CLOUD_ECS_ENDPOINT'],
                  sts_endpoint=emulator.env['ALIBABA_CLOUD_STS_ENDPOINT'],
                  oss_endpoint=emulator.env['ALIBABA_CLOUD_OSS_ENDPOINT'])
    env = injected_env(inputs)
    assert env['ALIBABA_CLOUD_SECURITY_TOKEN'] == '' and env['ALIBABA_CLOUD_ROLE_ARN'] == ''   # as AWX injects

    private = tmp_path / 'job'
    (private / 'project').mkdir(parents=True)
    (private / 'inventory').mkdir()
    (private / 'env').mkdir()
    (private / 'project' / 'job.yml').write_text(PLAYBOOK)
    (private / 'inventory' / 'hosts').write_text(
        'cloud ansible_connection=local ansible_python_interpreter=%s\n' % sys.executable)
    extravars = dict(test_vars, copy_regions=copy_regions, alicloud_ecs_images_progress_interval=PROGRESS_INTERVAL)
    (private / 'env' / 'extravars').write_text(json.dumps(extravars))
    job_env = dict(env, ANSIBLE_COLLECTIONS_PATH=collections_path(ROOT), ANSIBLE_COLLECTIONS_SCAN_SYS_PATH='false',
                   ANSIBLE_NOCOLOR='1', PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ.get('PATH', ''))
    for name in ('http_proxy', 'https_proxy', 'HTTP_PROXY', 'HTTPS_PROXY', 'all_proxy', 'ALL_PROXY'):
        job_env[name] = ''
    (private / 'env' / 'envvars').write_text(json.dumps(job_env))

    clean_env = dict((k, v) for k, v in os.environ.items() if not k.startswith(('ALIBABA_CLOUD_', 'ALICLOUD_')))
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(clean_env)
    try:
        result = ansible_runner.run(private_data_dir=str(private), playbook='job.yml', quiet=True)
    finally:
        os.environ.clear()
        os.environ.update(saved)

    events = list(result.events)
    stdout = '\n'.join(event.get('stdout', '') for event in events)
    assert result.status == 'successful' and result.rc == 0, stdout[-4000:]

    # progress lines: emitted while the copy waited, i.e. between the copy task's start and its result
    start = next(e['counter'] for e in events if e['event'] == 'runner_on_start'
                 and e['event_data'].get('task') == 'Copy the image to the other regions')
    done = next(e['counter'] for e in events if e['event'] == 'runner_on_ok'
                and e['event_data'].get('task') == 'Copy the image to the other regions')
    # "..., 8s: copy m-x in cn-shanghai: Creating 40%" or "..., 8s: copy: cn-shanghai m-x Creating 40%, ..."
    pattern = re.compile(r'^alicloud\.ecs_images\.ecs_image_copy \[cloud\], \S+: .*\bcopy\b.*%s(?::| m-\S+) (\w+) (\d+)%%'
                         % re.escape(copy_regions[0]), re.M)
    progress = [(e['counter'], m) for e in events for m in pattern.finditer(e.get('stdout', ''))]
    # AWX shows them live: display lines of the job are `verbose` events
    assert set(e['event'] for e in events if 'ecs_image_copy [cloud],' in e.get('stdout', '')) == {'verbose'}
    assert len(progress) >= 2, 'expected progress lines for the copy; job output:\n%s' % stdout[-4000:]
    assert all(start < counter < done for counter, _match in progress), progress
    percents = [int(m.group(2)) for _counter, m in progress]
    assert all(m.group(1) in ('Creating', 'Waiting', 'Available') for _counter, m in progress), progress
    assert percents == sorted(percents) and percents[0] < 100, percents

    # no secret in any event, nor in the job output and event files AWX keeps (artifacts/<id>/command is
    # ansible-runner's record of the environment it was given - the credential itself; AWX redacts job_env)
    assert secret not in json.dumps(events)
    for path in (private / 'artifacts').rglob('*'):
        if path.is_file() and path.name != 'command':
            assert secret.encode() not in path.read_bytes(), path
    shutil.rmtree(private, ignore_errors=True)
