#!/usr/bin/env python
"""`make check-build`: the collection as a user gets it.

1. `ansible-galaxy collection build` in the working tree (with its .venv, build/, caches and egg-info, as CI
   has them after `make venv`); every file of the tarball must be a git-tracked or untracked-not-ignored file
   of the tree (no cache, no local file), LICENSE, meta/runtime.yml and the docs must be there.
2. A new venv holding only ansible-core (--core) and requirements.txt; the tarball installed into a private
   collections path with `ansible-galaxy collection install`.
3. Against the emulator: `ansible-doc`, an ad-hoc `ansible localhost -m alicloud.ecs_images.ecs_image_info`
   and `ansible-playbook alicloud.ecs_images.demo` (the playbook by its FQCN) - run from an empty directory,
   so nothing of the source tree is used.

    python tests/packaging/check_build.py [--core 'ansible-core>=2.19,<2.20'] [--keep]
"""
from __future__ import annotations

import argparse
import fnmatch
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / 'tests' / 'integration'))
from emulator_helper import Emulator, without_proxies  # noqa: E402  pylint: disable=wrong-import-position


def emulator(**kwargs) -> Emulator:
    """An Emulator with the realism behaviours of tests/integration/realism_off.txt switched off (as `make demo`)."""
    listed = ROOT / 'tests' / 'integration' / 'realism_off.txt'
    names = []
    if listed.exists():
        names = [line.split('#', 1)[0].strip() for line in listed.read_text().splitlines()]
        names = [name for name in names if name]
    if names:
        kwargs['realism_off'] = names
    return Emulator(**kwargs)


MUST_HAVE = ['LICENSE', 'README.md', 'meta/runtime.yml', 'meta/execution-environment.yml', 'requirements.txt',
             'bindep.txt', 'playbooks/demo.yml', 'plugins/modules/ecs_image.py', 'plugins/action/ecs_image_copy.py',
             'docs/awx.md', 'docs/awx/credential_type_injectors.yml', 'docs/docsite/extra-docs.yml',
             'docs/docsite/rst/awx.rst', 'CHANGELOG.rst', 'changelogs/changelog.yaml']
NEVER = ['*.pyc', '*/__pycache__/*', '*.egg-info/*', '*/.pytest_cache/*', '.pytest_cache/*', '.cache/*',
         '.venv*', 'build/*', 'tests/output/*', 'changelogs/.plugin-cache.yaml', '.git/*']


def log(msg):
    print('[check-build] %s' % msg, file=sys.stderr, flush=True)


def run(cmd, check=True, **kwargs):
    kwargs.setdefault('stdin', subprocess.DEVNULL)
    log('$ %s' % ' '.join(str(c) for c in cmd))
    return subprocess.run([str(c) for c in cmd], check=check, **kwargs)


def tree_files() -> set[str]:
    out = subprocess.run(['git', '-C', str(ROOT), 'ls-files', '-co', '--exclude-standard', '-z'],
                         check=True, capture_output=True).stdout.decode()
    return {name for name in out.split('\0') if name}


def build(work: Path) -> Path:
    dist = work / 'dist'
    dist.mkdir(parents=True)
    run([Path(sys.executable).parent / 'ansible-galaxy', 'collection', 'build', '--output-path', dist, ROOT],
        env=without_proxies())
    tarballs = sorted(dist.glob('alicloud-ecs_images-*.tar.gz'))
    if len(tarballs) != 1:
        raise SystemExit('expected one tarball in %s, got %s' % (dist, tarballs))
    return tarballs[0]


