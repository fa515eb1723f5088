"""Two runs of the same play at once (two AWX jobs, two operators): one resource, two successful runs.

The run that loses the race for the name gets InvalidImageName.Duplicated from the API; it must adopt the image
the other run is creating (same name), wait for it like a rerun would, and succeed, saying so (adopted: true).
"""
import pytest

from test_kill_rerun import create_task, import_task

pytestmark = pytest.mark.timeout(900)


def run_twice_at_once(lab, tasks):
    play, vars_path = lab.write_play(tasks + [{'ansible.builtin.debug': {'msg': 'ADOPTED={{ r.adopted | default(false) }}'}}])
    first = lab.start(play, vars_path)
    second = lab.start(play, vars_path)
    return lab.finish(first), lab.finish(second)


@pytest.mark.parametrize('make_task,action', [(create_task, 'CreateImage'), (import_task, 'ImportImage')],
                         ids=['create', 'import'])
def test_two_identical_runs_at_once_make_one_image(lab, make_task, action):
    name = 'concurrent-%s' % action.lower()
    # Hold the first create for 25 s before the emulator acts on it: the other run looks the name up meanwhile,
    # finds nothing and creates; the held request then meets the name taken. The race is certain whatever the
    # start-up skew of the two ansible-playbook processes (under 25 s).
    lab.emu.set_faults('%s=slow:25*1' % action)
    one, two = run_twice_at_once(lab, [make_task(name)])
    assert one.rc == 0, one
    assert two.rc == 0, two
    images = lab.images(name=name)
    assert len(images) == 1, images
    assert images[0]['Status'] == 'Available', images
    accepted = lab.writes(action)
    assert len(accepted) == 1, accepted
    refused = [e for e in lab.writes(action, ok_only=False) if e not in accepted
               and e.get('code') != 'Rejected.Throttling']   # the emulator's realism throttles now and then
    assert [e.get('code') for e in refused] == ['InvalidImageName.Duplicated'], refused   # the race happened
    outputs = one.output + two.output
    assert outputs.count('ADOPTED=True') == 1 and outputs.count('ADOPTED=False') == 1, outputs[-3000:]
