# -*- coding: utf-8 -*-
# Copyright (c) alicloud.ecs_images contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one failure format (pure): what failed, said once, what was already changed and what a rerun will do.

Used by the failure boundary (``base.AlicloudModule.fail_from`` and ``fail``), which imports this file only when a
module fails: a run that succeeds does not load it, nor the waiter engine whose exceptions it reports.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
import traceback

from ansible_collections.alicloud.ecs_images.plugins.module_utils.client import ApiError, is_read_action, is_retryable
from ansible_collections.alicloud.ecs_images.plugins.module_utils.credentials import CredentialError
from ansible_collections.alicloud.ecs_images.plugins.module_utils.validation import OptionError
from ansible_collections.alicloud.ecs_images.plugins.module_utils.waiters import WaitTimeout

# The errors the boundary reports by their own words; any other exception also gets its traceback.
REPORTED_ERRORS = (ApiError, OptionError, CredentialError, WaitTimeout)


def describe_write(write):
    """'CreateImage m-1 (cn-hangzhou)' for a write-log entry."""
    ids = ', '.join(str(i) for i in write.get('ids') or [] if i)
    text = write.get('action') or '?'
    if ids:
        text += ' ' + ids
    if write.get('region'):
        text += ' (%s)' % write['region']
    return text


def _maybe_done(exc):
    """A write whose answer may have been lost: the cloud may have done it."""
    return (isinstance(exc, ApiError) and exc.action and not is_read_action(exc.action)
            and (exc.attempts or 1) > 1)


def failure_head(exc, endpoint_hint=None):
    """``(text, fields)``: what failed, said once, and the result keys naming it (pure)."""
    fields = {}
    if isinstance(exc, ApiError):
        head = str(exc)
        if getattr(exc, 'during', None):
            head += ' while %s' % exc.during
        if endpoint_hint:
            head += '. ' + endpoint_hint
        fields.update(action=exc.action, code=exc.code, message=exc.message, request_id=exc.request_id,
                      http_status=exc.http_status, error=exc.to_dict())
    elif isinstance(exc, OptionError):
        head = exc.msg
        if exc.option:
            fields['option'] = exc.option
    elif isinstance(exc, WaitTimeout):
        head = str(exc)
        last = exc.last if isinstance(exc.last, dict) else {}
        fields['wait'] = dict(what=exc.what, polls=exc.polls, elapsed=round(exc.elapsed or 0, 1),
                              failed=bool(exc.failed),
                              last_status=last.get('Status') or last.get('status') or last.get('TaskStatus'))
    elif isinstance(exc, CredentialError):
        head = str(exc)
    else:
        head = 'unexpected error: %s: %s' % (type(exc).__name__, exc)
    return head.rstrip('.'), fields


def rerun_text(exc, changed):
    """What a rerun will do after ``exc`` (pure); ``changed``: a write succeeded (or may have)."""
    if isinstance(exc, OptionError):
        return 'Correct the option: a rerun changes nothing until then'
    if isinstance(exc, CredentialError):
        return 'Correct the credentials: a rerun changes nothing until then'
    if isinstance(exc, WaitTimeout) and exc.failed:
        return 'A rerun will not repair it: remove what failed (state=absent) or fix the cause, then run again'
    if isinstance(exc, WaitTimeout):
        return ('The operation goes on in the cloud: a rerun finds it and waits again (nothing is started twice); '
                'raise wait_timeout to wait longer')
    if changed:
        return 'A rerun reads the current state and does only what is left (nothing done is repeated)'
    if isinstance(exc, ApiError) and is_retryable(exc.code, exc.http_status, exc.action):   # transient
        return 'A rerun does the same; it may succeed once the service answers again'
    return 'A rerun fails the same way until the cause is fixed'


def refusal_text(msg, writes):
    """``(msg, changes)`` for a refusal found by the module (pure): ``msg`` + "Nothing was changed" or the writes
    already made, unless ``msg`` says it already."""
    changes = [describe_write(w) for w in writes]
    if not re.search(r'nothing was changed|already changed', msg, re.I):
        msg = '%s. %s.' % (msg.rstrip('. '), 'Already changed: %s' % '; '.join(changes) if changes
                           else 'Nothing was changed')
    return msg, changes


def failure_result(exc, writes, context=None, rerun=None, endpoint_hint=None, failures=None, state=None):
    """The one failure format (pure). Returns fail_json keyword arguments:

    ``msg`` = what failed (said once) + what was already changed + what a rerun will do; ``action``, ``code``,
    ``message``, ``request_id``, ``http_status``, ``error`` (ApiError), ``option`` (OptionError), ``wait``
    (WaitTimeout/WaitFailed: what, polls, elapsed, failed, last status), ``changed`` (a write succeeded),
    ``changes`` (the writes), ``rerun``. ``failures``: ``[(label, exception)]`` when several parts failed
    (e.g. regions); ``exc`` is then the first of them. ``state``: where the failure left things (module text).
    ``exception``: the traceback of an exception that is none of REPORTED_ERRORS (a bug)."""
    failures = failures or [(context, exc)]
    heads = []
    result = {}
    for label, error in failures:
        head, fields = failure_head(error, endpoint_hint)
        heads.append('%s: %s' % (label, head) if label else head)
        for key, value in fields.items():
            result.setdefault(key, value)
    if 'action' not in result and writes and isinstance(exc, WaitTimeout):
        result['action'] = writes[-1].get('action')

    changes = [describe_write(w) for w in writes]
    done = 'Already changed: %s' % '; '.join(changes) if changes else 'Nothing was changed'
    lost = [error for _label, error in failures if _maybe_done(error)]
    for error in lost:
        done += ('. The answer to %s was lost after %d attempts: the cloud may have done it'
                 % (error.action, error.attempts))
    if state:
        done += '. State: %s' % state.rstrip('.')
    if not rerun:
        texts = []
        for _label, error in failures:
            text = rerun_text(error, bool(changes or lost))
            if text not in texts:
                texts.append(text)
        rerun = '; '.join(texts)
    result.update(msg='%s. %s. %s.' % ('; '.join(heads), done, rerun.rstrip('.')), changed=bool(changes),
                  changes=changes, rerun=rerun)
    if not isinstance(exc, REPORTED_ERRORS):
        result['exception'] = ''.join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    return result
