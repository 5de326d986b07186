"""Console Switch role: authorized as the user, enforced as the role session, ended when the session expires."""

from __future__ import annotations

import json
from datetime import timedelta

from audit.models import AuditEvent
from core import clock
from identities import roles
from policies import services as policy_services
from tests.console.test_user_signin import make_user, sign_in

ASSUME_ANY = json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}]}
)


def _trust(account_id: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account_id}:root"}, "Action": "sts:AssumeRole"}
            ],
        }
    )


def _setup(root_ctx):
    make_user(root_ctx, "alice")
    policy_services.put_user_policy(root_ctx, user_name="alice", policy_name="assume", policy_document=ASSUME_ANY)
    roles.create_role(root_ctx, role_name="Reader", assume_role_policy_document=_trust(root_ctx.account_id))
    policy_services.attach_role_policy(
        root_ctx, role_name="Reader", policy_arn="arn:aws:iam::aws:policy/IAMReadOnlyAccess"
    )


def test_switch_into_a_role_and_back(root_ctx, managed_policies, account):
    _setup(root_ctx)
    client, _ = sign_in(account.id, "alice")
    assert client.get("/iam/users").status_code == 403  # alice herself may not list users
    response = client.post(
        "/switchrole", {"account": account.id, "roleName": "Reader", "displayName": "Reader", "color": "green"}
    )
    assert response.status_code == 302
    page = client.get("/iam/users")
    assert page.status_code == 200 and b'data-testid="switched-badge"' in page.content
    denied = client.post(
        "/iam/users/create", {"step": "3", "action": "create", "user_name": "x", "permissions_option": "groups"}
    )
    assert denied.status_code == 403
    assert b"assumed-role/Reader/alice is not authorized to perform: iam:CreateUser" in denied.content
    switch = AuditEvent.objects.get(event_name="SwitchRole")
    assert switch.record["additionalEventData"]["SwitchFrom"].endswith(":user/alice")
    assert switch.record["userIdentity"]["type"] == "AssumedRole"
    client.post("/switchrole/back")
    assert client.get("/iam/users").status_code == 403


def test_switch_refused_without_permission_shows_the_reason(root_ctx, managed_policies, account):
    _setup(root_ctx)
    make_user(root_ctx, "dave")
    client, _ = sign_in(account.id, "dave")
    response = client.post("/switchrole", {"account": account.id, "roleName": "Reader"})
    assert response.status_code == 400
    assert b"is not authorized to perform: sts:AssumeRole" in response.content


def test_expired_role_session_switches_back_on_the_next_request(root_ctx, managed_policies, account):
    _setup(root_ctx)
    client, _ = sign_in(account.id, "alice")
    start = clock.now()
    with clock.frozen(start):
        client.post("/switchrole", {"account": account.id, "roleName": "Reader"})
        assert client.get("/iam/users").status_code == 200
    with clock.frozen(start + timedelta(hours=1, seconds=1)):
        poll = client.get("/switchrole/status", HTTP_HX_REQUEST="true")
        assert poll.headers.get("HX-Redirect") == "/"
        page = client.get("/iam/users")
        assert page.status_code == 403  # alice again
        assert b"has ended" in page.content


def test_root_cannot_switch_roles(root_client, root_ctx, account):
    roles.create_role(root_ctx, role_name="Reader", assume_role_policy_document=_trust(root_ctx.account_id))
    response = root_client.post("/switchrole", {"account": account.id, "roleName": "Reader"})
    assert response.status_code == 400 and b"Root users cannot switch roles" in response.content
