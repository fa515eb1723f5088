# -*- coding: utf-8 -*-
"""Unit tests import the collection as ``ansible_collections.alicloud.ecs_images``.

In the collection copy (``make unit``) that name is importable already. From the working tree
(``.venv/bin/python -m pytest tests/unit``) it is made importable with the same symlink farm the integration
runner uses (tests/integration/emulator_helper.py ``collections_path``): one rule, one place.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import importlib.util
import os
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))


def _collections_path():
    spec = importlib.util.spec_from_file_location(
        '_ecs_images_emulator_helper', os.path.join(ROOT, 'tests', 'integration', 'emulator_helper.py'))
    helper = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(helper)
    try:
        return helper.collections_path(ROOT)
    except OSError:     # another pytest worker made the link at the same moment
        return helper.collections_path(ROOT)


try:
    import ansible_collections.alicloud.ecs_images  # noqa: F401  pylint: disable=unused-import
except ImportError:
    sys.path.insert(0, _collections_path())


# No unit test may send a request outside 127.0.0.0/8 (::1), the instance metadata address 100.100.100.200
# included: the autouse fixture ``loopback_only`` (tests/emulator/ecs_emulator/netguard.py, shared with the
# emulator's own tests) refuses such a connect and fails the test.
from ecs_emulator.netguard import loopback_only  # noqa: E402,F401  pylint: disable=unused-import
