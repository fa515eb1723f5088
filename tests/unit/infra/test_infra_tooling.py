# -*- coding: utf-8 -*-
"""Tests of the build/test tooling: collection copy, integration runner, emulator helper, benchmark, get-pip stand-in."""
from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


def load(name, relpath):
    spec = importlib.util.spec_from_file_location(name, ROOT / relpath)
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str((ROOT / relpath).parent))
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.pop(0)
    return module


build_collection = load('infra_build_collection', 'scripts/build_collection.py')
runner = load('infra_run', 'tests/integration/run.py')
helper = load('infra_emulator_helper', 'tests/integration/emulator_helper.py')
bench = load('infra_demo_rerun', 'tests/benchmarks/demo_rerun.py')
offline = load('infra_ansible_test_offline', 'scripts/ansible_test_offline.py')


def git(cwd, *args):
    subprocess.run(['git', '-c', 'user.email=t@example.com', '-c', 'user.name=t', *args], cwd=cwd, check=True,
                   capture_output=True)


# ----------------------------------------------------------------- collection copy
@pytest.fixture
def tree(tmp_path):
    src = tmp_path / 'src'
    (src / 'plugins' / 'modules').mkdir(parents=True)
    (src / 'plugins' / 'modules' / 'm.py').write_text('tracked\n')
    (src / '.gitignore').write_text('ignored.txt\nbuild/\ntests/output/\n')
    git(src, 'init', '-q')
    git(src, 'add', '.')
    git(src, 'commit', '-q', '-m', 'init')
    (src / 'untracked.txt').write_text('new\n')
    (src / 'ignored.txt').write_text('junk\n')
    return src


def test_copy_takes_tracked_and_untracked_not_ignored(tree, tmp_path):
    dest = tmp_path / 'c' / 'ansible_collections' / 'ns' / 'name'
    files = build_collection.git_files(tree)
    assert sorted(files) == ['.gitignore', 'plugins/modules/m.py', 'untracked.txt']
    copied, removed = build_collection.sync(tree, dest, files)
    assert (copied, removed) == (3, 0)
    assert (dest / 'plugins' / 'modules' / 'm.py').read_text() == 'tracked\n'
    assert not (dest / 'ignored.txt').exists()
    assert not (dest / 'plugins').is_symlink()


def test_copy_deletes_stale_files_keeps_output_and_skips_unchanged(tree, tmp_path):
    dest = tmp_path / 'c' / 'ansible_collections' / 'ns' / 'name'
    build_collection.sync(tree, dest, build_collection.git_files(tree))
    build_collection.git_init(dest)
    (dest / 'tests' / 'output').mkdir(parents=True)
    (dest / 'tests' / 'output' / 'keep.log').write_text('x')
    os.unlink(tree / 'untracked.txt')
    (tree / 'plugins' / 'modules' / 'm.py').unlink()  # tracked but deleted in the working tree
    copied, removed = build_collection.sync(tree, dest, build_collection.git_files(tree))
    assert (copied, removed) == (0, 2)
    assert not (dest / 'untracked.txt').exists()
    assert not (dest / 'plugins').exists()          # emptied directories go too
    assert (dest / 'tests' / 'output' / 'keep.log').exists()
    assert (dest / '.git').is_dir()                # the copy's own repository survives
    listed = subprocess.run(['git', 'ls-files', '-co', '--exclude-standard'], cwd=dest, capture_output=True,
                            text=True, check=True).stdout.split()
    assert listed == ['.gitignore']                # what ansible-test will see: not tests/output


def test_walk_files_outside_git(tmp_path):
    (tmp_path / '.venv' / 'bin').mkdir(parents=True)
    (tmp_path / '.venv' / 'bin' / 'python').write_text('')
    (tmp_path / 'tests' / 'output').mkdir(parents=True)
    (tmp_path / 'tests' / 'output' / 'x').write_text('')
    (tmp_path / 'tests' / 'a.py').write_text('')
    (tmp_path / 'tests' / 'a.pyc').write_text('')
    assert build_collection.walk_files(tmp_path) == [os.path.join('tests', 'a.py')]


