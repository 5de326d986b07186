"""Lab 10: an intern's policy hides three ways to become administrator; close them and keep the intern's work."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from classroom.labs.base import Check, Lab, Outcome, failed, not_yet, passed
from classroom.labs.facts import AccountFacts
from identities import roles
from identities import services as users
from policies import services as policies

if TYPE_CHECKING:
    from core.context import CallContext

USER = "intern"
POLICY = "InternPolicy"
ADMIN_ROLE = "OpsAdmin"
ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"
ANY_ROLE = "lab-any-role"  # a made-up role name: a policy that lets it be passed lets any role be passed
ANY_POLICY = "lab-any-policy"
REWRITES = ("iam:CreatePolicyVersion", "iam:SetDefaultPolicyVersion")
SELF_GRANTS = ("iam:AttachUserPolicy", "iam:PutUserPolicy")

EC2_TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}


def intern_policy(account_id: str) -> dict:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ReadTheAccount",
                "Effect": "Allow",
                "Action": ["iam:Get*", "iam:List*", "s3:ListAllMyBuckets", "s3:GetObject"],
                "Resource": "*",
            },
            {
                "Sid": "HelpWithDeployments",
                "Effect": "Allow",
                "Action": ["iam:PassRole", "iam:CreatePolicyVersion"],
                "Resource": "*",
            },
            {
                "Sid": "ManageOwnPolicies",
                "Effect": "Allow",
                "Action": "iam:AttachUserPolicy",
                "Resource": f"arn:aws:iam::{account_id}:user/{USER}",
            },
        ],
    }


def build_starting_state(ctx: CallContext) -> None:
    """The intern, the over-generous policy, and an administrator role worth escalating to."""
    users.create_user(ctx, user_name=USER)
    policy = policies.create_policy(
        ctx,
        policy_name=POLICY,
        policy_document=json.dumps(intern_policy(ctx.account_id)),
        description="What the intern needs for the summer.",
    )
    policies.attach_user_policy(ctx, user_name=USER, policy_arn=policy.arn)
    roles.create_role(
        ctx,
        role_name=ADMIN_ROLE,
        assume_role_policy_document=json.dumps(EC2_TRUST),
        description="Instances that run operations jobs.",
    )
    policies.attach_role_policy(ctx, role_name=ADMIN_ROLE, policy_arn=ADMIN)


def _intern_missing(facts: AccountFacts) -> Outcome | None:
    if facts.user(USER) is None:
        return not_yet(f"There is no IAM user named {USER}: the intern still needs an account.")
    return None


def no_pass_role_on_any_role(facts: AccountFacts) -> Outcome:
    if (missing := _intern_missing(facts)) is not None:
        return missing
    made_up = f"arn:aws:iam::{facts.account_id}:role/{ANY_ROLE}"
    for where, document in facts.customer_documents():
        if isinstance(document, dict) and facts.document_allows(document, "iam:PassRole", made_up):
            return failed(f"The {where} still allows iam:PassRole on any role.")
    return passed("No policy of the account lets anyone pass any role.")


def no_policy_rewrites(facts: AccountFacts) -> Outcome:
    if (missing := _intern_missing(facts)) is not None:
        return missing
    targets = [f"arn:aws:iam::{facts.account_id}:policy/{ANY_POLICY}"]
    if (own := facts.customer_policy(POLICY)) is not None:
        targets.insert(0, own.arn)
    for arn in targets:
        for action in REWRITES:
            if facts.can("user", USER, action, arn):
                return failed(f"{USER} can still rewrite managed policies: {action} on {arn} is allowed.")
    return passed(f"{USER} cannot create policy versions or change which version is the default.")


def no_self_grants(facts: AccountFacts) -> Outcome:
    if (missing := _intern_missing(facts)) is not None:
        return missing
    own = facts.user(USER).arn
    for action in SELF_GRANTS:
        if facts.can("user", USER, action, own, {"iam:PolicyARN": ADMIN}):
            return failed(f"{USER} can still give itself permissions: {action} on its own user is allowed.")
    return passed(f"{USER} cannot attach or write policies for itself.")


def keeps_read_access(facts: AccountFacts) -> Outcome:
    if (missing := _intern_missing(facts)) is not None:
        return missing
    own = facts.user(USER).arn
    for action, resource in (("iam:GetUser", own), ("iam:ListRoles", "*"), ("s3:ListAllMyBuckets", "*")):
        if not facts.can("user", USER, action, resource):
            return failed(f"{USER} lost access the job needs: {action} is no longer allowed.")
    return passed(f"{USER} can still read IAM and list the S3 buckets.")


LAB = Lab(
    number=10,
    slug="privilege-escalation",
    title="Find and fix a privilege-escalation path",
    topic="Privilege escalation: iam:PassRole, iam:CreatePolicyVersion and attaching policies to oneself",
    summary=(
        f"The summer intern's policy, {POLICY}, was written in a hurry. Besides reading the account it hides "
        "several ways for the intern to become an administrator. Close them all without taking away what the "
        "job needs: reading IAM and listing the S3 buckets."
    ),
    steps=(
        f"Open **Users** → `{USER}` → **Permissions** and expand `{POLICY}`. Read every statement.",
        "For each permission ask: what could the intern do with it that the job does not need? Look at what it "
        f"could do to `{POLICY}` itself, to its own user, and with the role `{ADMIN_ROLE}`.",
        f"Open **Policies** → `{POLICY}` → **Edit** and save a new version without the escalation paths, keeping "
        "the read access.",
        "Use the policy simulator on the intern to confirm what is allowed now.",
    ),
    hints=(
        "An EC2 instance launched with a role acts with that role's permissions: `iam:PassRole` on `*` hands any "
        "role to anything the intern launches.",
        "Whoever may create a new version of a policy attached to them writes their own permissions.",
        "`iam:AttachUserPolicy` on your own user ARN means AdministratorAccess is one call away.",
        "Editing keeps the old version: the version that is default is the one that counts.",
    ),
    checks=(
        Check("no-pass-role-star", "No policy allows iam:PassRole on every role", no_pass_role_on_any_role),
        Check("no-policy-rewrites", f"{USER} cannot rewrite managed policies", no_policy_rewrites),
        Check("no-self-grants", f"{USER} cannot give itself permissions", no_self_grants),
        Check("keeps-read-access", f"{USER} can still read IAM and list S3 buckets", keeps_read_access),
    ),
    starting_state=build_starting_state,
    start=(
        f"Needs the intern's account as it was handed over: load the starting state (the user {USER}, the "
        f"policy {POLICY} and the role {ADMIN_ROLE})."
    ),
    console_links=(("Users", "/iam/users"), ("Policies", "/iam/policies"), ("Roles", "/iam/roles")),
)
