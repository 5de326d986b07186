"""The console's permissions summary of one policy document, by service and access level.

Pure Python over :mod:`policies.catalog.actions`; no Django. Mirrors the IAM console's three summary tables
(AWS docs "Policy summary (list of services)", "Access levels in policy summaries", "Service summary"):

* :func:`policy_summary` — sections *Explicit deny*, *Allow (x of N services)* and *Uncategorized services*; per
  service the Access level ("Full access", "Full: List, Read Limited: Write"), Resource ("All resources",
  "Multiple" or the one ARN), Request condition ("None", the one condition, or "Multiple") and warnings.
* :func:`service_summary` — the drill-down: one row per action of one service, grouped by access level.

Documents are plain ``dict`` values already parsed from JSON; anything structurally odd is skipped, never raised.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache
from typing import Literal

from policies.catalog import actions as catalog
from policies.catalog.actions import ACCESS_LEVELS, AccessLevel, ActionInfo

Effect = Literal["Allow", "Deny"]

WARN_NO_RESOURCE_FOR_ACTION = "One or more actions do not have an applicable resource."
WARN_NO_ACTION_FOR_RESOURCE = "One or more resources do not have an applicable action."
WARN_NO_RESOURCES = "No resources are defined."
WARN_UNRECOGNIZED_ACTIONS = "One or more actions are not recognized."
WARN_NO_ACTION_FOR_CONDITION = "One or more conditions do not have an applicable action."

FULL_ACCESS = "Full access"
NO_ACTIONS_DEFINED = "No actions defined"
ALL_RESOURCES = "All resources"
MULTIPLE = "Multiple"
NONE = "None"


@dataclass(frozen=True, slots=True)
class LevelCount:
    level: AccessLevel
    granted: int
    total: int


@dataclass(frozen=True, slots=True)
class ServiceRow:
    effect: Effect
    prefix: str  # "s3"; for an uncategorized service, the prefix as written
    name: str  # "Amazon S3"; the prefix for uncategorized services
    access_level: str  # "Full access", "Limited: List, Read", "No actions defined"; "" when uncategorized
    resource: str  # "All resources", "Multiple", one ARN, "All resources except …", or "None"
    condition: str  # "None", "aws:SourceIp | IpAddress | 192.0.2.0/24", or "Multiple"
    warnings: tuple[str, ...] = ()
    levels: tuple[LevelCount, ...] = ()  # only levels the service has, in console order
    actions: tuple[str, ...] = ()  # canonical "svc:Action" names the rows cover, sorted
    uncategorized_actions: tuple[str, ...] = ()  # action strings as written that the catalog doesn't know


@dataclass(frozen=True, slots=True)
class PolicySummary:
    explicit_deny: tuple[ServiceRow, ...]
    allow: tuple[ServiceRow, ...]
    uncategorized: tuple[ServiceRow, ...]
    total_services: int  # N in "Allow (x of N services)": every service in the catalog

    @property
    def allow_heading(self) -> str:
        return f"Allow ({len(self.allow)} of {self.total_services} services)"

    @property
    def warnings(self) -> tuple[str, ...]:
        """Distinct row warnings, for the banner above the table."""
        rows = (*self.explicit_deny, *self.allow, *self.uncategorized)
        return tuple(dict.fromkeys(w for r in rows for w in r.warnings))


@dataclass(frozen=True, slots=True)
class ActionRow:
    name: str  # "GetObject"
    full_name: str  # "s3:GetObject"
    access_level: AccessLevel
    resource: str
    condition: str
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class LevelGroup:
    level: AccessLevel
    total: int  # actions of that level in the service
    rows: tuple[ActionRow, ...]  # the granted ones

    @property
    def heading(self) -> str:
        return f"{self.level} ({len(self.rows)} of {self.total} actions)"


@dataclass(frozen=True, slots=True)
class ServiceSummary:
    effect: Effect
    prefix: str
    name: str
    groups: tuple[LevelGroup, ...]  # levels with at least one granted action, console order
    uncategorized_actions: tuple[str, ...] = ()


# --------------------------------------------------------------------------------------------------------------
# Reading statements leniently


def _as_list(value: object) -> list[object] | None:
    if isinstance(value, list):
        return value
    if value is None:
        return None
    return [value]


def _strings(values: Iterable[object]) -> list[str]:
    return [v for v in values if isinstance(v, str)]


@dataclass(slots=True)
class _Statement:
    """One statement reduced to what the summary needs."""

    index: int
    effect: Effect
    resources: tuple[str, ...] | None  # None: no Resource element (or NotResource)
    not_resources: tuple[str, ...] | None
    conditions: tuple[tuple[str, str, tuple[str, ...]], ...]  # (operator, key, values)


def _statements(doc: object) -> Iterator[tuple[_Statement, str, list[str]]]:
    """(statement, "Action"|"NotAction", patterns) for each usable statement."""
    if not isinstance(doc, dict):
        return
    stmts = _as_list(doc.get("Statement"))
    for i, s in enumerate(stmts or ()):
        if not isinstance(s, dict):
            continue
        effect = s.get("Effect")
        if effect not in ("Allow", "Deny"):
            continue
        if "Action" in s:
            element, raw = "Action", s.get("Action")
        elif "NotAction" in s:
            element, raw = "NotAction", s.get("NotAction")
        else:
            continue
        patterns = _strings(_as_list(raw) or ())
        res = _as_list(s.get("Resource")) if "Resource" in s else None
        not_res = _as_list(s.get("NotResource")) if "NotResource" in s else None
        yield (
            _Statement(
                index=i,
                effect=effect,
                resources=tuple(_strings(res)) if res is not None else None,
                not_resources=tuple(_strings(not_res)) if not_res is not None else None,
                conditions=_conditions(s.get("Condition")),
            ),
            element,
            patterns,
        )


def _conditions(value: object) -> tuple[tuple[str, str, tuple[str, ...]], ...]:
    if not isinstance(value, dict):
        return ()
    out: list[tuple[str, str, tuple[str, ...]]] = []
    for operator, block in value.items():
        if not isinstance(block, dict):
            continue
        for key, values in block.items():
            vals = _as_list(values) or []
            out.append((str(operator), str(key), tuple(_json_scalar(v) for v in vals)))
    return tuple(out)


def _json_scalar(v: object) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


# --------------------------------------------------------------------------------------------------------------
# Analysis: which actions of which service each statement reaches


@dataclass(slots=True)
class _Bucket:
    """Everything one (effect, service) pair collects from the policy."""

    granted: dict[str, ActionInfo] = field(default_factory=dict)  # lower full name -> info
    by_statement: dict[int, set[str]] = field(default_factory=dict)  # statement index -> lower full names
    statements: dict[int, _Statement] = field(default_factory=dict)
    uncategorized: dict[str, None] = field(default_factory=dict)  # action strings as written


def _arn_service(arn: str) -> str | None:
    parts = catalog.split_arn(arn)
    return parts[2].lower() if len(parts) >= 3 else None


def _relevant_resources(prefix: str, resources: Iterable[str]) -> list[str]:
    """Resources of a statement that could name something in ``prefix`` (``*`` and wildcard services included)."""
    out = []
    for r in resources:
        if r == "*":
            out.append(r)
            continue
        svc = _arn_service(r)
        wildcard = catalog.has_wildcard(svc or "") and catalog.wildcard_regex(svc or "").fullmatch(prefix)
        if svc is None or svc == prefix or wildcard:
            out.append(r)
    return out


@cache
def _action_map(prefix: str) -> dict[str, ActionInfo]:
    """Lower-case "svc:action" -> info for one service."""
    return {a.full_name.lower(): a for a in catalog.actions(prefix)}


def _analyze(doc: object) -> tuple[dict[tuple[Effect, str], _Bucket], dict[tuple[Effect, str], _Bucket]]:
    """(known services, uncategorized services), keyed by (effect, prefix)."""
    known: dict[tuple[Effect, str], _Bucket] = {}
    unknown: dict[tuple[Effect, str], _Bucket] = {}

    def add_service(st: _Statement, prefix: str, infos: dict[str, ActionInfo]) -> None:
        if not infos:
            return
        bucket = known.setdefault((st.effect, prefix), _Bucket())
        bucket.granted.update(infos)
        bucket.by_statement.setdefault(st.index, set()).update(infos)
        bucket.statements[st.index] = st

    for st, element, patterns in _statements(doc):
        if element == "NotAction":
            excluded: dict[str, set[str]] = {}
            for p in patterns:
                for a in catalog.expand_action_pattern(p):
                    excluded.setdefault(a.partition(":")[0], set()).add(a.lower())
            for svc in catalog.services():
                every = _action_map(svc.prefix)
                drop = excluded.get(svc.prefix)
                add_service(st, svc.prefix, every if not drop else {k: v for k, v in every.items() if k not in drop})
            continue
        for pattern in patterns:
            text = pattern.strip()
            if text == "*":
                for svc in catalog.services():
                    add_service(st, svc.prefix, _action_map(svc.prefix))
                continue
            expanded = catalog.expand_action_pattern(text)
            if expanded:
                grouped: dict[str, dict[str, ActionInfo]] = {}
                for a in expanded:
                    svc_prefix = a.partition(":")[0]
                    lower = a.lower()
                    grouped.setdefault(svc_prefix, {})[lower] = _action_map(svc_prefix)[lower]
                for svc_prefix, infos in grouped.items():
                    add_service(st, svc_prefix, infos)
                continue
            prefix, sep, _ = text.partition(":")
            prefix = prefix.lower()
            if sep and catalog.service_exists(prefix):
                bucket = known.setdefault((st.effect, prefix), _Bucket())
            elif sep and not catalog.has_wildcard(prefix) and prefix:
                bucket = unknown.setdefault((st.effect, prefix), _Bucket())
            else:
                continue  # "s3*" without a colon, "" …: grammar errors, not the summary's business
            bucket.uncategorized[pattern] = None
            bucket.statements[st.index] = st
            bucket.by_statement.setdefault(st.index, set())
    return known, unknown


# --------------------------------------------------------------------------------------------------------------
# Column texts


def access_level_text(granted: Iterable[ActionInfo], prefix: str) -> tuple[str, tuple[LevelCount, ...]]:
    """("Full access" | "Full: List, Read Limited: Write" | "", per-level counts) for a set of granted actions."""
    totals = catalog.level_counts(prefix)
    got: dict[AccessLevel, int] = {}
    for a in granted:
        got[a.access_level] = got.get(a.access_level, 0) + 1
    levels = tuple(LevelCount(lv, got.get(lv, 0), totals[lv]) for lv in ACCESS_LEVELS if lv in totals)
    if not got:
        return "", levels
    if all(lc.granted == lc.total for lc in levels):
        return FULL_ACCESS, levels
    full = [lc.level for lc in levels if lc.granted and lc.granted == lc.total]
    limited = [lc.level for lc in levels if 0 < lc.granted < lc.total]
    parts = []
    if full:
        parts.append("Full: " + ", ".join(full))
    if limited:
        parts.append("Limited: " + ", ".join(limited))
    return " ".join(parts), levels


def _resource_text(prefix: str, statements: Iterable[_Statement]) -> str:
    shown: set[str] = set()
    for st in statements:
        if st.not_resources is not None:
            rel = _relevant_resources(prefix, st.not_resources)
            shown.add(f"All resources except {rel[0]}" if len(rel) == 1 else ALL_RESOURCES if not rel else MULTIPLE)
        elif st.resources is not None:
            rel = _relevant_resources(prefix, st.resources)
            if "*" in rel:
                shown.add(ALL_RESOURCES)
            elif len(rel) == 1:
                shown.add(rel[0])
            elif rel:
                shown.add(MULTIPLE)
            else:
                shown.add(NONE)
        else:
            shown.add(NONE)
    if not shown:
        return NONE
    if len(shown) == 1:
        return next(iter(shown))
    return MULTIPLE


def condition_text(conditions: tuple[tuple[str, str, tuple[str, ...]], ...]) -> str:
    """One condition as ``key | Operator | value[, value]``; "None" without one, "Multiple" for several."""
    if not conditions:
        return NONE
    if len(conditions) > 1:
        return MULTIPLE
    operator, key, values = conditions[0]
    return f"{key} | {operator} | {', '.join(values)}"


def _condition_text(statements: Iterable[_Statement]) -> str:
    shown = {condition_text(st.conditions) for st in statements}
    if len(shown) == 1:
        return next(iter(shown))
    return MULTIPLE if shown else NONE


def _resource_warnings(prefix: str, st: _Statement, granted: Iterable[ActionInfo]) -> set[str]:
    warnings: set[str] = set()
    if st.resources is None:
        return warnings
    if not st.resources:
        warnings.add(WARN_NO_RESOURCES)
        return warnings
    rel = _relevant_resources(prefix, st.resources)
    if "*" in rel:
        return warnings
    infos = list(granted)
    accepted: set[str] = set()
    for info in infos:
        ok = [r for r in rel if catalog.action_accepts_resource(info.full_name, r)]
        if not ok:
            warnings.add(WARN_NO_RESOURCE_FOR_ACTION)
        accepted.update(ok)
    if infos and any(r not in accepted for r in rel):
        warnings.add(WARN_NO_ACTION_FOR_RESOURCE)
    return warnings


def _condition_warnings(st: _Statement, granted: list[ActionInfo]) -> set[str]:
    for _, key, _ in st.conditions:
        key_prefix = key.partition(":")[0].lower()
        tag_key = any(catalog.key_matches(key, t) for t in catalog.ACTION_SPECIFIC_GLOBAL_KEYS)
        if key_prefix == "aws" and not tag_key:
            continue
        if key_prefix != "aws" and not catalog.service_exists(key_prefix):
            continue  # identity-provider keys (accounts.google.com:aud …) and typos are the checks' business
        if granted and not any(catalog.action_supports_condition_key(a.full_name, key) for a in granted):
            return {WARN_NO_ACTION_FOR_CONDITION}
    return set()


def _row(effect: Effect, prefix: str, bucket: _Bucket) -> ServiceRow:
    granted = list(bucket.granted.values())
    level_text, levels = access_level_text(granted, prefix)
    warnings: set[str] = set()
    for idx, st in bucket.statements.items():
        infos = [bucket.granted[n] for n in bucket.by_statement.get(idx, ())]
        warnings |= _resource_warnings(prefix, st, infos)
        warnings |= _condition_warnings(st, infos)
    if bucket.uncategorized:
        warnings.add(WARN_UNRECOGNIZED_ACTIONS)
    return ServiceRow(
        effect=effect,
        prefix=prefix,
        name=catalog.service_name(prefix) or prefix,
        access_level=level_text or NO_ACTIONS_DEFINED,
        resource=_resource_text(prefix, bucket.statements.values()),
        condition=_condition_text(bucket.statements.values()),
        warnings=tuple(w for w in _WARNING_ORDER if w in warnings),
        levels=levels,
        actions=tuple(sorted(a.full_name for a in granted)),
        uncategorized_actions=tuple(bucket.uncategorized),
    )


_WARNING_ORDER = (
    WARN_NO_RESOURCES,
    WARN_NO_RESOURCE_FOR_ACTION,
    WARN_NO_ACTION_FOR_RESOURCE,
    WARN_NO_ACTION_FOR_CONDITION,
    WARN_UNRECOGNIZED_ACTIONS,
)


def _uncategorized_row(effect: Effect, prefix: str, bucket: _Bucket) -> ServiceRow:
    return ServiceRow(
        effect=effect,
        prefix=prefix,
        name=prefix,
        access_level="",
        resource=_resource_text(prefix, bucket.statements.values()),
        condition=_condition_text(bucket.statements.values()),
        uncategorized_actions=tuple(bucket.uncategorized),
    )


# --------------------------------------------------------------------------------------------------------------
# Public API


def policy_summary(doc: object) -> PolicySummary:
    """The console's permissions summary for one policy document (a dict parsed from JSON)."""
    known, unknown = _analyze(doc)
    deny, allow = [], []
    for (effect, prefix), bucket in known.items():
        (deny if effect == "Deny" else allow).append(_row(effect, prefix, bucket))
    uncategorized = [_uncategorized_row(effect, prefix, b) for (effect, prefix), b in unknown.items()]

    def order(r: ServiceRow) -> tuple[str, str]:
        return (r.name.lower(), r.effect)

    return PolicySummary(
        explicit_deny=tuple(sorted(deny, key=order)),
        allow=tuple(sorted(allow, key=order)),
        uncategorized=tuple(sorted(uncategorized, key=order)),
        total_services=len(catalog.services()),
    )


