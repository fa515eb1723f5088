# -*- coding: utf-8 -*-
"""EcsClient call path: flattening, masking, retries/backoff with a fake clock, ClientToken reuse,
pagination, and the real SDK path against a tiny local HTTP server."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import threading
import time

try:
    from http.server import BaseHTTPRequestHandler, HTTPServer
    from urllib.parse import parse_qsl, urlparse
except ImportError:  # pragma: no cover
    pass

import pytest

from fake_clock import FakeClock

from ansible_collections.alicloud.ecs_images.plugins.module_utils import client as C
from ansible_collections.alicloud.ecs_images.plugins.module_utils.credentials import Credentials

CRED = Credentials(access_key='AKID', secret_key='SECRET', region='cn-hangzhou')


class Scripted:
    """Transport answering from a script: each item is a dict (answer) or an ApiError (raised)."""

    def __init__(self, *script):
        self.script = list(script)
        self.requests = []

    def __call__(self, action, flat, region):
        self.requests.append((action, flat, region))
        item = self.script.pop(0) if len(self.script) > 1 else self.script[0]
        if isinstance(item, Exception):
            raise item
        return item


def err(code, status=400, message='m'):
    return C.ApiError('X', code, message, 'REQ-1', status)


def make(transport, **kw):
    clock = FakeClock()
    client = C.EcsClient(CRED, transport=transport, sleep=clock.sleep, now=clock.now, **kw)
    return client, clock


# ---------------------------------------------------------------- pure helpers

def test_flatten_params_nested_lists_bools_none():
    flat = C.flatten_params({
        'Tag': [{'Key': 'a', 'Value': 'b'}, None, {'Key': 'c', 'Value': ''}],
        'SystemDisk': {'Size': 40, 'Category': None},
        'AddAccount': ['1', '2'], 'Force': True, 'DryRun': False, 'Skip': None, 'Tag.9.Key': 'flat',
    })
    assert flat == {'Tag.1.Key': 'a', 'Tag.1.Value': 'b', 'Tag.2.Key': 'c', 'Tag.2.Value': '',
                    'SystemDisk.Size': '40', 'AddAccount.1': '1', 'AddAccount.2': '2',
                    'Force': 'true', 'DryRun': 'false', 'Tag.9.Key': 'flat'}


@pytest.mark.parametrize('name,secret', [
    ('Password', True), ('SecurityToken', True), ('AccessKeyId', True), ('AccessKeySecret', True),
    ('AdminPassword', True), ('Some.Secret', True), ('StsToken', True), ('ClientToken', False),
    ('ImageName', False), ('Tag.1.Value', False)])
def test_is_secret_param(name, secret):
    assert C.is_secret_param(name) is secret


def test_api_error_names_everything_and_masks_secrets():
    e = C.ApiError('CreateImage', 'Throttling', 'Request was denied', 'RID-9', 400,
                   {'ImageName': 'img', 'Password': 'hunter2', 'SecurityToken': 'tok', 'ClientToken': 'ct-1'}, 3)
    text = str(e)
    for part in ('CreateImage', 'Throttling', 'Request was denied', 'RID-9', 'HTTP 400', 'after 3 attempts',
                 'img', 'ct-1'):
        assert part in text
    assert 'hunter2' not in text and 'tok"' not in text
    assert e.to_dict()['params']['Password'] == '********'


@pytest.mark.parametrize('code,status,retry', [
    ('Throttling', 400, True), ('Throttling.User', 400, True), ('Throttling.Api', 403, True),
    ('ServiceUnavailable', 503, True), ('InternalError', 500, True), ('UnknownError', 400, True),
    ('SDK.HttpError', None, True), ('SomethingOdd', 502, True), ('InvalidImageId.NotFound', 404, False),
    ('InvalidParameter', 400, False), ('IncorrectInstanceStatus', 403, False),
    ('Rejected.Throttling', 400, True), ('Throttling.Resource', 400, True), ('LastTokenProcessing', 403, True),
    ('InvalidOperation.Conflict', 403, False)])
def test_retryable_classification(code, status, retry):
    assert C.is_retryable(code, status) is retry


@pytest.mark.parametrize('action', ['StartInstance', 'StopInstance', 'ReplaceSystemDisk', 'CreateImage'])
@pytest.mark.parametrize('code', ['IncorrectInstanceStatus', 'OperationConflict', 'InvalidOperation.Conflict'])
def test_settling_refusals_are_transient_only_for_instance_actions(action, code):
    assert C.is_retryable(code, 403, action) is True
    assert C.is_retryable(code, 403, 'DeleteImage') is (code == 'OperationConflict')
    assert C.ApiError(action, code, 'm', http_status=403).retryable is True


def test_settling_refusal_retried_then_succeeds_with_the_same_token():
    t = Scripted(err('IncorrectInstanceStatus', 403), err('InvalidOperation.Conflict', 403), {'DiskId': 'd-1'})
    client, clock = make(t)
    assert client.call('ReplaceSystemDisk', {'InstanceId': 'i-1'}, client_token=True) == {'DiskId': 'd-1'}
    assert len(set(r[1]['ClientToken'] for r in t.requests)) == 1 and client.calls == 3


def test_settling_refusal_is_final_for_other_actions():
    t = Scripted(err('IncorrectInstanceStatus', 403))
    client, clock = make(t)
    with pytest.raises(C.ApiError):
        client.call('ModifyInstanceAttribute', {'InstanceId': 'i-1'})
    assert client.calls == 1


def test_retry_for_replaces_the_bounds_of_one_call():
    t = Scripted(err('IncorrectInstanceStatus', 403))
    client, clock = make(t, max_tries=3, max_total=5.0)
    with pytest.raises(C.ApiError) as exc:
        client.call('StartInstance', {'InstanceId': 'i-1'}, retry_for=300.0)
    assert exc.value.attempts > 3 and 250 < sum(clock.sleeps) <= 300.0
    # the default bounds still hold for a call without retry_for
    client2, clock2 = make(Scripted(err('IncorrectInstanceStatus', 403)), max_tries=3, max_total=5.0)
    with pytest.raises(C.ApiError):
        client2.call('StartInstance', {'InstanceId': 'i-1'})
    assert client2.calls == 3


def test_give_up_stops_settling_retries_but_not_throttling_retries():
    asked = []

    def give_up(error):
        asked.append(error.code)
        return True
    t = Scripted(err('Throttling'), err('IncorrectInstanceStatus', 403), {'ok': 1})
    client, clock = make(t)
    with pytest.raises(C.ApiError) as exc:
        client.call('StartInstance', {'InstanceId': 'i-1'}, give_up=give_up)
    assert exc.value.code == 'IncorrectInstanceStatus' and exc.value.attempts == 2
    assert asked == ['IncorrectInstanceStatus']


def test_backoff_delay_is_jittered_within_bounds():
    for attempt in range(10):
        ceiling = min(C.RETRY_MAX_DELAY, C.RETRY_BASE_DELAY * 2 ** attempt)
        assert C.backoff_delay(attempt, rand=lambda: 0.0) == pytest.approx(ceiling / 2)
        assert C.backoff_delay(attempt, rand=lambda: 0.999999) == pytest.approx(ceiling, rel=1e-5)
    assert C.backoff_schedule(5) == [0.5, 1.0, 2.0, 4.0]
    assert max(C.backoff_schedule(20)) == C.RETRY_MAX_DELAY


# ---------------------------------------------------------------- retries

def test_throttling_is_retried_then_succeeds_with_backoff():
    t = Scripted(err('Throttling'), err('ServiceUnavailable', 503), {'ImageId': 'm-1'})
    client, clock = make(t)
    assert client.call('CreateImage', {'ImageName': 'x'}) == {'ImageId': 'm-1'}
    assert client.calls == 3 and client.retries == 2
    assert len(clock.sleeps) == 2
    assert 0.25 <= clock.sleeps[0] <= 0.5 and 0.5 <= clock.sleeps[1] <= 1.0
    assert [h[1] for h in client.history] == ['Throttling', 'ServiceUnavailable', 'ok']


@pytest.mark.parametrize('message, code', [
    ("HTTPSConnectionPool(host='ecs.cn-hangzou.aliyuncs.com', port=443): Max retries exceeded "
     "(Caused by NameResolutionError(\"Failed to resolve 'ecs.cn-hangzou.aliyuncs.com' "
     "([Errno -2] Name or service not known)\"))", 'SDK.HostNotFound'),
    ("Failed to resolve host ([Errno -3] Temporary failure in name resolution)", 'SDK.HttpError'),
    ("HTTPConnectionPool(host='127.0.0.1', port=1): Max retries exceeded (Connection refused)", 'SDK.HttpError'),
])
def test_unresolvable_host_is_not_retried(message, code):
    assert C.client_error_code('SDK.HttpError', message) == code
    assert C.is_retryable(code) is (code == 'SDK.HttpError')
    assert C.client_error_code('SDK.InvalidRegionId', message) == 'SDK.InvalidRegionId'


def test_non_retryable_error_raises_at_once():
    t = Scripted(err('InvalidImageName.Malformed'))
    client, clock = make(t)
    with pytest.raises(C.ApiError) as exc:
        client.call('CreateImage', {'ImageName': 'x', 'Password': 'p'})
    assert exc.value.attempts == 1 and client.calls == 1 and clock.sleeps == []
    assert exc.value.params['Password'] == '********' and exc.value.params['ImageName'] == 'x'
    assert exc.value.action == 'CreateImage' and exc.value.request_id == 'REQ-1'


def test_retries_are_bounded_by_tries():
    t = Scripted(err('Throttling'))
    client, clock = make(t, max_tries=5, max_total=10000)
    with pytest.raises(C.ApiError) as exc:
        client.call('DescribeImages')
    assert exc.value.attempts == 5 and client.calls == 5 and len(clock.sleeps) == 4


def test_retries_are_bounded_by_total_time():
    t = Scripted(err('InternalError', 500))
    client, clock = make(t, max_tries=100, max_total=20.0)
    with pytest.raises(C.ApiError):
        client.call('DescribeImages')
    assert sum(clock.sleeps) <= 20.0
    assert client.calls < 100


def test_client_token_generated_once_and_reused_on_every_retry():
    t = Scripted(err('ServiceUnavailable', 503), err('SDK.HttpError', None), {'ImageId': 'm-1'})
    client, clock = make(t)
    client.call('CreateImage', {'ImageName': 'x'}, client_token=True)
    tokens = [request[1]['ClientToken'] for request in t.requests]
    assert len(tokens) == 3 and len(set(tokens)) == 1 and len(tokens[0]) == 36
    # a new call gets a new token
    client.call('CreateImage', {'ImageName': 'y'}, client_token=True)
    assert t.requests[-1][1]['ClientToken'] != tokens[0]


def test_explicit_client_token_and_region():
    t = Scripted({})
    client, clock = make(t)
    client.call('CopyImage', {'ImageId': 'm-1'}, client_token='tok-1', region='cn-beijing')
    action, flat, region = t.requests[0]
    assert flat == {'ImageId': 'm-1', 'ClientToken': 'tok-1', 'RegionId': 'cn-beijing'}
    assert region == 'cn-beijing'


def test_region_id_defaults_to_client_region_and_can_be_given():
    t = Scripted({})
    client, clock = make(t)
    client.call('DescribeImages', {'ImageId': None})
    assert t.requests[0][1] == {'RegionId': 'cn-hangzhou'}


# ---------------------------------------------------------------- pagination

def pages(total, page_size_cap=None):
    items = ['i%d' % n for n in range(total)]

    def transport(action, flat, region):
        size = int(flat.get('PageSize', 10))
        if page_size_cap:
            size = min(size, page_size_cap)
        number = int(flat['PageNumber'])
        chunk = items[(number - 1) * size:number * size]
        return {'TotalCount': total, 'PageNumber': number, 'PageSize': size,
                'Images': {'Image': [{'ImageId': i} for i in chunk]}}
    return transport


@pytest.mark.parametrize('total,cap', [(0, None), (1, None), (100, None), (250, None), (37, 10)])
def test_paginate_reads_every_page(total, cap):
    client, clock = make(pages(total, cap))
    got = client.paginate('DescribeImages', {}, ('Images', 'Image'))
    assert [g['ImageId'] for g in got] == ['i%d' % n for n in range(total)]
    expected_calls = max(1, -(-total // (cap or 100)))
    assert client.calls == expected_calls


def test_paginate_follows_next_token():
    answers = {None: {'NextToken': 't2', 'TagResources': {'TagResource': [{'TagKey': 'a'}]}},
               't2': {'NextToken': '', 'TagResources': {'TagResource': [{'TagKey': 'b'}]}}}

    def transport(action, flat, region):
        assert 'PageSize' not in flat
        return answers[flat.get('NextToken')]
    client, clock = make(transport)
    got = client.paginate('ListTagResources', {'ResourceType': 'image'}, ('TagResources', 'TagResource'),
                          page_size=None)
    assert [g['TagKey'] for g in got] == ['a', 'b']


# ---------------------------------------------------------------- real SDK path over HTTP

class _Handler(BaseHTTPRequestHandler):
    script = []
    seen = []

    def log_message(self, *args):
        pass

    def _answer(self):
        query = dict(parse_qsl(urlparse(self.path).query, keep_blank_values=True))
        length = int(self.headers.get('Content-Length') or 0)
        if length:
            query.update(parse_qsl(self.rfile.read(length).decode('utf-8'), keep_blank_values=True))
        type(self).seen.append((self.command, query))
        status, body = type(self).script.pop(0) if type(self).script else (200, {'RequestId': 'R'})
        data = json.dumps(body).encode('utf-8')
        self.send_response(status)
        self.send_header('Content-Type', 'application/json;charset=utf-8')
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = _answer


@pytest.fixture
def server():
    _Handler.script = []
    _Handler.seen = []
    httpd = HTTPServer(('127.0.0.1', 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield 'http://127.0.0.1:%d' % httpd.server_address[1]
    httpd.shutdown()
    httpd.server_close()


@pytest.mark.skipif(not C.HAS_ALIYUN_SDK, reason='aliyun SDK not installed')
def test_sdk_path_retries_with_same_client_token(server):
    _Handler.script = [(503, {'RequestId': 'R1', 'Code': 'ServiceUnavailable', 'Message': 'busy'}),
                       (400, {'RequestId': 'R2', 'Code': 'Throttling', 'Message': 'slow'}),
                       (200, {'RequestId': 'R3', 'ImageId': 'm-new'})]
    cred = Credentials(access_key='AKID', secret_key='SECRET', region='cn-hangzhou', endpoint=server)
    clock = FakeClock()
    client = C.EcsClient(cred, sleep=clock.sleep, now=clock.now)
    answer = client.call('CreateImage', {'ImageName': 'img', 'Tag': [{'Key': 'k', 'Value': 'v'}]},
                         client_token=True)
    assert answer['ImageId'] == 'm-new'
    assert len(_Handler.seen) == 3
    tokens = set(seen[1]['ClientToken'] for seen in _Handler.seen)
    assert len(tokens) == 1
    method, query = _Handler.seen[0]
    assert query['Action'] == 'CreateImage' and query['Version'] == '2014-05-26'
    assert query['RegionId'] == 'cn-hangzhou' and query['AccessKeyId'] == 'AKID' and 'Signature' in query
    assert query['Tag.1.Key'] == 'k' and query['Tag.1.Value'] == 'v'


@pytest.mark.skipif(not C.HAS_ALIYUN_SDK, reason='aliyun SDK not installed')
def test_sdk_path_error_carries_request_id_and_status(server):
    _Handler.script = [(404, {'RequestId': 'R-404', 'Code': 'InvalidInstanceId.NotFound',
                              'Message': 'The specified InstanceId does not exist.'})]
    cred = Credentials(access_key='AKID', secret_key='SECRET', region='cn-hangzhou', endpoint=server)
    client = C.EcsClient(cred, sleep=lambda s: None)
    with pytest.raises(C.ApiError) as exc:
        client.call('DescribeInstanceAttribute', {'InstanceId': 'i-1'})
    e = exc.value
    assert (e.code, e.http_status, e.request_id, e.attempts) == ('InvalidInstanceId.NotFound', 404, 'R-404', 1)


@pytest.mark.skipif(not C.HAS_ALIYUN_SDK, reason='aliyun SDK not installed')
def test_sdk_path_common_request_for_unknown_action_and_security_token(server):
    cred = Credentials(access_key='AKID', secret_key='SECRET', security_token='STS-TOKEN',
                       region='cn-hangzhou', endpoint=server)
    client = C.EcsClient(cred, sleep=lambda s: None)
    client.call('SomeBrandNewAction', {'A': 1})
    method, query = _Handler.seen[0]
    assert query['Action'] == 'SomeBrandNewAction' and query['A'] == '1'
    assert query['SecurityToken'] == 'STS-TOKEN'


@pytest.mark.skipif(not C.HAS_ALIYUN_SDK, reason='aliyun SDK not installed')
def test_sdk_path_connection_refused_is_retried_and_bounded():
    cred = Credentials(access_key='AKID', secret_key='SECRET', region='cn-hangzhou',
                       endpoint='http://127.0.0.1:9')
    clock = FakeClock()
    client = C.EcsClient(cred, sleep=clock.sleep, now=clock.now, max_tries=3)
    with pytest.raises(C.ApiError) as exc:
        client.call('DescribeImages')
    assert exc.value.code == 'SDK.HttpError' and exc.value.attempts == 3 and len(clock.sleeps) == 2


@pytest.mark.skipif(not C.HAS_ALIYUN_SDK, reason='aliyun SDK not installed')
def test_assume_role_through_sts_endpoint(server):
    """The ECS call signs with the keys AssumeRole returned (STS through alibabacloud-credentials)."""
    pytest.importorskip('alibabacloud_credentials')
    _Handler.script = [(200, {'RequestId': 'R', 'Credentials': {
        'AccessKeyId': 'STS.AK', 'AccessKeySecret': 'STSSK', 'SecurityToken': 'TOK',
        'Expiration': time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(time.time() + 3600))}}),
        (200, {'RequestId': 'R2'})]
    cred = Credentials(access_key='AKID', secret_key='SECRET', region='cn-hangzhou', endpoint=server,
                       sts_endpoint=server, assume_role_arn='acs:ram::1:role/img', session_name='s1')
    client = C.EcsClient(cred, sleep=lambda s: None)
    client.call('DescribeRegions')
    (m1, q1), (m2, q2) = _Handler.seen
    assert q1['Action'] == 'AssumeRole' and q1['Version'] == '2015-04-01'
    assert q1['RoleArn'] == 'acs:ram::1:role/img' and q1['RoleSessionName'] == 's1' and q1['AccessKeyId'] == 'AKID'
    assert q2['AccessKeyId'] == 'STS.AK' and q2['SecurityToken'] == 'TOK'


def test_retry_call_marks_the_error_final():
    clock = FakeClock()
    seen = []

    def send(attempt):
        seen.append(attempt)
        raise C.ApiError('X', 'Throttling', 'slow', attempts=attempt)

    with pytest.raises(C.ApiError) as exc:
        C.retry_call(send, max_tries=3, sleep=clock.sleep, now=clock.now)
    assert seen == [1, 2, 3] and exc.value.final and not exc.value.retryable


def test_no_proxy_for_loopback_endpoints():
    assert C._no_proxy_for('http://127.0.0.1:8080') == {'http': None, 'https': None}
    assert C._no_proxy_for(None) is None


@pytest.mark.skipif(not C.HAS_ALIYUN_SDK, reason='aliyun SDK not installed')
def test_loopback_endpoint_bypasses_proxy_variables(server, monkeypatch):
    # a proxy that refuses connections: the call only succeeds if the proxy is bypassed
    for name in ('HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy'):
        monkeypatch.setenv(name, 'http://127.0.0.1:9')
    cred = Credentials(access_key='AKID', secret_key='SECRET', region='cn-hangzhou', endpoint=server)
    client = C.EcsClient(cred, sleep=lambda s: None, max_tries=1)
    assert client.call('DescribeRegions') == {'RequestId': 'R'}


def test_messages_are_scrubbed_of_query_strings_and_keys():
    http = ("HTTPConnectionPool(host='127.0.0.1', port=9): Max retries exceeded with url: "
            "/?ImageName=x&AccessKeyId=LTAIsecretish&Signature=abc%3D&SecurityToken=tok (Caused by X)")
    e = C.ApiError('DescribeImages', 'SDK.HttpError', http)
    assert 'LTAIsecretish' not in str(e) and 'abc%3D' not in str(e) and 'tok' not in e.message
    assert "port=9" in e.message and 'Caused by X' in e.message
    sts = ('Specified signature is not matched with our calculation. server string to sign is:'
           'POST&%2F&AccessKeyId%3DLTAIxyz%26Action%3DCreateImage%26SecurityToken%3DTOKEN123%26Version%3D1')
    e = C.ApiError('CreateImage', 'SignatureDoesNotMatch', sts)
    assert 'LTAIxyz' not in e.message and 'TOKEN123' not in e.message
    assert 'Action%3DCreateImage' in e.message
