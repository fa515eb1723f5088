# -*- coding: utf-8 -*-
"""Make ``ansible_collections.alicloud.ecs_images`` importable when pytest runs from the repo checkout."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import sys
import tempfile

try:
    import ansible_collections.alicloud.ecs_images  # noqa: F401  pylint: disable=unused-import
except ImportError:  # plain pytest outside an ansible_collections tree: make one
    _root = tempfile.mkdtemp(prefix='ac-')
    os.makedirs(os.path.join(_root, 'ansible_collections', 'alicloud'))
    os.symlink(os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..', '..')),
               os.path.join(_root, 'ansible_collections', 'alicloud', 'ecs_images'))
    sys.path.insert(0, _root)


class FakeClock:
    """now()/sleep() pair: sleeping advances the clock instantly; records every sleep."""

    def __init__(self, start=1000.0):
        self.t = start
        self.sleeps = []

    def now(self):
        return self.t

    def sleep(self, seconds):
        assert seconds >= 0
        self.sleeps.append(seconds)
        self.t += seconds
