"""Account-level IAM actions: the password policy, the account alias and the credential report.

Each public function is one AWS action, named as boto3 names it, and runs inside ``iam_call`` (authorize →
validate → change → audit). Account-level actions are authorized against resource ``*``, as AWS does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction

from core import clock
from core.calls import iam_call
from core.context import CallContext
from core.errors import EntityAlreadyExists, InvalidInput, NoSuchEntity
from core.validation import check_input
from identities.credential_report import (
    COMPLETE,
    INPROGRESS,
    REPORT_TTL,
    STALE_AFTER,
    STARTED,
    ReportExpired,
    ReportInProgress,
    ReportNotPresent,
)
from identities.models import Account, CredentialReport, PasswordPolicy
from identities.tasks import build_credential_report

DEFAULT_MINIMUM_PASSWORD_LENGTH = 6  # the API's default when MinimumPasswordLength is omitted

# ---- password policy -----------------------------------------------------------------------------------------


def password_policy_shape(policy: PasswordPolicy) -> dict[str, Any]:
    """GetAccountPasswordPolicy's ``PasswordPolicy`` structure (AWS member names)."""
    shape: dict[str, Any] = {
        "MinimumPasswordLength": policy.minimum_password_length,
        "RequireSymbols": policy.require_symbols,
        "RequireNumbers": policy.require_numbers,
        "RequireUppercaseCharacters": policy.require_uppercase_characters,
        "RequireLowercaseCharacters": policy.require_lowercase_characters,
        "AllowUsersToChangePassword": policy.allow_users_to_change_password,
        "ExpirePasswords": bool(policy.max_password_age),
    }
    if policy.max_password_age:
        shape["MaxPasswordAge"] = policy.max_password_age
    if policy.password_reuse_prevention:
        shape["PasswordReusePrevention"] = policy.password_reuse_prevention
    shape["HardExpiry"] = policy.hard_expiry
    return shape


def update_account_password_policy(
    ctx: CallContext,
    *,
    minimum_password_length: int | None = None,
    require_symbols: bool = False,
    require_numbers: bool = False,
    require_uppercase_characters: bool = False,
    require_lowercase_characters: bool = False,
    allow_users_to_change_password: bool = False,
    max_password_age: int | None = None,
    password_reuse_prevention: int | None = None,
    hard_expiry: bool = False,
) -> PasswordPolicy:
    """Replace the whole custom policy: every omitted field reverts to its default (no partial updates)."""
    params = {
        "minimumPasswordLength": minimum_password_length,
        "requireSymbols": require_symbols,
        "requireNumbers": require_numbers,
        "requireUppercaseCharacters": require_uppercase_characters,
        "requireLowercaseCharacters": require_lowercase_characters,
        "allowUsersToChangePassword": allow_users_to_change_password,
        "maxPasswordAge": max_password_age,
        "passwordReusePrevention": password_reuse_prevention,
        "hardExpiry": hard_expiry,
    }
    with iam_call(ctx, "iam:UpdateAccountPasswordPolicy", "*", params):
        check_input(
            "iam",
            "UpdateAccountPasswordPolicy",
            MinimumPasswordLength=minimum_password_length,
            MaxPasswordAge=max_password_age,
            PasswordReusePrevention=password_reuse_prevention,
        )
        policy, _ = PasswordPolicy.objects.update_or_create(
            account_id=ctx.account_id,
            defaults={
                "minimum_password_length": minimum_password_length or DEFAULT_MINIMUM_PASSWORD_LENGTH,
                "require_symbols": bool(require_symbols),
                "require_numbers": bool(require_numbers),
                "require_uppercase_characters": bool(require_uppercase_characters),
                "require_lowercase_characters": bool(require_lowercase_characters),
                "allow_users_to_change_password": bool(allow_users_to_change_password),
                "max_password_age": max_password_age or None,
                "password_reuse_prevention": password_reuse_prevention or None,
                "hard_expiry": bool(hard_expiry),
            },
        )
        return policy


def _no_policy(account_id: str) -> NoSuchEntity:
    return NoSuchEntity(f"The Password Policy with domain name {account_id} cannot be found.")


def get_account_password_policy(ctx: CallContext) -> PasswordPolicy:
    with iam_call(ctx, "iam:GetAccountPasswordPolicy", "*"):
        policy = PasswordPolicy.objects.filter(account_id=ctx.account_id).first()
        if policy is None:
            raise _no_policy(ctx.account_id)
        return policy


def delete_account_password_policy(ctx: CallContext) -> None:
    """Back to the IAM default policy."""
    with iam_call(ctx, "iam:DeleteAccountPasswordPolicy", "*"):
        deleted, _ = PasswordPolicy.objects.filter(account_id=ctx.account_id).delete()
        if not deleted:  # AWS's Delete words it differently from its Get (_no_policy)
            raise NoSuchEntity("The account policy with name PasswordPolicy cannot be found.")


# ---- account alias -------------------------------------------------------------------------------------------


