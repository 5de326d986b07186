"""The AWS CLI commands an IAM course uses, run with the real AWS CLI against a live server, in one account, in the
order a course takes them (issue 14 §3: "the AWS CLI commands a course uses all succeed").

The catalog follows AWS's own material: the IAM User Guide's tutorials (create an administrative user and group,
delegate access with a role, require MFA for a role, an EC2 instance profile, permissions boundaries, the password
policy and the credential report, the policy simulator) and the examples of the AWS CLI Command Reference
(``aws iam create-user``, ``create-virtual-mfa-device --bootstrap-method``, ``update-account-password-policy``,
``sts assume-role`` with its credentials exported to the environment, ``sts get-session-token --serial-number``…).
Every command must exit 0; where it matters the output is held to what AWS answers. Cleanup is the order the
User Guide gives for deleting a user (login profile, keys, MFA, policies, groups, then the user) and a role
(instance profiles, policies, then the role).

Course commands that the product does not answer as AWS does are left out of the catalog rather than skipped.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyotp
import pytest

from core import clock
from identities import credentials as mfa
from identities.tasks import build_credential_report
from tests.ec2.conftest import AMI

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

AWS = str(Path(sys.executable).with_name("aws"))

ALIAS = "acme-iam-course"
BUCKET = f"{ALIAS}-reports"
PASSWORDS = ("Course!Passw0rd-2026", "Course!Passw0rd-2027", "Course!Passw0rd-2028")
# Each command the test runs, in order ("iam create-user", …); the count is the report's number.
COMMANDS_RUN = 153


def policy(*statements: dict) -> dict:
    return {"Version": "2012-10-17", "Statement": list(statements)}


class Cli:
    """``aws`` with the live server's endpoints (IAM/STS on ``/aws``, S3 on ``/s3``, EC2 on ``/ec2``), the root's
    key as the default profile, files for ``file://`` arguments, and the list of the commands it ran."""

    def __init__(self, home: Path, server_url: str, root_keys: tuple[str, str]) -> None:
        self.home = home
        self.credentials, self.config = home / "credentials", home / "config"
        self.profiles: dict[str, dict[str, str]] = {}
        self.keys: dict[str, tuple[str, str]] = {}
        self.add_profile("default", keys=root_keys)
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        self.env.update(
            AWS_CONFIG_FILE=str(self.config),
            AWS_SHARED_CREDENTIALS_FILE=str(self.credentials),
            AWS_ENDPOINT_URL=f"{server_url}/aws",
            AWS_ENDPOINT_URL_S3=f"{server_url}/s3",
            AWS_ENDPOINT_URL_EC2=f"{server_url}/ec2",
            AWS_MAX_ATTEMPTS="1",
            HOME=str(home),
        )
        self.ran: list[str] = []

    def add_profile(self, name: str, *, keys: tuple[str, str] | None = None, **settings: str) -> None:
        if keys is not None:
            self.keys[name] = keys
        self.profiles[name] = {"region": "us-east-1", "output": "json", **settings}
        self.credentials.write_text(
            "".join(f"[{n}]\naws_access_key_id = {k}\naws_secret_access_key = {s}\n" for n, (k, s) in self.keys.items())
        )
        self.config.write_text(
            "".join(
                f"[{'default' if n == 'default' else f'profile {n}'}]\n"
                + "".join(f"{k} = {v}\n" for k, v in values.items())
                + "s3 =\n  addressing_style = path\n"
                for n, values in self.profiles.items()
            )
        )

    def file(self, name: str, document: Mapping[str, Any]) -> str:
        """A policy document written to a file, as the tutorials do, for ``file://``."""
        path = self.home / name
        path.write_text(json.dumps(document, indent=2))
        return f"file://{path}"

    def __call__(self, *args: str, profile: str | None = None, env: Mapping[str, str] | None = None) -> Any:
        """Run one command; it must exit 0. JSON output comes back parsed; ``aws s3`` and ``--output text`` as text."""
        argv = [AWS, *args, *(["--profile", profile] if profile else [])]
        done = subprocess.run(
            argv, capture_output=True, text=True, env={**self.env, **(env or {})}, timeout=120, cwd=self.home
        )
        assert done.returncode == 0, f"aws {' '.join(args)} failed ({done.returncode}): {done.stderr}"
        self.ran.append(" ".join(args[:2]))
        if args[0] == "s3" or ("--output", "text") in zip(args, args[1:], strict=False):
            return done.stdout
        return json.loads(done.stdout) if done.stdout.strip() else {}


