#!/usr/bin/env python
"""Make `ansible-test ... --venv` work without access to ci-files.testing.ansible.com.

ansible-test bootstraps pip in every virtual environment it creates by running a
"get-pip" script that it downloads once from
https://ci-files.testing.ansible.com/ansible-test/get-pip-<PIP_VERSION>.py and caches as
~/.ansible/test/cache/get_pip_<PIP_VERSION with _>.py
(ansible_test/_util/target/setup/requirements.py, function bootstrap). That host is not
reachable from here, so this script writes an offline stand-in at the cache path.

The stand-in is executed by ansible-test's quiet_pip.py as
    <venv python> quiet_pip.py --disable-pip-version-check pip==X.Y --no-setuptools --no-wheel
(GET_PIP points at the stand-in). It:
  1. bootstraps pip into the venv with `python -m ensurepip` in a child process
     (ensurepip sets PIP_CONFIG_FILE=os.devnull in its own process only, so the user's
     pip configuration - index, find-links, certificates - still applies afterwards);
  2. installs the pip version ansible-test asked for with that pip, passing the
     arguments through minus --no-setuptools/--no-wheel, which pip does not accept;
     when that fails (no index reachable), the ensurepip version is kept and a warning
     is printed: every pip since 21 is good enough for ansible-test's installs.
"""
from __future__ import annotations

import os
import sys

STANDIN = '''\
"""Offline stand-in for get-pip.py, written by alicloud.ecs_images scripts/ansible_test_offline.py."""
import os
import subprocess
import sys

MARKER = 'ecs_images offline get-pip stand-in v1'
IGNORED = ('--no-setuptools', '--no-wheel')


def main():
    args = [a for a in sys.argv[1:] if a not in IGNORED]
    env = dict(os.environ)
    subprocess.check_call([sys.executable, '-m', 'ensurepip', '--upgrade', '--default-pip'],
                          env=env, stdout=subprocess.DEVNULL)
    wanted = [a for a in args if not a.startswith('-')]
    if not wanted:
        return 0
    result = subprocess.run([sys.executable, '-m', 'pip', 'install', '--quiet'] + args,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if result.returncode != 0:
        sys.stderr.write('warning: offline get-pip stand-in could not install %s; keeping the pip from '
                         'ensurepip.\\n%s\\n' % (' '.join(wanted), result.stdout[-2000:]))
    return 0


if __name__ == '__main__':
    sys.exit(main())
'''


def pip_version() -> str:
    """The pip version ansible-test bootstraps (what names the cache file)."""
    from ansible_test._internal import python_requirements  # pylint: disable=import-outside-toplevel

    class _Python:  # get_venv_packages only reads .version
        version = '%d.%d' % sys.version_info[:2]

    return python_requirements.get_venv_packages(_Python())['pip']  # type: ignore[arg-type]


def main() -> int:
    version = pip_version()
    path = os.path.expanduser('~/.ansible/test/cache/get_pip_%s.py' % version.replace('.', '_'))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    current = None
    if os.path.exists(path):
        with open(path, encoding='utf-8') as f:
            current = f.read()
    if current == STANDIN:
        print('[ansible-test-offline] stand-in up to date: %s' % path, file=sys.stderr)
        return 0
    if current is not None and 'ecs_images offline get-pip stand-in' not in current:
        # a real get-pip.py downloaded earlier: it works, keep it
        print('[ansible-test-offline] keeping existing get-pip script: %s' % path, file=sys.stderr)
        return 0
    with open(path + '.tmp', 'w', encoding='utf-8') as f:
        f.write(STANDIN)
    os.replace(path + '.tmp', path)
    print('[ansible-test-offline] wrote offline get-pip stand-in for pip %s: %s' % (version, path), file=sys.stderr)
    return 0


if __name__ == '__main__':
    sys.exit(main())
