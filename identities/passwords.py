"""Password rules: the IAM default policy (reference §1.10) and generated console passwords."""

from __future__ import annotations

import secrets
import string

from core.errors import PasswordPolicyViolation
from identities.models import IamUser

SYMBOLS = "!@#$%^&*()_+-=[]{}|'"
DEFAULT_MIN_LENGTH = 8


def _classes(password: str) -> int:
    return sum(
        (
            any(c.isupper() for c in password),
            any(c.islower() for c in password),
            any(c.isdigit() for c in password),
            any(c in SYMBOLS or not c.isalnum() for c in password),
        )
    )


def check_password_policy(account_id: str, password: str, *, user: IamUser | None = None) -> None:
    """Raise PasswordPolicyViolation when ``password`` breaks the account's password policy."""
    problems = []
    if len(password) < DEFAULT_MIN_LENGTH:
        problems.append(f"Password should have at least {DEFAULT_MIN_LENGTH} characters")
    if _classes(password) < 3:
        problems.append(
            "Password should include at least three of these character types: uppercase letters, "
            "lowercase letters, numbers and non-alphanumeric characters"
        )
    if user is not None and password.lower() in (user.name.lower(),):
        problems.append("Password should not be the same as the user name")
    if problems:
        raise PasswordPolicyViolation("Password does not conform to the account password policy: " + "; ".join(problems) + ".")


def generate_password(length: int = 16) -> str:
    """A random password with every character class, so it passes any password policy of that length."""
    pools = [string.ascii_uppercase, string.ascii_lowercase, string.digits, SYMBOLS]
    chars = [secrets.choice(pool) for pool in pools]
    everything = "".join(pools)
    chars += [secrets.choice(everything) for _ in range(length - len(chars))]
    secrets.SystemRandom().shuffle(chars)
    return "".join(chars)
