# -*- coding: utf-8 -*-
"""OSS requests through oss2 are retried on 5xx, throttling and dropped connections within the same budget as
the ECS call path (plugins/module_utils/oss.py OssRetry / RetryingBucket), against a tiny scripted HTTP server
on 127.0.0.1 (oss2 and requests are not mocked)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import threading

try:
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
except ImportError:  # pragma: no cover
    pass

import pytest

from fake_clock import FakeClock

from ansible_collections.alicloud.ecs_images.plugins.module_utils import oss as O

oss2 = pytest.importorskip('oss2')

LIST_XML = (b'<?xml version="1.0" encoding="UTF-8"?><ListBucketResult><Name>b</Name><Prefix></Prefix>'
            b'<Marker></Marker><MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated>'
            b'<Contents><Key>k1</Key><LastModified>2026-01-01T00:00:00.000Z</LastModified><ETag>"x"</ETag>'
            b'<Type>Normal</Type><Size>3</Size><StorageClass>Standard</StorageClass></Contents>'
            b'</ListBucketResult>')


def error_xml(code):
    return ('<?xml version="1.0" encoding="UTF-8"?><Error><Code>%s</Code><Message>m</Message>'
            '<RequestId>RID</RequestId></Error>' % code).encode()


class Script(object):
    """Each request pops the next answer: (status, body, headers) or 'drop' (close the connection)."""

    def __init__(self):
        self.answers = []
        self.seen = []


@pytest.fixture
def server():
    for var in ('http_proxy', 'https_proxy', 'HTTP_PROXY', 'HTTPS_PROXY', 'all_proxy', 'ALL_PROXY'):
        os.environ.pop(var, None)
    script = Script()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = 'HTTP/1.1'

        def log_message(self, *args):
            pass

        def answer(self):
            length = int(self.headers.get('Content-Length') or 0)
            body_in = self.rfile.read(length) if length else b''
            script.seen.append((self.command, self.path, body_in))
            item = script.answers.pop(0) if len(script.answers) > 1 else script.answers[0]
            if item == 'drop':
                self.close_connection = True
                self.wfile.flush()
                self.connection.shutdown(2)
                return
            status, body, headers = item
            self.send_response(status)
            headers = dict(headers or {})
            headers.setdefault('Content-Length', str(len(body)))
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header('x-oss-request-id', 'RID-%d' % len(script.seen))
            self.end_headers()
            if self.command != 'HEAD':
                self.wfile.write(body)

        do_GET = do_HEAD = do_PUT = do_POST = do_DELETE = answer

    httpd = ThreadingHTTPServer(('127.0.0.1', 0), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever)
    thread.daemon = True
    thread.start()
    script.endpoint = 'http://127.0.0.1:%d' % httpd.server_address[1]
    yield script
    httpd.shutdown()
    httpd.server_close()


def make_client(script, **kw):
    clock = FakeClock()
    retry = O.OssRetry(sleep=clock.sleep, now=clock.now, **kw)
    client = O.OssClient(oss2.Auth('AKID', 'SECRET'), script.endpoint, connect_timeout=5, retry=retry)
    return client, clock


def test_head_is_retried_on_503_and_throttling_then_succeeds(server):
    server.answers = [(503, error_xml('ServiceUnavailable'), {}), (503, error_xml('SlowDown'), {}),
                      (200, b'', {'Content-Length': '7'})]
    client, clock = make_client(server)
    assert client.head('bkt1', 'k') is not None
    assert client.calls == 3 and client.retry.retries == 2 and len(clock.sleeps) == 2


def test_dropped_connection_is_retried(server):
    server.answers = ['drop', (200, LIST_XML, {'Content-Type': 'application/xml'})]
    client, clock = make_client(server)
    assert client.list_keys('bkt1') == ['k1']
    assert client.calls == 2


def test_list_is_retried_on_500(server):
    server.answers = [(500, error_xml('InternalError'), {}), (200, LIST_XML, {'Content-Type': 'application/xml'})]
    client, clock = make_client(server)
    assert client.list_keys('bkt1') == ['k1']
    assert [s[0] for s in server.seen] == ['GET', 'GET']


def test_refusals_are_not_retried(server):
    server.answers = [(403, error_xml('AccessDenied'), {})]
    client, clock = make_client(server)
    with pytest.raises(oss2.exceptions.OssError):
        client.read_range('bkt1', 'k', 0, 1)
    assert client.calls == 1 and clock.sleeps == []
    server.answers = [(404, error_xml('NoSuchKey'), {})]
    assert client.head('bkt1', 'k') is None
    assert client.calls == 2


def test_budget_is_bounded_by_tries(server):
    server.answers = [(503, error_xml('ServiceUnavailable'), {})]
    client, clock = make_client(server, max_tries=4, max_total=1000)
    with pytest.raises(oss2.exceptions.ServerError):
        client.head('bkt1', 'k')
    assert len(server.seen) == 4 and client.calls == 4


def test_ranged_read_is_one_budget_not_retries_of_retries(server):
    server.answers = [(503, error_xml('ServiceUnavailable'), {}), (206, b'ab', {'Content-Range': 'bytes 0-1/9'})]
    client, clock = make_client(server, max_tries=3)
    assert client.read_range('bkt1', 'k', 0, 1) == b'ab'
    assert len(server.seen) == 2 and client.calls == 2
    server.answers = [(503, error_xml('ServiceUnavailable'), {})]
    with pytest.raises(oss2.exceptions.ServerError):
        client.read_range('bkt1', 'k', 0, 1)
    assert len(server.seen) == 2 + 3   # three attempts, not 3 x 3


def test_put_of_bytes_is_retried_with_the_same_body(server):
    server.answers = [(502, b'', {}), (200, b'', {'ETag': '"e"'})]
    client, clock = make_client(server)
    client.bucket('bkt1').put_object('manifest.json', b'{"a": 1}')
    assert [(s[0], s[2]) for s in server.seen] == [('PUT', b'{"a": 1}'), ('PUT', b'{"a": 1}')]


@pytest.mark.parametrize('code, status, retry', [
    ('ServiceUnavailable', 503, True), ('SlowDown', 503, True), ('QpsLimitExceeded', 503, True),
    ('Throttling.User', 400, True), ('InternalError', 500, True), ('', 502, True),
    ('AccessDenied', 403, False), ('NoSuchKey', 404, False), ('NoSuchBucket', 404, False)])
def test_oss_retryable(code, status, retry):
    err = oss2.exceptions.ServerError(status, {}, b'', {'Code': code, 'Message': 'm'})
    assert O.oss_retryable(err) is retry


def test_unresolvable_host_is_not_retried():
    err = oss2.exceptions.RequestError(Exception('Failed to resolve (Name or service not known)'))
    assert O.oss_retryable(err) is False
    assert O.oss_retryable(oss2.exceptions.RequestError(Exception('Connection reset by peer'))) is True


def test_resumable_upload_resumes_and_stops_when_the_object_is_there(monkeypatch):
    calls = []
    answers = [oss2.exceptions.ServerError(503, {}, b'', {'Code': 'ServiceUnavailable'}), None]

    def fake_upload(bucket, key, filename, **kwargs):
        calls.append(kwargs['store'])
        answer = answers.pop(0)
        if answer is not None:
            raise answer
        return 'result'
    monkeypatch.setattr(oss2, 'resumable_upload', fake_upload)
    clock = FakeClock()
    retry = O.OssRetry(sleep=clock.sleep, now=clock.now)
    assert O.resumable_upload_retrying('B', 'k', 'f', retry, done=lambda: False, store='S') == 'result'
    assert calls == ['S', 'S'] and retry.calls == 2
    # a lost answer: the object is complete, the upload is not sent again
    calls[:] = []
    answers[:] = [oss2.exceptions.RequestError(Exception('Connection aborted')), None]
    assert O.resumable_upload_retrying('B', 'k', 'f', retry, done=lambda: True, store='S') is None
    assert calls == ['S']
