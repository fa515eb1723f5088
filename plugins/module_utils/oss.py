# -*- coding: utf-8 -*-
# Copyright (c) alicloud.ecs_images contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""OSS helpers for ecs_image_import / ecs_image_export.

Everything that talks to OSS goes through the ``oss2`` library with the module's own credentials
(``AlicloudModule.oss_auth()``). The pure functions (format sniffing, endpoint resolution, export-key
matching) have no OSS dependency and are unit-tested on their own.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re
import time
import traceback

from ansible_collections.alicloud.ecs_images.plugins.module_utils.client import (
    RETRY_BASE_DELAY, RETRY_MAX_DELAY, RETRY_MAX_TOTAL, RETRY_MAX_TRIES, backoff_delay, is_retryable)
from ansible_collections.alicloud.ecs_images.plugins.module_utils.credentials import ENDPOINT_FORM, endpoint_error
from ansible_collections.alicloud.ecs_images.plugins.module_utils.validation import OptionError

try:
    import oss2
    import oss2.exceptions as oss2_exceptions
    HAS_OSS2 = True
    OSS2_IMPORT_ERROR = None
except ImportError:  # pragma: no cover - depends on the controller
    oss2 = None

    class oss2_exceptions:  # noqa: N801 - stands in for the module so that except clauses stay valid
        class OssError(Exception):
            pass

        class NotFound(OssError):
            pass

        class NoSuchBucket(NotFound):
            pass

    HAS_OSS2 = False
    OSS2_IMPORT_ERROR = traceback.format_exc()


OSS_ENDPOINT_ENV = 'ALIBABA_CLOUD_OSS_ENDPOINT'

# Argument spec shared by the modules that use OSS; documented by the ``alicloud.ecs_images.oss`` fragment.
OSS_ARGUMENT_SPEC = dict(
    oss_endpoint=dict(type='str'),
)

# Formats ImportImage accepts (the API compares case-insensitively); everything else must be converted.
IMPORT_FORMATS = ('RAW', 'VHD', 'QCOW2')
# Formats ExportImage can write.
EXPORT_FORMATS = ('raw', 'vhd', 'qcow2', 'vmdk', 'vdi')
# Regions where ExportImage honours ImageFormat (ExportImage API page): Tokyo, Jakarta, Frankfurt, Dubai,
# Virginia, London, Singapore, Kuala Lumpur, Silicon Valley. Everywhere else the export is RAW whatever is asked.
EXPORT_FORMAT_REGIONS = ('ap-northeast-1', 'ap-southeast-5', 'eu-central-1', 'me-east-1', 'us-east-1', 'eu-west-1',
                         'ap-southeast-1', 'ap-southeast-3', 'us-west-1')


def export_format_in_region(image_format, region):
    """The format ExportImage really writes in ``region`` when asked for ``image_format``."""
    fmt = (image_format or 'raw').lower()
    return fmt if fmt == 'raw' or region in EXPORT_FORMAT_REGIONS else 'raw'


QCOW2_MAGIC = b'QFI\xfb'
VMDK_MAGIC = b'KDMV'
VMDK_DESCRIPTOR = b'# Disk DescriptorFile'
VHD_COOKIE = b'conectix'
VDI_TEXT = b'<<< '            # "<<< Oracle VM VirtualBox Disk Image >>>\n" (text varies by producer)
VDI_SIGNATURE = b'\x7f\x10\xda\xbe'   # 0xbeda107f little-endian at offset 0x40
VDI_SIGNATURE_OFFSET = 0x40

HEAD_BYTES = 512
TAIL_BYTES = 512

CONVERT_HINT = ("The cloud imports only %s images; convert other formats first, for example "
                "'qemu-img convert -p -O qcow2 disk.vmdk disk.qcow2' (or -O raw / -O vpc for VHD), "
                "upload the result and import that." % ', '.join(IMPORT_FORMATS))


class OssCheckError(OptionError):
    """An OSS pre-check found a problem; ``option`` names the module option at fault."""


def sniff_format(head, tail=b''):
    """Tell a disk image's format from its first and last bytes.

    ``head``: the first bytes of the object (at least 72 for VDI); ``tail``: its last 512 bytes (or the
    whole object when smaller). Returns 'QCOW2', 'VMDK', 'VDI', 'VHD' or 'RAW' (= none of the others).
    """
    head = head or b''
    tail = tail or b''
    if head[:4] == QCOW2_MAGIC:
        return 'QCOW2'
    if head[:4] == VMDK_MAGIC or head[:len(VMDK_DESCRIPTOR)] == VMDK_DESCRIPTOR:
        return 'VMDK'
    if head[VDI_SIGNATURE_OFFSET:VDI_SIGNATURE_OFFSET + 4] == VDI_SIGNATURE:
        return 'VDI'
    # A fixed VHD has its 512-byte footer at the end (some old tools wrote 511 bytes); a dynamic VHD
    # also carries a copy of the footer at offset 0.
    if tail[-512:-504] == VHD_COOKIE or tail[-511:-503] == VHD_COOKIE or head[:8] == VHD_COOKIE:
        return 'VHD'
    return 'RAW'


