"""Run playbooks against the emulator, kill them at a chosen step, rerun them, compare the outcome.

Used by the tests in this directory (issue: interrupted, concurrent and mistaken runs converge).
A run is `ansible-playbook` in its own process group; `kill_when` watches the emulator's request log
and sends SIGKILL to the whole group (ansible-playbook, its workers and the module processes) the
moment the predicate holds - what Ctrl-C twice, a lost SSH session or a cancelled AWX job do.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(ROOT / 'tests' / 'integration'))

from emulator_helper import Emulator, collections_path, playbook_env  # noqa: E402  pylint: disable=wrong-import-position
from run import GROUP, MODULE_DEFAULTS_ENV  # noqa: E402  pylint: disable=wrong-import-position

READ_PREFIXES = ('Describe', 'List', 'Get', 'oss:Get', 'oss:Head', 'oss:List')


def is_write(entry: dict) -> bool:
    """A request-log entry that asked for a change (whatever its answer)."""
    action = entry.get('action') or ''
    if action.startswith('oss:'):
        return not action.startswith(READ_PREFIXES)
    return not action.startswith(READ_PREFIXES) and action not in ('AssumeRole', 'GetCallerIdentity')


def succeeded(entry: dict) -> bool:
    return 200 <= int(entry.get('status') or 0) < 300 and not entry.get('fault')


class Run:
    """Outcome of one ansible-playbook run."""

    def __init__(self, rc, output, killed):
        self.rc = rc
        self.output = output
        self.killed = killed

    def __repr__(self):
        failures = [line for line in self.output.splitlines() if line.startswith(('fatal:', 'failed:', 'ERROR!'))]
        return 'Run(rc=%r, killed=%r)\n%s' % (self.rc, self.killed, '\n'.join(failures) or self.output[-3000:])


class Lab:
    """One emulator and a scratch directory; plays are lists of tasks run on localhost."""

    def __init__(self, time_scale=0.05, faults=None, tmp=None):
        self.time_scale = time_scale
        self.tmp = Path(tmp or tempfile.mkdtemp(prefix='ecs-resilience-'))
        self.emu = Emulator(time_scale=time_scale, faults=faults, log_path=str(self.tmp / 'emulator.log'))
        self.vars = {}
        self.counter = 0

    def __enter__(self):
        self.emu.start()
        self.vars = self.emu.test_vars()
        self.vars['emulator'] = True
        return self

    def __exit__(self, *exc):
        self.emu.stop()

    # -- emulator views
    def requests(self):
        return self.emu.requests()

    def writes(self, action=None, ok_only=True):
        return [e for e in self.requests() if is_write(e) and (action is None or e.get('action') == action)
                and (succeeded(e) or not ok_only)]

    def resources(self):
        return self.emu.admin('GET', 'resources')

    def images(self, region=None, account='1234567890123456', name=None):
        regions = self.resources()['accounts'][account]['regions']
        found = []
        for reg, data in regions.items():
            if region and reg != region:
                continue
            for image in data.get('images', []):
                if name is None or image.get('ImageName') == name:
                    found.append(dict(image, RegionId=reg))
        return found

    def instance(self, instance_id, account='1234567890123456'):
        for data in self.resources()['accounts'][account]['regions'].values():
            for inst in data.get('instances', []):
                if inst.get('InstanceId') == instance_id:
                    return inst
        raise KeyError(instance_id)

    # -- playbooks
    def write_play(self, tasks, extra_vars=None, roles_path=None):
        self.counter += 1
        env = dict(self.emu.env)
        defaults = ''.join('      %s: "{{ lookup(\'ansible.builtin.env\', \'%s\') }}"\n' % (opt, var)
                           for opt, var in MODULE_DEFAULTS_ENV if env.get(var))
        play = ('- name: resilience play\n  hosts: localhost\n  gather_facts: false\n'
                '  module_defaults:\n    %s:\n%s  tasks:\n' % (GROUP, defaults))
        body = json.dumps(tasks, indent=2)  # JSON is YAML
        play += ''.join('    ' + line + '\n' for line in body.splitlines())
        path = self.tmp / ('play-%d.yml' % self.counter)
        path.write_text(play, encoding='utf-8')
        variables = dict(self.vars)
        variables.update(extra_vars or {})
        vars_path = self.tmp / ('vars-%d.json' % self.counter)
        vars_path.write_text(json.dumps(variables), encoding='utf-8')
        return path, vars_path

    def env(self, extra=None):
        return playbook_env(collections_path(ROOT), self.emu.env, ANSIBLE_ROLES_PATH=str(ROOT / 'roles'),
                            PYTHONUNBUFFERED='1', **(extra or {}))

    def start(self, play, vars_path, extra_args=(), env=None):
        inventory = self.tmp / 'inventory'
        inventory.write_text('localhost ansible_connection=local ansible_python_interpreter=%s\n' % sys.executable,
                             encoding='utf-8')
        cmd = [os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'), '-i', str(inventory), str(play),
               '-e', '@%s' % vars_path] + list(extra_args)
        out = tempfile.TemporaryFile(mode='w+', encoding='utf-8')  # pylint: disable=consider-using-with
        proc = subprocess.Popen(cmd, cwd=str(self.tmp), env=self.env(env), stdin=subprocess.DEVNULL,  # pylint: disable=consider-using-with
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        proc.out = out
        return proc

    @staticmethod
    def finish(proc, timeout=600, killed=False):
        try:
            rc = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            rc = proc.wait()
        proc.out.seek(0)
        output = proc.out.read()
        proc.out.close()
        return Run(rc, output, killed)

    def run(self, tasks, extra_vars=None, kill_when=None, timeout=600, extra_args=(), env=None):
        """Run tasks; with kill_when(new_log_entries) -> bool, SIGKILL the run's process group when it holds."""
        play, vars_path = self.write_play(tasks, extra_vars)
        since = max([e.get('seq', 0) for e in self.requests()] or [0])
        proc = self.start(play, vars_path, extra_args, env)
        if kill_when is None:
            return self.finish(proc, timeout)
        deadline = time.monotonic() + timeout
        while proc.poll() is None and time.monotonic() < deadline:
            entries = [e for e in self.emu.requests(since) if e.get('seq', 0) > since]
            if kill_when(entries):
                os.killpg(proc.pid, signal.SIGKILL)
                return self.finish(proc, timeout, killed=True)
            time.sleep(0.05)
        return self.finish(proc, max(1, deadline - time.monotonic()))

    def kill_and_rerun(self, tasks, kill_when, extra_vars=None):
        """Run ``tasks``, kill the run when ``kill_when`` holds, rerun them to the end; returns the rerun, which
        must have succeeded (the first run must really have been killed)."""
        first = self.run(tasks, extra_vars, kill_when=kill_when)
        assert first.killed, 'the run ended before %s: %r' % (getattr(kill_when, '__name__', kill_when), first)
        second = self.run(tasks, extra_vars)
        assert second.rc == 0, second
        return second


def after(action, count=1):
    """kill_when predicate: the run has had `count` successful answers to `action`."""
    def predicate(entries):
        return sum(1 for e in entries if e.get('action') == action and succeeded(e)) >= count
    predicate.__name__ = 'after_%s_x%d' % (action, count)
    return predicate


def after_then(action, then_action):
    """kill_when predicate: `then_action` was called (any answer) after a successful `action`."""
    def predicate(entries):
        seen = False
        for entry in entries:
            if entry.get('action') == action and succeeded(entry):
                seen = True
            elif seen and entry.get('action') == then_action:
                return True
        return False
    predicate.__name__ = 'after_%s_then_%s' % (action, then_action)
    return predicate
