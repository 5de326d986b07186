"""The practice EC2 service: one function per EC2 action, each authorized by the engine and audited through
``iam_call`` (eventSource ``ec2.amazonaws.com``), as the IAM services are.

Instances are records. What AWS checks, this checks in the same order: the request's shape and the resources it
names, then every resource the action touches (RunInstances: the instance and the image; tags on create: also
``ec2:CreateTags`` with ``ec2:CreateAction``; an instance profile with a role: ``iam:PassRole`` on the role), with
EC2's condition keys (``ec2:ResourceTag/<key>``, ``aws:RequestTag/<key>``, ``aws:TagKeys``, ``ec2:InstanceType``,
``ec2:InstanceProfile``), then a dry run stops, then the change. A denial is EC2's ``UnauthorizedOperation``
whose message writes out what AWS encodes (``errors.answered``).
"""

from __future__ import annotations

import fnmatch
import json
import re
import secrets
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from core import clock
from core.calls import authorize, iam_call
from core.context import CallContext
from core.errors import AccessDenied, IamError
from ec2 import catalog
from ec2.errors import (
    NOT_AUTHORIZED,
    DryRunOperation,
    IncorrectInstanceState,
    IncorrectState,
    InstanceLimitExceeded,
    InvalidAmiIdMalformed,
    InvalidAmiIdNotFound,
    InvalidAssociationIdNotFound,
    InvalidId,
    InvalidInstanceIdMalformed,
    InvalidInstanceIdNotFound,
    InvalidInstanceType,
    InvalidParameterCombination,
    InvalidParameterValue,
    MissingParameter,
    UnauthorizedOperation,
)
from ec2.models import Instance, InstanceCredential
from identities.models import InstanceProfile
from policies.authz import decide as engine_decision

REGION = catalog.REGION
EC2_PRINCIPAL = "ec2.amazonaws.com"
MAX_INSTANCES = 20  # per account, not terminated: a classroom's quota
MAX_TAGS = 50
TERMINATED_VISIBLE = timedelta(hours=1)  # AWS lists a terminated instance for about an hour
_INSTANCE_ID = re.compile(r"i-[0-9a-f]{8}(?:[0-9a-f]{9})?")
_IMAGE_ID = re.compile(r"ami-[0-9a-f]{8}(?:[0-9a-f]{9})?")


@dataclass(frozen=True)
class Tag:
    key: str
    value: str = ""

    def as_dict(self) -> dict[str, str]:
        return {"Key": self.key, "Value": self.value}


@dataclass(frozen=True)
class StateChange:
    instance: Instance
    previous: str
    current: str


def instance_arn(account_id: str, instance_id: str) -> str:
    return f"arn:aws:ec2:{REGION}:{account_id}:instance/{instance_id}"


def _hex_id(prefix: str) -> str:
    return prefix + secrets.token_hex(9)[:17]


# ---- authorization ------------------------------------------------------------------------------------------------


def _decoded(exc: AccessDenied, action: str, resource: str, context: Mapping[str, Any]) -> str:
    """What ``sts decode-authorization-message`` shows for a denial, in AWS's shape: the decision, the statements
    that decided it, and the request context the policies were evaluated against (EC2's condition keys)."""
    decision = exc.explanation
    explicit = getattr(decision, "outcome", "") == "ExplicitDeny"
    matched = [
        {"statementId": ref.sid or "", "effect": "DENY", "policy": ref.policy}
        for ref in getattr(decision, "deciding", ())
    ]
    items = [
        {"key": key, "values": {"items": [{"value": v} for v in (value if isinstance(value, list) else [value])]}}
        for key, value in context.items()
    ]
    return json.dumps(
        {
            "allowed": False,
            "explicitDeny": explicit,
            "matchedStatements": {"items": matched},
            "failures": {"items": []},
            "context": {"action": action, "resource": resource, "conditions": {"items": items}},
        },
        separators=(",", ":"),
    )


class _Authorizations:
    """The decisions of one call, for its denial message: the last one asked is the one that refused."""

    def __init__(self) -> None:
        self.last: tuple[str, str, Mapping[str, Any]] = ("", "", {})

    def check(self, ctx: CallContext, action: str, resource: str, context: Mapping[str, Any]) -> None:
        self.last = (action, resource, context)
        authorize(ctx, action, resource, context)

    def answer(self, error: IamError) -> IamError:
        if isinstance(error, AccessDenied):
            action, resource, context = self.last
            message = f"{NOT_AUTHORIZED} {error.message}"
            if action:
                message += f" Decoded authorization failure message: {_decoded(error, action, resource, context)}"
            return UnauthorizedOperation(message, explanation=error.explanation)
        return error


@dataclass
class _Ec2Call:
    """One EC2 call: the first resource iam_call authorizes, and the others the service checks inside it."""

    ctx: CallContext
    action: str
    resource: str
    context: dict[str, Any]
    params: dict[str, Any]

    def __post_init__(self) -> None:
        self.decisions = _Authorizations()
        self.decisions.last = (self.action, self.resource, self.context)

    def run(self, validate: Callable[[], None] | None = None):  # noqa: ANN201 - iam_call's context manager
        return iam_call(
            self.ctx,
            self.action,
            self.resource,
            self.params,
            condition_context=self.context,
            validate=validate,
            errors=self.decisions.answer,
        )

    def also(self, action: str, resource: str, context: Mapping[str, Any]) -> None:
        self.decisions.check(self.ctx, action, resource, context)


def _instance_context(instance: Instance) -> dict[str, Any]:
    """EC2's condition keys of an existing instance (AWS's ``ec2:ResourceTag/<key>`` and ``aws:ResourceTag/<key>``
    for each of its tags)."""
    context: dict[str, Any] = {
        "ec2:Region": REGION,
        "ec2:InstanceType": instance.instance_type,
        "ec2:Tenancy": "default",
        "ec2:RootDeviceType": "ebs",
        "ec2:AvailabilityZone": catalog.AVAILABILITY_ZONE,
    }
    if instance.profile_arn:
        context["ec2:InstanceProfile"] = instance.profile_arn
    for tag in instance.tags:
        context[f"ec2:ResourceTag/{tag['Key']}"] = tag["Value"]
        context[f"aws:ResourceTag/{tag['Key']}"] = tag["Value"]
    return context


