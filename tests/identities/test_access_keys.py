"""Access keys: the services (CreateAccessKey, ListAccessKeys, UpdateAccessKey, DeleteAccessKey, GetAccessKeyLastUsed)
and the console pages (a user's Security credentials tab, My security credentials).

The secret access key is stored only encrypted, shown once (in the Create access key response) and found nowhere
else: not in the database as plain text, not in any audit record, session, message or log line.
"""

from __future__ import annotations

import base64
import html
import json
import logging
import re

import pytest
from django.contrib.sessions.models import Session
from django.db import connection

from audit.models import AuditEvent
from console.services import user_principal
from core.context import CallContext
from core.errors import AccessDenied, LimitExceeded, NoSuchEntity, ValidationError
from core.secrets import decrypt
from identities import credentials, services, workflows
from identities.models import AccessKey, IamUser
from policies import services as policy_services
from tests.console.test_user_signin import make_user as make_console_user
from tests.console.test_user_signin import sign_in

AKIA = re.compile(r"AKIA[A-Z2-7]{16}")
SECRET = re.compile(r"[A-Za-z0-9+/]{40}")


def ctx_of(user: IamUser) -> CallContext:
    return CallContext(user_principal(user), user_agent="pytest", origin="console")


def raw_secret_column(access_key_id: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT secret_encrypted FROM {AccessKey._meta.db_table} WHERE access_key_id = %s", [access_key_id]
        )
        return cursor.fetchone()[0]


def everything_stored_outside_the_key() -> str:
    """Every audit record and every session, as text."""
    records = [json.dumps(e.record) + json.dumps(e.explanation) for e in AuditEvent.objects.all()]
    sessions = [json.dumps(s.get_decoded()) + s.session_data for s in Session.objects.all()]
    return "\n".join(records + sessions)


def text(response) -> str:
    return html.unescape(response.content.decode())


# ---- services ---------------------------------------------------------------------------------------------------


def test_create_access_key_returns_the_secret_once_and_stores_it_only_encrypted(root_ctx):
    services.create_user(root_ctx, user_name="alice")

    new = credentials.create_access_key(root_ctx, user_name="alice")

    assert AKIA.fullmatch(new.key.access_key_id) and len(new.key.access_key_id) == 20
    assert SECRET.fullmatch(new.secret_access_key)
    assert new.secret_access_key not in repr(new)
    raw = raw_secret_column(new.key.access_key_id)
    assert new.secret_access_key not in raw and decrypt(raw) == new.secret_access_key
    assert new.key.status == "Active" and new.key.user.name == "alice"
    event = AuditEvent.objects.get(event_name="CreateAccessKey")
    assert event.record["requestParameters"] == {"userName": "alice"}
    assert event.record["responseElements"]["accessKey"]["accessKeyId"] == new.key.access_key_id
    assert new.secret_access_key not in everything_stored_outside_the_key()


def test_root_without_user_name_creates_its_own_key(root_ctx, account):
    new = credentials.create_access_key(root_ctx)

    assert new.key.user is None and new.key.account_id == account.id
    assert credentials.root_has_active_access_keys(account.id)
    assert [k.access_key_id for k in credentials.list_access_keys(root_ctx)] == [new.key.access_key_id]
    credentials.update_access_key(root_ctx, access_key_id=new.key.access_key_id, status="Inactive")
    assert not credentials.root_has_active_access_keys(account.id)


def test_iam_user_without_user_name_creates_its_own_key(root_ctx, managed_policies):
    alice = services.create_user(root_ctx, user_name="alice")
    policy_services.attach_user_policy(root_ctx, user_name="alice", policy_arn="arn:aws:iam::aws:policy/IAMFullAccess")

    new = credentials.create_access_key(ctx_of(alice))

    assert new.key.user == alice
    assert credentials.list_access_keys(ctx_of(alice)) == [new.key]


