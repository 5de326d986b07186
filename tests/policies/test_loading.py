"""Loading the AWS managed policy catalog into the database: complete, idempotent, and able to apply updates."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from django.core.management import call_command

from policies.catalog.managed import managed_policies
from policies.loading import load_aws_managed_policies
from policies.models import ManagedPolicy, PolicyVersion

pytestmark = pytest.mark.django_db

ADMIN_ARN = "arn:aws:iam::aws:policy/AdministratorAccess"


def _aws_managed():
    return ManagedPolicy.objects.filter(account__isnull=True)


def test_every_catalog_policy_is_loaded_once_with_its_default_version(db):
    load_aws_managed_policies()
    catalog = managed_policies()
    assert len(catalog) >= 1500
    assert _aws_managed().count() == len(catalog)
    assert PolicyVersion.objects.filter(policy__account__isnull=True, is_default=True).count() == len(catalog)
    assert not _aws_managed().exclude(policy_id__startswith="ANPA").exists()


def test_administrator_access(db):
    load_aws_managed_policies()
    policy = ManagedPolicy.objects.get(arn=ADMIN_ARN)
    assert (policy.name, policy.path, policy.account_id) == ("AdministratorAccess", "/", None)
    assert policy.job_function
    assert policy.policy_type == "AWS managed - job function"
    assert policy.description == "Grants every action on every resource in the account."
    assert policy.created_at == datetime(2015, 2, 6, 18, 39, 46, tzinfo=UTC)
    version = policy.versions.get()
    assert version.is_default and version.version_id == policy.default_version_id == "v1"
    assert json.loads(version.document) == {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
    }
    assert version.document.startswith('{\n    "Version": "2012-10-17",\n    "Statement": [')  # 4-space indent


def test_job_function_path_and_arn(db):
    load_aws_managed_policies()
    view_only = ManagedPolicy.objects.get(name="ViewOnlyAccess", account__isnull=True)
    assert view_only.arn == "arn:aws:iam::aws:policy/job-function/ViewOnlyAccess"
    assert view_only.path == "/job-function/" and view_only.job_function


def test_second_run_changes_nothing(db):
    load_aws_managed_policies()
    before = dict(_aws_managed().values_list("arn", "policy_id"))
    assert load_aws_managed_policies() == 0
    assert dict(_aws_managed().values_list("arn", "policy_id")) == before
    assert PolicyVersion.objects.filter(policy__account__isnull=True).count() == len(before)


def test_reload_adds_missing_policies_and_moves_changed_ones_to_the_new_default(db):
    load_aws_managed_policies()
    ManagedPolicy.objects.get(arn="arn:aws:iam::aws:policy/IAMReadOnlyAccess").delete()
    admin = ManagedPolicy.objects.get(arn=ADMIN_ARN)
    # Pretend the database holds an older AWS version of the policy than the catalog.
    admin.versions.update(version_id="v0", document='{"Version": "2012-10-17", "Statement": []}')
    ManagedPolicy.objects.filter(pk=admin.pk).update(default_version_id="v0")

    assert load_aws_managed_policies() == 2

    assert ManagedPolicy.objects.filter(arn="arn:aws:iam::aws:policy/IAMReadOnlyAccess").exists()
    admin.refresh_from_db()
    assert admin.default_version_id == "v1" and admin.next_version_number == 2
    versions = {v.version_id: v for v in admin.versions.all()}
    assert set(versions) == {"v0", "v1"}  # the old version stays, as in AWS
    assert versions["v1"].is_default and not versions["v0"].is_default
    assert json.loads(versions["v1"].document)["Statement"][0]["Action"] == "*"
    assert load_aws_managed_policies() == 0


def test_load_managed_policies_command(db, capsys):
    load_aws_managed_policies()
    call_command("load_managed_policies")
    assert "0 added or updated" in capsys.readouterr().out