def service_summary(doc: object, prefix: str, effect: Effect = "Allow") -> ServiceSummary:
    """The drill-down for one service: each granted (or denied) action with its level, resource and condition."""
    prefix = prefix.lower()
    known, unknown = _analyze(doc)
    bucket = known.get((effect, prefix)) or unknown.get((effect, prefix)) or _Bucket()
    statements_of: dict[str, list[_Statement]] = {}
    for idx, names in bucket.by_statement.items():
        for n in names:
            statements_of.setdefault(n, []).append(bucket.statements[idx])
    totals = catalog.level_counts(prefix)
    rows: dict[AccessLevel, list[ActionRow]] = {}
    for lower, info in sorted(bucket.granted.items(), key=lambda kv: kv[1].name.lower()):
        sts = statements_of.get(lower, [])
        warnings: set[str] = set()
        for st in sts:
            warnings |= _resource_warnings(prefix, st, [info]) - {WARN_NO_ACTION_FOR_RESOURCE}
            warnings |= _condition_warnings(st, [info])
        rows.setdefault(info.access_level, []).append(
            ActionRow(
                name=info.name,
                full_name=info.full_name,
                access_level=info.access_level,
                resource=_resource_text(prefix, sts),
                condition=_condition_text(sts),
                warnings=tuple(w for w in _WARNING_ORDER if w in warnings),
            )
        )
    groups = tuple(LevelGroup(lv, totals.get(lv, 0), tuple(rows[lv])) for lv in ACCESS_LEVELS if lv in rows)
    return ServiceSummary(
        effect=effect,
        prefix=prefix,
        name=catalog.service_name(prefix) or prefix,
        groups=groups,
        uncategorized_actions=tuple(bucket.uncategorized),
    )
