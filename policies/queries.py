"""Read models for the Policies pages: what a page shows, gathered in a fixed number of queries.

Everything here is scoped by the caller's account (``visible_to`` / ``in_account``): one account never sees
another's policies, users, groups or roles.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from django.db.models import Case, IntegerField, QuerySet, Value, When

from identities.models import Group, IamUser, Role
from policies.models import ManagedPolicy

# The list's "Filter by Type" choices (the console's labels).
TYPE_FILTERS = {"aws": "AWS managed", "job": "AWS managed - job function", "customer": "Customer managed"}


def with_type_rank(policies: QuerySet[ManagedPolicy]) -> QuerySet[ManagedPolicy]:
    """Annotate ``type_rank`` so the Type column sorts by its label: AWS managed, job function, Customer managed."""
    return policies.annotate(
        type_rank=Case(
            When(account__isnull=False, then=Value(2)),
            When(job_function=True, then=Value(1)),
            default=Value(0),
            output_field=IntegerField(),
        )
    )


def filter_by_type(policies: QuerySet[ManagedPolicy], policy_type: str) -> QuerySet[ManagedPolicy]:
    if policy_type == "aws":
        return policies.filter(account__isnull=True, job_function=False)
    if policy_type == "job":
        return policies.filter(account__isnull=True, job_function=True)
    if policy_type == "customer":
        return policies.filter(account__isnull=False)
    return policies


@dataclass(frozen=True)
class EntityRow:
    kind: str  # "user" | "group" | "role"
    name: str
    attached_as: str  # "Permissions policy" | "Permissions boundary"

    @property
    def entity_type(self) -> str:
        return self.kind.capitalize()

    @property
    def href(self) -> str:
        return f"/iam/{self.kind}s/{quote(self.name, safe='')}"

    @property
    def detachable(self) -> bool:
        return self.attached_as == "Permissions policy"


def entity_rows(entities: object, kind_filter: str = "") -> list[EntityRow]:
    """The Entities attached table from ``services.PolicyEntities``, sorted by name, optionally one entity type."""
    rows = [
        *(EntityRow("user", u.name, "Permissions policy") for u in entities.users),
        *(EntityRow("group", g.name, "Permissions policy") for g in entities.groups),
        *(EntityRow("role", r.name, "Permissions policy") for r in entities.roles),
        *(EntityRow("user", u.name, "Permissions boundary") for u in entities.boundary_users),
        *(EntityRow("role", r.name, "Permissions boundary") for r in entities.boundary_roles),
    ]
    if kind_filter in ("user", "group", "role"):
        rows = [r for r in rows if r.kind == kind_filter]
    return sorted(rows, key=lambda r: (r.name.lower(), r.kind, r.attached_as))


@dataclass(frozen=True)
class AttachCandidate:
    kind: str
    name: str
    path: str

    @property
    def entity_type(self) -> str:
        return self.kind.capitalize()

    @property
    def value(self) -> str:
        return f"{self.kind}:{self.name}"


def attach_candidates(
    policy: ManagedPolicy,
    users: QuerySet[IamUser],
    groups: QuerySet[Group],
    roles: QuerySet[Role],
    query: str = "",
    kind_filter: str = "",
    limit: int = 100,
) -> list[AttachCandidate]:
    """The users, groups and roles (already listed through their authorized List* services) that don't have
    ``policy`` attached yet, filtered by name and type (3 queries)."""
    sources = (("user", users), ("group", groups), ("role", roles))
    rows: list[AttachCandidate] = []
    for kind, qs in sources:
        if kind_filter and kind != kind_filter:
            continue
        qs = qs.exclude(policy_attachments__policy=policy)
        if query:
            qs = qs.filter(name__icontains=query)
        found = qs.order_by("name").values_list("name", "path")[:limit]
        rows += [AttachCandidate(kind, name, path) for name, path in found]
    return sorted(rows, key=lambda r: (r.name.lower(), r.kind))[:limit]
