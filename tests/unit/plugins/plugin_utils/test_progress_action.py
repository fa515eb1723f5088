# -*- coding: utf-8 -*-
"""plugin_utils/progress_action.py: settings, the progress line, the watcher thread."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import time

import pytest

from ansible_collections.alicloud.ecs_images.plugins.plugin_utils import progress_action as pa


@pytest.mark.parametrize('value, seconds', [
    (None, None), ('', None), ('30', 30.0), (15, 15.0), ('0', 0.0), (0, 0.0), ('off', 0.0), (False, 0.0),
    (True, pa.DEFAULT_INTERVAL), ('0.2', pa.MIN_INTERVAL), ('2.5', 2.5),
])
def test_parse_interval(value, seconds):
    assert pa.parse_interval(value) == seconds


@pytest.mark.parametrize('value', ['-1', 'soon'])
def test_parse_interval_rejects(value):
    with pytest.raises(ValueError):
        pa.parse_interval(value)


def test_line_for_a_copy_to_several_regions():
    payload = {'items': [
        {'what': 'copy', 'id': 'm-src', 'region': 'cn-beijing', 'status': 'Available', 'percent': 100},
        {'what': 'copy', 'id': 'm-src', 'region': 'cn-shanghai', 'status': 'Creating', 'percent': 40},
        {'what': 'copy', 'id': 'm-src', 'region': 'us-west-1', 'status': 'Waiting', 'percent': None},
    ]}
    line = pa.format_progress('alicloud.ecs_images.ecs_image_copy [localhost]', 95, payload)
    assert line == ('alicloud.ecs_images.ecs_image_copy [localhost], 1m35s: copy m-src: cn-beijing Available 100%, '
                    'cn-shanghai Creating 40%, us-west-1 Waiting (1 of 3 regions done)')


def test_line_for_copies_with_an_id_per_region_and_an_upload():
    payload = {'items': [
        {'what': 'copy', 'id': 'm-bj', 'region': 'cn-beijing', 'status': 'Creating', 'percent': 40},
        {'what': 'copy', 'id': 'm-sh', 'region': 'cn-shanghai', 'status': 'Available', 'percent': 100},
        {'what': 'upload', 'id': 'oss://b/o', 'region': 'cn-hangzhou', 'status': 'uploading', 'percent': 12},
    ]}
    line = pa.format_progress('m [h]', 5, payload)
    assert line == ('m [h], 5s: copy: cn-beijing m-bj Creating 40%, cn-shanghai m-sh Available 100% '
                    '(1 of 2 regions done); upload oss://b/o in cn-hangzhou: uploading 12%')


def test_line_for_one_resource_and_for_nothing_yet():
    payload = {'items': [{'what': 'import', 'id': 'm-1', 'region': 'cn-hangzhou', 'status': 'Creating',
                          'percent': 35, 'detail': 'task t-9'}]}
    assert pa.format_progress('x [h]', 30, payload) == 'x [h], 30s: import m-1 in cn-hangzhou: Creating 35% (task t-9)'
    assert pa.format_progress('x [h]', 3700, None) == 'x [h], 1h01m: running (no progress reported yet)'


def test_watcher_prints_at_the_interval_and_keeps_the_last_good_state(tmp_path):
    path = tmp_path / 'p.json'
    lines = []
    watcher = pa.ProgressWatcher(str(path), 0.05, 'mod [h]', emit_line=lines.append)
    assert watcher.read() is None
    path.write_text(json.dumps({'items': [{'what': 'upload', 'id': 'oss://b/o', 'status': 'uploading', 'percent': 7}]}))
    assert 'upload oss://b/o: uploading 7%' in watcher.tick()
    path.write_text('{"items": [')       # caught half-written: the last good state is shown
    assert 'uploading 7%' in watcher.tick()
    watcher.begin()
    time.sleep(0.3)
    watcher.stop()
    count = len(lines)
    assert count >= 2
    time.sleep(0.15)
    assert len(lines) == count            # stopped: no more lines
