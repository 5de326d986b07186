"""EC2 Query API handlers: thin adapters from botocore's ``ec2`` input shapes to ``ec2.services`` and back to its
output shapes. A member the practice service does not model is refused, never silently ignored."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from core.context import CallContext
from ec2 import catalog, services
from ec2.errors import InvalidParameterValue
from ec2.models import Instance

P = dict[str, Any]
Handler = Callable[[CallContext, P], P]
HANDLERS: dict[str, Handler] = {}


def operation(name: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        HANDLERS[name] = handler
        return handler

    return register


def only(p: P, *supported: str) -> None:
    """Refuse every member that is set but not among ``supported`` (reads them all: none is silently ignored)."""
    for name, value in p.items():
        if name not in supported and value is not None and value is not False and value != []:
            error = InvalidParameterValue(f"The parameter {name} is not supported by this IAM Classroom endpoint.")
            error.unsupported_member = name  # type: ignore[attr-defined]
            raise error


def filters(p: P) -> list[tuple[str, list[str]]]:
    return [(f.get("Name", ""), list(f.get("Values") or [])) for f in p.get("Filters") or []]


def instance_shape(i: Instance) -> P:
    image = catalog.IMAGES.get(i.image_id)
    private_dns = f"ip-{i.private_ip.replace('.', '-')}.ec2.internal"
    shape: P = {
        "InstanceId": i.instance_id,
        "ImageId": i.image_id,
        "State": services.state_shape(i.state),
        "PrivateDnsName": private_dns if i.state != "terminated" else "",
        "PublicDnsName": "",
        "StateTransitionReason": i.state_transition_reason,
        "AmiLaunchIndex": i.ami_launch_index,
        "ProductCodes": [],
        "InstanceType": i.instance_type,
        "LaunchTime": i.launched_at,
        "Placement": {"AvailabilityZone": catalog.AVAILABILITY_ZONE, "GroupName": "", "Tenancy": "default"},
        "Monitoring": {"State": "disabled"},
        "Architecture": "x86_64",
        "RootDeviceType": "ebs",
        "RootDeviceName": "/dev/xvda",
        "VirtualizationType": "hvm",
        "Hypervisor": "xen",
        "ClientToken": "",
        "EbsOptimized": False,
        "EnaSupport": True,
        "SecurityGroups": [],
        "BlockDeviceMappings": [],
        "NetworkInterfaces": [],
        "MetadataOptions": {
            "State": "applied",
            "HttpTokens": "required",
            "HttpPutResponseHopLimit": 2,
            "HttpEndpoint": "enabled",
            "HttpProtocolIpv6": "disabled",
            "InstanceMetadataTags": "disabled",
        },
        "CpuOptions": {"CoreCount": 1, "ThreadsPerCore": 2},
        "PlatformDetails": image.platform_details if image else "Linux/UNIX",
        "UsageOperation": "RunInstances",
    }
    if i.state != "terminated":
        shape["PrivateIpAddress"] = i.private_ip
        shape["SourceDestCheck"] = True
    if image is not None and image.platform_details == "Windows":
        shape["Platform"] = "windows"
    if i.tags:
        shape["Tags"] = list(i.tags)
    if i.profile_arn:
        shape["IamInstanceProfile"] = {"Arn": i.profile_arn, "Id": i.profile_id}
    if i.state in ("stopped", "terminated"):
        reason = "Client.UserInitiatedShutdown"
        shape["StateReason"] = {"Code": reason, "Message": f"{reason}: User initiated shutdown"}
    return shape


def reservations(instances: Iterable[Instance]) -> list[P]:
    grouped: dict[str, list[Instance]] = {}
    for instance in instances:
        grouped.setdefault(instance.reservation_id, []).append(instance)
    return [
        {
            "ReservationId": reservation,
            "OwnerId": members[0].account_id,
            "Groups": [],
            "Instances": [instance_shape(i) for i in members],
        }
        for reservation, members in grouped.items()
    ]


def state_changes(changes: list[services.StateChange]) -> list[P]:
    return [
        {
            "InstanceId": c.instance.instance_id,
            "CurrentState": services.state_shape(c.current),
            "PreviousState": services.state_shape(c.previous),
        }
        for c in changes
    ]


def _tags(items: Iterable[P]) -> list[services.Tag]:
    return [services.Tag(t.get("Key") or "", t.get("Value") or "") for t in items]


def _next(result: P, token: str | None) -> P:
    if token:
        result["NextToken"] = token
    return result


@operation("RunInstances")
def run_instances(ctx: CallContext, p: P) -> P:
    only(
        p,
        "ImageId",
        "InstanceType",
        "MinCount",
        "MaxCount",
        "IamInstanceProfile",
        "TagSpecifications",
        "ClientToken",
        "DryRun",
    )
    instances = services.run_instances(
        ctx,
        image_id=p.get("ImageId"),
        min_count=p.get("MinCount"),
        max_count=p.get("MaxCount"),
        instance_type=p.get("InstanceType"),
        iam_instance_profile=p.get("IamInstanceProfile"),
        tag_specifications=[
            (s.get("ResourceType", ""), _tags(s.get("Tags") or [])) for s in p.get("TagSpecifications") or []
        ],
        client_token=p.get("ClientToken"),
        dry_run=p.get("DryRun"),
    )
    shapes = []
    for instance in instances:
        shape = instance_shape(instance)
        shape["State"] = services.state_shape("pending")  # as RunInstances reports a new instance
        shapes.append(shape)
    return {
        "ReservationId": instances[0].reservation_id,
        "OwnerId": ctx.account_id,
        "Groups": [],
        "Instances": shapes,
    }


@operation("DescribeInstances")
def describe_instances(ctx: CallContext, p: P) -> P:
    # IncludeManagedResources widens the answer to instances an AWS service manages; no instance here is one.
    only(p, "InstanceIds", "Filters", "MaxResults", "NextToken", "DryRun", "IncludeManagedResources")
    rows, token = services.describe_instances(
        ctx,
        instance_ids=p.get("InstanceIds") or [],
        filters=filters(p),
        max_results=p.get("MaxResults"),
        next_token=p.get("NextToken"),
        dry_run=p.get("DryRun"),
    )
    return _next({"Reservations": reservations(rows)}, token)


@operation("StartInstances")
def start_instances(ctx: CallContext, p: P) -> P:
    only(p, "InstanceIds", "DryRun", "AdditionalInfo")
    changes = services.start_instances(ctx, instance_ids=p.get("InstanceIds") or [], dry_run=p.get("DryRun"))
    return {"StartingInstances": state_changes(changes)}


@operation("StopInstances")
def stop_instances(ctx: CallContext, p: P) -> P:
    # Force and Hibernate change nothing for a record: a forced stop is a stop, and no instance is hibernation-enabled.
    only(p, "InstanceIds", "DryRun", "Force", "Hibernate", "SkipOsShutdown")
    changes = services.stop_instances(ctx, instance_ids=p.get("InstanceIds") or [], dry_run=p.get("DryRun"))
    return {"StoppingInstances": state_changes(changes)}


@operation("TerminateInstances")
def terminate_instances(ctx: CallContext, p: P) -> P:
    only(p, "InstanceIds", "DryRun", "Force", "SkipOsShutdown")
    changes = services.terminate_instances(ctx, instance_ids=p.get("InstanceIds") or [], dry_run=p.get("DryRun"))
    return {"TerminatingInstances": state_changes(changes)}


@operation("CreateTags")
def create_tags(ctx: CallContext, p: P) -> P:
    only(p, "Resources", "Tags", "DryRun")
    services.create_tags(
        ctx, resources=p.get("Resources") or [], tags=_tags(p.get("Tags") or []), dry_run=p.get("DryRun")
    )
    return {}


@operation("DeleteTags")
def delete_tags(ctx: CallContext, p: P) -> P:
    only(p, "Resources", "Tags", "DryRun")
    services.delete_tags(
        ctx,
        resources=p.get("Resources") or [],
        tags=[(t.get("Key") or "", t.get("Value")) for t in p.get("Tags") or []],
        dry_run=p.get("DryRun"),
    )
    return {}


@operation("DescribeImages")
def describe_images(ctx: CallContext, p: P) -> P:
    # IncludeDeprecated/IncludeDisabled widen a search; the catalog has no deprecated or disabled image.
    only(
        p, "ImageIds", "Owners", "Filters", "MaxResults", "NextToken", "DryRun", "IncludeDeprecated", "IncludeDisabled"
    )
    images, token = services.describe_images(
        ctx,
        image_ids=p.get("ImageIds") or [],
        owners=p.get("Owners") or [],
        filters=filters(p),
        max_results=p.get("MaxResults"),
        next_token=p.get("NextToken"),
        dry_run=p.get("DryRun"),
    )
    return _next({"Images": [catalog.image_shape(i) for i in images]}, token)


@operation("DescribeInstanceTypes")
def describe_instance_types(ctx: CallContext, p: P) -> P:
    only(p, "InstanceTypes", "Filters", "MaxResults", "NextToken", "DryRun")
    types, token = services.describe_instance_types(
        ctx,
        instance_types=p.get("InstanceTypes") or [],
        filters=filters(p),
        max_results=p.get("MaxResults"),
        next_token=p.get("NextToken"),
        dry_run=p.get("DryRun"),
    )
    return _next({"InstanceTypes": [catalog.instance_type_shape(t) for t in types]}, token)


@operation("DescribeRegions")
def describe_regions(ctx: CallContext, p: P) -> P:
    # AllRegions: the regions not enabled for the account would be added; this service has one, always enabled.
    only(p, "RegionNames", "Filters", "AllRegions", "DryRun")
    regions = services.describe_regions(
        ctx, region_names=p.get("RegionNames") or [], filters=filters(p), dry_run=p.get("DryRun")
    )
    return {"Regions": regions}


@operation("DescribeAvailabilityZones")
def describe_availability_zones(ctx: CallContext, p: P) -> P:
    # AllAvailabilityZones: Local and Wavelength Zones would be added; this service has none.
    only(p, "ZoneNames", "ZoneIds", "Filters", "AllAvailabilityZones", "DryRun")
    zones = services.describe_availability_zones(
        ctx,
        zone_names=p.get("ZoneNames") or [],
        zone_ids=p.get("ZoneIds") or [],
        filters=filters(p),
        dry_run=p.get("DryRun"),
    )
    return {"AvailabilityZones": zones}


@operation("AssociateIamInstanceProfile")
def associate_iam_instance_profile(ctx: CallContext, p: P) -> P:
    only(p, "InstanceId", "IamInstanceProfile")
    shape = services.associate_iam_instance_profile(
        ctx, instance_id=p.get("InstanceId"), iam_instance_profile=p.get("IamInstanceProfile")
    )
    return {"IamInstanceProfileAssociation": shape}


@operation("ReplaceIamInstanceProfileAssociation")
def replace_iam_instance_profile_association(ctx: CallContext, p: P) -> P:
    only(p, "AssociationId", "IamInstanceProfile")
    shape = services.replace_iam_instance_profile_association(
        ctx, association_id=p.get("AssociationId"), iam_instance_profile=p.get("IamInstanceProfile")
    )
    return {"IamInstanceProfileAssociation": shape}


@operation("DisassociateIamInstanceProfile")
def disassociate_iam_instance_profile(ctx: CallContext, p: P) -> P:
    only(p, "AssociationId")
    shape = services.disassociate_iam_instance_profile(ctx, association_id=p.get("AssociationId"))
    return {"IamInstanceProfileAssociation": shape}


@operation("DescribeIamInstanceProfileAssociations")
def describe_iam_instance_profile_associations(ctx: CallContext, p: P) -> P:
    only(p, "AssociationIds", "Filters", "MaxResults", "NextToken")
    rows, token = services.describe_iam_instance_profile_associations(
        ctx,
        association_ids=p.get("AssociationIds") or [],
        filters=filters(p),
        max_results=p.get("MaxResults"),
        next_token=p.get("NextToken"),
    )
    return _next({"IamInstanceProfileAssociations": rows}, token)
