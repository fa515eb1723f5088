# -*- coding: utf-8 -*-
"""module_utils/progress.py: the module side of "progress while waiting"."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import pytest

from ansible_collections.alicloud.ecs_images.plugins.module_utils import progress


class FakeModule:
    _name = 'ecs_image_copy'


@pytest.fixture(autouse=True)
def clean_state(monkeypatch):
    progress.reset()
    monkeypatch.delenv(progress.PROGRESS_ENV, raising=False)
    yield
    progress.reset()


def test_noop_without_the_variable(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert progress.emit(FakeModule(), 'copy', 'm-1', region='cn-beijing', status='Creating', percent=10) is None
    assert list(tmp_path.iterdir()) == []


def test_writes_every_resource_and_rate_limits(tmp_path, monkeypatch):
    path = tmp_path / 'progress.json'
    monkeypatch.setenv(progress.PROGRESS_ENV, str(path))
    clock = [1000.0]
    monkeypatch.setattr(progress.time, 'time', lambda: clock[0])
    progress.emit(FakeModule(), 'copy', 'm-1', region='cn-beijing', status='Creating', percent='40%')
    first = json.loads(path.read_text())
    assert first['module'] == 'ecs_image_copy'
    assert [(i['region'], i['status'], i['percent']) for i in first['items']] == [('cn-beijing', 'Creating', 40)]
    # within MIN_GAP: kept in memory, not written
    clock[0] += 0.2
    progress.emit(FakeModule(), 'copy', 'm-1', region='cn-shanghai', status='Creating', percent=5)
    assert json.loads(path.read_text()) == first
    # later: both regions, in the order first seen
    clock[0] += progress.MIN_GAP
    progress.emit(FakeModule(), 'copy', 'm-1', region='cn-beijing', status='Available', percent=100)
    items = json.loads(path.read_text())['items']
    assert [(i['region'], i['status'], i['percent']) for i in items] == [
        ('cn-beijing', 'Available', 100), ('cn-shanghai', 'Creating', 5)]


def test_flush_writes_what_the_rate_limit_held_back(tmp_path, monkeypatch):
    path = tmp_path / 'progress.json'
    monkeypatch.setenv(progress.PROGRESS_ENV, str(path))
    progress.emit(None, 'import', 'm-2', status='Waiting', percent=None)
    progress.emit(None, 'import', 'm-2', status='Creating', percent=60)
    assert json.loads(path.read_text())['items'][0]['status'] == 'Waiting'
    progress.flush()
    item = json.loads(path.read_text())['items'][0]
    assert (item['status'], item['percent'], item['region']) == ('Creating', 60, None)


def test_never_raises(tmp_path, monkeypatch):
    monkeypatch.setenv(progress.PROGRESS_ENV, str(tmp_path / 'missing-dir' / 'progress.json'))
    assert progress.emit(None, 'copy', 'm-1', percent='not a number', status=object()) is None
    assert progress.emit(None, 'copy', 'm-1') is None   # disabled after the first failure, still no error


def test_odd_percentages():
    assert progress._percent('37.5') == 37
    assert progress._percent(250) == 100
    assert progress._percent('') is None
    assert progress._percent('n/a') is None
