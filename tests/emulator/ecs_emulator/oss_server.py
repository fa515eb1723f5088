"""OSS REST API (path-style, as oss2 uses it for IP endpoints) over the in-memory ``OssStore``.

Supported: ListBuckets, GetBucketInfo, GetBucketLocation, ListObjects (v1 and v2), ListMultipartUploads,
PutObject, GetObject (Range), HeadObject, DeleteObject, DeleteMultipleObjects, InitiateMultipartUpload,
UploadPart, CompleteMultipartUpload, AbortMultipartUpload, ListParts.
Authentication: ``Authorization: OSS <ak>:<signature>`` (signature V1, HMAC-SHA1) or a V1 presigned URL
(OSSAccessKeyId/Expires/Signature), STS tokens in ``x-oss-security-token`` / ``security-token``.
"""
import base64
import calendar
import email.utils
import hashlib
import hmac
import secrets
import time
import traceback
from urllib.parse import parse_qsl, quote, unquote, urlsplit
from xml.etree import ElementTree
from xml.sax.saxutils import escape

import logging

from .httpd import BaseHandler, ThreadedServer
from .oss_store import OssError

log = logging.getLogger("ecs_emulator.oss")

XML_CT = "application/xml"
MAX_OBJECT = 1024 * 1024 * 1024      # in-memory store: 1 GiB per request (real OSS: 5 GiB)
TIME_SKEW = 15 * 60

# Sub-resources that are part of the canonicalized resource (the list oss2 signs).
SUBRESOURCES = frozenset([
    'response-content-type', 'response-content-language', 'response-cache-control', 'logging',
    'response-content-encoding', 'acl', 'uploadId', 'uploads', 'partNumber', 'group', 'link', 'delete', 'website',
    'location', 'objectInfo', 'objectMeta', 'response-expires', 'response-content-disposition', 'cors', 'lifecycle',
    'restore', 'qos', 'referer', 'stat', 'bucketInfo', 'append', 'position', 'security-token', 'live', 'comp',
    'status', 'vod', 'startTime', 'endTime', 'x-oss-process', 'symlink', 'callback', 'callback-var', 'tagging',
    'encryption', 'versions', 'versioning', 'versionId', 'policy', 'requestPayment', 'x-oss-traffic-limit',
    'qosInfo', 'asyncFetch', 'x-oss-request-payer', 'sequential', 'inventory', 'inventoryId', 'continuation-token',
    'worm', 'wormId', 'wormExtend', 'replication', 'replicationLocation', 'replicationProgress',
    'transferAcceleration', 'cname', 'metaQuery', 'x-oss-ac-source-ip', 'x-oss-ac-subnet-mask', 'x-oss-ac-vpc-id',
    'x-oss-ac-forward-allow', 'resourceGroup', 'style', 'styleName', 'x-oss-async-process', 'regionList',
    'x-oss-write-get-object-response', 'bucketArchiveDirectRead', 'httpsConfig', 'redundancyTransition',
    'x-oss-target-redundancy-type', 'x-oss-redundancy-transition-taskid', 'accessPoint', 'accessPointPolicy',
    'publicAccessBlock', 'x-oss-access-point-name', 'requesterQosInfo', 'qosRequester', 'resourcePoolInfo',
    'resourcePool', 'resourcePoolBuckets'])


def _iso(ts):
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(ts))


def _http_date(ts):
    return email.utils.formatdate(ts, usegmt=True)


def _request_id():
    return secrets.token_hex(12).upper()


def _x(tag, value):
    return "<%s>%s</%s>" % (tag, escape("" if value is None else str(value)), tag)


def oss_string_to_sign(method, headers, resource, date_value):
    """V1 string to sign. ``headers``: dict lower-case name -> value."""
    canon = sorted((k, v) for k, v in headers.items() if k.startswith("x-oss-"))
    hdr = "".join("%s:%s\n" % (k, v) for k, v in canon)
    return "\n".join([method, headers.get("content-md5", ""), headers.get("content-type", ""), date_value,
                      hdr + resource])