def instance_decision(ctx: CallContext, action: str, instance: Instance, tags: Sequence[Tag] = ()) -> Any:
    """The engine's decision for ``action`` on an existing ``instance`` by the caller, with the instance's condition
    keys as the EC2 call would send them (and, for CreateTags, the request's ``tags``), without making the call or
    recording it (lab checks)."""
    return engine_decision(ctx, action, instance.arn, {**_instance_context(instance), **_request_tags_context(tags)})


def _request_tags_context(tags: Sequence[Tag]) -> dict[str, Any]:
    context: dict[str, Any] = {}
    if tags:
        context["aws:TagKeys"] = [t.key for t in tags]
        for tag in tags:
            context[f"aws:RequestTag/{tag.key}"] = tag.value
    return context


def _pass_role(call: _Ec2Call, profile: InstanceProfile | None, resource_arn: str) -> None:
    """AWS's iam:PassRole check when an instance profile is attached: on the profile's role, for ec2.amazonaws.com."""
    if profile is None:
        return
    for role_arn in profile.roles.values_list("arn", flat=True):
        call.also(
            "iam:PassRole",
            role_arn,
            {"iam:PassedToService": EC2_PRINCIPAL, "iam:AssociatedResourceArn": resource_arn},
        )


def _dry_run(dry_run: bool | None) -> None:
    if dry_run:
        raise DryRunOperation("Request would have succeeded, but DryRun flag is set.")


# ---- validation ---------------------------------------------------------------------------------------------------


def _check_instance_ids(instance_ids: Sequence[str]) -> None:
    for instance_id in instance_ids:
        if not _INSTANCE_ID.fullmatch(instance_id or ""):
            raise InvalidInstanceIdMalformed(f'Invalid id: "{instance_id}" (expecting "i-...")')


def _not_found(missing: Sequence[str]) -> InvalidInstanceIdNotFound:
    if len(missing) == 1:
        return InvalidInstanceIdNotFound(f"The instance ID '{missing[0]}' does not exist")
    return InvalidInstanceIdNotFound(f"The instance IDs '{', '.join(missing)}' do not exist")


def visible_instances(account_id: str):  # noqa: ANN201 - a queryset of Instance
    """The account's instances, terminated ones for an hour after their termination (as EC2 lists them)."""
    cutoff = clock.now() - TERMINATED_VISIBLE
    return (
        Instance.objects.in_account(account_id)
        .exclude(state="terminated", state_changed_at__lt=cutoff)
        .order_by("launched_at", "ami_launch_index", "pk")
    )


def _find_instances(account_id: str, instance_ids: Sequence[str]) -> dict[str, Instance]:
    found = {i.instance_id: i for i in visible_instances(account_id).filter(instance_id__in=list(instance_ids))}
    return found


def _require_found(instance_ids: Sequence[str], found: Mapping[str, Instance]) -> None:
    _check_instance_ids(instance_ids)
    missing = [i for i in dict.fromkeys(instance_ids) if i not in found]
    if missing:
        raise _not_found(missing)


def _check_tags(tags: Sequence[Tag]) -> None:
    if len(tags) > MAX_TAGS:
        raise InvalidParameterValue(f"The number of tags specified ({len(tags)}) exceeds the limit of {MAX_TAGS}.")
    for tag in tags:
        if not tag.key:
            raise InvalidParameterValue("Tag key cannot be empty")
        if tag.key.lower().startswith("aws:"):
            raise InvalidParameterValue("Tag keys starting with 'aws:' are reserved for internal use")
        if len(tag.key) > 128:
            raise InvalidParameterValue(f"Tag key exceeds the maximum length of 128 characters: {tag.key[:20]}…")
        if len(tag.value) > 256:
            raise InvalidParameterValue(f"Tag value exceeds the maximum length of 256 characters: {tag.key}")


def _merged_tags(existing: Iterable[Mapping[str, str]], tags: Sequence[Tag]) -> list[dict[str, str]]:
    merged = {t["Key"]: t["Value"] for t in existing}
    for tag in tags:
        merged[tag.key] = tag.value
    return [{"Key": k, "Value": v} for k, v in merged.items()]


def _find_profile(account_id: str, spec: Mapping[str, str] | None) -> InstanceProfile | None:
    """The caller's instance profile named by ``IamInstanceProfile`` (Arn or Name), in the caller's account only."""
    if not spec:
        return None
    arn, name = spec.get("Arn"), spec.get("Name")
    if arn and name:
        raise InvalidParameterCombination(
            "The parameter 'iamInstanceProfile.name' may not be used in combination with 'iamInstanceProfile.arn'"
        )
    profiles = InstanceProfile.objects.in_account(account_id)
    if arn:
        profile = profiles.filter(arn=arn).first()
        if profile is None:
            raise InvalidParameterValue(
                f"Value ({arn}) for parameter iamInstanceProfile.arn is invalid. Invalid IAM Instance Profile ARN"
            )
        return profile
    if name:
        profile = profiles.named(name).first()
        if profile is None:
            raise InvalidParameterValue(
                f"Value ({name}) for parameter iamInstanceProfile.name is invalid. Invalid IAM Instance Profile name"
            )
        return profile
    raise MissingParameter("The request must contain the parameter iamInstanceProfile.arn or iamInstanceProfile.name")


def _private_ip() -> str:
    return f"172.31.{secrets.randbelow(256)}.{secrets.randbelow(254) + 1}"


def _reason(now: datetime, what: str = "User initiated") -> str:
    return f"{what} ({now.strftime('%Y-%m-%d %H:%M:%S')} GMT)"


