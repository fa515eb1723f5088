"""OSS through oss2 (path-style on the IP endpoint): objects, ranges, lists, multipart/resumable, signatures."""
import os
import time

import oss2
import pytest

from ecs_emulator.oss_store import crc64, synthesize_disk_image


def _bucket_names(emulator, account=0, with_objects=True):
    acc_id = emulator.accounts[account]["account_id"]
    names = [b.name for b in emulator.oss.buckets() if b.owner_account_id == acc_id
             and (bool(b.objects) == with_objects)]
    assert names, "the fixture must give account %d a bucket (with_objects=%s)" % (account, with_objects)
    return names


@pytest.fixture
def bucket(emulator):
    acc = emulator.accounts[0]
    return oss2.Bucket(oss2.Auth(acc["access_key_id"], acc["access_key_secret"]), emulator.oss_endpoint,
                       _bucket_names(emulator)[0])


def test_crc64_matches_oss2():
    data = os.urandom(5000)
    ref = oss2.utils.Crc64(0)
    ref.update(data)
    assert crc64(data) == ref.crc
    assert crc64(data[1000:], crc64(data[:1000])) == ref.crc     # continuation


def test_fixture_objects_have_magic_bytes(bucket, emulator):
    by_ext = {}
    for obj in oss2.ObjectIterator(bucket):       # by the fixture's declared format (keys may lie on purpose)
        by_ext.setdefault(emulator.oss.head(bucket.bucket_name, obj.key).format, obj)
    assert {"raw", "vhd", "qcow2"} <= set(by_ext)
    raw = by_ext["raw"]
    assert bucket.get_object(raw.key, byte_range=(510, 511)).read() == b"\x55\xaa"
    assert bucket.get_object(by_ext["qcow2"].key, byte_range=(0, 3)).read() == b"QFI\xfb"
    vhd = by_ext["vhd"]
    head = bucket.head_object(vhd.key)
    tail = bucket.get_object(vhd.key, byte_range=(head.content_length - 512, head.content_length - 1)).read()
    assert tail[:8] == b"conectix"
    # honest sizes: Content-Length is the real body size, and the body is small
    assert head.content_length == len(bucket.get_object(vhd.key).read()) <= 64 * 1024


def test_put_get_head_delete(bucket):
    r = bucket.put_object("t/hello.txt", b"hello world", headers={"Content-Type": "text/plain"})
    assert r.status == 200 and r.etag == "5EB63BBBE01EEED093CB22BB8F5ACDC3"
    assert r.crc == crc64(b"hello world")                 # oss2 also checks it (enable_crc)
    got = bucket.get_object("t/hello.txt")
    assert got.read() == b"hello world" and got.content_type == "text/plain"
    assert bucket.get_object("t/hello.txt", byte_range=(6, None)).read() == b"world"
    assert bucket.get_object("t/hello.txt", byte_range=(None, 5)).read() == b"world"
    # an unsatisfiable range: OSS answers the whole object unless standard behaviour is asked for
    assert bucket.get_object("t/hello.txt", byte_range=(100, 200)).read() == b"hello world"
    with pytest.raises(oss2.exceptions.ServerError) as ei:
        bucket.get_object("t/hello.txt", byte_range=(100, 200), headers={"x-oss-range-behavior": "standard"})
    assert ei.value.status == 416
    head = bucket.head_object("t/hello.txt")
    assert head.content_length == 11 and head.etag == r.etag
    assert bucket.object_exists("t/hello.txt")
    bucket.delete_object("t/hello.txt")
    assert not bucket.object_exists("t/hello.txt")
    with pytest.raises(oss2.exceptions.NoSuchKey) as ei:
        bucket.get_object("t/hello.txt")
    assert ei.value.status == 404 and ei.value.request_id and ei.value.details["Key"] == "t/hello.txt"
    with pytest.raises(oss2.exceptions.NotFound):
        bucket.head_object("t/hello.txt")
    bucket.delete_object("t/hello.txt")                  # deleting a missing key is not an error


def test_content_md5_checked(bucket):
    import base64
    import hashlib
    good = base64.b64encode(hashlib.md5(b"abc").digest()).decode()
    bucket.put_object("t/md5", b"abc", headers={"Content-MD5": good})
    with pytest.raises(oss2.exceptions.ServerError) as ei:
        bucket.put_object("t/md5", b"abd", headers={"Content-MD5": good})
    assert ei.value.code == "InvalidDigest"
    assert bucket.get_object("t/md5").read() == b"abc"


