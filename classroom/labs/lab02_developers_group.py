"""Lab 2: the Developers group — permissions given once to a group, inherited by its members, and by nobody else."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Q

from classroom.labs.base import Check, Lab, Outcome, failed, not_yet, passed
from classroom.labs.facts import AccountFacts
from identities import services as users
from identities.models import IamUser
from policies import services as policies

if TYPE_CHECKING:
    from core.context import CallContext

GROUP = "Developers"
DEVELOPERS = ("alice", "bob")
OUTSIDER = "carol"  # in the starting state: works in finance, not a developer
EC2_FULL = "arn:aws:iam::aws:policy/AmazonEC2FullAccess"
S3_READ_ONLY = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"
# Attached by the console with "must create a new password at next sign-in" (lab 1): it only lets a user change
# their own password, and removing it locks them out of their first sign-in, so it is not "a policy of their own".
CHANGE_PASSWORD = "IAMUserChangePassword"


def _instance(account_id: str) -> str:
    return f"arn:aws:ec2:us-east-1:{account_id}:instance/i-0123456789abcdef0"


def developer_work(account_id: str) -> tuple[tuple[str, str], ...]:
    """What a developer does all day: launch and look at instances, use any bucket whose name starts with dev-."""
    return (
        ("ec2:RunInstances", _instance(account_id)),
        ("ec2:DescribeInstances", "*"),
        ("s3:PutObject", "arn:aws:s3:::dev-app-builds/releases/app.zip"),
        ("s3:ListBucket", "arn:aws:s3:::dev-test-data"),
    )


# What developers must not be able to do: other teams' buckets and IAM.
TOO_MUCH = (
    ("s3:GetObject", "arn:aws:s3:::finance-reports/2024-q3.xlsx"),
    ("s3:PutObject", "arn:aws:s3:::finance-reports/2024-q3.xlsx"),
    ("iam:CreateUser", "*"),
    ("iam:AttachGroupPolicy", "*"),
)


def build_starting_state(ctx: CallContext) -> None:
    """Lab 1's end (alice with AmazonS3ReadOnlyAccess attached to her directly), and bob and carol, who have
    users but no permissions yet."""
    for name in (*DEVELOPERS, OUTSIDER):
        users.create_user(ctx, user_name=name)
    policies.attach_user_policy(ctx, user_name="alice", policy_arn=S3_READ_ONLY)


def _users_with_policies(facts: AccountFacts) -> list[str]:
    """Users with any policy of their own or through a group, in one query: the others are denied everything,
    and asking the engine about each of them would cost a simulation per user."""
    found = (
        IamUser.objects.in_account(facts.account_id)
        .filter(
            Q(policy_attachments__isnull=False)
            | Q(inline_policies__isnull=False)
            | Q(groups__policy_attachments__isnull=False)
            | Q(groups__inline_policies__isnull=False)
        )
        .values_list("name", flat=True)
        .distinct()
    )
    return sorted(found, key=str.lower)


def _group_missing(facts: AccountFacts) -> Outcome | None:
    if facts.group(GROUP) is None:
        return not_yet(f"There is no user group named {GROUP} yet.")
    return None


def group_exists(facts: AccountFacts) -> Outcome:
    if (missing := _group_missing(facts)) is not None:
        return missing
    return passed(f"The user group {GROUP} exists.")


def developers_are_members(facts: AccountFacts) -> Outcome:
    if (missing := _group_missing(facts)) is not None:
        return missing
    members = facts.members_of(GROUP)
    for name in DEVELOPERS:
        if facts.user(name) is None:
            return not_yet(f"There is no IAM user named {name}.")
        if name not in members:
            return failed(f"{name} is not a member of {GROUP} yet.")
    return passed(f"alice and bob are members of {GROUP}.")


def group_grants_the_work(facts: AccountFacts) -> Outcome:
    if (missing := _group_missing(facts)) is not None:
        return missing
    for action, resource in developer_work(facts.account_id):
        if not facts.can("group", GROUP, action, resource):
            return failed(f"The policies of {GROUP} do not allow {action} on {resource}.")
    return passed(f"The policies of {GROUP} let its members launch instances and use the dev- buckets.")


def developers_can_work(facts: AccountFacts) -> Outcome:
    for name in DEVELOPERS:
        if facts.user(name) is None:
            return not_yet(f"There is no IAM user named {name}.")
        for action, resource in developer_work(facts.account_id):
            if not facts.can("user", name, action, resource):
                return failed(f"{name} is not allowed {action} on {resource}.")
    return passed("alice and bob can launch instances and use the dev- buckets.")


def not_attached_directly(facts: AccountFacts) -> Outcome:
    if (missing := _group_missing(facts)) is not None:
        return missing
    for name in DEVELOPERS:
        attached = sorted(facts.attached_policy_names("user", name) - {CHANGE_PASSWORD})
        inline = sorted(facts.inline_policies("user", name))
        if attached:
            return failed(
                f"{name} still has {attached[0]} attached directly: a developer's permissions should "
                f"come from {GROUP} only ({CHANGE_PASSWORD} may stay)."
            )
        if inline:
            return failed(
                f"{name} has an inline policy of their own ({inline[0]}): a developer's permissions "
                f"should come from {GROUP} only."
            )
    return passed(f"Neither alice nor bob has policies of their own: their work comes from {GROUP}.")


def only_what_developers_need(facts: AccountFacts) -> Outcome:
    if (missing := _group_missing(facts)) is not None:
        return missing
    for action, resource in TOO_MUCH:
        if facts.can("group", GROUP, action, resource):
            return failed(f"Members of {GROUP} can do more than developers need: {action} on {resource} is allowed.")
    return passed(f"Members of {GROUP} cannot touch other teams' buckets or manage IAM.")


def nobody_else(facts: AccountFacts) -> Outcome:
    if (missing := _group_missing(facts)) is not None:
        return missing
    members = facts.members_of(GROUP)
    launch, _, upload, _ = developer_work(facts.account_id)  # reading is fine for others (an auditor describes)
    for name in _users_with_policies(facts):
        if name.lower() in members or name.lower() in DEVELOPERS:
            continue
        for action, resource in (launch, upload):
            if facts.can("user", name, action, resource):
                return failed(f"{name} is not a developer but is allowed {action} on {resource}.")
    outsiders = sorted(members - set(DEVELOPERS))
    if outsiders:
        return failed(f"{outsiders[0]} is a member of {GROUP} but is not a developer.")
    return passed(f"Nobody outside {GROUP} can launch instances or write to the dev- buckets.")


LAB = Lab(
    number=2,
    slug="developers-group",
    title="The Developers group",
    topic="User groups: permissions given once, inherited by every member",
    summary=(
        "Alice and Bob are developers: they launch EC2 instances and use the S3 buckets whose names start "
        "with dev-. Carol works in finance. Give the developers their permissions through one user group, "
        "so the next developer only needs to join it."
    ),
    steps=(
        "If `bob` and `carol` are not in **Users** yet, create them (no console access, no permissions).",
        "Open **User groups** and choose **Create group**.",
        f"Name the group `{GROUP}`. Under **Add users to the group**, select `alice` and `bob`.",
        "Under **Attach permissions policies**, attach a policy for EC2 and one that allows S3 only on buckets "
        "whose names start with `dev-` (create it with **Create policy** if there is none), then choose "
        "**Create user group**.",
        "Alice still has her policy from lab 1 (`AmazonS3ReadOnlyAccess`) attached directly: open her "
        "**Permissions** tab and remove it, so her permissions come from the group alone. Keep "
        "`IAMUserChangePassword` if she has it: it only lets her change her own password, and without it she "
        "cannot finish her first sign-in.",
        "Leave `carol` out of the group.",
    ),
    hints=(
        "An AWS managed policy covers EC2 entirely; search the policy list for `EC2`.",
        "A bucket ARN is `arn:aws:s3:::name`, its objects are `arn:aws:s3:::name/*`: a wildcard such as "
        "`dev-*` works in both.",
        "On a user's **Permissions** tab, the **Attached via** column tells a group's policies from direct ones.",
        "The policy simulator on a user's page shows what that user may do, group policies included.",
    ),
    checks=(
        Check("group-exists", f"A user group named {GROUP} exists", group_exists),
        Check("members", f"alice and bob are members of {GROUP}", developers_are_members),
        Check("group-grants-work", f"The policies of {GROUP} allow the developers' work", group_grants_the_work),
        Check(
            "developers-can-work", "alice and bob can launch instances and use the dev- buckets", developers_can_work
        ),
        Check("not-attached-directly", "alice and bob have no policies of their own", not_attached_directly),
        Check(
            "least-privilege",
            f"Members of {GROUP} cannot touch other teams' buckets or manage IAM",
            only_what_developers_need,
        ),
        Check("nobody-else", f"Nobody outside {GROUP} can launch instances or write to the dev- buckets", nobody_else),
    ),
    starting_state=build_starting_state,
    start=(
        "Goes on from lab 1's end. The starting state has alice with AmazonS3ReadOnlyAccess attached directly, "
        "and bob and carol with no permissions."
    ),
    console_links=(
        ("User groups", "/iam/groups"),
        ("Create group", "/iam/groups/create"),
        ("Create policy", "/iam/policies/create"),
    ),
)
