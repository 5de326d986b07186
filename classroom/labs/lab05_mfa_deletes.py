"""Lab 5: MFA-protected deletes — Bob works on the account's team bucket freely, but deletes only with MFA, however
he signs his requests; and the trail shows him signing in with his MFA device."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from classroom.labs.base import Check, Lab, Outcome, failed, not_yet, passed
from classroom.labs.facts import AccountFacts, team_bucket_name
from identities import services as users
from s3 import services as s3

if TYPE_CHECKING:
    from core.context import CallContext

USER = "bob"
REPORT = "reports/2024.csv"
MFA = "aws:MultiFactorAuthPresent"
# (action, object key or None for the bucket) on the account's team bucket, team-bucket-<account ID>.
WORK = (
    ("s3:ListBucket", None),
    ("s3:GetObject", REPORT),
    ("s3:PutObject", "reports/2025.csv"),
)
DELETES = (
    ("s3:DeleteObject", REPORT),
    ("s3:DeleteBucket", None),
)
WITH_MFA = {MFA: "true"}
CONSOLE_WITHOUT_MFA = {MFA: "false"}  # a console session signed in with a password only
ACCESS_KEYS: dict[str, Any] = {}  # long-term access keys: the request has no aws:MultiFactorAuthPresent key at all


def build_starting_state(ctx: CallContext) -> None:
    """Bob's user, as lab 2 left it (his permissions there came from a group this lab does not need), and the
    team bucket with a report to work on (an account reset deletes the bucket lab 1 started with)."""
    users.create_user(ctx, user_name=USER)
    bucket = team_bucket_name(ctx.account_id)
    s3.create_bucket(ctx, bucket=bucket)
    s3.put_object(ctx, bucket=bucket, key=REPORT, body=b"month,revenue\n2024-12,3900\n", content_type="text/csv")


def _arn(facts: AccountFacts, key: str | None) -> str:
    """The ARN of the account's team bucket, or of its object ``key``."""
    bucket = team_bucket_name(facts.account_id)
    return s3.bucket_arn(bucket) if key is None else s3.object_arn(bucket, key)


def _user_missing(facts: AccountFacts) -> Outcome | None:
    if facts.user(USER) is None:
        return not_yet(f"There is no IAM user named {USER} yet.")
    return None


def _no_work(facts: AccountFacts) -> Outcome | None:
    """Bob must be able to work at all before "deletes are refused" means anything."""
    if (missing := _user_missing(facts)) is not None:
        return missing
    action, key = WORK[2]
    if not facts.can("user", USER, action, _arn(facts, key), WITH_MFA):
        bucket = team_bucket_name(facts.account_id)
        return not_yet(f"{USER} has no permissions on {bucket} yet, so there is nothing to protect.")
    return None


def has_mfa_device(facts: AccountFacts) -> Outcome:
    if (missing := _user_missing(facts)) is not None:
        return missing
    if not facts.has_mfa(USER):
        return not_yet(f"{USER} has no MFA device assigned yet.")
    return passed(f"{USER} has an MFA device assigned.")


def works_without_mfa(facts: AccountFacts) -> Outcome:
    if (missing := _user_missing(facts)) is not None:
        return missing
    for action, key in WORK:
        resource = _arn(facts, key)
        if not facts.can("user", USER, action, resource, WITH_MFA):
            return failed(f"{USER} is not allowed {action} on {resource}, even with MFA.")
        if not facts.can("user", USER, action, resource, CONSOLE_WITHOUT_MFA):
            return failed(f"Without MFA {USER} is not allowed {action} on {resource}: only deletes should need it.")
    return passed(f"{USER} can list, read and write {team_bucket_name(facts.account_id)}, with or without MFA.")


def deletes_with_mfa(facts: AccountFacts) -> Outcome:
    if (missing := _user_missing(facts)) is not None:
        return missing
    action, key = DELETES[0]
    resource = _arn(facts, key)
    if not facts.can("user", USER, action, resource, WITH_MFA):
        return failed(f"Even with MFA {USER} is not allowed {action} on {resource}: cleaning up is part of his job.")
    return passed(f"With MFA {USER} can delete objects in {team_bucket_name(facts.account_id)}.")


def console_deletes_need_mfa(facts: AccountFacts) -> Outcome:
    if (problem := _no_work(facts)) is not None:
        return problem
    for action, key in DELETES:
        resource = _arn(facts, key)
        if facts.can("user", USER, action, resource, CONSOLE_WITHOUT_MFA):
            return failed(f"Signed in without MFA ({MFA} is false), {USER} can still {action} on {resource}.")
    return passed(f"Signed in without MFA, {USER} cannot delete objects or the bucket.")


