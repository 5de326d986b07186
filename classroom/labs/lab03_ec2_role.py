"""Lab 3: a role for EC2 instances to read S3 — trusted by EC2 alone, read-only, usable through an instance profile."""

from __future__ import annotations

from typing import TYPE_CHECKING

from classroom.labs.base import Check, Lab, Outcome, failed, not_yet, passed
from classroom.labs.facts import AccountFacts, role_session_context, team_bucket_name
from core.context import CallContext
from s3 import services as s3

if TYPE_CHECKING:
    from ec2.models import Instance

ROLE = "EC2-S3-Reader"
EC2 = "ec2.amazonaws.com"
INPUT = "data/input.csv"
# (action, object key or None for the bucket) on the account's team bucket, as S3 decides them.
READS: tuple[tuple[str, str | None], ...] = (("s3:ListBucket", None), ("s3:GetObject", INPUT))
WRITES: tuple[tuple[str, str | None], ...] = (
    ("s3:PutObject", "data/output.csv"),
    ("s3:DeleteObject", INPUT),
    ("s3:DeleteBucket", None),
    ("s3:PutBucketPolicy", None),
)
OTHER_SERVICES = ("lambda.amazonaws.com", "ecs-tasks.amazonaws.com", "glue.amazonaws.com")
OTHER_ACCOUNT = "111122223333"  # any account that is not the student's


def build_starting_state(ctx: CallContext) -> None:
    """The team bucket with the application's input file: what the instances are to read."""
    bucket = team_bucket_name(ctx.account_id)
    s3.create_bucket(ctx, bucket=bucket)
    s3.put_object(ctx, bucket=bucket, key=INPUT, body=b"id,value\n1,42\n", content_type="text/csv")


def _arn(bucket: str, key: str | None) -> str:
    return s3.bucket_arn(bucket) if key is None else s3.object_arn(bucket, key)


def _session_allowed(facts: AccountFacts, ctx: CallContext, action: str, key: str | None) -> bool:
    return facts.s3_decision(ctx, action, team_bucket_name(facts.account_id), key) == "Allow"


def _role_session(facts: AccountFacts) -> CallContext | None:
    role = facts.role(ROLE)
    return None if role is None else role_session_context(role, "lab-check")


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
    session, bucket = _role_session(facts), team_bucket_name(facts.account_id)
    assert session is not None
    for action, key in READS:
        if not _session_allowed(facts, session, action, key):
            return failed(f"A session of {ROLE} is not allowed {action} on {_arn(bucket, key)}.")
    return passed(f"A session of {ROLE} can list {bucket} and read its objects.")


def role_cannot_write(facts: AccountFacts) -> Outcome:
    if (missing := _role_missing(facts)) is not None:
        return missing
    session, bucket = _role_session(facts), team_bucket_name(facts.account_id)
    assert session is not None
    if not _session_allowed(facts, session, *READS[1]):
        return not_yet(f"{ROLE} has no S3 permissions to speak of yet.")
    for action, key in WRITES:
        if _session_allowed(facts, session, action, key):
            return failed(f"A session of {ROLE} can change S3: {action} on {_arn(bucket, key)} is allowed.")
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


def _reading_instance(facts: AccountFacts, instances: list[Instance]) -> Instance | None:
    for instance in instances:
        session = facts.instance_context(instance)
        if session is not None and all(_session_allowed(facts, session, action, key) for action, key in READS):
            return instance
    return None


def instance_reads(facts: AccountFacts) -> Outcome:
    """The real outcome: an instance whose role credentials (the session EC2 names after the instance ID) S3 lets
    read the team bucket — the decision those credentials' calls get, with none issued by the check."""
    instances = facts.instances()
    if not instances:
        return not_yet(f"No instance is launched yet: launch one with the instance profile of {ROLE}.")
    if not any(facts.instance_role(i) is not None for i in instances):
        return failed("No instance has an instance profile with a role: attach the one of " + ROLE + ".")
    instance = _reading_instance(facts, instances)
    if instance is None:
        return failed(
            f"No instance's role credentials may read {team_bucket_name(facts.account_id)}: EC2 must be able to "
            "assume the role in the instance's profile, and that role must be allowed to list and read the bucket."
        )
    return passed(f"The role credentials of {instance.instance_id} can read {team_bucket_name(facts.account_id)}.")


LAB = Lab(
    number=3,
    slug="ec2-role",
    title="A role for EC2 to read S3",
    topic="Roles for AWS services, trust policies and instance profiles",
    summary=(
        "An application on EC2 instances reads input files from the team's S3 bucket, team-bucket-<your "
        "account ID>. Instead of "
        "storing access keys on the instances, give them a role that EC2 — and only EC2 — can assume, "
        "which can read S3 and change nothing."
    ),
    steps=(
        "Open **Roles** and choose **Create role**.",
        "For **Trusted entity type**, choose **AWS service**, then the **EC2** use case.",
        "In **Add permissions**, attach the AWS managed policy that only reads S3.",
        f"Name the role `{ROLE}` and choose **Create role**.",
        "Open the role and check its **Trust relationships** tab and the **Instance profile ARN** in its **Summary**.",
        "Open **EC2** → **Launch instance** and, under **Advanced details**, choose the IAM instance profile "
        f"`{ROLE}`; launch the instance.",
        "On the instance's page, **Run as this instance**: `aws s3 ls s3://team-bucket-<your account ID>/` lists the "
        "bucket with the role's credentials and no stored keys (this lab's start has the bucket; without it, create "
        "it in **S3**); `aws s3 cp` of a file into it is denied.",
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
        Check("reads-s3", f"{ROLE} can read the team bucket", role_reads_s3),
        Check("cannot-write", f"{ROLE} cannot change anything in S3", role_cannot_write),
        Check("instance-profile", f"An instance profile contains {ROLE}", has_instance_profile),
        Check("instance-reads", "An instance's role credentials really read the team bucket", instance_reads),
    ),
    console_links=(
        ("Roles", "/iam/roles"),
        ("Create role", "/iam/roles/create"),
        ("Launch instance", "/ec2/instances/launch"),
    ),
    starting_state=build_starting_state,
    start=(
        "Needs nothing from earlier labs: go on in the same account, or load its start, the team bucket "
        "team-bucket-<your account ID> with data/input.csv."
    ),
)
