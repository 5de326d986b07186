"""The visual policy editor's model: statement cards <-> policy documents, built on the action catalog.

A card is one statement on one service: Allow/Deny, the service's actions (or all of them), all resources or a list
of ARNs built from the resource types' ARN templates, and optional conditions. ``from_document`` reads a document
into cards when every statement fits that shape (otherwise it says why, and the console stays in JSON);
``to_document`` writes cards back. A representable document survives document -> cards -> document unchanged, up to
AWS's own normalisation (actions sorted and in canonical case, one-element lists written as strings).

No Django here: views_visual.py turns form fields into cards and cards into template context.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from policies.catalog import actions as catalog
from policies.engine.problems import BASE_OPERATORS

VERSION = "2012-10-17"
# Condition operators the card's operator menu offers; "…IfExists" and the ForAnyValue:/ForAllValues: set prefixes
# are accepted on top of these when a document is read.
OPERATORS: tuple[str, ...] = tuple(BASE_OPERATORS.values())
_OPERATOR_INDEX = {op.lower(): op for op in OPERATORS}
_PLACEHOLDER = re.compile(r"\$\{([^}]*)\}")
#: What the console says when the visual editor can't show a document (it keeps the JSON editor).
CANNOT_SHOW = (
    "The visual editor can't display this policy because it contains elements that the visual editor doesn't "
    "support. Continue editing in the JSON editor."
)


@dataclass
class Condition:
    operator: str = "StringEquals"
    key: str = ""
    values: list[str] = field(default_factory=list)


@dataclass
class Card:
    sid: str = ""
    effect: str = "Allow"
    service: str = ""  # catalog prefix, "" until one is chosen
    all_actions: bool = False
    actions: list[str] = field(default_factory=list)  # canonical action names without the prefix
    all_resources: bool = False
    arns: list[str] = field(default_factory=list)
    conditions: list[Condition] = field(default_factory=list)


class NotRepresentable(ValueError):
    """The document has something a card can't hold; the message says what (shown after CANNOT_SHOW)."""


# ---- cards -> document -----------------------------------------------------------------------------------------


def _one_or_list(values: list[str]) -> str | list[str]:
    return values[0] if len(values) == 1 else list(values)


def card_statement(card: Card) -> dict[str, Any]:
    statement: dict[str, Any] = {}
    if card.sid:
        statement["Sid"] = card.sid
    statement["Effect"] = card.effect
    if not card.service:
        statement["Action"] = []
    elif card.all_actions:
        statement["Action"] = f"{card.service}:*"
    else:
        statement["Action"] = _one_or_list(sorted(f"{card.service}:{a}" for a in card.actions))
    statement["Resource"] = "*" if card.all_resources else _one_or_list(card.arns)
    conditions: dict[str, dict[str, Any]] = {}
    for cond in card.conditions:
        if cond.key and cond.values:
            existing = conditions.setdefault(cond.operator, {}).get(cond.key)
            values = ([existing] if isinstance(existing, str) else existing or []) + cond.values
            conditions[cond.operator][cond.key] = _one_or_list(values)
    if conditions:
        statement["Condition"] = conditions
    return statement


def to_document(cards: list[Card]) -> dict[str, Any]:
    return {"Version": VERSION, "Statement": [card_statement(c) for c in cards]}


def to_text(cards: list[Card]) -> str:
    return json.dumps(to_document(cards), indent=4)


# ---- document -> cards -----------------------------------------------------------------------------------------


def _strings(value: Any, element: str) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    raise NotRepresentable(f"{element} must be a string or a list of strings.")


def _operator(name: str) -> str:
    """The operator in canonical case, or NotRepresentable. Set prefixes and IfExists are kept as written."""
    prefix, sep, rest = name.partition(":")
    base = rest if sep else name
    if sep and prefix.lower() not in ("foranyvalue", "forallvalues"):
        raise NotRepresentable(f"Unknown condition operator {name}.")
    suffix = ""
    if base.lower().endswith("ifexists") and base.lower() != "ifexists":
        base, suffix = base[: -len("IfExists")], "IfExists"
    canonical = _OPERATOR_INDEX.get(base.lower())
    if canonical is None:
        raise NotRepresentable(f"Unknown condition operator {name}.")
    set_prefix = {"foranyvalue": "ForAnyValue:", "forallvalues": "ForAllValues:"}.get(prefix.lower(), "") if sep else ""
    return f"{set_prefix}{canonical}{suffix}"


def _condition_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        text = str(value)
        if "," in text:
            raise NotRepresentable("Condition values that contain a comma can't be shown.")
        return text
    raise NotRepresentable("Condition values must be strings, numbers or booleans.")


