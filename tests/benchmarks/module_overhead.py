#!/usr/bin/env python
"""Benchmark: per-task overhead of a one-read module in ansible-playbook, against ansible.builtin.ping.

Starts an ECS emulator and runs these playbooks on localhost (connection local, no facts), each --rounds times
in turn: N tasks of ansible.builtin.ping, N tasks of alicloud.ecs_images.ecs_image_info reading one image by id (one
DescribeImages call per task) and, after one task that creates an image from an instance, N reruns of that unchanged
ecs_image create (given instance_id). The per-task cost is the time from a task's start to the next task's start
(callback plugin task_timeline: everything ansible-playbook does for the task, without its own start-up), median
over all tasks of all rounds (robust to the load of a shared machine). Prints the figures, the ratio
ecs_image_info / ping (target, issue 11: at most 1.5) and the API calls per task of both modules (from the emulator's
request log; both should be 1).

Exit status 1 when a playbook failed or a task made more than one API call.
Usage: .venv/bin/python tests/benchmarks/module_overhead.py [--tasks 20] [--rounds 3]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(ROOT / 'tests' / 'integration'))

from emulator_helper import Emulator, collections_path, playbook_env  # noqa: E402  pylint: disable=wrong-import-position

OUT = ROOT / 'tests' / 'output' / 'benchmarks' / 'module_overhead'
TARGET_RATIO = 1.5


def playbook(path: Path, tasks: int, module: str, args: dict) -> Path:
    play = {'name': 'overhead', 'hosts': 'localhost', 'gather_facts': False,
            'tasks': [{'name': 'task %d' % index, module: args} for index in range(tasks)]}
    path.write_text(json.dumps([play], indent=1), encoding='utf-8')   # JSON is YAML
    return path


def run(env: dict, book: Path, log: Path) -> tuple:
    """(exit status, wall time, [seconds of each task])."""
    cmd = [os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'), '-i', 'localhost,', '-c', 'local',
           '-e', 'ansible_python_interpreter=%s' % sys.executable, str(book)]
    timeline = log.with_suffix('.timeline.json')
    start = time.monotonic()
    with open(log, 'w', encoding='utf-8') as handle:
        status = subprocess.run(cmd, env=dict(env, TASK_TIMELINE_FILE=str(timeline)), stdin=subprocess.DEVNULL,
                                stdout=handle, stderr=subprocess.STDOUT, cwd=str(ROOT), check=False).returncode
    wall = time.monotonic() - start
    tasks = json.loads(timeline.read_text(encoding='utf-8')) if timeline.is_file() else []
    return status, wall, [t['end'] - t['start'] for t in tasks if t.get('end')]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--tasks', type=int, default=20, help='tasks per playbook (default 20)')
    parser.add_argument('--rounds', type=int, default=3, help='runs of each playbook (median taken; default 3)')
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    env = playbook_env(collections_path(ROOT, os.environ.get('ECS_IMAGES_COLLECTIONS_PATH')),
                       ANSIBLE_CALLBACK_PLUGINS=str(HERE / 'callback_plugins'),
                       ANSIBLE_CALLBACKS_ENABLED='task_timeline')
    with Emulator(time_scale=0.01, log_path=str(OUT / 'emulator.log')) as emu:
        env.update(emu.env)
        test_vars = emu.test_vars()
        image_id = test_vars['test_public_image_id']
        create = {'name': 'overhead-bench-image', 'instance_id': test_vars['test_instance_running']}
        status, dummy, dummy = run(env, playbook(OUT / 'create.yml', 1, 'alicloud.ecs_images.ecs_image', create),
                                   OUT / 'create.log')
        if status != 0:
            print('module_overhead: creating the image failed, see %s' % (OUT / 'create.log'), file=sys.stderr)
            return 1
        books = {
            'ping': playbook(OUT / 'ping.yml', args.tasks, 'ansible.builtin.ping', {}),
            'ecs_image_info': playbook(OUT / 'info.yml', args.tasks, 'alicloud.ecs_images.ecs_image_info',
                                       {'image_ids': [image_id]}),
            'ecs_image rerun': playbook(OUT / 'rerun.yml', args.tasks, 'alicloud.ecs_images.ecs_image', create),
        }
        times = dict((name, []) for name in books)
        tasks = dict((name, []) for name in books)
        calls = {'ecs_image_info': [], 'ecs_image rerun': []}
        for dummy in range(args.rounds):
            for name, book in books.items():
                emu.clear_requests()
                status, wall, durations = run(env, book, OUT / ('%s.log' % name.replace(' ', '_')))
                if status != 0:
                    print('module_overhead: %s playbook failed, see %s' % (name, OUT / ('%s.log' % name)),
                          file=sys.stderr)
                    return 1
                times[name].append(wall)
                tasks[name].extend(durations)
                if name in calls:
                    calls[name].append(len([r for r in emu.requests() if not r.get('service')]))
    per_task = dict((name, statistics.median(values)) for name, values in tasks.items())
    ratio = per_task['ecs_image_info'] / per_task['ping'] if per_task['ping'] > 0 else float('inf')
    calls_per_task = dict((name, max(values) / float(args.tasks)) for name, values in calls.items())
    print('playbook wall times (s, %d rounds of %d tasks): %s' % (args.rounds, args.tasks, ', '.join(
        '%s %s' % (name, '/'.join('%.2f' % t for t in values)) for name, values in times.items())))
    print('tasks timed per module: %s' % ', '.join('%s %d' % (name, len(values)) for name, values in tasks.items()))
    print('per task: ansible.builtin.ping              %.3f s' % per_task['ping'])
    print('per task: ecs_image_info (one read)         %.3f s' % per_task['ecs_image_info'])
    print('ratio ecs_image_info / ping                 %.2f (target <= %.1f)' % (ratio, TARGET_RATIO))
    print('per task: ecs_image rerun (unchanged create) %.3f s (%.2f x ping)'
          % (per_task['ecs_image rerun'], per_task['ecs_image rerun'] / per_task['ping'] if per_task['ping'] > 0 else 0))
    sdk, ours = import_costs(env)
    print('of the difference, per module process:      aliyunsdkcore.client import %.3f s (every module that '
          'calls the API; ping does not), ecs_image_info and its module_utils compiled from the payload %.3f s'
          % (sdk, ours))
    print('API calls per ecs_image_info task           %.2f' % calls_per_task['ecs_image_info'])
    print('API calls per ecs_image rerun task          %.2f (given instance_id; 3 before issue 11)'
          % calls_per_task['ecs_image rerun'])
    return 0 if max(calls_per_task.values()) <= 1 else 1


def payload_zip(root: Path, path: str) -> str:
    """A zip of this collection's plugins at ``path``, laid out as in the payload Ansible sends with a module
    (sources only: every file a module imports from it is compiled again on each run)."""
    base = 'ansible_collections/alicloud/ecs_images/'
    with zipfile.ZipFile(path, 'w') as payload:
        for package in ('ansible_collections/', 'ansible_collections/alicloud/', base):
            payload.writestr(package + '__init__.py', '')
        for source in sorted((root / 'plugins').rglob('*.py')):
            payload.write(str(source), base + source.relative_to(root).as_posix())
        for package in ('plugins', 'plugins/modules', 'plugins/module_utils'):
            if not (root / package / '__init__.py').is_file():
                payload.writestr(base + package + '/__init__.py', '')
    return path


def import_costs(env: dict, repeat: int = 7) -> tuple:
    """Median seconds a fresh Python process spends importing aliyunsdkcore.client (the SDK's client and its
    vendored HTTP stack), and this collection's ecs_image_info with the module_utils it imports on top of
    ansible.module_utils.basic, compiled from a zip as in a module run."""
    def timed(code):
        values = []
        for dummy in range(repeat):
            start = time.monotonic()
            subprocess.run([sys.executable, '-c', code], env=env, check=True)
            values.append(time.monotonic() - start)
        return statistics.median(values)
    env = dict((k, v) for k, v in env.items() if k != 'PYTHONPATH')
    with tempfile.TemporaryDirectory() as tmp:
        payload = payload_zip(ROOT, os.path.join(tmp, 'payload.zip'))
        first = 'import sys; sys.path.insert(0, %r); import ansible.module_utils.basic' % payload
        empty = timed('pass')
        basic = timed(first)
        ours = timed(first + '; import ansible_collections.alicloud.ecs_images.plugins.modules.ecs_image_info')
        sdk = timed('import aliyunsdkcore.client')
    return sdk - empty, ours - basic


if __name__ == '__main__':
    sys.exit(main())
