"""In-memory OSS object store shared by the OSS HTTP server and the ECS backend (ImportImage/ExportImage).

API used by the backend (see docs/dev/ARCHITECTURE.md):
``store.bucket(name) -> Bucket | None``, ``store.head(bucket, key) -> ObjectMeta | None``,
``store.get(bucket, key) -> bytes``, ``store.put(bucket, key, data, content_type=None)``,
``store.list(bucket, prefix='') -> list[ObjectMeta]``.  ``bucket`` may be a name or a ``Bucket``.
``store.before_read``: optional callable run before each of head/get/get_with_meta/list (the backend's ``advance``).
"""
import hashlib
import struct
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Dict, Optional

# ---------------------------------------------------------------------------------------------- CRC64
# CRC-64/XZ (a.k.a. CRC64-ECMA as OSS calls it): reflected poly 0xC96C5795D7870F42, init/xorout all ones.
_CRC64_POLY = 0xC96C5795D7870F42
_CRC64_TABLE = []
for _i in range(256):
    _c = _i
    for _ in range(8):
        _c = (_c >> 1) ^ _CRC64_POLY if _c & 1 else _c >> 1
    _CRC64_TABLE.append(_c)


def crc64(data, crc=0):
    """CRC64-ECMA of ``data`` as OSS reports it in ``x-oss-hash-crc64ecma`` (continues from ``crc``)."""
    table = _CRC64_TABLE
    crc ^= 0xFFFFFFFFFFFFFFFF
    for b in data:
        crc = table[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFFFFFFFFFF


# ---------------------------------------------------------------------------------------------- model
@dataclass
class ObjectMeta:
    key: str
    size: int                      # real size of the stored body (what Content-Length says)
    etag: str                      # as OSS shows it, without quotes: upper-case MD5 hex (or "...-N")
    last_modified: float           # epoch seconds
    content_type: str = "application/octet-stream"
    crc64: int = 0
    virtual_size: Optional[int] = None   # fixture objects: the disk size the synthetic image header declares
    format: Optional[str] = None         # fixture objects: raw/vhd/qcow2/vmdk


@dataclass
class _Upload:
    upload_id: str
    key: str
    content_type: str
    initiated: float
    parts: Dict[int, tuple] = field(default_factory=dict)   # number -> (etag, data, last_modified)


class Bucket:
    def __init__(self, name, region, owner_account_id, creation_time=None):
        self.name = name
        self.region = region
        self.owner_account_id = owner_account_id
        self.creation_time = creation_time or time.time()
        self.objects = {}      # key -> (ObjectMeta, bytes)
        self.uploads = {}      # upload_id -> _Upload

    @property
    def location(self):
        return "oss-" + self.region

    @property
    def extranet_endpoint(self):
        return "oss-%s.aliyuncs.com" % self.region


class OssError(Exception):
    """Raised by the store for OSS-level errors; the OSS server renders it as OSS XML."""

    def __init__(self, status, code, message, **extra):
        super().__init__("%s %s: %s" % (status, code, message))
        self.status = status
        self.code = code
        self.message = message
        self.extra = extra


# ---------------------------------------------------------------------------------------------- synthesis
def synthesize_disk_image(fmt, declared_size, body_size=4096):
    """A small body carrying the real magic bytes of ``fmt`` and declaring ``declared_size`` where the format can.

    RAW: MBR signature 0x55AA at 510. VHD: ``conectix`` footer in the last 512 bytes (current size field).
    QCOW2: ``QFI\\xfb`` header at 0 (version 3, virtual size). VMDK: ``KDMV`` sparse header (capacity in sectors).
    """
    fmt = (fmt or "raw").lower()
    body_size = max(1024, int(body_size))
    if fmt == "raw":
        body_size = max(512, min(int(declared_size or body_size), body_size))
    buf = bytearray(body_size)
    if fmt == "raw":
        buf[446] = 0x80              # one bootable partition entry, type 0x83 (Linux)
        buf[450] = 0x83
        buf[454:458] = struct.pack("<I", 2048)
        buf[510] = 0x55
        buf[511] = 0xAA
    elif fmt == "vhd":
        footer = bytearray(512)
        footer[0:8] = b"conectix"
        footer[8:12] = struct.pack(">I", 2)              # features
        footer[12:16] = struct.pack(">I", 0x00010000)    # file format version
        footer[16:24] = struct.pack(">Q", 0xFFFFFFFFFFFFFFFF)   # data offset (fixed disk)
        footer[28:32] = b"ecse"
        footer[40:48] = struct.pack(">Q", int(declared_size or body_size))   # original size
        footer[48:56] = struct.pack(">Q", int(declared_size or body_size))   # current size
        footer[60:64] = struct.pack(">I", 2)             # disk type: fixed
        checksum = (~sum(footer)) & 0xFFFFFFFF
        footer[64:68] = struct.pack(">I", checksum)
        buf[-512:] = footer
    elif fmt == "qcow2":
        buf[0:4] = b"QFI\xfb"
        buf[4:8] = struct.pack(">I", 3)
        buf[20:24] = struct.pack(">I", 16)               # cluster bits
        buf[24:32] = struct.pack(">Q", int(declared_size or body_size))
        buf[100:104] = struct.pack(">I", 104)            # header length (v3)
    elif fmt == "vmdk":
        buf[0:4] = b"KDMV"
        buf[4:8] = struct.pack("<I", 1)
        buf[12:20] = struct.pack("<Q", (int(declared_size or body_size) + 511) // 512)
        buf[20:28] = struct.pack("<Q", 128)              # grain size (sectors)
    else:
        raise ValueError("unknown disk format %r" % fmt)
    return bytes(buf)


def _md5_hex(data):
    return hashlib.md5(data).hexdigest().upper()


# ---------------------------------------------------------------------------------------------- store
class OssStore:
    """Thread-safe in-memory OSS."""

    def __init__(self):
        self._lock = threading.RLock()
        self._buckets = {}
        # Callable run (without the store's lock held) before every object read: head, get, get_with_meta, list.
        # The backend registers its ``advance`` here so that jobs due by now (an export's objects) are finished
        # before anybody — the OSS server, the backend, a test — looks at the objects.
        self.before_read = None

    def _reading(self):
        hook = self.before_read
        if hook is not None:
            hook()

    # -- construction
    @classmethod
    def from_fixture(cls, oss_section, accounts):
        """Build from the fixture's ``oss`` section; ``account`` may be an account name or id."""
        store = cls()
        by_name = {}
        for acc in accounts or []:
            by_name[acc.get("name")] = acc["account_id"]
            by_name[acc["account_id"]] = acc["account_id"]
        for b in (oss_section or {}).get("buckets", []):
            owner = by_name.get(b.get("account"), b.get("account"))
            bucket = store.create_bucket(b["name"], b["region"], owner)
            for obj in b.get("objects", []):
                if "content" in obj:
                    data = obj["content"].encode("utf-8")
                    store.put(bucket, obj["key"], data, obj.get("content_type"))
                    continue
                fmt = obj.get("format", "raw")
                size = int(obj.get("size", 4096))
                data = synthesize_disk_image(fmt, size, obj.get("body_size", 4096))
                meta = store.put(bucket, obj["key"], data)
                meta.virtual_size = size
                meta.format = fmt.lower()
        return store

    def create_bucket(self, name, region, owner_account_id):
        with self._lock:
            if name in self._buckets:
                raise OssError(409, "BucketAlreadyExists", "The requested bucket name is not available.")
            b = Bucket(name, region, owner_account_id)
            self._buckets[name] = b
            return b

    # -- helpers
    def _b(self, bucket):
        if isinstance(bucket, Bucket):
            return bucket
        b = self._buckets.get(bucket)
        if b is None:
            raise OssError(404, "NoSuchBucket", "The specified bucket does not exist.", BucketName=bucket)
        return b

    # -- backend API
    def bucket(self, name):
        with self._lock:
            return self._buckets.get(name)

    def buckets(self):
        with self._lock:
            return list(self._buckets.values())

    def head(self, bucket, key):
        self._reading()
        with self._lock:
            b = self._buckets.get(bucket.name if isinstance(bucket, Bucket) else bucket)
            if b is None:
                return None
            entry = b.objects.get(key)
            return entry[0] if entry else None

    def get(self, bucket, key):
        return self.get_with_meta(bucket, key)[1]

    def get_with_meta(self, bucket, key):
        """(ObjectMeta, bytes); raises OssError NoSuchBucket / NoSuchKey."""
        self._reading()
        with self._lock:
            b = self._b(bucket)
            entry = b.objects.get(key)
            if entry is None:
                raise OssError(404, "NoSuchKey", "The specified key does not exist.", Key=key)
            return entry

    def put(self, bucket, key, data, content_type=None):
        data = bytes(data)
        meta = ObjectMeta(key=key, size=len(data), etag=_md5_hex(data), last_modified=time.time(),
                          content_type=content_type or "application/octet-stream", crc64=crc64(data))
        with self._lock:
            b = self._b(bucket)
            b.objects[key] = (meta, data)
        return meta

    def delete(self, bucket, key):
        with self._lock:
            b = self._b(bucket)
            return b.objects.pop(key, None) is not None

    def list(self, bucket, prefix=""):
        self._reading()
        with self._lock:
            b = self._b(bucket)
            return sorted((m for m, _data in b.objects.values() if m.key.startswith(prefix or "")),
                          key=lambda m: m.key)

    # -- multipart
    def initiate_upload(self, bucket, key, content_type=None):
        with self._lock:
            b = self._b(bucket)
            upload_id = uuid.uuid4().hex.upper()
            b.uploads[upload_id] = _Upload(upload_id, key, content_type or "application/octet-stream", time.time())
            return upload_id

    def _upload(self, b, upload_id, key=None):
        up = b.uploads.get(upload_id)
        if up is None or (key is not None and up.key != key):
            raise OssError(404, "NoSuchUpload", "The specified upload does not exist. The upload ID may be invalid, "
                           "or the upload may have been aborted or completed.", UploadId=upload_id)
        return up

    def upload_part(self, bucket, key, upload_id, part_number, data):
        if not 1 <= part_number <= 10000:
            raise OssError(400, "InvalidArgument", "Part number must be an integer between 1 and 10000, inclusive.",
                           ArgumentName="partNumber", ArgumentValue=str(part_number))
        data = bytes(data)
        etag = _md5_hex(data)
        with self._lock:
            up = self._upload(self._b(bucket), upload_id, key)
            up.parts[part_number] = (etag, data, time.time())
        return etag, crc64(data)

    def list_parts(self, bucket, key, upload_id):
        with self._lock:
            up = self._upload(self._b(bucket), upload_id, key)
            return [(n, e, len(d), t) for n, (e, d, t) in sorted(up.parts.items())]

    def complete_upload(self, bucket, key, upload_id, parts):
        """``parts``: list of (part_number, etag) in the order the client lists them."""
        with self._lock:
            b = self._b(bucket)
            up = self._upload(b, upload_id, key)
            if not parts:
                raise OssError(400, "MalformedXML", "The XML you provided was not well-formed or did not validate "
                               "against our published schema.")
            last = 0
            chunks, digests = [], []
            for i, (num, etag) in enumerate(parts):
                if num <= last:
                    raise OssError(400, "InvalidPartOrder", "The list of parts was not in ascending order. "
                                   "The parts list must be specified in order by part number.")
                last = num
                stored = up.parts.get(num)
                if stored is None or stored[0] != etag.strip('"').upper():
                    raise OssError(400, "InvalidPart", "One or more of the specified parts could not be found or the "
                                   "specified entity tag might not have matched the part's entity tag.",
                                   PartNumber=str(num))
                if i < len(parts) - 1 and len(stored[1]) < 100 * 1024:
                    raise OssError(400, "EntityTooSmall", "Your proposed upload is smaller than the minimum allowed "
                                   "size.", PartNumber=str(num))
                chunks.append(stored[1])
                digests.append(bytes.fromhex(stored[0]))
            data = b"".join(chunks)
            etag = "%s-%d" % (hashlib.md5(b"".join(digests)).hexdigest().upper(), len(parts))
            meta = ObjectMeta(key=key, size=len(data), etag=etag, last_modified=time.time(),
                              content_type=up.content_type, crc64=crc64(data))
            b.objects[key] = (meta, data)
            del b.uploads[upload_id]
            return meta

    def abort_upload(self, bucket, key, upload_id):
        with self._lock:
            b = self._b(bucket)
            self._upload(b, upload_id, key)
            del b.uploads[upload_id]

    def list_uploads(self, bucket, prefix=""):
        with self._lock:
            b = self._b(bucket)
            return sorted((u for u in b.uploads.values() if u.key.startswith(prefix or "")),
                          key=lambda u: (u.key, u.initiated))

    def dump(self):
        """JSON-able view for the admin API."""
        with self._lock:
            return [{"name": b.name, "region": b.region, "owner_account_id": b.owner_account_id,
                     "objects": [{"key": m.key, "size": m.size, "etag": m.etag, "format": m.format,
                                  "virtual_size": m.virtual_size} for m, _data in
                                 sorted(b.objects.values(), key=lambda e: e[0].key)]}
                    for b in self._buckets.values()]
