"""Mistaken inputs: each is refused with a message naming the option, and nothing is written.

All cases run in one playbook (one block/rescue per case, so a failure does not stop the play); the result
of every case is written to a JSON file, then each case is asserted on its own. The emulator's request log
must hold no write at all: every case is refused before any change (reads that prove a refusal are fine).
"""
import json
import os

import pytest

from harness import Lab, is_write

pytestmark = pytest.mark.timeout(900)

M = 'alicloud.ecs_images.'
LONG = 'x' * 129
RUNNING = '{{ test_instance_running }}'
STOPPED = '{{ test_instance_stopped }}'
PUBLIC = '{{ test_public_image_id }}'
CUSTOM = '{{ custom_image_id }}'    # a custom image of the account that an instance runs, made by the fixture
ARM_IMAGE = 'aliyun_3_arm64_20G_alibase_20240819.vhd'
BUCKET = '{{ test_oss_bucket }}'
RAW = '{{ test_oss_objects.raw }}'

# (case id, module or 'role:<name>', arguments, words the message must contain (case-insensitive, any of))
CASES = [
    # ecs_image
    ('image-state', 'ecs_image', {'name': 'a', 'state': 'gone'}, ['state']),
    ('image-name-long', 'ecs_image', {'name': LONG, 'instance_id': STOPPED}, ['name']),
    ('image-name-url', 'ecs_image', {'name': 'http://x', 'instance_id': STOPPED}, ['name']),
    ('image-name-digit', 'ecs_image', {'name': '9lives', 'instance_id': STOPPED}, ['name']),
    ('image-desc-long', 'ecs_image', {'name': 'bad-image-desc-long', 'instance_id': STOPPED, 'description': 'd' * 257},
     ['description']),
    ('image-two-sources', 'ecs_image', {'name': 'bad-image-two-sources', 'instance_id': STOPPED, 'snapshot_id': 's-123'},
     ['instance_id', 'snapshot_id']),
    ('image-no-source', 'ecs_image', {'name': 'ok-name-nosrc'}, ['instance_id', 'snapshot_id']),
    ('image-arch', 'ecs_image', {'name': 'bad-image-arch', 'instance_id': STOPPED, 'architecture': 'sparc'},
     ['architecture']),
    ('image-boot-mode', 'ecs_image', {'name': 'bad-image-boot-mode', 'instance_id': STOPPED, 'boot_mode': 'legacy'},
     ['boot_mode']),
    ('image-tags-type', 'ecs_image', {'name': 'bad-image-tags-type', 'instance_id': STOPPED, 'tags': ['a']},
     ['tags']),
    ('image-tag-aliyun', 'ecs_image', {'name': 'bad-image-tag-aliyun', 'instance_id': STOPPED, 'tags': {'aliyun:x': 'v'}},
     ['tag']),
    ('image-tags-many', 'ecs_image', {'name': 'bad-image-tags-many', 'instance_id': STOPPED,
                                      'tags': dict(('k%d' % i, 'v') for i in range(21))}, ['tag']),
    ('image-wait-timeout-neg', 'ecs_image', {'name': 'bad-image-wait-timeout-neg', 'instance_id': STOPPED, 'wait_timeout': -5},
     ['wait_timeout']),
    ('image-wait-timeout-huge', 'ecs_image', {'name': 'bad-image-wait-timeout-huge', 'instance_id': STOPPED,
                                              'wait_timeout': 10 ** 15}, ['wait_timeout']),
    ('image-unknown-instance', 'ecs_image', {'name': 'bad-image-unknown-instance', 'instance_id': 'i-bp1doesnotexist0001'},
     ['instance_id']),
    ('image-unknown-snapshot', 'ecs_image', {'name': 'bad-image-unknown-snapshot', 'snapshot_id': 's-bp1doesnotexist0001'},
     ['snapshot_id']),
    ('image-bad-mappings', 'ecs_image', {'name': 'bad-image-bad-mappings', 'disk_device_mappings': [{'size': 'big'}]},
     ['disk_device_mappings', 'size']),
    ('image-absent-malformed-id', 'ecs_image', {'state': 'absent', 'image_id': 'not an image id!'},
     ['image_id']),
    ('image-delete-in-use', 'ecs_image', {'state': 'absent', 'image_id': CUSTOM}, ['force']),
    ('image-delete-shared', 'ecs_image', {'state': 'absent', 'image_id': '{{ shared_image_id }}', 'force': True},
     ['ecs_image_share']),
    ('image-region-bad', 'ecs_image', {'name': 'bad-image-region-bad', 'instance_id': STOPPED, 'region': 'Hangzhou City'},
     ['region']),
    ('image-endpoint-scheme', 'ecs_image_info', {'name': 'x', 'endpoint': 'htp://127.0.0.1:1'}, ['endpoint']),
    ('image-endpoint-port', 'ecs_image_info', {'name': 'x', 'endpoint': 'http://127.0.0.1:99999'},
     ['endpoint']),
    ('image-unknown-option', 'ecs_image', {'name': 'bad-image-unknown-option', 'instance': STOPPED, 'instance_idd': 'x'},
     ['instance_idd']),
    # ecs_image_info
    ('info-owner', 'ecs_image_info', {'owner': 'me'}, ['owner']),
    ('info-status', 'ecs_image_info', {'status': ['Ready']}, ['status']),
    ('info-arch', 'ecs_image_info', {'architecture': 'amd64'}, ['architecture']),
    ('info-os-type', 'ecs_image_info', {'os_type': 'bsd'}, ['os_type']),
    ('info-usage', 'ecs_image_info', {'usage': 'all'}, ['usage']),
    ('info-ids-type', 'ecs_image_info', {'image_ids': {'a': 1}}, ['image_ids']),
    # ecs_image_copy
    ('copy-no-regions', 'ecs_image_copy', {'image_id': CUSTOM, 'destination_regions': []},
     ['destination_regions']),
    ('copy-unknown-region', 'ecs_image_copy', {'image_id': CUSTOM,
                                               'destination_regions': ['xx-nowhere-9']}, ['destination_regions']),
    ('copy-to-source', 'ecs_image_copy', {'image_id': CUSTOM,
                                          'destination_regions': ['{{ test_region }}']}, ['destination_regions']),
    ('copy-unknown-image', 'ecs_image_copy', {'image_id': 'm-bp1doesnotexist0001',
                                              'destination_regions': ['{{ test_region_2 }}']}, ['image_id']),
    ('copy-name-long', 'ecs_image_copy', {'image_id': CUSTOM, 'name': LONG,
                                          'destination_regions': ['{{ test_region_2 }}']}, ['name']),
    ('copy-kms-without-encrypted', 'ecs_image_copy', {'image_id': CUSTOM,
                                                      'kms_key_id': 'key-1',
                                                      'destination_regions': ['{{ test_region_2 }}']},
     ['kms_key_id', 'encrypted']),
    ('copy-state', 'ecs_image_copy', {'image_id': PUBLIC, 'destination_regions': ['cn-beijing'],
                                      'state': 'copied'}, ['state']),
    ('copy-wait-timeout-neg', 'ecs_image_copy', {'image_id': CUSTOM, 'wait_timeout': -1,
                                                 'destination_regions': ['{{ test_region_2 }}']},
     ['wait_timeout']),
    # ecs_image_share
    ('share-account-letters', 'ecs_image_share', {'image_id': CUSTOM, 'accounts': ['abc']},
     ['accounts']),
    ('share-account-short', 'ecs_image_share', {'image_id': CUSTOM, 'accounts': ['123']},
     ['accounts']),
    ('share-too-many', 'ecs_image_share', {'image_id': CUSTOM, 'account_limit': 50,
                                           'accounts': ['%016d' % (6000000000000000 + i) for i in range(51)]},
     ['accounts', 'account_limit']),
    ('share-public-image', 'ecs_image_share', {'image_id': PUBLIC, 'accounts': ['{{ test_second_account_id }}']},
     ['image_id']),
    ('share-unknown-image', 'ecs_image_share', {'image_id': 'm-bp1doesnotexist0001',
                                                'accounts': ['{{ test_second_account_id }}']}, ['image_id']),
    ('share-state', 'ecs_image_share', {'image_id': PUBLIC, 'accounts': [], 'state': 'shared'}, ['state']),
    ('share-limit-neg', 'ecs_image_share', {'image_id': CUSTOM, 'account_limit': -1,
                                            'accounts': ['{{ test_second_account_id }}']}, ['account_limit']),
    # ecs_image_import
    ('import-format', 'ecs_image_import', {'name': 'bad-import-format', 'oss_bucket': BUCKET, 'oss_object': RAW,
                                           'format': 'iso'}, ['format']),
    ('import-missing-object', 'ecs_image_import', {'name': 'bad-import-missing-object', 'oss_bucket': BUCKET,
                                                   'oss_object': 'disks/nothing-here.raw'}, ['oss_object']),
    ('import-missing-bucket', 'ecs_image_import', {'name': 'bad-import-missing-bucket', 'oss_bucket': 'no-such-bucket-here',
                                                   'oss_object': RAW}, ['oss_bucket']),
    ('import-bucket-other-region', 'ecs_image_import', {'name': 'bad-import-bucket-other-region',
                                                        'oss_bucket': 'ecs-images-sh', 'oss_object': 'x.raw'},
     ['another region']),
    ('export-bucket-other-region', 'ecs_image_export', {'image_id': CUSTOM, 'oss_bucket': 'ecs-images-sh'},
     ['another region']),
    ('import-arch', 'ecs_image_import', {'name': 'bad-import-arch', 'oss_bucket': BUCKET, 'oss_object': RAW,
                                         'architecture': 'x64'}, ['architecture']),
    ('import-license', 'ecs_image_import', {'name': 'bad-import-license', 'oss_bucket': BUCKET, 'oss_object': RAW,
                                            'license_type': 'Free'}, ['license_type']),
    ('import-os-type', 'ecs_image_import', {'name': 'bad-import-os-type', 'oss_bucket': BUCKET, 'oss_object': RAW,
                                            'os_type': 'mac'}, ['os_type']),
    ('import-wait-timeout-neg', 'ecs_image_import', {'name': 'bad-import-wait-timeout-neg', 'oss_bucket': BUCKET, 'oss_object': RAW,
                                                     'wait_timeout': -30}, ['wait_timeout']),
    ('import-name-long', 'ecs_image_import', {'name': LONG, 'oss_bucket': BUCKET, 'oss_object': RAW}, ['name']),
    ('import-corrupt', 'ecs_image_import', {'name': 'bad-import-corrupt', 'oss_bucket': BUCKET,
                                            'oss_object': '{{ test_oss_objects.corrupt }}', 'format': 'qcow2'},
     ['format', 'oss_object']),
    ('import-no-object', 'ecs_image_import', {'name': 'bad-import-no-object', 'oss_bucket': BUCKET}, ['oss_object']),
    # ecs_image_export
    ('export-format', 'ecs_image_export', {'image_id': CUSTOM, 'oss_bucket': BUCKET,
                                           'image_format': 'iso'}, ['image_format']),
    ('export-unknown-image', 'ecs_image_export', {'image_id': 'm-bp1doesnotexist0001', 'oss_bucket': BUCKET},
     ['image_id']),
    ('export-missing-bucket', 'ecs_image_export', {'image_id': CUSTOM,
                                                   'oss_bucket': 'no-such-bucket-here'}, ['oss_bucket']),
    ('export-marketplace', 'ecs_image_export', {'image_id': '{{ test_marketplace_derived_image_id }}',
                                                'oss_bucket': BUCKET}, ['image_id']),
    ('export-public', 'ecs_image_export', {'image_id': PUBLIC, 'oss_bucket': BUCKET}, ['image_id']),
    ('export-wait-timeout-neg', 'ecs_image_export', {'image_id': CUSTOM, 'oss_bucket': BUCKET,
                                                     'wait_timeout': -30}, ['wait_timeout']),
    # ecs_disk_replace
    ('replace-no-login', 'ecs_disk_replace', {'instance_id': STOPPED, 'image_id': PUBLIC},
     ['password', 'key_pair_name', 'password_inherit']),
    ('replace-two-logins', 'ecs_disk_replace', {'instance_id': STOPPED, 'image_id': PUBLIC,
                                                'password': 'Abcdef12!x', 'password_inherit': True},
     ['password']),
    ('replace-weak-password', 'ecs_disk_replace', {'instance_id': STOPPED, 'image_id': PUBLIC,
                                                   'password': 'abcdefgh'}, ['password']),
    ('replace-inherit-false', 'ecs_disk_replace', {'instance_id': STOPPED, 'image_id': PUBLIC,
                                                   'password_inherit': False}, ['password_inherit']),
    ('replace-small-disk', 'ecs_disk_replace', {'instance_id': STOPPED, 'image_id': PUBLIC,
                                                'password_inherit': True, 'system_disk_size': 10},
     ['system_disk_size']),
    ('replace-unknown-instance', 'ecs_disk_replace', {'instance_id': 'i-bp1doesnotexist0001', 'image_id': PUBLIC,
                                                      'password_inherit': True}, ['instance_id']),
    ('replace-unknown-image', 'ecs_disk_replace', {'instance_id': STOPPED, 'image_id': 'm-bp1doesnotexist0001',
                                                   'password_inherit': True}, ['image_id']),
    ('replace-arch', 'ecs_disk_replace', {'instance_id': STOPPED, 'image_id': ARM_IMAGE,
                                          'password_inherit': True}, ['image']),
    ('replace-running-no-stop', 'ecs_disk_replace', {'instance_id': RUNNING,
                                                     'image_id': 'ubuntu_22_04_x64_20G_alibase_20240926.vhd',
                                                     'password_inherit': True}, ['stop']),
    ('replace-unknown-key-pair', 'ecs_disk_replace', {'instance_id': STOPPED, 'image_id': PUBLIC,
                                                      'key_pair_name': 'no-such-key-pair'}, ['key_pair_name']),
    ('replace-wait-timeout-neg', 'ecs_disk_replace', {'instance_id': STOPPED, 'image_id': PUBLIC,
                                                      'password_inherit': True, 'wait_timeout': -1},
     ['wait_timeout']),
    # ecs_instance_power
    ('power-state', 'ecs_instance_power', {'instance_id': STOPPED, 'state': 'off'}, ['state']),
    ('power-unknown-instance', 'ecs_instance_power', {'instance_id': 'i-bp1doesnotexist0001',
                                                      'state': 'running'}, ['instance_id']),
    # ecs_image_upload
    ('upload-missing-src', 'ecs_image_upload', {'src': '/nonexistent/disk.raw', 'oss_bucket': BUCKET,
                                                'oss_object': 'x.raw'}, ['src']),
    ('upload-part-size', 'ecs_image_upload', {'src': '/etc/hostname', 'oss_bucket': BUCKET, 'oss_object': 'x.raw',
                                              'part_size': 1}, ['part_size']),
    ('upload-threads', 'ecs_image_upload', {'src': '/etc/hostname', 'oss_bucket': BUCKET, 'oss_object': 'x.raw',
                                            'threads': 0}, ['threads']),
    # malformed ids, refused before any call
    ('copy-malformed-id', 'ecs_image_copy', {'image_id': 'my image', 'destination_regions': ['cn-beijing']},
     ['image_id']),
    ('share-malformed-id', 'ecs_image_share', {'image_id': 'm-1 m-2', 'accounts': []}, ['image_id']),
    ('export-malformed-id', 'ecs_image_export', {'image_id': '$(reboot)', 'oss_bucket': BUCKET}, ['image_id']),
    ('replace-malformed-instance', 'ecs_disk_replace', {'instance_id': 'web-1', 'image_id': PUBLIC,
                                                        'password_inherit': True}, ['instance_id']),
    ('power-malformed-instance', 'ecs_instance_power', {'instance_id': 'i-', 'state': 'running'}, ['instance_id']),
    # roles (argument specs and the roles' own checks)
    ('role-bake-no-source', 'role:image_bake', {'image_bake_name': 'bake-x'}, ['image_bake_instance_id']),
    ('role-bake-timeout-type', 'role:image_bake', {'image_bake_instance_id': STOPPED,
                                                   'image_bake_wait_timeout': 'soon'}, ['image_bake_wait_timeout']),
    ('role-distribute-regions-type', 'role:image_distribute', {'image_distribute_image_id': PUBLIC,
                                                               'image_distribute_regions': {'a': 1}},
     ['image_distribute_regions']),
    ('role-import-no-file', 'role:image_import', {'image_import_name': 'x', 'image_import_oss_bucket': BUCKET},
     ['image_import_file']),
    ('role-import-arch', 'role:image_import', {'image_import_name': 'x', 'image_import_oss_bucket': BUCKET,
                                               'image_import_file': '/etc/hostname',
                                               'image_import_architecture': 'x64'}, ['architecture']),
    ('role-retention-keep-type', 'role:image_retention', {'image_retention_keep': 'many'},
     ['image_retention_keep']),
    ('role-rollout-no-instance', 'role:system_disk_rollout', {'system_disk_rollout_image_id': PUBLIC},
     ['system_disk_rollout_instance_id']),
    ('role-rollout-size-type', 'role:system_disk_rollout', {'system_disk_rollout_image_id': PUBLIC,
                                                            'system_disk_rollout_instance_id': STOPPED,
                                                            'system_disk_rollout_disk_size': 'big'},
     ['system_disk_rollout_disk_size']),
]


