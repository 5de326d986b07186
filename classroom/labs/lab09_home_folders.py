"""Lab 9: one group policy gives every member a home folder of their own, with the ${aws:username} variable."""

from __future__ import annotations

from typing import TYPE_CHECKING

from classroom.labs.base import Check, Lab, Outcome, failed, not_yet, passed
from classroom.labs.facts import AccountFacts
from identities import services as users

if TYPE_CHECKING:
    from core.context import CallContext

GROUP = "Staff"
USERS = ("alice", "bob")
NEWCOMER = "carol"  # a member who joins later: the same policy must serve her without an edit
BUCKET = "arn:aws:s3:::company-home"


def build_starting_state(ctx: CallContext) -> None:
    """alice and bob, with no permissions: their home folders are what this lab adds."""
    for name in USERS:
        users.create_user(ctx, user_name=name)


def _folder(user: str) -> str:
    return f"home/{user}/"


def _object(user: str) -> str:
    return f"{BUCKET}/{_folder(user)}notes.txt"


def _other(user: str) -> str:
    return USERS[1] if user == USERS[0] else USERS[0]


def staff_group(facts: AccountFacts) -> Outcome:
    if facts.group(GROUP) is None:
        return not_yet(f"There is no group named {GROUP} yet.")
    missing = [u for u in USERS if u not in facts.members_of(GROUP)]
    if missing:
        return failed(f"{' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} not in {GROUP} yet.")
    return passed(f"alice and bob are members of {GROUP}.")


def own_folder(facts: AccountFacts) -> Outcome:
    for user in USERS:
        if facts.user(user) is None:
            return not_yet(f"There is no IAM user named {user} yet.")
        for action in ("s3:PutObject", "s3:GetObject"):
            if not facts.can("user", user, action, _object(user)):
                return failed(f"{user} cannot {action} in the folder {_folder(user)}.")
    return passed("alice and bob can read and write objects in their own home folders.")


def not_others_folders(facts: AccountFacts) -> Outcome:
    for user in USERS:
        if facts.user(user) is None:
            return not_yet(f"There is no IAM user named {user} yet.")
        other = _other(user)
        for action in ("s3:GetObject", "s3:PutObject", "s3:DeleteObject"):
            if facts.can("user", user, action, _object(other)):
                return failed(f"{user} can {action} in {other}'s home folder ({_folder(other)}).")
        if facts.can("user", user, "s3:GetObject", f"{BUCKET}/payroll.xlsx"):
            return failed(f"{user} can read objects outside the home folders.")
    return passed("Neither can touch the other's folder.")


def lists_own_prefix(facts: AccountFacts) -> Outcome:
    for user in USERS:
        if facts.user(user) is None:
            return not_yet(f"There is no IAM user named {user} yet.")
        if not facts.can("user", user, "s3:ListBucket", BUCKET, {"s3:prefix": _folder(user)}):
            return failed(f"{user} cannot list company-home with the prefix {_folder(user)}.")
        other = _other(user)
        if facts.can("user", user, "s3:ListBucket", BUCKET, {"s3:prefix": _folder(other)}):
            return failed(
                f"{user} can list {other}'s folder: s3:ListBucket with the prefix {_folder(other)} is allowed."
            )
    return passed("Each can list the bucket under their own prefix only.")


def works_for_newcomers(facts: AccountFacts) -> Outcome:
    """The group's own policies, for a member the policy's author never heard of."""
    if facts.group(GROUP) is None:
        return not_yet(f"There is no group named {GROUP} yet.")
    as_newcomer = {"aws:username": NEWCOMER}
    mine, theirs = _object(NEWCOMER), _object(USERS[0])
    if not (
        facts.can("group", GROUP, "s3:PutObject", mine, as_newcomer)
        and facts.can("group", GROUP, "s3:ListBucket", BUCKET, {**as_newcomer, "s3:prefix": _folder(NEWCOMER)})
    ):
        return failed(
            f"A new member of {GROUP} (say, {NEWCOMER}) would get no home folder without editing the "
            "policy: it names users instead of working for whoever signs in."
        )
    if facts.can("group", GROUP, "s3:GetObject", theirs, as_newcomer):
        return failed(f"A new member of {GROUP} (say, {NEWCOMER}) could read alice's folder.")
    return passed(f"Anyone who joins {GROUP} gets a home folder with no change to the policy.")


LAB = Lab(
    number=9,
    slug="home-folders",
    title="Per-user home folders with ${aws:username}",
    topic="Policy variables",
    summary=(
        "Everyone on staff gets a private folder in the company-home bucket: home/alice/ for Alice, "
        "home/bob/ for Bob, and the same for whoever joins next — all from one group policy."
    ),
    steps=(
        f"Open **User groups**, choose **Create group** and name it `{GROUP}`.",
        f"Add `alice` and `bob` (their users exist since lab 2; create them if not) to `{GROUP}`.",
        f"Write one policy for `{GROUP}` that lets each member list `company-home` only under their own "
        "`home/<user name>/` prefix (the `s3:prefix` condition key) and read and write objects under "
        "`arn:aws:s3:::company-home/home/<user name>/*`.",
        "Use the policy variable `${aws:username}` rather than the names: the policy must work for the next "
        "person who joins the group.",
    ),
    hints=(
        "Listing is `s3:ListBucket` on the bucket ARN; reading and writing are `s3:GetObject` and `s3:PutObject` "
        "on object ARNs.",
        "`StringLike` matches `*` wildcards in condition values, and `${aws:username}` works there too.",
        'Policy variables need `"Version": "2012-10-17"`.',
    ),
    checks=(
        Check("staff-group", f"alice and bob are members of {GROUP}", staff_group),
        Check("own-folder", "alice and bob can read and write their own folders", own_folder),
        Check("not-others-folders", "Neither can touch the other's folder", not_others_folders),
        Check("lists-own-prefix", "Each can list the bucket under their own prefix only", lists_own_prefix),
        Check("works-for-newcomers", "A new member gets a folder with no change to the policy", works_for_newcomers),
    ),
    console_links=(("User groups", "/iam/groups"), ("Users", "/iam/users"), ("Policies", "/iam/policies")),
    starting_state=build_starting_state,
    start="Goes on from lab 2's end: it needs alice and bob. The starting state has both, with no permissions.",
)
