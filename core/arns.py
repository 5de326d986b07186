"""ARN builders for IAM and STS resources (reference §3.5). IAM ARNs have no Region; paths are kept in ARNs."""

from __future__ import annotations

PARTITION = "aws"


def _iam(account_id: str, kind: str, path: str, name: str) -> str:
    return f"arn:{PARTITION}:iam::{account_id}:{kind}{path}{name}"


def user(account_id: str, path: str, name: str) -> str:
    return _iam(account_id, "user", path, name)


def group(account_id: str, path: str, name: str) -> str:
    return _iam(account_id, "group", path, name)


def role(account_id: str, path: str, name: str) -> str:
    return _iam(account_id, "role", path, name)


def policy(account_id: str, path: str, name: str) -> str:
    return _iam(account_id, "policy", path, name)


def aws_managed_policy(path: str, name: str) -> str:
    return _iam("aws", "policy", path, name)


def instance_profile(account_id: str, path: str, name: str) -> str:
    return _iam(account_id, "instance-profile", path, name)


def server_certificate(account_id: str, path: str, name: str) -> str:
    return _iam(account_id, "server-certificate", path, name)


def mfa_device(account_id: str, name: str) -> str:
    return f"arn:{PARTITION}:iam::{account_id}:mfa/{name}"


def root(account_id: str) -> str:
    return f"arn:{PARTITION}:iam::{account_id}:root"


def assumed_role(account_id: str, role_name: str, session_name: str) -> str:
    # The role's path is left out of the session ARN, as AWS does.
    return f"arn:{PARTITION}:sts::{account_id}:assumed-role/{role_name}/{session_name}"


def account_wildcard(account_id: str, kind: str) -> str:
    """The resource for account-wide list actions, e.g. ``arn:aws:iam::123456789012:user/*``."""
    return f"arn:{PARTITION}:iam::{account_id}:{kind}/*"


def parse_policy_arn(arn: str) -> tuple[str, str, str] | None:
    """``arn:aws:iam::ACCOUNT:policy/path/Name`` → (account, path, name); None when it is not a policy ARN."""
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn" or parts[2] != "iam" or not parts[5].startswith("policy/"):
        return None
    rest = parts[5][len("policy") :]
    path, _, name = rest.rpartition("/")
    if not name:
        return None
    return parts[4], path + "/", name
