"""Catalog-based policy checks, in the spirit of IAM Access Analyzer ``ValidatePolicy``.

The grammar checks (missing Effect, bad JSON, wrong types …) belong to the engine's parser and validator; this
module adds what needs the action catalog: unknown services and actions, resource ARNs and condition keys the
statement's actions can't use, ``iam:PassRole`` / ``iam:CreateServiceLinkedRole`` reached with ``*``, Allow with
NotAction, empty elements, redundant actions/resources/statements and a missing Version.

Issue codes and message wording follow the Access Analyzer policy check reference (console form:
"<Title>: <details>"). Three checks have no Access Analyzer equivalent and use codes of our own:
``ALLOW_WITH_NOT_ACTION``, ``RESOURCE_ARN_NOT_APPLICABLE``, ``ACTION_WITHOUT_APPLICABLE_RESOURCE`` and
``CONDITION_KEY_NOT_APPLICABLE`` (the last three mirror the console's policy-summary warnings).

:func:`catalog_findings` accepts any JSON value and never raises; structurally odd parts are skipped.
"""

from __future__ import annotations

import bisect
import difflib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

from policies.catalog import actions as catalog
from policies.engine.findings import Finding, FindingType, Location

PathSeg = str | int
Path = tuple[PathSeg, ...]

PARTITIONS = frozenset({"aws", "aws-cn", "aws-us-gov", "aws-iso", "aws-iso-b", "aws-iso-e", "aws-iso-f", "aws-eusc"})

#: Service keys that other services see in their request context (AWS "cross-service condition keys").
CROSS_SERVICE_KEYS = frozenset(
    {
        "ec2:sourceinstancearn",
        "ec2:sourceinstanceprivateipv4",
        "ec2:roledelivery",
        "glue:roleassumedby",
        "glue:credentialissuingservice",
        "lambda:sourcefunctionarn",
        "ssm:sourceinstancearn",
        "codebuild:buildarn",
        "codebuild:projectarn",
        "identitystore:userid",
        "sts:sourceidentity",
    }
)

_KIND_ALIASES = {
    "identity": "identity",
    "identity_policy": "identity",
    "inline": "identity",
    "managed": "identity",
    "session": "identity",  # session policies limit like identity policies and take the same checks
    "session_policy": "identity",
    "boundary": "boundary",
    "permissions_boundary": "boundary",
    "resource": "resource",
    "resource_policy": "resource",
    "trust": "trust",
    "role_trust_policy": "trust",
    "trust_policy": "trust",
    "scp": "scp",
    "service_control_policy": "scp",
    "rcp": "rcp",
    "resource_control_policy": "rcp",
}


def _normalize_kind(kind: object) -> str:
    text = str(kind).strip().lower().replace("-", "_").replace(" ", "_") if isinstance(kind, str) else ""
    return _KIND_ALIASES.get(text, "identity")


# --------------------------------------------------------------------------------------------------------------
# JSON path → text position


def path_text(path: Path) -> str:
    """``("Statement", 0, "Action", 1)`` → ``"Statement[0].Action[1]"``."""
    out = ""
    for seg in path:
        if isinstance(seg, int):
            out += f"[{seg}]"
        else:
            out += f".{seg}" if out else seg
    return out


_WS = " \t\r\n"
_STRING_END = re.compile(r'(?:[^"\\]|\\.)*"', re.DOTALL)


