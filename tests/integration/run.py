#!/usr/bin/env python
"""Run the integration targets of alicloud.ecs_images with ansible-playbook.

Each target is tests/integration/targets/<name>/ (a role: tasks/main.yml with asserts).
For every target the runner writes a playbook

    - hosts: localhost
      gather_facts: false
      module_defaults: {group/alicloud.ecs_images.ecs: <credentials/endpoints from the environment>}
      roles: [<name>]

and runs it with ansible-playbook -e @vars.json, where vars.json holds the variables
described in docs/dev/ARCHITECTURE.md ("Integration targets").

Emulator mode (default): an ECS emulator (`python -m ecs_emulator`) is started per worker,
reset (POST /_emulator/reset) before each target, its `export` lines are put in the
environment, the variables come from `python -m ecs_emulator.testvars`, and the proxy
variables are removed.

Real-cloud mode: ECS_IMAGES_TEST_REAL=1 with credentials in the environment
(ALIBABA_CLOUD_ACCESS_KEY_ID/..._SECRET, ALICLOUD_ACCESS_KEY/ALICLOUD_SECRET_KEY or a
profile) and ECS_IMAGES_TEST_VARS naming a YAML/JSON vars file (template:
tests/integration/cloud_vars.yml.example). No emulator is started; `emulator` is false so
fault-injection tasks are skipped. Targets with the alias `emulator_only` are skipped.

Targets whose `aliases` file lists `disabled` are skipped unless named explicitly;
`setup_*`/`prepare_*` directories are helper roles, not targets.

Logs: tests/output/integration/run-<time>-<pid>/<target>/ (playbook.yml, vars.json,
ansible.log) and .../emulator-N.log; tests/output/integration/latest points at the last run.
The last line printed is `N passed, N failed`; the exit status is 1 when a target failed
(2 on usage errors).
"""
from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import queue
import random
import string
import subprocess
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from emulator_helper import Emulator, EmulatorError, collections_path, playbook_env  # noqa: E402  pylint: disable=wrong-import-position

ROOT = HERE.parent.parent
TARGETS_DIR = HERE / 'targets'
OUTPUT_BASE = ROOT / 'tests' / 'output' / 'integration'
# one directory per run (several people may run targets in the same tree at once); `latest` points at it
OUTPUT_DIR = OUTPUT_BASE / ('run-%s-%d' % (time.strftime('%Y%m%d-%H%M%S'), os.getpid()))
GROUP = 'group/alicloud.ecs_images.ecs'

# module option <- environment variable, for module_defaults (only variables that are set are used;
# values are read with lookup('env') at run time so no secret is written to disk).
MODULE_DEFAULTS_ENV = (
    ('access_key', 'ALIBABA_CLOUD_ACCESS_KEY_ID'),
    ('secret_key', 'ALIBABA_CLOUD_ACCESS_KEY_SECRET'),
    ('security_token', 'ALIBABA_CLOUD_SECURITY_TOKEN'),
    ('region', 'ALIBABA_CLOUD_REGION_ID'),
    ('endpoint', 'ALIBABA_CLOUD_ECS_ENDPOINT'),
    ('sts_endpoint', 'ALIBABA_CLOUD_STS_ENDPOINT'),
)
REQUIRED_VARS = ('test_region', 'test_region_2', 'test_instance_running', 'test_instance_stopped',
                 'test_account_id', 'test_oss_bucket', 'test_public_image_id')
CREDENTIAL_ENV = (('ALIBABA_CLOUD_ACCESS_KEY_ID', 'ALIBABA_CLOUD_ACCESS_KEY_SECRET'),
                  ('ALICLOUD_ACCESS_KEY', 'ALICLOUD_SECRET_KEY'),
                  ('ALIBABA_CLOUD_PROFILE',), ('ALICLOUD_PROFILE',))


class UsageError(Exception):
    """Bad command line or environment: nothing was run."""


class Result:
    """Outcome of one target."""

    def __init__(self, target: str, status: str, seconds: float = 0.0, detail: str = '', log: str = ''):
        self.target = target
        self.status = status  # passed | failed | skipped
        self.seconds = seconds
        self.detail = detail
        self.log = log


