"""Launching and releasing instances, and the network and capacity they need: RunInstances, DeleteInstances,
DescribeVSwitches, DescribeSecurityGroups, DescribeInstanceTypes, DescribeAvailableResource.

Fixture sections read here (all optional):

- ``vpcs``: ``[{account, region, vpc_id, cidr, vswitches: [{vswitch_id, zone, cidr, name}],
  security_groups: [{security_group_id, name, description}]}]``.
- ``instance_type_offerings``: ``[{region, zone, not_offered: [types], stock: {type: n}}]``. A type not listed
  in ``not_offered`` is offered in every zone; ``stock`` caps how many instances of a type may exist in the zone
  (0: sold out); without an entry the stock is unlimited.

A launched instance is ``Pending`` for the first quarter of the RunInstances duration, then ``Starting``, then
``Running`` (as the cloud's RunInstances, which starts the instances by itself).
"""
import base64
import binascii
import hashlib
import ipaddress
import re
from dataclasses import dataclass, field
from typing import Dict, List

from ..errors import ApiError, missing_parameter
from ..params import check_client_token, parse_tag_filter, parse_tags
from .core import INSTANCE_TYPES
from .models import Disk, Instance, Job
from .util import REGION_CODES, iso, paged_answer, paginate, paging_of, match_tag_filter, tag_list

SYSTEM_DISK_CATEGORIES = ("cloud", "cloud_efficiency", "cloud_ssd", "cloud_essd", "cloud_auto", "cloud_essd_entry")
DATA_DISK_CATEGORIES = SYSTEM_DISK_CATEGORIES + ("ephemeral_ssd",)
CHARGE_TYPES = ("PrePaid", "PostPaid")
SPOT_STRATEGIES = ("NoSpot", "SpotWithPriceLimit", "SpotAsPriceGo")
MAX_USER_DATA = 32 * 1024          # bytes after base64 decoding
PENDING_FRACTION = 0.25            # share of the launch spent Pending (then Starting)
_HOST_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.\-]{1,63}$")
_INSTANCE_NAME = re.compile(u"^[A-Za-z\u4e00-\u9fff][A-Za-z0-9\u4e00-\u9fff.:_\\-]{1,127}$")


@dataclass
class VSwitch:
    vswitch_id: str
    vpc_id: str
    account_id: str
    region: str
    zone: str
    cidr: str
    name: str = ""
    creation_time: float = 0.0


@dataclass
class SecurityGroup:
    security_group_id: str
    vpc_id: str
    account_id: str
    region: str
    name: str = ""
    description: str = ""
    creation_time: float = 0.0
    tags: Dict[str, str] = field(default_factory=dict)


@dataclass
class LaunchedInstance(Instance):
    """An instance made by RunInstances: Pending -> Starting -> Running while its launch job runs."""
    public_ip: str = ""
    security_group_ids: List[str] = field(default_factory=list)
    internet_max_bandwidth_out: int = 0
    spot_strategy: str = "NoSpot"
    user_data: str = ""

    def current_status(self, now):
        if self.job is not None and self.job.active and self.job.kind == "launch":
            return "Pending" if self.job.fraction(now) < PENDING_FRACTION else "Starting"
        return super().current_status(now)


def _arch(instance_type):
    return INSTANCE_TYPES[instance_type][3]


