#!/usr/bin/env python
# -*- coding: utf-8 -*-
"""Test helper: put or delete a small disk-image-like object in OSS with oss2 (emulator or real cloud).

usage: oss_object.py put BUCKET KEY KIND      KIND: vmdk | vdi | corrupt | raw | qcow2 | vhd
       oss_object.py delete BUCKET KEY
       oss_object.py list BUCKET PREFIX        (prints a JSON list of keys)
       oss_object.py purge BUCKET PREFIX       (deletes every key under PREFIX; PREFIX must not be empty)
Credentials and endpoint from the environment: ALIBABA_CLOUD_ACCESS_KEY_ID, ALIBABA_CLOUD_ACCESS_KEY_SECRET,
ALIBABA_CLOUD_SECURITY_TOKEN (optional), ALIBABA_CLOUD_OSS_ENDPOINT or ALIBABA_CLOUD_REGION_ID.
Prints JSON {"changed": bool}.
"""
import json
import os
import struct
import sys

import oss2

SIZE = 4096


def body(kind):
    buf = bytearray(SIZE)
    if kind == 'vmdk':
        buf[0:4] = b'KDMV'
        buf[4:8] = struct.pack('<I', 1)
    elif kind == 'vdi':
        text = b'<<< Oracle VM VirtualBox Disk Image >>>\n'
        buf[0:len(text)] = text
        buf[0x40:0x44] = struct.pack('<I', 0xbeda107f)
    elif kind == 'corrupt':   # no signature at all (not even an MBR): looks RAW, the import task fails
        buf[:] = bytes((i * 37 + 11) % 251 for i in range(SIZE))
        buf[510:512] = b'\0\0'
    elif kind == 'raw':
        buf[510:512] = b'\x55\xaa'
    elif kind == 'qcow2':
        buf[0:4] = b'QFI\xfb'
        buf[4:8] = struct.pack('>I', 3)
    elif kind == 'vhd':
        buf[-512:-504] = b'conectix'
    else:
        raise SystemExit('unknown kind %s' % kind)
    return bytes(buf)


def main():
    env = os.environ
    endpoint = env.get('ALIBABA_CLOUD_OSS_ENDPOINT') or 'https://oss-%s.aliyuncs.com' % env['ALIBABA_CLOUD_REGION_ID']
    ak, sk = env['ALIBABA_CLOUD_ACCESS_KEY_ID'], env['ALIBABA_CLOUD_ACCESS_KEY_SECRET']
    token = env.get('ALIBABA_CLOUD_SECURITY_TOKEN')
    auth = oss2.StsAuth(ak, sk, token) if token else oss2.Auth(ak, sk)
    op, bucket_name = sys.argv[1], sys.argv[2]
    bucket = oss2.Bucket(auth, endpoint, bucket_name)
    if op == 'put':
        bucket.put_object(sys.argv[3], body(sys.argv[4]))
        print(json.dumps({'changed': True}))
    elif op == 'delete':
        existed = bucket.object_exists(sys.argv[3])
        if existed:
            bucket.delete_object(sys.argv[3])
        print(json.dumps({'changed': existed}))
    elif op == 'list':
        print(json.dumps([o.key for o in oss2.ObjectIterator(bucket, prefix=sys.argv[3])]))
    elif op == 'purge' and sys.argv[3]:
        keys = [o.key for o in oss2.ObjectIterator(bucket, prefix=sys.argv[3])]
        for key in keys:
            bucket.delete_object(key)
        print(json.dumps({'changed': bool(keys), 'deleted': keys}))
    else:
        raise SystemExit(__doc__)


if __name__ == '__main__':
    main()
