"""The AWS Organizations API over a class's organization, read-only: one function per action.

What tools that audit an account ask Organizations (Prowler's organizations service, which its IAM check
``iam_root_credentials_management_enabled`` needs): DescribeOrganization, ListPolicies, DescribePolicy,
ListTargetsForPolicy and ListDelegatedAdministrators. Each is authorized as ``organizations:<Action>`` and recorded
with eventSource organizations.amazonaws.com; the classroom's pages change the organization
(``classroom.services``), this API only reads it.

The caller's organization: the one its account manages, else the one it is a member of. An account here may manage
several organizations (one per class, ``classroom.models``); it then answers for the oldest, as IAM's
ListOrganizationsFeatures does (``classroom.root_access``), so both name the same organization. An account in no
organization gets ``AWSOrganizationsNotInUseException``; a member account may describe its organization, and gets
``AccessDeniedException`` for the operations AWS keeps to the management account. The only policy type modelled is
the service control policy: the other types list no policy. There are no delegated administrators.
"""

from __future__ import annotations

from dataclasses import dataclass

from classroom.errors import AccessDeniedException, AWSOrganizationsNotInUseException, PolicyNotFoundException
from classroom.models import OrgAccount, Organization, OrganizationalUnit, PolicyAttachment, ServiceControlPolicy
from core.calls import iam_call
from core.context import CallContext
from core.errors import AccessDenied, IamError
from identities.models import Account

SERVICE_CONTROL_POLICY = "SERVICE_CONTROL_POLICY"
SCP_PATH = "service_control_policy"  # the policy type in a policy's ARN
NOT_IN_USE = "Your account is not a member of an organization."
MANAGEMENT_ONLY = "You don't have permissions to access this resource."
POLICY_NOT_FOUND = "We can't find a policy with the PolicyId that you specified."


@dataclass(frozen=True)
class Membership:
    organization: Organization
    management: bool  # the caller's account is the organization's management account


@dataclass(frozen=True)
class Target:
    """ListTargetsForPolicy's PolicyTargetSummary."""

    target_id: str
    arn: str
    name: str
    type: str


def membership(account_id: str) -> Membership | None:
    """The account's organization: the oldest it manages, else the one it belongs to; None for neither."""
    managed = (
        Organization.objects.filter(management_account_id=account_id)
        .select_related("management_account")
        .order_by("created_at", "id")
        .first()
    )
    if managed is not None:
        return Membership(managed, True)
    member = OrgAccount.objects.filter(account_id=account_id).select_related("organization__management_account")
    found = member.first()
    return Membership(found.organization, False) if found is not None else None


def _in_use(found: Membership | None) -> Organization:
    if found is None:
        raise AWSOrganizationsNotInUseException(NOT_IN_USE)
    return found.organization


def _managing(found: Membership | None) -> Organization:
    org = _in_use(found)
    if found is None or not found.management:
        raise AccessDeniedException(MANAGEMENT_ONLY)
    return org


def _answered(error: IamError) -> IamError:
    """Organizations names a denial ``AccessDeniedException`` (IAM's is ``AccessDenied``)."""
    if isinstance(error, AccessDenied):
        return AccessDeniedException(error.message, explanation=error.explanation)
    return error


def account_arn(org: Organization, account_id: str) -> str:
    return f"arn:aws:organizations::{org.management_account_id}:account/{org.id}/{account_id}"


def _policy_arn(found: Membership | None, policy_id: str) -> tuple[ServiceControlPolicy | None, str]:
    """The policy (of the caller's organization, if it manages one) and the ARN its action is decided on."""
    if found is None or not found.management:
        return None, "*"
    org = found.organization
    policy = ServiceControlPolicy.objects.filter(organization=org, policy_id=policy_id).first()
    if policy is not None:
        return policy, policy.arn
    return None, f"arn:aws:organizations::{org.management_account_id}:policy/{org.id}/{SCP_PATH}/{policy_id}"


def describe_organization(ctx: CallContext) -> Organization:
    """DescribeOrganization: any account of the organization may call it (its management account loaded)."""
    with iam_call(ctx, "organizations:DescribeOrganization", "*", {}, errors=_answered):
        return _in_use(membership(ctx.account_id))


def list_policies(ctx: CallContext, *, policy_type: str) -> list[ServiceControlPolicy]:
    """ListPolicies of one type (``Filter``), every page: the service control policies, FullAWSAccess first."""
    with iam_call(ctx, "organizations:ListPolicies", "*", {"filter": policy_type}, errors=_answered):
        org = _managing(membership(ctx.account_id))
        if policy_type != SERVICE_CONTROL_POLICY:
            return []
        return list(ServiceControlPolicy.objects.filter(organization=org).order_by("-aws_managed", "name", "policy_id"))


def describe_policy(ctx: CallContext, *, policy_id: str) -> ServiceControlPolicy:
    found = membership(ctx.account_id)
    policy, arn = _policy_arn(found, policy_id)
    with iam_call(ctx, "organizations:DescribePolicy", arn, {"policyId": policy_id}, errors=_answered):
        _managing(found)
        if policy is None:
            raise PolicyNotFoundException(POLICY_NOT_FOUND)
        return policy


def list_targets_for_policy(ctx: CallContext, *, policy_id: str) -> list[Target]:
    """ListTargetsForPolicy, every page: the root, OUs and accounts the policy is attached to, in that order."""
    found = membership(ctx.account_id)
    policy, arn = _policy_arn(found, policy_id)
    with iam_call(ctx, "organizations:ListTargetsForPolicy", arn, {"policyId": policy_id}, errors=_answered):
        org = _managing(found)
        if policy is None:
            raise PolicyNotFoundException(POLICY_NOT_FOUND)
        rank = {PolicyAttachment.ROOT: 0, PolicyAttachment.UNIT: 1, PolicyAttachment.ACCOUNT: 2}
        attachments = sorted(policy.attachments.all(), key=lambda a: (rank.get(a.target_type, 3), a.target_id))
        units = {
            u.id: u
            for u in OrganizationalUnit.objects.select_related("organization").filter(
                organization=org, id__in=[a.target_id for a in attachments if a.target_type == PolicyAttachment.UNIT]
            )
        }
        names = dict(
            Account.objects.filter(
                id__in=[a.target_id for a in attachments if a.target_type == PolicyAttachment.ACCOUNT]
            ).values_list("id", "name")
        )
        targets = []
        for a in attachments:
            if a.target_type == PolicyAttachment.ROOT:
                targets.append(Target(a.target_id, org.root.arn, org.root.name, a.target_type))
            elif a.target_type == PolicyAttachment.UNIT and a.target_id in units:
                unit = units[a.target_id]
                targets.append(Target(unit.id, unit.arn, unit.name, a.target_type))
            elif a.target_type == PolicyAttachment.ACCOUNT:
                name = names.get(a.target_id) or a.target_id
                targets.append(Target(a.target_id, account_arn(org, a.target_id), name, a.target_type))
        return targets


def list_delegated_administrators(ctx: CallContext, *, service_principal: str | None = None) -> list[Account]:
    """ListDelegatedAdministrators: the classroom registers none, for any service (``ServicePrincipal``)."""
    params = {"servicePrincipal": service_principal}
    with iam_call(ctx, "organizations:ListDelegatedAdministrators", "*", params, errors=_answered):
        _managing(membership(ctx.account_id))
        return []
