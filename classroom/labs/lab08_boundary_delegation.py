"""Lab 8: the help desk creates users, but only users held inside a permissions boundary it cannot change."""

from __future__ import annotations

from classroom.labs.base import Check, Lab, Outcome, failed, not_yet, passed
from classroom.labs.facts import AccountFacts

USER = "helpdesk"
BOUNDARY = "DeveloperBoundary"
NEW_USER = "new-developer"  # a user the help desk might create
ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"
DELEGATED = ("iam:CreateUser", "iam:PutUserPermissionsBoundary")
# What a boundary for developers must not allow: with it, a developer could make users or lift boundaries.
IAM_ESCAPES = (
    "iam:CreateUser",
    "iam:AttachUserPolicy",
    "iam:PutUserPolicy",
    "iam:DeleteUserPermissionsBoundary",
    "iam:CreatePolicyVersion",
)
EDITS = ("iam:CreatePolicyVersion", "iam:SetDefaultPolicyVersion", "iam:DeletePolicyVersion", "iam:DeletePolicy")


def _boundary_arn(facts: AccountFacts) -> str | None:
    policy = facts.customer_policy(BOUNDARY)
    return None if policy is None else policy.arn


def _new_user_arn(facts: AccountFacts) -> str:
    return f"arn:aws:iam::{facts.account_id}:user/{NEW_USER}"


def boundary_policy(facts: AccountFacts) -> Outcome:
    policy = facts.customer_policy(BOUNDARY)
    if policy is None:
        return not_yet(f"There is no customer managed policy named {BOUNDARY} yet.")
    document = facts.policy_document(policy)
    for action in IAM_ESCAPES:
        if facts.document_allows(document, action, "*"):
            return failed(f"{BOUNDARY} allows {action}: a developer inside it could still manage IAM.")
    return passed(f"{BOUNDARY} exists and keeps developers out of IAM.")


def creates_with_boundary(facts: AccountFacts) -> Outcome:
    if facts.user(USER) is None:
        return not_yet(f"There is no IAM user named {USER} yet.")
    arn = _boundary_arn(facts)
    if arn is None:
        return not_yet(f"Create the policy {BOUNDARY} first.")
    for action in DELEGATED:
        if not facts.can("user", USER, action, _new_user_arn(facts), {"iam:PermissionsBoundary": arn}):
            return failed(f"{USER} cannot {action} even with {BOUNDARY} as the boundary.")
    return passed(f"{USER} can create users with {BOUNDARY} as their permissions boundary.")


def only_with_boundary(facts: AccountFacts) -> Outcome:
    if facts.user(USER) is None:
        return not_yet(f"There is no IAM user named {USER} yet.")
    target = _new_user_arn(facts)
    if facts.can("user", USER, "iam:CreateUser", target):
        return failed(f"{USER} can create a user without a permissions boundary.")
    for action in DELEGATED:
        if facts.can("user", USER, action, target, {"iam:PermissionsBoundary": ADMIN}):
            return failed(f"{USER} can {action} with AdministratorAccess as the boundary.")
    return passed(f"{USER} cannot create users without {BOUNDARY}, nor give them another boundary.")


def boundary_protected(facts: AccountFacts) -> Outcome:
    if facts.user(USER) is None:
        return not_yet(f"There is no IAM user named {USER} yet.")
    arn = _boundary_arn(facts)
    if arn is None:
        return not_yet(f"Create the policy {BOUNDARY} first.")
    for action in EDITS:
        if facts.can("user", USER, action, arn):
            return failed(f"{USER} can {action} on {BOUNDARY}: the boundary could be widened from the inside.")
    return passed(f"{USER} cannot edit or delete {BOUNDARY}.")


def boundaries_stay(facts: AccountFacts) -> Outcome:
    if facts.user(USER) is None:
        return not_yet(f"There is no IAM user named {USER} yet.")
    if facts.can("user", USER, "iam:DeleteUserPermissionsBoundary", _new_user_arn(facts)):
        return failed(f"{USER} can remove a user's permissions boundary (iam:DeleteUserPermissionsBoundary).")
    own = facts.user(USER).arn
    if facts.can("user", USER, "iam:DeleteUserPermissionsBoundary", own):
        return failed(f"{USER} can remove its own permissions boundary.")
    return passed(f"{USER} cannot remove permissions boundaries.")


LAB = Lab(
    number=8,
    slug="boundary-delegation",
    title="Delegating user creation safely with a permissions boundary",
    topic="Permissions boundaries and the iam:PermissionsBoundary condition key",
    summary=(
        "The help desk creates accounts for new developers. Let it create users — but only users held "
        f"inside the {BOUNDARY} permissions boundary, which the help desk can neither change nor take off."
    ),
    steps=(
        f"Open **Policies**, choose **Create policy** and write `{BOUNDARY}`: what a developer may do at most "
        "(for example S3, EC2 and CloudWatch), with no IAM.",
        f"Create the user `{USER}`.",
        f"Give `{USER}` a policy that allows `iam:CreateUser` and `iam:PutUserPermissionsBoundary` only when the "
        f"boundary in the request is `{BOUNDARY}`.",
        f"Make sure `{USER}` cannot edit, delete or replace the versions of `{BOUNDARY}`, and cannot remove a "
        "user's boundary.",
        f"Try it: sign in as `{USER}` and create a user, once with **Set permissions boundary** and once without.",
    ),
    hints=(
        "The condition key that carries the requested boundary is `iam:PermissionsBoundary`; compare it with "
        "the policy's ARN.",
        "An explicit `Deny` statement wins over every `Allow`.",
        "Editing a managed policy is `iam:CreatePolicyVersion`; rolling it back is `iam:SetDefaultPolicyVersion`.",
    ),
    checks=(
        Check("boundary-policy", f"{BOUNDARY} exists and allows no IAM changes", boundary_policy),
        Check(
            "creates-with-boundary", f"{USER} can create users with {BOUNDARY} as their boundary", creates_with_boundary
        ),
        Check("only-with-boundary", f"{USER} cannot create users without {BOUNDARY}", only_with_boundary),
        Check("boundary-protected", f"{USER} cannot edit or delete {BOUNDARY}", boundary_protected),
        Check("boundaries-stay", f"{USER} cannot remove permissions boundaries", boundaries_stay),
    ),
    console_links=(("Policies", "/iam/policies"), ("Create policy", "/iam/policies/create"), ("Users", "/iam/users")),
    start="Needs nothing from earlier labs: go on in the same account, or start from an empty account.",
)