# ----------------------------------------------------------------- integration runner
def test_playbook_uses_env_lookups_and_never_writes_secrets(tmp_path):
    env = {'ALIBABA_CLOUD_ACCESS_KEY_ID': 'LTAIsecretid', 'ALIBABA_CLOUD_ACCESS_KEY_SECRET': 's3cr3t',
           'ALIBABA_CLOUD_ECS_ENDPOINT': 'http://127.0.0.1:1'}
    path = tmp_path / 'p.yml'
    runner.write_playbook(path, 'ecs_image', env)
    text = path.read_text()
    assert 's3cr3t' not in text and 'LTAIsecretid' not in text
    import yaml
    play = yaml.safe_load(text)[0]
    assert play['hosts'] == 'localhost' and play['gather_facts'] is False
    assert play['roles'] == [{'role': 'ecs_image'}]
    defaults = play['module_defaults']['group/alicloud.ecs_images.ecs']
    assert sorted(defaults) == ['access_key', 'endpoint', 'secret_key']   # region/sts/token not in env: left out
    assert defaults['secret_key'] == "{{ lookup('ansible.builtin.env', 'ALIBABA_CLOUD_ACCESS_KEY_SECRET') }}"


def make_targets(tmp_path, monkeypatch, spec):
    for name, aliases in spec.items():
        (tmp_path / name / 'tasks').mkdir(parents=True)
        (tmp_path / name / 'tasks' / 'main.yml').write_text('[]\n')
        if aliases:
            (tmp_path / name / 'aliases').write_text(aliases)
    (tmp_path / 'no_tasks').mkdir()
    monkeypatch.setattr(runner, 'TARGETS_DIR', tmp_path)


def test_discover_skips_helpers_disabled_and_emulator_only_in_real_mode(tmp_path, monkeypatch):
    make_targets(tmp_path, monkeypatch, {'a': '', 'b': 'disabled  # broken\n', 'c': 'emulator_only\n', 'setup_x': ''})
    chosen, skipped = runner.discover([], real=False)
    assert chosen == ['a', 'c'] and [s.target for s in skipped] == ['b']
    chosen, skipped = runner.discover([], real=True)
    assert chosen == ['a'] and sorted(s.target for s in skipped) == ['b', 'c']
    chosen, skipped = runner.discover(['b', 'b'], real=False)   # named explicitly: runs even when disabled
    assert chosen == ['b'] and skipped == []
    with pytest.raises(runner.UsageError, match='unknown target'):
        runner.discover(['no_tasks'], real=False)


def test_real_mode_requires_credentials_and_variables(tmp_path, monkeypatch):
    for name in [v for group in runner.CREDENTIAL_ENV for v in group]:
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(runner.UsageError, match='needs credentials'):
        runner.real_mode_vars()
    monkeypatch.setenv('ALIBABA_CLOUD_ACCESS_KEY_ID', 'x')
    monkeypatch.setenv('ALIBABA_CLOUD_ACCESS_KEY_SECRET', 'y')
    monkeypatch.delenv('ECS_IMAGES_TEST_VARS', raising=False)
    with pytest.raises(runner.UsageError, match='ECS_IMAGES_TEST_VARS'):
        runner.real_mode_vars()
    vars_file = tmp_path / 'v.yml'
    vars_file.write_text('test_region: cn-hangzhou\nemulator: true\n')
    monkeypatch.setenv('ECS_IMAGES_TEST_VARS', str(vars_file))
    with pytest.raises(runner.UsageError, match='lacks: test_region_2'):
        runner.real_mode_vars()
    vars_file.write_text(''.join('%s: v\n' % k for k in runner.REQUIRED_VARS) + 'emulator: true\n')
    data = runner.real_mode_vars()
    assert data['emulator'] is False and data['emulator_admin'] == ''


def test_collections_path(tmp_path):
    copy = tmp_path / 'x' / 'ansible_collections' / 'alicloud' / 'ecs_images'
    copy.mkdir(parents=True)
    assert helper.collections_path(copy) == str(tmp_path / 'x')
    dev = tmp_path / 'dev'
    dev.mkdir()
    base = Path(helper.collections_path(dev))
    link = base / 'ansible_collections' / 'alicloud' / 'ecs_images'
    assert link.is_symlink() and link.resolve() == dev.resolve()
    assert helper.collections_path(dev, 'given') == 'given'


# ----------------------------------------------------------------- emulator helper
def test_parse_exports_and_proxy_removal():
    env = helper.parse_exports(['export A=1\n', 'noise\n', 'export B="http://x:1"\n', 'export C=a=b\n'])
    assert env == {'A': '1', 'B': 'http://x:1', 'C': 'a=b'}
    clean = helper.without_proxies({'http_proxy': 'p', 'HTTPS_PROXY': 'p', 'ALL_PROXY': 'p', 'PATH': '/bin'})
    assert clean == {'PATH': '/bin'}


