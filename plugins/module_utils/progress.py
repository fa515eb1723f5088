# -*- coding: utf-8 -*-
# Copyright (c) alicloud.ecs_images contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Progress while waiting: the module side of the transport (see docs/progress.md).

The waiter engine (and the upload) call emit() on each poll. When the collection's action plugin runs
the module with progress reporting enabled, it names a file in the environment variable PROGRESS_ENV;
emit() keeps the latest state of every (what, resource, region) and rewrites that file with all of them
as one JSON object, at most every MIN_GAP seconds. The action plugin reads the file and prints one line
at the configured interval. Without the variable (progress off, check mode, a module run by hand)
emit() does nothing. emit() never raises: progress is never a reason for a module to fail.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import threading
import time

# Internal: set by plugins/plugin_utils/progress_action.py in the module's environment only.
PROGRESS_ENV = '_ALICLOUD_ECS_IMAGES_PROGRESS_FILE'
# The file is rewritten at most this often (seconds); the action plugin prints far less often.
MIN_GAP = 1.0
# At most this many resources are kept (a copy to every region is ~30).
MAX_ITEMS = 200

_state = {'items': {}, 'order': [], 'last_write': 0.0, 'dirty': False, 'disabled': False}
_lock = threading.Lock()


def progress_file():
    """The file to write, or None when progress reporting is off for this run."""
    return os.environ.get(PROGRESS_ENV) or None


def _percent(value):
    if value is None or value == '':
        return None
    try:
        return max(0, min(100, int(float(str(value).rstrip('%')))))
    except (TypeError, ValueError):
        return None


def _text(value, limit=200):
    if value is None:
        return None
    text = str(value)
    return text if len(text) <= limit else text[:limit - 3] + '...'


def _module_name(module):
    inner = getattr(module, 'module', module)   # AlicloudModule wraps AnsibleModule
    name = getattr(inner, '_name', None)
    return _text(name, 100) if isinstance(name, str) else None


def emit(module, what, resource_id, region=None, status=None, percent=None, detail=None):
    """Report the state of one waited-for resource.

    what: 'image', 'copy', 'import', 'export', 'instance', 'upload', ...; percent: int or None.
    Cheap, never raises, a no-op unless progress reporting is enabled for this run.
    """
    try:
        path = progress_file()
        if not path or _state['disabled']:
            return None
        now = time.time()
        item = {'what': _text(what, 40), 'id': _text(resource_id, 100), 'region': _text(region, 60),
                'status': _text(status, 60), 'percent': _percent(percent), 'detail': _text(detail)}
        key = '%s|%s|%s' % (item['what'], item['id'], item['region'])
        with _lock:
            items = _state['items']
            if key not in items:
                if len(items) >= MAX_ITEMS:
                    return None
                _state['order'].append(key)
            if items.get(key, {}).get('state') != item:
                items[key] = {'state': item, 'since': now}
                _state['dirty'] = True
            if not _state['dirty'] or now - _state['last_write'] < MIN_GAP:
                return None
            payload = {'module': _module_name(module), 'pid': os.getpid(), 'updated': now,
                       'items': [dict(items[k]['state'], since=items[k]['since']) for k in _state['order']]}
            _state['last_write'] = now
            _state['dirty'] = False
        _write(path, payload)
    except Exception:   # pylint: disable=broad-except
        # progress is best effort: a full disk or an odd value must not fail the module
        _state['disabled'] = True
    return None


def flush(module=None):
    """Write pending state now (call before the module exits; emit() may have held back the last one)."""
    try:
        path = progress_file()
        if not path or _state['disabled']:
            return None
        with _lock:
            if not _state['dirty']:
                return None
            items = _state['items']
            payload = {'module': _module_name(module), 'pid': os.getpid(), 'updated': time.time(),
                       'items': [dict(items[k]['state'], since=items[k]['since']) for k in _state['order']]}
            _state['dirty'] = False
        _write(path, payload)
    except Exception:   # pylint: disable=broad-except
        _state['disabled'] = True
    return None


def _write(path, payload):
    # rewritten in place: the file may have been created by the controller for another user (become);
    # a reader seeing a half-written file skips it and reads it again at the next look
    with open(path, 'w') as handle:
        handle.write(json.dumps(payload, sort_keys=True))


def reset():
    """Forget every state (tests)."""
    with _lock:
        _state.update(items={}, order=[], last_write=0.0, dirty=False, disabled=False)
