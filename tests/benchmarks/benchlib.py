"""What the benchmark scripts share: no proxies, this collection tree on the module path, a module run as Ansible
runs it, the emulator's request log, threads.

Importing it removes the proxy variables from os.environ (both SDKs send 127.0.0.1 traffic through them) and puts
tests/integration (emulator_helper) and tests/emulator (ecs_emulator) on sys.path.
"""
from __future__ import annotations

import collections
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
for _path in (ROOT / 'tests' / 'integration', ROOT / 'tests' / 'emulator'):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from emulator_helper import PROXY_VARS, collections_path  # noqa: E402  pylint: disable=wrong-import-position
from ecs_emulator.testing import admin  # noqa: E402  pylint: disable=wrong-import-position

for _var in PROXY_VARS:
    os.environ.pop(_var, None)

ModuleRun = collections.namedtuple('ModuleRun', 'result started printed ended')


def collection_root() -> str:
    """A directory holding ansible_collections/alicloud/ecs_images -> this tree (emulator_helper.collections_path;
    ECS_IMAGES_COLLECTIONS_PATH when set)."""
    return collections_path(ROOT, os.environ.get('ECS_IMAGES_COLLECTIONS_PATH'))


def module_env(emu) -> dict:
    """Environment of a module process against ``emu`` (an ecs_emulator.server emulator): os.environ (without
    proxies), the emulator's export lines, this collection on PYTHONPATH."""
    return dict(os.environ, **emu.env(), PYTHONPATH=collection_root())


def run_module(name: str, args: dict, env: dict, check: bool = True) -> ModuleRun:
    """Run plugins/modules/<name>.py like Ansible does (a Python process given the module arguments in a file).

    Returns ModuleRun(result, started, printed, ended): the JSON result, when the process was started, when the
    result line was printed (the module returned) and when the process ended (interpreter shut down). With
    ``check`` (default) a run without a JSON result or with ``failed`` ends the benchmark (SystemExit)."""
    with tempfile.NamedTemporaryFile('w', suffix='.json', delete=False) as handle:
        json.dump({'ANSIBLE_MODULE_ARGS': args}, handle)
        path = handle.name
    started = time.time()
    try:
        proc = subprocess.Popen([sys.executable, str(ROOT / 'plugins' / 'modules' / (name + '.py')), path],
                                env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
        lines, printed = [], None
        for line in proc.stdout:          # the result is one JSON line: note when it arrives
            if printed is None and line.strip().startswith('{'):
                printed = time.time()
            lines.append(line)
        stderr = proc.stderr.read()
        proc.wait()
        ended = time.time()
    finally:
        os.unlink(path)
    try:
        result = json.loads(''.join(lines).strip().splitlines()[-1])
    except (ValueError, IndexError):
        raise SystemExit('%s produced no JSON: %s %s' % (name, ''.join(lines), stderr))
    if check and result.get('failed'):
        raise SystemExit('%s failed: %s' % (name, result.get('msg')))
    return ModuleRun(result, started, printed or ended, ended)


def parallel(jobs):
    """Run [(label, func)] in threads; returns {label: result}."""
    out, errors = {}, []

    def runner(label, func):
        try:
            out[label] = func()
        except BaseException as exc:  # pylint: disable=broad-except
            # reported below
            errors.append('%s: %s' % (label, exc))

    threads = [threading.Thread(target=runner, args=job) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise SystemExit('; '.join(errors))
    return out


def last_seq(emu) -> int:
    """The sequence number of the emulator's last logged request (0 when none)."""
    return max((r['seq'] for r in admin(emu, 'GET', 'requests')['requests']), default=0)


def requests_since(emu, seq: int) -> list:
    """The emulator's logged requests after ``seq`` (see last_seq)."""
    return admin(emu, 'GET', 'requests?since=%d' % seq)['requests']
