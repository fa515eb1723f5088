#!/usr/bin/env python
"""Benchmark: API calls and wall time of an idempotent rerun of playbooks/demo.yml.

Starts an ECS emulator, runs playbooks/demo.yml once (creates everything), clears the
emulator's request log, runs it again with the same variables and prints, for the second
run: the API calls per task (from GET /_emulator/requests, attributed to tasks by time with
the task_timeline callback), the total, the write calls (should be 0), the tasks reporting
changed, and the wall time of both runs. Target (issue 3): one read call per task.

Exit status 1 when the rerun made a write call or reported a change, or a run failed.
Usage: .venv/bin/python tests/benchmarks/demo_rerun.py [--time-scale 0.01] [--keep]
"""
from __future__ import annotations

import argparse
import collections
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(ROOT / 'tests' / 'integration'))

from emulator_helper import Emulator, collections_path, playbook_env  # noqa: E402  pylint: disable=wrong-import-position

READ_PREFIXES = ('Describe', 'List', 'Get', 'Query', 'Check', 'Head')  # ECS and OSS (oss:ListObjects ...)
NOT_ECS_WRITES = ('AssumeRole',)  # STS: obtaining credentials changes nothing
OUT = ROOT / 'tests' / 'output' / 'benchmarks' / 'demo_rerun'


def is_write(action: str) -> bool:
    action = action.split(':', 1)[-1]
    return bool(action) and not action.startswith(READ_PREFIXES) and action not in NOT_ECS_WRITES


def run_playbook(env: dict, vars_file: Path, log: Path, timeline: Path) -> tuple:
    cmd = [os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'), '-i', 'localhost,', '-c', 'local',
           '-e', 'ansible_python_interpreter=%s' % sys.executable, '-e', '@%s' % vars_file,
           str(ROOT / 'playbooks' / 'demo.yml')]
    env = dict(env, TASK_TIMELINE_FILE=str(timeline))
    start = time.monotonic()
    with open(log, 'w', encoding='utf-8') as handle:
        status = subprocess.run(cmd, env=env, stdin=subprocess.DEVNULL, stdout=handle, stderr=subprocess.STDOUT,
                                cwd=str(ROOT), check=False).returncode
    return status, time.monotonic() - start


def recap(log: Path) -> dict:
    text = log.read_text(encoding='utf-8', errors='replace')
    match = re.search(r'ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)\s+skipped=(\d+)', text)
    keys = ('ok', 'changed', 'unreachable', 'failed', 'skipped')
    return dict(zip(keys, map(int, match.groups()))) if match else {}


def changed_tasks(log: Path) -> list:
    names, current = [], None
    for line in log.read_text(encoding='utf-8', errors='replace').splitlines():
        if line.startswith('TASK ['):
            current = line[len('TASK ['):].split(']')[0]
        elif line.startswith('changed:') and current and current not in names:
            names.append(current)
    return names


def attribute(requests: list, tasks: list) -> list:
    """[(task, [actions])] in task order; requests outside every task go to '(between tasks)'."""
    rows = [(t, []) for t in tasks]
    orphans = []
    for req in requests:
        when = req.get('time') or 0
        for task, actions in rows:
            if task['start'] <= when <= (task['end'] or float('inf')):
                actions.append(req.get('action') or '?')
                break
        else:
            orphans.append(req.get('action') or '?')
    if orphans:
        rows.append(({'name': '(between tasks)', 'role': ''}, orphans))
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--time-scale', type=float, default=0.01)
    parser.add_argument('--all-tasks', action='store_true', help='also list tasks that made no API call')
    args = parser.parse_args()
    if not (ROOT / 'playbooks' / 'demo.yml').is_file():
        print('demo_rerun: playbooks/demo.yml not found', file=sys.stderr)
        return 2
    OUT.mkdir(parents=True, exist_ok=True)
    env = playbook_env(collections_path(ROOT, os.environ.get('ECS_IMAGES_COLLECTIONS_PATH')),
                       ANSIBLE_CALLBACK_PLUGINS=str(HERE / 'callback_plugins'),
                       ANSIBLE_CALLBACKS_ENABLED='task_timeline')
    with Emulator(time_scale=args.time_scale, log_path=str(OUT / 'emulator.log')) as emu:
        env.update(emu.env)
        variables = emu.test_vars()
        vars_file = OUT / 'vars.json'
        vars_file.write_text(json.dumps(variables, indent=2), encoding='utf-8')
        os.chmod(vars_file, 0o600)

        status1, wall1 = run_playbook(env, vars_file, OUT / 'run1.log', OUT / 'timeline1.json')
        calls1 = len(emu.requests())
        print('run 1 (creates everything): status %d, %.1fs wall, %d API calls, recap %s'
              % (status1, wall1, calls1, recap(OUT / 'run1.log')))
        if status1 != 0:
            print('demo_rerun: first run failed, see %s' % (OUT / 'run1.log'), file=sys.stderr)
            return 1
        emu.clear_requests()
        status2, wall2 = run_playbook(env, vars_file, OUT / 'run2.log', OUT / 'timeline2.json')
        requests = emu.requests()
    tasks = json.loads((OUT / 'timeline2.json').read_text(encoding='utf-8'))
    rows = attribute(requests, tasks)
    api_tasks = [(t, a) for t, a in rows if a]
    print('\nrun 2 (rerun, same variables): API calls per task')
    print('  %5s  %-64s %s' % ('calls', 'task', 'actions'))
    for task, actions in rows:
        if not actions and not args.all_tasks:
            continue
        name = ('%s : %s' % (task['role'], task['name'])) if task.get('role') else task['name']
        counts = collections.Counter(actions)
        print('  %5d  %-64s %s' % (len(actions), name[:64], ', '.join('%s x%d' % kv for kv in sorted(counts.items()))))
    writes = [r.get('action') for r in requests if is_write(r.get('action') or '')]
    rec = recap(OUT / 'run2.log')
    changed = changed_tasks(OUT / 'run2.log')
    module_tasks = [t for t in tasks if t.get('action', '').startswith('alicloud.ecs_images.')]
    print('\nrun 2 summary:')
    print('  status                 %d (recap %s)' % (status2, rec))
    print('  wall time              %.1fs (run 1: %.1fs)' % (wall2, wall1))
    print('  API calls total        %d (run 1: %d)' % (len(requests), calls1))
    print('  write calls            %d%s' % (len(writes), (' ' + ', '.join(sorted(set(writes)))) if writes else ''))
    print('  tasks run              %d, of which collection module tasks %d, tasks calling the API %d'
          % (len(tasks), len(module_tasks), len(api_tasks)))
    if module_tasks:
        print('  API calls per module task  %.2f (target: 1 read call per task)' % (len(requests) / len(module_tasks)))
    if api_tasks:
        print('  API calls per task that called the API  %.2f (max %d)'
              % (len(requests) / len(api_tasks), max(len(a) for t, a in api_tasks)))
    print('  tasks reporting changed %d%s' % (len(changed), (': ' + '; '.join(changed)) if changed else ''))
    print('  logs                   %s' % OUT)
    ok = status2 == 0 and not writes and not changed
    print('\nresult: %s' % ('idempotent rerun, no write call' if ok else 'NOT idempotent'))
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