def json_positions(text: str) -> dict[Path, tuple[int, int]]:
    """Map each element path in a JSON text to the 1-based (line, column) where it starts.

    Object members map to their key's opening quote, array items to their first character, the root (``()``) to the
    first character of the document. Tolerant: on a syntax error it stops and returns what it saw so far. Iterative
    (no recursion), so deep nesting is fine. Duplicate keys map to the last occurrence, as :func:`json.loads` keeps.
    """
    offsets: dict[Path, int] = {}
    if not isinstance(text, str):
        return {}
    n = len(text)
    i = 0
    # frame: [kind, path, state, key, index]; kind "obj"/"arr"/"root"
    stack: list[list[object]] = [["root", (), "value", None, 0]]

    def skip_ws(j: int) -> int:
        while j < n and text[j] in _WS:
            j += 1
        return j

    while stack:
        if len(stack) == 1 and stack[0][2] == "done":
            break
        i = skip_ws(i)
        if i >= n:
            break
        ch = text[i]
        frame = stack[-1]
        kind, path, state = frame[0], frame[1], frame[2]
        assert isinstance(path, tuple)
        if state == "value" or state == "value_or_end":
            if kind == "arr" and state == "value_or_end" and ch == "]":
                stack.pop()
                i += 1
                continue
            if kind == "obj":
                vpath: Path = (*path, frame[3])  # type: ignore[arg-type]
            elif kind == "arr":
                idx = frame[4]
                assert isinstance(idx, int)
                vpath = (*path, idx)
                offsets[vpath] = i
            else:
                vpath = ()
                offsets[()] = i
            frame[2] = "comma" if kind != "root" else "done"
            if ch == "{":
                stack.append(["obj", vpath, "key_or_end", None, 0])
                i += 1
            elif ch == "[":
                stack.append(["arr", vpath, "value_or_end", None, 0])
                i += 1
            elif ch == '"':
                m = _STRING_END.match(text, i + 1)
                if not m:
                    break
                i = m.end()
            else:
                j = i
                while j < n and text[j] not in _WS and text[j] not in ",]}:":
                    j += 1
                if j == i:
                    break
                i = j
            continue
        if kind == "obj" and state in ("key", "key_or_end"):
            if ch == "}" and state == "key_or_end":
                stack.pop()
                i += 1
                continue
            if ch != '"':
                break
            m = _STRING_END.match(text, i + 1)
            if not m:
                break
            raw = text[i : m.end()]
            try:
                key = json.loads(raw)
            except ValueError:
                key = raw[1:-1]
            offsets[(*path, key)] = i
            frame[3] = key
            frame[2] = "colon"
            i = m.end()
            continue
        if state == "colon":
            if ch != ":":
                break
            frame[2] = "value"
            i += 1
            continue
        if state == "comma":
            if ch == ",":
                if kind == "obj":
                    frame[2] = "key"
                else:
                    frame[4] = int(frame[4]) + 1  # type: ignore[call-overload]
                    frame[2] = "value"
                i += 1
                continue
            if (kind == "obj" and ch == "}") or (kind == "arr" and ch == "]"):
                stack.pop()
                i += 1
                continue
            break
        break  # root "done" or unexpected state

    line_starts = [0] + [m.end() for m in re.finditer("\n", text)]
    result: dict[Path, tuple[int, int]] = {}
    for p, off in offsets.items():
        line = bisect.bisect_right(line_starts, off)
        result[p] = (line, off - line_starts[line - 1] + 1)
    return result


class _Locator:
    def __init__(self, text: str | None) -> None:
        self._positions = json_positions(text) if isinstance(text, str) else None

    def __call__(self, path: Path) -> Location:
        if self._positions is None:
            return Location(path_text(path))
        probe = path
        while True:
            pos = self._positions.get(probe)
            if pos is not None:
                return Location(path_text(path), pos[0], pos[1])
            if not probe:
                return Location(path_text(path))
            probe = probe[:-1]


# --------------------------------------------------------------------------------------------------------------
# Helpers over statements


@dataclass(frozen=True, slots=True)
class _Item:
    value: str
    path: Path


def _items(stmt: dict[str, object], element: str, base: Path) -> list[_Item] | None:
    """String values of an element with their paths; None when the element is absent or not string/list."""
    if element not in stmt:
        return None
    value = stmt[element]
    if isinstance(value, str):
        return [_Item(value, (*base, element))]
    if isinstance(value, list):
        return [_Item(v, (*base, element, i)) for i, v in enumerate(value) if isinstance(v, str)]
    return None


def _statements(policy: dict[str, object]) -> Iterator[tuple[Path, dict[str, object]]]:
    stmts = policy.get("Statement")
    if isinstance(stmts, dict):
        yield ("Statement",), stmts
    elif isinstance(stmts, list):
        for i, s in enumerate(stmts):
            if isinstance(s, dict):
                yield ("Statement", i), s


def _expand(pattern: str) -> tuple[str, ...]:
    return catalog.expand_action_pattern(pattern.strip())


def _closest(word: str, choices: list[str]) -> str | None:
    lowered = {c.lower(): c for c in choices}
    match = difflib.get_close_matches(word.lower(), list(lowered), n=1, cutoff=0.6)
    return lowered[match[0]] if match else None