def exported(credentials: Mapping[str, str]) -> dict[str, str]:
    """What ``export AWS_ACCESS_KEY_ID=… AWS_SECRET_ACCESS_KEY=… AWS_SESSION_TOKEN=…`` gives the next command."""
    return {
        "AWS_ACCESS_KEY_ID": credentials["AccessKeyId"],
        "AWS_SECRET_ACCESS_KEY": credentials["SecretAccessKey"],
        "AWS_SESSION_TOKEN": credentials["SessionToken"],
    }


@pytest.fixture
def aws(tmp_path, live_server, root_keys) -> Cli:
    return Cli(tmp_path, live_server.url, root_keys)


def test_an_iam_courses_cli_commands_all_succeed(aws, account):
    acct = account.id
    arn = f"arn:aws:iam::{acct}"

    # ---- 1. Who am I, the account's alias, password policy and summary --------------------------------------
    assert aws("sts", "get-caller-identity") == {"UserId": acct, "Account": acct, "Arn": f"{arn}:root"}
    assert aws("sts", "get-caller-identity", "--query", "Account", "--output", "text").strip() == acct
    aws("iam", "create-account-alias", "--account-alias", ALIAS)
    assert aws("iam", "list-account-aliases")["AccountAliases"] == [ALIAS]
    aws(
        "iam",
        "update-account-password-policy",
        "--minimum-password-length",
        "12",
        "--require-symbols",
        "--require-numbers",
        "--require-uppercase-characters",
        "--require-lowercase-characters",
        "--allow-users-to-change-password",
        "--max-password-age",
        "90",
        "--password-reuse-prevention",
        "5",
    )
    password_policy = aws("iam", "get-account-password-policy")["PasswordPolicy"]
    assert password_policy["MinimumPasswordLength"] == 12 and password_policy["PasswordReusePrevention"] == 5
    assert password_policy["ExpirePasswords"] is True and password_policy["AllowUsersToChangePassword"] is True
    assert aws("iam", "get-account-summary")["SummaryMap"]["Users"] == 0

    # ---- 2. Users, tags and sign-in passwords -------------------------------------------------------------------
    alice = aws("iam", "create-user", "--user-name", "Alice", "--tags", "Key=Department,Value=Engineering")["User"]
    assert alice["Arn"] == f"{arn}:user/Alice" and alice["UserId"].startswith("AIDA") and alice["Path"] == "/"
    bob = aws("iam", "create-user", "--user-name", "Bob", "--path", "/contractors/")["User"]
    assert bob["Arn"] == f"{arn}:user/contractors/Bob"
    aws("iam", "wait", "user-exists", "--user-name", "Bob")
    assert aws("iam", "get-user", "--user-name", "Alice")["User"]["Tags"] == [
        {"Key": "Department", "Value": "Engineering"}
    ]
    assert aws("iam", "list-users", "--query", "Users[].UserName") == ["Alice", "Bob"]
    assert aws("iam", "list-users", "--path-prefix", "/contractors/", "--query", "Users[].Arn") == [bob["Arn"]]
    aws("iam", "update-user", "--user-name", "Bob", "--new-user-name", "Robert")
    assert aws("iam", "get-user", "--user-name", "Robert")["User"]["Arn"] == f"{arn}:user/contractors/Robert"
    aws("iam", "tag-user", "--user-name", "Alice", "--tags", "Key=CostCenter,Value=1234")
    assert {t["Key"] for t in aws("iam", "list-user-tags", "--user-name", "Alice")["Tags"]} == {
        "Department",
        "CostCenter",
    }
    aws("iam", "untag-user", "--user-name", "Alice", "--tag-keys", "CostCenter")
    aws("iam", "create-login-profile", "--user-name", "Alice", "--password", PASSWORDS[0], "--password-reset-required")
    profile = aws("iam", "get-login-profile", "--user-name", "Alice")["LoginProfile"]
    assert profile["UserName"] == "Alice" and profile["PasswordResetRequired"] is True
    aws(
        "iam",
        "update-login-profile",
        "--user-name",
        "Alice",
        "--password",
        PASSWORDS[1],
        "--no-password-reset-required",
    )

    # ---- 3. Groups and membership -------------------------------------------------------------------------------
    group = aws("iam", "create-group", "--group-name", "Developers")["Group"]
    assert group["Arn"] == f"{arn}:group/Developers" and group["GroupId"].startswith("AGPA")
    aws("iam", "add-user-to-group", "--group-name", "Developers", "--user-name", "Alice")
    aws("iam", "add-user-to-group", "--group-name", "Developers", "--user-name", "Robert")
    members = aws("iam", "get-group", "--group-name", "Developers")
    assert sorted(u["UserName"] for u in members["Users"]) == ["Alice", "Robert"]
    assert aws("iam", "list-groups-for-user", "--user-name", "Alice", "--query", "Groups[].GroupName") == ["Developers"]
    assert aws("iam", "list-groups", "--query", "Groups[].GroupName") == ["Developers"]
    aws("iam", "remove-user-from-group", "--group-name", "Developers", "--user-name", "Robert")

    # ---- 4. Customer managed policies and their versions ----------------------------------------------------------
    read_reports = policy(
        {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": f"arn:aws:s3:::{BUCKET}"},
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{BUCKET}/*"},
    )
    created = aws(
        "iam",
        "create-policy",
        "--policy-name",
        "ReadReports",
        "--description",
        "Read the reports bucket",
        "--policy-document",
        aws.file("read-reports.json", read_reports),
    )["Policy"]
    policy_arn = created["Arn"]
    assert policy_arn == f"{arn}:policy/ReadReports" and created["DefaultVersionId"] == "v1"
    assert created["PolicyId"].startswith("ANPA") and "Description" not in created
    assert aws("iam", "get-policy", "--policy-arn", policy_arn)["Policy"]["Description"] == "Read the reports bucket"
    read_and_tag = policy(
        *read_reports["Statement"],
        {"Effect": "Allow", "Action": "s3:GetObjectTagging", "Resource": f"arn:aws:s3:::{BUCKET}/*"},
    )
    version = aws(
        "iam",
        "create-policy-version",
        "--policy-arn",
        policy_arn,
        "--policy-document",
        aws.file("read-reports-v2.json", read_and_tag),
        "--set-as-default",
    )["PolicyVersion"]
    assert version["VersionId"] == "v2" and version["IsDefaultVersion"] is True
    versions = aws("iam", "list-policy-versions", "--policy-arn", policy_arn)["Versions"]
    assert [(v["VersionId"], v["IsDefaultVersion"]) for v in versions] == [("v2", True), ("v1", False)]
    got = aws("iam", "get-policy-version", "--policy-arn", policy_arn, "--version-id", "v2")["PolicyVersion"]
    assert got["Document"] == read_and_tag
    aws("iam", "set-default-policy-version", "--policy-arn", policy_arn, "--version-id", "v1")
    aws("iam", "delete-policy-version", "--policy-arn", policy_arn, "--version-id", "v2")
    aws("iam", "tag-policy", "--policy-arn", policy_arn, "--tags", "Key=Team,Value=Reporting")
    assert aws("iam", "list-policy-tags", "--policy-arn", policy_arn)["Tags"] == [{"Key": "Team", "Value": "Reporting"}]
    assert aws("iam", "list-policies", "--scope", "Local", "--query", "Policies[].PolicyName") == ["ReadReports"]
    admin = aws("iam", "get-policy", "--policy-arn", "arn:aws:iam::aws:policy/AdministratorAccess")["Policy"]
    assert admin["PolicyName"] == "AdministratorAccess" and admin["IsAttachable"] is True
    listed = aws("iam", "list-policies", "--scope", "AWS", "--max-items", "5")
    assert len(listed["Policies"]) == 5 and listed["NextToken"]

    # ---- 5. Attaching managed policies; inline policies ---------------------------------------------------------
    aws("iam", "attach-group-policy", "--group-name", "Developers", "--policy-arn", policy_arn)
    change_password = "arn:aws:iam::aws:policy/IAMUserChangePassword"
    aws("iam", "attach-user-policy", "--user-name", "Alice", "--policy-arn", change_password)
    assert aws("iam", "list-attached-group-policies", "--group-name", "Developers")["AttachedPolicies"] == [
        {"PolicyName": "ReadReports", "PolicyArn": policy_arn}
    ]
    assert aws(
        "iam", "list-attached-user-policies", "--user-name", "Alice", "--query", "AttachedPolicies[].PolicyName"
    ) == ["IAMUserChangePassword"]
    entities = aws("iam", "list-entities-for-policy", "--policy-arn", policy_arn)
    assert [g["GroupName"] for g in entities["PolicyGroups"]] == ["Developers"]
    assert entities["PolicyUsers"] == [] and entities["PolicyRoles"] == []
    no_deletes = policy(
        {"Sid": "NoDeletes", "Effect": "Deny", "Action": "s3:DeleteObject", "Resource": f"arn:aws:s3:::{BUCKET}/*"}
    )
    aws(
        "iam",
        "put-group-policy",
        "--group-name",
        "Developers",
        "--policy-name",
        "NoDeletes",
        "--policy-document",
        aws.file("no-deletes.json", no_deletes),
    )
    assert aws("iam", "list-group-policies", "--group-name", "Developers")["PolicyNames"] == ["NoDeletes"]
    assert (
        aws("iam", "get-group-policy", "--group-name", "Developers", "--policy-name", "NoDeletes")["PolicyDocument"]
        == no_deletes
    )
    assume_audit = policy({"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": f"{arn}:role/AuditRole"})
    aws(
        "iam",
        "put-user-policy",
        "--user-name",
        "Alice",
        "--policy-name",
        "AssumeAuditRole",
        "--policy-document",
        aws.file("assume-audit.json", assume_audit),
    )
    assert aws("iam", "list-user-policies", "--user-name", "Alice")["PolicyNames"] == ["AssumeAuditRole"]
    inline = aws("iam", "get-user-policy", "--user-name", "Alice", "--policy-name", "AssumeAuditRole")
    assert inline["PolicyDocument"] == assume_audit

    # ---- 6. Access keys and the CLI as Alice ------------------------------------------------------------------
    key = aws("iam", "create-access-key", "--user-name", "Alice")["AccessKey"]
    assert key["AccessKeyId"].startswith("AKIA") and len(key["SecretAccessKey"]) == 40 and key["Status"] == "Active"
    aws.add_profile("alice", keys=(key["AccessKeyId"], key["SecretAccessKey"]))
    assert aws("sts", "get-caller-identity", profile="alice")["Arn"] == f"{arn}:user/Alice"
    last_used = aws("iam", "get-access-key-last-used", "--access-key-id", key["AccessKeyId"])
    assert last_used["UserName"] == "Alice" and last_used["AccessKeyLastUsed"]["ServiceName"] == "sts"
    assert aws("sts", "get-access-key-info", "--access-key-id", key["AccessKeyId"])["Account"] == acct
    spare = aws("iam", "create-access-key", "--user-name", "Alice")["AccessKey"]["AccessKeyId"]
    aws("iam", "update-access-key", "--user-name", "Alice", "--access-key-id", spare, "--status", "Inactive")
    statuses = aws("iam", "list-access-keys", "--user-name", "Alice")["AccessKeyMetadata"]
    assert {k["AccessKeyId"]: k["Status"] for k in statuses} == {key["AccessKeyId"]: "Active", spare: "Inactive"}
    aws("iam", "delete-access-key", "--user-name", "Alice", "--access-key-id", spare)
    aws("iam", "change-password", "--old-password", PASSWORDS[1], "--new-password", PASSWORDS[2], profile="alice")

    # ---- 7. A role for Alice: trust policy, settings, tags, assumed from a profile and with sts assume-role -----
    trust_alice = policy({"Effect": "Allow", "Principal": {"AWS": f"{arn}:user/Alice"}, "Action": "sts:AssumeRole"})
    role = aws(
        "iam",
        "create-role",
        "--role-name",
        "AuditRole",
        "--description",
        "Read-only auditing",
        "--assume-role-policy-document",
        aws.file("trust-alice.json", trust_alice),
    )["Role"]
    assert role["Arn"] == f"{arn}:role/AuditRole" and role["RoleId"].startswith("AROA")
    assert role["AssumeRolePolicyDocument"] == trust_alice
    aws("iam", "wait", "role-exists", "--role-name", "AuditRole")
    aws(
        "iam",
        "attach-role-policy",
        "--role-name",
        "AuditRole",
        "--policy-arn",
        "arn:aws:iam::aws:policy/ReadOnlyAccess",
    )
    assert aws(
        "iam", "list-attached-role-policies", "--role-name", "AuditRole", "--query", "AttachedPolicies[].PolicyName"
    ) == ["ReadOnlyAccess"]
    aws("iam", "update-role", "--role-name", "AuditRole", "--max-session-duration", "7200")
    aws("iam", "update-role-description", "--role-name", "AuditRole", "--description", "Read-only auditing (course)")
    got_role = aws("iam", "get-role", "--role-name", "AuditRole")["Role"]
    assert got_role["MaxSessionDuration"] == 7200 and got_role["Description"] == "Read-only auditing (course)"
    assert got_role["RoleLastUsed"] == {}
    aws("iam", "tag-role", "--role-name", "AuditRole", "--tags", "Key=Purpose,Value=Audit", "Key=Owner,Value=Alice")
    role_tags = aws("iam", "list-role-tags", "--role-name", "AuditRole")["Tags"]
    assert {t["Key"]: t["Value"] for t in role_tags} == {"Purpose": "Audit", "Owner": "Alice"}
    aws("iam", "untag-role", "--role-name", "AuditRole", "--tag-keys", "Owner")
    assert aws("iam", "list-roles", "--query", "Roles[].RoleName") == ["AuditRole"]
    aws.add_profile("auditor", role_arn=f"{arn}:role/AuditRole", source_profile="alice", role_session_name="alice-cli")
    assert aws("sts", "get-caller-identity", profile="auditor")["Arn"] == (
        f"arn:aws:sts::{acct}:assumed-role/AuditRole/alice-cli"
    )
    assumed = aws(
        "sts",
        "assume-role",
        "--role-arn",
        role["Arn"],
        "--role-session-name",
        "alice-audit",
        "--duration-seconds",
        "7200",
        profile="alice",
    )
    assert assumed["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{acct}:assumed-role/AuditRole/alice-audit"
    assert assumed["Credentials"]["AccessKeyId"].startswith("ASIA")
    lasts = datetime.fromisoformat(assumed["Credentials"]["Expiration"]) - datetime.now(UTC)
    assert 7000 < lasts.total_seconds() <= 7200
    as_role = exported(assumed["Credentials"])
    assert aws("sts", "get-caller-identity", env=as_role)["Arn"] == assumed["AssumedRoleUser"]["Arn"]
    assert "Alice" in aws("iam", "list-users", "--query", "Users[].UserName", env=as_role)

    # ---- 8. MFA: a virtual device for Alice, a session token with MFA, a role that requires MFA -----------------
    seed_file = aws.home / "alice-mfa-seed.txt"
    device = aws(
        "iam",
        "create-virtual-mfa-device",
        "--virtual-mfa-device-name",
        "AliceMFA",
        "--outfile",
        str(seed_file),
        "--bootstrap-method",
        "Base32StringSeed",
    )["VirtualMFADevice"]
    serial = device["SerialNumber"]
    assert serial == f"{arn}:mfa/AliceMFA"
    totp = pyotp.TOTP(seed_file.read_text().strip(), digits=mfa.TOTP_DIGITS, interval=mfa.TOTP_STEP_SECONDS)
    # The authenticator app's codes: the clock stands still so that two consecutive codes, then the next one,
    # are the ones the server expects (as a person reads them off the app, 30 seconds apart).
    with clock.frozen(clock.now()):
        step = mfa.totp_step(clock.now())

        def code(n: int) -> str:
            return totp.at(n * mfa.TOTP_STEP_SECONDS)

        aws(
            "iam",
            "enable-mfa-device",
            "--user-name",
            "Alice",
            "--serial-number",
            serial,
            "--authentication-code1",
            code(step - 1),
            "--authentication-code2",
            code(step),
        )
        session = aws(
            "sts",
            "get-session-token",
            "--serial-number",
            serial,
            "--token-code",
            code(step + 1),
            "--duration-seconds",
            "3600",
            profile="alice",
        )["Credentials"]
    assert session["AccessKeyId"].startswith("ASIA")
    with_mfa = exported(session)
    assert aws("sts", "get-caller-identity", env=with_mfa)["Arn"] == f"{arn}:user/Alice"
    assert aws("iam", "list-mfa-devices", "--user-name", "Alice")["MFADevices"][0]["SerialNumber"] == serial
    assigned = aws("iam", "list-virtual-mfa-devices", "--assignment-status", "Assigned")["VirtualMFADevices"]
    assert [(d["SerialNumber"], d["User"]["UserName"]) for d in assigned] == [(serial, "Alice")]
    trust_with_mfa = policy(
        {
            "Effect": "Allow",
            "Principal": {"AWS": f"{arn}:user/Alice"},
            "Action": "sts:AssumeRole",
            "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}},
        }
    )
    aws(
        "iam",
        "update-assume-role-policy",
        "--role-name",
        "AuditRole",
        "--policy-document",
        aws.file("trust-alice-mfa.json", trust_with_mfa),
    )
    assert aws("iam", "get-role", "--role-name", "AuditRole")["Role"]["AssumeRolePolicyDocument"] == trust_with_mfa
    mfa_session = aws(
        "sts", "assume-role", "--role-arn", role["Arn"], "--role-session-name", "alice-mfa", env=with_mfa
    )["AssumedRoleUser"]
    assert mfa_session["Arn"] == f"arn:aws:sts::{acct}:assumed-role/AuditRole/alice-mfa"

    # ---- 9. A permissions boundary --------------------------------------------------------------------------------
    aws("iam", "put-user-permissions-boundary", "--user-name", "Robert", "--permissions-boundary", policy_arn)
    boundary = aws("iam", "get-user", "--user-name", "Robert")["User"]["PermissionsBoundary"]
    assert boundary == {"PermissionsBoundaryType": "PermissionsBoundaryPolicy", "PermissionsBoundaryArn": policy_arn}
    aws("iam", "delete-user-permissions-boundary", "--user-name", "Robert")

    # ---- 10. The policy simulator ------------------------------------------------------------------------------
    simulated = aws(
        "iam",
        "simulate-principal-policy",
        "--policy-source-arn",
        alice["Arn"],
        "--action-names",
        "s3:GetObject",
        "s3:DeleteObject",
        "s3:PutObject",
        "--resource-arns",
        f"arn:aws:s3:::{BUCKET}/reports/q1.txt",
    )["EvaluationResults"]
    assert {r["EvalActionName"]: r["EvalDecision"] for r in simulated} == {
        "s3:GetObject": "allowed",
        "s3:DeleteObject": "explicitDeny",
        "s3:PutObject": "implicitDeny",
    }
    # --policy-input-list is a list: AWS CLI v1 splits a file:// document of it into characters, so the documents
    # go inline, as in the CLI reference's examples.
    custom = aws(
        "iam",
        "simulate-custom-policy",
        "--policy-input-list",
        json.dumps(read_reports),
        "--action-names",
        "s3:ListBucket",
        "s3:DeleteBucket",
        "--resource-arns",
        f"arn:aws:s3:::{BUCKET}",
    )["EvaluationResults"]
    assert [r["EvalDecision"] for r in custom] == ["allowed", "implicitDeny"]
    delete_with_mfa = policy(
        {
            "Effect": "Allow",
            "Action": "s3:DeleteObject",
            "Resource": f"arn:aws:s3:::{BUCKET}/*",
            "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}},
        }
    )
    keys = aws("iam", "get-context-keys-for-custom-policy", "--policy-input-list", json.dumps(delete_with_mfa))
    assert keys["ContextKeyNames"] == ["aws:MultiFactorAuthPresent"]

    # ---- 11. An EC2 instance with a role (instance profile) ---------------------------------------------------------
    ec2_trust = policy({"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"})
    aws(
        "iam",
        "create-role",
        "--role-name",
        "ReportsReader",
        "--assume-role-policy-document",
        aws.file("ec2-trust.json", ec2_trust),
    )
    aws("iam", "attach-role-policy", "--role-name", "ReportsReader", "--policy-arn", policy_arn)
    aws(
        "iam",
        "put-role-policy",
        "--role-name",
        "ReportsReader",
        "--policy-name",
        "NoDeletes",
        "--policy-document",
        aws.file("no-deletes.json", no_deletes),
    )
    assert aws("iam", "list-role-policies", "--role-name", "ReportsReader")["PolicyNames"] == ["NoDeletes"]
    assert (
        aws("iam", "get-role-policy", "--role-name", "ReportsReader", "--policy-name", "NoDeletes")["PolicyDocument"]
        == no_deletes
    )
    instance_profile = aws("iam", "create-instance-profile", "--instance-profile-name", "ReportsReader")
    profile_arn = instance_profile["InstanceProfile"]["Arn"]
    assert profile_arn == f"{arn}:instance-profile/ReportsReader"
    assert instance_profile["InstanceProfile"]["InstanceProfileId"].startswith("AIPA")
    aws(
        "iam",
        "add-role-to-instance-profile",
        "--instance-profile-name",
        "ReportsReader",
        "--role-name",
        "ReportsReader",
    )
    got_profile = aws("iam", "get-instance-profile", "--instance-profile-name", "ReportsReader")["InstanceProfile"]
    assert [r["RoleName"] for r in got_profile["Roles"]] == ["ReportsReader"]
    assert aws("iam", "list-instance-profiles", "--query", "InstanceProfiles[].InstanceProfileName") == [
        "ReportsReader"
    ]
    assert aws(
        "iam", "list-instance-profiles-for-role", "--role-name", "ReportsReader", "--query", "InstanceProfiles[].Arn"
    ) == [profile_arn]
    launched = aws(
        "ec2",
        "run-instances",
        "--image-id",
        AMI,
        "--instance-type",
        "t2.micro",
        "--count",
        "1",
        "--iam-instance-profile",
        "Name=ReportsReader",
        "--tag-specifications",
        "ResourceType=instance,Tags=[{Key=Name,Value=reports}]",
    )["Instances"][0]
    instance_id = launched["InstanceId"]
    assert instance_id.startswith("i-") and launched["IamInstanceProfile"]["Arn"] == profile_arn
    described = aws(
        "ec2",
        "describe-instances",
        "--instance-ids",
        instance_id,
        "--query",
        "Reservations[].Instances[].[InstanceType,IamInstanceProfile.Arn]",
    )
    assert described == [["t2.micro", profile_arn]]
    associations = aws("ec2", "describe-iam-instance-profile-associations")["IamInstanceProfileAssociations"]
    assert [(a["InstanceId"], a["IamInstanceProfile"]["Arn"]) for a in associations] == [(instance_id, profile_arn)]
    terminated = aws("ec2", "terminate-instances", "--instance-ids", instance_id)["TerminatingInstances"]
    assert terminated[0]["CurrentState"]["Name"] == "shutting-down"

    # ---- 12. S3: a bucket, objects, a bucket policy; Alice reads through her group's policy ------------------------
    aws("s3", "mb", f"s3://{BUCKET}")
    assert BUCKET in aws("s3", "ls")
    report = aws.home / "q1.txt"
    report.write_text("Q1 numbers\n")
    aws("s3", "cp", str(report), f"s3://{BUCKET}/reports/q1.txt")
    aws("s3", "cp", str(report), f"s3://{BUCKET}/reports/q2.txt")
    assert "q1.txt" in aws("s3", "ls", f"s3://{BUCKET}/reports/")
    listing = aws("s3api", "list-objects-v2", "--bucket", BUCKET, "--prefix", "reports/")
    assert [o["Key"] for o in listing["Contents"]] == ["reports/q1.txt", "reports/q2.txt"]
    assert "reports/" in aws("s3", "ls", f"s3://{BUCKET}", profile="alice")
    aws("s3", "cp", f"s3://{BUCKET}/reports/q1.txt", str(aws.home / "alice-q1.txt"), profile="alice")
    assert (aws.home / "alice-q1.txt").read_text() == "Q1 numbers\n"
    robert_reads = policy(
        {
            "Sid": "RobertReadsReports",
            "Effect": "Allow",
            "Principal": {"AWS": f"{arn}:user/contractors/Robert"},
            "Action": "s3:GetObject",
            "Resource": f"arn:aws:s3:::{BUCKET}/reports/*",
        }
    )
    aws("s3api", "put-bucket-policy", "--bucket", BUCKET, "--policy", aws.file("bucket-policy.json", robert_reads))
    assert json.loads(aws("s3api", "get-bucket-policy", "--bucket", BUCKET)["Policy"]) == robert_reads
    aws("s3api", "delete-bucket-policy", "--bucket", BUCKET)
    aws("s3", "rm", f"s3://{BUCKET}/reports/q2.txt")

    # ---- 13. Web identity federation: GitHub Actions' OIDC provider -----------------------------------------------
    github = aws(
        "iam",
        "create-open-id-connect-provider",
        "--url",
        "https://token.actions.githubusercontent.com",
        "--client-id-list",
        "sts.amazonaws.com",
        "--thumbprint-list",
        "6938fd4d98bab03faadb97b34396831e3780aea1",
    )["OpenIDConnectProviderArn"]
    assert github == f"{arn}:oidc-provider/token.actions.githubusercontent.com"
    assert aws("iam", "list-open-id-connect-providers")["OpenIDConnectProviderList"] == [{"Arn": github}]
    provider = aws("iam", "get-open-id-connect-provider", "--open-id-connect-provider-arn", github)
    assert provider["Url"] == "token.actions.githubusercontent.com" and provider["ClientIDList"] == [
        "sts.amazonaws.com"
    ]
    aws("iam", "delete-open-id-connect-provider", "--open-id-connect-provider-arn", github)

    # ---- 14. Reports: credential report, authorization details, last accessed, summary ---------------------------
    assert aws("iam", "generate-credential-report")["State"] == "STARTED"
    build_credential_report(acct)  # what the Celery worker does once the call has committed
    assert aws("iam", "generate-credential-report")["State"] == "COMPLETE"
    credential_report = aws("iam", "get-credential-report")
    csv_text = base64.b64decode(credential_report["Content"]).decode()
    assert credential_report["ReportFormat"] == "text/csv"
    assert csv_text.startswith("user,arn,user_creation_time,password_enabled,")
    rows = {line.split(",")[0]: line.split(",") for line in csv_text.splitlines()[1:]}
    assert set(rows) == {"<root_account>", "Alice", "Robert"} and rows["Alice"][7] == "true"  # mfa_active
    details = aws("iam", "get-account-authorization-details", "--filter", "User", "Role")
    users = {u["UserName"]: u for u in details["UserDetailList"]}
    assert users["Alice"]["GroupList"] == ["Developers"] and set(users) == {"Alice", "Robert"}
    assert {r["RoleName"] for r in details["RoleDetailList"]} == {"AuditRole", "ReportsReader"}
    job = aws("iam", "generate-service-last-accessed-details", "--arn", alice["Arn"])["JobId"]
    assert aws("iam", "get-service-last-accessed-details", "--job-id", job)["JobStatus"] == "COMPLETED"
    summary = aws("iam", "get-account-summary")["SummaryMap"]
    assert (summary["Users"], summary["Groups"], summary["Roles"], summary["Policies"]) == (2, 1, 2, 1)
    assert summary["MFADevicesInUse"] == 1 and summary["AccountMFAEnabled"] == 0

    # ---- 15. Cleanup, in the order AWS requires ------------------------------------------------------------------
    aws("s3", "rb", f"s3://{BUCKET}", "--force")
    aws(
        "iam",
        "remove-role-from-instance-profile",
        "--instance-profile-name",
        "ReportsReader",
        "--role-name",
        "ReportsReader",
    )
    aws("iam", "delete-instance-profile", "--instance-profile-name", "ReportsReader")
    aws("iam", "delete-role-policy", "--role-name", "ReportsReader", "--policy-name", "NoDeletes")
    aws("iam", "detach-role-policy", "--role-name", "ReportsReader", "--policy-arn", policy_arn)
    aws("iam", "delete-role", "--role-name", "ReportsReader")
    aws(
        "iam",
        "detach-role-policy",
        "--role-name",
        "AuditRole",
        "--policy-arn",
        "arn:aws:iam::aws:policy/ReadOnlyAccess",
    )
    aws("iam", "delete-role", "--role-name", "AuditRole")
    aws("iam", "deactivate-mfa-device", "--user-name", "Alice", "--serial-number", serial)
    aws("iam", "delete-virtual-mfa-device", "--serial-number", serial)
    aws("iam", "delete-login-profile", "--user-name", "Alice")
    aws("iam", "delete-access-key", "--user-name", "Alice", "--access-key-id", key["AccessKeyId"])
    aws("iam", "delete-user-policy", "--user-name", "Alice", "--policy-name", "AssumeAuditRole")
    aws("iam", "detach-user-policy", "--user-name", "Alice", "--policy-arn", change_password)
    aws("iam", "remove-user-from-group", "--group-name", "Developers", "--user-name", "Alice")
    aws("iam", "delete-user", "--user-name", "Alice")
    aws("iam", "delete-user", "--user-name", "Robert")
    aws("iam", "delete-group-policy", "--group-name", "Developers", "--policy-name", "NoDeletes")
    aws("iam", "detach-group-policy", "--group-name", "Developers", "--policy-arn", policy_arn)
    aws("iam", "delete-group", "--group-name", "Developers")
    aws("iam", "untag-policy", "--policy-arn", policy_arn, "--tag-keys", "Team")
    aws("iam", "delete-policy", "--policy-arn", policy_arn)
    aws("iam", "delete-account-password-policy")
    aws("iam", "delete-account-alias", "--account-alias", ALIAS)
    summary = aws("iam", "get-account-summary")["SummaryMap"]
    assert (summary["Users"], summary["Groups"], summary["Roles"], summary["Policies"]) == (0, 0, 0, 0)
    assert aws("iam", "list-account-aliases")["AccountAliases"] == []

    assert len(aws.ran) == COMMANDS_RUN, sorted(set(aws.ran))
