"""Centralized root access and the Organizations access report over a class's organization (issue 14, section 2).

- ``Enable/DisableOrganizationsRootCredentialsManagement``, ``Enable/DisableOrganizationsRootSessions`` and
  ``ListOrganizationsFeatures``: IAM's features of the caller's organization ("Centralize root access for member
  accounts"). Trusted access for IAM in Organizations and "all features" are always on in the classroom. An account
  here may manage several organizations (one per class, ``classroom.models``), so the features are the management
  account's: set on all its organizations together, and listed with the first (oldest) one's ID.
- ``AssumeRoot`` (STS): a management-account principal, never its root user, gets a 15-minute session as the root
  user of a member account, limited by one of AWS's five task policies (the session's policy). It needs the
  ``RootSessions`` feature.
- ``GenerateOrganizationsAccessReport`` / ``GetOrganizationsAccessReport``: for the root, an OU or an account of the
  organization, which services its SCPs allow (or one SCP's, with ``OrganizationsPolicyId``) and when the accounts
  below it last used each, from the same access-advisor data as the Last accessed tab.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from audit.last_accessed import granted_services
from audit.models import AccessReport, ServiceLastAccessed
from classroom.models import (
    OrgAccount,
    Organization,
    OrganizationalUnit,
    PolicyAttachment,
    ServiceControlPolicy,
)
from core import arns, clock
from core.calls import iam_call
from core.context import CallContext
from core.errors import AccessDenied, IamError, InvalidInput, NoSuchEntity
from core.validation import check_input
from policies.catalog import actions as catalog
from sts.models import TemporaryCredential
from sts.services import IssuedCredentials, credentials_record, mint_credentials

ROOT_CREDENTIALS_MANAGEMENT = "RootCredentialsManagement"
ROOT_SESSIONS = "RootSessions"
FEATURES = (ROOT_CREDENTIALS_MANAGEMENT, ROOT_SESSIONS)


class AccountNotManagementOrDelegatedAdministrator(IamError):
    code, status = "AccountNotManagementOrDelegatedAdministratorException", 400


class OrganizationNotFound(IamError):
    code, status = "OrganizationNotFoundException", 400


class CallerIsNotManagementAccount(IamError):
    code, status = "CallerIsNotManagementAccountException", 400


# ---- IAM's organization features --------------------------------------------------------------------------------


def _managed(ctx: CallContext) -> list[Organization]:
    orgs = list(Organization.objects.filter(management_account_id=ctx.account_id).order_by("created_at", "id"))
    if orgs:
        return orgs
    if OrgAccount.objects.filter(account_id=ctx.account_id).exists():
        raise AccountNotManagementOrDelegatedAdministrator(
            "The request was rejected because the account making the request is not the management account or "
            "delegated administrator account for centralized root access."
        )
    raise OrganizationNotFound("The request was rejected because no organization is associated with your account.")


@dataclass(frozen=True)
class Features:
    organization_id: str
    enabled: list[str]


def _features(orgs: list[Organization]) -> Features:
    return Features(orgs[0].id, [f for f in FEATURES if f in orgs[0].iam_features])


def list_organizations_features(ctx: CallContext) -> Features:
    with iam_call(ctx, "iam:ListOrganizationsFeatures", "*", {}):
        return _features(_managed(ctx))


def _switch(ctx: CallContext, action: str, feature: str, enable: bool) -> Features:
    with iam_call(ctx, f"iam:{action}", "*", {}):
        orgs = _managed(ctx)
        for org in orgs:
            features = [f for f in org.iam_features if f != feature]
            org.iam_features = [*features, feature] if enable else features
            Organization.objects.filter(pk=org.pk).update(iam_features=org.iam_features)
        return _features(orgs)


def enable_organizations_root_credentials_management(ctx: CallContext) -> Features:
    return _switch(ctx, "EnableOrganizationsRootCredentialsManagement", ROOT_CREDENTIALS_MANAGEMENT, True)


def disable_organizations_root_credentials_management(ctx: CallContext) -> Features:
    return _switch(ctx, "DisableOrganizationsRootCredentialsManagement", ROOT_CREDENTIALS_MANAGEMENT, False)


def enable_organizations_root_sessions(ctx: CallContext) -> Features:
    return _switch(ctx, "EnableOrganizationsRootSessions", ROOT_SESSIONS, True)


def disable_organizations_root_sessions(ctx: CallContext) -> Features:
    return _switch(ctx, "DisableOrganizationsRootSessions", ROOT_SESSIONS, False)


# ---- AssumeRoot -------------------------------------------------------------------------------------------------

ROOT_SESSION_MAX = 900
_ROOT = "arn:aws:iam::*:root"
# AWS's task policies ("AWS managed policies for IAM": the root-task policies), as the actions each allows.
TASK_POLICIES: dict[str, list[dict[str, Any]]] = {
    "IAMAuditRootUserCredentials": [
        {
            "Effect": "Allow",
            "Action": [
                "iam:GetAccessKeyLastUsed",
                "iam:GetAccountSummary",
                "iam:GetLoginProfile",
                "iam:GetUser",
                "iam:ListAccessKeys",
                "iam:ListMFADevices",
                "iam:ListSigningCertificates",
            ],
            "Resource": "*",
        }
    ],
    "IAMCreateRootUserPassword": [
        {"Effect": "Allow", "Action": ["iam:CreateLoginProfile", "iam:GetLoginProfile"], "Resource": "*"}
    ],
    "IAMDeleteRootUserCredentials": [
        {
            "Effect": "Allow",
            "Action": [
                "iam:DeactivateMFADevice",
                "iam:DeleteAccessKey",
                "iam:DeleteLoginProfile",
                "iam:DeleteSigningCertificate",
                "iam:DeleteVirtualMFADevice",
                "iam:GetAccessKeyLastUsed",
                "iam:GetLoginProfile",
                "iam:GetUser",
                "iam:ListAccessKeys",
                "iam:ListMFADevices",
                "iam:ListSigningCertificates",
            ],
            "Resource": "*",
        }
    ],
    "S3UnlockBucketPolicy": [
        {"Effect": "Allow", "Action": ["s3:DeleteBucketPolicy", "s3:GetBucketPolicy"], "Resource": "*"}
    ],
    "SQSUnlockQueuePolicy": [
        {"Effect": "Allow", "Action": ["sqs:GetQueueAttributes", "sqs:SetQueueAttributes"], "Resource": "*"}
    ],
}
TASK_POLICY_PREFIX = "arn:aws:iam::aws:policy/root-task/"


def task_policy_document(arn: str) -> str | None:
    statements = TASK_POLICIES.get(arn.removeprefix(TASK_POLICY_PREFIX)) if arn.startswith(TASK_POLICY_PREFIX) else None
    if statements is None:
        return None
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


def assume_root(
    ctx: CallContext, *, target_principal: str, task_policy_arn: str, duration_seconds: int | None = None
) -> IssuedCredentials:
    caller = ctx.principal
    target = (target_principal or "").removeprefix(f"arn:{arns.PARTITION}:iam::").removesuffix(":root")
    resource = arns.root(target) if target.isdigit() and len(target) == 12 else target_principal or "*"
    params = {
        "targetPrincipal": target_principal,
        "taskPolicyArn": {"arn": task_policy_arn},
        "durationSeconds": duration_seconds,
    }

    def validate() -> None:
        check_input(
            "sts",
            "AssumeRoot",
            TargetPrincipal=target_principal,
            TaskPolicyArn={"arn": task_policy_arn},
            DurationSeconds=duration_seconds,
        )

    if caller.is_root:
        validate()
        raise AccessDenied("AssumeRoot cannot be called with root user credentials.")
    condition = {"sts:TaskPolicyArn": task_policy_arn}
    with iam_call(ctx, "sts:AssumeRoot", resource, params, condition_context=condition, validate=validate) as call:
        document = task_policy_document(task_policy_arn or "")
        if document is None:
            raise InvalidInput(f"The task policy {task_policy_arn} is not a root task policy.")
        orgs = _managed(ctx)
        if ROOT_SESSIONS not in orgs[0].iam_features:
            raise AccessDenied(
                "Centralized root access is not enabled: enable root sessions (EnableOrganizationsRootSessions) "
                "in the organization first."
            )
        member = OrgAccount.objects.filter(account_id=target, organization__in=orgs).first()
        if member is None:
            raise AccessDenied(f"The account {target_principal} is not a member account of your organization.")
        duration = min(duration_seconds if duration_seconds is not None else ROOT_SESSION_MAX, ROOT_SESSION_MAX)
        now = clock.now()
        issued = mint_credentials(
            account_id=target,
            kind=TemporaryCredential.KIND_ROOT_TASK,
            source_arn=caller.arn,
            session_name="",
            arn=arns.root(target),
            principal_id=target,
            issued_at=now,
            expires_at=now + timedelta(seconds=max(duration, 1)),
            session_policy=document,
            session_policy_arns=[],
            source_identity=caller.name,
        )
        call.response = {
            "credentials": credentials_record(issued.credential),
            "sourceIdentity": issued.credential.source_identity,
        }
        return issued


# ---- Organizations access report --------------------------------------------------------------------------------


def _everything() -> set[str]:
    return {s.prefix for s in catalog.services()}


def _allowed_by(documents: list[str]) -> set[str]:
    services, everything = granted_services(documents)
    return _everything() if everything else services


def _path_of(org: Organization, member: OrgAccount, units: dict[str, OrganizationalUnit]) -> list[str]:
    chain: list[str] = []
    unit = units.get(member.parent_unit_id or "")
    while unit is not None:
        chain.insert(0, unit.id)
        unit = units.get(unit.parent_id or "")
    return [org.id, org.root.id, *chain, member.account_id]


def generate_organizations_access_report(
    ctx: CallContext, *, entity_path: str, organizations_policy_id: str | None = None
) -> str:
    params = {"entityPath": entity_path, "organizationsPolicyId": organizations_policy_id}
    resource = f"arn:{arns.PARTITION}:iam::{ctx.account_id}:access-report/{entity_path}"
    with iam_call(ctx, "iam:GenerateOrganizationsAccessReport", resource, params) as call:
        check_input(
            "iam",
            "GenerateOrganizationsAccessReport",
            EntityPath=entity_path,
            OrganizationsPolicyId=organizations_policy_id,
        )
        parts = entity_path.strip("/").split("/")
        org = Organization.objects.filter(id=parts[0], management_account_id=ctx.account_id).first()
        if org is None or len(parts) < 2 or parts[1] != org.root.id:
            raise InvalidInput(f"The entity path {entity_path} is not valid for your organization.")
        units = {u.id: u for u in OrganizationalUnit.objects.filter(organization=org)}
        members = list(OrgAccount.objects.filter(organization=org))
        paths = {m.account_id: _path_of(org, m, units) for m in members}
        in_scope = [a for a, path in paths.items() if path[: len(parts)] == parts]
        if len(parts) > 2 and not in_scope and parts[-1] not in units:
            raise InvalidInput(f"The entity path {entity_path} is not valid for your organization.")

        policies = ServiceControlPolicy.objects.filter(organization=org)
        if organizations_policy_id:
            policy = policies.filter(policy_id=organizations_policy_id).first()
            if policy is None:
                raise NoSuchEntity(f"The policy {organizations_policy_id} cannot be found in the organization.")
            accessible = _allowed_by([policy.document])
        else:
            # Every level from the root down to the entity must allow (SCP evaluation).
            accessible = _everything()
            for target in parts[1:]:
                attached = PolicyAttachment.objects.filter(organization=org, target_id=target)
                documents = list(attached.values_list("policy__document", flat=True))
                accessible &= _allowed_by(documents) if documents else set()

        used: dict[str, dict[str, Any]] = {}
        rows = ServiceLastAccessed.objects.filter(account_id__in=in_scope, service_namespace__in=accessible)
        principals: dict[str, set[str]] = {}
        for row in rows.order_by("last_accessed_at"):
            principals.setdefault(row.service_namespace, set()).add(row.principal_arn)
            used[row.service_namespace] = {
                "LastAuthenticatedTime": row.last_accessed_at.isoformat(),
                "EntityPath": "/".join(paths[row.account_id]),
            }
        details = []
        for namespace in sorted(accessible):
            detail: dict[str, Any] = {
                "ServiceName": catalog.service_name(namespace) or namespace,
                "ServiceNamespace": namespace,
            }
            if namespace in used:
                detail.update(used[namespace], TotalAuthenticatedEntities=len(principals[namespace]))
            details.append(detail)
        now = clock.now()
        job = AccessReport.objects.create(
            account_id=ctx.account_id,
            job_id=uuid.uuid4(),
            kind=AccessReport.KIND_ORGANIZATIONS,
            subject=entity_path,
            created_at=now,
            completed_at=now,
            report={"accessible": len(accessible), "details": details},
        )
        call.response = {"jobId": str(job.job_id)}
        return str(job.job_id)


SORT_KEYS = (
    "SERVICE_NAMESPACE_ASCENDING",
    "SERVICE_NAMESPACE_DESCENDING",
    "LAST_AUTHENTICATED_TIME_ASCENDING",
    "LAST_AUTHENTICATED_TIME_DESCENDING",
)


@dataclass(frozen=True)
class OrganizationsReport:
    job: AccessReport
    accessible: int
    not_accessed: int
    details: list[dict[str, Any]]


def get_organizations_access_report(
    ctx: CallContext, *, job_id: str, sort_key: str | None = None
) -> OrganizationsReport:
    with iam_call(ctx, "iam:GetOrganizationsAccessReport", "*", {"jobId": job_id, "sortKey": sort_key}):
        check_input("iam", "GetOrganizationsAccessReport", JobId=job_id, SortKey=sort_key)
        try:
            key = uuid.UUID(job_id)
        except (ValueError, TypeError, AttributeError):
            raise InvalidInput(f"Job ID {job_id} is not valid.") from None
        job = AccessReport.objects.filter(
            account_id=ctx.account_id, job_id=key, kind=AccessReport.KIND_ORGANIZATIONS
        ).first()
        if job is None:
            raise NoSuchEntity(f"Job with ID {job_id} cannot be found.")
        details = []
        for item in job.report.get("details", []):
            out = dict(item)
            if out.get("LastAuthenticatedTime"):
                out["LastAuthenticatedTime"] = datetime.fromisoformat(out["LastAuthenticatedTime"])
            details.append(out)
        sort_key = sort_key or "SERVICE_NAMESPACE_ASCENDING"
        if sort_key.startswith("SERVICE_NAMESPACE"):
            details.sort(key=lambda d: d["ServiceNamespace"], reverse=sort_key.endswith("DESCENDING"))
        else:
            never = datetime.min.replace(tzinfo=clock.now().tzinfo)
            details.sort(key=lambda d: d.get("LastAuthenticatedTime") or never, reverse=sort_key.endswith("DESCENDING"))
        accessed = sum(1 for d in details if d.get("LastAuthenticatedTime"))
        accessible = job.report.get("accessible", 0)
        return OrganizationsReport(job, accessible, accessible - accessed, details)