def state_shape(state: str) -> dict[str, Any]:
    return {"Code": Instance.STATE_CODES[state], "Name": state}


# ---- RunInstances ------------------------------------------------------------------------------------------------


def run_instances(
    ctx: CallContext,
    *,
    image_id: str | None,
    min_count: int | None,
    max_count: int | None,
    instance_type: str | None = None,
    iam_instance_profile: Mapping[str, str] | None = None,
    tag_specifications: Sequence[tuple[str, Sequence[Tag]]] = (),
    client_token: str | None = None,
    dry_run: bool | None = False,
) -> list[Instance]:
    """RunInstances: ``MaxCount`` new instance records (fewer only when the account's quota is near), reported
    ``pending``; DescribeInstances then shows them ``running``. A ``ClientToken`` already used in the account
    returns the instances it launched, as EC2's idempotency does (boto3 and the CLI send one with every call)."""
    instance_type = instance_type or catalog.DEFAULT_INSTANCE_TYPE
    tags: list[Tag] = [t for resource_type, ts in tag_specifications if resource_type == "instance" for t in ts]
    resource = f"arn:aws:ec2:{REGION}:{ctx.account_id}:instance/*"
    context: dict[str, Any] = {
        "ec2:Region": REGION,
        "ec2:InstanceType": instance_type,
        "ec2:Tenancy": "default",
        "ec2:RootDeviceType": "ebs",
        "ec2:AvailabilityZone": catalog.AVAILABILITY_ZONE,
        **_request_tags_context(tags),
    }
    profile_box: list[InstanceProfile | None] = [None]
    if iam_instance_profile:
        spec_arn = iam_instance_profile.get("Arn")
        if spec_arn:
            context["ec2:InstanceProfile"] = spec_arn
    params = {
        "instancesSet": {"items": [{"imageId": image_id, "minCount": min_count, "maxCount": max_count}]},
        "instanceType": instance_type,
        "clientToken": client_token,
        "iamInstanceProfile": {k[0].lower() + k[1:]: v for k, v in (iam_instance_profile or {}).items()} or None,
        "tagSpecificationSet": {
            "items": [
                {"resourceType": rt, "tags": [{"key": t.key, "value": t.value} for t in ts]}
                for rt, ts in tag_specifications
            ]
        }
        if tag_specifications
        else None,
    }

    def validate() -> None:
        if client_token is not None and len(client_token) > 64:
            raise InvalidParameterValue("Value for parameter clientToken is invalid. The token is longer than 64.")
        if not image_id:
            raise MissingParameter("The request must contain the parameter ImageId")
        if min_count is None or max_count is None:
            raise MissingParameter(
                f"The request must contain the parameter {'MinCount' if min_count is None else 'MaxCount'}"
            )
        if min_count < 1:
            raise InvalidParameterValue(f"Invalid value '{min_count}' for minCount. Must be greater than 0.")
        if max_count < min_count:
            raise InvalidParameterValue(
                f"Invalid value '{max_count}' for maxCount. Must be greater than or equal to minCount."
            )
        if not _IMAGE_ID.fullmatch(image_id):
            raise InvalidAmiIdMalformed(f'Invalid id: "{image_id}" (expecting "ami-...")')
        if image_id not in catalog.IMAGES:
            raise InvalidAmiIdNotFound(f"The image id '[{image_id}]' does not exist")
        if instance_type not in catalog.INSTANCE_TYPES:
            raise InvalidParameterValue(f"Invalid value '{instance_type}' for InstanceType.")
        for resource_type, _ in tag_specifications:
            if resource_type != "instance":
                raise InvalidParameterValue(
                    f"'{resource_type}' is not a valid taggable resource type for this operation."
                )
        _check_tags(tags)
        profile_box[0] = _find_profile(ctx.account_id, iam_instance_profile)
        if profile_box[0] is not None:
            context["ec2:InstanceProfile"] = profile_box[0].arn
        running = visible_instances(ctx.account_id).exclude(state="terminated").count()
        if running + min_count > MAX_INSTANCES:
            raise InstanceLimitExceeded(
                f"You have requested more instances ({running + min_count}) than your current instance limit of "
                f"{MAX_INSTANCES} allows for the specified instance type. Please visit "
                "http://aws.amazon.com/contact-us/ec2-request to request an adjustment to this limit."
            )

    call = _Ec2Call(ctx, "ec2:RunInstances", resource, context, params)
    with call.run(validate) as audit:
        image = catalog.IMAGES[image_id or ""]
        call.also(
            "ec2:RunInstances",
            image.arn,
            {
                "ec2:Region": REGION,
                "ec2:ImageType": "machine",
                "ec2:Owner": image.owner_alias or image.owner_id,
                "ec2:Public": "true",
                "ec2:RootDeviceType": "ebs",
            },
        )
        if tags:
            call.also("ec2:CreateTags", resource, {**context, "ec2:CreateAction": "RunInstances"})
        profile = profile_box[0]
        _pass_role(call, profile, resource)
        _dry_run(dry_run)
        if client_token:
            earlier = list(visible_instances(ctx.account_id).filter(client_token=client_token))
            if earlier:
                return earlier
        running = visible_instances(ctx.account_id).exclude(state="terminated").count()
        count = min(max_count or 1, MAX_INSTANCES - running)
        now = clock.now()
        reservation = _hex_id("r-")
        instances = [
            Instance(
                account_id=ctx.account_id,
                instance_id=_hex_id("i-"),
                reservation_id=reservation,
                ami_launch_index=index,
                image_id=image.image_id,
                instance_type=instance_type,
                state="running",
                launched_at=now,
                state_changed_at=now,
                private_ip=_private_ip(),
                tags=[t.as_dict() for t in _dedupe(tags)],
                association_id=_hex_id("iip-assoc-") if profile else "",
                profile_arn=profile.arn if profile else "",
                profile_id=profile.instance_profile_id if profile else "",
                associated_at=now if profile else None,
                client_token=client_token or "",
            )
            for index in range(count)
        ]
        Instance.objects.bulk_create(instances)
        audit.response = {
            "reservationId": reservation,
            "ownerId": ctx.account_id,
            "instancesSet": {
                "items": [
                    {
                        "instanceId": i.instance_id,
                        "imageId": i.image_id,
                        "instanceType": i.instance_type,
                        "instanceState": {"code": 0, "name": "pending"},
                    }
                    for i in instances
                ]
            },
        }
        return instances


