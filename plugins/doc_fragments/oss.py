# -*- coding: utf-8 -*-
# Copyright (c) alicloud.ecs_images contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):

    # OSS access for modules that read or write Object Storage Service (ecs_image_import, ecs_image_export).
    DOCUMENTATION = r'''
options:
  oss_endpoint:
    description:
      - Endpoint of the Object Storage Service (OSS) used to check the objects before the ECS call,
        for example C(https://oss-cn-hangzhou.aliyuncs.com) or C(oss-cn-hangzhou-internal.aliyuncs.com).
      - When not set, the environment variable E(ALIBABA_CLOUD_OSS_ENDPOINT) is used, then
        C(https://oss-<region>.aliyuncs.com) for the module's region.
      - A value without a scheme gets C(https://). IP endpoints are addressed path-style.
      - OSS is reached with the same credentials as ECS (including an STS token); the checks only read
        (list, head and ranged get).
      - Every OSS request is retried with jittered backoff on HTTP 5xx, throttling (C(SlowDown),
        C(QpsLimitExceeded), codes containing C(Throttling)) and dropped connections, within the same budget
        as the ECS calls (at most 8 attempts and 120 seconds per request). An upload is resumed, never sent
        again from the start, and an object found complete after a lost answer is not uploaded again.
    type: str
requirements:
  - oss2
'''
