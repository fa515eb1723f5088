"""Request parameter parsing: typed access to an action's flat ``str -> str`` parameters (``Params``) with the
cloud's error for each bad value, indexed (``Name.N``) and JSON-array lists, tags and tag filters, times.
Protocol side: depends on nothing but ``errors``; the backend's actions call it to read their parameters.
"""
import json
import re
import time

from .errors import ApiError, invalid_parameter, missing_parameter


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


def parse_iso(value, name):
    for fmt in ("%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%MZ"):
        try:
            return float(time.mktime(time.strptime(value, fmt)) - time.timezone)
        except (ValueError, TypeError):
            continue
    raise invalid_parameter(name, "Expected yyyy-MM-ddTHH:mmZ or yyyy-MM-ddTHH:mm:ssZ.")


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
