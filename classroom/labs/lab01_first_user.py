"""Lab 1: an IAM user for a person, with console access and only the permissions the job needs."""

from __future__ import annotations

from typing import TYPE_CHECKING

from classroom.labs.base import Check, Lab, Outcome, failed, not_yet, passed
from classroom.labs.facts import AccountFacts, team_bucket_name
from s3 import services as s3

if TYPE_CHECKING:
    from core.context import CallContext

USER = "alice"
REPORT = "report.csv"
# What "more than reading S3" looks like besides writing the team bucket: if any is allowed, the user has too much.
TOO_MUCH = (
    ("s3:DeleteBucket", "arn:aws:s3:::{bucket}"),
    ("iam:CreateUser", "*"),
    ("ec2:TerminateInstances", "*"),
)


def build_starting_state(ctx: CallContext) -> None:
    """The data team's bucket with its report: what alice is to read (the account is otherwise empty)."""
    bucket = team_bucket_name(ctx.account_id)
    s3.create_bucket(ctx, bucket=bucket)
    s3.put_object(ctx, bucket=bucket, key=REPORT, body=b"month,revenue\n2026-11,4200\n", content_type="text/csv")


def user_exists(facts: AccountFacts) -> Outcome:
    if facts.user(USER) is None:
        return not_yet(f"There is no IAM user named {USER} yet.")
    return passed(f"The user {USER} exists.")


def console_access(facts: AccountFacts) -> Outcome:
    if facts.user(USER) is None:
        return not_yet(f"Create the user {USER} first.")
    if not facts.has_console_password(USER):
        return failed(f"{USER} cannot sign in to the console: she has no console password.")
    return passed(f"{USER} can sign in to the console with a password.")


def reads_s3(facts: AccountFacts) -> Outcome:
    """As S3 decides alice's calls on the account's real team bucket (its bucket policy included)."""
    bucket = team_bucket_name(facts.account_id)
    for action, key in (("s3:ListBucket", None), ("s3:GetObject", REPORT)):
        if facts.user_s3_decision(USER, action, bucket, key) != "Allow":
            resource = s3.bucket_arn(bucket) if key is None else s3.object_arn(bucket, key)
            return failed(f"{USER} is not allowed {action} on {resource}.")
    return passed(f"{USER} can list {bucket} and read its objects.")


def least_privilege(facts: AccountFacts) -> Outcome:
    if facts.user(USER) is None:
        return not_yet(f"Create the user {USER} first.")
    bucket = team_bucket_name(facts.account_id)
    if facts.user_s3_decision(USER, "s3:GetObject", bucket, REPORT) != "Allow":
        own = facts.attached_policies("user", USER) or facts.inline_policies("user", USER)
        if not own and not facts.groups_of(USER):
            return not_yet(f"{USER} has no permissions yet: least privilege still means enough to work.")
        return failed(f"{USER} cannot read {bucket} (s3:GetObject): least privilege still means enough to work.")
    if facts.user_s3_decision(USER, "s3:PutObject", bucket, REPORT) == "Allow":
        return failed(f"{USER} can do more than read S3: s3:PutObject on {s3.object_arn(bucket, REPORT)} is allowed.")
    for action, pattern in TOO_MUCH:
        resource = pattern.format(bucket=bucket)
        if facts.can("user", USER, action, resource):
            return failed(f"{USER} can do more than read S3: {action} on {resource} is allowed.")
    return passed(f"{USER} cannot write to S3, delete buckets, manage IAM or terminate instances.")


LAB = Lab(
    number=1,
    slug="first-user",
    title="Your first IAM user",
    topic="Users, console access and least privilege",
    summary=(
        "Alice joins the data team. She needs to sign in to the console and read the files in the team's "
        "S3 bucket, team-bucket-<your account ID> — and nothing else."
    ),
    steps=(
        "Open **S3**: the team's bucket `team-bucket-<your account ID>` holds `report.csv` (bucket names are "
        "global, so each account's has its ID). If it is not there, create it with that name and upload a file "
        "named `report.csv`.",
        "Open **Users** and choose **Create user**.",
        f"Name the user `{USER}` and select **Provide user access to the AWS Management Console**, with a custom "
        "password that she must change at her next sign-in (the console then attaches `IAMUserChangePassword`, "
        "which lets her change only her own password: keep it).",
        "Under **Set permissions**, choose **Attach policies directly** and pick the AWS managed policy that only "
        "reads S3.",
        "Review and create the user. Do not give Alice administrator access.",
    ),
    hints=(
        "Search the policy list for `S3`: one AWS managed policy has `ReadOnly` in its name.",
        "The policy simulator (on the user's page) shows what Alice may do.",
    ),
    checks=(
        Check("user-exists", f"An IAM user named {USER} exists", user_exists),
        Check("console-access", f"{USER} can sign in to the console", console_access),
        Check("reads-s3", f"{USER} can really read the team bucket", reads_s3),
        Check("least-privilege", f"{USER} can do nothing more than read S3", least_privilege),
    ),
    console_links=(
        ("Users", "/iam/users"),
        ("Create user", "/iam/users/create"),
        ("S3 buckets", "/console/s3/buckets"),
    ),
    starting_state=build_starting_state,
    start="Starts from an empty account with the team's bucket, team-bucket-<your account ID>, and its report.csv.",
)