def test_two_keys_per_user_and_inactive_keys_count(root_ctx):
    services.create_user(root_ctx, user_name="alice")
    first = credentials.create_access_key(root_ctx, user_name="alice")
    credentials.create_access_key(root_ctx, user_name="alice")
    credentials.update_access_key(root_ctx, user_name="alice", access_key_id=first.key.access_key_id, status="Inactive")

    with pytest.raises(LimitExceeded, match=r"Cannot exceed quota for AccessKeysPerUser: 2$") as raised:
        credentials.create_access_key(root_ctx, user_name="alice")

    assert raised.value.message == "Cannot exceed quota for AccessKeysPerUser: 2"
    assert AccessKey.objects.filter(user__name="alice").count() == 2
    failed = AuditEvent.objects.filter(event_name="CreateAccessKey", error_code="LimitExceeded").get()
    assert failed.record["errorMessage"] == "Cannot exceed quota for AccessKeysPerUser: 2"
    # Root's own keys are a separate quota of 2.
    credentials.create_access_key(root_ctx)
    credentials.create_access_key(root_ctx)
    with pytest.raises(LimitExceeded):
        credentials.create_access_key(root_ctx)


def test_deactivate_activate_and_delete(root_ctx):
    services.create_user(root_ctx, user_name="alice")
    key_id = credentials.create_access_key(root_ctx, user_name="alice").key.access_key_id

    credentials.update_access_key(root_ctx, user_name="alice", access_key_id=key_id, status="Inactive")
    assert AccessKey.objects.get(access_key_id=key_id).status == "Inactive"
    credentials.update_access_key(root_ctx, user_name="alice", access_key_id=key_id, status="Active")
    assert AccessKey.objects.get(access_key_id=key_id).status == "Active"
    with pytest.raises(ValidationError, match="enum value set: \\[Active, Inactive\\]"):
        credentials.update_access_key(root_ctx, user_name="alice", access_key_id=key_id, status="Disabled")

    credentials.delete_access_key(root_ctx, user_name="alice", access_key_id=key_id)  # the API deletes active keys
    assert not AccessKey.objects.filter(access_key_id=key_id).exists()
    with pytest.raises(NoSuchEntity, match=f"The Access Key with id {key_id} cannot be found."):
        credentials.delete_access_key(root_ctx, user_name="alice", access_key_id=key_id)


def test_a_key_belongs_to_its_user_only(root_ctx):
    services.create_user(root_ctx, user_name="alice")
    services.create_user(root_ctx, user_name="bob")
    key_id = credentials.create_access_key(root_ctx, user_name="alice").key.access_key_id

    with pytest.raises(NoSuchEntity):
        credentials.update_access_key(root_ctx, user_name="bob", access_key_id=key_id, status="Inactive")
    with pytest.raises(NoSuchEntity):
        credentials.delete_access_key(root_ctx, access_key_id=key_id)  # root's own keys
    assert AccessKey.objects.get(access_key_id=key_id).status == "Active"


def test_another_account_can_neither_see_nor_touch_the_keys(root_ctx, other_root_ctx):
    services.create_user(root_ctx, user_name="alice")
    key = credentials.create_access_key(root_ctx, user_name="alice").key
    root_key = credentials.create_access_key(root_ctx).key

    with pytest.raises(NoSuchEntity, match="The user with name alice cannot be found."):
        credentials.list_access_keys(other_root_ctx, user_name="alice")
    with pytest.raises(NoSuchEntity):
        credentials.create_access_key(other_root_ctx, user_name="alice")
    for key_id in (key.access_key_id, root_key.access_key_id):
        with pytest.raises(NoSuchEntity):
            credentials.update_access_key(other_root_ctx, access_key_id=key_id, status="Inactive")
        with pytest.raises(NoSuchEntity):
            credentials.delete_access_key(other_root_ctx, access_key_id=key_id)
        with pytest.raises(NoSuchEntity):
            credentials.get_access_key_last_used(other_root_ctx, access_key_id=key_id)
    assert credentials.list_access_keys(other_root_ctx) == []
    assert set(AccessKey.objects.values_list("status", flat=True)) == {"Active"}
    assert AccessKey.objects.count() == 2


def test_denied_caller_changes_nothing_and_the_denial_is_audited(root_ctx):
    services.create_user(root_ctx, user_name="alice")
    dave = services.create_user(root_ctx, user_name="dave")
    key_id = credentials.create_access_key(root_ctx, user_name="alice").key.access_key_id

    with pytest.raises(AccessDenied, match="is not authorized to perform: iam:CreateAccessKey"):
        credentials.create_access_key(ctx_of(dave), user_name="alice")
    with pytest.raises(AccessDenied):
        credentials.update_access_key(ctx_of(dave), user_name="alice", access_key_id=key_id, status="Inactive")
    with pytest.raises(AccessDenied):
        credentials.create_access_key(ctx_of(dave))  # not even its own, without a policy

    assert AccessKey.objects.count() == 1 and AccessKey.objects.get().status == "Active"
    assert AuditEvent.objects.filter(username="dave", error_code="AccessDenied").count() == 3


