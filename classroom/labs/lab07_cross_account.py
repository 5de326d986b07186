"""Lab 7: a role that the partner's account (the next student by seat number) may assume, to read and nothing more.

The checks look into the partner's account only to answer yes or no (does its trail show the AssumeRole, is
one of its principals admitted); they never name the partner's users, roles or events to the student.
"""

from __future__ import annotations

import re

from audit.models import AuditEvent
from classroom.labs.base import Check, Lab, Outcome, failed, not_yet, passed
from classroom.labs.facts import AccountFacts, team_bucket_name

ROLE = "PartnerReadOnly"
STRANGER = "999999999999"  # an account outside the class: no seat has it
# (action, resource) a session of the role asks for; "{bucket}" is the account's team bucket, team-bucket-<account ID>.
READS = (
    ("iam:ListUsers", "*"),
    ("s3:GetObject", "arn:aws:s3:::{bucket}/report.csv"),
    ("ec2:DescribeInstances", "*"),
)
WRITES = (
    ("iam:CreateUser", "*"),
    ("s3:PutObject", "arn:aws:s3:::{bucket}/report.csv"),
    ("ec2:TerminateInstances", "*"),
)
NO_PARTNER = (
    "This lab needs a partner — the next student by seat number in your class — and your class has no "
    "other student: ask your instructor."
)


def trusts_partner(facts: AccountFacts) -> Outcome:
    partner = facts.partner_account_id()
    if partner is None:
        return failed(NO_PARTNER)
    if facts.role(ROLE) is None:
        return not_yet(f"There is no role named {ROLE} yet. Your partner's account is {partner}.")
    if not any(facts.trust_admits(ROLE, {"AWS": arn}) for arn in facts.partner_principals()):
        return failed(f"The trust policy of {ROLE} admits no one from your partner's account {partner}.")
    return passed(f"The trust policy of {ROLE} admits your partner's account.")


def trusts_no_stranger(facts: AccountFacts) -> Outcome:
    role = facts.role(ROLE)
    if role is None:
        return not_yet(f"There is no role named {ROLE} yet.")
    text = role.assume_role_policy
    for account in (STRANGER, *facts.classmates_named_in(text)):
        named = re.findall(rf"arn:aws:iam::{account}:[\w+=,.@/-]+", text)
        for arn in (f"arn:aws:iam::{account}:root", f"arn:aws:iam::{account}:user/mallory", *named):
            if facts.trust_admits(ROLE, {"AWS": arn}):
                return failed(
                    f"The trust policy of {ROLE} also admits the account {account}, which is not your partner's."
                )
    return passed(f"No account but your partner's may assume {ROLE}.")


def read_only(facts: AccountFacts) -> Outcome:
    if facts.role(ROLE) is None:
        return not_yet(f"There is no role named {ROLE} yet.")
    bucket = team_bucket_name(facts.account_id)
    asked = [(action, resource.format(bucket=bucket)) for action, resource in READS + WRITES]
    allowed = [facts.can("role", ROLE, action, resource) for action, resource in asked]
    for (action, resource), ok in zip(asked[: len(READS)], allowed[: len(READS)], strict=True):
        if not ok:
            return failed(f"A session of {ROLE} cannot read everything: {action}{_on(resource)} is not allowed.")
    for (action, resource), ok in zip(asked[len(READS) :], allowed[len(READS) :], strict=True):
        if ok:
            return failed(f"A session of {ROLE} can change things: {action}{_on(resource)} is allowed.")
    return passed(f"A session of {ROLE} can read the account and change nothing.")


def _on(resource: str) -> str:
    return "" if resource == "*" else f" on {resource}"


def partner_assumed(facts: AccountFacts) -> Outcome:
    partner = facts.partner_account_id()
    if partner is None:
        return failed(NO_PARTNER)
    role = facts.role(ROLE)
    if role is None:
        return not_yet(f"There is no role named {ROLE} yet.")
    # AssumeRole is recorded in the caller's trail: the partner's. Only whether it happened is shown.
    attempts = AuditEvent.objects.filter(
        account_id=partner, event_name="AssumeRole", record__requestParameters__roleArn=role.arn
    )
    if facts.since is not None:
        attempts = attempts.filter(event_time__gte=facts.since)
    if attempts.filter(error_code="").exists():
        return passed(f"Your partner has assumed {ROLE}.")
    if attempts.exists():
        return failed(
            f"Your partner tried to assume {ROLE} and was denied: check the trust policy, and ask them "
            "to check that their own policy allows sts:AssumeRole on your role."
        )
    return not_yet(f"Your partner has not assumed {ROLE} yet.")


LAB = Lab(
    number=7,
    slug="cross-account",
    title="Cross-account access between two students",
    topic="Cross-account roles and trust policies",
    summary=(
        "Your partner — the student in the next seat of your class — needs to look around your account "
        f"without being able to change anything. Give them a role, {ROLE}, and watch them use it."
    ),
    steps=(
        "Find your partner's 12-digit account ID (the first check shows it) and tell them yours.",
        "Open **Roles**, choose **Create role**, then **AWS account** → **Another AWS account** and enter your "
        "partner's account ID.",
        f"Under **Add permissions**, choose the AWS managed policy `ReadOnlyAccess`. Name the role `{ROLE}`. "
        "With it your partner can read your IAM users, your instances and the objects of your team bucket, "
        "`team-bucket-<your account ID>`, and change none of them.",
        "Your partner creates an IAM user in their own account with permission to assume your role "
        f"(`sts:AssumeRole` on `arn:aws:iam::<your account ID>:role/{ROLE}`), signs in as that user and uses "
        "**Switch role** with your account ID and the role name.",
        "Do the same for the student whose partner you are.",
    ),
    hints=(
        "A trust policy principal `arn:aws:iam::<account ID>:root` means the whole account: the account then "
        "decides which of its users may assume the role.",
        "Cross-account access needs two yeses: your trust policy, and your partner's own policy.",
        "Root users cannot switch roles: your partner needs an IAM user.",
    ),
    checks=(
        Check("trusts-partner", f"{ROLE} trusts your partner's account", trusts_partner),
        Check("trusts-no-stranger", f"{ROLE} trusts no other account", trusts_no_stranger),
        Check("read-only", f"{ROLE} can read and change nothing", read_only),
        Check("partner-assumed", f"Your partner has assumed {ROLE}", partner_assumed),
    ),
    console_links=(("Roles", "/iam/roles"), ("Create role", "/iam/roles/create")),
    start="Needs nothing from earlier labs: go on in the same account, or start from an empty account.",
)
