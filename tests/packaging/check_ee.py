#!/usr/bin/env python
"""`make ee-check`: the sample execution environment definition builds a context that installs this collection
with its Python and system requirements - checked without a container engine.

1. `ansible-builder create -f docs/awx/execution-environment.yml`: the context's requirements.yml asks for
   alicloud.ecs_images and its Containerfile installs it (galaxy stage), runs introspect and assemble (builder
   stage) and installs the bindep packages (final stage).
2. The galaxy stage without a container: the collection tarball (`ansible-galaxy collection build`) installed
   into a scratch /usr/share/ansible/collections.
3. The builder stage's own script, `introspect.py introspect` from the context, on that directory: it must
   find requirements.txt (through meta/execution-environment.yml) and the bindep.txt lines.
4. bindep, as assemble runs it (default profile): on dpkg and rpm platforms the run-time packages
   (qemu-utils / qemu-img) are in, the [dev]/[test] tools (git, make, python3-venv, shellcheck) are out.
5. The Python requirements resolve to versions installed in this venv (packaging specifiers), so the pip step
   of the build has a solution.
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from pathlib import Path

import yaml
from bindep.depends import Depends
from packaging.requirements import Requirement

try:
    from importlib.metadata import version, PackageNotFoundError
except ImportError:  # pragma: no cover
    raise

ROOT = Path(__file__).resolve().parents[2]
DEFINITION = ROOT / 'docs' / 'awx' / 'execution-environment.yml'
DEV_TOOLS = {'git', 'make', 'python3-venv', 'shellcheck'}


def log(msg):
    print('[ee-check] %s' % msg, file=sys.stderr, flush=True)


def run(cmd, **kwargs):
    log('$ %s' % ' '.join(str(c) for c in cmd))
    return subprocess.run([str(c) for c in cmd], check=True, stdin=subprocess.DEVNULL, **kwargs)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--work', type=Path, default=ROOT / 'tests' / 'output' / 'ee-check')
    args = parser.parse_args()
    start = time.monotonic()
    work = args.work.resolve()
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    bindir = Path(sys.executable).parent
    problems = []

    # 1. the context
    context = work / 'context'
    run([bindir / 'ansible-builder', 'create', '-f', DEFINITION, '-c', context, '--output-filename', 'Containerfile'],
        stdout=subprocess.DEVNULL)
    wanted = yaml.safe_load((context / '_build' / 'requirements.yml').read_text())
    if 'alicloud.ecs_images' not in [c.get('name') for c in wanted.get('collections', [])]:
        problems.append('context requirements.yml does not ask for alicloud.ecs_images: %r' % wanted)
    containerfile = (context / 'Containerfile').read_text()
    for needle in ('ansible-galaxy collection install $ANSIBLE_GALAXY_CLI_COLLECTION_OPTS -r requirements.yml',
                   'introspect.py introspect', '/output/scripts/assemble', '/output/scripts/install-from-bindep'):
        if needle not in containerfile:
            problems.append('Containerfile lacks %r' % needle)

    # 2. the galaxy stage, without a container
    dist = work / 'dist'
    run([bindir / 'ansible-galaxy', 'collection', 'build', '--output-path', dist, ROOT], stdout=subprocess.DEVNULL)
    tarball = next(dist.glob('alicloud-ecs_images-*.tar.gz'))
    share = work / 'usr-share-ansible' / 'collections'
    run([bindir / 'ansible-galaxy', 'collection', 'install', '--force', '-p', share, tarball], stdout=subprocess.DEVNULL)

    # 3. the builder stage's introspection, with the context's own script
    pip_out, bindep_out = work / 'requirements.txt', work / 'bindep.txt'
    run([sys.executable, context / '_build' / 'scripts' / 'introspect.py', 'introspect', share,
         '--write-pip', pip_out, '--write-bindep', bindep_out], stdout=subprocess.DEVNULL)
    pip_lines = [line.split('#')[0].strip() for line in pip_out.read_text().splitlines()]
    requirements = [Requirement(line) for line in pip_lines if line]
    expected = [Requirement(line.split('#')[0].strip()) for line in (ROOT / 'requirements.txt').read_text().splitlines()
                if line.split('#')[0].strip()]
    for req in expected:
        if req.name not in [r.name for r in requirements]:
            problems.append('introspected Python requirements lack %s (got %s)' % (req, pip_lines))

    # 4. bindep, default profile, as assemble runs it
    depends = Depends(bindep_out.read_text())
    for platform, must in (('platform:dpkg', 'qemu-utils'), ('platform:rpm', 'qemu-img')):
        names = {rule[0] for rule in depends.active_rules(['default', platform, platform.split(':')[1]])}
        if must not in names:
            problems.append('%s: bindep default profile lacks %s (has %s)' % (platform, must, sorted(names)))
        if names & DEV_TOOLS:
            problems.append('%s: development tools would go into the EE: %s' % (platform, sorted(names & DEV_TOOLS)))
    dev = {rule[0] for rule in Depends((ROOT / 'bindep.txt').read_text()).active_rules(
        ['test', 'dev', 'platform:dpkg', 'dpkg'])}
    if not DEV_TOOLS <= dev:
        problems.append('bindep.txt [dev]/[test] profiles lack %s' % sorted(DEV_TOOLS - dev))

    # 5. the Python requirements have a solution (what this venv has installed satisfies them)
    for req in requirements:
        try:
            have = version(req.name)
        except PackageNotFoundError:
            problems.append('%s is not installed here: cannot check it resolves' % req)
            continue
        if req.specifier and not req.specifier.contains(have, prereleases=True):
            problems.append('%s: installed %s does not satisfy it' % (req, have))

    if problems:
        print('ee-check FAILED:\n  ' + '\n  '.join(problems))
        return 1
    log('passed in %ds: context installs alicloud.ecs_images; Python %s; system (dpkg) %s; no dev tools'
        % (time.monotonic() - start, ', '.join(str(r) for r in requirements),
           ', '.join(sorted(rule[0] for rule in depends.active_rules(['default', 'platform:dpkg', 'dpkg'])))))
    return 0


if __name__ == '__main__':
    sys.exit(main())
