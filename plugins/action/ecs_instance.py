# -*- coding: utf-8 -*-
# Copyright (c) alicloud.ecs_images contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of alicloud.ecs_images.ecs_instance: runs the module, printing progress while it waits."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.alicloud.ecs_images.plugins.plugin_utils.progress_action import ProgressActionModule


class ActionModule(ProgressActionModule):
    WAIT_OPTION = None   # waits for launched instances to stop (state: stopped) even with wait: false
