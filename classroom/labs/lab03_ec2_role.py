"""Lab 3: a role for EC2 instances to read S3 — trusted by EC2 alone, read-only, usable through an instance profile."""

from __future__ import annotations

from classroom.labs.base import Check, Lab, Outcome, failed, not_yet, passed
from classroom.labs.facts import AccountFacts

ROLE = "EC2-S3-Reader"
EC2 = "ec2.amazonaws.com"
BUCKET = "arn:aws:s3:::team-bucket"
READS = (
    ("s3:ListBucket", BUCKET),
    ("s3:GetObject", f"{BUCKET}/data/input.csv"),
)
WRITES = (
    ("s3:PutObject", f"{BUCKET}/data/output.csv"),
    ("s3:DeleteObject", f"{BUCKET}/data/input.csv"),
    ("s3:DeleteBucket", BUCKET),
    ("s3:PutBucketPolicy", BUCKET),
)
OTHER_SERVICES = ("lambda.amazonaws.com", "ecs-tasks.amazonaws.com", "glue.amazonaws.com")
OTHER_ACCOUNT = "111122223333"  # any account that is not the student's


def _role_missing(facts: AccountFacts) -> Outcome | None:
    if facts.role(ROLE) is None:
        return not_yet(f"There is no role named {ROLE} yet.")
    return None


def role_exists(facts: AccountFacts) -> Outcome:
    if (missing := _role_missing(facts)) is not None:
        return missing
    return passed(f"The role {ROLE} exists.")


def ec2_can_assume(facts: AccountFacts) -> Outcome:
    if (missing := _role_missing(facts)) is not None:
        return missing
    if not facts.trust_admits(ROLE, {"Service": EC2}):
        return failed(f"The trust policy of {ROLE} does not let EC2 ({EC2}) assume the role.")
    return passed(f"EC2 can assume {ROLE}.")


def only_ec2_can_assume(facts: AccountFacts) -> Outcome:
    if (missing := _role_missing(facts)) is not None:
        return missing
    if not facts.trust_admits(ROLE, {"Service": EC2}):
        return failed(f"The trust policy of {ROLE} does not let EC2 assume the role yet.")
    for service in OTHER_SERVICES:
        if facts.trust_admits(ROLE, {"Service": service}):
            return failed(f"The trust policy also lets {service} assume {ROLE}: only EC2 should.")
    for who in (f"arn:aws:iam::{OTHER_ACCOUNT}:root", f"arn:aws:iam::{OTHER_ACCOUNT}:user/someone"):
        if facts.trust_admits(ROLE, {"AWS": who}):
            return failed(
                f"The trust policy also lets another account ({OTHER_ACCOUNT}) assume {ROLE}: only EC2 should."
            )
    for who in (f"arn:aws:iam::{facts.account_id}:user/someone", f"arn:aws:iam::{facts.account_id}:root"):
        if facts.trust_admits(ROLE, {"AWS": who}):
            return failed(f"The trust policy also lets users and roles of this account assume {ROLE}: only EC2 should.")
    return passed(f"Only EC2 can assume {ROLE}: no other service and no account.")


def role_reads_s3(facts: AccountFacts) -> Outcome:
    if (missing := _role_missing(facts)) is not None:
        return missing
    for action, resource in READS:
        if not facts.can("role", ROLE, action, resource):
            return failed(f"A session of {ROLE} is not allowed {action} on {resource}.")
    return passed(f"A session of {ROLE} can list team-bucket and read its objects.")


def role_cannot_write(facts: AccountFacts) -> Outcome:
    if (missing := _role_missing(facts)) is not None:
        return missing
    if not facts.can("role", ROLE, *READS[1]):
        return not_yet(f"{ROLE} has no S3 permissions to speak of yet.")
    for action, resource in WRITES:
        if facts.can("role", ROLE, action, resource):
            return failed(f"A session of {ROLE} can change S3: {action} on {resource} is allowed.")
    if facts.can("role", ROLE, "iam:PassRole", "*") or facts.can("role", ROLE, "ec2:TerminateInstances", "*"):
        return failed(f"A session of {ROLE} can do more than read S3.")
    return passed(f"A session of {ROLE} cannot write, delete or change S3 buckets.")


def has_instance_profile(facts: AccountFacts) -> Outcome:
    if (missing := _role_missing(facts)) is not None:
        return missing
    profiles = sorted(facts.instance_profiles_of(ROLE))
    if profiles:
        return passed(f"The instance profile {profiles[0]} contains {ROLE}: instances can be launched with it.")
    if facts.instance_profile(ROLE) is not None:
        return failed(f"The instance profile {ROLE} exists but does not contain the role.")
    return failed(f"No instance profile contains {ROLE}: an EC2 instance can only use a role through one.")


LAB = Lab(
    number=3,
    slug="ec2-role",
    title="A role for EC2 to read S3",
    topic="Roles for AWS services, trust policies and instance profiles",
    summary=(
        "An application on EC2 instances reads input files from the team-bucket S3 bucket. Instead of "
        "storing access keys on the instances, give them a role that EC2 — and only EC2 — can assume, "
        "which can read S3 and change nothing."
    ),
    steps=(
        "Open **Roles** and choose **Create role**.",
        "For **Trusted entity type**, choose **AWS service**, then the **EC2** use case.",
        "In **Add permissions**, attach the AWS managed policy that only reads S3.",
        f"Name the role `{ROLE}` and choose **Create role**.",
        "Open the role and check its **Trust relationships** tab and the **Instance profile ARN** in its **Summary**.",
    ),
    hints=(
        "The trust policy names who may assume the role (`Principal`); the permissions policies say what the "
        "role may do once assumed.",
        "EC2's service principal is `ec2.amazonaws.com`.",
        "An instance does not use a role directly but an instance profile that contains it; the console makes "
        "one, named like the role, when the trusted entity is EC2. With the API it is `CreateInstanceProfile` "
        "and `AddRoleToInstanceProfile`.",
    ),
    checks=(
        Check("role-exists", f"A role named {ROLE} exists", role_exists),
        Check("ec2-can-assume", f"EC2 can assume {ROLE}", ec2_can_assume),
        Check("only-ec2", f"Nobody but EC2 can assume {ROLE}", only_ec2_can_assume),
        Check("reads-s3", f"{ROLE} can read team-bucket", role_reads_s3),
        Check("cannot-write", f"{ROLE} cannot change anything in S3", role_cannot_write),
        Check("instance-profile", f"An instance profile contains {ROLE}", has_instance_profile),
    ),
    console_links=(("Roles", "/iam/roles"), ("Create role", "/iam/roles/create")),
    start="Needs nothing from earlier labs: go on in the same account, or start from an empty account.",
)
