"""TagResources, UntagResources, ListTagResources, JoinResourceGroup."""
from ..errors import ApiError, invalid_parameter
from ..params import Params, parse_tags
from .util import next_token_page

RESOURCE_TYPES = ("instance", "disk", "snapshot", "image", "securitygroup", "volume", "eni", "ddh", "ddhcluster",
                  "keypair", "launchtemplate", "reservedinstance", "snapshotpolicy", "elasticityassurance",
                  "capacityreservation", "command", "invocation", "activation", "managedinstance")
LIST_PAGE = 50


class TagActions:

    def _tag_region(self, ctx, p):
        return self.region_of(ctx, p, missing=ApiError(404, "MissingParameter.RegionId",
                                                       'The input parameter "RegionId" is not supplied.'))

    @staticmethod
    def _resource_type(p):
        rtype = p.str("ResourceType")
        if not rtype:
            raise ApiError(404, "MissingParameter.ResourceType", 'The input parameter "ResourceType" is not '
                           'supplied.')
        if rtype.lower() not in RESOURCE_TYPES:
            raise ApiError(404, "InvalidResourceType.NotFound", 'The specified "ResourceType" %r does not exist.'
                           % rtype)
        return rtype.lower()

    def _resource(self, ctx, region, rtype, rid, now):
        """The taggable object (it has ``tags`` and ``resource_group_id``) or an ApiError."""
        obj = None
        acct = ctx.account_id
        if rtype == "image":
            obj = self.own_image(acct, region, rid)
            if obj is None and self.visible_image(acct, region, rid) is not None:
                raise ApiError(403, "InvalidResourceId.NotSupported", 'The image "%s" is not owned by you and '
                               'cannot be tagged.' % rid)
        elif rtype == "instance":
            obj = self.instances.get(rid)
        elif rtype == "disk":
            obj = self.disks.get(rid)
        elif rtype == "snapshot":
            obj = self.snapshots.get(rid)
        elif rtype == "keypair":
            obj = self.key_pairs.get((acct, region, rid))
        if obj is not None and rtype != "image":
            if getattr(obj, "account_id", acct) != acct or getattr(obj, "region", region) != region:
                obj = None
        if obj is None:
            raise ApiError(404, "InvalidResourceId.NotFound", 'The specified "ResourceId" %s (%s) does not exist.'
                           % (rid, rtype))
        return obj

    def _resource_ids(self, p, required=True):
        ids = p.indexed("ResourceId")
        if required and not ids:
            raise ApiError(400, "MissingParameter", 'The input parameter "ResourceId.1" that is mandatory for '
                           'processing this request is not supplied.')
        if len(ids) > 50:
            raise ApiError(400, "NumberExceed.ResourceIds", "The maximum number of ResourceIds is exceeded. "
                           "Valid : 50")
        return ids

    def act_TagResources(self, ctx, p, now):
        region = self._tag_region(ctx, p)
        rtype = self._resource_type(p)
        ids = self._resource_ids(p)
        tags = parse_tags(p, create_time=False, require=True)
        objs = [self._resource(ctx, region, rtype, rid, now) for rid in ids]
        limit = self.quotas["tags_per_resource"]
        for rid, obj in zip(ids, objs):
            if len(set(obj.tags) | set(tags)) > limit:
                raise ApiError(400, "OperationDenied.QuotaExceed", "Resource %s would have more than %d tags."
                               % (rid, limit))
        self.dry_run(p)
        for obj in objs:
            obj.tags.update(tags)
        return {}

    def act_UntagResources(self, ctx, p, now):
        region = self._tag_region(ctx, p)
        rtype = self._resource_type(p)
        ids = self._resource_ids(p)
        keys = p.indexed("TagKey")
        remove_all = p.bool("All", False)
        if len(keys) > 20:
            raise ApiError(400, "NumberExceed.Tags", "The maximum number of Tags is exceeded. Valid : 20")
        if keys and remove_all:
            raise invalid_parameter("All", '"All" can be true only when no "TagKey.N" is given.')
        if not keys and not remove_all:
            raise ApiError(404, "MissingParameter.Tags", 'The input parameter "TagKey.N" is not supplied (or set '
                           '"All" to true).')
        objs = [self._resource(ctx, region, rtype, rid, now) for rid in ids]
        self.dry_run(p)
        for obj in objs:
            if remove_all:
                obj.tags.clear()
            for k in keys:
                obj.tags.pop(k, None)
        return {}

    def _all_of_type(self, ctx, region, rtype):
        acct = ctx.account_id
        if rtype == "image":
            return [(i.image_id, i) for i in self.custom.get((acct, region), {}).values()]
        if rtype == "instance":
            return [(i.instance_id, i) for i in self.instances.values() if i.account_id == acct and i.region == region]
        if rtype == "disk":
            return [(d.disk_id, d) for d in self.disks.values() if d.account_id == acct and d.region == region]
        if rtype == "snapshot":
            return [(s.snapshot_id, s) for s in self.snapshots.values() if s.account_id == acct and s.region == region]
        if rtype == "keypair":
            return [(k[2], kp) for k, kp in sorted(self.key_pairs.items()) if k[0] == acct and k[1] == region]
        return []

    def act_ListTagResources(self, ctx, p, now):
        region = self._tag_region(ctx, p)
        rtype = self._resource_type(p)
        ids = self._resource_ids(p, required=False)
        tag_filter = []
        for n, f in p.indexed_groups("Tag"):
            if not f.get("Key"):
                if f.get("Value"):
                    raise ApiError(400, "InvalidParameter.TagValue", '"Tag.%d.Value" is given without "Tag.%d.Key".'
                                   % (n, n))
                continue
            tag_filter.append((f["Key"], f.get("Value")))
        if len(tag_filter) > 20:
            raise ApiError(400, "InvalidTagCount", "The specified tags count exceeds 20.")
        fuzzy = []
        for n, f in p.indexed_groups("TagFilter"):
            values = [v for k, v in sorted(f.items()) if k.startswith("TagValues.")]
            if not f.get("TagKey"):
                raise invalid_parameter("TagFilter.%d.TagKey" % n)
            fuzzy.append((f["TagKey"], values))
        if ids:
            resources = []
            for rid in ids:
                try:
                    resources.append((rid, self._resource(ctx, region, rtype, rid, now)))
                except ApiError:
                    continue                  # unknown ids simply list nothing
        else:
            resources = self._all_of_type(ctx, region, rtype)
        rows = []
        for rid, obj in resources:
            tags = obj.tags
            if any(k not in tags or (v is not None and tags[k] != v) for k, v in tag_filter):
                continue
            if any(k not in tags or (vals and not any(tags[k].startswith(v.rstrip("*")) for v in vals))
                   for k, vals in fuzzy):
                continue
            for k, v in tags.items():
                rows.append({"ResourceId": rid, "ResourceType": rtype, "TagKey": k, "TagValue": v})
        page, nxt = next_token_page(Params({"NextToken": p.str("NextToken"), "MaxResults": str(LIST_PAGE)}), rows,
                                    default=LIST_PAGE, maximum=LIST_PAGE)
        return {"NextToken": nxt, "TagResources": {"TagResource": page}}

    def act_JoinResourceGroup(self, ctx, p, now):
        region = self.region_of(ctx, p)
        rtype = self._resource_type(p)
        rid = p.str("ResourceId", required=True)
        rg = p.str("ResourceGroupId", required=True)
        self.resource_group(ctx.account_id, rg)
        obj = self._resource(ctx, region, rtype, rid, now)
        if not hasattr(obj, "resource_group_id"):
            raise ApiError(403, "InvalidResourceId.NotSupported", "This resource cannot join a resource group.")
        self.dry_run(p)
        obj.resource_group_id = rg
        return {}
