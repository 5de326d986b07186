"""The class-room commands: print_access_key gives keys that work; reset_account empties IAM quickly and keeps
the root user's credentials."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command

from core.context import CallContext
from identities import credentials, instance_profiles, services
from identities.models import AccessKey, Account, Group, IamUser, Role
from identities.reset import reset_account_iam
from policies import services as policies
from policies.models import ManagedPolicy
from tests.awsapi.conftest import issue_key

pytestmark = pytest.mark.django_db

DOC = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]})


def run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_print_access_key_for_a_user_and_root(root_ctx, account):
    services.create_user(root_ctx, user_name="alice")
    printed = json.loads(run("print_access_key", account.id, "--user", "alice", "--format", "json"))
    key = AccessKey.objects.get(access_key_id=printed["AccessKeyId"])
    assert key.user.name == "alice" and len(printed["SecretAccessKey"]) == 40
    profile = run("print_access_key", "1111-2222-3333")
    assert profile.startswith("[root]\naws_access_key_id = AKIA")
    assert AccessKey.objects.filter(account_id=account.id, user__isnull=True).count() == 1


def _populate(ctx: CallContext) -> None:
    for name in ("alice", "bob", "carol"):
        services.create_user(ctx, user_name=name)
        services.create_login_profile(ctx, user_name=name, password="Passw0rd!-long")
        credentials.create_access_key(ctx, user_name=name)
    services.create_group(ctx, group_name="devs")
    services.add_user_to_group(ctx, group_name="devs", user_name="alice")
    policy = policies.create_policy(ctx, policy_name="s3", policy_document=DOC)
    policies.create_policy_version(ctx, policy_arn=policy.arn, policy_document=DOC, set_as_default=True)
    policies.attach_group_policy(ctx, group_name="devs", policy_arn=policy.arn)
    services.put_user_permissions_boundary(ctx, user_name="bob", permissions_boundary=policy.arn)
    policies.put_user_policy(ctx, user_name="carol", policy_name="inline", policy_document=DOC)
    from identities import roles

    trust = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}
            ],
        }
    )
    roles.create_role(ctx, role_name="web", assume_role_policy_document=trust)
    policies.attach_role_policy(ctx, role_name="web", policy_arn="arn:aws:iam::aws:policy/ReadOnlyAccess")
    instance_profiles.create_instance_profile(ctx, instance_profile_name="web")
    instance_profiles.add_role_to_instance_profile(ctx, instance_profile_name="web", role_name="web")
    credentials.create_virtual_mfa_device(ctx, virtual_mfa_device_name="spare")


def test_reset_account_empties_iam_and_keeps_root(root_ctx, account, other_root_ctx, managed_policies):
    root_key, _ = issue_key(account.id)
    _populate(root_ctx)
    _populate(other_root_ctx)
    Account.objects.filter(pk=account.id).update(alias="class-a")
    reset_account_iam(account.id)
    acct = account.id
    assert not IamUser.objects.filter(account_id=acct).exists() and not Group.objects.filter(account_id=acct).exists()
    assert not Role.objects.filter(account_id=acct).exists()
    assert not ManagedPolicy.objects.filter(account_id=acct).exists()
    assert list(AccessKey.objects.filter(account_id=acct).values_list("access_key_id", flat=True)) == [root_key]
    refreshed = Account.objects.get(pk=acct)
    assert refreshed.alias is None and refreshed.root_password_hash == account.root_password_hash
    assert IamUser.objects.filter(account_id=other_root_ctx.account_id).count() == 3  # other accounts untouched
    assert ManagedPolicy.objects.filter(account__isnull=True).count() > 1000  # the AWS catalog too
    _populate(root_ctx)  # the account is usable again at once, names included


def test_reset_command_needs_confirmation(account, root_ctx):
    services.create_user(root_ctx, user_name="alice")
    with pytest.raises(Exception, match="add --yes"):
        run("reset_account", account.id)
    assert IamUser.objects.filter(account_id=account.id).exists()
    assert "1 users" in run("reset_account", account.id, "--yes")
    assert not IamUser.objects.filter(account_id=account.id).exists()
