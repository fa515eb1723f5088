# -*- coding: utf-8 -*-
# Copyright (c) alicloud.ecs_images contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Region reader (DescribeRegions)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


def region_ids(client, region=None):
    """The ids of the regions this account can use, in the API's order (one DescribeRegions call)."""
    response = client.call('DescribeRegions', {}, region=region)
    return [r.get('RegionId') for r in (response.get('Regions') or {}).get('Region') or [] if r.get('RegionId')]
