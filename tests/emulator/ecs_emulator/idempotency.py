"""ClientToken replay store: (account, action, token) -> (fingerprint, stored answer)."""
import copy
import hashlib
import json
import threading

from .errors import ApiError
from .rpc import COMMON_PARAMS


class ClientTokenStore:
    """(account, action, token) -> (fingerprint, response body without RequestId)."""

    PROCESSING = object()

    def __init__(self):
        self._lock = threading.Lock()
        self._entries = {}

    @staticmethod
    def fingerprint(params):
        items = sorted((k, v) for k, v in params.items() if k not in COMMON_PARAMS)
        return hashlib.sha256(json.dumps(items, ensure_ascii=False).encode("utf-8")).hexdigest()

    def begin(self, key, fingerprint, documented=False):
        """Returns ('new', None), ('replay', body) or raises the cloud's error (``documented``: realism token_codes,
        the codes of the ECS error tables: 403 InvalidParamter.Conflict (sic) and 403 LastTokenProcessing)."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                self._entries[key] = (fingerprint, self.PROCESSING)
                return "new", None
            fp, body = entry
            if fp != fingerprint:
                if documented:
                    raise ApiError(403, "InvalidParamter.Conflict", "The specified ClientToken was used with other "
                                   "parameters.")
                raise ApiError(400, "IdempotentParameterMismatch", "The request is retried with updated parameters.")
            if body is self.PROCESSING:
                if documented:
                    raise ApiError(403, "LastTokenProcessing", "The last token request is processing.")
                raise ApiError(403, "IdempotentProcessing",
                               "The previous idempotent request(s) is still processing.")
            return "replay", copy.deepcopy(body)

    def finish(self, key, fingerprint, body):
        with self._lock:
            if body is None:
                self._entries.pop(key, None)      # failed: the token is not remembered
            else:
                self._entries[key] = (fingerprint, copy.deepcopy(body))

    def clear(self):
        with self._lock:
            self._entries.clear()

    def __len__(self):
        return len(self._entries)