def _dedupe(tags: Sequence[Tag]) -> list[Tag]:
    return list({t.key: t for t in tags}.values())


# ---- DescribeInstances ------------------------------------------------------------------------------------------

_INSTANCE_FILTERS: dict[str, Callable[[Instance], list[str]]] = {
    "instance-id": lambda i: [i.instance_id],
    "instance-state-name": lambda i: [i.state],
    "instance-state-code": lambda i: [str(Instance.STATE_CODES[i.state])],
    "instance-type": lambda i: [i.instance_type],
    "image-id": lambda i: [i.image_id],
    "reservation-id": lambda i: [i.reservation_id],
    "owner-id": lambda i: [i.account_id],
    "private-ip-address": lambda i: [i.private_ip],
    "availability-zone": lambda i: [catalog.AVAILABILITY_ZONE],
    "iam-instance-profile.arn": lambda i: [i.profile_arn] if i.profile_arn else [],
    "tag-key": lambda i: [t["Key"] for t in i.tags],
    "tag-value": lambda i: [t["Value"] for t in i.tags],
}


def _matches(values: Sequence[str], patterns: Sequence[str]) -> bool:
    """EC2's filter values: any value matching any pattern, with ``*`` and ``?`` wildcards, case-sensitive."""
    return any(fnmatch.fnmatchcase(v, p.replace("[", "[[]")) for v in values for p in patterns)


def _filter_values(instance: Instance, name: str) -> list[str]:
    if name.startswith("tag:"):
        key = name[4:]
        return [t["Value"] for t in instance.tags if t["Key"] == key]
    return _INSTANCE_FILTERS[name](instance)


def _check_filters(filters: Sequence[tuple[str, Sequence[str]]], known: Iterable[str]) -> None:
    names = set(known)
    for name, _ in filters:
        if not name:
            raise InvalidParameterValue("The filter 'null' is invalid")
        if name not in names and not name.startswith("tag:"):
            raise InvalidParameterValue(f"The filter '{name}' is invalid")


def describe_instances(
    ctx: CallContext,
    *,
    instance_ids: Sequence[str] = (),
    filters: Sequence[tuple[str, Sequence[str]]] = (),
    max_results: int | None = None,
    next_token: str | None = None,
    dry_run: bool | None = False,
) -> tuple[list[Instance], str | None]:
    """DescribeInstances: the account's instances (ec2:Describe* take no resource-level permissions: ``*``)."""
    params = {
        "instancesSet": {"items": [{"instanceId": i} for i in instance_ids]} if instance_ids else None,
        "filterSet": {"items": [{"name": n, "valueSet": {"items": [{"value": v} for v in vs]}} for n, vs in filters]}
        if filters
        else None,
        "maxResults": max_results,
    }

    def validate() -> None:
        if instance_ids and max_results is not None:
            raise InvalidParameterCombination("The parameter instancesSet cannot be used with the parameter maxResults")
        if max_results is not None and not 5 <= max_results <= 1000:
            raise InvalidParameterValue(
                f"Value ( {max_results} ) for parameter maxResults is invalid. Expecting a value greater than 5."
            )
        _check_instance_ids(instance_ids)
        _check_filters(filters, _INSTANCE_FILTERS)

    call = _Ec2Call(ctx, "ec2:DescribeInstances", "*", {"ec2:Region": REGION}, params)
    with call.run(validate):
        _dry_run(dry_run)
        rows = list(visible_instances(ctx.account_id))
        if instance_ids:
            found = {i.instance_id: i for i in rows}
            missing = [i for i in dict.fromkeys(instance_ids) if i not in found]
            if missing:
                raise _not_found(missing)
            wanted = set(instance_ids)
            rows = [i for i in rows if i.instance_id in wanted]
        for name, patterns in filters:
            rows = [i for i in rows if _matches(_filter_values(i, name), patterns)]
        return _page(rows, max_results, next_token)


def _page(rows: list[Any], max_results: int | None, next_token: str | None) -> tuple[list[Any], str | None]:
    start = 0
    if next_token:
        try:
            start = int(next_token, 16)
        except ValueError:
            raise InvalidParameterValue(f"Invalid value '{next_token}' for nextToken.") from None
    if max_results is None:
        return rows[start:], None
    end = start + max_results
    return rows[start:end], (format(end, "x") if end < len(rows) else None)


# ---- Start, Stop, Terminate ----------------------------------------------------------------------------------------


def _change_state(
    ctx: CallContext,
    operation: str,
    instance_ids: Sequence[str],
    dry_run: bool | None,
    change: Callable[[Instance, datetime], str],
) -> list[StateChange]:
    ids = list(instance_ids)
    found = _find_instances(ctx.account_id, ids)
    first = found.get(ids[0]) if ids else None
    resource = instance_arn(ctx.account_id, ids[0]) if ids else "*"
    params = {"instancesSet": {"items": [{"instanceId": i} for i in ids]}}

    def validate() -> None:
        if not ids:
            raise MissingParameter("The request must contain the parameter InstanceId")
        _require_found(ids, found)

    call = _Ec2Call(ctx, f"ec2:{operation}", resource, _instance_context(first) if first else {}, params)
    with call.run(validate) as audit:
        for instance_id in dict.fromkeys(ids[1:]):
            call.also(f"ec2:{operation}", found[instance_id].arn, _instance_context(found[instance_id]))
        _dry_run(dry_run)
        now = clock.now()
        changes = []
        for instance_id in dict.fromkeys(ids):
            instance = Instance.objects.select_for_update().get(pk=found[instance_id].pk)
            previous = instance.state
            reported = change(instance, now)
            changes.append(StateChange(instance, previous, reported))
        audit.response = {
            "instancesSet": {
                "items": [
                    {
                        "instanceId": c.instance.instance_id,
                        "currentState": {"code": Instance.STATE_CODES[c.current], "name": c.current},
                        "previousState": {"code": Instance.STATE_CODES[c.previous], "name": c.previous},
                    }
                    for c in changes
                ]
            }
        }
        return changes