def key_deletes_need_mfa(facts: AccountFacts) -> Outcome:
    if (problem := _no_work(facts)) is not None:
        return problem
    for action, key in DELETES:
        resource = _arn(facts, key)
        if facts.can("user", USER, action, resource, ACCESS_KEYS):
            if not facts.can("user", USER, action, resource, CONSOLE_WITHOUT_MFA):
                return failed(
                    f"A request signed with {USER}'s access keys has no {MFA} key at all, and {USER} can "
                    f"still {action} on {resource}: your condition stops a false value but not a "
                    "missing one."
                )
            return failed(f"With access keys (no {MFA} key in the request), {USER} can still {action} on {resource}.")
    return passed(f"With access keys (no MFA in the request), {USER} cannot delete objects or the bucket either.")


def signed_in_with_mfa(facts: AccountFacts) -> Outcome:
    if (missing := _user_missing(facts)) is not None:
        return missing
    # A failed ConsoleLogin has no errorCode (CloudTrail marks it in responseElements), so filter on the response.
    sign_ins = list(
        facts.events(name="ConsoleLogin", username=USER)
        .filter(record__responseElements__ConsoleLogin="Success")
        .values_list("record", flat=True)
    )
    if any((record.get("additionalEventData") or {}).get("MFAUsed") == "Yes" for record in sign_ins):
        return passed(f"The trail shows {USER} signing in to the console with MFA.")
    if sign_ins:
        return failed(f"{USER} signed in without MFA: sign in again once his MFA device is assigned.")
    return not_yet(f"The trail shows no console sign-in by {USER} since the lab started.")


LAB = Lab(
    number=5,
    slug="mfa-deletes",
    title="MFA-protected deletes",
    topic="Multi-factor authentication and the aws:MultiFactorAuthPresent condition key",
    summary=(
        "Bob keeps the team's reports in the team's S3 bucket, team-bucket-<your account ID>. A stolen password "
        "or a leaked access key must not be enough to delete them: Bob may read and write freely, but deleting "
        "needs MFA."
    ),
    steps=(
        f"`{USER}` has a user since lab 2 (if not, create him). On his **Security credentials** tab, choose "
        "**Enable console access** and set a password.",
        f"On {USER}'s **Security credentials** tab, choose **Assign MFA device**, pick **Authenticator app** and "
        "enter two consecutive codes from your authenticator app.",
        f"Give {USER} a policy that allows S3 work on `arn:aws:s3:::team-bucket-<your account ID>` and its objects "
        f"(`…/*`), and denies `s3:DeleteObject` and `s3:DeleteBucket` unless the request was made with MFA "
        f"(`{MFA}`).",
        "Try it in the policy simulator with the condition key set to `true`, set to `false`, and left empty.",
        f"Sign out, then sign in as `{USER}` with his password and an MFA code.",
    ),
    hints=(
        "A Deny with a condition applies only when its condition matches; think about which requests should match.",
        f"Requests signed with long-term access keys carry no `{MFA}` key at all. Which condition operators "
        "match when a key is missing?",
        "The `…IfExists` form of an operator also matches when the key is absent.",
        "IAM users sign in from the **Sign-in URL for IAM users in this account**, shown on the IAM **Dashboard**.",
    ),
    checks=(
        Check("mfa-device", f"{USER} has an MFA device", has_mfa_device),
        Check("works-without-mfa", f"{USER} can work on the team bucket without MFA", works_without_mfa),
        Check("deletes-with-mfa", f"With MFA {USER} can delete objects", deletes_with_mfa),
        Check("console-deletes-need-mfa", "Signed in without MFA, deletes are denied", console_deletes_need_mfa),
        Check("key-deletes-need-mfa", "With access keys, deletes are denied too", key_deletes_need_mfa),
        Check("signed-in-with-mfa", f"{USER} has signed in with MFA", signed_in_with_mfa),
    ),
    console_links=(
        ("Users", "/iam/users"),
        ("Create policy", "/iam/policies/create"),
        ("Policy simulator", "/iam/policy_simulator"),
    ),
    starting_state=build_starting_state,
    start=(
        "Goes on from lab 2's end: it needs bob's user and lab 1's team bucket, team-bucket-<your account ID>. "
        "The starting state has bob, with no password or permissions, and the bucket with reports/2024.csv."
    ),
)
