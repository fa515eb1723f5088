# -*- coding: utf-8 -*-
# Copyright (c) alicloud.ecs_images contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Progress while waiting: the one call the waiter engine makes on each poll.

emit() is cheap, never raises, and is a no-op unless progress reporting is enabled
for this run (the transport lands with the action plugins; this is its contract).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


def emit(module, what, resource_id, region=None, status=None, percent=None, detail=None):
    """Report the state of one waited-for resource.

    what: 'image', 'copy', 'import', 'export', 'instance', 'upload', ...
    percent: int or None. Never raises; a no-op unless progress is enabled for this run.
    """
    return None
