"""Lab 4: a read-only auditor — sees the configuration of every service, changes nothing, signs in to the console
and has no long-term keys."""

from __future__ import annotations

from classroom.labs.base import Check, Lab, Outcome, failed, not_yet, passed
from classroom.labs.facts import AccountFacts, team_bucket_name

USER = "auditor"


def looks(account_id: str) -> tuple[tuple[str, str], ...]:
    """What an audit reads: IAM, EC2, S3 and CloudTrail, listed and described."""
    return (
        ("iam:ListUsers", f"arn:aws:iam::{account_id}:user/"),
        ("iam:GetAccountAuthorizationDetails", "*"),
        ("ec2:DescribeInstances", "*"),
        ("s3:ListAllMyBuckets", "*"),
        ("cloudtrail:LookupEvents", "*"),
    )


def changes(account_id: str) -> tuple[tuple[str, str], ...]:
    """What an auditor must never do: change identities, data, instances or the trail that records the audit."""
    return (
        ("iam:CreateUser", f"arn:aws:iam::{account_id}:user/new-admin"),
        ("iam:AttachUserPolicy", f"arn:aws:iam::{account_id}:user/{USER}"),
        ("s3:PutObject", f"arn:aws:s3:::{team_bucket_name(account_id)}/report.csv"),
        ("ec2:TerminateInstances", f"arn:aws:ec2:us-east-1:{account_id}:instance/i-0123456789abcdef0"),
        ("cloudtrail:StopLogging", f"arn:aws:cloudtrail:us-east-1:{account_id}:trail/management-events"),
    )


def _user_missing(facts: AccountFacts) -> Outcome | None:
    if facts.user(USER) is None:
        return not_yet(f"There is no IAM user named {USER} yet.")
    return None


def auditor_exists(facts: AccountFacts) -> Outcome:
    if (missing := _user_missing(facts)) is not None:
        return missing
    return passed(f"The user {USER} exists.")


def sees_everything(facts: AccountFacts) -> Outcome:
    if (missing := _user_missing(facts)) is not None:
        return missing
    for action, resource in looks(facts.account_id):
        if not facts.can("user", USER, action, resource):
            return failed(f"{USER} cannot look at everything yet: {action} is not allowed.")
    return passed(f"{USER} can list and describe IAM, EC2, S3 and CloudTrail.")


def changes_nothing(facts: AccountFacts) -> Outcome:
    if (missing := _user_missing(facts)) is not None:
        return missing
    if not facts.can("user", USER, "ec2:DescribeInstances", "*"):
        return not_yet(f"{USER} cannot read anything yet: read-only still means being able to read.")
    for action, resource in changes(facts.account_id):
        if facts.can("user", USER, action, resource):
            return failed(f"{USER} can change things: {action} on {resource} is allowed.")
    return passed(f"{USER} cannot create users, write to S3, terminate instances or stop the trail.")


def console_access(facts: AccountFacts) -> Outcome:
    if (missing := _user_missing(facts)) is not None:
        return missing
    if not facts.has_console_password(USER):
        return failed(f"{USER} cannot sign in to the console: there is no console password.")
    return passed(f"{USER} can sign in to the console with a password.")


def no_access_keys(facts: AccountFacts) -> Outcome:
    if (missing := _user_missing(facts)) is not None:
        return missing
    count = facts.access_key_count(USER)
    if count:
        return failed(
            f"{USER} has {count} access key{'s' if count > 1 else ''}: an auditor who works in the "
            "console needs no long-term keys that could leak."
        )
    return passed(f"{USER} has no access keys.")


LAB = Lab(
    number=4,
    slug="read-only-auditor",
    title="A read-only auditor",
    topic="AWS managed job-function policies and read-only access",
    summary=(
        "An external auditor reviews the account for a week. They must be able to look at the configuration "
        "of every service and at the event history, and be unable to change anything — not even by accident."
    ),
    steps=(
        f"Open **Users**, choose **Create user** and name the user `{USER}`.",
        "Select **Provide user access to the AWS Management Console** and set a password.",
        "Under **Set permissions**, attach an AWS managed job-function policy that reads but never writes — "
        "directly, or through a user group such as `Auditors`.",
        "Create the user. Do not create access keys for them.",
    ),
    hints=(
        "Filter the policy list by **AWS managed – job function**: two of them are meant for reading and auditing.",
        "Policies whose names end in `FullAccess`, or `PowerUserAccess`, allow changes.",
        "Try your choice in the policy simulator: `iam:CreateUser` must be denied, `ec2:DescribeInstances` allowed.",
    ),
    checks=(
        Check("auditor-exists", f"An IAM user named {USER} exists", auditor_exists),
        Check("sees-everything", f"{USER} can list and describe every service", sees_everything),
        Check("changes-nothing", f"{USER} cannot change anything", changes_nothing),
        Check("console-access", f"{USER} can sign in to the console", console_access),
        Check("no-access-keys", f"{USER} has no access keys", no_access_keys),
    ),
    console_links=(("Users", "/iam/users"), ("Create user", "/iam/users/create"), ("User groups", "/iam/groups")),
    start="Needs nothing from earlier labs: go on in the same account, or start from an empty account.",
)