def test_get_access_key_last_used(root_ctx):
    from core import clock

    services.create_user(root_ctx, user_name="alice")
    key = credentials.create_access_key(root_ctx, user_name="alice").key

    never = credentials.get_access_key_last_used(root_ctx, access_key_id=key.access_key_id)
    assert never == {
        "UserName": "alice",
        "AccessKeyLastUsed": {"LastUsedDate": None, "ServiceName": "N/A", "Region": "N/A"},
    }
    used_at = clock.now()
    AccessKey.objects.filter(pk=key.pk).update(
        last_used_at=used_at, last_used_service="iam", last_used_region="us-east-1"
    )
    used = credentials.get_access_key_last_used(root_ctx, access_key_id=key.access_key_id)
    assert used["AccessKeyLastUsed"] == {"LastUsedDate": used_at, "ServiceName": "iam", "Region": "us-east-1"}


# ---- console: Create access key ----------------------------------------------------------------------------------


def test_create_access_key_flow_shows_the_secret_once_and_nowhere_else(root_client, root_ctx, caplog):
    caplog.set_level(logging.DEBUG)
    services.create_user(root_ctx, user_name="alice")
    url = "/iam/users/alice/access_keys/create"

    page = root_client.get(url)
    assert page.status_code == 200
    body = text(page)
    for use_case in (
        "Command Line Interface (CLI)",
        "Local code",
        "Application running on an AWS compute service",
        "Third-party service",
        "Application running outside AWS",
        "Other",
    ):
        assert use_case in body
    unconfirmed = root_client.post(url, {"step": "1", "action": "next", "use_case": "cli"})
    assert unconfirmed.status_code == 400 and "Confirm that you understand" in text(unconfirmed)
    step2 = root_client.post(url, {"step": "1", "action": "next", "use_case": "cli", "confirm": "on"})
    assert step2.status_code == 200 and "Set description tag" in text(step2)
    assert not AccessKey.objects.exists()

    created = root_client.post(
        url, {"step": "2", "action": "create", "use_case": "cli", "confirm": "on", "description": "laptop cli"}
    )

    assert created.status_code == 200 and created["Cache-Control"] == "no-store"
    key = AccessKey.objects.get()
    secret = decrypt(key.secret_encrypted)
    body = created.content.decode()
    assert body.count(secret) == 1 and body.count(key.access_key_id) >= 1
    assert "Retrieve access keys" in body and "<summary>Show</summary>" in body
    csv_link = re.search(r'download="([^"]+)" href="data:text/csv;base64,([^"]+)"', body)
    assert csv_link.group(1) == "alice_accessKeys.csv"
    assert base64.b64decode(csv_link.group(2)).decode() == (
        f"Access key ID,Secret access key\r\n{key.access_key_id},{secret}\r\n"
    )
    assert {"Key": key.access_key_id, "Value": "laptop cli"} in IamUser.objects.get(name="alice").tags

    # Nowhere else: later pages, audit records, sessions (messages live there too), logs, the raw column.
    for later in (
        "/iam/users/alice?tab=security_credentials",
        "/iam/users/alice",
        "/iam/security_credentials",
        f"/iam/users/alice/access_keys/delete?access_key_id={key.access_key_id}",
    ):
        response = root_client.get(later)
        assert response.status_code == 200 and secret not in response.content.decode(), later
    assert secret not in everything_stored_outside_the_key()
    assert secret not in caplog.text
    assert secret not in raw_secret_column(key.access_key_id)


def test_create_page_at_the_limit_says_so_and_creates_nothing(root_client, root_ctx):
    services.create_user(root_ctx, user_name="alice")
    credentials.create_access_key(root_ctx, user_name="alice")
    key_id = credentials.create_access_key(root_ctx, user_name="alice").key.access_key_id
    credentials.update_access_key(root_ctx, user_name="alice", access_key_id=key_id, status="Inactive")

    page = root_client.get("/iam/users/alice/access_keys/create")
    assert "already has 2 access keys" in text(page)
    assert re.search(r'name="action" value="next" disabled', page.content.decode())
    response = root_client.post(
        "/iam/users/alice/access_keys/create", {"step": "2", "action": "create", "use_case": "other"}
    )

    assert response.status_code == 409
    assert "Cannot exceed quota for AccessKeysPerUser: 2" in text(response)
    assert AccessKey.objects.count() == 2


