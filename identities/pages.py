"""What the identities console pages share (users, groups, roles, credentials): the lookups that turn a name the
caller's account does not hold into a 404, and the rows of a policy picker."""

from __future__ import annotations

from django.http import Http404, HttpRequest

from core.errors import NoSuchEntity
from identities import queries, services
from identities.models import Group, IamUser
from identities.sections import Reads
from policies import services as policy_services
from policies.models import ManagedPolicy


def not_found(exc: NoSuchEntity) -> Http404:
    return Http404(exc.message)


def user_or_404(request: HttpRequest, user_name: str) -> IamUser:
    """GetUser: the caller's account's user, or a 404 (another account's user too)."""
    try:
        return services.get_user(request.iam_ctx, user_name=user_name)
    except NoSuchEntity as exc:
        raise not_found(exc) from None


def group_or_404(request: HttpRequest, group_name: str) -> Group:
    """GetGroup: the caller's account's group, or a 404."""
    try:
        return services.get_group(request.iam_ctx, group_name=group_name)
    except NoSuchEntity as exc:
        raise not_found(exc) from None


def policy_choices(
    request: HttpRequest, reads: Reads, section: str, query: str, policy_type: str, selected: list[str], limit: int = 25
) -> list[ManagedPolicy]:
    """A policy picker's rows, from the ListPolicies service (a notice under ``section`` when it is refused)."""
    listed = reads.attempt(section, lambda: policy_services.list_policies(request.iam_ctx))
    if listed is None:
        return []
    return queries.attachable_policies(request.iam_ctx.account_id, query, policy_type, selected, limit, base=listed)
