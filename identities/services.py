"""IAM identity operations (users, login profiles, groups, memberships, tags, boundaries).

Each public function is one AWS action, named as boto3 names it, and runs inside ``iam_call``.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import models
from django.db.models import CASCADE, Count, F, Prefetch, QuerySet

from core import arns, clock, ids, page_reads
from core.calls import Call, authorize, iam_call
from core.context import CallContext
from core.db import fetch_prepared, instance_from_row
from core.errors import (
    AccessDenied,
    DeleteConflict,
    EntityAlreadyExists,
    InvalidInput,
    LimitExceeded,
    NoSuchEntity,
    ValidationError,
)
from core.passwords import hash_password, verify_password
from core.validation import check_input
from identities.models import (
    AccessKey,
    Account,
    Group,
    GroupMembership,
    IamUser,
    InstanceProfile,
    LoginProfile,
    MfaDevice,
    OpenIdConnectProvider,
    Role,
    SamlProvider,
    ServerCertificate,
)
from identities.passwords import check_password_policy, remember_password
from policies.models import GroupPolicyAttachment, ManagedPolicy, RolePolicyAttachment, UserPolicyAttachment
from sts.models import TemporaryCredential

GROUPS_PER_USER = 10
TAGS_PER_RESOURCE = 50


@dataclass(frozen=True, slots=True)
class Tag:
    key: str
    value: str = ""

    def as_dict(self) -> dict[str, str]:
        return {"Key": self.key, "Value": self.value}


# ---- lookups (raise AWS's NoSuchEntity wording) -------------------------------------------------------------


def find_user(account_id: str, user_name: str) -> IamUser:
    user = _user_or_none(account_id, user_name)
    if user is None:
        raise NoSuchEntity(f"The user with name {user_name} cannot be found.")
    return user


# Nearly every user operation reads the user by name, usually twice (for the ARN to authorize, then in the call):
# one prepared statement (core/db.py) instead of an ORM query saves ~0.5 ms of SQL compilation and planning each.
_USER_SQL: list[str] = []


def _user_sql() -> str:
    if not _USER_SQL:
        user_cols = ", ".join(f"u.{f.column}" for f in IamUser._meta.concrete_fields)
        policy_cols = ", ".join(f"p.{f.column}" for f in ManagedPolicy._meta.concrete_fields)
        _USER_SQL.append(
            f"SELECT {user_cols}, {policy_cols} FROM {IamUser._meta.db_table} u "
            f"LEFT JOIN {ManagedPolicy._meta.db_table} p ON p.id = u.permissions_boundary_id "
            "WHERE u.account_id = %(account)s AND LOWER(u.name) = %(name)s"
        )
    return _USER_SQL[0]


def _user_or_none(account_id: str, user_name: str) -> IamUser | None:
    """The user (with its permissions boundary) named ``user_name``, case-insensitively, or None; read once per
    console page (``core.page_reads``)."""
    name = user_name.lower()
    return page_reads.shared(("user", account_id, name), lambda: _read_user(account_id, name))


def _read_user(account_id: str, name: str) -> IamUser | None:
    rows = fetch_prepared(_user_sql(), {"account": account_id, "name": name})
    if not rows:
        return None
    width = len(IamUser._meta.concrete_fields)
    user = instance_from_row(IamUser, rows[0][:width])
    boundary = rows[0][width:]
    user.permissions_boundary = instance_from_row(ManagedPolicy, boundary) if user.permissions_boundary_id else None
    return user


def find_group(account_id: str, group_name: str) -> Group:
    group = Group.objects.in_account(account_id).named(group_name).first()
    if group is None:
        raise NoSuchEntity(f"The group with name {group_name} cannot be found.")
    return group


USER_NAME_MAX = 64
GROUP_NAME_MAX = 128


def user_arn(ctx: CallContext, user_name: str) -> str:
    """The ARN a call about ``user_name`` is authorized against (with the real path when the user exists).

    A name longer than any user's can't exist: it is cut to the maximum so the ARN stays a valid resource for
    authorization and the audit record, and the call then fails validation or lookup as AWS's does.
    """
    if len(user_name) > USER_NAME_MAX:
        return arns.user(ctx.account_id, "/", user_name[:USER_NAME_MAX])
    user = _user_or_none(ctx.account_id, user_name)
    return user.arn if user else arns.user(ctx.account_id, "/", user_name)


def group_arn(ctx: CallContext, group_name: str) -> str:
    if len(group_name) > GROUP_NAME_MAX:
        return arns.group(ctx.account_id, "/", group_name[:GROUP_NAME_MAX])
    group = Group.objects.in_account(ctx.account_id).named(group_name).only("arn").first()
    return group.arn if group else arns.group(ctx.account_id, "/", group_name)


# ---- tags ---------------------------------------------------------------------------------------------------


def check_tags(tags: Sequence[Tag]) -> None:
    keys = [t.key.lower() for t in tags]
    if len(set(keys)) != len(keys):
        raise InvalidInput("Duplicate tag keys found. Please note that Tag keys are case insensitive.")


def merge_tags(existing: list[dict[str, str]], new: Sequence[Tag], owner: str) -> list[dict[str, str]]:
    """TagX semantics: same key (case-insensitively) overwrites, others append; at most 50 in all."""
    check_tags(new)
    merged = {t["Key"].lower(): t for t in existing}
    for tag in new:
        merged[tag.key.lower()] = tag.as_dict()
    if len(merged) > TAGS_PER_RESOURCE:
        raise LimitExceeded(f"The number of tags has reached the maximum limit of {TAGS_PER_RESOURCE} for {owner}.")
    return list(merged.values())


def _tag_params(tags: Sequence[Tag]) -> list[dict[str, str]] | None:
    return [t.as_dict() for t in tags] or None


# ---- users --------------------------------------------------------------------------------------------------


def create_user(
    ctx: CallContext,
    *,
    user_name: str,
    path: str = "/",
    tags: Sequence[Tag] = (),
    permissions_boundary: str | None = None,
) -> IamUser:
    arn = arns.user(ctx.account_id, path or "/", user_name)
    params = {
        "userName": user_name,
        "path": path if path != "/" else None,
        "tags": _tag_params(tags),
        "permissionsBoundary": permissions_boundary,
    }
    # AWS puts the requested boundary in the request context, for conditions that delegate user creation.
    boundary_context = {"iam:PermissionsBoundary": permissions_boundary} if permissions_boundary else None
    with iam_call(ctx, "iam:CreateUser", arn, params, condition_context=boundary_context) as call:
        check_input(
            "iam",
            "CreateUser",
            UserName=user_name,
            Path=path,
            Tags=[t.as_dict() for t in tags] or None,
            PermissionsBoundary=permissions_boundary,
        )
        check_tags(tags)
        # A taken name fails the INSERT on the unique index (iam_call turns that into on_conflict, after the
        # rollback); only with a boundary to check first is it looked up, so that it is still the error reported.
        call.on_conflict = EntityAlreadyExists(f"User with name {user_name} already exists.")
        boundary = None
        if permissions_boundary:
            if IamUser.objects.in_account(ctx.account_id).named(user_name).exists():
                raise call.on_conflict
            boundary = attachable_policy(ctx.account_id, permissions_boundary)
        now = clock.now()
        user = IamUser(
            account_id=ctx.account_id,
            user_id=ids.new_id("AIDA"),
            name=user_name,
            path=path,
            arn=arn,
            created_at=now,
            tags=[t.as_dict() for t in tags],
            permissions_boundary=boundary,
        )
        _insert_user(user, call)
        call.response = {
            "user": {
                "path": path,
                "userName": user_name,
                "userId": user.user_id,
                "arn": arn,
                "createDate": now.strftime("%b %d, %Y, %-I:%M:%S %p"),
            }
        }
        return user


_INSERT_USER: list[str] = []


def _insert_user(user: IamUser, call: Call) -> None:
    """``user.save()`` as one prepared INSERT (CreateUser is a hot path of scripts creating a class's users),
    deferred to the end of the call: the answer does not depend on it (a taken name fails the call after the
    rollback), so it travels with the audit row and the COMMIT. ``user.pk`` is set once the call has run."""
    fields = [f for f in IamUser._meta.concrete_fields if not f.primary_key]
    if not _INSERT_USER:
        casts = {"tags": "::jsonb"}
        _INSERT_USER.append(
            f"INSERT INTO {IamUser._meta.db_table} ({', '.join(f.column for f in fields)}) VALUES ("
            + ", ".join(f"%s{casts.get(f.column, '')}" for f in fields)
            + ") RETURNING id"
        )
    values = [json.dumps(user.tags) if f.attname == "tags" else getattr(user, f.attname) for f in fields]

    def inserted(rows: list[tuple]) -> None:
        ((user.pk,),) = rows
        user._state.adding = False

    call.defer(_INSERT_USER[0], values, inserted)


def get_user(ctx: CallContext, *, user_name: str) -> IamUser:
    # A read: the row read for the ARN to authorize is the answer (one read of the user, not two).
    user = _user_or_none(ctx.account_id, user_name) if len(user_name) <= USER_NAME_MAX else None
    with iam_call(ctx, "iam:GetUser", user.arn if user else user_arn(ctx, user_name), {"userName": user_name}):
        if user is None:
            raise NoSuchEntity(f"The user with name {user_name} cannot be found.")
        return user


def get_root_user(ctx: CallContext) -> Account:
    """GetUser with no UserName by a caller that is not an IAM user: root describes itself (its account row gives
    the creation date); any other caller must name a user, as AWS answers. Authorized and recorded either way."""
    with iam_call(ctx, "iam:GetUser", ctx.principal.arn, {}):
        if not ctx.principal.is_root:
            raise ValidationError("Must specify userName when calling with non-User credentials")
        return Account.objects.get(pk=ctx.account_id)


def list_user_tags(ctx: CallContext, *, user_name: str) -> list[dict[str, str]]:
    """ListUserTags: decided under its own action (a principal may read a user's tags and not the user)."""
    with iam_call(ctx, "iam:ListUserTags", user_arn(ctx, user_name), {"userName": user_name}):
        check_input("iam", "ListUserTags", UserName=user_name)
        return list(find_user(ctx.account_id, user_name).tags)


def list_users(ctx: CallContext, *, path_prefix: str = "/") -> QuerySet[IamUser]:
    """Users with what the list page shows, in a constant number of queries."""
    with iam_call(
        ctx,
        "iam:ListUsers",
        arns.account_wildcard(ctx.account_id, "user"),
        {"pathPrefix": path_prefix if path_prefix != "/" else None},
    ):
        check_input("iam", "ListUsers", PathPrefix=path_prefix)
        return _users_listed().in_account(ctx.account_id).filter(path__startswith=path_prefix)


_USERS_LISTED: list[QuerySet[IamUser]] = []


def _users_listed() -> QuerySet[IamUser]:
    """What every users list selects, built once. Never evaluated itself; each call filters a copy. The Groups
    column is the stored ``IamUser.group_count`` (indexed with the account), so sorting by it reads no membership."""
    if not _USERS_LISTED:
        _USERS_LISTED.append(IamUser.objects.select_related("login_profile").order_by("name"))
    return _USERS_LISTED[0]


def delete_user(ctx: CallContext, *, user_name: str) -> None:
    """The API's DeleteUser: refuses while subordinate entities remain (the console removes them first)."""
    # The user, the ARN to authorize against and every DeleteConflict condition: one query, read before the call
    # as user_arn reads the ARN (the conflicts are reported only once the caller is allowed).
    rows = (
        fetch_prepared(_delete_check_sql(), {"account": ctx.account_id, "name": user_name.lower()})
        if len(user_name) <= USER_NAME_MAX
        else []
    )
    arn = rows[0][1] if rows else arns.user(ctx.account_id, "/", user_name[:USER_NAME_MAX])
    with iam_call(ctx, "iam:DeleteUser", arn, {"userName": user_name}) as call:
        if not rows:
            raise NoSuchEntity(f"The user with name {user_name} cannot be found.")
        user_pk, _, *conflicts = rows[0]
        for (_, message), conflict in zip(_DELETE_CONFLICTS, conflicts, strict=True):
            if conflict:
                raise DeleteConflict(message)
        _delete_user_rows(user_pk, call)


# What DeleteUser refuses to delete, in the order AWS reports it: (a condition on the user's rows, the message).
_DELETE_CONFLICTS = (
    ("{loginprofile} WHERE user_id = u.id", "Cannot delete entity, must delete login profile first."),
    ("{accesskey} WHERE user_id = u.id", "Cannot delete entity, must delete access keys first."),
    (
        "{mfadevice} WHERE user_id = u.id AND enabled_at IS NOT NULL",
        "Cannot delete entity, must delete MFA device first.",
    ),
    ("{inlinepolicy} WHERE user_id = u.id", "Cannot delete entity, must delete policies first."),
    ("{userpolicyattachment} WHERE user_id = u.id", "Cannot delete entity, must detach all policies first."),
    ("{groupmembership} WHERE user_id = u.id", "Cannot delete entity, must remove users from group first."),
    ("{sshpublickey} WHERE user_id = u.id", "Cannot delete entity, must delete SSH public keys first."),
    ("{signingcertificate} WHERE user_id = u.id", "Cannot delete entity, must delete signing certificates first."),
    (
        "{servicespecificcredential} WHERE user_id = u.id",
        "Cannot delete entity, must delete service-specific credentials first.",
    ),
)
_DELETE_SQL: dict[str, str] = {}


def _delete_check_sql() -> str:
    """The user and every DeleteConflict condition in one prepared query (it was seven queries)."""
    if "check" not in _DELETE_SQL:
        tables = {r.related_model._meta.model_name: r.related_model._meta.db_table for r in _dependents(IamUser)}
        checks = ", ".join(f"EXISTS (SELECT 1 FROM {where.format(**tables)})" for where, _ in _DELETE_CONFLICTS)
        _DELETE_SQL["check"] = (
            f"SELECT u.id, u.arn, {checks} FROM {IamUser._meta.db_table} u "
            "WHERE u.account_id = %(account)s AND LOWER(u.name) = %(name)s"
        )
    return _DELETE_SQL["check"]


def _dependents(model: type[models.Model]) -> list:  # type: ignore[type-arg]
    """Every relation whose rows go with a deleted row of ``model`` (Django's collector follows the same ones): the
    reverse one-to-many and one-to-one relations, hidden ones included (public ``_meta.get_fields``)."""
    return [
        f
        for f in model._meta.get_fields(include_hidden=True)
        if (f.one_to_many or f.one_to_one) and f.auto_created and not f.concrete
    ]


def _delete_user_rows(user_pk: int, call: Call) -> None:
    """Delete the user and its dependent rows (password history, MFA devices not yet enabled, its GetSessionToken
    credentials and what hangs off them, …; its role sessions stay, see ``_detach_role_sessions``) in one statement
    of data-modifying CTEs instead of the collector's one DELETE per table.

    Deferred to the end of the call (it travels with the audit row and the COMMIT): nothing in the answer depends
    on it; a concurrent DeleteUser of the same user succeeds too, the user being gone either way. Falls back to the
    ORM, at once, if a relation is not a plain cascade, or reaches more than two tables deep."""
    if "delete" not in _DELETE_SQL:
        dependents = _dependents(IamUser)
        simple = all(
            r.on_delete is CASCADE
            and all(x.on_delete is CASCADE and not _dependents(x.related_model) for x in _dependents(r.related_model))
            for r in dependents
        )
        ctes = []
        for i, r in enumerate(dependents):
            table, column = r.related_model._meta.db_table, r.field.column
            # A user's GetSessionToken credentials go; its role sessions outlive it (disjoint rows: one statement).
            kept = " AND kind <> %(role)s" if r.related_model is TemporaryCredential else ""
            for j, x in enumerate(_dependents(r.related_model)):  # the rows that hang off the deleted ones
                key = x.field.target_field.column
                ctes.append(
                    f"g{i}_{j} AS (DELETE FROM {x.related_model._meta.db_table} WHERE {x.field.column} IN "
                    f"(SELECT {key} FROM {table} WHERE {column} = %(pk)s{kept}))"
                )
            if kept:
                ctes.append(f"k{i} AS (UPDATE {table} SET {column} = NULL WHERE {column} = %(pk)s AND kind = %(role)s)")
            ctes.append(f"d{i} AS (DELETE FROM {table} WHERE {column} = %(pk)s{kept})")
        _DELETE_SQL["delete"] = (
            f"WITH {', '.join(ctes)} DELETE FROM {IamUser._meta.db_table} WHERE id = %(pk)s RETURNING id"
            if simple
            else ""
        )
    if not _DELETE_SQL["delete"]:
        _detach_role_sessions(user_pk)
        IamUser.objects.filter(pk=user_pk).delete()
        return
    call.defer(_DELETE_SQL["delete"], {"pk": user_pk, "role": TemporaryCredential.KIND_ROLE}, lambda rows: None)


def _detach_role_sessions(user_pk: int) -> None:
    """A role session a user started stays valid until it expires when the user is deleted, as in AWS: its
    permissions are the role's, and temporary credentials cannot be revoked (only denied, with "Revoke active
    sessions"). It just forgets who started it; its source ARN stays. The user's GetSessionToken credentials,
    which act as the user, end with it."""
    TemporaryCredential.objects.filter(user_id=user_pk, kind=TemporaryCredential.KIND_ROLE).update(user=None)


def update_user(
    ctx: CallContext, *, user_name: str, new_user_name: str | None = None, new_path: str | None = None
) -> IamUser:
    with iam_call(
        ctx,
        "iam:UpdateUser",
        user_arn(ctx, user_name),
        {"userName": user_name, "newUserName": new_user_name, "newPath": new_path},
    ) as call:
        check_input("iam", "UpdateUser", UserName=user_name, NewUserName=new_user_name, NewPath=new_path)
        user = find_user(ctx.account_id, user_name)
        name = new_user_name or user.name
        call.on_conflict = EntityAlreadyExists(f"User with name {name} already exists.")
        if (
            new_user_name
            and new_user_name.lower() != user.name.lower()
            and IamUser.objects.in_account(ctx.account_id).named(new_user_name).exists()
        ):
            raise call.on_conflict
        user.name, user.path = name, new_path or user.path
        user.arn = arns.user(ctx.account_id, user.path, user.name)
        user.save(update_fields=["name", "path", "arn"])
        return user


def tag_user(ctx: CallContext, *, user_name: str, tags: Sequence[Tag]) -> None:
    with iam_call(ctx, "iam:TagUser", user_arn(ctx, user_name), {"userName": user_name, "tags": _tag_params(tags)}):
        check_input("iam", "TagUser", UserName=user_name, Tags=[t.as_dict() for t in tags])
        user = find_user(ctx.account_id, user_name)
        user.tags = merge_tags(user.tags, tags, "user")
        user.save(update_fields=["tags"])


def untag_user(ctx: CallContext, *, user_name: str, tag_keys: Sequence[str]) -> None:
    with iam_call(ctx, "iam:UntagUser", user_arn(ctx, user_name), {"userName": user_name, "tagKeys": list(tag_keys)}):
        check_input("iam", "UntagUser", UserName=user_name, TagKeys=list(tag_keys))
        user = find_user(ctx.account_id, user_name)
        drop = {k.lower() for k in tag_keys}
        user.tags = [t for t in user.tags if t["Key"].lower() not in drop]
        user.save(update_fields=["tags"])


def attachable_policy(account_id: str, policy_arn: str) -> ManagedPolicy:
    policy = ManagedPolicy.objects.visible_to(account_id).filter(arn=policy_arn).first()
    if policy is None:
        raise NoSuchEntity(f"Policy {policy_arn} does not exist or is not attachable.")
    return policy


def put_user_permissions_boundary(ctx: CallContext, *, user_name: str, permissions_boundary: str) -> None:
    with iam_call(
        ctx,
        "iam:PutUserPermissionsBoundary",
        user_arn(ctx, user_name),
        {"userName": user_name, "permissionsBoundary": permissions_boundary},
        condition_context={"iam:PermissionsBoundary": permissions_boundary},
    ):
        check_input("iam", "PutUserPermissionsBoundary", UserName=user_name, PermissionsBoundary=permissions_boundary)
        user = find_user(ctx.account_id, user_name)
        user.permissions_boundary = attachable_policy(ctx.account_id, permissions_boundary)
        user.save(update_fields=["permissions_boundary"])


def delete_user_permissions_boundary(ctx: CallContext, *, user_name: str) -> None:
    with iam_call(ctx, "iam:DeleteUserPermissionsBoundary", user_arn(ctx, user_name), {"userName": user_name}):
        user = find_user(ctx.account_id, user_name)
        user.permissions_boundary = None
        user.save(update_fields=["permissions_boundary"])


# ---- login profiles -----------------------------------------------------------------------------------------


def _own_user_name(ctx: CallContext, user_name: str | None) -> str | None:
    """Login-profile calls without UserName are about the caller, when the caller is an IAM user (AWS: "If no user
    name is included, it defaults to the principal making the request")."""
    if user_name is None and ctx.principal.type == "IAMUser":
        return ctx.principal.name
    return user_name


def _login_profile_arn(ctx: CallContext, user_name: str | None) -> str:
    return user_arn(ctx, user_name) if user_name is not None else ctx.principal.arn


def _require_user_name(user_name: str | None) -> str:
    if user_name is None:  # root (outside an AssumeRoot session) or a role session
        raise ValidationError("Must specify userName when calling with non-User credentials")
    return user_name


def create_login_profile(
    ctx: CallContext, *, user_name: str | None, password: str, password_reset_required: bool = False
) -> LoginProfile:
    user_name = _own_user_name(ctx, user_name)
    # requestParameters never carry the password (reference §5.1).
    with iam_call(
        ctx,
        "iam:CreateLoginProfile",
        _login_profile_arn(ctx, user_name),
        {"userName": user_name, "passwordResetRequired": password_reset_required},
    ):
        user_name = _require_user_name(user_name)
        check_input("iam", "CreateLoginProfile", UserName=user_name, Password=password)
        user = find_user(ctx.account_id, user_name)
        if LoginProfile.objects.filter(user=user).exists():
            raise EntityAlreadyExists(f"Login Profile for user {user.name} already exists.")

        check_password_policy(ctx.account_id, password, user=user)
        now = clock.now()
        profile = LoginProfile.objects.create(
            user=user,
            password_hash=hash_password(password),
            password_reset_required=password_reset_required,
            created_at=now,
            password_changed_at=now,
        )
        remember_password(user, profile.password_hash)
        return profile


def update_login_profile(
    ctx: CallContext, *, user_name: str, password: str | None = None, password_reset_required: bool | None = None
) -> None:
    with iam_call(
        ctx,
        "iam:UpdateLoginProfile",
        user_arn(ctx, user_name),
        {"userName": user_name, "passwordResetRequired": password_reset_required},
    ):
        check_input("iam", "UpdateLoginProfile", UserName=user_name, Password=password)
        user = find_user(ctx.account_id, user_name)
        profile = LoginProfile.objects.filter(user=user).first()
        if profile is None:
            raise NoSuchEntity(f"Login Profile for User {user.name} cannot be found.")
        if password is not None:
            check_password_policy(ctx.account_id, password, user=user)
            profile.password_hash = hash_password(password)
            profile.password_changed_at = clock.now()
            remember_password(user, profile.password_hash)
        if password_reset_required is not None:
            profile.password_reset_required = password_reset_required
        profile.save()


def get_login_profile(ctx: CallContext, *, user_name: str | None) -> LoginProfile:
    user_name = _own_user_name(ctx, user_name)
    with iam_call(ctx, "iam:GetLoginProfile", _login_profile_arn(ctx, user_name), {"userName": user_name}):
        user = find_user(ctx.account_id, _require_user_name(user_name))
        profile = LoginProfile.objects.filter(user=user).first()
        if profile is None:
            raise NoSuchEntity(f"Login Profile for User {user.name} cannot be found.")
        return profile


def delete_login_profile(ctx: CallContext, *, user_name: str | None) -> None:
    user_name = _own_user_name(ctx, user_name)
    with iam_call(ctx, "iam:DeleteLoginProfile", _login_profile_arn(ctx, user_name), {"userName": user_name}):
        user = find_user(ctx.account_id, _require_user_name(user_name))
        deleted, _ = LoginProfile.objects.filter(user=user).delete()
        if not deleted:
            raise NoSuchEntity(f"Login Profile for User {user.name} cannot be found.")


# ---- groups -------------------------------------------------------------------------------------------------


def create_group(ctx: CallContext, *, group_name: str, path: str = "/") -> Group:
    arn = arns.group(ctx.account_id, path or "/", group_name)
    with iam_call(
        ctx, "iam:CreateGroup", arn, {"groupName": group_name, "path": path if path != "/" else None}
    ) as call:
        check_input("iam", "CreateGroup", GroupName=group_name, Path=path)
        call.on_conflict = EntityAlreadyExists(f"Group with name {group_name} already exists.")
        if Group.objects.in_account(ctx.account_id).named(group_name).exists():
            raise call.on_conflict
        group = Group.objects.create(
            account_id=ctx.account_id,
            group_id=ids.new_id("AGPA"),
            name=group_name,
            path=path,
            arn=arn,
            created_at=clock.now(),
        )
        call.response = {"group": {"path": path, "groupName": group_name, "groupId": group.group_id, "arn": arn}}
        return group


def get_group(ctx: CallContext, *, group_name: str) -> Group:
    with iam_call(ctx, "iam:GetGroup", group_arn(ctx, group_name), {"groupName": group_name}):
        return find_group(ctx.account_id, group_name)


def list_groups(ctx: CallContext, *, path_prefix: str = "/") -> QuerySet[Group]:
    with iam_call(
        ctx,
        "iam:ListGroups",
        arns.account_wildcard(ctx.account_id, "group"),
        {"pathPrefix": path_prefix if path_prefix != "/" else None},
    ):
        check_input("iam", "ListGroups", PathPrefix=path_prefix)
        return (
            Group.objects.in_account(ctx.account_id)
            .filter(path__startswith=path_prefix)
            .annotate(
                user_count=Count("memberships", distinct=True),
                attached_count=Count("policy_attachments", distinct=True),
                inline_count=Count("inline_policies", distinct=True),
            )
            .order_by("name")
        )


def list_groups_for_user(ctx: CallContext, *, user_name: str) -> list[Group]:
    with iam_call(ctx, "iam:ListGroupsForUser", user_arn(ctx, user_name), {"userName": user_name}):
        user = find_user(ctx.account_id, user_name)
        return list(
            Group.objects.filter(memberships__user=user)
            .prefetch_related(Prefetch("policy_attachments"))
            .order_by("name")
        )


def delete_group(ctx: CallContext, *, group_name: str) -> None:
    with iam_call(ctx, "iam:DeleteGroup", group_arn(ctx, group_name), {"groupName": group_name}):
        group = find_group(ctx.account_id, group_name)
        if group.memberships.exists():
            raise DeleteConflict("Cannot delete entity, must remove users from group first.")
        if group.inline_policies.exists():
            raise DeleteConflict("Cannot delete entity, must delete policies first.")
        if group.policy_attachments.exists():
            raise DeleteConflict("Cannot delete entity, must detach all policies first.")
        group.delete()


def add_user_to_group(ctx: CallContext, *, group_name: str, user_name: str) -> None:
    with iam_call(
        ctx, "iam:AddUserToGroup", group_arn(ctx, group_name), {"groupName": group_name, "userName": user_name}
    ):
        check_input("iam", "AddUserToGroup", GroupName=group_name, UserName=user_name)
        group = find_group(ctx.account_id, group_name)
        user = find_user(ctx.account_id, user_name)
        # Lock the user row so two concurrent adds cannot both pass the quota check.
        IamUser.objects.select_for_update().filter(pk=user.pk).first()
        if GroupMembership.objects.filter(group=group, user=user).exists():
            return  # AWS treats adding an existing member as success
        if GroupMembership.objects.filter(user=user).count() >= GROUPS_PER_USER:
            raise LimitExceeded(f"Cannot exceed quota for GroupsPerUser: {GROUPS_PER_USER}")
        GroupMembership.objects.create(account_id=ctx.account_id, group=group, user=user, created_at=clock.now())
        IamUser.objects.filter(pk=user.pk).update(group_count=F("group_count") + 1)


def remove_user_from_group(ctx: CallContext, *, group_name: str, user_name: str) -> None:
    with iam_call(
        ctx, "iam:RemoveUserFromGroup", group_arn(ctx, group_name), {"groupName": group_name, "userName": user_name}
    ):
        group = find_group(ctx.account_id, group_name)
        user = find_user(ctx.account_id, user_name)
        deleted, _ = GroupMembership.objects.filter(group=group, user=user).delete()
        if not deleted:
            raise NoSuchEntity(f"The user with name {user.name} cannot be found in group {group.name}.")
        IamUser.objects.filter(pk=user.pk).update(group_count=F("group_count") - deleted)


def update_group(
    ctx: CallContext, *, group_name: str, new_group_name: str | None = None, new_path: str | None = None
) -> Group:
    """Rename and/or move a group. Memberships, attachments and inline policies hang off the row, so they follow.

    AWS requires iam:UpdateGroup on both the old and the new group ARN ("Renaming users and groups")."""
    params = {"groupName": group_name, "newGroupName": new_group_name, "newPath": new_path}
    with iam_call(ctx, "iam:UpdateGroup", group_arn(ctx, group_name), params) as call:
        check_input("iam", "UpdateGroup", GroupName=group_name, NewGroupName=new_group_name, NewPath=new_path)
        group = Group.objects.in_account(ctx.account_id).named(group_name).select_for_update().first()
        if group is None:
            raise NoSuchEntity(f"The group with name {group_name} cannot be found.")
        name, path = new_group_name or group.name, new_path or group.path
        new_arn = arns.group(ctx.account_id, path, name)
        if new_arn != group.arn:
            authorize(ctx, "iam:UpdateGroup", new_arn, {})
        call.on_conflict = EntityAlreadyExists(f"Group with name {name} already exists.")
        if name.lower() != group.name.lower() and Group.objects.in_account(ctx.account_id).named(name).exists():
            raise call.on_conflict
        group.name, group.path, group.arn = name, path, new_arn
        group.save(update_fields=["name", "path", "arn"])
        return group


CHANGE_PASSWORD_POLICY_ARN = "arn:aws:iam::aws:policy/IAMUserChangePassword"


SUMMARY_QUOTAS = {
    "UsersQuota": 5000,
    "GroupsQuota": 300,
    "RolesQuota": 1000,
    "PoliciesQuota": 1500,
    "InstanceProfilesQuota": 1000,
    "ServerCertificatesQuota": 20,
    "GroupsPerUserQuota": 10,
    "AttachedPoliciesPerUserQuota": 10,
    "AttachedPoliciesPerGroupQuota": 10,
    "AttachedPoliciesPerRoleQuota": 10,
    "AccessKeysPerUserQuota": 2,
    "SigningCertificatesPerUserQuota": 2,
    "VersionsPerPolicyQuota": 5,
    "PolicyVersionsInUseQuota": 10000,
    "PolicySizeQuota": 6144,
    "UserPolicySizeQuota": 2048,
    "GroupPolicySizeQuota": 5120,
    "RolePolicySizeQuota": 10240,
    "AssumeRolePolicySizeQuota": 2048,
}


def get_account_summary(ctx: CallContext) -> dict[str, int]:
    """Every key of AWS's SummaryMap: the account's usage, its quotas (reference §2.2-2.3) and the root user's
    credentials as 1/0 flags."""
    with iam_call(ctx, "iam:GetAccountSummary", "*"):
        sql, keys = _summary_sql()
        [row] = fetch_prepared(sql, {"account": ctx.account_id})
        return {
            **SUMMARY_QUOTAS,
            **dict(zip(keys, (int(value) for value in row), strict=True)),
            "AccountSigningCertificatesPresent": 0,  # no signing certificates for root
            "GlobalEndpointTokenVersion": 1,  # v1 tokens: SetSecurityTokenServicePreferences is not implemented
        }


@functools.cache
def _summary_sql() -> tuple[str, tuple[str, ...]]:
    """The account's usage in one statement (the console's home page asks for it on every visit; sixteen ORM
    queries cost it about 5 ms)."""

    def count(model: Any, where: str = "") -> str:
        return f"(SELECT count(*) FROM {model._meta.db_table} WHERE account_id = %(account)s{where})"

    def present(model: Any, where: str) -> str:
        return f"(EXISTS (SELECT 1 FROM {model._meta.db_table} WHERE account_id = %(account)s AND {where}))::int"

    attachments = (UserPolicyAttachment, GroupPolicyAttachment, RolePolicyAttachment)
    columns = {
        "Users": count(IamUser),
        "Groups": count(Group),
        "Roles": count(Role),
        "Policies": count(ManagedPolicy),  # customer managed: AWS managed policies belong to no account
        "InstanceProfiles": count(InstanceProfile),
        "Providers": f"{count(SamlProvider)} + {count(OpenIdConnectProvider)}",
        "ServerCertificates": count(ServerCertificate),
        "MFADevices": count(MfaDevice),
        "MFADevicesInUse": count(MfaDevice, " AND enabled_at IS NOT NULL"),
        # Each attachment puts the policy's default version in use (as moto and AWS's quota count them).
        "PolicyVersionsInUse": " + ".join(count(model) for model in attachments),
        "AccountMFAEnabled": present(MfaDevice, "user_id IS NULL AND enabled_at IS NOT NULL"),
        "AccountAccessKeysPresent": present(AccessKey, "user_id IS NULL"),
        "AccountPasswordPresent": (
            f"(EXISTS (SELECT 1 FROM {Account._meta.db_table} WHERE id = %(account)s"
            " AND root_password_hash <> ''))::int"
        ),
    }
    return "SELECT " + ", ".join(columns.values()), tuple(columns)


def change_password(ctx: CallContext, *, old_password: str, new_password: str) -> None:
    """ChangePassword: an IAM user changes their own console password."""
    principal = ctx.principal
    if principal.type != "IAMUser" or principal.user_pk is None:
        raise AccessDenied("Only IAM users can change their password with ChangePassword.")
    with iam_call(ctx, "iam:ChangePassword", principal.arn, {}):
        check_input("iam", "ChangePassword", OldPassword=old_password, NewPassword=new_password)
        profile = LoginProfile.objects.select_for_update().filter(user_id=principal.user_pk).first()
        if profile is None:
            raise NoSuchEntity(f"Login Profile for User {principal.name} cannot be found.")
        if not verify_password(profile.password_hash, old_password):
            raise InvalidInput("The old password was incorrect.")

        check_password_policy(ctx.account_id, new_password, user=profile.user)
        profile.password_hash = hash_password(new_password)
        profile.password_changed_at = clock.now()
        profile.password_reset_required = False
        profile.save(update_fields=["password_hash", "password_changed_at", "password_reset_required"])
        remember_password(profile.user, profile.password_hash)
