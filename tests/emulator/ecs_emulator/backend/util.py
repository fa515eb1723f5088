"""Small helpers of the backend: ids, times, parameter parsing and validation."""
import bisect
import json
import math
import random
import re
import time

from ..errors import ApiError, invalid_parameter, missing_parameter

# Region -> the two characters real ids carry after the prefix (``m-bp1...`` is a Hangzhou image).
REGION_CODES = {
    "cn-hangzhou": "bp", "cn-shanghai": "uf", "cn-beijing": "2z", "cn-shenzhen": "wz", "cn-qingdao": "m5",
    "cn-zhangjiakou": "8v", "cn-huhehaote": "hp", "cn-wulanchabu": "0j", "cn-chengdu": "2v",
    "cn-hongkong": "j6", "cn-guangzhou": "7x", "cn-nanjing": "gc", "ap-southeast-1": "t4",
    "ap-northeast-1": "6w", "ap-northeast-2": "mj", "ap-southeast-3": "8p", "ap-southeast-5": "k1",
    "ap-southeast-6": "5t", "ap-southeast-7": "0w", "us-west-1": "rj", "us-east-1": "0x",
    "eu-central-1": "gw", "eu-west-1": "d7", "me-east-1": "eb",
}
_ALNUM = "0123456789abcdefghijklmnopqrstuvwxyz"


class IdFactory:
    """Deterministic (seeded) ids shaped like the cloud's: prefix + region code + 18 lower-case alnum."""

    def __init__(self, seed=0):
        self._rng = random.Random(seed)
        self._issued = set()

    def new(self, prefix, region=None):
        code = REGION_CODES.get(region or "", "zz")
        while True:
            ident = "%s-%s%s" % (prefix, code, "".join(self._rng.choice(_ALNUM) for _i in range(18)))
            if ident not in self._issued:
                self._issued.add(ident)
                return ident

    def reserve(self, ident):
        self._issued.add(ident)


