"""Lab 7 with two real students: seat 1 trusts seat 2 (its partner), whose IAM user switches into the role.
Wrong attempts: trusting everyone, trusting the wrong classmate, a partner denied by their own policy, and a
class of one, where there is no partner at all."""

from __future__ import annotations

import json

import pytest

from classroom import services as classroom
from classroom.labs.facts import AccountFacts
from console.services import user_principal
from core.context import CallContext
from core.errors import AccessDenied
from identities import services as users
from identities import workflows
from policies import services as policies
from sts import services as sts
from tests.classroom.conftest import root_ctx_of
from tests.classroom.labs.conftest import lab_results

SLUG = "cross-account"
READ_ONLY = "arn:aws:iam::aws:policy/ReadOnlyAccess"


def trust(principal: str | list[str]) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"AWS": principal}, "Action": "sts:AssumeRole"}],
        }
    )


def create_role(ctx, principal: str | list[str]) -> str:
    return workflows.create_role_from_wizard(
        ctx, role_name="PartnerReadOnly", trust_policy=trust(principal), policies=[READ_ONLY]
    ).arn


def partner_user(partner_ctx, role_arn: str | None) -> CallContext:
    """An IAM user in the partner's account, allowed to assume ``role_arn`` (or nothing)."""
    user = users.create_user(partner_ctx, user_name="bob")
    if role_arn is not None:
        document = {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": role_arn}],
        }
        policies.put_user_policy(
            partner_ctx, user_name="bob", policy_name="AssumePartnerRole", policy_document=json.dumps(document)
        )
    return CallContext(user_principal(user), origin="console")


def test_solving_lab_7_with_the_partner_passes_every_check(students):
    student, partner = students[1], students[2]
    before = lab_results(student.account_id, SLUG)
    assert not any(ok for ok, _ in before.values())
    assert before["trusts-partner"][1] == (
        f"There is no role named PartnerReadOnly yet. Your partner's account is {partner.account_id}."
    )

    role_arn = create_role(student, f"arn:aws:iam::{partner.account_id}:root")
    bob = partner_user(partner, role_arn)
    mid = lab_results(student.account_id, SLUG)
    assert mid["trusts-partner"][0] and mid["trusts-no-stranger"][0] and mid["read-only"][0]
    assert mid["partner-assumed"] == (False, "Your partner has not assumed PartnerReadOnly yet.")

    # The partner's user uses Switch role with the student's account ID and the role name.
    sts.switch_role(bob, account_id=student.account_id, role_name="PartnerReadOnly", session_seconds_left=3600)

    after = lab_results(student.account_id, SLUG)
    assert all(ok for ok, _ in after.values()), after


def test_trusting_one_user_of_the_partner_counts_as_trusting_the_partner(students):
    student, partner = students[1], students[2]
    bob = partner_user(partner, f"arn:aws:iam::{student.account_id}:role/PartnerReadOnly")
    create_role(student, bob.principal.arn)
    results = lab_results(student.account_id, SLUG)
    assert results["trusts-partner"] == (True, "The trust policy of PartnerReadOnly admits your partner's account.")
    assert results["trusts-no-stranger"][0]


def test_trusting_everyone_is_rejected(students):
    student = students[1]
    create_role(student, "*")
    results = lab_results(student.account_id, SLUG)
    assert results["trusts-partner"][0]
    assert results["trusts-no-stranger"] == (
        False,
        "The trust policy of PartnerReadOnly also admits the account 999999999999, which is not your partner's.",
    )


def test_trusting_the_wrong_classmate_is_rejected(students):
    student, partner, third = students[1], students[2], students[3]
    create_role(student, f"arn:aws:iam::{third.account_id}:root")
    results = lab_results(student.account_id, SLUG)
    assert results["trusts-partner"] == (
        False,
        f"The trust policy of PartnerReadOnly admits no one from your partner's account {partner.account_id}.",
    )
    assert results["trusts-no-stranger"] == (
        False,
        f"The trust policy of PartnerReadOnly also admits the account {third.account_id}, which is not your partner's.",
    )
    # The third student assuming the role is not the partner's doing.
    carol = partner_user(third, f"arn:aws:iam::{student.account_id}:role/PartnerReadOnly")
    sts.switch_role(carol, account_id=student.account_id, role_name="PartnerReadOnly", session_seconds_left=3600)
    assert lab_results(student.account_id, SLUG)["partner-assumed"][1] == (
        "Your partner has not assumed PartnerReadOnly yet."
    )


