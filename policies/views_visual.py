"""The visual policy editor on Create policy and Edit policy: the "Visual | JSON" control and the statement cards.

The cards live in the wizard's own form as plain fields (``vis_count``, then ``v<i>-…`` per card). Every change
posts the form to :func:`policy_visual`, which rebuilds the cards, applies the button's operation and renders the
``policy-editor`` partial (plus the validation findings for the document the cards make). When the form is
submitted with ``editor_mode=visual``, the wizard views take the document from the cards (:func:`visual_document`),
so Next runs the JSON editor's validation on exactly what the cards say.
"""

from __future__ import annotations

import re
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_POST

from console.decorators import console_page
from policies import visual
from policies.catalog import actions as catalog
from policies.findings import findings_context
from policies.visual import Card, Condition

# The editor Create policy opens with (AWS opens the visual editor; students use it first). Edit policy and any
# post that doesn't say (an older form, Previous from step 2) show JSON.
DEFAULT_MODE = "visual"
MAX_CARDS = 50  # well above what a 6,144-character managed policy can hold
MAX_ROWS = 50  # ARNs or conditions per card accepted from a form
SERVICES_SHOWN = 12
TEMPLATE = "policies/visual/policy_editor.html"
_SLUG = re.compile(r"[^A-Za-z0-9_-]")


def _slug(text: str) -> str:
    return _SLUG.sub("_", text)


# ---- form <-> cards --------------------------------------------------------------------------------------------


def _count(data: Any) -> int:
    raw = data.get("vis_count", "")
    return min(int(raw), MAX_CARDS) if raw.isdigit() else 0


def cards_from_form(data: Any) -> list[Card]:
    """The cards the form describes. Unknown services and actions are dropped: the form is only a carrier."""
    cards = []
    for i in range(_count(data)):
        p = f"v{i}-"
        card = Card(sid=data.get(p + "sid", "")[:128], effect="Deny" if data.get(p + "effect") == "Deny" else "Allow")
        service = data.get(p + "service", "").lower()
        if catalog.service_exists(service):
            card.service = service
            card.all_actions = data.get(p + "all") == "1"
            for name in data.getlist(p + "action")[:1000]:
                info = catalog.action(f"{service}:{name}")
                if info is not None and info.name not in card.actions:
                    card.actions.append(info.name)
        card.all_resources = data.get(p + "resources") == "all"
        card.arns = [a for a in data.getlist(p + "arn")[:MAX_ROWS] if a]
        rows = zip(data.getlist(p + "cop"), data.getlist(p + "ck"), data.getlist(p + "cv"), strict=False)
        for operator, key, value in list(rows)[:MAX_ROWS]:
            values = [v.strip() for v in value.split(",") if v.strip()]
            op = operator if operator in visual.OPERATORS or _known_operator(operator) else "StringEquals"
            card.conditions.append(Condition(op, key.strip(), values))
        cards.append(card)
    return cards


def _known_operator(name: str) -> bool:
    try:
        return visual._operator(name) == name
    except visual.NotRepresentable:
        return False


def visual_document(data: Any) -> str | None:
    """The document to validate and save when the wizard was submitted from the visual editor, else None."""
    if data is None or data.get("editor_mode") != "visual" or not _count(data):
        return None
    return visual.to_text(cards_from_form(data))


# ---- operations ------------------------------------------------------------------------------------------------


def _next_sid(cards: list[Card]) -> str:
    taken = {c.sid for c in cards}
    return next(f"Statement{n}" for n in range(1, MAX_CARDS + 2) if f"Statement{n}" not in taken)


