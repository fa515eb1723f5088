# -*- coding: utf-8 -*-
"""Stand-ins for AlicloudModule and EcsClient that send every request to a scripted handler (no network), shared
by the unit tests of ecs_image_copy and ecs_image_share."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import threading

from ansible_collections.alicloud.ecs_images.plugins.module_utils.client import EcsClient
from ansible_collections.alicloud.ecs_images.plugins.module_utils.credentials import Credentials


def scripted_client(handler):
    """EcsClient whose requests go to handler(action, params, region) -> dict (or raise ApiError)."""
    calls = []

    def transport(action, params, region):
        calls.append((action, dict(params), region))
        return handler(action, params, region)

    client = EcsClient(Credentials('ak', 'sk', region='cn-hangzhou'), transport=transport, sleep=lambda s: None)
    return client, calls


class Failed(Exception):
    def __init__(self, msg, result):
        Exception.__init__(self, msg)
        self.msg = msg
        self.result = result


class Exited(Exception):
    def __init__(self, changed, result):
        Exception.__init__(self, 'exit')
        self.changed = changed
        self.result = result


class FakeModule:
    """Stands for AlicloudModule: clients use a scripted transport; fail/exit raise Failed/Exited."""

    def __init__(self, params, handler, check_mode=False):
        self.params = params
        self.region = 'cn-hangzhou'
        self.check_mode = check_mode
        self.diff_mode = True
        self.calls = []
        self.handler = handler
        self._clients = {}
        self.lock = threading.Lock()
        self.failure_extras = {}
        self.rerun_hint = None
        self.failure_state = None

    def client(self, region=None):
        region = region or self.region
        if region not in self._clients:
            def transport(action, params, call_region):
                with self.lock:
                    self.calls.append((action, dict(params), call_region))
                return self.handler(action, params, call_region)
            self._clients[region] = EcsClient(Credentials('ak', 'sk', region=region), region=region,
                                              transport=transport, sleep=lambda s: None)
        return self._clients[region]

    @property
    def api_calls(self):
        return sum(c.calls for c in self._clients.values())

    def fail(self, msg, **kwargs):
        raise Failed(msg, kwargs)

    def fail_api(self, err, msg=None, **kwargs):
        raise Failed('%s: %s' % (msg, err) if msg else str(err), kwargs)

    def exit(self, changed, **result):
        result.setdefault('api_calls', self.api_calls)      # as AlicloudModule.exit does
        raise Exited(changed, result)

    def fail_from(self, exc, failures=None, **kwargs):
        raise Failed('; '.join('%s: %s' % (label, err) for label, err in failures or [(None, exc)]), kwargs)

    def warn(self, msg):
        pass

    def actions(self):
        return sorted(c[0] for c in self.calls)


def raw_image(image_id, name, status='Available', owner='self', is_copied=False):
    return {'ImageId': image_id, 'ImageName': name, 'Status': status, 'ImageOwnerAlias': owner,
            'ImageOwnerId': 1234567890123456, 'IsCopied': is_copied, 'Tags': {'Tag': []}}
