"""The authorization gathering query (``policies.authz``: one UNION ALL over the policy tables, on every decision and,
composed with the access key's lookup, on every Query API call) read against a plain ORM reading of the same
principal, on varied data that Hypothesis draws: users with groups, inline and managed policies (several versions,
one default), permissions boundaries and tags; roles with sessions (session policy, policy ARNs); root; an
organization with OUs and SCPs at each level; and a second account with same-named entities that must never show.

What is compared: the query's rows (from the decision's own query and from the access-key query), and what a
decision is built from (policies with their documents, boundary, session policies, SCP levels, tags, role ARN)."""

from __future__ import annotations

import itertools
import json
from datetime import timedelta
from typing import Any

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from awsapi.auth import key_rows
from classroom.models import (
    OrgAccount,
    Organization,
    OrganizationalUnit,
    OrgRoot,
    PolicyAttachment,
    ServiceControlPolicy,
)
from core import clock, ids
from core.context import Principal
from identities.models import AccessKey, Account, Group, GroupMembership, IamUser, Role
from policies import authz
from policies.engine import LabelledPolicy, parse_policy
from policies.models import (
    GroupPolicyAttachment,
    InlinePolicy,
    ManagedPolicy,
    PolicyVersion,
    RolePolicyAttachment,
    UserPolicyAttachment,
)
from sts.models import TemporaryCredential

_serial = itertools.count()