def test_list_v1_v2_prefix_delimiter_paging(bucket):
    keys = ["p/a/1", "p/a/2", "p/b/1", "p/c", "p/d e+f"]
    for k in keys:
        bucket.put_object(k, k.encode())
    assert [o.key for o in oss2.ObjectIterator(bucket, prefix="p/")] == sorted(keys)
    assert [o.key for o in oss2.ObjectIteratorV2(bucket, prefix="p/", max_keys=2)] == sorted(keys)
    res = bucket.list_objects(prefix="p/", delimiter="/")
    assert res.prefix_list == ["p/a/", "p/b/"] and [o.key for o in res.object_list] == ["p/c", "p/d e+f"]
    page = bucket.list_objects(prefix="p/", max_keys=2)
    assert page.is_truncated and [o.key for o in page.object_list] == ["p/a/1", "p/a/2"]
    nxt = bucket.list_objects(prefix="p/", max_keys=2, marker=page.next_marker)
    assert [o.key for o in nxt.object_list] == ["p/b/1", "p/c"]
    v2 = bucket.list_objects_v2(prefix="p/", max_keys=3)
    assert v2.is_truncated and v2.next_continuation_token
    rest = bucket.list_objects_v2(prefix="p/", continuation_token=v2.next_continuation_token)
    assert [o.key for o in v2.object_list + rest.object_list] == sorted(keys)


def test_bucket_info_and_location(bucket, emulator):
    info = bucket.get_bucket_info()
    store_bucket = emulator.oss.bucket(bucket.bucket_name)
    assert info.name == bucket.bucket_name and info.location == "oss-" + store_bucket.region
    assert info.owner.id == emulator.accounts[0]["account_id"]
    assert bucket.get_bucket_location().location == "oss-" + store_bucket.region


def test_multipart_by_hand(bucket):
    key = "mp/manual.bin"
    parts_data = [os.urandom(100 * 1024), os.urandom(100 * 1024), b"tail"]
    upload_id = bucket.init_multipart_upload(key).upload_id
    assert [u.upload_id for u in bucket.list_multipart_uploads().upload_list] == [upload_id]
    parts = []
    for n, data in enumerate(parts_data, 1):
        r = bucket.upload_part(key, upload_id, n, data)
        parts.append(oss2.models.PartInfo(n, r.etag, size=len(data), part_crc=r.crc))
    listed = bucket.list_parts(key, upload_id).parts
    assert [(p.part_number, p.size) for p in listed] == [(1, 102400), (2, 102400), (3, 4)]
    res = bucket.complete_multipart_upload(key, upload_id, parts)
    assert res.etag.endswith("-3")
    assert bucket.get_object(key).read() == b"".join(parts_data)
    assert bucket.list_multipart_uploads().upload_list == []


def test_multipart_errors(bucket):
    key = "mp/bad.bin"
    upload_id = bucket.init_multipart_upload(key).upload_id
    r1 = bucket.upload_part(key, upload_id, 1, b"small")
    r2 = bucket.upload_part(key, upload_id, 2, b"x")
    with pytest.raises(oss2.exceptions.ServerError) as ei:        # non-last part < 100 KiB
        bucket.complete_multipart_upload(key, upload_id, [oss2.models.PartInfo(1, r1.etag),
                                                          oss2.models.PartInfo(2, r2.etag)])
    assert ei.value.code == "EntityTooSmall"
    with pytest.raises(oss2.exceptions.ServerError) as ei:
        bucket.complete_multipart_upload(key, upload_id, [oss2.models.PartInfo(1, "0" * 32)])
    assert ei.value.code == "InvalidPart"
    bucket.abort_multipart_upload(key, upload_id)
    with pytest.raises(oss2.exceptions.NoSuchUpload):
        bucket.upload_part(key, upload_id, 3, b"late")
    assert not bucket.object_exists(key)


def test_resumable_upload_and_download(bucket, tmp_path):
    data = os.urandom(3 * 1024 * 1024 + 17)
    src = tmp_path / "disk.raw"
    src.write_bytes(data)
    store = oss2.ResumableStore(root=str(tmp_path / "ckpt"))
    oss2.resumable_upload(bucket, "big/disk.raw", str(src), store=store, multipart_threshold=1024 * 1024,
                          part_size=1024 * 1024, num_threads=3)
    head = bucket.head_object("big/disk.raw")
    assert head.content_length == len(data) and head.etag.endswith("-4")
    assert head.object_type == "Multipart"
    dst = tmp_path / "back.raw"
    oss2.resumable_download(bucket, "big/disk.raw", str(dst), multiget_threshold=1024 * 1024,
                            part_size=1024 * 1024, store=oss2.ResumableDownloadStore(root=str(tmp_path / "d")))
    assert dst.read_bytes() == data


def test_batch_delete(bucket):
    for k in ("bd/1", "bd/2"):
        bucket.put_object(k, b"x")
    assert sorted(bucket.batch_delete_objects(["bd/1", "bd/2"]).deleted_keys) == ["bd/1", "bd/2"]
    assert [o.key for o in oss2.ObjectIterator(bucket, prefix="bd/")] == []


