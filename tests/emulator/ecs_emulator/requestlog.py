"""The admin request log and the masking of secrets in logged parameters."""
import threading
from collections import deque


def mask_access_key(value):
    value = str(value)
    if len(value) <= 8:
        return "****"
    return value[:4] + "*" * (len(value) - 6) + value[-2:]


def mask_params(params):
    out = {}
    for k, v in params.items():
        lk = k.lower()
        if k == "AccessKeyId":
            out[k] = mask_access_key(v)
        elif k in ("SecurityToken", "Signature") or "password" in lk or "secret" in lk:
            out[k] = "******"
        else:
            out[k] = v
    return out


class RequestLog:
    """The admin request log. ``generation`` changes on every ``clear()``: a request that started before a clear
    (or a reset) is not added afterwards, so a cleared log never receives a previous test's late request."""

    def __init__(self, maxlen=200000):
        self._lock = threading.Lock()
        self._entries = deque(maxlen=maxlen)
        self._seq = 0
        self.generation = 0

    def add(self, entry, generation=None):
        """Append ``entry`` (numbered ``seq``); returns it, or None if the log was cleared since ``generation``."""
        with self._lock:
            if generation is not None and generation != self.generation:
                return None
            self._seq += 1
            entry["seq"] = self._seq
            self._entries.append(entry)
            return entry

    def since(self, seq=0):
        with self._lock:
            return [dict(e) for e in self._entries if e["seq"] > seq]

    def clear(self):
        with self._lock:
            self._entries.clear()
            self.generation += 1
