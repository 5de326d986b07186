"""IAM-user console sign-in, forced password change, throttling, and the policy engine deciding every page."""

from __future__ import annotations

import pytest
from django.test import Client

from audit.models import AuditEvent
from console import throttle
from identities import services
from policies import services as policy_services

PASSWORD = "Us3r-Passw0rd!"


def make_user(ctx, name, *policies, reset=False):
    services.create_user(ctx, user_name=name)
    services.create_login_profile(ctx, user_name=name, password=PASSWORD, password_reset_required=reset)
    for policy in policies:
        policy_services.attach_user_policy(ctx, user_name=name, policy_arn=f"arn:aws:iam::aws:policy/{policy}")


def sign_in(account_id, name, password=PASSWORD, client=None):
    client = client or Client()
    response = client.post(f"/signin/{account_id}", {"account": account_id, "username": name, "password": password})
    return client, response


@pytest.fixture(autouse=True)
def _fresh_throttle():
    throttle.clear_all()
    yield
    throttle.clear_all()


@pytest.fixture
def personas(root_ctx, managed_policies):
    make_user(root_ctx, "alice", "IAMFullAccess")
    make_user(root_ctx, "bob", "IAMReadOnlyAccess")
    make_user(root_ctx, "dave")
    return root_ctx


def test_user_signs_in_at_the_account_sign_in_url(personas, account):
    client, response = sign_in(account.id, "bob")
    assert response.status_code == 302 and response.url == "/"
    page = client.get("/iam/users")
    assert page.status_code == 200 and b"alice" in page.content
    event = AuditEvent.objects.filter(event_name="ConsoleLogin").latest("event_time")
    assert event.record["responseElements"] == {"ConsoleLogin": "Success"}
    assert event.record["userIdentity"]["userName"] == "bob"


def test_alias_works_in_place_of_the_account_id(personas, account):
    account.alias = "alpha-class"
    account.save()
    _, response = sign_in("alpha-class", "bob")
    assert response.status_code == 302


def test_wrong_password_is_refused_and_audited(personas, account):
    _, response = sign_in(account.id, "bob", "nope")
    assert response.status_code == 400
    assert b"Your authentication information is incorrect" in response.content
    failure = AuditEvent.objects.get(event_name="ConsoleLogin")
    assert failure.record["errorMessage"] == "Failed authentication"
    assert "nope" not in str(failure.record)


def test_unknown_user_is_hidden_in_the_audit_record(personas, account):
    sign_in(account.id, "nobody", "whatever")
    identity = AuditEvent.objects.get(event_name="ConsoleLogin").record["userIdentity"]
    assert identity["userName"] == "HIDDEN_DUE_TO_SECURITY_REASONS" and "arn" not in identity


def test_user_without_policies_cannot_even_list_users(personas, account):
    client, _ = sign_in(account.id, "dave")
    response = client.get("/iam/users")
    assert response.status_code == 403
    text = response.content.decode()
    assert (
        "User: arn:aws:iam::111122223333:user/dave is not authorized to perform: iam:ListUsers on resource: "
        "arn:aws:iam::111122223333:user/* because no identity-based policy allows the iam:ListUsers action"
    ) in text
    assert 'data-testid="why-panel"' in text
    denied = AuditEvent.objects.get(event_name="ListUsers")
    assert denied.error_code == "AccessDenied" and denied.explanation["missing_layer"] == "identity"


def test_read_only_user_is_refused_create_user(personas, account):
    client, _ = sign_in(account.id, "bob")
    response = client.post(
        "/iam/users/create", {"step": "3", "action": "create", "user_name": "eve", "permissions_option": "groups"}
    )
    assert response.status_code == 403
    assert (
        b"is not authorized to perform: iam:CreateUser on resource: arn:aws:iam::111122223333:user/eve"
        in response.content
    )
    assert not services.IamUser.objects.filter(name="eve").exists()


def test_full_access_user_creates_users(personas, account):
    client, _ = sign_in(account.id, "alice")
    response = client.post(
        "/iam/users/create", {"step": "3", "action": "create", "user_name": "eve", "permissions_option": "groups"}
    )
    assert response.status_code == 302
    assert services.IamUser.objects.filter(name="eve", account=account).exists()
    event = AuditEvent.objects.get(event_name="CreateUser", record__requestParameters__userName="eve")
    assert event.record["userIdentity"]["type"] == "IAMUser" and event.username == "alice"


def test_forced_password_change_blocks_everything_else(root_ctx, managed_policies, account):
    make_user(root_ctx, "newbie", "IAMReadOnlyAccess", reset=True)
    policy_services.attach_user_policy(
        root_ctx, user_name="newbie", policy_arn="arn:aws:iam::aws:policy/IAMUserChangePassword"
    )
    client, response = sign_in(account.id, "newbie")
    assert response.url == "/change_password"
    assert client.get("/iam/users").url == "/change_password"
    bad = client.post(
        "/change_password", {"old_password": PASSWORD, "new_password": "short", "confirm_password": "short"}
    )
    assert bad.status_code == 400 and b"Password does not conform to the account password policy" in bad.content
    good = client.post(
        "/change_password",
        {"old_password": PASSWORD, "new_password": "N3w-Passw0rd!", "confirm_password": "N3w-Passw0rd!"},
    )
    assert good.status_code == 302
    assert client.get("/iam/users").status_code == 200
    _, again = sign_in(account.id, "newbie", "N3w-Passw0rd!")
    assert again.url == "/"


def test_twenty_failures_lock_one_user_only(personas, account):
    for _ in range(throttle.MAX_USER_FAILURES):
        sign_in(account.id, "bob", "wrong")
    _, locked = sign_in(account.id, "bob")  # even the right password is refused while locked
    assert locked.status_code == 400 and b"locked" in locked.content
    _, other = sign_in(account.id, "alice")
    assert other.status_code == 302
    lock_events = AuditEvent.objects.filter(event_name="ConsoleLogin", record__additionalEventData__LockedOut="Yes")
    assert lock_events.exists()


def test_user_of_one_account_cannot_sign_in_to_another(personas, account, other_account):
    _, response = sign_in(other_account.id, "bob")
    assert response.status_code == 400


def test_signed_in_user_sees_nothing_of_another_account(personas, account, other_root_ctx):
    services.create_user(other_root_ctx, user_name="charlie")
    client, _ = sign_in(account.id, "alice")
    assert client.get("/iam/users/charlie").status_code == 404
    assert b"charlie" not in client.get("/iam/users").content
