"""Effective permissions of a principal: per service, which access levels its policies grant — computed by asking
the engine about every action of the IAM action catalog (the same evaluation as every real request)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from policies.catalog import actions as catalog
from policies.engine import PolicySet, Principal, Request, evaluate

LEVELS = ("List", "Read", "Write", "Permissions management", "Tagging")


@dataclass(frozen=True)
class ServiceAccess:
    prefix: str
    name: str
    summary: str  # "Full access", "Limited: List, Read", "Full: List Limited: Write"
    levels: tuple[tuple[str, str], ...]  # (level, "Full" | "Limited")


def _candidate_services(policies: PolicySet) -> list[str] | None:
    """Service prefixes some Allow statement could grant; None when any service could be."""
    prefixes: set[str] = set()
    for labelled in policies.identity:
        for statement in labelled.document.statements:
            if statement.effect != "Allow":
                continue
            if statement.not_actions is not None:
                return None
            for action in statement.actions or ():
                service = action.split(":", 1)[0].lower()
                if "*" in service or "?" in service:
                    return None
                prefixes.add(service)
    return sorted(p for p in prefixes if catalog.service_exists(p))


def _resource_candidates(policies: PolicySet, prefix: str) -> list[str]:
    """Resources to try besides "*": the ARNs the Allow statements name for this service."""
    found: set[str] = set()
    for labelled in policies.identity:
        for statement in labelled.document.statements:
            for resource in statement.resources or ():
                parts = resource.split(":", 3)
                if len(parts) > 2 and parts[2] in (prefix, "*") and resource != "*":
                    found.add(re.sub(r"\$\{[^}]*\}", "x", resource))
    return sorted(found)[:20]


def effective_permissions(principal: Principal, policies: PolicySet, context: dict[str, Any]) -> list[ServiceAccess]:
    services = _candidate_services(policies)
    prefixes = services if services is not None else [s.prefix for s in catalog.services()]
    rows = []
    # One Request normalizes the context once; each action of the sweep is a cheap clone of it.
    base = Request(principal, "iam:GetUser", "*", None, context)
    for prefix in prefixes:
        granted: dict[str, dict[str, int]] = {}
        resources = ["*", *_resource_candidates(policies, prefix)]
        for info in catalog.actions(prefix):
            level = info.access_level
            bucket = granted.setdefault(level, {"all": 0, "full": 0, "some": 0})
            bucket["all"] += 1
            for i, resource in enumerate(resources):
                if evaluate(base.with_action(info.full_name, resource), policies).allowed:
                    bucket["full" if i == 0 else "some"] += 1
                    break
        levels = tuple(
            (level, "Full" if b["full"] == b["all"] else "Limited")
            for level in LEVELS
            if (b := granted.get(level)) and (b["full"] or b["some"])
        )
        if levels:
            rows.append(
                ServiceAccess(prefix, catalog.service_name(prefix) or prefix, _summary(levels, granted), levels)
            )
    return sorted(rows, key=lambda r: r.name.lower())


def _summary(levels: Iterable[tuple[str, str]], granted: dict[str, dict[str, int]]) -> str:
    levels = list(levels)
    present = [level for level in LEVELS if level in granted]
    if len(levels) == len(present) and all(kind == "Full" for _, kind in levels):
        return "Full access"
    full = [level for level, kind in levels if kind == "Full"]
    limited = [level for level, kind in levels if kind == "Limited"]
    parts = []
    if full:
        parts.append("Full: " + ", ".join(full))
    if limited:
        parts.append("Limited: " + ", ".join(limited))
    return " ".join(parts)