def test_a_partner_without_permission_of_their_own_is_denied(students):
    student, partner = students[1], students[2]
    create_role(student, f"arn:aws:iam::{partner.account_id}:root")
    bob = partner_user(partner, None)
    with pytest.raises(AccessDenied):
        sts.switch_role(bob, account_id=student.account_id, role_name="PartnerReadOnly", session_seconds_left=3600)
    assert lab_results(student.account_id, SLUG)["partner-assumed"] == (
        False,
        "Your partner tried to assume PartnerReadOnly and was denied: check the trust policy, and ask them to "
        "check that their own policy allows sts:AssumeRole on your role.",
    )


def test_administrator_access_is_not_read_only(students):
    student, partner = students[1], students[2]
    workflows.create_role_from_wizard(
        student,
        role_name="PartnerReadOnly",
        trust_policy=trust(f"arn:aws:iam::{partner.account_id}:root"),
        policies=["arn:aws:iam::aws:policy/AdministratorAccess"],
    )
    assert lab_results(student.account_id, SLUG)["read-only"] == (
        False,
        "A session of PartnerReadOnly can change things: iam:CreateUser is allowed.",
    )


def test_partners_go_round_the_class_and_a_class_of_one_has_none(students, instructor_ctx):
    assert AccountFacts(students[3].account_id).partner_account_id() == students[1].account_id
    assert AccountFacts(students[2].account_id).partner_account_id() == students[3].account_id

    _, issued = classroom.create_class(instructor_ctx, title="Private lesson", students=1, alias_prefix="solo")
    alone = root_ctx_of(issued[0].seat.account_id)
    results = lab_results(alone.account_id, SLUG)
    assert results["trusts-partner"] == (
        False,
        "This lab needs a partner — the next student by seat number in your "
        "class — and your class has no other student: ask your instructor.",
    )
    assert results["partner-assumed"][1] == results["trusts-partner"][1]


def test_trusting_the_partner_and_one_user_of_another_classmate_is_rejected(students):
    student, partner, third = students[1], students[2], students[3]
    carol = users.create_user(third, user_name="carol")
    create_role(student, [f"arn:aws:iam::{partner.account_id}:root", carol.arn])
    results = lab_results(student.account_id, SLUG)
    assert results["trusts-partner"][0]
    assert results["trusts-no-stranger"] == (
        False,
        f"The trust policy of PartnerReadOnly also admits the account {third.account_id}, which is not your partner's.",
    )


def test_writing_the_accounts_own_team_bucket_is_not_read_only(students):
    student, partner = students[1], students[2]
    create_role(student, f"arn:aws:iam::{partner.account_id}:root")
    bucket = f"team-bucket-{student.account_id}"
    elsewhere = {"Effect": "Allow", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::team-bucket/*"}
    write = {**elsewhere, "Resource": f"arn:aws:s3:::{bucket}/*"}
    for name, statement in (("OldBucketName", elsewhere), ("TeamBucketWrites", write)):
        policies.put_role_policy(
            student,
            role_name="PartnerReadOnly",
            policy_name=name,
            policy_document=json.dumps({"Version": "2012-10-17", "Statement": [statement]}),
        )
        if name == "OldBucketName":  # a bucket this account does not own: no write to the team bucket yet
            assert lab_results(student.account_id, SLUG)["read-only"][0]
    assert lab_results(student.account_id, SLUG)["read-only"] == (
        False,
        f"A session of PartnerReadOnly can change things: s3:PutObject on arn:aws:s3:::{bucket}/report.csv is allowed.",
    )


def test_a_role_that_cannot_read_the_team_bucket_is_told_which_object(students):
    student, partner = students[1], students[2]
    workflows.create_role_from_wizard(
        student,
        role_name="PartnerReadOnly",
        trust_policy=trust(f"arn:aws:iam::{partner.account_id}:root"),
        policies=["arn:aws:iam::aws:policy/IAMReadOnlyAccess"],
    )
    assert lab_results(student.account_id, SLUG)["read-only"] == (
        False,
        "A session of PartnerReadOnly cannot read everything: s3:GetObject on "
        f"arn:aws:s3:::team-bucket-{student.account_id}/report.csv is not allowed.",
    )
