# -*- coding: utf-8 -*-
"""OssClient and the import pre-checks through oss2 against the emulator's OSS server (not mocked)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import struct

import pytest

from ansible_collections.alicloud.ecs_images.plugins.module_utils.oss import (  # noqa: E402
    OssCheckError, OssClient, check_import_disk)

oss2 = pytest.importorskip('oss2')
server = pytest.importorskip('ecs_emulator.server')

BUCKET = 'ecs-images-hz'
OBJECTS = {'raw': 'disks/alinux3-minimal.raw', 'vhd': 'disks/ubuntu2204-cloud.vhd',
           'qcow2': 'disks/debian12-generic.qcow2', 'vmdk': 'disks/centos7-legacy.vmdk',
           'corrupt': 'disks/broken-really-raw.qcow2'}


@pytest.fixture(scope='module')
def emu():
    for var in ('http_proxy', 'https_proxy', 'HTTP_PROXY', 'HTTPS_PROXY', 'all_proxy', 'ALL_PROXY'):
        os.environ.pop(var, None)
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
