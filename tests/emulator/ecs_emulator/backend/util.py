"""Small helpers of the backend: ids, times, paging, name/description rules, the creation-time index.
Parameter parsing lives on the protocol side (``ecs_emulator.params``)."""
import bisect
import math
import random
import re
import time

from ..errors import ApiError

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


def pct(fraction):
    return "%d%%" % int(max(0.0, min(1.0, fraction)) * 100)


def gib_ceil(nbytes):
    return max(1, int(math.ceil(float(nbytes) / (1 << 30))))


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


def tag_list(tags):
    return {"Tag": [{"TagKey": k, "TagValue": v} for k, v in tags.items()]}


def match_tag_filter(tags, tag_filter):
    for key, value in tag_filter:
        if key not in tags:
            return False
        if value is not None and tags[key] != value:
            return False
    return True


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
