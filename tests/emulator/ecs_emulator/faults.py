"""Fault injection rules (see docs/dev/ARCHITECTURE.md, "Fault SPEC").

SPEC: rules separated by ``;``, each ``ACTION=KIND[:ARG][*COUNT][@PROB]``; ACTION is an API action or ``*``.
Kinds: throttling, throttling_user, rejected_throttling, unavailable, internal, slow:SECONDS, drop, lost,
image_create_failed, image_unavailable (the call succeeds; the image it makes ends CreateFailed / UnAvailable).
``throttling`` and ``throttling_user`` accept an optional ARG: a value for the ``x-acs-retry-after`` header
(milliseconds), which makes alibabacloud SDKs raise ThrottlingException.
"""
import random
import re
import threading

from .errors import ApiError

KINDS = ("throttling", "throttling_user", "rejected_throttling", "unavailable", "internal", "slow", "drop", "lost",
         "image_create_failed", "image_unavailable")

_RULE_RE = re.compile(r"^(?P<action>\*|[A-Za-z][A-Za-z0-9]*)=(?P<kind>[a-z_]+)(?::(?P<arg>[0-9]+(?:\.[0-9]+)?))?"
                      r"(?:\*(?P<count>[0-9]+))?(?:@(?P<prob>[0-9]*\.?[0-9]+))?$")


class FaultSpecError(ValueError):
    pass


class FaultRule:
    def __init__(self, action, kind, arg=None, count=None, prob=1.0, text=""):
        self.action = action
        self.kind = kind
        self.arg = arg
        self.count = count          # remaining firings, None = unlimited
        self.prob = prob
        self.fired = 0
        self.text = text

    def as_dict(self):
        return {"rule": self.text, "action": self.action, "kind": self.kind, "arg": self.arg,
                "remaining": self.count, "probability": self.prob, "fired": self.fired}


def parse_spec(spec):
    """Parse a SPEC string into rules; raises FaultSpecError naming the bad rule."""
    rules = []
    for raw in (spec or "").split(";"):
        text = raw.strip()
        if not text:
            continue
        m = _RULE_RE.match(text)
        if not m:
            raise FaultSpecError("bad fault rule %r (expected ACTION=KIND[:ARG][*COUNT][@PROB])" % text)
        kind = m.group("kind")
        if kind not in KINDS:
            raise FaultSpecError("bad fault rule %r: unknown kind %r (one of %s)" % (text, kind, ", ".join(KINDS)))
        arg = m.group("arg")
        if kind == "slow":
            if arg is None:
                raise FaultSpecError("bad fault rule %r: slow needs SECONDS, e.g. slow:2.5" % text)
            arg = float(arg)
        elif kind in ("throttling", "throttling_user", "rejected_throttling"):
            arg = int(float(arg)) if arg is not None else None
        elif arg is not None:
            raise FaultSpecError("bad fault rule %r: %s takes no argument" % (text, kind))
        count = int(m.group("count")) if m.group("count") is not None else None
        prob = float(m.group("prob")) if m.group("prob") is not None else 1.0
        if not 0.0 <= prob <= 1.0:
            raise FaultSpecError("bad fault rule %r: probability must be within 0..1" % text)
        rules.append(FaultRule(m.group("action"), kind, arg, count, prob, text))
    return rules


class FaultInjector:
    """Holds the rules; ``pick(action)`` returns the rule that fires for this request, or None.

    The first matching rule (in SPEC order) that still has firings left is considered; its probability is
    drawn from a RNG seeded with the emulator seed, so a given request sequence always sees the same faults.
    """

    def __init__(self, spec=None, seed=0):
        self._lock = threading.Lock()
        self._seed = seed
        self._rng = random.Random(seed)
        self.spec = ""
        self.rules = []
        self.set_spec(spec)

    def set_spec(self, spec):
        rules = parse_spec(spec)
        with self._lock:
            self.rules = rules
            self.spec = spec or ""
            self._rng = random.Random(self._seed)

    def clear(self):
        self.set_spec("")

    def pick(self, action):
        with self._lock:
            for rule in self.rules:
                if rule.action not in ("*", action):
                    continue
                if rule.count is not None and rule.count <= 0:
                    continue
                if rule.prob < 1.0 and self._rng.random() >= rule.prob:
                    continue
                if rule.count is not None:
                    rule.count -= 1
                rule.fired += 1
                return rule
            return None

    def as_dict(self):
        with self._lock:
            return {"spec": self.spec, "rules": [r.as_dict() for r in self.rules]}


def throttling_error():
    return ApiError(400, "Throttling", "Request was denied due to request throttling.")


def throttling_user_error():
    return ApiError(400, "Throttling.User", "Request was denied due to user flow control.")


def rejected_throttling_error():
    return ApiError(400, "Rejected.Throttling", "Request was denied due to request throttling.")


def unavailable_error():
    return ApiError(503, "ServiceUnavailable", "The request has failed due to a temporary failure of the server.")


def internal_error():
    return ApiError(500, "InternalError",
                    "The request processing has failed due to some unknown error, exception or failure.")