def normalize_import_format(value):
    """'raw' -> 'RAW'; None stays None. Does not validate."""
    if value is None:
        return None
    return str(value).strip().upper()


def check_import_format(declared, detected, where):
    """Validate a declared import format against the accepted list and what the object looks like.

    ``declared``: the user's format (any case) or None (then the detected one is used);
    ``detected``: result of :func:`sniff_format` or None when the object could not be read.
    Returns the format to send to ImportImage. Raises OssCheckError with an actionable message.
    """
    fmt = normalize_import_format(declared)
    if fmt is not None and fmt not in IMPORT_FORMATS:
        raise OssCheckError("%s: format %s is not accepted by ImportImage. %s" % (where, declared, CONVERT_HINT),
                            option='format')
    if detected is not None and detected not in IMPORT_FORMATS:
        raise OssCheckError("%s: the object looks like a %s image. %s" % (where, detected, CONVERT_HINT),
                            option='format')
    if fmt is None:
        return detected
    if detected is not None and detected != fmt:
        raise OssCheckError(
            "%s: format is %s but the object looks like %s (%s). Set format to %s if the file is right, "
            "or upload the intended file. %s"
            % (where, fmt, detected, _looks_like_reason(detected), detected, CONVERT_HINT), option='format')
    return fmt


def _looks_like_reason(fmt):
    return {
        'QCOW2': "it starts with the qcow2 magic 'QFI\\xfb'",
        'VHD': "it has a 'conectix' VHD footer",
        'VMDK': "it starts with the VMDK magic 'KDMV'",
        'VDI': 'it has the VirtualBox VDI signature',
        'RAW': 'it has none of the qcow2, VHD, VMDK or VDI signatures',
    }.get(fmt, '')


def resolve_oss_endpoint(option, region, environ=None):
    """oss_endpoint option > ALIBABA_CLOUD_OSS_ENDPOINT > https://oss-<region>.aliyuncs.com.

    A given endpoint must be host[:port] or http(s)://host[:port]: OptionError naming the option (or variable)."""
    environ = os.environ if environ is None else environ
    endpoint = option or environ.get(OSS_ENDPOINT_ENV)
    reason = endpoint_error(endpoint) if endpoint else None
    if reason:
        where = 'option oss_endpoint' if option else 'environment variable %s' % OSS_ENDPOINT_ENV
        raise OptionError('%s: the endpoint %r %s. Allowed form: %s.' % (where, endpoint, reason, ENDPOINT_FORM),
                          option='oss_endpoint')
    if not endpoint:
        endpoint = 'https://oss-%s.aliyuncs.com' % region
    endpoint = endpoint.strip().rstrip('/')
    if '://' not in endpoint:
        endpoint = 'https://' + endpoint
    return endpoint


_PREFIX_RE = re.compile(r'^[A-Za-z0-9]{1,30}$')


def check_export_prefix(prefix):
    """ExportImage's OSSPrefix: 1-30 letters and digits. Returns an error message or None."""
    if prefix is None:
        return None
    if not _PREFIX_RE.match(prefix):
        return ("oss_prefix %r is not valid: ExportImage accepts 1 to 30 letters and digits only "
                "(no '/', '-', '_' or '.')" % prefix)
    return None


def oss_error_text(err):
    """Readable text of an oss2 exception (never includes credentials)."""
    code = getattr(err, 'code', '') or ''
    message = getattr(err, 'message', '') or ''
    status = getattr(err, 'status', '')
    request_id = getattr(err, 'request_id', '') or ''
    if not code and not message:
        body = getattr(err, 'body', '')
        if isinstance(body, bytes):
            body = body.decode('utf-8', 'replace')
        message = str(body)[:300] if body else err.__class__.__name__
    text = 'HTTP %s %s %s' % (status, code, message)
    if request_id:
        text += ' (OSS request id %s)' % request_id
    endpoint = (getattr(err, 'details', None) or {}).get('Endpoint')
    if endpoint:   # OSS names the endpoint of the bucket's own region: the bucket is in another region
        text += ('; the bucket belongs to endpoint %s, so it is in another region than this task: ImportImage and '
                 'ExportImage need an OSS bucket in the image\'s own region' % endpoint)
    return ' '.join(text.split())


# ------------------------------------------------------------------------------------------------ retries