def _document(sid: str, kind: str = "identity") -> str:
    statement: dict[str, Any] = {"Sid": sid, "Effect": "Allow", "Action": f"s3:Get{sid}", "Resource": "*"}
    if kind == "trust":
        statement = {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def _sid() -> str:
    return f"S{next(_serial)}"


# ---- the data ---------------------------------------------------------------------------------------------------
subset = st.lists(st.booleans(), min_size=4, max_size=4)  # which of the account's 4 managed policies
boundary = st.none() | st.integers(0, 3)
users = st.lists(
    st.fixed_dictionaries(
        {
            "attached": subset,
            "inline": st.integers(0, 2),
            "boundary": boundary,
            "tags": st.lists(st.sampled_from(["team", "Team2", "cost"]), unique=True, max_size=2),
        }
    ),
    min_size=1,
    max_size=3,
)
groups = st.lists(
    st.fixed_dictionaries(
        {"attached": subset, "inline": st.integers(0, 2), "members": st.lists(st.booleans(), min_size=3, max_size=3)}
    ),
    max_size=3,
)
sessions = st.lists(
    st.fixed_dictionaries({"policy": st.booleans(), "arns": subset}),
    min_size=1,
    max_size=2,
)
roles = st.lists(
    st.fixed_dictionaries(
        {"attached": subset, "inline": st.integers(0, 2), "boundary": boundary, "sessions": sessions}
    ),
    max_size=2,
)
organizations = st.none() | st.fixed_dictionaries(
    {
        "managed_by_other": st.booleans(),
        "depth": st.integers(0, 2),  # OUs between the root and the account
        "scps": st.lists(st.lists(st.booleans(), min_size=3, max_size=3), min_size=4, max_size=4),  # per level
        "revision": st.integers(1, 5),
    }
)
worlds = st.fixed_dictionaries(
    {
        "versions": st.lists(st.tuples(st.integers(1, 3), st.integers(0, 2)), min_size=4, max_size=4),
        "aws_managed": st.booleans(),  # one of the four is an AWS managed policy
        "users": users,
        "groups": groups,
        "roles": roles,
        "organization": organizations,
    }
)


def _build(world: dict[str, Any], account: Account, other: Account) -> list[Principal]:
    """The world in ``account``, a same-named shadow of it in ``other``; the principals of ``account`` to read."""
    now = clock.now()
    principals: list[Principal] = [Principal.root(account.id)]
    for acct in (other, account):  # ``account`` last: its entities are the ones returned
        policies = []
        for i, (count, default) in enumerate(world["versions"]):
            if i == 0 and world["aws_managed"]:
                policy = ManagedPolicy.objects.filter(account__isnull=True).order_by("pk")[next(_serial) % 50]
            else:
                n = next(_serial)
                policy = ManagedPolicy.objects.create(
                    account=acct,
                    policy_id=f"ANPA{n:017d}",
                    name=f"p{i}",
                    arn=f"arn:aws:iam::{acct.id}:policy/p{i}",
                    created_at=now,
                    updated_at=now,
                )
                for v in range(count):
                    PolicyVersion.objects.create(
                        policy=policy,
                        version_id=f"v{v + 1}",
                        document=_document(_sid()),
                        is_default=v == min(default, count - 1),
                        created_at=now,
                    )
            policies.append(policy)

        def inline(n: int, acct: Account = acct, created=now, **owner: Any) -> None:
            for k in range(n):
                InlinePolicy.objects.create(
                    account=acct,
                    name=f"in{k}",
                    document=_document(_sid()),
                    created_at=created,
                    updated_at=created + timedelta(seconds=next(_serial)),
                    **owner,
                )

        made_users = []
        for u, spec in enumerate(world["users"]):
            user = IamUser.objects.create(
                account=acct,
                user_id=ids.new_id("AIDA"),
                name=f"u{u}",
                arn=f"arn:aws:iam::{acct.id}:user/u{u}",
                created_at=now,
                tags=[{"Key": key, "Value": f"v-{key}"} for key in spec["tags"]],
                permissions_boundary=None if spec["boundary"] is None else policies[spec["boundary"]],
            )
            for policy, on in zip(policies, spec["attached"], strict=True):
                if on:
                    UserPolicyAttachment.objects.create(account=acct, user=user, policy=policy, created_at=now)
            inline(spec["inline"], user=user)
            made_users.append(user)
            if acct == account:
                principals.append(Principal("IAMUser", acct.id, user.arn, user.name, user.user_id, user_pk=user.pk))
        for g, spec in enumerate(world["groups"]):
            group = Group.objects.create(
                account=acct,
                group_id=ids.new_id("AGPA"),
                name=f"g{g}",
                arn=f"arn:aws:iam::{acct.id}:group/g{g}",
                created_at=now,
            )
            for policy, on in zip(policies, spec["attached"], strict=True):
                if on:
                    GroupPolicyAttachment.objects.create(account=acct, group=group, policy=policy, created_at=now)
            inline(spec["inline"], group=group)
            for user, member in zip(made_users, spec["members"], strict=False):
                if member:
                    GroupMembership.objects.create(account=acct, group=group, user=user, created_at=now)
        for r, spec in enumerate(world["roles"]):
            role = Role.objects.create(
                account=acct,
                role_id=ids.new_id("AROA"),
                name=f"r{r}",
                arn=f"arn:aws:iam::{acct.id}:role/r{r}",
                assume_role_policy=_document("", kind="trust"),
                created_at=now,
                permissions_boundary=None if spec["boundary"] is None else policies[spec["boundary"]],
            )
            for policy, on in zip(policies, spec["attached"], strict=True):
                if on:
                    RolePolicyAttachment.objects.create(account=acct, role=role, policy=policy, created_at=now)
            inline(spec["inline"], role=role)
            for s, session in enumerate(spec["sessions"]):
                credential = TemporaryCredential.objects.create(
                    account=acct,
                    access_key_id=ids.new_id("ASIA"),
                    secret_encrypted="x",
                    session_token_hash="x",
                    role=role,
                    source_arn=f"arn:aws:iam::{acct.id}:root",
                    session_name=f"s{s}",
                    arn=f"arn:aws:sts::{acct.id}:assumed-role/r{r}/s{s}",
                    principal_id=f"{role.role_id}:s{s}",
                    issued_at=now,
                    expires_at=now + timedelta(hours=1),
                    session_policy=_document(_sid(), kind="session") if session["policy"] else "",
                    session_policy_arns=[p.arn for p, on in zip(policies, session["arns"], strict=True) if on],
                )
                if acct == account:
                    principals.append(
                        Principal(
                            "AssumedRole",
                            acct.id,
                            credential.arn,
                            f"s{s}",
                            credential.principal_id,
                            role_pk=role.pk,
                            session_pk=credential.pk,
                        )
                    )

    spec = world["organization"]
    if spec is not None:
        n = next(_serial)
        org = Organization.objects.create(
            id=f"o-{n:010d}",
            management_account=other if spec["managed_by_other"] else account,
            name="org",
            created_at=now,
            policy_revision=spec["revision"],
        )
        root = OrgRoot.objects.create(id=f"r-{n:04d}", organization=org)
        chain, parent = [], None
        for d in range(spec["depth"]):
            parent = OrganizationalUnit.objects.create(
                id=f"ou-{n:04d}-{d:08d}", organization=org, parent=parent, name=f"ou{d}", created_at=now
            )
            chain.append(parent.id)
        # A sibling OU the account is not in, with SCPs of its own.
        sibling = OrganizationalUnit.objects.create(
            id=f"ou-{n:04d}-99999999", organization=org, parent=None, name="elsewhere", created_at=now
        )
        OrgAccount.objects.create(account=account, organization=org, parent_unit=parent, joined_at=now)
        OrgAccount.objects.create(account=other, organization=org, parent_unit=sibling, joined_at=now)
        scps = [
            ServiceControlPolicy.objects.create(
                organization=org,
                policy_id=f"p-{n:04d}{k:04d}",
                name=f"scp{k}",
                document=_document(_sid(), "scp"),
                created_at=now,
                updated_at=now,
            )
            for k in range(3)
        ]
        targets = [("ROOT", root.id)] + [("ORGANIZATIONAL_UNIT", ou) for ou in chain] + [("ACCOUNT", account.id)]
        targets.append(("ORGANIZATIONAL_UNIT", sibling.id))
        targets.append(("ACCOUNT", other.id))
        for level, (target_type, target_id) in enumerate(targets):
            for scp, on in zip(scps, spec["scps"][min(level, 3)], strict=True):
                if on:
                    PolicyAttachment.objects.create(
                        organization=org, policy=scp, target_type=target_type, target_id=target_id, created_at=now
                    )
    return principals


# ---- the ORM reading ----------------------------------------------------------------------------------------------
def _default_version(policy: ManagedPolicy | None) -> PolicyVersion | None:
    return None if policy is None else policy.versions.filter(is_default=True).first()


def orm_rows(p: Principal) -> list[tuple[Any, ...]]:
    """The gathering rows, read plainly through the models' relations (the ``extra`` JSON column decoded)."""
    rows: list[tuple[Any, ...]] = []

    def managed(order: int, attachments) -> None:
        for attachment in attachments:
            version = _default_version(attachment.policy)
            if version is not None:
                rows.append((order, "v", version.pk, None, attachment.policy.arn, None))

    def inlines(order: int, owner: str, name: str, queryset) -> None:
        for policy in queryset:
            rows.append((order, "i", policy.pk, policy.updated_at, f"inline {owner}/{name}/{policy.name}", None))

    if p.type == "IAMUser":
        user = IamUser.objects.get(pk=p.user_pk)
        managed(0, user.policy_attachments.all())
        inlines(1, "user", user.name, user.inline_policies.all())
        for membership in user.memberships.all():
            managed(2, membership.group.policy_attachments.all())
            inlines(3, "group", membership.group.name, membership.group.inline_policies.all())
        bound = user.permissions_boundary
        version = _default_version(bound)
        rows.append((4, "b", version and version.pk, None, bound and bound.arn, user.tags))
    elif p.type == "AssumedRole":
        role = Role.objects.get(pk=p.role_pk)
        managed(0, role.policy_attachments.all())
        inlines(1, "role", role.name, role.inline_policies.all())
        bound = role.permissions_boundary
        version = _default_version(bound)
        rows.append((4, "b", version and version.pk, None, bound and bound.arn, role.arn))
        credential = TemporaryCredential.objects.get(pk=p.session_pk)
        rows.append((5, "s", credential.pk, None, credential.session_policy, credential.session_policy_arns))
    membership = OrgAccount.objects.filter(account_id=p.account_id).first()
    if membership is not None:
        org = membership.organization
        root = OrgRoot.objects.filter(organization=org).first()
        levels = [org.management_account_id, membership.parent_unit_id, root and root.id]
        rows.append((9, "o", org.policy_revision, None, org.id, levels))
    return rows


def decoded(p: Principal, rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """The query's rows with their JSON ``extra`` decoded (a role's boundary row carries its ARN, not JSON)."""
    json_extra = {"s", "o"} | ({"b"} if p.type == "IAMUser" else set())
    return [(*row[:5], json.loads(row[5]) if row[1] in json_extra else row[5]) for row in rows]


def as_multiset(rows: list[tuple[Any, ...]]) -> list[str]:
    return sorted(repr(row) for row in rows)


def orm_gathered(p: Principal) -> dict[str, Any]:
    """What a decision is built from, read through the ORM and parsed afresh."""

    def labelled(label: str, text: str, kind: str = "identity") -> tuple[str, Any] | None:
        try:
            return (label, parse_policy(text, kind=kind))
        except ValueError:
            return None  # a stored document that no longer parses grants nothing

    def managed(policies) -> list[tuple[str, Any] | None]:
        return [labelled(m.arn, v.document) for m in policies if (v := _default_version(m)) is not None]

    def present(pairs) -> list[tuple[str, Any]]:
        return sorted(pair for pair in pairs if pair is not None)

    identity: list[tuple[str, Any] | None] = []
    bound = tags = role_arn = session = None
    if p.type == "IAMUser":
        user = IamUser.objects.get(pk=p.user_pk)
        identity += managed(a.policy for a in user.policy_attachments.all())
        identity += [labelled(f"inline user/{user.name}/{i.name}", i.document) for i in user.inline_policies.all()]
        for group in Group.objects.filter(memberships__user=user):
            identity += managed(a.policy for a in group.policy_attachments.all())
            identity += [
                labelled(f"inline group/{group.name}/{i.name}", i.document) for i in group.inline_policies.all()
            ]
        bound, tags = user.permissions_boundary, {t["Key"]: t["Value"] for t in user.tags}
    elif p.type == "AssumedRole":
        role = Role.objects.get(pk=p.role_pk)
        identity += managed(a.policy for a in role.policy_attachments.all())
        identity += [labelled(f"inline role/{role.name}/{i.name}", i.document) for i in role.inline_policies.all()]
        bound, role_arn = role.permissions_boundary, role.arn
        credential = TemporaryCredential.objects.get(pk=p.session_pk)
        if credential.session_policy or credential.session_policy_arns:
            session = (
                [labelled("session policy", credential.session_policy, "session")] if credential.session_policy else []
            )
            session += managed(ManagedPolicy.objects.filter(arn__in=credential.session_policy_arns))
    boundary_version = _default_version(bound)
    scps = management = None
    membership = OrgAccount.objects.filter(account_id=p.account_id).first()
    if membership is not None:
        org = membership.organization
        chain, unit = [], membership.parent_unit
        while unit is not None:
            chain.insert(0, unit.id)
            unit = unit.parent
        scps = [
            present(
                labelled(f"SCP {a.policy.name} ({a.policy.policy_id})", a.policy.document, "scp")
                for a in PolicyAttachment.objects.filter(organization=org, target_id=target)
            )
            for target in [org.root.id, *chain, p.account_id]
        ]
        management = org.management_account_id
    return {
        "identity": present(identity),
        "boundary": boundary_version and labelled(bound.arn, boundary_version.document),
        "session": None if session is None else present(session),
        "scps": scps,
        "management": management,
        "tags": tags or {},
        "role_arn": role_arn,
    }


def as_read(gathered: authz.Gathered) -> dict[str, Any]:
    def pair(policy: LabelledPolicy) -> tuple[str, Any]:
        return (policy.label, policy.document)

    policies = gathered.policies
    return {
        "identity": sorted(map(pair, policies.identity)),
        "boundary": policies.permissions_boundary and pair(policies.permissions_boundary),
        "session": None if policies.session is None else sorted(map(pair, policies.session)),
        "scps": None if policies.scps is None else [sorted(map(pair, level)) for level in policies.scps],
        "management": policies.management_account,
        "tags": gathered.tags,
        "role_arn": gathered.role_arn,
    }


# ---- the comparison -----------------------------------------------------------------------------------------------
@pytest.mark.django_db
@settings(max_examples=30, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(world=worlds)
def test_the_gathering_query_reads_what_the_orm_reads(world, account, other_account):
    with transaction.atomic():
        principals = _build(world, account, other_account)
        keys = {}
        for p in principals:
            if p.type in ("Root", "IAMUser"):
                key_id = ids.new_access_key_id()
                AccessKey.objects.create(
                    account_id=p.account_id,
                    user_id=p.user_pk,
                    access_key_id=key_id,
                    secret_encrypted="x",
                    created_at=clock.now(),
                )
                keys[p] = key_id
        for p in principals:
            expected = orm_rows(p)
            rows = authz.policy_rows(p)
            assert [row[0] for row in rows] == sorted(row[0] for row in rows), "ordered by source"
            assert as_multiset(decoded(p, rows)) == as_multiset(expected), p
            if p in keys:  # the Query API reads the same rows with the access key
                key_row, *policy_rows = key_rows(keys[p])
                assert key_row[1] == "k"
                assert as_multiset(decoded(p, policy_rows)) == as_multiset(expected), p
            assert as_read(authz.gather(p)) == orm_gathered(p), p
        transaction.set_rollback(True)


def test_an_unknown_access_key_reads_no_rows(db):
    assert key_rows("AKIAEXAMPLEUNKNOWN00") == []
