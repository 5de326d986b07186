"""Lab 5 solved through the services: Bob gets a virtual MFA device (two consecutive codes from pyotp), a policy
that denies deletes unless MFA was used, and signs in with password + code. Wrong attempts: ``Bool`` instead of
``BoolIfExists`` (access-key requests slip through), MFA demanded for all work, and a sign-in without MFA.

Time never passes by sleeping: codes are computed for step-aligned moments and checked under ``clock.frozen``.
"""

from __future__ import annotations

import json
import math
import time
from datetime import UTC, datetime, timedelta

import pyotp
import pytest

from classroom.labs.facts import team_bucket_name
from console import services as console
from core import clock
from identities import credentials
from identities import services as users
from policies import services as policies
from s3 import services as s3
from tests.classroom.labs.conftest import lab_results, start_lab

SLUG = "mfa-deletes"
PASSWORD = "Bob-Passw0rd!2024"
STEP = timedelta(seconds=30)


@pytest.fixture
def t0():
    """The next TOTP step boundary: after the class was created, so the sign-in counts as "since the lab started"."""
    return datetime.fromtimestamp(math.ceil(time.time() / 30) * 30, UTC)


@pytest.fixture(autouse=True)
def _throttle_cleared(student):
    from console import throttle

    yield
    throttle.clear(student.account_id, "bob")


def bucket_arns(account_id: str) -> list[str]:
    """The account's own team bucket, team-bucket-<account ID>, and its objects."""
    name = team_bucket_name(account_id)
    return [f"arn:aws:s3:::{name}", f"arn:aws:s3:::{name}/*"]


def team_bucket_policy(account_id: str, operator: str = "BoolIfExists") -> str:
    arns = bucket_arns(account_id)
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Sid": "TeamBucket", "Effect": "Allow", "Action": "s3:*", "Resource": arns},
                {
                    "Sid": "DeletesNeedMFA",
                    "Effect": "Deny",
                    "Action": ["s3:DeleteObject", "s3:DeleteBucket"],
                    "Resource": arns,
                    "Condition": {operator: {"aws:MultiFactorAuthPresent": "false"}},
                },
            ],
        }
    )


def create_bob(ctx) -> None:
    users.create_user(ctx, user_name="bob")
    users.create_login_profile(ctx, user_name="bob", password=PASSWORD)


def assign_mfa(ctx, t0: datetime) -> str:
    """Assign MFA device → Authenticator app: two consecutive codes. Returns the seed (the phone's copy)."""
    setup = credentials.create_virtual_mfa_device(ctx, virtual_mfa_device_name="bob-phone")
    totp = pyotp.TOTP(setup.base32_string_seed)
    with clock.frozen(t0 + STEP):
        credentials.enable_mfa_device(
            ctx,
            user_name="bob",
            serial_number=setup.serial_number,
            authentication_code1=totp.at(t0),
            authentication_code2=totp.at(t0 + STEP),
        )
    return setup.base32_string_seed


def sign_in(account_id: str, *, seed: str | None, at: datetime) -> None:
    """The IAM user sign-in page, then the MFA step when Bob has a device."""
    with clock.frozen(at):
        signed = console.sign_in_user(
            account=account_id, user_name="bob", password=PASSWORD, source_ip="203.0.113.7", user_agent="Mozilla/5.0"
        )
        if seed is not None:
            assert console.mfa_required(account_id, signed.user)
            console.complete_mfa_sign_in(
                account_id=account_id,
                user_pk=signed.user.pk,
                code=pyotp.TOTP(seed).at(at),
                source_ip="203.0.113.7",
                user_agent="Mozilla/5.0",
            )


def test_solving_lab_5_passes_every_check(student, t0):
    before = lab_results(student.account_id, SLUG)
    assert not any(ok for ok, _ in before.values()), before
    assert before["signed-in-with-mfa"] == (False, "There is no IAM user named bob yet.")

    create_bob(student)
    seed = assign_mfa(student, t0)
    policies.put_user_policy(
        student,
        user_name="bob",
        policy_name="TeamBucketDeletesNeedMFA",
        policy_document=team_bucket_policy(student.account_id, "BoolIfExists"),
    )
    sign_in(student.account_id, seed=seed, at=t0 + 2 * STEP)

    after = lab_results(student.account_id, SLUG)
    assert all(ok for ok, _ in after.values()), after
    assert after["signed-in-with-mfa"][1] == "The trail shows bob signing in to the console with MFA."


def test_bool_lets_requests_signed_with_access_keys_delete(student, t0):
    create_bob(student)
    policies.put_user_policy(
        student,
        user_name="bob",
        policy_name="TeamBucketDeletesNeedMFA",
        policy_document=team_bucket_policy(student.account_id, "Bool"),
    )

    results = lab_results(student.account_id, SLUG)
    assert results["console-deletes-need-mfa"][0] and results["deletes-with-mfa"][0]
    assert results["key-deletes-need-mfa"] == (
        False,
        "A request signed with bob's access keys has no aws:MultiFactorAuthPresent key at all, and bob can "
        f"still s3:DeleteObject on arn:aws:s3:::team-bucket-{student.account_id}/reports/2024.csv: your "
        "condition stops a false value but not a missing one.",
    )