def read_aliases(target: str) -> set:
    path = TARGETS_DIR / target / 'aliases'
    if not path.is_file():
        return set()
    words = set()
    for line in path.read_text(encoding='utf-8').splitlines():
        line = line.split('#', 1)[0].strip()
        if line:
            words.add(line)
    return words


def discover(names: list, real: bool) -> tuple:
    """(targets to run, [Result] skipped)."""
    available = sorted(p.name for p in TARGETS_DIR.iterdir()
                       if p.is_dir() and (p / 'tasks' / 'main.yml').is_file()) if TARGETS_DIR.is_dir() else []
    runnable = [t for t in available if not t.startswith(('setup_', 'prepare_'))]
    skipped = []

    def without(targets, alias, why=''):
        """targets minus those whose aliases list ``alias`` (recorded as skipped)."""
        kept = []
        for target in targets:
            if alias in read_aliases(target):
                skipped.append(Result(target, 'skipped', detail='aliases: %s%s' % (alias, why)))
            else:
                kept.append(target)
        return kept

    if names:
        unknown = [n for n in names if n not in available]
        if unknown:
            raise UsageError('unknown target(s): %s (available: %s)' % (', '.join(unknown), ', '.join(runnable) or 'none'))
        chosen = list(dict.fromkeys(names))
    else:
        chosen = without(runnable, 'disabled')
    if real:
        chosen = without(chosen, 'emulator_only', ' (real-cloud mode)')
    return chosen, skipped


def yaml_quote(value: str) -> str:
    return json.dumps(value)  # JSON strings are valid YAML double-quoted scalars


def write_playbook(path: Path, target: str, env: dict) -> None:
    lines = ['# generated by tests/integration/run.py', '- name: Integration target %s' % target,
             '  hosts: localhost', '  gather_facts: false']
    defaults = [(option, var) for option, var in MODULE_DEFAULTS_ENV if env.get(var)]
    if defaults:
        lines += ['  module_defaults:', '    %s:' % GROUP]
        lines += ['      %s: %s' % (option, yaml_quote("{{ lookup('ansible.builtin.env', '%s') }}" % var))
                  for option, var in defaults]
    lines += ['  roles:', '    - role: %s' % yaml_quote(target)]
    path.write_text('\n'.join(lines) + '\n', encoding='utf-8')


def load_vars_file(path: str) -> dict:
    # PyYAML comes with ansible-core
    import yaml  # pylint: disable=import-outside-toplevel
    try:
        with open(path, encoding='utf-8') as handle:
            data = yaml.safe_load(handle)
    except OSError as exc:
        raise UsageError('ECS_IMAGES_TEST_VARS: cannot read %s: %s' % (path, exc)) from exc
    if not isinstance(data, dict):
        raise UsageError('ECS_IMAGES_TEST_VARS: %s must hold a mapping of variables' % path)
    return data


def real_mode_vars() -> dict:
    if not any(all(os.environ.get(v) for v in group) for group in CREDENTIAL_ENV):
        raise UsageError('ECS_IMAGES_TEST_REAL=1 needs credentials in the environment: '
                         'ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET '
                         '(or ALICLOUD_ACCESS_KEY/ALICLOUD_SECRET_KEY, or ALIBABA_CLOUD_PROFILE)')
    path = os.environ.get('ECS_IMAGES_TEST_VARS')
    if not path:
        raise UsageError('ECS_IMAGES_TEST_REAL=1 needs ECS_IMAGES_TEST_VARS=<vars file> '
                         '(copy tests/integration/cloud_vars.yml.example and fill it in)')
    data = load_vars_file(path)
    missing = [k for k in REQUIRED_VARS if not data.get(k)]
    if missing:
        raise UsageError('ECS_IMAGES_TEST_VARS (%s) lacks: %s' % (path, ', '.join(missing)))
    data['emulator'] = False
    data['emulator_admin'] = ''
    return data


