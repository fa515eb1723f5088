# -*- coding: utf-8 -*-
"""The base module's wait option bounds (pure) and that a module run which succeeds does not load the failure format."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import subprocess
import sys

from ansible_collections.alicloud.ecs_images.plugins.module_utils import base as B


def test_wait_timeout_bounds():
    assert B.wait_timeout_error(0) is None and B.wait_timeout_error(B.MAX_WAIT_TIMEOUT) is None
    assert B.wait_timeout_error(None) is None
    assert 'between 0 and 86400' in B.wait_timeout_error(-1)
    assert 'got 99999999999999999999' in B.wait_timeout_error(99999999999999999999)


def test_a_read_only_module_does_not_load_what_only_failures_and_waits_need():
    """A module run compiles every module_utils file it imports (Ansible ships them as sources in a zip): the failure
    format, the waiter engine and the credential providers are loaded only when a run needs them."""
    prefix = 'ansible_collections.alicloud.ecs_images.plugins.module_utils.'
    code = ('import sys\n'
            'import ansible_collections.alicloud.ecs_images.plugins.modules.ecs_image_info\n'
            'print(" ".join(sorted(m for m in sys.modules if m.startswith(%r))))\n' % prefix)
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, check=False, timeout=60,
                         env=dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p)))
    assert out.returncode == 0, out.stderr[-2000:]
    loaded = set(name[len(prefix):] for name in out.stdout.split())
    assert 'base' in loaded and 'client' in loaded
    assert not loaded & {'failures', 'waiters', 'progress', 'credential_providers'}, loaded


def test_results_are_printed_after_the_objects_so_far_are_frozen(monkeypatch):
    """exit/fail call _ending() (gc.freeze) just before exit_json/fail_json: the interpreter's shutdown then skips
    the cycle search over everything the run created (about 40 ms per module run)."""
    events = []

    class Ansible:
        def exit_json(self, **result):
            events.append(('exit', B.gc.get_freeze_count() > 0))

        def fail_json(self, **result):
            events.append(('fail', B.gc.get_freeze_count() > 0))

    amodule = B.AlicloudModule.__new__(B.AlicloudModule)
    amodule.module, amodule.diff_mode, amodule._clients, amodule._writes = Ansible(), False, {}, []
    amodule.failure_extras = {}
    B.gc.unfreeze()
    try:
        amodule.exit(False)
        amodule.fail('bad input')
    finally:
        B.gc.unfreeze()
    assert events == [('exit', True), ('fail', True)]