def _set_state(instance: Instance, state: str, now: datetime, reason: str = "") -> None:
    instance.state = state
    instance.state_changed_at = now
    instance.state_transition_reason = reason
    instance.save(update_fields=["state", "state_changed_at", "state_transition_reason"])


def start_instances(
    ctx: CallContext, *, instance_ids: Sequence[str], dry_run: bool | None = False
) -> list[StateChange]:
    def start(instance: Instance, now: datetime) -> str:
        if instance.state in ("running", "pending"):
            return instance.state
        if instance.state != "stopped":
            raise IncorrectInstanceState(
                f"The instance '{instance.instance_id}' is not in a state from which it can be started."
            )
        _set_state(instance, "running", now)
        return "pending"

    return _change_state(ctx, "StartInstances", instance_ids, dry_run, start)


def stop_instances(ctx: CallContext, *, instance_ids: Sequence[str], dry_run: bool | None = False) -> list[StateChange]:
    def stop(instance: Instance, now: datetime) -> str:
        if instance.state in ("stopped", "stopping"):
            return instance.state
        if instance.state in ("terminated", "shutting-down"):
            raise IncorrectInstanceState(
                f"This instance '{instance.instance_id}' is not in a state from which it can be stopped."
            )
        _set_state(instance, "stopped", now, _reason(now))
        return "stopping"

    return _change_state(ctx, "StopInstances", instance_ids, dry_run, stop)


def terminate_instances(
    ctx: CallContext, *, instance_ids: Sequence[str], dry_run: bool | None = False
) -> list[StateChange]:
    """TerminateInstances: the instance is ``shutting-down``, then ``terminated`` and listed for an hour; its
    instance profile association ends (credentials already handed out stay valid until they expire, as in AWS)."""

    def terminate(instance: Instance, now: datetime) -> str:
        if instance.state == "terminated":
            return "terminated"
        _set_state(instance, "terminated", now, _reason(now))
        _end_association(instance)
        return "shutting-down"

    return _change_state(ctx, "TerminateInstances", instance_ids, dry_run, terminate)


def _end_association(instance: Instance) -> None:
    instance.association_id = instance.profile_arn = instance.profile_id = ""
    instance.associated_at = None
    instance.save(update_fields=["association_id", "profile_arn", "profile_id", "associated_at"])
    InstanceCredential.objects.filter(instance=instance).delete()


# ---- Tags --------------------------------------------------------------------------------------------------------


def _tag_targets(ctx: CallContext, resources: Sequence[str]) -> dict[str, Instance]:
    return _find_instances(ctx.account_id, [r for r in resources if r.startswith("i-")])


def _check_tag_resources(resources: Sequence[str], found: Mapping[str, Instance]) -> None:
    if not resources:
        raise MissingParameter("The request must contain the parameter ResourceId")
    for resource in resources:
        if not resource.startswith("i-"):
            raise InvalidId(f"The ID '{resource}' is not valid")
    _require_found(resources, found)


def create_tags(
    ctx: CallContext, *, resources: Sequence[str], tags: Sequence[Tag], dry_run: bool | None = False
) -> None:
    """CreateTags on instances: ``ec2:CreateTags`` on each, with the requested tags (aws:RequestTag/<key>,
    aws:TagKeys) and the instance's own (ec2:ResourceTag/<key>)."""
    ids = list(resources)
    found = _tag_targets(ctx, ids)
    first = found.get(ids[0]) if ids else None
    requested = _request_tags_context(tags)
    params = {
        "resourcesSet": {"items": [{"resourceId": r} for r in ids]},
        "tagSet": {"items": [{"key": t.key, "value": t.value} for t in tags]},
    }

    def validate() -> None:
        _check_tag_resources(ids, found)
        if not tags:
            raise MissingParameter("The request must contain the parameter Tag")
        _check_tags(tags)
        for instance in found.values():
            if len(_merged_tags(instance.tags, tags)) > MAX_TAGS:
                raise InvalidParameterValue(
                    f"The number of tags on the resource '{instance.instance_id}' would exceed the limit of {MAX_TAGS}."
                )

    resource = instance_arn(ctx.account_id, ids[0]) if ids else "*"
    context = {**(_instance_context(first) if first else {}), **requested}
    call = _Ec2Call(ctx, "ec2:CreateTags", resource, context, params)
    with call.run(validate):
        for instance_id in dict.fromkeys(ids[1:]):
            call.also("ec2:CreateTags", found[instance_id].arn, {**_instance_context(found[instance_id]), **requested})
        _dry_run(dry_run)
        for instance_id in dict.fromkeys(ids):
            instance = Instance.objects.select_for_update().get(pk=found[instance_id].pk)
            instance.tags = _merged_tags(instance.tags, _dedupe(tags))
            instance.save(update_fields=["tags"])


