"""The credential report: its CSV (reference §5.4, column for column), its errors, and the build the Celery task
runs. The services that start and read a report are in ``identities.account_settings``."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta

from audit.models import AuditEvent
from core import arns, clock
from core.errors import IamError
from identities.models import AccessKey, Account, CredentialReport, IamUser, MfaDevice, PasswordPolicy
from identities.passwords import password_expires_at

REPORT_TTL = timedelta(hours=4)  # a new report at most every 4 hours; an older one has expired
STALE_AFTER = timedelta(minutes=2)  # a build not finished by then is started again (worker or broker was down)

HEADER = [
    "user",
    "arn",
    "user_creation_time",
    "password_enabled",
    "password_last_used",
    "password_last_changed",
    "password_next_rotation",
    "mfa_active",
    "access_key_1_active",
    "access_key_1_last_rotated",
    "access_key_1_last_used_date",
    "access_key_1_last_used_region",
    "access_key_1_last_used_service",
    "access_key_2_active",
    "access_key_2_last_rotated",
    "access_key_2_last_used_date",
    "access_key_2_last_used_region",
    "access_key_2_last_used_service",
    "cert_1_active",
    "cert_1_last_rotated",
    "cert_2_active",
    "cert_2_last_rotated",
]

ROOT_USER = "<root_account>"
NA, NO_INFORMATION, NOT_SUPPORTED = "N/A", "no_information", "not_supported"
STARTED, INPROGRESS, COMPLETE = "STARTED", "INPROGRESS", "COMPLETE"


class ReportNotPresent(IamError):
    code, status = "ReportNotPresent", 410


class ReportExpired(IamError):
    code, status = "ReportExpired", 410


class ReportInProgress(IamError):
    code, status = "ReportInProgress", 404


# ---- formatting ----------------------------------------------------------------------------------------------


def timestamp(value: datetime | None, missing: str = NA) -> str:
    """ISO 8601 in UTC with an explicit offset, to the second: ``2026-11-28T11:05:00+00:00``."""
    if value is None:
        return missing
    return value.astimezone(UTC).replace(microsecond=0).isoformat()


def boolean(value: bool) -> str:
    return "true" if value else "false"


def _key_columns(keys: Sequence[AccessKey], index: int) -> list[str]:
    if index >= len(keys):
        return ["false", NA, NA, NA, NA]
    key = keys[index]
    used = key.last_used_at is not None
    return [
        boolean(key.status == "Active"),
        timestamp(key.created_at),
        timestamp(key.last_used_at),
        (key.last_used_region or NA) if used else NA,
        (key.last_used_service or NA) if used else NA,
    ]


def _no_certificates() -> list[str]:
    return ["false", NA, "false", NA]  # signing certificates are not part of the classroom


# ---- rows ----------------------------------------------------------------------------------------------------


def _root_password_last_used(account_id: str) -> datetime | None:
    return (
        AuditEvent.objects.filter(
            account_id=account_id,
            event_name="ConsoleLogin",
            username="root",
            record__responseElements__ConsoleLogin="Success",
        )
        .order_by("-event_time")
        .values_list("event_time", flat=True)
        .first()
    )


def _root_row(account: Account, keys: Sequence[AccessKey], mfa: bool) -> list[str]:
    return [
        ROOT_USER,
        arns.root(account.id),
        timestamp(account.created_at),
        NOT_SUPPORTED,
        timestamp(_root_password_last_used(account.id), NO_INFORMATION),
        NOT_SUPPORTED,
        NOT_SUPPORTED,
        boolean(mfa),
        *_key_columns(keys, 0),
        *_key_columns(keys, 1),
        *_no_certificates(),
    ]


def _user_row(user: IamUser, policy: PasswordPolicy | None, keys: Sequence[AccessKey], mfa: bool) -> list[str]:
    profile = getattr(user, "login_profile", None)
    if user.password_last_used is not None:
        last_used = timestamp(user.password_last_used)
    else:
        last_used = NO_INFORMATION if profile is not None else NA
    return [
        user.name,
        user.arn,
        timestamp(user.created_at),
        boolean(profile is not None),
        last_used,
        timestamp(profile.password_changed_at) if profile else NA,
        timestamp(password_expires_at(profile, policy)) if profile else NA,
        boolean(mfa),
        *_key_columns(keys, 0),
        *_key_columns(keys, 1),
        *_no_certificates(),
    ]


def _group_keys(keys: Iterable[AccessKey]) -> dict[int | None, list[AccessKey]]:
    grouped: dict[int | None, list[AccessKey]] = {}
    for key in keys:
        grouped.setdefault(key.user_id, []).append(key)
    return grouped


def render_csv(account_id: str) -> str:
    """The report's CSV for one account: the root row, then every IAM user by name. A constant number of queries."""
    account = Account.objects.get(pk=account_id)
    policy = PasswordPolicy.objects.filter(account_id=account_id).first()
    keys = _group_keys(AccessKey.objects.in_account(account_id).order_by("created_at", "pk"))
    mfa_owners = set(
        MfaDevice.objects.in_account(account_id).filter(enabled_at__isnull=False).values_list("user_id", flat=True)
    )
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    writer.writerow(_root_row(account, keys.get(None, []), None in mfa_owners))
    for user in IamUser.objects.in_account(account_id).select_related("login_profile").order_by("name"):
        writer.writerow(_user_row(user, policy, keys.get(user.pk, []), user.pk in mfa_owners))
    return out.getvalue()


# ---- the build (run by identities.tasks.build_credential_report) --------------------------------------------


def build(account_id: str) -> bool:
    """STARTED → INPROGRESS → COMPLETE. False when there was nothing to build (another task took it)."""
    if not CredentialReport.objects.filter(account_id=account_id, state=STARTED).update(state=INPROGRESS):
        return False
    content = render_csv(account_id)
    return bool(
        CredentialReport.objects.filter(account_id=account_id, state=INPROGRESS).update(
            state=COMPLETE, content=content, generated_at=clock.now()
        )
    )
