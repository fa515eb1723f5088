# -*- coding: utf-8 -*-
"""The one failure format (failures.py), as pure functions."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.alicloud.ecs_images.plugins.module_utils import failures as F
from ansible_collections.alicloud.ecs_images.plugins.module_utils.client import ApiError, is_read_action, write_ids
from ansible_collections.alicloud.ecs_images.plugins.module_utils.credentials import CredentialError
from ansible_collections.alicloud.ecs_images.plugins.module_utils.validation import OptionError
from ansible_collections.alicloud.ecs_images.plugins.module_utils.waiters import WaitFailed, WaitTimeout

CREATE = {'action': 'CreateImage', 'region': 'cn-hangzhou', 'ids': ['i-1', 'm-1']}


def api_error(action='DescribeImages', code='InternalError', status=500, attempts=8):
    return ApiError(action, code, 'The request processing has failed due to some unknown error.', 'REQ-1', status,
                    {'ImageId': 'm-1'}, attempts)


def test_api_error_before_any_change():
    result = F.failure_result(api_error(), [])
    msg = result['msg']
    assert msg.startswith('DescribeImages failed: InternalError - The request processing')
    assert msg.count('DescribeImages failed: InternalError') == 1          # said once
    assert 'RequestId REQ-1' in msg and 'Nothing was changed' in msg
    assert 'A rerun does the same; it may succeed once the service answers again' in msg
    assert result['action'] == 'DescribeImages' and result['code'] == 'InternalError'
    assert result['request_id'] == 'REQ-1' and result['http_status'] == 500
    assert result['changed'] is False and result['changes'] == []


def test_read_failing_during_a_wait_after_the_write():
    err = api_error(attempts=8)
    err.during = 'waiting for image m-1 to be Available'
    result = F.failure_result(err, [CREATE])
    msg = result['msg']
    assert 'while waiting for image m-1 to be Available' in msg
    assert 'Already changed: CreateImage i-1, m-1 (cn-hangzhou)' in msg
    assert 'a rerun reads the current state and does only what is left' in msg.lower()
    assert result['changed'] is True and result['changes'] == ['CreateImage i-1, m-1 (cn-hangzhou)']


def test_refused_write_changed_nothing_and_says_so():
    """issue 12: a refused ModifyImageSharePermission is not 'left half-done'."""
    err = ApiError('ModifyImageSharePermission', 'InvalidAccount.NotFound', 'no such account', 'R', 404, {}, 1)
    result = F.failure_result(err, [])
    assert 'Nothing was changed' in result['msg'] and 'half' not in result['msg']
    assert 'A rerun fails the same way until the cause is fixed' in result['msg']


def test_lost_answer_of_a_write_may_have_been_done():
    err = api_error('CopyImage', 'ServiceUnavailable', 503, attempts=8)
    result = F.failure_result(err, [])
    assert 'The answer to CopyImage was lost after 8 attempts: the cloud may have done it' in result['msg']
    assert 'does only what is left' in result['msg']


def test_wait_failures():
    timeout = WaitTimeout('timed out after 60s waiting for image m-1 to be Available (last seen Creating, 40%; '
                          '9 polls)', {'Status': 'Creating'}, 9, 60.0, 'image m-1 to be Available')
    result = F.failure_result(timeout, [CREATE])
    assert 'goes on in the cloud: a rerun finds it and waits again' in result['msg']
    assert result['wait'] == {'what': 'image m-1 to be Available', 'polls': 9, 'elapsed': 60.0, 'failed': False,
                              'last_status': 'Creating'}
    assert result['action'] == 'CreateImage'
    failed = WaitFailed('image m-1 is CreateFailed: disk unreadable', {'Status': 'CreateFailed'}, 3, 9.0, 'image')
    result = F.failure_result(failed, [CREATE])
    assert result['msg'].startswith('image m-1 is CreateFailed: disk unreadable. Already changed: CreateImage')
    assert 'A rerun will not repair it' in result['msg'] and result['wait']['failed'] is True


def test_option_and_credential_errors():
    result = F.failure_result(OptionError('option name: too short', 'name'), [])
    assert result['option'] == 'name' and 'Correct the option' in result['msg']
    result = F.failure_result(CredentialError('no credentials found'), [])
    assert 'Correct the credentials' in result['msg'] and result['changed'] is False


def test_module_hints_state_and_several_parts():
    err = api_error()
    result = F.failure_result(err, [CREATE], context='cn-beijing', rerun='Run it again with force=true',
                              state='instance i-1 is now Stopped')
    assert result['msg'].startswith('cn-beijing: DescribeImages failed')
    assert '. State: instance i-1 is now Stopped. Run it again with force=true.' in result['msg']
    other = WaitTimeout('timed out after 5s waiting for copy m-2', None, 1, 5.0, 'copy m-2')
    result = F.failure_result(err, [], failures=[('cn-beijing', err), ('cn-shanghai', other)])
    assert result['msg'].startswith('cn-beijing: DescribeImages failed: InternalError')
    assert '; cn-shanghai: timed out after 5s waiting for copy m-2' in result['msg']
    assert result['code'] == 'InternalError'


def test_unexpected_exception_is_named():
    result = F.failure_result(KeyError('Images'), [])
    assert result['msg'].startswith("unexpected error: KeyError: 'Images'. Nothing was changed.")


def test_write_log_helpers():
    assert is_read_action('DescribeImages') and is_read_action('ListTagResources')
    assert not is_read_action('CreateImage') and not is_read_action('ModifyImageSharePermission')
    assert write_ids({'ImageId': 'm-1', 'RegionId': 'r'}, {'TaskId': 't-1', 'ImageId': 'm-1'}) == ['m-1', 't-1']
    assert F.describe_write({'action': 'DeleteImage', 'region': 'r', 'ids': []}) == 'DeleteImage (r)'


def test_traceback_only_for_an_unexpected_exception():
    assert 'KeyError' in F.failure_result(KeyError('Images'), [])['exception']
    for known in (api_error(), OptionError('bad', 'name'), CredentialError('none'),
                  WaitTimeout('timed out', last={'Status': 'Creating'}, polls=3, elapsed=10.0, what='image m-1')):
        assert 'exception' not in F.failure_result(known, [])


def test_refusal_text_says_what_was_changed_once():
    assert F.refusal_text('image m-1 is in use', []) == ('image m-1 is in use. Nothing was changed.', [])
    msg, changes = F.refusal_text('cannot delete', [CREATE])
    assert msg == 'cannot delete. Already changed: CreateImage i-1, m-1 (cn-hangzhou).'
    assert changes == ['CreateImage i-1, m-1 (cn-hangzhou)']
    assert F.refusal_text('Nothing was changed: bad input', [])[0] == 'Nothing was changed: bad input'
