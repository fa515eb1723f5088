"""Per-request context handed from the protocol layer to the backend."""
from dataclasses import dataclass
from typing import Optional


@dataclass
class RequestContext:
    account_id: str
    region_id: Optional[str]
    request_id: str
    host: str = "ecs.aliyuncs.com"
    client_token: Optional[str] = None
    fail_as: Optional[str] = None      # fault image_create_failed / image_unavailable: the new image's end state