# OSS answers that mean "try again" besides any 5xx and any code containing 'Throttling' (client.is_retryable)
OSS_RETRYABLE_CODES = ('SlowDown', 'QpsLimitExceeded', 'RequestTimeout', 'RequestTimeTooSkewed')
# A host name that does not resolve is a mistyped endpoint, not a passing fault
_UNRESOLVABLE_HOST_TEXTS = ('Name or service not known', 'nodename nor servname provided',
                            'No address associated with hostname', 'getaddrinfo failed')


def oss_retryable(err):
    """Is this oss2 exception transient? Dropped or refused connections and timeouts (oss2 RequestError), any
    5xx, throttling (a code containing 'Throttling', SlowDown, QpsLimitExceeded) and request timeouts. Same
    rule as the ECS call path (client.is_retryable) plus the OSS codes."""
    if not isinstance(err, oss2_exceptions.OssError):
        return False
    if err.__class__.__name__ == 'RequestError':
        text = str(getattr(err, 'exception', '') or err)
        return not any(t in text for t in _UNRESOLVABLE_HOST_TEXTS)
    code = getattr(err, 'code', '') or ''
    status = getattr(err, 'status', None)
    if code in OSS_RETRYABLE_CODES:
        return True
    try:
        status = int(status) if status is not None else None
    except (TypeError, ValueError):
        status = None
    return is_retryable(code, status if status and status > 0 else None) and not code.startswith('SDK.')


class OssRetry:
    """The retry budget of one module's OSS requests, the same as the ECS call path's (jittered backoff, at most
    RETRY_MAX_TRIES attempts and RETRY_MAX_TOTAL seconds per request). Counts requests and retries."""

    def __init__(self, max_tries=RETRY_MAX_TRIES, max_total=RETRY_MAX_TOTAL, base_delay=RETRY_BASE_DELAY,
                 max_delay=RETRY_MAX_DELAY, sleep=time.sleep, now=time.monotonic):
        self.max_tries = max_tries
        self.max_total = max_total
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.calls = 0
        self.retries = 0
        self._sleep = sleep
        self._now = now
        self._depth = 0

    def run(self, send, before_retry=None):
        """``send()`` until it returns or raises a non-transient error. ``before_retry(err)`` may return
        ``(True, value)`` to stop with ``value`` (the first attempt did take effect, its answer was lost).
        Inside another run (a request made by a retried operation) ``send`` is called once: one budget, never
        retries of retries."""
        if self._depth:
            return send()
        started = self._now()
        attempt = 0
        while True:
            attempt += 1
            self.calls += 1
            if attempt > 1:
                self.retries += 1
            try:
                self._depth += 1
                try:
                    return send()
                finally:
                    self._depth -= 1
            except oss2_exceptions.OssError as err:
                if not oss_retryable(err) or attempt >= self.max_tries:
                    raise
                delay = backoff_delay(attempt - 1, self.base_delay, self.max_delay)
                if self._now() - started + delay > self.max_total:
                    raise
                self._sleep(delay)
                if before_retry is not None:
                    stop, value = before_retry(err)
                    if stop:
                        return value


def _rewindable(data):
    """A request body that can be sent again as it is (None, bytes, text)."""
    return data is None or isinstance(data, (bytes, str))


_BUCKET_CLASS = []


def retrying_bucket_class():
    """oss2.Bucket whose every request (HEAD, GET, LIST, PUT, multipart calls, also those oss2 makes inside
    resumable_upload) goes through the instance's OssRetry. A request whose body is a stream (a part read from
    a file) is not re-sent by this layer: a stream cannot be replayed; resumable_upload_retrying resumes the
    upload instead (parts already uploaded are not sent again)."""
    if not _BUCKET_CLASS:
        class RetryingBucket(oss2.Bucket):
            retry = None

            def _do(self, method, bucket_name, key, **kwargs):
                send = super(RetryingBucket, self)._do
                if self.retry is None or not _rewindable(kwargs.get('data')):
                    if self.retry is not None and not self.retry._depth:
                        self.retry.calls += 1
                    return send(method, bucket_name, key, **kwargs)
                return self.retry.run(lambda: send(method, bucket_name, key, **kwargs))

        _BUCKET_CLASS.append(RetryingBucket)
    return _BUCKET_CLASS[0]


def resumable_upload_retrying(bucket, key, filename, retry, done=None, **kwargs):
    """oss2.resumable_upload, resumed (never restarted) after a transient error within ``retry``'s budget: the
    checkpoint store keeps the parts already uploaded, so a retry sends only what is missing. ``done()`` is asked
    before a retry: True when the object is already there (a lost answer to the last request)."""
    def finished():
        return (True, None) if done is not None and done() else (False, None)
    return retry.run(lambda: oss2.resumable_upload(bucket, key, filename, **kwargs),
                     before_retry=lambda err: finished())