def check_tarball(tarball: Path) -> None:
    with tarfile.open(tarball) as tar:
        names = [m.name for m in tar.getmembers() if m.isfile()]
        manifest = json.load(tar.extractfile('MANIFEST.json'))
    files = set(names) - {'MANIFEST.json', 'FILES.json'}
    problems = []
    for pattern in NEVER:
        bad = sorted(n for n in files if fnmatch.fnmatch(n, pattern))
        if bad:
            problems.append('%s: %s' % (pattern, ', '.join(bad[:5])))
    outside = sorted(files - tree_files())
    if outside:
        problems.append('not files of the source tree (ignored or local): %s' % ', '.join(outside[:10]))
    missing = [n for n in MUST_HAVE if n not in files]
    if missing:
        problems.append('missing: %s' % ', '.join(missing))
    if manifest['collection_info'].get('license') != ['GPL-3.0-or-later']:
        problems.append('license in MANIFEST.json: %r' % manifest['collection_info'].get('license'))
    if problems:
        raise SystemExit('tarball %s:\n  %s' % (tarball.name, '\n  '.join(problems)))
    log('%s: %d files, %d KiB, no cache or local file' % (tarball.name, len(files), tarball.stat().st_size // 1024))


def dev_core() -> str:
    for line in (ROOT / 'requirements-dev.txt').read_text().splitlines():
        if line.strip().startswith('ansible-core'):
            return line.split('#')[0].strip()
    return 'ansible-core'


def user_venv(work: Path, core: str) -> Path:
    """A venv of ``core`` + requirements.txt only; kept in build/user-venvs and reused while those are unchanged."""
    venv = ROOT / 'build' / 'user-venvs' / ''.join(c if c.isalnum() or c in '.-' else '_' for c in core)
    key = hashlib.sha256(('%s\n%s\n%s' % (core, sys.version, (ROOT / 'requirements.txt').read_text())).encode()).hexdigest()
    stamp = venv / '.check-build-stamp'
    if not stamp.exists() or stamp.read_text() != key:
        shutil.rmtree(venv, ignore_errors=True)
        run([sys.executable, '-m', 'venv', venv])
        env = dict(os.environ, PIP_DISABLE_PIP_VERSION_CHECK='1')
        run([venv / 'bin' / 'pip', 'install', '-q', core, '-r', ROOT / 'requirements.txt'], env=env)
        stamp.write_text(key)
    extra = subprocess.run([venv / 'bin' / 'pip', 'list', '--format', 'freeze'], check=True, capture_output=True,
                           text=True).stdout
    log('user venv: %s' % ' '.join(line for line in extra.split() if line.lower().startswith(('ansible', 'aliyun', 'oss2'))))
    return venv


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--core', action='append', help='ansible-core requirement of the user venv (repeat for '
                        'several; default: the one of requirements-dev.txt)')
    parser.add_argument('--work', type=Path, default=ROOT / 'tests' / 'output' / 'check-build')
    parser.add_argument('--time-scale', type=float, default=0.02)
    args = parser.parse_args()
    start = time.monotonic()
    work = args.work.resolve()
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)

    tarball = build(work)
    check_tarball(tarball)
    for core in args.core or [dev_core()]:
        demo_in_user_venv(work, tarball, core, args.time_scale)
    log('passed in %ds (%s)' % (time.monotonic() - start, ', '.join(args.core or [dev_core()])))
    return 0


def demo_in_user_venv(work: Path, tarball: Path, core: str, time_scale: float) -> None:
    """A venv of ``core`` + requirements.txt, the tarball installed, ansible-doc, ad-hoc and the demo by FQCN."""
    venv = user_venv(work, core)
    bin_dir = venv / 'bin'
    run_dir = work / venv.name          # collections, home, vars, logs of this run
    collections = run_dir / 'collections'
    run([bin_dir / 'ansible-galaxy', 'collection', 'install', '--force', '-p', collections, tarball],
        env=without_proxies(dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(collections))))

    home = run_dir / 'home'      # an empty working directory: nothing of the source tree
    home.mkdir(parents=True)
    with emulator(time_scale=time_scale, log_path=str(run_dir / 'emulator.log')) as emu:
        vars_file = run_dir / 'vars.json'
        vars_file.write_text(json.dumps(emu.test_vars()))
        vars_file.chmod(0o600)
        env = without_proxies(dict(os.environ, **emu.env))
        for name in [k for k in env if k.startswith('ANSIBLE_')]:
            del env[name]
        env.update(PATH='%s:%s' % (bin_dir, env.get('PATH', '')), ANSIBLE_COLLECTIONS_PATH=str(collections),
                   ANSIBLE_COLLECTIONS_SCAN_SYS_PATH='false', ANSIBLE_LOCALHOST_WARNING='false',
                   ANSIBLE_INVENTORY_UNPARSED_WARNING='false', ANSIBLE_NOCOLOR='1',
                   # no ansible.cfg of the tree or the user (HOME stays: async jobs live in ~/.ansible_async)
                   ANSIBLE_CONFIG=str(home / 'ansible.cfg'))
        (home / 'ansible.cfg').write_text('[defaults]\n')
        python = bin_dir / 'python'
        common = ['-i', 'localhost,', '-c', 'local', '-e', 'ansible_python_interpreter=%s' % python]
        doc = run([bin_dir / 'ansible-doc', 'alicloud.ecs_images.ecs_image_copy'], cwd=home, env=env,
                  capture_output=True, text=True)
        assert 'alicloud.ecs_images.ecs_image_copy' in doc.stdout, doc.stdout[:500]
        adhoc = run([bin_dir / 'ansible', 'localhost'] + common + [
            '-m', 'alicloud.ecs_images.ecs_image_info', '-a', 'owner=self'], cwd=home, env=env,
            capture_output=True, text=True)
        assert 'SUCCESS' in adhoc.stdout, adhoc.stdout[-2000:]
        demo = run([bin_dir / 'ansible-playbook'] + common + ['-e', '@%s' % vars_file, 'alicloud.ecs_images.demo'],
                   cwd=home, env=env, capture_output=True, text=True, check=False)
        (run_dir / 'demo.out').write_text(demo.stdout + demo.stderr)
        if demo.returncode != 0:
            print(demo.stdout[-6000:], demo.stderr[-3000:])
            raise SystemExit('ansible-playbook alicloud.ecs_images.demo failed (status %d), see %s'
                             % (demo.returncode, run_dir / 'demo.out'))
        recap = demo.stdout[demo.stdout.rfind('PLAY RECAP'):].strip()
        core_version = run([bin_dir / 'ansible', '--version'], capture_output=True, text=True).stdout.splitlines()[0]
        log('%s: demo by FQCN from the installed tarball: %s' % (core_version, ' '.join(recap.split()[3:])))


if __name__ == '__main__':
    sys.exit(main())