def oss_sign(secret, string_to_sign):
    digest = hmac.new(secret.encode("utf-8"), string_to_sign.encode("utf-8", "surrogateescape"),
                      hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def _canonical_resource(bucket, key, params):
    if bucket:
        res = "/%s/%s" % (bucket, key or "")
    else:
        res = "/"
    sub = sorted((k, v) for k, v in params.items() if k in SUBRESOURCES)
    if sub:
        res += "?" + "&".join(k + "=" + v if v else k for k, v in sub)
    return res


def make_oss_server(host, port, state, region=None):
    """The OSS server; ``region``: the region whose endpoint it is (realism oss_region_endpoints: a bucket of
    another region is refused there), None for a server that reaches every bucket."""
    srv = ThreadedServer((host, port), OssHandler)
    srv.state = state
    srv.oss_region = region
    return srv


class _OssMixin:
    server_version = "AliyunOSS"

    @property
    def state(self):
        return self.server.state

    # ------------------------------------------------------------------------------------ plumbing
    def send_error(self, code, message=None, explain=None):
        self.close_connection = True
        if getattr(self, "request_version", "HTTP/0.9") not in ("HTTP/1.0", "HTTP/1.1"):
            self.request_version = "HTTP/1.0"
        try:
            self._send_xml_error(OssError(code, "InvalidRequest" if code < 500 else "InternalError",
                                          message or "Bad request"), _request_id())
        except OSError:
            pass

    def _send(self, status, body=b"", headers=None, content_type=XML_CT, rid=None):
        hdrs = {"x-oss-request-id": rid or _request_id(), "Server": "AliyunOSS"}
        hdrs.update(headers or {})
        self.send_response(status)
        self.send_header("Date", _http_date(time.time()))
        if status != 204 or body:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for k, v in hdrs.items():
            self.send_header(k, v)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if body and self.command != "HEAD":
            self.wfile.write(body)

    def _send_xml_error(self, err, rid, bucket=None):
        host = self.headers.get("Host", "") if getattr(self, "headers", None) else ""
        parts = [_x("Code", err.code), _x("Message", err.message), _x("RequestId", rid),
                 _x("HostId", "%s.%s" % (bucket, host) if bucket else host)]
        parts += [_x(k, v) for k, v in err.extra.items()]
        body = ('<?xml version="1.0" encoding="UTF-8"?>\n<Error>\n  ' + "\n  ".join(parts) + "\n</Error>\n").encode(
            "utf-8")
        headers = {}
        if self.command == "HEAD":
            headers["x-oss-err"] = base64.b64encode(body).decode("ascii")
        self._send(err.status, body, headers, rid=rid)

    # ------------------------------------------------------------------------------------ entry
    def dispatch_request(self):
        rid = _request_id()
        started = time.time()
        split = urlsplit(self.path)
        raw_path = split.path or "/"
        params = dict(parse_qsl(split.query, keep_blank_values=True))
        parts = raw_path.lstrip("/").split("/", 1)
        bucket = unquote(parts[0]) if parts[0] else None
        key = unquote(parts[1]) if len(parts) > 1 else None
        if key == "":
            key = None
        entry = {"time": started, "request_id": rid, "service": "oss", "account_id": None,
                 "region_id": None, "action": None, "params": {"bucket": bucket, "key": key},
                 "status": None, "code": None, "fault": None, "signature": None, "method": self.command}
        self.begin_log(entry)       # recorded by send_response, before the answer goes out
        try:
            try:
                body = self.read_body(limit=MAX_OBJECT)
            except OverflowError:
                self.close_connection = True
                raise OssError(400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size of "
                               "the emulator (%d bytes per request)." % MAX_OBJECT)
            except ValueError:
                self.close_connection = True
                raise OssError(400, "InvalidArgument", "The request body or its length is malformed.")
            action = self._action_name(bucket, key, params)
            entry["action"] = "oss:" + action
            b = self.state.oss.bucket(bucket) if bucket else None
            if b is not None:
                entry["region_id"] = b.region
            account = self._authenticate(bucket, key, params)
            entry["account_id"] = account["account_id"] if account else None
            entry["signature"] = "oss-v1" if account else None
            if bucket and b is None and action not in ("PutBucket",):
                raise OssError(404, "NoSuchBucket", "The specified bucket does not exist.", BucketName=bucket)
            endpoint_region = getattr(self.server, "oss_region", None)
            if b is not None and endpoint_region and b.region != endpoint_region \
                    and self.state.realism.on("oss_region_endpoints"):
                # one endpoint per region: the bucket must be addressed through its own region's endpoint
                raise OssError(403, "AccessDenied", "The bucket you are attempting to access must be addressed "
                               "using the specified endpoint. Please send all future requests to this endpoint.",
                               Bucket=bucket, Endpoint="oss-%s.aliyuncs.com" % b.region)
            if b is not None and (account is None or b.owner_account_id != account["account_id"]):
                raise OssError(403, "AccessDenied", "You have no right to access this object because of bucket acl.")
            self._route(action, b, key, params, body, rid, account)
        except OssError as err:
            entry["status"], entry["code"] = err.status, err.code
            self._send_xml_error(err, rid, bucket)
        except Exception:  # noqa: BLE001
            log.error("OSS handler error: %s", traceback.format_exc())
            entry["status"], entry["code"] = 500, "InternalError"
            self._send_xml_error(OssError(500, "InternalError", "We encountered an internal error. Please try "
                                          "again."), rid, bucket)
        finally:
            self.commit_log()

    def _action_name(self, bucket, key, params):
        m = self.command
        if not bucket:
            return "ListBuckets" if m == "GET" else "Unsupported"
        if key is None:
            if m == "GET":
                if "bucketInfo" in params:
                    return "GetBucketInfo"
                if "location" in params:
                    return "GetBucketLocation"
                if "uploads" in params:
                    return "ListMultipartUploads"
                return "ListObjectsV2" if params.get("list-type") == "2" else "ListObjects"
            if m == "POST" and "delete" in params:
                return "DeleteMultipleObjects"
            if m == "PUT" and not params:
                return "PutBucket"
            if m == "HEAD":
                return "GetBucketInfo"
            return "Unsupported"
        if m == "PUT":
            return "UploadPart" if "uploadId" in params else "PutObject"
        if m == "GET":
            return "ListParts" if "uploadId" in params else "GetObject"
        if m == "HEAD":
            return "HeadObject"
        if m == "DELETE":
            return "AbortMultipartUpload" if "uploadId" in params else "DeleteObject"
        if m == "POST":
            if "uploads" in params:
                return "InitiateMultipartUpload"
            if "uploadId" in params:
                return "CompleteMultipartUpload"
        return "Unsupported"

    # ------------------------------------------------------------------------------------ auth
    def _authenticate(self, bucket, key, params):
        headers = {k.lower(): v for k, v in self.headers.items()}
        auth = headers.get("authorization")
        resource = _canonical_resource(bucket, key, params)
        if auth:
            if not auth.startswith("OSS ") or ":" not in auth:
                raise OssError(400, "InvalidArgument", "Authorization header is invalid (only OSS signature V1 "
                               "'OSS <AccessKeyId>:<Signature>' is supported by the emulator).")
            ak, signature = auth[4:].strip().rsplit(":", 1)
            token = headers.get("x-oss-security-token")
            date_value = headers.get("x-oss-date") or headers.get("date") or ""
            parsed = email.utils.parsedate_tz(date_value) if date_value else None
            if parsed is None:
                raise OssError(403, "AccessDenied", "Invalid date string or missing Date header.")
            ts = calendar.timegm(parsed[:9]) - (parsed[9] or 0)
            if abs(time.time() - ts) > TIME_SKEW:
                raise OssError(403, "RequestTimeTooSkewed", "The difference between the request time and the "
                               "current time is too large.", RequestTime=date_value,
                               ServerTime=_iso(time.time()), MaxAllowedSkewMilliseconds=str(TIME_SKEW * 1000))
            string_to_sign = oss_string_to_sign(self.command, headers, resource, date_value)
        elif "OSSAccessKeyId" in params and "Signature" in params:
            ak, signature = params["OSSAccessKeyId"], params["Signature"]
            token = params.get("security-token")
            expires = params.get("Expires", "")
            if not expires.isdigit() or int(expires) < time.time():
                raise OssError(403, "AccessDenied", "Request has expired.", Expires=expires,
                               ServerTime=_iso(time.time()))
            string_to_sign = oss_string_to_sign(self.command, headers, resource, expires)
        else:
            return None     # anonymous: refused by the bucket ACL check
        account, secret = self._credential(ak, token)
        expected = oss_sign(secret, string_to_sign)
        if not hmac.compare_digest(expected.encode(), signature.encode("utf-8", "surrogateescape")):
            raise OssError(403, "SignatureDoesNotMatch", "The request signature we calculated does not match the "
                           "signature you provided. Check your key and signing method.",
                           StringToSign=string_to_sign,
                           StringToSignBytes=" ".join("%02x" % b for b in string_to_sign.encode("utf-8")),
                           SignatureProvided=signature, OSSAccessKeyId=ak)
        return account

    def _credential(self, ak, token):
        state = self.state
        acc = state.by_key.get(ak)
        if acc is not None:
            if token:
                raise OssError(403, "InvalidAccessKeyId", "The security token you provided does not match the "
                               "OSS Access Key Id.", OSSAccessKeyId=ak)
            return acc, acc["access_key_secret"]
        temp = state.sts.lookup(ak)
        if temp is None:
            raise OssError(403, "InvalidAccessKeyId", "The OSS Access Key Id you provided does not exist in our "
                           "records.", OSSAccessKeyId=ak)
        if not token or not hmac.compare_digest(token.encode(), temp.security_token.encode()):
            raise OssError(403, "InvalidSecurityToken", "The security token you provided is invalid.",
                           OSSAccessKeyId=ak)
        if time.time() >= temp.expires_at:
            raise OssError(403, "SecurityTokenExpired", "The security token you provided has expired.",
                           OSSAccessKeyId=ak)
        return state.by_id[temp.account_id], temp.access_key_secret

    # ------------------------------------------------------------------------------------ routing
    def _route(self, action, b, key, params, body, rid, account):
        store = self.state.oss
        h = {k.lower(): v for k, v in self.headers.items()}
        if action == "ListBuckets":
            return self._list_buckets(account, rid)
        if action == "PutBucket":
            raise OssError(403, "AccessDenied", "The emulator does not create buckets through the API; declare them "
                           "in the fixture's oss section.")
        if action == "GetBucketInfo":
            return self._bucket_info(b, rid)
        if action == "GetBucketLocation":
            body_xml = '<?xml version="1.0" encoding="UTF-8"?>\n<LocationConstraint>%s</LocationConstraint>' % (
                b.location)
            self._send(200, body_xml.encode(), rid=rid)
            return 200
        if action in ("ListObjects", "ListObjectsV2"):
            return self._list_objects(b, params, rid, v2=action == "ListObjectsV2")
        if action == "ListMultipartUploads":
            return self._list_uploads(b, params, rid)
        if action == "DeleteMultipleObjects":
            return self._delete_multiple(b, body, params, rid)
        if action == "PutObject":
            if "x-oss-copy-source" in h:
                raise OssError(400, "NotImplemented", "CopyObject is not supported by the emulator.")
            self._check_md5(h, body)
            meta = store.put(b, key, body, h.get("content-type"))
            self._send(200, b"", {"ETag": '"%s"' % meta.etag, "x-oss-hash-crc64ecma": str(meta.crc64),
                                  "Content-MD5": base64.b64encode(hashlib.md5(body).digest()).decode()}, rid=rid)
            return 200
        if action == "GetObject":
            return self._get_object(b, key, h, rid)
        if action == "HeadObject":
            meta = store.head(b, key)
            if meta is None:
                raise OssError(404, "NoSuchKey", "The specified key does not exist.", Key=key)
            self._send_object_headers(200, meta, meta.size, rid)
            return 200
        if action == "DeleteObject":
            store.delete(b, key)
            self._send(204, b"", rid=rid)
            return 204
        if action == "InitiateMultipartUpload":
            upload_id = store.initiate_upload(b, key, h.get("content-type"))
            xml = ('<?xml version="1.0" encoding="UTF-8"?>\n<InitiateMultipartUploadResult>%s%s%s'
                   '</InitiateMultipartUploadResult>' % (
                       _x("Bucket", b.name), _x("Key", key), _x("UploadId", upload_id)))
            self._send(200, xml.encode("utf-8"), rid=rid)
            return 200
        if action == "UploadPart":
            try:
                number = int(params.get("partNumber", ""))
            except ValueError:
                raise OssError(400, "InvalidArgument", "Part number must be an integer between 1 and 10000, "
                               "inclusive.", ArgumentName="partNumber", ArgumentValue=params.get("partNumber", ""))
            self._check_md5(h, body)
            etag, crc = store.upload_part(b, key, params["uploadId"], number, body)
            self._send(200, b"", {"ETag": '"%s"' % etag, "x-oss-hash-crc64ecma": str(crc)}, rid=rid)
            return 200
        if action == "CompleteMultipartUpload":
            return self._complete(b, key, params, h, body, rid)
        if action == "AbortMultipartUpload":
            store.abort_upload(b, key, params["uploadId"])
            self._send(204, b"", rid=rid)
            return 204
        if action == "ListParts":
            return self._list_parts(b, key, params, rid)
        raise OssError(405, "MethodNotAllowed", "The specified method is not allowed against this resource.",
                       Method=self.command, ResourceType="Object" if key else "Bucket")

    @staticmethod
    def _check_md5(h, body):
        md5 = h.get("content-md5")
        if md5 and md5 != base64.b64encode(hashlib.md5(body).digest()).decode():
            raise OssError(400, "InvalidDigest", "The Content-MD5 you specified was invalid.")

    def _owner_xml(self, account_id):
        return "<Owner>%s%s</Owner>" % (_x("ID", account_id), _x("DisplayName", account_id))

    def _list_buckets(self, account, rid):
        if account is None:
            raise OssError(403, "AccessDenied", "Anonymous access is forbidden for this operation.")
        buckets = [b for b in self.state.oss.buckets() if b.owner_account_id == account["account_id"]]
        items = "".join("<Bucket>%s%s%s%s%s%s</Bucket>" % (
            _x("CreationDate", _iso(b.creation_time)), _x("ExtranetEndpoint", b.extranet_endpoint),
            _x("IntranetEndpoint", "oss-%s-internal.aliyuncs.com" % b.region), _x("Location", b.location),
            _x("Name", b.name), _x("StorageClass", "Standard")) for b in sorted(buckets, key=lambda b: b.name))
        xml = ('<?xml version="1.0" encoding="UTF-8"?>\n<ListAllMyBucketsResult>%s<Buckets>%s</Buckets>'
               '</ListAllMyBucketsResult>' % (self._owner_xml(account["account_id"]), items))
        self._send(200, xml.encode("utf-8"), rid=rid)
        return 200

    def _bucket_info(self, b, rid):
        xml = ('<?xml version="1.0" encoding="UTF-8"?>\n<BucketInfo><Bucket>%s%s%s%s%s%s%s'
               '<AccessControlList><Grant>private</Grant></AccessControlList>%s%s</Bucket></BucketInfo>' % (
                   _x("CreationDate", _iso(b.creation_time)), _x("ExtranetEndpoint", b.extranet_endpoint),
                   _x("IntranetEndpoint", "oss-%s-internal.aliyuncs.com" % b.region), _x("Location", b.location),
                   _x("Name", b.name), _x("StorageClass", "Standard"), self._owner_xml(b.owner_account_id),
                   _x("DataRedundancyType", "LRS"), _x("Versioning", "")))
        self._send(200, xml.encode("utf-8"), rid=rid)
        return 200

    @staticmethod
    def _enc(value, url):
        return quote(value, safe="") if url and value else value

    def _list_objects(self, b, params, rid, v2):
        prefix = params.get("prefix", "")
        delimiter = params.get("delimiter", "")
        url = params.get("encoding-type") == "url"
        try:
            max_keys = int(params.get("max-keys", "100"))
        except ValueError:
            max_keys = -1
        if not 1 <= max_keys <= 1000:
            raise OssError(400, "InvalidArgument", "Argument max-keys must be an integer between 1 and 1000.",
                           ArgumentName="max-keys", ArgumentValue=params.get("max-keys", ""))
        if v2:
            token = params.get("continuation-token", "")
            try:
                after = base64.urlsafe_b64decode(token.encode()).decode("utf-8") if token else ""
            except ValueError:
                raise OssError(400, "InvalidArgument", "The continuation token provided is incorrect.",
                               ArgumentName="continuation-token")
            after = max(after, params.get("start-after", ""))
        else:
            after = params.get("marker", "")
        entries, prefixes, truncated, last = [], [], False, ""
        seen_prefixes = set()
        for meta in self.state.oss.list(b, prefix):
            if meta.key <= after:
                continue
            if delimiter:
                rest = meta.key[len(prefix):]
                if delimiter in rest:
                    cp = prefix + rest.split(delimiter, 1)[0] + delimiter
                    if cp in seen_prefixes:
                        continue
                    if len(entries) + len(prefixes) >= max_keys:
                        truncated = True
                        break
                    seen_prefixes.add(cp)
                    prefixes.append(cp)
                    last = cp
                    continue
            if len(entries) + len(prefixes) >= max_keys:
                truncated = True
                break
            entries.append(meta)
            last = meta.key
        contents = "".join(
            "<Contents>%s%s%s%s%s%s%s</Contents>" % (
                _x("Key", self._enc(m.key, url)), _x("LastModified", _iso(m.last_modified)), _x("ETag", '"%s"' % m.etag),
                _x("Type", "Multipart" if "-" in m.etag else "Normal"), _x("Size", m.size),
                _x("StorageClass", "Standard"),
                self._owner_xml(b.owner_account_id) if (not v2 or params.get("fetch-owner") == "true") else "")
            for m in entries)
        cps = "".join("<CommonPrefixes>%s</CommonPrefixes>" % _x("Prefix", self._enc(p, url)) for p in prefixes)
        head = [_x("Name", b.name), _x("Prefix", self._enc(prefix, url))]
        if v2:
            if params.get("continuation-token"):
                head.append(_x("ContinuationToken", params["continuation-token"]))
            if params.get("start-after"):
                head.append(_x("StartAfter", self._enc(params["start-after"], url)))
            head += [_x("MaxKeys", max_keys), _x("Delimiter", self._enc(delimiter, url)),
                     _x("IsTruncated", "true" if truncated else "false"), _x("KeyCount", len(entries) + len(prefixes))]
            if truncated:
                head.append(_x("NextContinuationToken", base64.urlsafe_b64encode(last.encode()).decode()))
            root = "ListBucketResult"
        else:
            head += [_x("Marker", self._enc(after, url)), _x("MaxKeys", max_keys),
                     _x("Delimiter", self._enc(delimiter, url)), _x("IsTruncated", "true" if truncated else "false")]
            if truncated:
                head.append(_x("NextMarker", self._enc(last, url)))
            root = "ListBucketResult"
        if url:
            head.append(_x("EncodingType", "url"))
        xml = '<?xml version="1.0" encoding="UTF-8"?>\n<%s>%s%s%s</%s>' % (root, "".join(head), contents, cps, root)
        self._send(200, xml.encode("utf-8"), rid=rid)
        return 200

    def _list_uploads(self, b, params, rid):
        url = params.get("encoding-type") == "url"
        uploads = self.state.oss.list_uploads(b, params.get("prefix", ""))
        items = "".join(
            "<Upload>%s%s%s%s</Upload>" % (_x("Key", self._enc(u.key, url)), _x("UploadId", u.upload_id),
                                           _x("StorageClass", "Standard"), _x("Initiated", _iso(u.initiated)))
            for u in uploads)
        xml = ('<?xml version="1.0" encoding="UTF-8"?>\n<ListMultipartUploadsResult>%s%s%s%s%s%s%s%s%s'
               '</ListMultipartUploadsResult>' % (
                   _x("Bucket", b.name), _x("KeyMarker", ""), _x("UploadIdMarker", ""), _x("NextKeyMarker", ""),
                   _x("NextUploadIdMarker", ""), _x("Delimiter", ""), _x("Prefix", params.get("prefix", "")),
                   _x("MaxUploads", 1000), _x("IsTruncated", "false"))).replace(
            "</ListMultipartUploadsResult>", ("<EncodingType>url</EncodingType>" if url else "") + items +
            "</ListMultipartUploadsResult>")
        self._send(200, xml.encode("utf-8"), rid=rid)
        return 200

    def _delete_multiple(self, b, body, params, rid):
        try:
            root = ElementTree.fromstring(body)
        except ElementTree.ParseError:
            raise OssError(400, "MalformedXML", "The XML you provided was not well-formed or did not validate against "
                           "our published schema.")
        url = params.get("encoding-type") == "url"
        quiet = (root.findtext("Quiet") or "false").lower() == "true"
        deleted = []
        for obj in root.findall("Object"):
            key = obj.findtext("Key") or ""
            if url:
                key = unquote(key)
            self.state.oss.delete(b, key)
            deleted.append(key)
        items = "" if quiet else "".join("<Deleted>%s</Deleted>" % _x("Key", self._enc(k, url)) for k in deleted)
        xml = '<?xml version="1.0" encoding="UTF-8"?>\n<DeleteResult>%s%s</DeleteResult>' % (
            "<EncodingType>url</EncodingType>" if url else "", items)
        self._send(200, xml.encode("utf-8"), rid=rid)
        return 200

    def _send_object_headers(self, status, meta, length, rid, extra=None, body=b""):
        headers = {"ETag": '"%s"' % meta.etag, "Last-Modified": _http_date(meta.last_modified),
                   "x-oss-object-type": "Multipart" if "-" in meta.etag else "Normal",
                   "x-oss-storage-class": "Standard", "Accept-Ranges": "bytes",
                   "x-oss-hash-crc64ecma": str(meta.crc64)}
        headers.update(extra or {})
        self.send_response(status)
        self.send_header("Date", _http_date(time.time()))
        self.send_header("Content-Type", meta.content_type)
        self.send_header("Content-Length", str(length))
        self.send_header("x-oss-request-id", rid)
        self.send_header("Server", "AliyunOSS")
        for k, v in headers.items():
            self.send_header(k, v)
        self.end_headers()
        if body and self.command != "HEAD":
            self.wfile.write(body)

    def _get_object(self, b, key, h, rid):
        meta, data = self.state.oss.get_with_meta(b, key)
        rng = h.get("range")
        size = len(data)
        if rng:
            span = self._parse_range(rng, size)
            if span is None:
                if (h.get("x-oss-range-behavior") or "").lower() == "standard":
                    raise OssError(416, "InvalidRange", "The requested range cannot be satisfied.",
                                   RangeRequested=rng, ActualObjectSize=str(size))
            else:
                start, end = span
                part = data[start:end + 1]
                self._send_object_headers(206, meta, len(part), rid,
                                          {"Content-Range": "bytes %d-%d/%d" % (start, end, size)}, part)
                return 206
        self._send_object_headers(200, meta, size, rid, body=data)
        return 200

    @staticmethod
    def _parse_range(value, size):
        """(start, end) inclusive, or None when the range is invalid/unsatisfiable (OSS then sends everything)."""
        value = value.strip()
        if not value.startswith("bytes=") or "," in value:
            return None
        spec = value[6:]
        if "-" not in spec:
            return None
        a, b = spec.split("-", 1)
        try:
            if a == "":
                n = int(b)
                if n <= 0 or size == 0:
                    return None
                return max(0, size - n), size - 1
            start = int(a)
            end = int(b) if b else size - 1
        except ValueError:
            return None
        if start < 0 or start >= size or (b and end < start):
            return None
        return start, min(end, size - 1)

    def _complete(self, b, key, params, h, body, rid):
        store = self.state.oss
        upload_id = params["uploadId"]
        if (h.get("x-oss-complete-all") or "").lower() == "yes":
            parts = [(n, e) for n, e, _size, _when in store.list_parts(b, key, upload_id)]
        else:
            try:
                root = ElementTree.fromstring(body)
                parts = [(int(p.findtext("PartNumber")), (p.findtext("ETag") or "").strip())
                         for p in root.findall("Part")]
            except (ElementTree.ParseError, TypeError, ValueError):
                raise OssError(400, "MalformedXML", "The XML you provided was not well-formed or did not validate "
                               "against our published schema.")
        meta = store.complete_upload(b, key, upload_id, parts)
        xml = ('<?xml version="1.0" encoding="UTF-8"?>\n<CompleteMultipartUploadResult>%s%s%s%s'
               '</CompleteMultipartUploadResult>' % (
                   _x("Location", "http://%s/%s/%s" % (self.headers.get("Host", ""), b.name, key)),
                   _x("Bucket", b.name), _x("Key", key), _x("ETag", '"%s"' % meta.etag)))
        self._send(200, xml.encode("utf-8"), {"ETag": '"%s"' % meta.etag,
                                              "x-oss-hash-crc64ecma": str(meta.crc64)}, rid=rid)
        return 200

    def _list_parts(self, b, key, params, rid):
        parts = self.state.oss.list_parts(b, key, params["uploadId"])
        try:
            marker = int(params.get("part-number-marker", "0") or 0)
            max_parts = int(params.get("max-parts", "1000") or 1000)
        except ValueError:
            raise OssError(400, "InvalidArgument", "part-number-marker and max-parts must be integers.")
        selected = [p for p in parts if p[0] > marker]
        truncated = len(selected) > max_parts
        selected = selected[:max_parts]
        items = "".join("<Part>%s%s%s%s</Part>" % (_x("PartNumber", n), _x("LastModified", _iso(t)),
                                                   _x("ETag", '"%s"' % e), _x("Size", s)) for n, e, s, t in selected)
        xml = ('<?xml version="1.0" encoding="UTF-8"?>\n<ListPartsResult>%s%s%s%s%s%s%s%s%s</ListPartsResult>' % (
            _x("Bucket", b.name), _x("Key", key), _x("UploadId", params["uploadId"]),
            _x("StorageClass", "Standard"), _x("PartNumberMarker", marker),
            _x("NextPartNumberMarker", selected[-1][0] if selected else marker), _x("MaxParts", max_parts),
            _x("IsTruncated", "true" if truncated else "false"), items))
        self._send(200, xml.encode("utf-8"), rid=rid)
        return 200


class OssHandler(_OssMixin, BaseHandler):
    """The OSS listener's handler."""
