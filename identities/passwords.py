"""Password rules: the account's password policy (custom, or the IAM default of reference §1.10), password reuse,
password expiry, and generated console passwords.

Every place that sets an IAM user's console password (CreateLoginProfile, UpdateLoginProfile, ChangePassword and
the console's forms) calls ``check_password_policy`` first and ``remember_password`` after, so the policy and the
reuse history hold whichever door the password came through. The policy never applies to root.
"""

from __future__ import annotations

import secrets
import string
from datetime import datetime, timedelta
from typing import Literal

from core import clock
from core.errors import PasswordPolicyViolation
from core.passwords import verify_password
from identities.models import Account, IamUser, LoginProfile, PasswordHistory, PasswordPolicy

SYMBOLS = "!@#$%^&*()_+-=[]{}|'"
DEFAULT_MIN_LENGTH = 8
MAX_REMEMBERED = 24  # PasswordReusePrevention's upper bound: no more history is ever needed
VIOLATION = "Password does not conform to the account password policy"

# What the sign-in page says when an expired password needs an administrator (HardExpiry).
HARD_EXPIRED_MESSAGE = (
    "Your password has expired. Your account's password policy requires an administrator to reset it: "
    "contact your administrator."
)

SignInPasswordState = Literal["valid", "expired", "hard_expired"]


# ---- the policy in force -------------------------------------------------------------------------------------


def account_password_policy(account_id: str) -> PasswordPolicy | None:
    """The account's custom policy, or None when the IAM default applies."""
    return PasswordPolicy.objects.filter(account_id=account_id).first()


def implicit_password_permissions(account_id: str) -> bool:
    """True when the policy's AllowUsersToChangePassword is on: every IAM user of the account may then call
    ``iam:ChangePassword`` on their own user ARN and ``iam:GetAccountPasswordPolicy`` without any IAM policy."""
    return PasswordPolicy.objects.filter(account_id=account_id, allow_users_to_change_password=True).exists()


# ---- checking a new password ---------------------------------------------------------------------------------


def _has_upper(password: str) -> bool:
    return any(c.isupper() for c in password)


def _has_lower(password: str) -> bool:
    return any(c.islower() for c in password)


def _has_number(password: str) -> bool:
    return any(c.isdigit() for c in password)


def _has_symbol(password: str) -> bool:
    return any(c in SYMBOLS or not c.isalnum() for c in password)


def _classes(password: str) -> int:
    return sum((_has_upper(password), _has_lower(password), _has_number(password), _has_symbol(password)))


def _default_problems(account_id: str, password: str, user: IamUser | None) -> list[str]:
    problems = []
    if len(password) < DEFAULT_MIN_LENGTH:
        problems.append(f"Password should have at least {DEFAULT_MIN_LENGTH} characters")
    if _classes(password) < 3:
        problems.append(
            "Password should include at least three of these character types: uppercase letters, "
            "lowercase letters, numbers and non-alphanumeric characters"
        )
    account = Account.objects.filter(pk=account_id).values("name", "root_email").first()
    lowered = password.lower()
    if account and lowered in {account["name"].lower(), account["root_email"].lower()} - {""}:
        problems.append("Password should not be the same as the account name or email address")
    if user is not None and lowered == user.name.lower():
        problems.append("Password should not be the same as the user name")
    return problems


def _custom_problems(policy: PasswordPolicy, password: str) -> list[str]:
    problems = []
    if len(password) < policy.minimum_password_length:
        problems.append(f"Password should have at least {policy.minimum_password_length} characters")
    if policy.require_uppercase_characters and not _has_upper(password):
        problems.append("Password should have at least one uppercase letter (A-Z)")
    if policy.require_lowercase_characters and not _has_lower(password):
        problems.append("Password should have at least one lowercase letter (a-z)")
    if policy.require_numbers and not _has_number(password):
        problems.append("Password should have at least one number (0-9)")
    if policy.require_symbols and not _has_symbol(password):
        problems.append(f"Password should have at least one non-alphanumeric character ({' '.join(SYMBOLS)})")
    return problems


