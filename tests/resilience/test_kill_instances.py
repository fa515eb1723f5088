"""Kill image_validate and a base_image bake half-way, rerun them, and check that no builder or throwaway
instance is left behind, nothing is launched twice and exactly one image is baked (issue 14)."""
import pytest

from harness import after, after_then

pytestmark = pytest.mark.timeout(900)

ACCOUNT = '1234567890123456'


def instances(lab, prefix):
    """Every instance of the test account whose name starts with ``prefix``, in any region."""
    found = []
    for region, data in lab.resources()['accounts'][ACCOUNT]['regions'].items():
        for inst in data.get('instances', []):
            if (inst.get('InstanceName') or '').startswith(prefix):
                found.append(dict(inst, RegionId=region))
    return found


def check_file(lab, name, body):
    path = lab.tmp / name
    path.write_text(body, encoding='utf-8')
    return str(path)


# ------------------------------------------------------------------------------------------ image_validate
def validate_play(lab):
    check = check_file(lab, 'check.yml', '- name: smoke check\n  ansible.builtin.assert:\n'
                                         '    that: [image_validate_instance.status == "Running"]\n')
    # dictionary keys are not templated: region-keyed dictionaries are built by an expression
    networks = ("{{ {test_region: {'vswitch_id': test_vswitch_id, 'security_group_ids': [test_security_group_id]}, "
                "test_region_2: {'vswitch_id': test_vswitch_id_2, 'security_group_ids': [test_security_group_id_2]}} }}")
    return [{'name': 'validate', 'ansible.builtin.include_role': {'name': 'image_validate'},
             'vars': {'image_validate_images': '{{ {test_region: test_public_image_id, '
                                               'test_region_2: test_public_image_id} }}',
                      'image_validate_networks': networks, 'image_validate_name_prefix': 'resil-val',
                      'image_validate_check_tasks': check, 'image_validate_check_connection': 'local'}},
            {'ansible.builtin.assert': {'that': ['image_validate_passed | bool',
                                                 'image_validate_report | length == 2']}}]


@pytest.mark.parametrize('kill_when', [after('RunInstances', 1), after('RunInstances', 2),
                                       after_then('RunInstances', 'DescribeInstances')],
                         ids=['first-launch', 'both-launches', 'while-waiting'])
def test_image_validate_killed_then_rerun_leaves_nothing(lab, kill_when):
    first = lab.run(validate_play(lab), kill_when=kill_when)
    assert first.killed, first.output[-2000:]
    left = instances(lab, 'resil-val')
    assert left, 'the kill should have left a throwaway instance behind'
    second = lab.run(validate_play(lab))
    assert second.rc == 0, second.output[-3000:]
    assert instances(lab, 'resil-val') == [], 'a throwaway instance was left behind'
    launches = lab.writes('RunInstances')
    per_region = {}
    for entry in launches:
        per_region[entry.get('region_id')] = per_region.get(entry.get('region_id'), 0) + 1
    # the rerun launched only in the regions the killed run had not reached
    assert sorted(per_region.values()) == [1, 1], per_region


# ------------------------------------------------------------------------------------------ image_bake base
def bake_play(lab):
    provision = check_file(lab, 'provision.yml',
                           '- name: provision\n  ansible.builtin.lineinfile:\n'
                           '    path: "%s"\n    line: "{{ image_bake_builder_instance.instance_id }}"\n'
                           '    create: true\n    mode: "0644"\n' % (lab.tmp / 'provisioned.txt'))
    return [{'name': 'bake', 'ansible.builtin.include_role': {'name': 'image_bake'},
             'vars': {'image_bake_base_image': '{{ test_public_image_id }}', 'image_bake_region': '{{ test_region }}',
                      'image_bake_name_prefix': 'resil-bake', 'image_bake_family': 'resil-family',
                      'image_bake_builder_instance_type': '{{ test_instance_type }}',
                      'image_bake_builder_vswitch_id': '{{ test_vswitch_id }}',
                      'image_bake_builder_security_group_ids': ['{{ test_security_group_id }}'],
                      'image_bake_builder_connection': 'local', 'image_bake_provision_tasks': [provision]}},
            {'ansible.builtin.assert': {'that': ["image_bake_image.status == 'Available'"]}}]


def baked_images(lab):
    return [i for i in lab.images() if (i.get('ImageName') or '').startswith('resil-bake-')]


@pytest.mark.parametrize('kill_when', [after('RunInstances'), after('StopInstance'), after('CreateImage')],
                         ids=['builder-launched', 'builder-stopping', 'image-creating'])
def test_base_image_bake_killed_then_rerun(lab, kill_when):
    first = lab.run(bake_play(lab), kill_when=kill_when)
    assert first.killed, first.output[-2000:]
    assert len(instances(lab, 'resil-bake-builder')) == 1, 'the kill should have left the builder behind'
    second = lab.run(bake_play(lab))
    assert second.rc == 0, second.output[-3000:]
    assert instances(lab, 'resil-bake') == [], 'the builder was left behind'
    images = baked_images(lab)
    assert len(images) == 1 and images[0]['Status'] == 'Available', images
    assert len(lab.writes('RunInstances')) == 1, 'a second builder was launched'
    assert len(lab.writes('CreateImage')) == 1, 'the image was created twice'
    builders = set((lab.tmp / 'provisioned.txt').read_text(encoding='utf-8').split()) \
        if (lab.tmp / 'provisioned.txt').exists() else set()
    assert len(builders) == 1, builders