def test_description_tag_too_long_is_refused(root_client, root_ctx):
    services.create_user(root_ctx, user_name="alice")
    response = root_client.post(
        "/iam/users/alice/access_keys/create",
        {"step": "2", "action": "create", "use_case": "other", "description": "x" * 257},
    )
    assert response.status_code == 400 and "up to 256 characters" in text(response)
    assert not AccessKey.objects.exists()


def test_security_credentials_sections_list_the_keys(root_client, root_ctx):
    services.create_user(root_ctx, user_name="alice")
    key_id = credentials.create_access_key(root_ctx, user_name="alice").key.access_key_id
    services.tag_user(root_ctx, user_name="alice", tags=[services.Tag(key_id, "build server")])
    from django.template.loader import render_to_string
    from django.test import RequestFactory

    from identities.views_credentials import credentials_context

    request = RequestFactory().get("/iam/users/alice?tab=security_credentials")
    request.iam_ctx = root_ctx
    html_text = render_to_string(
        "identities/credentials/sections.html", credentials_context(request, IamUser.objects.get(name="alice"))
    )
    assert 'Access keys <span class="counter">(1)</span>' in html_text
    assert key_id in html_text and "build server" in html_text and "Never" in html_text
    assert 'href="/iam/users/alice/access_keys/create"' in html_text


# ---- console: Activate / Deactivate / Delete ---------------------------------------------------------------------


def test_console_delete_requires_an_inactive_key_and_its_typed_id(root_client, root_ctx):
    services.create_user(root_ctx, user_name="alice")
    key_id = credentials.create_access_key(root_ctx, user_name="alice").key.access_key_id
    services.tag_user(root_ctx, user_name="alice", tags=[services.Tag(key_id, "old key")])
    delete_url = "/iam/users/alice/access_keys/delete"

    dialog = root_client.get(f"{delete_url}?access_key_id={key_id}")
    assert dialog.status_code == 200 and "Deactivate it before you delete it" not in text(dialog)
    assert "This access key is active" in text(dialog)
    refused = root_client.post(delete_url, {"access_key_id": key_id, "confirm": key_id})
    assert refused.status_code == 400 and "Deactivate it before you delete it" in text(refused)
    assert AccessKey.objects.filter(access_key_id=key_id).exists()

    deactivated = root_client.post(
        "/iam/users/alice/access_keys/status", {"access_key_id": key_id, "status": "Inactive"}
    )
    assert deactivated.status_code == 302 and deactivated.url == "/iam/users/alice?tab=security_credentials"
    assert AccessKey.objects.get(access_key_id=key_id).status == "Inactive"
    mistyped = root_client.post(delete_url, {"access_key_id": key_id, "confirm": "alice"})
    assert mistyped.status_code == 400 and "enter the access key ID" in text(mistyped)

    deleted = root_client.post(delete_url, {"access_key_id": key_id, "confirm": key_id})

    assert deleted.status_code == 302
    assert not AccessKey.objects.filter(access_key_id=key_id).exists()
    assert IamUser.objects.get(name="alice").tags == []  # the description tag went with the key
    assert AuditEvent.objects.filter(event_name="DeleteAccessKey", error_code="").count() == 1


def test_console_activate_and_deactivate(root_client, root_ctx):
    services.create_user(root_ctx, user_name="alice")
    key_id = credentials.create_access_key(root_ctx, user_name="alice").key.access_key_id
    status_url = "/iam/users/alice/access_keys/status"

    root_client.post(status_url, {"access_key_id": key_id, "status": "Inactive"})
    page = text(root_client.get("/iam/security_credentials"))  # messages are shown on the next page
    assert f"Access key {key_id} deactivated." in page
    root_client.post(status_url, {"access_key_id": key_id, "status": "Active"})
    assert AccessKey.objects.get(access_key_id=key_id).status == "Active"
    assert root_client.get(status_url).status_code == 405


