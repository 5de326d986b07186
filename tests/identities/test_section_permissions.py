"""The console's detail tabs and the Create user wizard read through the List*/Get* services, as AWS's console
calls them: a persona holding only iam:GetUser (iam:GetRole for roles) sees the summary, and on each section it may
not read a notice "You don't have permission to <action>" — nothing of the section's data — and each refused read
is recorded under its own action."""

from __future__ import annotations

import html
import json
import re

import pytest

from audit.models import AuditEvent
from identities import instance_profiles, roles, services
from identities.services import Tag
from policies import services as policy_services
from tests.console.test_user_signin import PASSWORD, sign_in

READ_ONLY = "arn:aws:iam::aws:policy/ReadOnlyAccess"
DOC = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]})
TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}],
    }
)


def plain(response) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode())))


def notices(response) -> list[str]:
    page = html.unescape(response.content.decode())
    return re.findall(r'data-testid="permission-notice">(?:<strong>)?(You don\'t have permission to [^<]+)<', page)


def persona(root_ctx, name: str, *actions: str):
    services.create_user(root_ctx, user_name=name)
    services.create_login_profile(root_ctx, user_name=name, password=PASSWORD)
    statement = {"Effect": "Allow", "Action": list(actions), "Resource": "*"}
    document = json.dumps({"Version": "2012-10-17", "Statement": [statement]})
    policy_services.put_user_policy(root_ctx, user_name=name, policy_name="only", policy_document=document)
    client, response = sign_in(root_ctx.account_id, name)
    assert response.status_code == 302
    return client


@pytest.fixture
def target(root_ctx, managed_policies):
    """A user with something in every section: a group with policies, a managed and an inline policy, tags, a
    console password."""
    services.create_group(root_ctx, group_name="secret-team")
    policy_services.attach_group_policy(root_ctx, group_name="secret-team", policy_arn=READ_ONLY)
    services.create_user(root_ctx, user_name="target", tags=[Tag("secret-tag", "v")])
    services.create_login_profile(root_ctx, user_name="target", password=PASSWORD)
    services.add_user_to_group(root_ctx, group_name="secret-team", user_name="target")
    policy_services.attach_user_policy(root_ctx, user_name="target", policy_arn=READ_ONLY)
    policy_services.put_user_policy(root_ctx, user_name="target", policy_name="secret-inline", policy_document=DOC)


USER_TABS = {
    "permissions": [
        "You don't have permission to iam:ListAttachedUserPolicies",
        "You don't have permission to iam:ListUserPolicies",
        "You don't have permission to iam:ListGroupsForUser",
    ],
    "groups": ["You don't have permission to iam:ListGroupsForUser"],
    "tags": ["You don't have permission to iam:ListUserTags"],
    "security_credentials": [
        "You don't have permission to iam:GetLoginProfile",
        "You don't have permission to iam:ListMFADevices",
        "You don't have permission to iam:ListAccessKeys",
    ],
}


@pytest.mark.parametrize("tab", USER_TABS)
def test_get_user_only_sees_the_summary_and_a_notice_on_each_section(root_ctx, target, tab):
    client = persona(root_ctx, "viewer", "iam:GetUser")
    AuditEvent.objects.all().delete()

    response = client.get(f"/iam/users/target?tab={tab}")

    assert response.status_code == 200
    text = plain(response)
    assert f"arn:aws:iam::{root_ctx.account_id}:user/target" in text  # the summary, from GetUser
    shown = notices(response)
    for notice in USER_TABS[tab]:
        assert notice in shown or notice in text, (tab, notice, shown)
    assert "You don't have permission to iam:GetLoginProfile" in shown  # the summary's console access
    for secret in ("secret-team", "secret-inline", "ReadOnlyAccess", "secret-tag"):
        assert secret not in text, (tab, secret)
    denied = set(
        AuditEvent.objects.filter(error_code="AccessDenied", username="viewer").values_list("event_name", flat=True)
    )
    assert {n.rsplit(":", 1)[1] for n in USER_TABS[tab]} <= denied
    assert AuditEvent.objects.filter(event_name="GetUser", username="viewer", error_code="").exists()


def test_each_allowed_read_fills_its_section(root_ctx, target):
    """With ListGroupsForUser but not ListAttachedGroupPolicies, the groups are listed and the rest noticed."""
    client = persona(root_ctx, "viewer", "iam:GetUser", "iam:ListGroupsForUser", "iam:ListUserTags")

    groups = client.get("/iam/users/target?tab=groups")
    assert "secret-team" in plain(groups)
    assert "You don't have permission to iam:ListAttachedGroupPolicies" in notices(groups)
    assert "ReadOnlyAccess" not in plain(groups)
    tags = client.get("/iam/users/target?tab=tags")
    assert "secret-tag" in plain(tags) and not [n for n in notices(tags) if "ListUserTags" in n]


def test_full_reader_sees_every_section_without_notices(root_ctx, target):
    client = persona(root_ctx, "reader", "iam:Get*", "iam:List*")
    for tab in USER_TABS:
        response = client.get(f"/iam/users/target?tab={tab}")
        assert response.status_code == 200 and notices(response) == [], (tab, notices(response))
    permissions = plain(client.get("/iam/users/target?tab=permissions"))
    assert "secret-inline" in permissions and "ReadOnlyAccess" in permissions and "Group secret-team" in permissions