def delete_tags(
    ctx: CallContext,
    *,
    resources: Sequence[str],
    tags: Sequence[tuple[str, str | None]] = (),
    dry_run: bool | None = False,
) -> None:
    """DeleteTags: a key with a value removes the tag only when the value matches; a key alone removes it; no tags
    at all remove every tag (except, in AWS, ``aws:`` ones, which students cannot set here)."""
    ids = list(resources)
    found = _tag_targets(ctx, ids)
    first = found.get(ids[0]) if ids else None
    keys = [k for k, _ in tags]
    requested: dict[str, Any] = {"aws:TagKeys": keys} if keys else {}
    params = {
        "resourcesSet": {"items": [{"resourceId": r} for r in ids]},
        "tagSet": {"items": [{"key": k, **({"value": v} if v is not None else {})} for k, v in tags]} if tags else None,
    }

    def validate() -> None:
        _check_tag_resources(ids, found)

    resource = instance_arn(ctx.account_id, ids[0]) if ids else "*"
    context = {**(_instance_context(first) if first else {}), **requested}
    call = _Ec2Call(ctx, "ec2:DeleteTags", resource, context, params)
    with call.run(validate):
        for instance_id in dict.fromkeys(ids[1:]):
            call.also("ec2:DeleteTags", found[instance_id].arn, {**_instance_context(found[instance_id]), **requested})
        _dry_run(dry_run)
        for instance_id in dict.fromkeys(ids):
            instance = Instance.objects.select_for_update().get(pk=found[instance_id].pk)
            if not tags:
                instance.tags = []
            else:
                instance.tags = [
                    t
                    for t in instance.tags
                    if not any(t["Key"] == k and (v is None or t["Value"] == v) for k, v in tags)
                ]
            instance.save(update_fields=["tags"])


# ---- Images and instance types (the fixed catalog) ---------------------------------------------------------------

_IMAGE_FILTERS: dict[str, Callable[[catalog.Image], list[str]]] = {
    "image-id": lambda i: [i.image_id],
    "name": lambda i: [i.name],
    "description": lambda i: [i.description],
    "owner-id": lambda i: [i.owner_id],
    "owner-alias": lambda i: [i.owner_alias] if i.owner_alias else [],
    "architecture": lambda i: [i.architecture],
    "platform-details": lambda i: [i.platform_details],
    "state": lambda i: ["available"],
    "is-public": lambda i: ["true"],
    "image-type": lambda i: ["machine"],
    "root-device-type": lambda i: ["ebs"],
    "virtualization-type": lambda i: ["hvm"],
}


def describe_images(
    ctx: CallContext,
    *,
    image_ids: Sequence[str] = (),
    owners: Sequence[str] = (),
    filters: Sequence[tuple[str, Sequence[str]]] = (),
    max_results: int | None = None,
    next_token: str | None = None,
    dry_run: bool | None = False,
) -> tuple[list[catalog.Image], str | None]:
    params = {
        "imagesSet": {"items": [{"imageId": i} for i in image_ids]} if image_ids else None,
        "ownersSet": {"items": [{"owner": o} for o in owners]} if owners else None,
        "filterSet": {"items": [{"name": n, "valueSet": {"items": [{"value": v} for v in vs]}} for n, vs in filters]}
        if filters
        else None,
    }

    def validate() -> None:
        for image_id in image_ids:
            if not _IMAGE_ID.fullmatch(image_id):
                raise InvalidAmiIdMalformed(f'Invalid id: "{image_id}" (expecting "ami-...")')
        missing = [i for i in image_ids if i not in catalog.IMAGES]
        if missing:
            raise InvalidAmiIdNotFound(f"The image id '[{', '.join(missing)}]' does not exist")
        _check_filters(filters, _IMAGE_FILTERS)

    call = _Ec2Call(ctx, "ec2:DescribeImages", "*", {"ec2:Region": REGION}, params)
    with call.run(validate):
        _dry_run(dry_run)
        images = [catalog.IMAGES[i] for i in dict.fromkeys(image_ids)] if image_ids else list(catalog.IMAGES.values())
        if owners:
            wanted = set(owners)
            images = [
                i for i in images if i.owner_id in wanted or (i.owner_alias and i.owner_alias in wanted)
            ]  # "self": a student owns no image
        for name, patterns in filters:
            if name.startswith("tag:"):
                images = []  # the catalog's images carry no tags
                continue
            images = [i for i in images if _matches(_IMAGE_FILTERS[name](i), patterns)]
        return _page(images, max_results, next_token)


_TYPE_FILTERS: dict[str, Callable[[catalog.InstanceType], list[str]]] = {
    "instance-type": lambda t: [t.name],
    "free-tier-eligible": lambda t: ["true" if t.free_tier else "false"],
    "current-generation": lambda t: ["true" if t.current_generation else "false"],
    "burstable-performance-supported": lambda t: ["true" if t.burstable else "false"],
    "vcpu-info.default-vcpus": lambda t: [str(t.vcpus)],
    "memory-info.size-in-mib": lambda t: [str(t.memory_mib)],
}


def describe_instance_types(
    ctx: CallContext,
    *,
    instance_types: Sequence[str] = (),
    filters: Sequence[tuple[str, Sequence[str]]] = (),
    max_results: int | None = None,
    next_token: str | None = None,
    dry_run: bool | None = False,
) -> tuple[list[catalog.InstanceType], str | None]:
    params = {
        "instanceTypes": list(instance_types) or None,
        "filters": [{"name": n, "values": list(vs)} for n, vs in filters] or None,
    }

    def validate() -> None:
        missing = [t for t in instance_types if t not in catalog.INSTANCE_TYPES]
        if missing:
            raise InvalidInstanceType(f"The following supplied instance types do not exist: [{', '.join(missing)}]")
        for name, _ in filters:
            if name not in _TYPE_FILTERS:
                raise InvalidParameterValue(f"The filter '{name}' is invalid")

    call = _Ec2Call(ctx, "ec2:DescribeInstanceTypes", "*", {"ec2:Region": REGION}, params)
    with call.run(validate):
        _dry_run(dry_run)
        types = (
            [catalog.INSTANCE_TYPES[t] for t in dict.fromkeys(instance_types)]
            if instance_types
            else list(catalog.INSTANCE_TYPES.values())
        )
        for name, patterns in filters:
            types = [t for t in types if _matches(_TYPE_FILTERS[name](t), patterns)]
        return _page(types, max_results, next_token)


# ---- Regions and Availability Zones (a fixed catalog: the one region and zone of this practice service) ----------

