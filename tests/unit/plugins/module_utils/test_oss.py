# -*- coding: utf-8 -*-
"""Unit tests of the OSS helpers' pure logic (plugins/module_utils/oss.py): format sniffing, format checks,
endpoint resolution, export prefix and export object-key matching; OssClient and the import pre-checks through
oss2 against the emulator's OSS server; OSS retries (OssRetry / RetryingBucket) on 5xx, throttling and dropped
connections within the ECS call path's budget, against a tiny scripted HTTP server on 127.0.0.1 (oss2 and requests
are not mocked)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import struct
import threading

try:
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
except ImportError:  # pragma: no cover
    pass

import pytest

from fake_clock import FakeClock

from ansible_collections.alicloud.ecs_images.plugins.module_utils import oss as O
from ansible_collections.alicloud.ecs_images.plugins.module_utils.oss import (  # noqa: E402
    EXPORT_FORMAT_REGIONS, IMPORT_FORMATS, OssCheckError, OssClient, check_export_prefix, check_import_disk,
    check_import_format, export_format_in_region, resolve_oss_endpoint, sniff_format)

oss2 = pytest.importorskip('oss2')


# ---------------------------------------------------------------- realistic headers of each format
def qcow2_head():
    # magic, version 3, backing file offset 0, size 0, cluster bits 16, virtual size 1 GiB
    return b'QFI\xfb' + struct.pack('>IQIIQ', 3, 0, 0, 16, 1 << 30) + b'\0' * 480


def vhd_footer(disk_type=2):
    footer = bytearray(512)
    footer[0:8] = b'conectix'
    footer[8:12] = struct.pack('>I', 2)          # features
    footer[12:16] = struct.pack('>I', 0x00010000)  # version
    footer[60:64] = struct.pack('>I', disk_type)   # 2 fixed, 3 dynamic
    return bytes(footer)


def mbr_sector():
    sector = bytearray(512)
    sector[510:512] = b'\x55\xaa'
    return bytes(sector)


def vdi_head():
    head = bytearray(512)
    text = b'<<< Oracle VM VirtualBox Disk Image >>>\n'
    head[0:len(text)] = text
    head[0x40:0x44] = struct.pack('<I', 0xbeda107f)
    return bytes(head)


def vmdk_head():
    return b'KDMV' + struct.pack('<I', 1) + b'\0' * 504


@pytest.mark.parametrize('head, tail, expected', [
    (qcow2_head(), b'\0' * 512, 'QCOW2'),
    (mbr_sector(), vhd_footer(), 'VHD'),                       # fixed VHD: footer at the end only
    (vhd_footer(3), vhd_footer(3), 'VHD'),                     # dynamic VHD: footer copy at 0 too
    (mbr_sector(), vhd_footer()[:511] + b'', 'VHD'),           # old 511-byte footer
    (vmdk_head(), b'\0' * 512, 'VMDK'),
    (b'# Disk DescriptorFile\nversion=1\n', b'', 'VMDK'),
    (vdi_head(), b'\0' * 512, 'VDI'),
    (mbr_sector(), mbr_sector(), 'RAW'),
    (b'', b'', 'RAW'),
    (b'\0' * 512, b'\0' * 500 + b'conectix' + b'\0' * 4, 'RAW'),  # cookie at a wrong offset is not a footer
])
def test_sniff_format(head, tail, expected):
    assert sniff_format(head, tail) == expected


def test_sniff_prefers_head_magic_over_tail():
    # a qcow2 whose last bytes happen to contain a VHD cookie is still qcow2
    assert sniff_format(qcow2_head(), vhd_footer()) == 'QCOW2'


@pytest.mark.parametrize('declared, detected, expected', [
    ('raw', 'RAW', 'RAW'),
    ('Qcow2', 'QCOW2', 'QCOW2'),
    ('VHD', 'VHD', 'VHD'),
    (None, 'VHD', 'VHD'),
    ('vhd', None, 'VHD'),
])
def test_check_import_format_accepts(declared, detected, expected):
    assert check_import_format(declared, detected, 'oss://b/k') == expected


def test_check_import_format_rejects_unaccepted_format_with_conversion_hint():
    with pytest.raises(OssCheckError) as err:
        check_import_format('vmdk', None, 'oss://b/disk.vmdk')
    msg = err.value.msg
    assert err.value.option == 'format'
    assert 'oss://b/disk.vmdk' in msg and 'vmdk' in msg
    for fmt in IMPORT_FORMATS:
        assert fmt in msg
    assert 'qemu-img convert' in msg


def test_check_import_format_rejects_mismatch():
    with pytest.raises(OssCheckError) as err:
        check_import_format('RAW', 'QCOW2', 'oss://b/k.raw')
    assert 'format is RAW but the object looks like QCOW2' in err.value.msg
    assert 'QFI' in err.value.msg


def test_check_import_format_rejects_detected_vmdk_without_declared_format():
    with pytest.raises(OssCheckError) as err:
        check_import_format(None, 'VMDK', 'oss://b/k')
    assert 'looks like a VMDK' in err.value.msg and 'qemu-img' in err.value.msg


def test_declared_vhd_on_raw_file_is_refused():
    # VHD declared, but no footer: the file is raw
    with pytest.raises(OssCheckError) as err:
        check_import_format('VHD', sniff_format(mbr_sector(), mbr_sector()), 'w')
    assert 'looks like RAW' in err.value.msg


@pytest.mark.parametrize('option, env, region, expected', [
    ('http://127.0.0.1:9000/', {'ALIBABA_CLOUD_OSS_ENDPOINT': 'http://x'}, 'cn-hangzhou', 'http://127.0.0.1:9000'),
    (None, {'ALIBABA_CLOUD_OSS_ENDPOINT': 'http://127.0.0.1:1'}, 'cn-hangzhou', 'http://127.0.0.1:1'),
    (None, {}, 'cn-shanghai', 'https://oss-cn-shanghai.aliyuncs.com'),
    ('oss-cn-hangzhou-internal.aliyuncs.com', {}, 'cn-hangzhou', 'https://oss-cn-hangzhou-internal.aliyuncs.com'),
    ('', {}, 'eu-central-1', 'https://oss-eu-central-1.aliyuncs.com'),
])
def test_resolve_oss_endpoint(option, env, region, expected):
    assert resolve_oss_endpoint(option, region, environ=env) == expected


@pytest.mark.parametrize('prefix, ok', [
    (None, True), ('nightly', True), ('A1' * 15, True), ('a' * 31, False), ('', False),
    ('bad/prefix', False), ('with-dash', False), ('under_score', False), ('dot.ted', False),
])
def test_check_export_prefix(prefix, ok):
    msg = check_export_prefix(prefix)
    assert (msg is None) == ok
    if not ok:
        assert 'oss_prefix' in msg and '1 to 30 letters and digits' in msg


@pytest.mark.parametrize('fmt, region, produced', [
    ('raw', 'cn-hangzhou', 'raw'), ('qcow2', 'cn-hangzhou', 'raw'), ('vhd', 'cn-shanghai', 'raw'),
    ('qcow2', 'ap-southeast-1', 'qcow2'), ('vmdk', 'eu-central-1', 'vmdk'), ('vdi', 'us-west-1', 'vdi'),
    ('VHD', 'ap-northeast-1', 'vhd'), (None, 'us-east-1', 'raw')])
def test_export_format_in_region(fmt, region, produced):
    assert export_format_in_region(fmt, region) == produced


def test_export_format_regions_are_the_nine_documented_ones():
    assert sorted(EXPORT_FORMAT_REGIONS) == sorted([
        'ap-northeast-1', 'ap-southeast-5', 'eu-central-1', 'me-east-1', 'us-east-1', 'eu-west-1',
        'ap-southeast-1', 'ap-southeast-3', 'us-west-1'])


# ---------------------------------------------------------------- through oss2 against the emulator
BUCKET = 'ecs-images-hz'
OBJECTS = {'raw': 'disks/alinux3-minimal.raw', 'vhd': 'disks/ubuntu2204-cloud.vhd',
           'qcow2': 'disks/debian12-generic.qcow2', 'vmdk': 'disks/centos7-legacy.vmdk',
           'corrupt': 'disks/broken-really-raw.qcow2'}


@pytest.fixture(scope='module')
def emu():
    for var in ('http_proxy', 'https_proxy', 'HTTP_PROXY', 'HTTPS_PROXY', 'all_proxy', 'ALL_PROXY'):
        os.environ.pop(var, None)
    server = pytest.importorskip('ecs_emulator.server')
    emulator = server.start_emulator(time_scale=0.01)
    yield emulator
    emulator.stop()


@pytest.fixture
def client(emu):
    acc = emu.accounts[0]
    return OssClient(oss2.Auth(acc['access_key_id'], acc['access_key_secret']), emu.oss_endpoint)


@pytest.mark.parametrize('role, expected', [
    ('raw', 'RAW'), ('vhd', 'VHD'), ('qcow2', 'QCOW2'), ('vmdk', 'VMDK'),
    ('corrupt', 'RAW'),          # named .qcow2, content raw: the name does not fool the sniffer
])
def test_sniff_fixture_objects(client, role, expected):
    size = client.head(BUCKET, OBJECTS[role])
    assert size > 0
    assert client.sniff(BUCKET, OBJECTS[role], size) == expected


def test_sniff_small_and_large_objects(client):
    bucket = client.bucket(BUCKET)
    bucket.put_object('unit/tiny.qcow2', b'QFI\xfb' + b'\0' * 60)                      # smaller than 1 KiB
    footer = bytearray(512)
    footer[0:8] = b'conectix'
    bucket.put_object('unit/big.vhd', b'\0' * (64 * 1024) + bytes(footer))             # footer only at the end
    vdi = bytearray(8192)
    vdi[0x40:0x44] = struct.pack('<I', 0xbeda107f)
    bucket.put_object('unit/disk.vdi', bytes(vdi))
    try:
        assert client.sniff(BUCKET, 'unit/tiny.qcow2', client.head(BUCKET, 'unit/tiny.qcow2')) == 'QCOW2'
        assert client.sniff(BUCKET, 'unit/big.vhd', client.head(BUCKET, 'unit/big.vhd')) == 'VHD'
        assert client.sniff(BUCKET, 'unit/disk.vdi', client.head(BUCKET, 'unit/disk.vdi')) == 'VDI'
        assert sorted(client.list_keys(BUCKET, 'unit/')) == ['unit/big.vhd', 'unit/disk.vdi', 'unit/tiny.qcow2']
    finally:
        for key in ('unit/tiny.qcow2', 'unit/big.vhd', 'unit/disk.vdi'):
            bucket.delete_object(key)


def test_head_missing_object_is_none(client):
    assert client.head(BUCKET, 'disks/nope.raw') is None


def test_check_bucket_missing(client):
    with pytest.raises(OssCheckError) as err:
        client.check_bucket('no-such-bucket-here')
    assert err.value.option == 'oss_bucket' and 'does not exist' in err.value.msg


def test_check_import_disk_accepts_and_detects(client):
    fmt, size = check_import_disk(client, dict(oss_bucket=BUCKET, oss_object=OBJECTS['vhd'], format=None), 'w')
    assert fmt == 'VHD' and size > 0
    assert check_import_disk(client, dict(oss_bucket=BUCKET, oss_object=OBJECTS['qcow2'], format='qcow2'),
                             'w')[0] == 'QCOW2'


@pytest.mark.parametrize('disk, option, needle', [
    (dict(oss_bucket=BUCKET, oss_object='disks/nope.raw', format='RAW'), 'oss_object', 'does not exist'),
    (dict(oss_bucket='no-such-bucket-here', oss_object='x.raw', format='RAW'), 'oss_bucket', 'does not exist'),
    (dict(oss_bucket=BUCKET, oss_object=OBJECTS['corrupt'], format='QCOW2'), 'format', 'looks like RAW'),
    (dict(oss_bucket=BUCKET, oss_object=OBJECTS['vmdk'], format=None), 'format', 'looks like a VMDK'),
    (dict(oss_bucket=BUCKET, oss_object=OBJECTS['raw'], format='vmdk'), 'format', 'qemu-img'),
])
def test_check_import_disk_refusals(client, disk, option, needle):
    with pytest.raises(OssCheckError) as err:
        check_import_disk(client, disk, 'where')
    assert err.value.option == option and needle in err.value.msg


def test_unaccepted_format_is_refused_without_any_oss_call(client):
    before = client.calls
    with pytest.raises(OssCheckError):
        check_import_disk(client, dict(oss_bucket=BUCKET, oss_object=OBJECTS['raw'], format='VDI'), 'where')
    assert client.calls == before


def test_sniff_reads_at_most_two_ranges(client):
    before = client.calls
    size = client.head(BUCKET, OBJECTS['raw'])
    client.sniff(BUCKET, OBJECTS['raw'], size)
    assert client.calls - before == 3   # head + first 512 bytes + last 512 bytes


@pytest.mark.parametrize('option, env, where', [
    ('htp://127.0.0.1:1', {}, 'option oss_endpoint'),
    (None, {'ALIBABA_CLOUD_OSS_ENDPOINT': 'http://127.0.0.1:99999'}, 'environment variable ALIBABA_CLOUD_OSS_ENDPOINT'),
    ('oss-cn-hangzhou.aliyuncs.com/bucket', {}, 'option oss_endpoint'),
])
def test_resolve_oss_endpoint_refuses_a_bad_endpoint(option, env, where):
    from ansible_collections.alicloud.ecs_images.plugins.module_utils.validation import OptionError
    with pytest.raises(OptionError) as exc:
        resolve_oss_endpoint(option, 'cn-hangzhou', environ=env)
    assert str(exc.value).startswith(where) and 'http(s)://host[:port]' in str(exc.value)
    assert exc.value.option == 'oss_endpoint'


# ---------------------------------------------------------------- retries against a scripted HTTP server

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