def resource_prefix() -> str:
    rnd = ''.join(random.choice(string.ascii_lowercase + string.digits) for dummy in range(6))
    return 'ansible-test-%s-%s' % (time.strftime('%m%d%H%M'), rnd)


class Runner:
    """Runs targets, a few at a time, each worker with its own emulator."""

    def __init__(self, args, real: bool, base_vars: dict | None):
        self.args = args
        self.real = real
        self.base_vars = base_vars or {}
        self.collections = collections_path(ROOT, args.collections_path)
        self.emulators: queue.Queue = queue.Queue()
        self.started: list = []
        self.lock = threading.Lock()
        self.print_lock = threading.Lock()

    def say(self, msg: str) -> None:
        with self.print_lock:
            print(msg, flush=True)

    def get_emulator(self, outdir: Path) -> Emulator:
        try:
            emu = self.emulators.get_nowait()
            emu.reset()
            return emu
        except queue.Empty:
            pass
        emu = Emulator(time_scale=self.args.time_scale, seed=self.args.seed,
                       log_path=str(OUTPUT_DIR / ('emulator-%d.log' % (len(self.started) + 1))))
        with self.lock:
            self.started.append(emu)
        emu.start()
        return emu

    def stop(self) -> None:
        for emu in self.started:
            emu.stop()

    def run_target(self, target: str) -> Result:
        outdir = OUTPUT_DIR / target
        outdir.mkdir(parents=True, exist_ok=True)
        log_path = outdir / 'ansible.log'
        start = time.monotonic()
        emu = None
        try:
            if self.real:
                variables = dict(self.base_vars)
            else:
                emu = self.get_emulator(outdir)
                variables = emu.test_vars()
                variables['emulator'] = True
                variables.setdefault('emulator_admin', emu.admin_url)
            variables.setdefault('test_resource_prefix', resource_prefix())
            vars_path = outdir / 'vars.json'
            vars_path.write_text(json.dumps(variables, indent=2, sort_keys=True) + '\n', encoding='utf-8')
            os.chmod(vars_path, 0o600)  # may hold the second account's keys
            # real cloud: the caller's environment with its proxies; emulator: no proxies + its export lines
            env = playbook_env(self.collections, None if emu is None else emu.env, keep_proxies=self.real,
                               ANSIBLE_ROLES_PATH=str(TARGETS_DIR), ANSIBLE_FORCE_COLOR='0',
                               ANSIBLE_HOST_KEY_CHECKING='false', PYTHONUNBUFFERED='1')
            playbook = outdir / 'playbook.yml'
            write_playbook(playbook, target, env)
            inventory = outdir / 'inventory'
            inventory.write_text('localhost ansible_connection=local ansible_python_interpreter=%s\n'
                                 % sys.executable, encoding='utf-8')
            cmd = [os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'),
                   '-i', str(inventory), str(playbook), '-e', '@%s' % vars_path]
            if self.args.verbose:
                cmd.append('-' + 'v' * self.args.verbose)
            self.say('[%s] start%s' % (target, '' if self.real else ' (emulator %s)' % emu.admin_url))
            with open(log_path, 'w', encoding='utf-8') as log:
                log.write('$ %s\n' % ' '.join(cmd))
                log.flush()
                try:
                    proc = subprocess.run(cmd, cwd=str(outdir), env=env, stdin=subprocess.DEVNULL, stdout=log,
                                          stderr=subprocess.STDOUT, timeout=self.args.timeout, check=False)
                    status = proc.returncode
                except subprocess.TimeoutExpired:
                    status = None
            seconds = time.monotonic() - start
            if status == 0:
                return Result(target, 'passed', seconds, log=str(log_path))
            detail = 'timed out after %ds' % self.args.timeout if status is None else 'ansible-playbook status %d' % status
            return Result(target, 'failed', seconds, detail, str(log_path))
        except (EmulatorError, OSError) as exc:
            return Result(target, 'failed', time.monotonic() - start, 'runner error: %s' % exc, str(log_path))
        finally:
            if emu is not None:
                self.emulators.put(emu)

    def report(self, result: Result) -> None:
        detail = ': ' + result.detail if result.detail else ''
        self.say('[%s] %s in %.1fs%s' % (result.target, result.status.upper(), result.seconds, detail))
        if result.status == 'failed' and result.log and os.path.exists(result.log):
            with open(result.log, encoding='utf-8', errors='replace') as handle:
                tail = handle.readlines()[-self.args.tail:]
            self.say(''.join('    | ' + line for line in tail).rstrip() + '\n    (full log: %s)' % result.log)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description='Run the integration targets (default: all) with ansible-playbook.')
    parser.add_argument('targets', nargs='*', help='target names (directories under tests/integration/targets)')
    parser.add_argument('-j', '--jobs', type=int, default=int(os.environ.get('JOBS', '2') or 2),
                        help='targets run at the same time (default: 2)')
    parser.add_argument('--collections-path', default=os.environ.get('ECS_IMAGES_COLLECTIONS_PATH'),
                        help='directory holding ansible_collections/alicloud/ecs_images (default: this tree)')
    parser.add_argument('--time-scale', type=float, default=float(os.environ.get('ECS_IMAGES_TEST_TIME_SCALE', '0.01')),
                        help='emulator time scale (default 0.01: a simulated minute takes 0.6 s)')
    parser.add_argument('--seed', type=int, default=0, help='emulator seed (fault RNG and generated ids)')
    parser.add_argument('--timeout', type=int, default=int(os.environ.get('ECS_IMAGES_TEST_TIMEOUT', '1800')),
                        help='seconds one target may take (default 1800)')
    parser.add_argument('--tail', type=int, default=40, help='log lines shown for a failed target (default 40)')
    parser.add_argument('-v', '--verbose', action='count', default=0, help='pass -v... to ansible-playbook')
    parser.add_argument('--list', action='store_true', help='list the targets that would run and exit')
    args = parser.parse_args(argv)
    if (os.environ.get('TARGETS') or '').strip() and not args.targets:
        args.targets = os.environ['TARGETS'].split()
    real = os.environ.get('ECS_IMAGES_TEST_REAL', '') in ('1', 'true', 'yes')
    try:
        targets, skipped = discover(args.targets, real)
        base_vars = real_mode_vars() if real and not args.list else None
    except UsageError as exc:
        print('run.py: error: %s' % exc, file=sys.stderr)
        return 2
    if args.list:
        print('\n'.join(targets))
        return 0
    OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
    latest = OUTPUT_BASE / 'latest'
    try:
        if latest.is_symlink() or latest.exists():
            latest.unlink()
        latest.symlink_to(OUTPUT_DIR.name)
    except OSError:
        pass  # another run replaced it at the same moment
    runner = Runner(args, real, base_vars)
    mode = 'real cloud (ECS_IMAGES_TEST_REAL=1)' if real else 'emulator, time scale %g' % args.time_scale
    print('Integration: %d target(s), %d skipped, %s, %d at a time, collections path %s'
          % (len(targets), len(skipped), mode, max(1, args.jobs), runner.collections), flush=True)
    if not targets:
        print('warning: no integration targets to run under %s' % TARGETS_DIR, flush=True)
    results = []
    start = time.monotonic()
    try:
        with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
            futures = [pool.submit(runner.run_target, t) for t in targets]
            for future in concurrent.futures.as_completed(futures):
                result = future.result()
                runner.report(result)
                results.append(result)
    except KeyboardInterrupt:
        print('interrupted', file=sys.stderr)
        return 130
    finally:
        runner.stop()
    results.sort(key=lambda r: r.target)
    print('\nSummary (%.1fs, logs in %s):' % (time.monotonic() - start, OUTPUT_DIR))
    for result in results + skipped:
        print('  %-28s %-7s %7.1fs  %s' % (result.target, result.status, result.seconds, result.detail))
    passed = sum(1 for r in results if r.status == 'passed')
    failed = sum(1 for r in results if r.status == 'failed')
    if skipped:
        print('%d skipped' % len(skipped))
    print('%d passed, %d failed' % (passed, failed), flush=True)
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
