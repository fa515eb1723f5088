"""Realism behaviours: the registry of the real cloud's documented (or likely) behaviours the emulator models.

Each behaviour has a short name, a default (on for every documented behaviour; unconfirmed facts default to the
answer judged likelier), a one-line description and its source. Switches, from the lowest precedence:

- the fixture key ``"realism": {"name": false, ...}``;
- ``start_emulator(realism_off=[...])`` / CLI ``--realism-off a,b`` (``all`` = every behaviour);
- at run time ``PUT /_emulator/realism`` ``{"name": false, ...}`` (``GET`` reads them). ``POST /_emulator/reset``
  goes back to the start configuration (defaults + fixture + ``--realism-off``).

Durations (simulated seconds, scaled by ``--time-scale``; overridable with the fixture's ``durations``) are in
``REALISM_DURATIONS``. See tests/emulator/README.md, *Realism behaviours*.
"""
import threading

# name -> (default, description, source)
BEHAVIOURS = {
    "task_waiting": (
        True, "ImportImage/ExportImage tasks are Waiting (queued) before Processing; the TaskStatus filter of "
        "DescribeTasks knows only Finished/Processing/Failed, so a Waiting task is not listed as Processing",
        "DescribeTasks API page (TaskStatus values); provider resource_alicloud_image_export.go waits on "
        "Waiting/Processing"),
    "create_failed": (
        True, "the fault kinds image_create_failed / image_unavailable make a CreateImage, CopyImage or "
        "ImportImage end in CreateFailed / UnAvailable (off: those fault kinds do nothing)",
        "DescribeImages API page (Status values CreateFailed, UnAvailable); provider image waits fail on "
        "CreateFailed"),
    "usable_lag": (
        True, "Usable stays false for a while after Status reads Available; CopyImage, ExportImage, sharing "
        "and ReplaceSystemDisk refuse a not-yet-usable image (400 IncorrectImageStatus)",
        "provider resource_alicloud_image.go waits for Usable == true; DescribeImages API page (Usable)"),
    "late_visibility": (
        True, "an image made by CreateImage, CopyImage or ImportImage is missing from DescribeImages for a "
        "while after the call returned its id",
        "provider image waits treat not-found as pending until the timeout (eventual consistency)"),
    "delete_lingers": (
        True, "after DeleteImage the image is still listed by DescribeImages for a while; meanwhile its "
        "snapshots are refused by DeleteSnapshot (403 SnapshotCreatedImage) and other calls no longer find it",
        "provider resource_alicloud_image.go deleteImage waits until DescribeImages no longer lists it before "
        "deleting the snapshots"),
    "transient_conflict": (
        True, "for a short while after a stop/start ends, Stop/Start/CreateImage/ReplaceSystemDisk on the "
        "instance are refused 403 IncorrectInstanceStatus; after a system disk replacement StartInstance is "
        "refused 403 InvalidOperation.Conflict and other operations 403 OperationConflict",
        "provider errors.go / resource_alicloud_instance.go retry lists (IncorrectInstanceStatus, "
        "InvalidOperation.Conflict, OperationConflict)"),
    "rejected_throttling": (
        True, "about one ECS request in 40 (seeded, never twice in a row for an account) is refused 400 "
        "Rejected.Throttling; also a fault kind rejected_throttling",
        "provider errors.go NeedRetry treats any code containing Throttling as throttling"),
    "token_codes": (
        True, "a request repeated with its ClientToken while the first still runs: 403 LastTokenProcessing; the "
        "token reused with other parameters: 403 InvalidParamter.Conflict (sic) (off: 403 IdempotentProcessing "
        "and 400 IdempotentParameterMismatch)",
        "ECS API error tables (CreateImage 403 InvalidParamter.Conflict; LastTokenProcessing); provider errors.go"),
    "documented_codes": (
        True, "CreateImage with an unknown instance: 400 InvalidInstanceId.NotFound; ReplaceSystemDisk with "
        "Password and PasswordInherit: 400 InvalidPasswordParam.Mismatch (off: 404 and "
        "InvalidParameter.Conflict)",
        "CreateImage / ReplaceSystemDisk API error tables (2021)"),
    "export_format_regions": (
        True, "ExportImage honours ImageFormat only in ap-northeast-1, ap-southeast-5, eu-central-1, me-east-1, "
        "us-east-1, eu-west-1, ap-southeast-1, ap-southeast-3 and us-west-1; elsewhere the export is RAW",
        "ExportImage API page (ImageFormat)"),
    "export_object_names": (
        True, "exported objects are named <OSSPrefix>_<ImageId>_system.<fmt> and "
        "<OSSPrefix>_<ImageId>_data<N>.<fmt>, with .tar.gz after raw (off: <OSSPrefix>_<ImageId>_<TaskId>.<fmt>)",
        "provider resource_alicloud_image_export.go cleanup (<prefix>_<image>_system.raw.tar.gz); console guide "
        "'Export a custom image' (system/data in the names); unconfirmed"),
    "windows_not_exportable": (
        True, "ExportImage refuses Windows images (403 ImageNotSupported)",
        "ExportImage API page (usage notes)"),
    "stopped_mode": (
        True, "StopInstance without StoppedMode stops a pay-as-you-go VPC instance in economical mode "
        "(StopCharging); the first StartInstance after an economical stop fails 403 OperationDenied.NoStock",
        "StopInstance API page (StoppedMode); ReplaceSystemDisk page advises a standard stop"),
    "encrypted_share": (
        True, "ModifyImageSharePermission refuses an encrypted image, AddAccount too (403 "
        "OperationDeined.EncryptedSnapshot, sic; off: only IsPublic is refused)",
        "ModifyImageSharePermission API error table"),
    "delete_unknown_ignored": (
        True, "DeleteImage of an id that does not exist is ignored (success, nothing done) (off: 404 "
        "InvalidImageId.NotFound)",
        "DeleteImage API page; alibabacloud_ecs20140526 DeleteImageRequest docstring"),
    "oss_region_endpoints": (
        True, "one OSS endpoint per region: a bucket is reached only through its own region's endpoint (403 "
        "AccessDenied naming the right endpoint); ListBuckets works from any",
        "OSS endpoint docs (oss-<region>.aliyuncs.com); OSS error 'must be addressed using the specified "
        "endpoint'"),
    # -------- unconfirmed facts: the default is the answer judged likelier; switch to check the other one
    "image_id_list": (
        True, "unconfirmed: DescribeImages accepts a comma list in ImageId (off: the value is one id, so a list "
        "matches nothing)",
        "unconfirmed (real-cloud-behaviour.md); the emulator accepted lists so far"),
    "copy_source_busy": (
        False, "unconfirmed: CopyImage of a source that is being copied is refused 403 "
        "OperationDenied.ImageCopying (default off: copies of one source queue like any copy)",
        "unconfirmed; CopyImage page documents queueing, not this refusal"),
    "replace_data_snapshots": (
        False, "unconfirmed: ReplaceSystemDisk refuses an image holding data-disk snapshots (400 OperationDenied) "
        "(default off: the current page no longer lists the refusal, so it is judged lifted)",
        "ReplaceSystemDisk error table (2021); absent from the current page"),
}