def _remembered_hashes(user: IamUser, count: int) -> list[str]:
    """The user's ``count`` most recent passwords, the current one first.

    The current password counts even when its history row is missing (it was set before the policy existed).
    """
    hashes: list[str] = []
    current = LoginProfile.objects.filter(user=user).values_list("password_hash", flat=True).first()
    if current:
        hashes.append(current)
    for password_hash in (
        PasswordHistory.objects.filter(user=user)
        .order_by("-created_at", "-pk")
        .values_list("password_hash", flat=True)[:count]
    ):
        if password_hash not in hashes:
            hashes.append(password_hash)
    return hashes[:count]


def _reused(policy: PasswordPolicy, password: str, user: IamUser | None) -> bool:
    if user is None or not policy.password_reuse_prevention:
        return False
    return any(verify_password(h, password) for h in _remembered_hashes(user, policy.password_reuse_prevention))


def check_password_policy(account_id: str, password: str, *, user: IamUser | None = None) -> None:
    """Raise PasswordPolicyViolation when ``password`` breaks the account's password policy.

    With a custom policy: its length, character classes and (for a known ``user``) reuse prevention. Without one:
    the IAM default (8+ characters, 3 of 4 character classes, not the account name or email).
    """
    policy = account_password_policy(account_id)
    if policy is None:
        problems = _default_problems(account_id, password, user)
    else:
        problems = _custom_problems(policy, password)
        if _reused(policy, password, user):
            n = policy.password_reuse_prevention
            problems.append(
                "Password has been used before: it can't be one of the last "
                f"{n} password{'s' if n != 1 else ''} of this user"
            )
    if problems:
        raise PasswordPolicyViolation(f"{VIOLATION}: " + "; ".join(problems) + ".")


# ---- history -------------------------------------------------------------------------------------------------


def remember_password(user: IamUser, password_hash: str) -> None:
    """Record a password the user has just been given (any door), for PasswordReusePrevention.

    Call it inside the same transaction that stores the hash; only the newest 24 are kept.
    """
    PasswordHistory.objects.create(user=user, password_hash=password_hash, created_at=clock.now())
    stale = (
        PasswordHistory.objects.filter(user=user)
        .order_by("-created_at", "-pk")
        .values_list("pk", flat=True)[MAX_REMEMBERED:]
    )
    stale_pks = list(stale)
    if stale_pks:
        PasswordHistory.objects.filter(pk__in=stale_pks).delete()


# ---- expiry --------------------------------------------------------------------------------------------------


def password_expires_at(profile: LoginProfile, policy: PasswordPolicy | None) -> datetime | None:
    """When the password expires under ``policy`` (None: never). MaxPasswordAge applies at once to old passwords."""
    if policy is None or not policy.max_password_age:
        return None
    return profile.password_changed_at + timedelta(days=policy.max_password_age)


def password_expired(profile: LoginProfile, policy: PasswordPolicy | None, now: datetime | None = None) -> bool:
    expires_at = password_expires_at(profile, policy)
    return expires_at is not None and (now or clock.now()) >= expires_at


def sign_in_password_state(profile: LoginProfile, *, now: datetime | None = None) -> SignInPasswordState:
    """What an IAM user's correct password allows at console sign-in.

    ``valid``: sign in. ``expired``: sign in, but the password must be changed first (as with a required reset).
    ``hard_expired``: refuse the sign-in; only an administrator can set a new password (HardExpiry).
    """
    policy = account_password_policy(profile.user.account_id)
    if not password_expired(profile, policy, now):
        return "valid"
    return "hard_expired" if policy is not None and policy.hard_expiry else "expired"


# ---- generated passwords -------------------------------------------------------------------------------------


def generate_password(length: int = 16) -> str:
    """A random password with every character class, so it passes any password policy of that length."""
    pools = [string.ascii_uppercase, string.ascii_lowercase, string.digits, SYMBOLS]
    chars = [secrets.choice(pool) for pool in pools]
    everything = "".join(pools)
    chars += [secrets.choice(everything) for _ in range(length - len(chars))]
    secrets.SystemRandom().shuffle(chars)
    return "".join(chars)
