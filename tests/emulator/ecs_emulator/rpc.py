"""RPC request parsing (POP gateway style): query + form body merged into one flat parameter dict, the action
from ``Action`` or ``x-acs-action``, transport limits. Pure protocol: no state, no backend."""
from urllib.parse import parse_qsl, urlsplit

from .errors import ApiError
from .httpd import MAX_BODY

MAX_PARAMS = 1000
MAX_PARAM_VALUE = 64 * 1024

# Parameters that belong to the signature / transport, not to the action (removed before the backend sees the
# request and ignored by the ClientToken fingerprint).
COMMON_PARAMS = frozenset({"Action", "Version", "Format", "AccessKeyId", "Signature", "SignatureMethod",
                           "SignatureVersion", "SignatureType", "SignatureNonce", "Timestamp", "SecurityToken"})


class RpcRequest:
    """One parsed RPC request. ``headers``: lower-case name -> value; ``raw_headers``: (name, value) as received
    (the V3 signature needs repeated headers); ``account``/``temp``/``scheme`` are set by authentication."""

    def __init__(self):
        self.method = "GET"
        self.path = "/"
        self.query_pairs = []
        self.body_pairs = []
        self.params = {}
        self.body = b""
        self.headers = {}
        self.raw_headers = []
        self.action = None
        self.account = None
        self.temp = None
        self.scheme = None
        self.access_key_id = None

    @property
    def version(self):
        return self.params.get("Version") or self.headers.get("x-acs-version")

    def business_params(self):
        """The action's own parameters (``COMMON_PARAMS`` removed)."""
        return {k: v for k, v in self.params.items() if k not in COMMON_PARAMS}


def parse_rpc_request(handler):
    """Read and parse the request ``handler`` is serving; raises ApiError for what the gateway refuses."""
    req = RpcRequest()
    req.method = handler.command
    split = urlsplit(handler.path)
    req.path = split.path or "/"
    req.raw_headers = list(handler.headers.items())
    req.headers = {k.lower(): v for k, v in req.raw_headers}
    if req.method not in ("GET", "POST", "HEAD"):
        # read and discard a body so the connection stays usable
        try:
            handler.read_body()
        except Exception:  # noqa: BLE001
            handler.close_connection = True
        raise ApiError(403, "UnsupportedHTTPMethod", "This HTTP method is not supported.")
    try:
        req.body = handler.read_body()
    except OverflowError:
        handler.close_connection = True
        raise ApiError(413, "RequestEntityTooLarge", "The request body is larger than %d bytes." % MAX_BODY)
    except ValueError:
        handler.close_connection = True
        raise ApiError(400, "InvalidParameter", "The request body or its Content-Length is malformed.")
    try:
        req.query_pairs = parse_qsl(split.query, keep_blank_values=True, max_num_fields=MAX_PARAMS)
        ctype = (req.headers.get("content-type") or "").lower()
        if req.body and "application/x-www-form-urlencoded" in ctype:
            req.body_pairs = parse_qsl(req.body.decode("utf-8", "replace"), keep_blank_values=True,
                                       max_num_fields=MAX_PARAMS)
    except ValueError:
        raise ApiError(400, "InvalidParameter", "Too many parameters (at most %d)." % MAX_PARAMS)
    params = {}
    for k, v in req.query_pairs + req.body_pairs:
        if not k:
            raise ApiError(400, "InvalidParameter", "A parameter without a name was sent.")
        if k in params and params[k] != v:
            raise ApiError(400, "InvalidParameter",
                           'The specified parameter "%s" is not valid. It is given more than once with '
                           'different values.' % k)
        if len(v) > MAX_PARAM_VALUE:
            raise ApiError(400, "InvalidParameter",
                           'The specified parameter "%s" is not valid. It is longer than %d characters.'
                           % (k, MAX_PARAM_VALUE))
        params[k] = v
    req.params = params
    req.action = params.get("Action") or req.headers.get("x-acs-action")
    if not req.action:
        raise ApiError(400, "MissingParameter",
                       'The input parameter "Action" that is mandatory for processing this request is not '
                       'supplied.')
    return req


def error_body(err, rid, host):
    """The JSON body of an RPC error answer."""
    return {"RequestId": rid, "HostId": host, "Code": err.code, "Message": err.message,
            "Recommend": "https://api.aliyun.com/troubleshoot?q=%s&product=Ecs&requestId=%s" % (err.code, rid)}