def _check_alias(account_alias: str, operation: str) -> None:
    check_input("iam", operation, AccountAlias=account_alias)  # 3–63, lowercase, no edge or double hyphen
    if len(account_alias) == 12 and account_alias.isdigit():
        raise InvalidInput("The account alias can't be a 12-digit number: it would read as an account ID.")


def create_account_alias(ctx: CallContext, *, account_alias: str) -> None:
    """Give the account its (single) alias; an account that has one gets the new one in its place.

    Aliases are unique across every account. The IAM users' sign-in URL becomes ``/signin/<alias>``.
    """
    with iam_call(ctx, "iam:CreateAccountAlias", "*", {"accountAlias": account_alias}) as call:
        _check_alias(account_alias, "CreateAccountAlias")
        call.on_conflict = EntityAlreadyExists(f"The account alias {account_alias} already exists.")
        if Account.objects.filter(alias=account_alias).exists():
            raise call.on_conflict
        # A concurrent create of the same alias loses to the unique index, and iam_call turns that into on_conflict.
        Account.objects.filter(pk=ctx.account_id).update(alias=account_alias)


def delete_account_alias(ctx: CallContext, *, account_alias: str) -> None:
    with iam_call(ctx, "iam:DeleteAccountAlias", "*", {"accountAlias": account_alias}):
        check_input("iam", "DeleteAccountAlias", AccountAlias=account_alias)
        if not Account.objects.filter(pk=ctx.account_id, alias=account_alias).update(alias=None):
            raise NoSuchEntity(f"The account alias {account_alias} cannot be found.")


def list_account_aliases(ctx: CallContext) -> list[str]:  # at most one: the handler pages it all the same
    with iam_call(ctx, "iam:ListAccountAliases", "*"):
        alias = Account.objects.filter(pk=ctx.account_id).values_list("alias", flat=True).first()
        return [alias] if alias else []


# ---- credential report ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportState:
    """GenerateCredentialReport's answer."""

    state: str  # STARTED | INPROGRESS | COMPLETE
    description: str


def _enqueue_build(account_id: str) -> None:
    build_credential_report.delay(account_id)


def generate_credential_report(ctx: CallContext) -> ReportState:
    """Start a report unless a fresh one (under 4 hours old) exists or one is being built.

    The build runs in a Celery task enqueued once this transaction commits. A build that has not finished after
    a few minutes (the worker or Redis was down) is started again by the next call.
    """
    with iam_call(ctx, "iam:GenerateCredentialReport", "*") as call:
        now = clock.now()
        report, created = CredentialReport.objects.select_for_update().get_or_create(
            account_id=ctx.account_id, defaults={"state": STARTED, "requested_at": now}
        )
        if created:
            answer = ReportState(STARTED, "No report exists. Starting a new report generation task")
        elif report.state == COMPLETE and report.generated_at and now - report.generated_at < REPORT_TTL:
            answer = ReportState(COMPLETE, "The most recent report is less than 4 hours old; it is returned.")
        elif report.state != COMPLETE and now - report.requested_at < STALE_AFTER:
            return _answer(call, ReportState(INPROGRESS, "A report generation task is already in progress."))
        else:
            report.state, report.requested_at = STARTED, now
            report.save(update_fields=["state", "requested_at"])
            answer = ReportState(STARTED, "Starting a new report generation task")
        if answer.state == STARTED:
            transaction.on_commit(lambda: _enqueue_build(ctx.account_id), robust=True)
        return _answer(call, answer)


def _answer(call: Any, answer: ReportState) -> ReportState:
    call.response = {"state": answer.state, "description": answer.description}
    return answer


@dataclass(frozen=True)
class Report:
    """GetCredentialReport's answer: the CSV text, its format and when it was generated."""

    content: str
    generated_time: datetime
    report_format: str = "text/csv"

    @property
    def filename(self) -> str:
        return f"status_reports_{self.generated_time.strftime('%Y-%m-%dT%H_%M_%S')}.csv"


def get_credential_report(ctx: CallContext) -> Report:
    with iam_call(ctx, "iam:GetCredentialReport", "*"):
        report = CredentialReport.objects.filter(account_id=ctx.account_id).first()
        if report is None:
            raise ReportNotPresent(
                "The credential report does not exist. To generate one, use GenerateCredentialReport."
            )
        if report.state != COMPLETE or report.generated_at is None:
            raise ReportInProgress("The credential report is still being generated.")
        if clock.now() - report.generated_at >= REPORT_TTL:
            raise ReportExpired(
                "The most recent credential report has expired. To generate a new one, use GenerateCredentialReport."
            )
        return Report(report.content, report.generated_at)


def credential_report_status(ctx: CallContext) -> CredentialReport | None:
    """The report row as the console's progress poll shows it (not audited: the page polls every second)."""
    with iam_call(ctx, "iam:GenerateCredentialReport", "*", audited=False):
        return CredentialReport.objects.filter(account_id=ctx.account_id).defer("content").first()