@lru_cache(maxsize=1024)
def _closest_service(prefix: str) -> str | None:
    return _closest(prefix, [s.prefix for s in catalog.services()])


@lru_cache(maxsize=4096)
def _closest_action(prefix: str, name: str) -> str | None:
    """Canonical "svc:Action" closest to a misspelt action name of a known service."""
    found = _closest(name, [a.name for a in catalog.actions(prefix)])
    info = catalog.action(f"{prefix}:{found}") if found else None
    return info.full_name if info else None


def _pattern_covers(general: str, specific: str, *, ignore_case: bool) -> bool:
    """Whether wildcard pattern ``general`` matches every string ``specific`` can stand for (``*`` in ``specific``
    is treated as literal text, which a ``*`` in ``general`` covers)."""
    rx = catalog.wildcard_regex(general) if ignore_case else catalog.wildcard_regex_cs(general)
    return rx.fullmatch(specific) is not None


# --------------------------------------------------------------------------------------------------------------
# The checks


class _Checker:
    def __init__(self, policy: dict[str, object], kind: str, locate: _Locator) -> None:
        self.policy = policy
        self.kind = kind
        self.locate = locate
        self.findings: list[Finding] = []

    def add(self, finding_type: FindingType, code: str, message: str, path: Path) -> None:
        self.findings.append(Finding(finding_type, code, message, self.locate(path)))

    # -- document level -----------------------------------------------------------------------------------------

    def run(self) -> list[Finding]:
        if "Version" not in self.policy:
            self.add(
                "WARNING",
                "MISSING_VERSION",
                "Missing version: We recommend that you specify the Version element to help you with debugging "
                "permission issues.",
                (),
            )
        seen: dict[str, Path] = {}
        for base, stmt in _statements(self.policy):
            self.statement(base, stmt)
            canon = _canonical(stmt)
            if canon in seen:
                self.add(
                    "SUGGESTION",
                    "REDUNDANT_STATEMENT",
                    "Redundant statement: The statements are redundant because they provide identical permissions. "
                    "Update the policy to remove the redundant statement.",
                    base,
                )
            else:
                seen[canon] = base
        return self.findings

    # -- statement level ----------------------------------------------------------------------------------------

    def statement(self, base: Path, stmt: dict[str, object]) -> None:
        effect = stmt.get("Effect")
        action_items = _items(stmt, "Action", base)
        not_action_items = _items(stmt, "NotAction", base)
        resource_items = _items(stmt, "Resource", base)
        not_resource_items = _items(stmt, "NotResource", base)

        if isinstance(stmt.get("Action"), list) and not stmt["Action"]:
            self.add(
                "SUGGESTION",
                "EMPTY_ARRAY_ACTION",
                "Empty array action: This statement includes no actions and does not affect the policy. "
                "Specify actions.",
                (*base, "Action"),
            )
        if isinstance(stmt.get("Resource"), list) and not stmt["Resource"]:
            self.add(
                "SUGGESTION",
                "EMPTY_ARRAY_RESOURCE",
                "Empty array resource: This statement includes no resources and does not affect the policy. "
                "Specify resources.",
                (*base, "Resource"),
            )

        oks = [self.action_item(item) for item in (*(action_items or ()), *(not_action_items or ()))]
        # The actions the statement reaches, when it lists them all explicitly (no "*", no NotAction, all known).
        known_actions: set[str] | None = None
        if action_items and all(oks[: len(action_items)]) and all(i.value.strip() != "*" for i in action_items):
            known_actions = {a for i in action_items for a in _expand(i.value)}
        if action_items:
            self.redundant_actions(action_items)

        for items in (resource_items, not_resource_items):
            well_formed = [item for item in items or () if self.resource_item(item)]
            if items is resource_items and well_formed and self.kind not in ("trust",):
                self.resource_applicability(well_formed, items or [], known_actions, action_items or [])
            if items:
                self.redundant_resources(items)

        self.condition(base, stmt, known_actions)

        if effect == "Allow" and self.kind in ("identity", "boundary"):
            if not_action_items is not None:
                self.add(
                    "SECURITY_WARNING",
                    "ALLOW_WITH_NOT_ACTION",
                    "Allow with NotAction: Using Allow with NotAction can be overly permissive because it allows "
                    "every action that is not listed, including actions that AWS adds later. We recommend that you "
                    "use Action instead.",
                    (*base, "NotAction"),
                )
            self.star_checks(base, stmt, action_items, not_action_items, resource_items, not_resource_items)

    def action_item(self, item: _Item) -> bool:
        """Report unknown services/actions; True when the value names at least one catalog action."""
        text = item.value.strip()
        if text == "*":
            return True
        prefix, sep, name = text.partition(":")
        if not sep or not prefix or not name:
            return False  # grammar: the validator reports the action format
        if catalog.has_wildcard(prefix):
            return bool(_expand(text))
        if not catalog.service_exists(prefix):
            suggestion = _closest_service(prefix.lower())
            hint = f" Did you mean {suggestion}?" if suggestion else ""
            self.add(
                "ERROR",
                "INVALID_SERVICE_IN_ACTION",
                f"Invalid service in action: The service {prefix} specified in the action does not exist.{hint}",
                item.path,
            )
            return False
        if _expand(text):
            return True
        hint = ""
        if not catalog.has_wildcard(name):
            suggestion = _closest_action(prefix.lower(), name.lower())
            if suggestion:
                hint = f" Did you mean {suggestion}?"
        self.add(
            "ERROR",
            "INVALID_ACTION",
            f"Invalid action: The action {text} does not exist.{hint}",
            item.path,
        )
        return False

    def redundant_actions(self, items: list[_Item]) -> None:
        expansions = [frozenset(a.lower() for a in _expand(i.value)) for i in items]
        by_prefix: dict[str, list[int]] = {}
        global_idx: list[int] = []
        for idx, item in enumerate(items):
            prefix = item.value.strip().partition(":")[0].lower()
            if item.value.strip() == "*" or catalog.has_wildcard(prefix):
                global_idx.append(idx)
            else:
                by_prefix.setdefault(prefix, []).append(idx)
        for j, item in enumerate(items):
            exp_j = expansions[j]
            if not exp_j:
                continue
            prefix = item.value.strip().partition(":")[0].lower()
            j_wild = catalog.has_wildcard(item.value)
            for i in (*by_prefix.get(prefix, ()), *global_idx):
                if i == j or not expansions[i]:
                    continue
                if j_wild and not catalog.has_wildcard(items[i].value):
                    continue
                if exp_j <= expansions[i] and (exp_j < expansions[i] or i < j):
                    self.add(
                        "SUGGESTION",
                        "REDUNDANT_ACTION",
                        f"Redundant action: The action {item.value} is redundant because {items[i].value} provides "
                        f"the same permissions. Update the policy to remove the redundant action such as: "
                        f"{item.value}.",
                        item.path,
                    )
                    break

    # -- resources ----------------------------------------------------------------------------------------------

    def resource_item(self, item: _Item) -> bool:
        """ARN format checks; True when the value is a usable ARN (or ``*``) for the applicability check."""
        r = item.value
        if r == "*" or r.startswith(("*", "?", "${")):
            return r == "*"
        if not r.startswith("arn:"):
            self.add(
                "ERROR",
                "INVALID_ARN_PREFIX",
                "Invalid ARN prefix: Add the required prefix (arn) to the resource ARN.",
                item.path,
            )
            return False
        parts = catalog.split_arn(r)
        if len(parts) < 6:
            if not r.endswith("*"):
                self.add(
                    "ERROR",
                    "MISSING_ARN_FIELD",
                    "Missing ARN field: Resource ARNs must include at least 6 fields in the following structure: "
                    "arn:partition:service:region:account:resource",
                    item.path,
                )
            return False
        _, partition, service, _region, _account, _resource = parts
        if service != service.lower():
            self.add(
                "ERROR",
                "INVALID_ARN_SERVICE_CASE",
                "Invalid ARN service case: Update the service name in the resource ARN to use all lowercase letters.",
                item.path,
            )
            return False
        if partition not in PARTITIONS and not catalog.has_wildcard(partition) and "${" not in partition:
            self.add(
                "ERROR",
                "INVALID_PARTITION",
                f"Invalid partition: The resource ARN for the service {service} does not support the partition "
                f"{partition}. Use the supported values: aws, aws-cn, aws-us-gov",
                item.path,
            )
            return False
        if catalog.has_wildcard(service) or not catalog.service_exists(service):
            if catalog.has_wildcard(service) and service != "*":
                self.add(
                    "SUGGESTION",
                    "WILDCARD_IN_SERVICE_NAME",
                    "Wildcard in service name: Avoid using wildcards (*, ?) in the service name because it might "
                    "grant unintended access to other AWS services with similar names.",
                    item.path,
                )
            return True
        types = catalog.resource_types(service)
        if service == "iam" and _resource == "root":
            return True  # arn:aws:iam::123456789012:root names the account; the catalog has no type for it
        if types and not catalog.matching_resource_types(service, r):
            self.add(
                "ERROR",
                "INVALID_ARN_RESOURCE",
                "Invalid ARN resource: Resource ARN does not match the expected ARN format. Update the resource "
                "portion of the ARN.",
                item.path,
            )
            return False
        return True

    def resource_applicability(
        self, resources: list[_Item], all_items: list[_Item], known: set[str] | None, action_items: list[_Item]
    ) -> None:
        if known is None or not known or any(r.value == "*" for r in all_items):
            return
        if len(resources) != len(all_items):
            return  # some ARN is malformed; its own error says so
        accepted: set[int] = set()
        for a in known:
            for idx, r in enumerate(resources):
                if catalog.action_accepts_resource(a, r.value):
                    accepted.add(idx)
        for idx, r in enumerate(resources):
            if idx not in accepted:
                self.add(
                    "WARNING",
                    "RESOURCE_ARN_NOT_APPLICABLE",
                    f"Resource ARN not applicable: None of the actions in this statement support the resource "
                    f"{r.value}, so it grants nothing. Update the resource ARN or move it to a statement with "
                    f"actions that support it.",
                    r.path,
                )
        for item in action_items:
            if catalog.has_wildcard(item.value):
                continue
            info = catalog.action(item.value.strip())
            if info and not any(catalog.action_accepts_resource(info.full_name, r.value) for r in resources):
                if not info.resource_types:
                    detail = (
                        'supports only "*" as its resource, so this statement does not allow it. Add "*" to the '
                        "resources or move the action to another statement."
                    )
                else:
                    detail = (
                        "does not support any resource in this statement, so this statement does not allow it. "
                        "Add a resource that the action supports."
                    )
                self.add(
                    "WARNING",
                    "ACTION_WITHOUT_APPLICABLE_RESOURCE",
                    f"Action without applicable resource: The action {info.full_name} {detail}",
                    item.path,
                )

    def redundant_resources(self, items: list[_Item]) -> None:
        for j, item in enumerate(items):
            for i, other in enumerate(items):
                if i == j:
                    continue
                same = other.value == item.value
                if (same and i < j) or (not same and _pattern_covers(other.value, item.value, ignore_case=False)):
                    self.add(
                        "SUGGESTION",
                        "REDUNDANT_RESOURCE",
                        f"Redundant resource: The resource ARN {item.value} is redundant because {other.value} "
                        f"references the same resources. Review the use of wildcards (*)",
                        item.path,
                    )
                    break

    # -- conditions ---------------------------------------------------------------------------------------------

    def condition(self, base: Path, stmt: dict[str, object], known: set[str] | None) -> None:
        cond = stmt.get("Condition")
        if not isinstance(cond, dict):
            return
        cpath = (*base, "Condition")
        if not cond:
            self.add(
                "SUGGESTION",
                "EMPTY_OBJECT_CONDITION",
                "Empty object condition: This condition block is empty and it does not affect the policy. "
                "Specify conditions.",
                cpath,
            )
            return
        for operator, block in cond.items():
            opath = (*cpath, operator)
            if not isinstance(block, dict):
                continue
            if not block:
                self.add(
                    "SUGGESTION",
                    "EMPTY_OBJECT_CONDITION",
                    "Empty object condition: This condition block is empty and it does not affect the policy. "
                    "Specify conditions.",
                    opath,
                )
                continue
            for key, values in block.items():
                kpath = (*opath, key)
                if isinstance(values, list) and not values:
                    self.empty_condition_values(str(operator), kpath)
                self.condition_key(key, kpath, known)

    def empty_condition_values(self, operator: str, path: Path) -> None:
        if operator.startswith("ForAllValues:"):
            self.add(
                "SUGGESTION",
                "EMPTY_ARRAY_CONDITION_FORALLVALUES",
                "Empty array condition ForAllValues: The ForAllValues prefix with an empty condition key matches "
                "only if the key is missing from the request context. To determine if the request context is empty, "
                "we recommend that you use the Null condition operator with the value of true instead.",
                path,
            )
        elif operator.startswith("ForAnyValue:"):
            self.add(
                "SUGGESTION",
                "EMPTY_ARRAY_CONDITION_FORANYVALUE",
                "Empty array condition ForAnyValue: The ForAnyValue prefix with an empty condition key never matches "
                "the request context and it does not affect the policy. Specify conditions.",
                path,
            )
        elif operator.endswith("IfExists"):
            self.add(
                "SUGGESTION",
                "EMPTY_ARRAY_CONDITION_IFEXISTS",
                "Empty array condition IfExists: The IfExists suffix with an empty condition key matches only if the "
                "key is missing from the request context. To determine if the request context is empty, we recommend "
                "that you use the Null condition operator with the value of true instead.",
                path,
            )
        else:
            self.add(
                "SUGGESTION",
                "EMPTY_ARRAY_CONDITION",
                "Empty array condition: There are no values for the condition key and it does not affect the policy. "
                "Specify conditions.",
                path,
            )

    def condition_key(self, key: str, path: Path, known: set[str] | None) -> None:
        prefix, sep, name = key.partition(":")
        if not sep or not prefix or not name:
            return  # key format: the validator's business
        lower_prefix = prefix.lower()
        if lower_prefix == "aws":
            if not catalog.is_global_condition_key(key):
                self.add(
                    "ERROR",
                    "INVALID_GLOBAL_CONDITION_KEY",
                    f"Invalid global condition key: The condition key {key} does not exist. Use a valid condition key.",
                    path,
                )
                return
            specific = any(catalog.key_matches(key, t) for t in catalog.ACTION_SPECIFIC_GLOBAL_KEYS)
            if not specific:
                return
        elif catalog.service_exists(lower_prefix):
            if not catalog.condition_key_exists(key):
                self.add(
                    "ERROR",
                    "INVALID_SERVICE_CONDITION_KEY",
                    f"Invalid service condition key: The condition key {key} does not exist in the service "
                    f"{lower_prefix}. Use a valid condition key.",
                    path,
                )
                return
            if key.lower() in CROSS_SERVICE_KEYS:
                return
        elif "." in prefix or "/" in prefix or catalog.condition_key_prefix_exists(prefix):
            return  # identity-provider keys (accounts.google.com:aud, saml:…): not in the action catalog
        else:
            self.add(
                "ERROR",
                "INVALID_SERVICE",
                f"Invalid service: The service {prefix} does not exist. Use a valid service name.",
                path,
            )
            return
        if self.kind == "trust" or not known:
            return
        if not any(catalog.action_supports_condition_key(a, key) for a in known):
            self.add(
                "WARNING",
                "CONDITION_KEY_NOT_APPLICABLE",
                f"Condition key not applicable: None of the actions in this statement support the condition key "
                f"{key}. Use a condition key that the actions support, or move the actions to another statement.",
                path,
            )

    # -- PassRole / CreateServiceLinkedRole with wildcards ------------------------------------------------------

    def star_checks(
        self,
        base: Path,
        stmt: dict[str, object],
        action_items: list[_Item] | None,
        not_action_items: list[_Item] | None,
        resource_items: list[_Item] | None,
        not_resource_items: list[_Item] | None,
    ) -> None:
        cond_keys = _condition_keys(stmt.get("Condition"))
        checks: tuple[tuple[str, str, FindingType, str | None], ...] = (
            ("iam:PassRole", "PASS_ROLE", "SECURITY_WARNING", "iam:passedtoservice"),
            ("iam:CreateServiceLinkedRole", "CREATE_SLR", "WARNING", None),
        )
        for target, code_prefix, finding_type, suppress_key in checks:
            if suppress_key and suppress_key in cond_keys:
                continue
            how, where = _reach(target, action_items, not_action_items, (*base, "NotAction"))
            if how is None:
                continue
            if not_resource_items is not None:
                res_part, rpath = "NOT_RESOURCE", (*base, "NotResource")
            else:
                star = next((r for r in resource_items or () if _role_star(r.value)), None)
                if star is None:
                    continue
                res_part, rpath = "STAR_IN_RESOURCE", star.path
            code, path = _star_code(code_prefix, how, res_part, where, rpath)
            self.add(finding_type, code, _star_message(code, target), path)


