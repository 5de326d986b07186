"""Last Accessed (access advisor): which services a principal's policies grant, and when it last used each,
from the delivered audit events (``ServiceLastAccessed``, filled by event delivery)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from audit.models import ServiceLastAccessed
from core.calls import iam_call
from core.context import CallContext
from policies.catalog import actions as catalog


@dataclass(frozen=True)
class ServiceAccess:
    namespace: str
    name: str
    last_accessed_at: datetime | None
    entity: str  # the user or role session that made the last call


def granted_services(documents: Iterable[str]) -> tuple[set[str], bool]:
    """Service prefixes that Allow statements name; True when some statement allows every service."""
    services: set[str] = set()
    everything = False
    for text in documents:
        try:
            statements = json.loads(text).get("Statement", [])
        except (ValueError, AttributeError):
            continue
        for statement in statements if isinstance(statements, list) else [statements]:
            if not isinstance(statement, dict) or statement.get("Effect") != "Allow":
                continue
            if "NotAction" in statement:
                everything = True
                continue
            patterns = statement.get("Action", [])
            for pattern in [patterns] if isinstance(patterns, str) else patterns:
                prefix = str(pattern).split(":", 1)[0].lower()
                if prefix == "*" or "*" in prefix or "?" in prefix:
                    everything = True
                else:
                    services.add(prefix)
    return services, everything


def usage_of(account_id: str, arns: Iterable[str]) -> dict[str, list[ServiceLastAccessed]]:
    """{namespace: rows of these principals}, each list newest first."""
    used: dict[str, list[ServiceLastAccessed]] = {}
    for row in ServiceLastAccessed.objects.filter(account_id=account_id, principal_arn__in=list(arns)):
        used.setdefault(row.service_namespace, []).append(row)
    for rows in used.values():
        rows.sort(key=lambda r: r.last_accessed_at, reverse=True)
    return used


def service_rows(account_id: str, arns: Iterable[str], documents: Iterable[str]) -> tuple[list[ServiceAccess], bool]:
    """The tab's and the API's data: granted services and used ones, accessed first (newest first), then by name."""
    used = usage_of(account_id, arns)
    granted, everything = granted_services(documents)
    names = granted | set(used)
    rows = [
        ServiceAccess(
            ns,
            catalog.service_name(ns) or ns,
            used[ns][0].last_accessed_at if ns in used else None,
            used[ns][0].last_authenticated_entity if ns in used else "",
        )
        for ns in names
    ]
    rows.sort(
        key=lambda r: (
            r.last_accessed_at is None,
            -(r.last_accessed_at.timestamp() if r.last_accessed_at else 0),
            r.name,
        )
    )
    return rows, everything


def get_service_last_accessed(
    ctx: CallContext, *, arn: str, member_arns: Iterable[str] = (), documents: Iterable[str] = ()
) -> tuple[list[ServiceAccess], bool]:
    """Rows for the Last Accessed tab: granted services (accessed ones first, newest first) and whether all
    services are granted. For a group, ``member_arns`` are its users: the group's data is theirs."""
    with iam_call(ctx, "iam:GetServiceLastAccessedDetails", arn, {"arn": arn}):
        return service_rows(ctx.account_id, [arn, *member_arns], documents)
