"""Console-only operations: accounts, root sign-in and the ConsoleLogin audit events."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from audit.services import build_record, save_record
from core import clock, ids
from core.context import CallContext, Principal
from core.errors import EntityAlreadyExists, InvalidInput
from core.passwords import dummy_verify, hash_password, verify_password
from identities.models import Account

SIGNIN_SOURCE = "signin.amazonaws.com"


class SignInFailed(Exception):
    """Shown to the visitor as AWS does, without saying which part was wrong."""

    message = "Your authentication information is incorrect. Please try again."


def create_account(*, email: str, password: str, account_id: str | None = None, alias: str | None = None,
                   name: str = "") -> Account:
    """A new AWS account with its root user (used by the launcher's seed, management commands and classes)."""
    account_id = account_id or ids.new_account_id()
    if len(account_id) != 12 or not account_id.isdigit():
        raise InvalidInput("The account ID must be exactly 12 digits.")
    try:
        with transaction.atomic():
            return Account.objects.create(id=account_id, root_email=email.strip().lower(),
                                          root_password_hash=hash_password(password), alias=alias or None,
                                          name=name or email.split("@")[0], created_at=clock.now())
    except IntegrityError:
        raise EntityAlreadyExists(f"An account with ID {account_id} or root email {email} already exists.") from None


def _signin_record(ctx: CallContext, *, success: bool, mfa_used: bool = False) -> None:
    record = build_record(
        ctx, event_source=SIGNIN_SOURCE, event_name="ConsoleLogin", event_type="AwsConsoleSignIn",
        response_elements={"ConsoleLogin": "Success" if success else "Failure"},
        error_message="" if success else "Failed authentication",
        additional={"LoginTo": "/", "MobileVersion": "No", "MFAUsed": "Yes" if mfa_used else "No"},
    )
    record.pop("sessionCredentialFromConsole", None)
    if not success:
        record["errorMessage"] = "Failed authentication"
    save_record(ctx, record)


def sign_in_root(*, email: str, password: str, source_ip: str, user_agent: str) -> Account:
    account = Account.objects.filter(root_email=email.strip().lower()).first()
    if account is None:
        dummy_verify(password)  # same cost as a real check: no account enumeration by timing
        raise SignInFailed()
    ctx = CallContext(Principal.root(account.id), source_ip=source_ip, user_agent=user_agent, origin="console")
    if not verify_password(account.root_password_hash, password):
        _signin_record(ctx, success=False)
        raise SignInFailed()
    _signin_record(ctx, success=True)
    return account