def test_playbook_env_proxies(monkeypatch):
    monkeypatch.setenv('HTTPS_PROXY', 'http://proxy:3128')
    monkeypatch.setenv('ANSIBLE_CONFIG', '/elsewhere/ansible.cfg')
    emulated = helper.playbook_env('/coll', {'ALIBABA_CLOUD_ECS_ENDPOINT': 'http://127.0.0.1:1'}, X='1')
    assert 'HTTPS_PROXY' not in emulated and emulated['ALIBABA_CLOUD_ECS_ENDPOINT'] == 'http://127.0.0.1:1'
    real = helper.playbook_env('/coll', keep_proxies=True, X='1')      # run.py's real-cloud mode
    assert real['HTTPS_PROXY'] == 'http://proxy:3128'
    for env in (emulated, real):
        assert env['ANSIBLE_COLLECTIONS_PATH'] == '/coll' and env['X'] == '1' and 'ANSIBLE_CONFIG' not in env


def test_emulator_start_failure_is_reported(tmp_path):
    fake = tmp_path / 'python'
    fake.write_text('#!/bin/sh\necho "cannot start" >&2\nexit 3\n')
    fake.chmod(0o755)
    emu = helper.Emulator(python=str(fake), log_path=str(tmp_path / 'emu.log'), start_timeout=10)
    with pytest.raises(helper.EmulatorError, match='exited with status 3'):
        emu.start()
    assert 'cannot start' in (tmp_path / 'emu.log').read_text()


# ----------------------------------------------------------------- benchmark helpers
def test_write_classification():
    assert not bench.is_write('DescribeImages') and not bench.is_write('oss:ListObjects')
    assert not bench.is_write('AssumeRole') and not bench.is_write('oss:HeadObject')
    assert bench.is_write('CreateImage') and bench.is_write('oss:PutObject') and bench.is_write('ModifyImageAttribute')


def test_requests_are_attributed_to_tasks_by_time():
    tasks = [{'name': 't1', 'role': 'r', 'start': 10.0, 'end': 20.0}, {'name': 't2', 'role': '', 'start': 20.5, 'end': None}]
    reqs = [{'time': 11, 'action': 'DescribeImages'}, {'time': 20.2, 'action': 'DescribeTasks'},
            {'time': 99, 'action': 'DescribeDisks'}]
    rows = bench.attribute(reqs, tasks)
    assert [(t['name'], a) for t, a in rows] == [('t1', ['DescribeImages']), ('t2', ['DescribeDisks']),
                                                 ('(between tasks)', ['DescribeTasks'])]


# ----------------------------------------------------------------- offline get-pip stand-in
def test_standin_strips_unsupported_options_and_keeps_ensurepip_pip_on_failure(monkeypatch, capsys):
    calls = []

    class Done:
        returncode = 1
        stdout = 'no index'

    def check_call(cmd, **kwargs):
        calls.append(cmd)

    def run(cmd, **kwargs):
        calls.append(cmd)
        return Done()

    namespace = {'__name__': 'standin'}
    exec(compile(offline.STANDIN, 'get_pip_standin', 'exec'), namespace)  # pylint: disable=exec-used
    monkeypatch.setattr(namespace['subprocess'], 'check_call', check_call)
    monkeypatch.setattr(namespace['subprocess'], 'run', run)
    monkeypatch.setattr(sys, 'argv', ['x', '--disable-pip-version-check', 'pip==24.2', '--no-setuptools', '--no-wheel'])
    assert namespace['main']() == 0
    assert calls[0][1:] == ['-m', 'ensurepip', '--upgrade', '--default-pip']
    assert calls[1][1:] == ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', 'pip==24.2']
    assert 'keeping the pip from ensurepip' in capsys.readouterr().err


def test_standin_is_written_where_ansible_test_looks(tmp_path, monkeypatch):
    pytest.importorskip('ansible_test')
    monkeypatch.setenv('HOME', str(tmp_path))
    assert offline.main() == 0
    written = list((tmp_path / '.ansible' / 'test' / 'cache').glob('get_pip_*.py'))
    assert len(written) == 1 and written[0].read_text() == offline.STANDIN
    version = offline.pip_version()
    assert written[0].name == 'get_pip_%s.py' % version.replace('.', '_')
    written[0].write_text('# a real get-pip.py\n')
    assert offline.main() == 0 and written[0].read_text() == '# a real get-pip.py\n'   # never overwritten