def _card(statement: Any, index: int) -> Card:
    if not isinstance(statement, dict):
        raise NotRepresentable("Each statement must be an object.")
    extra = set(statement) - {"Sid", "Effect", "Action", "Resource", "Condition"}
    if extra:
        raise NotRepresentable(f"Statement {index + 1} uses {', '.join(sorted(extra))}.")
    card = Card(sid=statement.get("Sid", "") if isinstance(statement.get("Sid", ""), str) else "")
    if statement.get("Effect") not in ("Allow", "Deny"):
        raise NotRepresentable(f"Statement {index + 1} needs an Effect of Allow or Deny.")
    card.effect = statement["Effect"]
    names = _strings(statement.get("Action", []), "Action")
    prefixes = {n.partition(":")[0].lower() for n in names}
    if len(prefixes) > 1:
        raise NotRepresentable(f"Statement {index + 1} names actions of more than one service.")
    if prefixes:
        prefix = prefixes.pop()
        if not catalog.service_exists(prefix):
            raise NotRepresentable(f"The service {prefix} is not recognized.")
        card.service = prefix
        for name in names:
            action_name = name.partition(":")[2]
            if action_name == "*":
                card.all_actions = True
                continue
            info = catalog.action(name)
            if info is None:
                raise NotRepresentable(f"The action {name} is not recognized.")
            if info.name not in card.actions:
                card.actions.append(info.name)
        if card.all_actions and card.actions:
            raise NotRepresentable(f"Statement {index + 1} names {prefix}:* beside single actions.")
    resources = _strings(statement.get("Resource", []), "Resource")
    if "*" in resources:
        if len(resources) > 1:
            raise NotRepresentable(f"Statement {index + 1} names * beside specific resources.")
        card.all_resources = True
    else:
        card.arns = resources
    condition = statement.get("Condition", {})
    if not isinstance(condition, dict):
        raise NotRepresentable("Condition must be an object.")
    for operator, block in condition.items():
        if not isinstance(block, dict):
            raise NotRepresentable("Each condition operator must map keys to values.")
        for key, value in block.items():
            values = value if isinstance(value, list) else [value]
            card.conditions.append(Condition(_operator(operator), key, [_condition_value(v) for v in values]))
    return card


def from_document(text: str) -> list[Card]:
    """The cards for a policy document; NotRepresentable when the visual editor can't show it."""
    try:
        document = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise NotRepresentable("The policy is not valid JSON.") from exc
    if not isinstance(document, dict):
        raise NotRepresentable("The policy must be a JSON object.")
    extra = set(document) - {"Version", "Statement"}
    if extra:
        raise NotRepresentable(f"The policy uses {', '.join(sorted(extra))}.")
    if document.get("Version", VERSION) != VERSION:
        raise NotRepresentable(f"The policy's Version must be {VERSION}.")
    statements = document.get("Statement", [])
    statements = [statements] if isinstance(statements, dict) else statements
    if not isinstance(statements, list) or not statements:
        raise NotRepresentable("The policy has no statements.")
    return [_card(s, i) for i, s in enumerate(statements)]


# ---- resource types and ARN templates -------------------------------------------------------------------------


def template_parts(template: str) -> list[str]:
    """The parts a person fills in for an ARN template (the partition comes from the account)."""
    return [p for p in _PLACEHOLDER.findall(template) if p != "Partition"]


def build_arn(template: str, values: dict[str, str], partition: str = "aws") -> str:
    """The ARN for a template; a part given as "*" stands for Any."""
    return _PLACEHOLDER.sub(lambda m: partition if m.group(1) == "Partition" else values[m.group(1)], template)


def relevant_types(card: Card) -> list[catalog.ResourceType]:
    """The resource types the card's actions accept, in the service's order (all of them for service:*)."""
    if not card.service:
        return []
    if card.all_actions:
        return [t for t in catalog.resource_types(card.service) if t.arn]
    wanted = {
        r.name for a in card.actions if (info := catalog.action(f"{card.service}:{a}")) for r in info.resource_types
    }
    return [t for t in catalog.resource_types(card.service) if t.name in wanted and t.arn]


def type_of_arn(arn: str, types: list[catalog.ResourceType]) -> str:
    """Which of ``types`` an ARN belongs to (the most specific template that matches), or "" for none."""
    ranked = sorted(types, key=lambda t: (-len(_PLACEHOLDER.findall(t.arn)), -len(t.arn)))
    for rtype in ranked:
        if catalog.arn_template_regex(rtype.arn).fullmatch(arn):
            return rtype.name
    return ""
