"""Resource models. Transitional states are computed lazily from a ``Job`` (real start/end times)."""
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional

from .util import pct


class Job:
    """One asynchronous transition. ``start``..``end`` are real (scaled) times; before ``start`` it is queued."""

    def __init__(self, kind, created, start, end, sim_duration, handler=None, outcome="ok", data=None):
        self.kind = kind
        self.created = created
        self.start = start
        self.end = end
        self.sim_duration = float(sim_duration)
        self.handler: Optional[Callable] = handler
        self.outcome = outcome              # 'ok' | 'fail'
        self.data = data or {}
        self.active = True

    def queued(self, now):
        return now < self.start

    def fraction(self, now):
        if now <= self.start:
            return 0.0
        span = self.end - self.start
        if span <= 0:
            return 1.0
        return min(1.0, (now - self.start) / span)

    def remain_sim(self, now):
        """Remaining simulated seconds (int) of the active phase."""
        return int(round(self.sim_duration * (1.0 - self.fraction(now))))


@dataclass
class Mapping:
    device: str
    type: str                      # system | data
    size: int                      # GiB
    snapshot_id: str = ""
    format: str = ""
    import_bucket: str = ""
    import_object: str = ""
    encrypted: bool = False


@dataclass
class Image:
    image_id: str
    region: str
    owner_id: Optional[str]        # account id; None for system/marketplace images
    alias: str                     # system | self | marketplace  (``others`` is computed for viewers)
    name: str
    creation_time: float
    size: int = 40
    description: str = ""
    family: str = ""
    version: str = ""
    architecture: str = "x86_64"
    os_type: str = "linux"
    os_name: str = "Others Linux"
    os_name_en: str = "Others Linux"
    platform: str = "Others Linux"
    boot_mode: str = "BIOS"
    status: str = "Available"
    mappings: List[Mapping] = field(default_factory=list)
    tags: Dict[str, str] = field(default_factory=dict)
    resource_group_id: str = ""
    shared_with: Dict[str, float] = field(default_factory=dict)    # account id -> shared time
    is_public: bool = False
    is_copied: bool = False
    product_code: str = ""
    supplier_name: str = ""
    license_type: str = "Auto"
    features: Dict[str, str] = field(default_factory=dict)
    source: Dict[str, str] = field(default_factory=dict)          # how it was made (instance/snapshot/import/copy)
    job: Optional[Job] = None
    # realism (ecs_emulator.realism), real times: Usable from usable_at on; DeleteImage done, still listed
    usable_at: float = 0.0
    deleting: bool = False

    def usable(self, now):
        return self.current_status(now) in ("Available", "Deprecated") and now >= self.usable_at

    def current_status(self, now):
        if self.job is not None and self.job.active:
            return "Waiting" if self.job.queued(now) else "Creating"
        return self.status

    def progress(self, now):
        if self.job is not None and self.job.active:
            return pct(self.job.fraction(now))
        return "100%" if self.status in ("Available", "Deprecated", "UnAvailable") else "0%"


@dataclass
class Disk:
    disk_id: str
    account_id: str
    region: str
    zone: str
    type: str                     # system | data
    category: str
    size: int
    creation_time: float
    status: str = "In_use"
    instance_id: str = ""
    device: str = ""
    image_id: str = ""
    source_snapshot_id: str = ""
    name: str = ""
    description: str = ""
    delete_with_instance: bool = True
    tags: Dict[str, str] = field(default_factory=dict)
    resource_group_id: str = ""
    attached_time: float = 0.0
    encrypted: bool = False
    performance_level: str = ""
    ever_attached: bool = True
    product_code: str = ""        # Marketplace product code of the image a system disk was made from


@dataclass
class Snapshot:
    snapshot_id: str
    account_id: str
    region: str
    name: str
    creation_time: float
    source_disk_id: str
    source_disk_type: str
    source_disk_size: int
    description: str = ""
    status: str = "accomplished"
    source_instance_id: str = ""
    source_storage_type: str = "disk"
    category: str = "standard"
    snapshot_type: str = "user"
    retention_days: Optional[int] = None
    tags: Dict[str, str] = field(default_factory=dict)
    resource_group_id: str = ""
    created_for_image: str = ""   # image id whose creation made it ('' for CreateSnapshot)
    product_code: str = ""        # Marketplace product code carried from its disk or image
    job: Optional[Job] = None

    def current_status(self, now):
        if self.job is not None and self.job.active:
            return "progressing"
        return self.status

    def progress(self, now):
        if self.job is not None and self.job.active:
            return pct(self.job.fraction(now))
        return "100%" if self.status == "accomplished" else "0%"


@dataclass
class Instance:
    instance_id: str
    account_id: str
    region: str
    zone: str
    name: str
    instance_type: str
    cpu: int
    memory: int                   # MiB
    image_id: str
    system_disk_id: str
    creation_time: float
    status: str = "Running"
    data_disk_ids: List[str] = field(default_factory=list)
    key_pair_name: str = ""
    os_type: str = "linux"
    os_name: str = ""
    os_name_en: str = ""
    tags: Dict[str, str] = field(default_factory=dict)
    resource_group_id: str = ""
    locks: List[Dict[str, str]] = field(default_factory=list)     # fixture locks (e.g. security)
    private_ip: str = "172.16.0.10"
    vpc_id: str = ""
    vswitch_id: str = ""
    security_group_id: str = ""
    start_time: float = 0.0
    stopped_mode: str = "Not-applicable"
    charge_type: str = "PostPaid"
    host_name: str = ""
    description: str = ""
    job: Optional[Job] = None
    # realism: transient refusals until settle_until (after a power change or a system disk replacement);
    # no_stock: the next start fails OperationDenied.NoStock (after an economical stop)
    settle_until: float = 0.0
    settle_kind: str = ""
    no_stock: bool = False

    def current_status(self, now):
        if self.job is not None and self.job.active:
            if self.job.kind == "stop":
                return "Stopping"
            if self.job.kind == "start":
                return "Starting"
        return self.status

    def operation_locks(self):
        locks = list(self.locks)
        if self.job is not None and self.job.active and self.job.kind == "replace":
            locks.append({"LockReason": "replacing", "LockMsg": "The system disk is being replaced."})
        return locks


@dataclass
class Task:
    task_id: str
    account_id: str
    region: str
    action: str                   # ImportImage | ExportImage
    resource_id: str
    creation_time: float
    job: Optional[Job] = None
    status: str = "Processing"    # base status once the job is over: Finished | Failed | Cancelled
    finished_time: float = 0.0
    support_cancel: bool = True
    error_code: str = ""
    error_msg: str = ""
    related: List[Dict[str, str]] = field(default_factory=list)   # [{Name, Value}] per operation item
    show_waiting: bool = False    # realism task_waiting: 'Waiting' while the job is queued

    def current_status(self, now):
        if self.job is not None and self.job.active:
            return "Waiting" if (self.show_waiting and self.job.queued(now)) else "Processing"
        return self.status

    def progress(self, now):
        if self.job is not None and self.job.active:
            return pct(self.job.fraction(now))
        return "100%" if self.status == "Finished" else pct(0)


@dataclass
class KeyPair:
    name: str
    account_id: str
    region: str
    fingerprint: str
    creation_time: float
    resource_group_id: str = ""
    tags: Dict[str, str] = field(default_factory=dict)
