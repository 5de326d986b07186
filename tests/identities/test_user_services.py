"""CreateUser and friends through the operation layer: success, validation, quotas, duplicates, isolation,
and that a failed call changes nothing but the audit trail."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from audit.models import AuditEvent
from core.errors import (
    DeleteConflict,
    EntityAlreadyExists,
    InvalidInput,
    LimitExceeded,
    NoSuchEntity,
    PasswordPolicyViolation,
    ValidationError,
)
from identities import services, workflows
from identities.models import GroupMembership, IamUser, LoginProfile
from identities.services import Tag
from policies import services as policy_services


def test_create_user_sets_aws_ids_and_arn_and_audits(root_ctx):
    user = services.create_user(root_ctx, user_name="Alice", path="/dev/")

    assert user.user_id.startswith("AIDA") and len(user.user_id) == 21
    assert user.arn == "arn:aws:iam::111122223333:user/dev/Alice"
    event = AuditEvent.objects.get(event_name="CreateUser")
    assert event.record["requestParameters"] == {"userName": "Alice", "path": "/dev/"}
    assert event.record["responseElements"]["user"]["userId"] == user.user_id
    assert event.record["userIdentity"]["type"] == "Root"
    assert event.resource_type == "AWS::IAM::User" and event.resource_name == "Alice"
    assert not event.error_code


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        ("bad name!", "Member must satisfy regular expression pattern: [\\w+=,.@-]+"),
        ("a" * 65, "Member must have length less than or equal to 64"),
        ("", "Member must have length greater than or equal to 1"),
        ("émile", "Member must satisfy regular expression pattern"),
    ],
)
def test_create_user_rejects_invalid_names_with_aws_wording(root_ctx, name, fragment):
    with pytest.raises(ValidationError) as err:
        services.create_user(root_ctx, user_name=name)
    # An empty name breaks both the pattern and the length constraint, and AWS lists both.
    count = "2 validation errors" if name == "" else "1 validation error"
    assert err.value.message.startswith(f"{count} detected: Value ")
    assert fragment in err.value.message
    assert not IamUser.objects.exists()
    assert AuditEvent.objects.get().error_code == "ValidationError"


def test_create_user_rejects_bad_path(root_ctx):
    with pytest.raises(ValidationError, match="at 'path'"):
        services.create_user(root_ctx, user_name="bob", path="no-slashes")


def test_user_names_are_unique_case_insensitively(root_ctx):
    services.create_user(root_ctx, user_name="alice")
    with pytest.raises(EntityAlreadyExists, match="User with name ALICE already exists."):
        services.create_user(root_ctx, user_name="ALICE")
    assert IamUser.objects.count() == 1


def test_same_name_in_another_account_is_independent(root_ctx, other_root_ctx):
    services.create_user(root_ctx, user_name="alice")
    services.create_user(other_root_ctx, user_name="alice")
    assert IamUser.objects.filter(name="alice").count() == 2
    assert services.list_users(other_root_ctx).count() == 1


def test_other_account_cannot_reach_a_user_by_name(root_ctx, other_root_ctx):
    services.create_user(root_ctx, user_name="alice")
    with pytest.raises(NoSuchEntity, match="The user with name alice cannot be found."):
        services.get_user(other_root_ctx, user_name="alice")
    with pytest.raises(NoSuchEntity):
        services.delete_user(other_root_ctx, user_name="alice")
    assert IamUser.objects.filter(account_id=root_ctx.account_id).exists()


def test_tags_limits_and_duplicates(root_ctx):
    with pytest.raises(InvalidInput, match="Duplicate tag keys found"):
        services.create_user(root_ctx, user_name="t1", tags=[Tag("Team", "a"), Tag("team", "b")])
    with pytest.raises(ValidationError, match="Member must have length less than or equal to 50"):
        services.create_user(root_ctx, user_name="t2", tags=[Tag(f"k{i}", "v") for i in range(51)])
    with pytest.raises(ValidationError, match="less than or equal to 128"):
        services.create_user(root_ctx, user_name="t3", tags=[Tag("k" * 129, "v")])
    with pytest.raises(ValidationError, match="less than or equal to 256"):
        services.create_user(root_ctx, user_name="t4", tags=[Tag("k", "v" * 257)])
    assert not IamUser.objects.exists()
    user = services.create_user(root_ctx, user_name="t5", tags=[Tag(f"k{i}", "v") for i in range(50)])
    with pytest.raises(LimitExceeded):
        services.tag_user(root_ctx, user_name="t5", tags=[Tag("one-more", "v")])
    services.tag_user(root_ctx, user_name="t5", tags=[Tag("K1", "overwritten")])
    user.refresh_from_db()
    assert len(user.tags) == 50 and {"Key": "K1", "Value": "overwritten"} in user.tags


def test_ten_groups_per_user(root_ctx):
    services.create_user(root_ctx, user_name="joiner")
    for i in range(11):
        services.create_group(root_ctx, group_name=f"g{i}")
    for i in range(10):
        services.add_user_to_group(root_ctx, group_name=f"g{i}", user_name="joiner")
    with pytest.raises(LimitExceeded, match="Cannot exceed quota for GroupsPerUser: 10"):
        services.add_user_to_group(root_ctx, group_name="g10", user_name="joiner")
    assert GroupMembership.objects.count() == 10


def test_delete_user_api_refuses_while_dependents_remain(root_ctx, managed_policies):
    services.create_user(root_ctx, user_name="dep")
    services.create_login_profile(root_ctx, user_name="dep", password="Sup3r-Secret!")
    with pytest.raises(DeleteConflict, match="must delete login profile first"):
        services.delete_user(root_ctx, user_name="dep")
    services.delete_login_profile(root_ctx, user_name="dep")
    policy_services.attach_user_policy(root_ctx, user_name="dep", policy_arn="arn:aws:iam::aws:policy/ReadOnlyAccess")
    with pytest.raises(DeleteConflict, match="must detach all policies first"):
        services.delete_user(root_ctx, user_name="dep")
    services.create_group(root_ctx, group_name="devs")
    services.add_user_to_group(root_ctx, group_name="devs", user_name="dep")
    policy_services.detach_user_policy(root_ctx, user_name="dep", policy_arn="arn:aws:iam::aws:policy/ReadOnlyAccess")
    with pytest.raises(DeleteConflict, match="must remove users from group first"):
        services.delete_user(root_ctx, user_name="dep")
    workflows.delete_user_with_dependents(root_ctx, user_name="dep")
    assert not IamUser.objects.exists()


def test_login_profile_password_policy_and_no_secret_in_audit(root_ctx):
    services.create_user(root_ctx, user_name="pw")
    with pytest.raises(PasswordPolicyViolation):
        services.create_login_profile(root_ctx, user_name="pw", password="short")
    assert not LoginProfile.objects.exists()
    services.create_login_profile(root_ctx, user_name="pw", password="Corr3ct-Horse", password_reset_required=True)
    profile = LoginProfile.objects.get()
    assert "Corr3ct-Horse" not in profile.password_hash and profile.password_hash.startswith("$argon2id$")
    for event in AuditEvent.objects.all():
        assert "Corr3ct-Horse" not in str(event.record) and "short" not in str(event.record.get("requestParameters"))


def test_wizard_is_all_or_nothing(root_ctx, managed_policies):
    policies = [p.arn for p in policy_services.list_policies(root_ctx, scope="AWS")[:11]]
    with pytest.raises(LimitExceeded, match="PoliciesPerUser: 10"):
        workflows.create_user_from_wizard(
            root_ctx, user_name="half", password="Sup3r-Secret!", require_reset=False, policies=policies
        )
    assert not IamUser.objects.filter(name="half").exists()
    assert not LoginProfile.objects.exists()
    # The failed call is history; the calls that were rolled back are not.
    names = list(
        AuditEvent.objects.filter(event_name__in=["CreateUser", "AttachUserPolicy"]).values_list(
            "event_name", "error_code"
        )
    )
    assert names == [("AttachUserPolicy", "LimitExceeded")]


@pytest.mark.django_db(transaction=True)
def test_parallel_creates_of_one_name_give_one_success(account, root_ctx):
    results: list[str] = []
    barrier = threading.Barrier(6)

    def create() -> None:
        try:
            barrier.wait()
            services.create_user(root_ctx, user_name="racer")
            results.append("ok")
        except EntityAlreadyExists:
            results.append("exists")
        except Exception as exc:  # anything else is a bug (a 500 in the console)
            results.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=create) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["exists"] * 5 + ["ok"]
    assert IamUser.objects.filter(name="racer").count() == 1
    assert AuditEvent.objects.filter(event_name="CreateUser", error_code="EntityAlreadyExists").count() == 5
