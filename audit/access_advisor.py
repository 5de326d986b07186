"""Access advisor through the API (issue 14, section 2): GenerateServiceLastAccessedDetails,
GetServiceLastAccessedDetails, GetServiceLastAccessedDetailsWithEntities and ListPoliciesGrantingServiceAccess.

The report reads the same data as the console's Last accessed tab (``audit.last_accessed``: the services the
subject's policies grant, and ``ServiceLastAccessed`` filled by event delivery). A job is computed when it is
generated, so GetServiceLastAccessedDetails answers ``COMPLETED`` at once (AWS documents the job as asynchronous;
callers poll until it completes, which here is the first poll). Subjects are AWS's: a user, a group (the data of
its members), a role (its sessions), or a managed policy (the users and roles it is attached to, directly or
through a group). ``ACTION_LEVEL`` adds the last use of each action of the services AWS tracks by action, read
from the delivered trail.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import Max, Q

from audit.last_accessed import ServiceAccess, granted_services, service_rows, usage_of
from audit.models import AccessReport, AuditEvent
from core import arns, clock
from core.calls import iam_call
from core.context import CallContext
from core.errors import InvalidInput, NoSuchEntity
from core.validation import check_input
from identities.models import Group, GroupMembership, IamUser, Role
from identities.queries import group_policy_documents, user_policy_documents
from policies.catalog import actions as catalog
from policies.models import InlinePolicy, ManagedPolicy, PolicyVersion

GRANULARITIES = ("SERVICE_LEVEL", "ACTION_LEVEL")
# The services whose actions access advisor tracks one by one ("Viewing last accessed information for IAM": Amazon
# EC2, IAM, Lambda and Amazon S3 management actions).
TRACKED_BY_ACTION = ("ec2", "iam", "lambda", "s3")


@dataclass
class Subject:
    type: str  # USER | GROUP | ROLE | POLICY
    arn: str
    documents: list[str]
    entities: list[dict[str, str]] = field(default_factory=list)  # EntityInfo of the principals whose use counts


def _info(kind: str, obj: Any, id_field: str) -> dict[str, str]:
    return {"Arn": obj.arn, "Name": obj.name, "Type": kind, "Id": getattr(obj, id_field), "Path": obj.path}


def _resource_of(account_id: str, arn: str) -> tuple[str, str]:
    """``arn:aws:iam::ACCOUNT:user/path/name`` → ("user", "name"); InvalidInput for anything else."""
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn" or parts[1] != arns.PARTITION or parts[2] != "iam" or "/" not in parts[5]:
        raise InvalidInput(f"ARN {arn} is not valid.")
    kind, _, rest = parts[5].partition("/")
    if kind not in ("user", "group", "role", "policy"):
        raise InvalidInput(f"ARN {arn} is not valid.")
    if kind != "policy" and parts[4] != account_id:
        raise NoSuchEntity(f"The entity {arn} cannot be found.")
    return kind, rest.rsplit("/", 1)[-1]


def _subject(account_id: str, arn: str, *, policies: bool = True) -> Subject:
    kind, name = _resource_of(account_id, arn)
    missing = NoSuchEntity(f"The entity {arn} cannot be found.")
    if kind == "user":
        user = IamUser.objects.in_account(account_id).filter(arn=arn).first()
        if user is None:
            raise missing
        return Subject("USER", arn, user_policy_documents(user), [_info("USER", user, "user_id")])
    if kind == "role":
        role = Role.objects.in_account(account_id).filter(arn=arn).first()
        if role is None:
            raise missing
        documents = [
            *PolicyVersion.objects.filter(is_default=True, policy__role_attachments__role=role).values_list(
                "document", flat=True
            ),
            *InlinePolicy.objects.filter(role=role).values_list("document", flat=True),
        ]
        return Subject("ROLE", arn, documents, [_info("ROLE", role, "role_id")])
    if kind == "group":
        group = Group.objects.in_account(account_id).filter(arn=arn).first()
        if group is None:
            raise missing
        members = IamUser.objects.filter(memberships__group=group).order_by("name")
        return Subject("GROUP", arn, group_policy_documents(group), [_info("USER", u, "user_id") for u in members])
    if not policies:
        raise InvalidInput(f"ARN {arn} is not valid.")
    policy = ManagedPolicy.objects.visible_to(account_id).filter(arn=arn).first()
    if policy is None:
        raise missing
    version = PolicyVersion.objects.filter(policy=policy, is_default=True).values_list("document", flat=True).first()
    users = IamUser.objects.in_account(account_id).filter(
        Q(policy_attachments__policy=policy) | Q(memberships__group__policy_attachments__policy=policy)
    )
    roles = Role.objects.in_account(account_id).filter(policy_attachments__policy=policy)
    entities = [_info("USER", u, "user_id") for u in users.distinct().order_by("name")]
    entities += [_info("ROLE", r, "role_id") for r in roles.distinct().order_by("name")]
    return Subject("POLICY", arn, [version] if version else [], entities)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _tracked_actions(account_id: str, namespace: str, principal_arns: list[str]) -> list[dict[str, Any]]:
    events = (
        AuditEvent.objects.filter(
            account_id=account_id,
            delivered_at__isnull=False,
            error_code="",
            event_source=f"{namespace}.amazonaws.com",
        )
        .filter(
            Q(record__userIdentity__arn__in=principal_arns)
            | Q(record__userIdentity__sessionContext__sessionIssuer__arn__in=principal_arns)
        )
        .values("event_name")
        .annotate(last=Max("event_time"))
        .order_by("event_name")
    )
    return [{"ActionName": e["event_name"], "LastAccessedTime": _iso(e["last"])} for e in events]


def generate_service_last_accessed_details(ctx: CallContext, *, arn: str, granularity: str | None = None) -> str:
    granularity = granularity or "SERVICE_LEVEL"
    params = {"arn": arn, "granularity": granularity}
    with iam_call(ctx, "iam:GenerateServiceLastAccessedDetails", arn or "*", params) as call:
        check_input("iam", "GenerateServiceLastAccessedDetails", Arn=arn, Granularity=granularity)
        if granularity not in GRANULARITIES:
            raise InvalidInput(f"Granularity {granularity} is not valid.")
        subject = _subject(ctx.account_id, arn)
        principal_arns = [e["Arn"] for e in subject.entities]
        rows, everything = service_rows(ctx.account_id, principal_arns, subject.documents)
        if everything:  # "*" grants every service: the report lists them all, as AWS's does
            listed = {r.namespace for r in rows}
            rows += [ServiceAccess(s.prefix, s.name, None, "") for s in catalog.services() if s.prefix not in listed]
        usage = usage_of(ctx.account_id, principal_arns)
        services = []
        for row in rows:
            item: dict[str, Any] = {"ServiceName": row.name, "ServiceNamespace": row.namespace}
            if row.last_accessed_at:
                item["LastAuthenticated"] = _iso(row.last_accessed_at)
                item["LastAuthenticatedEntity"] = row.entity
            item["TotalAuthenticatedEntities"] = len({r.principal_arn for r in usage.get(row.namespace, ())})
            if granularity == "ACTION_LEVEL" and row.namespace in TRACKED_BY_ACTION:
                item["TrackedActionsLastAccessed"] = _tracked_actions(ctx.account_id, row.namespace, principal_arns)
            services.append(item)
        now = clock.now()
        job = AccessReport.objects.create(
            account_id=ctx.account_id,
            job_id=uuid.uuid4(),
            kind=AccessReport.KIND_SERVICE,
            subject=arn,
            granularity=granularity,
            created_at=now,
            completed_at=now,
            report={"services": services, "entities": subject.entities},
        )
        call.response = {"jobId": str(job.job_id)}
        return str(job.job_id)


def _job(account_id: str, job_id: str, kind: str) -> AccessReport:
    try:
        key = uuid.UUID(job_id)
    except (ValueError, TypeError, AttributeError):
        raise InvalidInput(f"Job ID {job_id} is not valid.") from None
    job = AccessReport.objects.filter(account_id=account_id, job_id=key, kind=kind).first()
    if job is None:
        raise NoSuchEntity(f"Job with ID {job_id} cannot be found.")
    return job


@dataclass(frozen=True)
class ServiceReport:
    job: AccessReport
    services: list[dict[str, Any]]


def _dates(item: dict[str, Any], *keys: str) -> dict[str, Any]:
    out = dict(item)
    for key in keys:
        if out.get(key):
            out[key] = datetime.fromisoformat(out[key])
    return out


def get_service_last_accessed_details(ctx: CallContext, *, job_id: str) -> ServiceReport:
    with iam_call(ctx, "iam:GetServiceLastAccessedDetails", "*", {"jobId": job_id}):
        check_input("iam", "GetServiceLastAccessedDetails", JobId=job_id)
        job = _job(ctx.account_id, job_id, AccessReport.KIND_SERVICE)
        services = []
        for item in job.report.get("services", []):
            out = _dates(item, "LastAuthenticated")
            if "TrackedActionsLastAccessed" in out:
                out["TrackedActionsLastAccessed"] = [
                    _dates(a, "LastAccessedTime") for a in out["TrackedActionsLastAccessed"]
                ]
            services.append(out)
        return ServiceReport(job, services)


def get_service_last_accessed_details_with_entities(
    ctx: CallContext, *, job_id: str, service_namespace: str
) -> tuple[AccessReport, list[dict[str, Any]]]:
    """The job's entities (for a group its members, for a policy the users and roles it applies to) with when
    each last used ``service_namespace``, most recent first, then those that never did."""
    params = {"jobId": job_id, "serviceNamespace": service_namespace}
    with iam_call(ctx, "iam:GetServiceLastAccessedDetailsWithEntities", "*", params):
        check_input(
            "iam", "GetServiceLastAccessedDetailsWithEntities", JobId=job_id, ServiceNamespace=service_namespace
        )
        job = _job(ctx.account_id, job_id, AccessReport.KIND_SERVICE)
        entities: list[dict[str, str]] = job.report.get("entities", [])
        used = {
            row.principal_arn: row.last_accessed_at
            for row in usage_of(ctx.account_id, [e["Arn"] for e in entities]).get(service_namespace.lower(), ())
        }
        details: list[dict[str, Any]] = []
        for entity in entities:
            detail: dict[str, Any] = {"EntityInfo": dict(entity)}
            if entity["Arn"] in used:
                detail["LastAuthenticated"] = used[entity["Arn"]]
            details.append(detail)
        details.sort(key=lambda d: -(d["LastAuthenticated"].timestamp() if "LastAuthenticated" in d else 0))
        return job, details


# ---- ListPoliciesGrantingServiceAccess --------------------------------------------------------------------------


def _policies_of(subject_type: str, obj: Any) -> list[tuple[dict[str, str], str]]:
    """[(PolicyGrantingServiceAccess without the namespace, document)] of a user (its groups' too), group or role."""
    found: list[tuple[dict[str, str], str]] = []

    def managed(attachments: Any) -> None:
        for policy in ManagedPolicy.objects.filter(pk__in=attachments).order_by("name"):
            document = policy.versions.filter(is_default=True).values_list("document", flat=True).first() or ""
            found.append(({"PolicyName": policy.name, "PolicyType": "MANAGED", "PolicyArn": policy.arn}, document))

    def inline(entity_type: str, owner: Any, rows: Any) -> None:
        for row in rows.order_by("name"):
            entry = {"PolicyName": row.name, "PolicyType": "INLINE", "EntityType": entity_type, "EntityName": owner}
            found.append((entry, row.document))

    if subject_type == "USER":
        managed(obj.policy_attachments.values("policy_id"))
        inline("USER", obj.name, InlinePolicy.objects.filter(user=obj))
        for membership in GroupMembership.objects.filter(user=obj).select_related("group").order_by("group__name"):
            group = membership.group
            managed(group.policy_attachments.values("policy_id"))
            inline("GROUP", group.name, InlinePolicy.objects.filter(group=group))
    elif subject_type == "GROUP":
        managed(obj.policy_attachments.values("policy_id"))
        inline("GROUP", obj.name, InlinePolicy.objects.filter(group=obj))
    else:
        managed(obj.policy_attachments.values("policy_id"))
        inline("ROLE", obj.name, InlinePolicy.objects.filter(role=obj))
    return found


def list_policies_granting_service_access(
    ctx: CallContext, *, arn: str, service_namespaces: Sequence[str]
) -> list[dict[str, Any]]:
    params = {"arn": arn, "serviceNamespaces": list(service_namespaces)}
    with iam_call(ctx, "iam:ListPoliciesGrantingServiceAccess", arn or "*", params):
        check_input("iam", "ListPoliciesGrantingServiceAccess", Arn=arn, ServiceNamespaces=list(service_namespaces))
        subject = _subject(ctx.account_id, arn, policies=False)
        model: Any = {"USER": IamUser, "GROUP": Group, "ROLE": Role}[subject.type]
        obj = model.objects.in_account(ctx.account_id).get(arn=arn)
        policies = _policies_of(subject.type, obj)
        grants = [(entry, *granted_services([document])) for entry, document in policies]
        return [
            {
                "ServiceNamespace": namespace,
                "Policies": [entry for entry, services, everything in grants if everything or namespace in services],
            }
            for namespace in _unique(service_namespaces)
        ]


def _unique(values: Iterable[str]) -> list[str]:
    seen: dict[str, None] = {}
    for value in values:
        seen.setdefault(value.lower(), None)
    return list(seen)
