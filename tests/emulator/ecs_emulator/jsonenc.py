"""Compact JSON for responses, with pre-encoded parts.

The backend caches rendered objects (DescribeImages images) as :class:`Encoded` dicts; ``dumps`` splices their
JSON text, encoded once, instead of encoding them again for every response. An ``Encoded`` is an ordinary dict for
everybody else (``json.dumps``, copies, tests); it must not be modified once rendered.
"""
import json

_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=str).encode


class Encoded(dict):
    """A dict that keeps its compact JSON text once computed (do not modify it afterwards)."""

    __slots__ = ("_text",)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._text = None

    def json_text(self):
        if self._text is None:
            self._text = _encode(self)
        return self._text


def dumps(obj):
    """Compact JSON text of ``obj`` (``ensure_ascii=False``); ``Encoded`` parts are spliced as they are."""
    if isinstance(obj, Encoded):
        return obj.json_text()
    if isinstance(obj, dict):
        if not any(isinstance(v, (dict, list)) for v in obj.values()):
            return _encode(obj)
        return "{" + ",".join(_encode(str(k)) + ":" + dumps(v) for k, v in obj.items()) + "}"
    if isinstance(obj, (list, tuple)):
        if not any(isinstance(v, Encoded) for v in obj):
            return _encode(obj)
        return "[" + ",".join(dumps(v) for v in obj) + "]"
    return _encode(obj)
