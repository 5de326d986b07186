"""AWS managed policies, read from the committed data file ``policies/catalog/data/aws_managed_policies.json``.

The file is generated (``manage.py refresh_managed_policies``, see :mod:`policies.catalog.sources`) and records its
source, the source's version and date, so the catalog changes only when someone refreshes it, not with a
dependency's release. It holds only the default version of each document and no descriptions; descriptions here are
our own words (hand-written for the common policies, derived from the path and the services a document names
otherwise).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache, cached_property
from pathlib import Path

from policies.catalog import actions as catalog

ARN_PREFIX = "arn:aws:iam::aws:policy"

#: The committed, generated data file (``manage.py refresh_managed_policies`` rebuilds it).
DATA_FILE = Path(__file__).resolve().parent / "data" / "aws_managed_policies.json"

#: The console's "AWS managed – job function" set (access_policies_job-functions). Several live at path "/".
JOB_FUNCTION_POLICIES: frozenset[str] = frozenset(
    {
        "AdministratorAccess",
        "Billing",
        "DatabaseAdministrator",
        "DataScientist",
        "PowerUserAccess",
        "NetworkAdministrator",
        "ReadOnlyAccess",
        "SecurityAudit",
        "SupportUser",
        "SystemAdministrator",
        "ViewOnlyAccess",
    }
)

#: Short descriptions for the policies the classroom shows most, written for this project.
DESCRIPTIONS: dict[str, str] = {
    "AdministratorAccess": "Grants every action on every resource in the account.",
    "PowerUserAccess": (
        "Grants full access to AWS services except managing users, groups, roles, the organization and the account."
    ),
    "ReadOnlyAccess": "Grants read-only access (describe, get and list) to resources across nearly all services.",
    "ViewOnlyAccess": (
        "Lets the holder list resources and see their basic metadata in all services, without reading data."
    ),
    "SecurityAudit": "Grants read access to security configuration metadata, for auditors.",
    "Billing": "Lets the holder view usage and costs and manage budgets, payment methods and billing settings.",
    "DatabaseAdministrator": "Grants what a database administrator needs to set up and operate AWS database services.",
    "DataScientist": "Grants access to analytics and machine learning services for data science work.",
    "NetworkAdministrator": "Grants what a network administrator needs to set up and maintain network resources.",
    "SupportUser": "Lets the holder open and manage support cases and read resources to troubleshoot them.",
    "SystemAdministrator": "Grants what a system administrator needs to operate and troubleshoot infrastructure.",
    "IAMFullAccess": "Grants full access to IAM and read access to the organization structure.",
    "IAMReadOnlyAccess": "Grants read-only access to IAM users, groups, roles, policies and reports.",
    "IAMUserChangePassword": "Lets IAM users change their own console password and read the password policy.",
    "AmazonS3FullAccess": "Grants full access to all Amazon S3 buckets and objects.",
    "AmazonS3ReadOnlyAccess": "Grants read-only access to all Amazon S3 buckets and objects.",
    "AmazonEC2FullAccess": "Grants full access to Amazon EC2 and the related load balancing, scaling and monitoring.",
    "AmazonEC2ReadOnlyAccess": "Grants read-only access to Amazon EC2 and the related load balancing and scaling.",
    "AmazonDynamoDBFullAccess": "Grants full access to Amazon DynamoDB and its accelerator, scaling and monitoring.",
    "AmazonDynamoDBReadOnlyAccess": "Grants read-only access to Amazon DynamoDB tables and their settings.",
    "AWSLambda_FullAccess": "Grants full access to AWS Lambda and the services the Lambda console works with.",
    "AWSLambda_ReadOnlyAccess": "Grants read-only access to AWS Lambda functions and their logs.",
    "AWSLambdaBasicExecutionRole": "Lets a Lambda function write its logs to Amazon CloudWatch Logs.",
    "AmazonSSMManagedInstanceCore": "Lets an EC2 instance use the core features of AWS Systems Manager.",
    "CloudWatchReadOnlyAccess": "Grants read-only access to CloudWatch metrics, alarms, logs and dashboards.",
    "CloudWatchLogsFullAccess": "Grants full access to Amazon CloudWatch Logs.",
    "AWSCloudTrail_ReadOnlyAccess": "Grants read-only access to AWS CloudTrail trails and event history.",
    "AmazonVPCFullAccess": "Grants full access to Amazon VPC networking.",
    "AWSBillingReadOnlyAccess": "Grants read-only access to billing and cost information.",
    "AWSSupportAccess": "Lets the holder open, view and manage AWS Support cases.",
    "AWSCloudShellFullAccess": "Grants full access to AWS CloudShell.",
}


@dataclass(frozen=True)
class ManagedPolicy:
    name: str
    path: str  # "/", "/job-function/", "/service-role/", "/aws-service-role/", "/root-task/"
    default_version_id: str  # "v3"
    create_date: str  # ISO 8601, e.g. "2015-02-06T18:39:46+00:00"
    update_date: str
    document_dict: dict[str, object] = field(repr=False, compare=False)
    job_function: bool = False

    @property
    def arn(self) -> str:
        return f"{ARN_PREFIX}{self.path}{self.name}"

    @cached_property
    def document(self) -> str:
        """The policy document as the console shows it: Version first, 4-space indent."""
        return json.dumps(_console_order(self.document_dict), indent=4)

    @cached_property
    def description(self) -> str:
        return DESCRIPTIONS.get(self.name) or derive_description(self.name, self.path, self.document_dict)


# --------------------------------------------------------------------------------------------------------------
# Loading


@dataclass(frozen=True)
class DataInfo:
    """Where the committed data file came from (see :mod:`policies.catalog.sources`)."""

    source: str
    source_version: str
    date: str  # the newest policy update in the source, YYYY-MM-DD
    count: int


@cache
def _data() -> dict[str, object]:
    return json.loads(DATA_FILE.read_text(encoding="utf-8"))


def data_info() -> DataInfo:
    data = _data()
    return DataInfo(
        source=str(data.get("source", "")),
        source_version=str(data.get("source_version", "")),
        date=str(data.get("date", "")),
        count=len(data.get("policies") or {}),  # type: ignore[arg-type]
    )


@cache
def _policies() -> dict[str, ManagedPolicy]:
    raw = _data()["policies"]
    assert isinstance(raw, dict)
    result: dict[str, ManagedPolicy] = {}
    for name in sorted(raw, key=str.lower):
        rec = raw[name]
        doc = rec.get("Document")
        if isinstance(doc, str):
            doc = json.loads(doc)
        result[name] = ManagedPolicy(
            name=name,
            path=str(rec.get("Path", "/")),
            default_version_id=str(rec.get("DefaultVersionId", "v1")),
            create_date=str(rec.get("CreateDate", "")),
            update_date=str(rec.get("UpdateDate", "")),
            document_dict=doc if isinstance(doc, dict) else {},
            job_function=name in JOB_FUNCTION_POLICIES,
        )
    return result


@cache
def _by_arn() -> dict[str, ManagedPolicy]:
    return {p.arn: p for p in _policies().values()}


def managed_policies() -> tuple[ManagedPolicy, ...]:
    """All AWS managed policies, sorted by name (case-insensitively)."""
    return tuple(_policies().values())


def get(name: str) -> ManagedPolicy | None:
    """Look up by exact policy name (``"AdministratorAccess"``)."""
    return _policies().get(name)


def by_arn(arn: str) -> ManagedPolicy | None:
    """Look up by ARN (``"arn:aws:iam::aws:policy/job-function/ViewOnlyAccess"``)."""
    return _by_arn().get(arn)


def job_function_policies() -> tuple[ManagedPolicy, ...]:
    return tuple(p for p in _policies().values() if p.job_function)


# --------------------------------------------------------------------------------------------------------------
# Presentation helpers

_TOP_ORDER = ("Version", "Id", "Statement")
_STATEMENT_ORDER = (
    "Sid",
    "Effect",
    "Principal",
    "NotPrincipal",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Condition",
)


def _ordered(d: dict[str, object], order: tuple[str, ...]) -> dict[str, object]:
    out = {k: d[k] for k in order if k in d}
    out.update((k, v) for k, v in d.items() if k not in out)
    return out


def _console_order(doc: dict[str, object]) -> dict[str, object]:
    """moto stores keys sorted alphabetically; put them back in the order AWS documents are written in."""
    out = _ordered(doc, _TOP_ORDER)
    stmts = out.get("Statement")
    if isinstance(stmts, list):
        out["Statement"] = [_ordered(s, _STATEMENT_ORDER) if isinstance(s, dict) else s for s in stmts]
    elif isinstance(stmts, dict):
        out["Statement"] = _ordered(stmts, _STATEMENT_ORDER)
    return out


def document_services(document: dict[str, object]) -> tuple[str, ...]:
    """Service prefixes named in the Action/NotAction elements of a document, in first-seen order."""
    stmts = document.get("Statement")
    if isinstance(stmts, dict):
        stmts = [stmts]
    seen: dict[str, None] = {}
    for s in stmts if isinstance(stmts, list) else ():
        if not isinstance(s, dict):
            continue
        for element in ("Action", "NotAction"):
            values = s.get(element)
            for v in [values] if isinstance(values, str) else values if isinstance(values, list) else ():
                if isinstance(v, str):
                    seen.setdefault("*" if v.strip() == "*" else v.partition(":")[0].lower(), None)
    return tuple(seen)


def _human_join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def _role_subject(name: str) -> str:
    """``AWSServiceRoleForECRReplicationServiceRolePolicy`` → ``ECRReplication``-style subject for a sentence."""
    subject = name
    for prefix in ("AWSServiceRoleFor", "AWSServiceRole"):
        if subject.startswith(prefix) and len(subject) > len(prefix):
            subject = subject[len(prefix) :]
    for suffix in ("ServiceRolePolicy", "ServiceLinkedRolePolicy", "RolePolicy", "Policy"):
        if subject.endswith(suffix) and len(subject) > len(suffix):
            subject = subject[: -len(suffix)]
            break
    return subject.strip("_-") or name


def derive_description(name: str, path: str, document: dict[str, object]) -> str:
    """A neutral one-line description for a policy we have no hand-written text for."""
    if path == "/aws-service-role/":
        return f"Policy for the {_role_subject(name)} service-linked role, as defined by AWS."
    prefixes = document_services(document)
    names = [catalog.service_name(p) or p for p in prefixes if p != "*"]
    if "*" in prefixes:
        what = "all AWS services"
    elif not names:
        what = "AWS resources"
    elif len(names) > 3:
        what = f"{', '.join(names[:3])} and {len(names) - 3} more services"
    else:
        what = _human_join(names)
    if path == "/service-role/":
        return f"Service role policy for {what}, as defined by AWS."
    if path == "/root-task/":
        return f"Policy for a privileged root user task in {what}, as defined by AWS."
    return f"Provides access to {what} as defined by AWS."
