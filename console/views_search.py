"""The top bar's unified search: IAM's pages and this account's users, groups, roles and policies.

As AWS's unified search, each resource kind is read through its own List service (ListUsers, ListGroups, ListRoles,
ListPolicies): authorized by the engine and recorded like any other read, always scoped to the caller's account.
A kind the caller may not list is left out of the results (the caller learns nothing about it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import quote

from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from console.decorators import console_page
from core.errors import IamError
from identities import roles, services
from policies import services as policy_services

PER_KIND = 5  # results shown per kind, as AWS's dropdown shows a handful and a "see all"
MAX_QUERY = 128


@dataclass(frozen=True)
class Page:
    title: str
    description: str
    url: str
    keywords: str = ""

    def matches(self, needle: str) -> bool:
        return needle in self.title.lower() or needle in self.keywords


# IAM's own pages, as the unified search's "Features" section lists them.
PAGES: tuple[Page, ...] = (
    Page("Dashboard", "IAM dashboard: resources in this account and security recommendations", "/", "iam home"),
    Page("Users", "IAM users in this account", "/iam/users", "iam users people"),
    Page("Create user", "Create an IAM user", "/iam/users/create", "new user add"),
    Page("User groups", "IAM user groups", "/iam/groups", "groups"),
    Page("Create user group", "Create an IAM user group", "/iam/groups/create", "new group add"),
    Page("Roles", "IAM roles", "/iam/roles", "roles assume"),
    Page("Create role", "Create an IAM role", "/iam/roles/create", "new role add"),
    Page("Policies", "Managed policies", "/iam/policies", "policies permissions"),
    Page("Create policy", "Create a customer managed policy", "/iam/policies/create", "new policy json visual"),
    Page("Identity providers", "SAML and OpenID Connect identity providers", "/iam/identity_providers", "saml oidc"),
    Page("Account settings", "Password policy and account alias", "/iam/account_settings", "password policy alias"),
    Page("Credential report", "Download a report of the account's credentials", "/iam/credential_report", "report"),
    Page("Event history", "CloudTrail event history of this account", "/iam/event_history", "cloudtrail audit events"),
    Page("Policy simulator", "Test policies against actions and resources", "/iam/policy_simulator", "simulate"),
    Page(
        "Security credentials",
        "My passwords, access keys and MFA devices",
        "/iam/security_credentials",
        "my access keys mfa password",
    ),
    Page("Switch role", "Switch to a role in this or another account", "/switchrole", "assume role"),
    Page("Labs", "Classroom labs for this account", "/labs/", "classroom lab exercises"),
)


@dataclass(frozen=True)
class Hit:
    name: str
    detail: str
    url: str


@dataclass(frozen=True)
class Section:
    title: str
    hits: list[Hit]


def _read(listing: Callable[[], QuerySet], needle: str, hit: Callable[[object], Hit]) -> list[Hit] | None:
    """The first matches of one List service, or None when the caller may not call it."""
    try:
        rows: Iterable = listing().filter(name__icontains=needle).order_by("name")[:PER_KIND]
        return [hit(row) for row in rows]
    except IamError:
        return None


def find(request: HttpRequest, query: str) -> list[Section]:
    needle = query.strip()[:MAX_QUERY]
    if not needle:
        return []
    ctx = request.iam_ctx.in_background()  # type: ignore[attr-defined]
    lowered = needle.lower()
    sections = [
        Section("Features", [Hit(p.title, p.description, p.url) for p in PAGES if p.matches(lowered)][:PER_KIND])
    ]
    kinds: list[tuple[str, Callable[[], QuerySet], Callable[[object], Hit]]] = [
        ("Users", lambda: services.list_users(ctx), lambda u: Hit(u.name, "IAM user", f"/iam/users/{quote(u.name)}")),
        (
            "User groups",
            lambda: services.list_groups(ctx),
            lambda g: Hit(g.name, "User group", f"/iam/groups/{quote(g.name)}"),
        ),
        ("Roles", lambda: roles.list_roles(ctx), lambda r: Hit(r.name, "Role", f"/iam/roles/{quote(r.name)}")),
        (
            "Policies",
            lambda: policy_services.list_policies(ctx),
            lambda p: Hit(
                p.name,
                "AWS managed policy" if p.account_id is None else "Customer managed policy",
                f"/iam/policies/{quote(p.arn, safe='')}",
            ),
        ),
    ]
    for title, listing, hit in kinds:
        hits = _read(listing, needle, hit)
        if hits is not None:
            sections.append(Section(title, hits))
    return [section for section in sections if section.hits]


@console_page
@require_GET
def search(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "")
    sections = find(request, query)
    return render(
        request,
        "console/search.html#search-results",
        {"query": query.strip(), "sections": sections, "count": sum(len(s.hits) for s in sections)},
    )