_REGION_FILTERS: dict[str, Callable[[dict[str, Any]], list[str]]] = {
    "endpoint": lambda r: [r["Endpoint"]],
    "region-name": lambda r: [r["RegionName"]],
    "opt-in-status": lambda r: [r["OptInStatus"]],
}
_ZONE_FILTERS: dict[str, Callable[[dict[str, Any]], list[str]]] = {
    "group-name": lambda z: [z["GroupName"]],
    "network-border-group": lambda z: [z["NetworkBorderGroup"]],
    "opt-in-status": lambda z: [z["OptInStatus"]],
    "region-name": lambda z: [z["RegionName"]],
    "state": lambda z: [z["State"]],
    "zone-id": lambda z: [z["ZoneId"]],
    "zone-name": lambda z: [z["ZoneName"]],
    "zone-type": lambda z: [z["ZoneType"]],
}


def _describe_catalog(
    ctx: CallContext,
    operation: str,
    params: Mapping[str, Any],
    refusal: IamError | None,
    filters: Sequence[tuple[str, Sequence[str]]],
    row: dict[str, Any],
    known: Mapping[str, Callable[[dict[str, Any]], list[str]]],
    dry_run: bool | None,
) -> list[dict[str, Any]]:
    """A Describe call over the one-entry catalog ``row`` (``refusal``: what validating the named entries found)."""

    def validate() -> None:
        if refusal is not None:
            raise refusal
        _check_filters(filters, known)

    with _Ec2Call(ctx, f"ec2:{operation}", "*", {"ec2:Region": REGION}, dict(params)).run(validate):
        _dry_run(dry_run)
        rows = [row]
        for name, patterns in filters:
            values = known.get(name, lambda _: [])  # tag:<key>: regions and zones carry no tags
            rows = [r for r in rows if _matches(values(r), patterns)]
        return rows


def describe_regions(
    ctx: CallContext,
    *,
    region_names: Sequence[str] = (),
    filters: Sequence[tuple[str, Sequence[str]]] = (),
    dry_run: bool | None = False,
) -> list[dict[str, Any]]:
    """DescribeRegions: the one region this practice service runs in (tools such as Prowler discover regions with
    it). A region it does not serve is refused as AWS refuses a name that is no region."""
    params = {
        "regionSet": {"items": [{"regionName": r} for r in region_names]} if region_names else None,
        "filterSet": {"items": [{"name": n, "valueSet": {"items": [{"value": v} for v in vs]}} for n, vs in filters]}
        if filters
        else None,
    }

    unknown = [r for r in region_names if r != REGION]
    refusal = InvalidParameterValue(f"Invalid region: {unknown[0]}") if unknown else None
    return _describe_catalog(
        ctx, "DescribeRegions", params, refusal, filters, catalog.region_shape(), _REGION_FILTERS, dry_run
    )


def describe_availability_zones(
    ctx: CallContext,
    *,
    zone_names: Sequence[str] = (),
    zone_ids: Sequence[str] = (),
    filters: Sequence[tuple[str, Sequence[str]]] = (),
    dry_run: bool | None = False,
) -> list[dict[str, Any]]:
    """DescribeAvailabilityZones: the one zone of this practice service's region."""
    params = {
        "availabilityZoneSet": {"items": [{"zoneName": z} for z in zone_names]} if zone_names else None,
        "availabilityZoneIdSet": {"items": [{"zoneId": z} for z in zone_ids]} if zone_ids else None,
    }

    unknown = [z for z in zone_names if z != catalog.AVAILABILITY_ZONE]
    unknown += [z for z in zone_ids if z != catalog.AVAILABILITY_ZONE_ID]
    refusal = InvalidParameterValue(f"The zone '{unknown[0]}' does not exist in region '{REGION}'") if unknown else None
    zone = catalog.availability_zone_shape()
    return _describe_catalog(ctx, "DescribeAvailabilityZones", params, refusal, filters, zone, _ZONE_FILTERS, dry_run)


# ---- IAM instance profile associations ---------------------------------------------------------------------------


def association_shape(instance: Instance, state: str = "associated") -> dict[str, Any]:
    return {
        "AssociationId": instance.association_id,
        "InstanceId": instance.instance_id,
        "IamInstanceProfile": {"Arn": instance.profile_arn, "Id": instance.profile_id},
        "State": state,
        "Timestamp": instance.associated_at,
    }


def _profile_params(spec: Mapping[str, str] | None) -> dict[str, str] | None:
    return {k[0].lower() + k[1:]: v for k, v in (spec or {}).items()} or None


def associate_iam_instance_profile(
    ctx: CallContext, *, instance_id: str | None, iam_instance_profile: Mapping[str, str] | None
) -> dict[str, Any]:
    """AssociateIamInstanceProfile: ``ec2:AssociateIamInstanceProfile`` on the instance and ``iam:PassRole`` on
    the profile's role; reported ``associating``."""
    found = _find_instances(ctx.account_id, [instance_id] if instance_id else [])
    instance = found.get(instance_id or "")
    profile_box: list[InstanceProfile | None] = [None]
    params = {"instanceId": instance_id, "iamInstanceProfile": _profile_params(iam_instance_profile)}

    def validate() -> None:
        if not instance_id:
            raise MissingParameter("The request must contain the parameter InstanceId")
        if not iam_instance_profile:
            raise MissingParameter("The request must contain the parameter IamInstanceProfile")
        _require_found([instance_id], found)
        profile_box[0] = _find_profile(ctx.account_id, iam_instance_profile)
        assert instance is not None
        if instance.association_id:
            raise IncorrectState(f"There is an existing association for instance {instance.instance_id}")
        if instance.state not in ("running", "stopped", "pending", "stopping"):
            raise IncorrectInstanceState(
                f"The instance '{instance.instance_id}' is not in the 'running' or 'stopped' states."
            )

    resource = instance_arn(ctx.account_id, instance_id or "*")
    call = _Ec2Call(
        ctx, "ec2:AssociateIamInstanceProfile", resource, _instance_context(instance) if instance else {}, params
    )
    with call.run(validate) as audit:
        assert instance is not None
        profile = profile_box[0]
        assert profile is not None
        _pass_role(call, profile, instance.arn)
        locked = Instance.objects.select_for_update().get(pk=instance.pk)
        if locked.association_id:
            raise IncorrectState(f"There is an existing association for instance {instance.instance_id}")
        _associate(locked, profile)
        shape = association_shape(locked, "associating")
        audit.response = {"iamInstanceProfileAssociation": _lower(shape)}
        return shape