def _reach(
    target: str, action_items: list[_Item] | None, not_action_items: list[_Item] | None, not_action_path: Path
) -> tuple[str | None, Path]:
    """("explicit"|"wildcard"|"not_action"|None, path of the element that reaches the action)."""
    if action_items is not None:
        for item in action_items:
            if item.value.strip().lower() == target.lower():
                return "explicit", item.path
        for item in action_items:
            text = item.value.strip()
            if catalog.has_wildcard(text) and catalog.wildcard_regex(text).fullmatch(target):
                return "wildcard", item.path
        return None, ()
    if not_action_items is not None:
        if any(catalog.wildcard_regex(i.value.strip()).fullmatch(target) for i in not_action_items):
            return None, ()
        return "not_action", not_action_path
    return None, ()


def _role_star(resource: str) -> bool:
    """A Resource value that covers every IAM role: ``*``, ``arn:aws:iam::*:role/*``, ``arn:aws:iam::*:*``…"""
    if resource == "*":
        return True
    parts = catalog.split_arn(resource)
    if len(parts) < 6:
        return False
    service, res = parts[2], parts[5]
    return service in ("iam", "*") and res in ("*", "role/*", "role*")


def _star_code(prefix: str, how: str, res_part: str, action_path: Path, resource_path: Path) -> tuple[str, Path]:
    if how == "explicit":
        return (
            (f"{prefix}_WITH_NOT_RESOURCE", action_path)
            if res_part == "NOT_RESOURCE"
            else (
                f"{prefix}_WITH_STAR_IN_RESOURCE",
                resource_path,
            )
        )
    if how == "wildcard":
        if res_part == "NOT_RESOURCE":
            return f"{prefix}_WITH_STAR_IN_ACTION_AND_NOT_RESOURCE", action_path
        return f"{prefix}_WITH_STAR_IN_ACTION_AND_RESOURCE", action_path
    if res_part == "NOT_RESOURCE":
        return f"{prefix}_WITH_NOT_ACTION_AND_NOT_RESOURCE", action_path
    return f"{prefix}_WITH_STAR_IN_RESOURCE_AND_NOT_ACTION", action_path


