"""Lab 1: an IAM user for a person, with console access and only the permissions the job needs."""

from __future__ import annotations

from classroom.labs.base import Check, Lab, Outcome, failed, not_yet, passed
from classroom.labs.facts import AccountFacts

USER = "alice"
BUCKET = "arn:aws:s3:::team-bucket"
# What "more than reading S3" looks like: if any of these is allowed, the user has too much.
TOO_MUCH = (
    ("s3:PutObject", f"{BUCKET}/report.csv"),
    ("s3:DeleteBucket", BUCKET),
    ("iam:CreateUser", "*"),
    ("ec2:TerminateInstances", "*"),
)


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
    for action, resource in (("s3:ListBucket", BUCKET), ("s3:GetObject", f"{BUCKET}/report.csv")):
        if not facts.can("user", USER, action, resource):
            return failed(f"{USER} is not allowed {action} on {resource}.")
    return passed(f"{USER} can list team-bucket and read its objects.")


def least_privilege(facts: AccountFacts) -> Outcome:
    if facts.user(USER) is None:
        return not_yet(f"Create the user {USER} first.")
    if not facts.can("user", USER, "s3:GetObject", f"{BUCKET}/report.csv"):
        own = facts.attached_policies("user", USER) or facts.inline_policies("user", USER)
        if not own and not facts.groups_of(USER):
            return not_yet(f"{USER} has no permissions yet: least privilege still means enough to work.")
        return failed(f"{USER} cannot read team-bucket (s3:GetObject): least privilege still means enough to work.")
    for action, resource in TOO_MUCH:
        if facts.can("user", USER, action, resource):
            return failed(f"{USER} can do more than read S3: {action} on {resource} is allowed.")
    return passed(f"{USER} cannot write to S3, delete buckets, manage IAM or terminate instances.")


LAB = Lab(
    number=1,
    slug="first-user",
    title="Your first IAM user",
    topic="Users, console access and least privilege",
    summary=(
        "Alice joins the data team. She needs to sign in to the console and read the files in the "
        "team-bucket S3 bucket — and nothing else."
    ),
    steps=(
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
        Check("reads-s3", f"{USER} can read team-bucket", reads_s3),
        Check("least-privilege", f"{USER} can do nothing more than read S3", least_privilege),
    ),
    console_links=(("Users", "/iam/users"), ("Create user", "/iam/users/create")),
    start="Starts from an empty account.",
)