ROLE_TABS = {
    "permissions": [
        "You don't have permission to iam:ListAttachedRolePolicies",
        "You don't have permission to iam:ListRolePolicies",
    ],
    "tags": ["You don't have permission to iam:ListRoleTags"],
}


@pytest.mark.parametrize("tab", ROLE_TABS)
def test_get_role_only_sees_the_summary_and_a_notice_on_each_section(root_ctx, managed_policies, tab):
    roles.create_role(root_ctx, role_name="app", assume_role_policy_document=TRUST, tags=[Tag("secret-tag", "v")])
    policy_services.attach_role_policy(root_ctx, role_name="app", policy_arn=READ_ONLY)
    policy_services.put_role_policy(root_ctx, role_name="app", policy_name="secret-inline", policy_document=DOC)
    instance_profiles.create_instance_profile(root_ctx, instance_profile_name="secret-profile")
    instance_profiles.add_role_to_instance_profile(root_ctx, instance_profile_name="secret-profile", role_name="app")
    client = persona(root_ctx, "viewer", "iam:GetRole")
    AuditEvent.objects.all().delete()

    response = client.get(f"/iam/roles/app?tab={tab}")

    assert response.status_code == 200
    text = plain(response)
    assert f"arn:aws:iam::{root_ctx.account_id}:role/app" in text
    shown = notices(response)
    assert set(ROLE_TABS[tab]) <= set(shown), shown
    assert "You don't have permission to iam:ListInstanceProfilesForRole" in shown
    for secret in ("secret-inline", "ReadOnlyAccess", "secret-tag", "secret-profile"):
        assert secret not in text, (tab, secret)
    denied = set(AuditEvent.objects.filter(error_code="AccessDenied").values_list("event_name", flat=True))
    assert {n.rsplit(":", 1)[1] for n in ROLE_TABS[tab]} | {"ListInstanceProfilesForRole"} <= denied


WIZARD = {"step": "2", "action": "refresh", "user_name": "newbie", "require_reset": ""}


@pytest.mark.parametrize(
    ("option", "action"),
    [("groups", "iam:ListGroups"), ("attach", "iam:ListPolicies"), ("copy", "iam:ListUsers")],
)
def test_create_user_wizard_lists_come_from_their_list_services(root_ctx, target, option, action):
    client = persona(root_ctx, "creator", "iam:CreateUser")
    AuditEvent.objects.all().delete()

    response = client.post("/iam/users/create", {**WIZARD, "permissions_option": option})

    assert response.status_code == 200
    assert f"You don't have permission to {action}" in notices(response)
    for secret in ("secret-team", "ReadOnlyAccess", "target"):
        assert secret not in plain(response), secret
    event = AuditEvent.objects.get(username="creator")
    assert (event.event_name, event.error_code) == (action.split(":")[1], "AccessDenied")


def test_create_user_wizard_lists_what_the_principal_may_list(root_ctx, target):
    client = persona(root_ctx, "creator", "iam:CreateUser", "iam:ListGroups", "iam:ListPolicies")

    groups = client.post("/iam/users/create", {**WIZARD, "permissions_option": "groups"})
    policies = client.post(
        "/iam/users/create", {**WIZARD, "permissions_option": "attach", "policy_query": "ReadOnlyAccess"}
    )
    boundary = client.post("/iam/users/create", {**WIZARD, "permissions_option": "groups", "use_boundary": "on"})

    assert "secret-team" in plain(groups) and notices(groups) == []
    assert "ReadOnlyAccess" in plain(policies) and notices(policies) == []
    assert "ReadOnlyAccess" in plain(boundary) and notices(boundary) == []


@pytest.mark.parametrize(
    ("tab", "actions"),
    [
        ("permissions", ["iam:ListAttachedGroupPolicies", "iam:ListGroupPolicies", "iam:ListPolicies"]),
        ("users", ["iam:ListUsers"]),
    ],
)
def test_get_group_only_sees_members_and_a_notice_on_each_section(root_ctx, target, tab, actions):
    policy_services.put_group_policy(
        root_ctx, group_name="secret-team", policy_name="secret-inline", policy_document=DOC
    )
    services.create_user(root_ctx, user_name="outsider")
    client = persona(root_ctx, "viewer", "iam:GetGroup")

    response = client.get(f"/iam/groups/secret-team?tab={tab}")

    assert response.status_code == 200
    text = plain(response)
    assert "Users (1)" in text and (tab != "users" or "target" in text)  # the members, from GetGroup
    assert {f"You don't have permission to {a}" for a in actions} <= set(notices(response)), notices(response)
    for secret in ("secret-inline", "ReadOnlyAccess", "outsider"):
        assert secret not in text, (tab, secret)


def test_create_role_wizard_and_attach_picker_list_through_list_policies(root_ctx, managed_policies):
    roles.create_role(root_ctx, role_name="app", assume_role_policy_document=TRUST)
    client = persona(root_ctx, "builder", "iam:CreateRole", "iam:GetRole", "iam:AttachRolePolicy")
    step1 = {"step": "1", "action": "next", "entity_type": "service", "service": "ec2", "use_case": "ec2"}

    step2 = client.post("/iam/roles/create", step1)
    attach = client.get("/iam/roles/app/attach_policies")

    for response in (step2, attach):
        assert response.status_code == 200
        assert "You don't have permission to iam:ListPolicies" in notices(response)
        assert "ReadOnlyAccess" not in plain(response)
    assert (
        AuditEvent.objects.filter(event_name="ListPolicies", username="builder", error_code="AccessDenied").count() == 2
    )
