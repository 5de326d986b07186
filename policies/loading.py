"""Load the AWS managed policy catalog (``policies.catalog.managed``) into the database.

AWS managed policies are shared by every account: ``ManagedPolicy`` rows with ``account=None`` and one default
``PolicyVersion`` each. Loading is idempotent: a second run changes nothing, and a newer catalog (a refreshed data file)
adds the new policies and moves changed ones to their new default version, keeping the old version as AWS does.
"""

from __future__ import annotations

from datetime import UTC, datetime

from django.db import transaction

from core import ids
from policies.catalog.managed import ManagedPolicy as CatalogPolicy
from policies.catalog.managed import managed_policies
from policies.models import ManagedPolicy, PolicyVersion

BATCH_SIZE = 500
#: Used only if the catalog lacks a date; fixed (not "now") so that reloading stays a no-op.
UNKNOWN_DATE = datetime(2015, 2, 6, tzinfo=UTC)


def load_aws_managed_policies() -> int:
    """Create or update a row for every AWS managed policy; returns how many policies were added or changed."""
    catalog = {p.arn: p for p in managed_policies()}
    with transaction.atomic():
        existing = {
            row[0]: row
            for row in ManagedPolicy.objects.filter(account__isnull=True).values_list(
                "arn", "pk", "default_version_id", "description", "job_function", "updated_at"
            )
        }
        default_docs = dict(
            PolicyVersion.objects.filter(policy__account__isnull=True, is_default=True).values_list(
                "policy_id", "document"
            )
        )
        new = [p for arn, p in catalog.items() if arn not in existing]
        changed: list[tuple[int, CatalogPolicy]] = []
        for arn, (_, pk, version_id, description, job_function, updated_at) in existing.items():
            p = catalog.get(arn)
            if p is None:
                continue  # AWS deprecates policies but never deletes them: keep what accounts may have attached
            if (version_id, description, job_function, updated_at, default_docs.get(pk)) != (
                p.default_version_id,
                p.description,
                p.job_function,
                _date(p.update_date),
                p.document,
            ):
                changed.append((pk, p))
        _create(new)
        _update(changed)
    return len(new) + len(changed)


def _create(policies: list[CatalogPolicy]) -> None:
    if not policies:
        return
    rows = ManagedPolicy.objects.bulk_create(
        [
            ManagedPolicy(
                account=None,
                policy_id=ids.new_id("ANPA"),
                name=p.name,
                path=p.path,
                arn=p.arn,
                description=p.description,
                default_version_id=p.default_version_id,
                next_version_number=_version_number(p.default_version_id) + 1,
                job_function=p.job_function,
                created_at=_date(p.create_date),
                updated_at=_date(p.update_date),
            )
            for p in policies
        ],
        batch_size=BATCH_SIZE,
    )
    PolicyVersion.objects.bulk_create(
        [_default_version(row.pk, p) for row, p in zip(rows, policies, strict=True)], batch_size=BATCH_SIZE
    )


def _update(changed: list[tuple[int, CatalogPolicy]]) -> None:
    if not changed:
        return
    rows = []
    for pk, p in changed:
        rows.append(
            ManagedPolicy(
                pk=pk,
                description=p.description,
                default_version_id=p.default_version_id,
                next_version_number=_version_number(p.default_version_id) + 1,
                job_function=p.job_function,
                updated_at=_date(p.update_date),
            )
        )
    ManagedPolicy.objects.bulk_update(
        rows,
        ["description", "default_version_id", "next_version_number", "job_function", "updated_at"],
        batch_size=BATCH_SIZE,
    )
    # Clear the old default first: at most one default version per policy is a database constraint.
    PolicyVersion.objects.filter(policy_id__in=[pk for pk, _ in changed], is_default=True).update(is_default=False)
    PolicyVersion.objects.bulk_create(
        [_default_version(pk, p) for pk, p in changed],
        update_conflicts=True,
        unique_fields=["policy", "version_id"],
        update_fields=["document", "is_default", "created_at"],
        batch_size=BATCH_SIZE,
    )


def _default_version(policy_pk: int, p: CatalogPolicy) -> PolicyVersion:
    return PolicyVersion(
        policy_id=policy_pk,
        version_id=p.default_version_id,
        document=p.document,
        is_default=True,
        created_at=_date(p.update_date),
    )


def _version_number(version_id: str) -> int:
    digits = version_id.lstrip("vV")
    return int(digits) if digits.isdigit() else 1


def _date(text: str) -> datetime:
    if not text:
        return UNKNOWN_DATE
    value = datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=UTC)