def _associate(instance: Instance, profile: InstanceProfile) -> None:
    instance.association_id = _hex_id("iip-assoc-")
    instance.profile_arn = profile.arn
    instance.profile_id = profile.instance_profile_id
    instance.associated_at = clock.now()
    instance.save(update_fields=["association_id", "profile_arn", "profile_id", "associated_at"])
    InstanceCredential.objects.filter(instance=instance).delete()


def _lower(shape: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in shape.items():
        if isinstance(value, datetime):
            value = value.strftime("%Y-%m-%dT%H:%M:%SZ")
        elif isinstance(value, Mapping):
            value = _lower(value)
        out[key[0].lower() + key[1:]] = value
    return out


def _find_association(account_id: str, association_id: str | None) -> Instance | None:
    if not association_id:
        return None
    return visible_instances(account_id).filter(association_id=association_id).first()


def _association_missing(association_id: str | None) -> InvalidAssociationIdNotFound:
    return InvalidAssociationIdNotFound(f"The association {association_id} does not exist")


def replace_iam_instance_profile_association(
    ctx: CallContext, *, association_id: str | None, iam_instance_profile: Mapping[str, str] | None
) -> dict[str, Any]:
    instance = _find_association(ctx.account_id, association_id)
    profile_box: list[InstanceProfile | None] = [None]
    params = {"associationId": association_id, "iamInstanceProfile": _profile_params(iam_instance_profile)}

    def validate() -> None:
        if not association_id:
            raise MissingParameter("The request must contain the parameter AssociationId")
        if not iam_instance_profile:
            raise MissingParameter("The request must contain the parameter IamInstanceProfile")
        if instance is None:
            raise _association_missing(association_id)
        profile_box[0] = _find_profile(ctx.account_id, iam_instance_profile)

    resource = instance.arn if instance else f"arn:aws:ec2:{REGION}:{ctx.account_id}:instance/*"
    call = _Ec2Call(
        ctx,
        "ec2:ReplaceIamInstanceProfileAssociation",
        resource,
        _instance_context(instance) if instance else {},
        params,
    )
    with call.run(validate) as audit:
        assert instance is not None and profile_box[0] is not None
        _pass_role(call, profile_box[0], instance.arn)
        locked = Instance.objects.select_for_update().get(pk=instance.pk)
        if locked.association_id != association_id:
            raise _association_missing(association_id)
        _associate(locked, profile_box[0])
        shape = association_shape(locked, "associating")
        audit.response = {"iamInstanceProfileAssociation": _lower(shape)}
        return shape


def disassociate_iam_instance_profile(ctx: CallContext, *, association_id: str | None) -> dict[str, Any]:
    instance = _find_association(ctx.account_id, association_id)
    params = {"associationId": association_id}

    def validate() -> None:
        if not association_id:
            raise MissingParameter("The request must contain the parameter AssociationId")
        if instance is None:
            raise _association_missing(association_id)

    resource = instance.arn if instance else f"arn:aws:ec2:{REGION}:{ctx.account_id}:instance/*"
    call = _Ec2Call(
        ctx, "ec2:DisassociateIamInstanceProfile", resource, _instance_context(instance) if instance else {}, params
    )
    with call.run(validate) as audit:
        assert instance is not None
        locked = Instance.objects.select_for_update().get(pk=instance.pk)
        if locked.association_id != association_id:
            raise _association_missing(association_id)
        shape = association_shape(locked, "disassociating")
        _end_association(locked)
        audit.response = {"iamInstanceProfileAssociation": _lower(shape)}
        return shape


_ASSOCIATION_FILTERS = {"instance-id", "state"}


def describe_iam_instance_profile_associations(
    ctx: CallContext,
    *,
    association_ids: Sequence[str] = (),
    filters: Sequence[tuple[str, Sequence[str]]] = (),
    max_results: int | None = None,
    next_token: str | None = None,
) -> tuple[list[dict[str, Any]], str | None]:
    params = {
        "associationIds": list(association_ids) or None,
        "filters": [{"name": n, "values": list(vs)} for n, vs in filters] or None,
        "maxResults": max_results,
    }

    def validate() -> None:
        if association_ids and max_results is not None:
            raise InvalidParameterCombination("The parameter AssociationIds cannot be used with MaxResults")
        for name, _ in filters:
            if name not in _ASSOCIATION_FILTERS:
                raise InvalidParameterValue(f"The filter '{name}' is invalid")

    call = _Ec2Call(ctx, "ec2:DescribeIamInstanceProfileAssociations", "*", {"ec2:Region": REGION}, params)
    with call.run(validate):
        rows = [i for i in visible_instances(ctx.account_id) if i.association_id]
        if association_ids:
            by_id = {i.association_id: i for i in rows}
            missing = [a for a in association_ids if a not in by_id]
            if missing:
                raise _association_missing(missing[0])
            rows = [by_id[a] for a in dict.fromkeys(association_ids)]
        shapes = [association_shape(i) for i in rows]
        for name, patterns in filters:
            field = "InstanceId" if name == "instance-id" else "State"
            shapes = [s for s in shapes if _matches([s[field]], patterns)]
        return _page(shapes, max_results, next_token)


def instance_for_console(ctx: CallContext, instance_id: str) -> Instance:
    """One instance of the caller's account, through DescribeInstances (authorized and recorded as the console's
    own read is)."""
    rows, _ = describe_instances(ctx, instance_ids=[instance_id])
    return rows[0]
