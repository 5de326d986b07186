"""Public API: purity, Decision rendering, Request helpers."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from policies.engine import (
    Decision,
    LabelledPolicy,
    PolicySet,
    Principal,
    Request,
    StatementRef,
    evaluate,
    parse_policy,
)

ROOT = Path(__file__).resolve().parents[3]


def test_importing_engine_loads_no_django() -> None:
    code = (
        "import sys, policies.engine, policies.engine.cli; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'django'))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "[]"


def test_no_django_import_in_engine_sources() -> None:
    engine = ROOT / "policies" / "engine"
    for path in engine.glob("*.py"):
        if path.name != "catalog_checks.py":
            assert "django" not in path.read_text(encoding="utf-8"), path


@pytest.mark.parametrize(
    ("decision", "text"),
    [
        (
            Decision("ImplicitDeny", (), "identity", "iam:CreateUser"),
            "because no identity-based policy allows the iam:CreateUser action",
        ),
        (
            Decision("ImplicitDeny", (), "permissions_boundary", "s3:GetObject"),
            "because no permissions boundary allows the s3:GetObject action",
        ),
        (
            Decision("ImplicitDeny", (), "session", "s3:GetObject"),
            "because no session policy allows the s3:GetObject action",
        ),
        (
            Decision("ImplicitDeny", (), "scp", "s3:GetObject"),
            "because no service control policy allows the s3:GetObject action",
        ),
        (
            Decision("ImplicitDeny", (), "resource", "s3:GetObject"),
            "because no resource-based policy allows the s3:GetObject action",
        ),
        (
            Decision("ImplicitDeny", (), "trust", "sts:AssumeRole"),
            "because no role trust policy allows the sts:AssumeRole action",
        ),
        (
            Decision("ExplicitDeny", (StatementRef("p", "identity", 0, None),), None, "x:Y"),
            "with an explicit deny in an identity-based policy",
        ),
        (
            Decision("ExplicitDeny", (StatementRef("p", "permissions_boundary", 0, None),), None, "x:Y"),
            "with an explicit deny in a permissions boundary",
        ),
        (
            Decision("ExplicitDeny", (StatementRef("p", "scp", 0, None),), None, "x:Y"),
            "with an explicit deny in a service control policy",
        ),
        (
            Decision("ExplicitDeny", (StatementRef("p", "resource", 0, None),), None, "x:Y"),
            "with an explicit deny in a resource-based policy",
        ),
        (
            Decision("ExplicitDeny", (StatementRef("p", "session", 0, None),), None, "x:Y"),
            "with an explicit deny in a session policy",
        ),
    ],
)
def test_reason_suffix(decision: Decision, text: str) -> None:
    assert decision.reason() == text


BOB = Principal("IAMUser", "arn:aws:iam::123456789012:user/bob", "123456789012", "bob")


def test_access_denied_message_matches_aws_wording() -> None:
    request = Request(BOB, "iam:CreateUser", "arn:aws:iam::123456789012:user/alice")
    decision = evaluate(request, PolicySet())
    assert decision.access_denied_message(BOB.arn, request.resource) == (
        "User: arn:aws:iam::123456789012:user/bob is not authorized to perform: iam:CreateUser on resource: "
        "arn:aws:iam::123456789012:user/alice because no identity-based policy allows the iam:CreateUser action"
    )


def test_condition_notes_name_the_keys_that_mattered() -> None:
    doc = parse_policy(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "NoMfaNoDelete",
                    "Effect": "Deny",
                    "Action": "s3:DeleteBucket",
                    "Resource": "*",
                    "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}},
                },
                {"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
            ],
        }
    )
    decision = evaluate(
        Request(BOB, "s3:DeleteBucket", "arn:aws:s3:::b"),
        PolicySet(identity=(LabelledPolicy("inline user/bob/S3", doc),)),
    )
    assert decision.outcome == "ExplicitDeny"
    assert decision.deciding == (StatementRef("inline user/bob/S3", "identity", 0, "NoMfaNoDelete"),)
    (note,) = decision.condition_notes
    assert (note.key, note.request_value, note.result) == ("aws:MultiFactorAuthPresent", None, True)


def test_with_action_reuses_context() -> None:
    request = Request(BOB, "s3:GetObject", "*", None, {"AWS:UserName": "bob"})
    other = request.with_action("s3:PutObject", "arn:aws:s3:::b/k")
    assert other.ctx is request.ctx and other.action_lc == "s3:putobject" and other.resource == "arn:aws:s3:::b/k"
    assert request.ctx["aws:username"] == "bob"


def test_compiled_cache_not_part_of_equality() -> None:
    text = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
    a, b = parse_policy(text), parse_policy(text)
    evaluate(Request(BOB, "s3:GetObject"), PolicySet(identity=(LabelledPolicy("a", a),)))
    assert a == b and a.compiled is not None and b.compiled is None
