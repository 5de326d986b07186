"""Lab 11: a bucket policy that lets the partner's account (the next student by seat number) read the team bucket.

Cross-account access to S3 needs two yeses: the bucket policy in the bucket's account names the other account, and
the other account's own identity policy allows the reads. A lab runs in one student's account, so the pairs are the
class's seats, as in lab 7: each student grants the next seat's account, and each builds, in their own account, the
reader of the previous seat's bucket. The checks ask the partner's account yes/no questions only (may one of its
users or roles read the bucket, as S3 decides it) and never name its users, roles or policies to the student.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from audit.models import AuditEvent
from classroom.labs.base import Check, Lab, Outcome, failed, not_yet, passed
from classroom.labs.facts import AccountFacts, role_session_context, team_bucket_name, user_context
from classroom.models import ACCESS_ROLE_NAME
from identities.models import IamUser, Role
from s3 import services as s3

if TYPE_CHECKING:
    from core.context import CallContext

REPORT = "report.csv"
READER = "reader"  # the user each student makes in their own account to read the other student's bucket
STRANGER = "999999999999"  # an account outside the class: no seat has it
READS: tuple[tuple[str, str | None], ...] = (("s3:ListBucket", None), ("s3:GetObject", REPORT))
WRITES: tuple[tuple[str, str | None], ...] = (
    ("s3:PutObject", REPORT),
    ("s3:DeleteObject", REPORT),
    ("s3:PutBucketPolicy", None),
    ("s3:DeleteBucket", None),
)
NO_PARTNER = (
    "This lab needs a partner — the next student by seat number in your class — and your class has no "
    "other student: ask your instructor."
)


def build_starting_state(ctx: CallContext) -> None:
    """The team bucket with the report the partner is to read, and no bucket policy."""
    bucket = team_bucket_name(ctx.account_id)
    s3.create_bucket(ctx, bucket=bucket)
    s3.put_object(ctx, bucket=bucket, key=REPORT, body=b"month,revenue\n2026-11,4200\n", content_type="text/csv")


def _arn(bucket: str, key: str | None) -> str:
    return s3.bucket_arn(bucket) if key is None else s3.object_arn(bucket, key)


def _admits(
    facts: AccountFacts, principal_arn: str, actions: tuple[tuple[str, str | None], ...], *, every: bool
) -> bool:
    bucket = team_bucket_name(facts.account_id)
    admitted = (facts.bucket_policy_admits(bucket, principal_arn, action, key) for action, key in actions)
    return all(admitted) if every else any(admitted)


def _missing_bucket(facts: AccountFacts) -> Outcome | None:
    if facts.team_bucket() is None:
        return not_yet(
            f"There is no bucket {team_bucket_name(facts.account_id)} in your account yet: load this lab's start "
            "or create it."
        )
    return None


def grants_partner(facts: AccountFacts) -> Outcome:
    partner = facts.partner_account_id()
    if partner is None:
        return failed(NO_PARTNER)
    if (missing := _missing_bucket(facts)) is not None:
        return missing
    bucket = facts.team_bucket()
    assert bucket is not None
    if not bucket.policy:
        return not_yet(f"{bucket.name} has no bucket policy yet. Your partner's account is {partner}.")
    if not any(_admits(facts, arn, READS, every=True) for arn in facts.partner_principals(include_access_role=False)):
        return failed(
            f"The bucket policy of {bucket.name} does not let your partner's account {partner} both list the "
            "bucket and read its objects."
        )
    return passed(f"The bucket policy of {bucket.name} lets your partner's account list it and read its objects.")


def read_only_grant(facts: AccountFacts) -> Outcome:
    partner = facts.partner_account_id()
    if partner is None:
        return failed(NO_PARTNER)
    if (missing := _missing_bucket(facts)) is not None:
        return missing
    bucket = team_bucket_name(facts.account_id)
    row = facts.team_bucket()
    assert row is not None
    if not row.policy:
        return not_yet(f"{bucket} has no bucket policy yet.")
    for arn in facts.partner_principals(include_access_role=False):
        for action, key in WRITES:
            if facts.bucket_policy_admits(bucket, arn, action, key):
                return failed(f"The bucket policy also lets your partner's account {action} on {_arn(bucket, key)}.")
    return passed("The bucket policy lets your partner's account change nothing.")


def no_stranger(facts: AccountFacts) -> Outcome:
    if (missing := _missing_bucket(facts)) is not None:
        return missing
    bucket = facts.team_bucket()
    assert bucket is not None
    if not bucket.policy:
        return not_yet(f"{bucket.name} has no bucket policy yet.")
    for account in (STRANGER, *facts.classmates_named_in(bucket.policy)):
        for arn in (f"arn:aws:iam::{account}:root", f"arn:aws:iam::{account}:user/mallory"):
            if _admits(facts, arn, READS + WRITES, every=False):
                return failed(
                    f"The bucket policy of {bucket.name} also admits the account {account}, which is not your "
                    "partner's."
                )
    return passed(f"No account but yours and your partner's is admitted to {bucket.name}.")


def partner_can_read(facts: AccountFacts) -> Outcome:
    """Both sides: a user or role of the partner's account that S3 really lets read the bucket — its own policies
    (and its organization's SCPs) and this bucket's policy, as the call from that account would be decided."""
    partner = facts.partner_account_id()
    if partner is None:
        return failed(NO_PARTNER)
    if (missing := _missing_bucket(facts)) is not None:
        return missing
    bucket = team_bucket_name(facts.account_id)
    contexts = [user_context(u) for u in IamUser.objects.in_account(partner).order_by("pk")[:100]]
    contexts += [
        role_session_context(r, "lab-check")
        for r in Role.objects.in_account(partner).exclude(name=ACCESS_ROLE_NAME).order_by("pk")[:100]
    ]
    for ctx in contexts:
        if all(facts.s3_decision(ctx, action, bucket, key) == "Allow" for action, key in READS):
            return passed(f"A user or role of your partner's account can really list and read {bucket}.")
    if not contexts:
        return not_yet(f"Your partner's account has no IAM user or role yet that could read {bucket}.")
    return failed(
        f"No user or role of your partner's account may read {bucket} yet: your bucket policy must admit their "
        "account, and their own policy must allow s3:ListBucket and s3:GetObject on your bucket (ask them)."
    )


def partner_read(facts: AccountFacts) -> Outcome:
    """The partner's GetObject on the bucket, in the partner's trail (S3 records a data event in the caller's
    account). Only whether it happened is shown."""
    partner = facts.partner_account_id()
    if partner is None:
        return failed(NO_PARTNER)
    bucket = team_bucket_name(facts.account_id)
    reads = AuditEvent.objects.filter(
        account_id=partner, event_name="GetObject", record__requestParameters__bucketName=bucket
    )
    if facts.since is not None:
        reads = reads.filter(event_time__gte=facts.since)
    codes = set(reads.order_by().values_list("error_code", flat=True).distinct())  # one query: read, denied, or none
    if "" in codes:
        return passed(f"Your partner has read an object of {bucket}.")
    if codes:
        return failed(
            f"Your partner tried to read an object of {bucket} and was denied: check your bucket policy, and ask "
            "them to check their own policy."
        )
    return not_yet(f"Your partner has not read an object of {bucket} yet.")


LAB = Lab(
    number=11,
    slug="bucket-partner",
    title="Share a bucket with another account",
    topic="Bucket policies and cross-account access",
    summary=(
        "Your partner — the student in the next seat of your class, as in lab 7 — needs to read the report in "
        "your team bucket from their own account, without a role to switch to. A bucket policy that names their "
        "account, and their own policy, together make it work."
    ),
    steps=(
        "Find your partner's 12-digit account ID (the first check shows it) and tell them yours. Pairs follow the "
        "seats of your class: you grant the next seat, and the previous seat grants you (the last seat grants "
        "the first).",
        "Open **S3**, then your bucket `team-bucket-<your account ID>` (this lab's start has it, with "
        "`report.csv`), and its **Bucket policy**.",
        "Write a bucket policy whose `Principal` is your partner's account (`arn:aws:iam::<partner's account "
        "ID>:root`) and which allows `s3:ListBucket` on the bucket and `s3:GetObject` on its objects — nothing "
        "else, and no other account.",
        f"Cross-account access needs the other side too: in your own account, create a user `{READER}` whose "
        "policy allows `s3:ListBucket` on `arn:aws:s3:::team-bucket-<ID of the student whose partner you are>` "
        "and `s3:GetObject` on its objects. Their last check turns green when your side and theirs both say yes.",
        f"Read their report: with `{READER}`'s access keys, `aws s3 cp s3://team-bucket-<their account ID>/report.csv "
        "-` prints it (their last check turns green when you have); `aws s3 cp` of a file into their bucket is "
        "denied. Your partner does the same with your bucket.",
    ),
    hints=(
        "In a bucket policy, a principal `arn:aws:iam::<account ID>:root` means the whole account: that account's "
        "own policies then decide which of its users may use the grant.",
        "`s3:ListBucket` is on the bucket ARN (`arn:aws:s3:::<bucket>`); `s3:GetObject` on object ARNs "
        "(`arn:aws:s3:::<bucket>/*`).",
        "Within one account either the bucket policy or the user's policy is enough; across accounts both must "
        "allow the request.",
    ),
    checks=(
        Check("grants-partner", "The bucket policy lets your partner's account read the team bucket", grants_partner),
        Check("read-only-grant", "Your partner's account can change nothing in the bucket", read_only_grant),
        Check("no-stranger", "No other account is admitted", no_stranger),
        Check("partner-can-read", "Someone in your partner's account can really read the bucket", partner_can_read),
        Check("partner-read", "Your partner has read your report", partner_read),
    ),
    console_links=(("S3 buckets", "/console/s3/buckets"), ("Users", "/iam/users")),
    starting_state=build_starting_state,
    start="Starts from an account with the team bucket, team-bucket-<your account ID>, holding report.csv.",
)