def _apply(op: str, cards: list[Card], data: Any) -> tuple[dict[int, str], str]:
    """Apply one button's operation; returns per-card errors and the id of the control to focus afterwards."""
    name, _, rest = op.partition(":")
    args = rest.split(":", 2)
    index = int(args[0]) if args and args[0].isdigit() and int(args[0]) < len(cards) else None
    errors: dict[int, str] = {}
    if name == "add_statement" and len(cards) < MAX_CARDS:
        cards.append(Card(sid=_next_sid(cards)))
        return errors, f"v{len(cards) - 1}-filter"
    if index is None:
        return errors, ""
    card = cards[index]
    if name == "remove_statement" and len(cards) > 1:
        del cards[index]
        return errors, "add-statement"
    if name == "service" and len(args) > 1:
        service = args[1].lower()
        if service == "" or catalog.service_exists(service):
            card.service, card.actions, card.all_actions, card.arns = service, [], False, []
            return errors, f"v{index}-all" if service else f"v{index}-filter"
    if name == "add_arn" and len(args) > 1:
        rtype = next((t for t in visual.relevant_types(card) if t.name == args[1]), None)
        if rtype is not None:
            values, missing = {}, []
            for part in visual.template_parts(rtype.arn):
                field = f"v{index}-b-{_slug(rtype.name)}-{part}"
                value = data.get(field, "").strip()
                values[part] = "*" if data.get(field + "-any") == "1" else value
                if not values[part]:
                    missing.append(part)
            if missing:
                errors[index] = f"Enter a value for {missing[0]} or choose Any."
            else:
                arn = visual.build_arn(rtype.arn, values)
                if arn not in card.arns and len(card.arns) < MAX_ROWS:
                    card.arns.append(arn)
                card.all_resources = False
            return errors, f"v{index}-add-{_slug(rtype.name)}"
    if name == "remove_arn" and len(args) > 1 and args[1].isdigit() and int(args[1]) < len(card.arns):
        del card.arns[int(args[1])]
        return errors, f"v{index}-resources-specific"
    if name == "add_condition" and len(card.conditions) < MAX_ROWS:
        card.conditions.append(Condition())
        return errors, f"v{index}-ck-{len(card.conditions) - 1}"
    if name == "remove_condition" and len(args) > 1 and args[1].isdigit() and int(args[1]) < len(card.conditions):
        del card.conditions[int(args[1])]
        return errors, f"v{index}-add-condition"
    return errors, ""


# ---- context ---------------------------------------------------------------------------------------------------


def _service_matches(query: str) -> list[catalog.Service]:
    query = query.strip().lower()
    if not query:
        return []
    ranked = [
        s
        for s in catalog.services()
        if query in s.prefix or query in s.name.lower() or query.replace(" ", "") in s.name.lower().replace(" ", "")
    ]
    # Exact prefix first (typing "s3" offers Amazon S3 first), then prefixes that start with the query.
    ranked.sort(key=lambda s: (s.prefix != query, not s.prefix.startswith(query), s.prefix))
    return ranked[:SERVICES_SHOWN]


def _card_context(index: int, card: Card, data: Any, error: str) -> dict[str, Any]:
    p = f"v{index}-"
    context: dict[str, Any] = {"i": index, "card": card, "error": error, "filter": data.get(p + "filter", "")}
    context["service_matches"] = _service_matches(context["filter"])
    if not card.service:
        return context
    context["service_name"] = catalog.service_name(card.service)
    chosen = set(card.actions)
    query = data.get(p + "action-filter", "").strip().lower()
    context["action_filter"] = data.get(p + "action-filter", "")
    levels = []
    for level in catalog.ACCESS_LEVELS:
        rows = [
            {
                "name": a.name,
                "id": f"{p}action-{_slug(a.name)}",
                "checked": a.name in chosen,
                "help": a.description,
                "hidden": bool(query) and query not in a.name.lower(),
            }
            for a in catalog.actions(card.service)
            if a.access_level == level
        ]
        if rows:
            chosen_here = sum(r["checked"] for r in rows)
            # A level opens when it has chosen actions, when it was open before the swap, or when the filter hits.
            was_open = data.get(f"{p}open-{_slug(level)}") == "1"
            hit = bool(query) and any(not r["hidden"] for r in rows)
            levels.append(
                {
                    "level": level,
                    "slug": _slug(level),
                    "actions": rows,
                    "chosen": chosen_here,
                    "open": bool(chosen_here) or was_open or hit,
                }
            )
    context["levels"] = levels
    types = visual.relevant_types(card)
    groups = {t.name: [] for t in types}
    other = []
    for k, arn in enumerate(card.arns):
        owner = visual.type_of_arn(arn, types)
        (groups[owner] if owner else other).append({"arn": arn, "index": k})
    context["resource_types"] = [
        {
            "name": t.name,
            "slug": _slug(t.name),
            "template": t.arn,
            "arns": groups[t.name],
            "parts": [
                {
                    "name": part,
                    "field": f"{p}b-{_slug(t.name)}-{part}",
                    "value": data.get(f"{p}b-{_slug(t.name)}-{part}", ""),
                    "any": data.get(f"{p}b-{_slug(t.name)}-{part}-any") == "1",
                }
                for part in visual.template_parts(t.arn)
            ],
        }
        for t in types
    ]
    context["other_arns"] = other
    keys = sorted({k.key for k in catalog.condition_keys(card.service)} | set(catalog.global_condition_keys()))
    context["condition_keys"] = keys
    context["conditions"] = [
        {"operator": c.operator, "key": c.key, "value": ", ".join(c.values), "k": k}
        for k, c in enumerate(card.conditions)
    ]
    return context


