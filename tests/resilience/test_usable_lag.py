"""The cloud reports a new image Available a while before its Usable flag turns true, and refuses to use it until
then (realism usable_lag). A playbook that creates an image and at once launches instances from it (ecs_instance)
must wait for the flag, not fail (ecs_disk_replace, ecs_image_copy/share/export wait the same way)."""
import pytest

pytestmark = pytest.mark.timeout(600)

# simulated seconds; at the lab's time scale (0.05) 20 real seconds of Available-but-not-Usable
USABLE_LAG = 400


def test_a_just_created_image_is_waited_for_until_usable_then_launched(lab):
    lab.emu.admin('PUT', 'config', {'durations': {'usable_lag': USABLE_LAG}})
    launch = {'name': 'resil-usable-vm', 'tags': {'resil': 'usable'}, 'count': 1, 'state': 'running',
              'image_id': '{{ created.image.image_id }}', 'instance_type': '{{ test_instance_type }}',
              'vswitch_id': '{{ test_vswitch_id }}', 'security_group_ids': ['{{ test_security_group_id }}'],
              'key_pair_name': '{{ test_key_pair_name }}', 'user_data': '#!/bin/sh\necho hi\n'}
    play = [
        {'name': 'create', 'alicloud.ecs_images.ecs_image': {
            'name': 'resil-usable', 'instance_id': '{{ test_instance_stopped }}', 'wait': True},
         'register': 'created'},
        {'name': 'check mode meanwhile: predicts the launch', 'alicloud.ecs_images.ecs_instance': launch,
         'check_mode': True, 'register': 'predicted'},
        {'name': 'launch from it at once', 'alicloud.ecs_images.ecs_instance': launch, 'register': 'launched'},
        {'ansible.builtin.assert': {'that': ['predicted is changed', "predicted.actions == ['launch 1']",
                                             'launched is changed', 'launched.launched | length == 1']}},
    ]
    run = lab.run(play)
    assert run.rc == 0, run.output[-3000:]
    runs = [e for e in lab.requests() if e.get('action') == 'RunInstances']
    refused = [e for e in runs if e.get('code') and e['params'].get('DryRun') not in (True, 'true')]
    assert refused == [], refused            # the launch is never sent before the image was usable
    created = [e for e in lab.requests() if e.get('action') == 'CreateImage' and e.get('status') == 200]
    launch = [e for e in lab.requests() if e.get('action') == 'RunInstances' and e.get('status') == 200]
    assert len(created) == 1 and len(launch) == 1
    # the image creation (60 simulated s) plus the lag passed before the launch
    assert launch[0]['time'] - created[0]['time'] >= (60 + USABLE_LAG) * lab.time_scale * 0.9