def test_bad_signature_and_unknown_key(emulator, bucket):
    acc = emulator.accounts[0]
    bad = oss2.Bucket(oss2.Auth(acc["access_key_id"], "wrong"), emulator.oss_endpoint, bucket.bucket_name)
    with pytest.raises(oss2.exceptions.OssError) as ei:
        bad.get_object("anything")
    assert ei.value.status == 403 and ei.value.code == "SignatureDoesNotMatch"
    assert ei.value.details.get("StringToSign", "").startswith("GET\n")
    unknown = oss2.Bucket(oss2.Auth("LTAInobody", "x"), emulator.oss_endpoint, bucket.bucket_name)
    with pytest.raises(oss2.exceptions.OssError) as ei:
        unknown.list_objects()
    assert ei.value.status == 403 and ei.value.code == "InvalidAccessKeyId"
    anon = oss2.Bucket(oss2.AnonymousAuth(), emulator.oss_endpoint, bucket.bucket_name)
    with pytest.raises(oss2.exceptions.AccessDenied):
        anon.list_objects()


def test_other_account_denied_and_missing_bucket(emulator, bucket):
    acc2 = emulator.accounts[1]
    other = oss2.Bucket(oss2.Auth(acc2["access_key_id"], acc2["access_key_secret"]), emulator.oss_endpoint,
                        bucket.bucket_name)
    with pytest.raises(oss2.exceptions.AccessDenied):
        other.list_objects()
    acc = emulator.accounts[0]
    missing = oss2.Bucket(oss2.Auth(acc["access_key_id"], acc["access_key_secret"]), emulator.oss_endpoint,
                          "no-such-bucket-here")
    with pytest.raises(oss2.exceptions.NoSuchBucket) as ei:
        missing.put_object("k", b"v")
    assert ei.value.status == 404


def test_presigned_url(emulator, bucket):
    import requests
    bucket.put_object("ps/obj", b"presigned")
    url = bucket.sign_url("GET", "ps/obj", 60)
    s = requests.Session()
    s.trust_env = False
    assert s.get(url, timeout=5).content == b"presigned"
    assert s.get(url.replace("Signature=", "Signature=x"), timeout=5).status_code == 403


def test_sts_credentials_work_on_oss(emulator, ecs_client, bucket):
    import json
    from ecs_emulator import testing
    role = emulator.accounts[0]["roles"][0]
    req = testing.common_request("AssumeRole", {"RoleArn": role, "RoleSessionName": "oss"}, version="2015-04-01",
                                 product="Sts")
    cred = json.loads(ecs_client.do_action_with_exception(req))["Credentials"]
    sts_bucket = oss2.Bucket(oss2.StsAuth(cred["AccessKeyId"], cred["AccessKeySecret"], cred["SecurityToken"]),
                             emulator.oss_endpoint, bucket.bucket_name)
    sts_bucket.put_object("sts/obj", b"via sts")
    assert bucket.get_object("sts/obj").read() == b"via sts"
    wrong = oss2.Bucket(oss2.StsAuth(cred["AccessKeyId"], cred["AccessKeySecret"], "CAISbogus"),
                        emulator.oss_endpoint, bucket.bucket_name)
    with pytest.raises(oss2.exceptions.OssError) as ei:
        wrong.list_objects()
    assert ei.value.code == "InvalidSecurityToken"


def test_oss_requests_are_logged(emulator, bucket, admin):
    bucket.put_object("log/obj", b"x")
    entry = admin("GET", "requests")["requests"][-1]
    assert entry["service"] == "oss" and entry["action"] == "oss:PutObject" and entry["status"] == 200
    assert entry["account_id"] == emulator.accounts[0]["account_id"]


def test_synthesized_headers_declare_virtual_size():
    import struct
    q = synthesize_disk_image("qcow2", 10 * 2 ** 30)
    assert struct.unpack(">Q", q[24:32])[0] == 10 * 2 ** 30
    v = synthesize_disk_image("vhd", 20 * 2 ** 30)
    assert struct.unpack(">Q", v[-512 + 48:-512 + 56])[0] == 20 * 2 ** 30
    k = synthesize_disk_image("vmdk", 2 ** 30)
    assert k[:4] == b"KDMV" and struct.unpack("<Q", k[12:20])[0] == 2 ** 30 // 512
    with pytest.raises(ValueError):
        synthesize_disk_image("iso", 1)


def test_oss_log_entry_recorded_before_the_response(emulator, bucket, admin, monkeypatch):
    """Slow log appends must delay the answer, never let the client see its answer before its log entry."""
    log = emulator.state.log
    real_add = log.add

    def slow_add(entry, generation=None):
        time.sleep(0.15)
        return real_add(entry, generation)
    monkeypatch.setattr(log, "add", slow_add)
    bucket.put_object("log/early", b"abc")
    assert admin("GET", "requests")["requests"][-1]["action"] == "oss:PutObject"
    assert bucket.get_object("log/early").read() == b"abc"
    last = admin("GET", "requests")["requests"][-1]
    assert (last["action"], last["status"]) == ("oss:GetObject", 200)
    with pytest.raises(oss2.exceptions.NoSuchKey):
        bucket.get_object("log/missing")
    last = admin("GET", "requests")["requests"][-1]
    assert (last["action"], last["status"], last["code"]) == ("oss:GetObject", 404, "NoSuchKey")
