"""Console-only operations: accounts, root sign-in and the ConsoleLogin audit events."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import IntegrityError, transaction

from audit.services import build_record, save_record
from console import throttle
from core import clock, ids
from core.context import CallContext, Principal
from core.errors import EntityAlreadyExists, InvalidInput
from core.passwords import dummy_verify, hash_password, verify_password
from identities import credentials
from identities.models import Account, IamUser, LoginProfile, MfaDevice
from identities.passwords import HARD_EXPIRED_MESSAGE, sign_in_password_state

SIGNIN_SOURCE = "signin.amazonaws.com"


class SignInFailed(Exception):
    """Shown to the visitor as AWS does, without saying which part was wrong."""

    message = "Your authentication information is incorrect. Please try again."


class SignInPasswordExpired(SignInFailed):
    """HardExpiry: the password has expired and only an administrator can set a new one."""

    message = HARD_EXPIRED_MESSAGE


class SignInLocked(SignInFailed):
    message = "Too many failed sign-in attempts. Sign-in for this user is locked for a while; try again later."


HIDDEN_USER = "HIDDEN_DUE_TO_SECURITY_REASONS"


@dataclass(frozen=True)
class UserSignIn:
    account: Account
    user: IamUser
    password_reset_required: bool


def resolve_account(account_id_or_alias: str) -> Account | None:
    value = (
        account_id_or_alias.strip().replace("-", "")
        if account_id_or_alias.strip().replace("-", "").isdigit()
        else account_id_or_alias.strip().lower()
    )
    if value.isdigit():
        return Account.objects.filter(pk=value).first()
    return Account.objects.filter(alias=value).first() if value else None


def user_principal(user: IamUser, *, mfa_at=None) -> Principal:
    return Principal(
        "IAMUser",
        user.account_id,
        user.arn,
        user.name,
        user.user_id,
        user_pk=user.pk,
        mfa_authenticated=mfa_at is not None,
        mfa_authenticated_at=mfa_at,
    )


def create_account(
    *, email: str, password: str, account_id: str | None = None, alias: str | None = None, name: str = ""
) -> Account:
    """A new AWS account with its root user (used by the launcher's seed, management commands and classes)."""
    account_id = account_id or ids.new_account_id()
    if len(account_id) != 12 or not account_id.isdigit():
        raise InvalidInput("The account ID must be exactly 12 digits.")
    try:
        with transaction.atomic():
            return Account.objects.create(
                id=account_id,
                root_email=email.strip().lower(),
                root_password_hash=hash_password(password),
                alias=alias or None,
                name=name or email.split("@")[0],
                created_at=clock.now(),
            )
    except IntegrityError:
        raise EntityAlreadyExists(f"An account with ID {account_id} or root email {email} already exists.") from None


def _signin_record(
    ctx: CallContext, *, success: bool, mfa_used: bool = False, locked: bool = False, mfa_identifier: str = ""
) -> None:
    additional = {"LoginTo": "/", "MobileVersion": "No", "MFAUsed": "Yes" if mfa_used else "No"}
    if mfa_identifier:
        additional["MFAIdentifier"] = mfa_identifier
    if locked:
        additional["LockedOut"] = "Yes"
    record = build_record(
        ctx,
        event_source=SIGNIN_SOURCE,
        event_name="ConsoleLogin",
        event_type="AwsConsoleSignIn",
        response_elements={"ConsoleLogin": "Success" if success else "Failure"},
        additional=additional,
    )
    record.pop("sessionCredentialFromConsole", None)
    if not success:
        record["errorMessage"] = "Failed authentication"
    identity = record["userIdentity"]
    if identity.get("userName") == HIDDEN_USER:  # unknown user: AWS reveals neither ARN nor ID
        identity.pop("arn", None)
        identity.pop("principalId", None)
    save_record(ctx, record)


def sign_in_root(*, email: str, password: str, source_ip: str, user_agent: str) -> Account:
    account = Account.objects.filter(root_email=email.strip().lower()).first()
    if account is None:
        dummy_verify(password)  # same cost as a real check: no account enumeration by timing
        raise SignInFailed()
    ctx = CallContext(Principal.root(account.id), source_ip=source_ip, user_agent=user_agent, origin="console")
    if throttle.is_locked(account.id, "<root>", source_ip):
        _signin_record(ctx, success=False, locked=True)
        raise SignInLocked()
    if not verify_password(account.root_password_hash, password):
        locked = throttle.record_failure(account.id, "<root>", source_ip)
        _signin_record(ctx, success=False, locked=locked)
        raise SignInFailed()
    throttle.clear(account.id, "<root>")
    if not mfa_required(account.id, None):
        _signin_record(ctx, success=True)  # with MFA, ConsoleLogin is recorded once the code is checked
    return account


def sign_in_user(*, account: str, user_name: str, password: str, source_ip: str, user_agent: str) -> UserSignIn:
    """IAM-user console sign-in (account ID or alias + user name + password), throttled per user and address."""
    target = resolve_account(account)
    if target is None:
        dummy_verify(password)
        raise SignInFailed()
    user = IamUser.objects.in_account(target.id).named(user_name.strip()).first() if user_name.strip() else None
    principal = user_principal(user) if user is not None else Principal("IAMUser", target.id, "", HIDDEN_USER, "")
    ctx = CallContext(principal, source_ip=source_ip, user_agent=user_agent, origin="console")
    if throttle.is_locked(target.id, user_name, source_ip):
        _signin_record(ctx, success=False, locked=True)
        raise SignInLocked()
    profile = LoginProfile.objects.filter(user=user).first() if user is not None else None
    if profile is None:
        dummy_verify(password)
    if profile is None or not verify_password(profile.password_hash, password):
        locked = throttle.record_failure(target.id, user_name, source_ip)
        _signin_record(ctx, success=False, locked=locked)
        raise SignInFailed()
    throttle.clear(target.id, user_name)
    password_state = sign_in_password_state(profile)  # MaxPasswordAge / HardExpiry of the account's policy
    if password_state == "hard_expired":
        _signin_record(ctx, success=False)
        raise SignInPasswordExpired()
    if not mfa_required(target.id, user):
        # With MFA, the password counts as used (and ConsoleLogin is recorded) once the code is checked.
        _password_used(user)
        _signin_record(ctx, success=True)
    return UserSignIn(target, user, profile.password_reset_required or password_state == "expired")


def mfa_required(account_id: str, user: IamUser | None) -> bool:
    """Whether sign-in asks for an MFA code after the password (root when ``user`` is None)."""
    return bool(credentials.sign_in_mfa_devices(account_id, user))


def complete_mfa_sign_in(
    *, account_id: str, user_pk: int | None, code: str, source_ip: str, user_agent: str
) -> MfaDevice:
    """The second sign-in step: a current code of one of the principal's enabled MFA devices, each code once.

    Records the ConsoleLogin event (``MFAUsed: "Yes"`` and ``MFAIdentifier`` on success), throttled like passwords.
    """
    account = Account.objects.get(pk=account_id)
    user = IamUser.objects.in_account(account_id).filter(pk=user_pk).first() if user_pk is not None else None
    if user_pk is not None and user is None:
        raise SignInFailed()  # the user was deleted between the two steps
    principal = user_principal(user) if user is not None else Principal.root(account_id)
    ctx = CallContext(principal, source_ip=source_ip, user_agent=user_agent, origin="console")
    who = user.name if user is not None else "<root>"
    if throttle.is_locked(account_id, who, source_ip):
        _signin_record(ctx, success=False, mfa_used=True, locked=True)
        raise SignInLocked()
    device = credentials.check_sign_in_mfa(account, user, code.strip(), clock.now())
    if device is None:
        locked = throttle.record_failure(account_id, who, source_ip)
        _signin_record(ctx, success=False, mfa_used=True, locked=locked)
        raise SignInFailed()
    throttle.clear(account_id, who)
    if user is not None:
        _password_used(user)
    _signin_record(ctx, success=True, mfa_used=True, mfa_identifier=device.serial_number)
    return device


def _password_used(user: IamUser) -> None:
    """The user's "Console last sign-in" (PasswordLastUsed): set only when a sign-in completes."""
    user.password_last_used = clock.now()
    user.save(update_fields=["password_last_used"])