def test_no_deny_at_all_lets_a_password_alone_delete(student):
    create_bob(student)
    policies.put_user_policy(
        student,
        user_name="bob",
        policy_name="TeamBucket",
        policy_document=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": bucket_arns(student.account_id)}],
            }
        ),
    )

    results = lab_results(student.account_id, SLUG)
    assert results["works-without-mfa"][0]
    assert results["console-deletes-need-mfa"] == (
        False,
        "Signed in without MFA (aws:MultiFactorAuthPresent is false), bob can still s3:DeleteObject on "
        f"arn:aws:s3:::team-bucket-{student.account_id}/reports/2024.csv.",
    )


def test_demanding_mfa_for_all_work_is_too_strict(student):
    create_bob(student)
    policies.put_user_policy(
        student,
        user_name="bob",
        policy_name="AllNeedsMFA",
        policy_document=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": "s3:*",
                        "Resource": bucket_arns(student.account_id),
                        "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}},
                    }
                ],
            }
        ),
    )

    results = lab_results(student.account_id, SLUG)
    assert results["deletes-with-mfa"][0] and results["key-deletes-need-mfa"][0]
    assert results["works-without-mfa"] == (
        False,
        f"Without MFA bob is not allowed s3:ListBucket on arn:aws:s3:::team-bucket-{student.account_id}: only "
        "deletes should need it.",
    )


def test_a_sign_in_without_mfa_does_not_count(student, t0):
    create_bob(student)
    sign_in(student.account_id, seed=None, at=t0)  # before the device was assigned
    results = lab_results(student.account_id, SLUG)
    assert results["signed-in-with-mfa"] == (
        False,
        "bob signed in without MFA: sign in again once his MFA device is assigned.",
    )
    assert results["mfa-device"] == (False, "bob has no MFA device assigned yet.")

    seed = assign_mfa(student, t0)
    sign_in(student.account_id, seed=seed, at=t0 + 2 * STEP)
    results = lab_results(student.account_id, SLUG)
    assert results["signed-in-with-mfa"][0] and results["mfa-device"][0]


def test_a_wrong_code_leaves_no_mfa_sign_in(student, t0):
    create_bob(student)
    seed = assign_mfa(student, t0)
    with clock.frozen(t0 + 2 * STEP):
        signed = console.sign_in_user(
            account=student.account_id,
            user_name="bob",
            password=PASSWORD,
            source_ip="203.0.113.7",
            user_agent="Mozilla/5.0",
        )
        wrong = pyotp.TOTP(seed).at(t0 - 10 * STEP)
        with pytest.raises(console.SignInFailed):
            console.complete_mfa_sign_in(
                account_id=student.account_id,
                user_pk=signed.user.pk,
                code=wrong,
                source_ip="203.0.113.7",
                user_agent="Mozilla/5.0",
            )

    assert lab_results(student.account_id, SLUG)["signed-in-with-mfa"] == (
        False,
        "The trail shows no console sign-in by bob since the lab started.",
    )


def test_another_students_bob_does_not_count(student, other_student, t0):
    create_bob(other_student)
    seed = assign_mfa(other_student, t0)
    policies.put_user_policy(
        other_student,
        user_name="bob",
        policy_name="TeamBucketDeletesNeedMFA",
        policy_document=team_bucket_policy(other_student.account_id),
    )
    sign_in(other_student.account_id, seed=seed, at=t0 + 2 * STEP)
    assert all(ok for ok, _ in lab_results(other_student.account_id, SLUG).values())

    create_bob(student)  # same user name, nothing else: the other account's device and sign-in must not leak in
    results = lab_results(student.account_id, SLUG)
    assert results["mfa-device"] == (False, "bob has no MFA device assigned yet.")
    assert results["signed-in-with-mfa"] == (False, "The trail shows no console sign-in by bob since the lab started.")
    from console import throttle

    throttle.clear(other_student.account_id, "bob")


def test_the_lab_names_the_accounts_own_team_bucket_and_a_policy_on_another_name_does_not_count(student):
    create_bob(student)
    document = json.loads(team_bucket_policy(student.account_id))
    for statement in document["Statement"]:  # the bucket's name before names became global: not this account's
        statement["Resource"] = ["arn:aws:s3:::team-bucket", "arn:aws:s3:::team-bucket/*"]
    policies.put_user_policy(
        student, user_name="bob", policy_name="OldBucketName", policy_document=json.dumps(document)
    )
    results = lab_results(student.account_id, SLUG)
    assert results["console-deletes-need-mfa"] == (
        False,
        f"bob has no permissions on team-bucket-{student.account_id} yet, so there is nothing to protect.",
    )
    assert results["works-without-mfa"] == (
        False,
        f"bob is not allowed s3:ListBucket on arn:aws:s3:::team-bucket-{student.account_id}, even with MFA.",
    )


def test_the_starting_state_has_bob_and_the_team_bucket_with_a_report(student, instructor_ctx, klass):
    start_lab(instructor_ctx, klass, student.account_id, SLUG)
    bucket = team_bucket_name(student.account_id)
    assert [o["Key"] for o in s3.list_objects_v2(student, bucket=bucket).contents] == ["reports/2024.csv"]
    assert users.get_user(student, user_name="bob").name == "bob"