class OssClient:
    """Thin oss2 wrapper bound to one endpoint and one auth object (from ``AlicloudModule.oss_auth()``).
    Every request is retried on transient answers (see :class:`OssRetry`); ``calls`` counts them all."""

    def __init__(self, auth, endpoint, connect_timeout=10, retry=None):
        self.auth = auth
        self.endpoint = endpoint
        self.connect_timeout = connect_timeout
        self.retry = retry or OssRetry()
        self._buckets = {}

    @property
    def calls(self):
        return self.retry.calls

    def bucket(self, name):
        if name not in self._buckets:
            bucket = retrying_bucket_class()(self.auth, self.endpoint, name, connect_timeout=self.connect_timeout,
                                             enable_crc=False)
            bucket.retry = self.retry
            self._buckets[name] = bucket
        return self._buckets[name]

    def check_bucket(self, name, option='oss_bucket'):
        """Raise OssCheckError when the bucket does not exist or cannot be listed."""
        try:
            self.bucket(name).list_objects(max_keys=1)
        except oss2_exceptions.NoSuchBucket:
            raise OssCheckError("%s %r does not exist at %s" % (option, name, self.endpoint), option=option)
        except oss2_exceptions.OssError as e:
            raise OssCheckError("%s %r cannot be read at %s: %s" % (option, name, self.endpoint, oss_error_text(e)),
                                option=option)

    def head(self, bucket, key):
        """Object size in bytes, or None when the object does not exist."""
        try:
            result = self.bucket(bucket).head_object(key)
        except oss2_exceptions.NotFound:
            return None
        return int(result.content_length)

    def read_range(self, bucket, key, start, end):
        """Bytes start..end (inclusive). The body is read inside the retried request, so a connection dropped
        while reading it is retried too."""
        def send():
            try:
                return self.bucket(bucket).get_object(key, byte_range=(start, end)).read()
            except oss2_exceptions.OssError:
                raise
            except Exception as exc:   # requests' ChunkedEncodingError/ConnectionError while streaming the body
                raise oss2_exceptions.RequestError(exc)
        return self.retry.run(send)

    def sniff(self, bucket, key, size):
        """Format of an object of ``size`` bytes, from a ranged read of its head and its tail."""
        if size <= 0:
            return 'RAW'
        if size <= HEAD_BYTES + TAIL_BYTES:
            data = self.read_range(bucket, key, 0, size - 1)[:size]
            return sniff_format(data[:HEAD_BYTES], data[-TAIL_BYTES:])
        head = self.read_range(bucket, key, 0, HEAD_BYTES - 1)[:HEAD_BYTES]
        tail = self.read_range(bucket, key, size - TAIL_BYTES, size - 1)
        if len(tail) > TAIL_BYTES:   # the server ignored the range: keep the end
            tail = tail[-TAIL_BYTES:]
        return sniff_format(head, tail)

    def list_keys(self, bucket, prefix=''):
        keys = []
        marker = ''
        while True:
            result = self.bucket(bucket).list_objects(prefix=prefix, marker=marker, max_keys=1000)
            keys.extend(o.key for o in result.object_list)
            if not result.is_truncated or not result.next_marker:
                return keys
            marker = result.next_marker


def oss_client(amodule, connect_timeout=10):
    """OssClient for an AlicloudModule: its credentials and the resolved endpoint of its region."""
    try:
        endpoint = resolve_oss_endpoint(amodule.params.get('oss_endpoint'), amodule.region)
    except OptionError as err:
        amodule.fail(err.msg)
    return OssClient(amodule.oss_auth(), endpoint, connect_timeout=connect_timeout)


def check_import_disk(client, disk, where):
    """Pre-check one disk to import: bucket, object, format. Returns (format, size_bytes).

    ``disk``: dict with oss_bucket, oss_object, format (may be None). Raises OssCheckError.
    """
    bucket, key = disk['oss_bucket'], disk['oss_object']
    fmt = normalize_import_format(disk.get('format'))
    if fmt is not None and fmt not in IMPORT_FORMATS:   # fail before any OSS call
        check_import_format(fmt, None, where)
    try:
        size = client.head(bucket, key)
    except oss2_exceptions.OssError as e:
        raise OssCheckError("oss_object %s: cannot read the object: %s" % (where, oss_error_text(e)), option='oss_object')
    if size is None:   # a HEAD 404 does not tell a missing bucket from a missing object: look at the bucket
        client.check_bucket(bucket)
        raise OssCheckError("oss_object %s: the object does not exist in bucket %r" % (where, bucket), option='oss_object')
    try:
        detected = client.sniff(bucket, key, size)
    except oss2_exceptions.OssError as e:
        raise OssCheckError("oss_object %s: cannot read the object to check its format: %s" % (where, oss_error_text(e)),
                            option='oss_object')
    return check_import_format(fmt, detected, where), size