NAMES = tuple(BEHAVIOURS)
UNCONFIRMED = ("image_id_list", "copy_source_busy", "replace_data_snapshots")
# every documented behaviour (the unconfirmed ones keep their default): what the plain state-machine tests switch off
DOCUMENTED = tuple(n for n in NAMES if n not in UNCONFIRMED)

# Simulated seconds (scaled by the clock's time scale); the fixture's "durations" may override them.
REALISM_DURATIONS = {
    "task_waiting": 30,            # an import/export task is Waiting this long before Processing
    "usable_lag": 10,              # Usable false after Status became Available
    "late_visibility": 10,         # a new image is missing from DescribeImages
    "delete_lingers": 15,          # a deleted image is still listed
    "transient_conflict": 5,       # refusals after a stop/start/replace ended
}

THROTTLE_EVERY = 40                # rejected_throttling: about one request in this many

EXPORT_FORMAT_REGIONS = frozenset(("ap-northeast-1", "ap-southeast-5", "eu-central-1", "me-east-1", "us-east-1",
                                   "eu-west-1", "ap-southeast-1", "ap-southeast-3", "us-west-1"))


class RealismError(ValueError):
    pass


def parse_names(value):
    """``'a,b'`` / ``'all'`` / list -> list of names; raises RealismError naming an unknown one. Blank
    entries and ``#`` comments are ignored (so the lines of tests/integration/realism_off.txt work too)."""
    if value is None:
        return []
    if isinstance(value, str):
        items = value.replace("\n", ",").split(",")
    else:
        items = list(value)
    out = []
    for item in items:
        name = str(item).split("#", 1)[0].strip()
        if not name:
            continue
        if name == "all":
            out.extend(NAMES)
            continue
        if name not in BEHAVIOURS:
            raise RealismError("unknown realism behaviour %r (known: %s, or all)" % (name, ", ".join(NAMES)))
        out.append(name)
    return list(dict.fromkeys(out))


def check_mapping(mapping):
    """Validate ``{"name": bool}``; returns it as a dict of bools."""
    if not isinstance(mapping, dict):
        raise RealismError("realism must be a JSON object {\"name\": true|false}")
    out = {}
    for name, value in mapping.items():
        if name not in BEHAVIOURS:
            raise RealismError("unknown realism behaviour %r (known: %s)" % (name, ", ".join(NAMES)))
        if not isinstance(value, bool):
            raise RealismError("realism %r must be true or false" % name)
        out[name] = value
    return out


class Realism:
    """The switches. ``r.on(name)`` is True when the behaviour is active. Thread-safe for reads."""

    def __init__(self, off=None, fixture=None):
        self._lock = threading.Lock()
        self.start_off = parse_names(off)
        base = {n: d[0] for n, d in BEHAVIOURS.items()}
        base.update(check_mapping((fixture or {}).get("realism") or {}))
        for n in self.start_off:
            base[n] = False
        self.base = base
        self.state = dict(base)

    def on(self, name):
        return self.state[name]

    def update(self, mapping):
        mapping = check_mapping(mapping)
        with self._lock:
            self.state.update(mapping)
        return self.as_dict()

    def reset(self, fixture=None):
        """Back to the start configuration (defaults + ``fixture``'s realism + the start's off list)."""
        with self._lock:
            base = {n: d[0] for n, d in BEHAVIOURS.items()}
            base.update(check_mapping((fixture or {}).get("realism") or {}))
            for n in self.start_off:
                base[n] = False
            self.base = base
            self.state = dict(base)

    def as_dict(self):
        return dict(self.state)

    def describe(self):
        return {n: {"on": self.state[n], "default": d[0], "description": d[1], "source": d[2]}
                for n, d in BEHAVIOURS.items()}
