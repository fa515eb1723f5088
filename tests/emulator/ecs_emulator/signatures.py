"""Request signature schemes of the Alibaba Cloud POP gateway (RPC style).

V1: HMAC-SHA1 over ``METHOD&%2F&enc(canonical query)`` with key ``secret + '&'`` (aliyun-python-sdk-core, and
alibabacloud SDKs with ``signature_algorithm='v2'``).
V3: ``ACS3-HMAC-SHA256`` in the ``Authorization`` header (alibabacloud-ecs20140526 default).
"""
import base64
import hashlib
import hmac
from urllib.parse import quote

EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


def percent_encode(value):
    """RFC 3986 encoding with the unreserved set ``A-Z a-z 0-9 - _ . ~`` (space -> %20)."""
    return quote(str(value), safe="-_.~", encoding="utf-8", errors="surrogateescape")


def v1_string_to_sign(method, pairs):
    """``pairs``: list of (key, value) of every parameter except ``Signature`` (blank values kept)."""
    encoded = sorted((percent_encode(k), percent_encode(v)) for k, v in pairs)
    canonical = "&".join("%s=%s" % kv for kv in encoded)
    return "%s&%s&%s" % (method.upper(), percent_encode("/"), percent_encode(canonical))


def v1_sign(secret, string_to_sign):
    digest = hmac.new((secret + "&").encode("utf-8"), string_to_sign.encode("utf-8"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def sign_v1_params(method, params, access_key_id, secret, security_token=None):
    """Client-side helper (tests, benchmarks): returns ``params`` completed with the common V1 params."""
    import time
    import uuid
    p = dict(params)
    p.setdefault("Format", "JSON")
    p.setdefault("Version", "2014-05-26")
    p.setdefault("Timestamp", time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
    p.setdefault("SignatureMethod", "HMAC-SHA1")
    p.setdefault("SignatureVersion", "1.0")
    p.setdefault("SignatureNonce", uuid.uuid4().hex)
    p["AccessKeyId"] = access_key_id
    if security_token:
        p["SecurityToken"] = security_token
    p.pop("Signature", None)
    p["Signature"] = v1_sign(secret, v1_string_to_sign(method, p.items()))
    return p


class V3Authorization:
    """Parsed ``Authorization: ACS3-HMAC-SHA256 Credential=AK,SignedHeaders=a;b,Signature=hex``."""

    ALGORITHM = "ACS3-HMAC-SHA256"

    def __init__(self, credential, signed_headers, signature):
        self.credential = credential
        self.signed_headers = signed_headers
        self.signature = signature

    @classmethod
    def parse(cls, header):
        """Returns the parsed header or raises ValueError naming what is wrong."""
        if not header.startswith(cls.ALGORITHM + " "):
            raise ValueError("unsupported signature algorithm")
        fields = {}
        for part in header[len(cls.ALGORITHM) + 1:].split(","):
            if "=" not in part:
                raise ValueError("malformed Authorization header")
            k, v = part.strip().split("=", 1)
            fields[k.strip()] = v.strip()
        for name in ("Credential", "SignedHeaders", "Signature"):
            if not fields.get(name):
                raise ValueError("Authorization header lacks %s" % name)
        signed = [h.strip().lower() for h in fields["SignedHeaders"].split(";") if h.strip()]
        return cls(fields["Credential"], signed, fields["Signature"])


def v3_canonical_request(method, path, query_pairs, headers, signed_headers, hashed_payload):
    """``headers``: dict lower-case name -> value; ``query_pairs``: decoded (key, value) pairs."""
    canon_query = "&".join("%s=%s" % kv for kv in sorted((percent_encode(k), percent_encode(v))
                                                         for k, v in query_pairs))
    canon_headers = "".join("%s:%s\n" % (h, (headers.get(h) or "").strip())
                            for h in sorted(signed_headers))
    return "\n".join([method.upper(), path or "/", canon_query, canon_headers, ";".join(sorted(signed_headers)),
                      hashed_payload])


def v3_string_to_sign(canonical_request):
    return "ACS3-HMAC-SHA256\n" + hashlib.sha256(canonical_request.encode("utf-8", "surrogateescape")).hexdigest()


def v3_sign(secret, string_to_sign):
    return hmac.new(secret.encode("utf-8"), string_to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


def constant_time_equal(a, b):
    return hmac.compare_digest(str(a).encode("utf-8", "surrogateescape"), str(b).encode("utf-8", "surrogateescape"))