class LaunchActions:
    """Mixin of the Backend: the state lives in ``self.vpcs``, ``self.vswitches``, ``self.security_groups`` and
    ``self.offerings`` (loaded lazily from the fixture on first use)."""

    # ------------------------------------------------------------------------------------ fixture
    def _network(self):
        if getattr(self, "_network_loaded", False):
            return
        self._network_loaded = True
        self.vpcs, self.vswitches, self.security_groups, self.offerings = {}, {}, {}, {}
        t0 = self.clock.now() - 86400 * 90
        for spec in self.fixture.get("vpcs", []):
            acc = self.account_ref(spec["account"])
            region = spec["region"]
            code = REGION_CODES.get(region, "zz")
            vpc_id = spec.get("vpc_id") or "vpc-%s%s" % (code, hashlib.md5((acc + region).encode()).hexdigest()[:18])
            self.vpcs[vpc_id] = {"VpcId": vpc_id, "account_id": acc, "region": region,
                                 "CidrBlock": spec.get("cidr", "172.16.0.0/12")}
            for n, vs in enumerate(spec.get("vswitches", [])):
                vid = vs.get("vswitch_id") or self.ids.new("vsw", region)
                self.ids.reserve(vid)
                self.vswitches[vid] = VSwitch(vid, vpc_id, acc, region, vs["zone"],
                                              vs.get("cidr", "172.16.%d.0/24" % (n + 1)), vs.get("name", ""), t0)
            for sg in spec.get("security_groups", []):
                sid = sg.get("security_group_id") or self.ids.new("sg", region)
                self.ids.reserve(sid)
                self.security_groups[sid] = SecurityGroup(sid, vpc_id, acc, region, sg.get("name", ""),
                                                          sg.get("description", ""), t0, dict(sg.get("tags") or {}))
        for off in self.fixture.get("instance_type_offerings", []):
            self.offerings[off["zone"]] = {"not_offered": set(off.get("not_offered", [])),
                                           "stock": dict(off.get("stock") or {})}

    def network_dump(self):
        """Per account and region: vpcs, vswitches, security groups (for GET /_emulator/resources)."""
        self._network()
        out = {}
        for vpc in self.vpcs.values():
            slot = out.setdefault(vpc["account_id"], {}).setdefault(vpc["region"], {
                "vpcs": [], "vswitches": [], "security_groups": []})
            slot["vpcs"].append(vpc["VpcId"])
        for vs in self.vswitches.values():
            out[vs.account_id][vs.region]["vswitches"].append({"VSwitchId": vs.vswitch_id, "ZoneId": vs.zone,
                                                               "VpcId": vs.vpc_id, "CidrBlock": vs.cidr})
        for sg in self.security_groups.values():
            out[sg.account_id][sg.region]["security_groups"].append({"SecurityGroupId": sg.security_group_id,
                                                                     "VpcId": sg.vpc_id})
        return out

    def offering(self, zone, instance_type):
        """(offered, stock left or None for unlimited) of ``instance_type`` in ``zone``."""
        self._network()
        off = self.offerings.get(zone) or {"not_offered": set(), "stock": {}}
        if instance_type in off["not_offered"]:
            return False, 0
        if instance_type not in off["stock"]:
            return True, None
        used = sum(1 for i in self.instances.values() if i.zone == zone and i.instance_type == instance_type)
        return True, max(0, int(off["stock"][instance_type]) - used)

    # ------------------------------------------------------------------------------------ rendering
    def render_instance(self, inst, now, flat=False):
        d = super().render_instance(inst, now, flat)
        if isinstance(inst, LaunchedInstance):
            d["PublicIpAddress"] = {"IpAddress": [inst.public_ip] if inst.public_ip else []}
            d["SecurityGroupIds"] = {"SecurityGroupId": list(inst.security_group_ids)}
            d["InternetMaxBandwidthOut"] = inst.internet_max_bandwidth_out
        if not flat:            # a DescribeInstances field; the DescribeInstanceAttribute model has none
            d["SpotStrategy"] = inst.spot_strategy if isinstance(inst, LaunchedInstance) else "NoSpot"
        return d

    # ------------------------------------------------------------------------------------ network reads
    def act_DescribeVSwitches(self, ctx, p, now):
        self._network()
        region = self.region_of(ctx, p)
        vpc_id, vsw_id, zone = p.str("VpcId"), p.str("VSwitchId"), p.str("ZoneId")
        p.bool("IsDefault")
        number, size = p.page(default_size=10, max_size=50)
        self.dry_run(p)
        out = [v for v in self.vswitches.values() if v.account_id == ctx.account_id and v.region == region
               and (vpc_id is None or v.vpc_id == vpc_id) and (vsw_id is None or v.vswitch_id == vsw_id)
               and (zone is None or v.zone == zone)]
        out.sort(key=lambda v: v.vswitch_id)
        rendered = []
        for v in paginate(out, number, size):
            used = sum(1 for i in self.instances.values() if i.vswitch_id == v.vswitch_id)
            rendered.append({"VSwitchId": v.vswitch_id, "VpcId": v.vpc_id, "Status": "Available",
                             "CidrBlock": v.cidr, "ZoneId": v.zone, "VSwitchName": v.name, "Description": "",
                             "IsDefault": False, "CreationTime": iso(v.creation_time),
                             "AvailableIpAddressCount": ipaddress.ip_network(v.cidr).num_addresses - 4 - used,
                             "ResourceGroupId": self.resource_group(v.account_id, None)})
        return {"TotalCount": len(out), "PageNumber": number, "PageSize": size,
                "VSwitches": {"VSwitch": rendered}}

    def act_DescribeSecurityGroups(self, ctx, p, now):
        self._network()
        region = self.region_of(ctx, p)
        ids = p.json_list("SecurityGroupIds", error_code="InvalidSecurityGroupIds.Malformed")
        one = p.str("SecurityGroupId")
        vpc_id, name = p.str("VpcId"), p.str("SecurityGroupName")
        p.enum("NetworkType", ("vpc", "classic"), code="InvalidNetworkType.NotFound", status=404)
        p.enum("SecurityGroupType", ("normal", "enterprise"))
        tag_filter = parse_tag_filter(p)
        paging = paging_of(p)
        self.dry_run(p)
        out = []
        for sg in sorted(self.security_groups.values(), key=lambda s: s.security_group_id):
            if sg.account_id != ctx.account_id or sg.region != region:
                continue
            if ids is not None and sg.security_group_id not in ids:
                continue
            if (one is not None and sg.security_group_id != one) or (vpc_id is not None and sg.vpc_id != vpc_id):
                continue
            if name is not None and sg.name != name:
                continue
            if tag_filter and not match_tag_filter(sg.tags, tag_filter):
                continue
            out.append(sg)

        def render(sg):
            return {"SecurityGroupId": sg.security_group_id, "SecurityGroupName": sg.name,
                    "Description": sg.description, "VpcId": sg.vpc_id, "SecurityGroupType": "normal",
                    "CreationTime": iso(sg.creation_time), "ServiceManaged": False,
                    "ResourceGroupId": self.resource_group(sg.account_id, None), "Tags": tag_list(sg.tags)}
        return dict({"RegionId": region}, **paged_answer(p, paging, out, "SecurityGroups", "SecurityGroup", render))

    # ------------------------------------------------------------------------------------ capacity reads
    def act_DescribeInstanceTypes(self, ctx, p, now):
        wanted = p.indexed("InstanceTypes") or None
        family = p.str("InstanceTypeFamily")
        arch = p.enum("CpuArchitecture", ("X86", "ARM"))
        archs = p.indexed("CpuArchitectures") or None
        out = []
        for type_id in sorted(INSTANCE_TYPES):
            cpu, mem, fam, architecture = INSTANCE_TYPES[type_id]
            cpu_arch = "ARM" if architecture == "arm64" else "X86"
            if (wanted and type_id not in wanted) or (family and fam != family) or (arch and cpu_arch != arch) \
                    or (archs and cpu_arch not in archs):
                continue
            out.append({"InstanceTypeId": type_id, "InstanceTypeFamily": fam, "CpuCoreCount": cpu,
                        "MemorySize": mem, "CpuArchitecture": cpu_arch, "InstanceCategory": "General-purpose",
                        "EniQuantity": 2, "LocalStorageCategory": "", "GPUAmount": 0,
                        "InstanceFamilyLevel": "EnterpriseLevel", "NvmeSupport": "supported",
                        "SupportedBootModes": {"SupportedBootMode": ["BIOS", "UEFI"]}})
        page, nxt = self._token_page(p, out)
        return {"NextToken": nxt, "InstanceTypes": {"InstanceType": page}}

    @staticmethod
    def _token_page(p, items):
        from .util import next_token_page
        return next_token_page(p, items, default=100, maximum=1600)

    def act_DescribeAvailableResource(self, ctx, p, now):
        region = self.region_of(ctx, p)
        dest = p.enum("DestinationResource", ("Zone", "IoOptimized", "InstanceType", "SystemDisk", "DataDisk",
                                              "Network", "ddh"), required=True)
        zone_id = p.str("ZoneId")
        itype = p.str("InstanceType")
        p.enum("InstanceChargeType", CHARGE_TYPES)
        p.enum("SpotStrategy", SPOT_STRATEGIES)
        p.enum("ResourceType", ("instance", "disk", "reservedinstance", "ddh"))
        p.enum("IoOptimized", ("none", "optimized"))
        zones = self.regions[region].get("zones") or [region + "-a"]
        if zone_id is not None and zone_id not in zones:
            raise ApiError(404, "InvalidZoneId.NotFound", "The specified zoneId does not exist.")
        if itype is not None and itype not in INSTANCE_TYPES:
            raise ApiError(400, "InvalidInstanceType.ValueNotSupported", "The specified InstanceType does not "
                           "exist or beyond the permitted range.")
        out = []
        for zone in zones:
            if zone_id is not None and zone != zone_id:
                continue
            types = []
            for t in sorted(INSTANCE_TYPES):
                if itype is not None and t != itype:
                    continue
                offered, stock = self.offering(zone, t)
                if offered:
                    types.append((t, stock is None or stock > 0))
            if not types:
                continue
            any_stock = any(ok for _t, ok in types)
            if dest in ("InstanceType", "Zone"):
                resources = [{"Type": "InstanceType", "SupportedResources": {"SupportedResource": [
                    {"Value": t, "Status": "Available" if ok else "SoldOut",
                     "StatusCategory": "WithStock" if ok else "WithoutStock"} for t, ok in types]}}]
            elif dest in ("SystemDisk", "DataDisk"):
                cats = SYSTEM_DISK_CATEGORIES if dest == "SystemDisk" else DATA_DISK_CATEGORIES
                resources = [{"Type": dest, "SupportedResources": {"SupportedResource": [
                    {"Value": c, "Status": "Available", "StatusCategory": "WithStock", "Min": 20,
                     "Max": 2048 if dest == "SystemDisk" else 32768, "Unit": "GiB"} for c in cats]}}]
            else:
                resources = [{"Type": dest, "SupportedResources": {"SupportedResource": [
                    {"Value": "vpc" if dest == "Network" else "optimized", "Status": "Available",
                     "StatusCategory": "WithStock"}]}}]
            out.append({"ZoneId": zone, "RegionId": region, "Status": "Available" if any_stock else "SoldOut",
                        "StatusCategory": "WithStock" if any_stock else "WithoutStock",
                        "AvailableResources": {"AvailableResource": resources}})
        return {"AvailableZones": {"AvailableZone": out}}

    # ------------------------------------------------------------------------------------ RunInstances
    def _launch_image(self, ctx, p, region, now):
        image_id, family = p.str("ImageId"), p.str("ImageFamily")
        if image_id is None and family is None:
            raise missing_parameter("ImageId")
        if image_id is not None:
            img = self.visible_image(ctx.account_id, region, image_id)
            if img is None:
                raise ApiError(404, "InvalidImageId.NotFound", 'The specified ImageId "%s" does not exist.'
                               % image_id)
        else:
            candidates = [i for i in list(self.system.get(region, {}).values()) + list(self.images.values())
                          if i.region == region and i.family == family and i.current_status(now) == "Available"
                          and (i.owner_id is None or i.owner_id == ctx.account_id
                               or ctx.account_id in i.shared_with)]
            if not candidates:
                raise ApiError(404, "InvalidImageFamily.MissingAvailableImage", 'The image family "%s" has no '
                               'available image.' % family)
            img = max(candidates, key=lambda i: (i.creation_time, i.image_id))
        status = img.current_status(now)
        if status not in ("Available", "Deprecated"):
            raise ApiError(400, "IncorrectImageStatus", 'The specified image is "%s", not Available.' % status)
        self.check_usable(img, now, "ImageFamily" if image_id is None else "ImageId")   # realism usable_lag
        return img

    def _launch_network(self, ctx, p, region):
        self._network()
        vsw_id = p.str("VSwitchId")
        if vsw_id is None:
            raise ApiError(400, "InvalidVSwitchId.Necessary", "The VSwitchId is necessary.")
        vsw = self.vswitches.get(vsw_id)
        if vsw is None or vsw.account_id != ctx.account_id or vsw.region != region:
            raise ApiError(404, "InvalidVSwitchId.NotExist", 'The specified VSwitchId "%s" does not exist in %s.'
                           % (vsw_id, region))
        zone = p.str("ZoneId")
        if zone is not None and zone != vsw.zone:
            raise ApiError(403, "InvalidParameter.NotMatch", 'The specified ZoneId "%s" is not the zone of vSwitch '
                           '%s (%s).' % (zone, vsw_id, vsw.zone))
        groups = p.indexed("SecurityGroupIds")
        if p.str("SecurityGroupId") is not None:
            if groups:
                raise ApiError(400, "InvalidParameter.Conflict", '"SecurityGroupId" and "SecurityGroupIds.N" '
                               'cannot be given together.')
            groups = [p.str("SecurityGroupId")]
        if not groups:
            raise missing_parameter("SecurityGroupId")
        if len(groups) > 5 or len(set(groups)) != len(groups):
            raise ApiError(400, "InvalidParameter", 'The specified "SecurityGroupIds.N" must hold 1-5 distinct '
                           'ids.')
        for sid in groups:
            sg = self.security_groups.get(sid)
            if sg is None or sg.account_id != ctx.account_id or sg.region != region:
                raise ApiError(404, "InvalidSecurityGroupId.NotFound", 'The specified SecurityGroupId "%s" does '
                               'not exist.' % sid)
            if sg.vpc_id != vsw.vpc_id:
                raise ApiError(403, "OperationDenied.InconsistentNetwork", "The specified security group and "
                               "vswitch are not in the same vpc.")
        return vsw, groups

    def _launch_disks(self, p, img):
        category = p.enum("SystemDisk.Category", SYSTEM_DISK_CATEGORIES,
                          code="InvalidSystemDiskCategory.ValueNotSupported") or "cloud_efficiency"
        size = p.int("SystemDisk.Size", error=ApiError(400, "InvalidSystemDiskSize.ValueNotSupported",
                                                       'The specified "SystemDisk.Size" is not an integer.'))
        if size is None:
            size = max(40, img.size)
        maximum = 500 if category == "cloud" else 2048
        if size < img.size:
            raise ApiError(404, "InvalidSystemDiskSize.LessThanImageSize", 'The specified parameter '
                           'SystemDisk.Size (%d) is less than the image size (%d GiB).' % (size, img.size))
        if size < 20:
            raise ApiError(404, "InvalidSystemDiskSize.LessThanMinSize", "The specified parameter SystemDisk.Size "
                           "is less than the min size.")
        if size > maximum:
            raise ApiError(404, "InvalidSystemDiskSize.MoreThanMaxSize", "The specified SystemDisk.Size is more "
                           "than the max size (%d GiB for %s)." % (maximum, category))
        data = [{"device": m.device, "size": m.size, "snapshot_id": m.snapshot_id, "category": category,
                 "delete": True, "name": ""} for m in img.mappings if m.type == "data"]
        groups = p.indexed_groups("DataDisk")
        if len(groups) + len(data) > 16:
            raise ApiError(400, "InstanceDiskNumber.LimitExceed", "The total number of specified disk in an "
                           "instance exceeds.")
        for n, f in groups:
            cat = f.get("Category") or category
            if cat not in DATA_DISK_CATEGORIES:
                raise ApiError(400, "InvalidDataDiskCategory.ValueNotSupported", 'The specified "DataDisk.%d.'
                               'Category" %r is not supported.' % (n, cat))
            try:
                dsize = int(f["Size"]) if f.get("Size") not in (None, "") else None
            except ValueError:
                dsize = -1
            if dsize is not None and not 20 <= dsize <= 32768:
                raise ApiError(400, "InvalidDataDiskSize.ValueNotSupported", 'The specified "DataDisk.%d.Size" '
                               'must be 20-32768 GiB.' % n)
            snap_id = f.get("SnapshotId") or ""
            if snap_id:
                snap = self.snapshots.get(snap_id)
                if snap is None or snap.region != img.region:
                    raise ApiError(404, "InvalidSnapshotId.NotFound", 'The specified "DataDisk.%d.SnapshotId" '
                                   '%s does not exist.' % (n, snap_id))
                dsize = max(dsize or 0, snap.source_disk_size)
            delete = str(f.get("DeleteWithInstance", "true")).lower() != "false"
            device = f.get("Device")
            same = [d for d in data if device and d["device"] == device]
            if same:        # overrides a data disk of the image
                same[0].update(category=cat, delete=delete, size=max(dsize or 0, same[0]["size"]),
                               name=f.get("DiskName") or "")
                continue
            if dsize is None:
                raise ApiError(400, "InvalidDataDiskSize.ValueNotSupported", 'The specified "DataDisk.%d.Size" '
                               'is required without a snapshot.' % n)
            data.append({"device": device, "size": dsize, "snapshot_id": snap_id, "category": cat,
                         "delete": delete, "name": f.get("DiskName") or ""})
        return category, size, data

    def _launch_options(self, ctx, p, img, region):
        charge = p.enum("InstanceChargeType", CHARGE_TYPES, code="InvalidInstanceChargeType.ValueNotSupported") \
            or "PostPaid"
        spot = p.enum("SpotStrategy", SPOT_STRATEGIES, code="InvalidSpotStrategy") or "NoSpot"
        if spot != "NoSpot" and charge == "PrePaid":
            raise ApiError(400, "InvalidSpotPrepaid", "The specified Spot type is not support PrePay Instance.")
        if spot == "SpotWithPriceLimit" and p.str("SpotPriceLimit") is None:
            raise missing_parameter("SpotPriceLimit")
        bandwidth = p.int("InternetMaxBandwidthOut", 0, error=ApiError(
            400, "InvalidParameter.Bandwidth", 'The specified "InternetMaxBandwidthOut" must be 0-100.'))
        if not 0 <= bandwidth <= 100:
            raise ApiError(400, "InvalidParameter.Bandwidth", 'The specified "InternetMaxBandwidthOut" must be '
                           '0-100.')
        p.enum("InternetChargeType", ("PayByBandwidth", "PayByTraffic"),
               code="InvalidInternetChargeType.ValueNotSupported")
        user_data = p.str("UserData")
        if user_data is not None:
            try:
                decoded = base64.b64decode(user_data.encode("ascii"), validate=True)
            except (binascii.Error, ValueError, UnicodeEncodeError):
                raise ApiError(400, "InvalidUserData.Base64FormatInvalid", "The specified UserData is not valid "
                               "Base64.")
            if len(decoded) > MAX_USER_DATA:
                raise ApiError(400, "InvalidUserData.SizeExceeded", 'The specified parameter "UserData" exceeds '
                               'the size (32 KiB).')
        password = p.str("Password")
        inherit = p.bool("PasswordInherit", False)
        key_pair = p.str("KeyPairName")
        if password is not None and inherit:
            raise ApiError(400, "InvalidParameter.Conflict", '"Password" must be empty when "PasswordInherit" is '
                           'true.')
        if password is not None:
            self._check_password(password, img.os_type == "windows")
        if key_pair is not None:
            if img.os_type == "windows":
                raise ApiError(403, "DependencyViolation.WindowsInstance", "The instance creating is window, "
                               "cannot use ssh key pair to login.")
            if (ctx.account_id, region, key_pair) not in self.key_pairs:
                raise ApiError(404, "InvalidKeyPairName.NotFound", 'The specified parameter "KeyPairName" does not '
                               'exist in our records.')
        name, host = p.str("InstanceName"), p.str("HostName")
        if name is not None and not _INSTANCE_NAME.match(name):
            raise ApiError(400, "InvalidInstanceName.Malformed", 'The specified parameter "InstanceName" is not '
                           'valid: 2-128 characters starting with a letter.')
        if host is not None and not _HOST_NAME.match(host):
            raise ApiError(400, "InvalidHostName.Malformed", 'The specified parameter "HostName" is not valid.')
        description = p.str("Description")
        return dict(charge=charge, spot=spot, bandwidth=bandwidth, user_data=user_data or "", key_pair=key_pair,
                    name=name, host=host, description=description or "")

    def act_RunInstances(self, ctx, p, now):
        region = self.region_of(ctx, p)
        check_client_token(p.str("ClientToken"))
        amount = p.int("Amount", 1, error=ApiError(403, "InvalidParam.Amount", 'The specified "Amount" must be '
                                                   '1-100.'))
        min_amount = p.int("MinAmount", amount, error=ApiError(403, "InvalidParam.Amount", 'The specified '
                                                               '"MinAmount" must be 1-100.'))
        if not 1 <= amount <= 100 or not 1 <= min_amount <= amount:
            raise ApiError(403, "InvalidParam.Amount", 'The specified "Amount" must be 1-100 and "MinAmount" at '
                           'most "Amount".')
        img = self._launch_image(ctx, p, region, now)
        itype = p.str("InstanceType")
        if itype is None:
            raise missing_parameter("InstanceType")
        if itype not in INSTANCE_TYPES:
            raise ApiError(400, "InvalidInstanceType.ValueNotSupported", 'The specified InstanceType "%s" does not '
                           'exist or beyond the permitted range.' % itype)
        vsw, groups = self._launch_network(ctx, p, region)
        if _arch(itype) != img.architecture:
            raise ApiError(403, "ImageNotSupportInstanceType", "The specified image does not support the specified "
                           "InstanceType (image %s is %s, %s is %s)." % (img.image_id, img.architecture, itype,
                                                                         _arch(itype)))
        sys_category, sys_size, data = self._launch_disks(p, img)
        opts = self._launch_options(ctx, p, img, region)
        tags = parse_tags(p)
        rg = self.resource_group(ctx.account_id, p.str("ResourceGroupId"))
        unique = p.bool("UniqueSuffix", False)
        offered, stock = self.offering(vsw.zone, itype)
        if not offered:
            raise ApiError(403, "InvalidInstanceType.ZoneNotSupported", "The specified zone %s does not support "
                           "this instancetype %s." % (vsw.zone, itype))
        count = amount if stock is None else min(amount, stock)
        if count < min_amount or count == 0:
            raise ApiError(403, "OperationDenied.NoStock", "The requested resource is sold out in the specified "
                           "zone %s; try other types of resources or other regions and zones." % vsw.zone)
        self.dry_run(p)
        ids = []
        dur = self.duration("RunInstances")
        for n in range(count):
            ids.append(self._launch_one(ctx.account_id, region, vsw, groups, img, itype, sys_category, sys_size,
                                        data, opts, tags, rg, now, dur, n + 1 if unique and count > 1 else None))
        return {"InstanceIdSets": {"InstanceIdSet": ids}, "OrderId": str(200000000000000 + len(self.instances)),
                "TradePrice": 0.0}

    def _launch_one(self, account, region, vsw, groups, img, itype, sys_category, sys_size, data, opts, tags, rg,
                    now, dur, suffix):
        iid = self.ids.new("i", region)
        cpu, mem, _fam, _arch_ = INSTANCE_TYPES[itype]
        net = ipaddress.ip_network(vsw.cidr)
        used = {i.private_ip for i in self.instances.values() if i.vswitch_id == vsw.vswitch_id}
        private = next(str(a) for a in list(net.hosts())[3:] if str(a) not in used)
        public = ""
        if opts["bandwidth"] > 0:
            digest = hashlib.md5(iid.encode()).digest()
            public = "47.%d.%d.%d" % (96 + digest[0] % 32, digest[1], 1 + digest[2] % 254)
        sys_id = self.ids.new("d", region)
        self.disks[sys_id] = Disk(disk_id=sys_id, account_id=account, region=region, zone=vsw.zone, type="system",
                                  category=sys_category, size=sys_size, creation_time=now, instance_id=iid,
                                  device="/dev/xvda", image_id=img.image_id, resource_group_id=rg, attached_time=now,
                                  product_code=img.product_code,
                                  performance_level="PL0" if sys_category == "cloud_essd" else "")
        data_ids = []
        used_devices = {d["device"] for d in data if d["device"]}
        letters = iter(c for c in "bcdefghijklmnopqrstuvwxyz" if "/dev/xvd" + c not in used_devices)
        for d in data:
            did = self.ids.new("d", region)
            self.disks[did] = Disk(disk_id=did, account_id=account, region=region, zone=vsw.zone, type="data",
                                   category=d["category"], size=d["size"], creation_time=now, instance_id=iid,
                                   device=d["device"] or "/dev/xvd" + next(letters),
                                   source_snapshot_id=d["snapshot_id"], name=d["name"], resource_group_id=rg,
                                   attached_time=now, delete_with_instance=d["delete"],
                                   performance_level="PL0" if d["category"] == "cloud_essd" else "")
            data_ids.append(did)
        name = opts["name"] or iid
        if suffix is not None:
            name = "%s%03d" % (name, suffix)
        host = opts["host"] or "iZ%sZ" % iid[2:]
        if suffix is not None and opts["host"]:
            host = "%s%03d" % (host, suffix)
        inst = LaunchedInstance(
            instance_id=iid, account_id=account, region=region, zone=vsw.zone, name=name, instance_type=itype,
            cpu=cpu, memory=int(mem * 1024), image_id=img.image_id, system_disk_id=sys_id, creation_time=now,
            status="Running", data_disk_ids=data_ids, key_pair_name=opts["key_pair"] or "", os_type=img.os_type,
            os_name=img.os_name, os_name_en=img.os_name_en, tags=dict(tags), resource_group_id=rg,
            private_ip=private, vpc_id=vsw.vpc_id, vswitch_id=vsw.vswitch_id, security_group_id=groups[0],
            start_time=now + dur, charge_type=opts["charge"], host_name=host, description=opts["description"],
            public_ip=public, security_group_ids=list(groups), internet_max_bandwidth_out=opts["bandwidth"],
            spot_strategy=opts["spot"], user_data=opts["user_data"])
        job = Job("launch", now, now, now + dur, self.durations["RunInstances"], handler=self._finish_launch,
                  data={"instance": inst})
        inst.job = job
        self.instances[iid] = inst
        self.schedule(job)
        return iid

    @staticmethod
    def _finish_launch(job):
        inst = job.data["instance"]
        inst.status = "Running"
        inst.start_time = job.end

    # ------------------------------------------------------------------------------------ DeleteInstances
    def act_DeleteInstances(self, ctx, p, now):
        region = self.region_of(ctx, p)
        check_client_token(p.str("ClientToken"))
        ids = p.indexed("InstanceId")
        if not ids:
            raise missing_parameter("InstanceId.N")
        if len(ids) > 100:
            raise ApiError(400, "InvalidParameter", 'The specified "InstanceId.N" holds more than 100 ids.')
        force = p.bool("Force", False)
        p.bool("ForceStop")
        terminate = p.bool("TerminateSubscription", False)
        targets = []
        for iid in dict.fromkeys(ids):
            inst = self.instances.get(iid)
            if inst is None or inst.account_id != ctx.account_id or inst.region != region:
                raise ApiError(404, "InvalidInstanceId.NotFound", 'The specified InstanceId "%s" does not exist.'
                               % iid)
            self._check_locks(inst)
            status = inst.current_status(now)
            if status == "Pending" or (status != "Stopped" and not force):
                raise ApiError(403, "IncorrectInstanceStatus", 'The current status of the instance %s (%s) does '
                               'not support this operation; release a Running instance with "Force" set to true.'
                               % (iid, status))
            if inst.charge_type == "PrePaid" and not terminate:
                raise ApiError(403, "ChargeTypeViolation", "The operation is not permitted due to charge type of "
                               "the instance %s (PrePaid): set TerminateSubscription." % iid)
            targets.append(inst)
        self.dry_run(p)
        for inst in targets:
            self._release(inst)
        return {}

    def _release(self, inst):
        if inst.job is not None:
            inst.job.active = False
        for did in [inst.system_disk_id] + list(inst.data_disk_ids):
            disk = self.disks.get(did)
            if disk is None or disk.instance_id != inst.instance_id:
                continue
            if disk.type == "system" or disk.delete_with_instance:
                del self.disks[did]
            else:
                disk.instance_id, disk.status, disk.device = "", "Available", ""
        del self.instances[inst.instance_id]


def user_data_of(backend, instance_id):
    """The UserData an instance was launched with (white-box tests)."""
    inst = backend.instances.get(instance_id)
    return getattr(inst, "user_data", "") if inst is not None else None


__all__ = ["LaunchActions", "LaunchedInstance", "user_data_of"]
