"""Lab 12: attribute-based access control — operators start and stop only the instances tagged with their team.

The checks ask the engine what the EC2 service would decide for erin's and frank's StartInstances and
StopInstances on the account's real instances (their ``ec2:ResourceTag/team``, the users' ``aws:PrincipalTag/team``),
and whether the rule still holds for a team the policy's author never heard of.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from classroom.labs.base import Check, Lab, Outcome, failed, not_yet, passed
from classroom.labs.facts import AccountFacts
from ec2 import services as ec2
from identities import services as users

if TYPE_CHECKING:
    from core.context import CallContext
    from ec2.models import Instance

GROUP = "Operators"
TEAMS = {"erin": "red", "frank": "blue"}  # user → the value of the user's `team` tag
INSTANCES = {"red-web": "red", "blue-web": "blue", "batch": None}  # Name tag → team tag (None: no team tag)
IMAGE = "ami-0a3c3a20c09d6f377"
OPERATE = ("ec2:StartInstances", "ec2:StopInstances")
NEWCOMER_TEAM = "green"


def build_starting_state(ctx: CallContext) -> None:
    """erin (team red) and frank (team blue) in Operators, with no permissions, and three instances: one per team
    and one with no team tag."""
    users.create_group(ctx, group_name=GROUP)
    for user, team in TEAMS.items():
        users.create_user(ctx, user_name=user, tags=[users.Tag("team", team)])
        users.add_user_to_group(ctx, group_name=GROUP, user_name=user)
    for name, team in INSTANCES.items():
        tags = [ec2.Tag("Name", name)] + ([ec2.Tag("team", team)] if team else [])
        ec2.run_instances(
            ctx,
            image_id=IMAGE,
            min_count=1,
            max_count=1,
            instance_type="t3.micro",
            tag_specifications=[("instance", tags)],
        )


def _tag(instance: Instance, key: str) -> str | None:
    return next((t["Value"] for t in instance.tags if t["Key"] == key), None)


def _instance(facts: AccountFacts, name: str) -> Instance | None:
    return next((i for i in facts.instances() if _tag(i, "Name") == name), None)


def _missing(facts: AccountFacts) -> Outcome | None:
    return facts.memo("lab12-missing", lambda: _find_missing(facts))


def _find_missing(facts: AccountFacts) -> Outcome | None:
    for user in TEAMS:
        if facts.user(user) is None:
            return not_yet(f"There is no IAM user named {user}: load this lab's start.")
    for name in INSTANCES:
        if _instance(facts, name) is None:
            return not_yet(f"There is no instance named {name} (not terminated): load this lab's start.")
    granted = [
        who
        for kind, who in (("group", GROUP), *(("user", u) for u in TEAMS))
        if facts.attached_policies(kind, who) or facts.inline_policies(kind, who)
    ]
    if not granted and not any(facts.groups_of(u) - {GROUP.lower()} for u in TEAMS):
        return not_yet(f"Neither {GROUP} nor its members have a policy yet.")
    return None


def _allowed(
    facts: AccountFacts, user: str, action: str, instance: Instance, tags: dict[str, str] | None = None
) -> bool:
    return facts.instance_decision(user, action, instance, tags) == "Allow"


def operates_own(facts: AccountFacts) -> Outcome:
    if (missing := _missing(facts)) is not None:
        return missing
    for user, team in TEAMS.items():
        instance = _instance(facts, f"{team}-web")
        assert instance is not None
        for action in OPERATE:
            if not _allowed(facts, user, action, instance):
                return failed(f"{user} (team {team}) is not allowed {action} on {team}-web ({instance.instance_id}).")
    return passed("erin and frank can start and stop their own team's instance.")


def not_other_teams(facts: AccountFacts) -> Outcome:
    if (missing := _missing(facts)) is not None:
        return missing
    for user, team in TEAMS.items():
        for name, instance_team in INSTANCES.items():
            if instance_team == team:
                continue
            instance = _instance(facts, name)
            assert instance is not None
            for action in (*OPERATE, "ec2:TerminateInstances"):
                if _allowed(facts, user, action, instance):
                    owner = f"team {instance_team}'s" if instance_team else "the untagged"
                    return failed(f"{user} (team {team}) can {action} on {owner} instance {name}.")
    return passed("Neither can start, stop or terminate an instance of another team or one with no team tag.")


def no_retagging(facts: AccountFacts) -> Outcome:
    """A user who may set the ``team`` tag can move any instance into their team: ABAC needs the tag protected."""
    if (missing := _missing(facts)) is not None:
        return missing
    for user, team in TEAMS.items():
        for name in INSTANCES:
            instance = _instance(facts, name)
            assert instance is not None
            if _allowed(facts, user, "ec2:CreateTags", instance, {"team": team}):
                return failed(f"{user} can set the team tag of {name}: then any instance can be made theirs.")
            if _allowed(facts, user, "ec2:DeleteTags", instance, {"team": ""}):
                return failed(f"{user} can delete the team tag of {name}.")
    return passed("Neither can change or remove an instance's team tag.")


def follows_tags(facts: AccountFacts) -> Outcome:
    """The same rule for a team nobody has yet: the policy compares the tags rather than naming teams or
    instances (the engine, as the simulator asks it, with the user's and the instance's tags set to a new team)."""
    if (missing := _missing(facts)) is not None:
        return missing
    resource = ec2.instance_arn(facts.account_id, "i-0123456789abcdef0")
    user = next(iter(TEAMS))
    same = {"aws:PrincipalTag/team": NEWCOMER_TEAM, "ec2:ResourceTag/team": NEWCOMER_TEAM}
    other = {"aws:PrincipalTag/team": NEWCOMER_TEAM, "ec2:ResourceTag/team": "red"}
    if not facts.can("user", user, "ec2:StopInstances", resource, same):
        return failed(
            f"If {user} moved to a new team ({NEWCOMER_TEAM}), she could not stop her new team's instances "
            "without a change to the policy: compare the tags with ${aws:PrincipalTag/team} instead of naming teams."
        )
    if facts.can("user", user, "ec2:StopInstances", resource, other):
        return failed(f"If {user} moved to a new team ({NEWCOMER_TEAM}), she could still stop team red's instances.")
    return passed("The rule follows the tags: a new team works with no change to the policy.")


def can_describe(facts: AccountFacts) -> Outcome:
    if (missing := _missing(facts)) is not None:
        return missing
    for user in TEAMS:
        if not facts.can("user", user, "ec2:DescribeInstances", "*"):
            return failed(f"{user} cannot list the instances (ec2:DescribeInstances): the console shows them nothing.")
    return passed("erin and frank can list the instances.")


LAB = Lab(
    number=12,
    slug="abac-instances",
    title="Tag-based access to instances",
    topic="Attribute-based access control (ABAC) with tags",
    summary=(
        "The red team and the blue team share one account. Operators may start and stop their own team's "
        "instances and nobody else's — with one policy that compares tags, so a new team or a new instance needs "
        "no policy change."
    ),
    steps=(
        f"This lab's start has the group `{GROUP}` with `erin` (tag `team` = `red`) and `frank` (tag `team` = "
        "`blue`), and three instances: `red-web` (tag `team` = `red`), `blue-web` (`team` = `blue`) and `batch` "
        "(no `team` tag). Open **EC2** and each user's **Tags** tab to see them.",
        "Create a customer managed policy that allows `ec2:StartInstances` and `ec2:StopInstances` on "
        "`arn:aws:ec2:*:*:instance/*` only when `ec2:ResourceTag/team` equals `${aws:PrincipalTag/team}` "
        "(`StringEquals`), and `ec2:DescribeInstances` on `*`.",
        f"Attach it to the group `{GROUP}`. Do not allow `ec2:CreateTags` or `ec2:DeleteTags`: whoever can set "
        "the `team` tag can take any instance.",
        "Try it: give erin a console password, sign in as her and stop `red-web` (it stops), then `blue-web` (it "
        "is denied, and the **Why?** panel shows the condition that did not match).",
    ),
    hints=(
        "`${aws:PrincipalTag/team}` is replaced by the value of the signed-in user's own `team` tag.",
        "`ec2:DescribeInstances` supports no resource-level permissions: it needs `Resource: *`, without the "
        "condition.",
        'Policy variables need `"Version": "2012-10-17"`.',
    ),
    checks=(
        Check("operates-own", "erin and frank can start and stop their team's instance", operates_own),
        Check("not-other-teams", "Nobody can touch another team's or an untagged instance", not_other_teams),
        Check("no-retagging", "Nobody can change an instance's team tag", no_retagging),
        Check("follows-tags", "The policy compares tags: a new team needs no change", follows_tags),
        Check("can-describe", "erin and frank can list the instances", can_describe),
    ),
    console_links=(("Instances", "/ec2/instances"), ("Policies", "/iam/policies"), ("User groups", "/iam/groups")),
    starting_state=build_starting_state,
    start="Starts from its own state: the Operators group with erin and frank, and three tagged instances.",
)
