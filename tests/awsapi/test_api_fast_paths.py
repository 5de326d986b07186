"""The Query API's hot paths (issue 6) keep AWS's behaviour: GetUser reads the user once, a call that changes nothing
still leaves its event, CreateUser reports a taken name from the unique index, and DeleteUser checks every conflict
in one query and deletes the user with every dependent row in one statement."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audit.models import AuditEvent
from core import clock
from identities import services as identities
from identities.models import IamUser, MfaDevice, PasswordHistory
from tests.awsapi.test_query_counts import dev  # noqa: F401  (fixture: an IAM user allowed iam:*, in-process)


def _statements(call) -> list[str]:
    call()  # warm-up: parsed documents are cached per process
    with CaptureQueriesContext(connection) as captured:
        call()
    # Django's transaction markers (BEGIN/COMMIT, or the test transaction's savepoints) are not statements.
    return [
        q["sql"]
        for q in captured.captured_queries
        if "SAVEPOINT" not in q["sql"] and q["sql"] not in ("BEGIN", "COMMIT")
    ]


def test_get_user_reads_the_user_once_and_is_still_audited(dev, root_ctx, account):  # noqa: F811
    identities.create_user(root_ctx, user_name="alice", path="/team/")
    statements = _statements(lambda: dev.get_user(UserName="ALICE"))
    assert len(statements) == 3  # the access key with the caller's policies, the user, the audit row
    assert dev.get_user(UserName="ALICE")["User"]["Arn"] == f"arn:aws:iam::{account.id}:user/team/alice"
    assert AuditEvent.objects.filter(event_name="GetUser", username="dev", resource_name="alice").count() == 3


def test_a_missing_user_is_no_such_entity_and_audited(dev):  # noqa: F811
    with pytest.raises(ClientError) as raised:
        dev.get_user(UserName="nobody")
    assert raised.value.response["Error"]["Code"] == "NoSuchEntity"
    assert AuditEvent.objects.filter(event_name="GetUser", error_code="NoSuchEntity").count() == 1


def test_create_user_with_a_taken_name_is_entity_already_exists_and_the_next_call_works(dev):  # noqa: F811
    dev.create_user(UserName="carol")
    with pytest.raises(ClientError) as raised:
        dev.create_user(UserName="CAROL")
    assert raised.value.response["Error"]["Code"] == "EntityAlreadyExists"
    assert raised.value.response["Error"]["Message"] == "User with name CAROL already exists."
    assert AuditEvent.objects.filter(event_name="CreateUser", error_code="EntityAlreadyExists").count() == 1
    dev.create_user(UserName="dave")
    assert sorted(u["UserName"] for u in dev.list_users()["Users"]) == ["carol", "dave", "dev"]


def test_delete_user_removes_pending_mfa_devices_and_password_history(dev, account):  # noqa: F811
    dev.create_user(UserName="erin")
    erin = IamUser.objects.get(name="erin")
    PasswordHistory.objects.create(user=erin, password_hash="x", created_at=clock.now())
    MfaDevice.objects.create(
        account=account,
        user=erin,
        name="erin",
        secret_encrypted="x",
        created_at=clock.now(),
        serial_number=f"arn:aws:iam::{account.id}:mfa/erin",
    )
    dev.delete_user(UserName="erin")
    assert not IamUser.objects.filter(name="erin").exists()
    assert not PasswordHistory.objects.filter(user_id=erin.pk).exists()
    assert not MfaDevice.objects.filter(name="erin").exists()


def test_delete_user_refuses_with_an_enabled_mfa_device_then_a_group(dev, account, root_ctx):  # noqa: F811
    dev.create_user(UserName="frank")
    frank = IamUser.objects.get(name="frank")
    MfaDevice.objects.create(
        account=account,
        user=frank,
        name="frank",
        enabled_at=clock.now(),
        serial_number=f"arn:aws:iam::{account.id}:mfa/frank",
        secret_encrypted="x",
        created_at=clock.now(),
    )
    identities.create_group(root_ctx, group_name="ops")
    identities.add_user_to_group(root_ctx, group_name="ops", user_name="frank")
    with pytest.raises(ClientError) as raised:
        dev.delete_user(UserName="frank")
    assert raised.value.response["Error"]["Message"] == "Cannot delete entity, must delete MFA device first."
    MfaDevice.objects.filter(user=frank).delete()
    with pytest.raises(ClientError) as raised:
        dev.delete_user(UserName="frank")
    assert raised.value.response["Error"]["Message"] == "Cannot delete entity, must remove users from group first."
    assert IamUser.objects.filter(name="frank").exists()