_PASS_TAIL = (
    "We recommend that you specify resource ARNs or add the iam:PassedToService condition key to your statement."
)
_SLR_TAIL = "We recommend that you specify resource ARNs instead."
_STAR_MESSAGES = {
    "PASS_ROLE_WITH_STAR_IN_RESOURCE": (
        "Pass role with star in resource: Using the iam:PassRole action with wildcards (*) in the resource can be "
        f"overly permissive because it allows iam:PassRole permissions on multiple resources. {_PASS_TAIL}"
    ),
    "PASS_ROLE_WITH_STAR_IN_ACTION_AND_RESOURCE": (
        "Pass role with star in action and resource: Using wildcards (*) in the action and the resource can be "
        f"overly permissive because it allows iam:PassRole permissions on all resources. {_PASS_TAIL}"
    ),
    "PASS_ROLE_WITH_STAR_IN_RESOURCE_AND_NOT_ACTION": (
        "Pass role with star in resource and NotAction: Using a resource with wildcards (*) and NotAction can be "
        f"overly permissive because it allows iam:PassRole permissions on all resources. {_PASS_TAIL}"
    ),
    "PASS_ROLE_WITH_NOT_RESOURCE": (
        "Pass role with NotResource: Using the iam:PassRole action with NotResource can be overly permissive because "
        "it can allow iam:PassRole permissions on multiple resources. We recommend that you specify resource ARNs "
        "instead."
    ),
    "PASS_ROLE_WITH_STAR_IN_ACTION_AND_NOT_RESOURCE": (
        "Pass role with star in action and NotResource: Using an action with a wildcard (*) and NotResource can be "
        "overly permissive because it can allow iam:PassRole permissions on multiple resources. We recommend that "
        "you specify resource ARNs instead."
    ),
    "PASS_ROLE_WITH_NOT_ACTION_AND_NOT_RESOURCE": (
        "Pass role with NotAction and NotResource: Using NotAction with NotResource can be overly permissive because "
        "it can allow iam:PassRole permissions on multiple resources. We recommend that you specify resource ARNs "
        "instead."
    ),
    "CREATE_SLR_WITH_STAR_IN_RESOURCE": (
        "Create SLR with star in resource: Using the iam:CreateServiceLinkedRole action with wildcards (*) in the "
        f"resource can allow creation of unintended service-linked roles. {_SLR_TAIL}"
    ),
    "CREATE_SLR_WITH_STAR_IN_ACTION_AND_RESOURCE": (
        "Create SLR with star in action and resource: Using wildcards (*) in the action and the resource can allow "
        "creation of unintended service-linked roles because it allows iam:CreateServiceLinkedRole permissions on "
        f"all resources. {_SLR_TAIL}"
    ),
    "CREATE_SLR_WITH_STAR_IN_RESOURCE_AND_NOT_ACTION": (
        "Create SLR with star in resource and NotAction: Using a resource with wildcards (*) and NotAction can allow "
        "creation of unintended service-linked roles because it allows iam:CreateServiceLinkedRole permissions on "
        f"all resources. {_SLR_TAIL}"
    ),
    "CREATE_SLR_WITH_NOT_RESOURCE": (
        "Create SLR with NotResource: Using the iam:CreateServiceLinkedRole action with NotResource can allow "
        f"creation of unintended service-linked roles for multiple resources. {_SLR_TAIL}"
    ),
    "CREATE_SLR_WITH_STAR_IN_ACTION_AND_NOT_RESOURCE": (
        "Create SLR with star in action and NotResource: Using an action with a wildcard(*) and NotResource can "
        "allow creation of unintended service-linked roles because it can allow iam:CreateServiceLinkedRole "
        f"permissions on multiple resources. {_SLR_TAIL}"
    ),
    "CREATE_SLR_WITH_NOT_ACTION_AND_NOT_RESOURCE": (
        "Create SLR with NotAction and NotResource: Using NotAction with NotResource can allow creation of "
        "unintended service-linked roles because it allows iam:CreateServiceLinkedRole permissions on multiple "
        f"resources. {_SLR_TAIL}"
    ),
}