def iso(ts, seconds=True):
    """ISO 8601 UTC: ``YYYY-MM-DDThh:mm:ssZ`` (images, snapshots) or ``YYYY-MM-DDThh:mmZ`` (instances, tasks)."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ" if seconds else "%Y-%m-%dT%H:%MZ", time.gmtime(ts))


def parse_iso(value, name):
    for fmt in ("%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%MZ"):
        try:
            return float(time.mktime(time.strptime(value, fmt)) - time.timezone)
        except (ValueError, TypeError):
            continue
    raise invalid_parameter(name, "Expected yyyy-MM-ddTHH:mmZ or yyyy-MM-ddTHH:mm:ssZ.")


def pct(fraction):
    return "%d%%" % int(max(0.0, min(1.0, fraction)) * 100)


def gib_ceil(nbytes):
    return max(1, int(math.ceil(float(nbytes) / (1 << 30))))


# ------------------------------------------------------------------------------------------- parameters
class Params:
    """Typed access to the flat str->str parameter dict with the cloud's error for each bad value."""

    def __init__(self, raw):
        self.raw = raw or {}

    def __contains__(self, name):
        return name in self.raw

    def str(self, name, required=False, default=None, missing=None):
        value = self.raw.get(name)
        if value is None or value == "":
            if required:
                raise missing or missing_parameter(name)
            return default
        return value

    def bool(self, name, default=None):
        value = self.raw.get(name)
        if value is None or value == "":
            return default
        low = str(value).strip().lower()
        if low == "true":
            return True
        if low == "false":
            return False
        raise invalid_parameter(name, "Expected a boolean (true or false), got %r." % value)

    def int(self, name, default=None, minimum=None, maximum=None, required=False, error=None):
        value = self.raw.get(name)
        if value is None or value == "":
            if required:
                raise missing_parameter(name)
            return default
        try:
            number = int(str(value).strip())
        except ValueError:
            raise error or invalid_parameter(name, "Expected an integer, got %r." % value)
        if (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
            raise error or invalid_parameter(name, "The value must be between %s and %s." % (minimum, maximum))
        return number

    def enum(self, name, allowed, default=None, code=None, status=400, ci=False, required=False):
        value = self.str(name, required=required)
        if value is None:
            return default
        choices = {a.lower(): a for a in allowed} if ci else {a: a for a in allowed}
        key = value.lower() if ci else value
        if key not in choices:
            if code:
                raise ApiError(status, code, 'The specified parameter "%s" is not valid: %r (allowed: %s).'
                               % (name, value, ", ".join(allowed)))
            raise invalid_parameter(name, "Allowed values: %s." % ", ".join(allowed))
        return choices[key]

    def indexed(self, prefix, suffix=None):
        """Values of ``prefix.N`` (or ``prefix.N.suffix``) in N order; N must be a positive integer."""
        found = {}
        pat = re.compile(r"^%s\.(\d+)%s$" % (re.escape(prefix), re.escape("." + suffix) if suffix else ""))
        for key, value in self.raw.items():
            m = pat.match(key)
            if m:
                n = int(m.group(1))
                if n < 1:
                    raise invalid_parameter(key)
                found[n] = value
        return [found[n] for n in sorted(found)]

    def indexed_groups(self, prefix):
        """``prefix.N.Field`` -> list of (N, {Field: value}) sorted by N."""
        groups = {}
        pat = re.compile(r"^%s\.(\d+)\.([A-Za-z][A-Za-z0-9.]*)$" % re.escape(prefix))
        for key, value in self.raw.items():
            m = pat.match(key)
            if m:
                groups.setdefault(int(m.group(1)), {})[m.group(2)] = value
        return sorted(groups.items())

    def json_list(self, name, maximum=100, error_code=None, status=400):
        value = self.str(name)
        if value is None:
            return None
        try:
            items = json.loads(value)
        except ValueError:
            items = None
        if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
            raise ApiError(status, error_code or "InvalidParameter",
                           'The specified parameter "%s" is not valid: expected a JSON array of strings such as '
                           '["id1","id2"].' % name)
        if len(items) > maximum:
            raise ApiError(403 if error_code else 400, error_code or "InvalidParameter",
                           'The specified parameter "%s" holds more than %d ids.' % (name, maximum))
        return items

    def page(self, default_size=10, max_size=100):
        number = self.int("PageNumber", 1, minimum=1, maximum=10 ** 9)
        size = self.int("PageSize", default_size, minimum=1, maximum=max_size)
        return number, size


def paginate(items, number, size):
    start = (number - 1) * size
    return items[start:start + size]


def next_token_page(params, items, default=10, maximum=100, minimum=1, name="MaxResults"):
    """NextToken/MaxResults pagination: returns (page, next_token)."""
    size = params.int(name, default, minimum=minimum, maximum=maximum)
    token = params.str("NextToken")
    start = 0
    if token:
        m = re.match(r"^nt-([0-9]+)$", token)
        if not m:
            raise ApiError(400, "InvalidParameter", 'The specified parameter "NextToken" is not valid.')
        start = int(m.group(1))
    page = items[start:start + size]
    nxt = "nt-%d" % (start + size) if start + size < len(items) else ""
    return page, nxt


def paging_of(params):
    """Paging of an action that takes PageNumber/PageSize **or** NextToken/MaxResults: None for the token mode
    (its values are checked by ``paged_answer``), else (number, size) — validated now."""
    if params.str("NextToken") is not None or params.str("MaxResults") is not None:
        return None
    return params.page()


def paged_answer(params, paging, items, list_key, item_key, render, max_results=100):
    """The answer's paging fields and the page of ``items`` rendered as ``{list_key: {item_key: [...]}}``."""
    if paging is None:
        page, nxt = next_token_page(params, items, maximum=max_results)
        out = {"TotalCount": len(items), "NextToken": nxt}
    else:
        number, size = paging
        page = paginate(items, number, size)
        out = {"TotalCount": len(items), "PageNumber": number, "PageSize": size, "NextToken": ""}
    out[list_key] = {item_key: [render(i) for i in page]}
    return out


# ------------------------------------------------------------------------------------------- validation
_NAME_FIRST = re.compile(r"^[A-Za-z\u4e00-\u9fff]")
_NAME_BODY = re.compile(r"^[A-Za-z0-9\u4e00-\u9fff.:_\-]+$")


def check_image_name(value, name="ImageName", code="InvalidImageName.Malformed"):
    low = value.lower()
    if (not 2 <= len(value) <= 128 or not _NAME_FIRST.match(value) or not _NAME_BODY.match(value)
            or low.startswith(("http://", "https://", "aliyun", "acs:"))):
        raise ApiError(400, code, 'The specified %s is wrongly formed: "%s" must be 2-128 characters, start with a '
                       'letter, contain only letters, digits, ".", ":", "_", "-" and not start with http://, '
                       'https://, aliyun or acs:.' % (name, name))
    return value


def check_description(value, name="Description"):
    if not 2 <= len(value) <= 256 or value.lower().startswith(("http://", "https://")):
        raise ApiError(400, "InvalidDescription.Malformed",
                       'The specified description is wrongly formed: "%s" must be 2-256 characters and not start '
                       'with http:// or https://.' % name)
    return value


def check_snapshot_name(value, name="SnapshotName"):
    low = value.lower()
    if (not 2 <= len(value) <= 128 or not _NAME_FIRST.match(value) or low.startswith(("http://", "https://"))
            or low.startswith("auto")):
        raise ApiError(400, "InvalidSnapshotName.Malformed",
                       'The specified "%s" is wrongly formed: 2-128 characters, starting with a letter, not with '
                       '"auto", http:// or https://.' % name)
    return value


def check_client_token(value):
    if value is not None and (len(value) > 64 or not all(32 <= ord(c) < 127 for c in value)):
        raise invalid_parameter("ClientToken", "At most 64 ASCII characters.")


def parse_tags(params, prefix="Tag", create_time=True, maximum=20, require=False):
    """``Tag.N.Key``/``Tag.N.Value`` -> ordered dict; validates keys, values, count and duplicates."""
    groups = params.indexed_groups(prefix)
    if require and not groups:
        raise ApiError(404, "MissingParameter.Tags", 'The input parameter "%s.N.Key" is not supplied.' % prefix)
    if len(groups) > maximum:
        raise ApiError(400, "NumberExceed.Tags", "The maximum number of Tags is exceeded. Valid : %d" % maximum)
    tags = {}
    for n, fields in groups:
        key = fields.get("Key")
        value = fields.get("Value", "")
        if value is None:
            value = ""
        if key is None or key == "":
            raise ApiError(400, "InvalidTagKey.Malformed",
                           'The specified "%s.%d.Key" is empty; a tag key must be 1-128 characters.' % (prefix, n))
        low = key.lower()
        if len(key) > 128 or low.startswith(("aliyun", "acs:")) or "http://" in low or "https://" in low:
            raise ApiError(400, "InvalidTagKey.Malformed",
                           'The specified "%s.%d.Key" is wrongly formed: at most 128 characters, not starting with '
                           'aliyun or acs: and without http:// or https://.' % (prefix, n))
        vlow = value.lower()
        if (len(value) > 128 or "http://" in vlow or "https://" in vlow
                or (create_time and vlow.startswith("acs:"))):
            raise ApiError(400, "InvalidTagValue.Malformed",
                           'The specified "%s.%d.Value" is wrongly formed: at most 128 characters, without http:// '
                           'or https:// (and not starting with acs:).' % (prefix, n))
        if key in tags:
            raise ApiError(400, "Duplicate.TagKey", 'The "%s.N.Key" values contain the duplicate key "%s".'
                           % (prefix, key))
        tags[key] = value
    return tags


def tag_list(tags):
    return {"Tag": [{"TagKey": k, "TagValue": v} for k, v in tags.items()]}


def match_tag_filter(tags, tag_filter):
    for key, value in tag_filter:
        if key not in tags:
            return False
        if value is not None and tags[key] != value:
            return False
    return True


def parse_tag_filter(params):
    """DescribeX Tag.N.Key/Value filter -> list of (key, value|None)."""
    groups = params.indexed_groups("Tag")
    if len(groups) > 20:
        raise ApiError(400, "InvalidTagCount", "The specified tags count exceeds 20 (Tag.N).")
    out = []
    for n, fields in groups:
        key = fields.get("Key")
        if not key:
            if fields.get("Value"):
                raise ApiError(400, "InvalidTag.Mismatch",
                               'The specified "Tag.%d.Value" has no matching "Tag.%d.Key".' % (n, n))
            continue
        out.append((key, fields.get("Value") if "Value" in fields else None))
    return out


class CreationIndex:
    """The custom images of one account and region, kept sorted by (creation time, insertion number) on every
    insert and delete, so DescribeImages pages without sorting. ``values()`` is oldest first (insertion order
    among equal times), ``newest_first()`` the reverse; ``len()`` and ``get(image_id)`` as for a dict."""

    def __init__(self):
        self._keys = []         # sorted (creation_time, n)
        self._items = []        # images, parallel to _keys
        self._key_of = {}       # image id -> its key
        self._n = 0

    def add(self, img):
        if img.image_id in self._key_of:
            self.remove(img)
        self._n += 1
        key = (img.creation_time, self._n)
        pos = bisect.bisect_right(self._keys, key)
        self._keys.insert(pos, key)
        self._items.insert(pos, img)
        self._key_of[img.image_id] = key

    def remove(self, img):
        key = self._key_of.pop(img.image_id, None)
        if key is None:
            return False
        pos = bisect.bisect_left(self._keys, key)
        del self._keys[pos]
        del self._items[pos]
        return True

    def get(self, image_id, default=None):
        key = self._key_of.get(image_id)
        return self._items[bisect.bisect_left(self._keys, key)] if key is not None else default

    def __len__(self):
        return len(self._items)

    def __contains__(self, image_id):
        return image_id in self._key_of

    def values(self):
        return list(self._items)

    def newest_first(self):
        return self._items[::-1]
