# -*- coding: utf-8 -*-
"""A fake clock for waiters and retries (the import of the collection is set up by tests/unit/conftest.py)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


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
