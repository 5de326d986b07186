"""IAM Query API handlers for account settings: password policy, account alias, credential report
(service functions in identities.account_settings)."""

from __future__ import annotations

from typing import Any

from awsapi.dispatch import operation
from awsapi.handlers import shapes
from core.context import CallContext
from identities import account_settings as settings

P = dict[str, Any]


@operation("iam", "UpdateAccountPasswordPolicy")
def update_account_password_policy(ctx: CallContext, p: P) -> None:
    settings.update_account_password_policy(
        ctx,
        minimum_password_length=p.get("MinimumPasswordLength"),
        require_symbols=p.get("RequireSymbols", False),
        require_numbers=p.get("RequireNumbers", False),
        require_uppercase_characters=p.get("RequireUppercaseCharacters", False),
        require_lowercase_characters=p.get("RequireLowercaseCharacters", False),
        allow_users_to_change_password=p.get("AllowUsersToChangePassword", False),
        max_password_age=p.get("MaxPasswordAge"),
        password_reuse_prevention=p.get("PasswordReusePrevention"),
        hard_expiry=p.get("HardExpiry", False),
    )


@operation("iam", "GetAccountPasswordPolicy")
def get_account_password_policy(ctx: CallContext, p: P) -> P:
    return {"PasswordPolicy": settings.password_policy_shape(settings.get_account_password_policy(ctx))}


@operation("iam", "DeleteAccountPasswordPolicy")
def delete_account_password_policy(ctx: CallContext, p: P) -> None:
    settings.delete_account_password_policy(ctx)


@operation("iam", "CreateAccountAlias")
def create_account_alias(ctx: CallContext, p: P) -> None:
    settings.create_account_alias(ctx, account_alias=p.get("AccountAlias"))


@operation("iam", "DeleteAccountAlias")
def delete_account_alias(ctx: CallContext, p: P) -> None:
    settings.delete_account_alias(ctx, account_alias=p.get("AccountAlias"))


@operation("iam", "ListAccountAliases")
def list_account_aliases(ctx: CallContext, p: P) -> P:
    return shapes.page(settings.list_account_aliases(ctx), p, "AccountAliases")


@operation("iam", "GenerateCredentialReport")
def generate_credential_report(ctx: CallContext, p: P) -> P:
    state = settings.generate_credential_report(ctx)
    return {"State": state.state, "Description": state.description}


@operation("iam", "GetCredentialReport")
def get_credential_report(ctx: CallContext, p: P) -> P:
    report = settings.get_credential_report(ctx)
    return {
        "Content": report.content.encode(),
        "ReportFormat": report.report_format,
        "GeneratedTime": report.generated_time,
    }