def case_tasks(case_id, target, args):
    if target.startswith('role:'):
        call = {'name': 'call', 'ansible.builtin.include_role': {'name': target[5:]}, 'vars': args}
    else:
        call = {'name': 'call', M + target: args}
    record = "{{ results | combine({'%s': %s}) }}"
    return [{'name': case_id, 'block': [
        call,
        {'ansible.builtin.set_fact': {'results': record % (case_id, "{'failed': false}")}},
    ], 'rescue': [
        {'ansible.builtin.set_fact': {'results': record % (
            case_id, "{'failed': true, 'msg': (ansible_failed_result.msg | default('') | string)}")}},
    ]}]


@pytest.fixture(scope='module')
def outcome(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('bad-inputs')
    with Lab(time_scale=0.05, tmp=tmp) as lab:
        setup = lab.run([
            {'name': 'a plain custom image', 'alicloud.ecs_images.ecs_image': {
                'name': 'bad-inputs-custom', 'instance_id': STOPPED}, 'register': 'made'},
            {'name': 'an image shared with another account', 'alicloud.ecs_images.ecs_image': {
                'name': 'bad-inputs-shared', 'instance_id': STOPPED}, 'register': 'shared'},
            {'alicloud.ecs_images.ecs_image_share': {'image_id': '{{ shared.image.image_id }}',
                                                     'accounts': ['{{ test_second_account_id }}']}},
            {'name': 'an image an instance runs', 'alicloud.ecs_images.ecs_disk_replace': {
                'instance_id': STOPPED, 'image_id': '{{ made.image.image_id }}', 'password_inherit': True}},
            {'ansible.builtin.copy': {'content': '{{ made.image.image_id }} {{ shared.image.image_id }}',
                                      'dest': str(tmp / 'custom')}}])
        assert setup.rc == 0, setup
        lab.emu.admin('PUT', 'realism', {'oss_region_endpoints': True})   # a bucket of another region is refused
        lab.emu.clear_requests()
        lab.vars['custom_image_id'], lab.vars['shared_image_id'] = (tmp / 'custom').read_text(
            encoding='utf-8').split()
        dest = tmp / 'results.json'
        tasks = [{'ansible.builtin.set_fact': {'results': {}}}]
        only = [c for c in os.environ.get('BAD_INPUT_CASES', '').split(',') if c]   # to iterate on a few
        for case_id, target, args, _words in CASES:
            if only and case_id not in only:
                continue
            tasks += case_tasks(case_id, target, args)
        tasks.append({'ansible.builtin.copy': {'content': '{{ results | to_json }}', 'dest': str(dest)}})
        run = lab.run(tasks, timeout=1500)   # one playbook of ~95 cases; slow on a loaded 2-core machine
        assert run.rc == 0, run
        results = json.loads(dest.read_text(encoding='utf-8'))
        writes = [e for e in lab.requests() if is_write(e)]
        yield results, writes


def test_enough_cases():
    assert len(CASES) >= 60
    assert len(set(c[0] for c in CASES)) == len(CASES)
    modules = set(c[1] for c in CASES)
    assert {'ecs_image', 'ecs_image_info', 'ecs_image_copy', 'ecs_image_share', 'ecs_image_import',
            'ecs_image_export', 'ecs_disk_replace', 'ecs_instance_power', 'ecs_image_upload'} <= modules
    assert len([m for m in modules if m.startswith('role:')]) == 5


def test_no_write_reached_the_cloud(outcome):
    _results, writes = outcome
    assert writes == [], 'bad inputs made writes: %s' % [(w.get('action'), w.get('params')) for w in writes]


@pytest.mark.parametrize('case_id,target,args,words', CASES, ids=[c[0] for c in CASES])
def test_refused_naming_the_option(outcome, case_id, target, args, words):
    results, _writes = outcome
    result = results.get(case_id)
    if result is None and os.environ.get('BAD_INPUT_CASES'):
        pytest.skip('not selected by BAD_INPUT_CASES')
    assert result is not None, 'case %s did not run' % case_id
    assert result['failed'], '%s: %s accepted %r' % (case_id, target, args)
    msg = result['msg'].lower()
    assert any(w.lower() in msg for w in words), '%s: message does not name %s: %s' % (case_id, words, result['msg'])
    assert 'traceback' not in msg and 'module failure' not in msg, result['msg']