def test_root_creates_and_deletes_its_own_key_on_my_security_credentials(root_client, account):
    page = root_client.get("/iam/security_credentials")
    assert page.status_code == 200 and "My security credentials" in text(page)
    assert 'Access keys <span class="counter">(0)</span>' in page.content.decode()

    refused = root_client.post("/iam/security_credentials/access_keys/create", {"action": "create"})
    assert refused.status_code == 400 and not AccessKey.objects.exists()
    created = root_client.post("/iam/security_credentials/access_keys/create", {"action": "create", "confirm": "on"})

    assert created.status_code == 200
    key = AccessKey.objects.get()
    assert key.user is None and key.account_id == account.id
    assert 'download="rootkey.csv"' in created.content.decode()
    assert decrypt(key.secret_encrypted) in created.content.decode()
    root_client.post(
        "/iam/security_credentials/access_keys/status", {"access_key_id": key.access_key_id, "status": "Inactive"}
    )
    root_client.post(
        "/iam/security_credentials/access_keys/delete",
        {"access_key_id": key.access_key_id, "confirm": key.access_key_id},
    )
    assert not AccessKey.objects.exists()


def test_iam_user_manages_its_own_keys(root_ctx, account, managed_policies):
    make_console_user(root_ctx, "alice", "IAMFullAccess")
    client, _ = sign_in(account.id, "alice")

    page = client.get("/iam/security_credentials")
    assert page.status_code == 200 and "arn:aws:iam::111122223333:user/alice" in text(page)
    response = client.post(
        "/iam/security_credentials/access_keys/create",
        {"step": "2", "action": "create", "use_case": "local_code", "confirm": "on", "description": "my laptop"},
    )

    assert response.status_code == 200
    key = AccessKey.objects.get()
    assert key.user.name == "alice"
    assert 'download="alice_accessKeys.csv"' in response.content.decode()
    assert {"Key": key.access_key_id, "Value": "my laptop"} in IamUser.objects.get(name="alice").tags


def test_user_without_permissions_sees_why_in_each_section(root_ctx, account, managed_policies):
    make_console_user(root_ctx, "dave")
    client, _ = sign_in(account.id, "dave")

    page = client.get("/iam/security_credentials")

    assert page.status_code == 200
    body = text(page)
    assert "You don't have permission to iam:ListAccessKeys" in body
    assert "is not authorized to perform: iam:ListAccessKeys" in body
    assert client.get("/iam/security_credentials/access_keys/create").status_code == 403


def test_another_accounts_console_gets_404_and_changes_nothing(root_ctx, other_root_client):
    services.create_user(root_ctx, user_name="alice")
    key_id = credentials.create_access_key(root_ctx, user_name="alice").key.access_key_id

    for url in ("/iam/users/alice/access_keys/create", f"/iam/users/alice/access_keys/delete?access_key_id={key_id}"):
        assert other_root_client.get(url).status_code == 404, url
    assert (
        other_root_client.post(
            "/iam/users/alice/access_keys/status", {"access_key_id": key_id, "status": "Inactive"}
        ).status_code
        == 404
    )
    assert (
        other_root_client.post(
            "/iam/users/alice/access_keys/delete", {"access_key_id": key_id, "confirm": key_id}
        ).status_code
        == 404
    )
    # Its own pages don't reach account A's key either.
    assert (
        other_root_client.get(f"/iam/security_credentials/access_keys/delete?access_key_id={key_id}").status_code == 404
    )
    other_root_client.post(
        "/iam/security_credentials/access_keys/status", {"access_key_id": key_id, "status": "Inactive"}
    )
    page = other_root_client.get("/iam/security_credentials").content.decode()
    assert f"The Access Key with id {key_id} cannot be found." in html.unescape(page)  # its own input, echoed
    assert f'data-key="{key_id}"' not in page
    assert AccessKey.objects.get(access_key_id=key_id).status == "Active"


# ---- DeleteUser and the user's credentials ---------------------------------------------------------------------------


def test_delete_user_refuses_while_keys_remain_and_the_console_removes_them(root_ctx):
    from core.errors import DeleteConflict

    services.create_user(root_ctx, user_name="alice")
    key_id = credentials.create_access_key(root_ctx, user_name="alice").key.access_key_id
    with pytest.raises(DeleteConflict, match="Cannot delete entity, must delete access keys first."):
        services.delete_user(root_ctx, user_name="alice")

    workflows.delete_user_with_dependents(root_ctx, user_name="alice")

    assert not IamUser.objects.filter(name="alice").exists() and not AccessKey.objects.exists()
    assert AuditEvent.objects.filter(
        event_name="DeleteAccessKey", record__requestParameters__accessKeyId=key_id, error_code=""
    ).exists()