def _star_message(code: str, target: str) -> str:
    return _STAR_MESSAGES.get(code, f"{code}: {target}")


def _condition_keys(cond: object) -> set[str]:
    keys: set[str] = set()
    if isinstance(cond, dict):
        for block in cond.values():
            if isinstance(block, dict):
                keys.update(str(k).lower() for k in block)
    return keys


def _canonical(stmt: dict[str, object]) -> str:
    """A statement with Sid dropped and element lists sorted, as text, to spot identical statements."""

    def norm(v: object) -> object:
        if isinstance(v, list):
            return sorted((norm(x) for x in v), key=lambda x: json.dumps(x, sort_keys=True, default=str))
        if isinstance(v, dict):
            return {str(k): norm(x) for k, x in v.items()}
        return v

    out: dict[str, object] = {}
    for k, v in stmt.items():
        if k == "Sid":
            continue
        if k in ("Action", "NotAction") and isinstance(v, (str, list)):
            vals = [v] if isinstance(v, str) else v
            out[k] = sorted({x.lower() if isinstance(x, str) else json.dumps(x, default=str) for x in vals})
        elif k in ("Resource", "NotResource") and isinstance(v, (str, list)):
            vals = [v] if isinstance(v, str) else v
            out[k] = sorted({x if isinstance(x, str) else json.dumps(x, default=str) for x in vals})
        else:
            out[k] = norm(v)
    return json.dumps(out, sort_keys=True, default=str)


# --------------------------------------------------------------------------------------------------------------
# Public API


def catalog_findings(policy: object, kind: str = "identity", text: str | None = None) -> list[Finding]:
    """Catalog-based findings for one policy document.

    ``policy`` is the parsed JSON (any value; non-objects give no findings). ``kind`` is the policy type:
    ``identity`` (default; also ``IDENTITY_POLICY``, ``inline``, ``managed``, ``session``), ``boundary``, ``resource``,
    ``trust``, ``scp`` or ``rcp``. When ``text`` (the JSON as written) is given, each finding's location carries the
    1-based line and column of the element it points at.
    """
    if not isinstance(policy, dict):
        return []
    return _Checker(policy, _normalize_kind(kind), _Locator(text)).run()
