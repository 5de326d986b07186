"""Model objects → the dicts botocore's output shapes describe (the serializer turns them into XML)."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from core.errors import IamError, InvalidInput, ValidationError


class InvalidParameterValue(IamError):
    code, status = "InvalidParameterValue", 400  # STS's name for InvalidInput


def refuse(params: dict[str, Any], *names: str, service: str = "iam", allowed: Any = None) -> None:
    """Refuse the members this product does not implement, when set (to anything but ``allowed``): a parameter is
    honoured or refused, never silently ignored."""
    values = {name: params.get(name) for name in names}
    for name, value in values.items():
        if value is not None and value != allowed and value is not False:
            error = (InvalidInput if service == "iam" else InvalidParameterValue)(
                f"The parameter {name} is not supported by this IAM Classroom endpoint."
            )
            error.unsupported_member = name  # type: ignore[attr-defined]  # for the parameter walk's test
            raise error


def tags(items: list[dict[str, str]]) -> list[dict[str, str]]:
    return [{"Key": t["Key"], "Value": t.get("Value", "")} for t in items]


tags_of = tags  # for functions whose keyword argument is named ``tags``


def boundary(policy: Any) -> dict[str, str] | None:
    if policy is None:
        return None
    return {"PermissionsBoundaryType": "PermissionsBoundaryPolicy", "PermissionsBoundaryArn": policy.arn}


def user(u: Any, *, full: bool = False) -> dict[str, Any]:
    out = {"Path": u.path, "UserName": u.name, "UserId": u.user_id, "Arn": u.arn, "CreateDate": u.created_at}
    if u.password_last_used:
        out["PasswordLastUsed"] = u.password_last_used
    if full:
        out["PermissionsBoundary"] = boundary(u.permissions_boundary)
        out["Tags"] = tags(u.tags) or None
    return out


USER_COLUMNS = ("path", "name", "user_id", "arn", "created_at", "password_last_used")


def user_row(u: dict[str, Any]) -> dict[str, Any]:
    """``user`` of a ``.values(*USER_COLUMNS)`` row (lists read no more than their output shape shows)."""
    out = {
        "Path": u["path"],
        "UserName": u["name"],
        "UserId": u["user_id"],
        "Arn": u["arn"],
        "CreateDate": u["created_at"],
    }
    if u["password_last_used"]:
        out["PasswordLastUsed"] = u["password_last_used"]
    return out


def group(g: Any) -> dict[str, Any]:
    return {"Path": g.path, "GroupName": g.name, "GroupId": g.group_id, "Arn": g.arn, "CreateDate": g.created_at}


def role(r: Any, *, full: bool = False) -> dict[str, Any]:
    out = {
        "Path": r.path,
        "RoleName": r.name,
        "RoleId": r.role_id,
        "Arn": r.arn,
        "CreateDate": r.created_at,
        "AssumeRolePolicyDocument": quote(r.assume_role_policy),
        "MaxSessionDuration": r.max_session_duration,
    }
    if r.description:
        out["Description"] = r.description
    if full:
        out["PermissionsBoundary"] = boundary(r.permissions_boundary)
        out["Tags"] = tags(r.tags) or None
        # AWS sends an empty RoleLastUsed for a role never used, else when and in which region it last was.
        out["RoleLastUsed"] = {}
        if r.last_used_at:
            out["RoleLastUsed"] = {"LastUsedDate": r.last_used_at, "Region": r.last_used_region or None}
    return out


def policy(p: Any, counts: tuple[int, int], *, description: bool = False, tags: bool = False) -> dict[str, Any]:
    """A managed policy. ``counts``: (AttachmentCount, PermissionsBoundaryUsageCount) in the caller's account.
    As AWS: GetPolicy alone carries Description, and Tags (``[]`` when none); ListPolicies carries neither."""
    out = {
        "PolicyName": p.name,
        "PolicyId": p.policy_id,
        "Arn": p.arn,
        "Path": p.path,
        "DefaultVersionId": p.default_version_id,
        "AttachmentCount": counts[0],
        "PermissionsBoundaryUsageCount": counts[1],
        "IsAttachable": True,
        "CreateDate": p.created_at,
        "UpdateDate": p.updated_at,
    }
    if description and p.description:
        out["Description"] = p.description
    if tags:
        out["Tags"] = tags_of(p.tags)
    return out


def version(v: Any, *, document: bool = True) -> dict[str, Any]:
    out = {"VersionId": v.version_id, "IsDefaultVersion": v.is_default, "CreateDate": v.created_at}
    if document:
        out["Document"] = quote(v.document)
    return out


def instance_profile(p: Any) -> dict[str, Any]:
    return {
        "Path": p.path,
        "InstanceProfileName": p.name,
        "InstanceProfileId": p.instance_profile_id,
        "Arn": p.arn,
        "CreateDate": p.created_at,
        "Roles": [role(r) for r in p.roles.all()],
        "Tags": tags(p.tags) or None,
    }


def page(items: Sequence[Any], params: dict[str, Any], key: str) -> dict[str, Any]:
    """Marker/MaxItems pagination over a list: ``{key: [...], "IsTruncated": bool, "Marker"?: str}``."""
    max_items = params.get("MaxItems")
    if max_items is None:
        max_items = 100
    if not 1 <= max_items <= 1000:  # IAM's maxItemsType: min 1, max 1000
        bound = "greater than or equal to 1" if max_items < 1 else "less than or equal to 1000"
        raise ValidationError(
            f"1 validation error detected: Value '{max_items}' at 'maxItems' failed to satisfy "
            f"constraint: Member must have value {bound}"
        )
    start = 0
    if params.get("Marker"):
        try:
            start = int(base64.urlsafe_b64decode(params["Marker"].encode()).decode())
        except ValueError:
            raise ValidationError("Invalid Marker.") from None
    chunk = list(items[start : start + max_items + 1])
    truncated = len(chunk) > max_items
    out: dict[str, Any] = {key: chunk[:max_items], "IsTruncated": truncated}
    if truncated:
        out["Marker"] = base64.urlsafe_b64encode(str(start + max_items).encode()).decode()
    return out
