"""The policy simulator gives exactly what ``python -m policies.engine evaluate`` gives for the same requests."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from identities import services
from policies import services as policy_services
from policies import simulator

ROOT = Path(__file__).resolve().parents[2]


def _cli(cases: list[dict]) -> list[dict]:
    lines = "\n".join(json.dumps(c) for c in cases) + "\n"
    out = subprocess.run(
        [sys.executable, "-m", "policies.engine", "evaluate", "-"],
        input=lines,
        text=True,
        capture_output=True,
        cwd=ROOT,
        check=True,
    )
    return [json.loads(line) for line in out.stdout.splitlines()]


def _boundary_user(root_ctx):
    services.create_user(root_ctx, user_name="carol")
    policy_services.attach_user_policy(
        root_ctx, user_name="carol", policy_arn="arn:aws:iam::aws:policy/AmazonS3FullAccess"
    )
    services.put_user_permissions_boundary(
        root_ctx, user_name="carol", permissions_boundary="arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"
    )


def test_console_results_match_the_command_line(root_ctx, managed_policies):
    _boundary_user(root_ctx)
    simulation = simulator.for_principal(root_ctx, "user", "carol")
    results = simulator.run(
        root_ctx,
        simulation,
        ["s3:GetObject", "s3:PutObject", "ec2:RunInstances"],
        ["arn:aws:s3:::team-bucket/report.csv"],
        {},
    )
    cli = _cli([r.case for r in results])
    assert [(r.decision, r.deciding) for r in results] == [(c["decision"], c["deciding"]) for c in cli]
    assert [r.decision for r in results] == ["Allow", "ImplicitDeny", "ImplicitDeny"]
    assert results[1].deciding == [{"layer": "permissions_boundary"}]


def test_simulator_page_names_the_boundary(root_client, root_ctx, managed_policies):
    _boundary_user(root_ctx)
    page = root_client.post(
        "/iam/policy_simulator",
        {
            "mode": "principal",
            "principal": "user:carol",
            "service": "s3",
            "actions": ["s3:PutObject", "s3:GetObject"],
            "resources": "arn:aws:s3:::team-bucket/x",
        },
    )
    text = page.content.decode()
    assert page.status_code == 200
    assert "Denied (implicit)" in text and "Allowed" in text
    assert "permissions_boundary" in text and 'data-testid="deciding-statement"' in text


def test_custom_policies_with_explicit_deny(root_client):
    allow = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]})
    scp = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Action": "*", "Resource": "*"},
                {"Sid": "NoDeletes", "Effect": "Deny", "Action": "s3:DeleteBucket", "Resource": "*"},
            ],
        }
    )
    page = root_client.post(
        "/iam/policy_simulator",
        {
            "mode": "custom",
            "identity": [allow],
            "scps": [scp],
            "service": "s3",
            "actions": ["s3:DeleteBucket", "s3:ListBucket"],
        },
    )
    text = page.content.decode()
    assert "Denied (explicit)" in text and "NoDeletes" in text and "Allowed" in text


def test_bad_input_is_explained(root_client):
    page = root_client.post(
        "/iam/policy_simulator", {"mode": "principal", "principal": "user:ghost", "actions": ["s3:GetObject"]}
    )
    assert page.status_code == 400 and b"The user with name ghost cannot be found." in page.content
    page = root_client.post(
        "/iam/policy_simulator",
        {"mode": "custom", "identity": ["{nope"], "actions": ["s3:GetObject"], "context": "no-equals-sign"},
    )
    assert page.status_code == 400


def test_other_account_principals_are_not_simulated(root_ctx, other_root_client, managed_policies):
    _boundary_user(root_ctx)
    page = other_root_client.post(
        "/iam/policy_simulator", {"mode": "principal", "principal": "user:carol", "actions": ["s3:GetObject"]}
    )
    assert page.status_code == 400