def editor_context(data: Any, document: str, op: str = "", default: str = "json") -> dict[str, Any]:
    """What the ``policy-editor`` partial needs: the mode, and in visual mode the cards. ``default`` is the mode of
    a page opened afresh (no form data)."""
    mode = data.get("editor_mode", "") if data else ""
    if mode not in ("visual", "json"):
        mode = default if not data else "json"
    context: dict[str, Any] = {"editor_mode": mode, "operators": visual.OPERATORS, "visual_notice": ""}
    if mode == "visual":
        try:
            cards = cards_from_form(data) if data is not None and _count(data) else visual.from_document(document)
        except visual.NotRepresentable:
            context["editor_mode"] = "json"
            return context
        errors, focus = _apply(op, cards, data) if op else ({}, "")
        context["cards"] = [_card_context(i, c, data, errors.get(i, "")) for i, c in enumerate(cards)]
        context["card_count"] = len(cards)
        context["focus"] = focus
        context["document"] = visual.to_text(cards)
    return context


# ---- the endpoint ----------------------------------------------------------------------------------------------


@console_page
@require_POST
def policy_visual(request: HttpRequest) -> HttpResponse:
    """Every visual-editor interaction: the Visual | JSON switch, a card's buttons and checkboxes, the service
    filter. Renders the ``policy-editor`` section (and, for the filter, only that card's ``service-list``)."""
    data = request.POST
    op = data.get("visual_op", "")
    document = data.get("policy_document", "")
    notice = ""
    if op == "mode:json":
        mode_data = data.copy()
        mode_data["editor_mode"] = "json"
        if _count(data):
            document = visual.to_text(cards_from_form(data))
        context = editor_context(mode_data, document)
        context["focus"] = "editor-json"
    elif op == "mode:visual":
        try:
            cards = visual.from_document(document)
        except visual.NotRepresentable as exc:
            context = editor_context({"editor_mode": "json"}, document)
            notice = f"{visual.CANNOT_SHOW} {exc}"
            context["focus"] = "editor-json"
        else:
            document = visual.to_text(cards)
            context = editor_context({"editor_mode": "visual"}, document)
            context["focus"] = "editor-visual"
    else:
        mode_data = data.copy()
        mode_data["editor_mode"] = "visual"
        context = editor_context(mode_data, document, op)
        if "document" in context:
            document = context["document"]
    context["document"] = document
    context["visual_notice"] = notice
    if request.headers.get("HX-Target", "").startswith("service-list-") and "cards" in context:
        index = request.headers["HX-Target"].removeprefix("service-list-")
        card = next((c for c in context["cards"] if str(c["i"]) == index), None)
        if card is not None:
            return render(request, f"{TEMPLATE}#service-list", {"c": card})
    context.update(findings_context(document, data.get("findings_tab", "")))
    context["with_findings"] = True
    return render(request, f"{TEMPLATE}#policy-editor", context)
