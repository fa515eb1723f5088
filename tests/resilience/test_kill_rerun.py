"""Kill a run at each step, rerun it, and compare with what an uninterrupted run leaves.

Each test kills ansible-playbook and its module processes (SIGKILL to the process group) right after
the emulator answered a chosen write, reruns the same play to the end, and asserts that the final
state is the one an uninterrupted run produces, with no duplicate resource and no write repeated.
"""
import pytest

from harness import after

pytestmark = pytest.mark.timeout(900)

NEW_IMAGE = 'ubuntu_22_04_x64_20G_alibase_20240926.vhd'


def replace_task(**extra):
    args = {'instance_id': '{{ test_instance_running }}', 'image_id': NEW_IMAGE, 'password_inherit': True,
            'stop': True, 'wait_timeout': 600}
    args.update(extra)
    return {'name': 'replace the system disk', 'alicloud.ecs_images.ecs_disk_replace': args, 'register': 'r'}


@pytest.mark.parametrize('kill_after', ['StopInstance', 'ReplaceSystemDisk', 'StartInstance'])
def test_disk_replace_killed_then_rerun_ends_running(lab, kill_after):
    instance_id = lab.vars['test_instance_running']
    assert lab.instance(instance_id)['Status'] == 'Running'
    lab.kill_and_rerun([replace_task(), {'ansible.builtin.assert': {'that': [
        "r.instance.status == 'Running'", "r.instance.image_id == '%s'" % NEW_IMAGE]}}], after(kill_after))
    instance = lab.instance(instance_id)
    assert instance['Status'] == 'Running', instance
    assert instance['ImageId'] == NEW_IMAGE
    assert len(lab.writes('ReplaceSystemDisk')) == 1, 'the disk was replaced more than once'
    third = lab.run([replace_task(), {'ansible.builtin.assert': {'that': ['r is not changed']}}])
    assert third.rc == 0, third
    # the intent marker is gone once the run that finished the job ended
    tags = instance.get('Tags', {}).get('Tag', []) if isinstance(instance.get('Tags'), dict) else []
    assert not [t for t in tags if str(t.get('TagKey', '')).startswith('ecs_images:')], tags


def create_task(name):
    return {'name': 'create the image', 'alicloud.ecs_images.ecs_image': {
        'name': name, 'instance_id': '{{ test_instance_stopped }}', 'wait_timeout': 600}, 'register': 'r'}


def test_image_create_killed_while_waiting_then_rerun(lab):
    name = 'resilience-create'
    lab.kill_and_rerun([create_task(name), {'ansible.builtin.assert': {'that': ["r.image.status == 'Available'"]}}],
                       after('CreateImage'))
    images = lab.images(name=name)
    assert len(images) == 1 and images[0]['Status'] == 'Available', images
    assert len(lab.writes('CreateImage')) == 1


def copy_task(name):
    return {'name': 'copy the image', 'alicloud.ecs_images.ecs_image_copy': {
        'image_id': '{{ source.image.image_id }}', 'name': name,
        'destination_regions': ['cn-shanghai', 'cn-beijing', 'cn-shenzhen'], 'wait_timeout': 900},
        'register': 'r'}


def test_copy_to_three_regions_killed_then_rerun(lab):
    name = 'resilience-copy'
    source = lab.run([create_task('resilience-copy-source')])
    assert source.rc == 0, source
    lookup = {'name': 'the source', 'alicloud.ecs_images.ecs_image_info': {'name': 'resilience-copy-source'},
              'register': 'found'}
    fact = {'ansible.builtin.set_fact': {'source': {'image': '{{ found.images[0] }}'}}}
    lab.kill_and_rerun([lookup, fact, copy_task(name)], after('CopyImage', 2))
    for region in ('cn-shanghai', 'cn-beijing', 'cn-shenzhen'):
        copies = lab.images(region=region, name=name)
        assert len(copies) == 1, (region, copies)
        assert copies[0]['Status'] == 'Available', copies
    assert len(lab.writes('CopyImage')) == 3


def import_task(name):
    return {'name': 'import the image', 'alicloud.ecs_images.ecs_image_import': {
        'name': name, 'os_type': 'linux', 'platform': 'Aliyun', 'architecture': 'x86_64',
        'oss_bucket': '{{ test_oss_bucket }}', 'oss_object': '{{ test_oss_objects.raw }}',
        'wait_timeout': 900}, 'register': 'r'}


def test_import_killed_then_rerun(lab):
    name = 'resilience-import'
    lab.kill_and_rerun([import_task(name)], after('ImportImage'))
    images = lab.images(name=name)
    assert len(images) == 1 and images[0]['Status'] == 'Available', images
    assert len(lab.writes('ImportImage')) == 1


def export_tasks():
    return [
        {'name': 'the source', 'alicloud.ecs_images.ecs_image_info': {'name': 'resilience-export-source'},
         'register': 'found'},
        {'name': 'export', 'alicloud.ecs_images.ecs_image_export': {
            'image_id': '{{ found.images[0].image_id }}', 'oss_bucket': '{{ test_export_bucket }}',
            'oss_prefix': 'resilience', 'wait_timeout': 900}, 'register': 'r'},
    ]


def test_export_killed_then_rerun(lab):
    source = lab.run([create_task('resilience-export-source')])
    assert source.rc == 0, source
    lab.kill_and_rerun(export_tasks(), after('ExportImage'))
    assert len(lab.writes('ExportImage')) == 1
    third = lab.run(export_tasks() + [{'ansible.builtin.assert': {'that': ['r is not changed']}}])
    assert third.rc == 0, third


def rollout_play():
    return [{'name': 'roll the image out', 'ansible.builtin.include_role': {'name': 'system_disk_rollout'},
             'vars': {'system_disk_rollout_instance_id': '{{ test_instance_running }}',
                      'system_disk_rollout_image_id': NEW_IMAGE, 'system_disk_rollout_stop': True,
                      'system_disk_rollout_api_host': 'localhost',
                      'system_disk_rollout_wait_for_connection': False}}]


@pytest.mark.parametrize('kill_after', ['StopInstance', 'ReplaceSystemDisk'])
def test_system_disk_rollout_role_killed_then_rerun(lab, kill_after):
    instance_id = lab.vars['test_instance_running']
    lab.kill_and_rerun(rollout_play(), after(kill_after))
    instance = lab.instance(instance_id)
    assert instance['Status'] == 'Running' and instance['ImageId'] == NEW_IMAGE, instance
    assert len(lab.writes('ReplaceSystemDisk')) == 1


def bake_play():
    return [{'name': 'bake', 'ansible.builtin.include_role': {'name': 'image_bake'},
             'vars': {'image_bake_instance_id': '{{ test_instance_running }}', 'image_bake_name': 'resilience-bake',
                      'image_bake_stop_instance': True, 'image_bake_wait_timeout': 600}}]


@pytest.mark.parametrize('kill_after', ['StopInstance', 'CreateImage'])
def test_image_bake_role_killed_then_rerun_starts_the_instance_again(lab, kill_after):
    instance_id = lab.vars['test_instance_running']
    lab.kill_and_rerun(bake_play(), after(kill_after))
    assert lab.instance(instance_id)['Status'] == 'Running'
    images = lab.images(name='resilience-bake')
    assert len(images) == 1 and images[0]['Status'] == 'Available', images
    assert len(lab.writes('CreateImage')) == 1
    assert len(lab.writes('StopInstance')) == 1
