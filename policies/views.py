"""Console pages for managed policies: the list, Create policy (JSON editor with live validation findings), the
policy's detail page (permissions summary, entities attached, tags, versions), Edit (a new default version) and
Delete. Views parse input, call the public services, and pick a response; reads for tables live in queries.py."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from console.decorators import console_page
from console.htmx import error_status, pick_partial, redirect_or_hx
from console.tables import paginate
from core import arns
from core.calls import batch
from core.errors import AccessDenied, IamError, InvalidInput, NoSuchEntity, ValidationError
from core.validation import check_input
from identities import roles as role_services
from identities import services as identity_services
from identities.services import Tag
from policies import queries, services
from policies.documents import (
    MANAGED_POLICY_SIZE,
    STARTER_POLICY,
    check_document,
    check_managed_size,
    pretty,
)
from policies.findings import MAX_EDITOR_TEXT, findings, findings_context
from policies.models import ManagedPolicy
from policies.summary import policy_summary, service_summary
from policies.views_visual import DEFAULT_MODE as VISUAL_FIRST
from policies.views_visual import editor_context, visual_document

POLICY_SORTS = {"name": "name", "type": "type_rank", "created": "created_at", "edited": "updated_at"}
MAX_TAGS = 50
SUMMARY_ROWS = 25  # services shown before "Show remaining N services"
POLICY_TABS = (
    ("permissions", "Permissions"),
    ("entities", "Entities attached"),
    ("tags", "Tags"),
    ("versions", "Policy versions"),
    ("last_accessed", "Last Accessed"),
)


def detail_url(policy: ManagedPolicy) -> str:
    return f"/iam/policies/{quote(policy.arn, safe='')}"


def _policy_or_404(request: HttpRequest, arn: str) -> ManagedPolicy:
    """The policy the caller's account can see (its own or an AWS managed one); anything else is a 404.

    Another account's ARN doesn't exist as far as this console is concerned: a 404, not the 403 that authorizing
    GetPolicy on a foreign resource would give (which would confirm the ARN names something)."""
    parsed = arns.parse_policy_arn(arn)
    if parsed is None or parsed[0] not in ("aws", request.iam_ctx.account_id):
        raise Http404(f"Policy {arn[:2048]} was not found.")
    try:
        return services.get_policy(request.iam_ctx, policy_arn=arn)
    except (NoSuchEntity, InvalidInput, ValidationError) as exc:
        raise Http404(exc.message) from None


def _own_policy_or_404(request: HttpRequest, arn: str) -> ManagedPolicy:
    policy = _policy_or_404(request, arn)
    if policy.is_aws_managed:
        raise Http404(f"Policy {policy.arn} is an AWS managed policy and can't be changed.")
    return policy


# ---- validation findings ------------------------------------------------------------------------------------


def _editor_text(data: Any, default: str = "") -> str:
    return data.get("policy_document", default) if data is not None else default


def _document_error(text: str) -> str:
    """Why Next is refused: the message the API would give for this document (MalformedPolicyDocument or the
    PolicySize quota), or the first error finding."""
    if len(text) > MAX_EDITOR_TEXT:
        return f"Cannot exceed quota for PolicySize: {MANAGED_POLICY_SIZE}"
    try:
        check_document(text, managed=True)
        check_managed_size(text)
    except IamError as exc:
        return exc.message
    first = next((f for f in findings(text) if f.finding_type == "ERROR"), None)
    return first.message if first else ""


def _summary(text: str):
    try:
        return policy_summary(json.loads(text))
    except (ValueError, TypeError, RecursionError):
        return None


@console_page
@require_POST
def policy_validate(request: HttpRequest) -> HttpResponse:
    """The validation findings panel, refreshed by htmx as the JSON is typed (and when a findings tab is picked)."""
    text = _editor_text(request.POST)
    context = findings_context(text, request.POST.get("findings_tab", ""))
    return render(request, "policies/policy_create.html#validation-findings", context)


# ---- list ---------------------------------------------------------------------------------------------------


@console_page
@require_GET
@vary_on_headers("HX-Request")
def policy_list(request: HttpRequest) -> HttpResponse:
    if "delete" in request.GET:
        # The list's Delete button (a GET form over the selection): the type-the-name confirmation page.
        policy = _own_policy_or_404(request, request.GET["delete"])
        return redirect(detail_url(policy) + "/delete")
    policy_type = request.GET.get("type", "")
    policy_type = policy_type if policy_type in queries.TYPE_FILTERS else ""
    policies = queries.filter_by_type(queries.with_type_rank(services.list_policies(request.iam_ctx)), policy_type)
    table = paginate(
        request,
        policies,
        search=["name", "description"],
        sorts=POLICY_SORTS,
        default_sort="name",
        base_params={"type": policy_type} if policy_type else {},
    )
    used = services.used_as(request.iam_ctx.account_id, [p.pk for p in table.rows]) if table.rows else {}
    rows = [(p, used[p.pk]) for p in table.rows]
    context = {
        "table": table,
        "rows": rows,
        "nav": "policies",
        "policy_type": policy_type,
        "types": queries.TYPE_FILTERS,
    }
    return render(request, pick_partial(request, "policies/policy_list.html", {"policy-table"}), context)


# ---- create ---------------------------------------------------------------------------------------------------


def _tags_from(data: Any) -> list[Tag]:
    keys, values = data.getlist("tag_key"), data.getlist("tag_value")
    return [Tag(k.strip(), v) for k, v in zip(keys, values, strict=False)][: MAX_TAGS + 1]


def _name_error(request: HttpRequest, name: str) -> str:
    try:
        check_input("iam", "CreatePolicy", PolicyName=name, PolicyDocument="{}")
    except IamError as exc:
        return exc.message
    try:
        taken = services.list_policies(request.iam_ctx, scope="Local").named(name).exists()
    except AccessDenied:
        taken = False  # CreatePolicy itself reports the duplicate
    if taken:
        return f"A policy called {name} already exists. Duplicate names are not allowed."
    return ""


def _tags_error(tags: list[Tag]) -> str:
    keys = [t.key.lower() for t in tags]
    if any(not k for k in keys):
        return "Tag keys can't be empty."
    if len(set(keys)) != len(keys):
        return "Duplicate tag keys found. Please note that Tag keys are case insensitive."
    if len(tags) > MAX_TAGS:
        return (
            "1 validation error detected: Value at 'tags' failed to satisfy constraint: Member must have length "
            f"less than or equal to {MAX_TAGS}"
        )
    if tags:
        try:
            check_input(
                "iam", "TagPolicy", PolicyArn="arn:aws:iam::000000000000:policy/x", Tags=[t.as_dict() for t in tags]
            )
        except IamError as exc:
            return exc.message
    return ""


@console_page
@require_GET
def policy_name_check(request: HttpRequest) -> HttpResponse:
    """Step 2's policy name, checked as it is typed (AWS pattern and length, and duplicates)."""
    services.list_policies(request.iam_ctx, scope="Local")  # reads the account's policy names: authorized so
    name = request.GET.get("policy_name", "").strip()
    errors = {"policy_name": _name_error(request, name) if name else ""}
    return render(request, "policies/policy_create.html#policy-name-error", {"errors": errors})


@console_page
@require_http_methods(["GET", "POST"])
def policy_create(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return render(request, "policies/policy_create.html", _create_context(STARTER_POLICY, 1, {}, request.POST))
    data = request.POST
    document = visual_document(data) or _editor_text(data, STARTER_POLICY)
    action = data.get("action", "next")
    step = 2 if data.get("step") == "2" else 1
    errors: dict[str, str] = {}
    if action == "previous":
        step = 1
    elif action in ("next", "create", "add_tag") or action.startswith("remove_tag:"):
        if error := _document_error(document):
            errors["document"], step = error, 1
        elif action == "next":
            step = 2
        elif action == "create":
            return _create_policy(request, document, data)
    template = pick_partial(request, "policies/policy_create.html", {"policy-wizard"})
    return render(
        request,
        template,
        _create_context(document, step, errors, data),
        status=error_status(request, 400) if errors else 200,
    )


def _create_context(document: str, step: int, errors: dict[str, str], data: Any) -> dict[str, Any]:
    tags = _tags_from(data)
    action = data.get("action", "")
    if step == 2 and action == "add_tag" and len(tags) < MAX_TAGS:
        tags.append(Tag("", ""))
    elif step == 2 and action.startswith("remove_tag:"):
        index = action.partition(":")[2]
        if index.isdigit() and int(index) < len(tags):
            del tags[int(index)]
    context = {
        "document": document,
        "step": step,
        "errors": errors,
        "nav": "policies",
        "policy_name": data.get("policy_name", "").strip(),
        "description": data.get("description", ""),
        "tags": tags,
        "tags_left": max(0, MAX_TAGS - len(tags)),
    }
    if step == 1:
        context.update(findings_context(document, data.get("findings_tab", "")))
        context.update(editor_context(data, document, default=VISUAL_FIRST))
    else:
        context["summary"] = _summary(document)
    return context


def _create_policy(request: HttpRequest, document: str, data: Any) -> HttpResponse:
    name = data.get("policy_name", "").strip()
    errors: dict[str, str] = {}
    tags = _tags_from(data)
    if not name:
        errors["policy_name"] = "Enter a policy name."
    elif error := _name_error(request, name):
        errors["policy_name"] = error
    if error := _tags_error(tags):
        errors["tags"] = error
    if not errors:
        try:
            policy = services.create_policy(
                request.iam_ctx,
                policy_name=name,
                policy_document=document,
                description=data.get("description", ""),
                tags=tags,
            )
        except IamError as exc:
            field = "policy_name" if "policyName" in exc.message or exc.code == "EntityAlreadyExists" else "general"
            errors[field] = exc.message
        else:
            messages.success(request, f"Policy {policy.name} created.")
            return redirect_or_hx(request, detail_url(policy))
    template = pick_partial(request, "policies/policy_create.html", {"policy-wizard"})
    return render(request, template, _create_context(document, 2, errors, data), status=error_status(request, 400))


# ---- detail -----------------------------------------------------------------------------------------------------


@console_page
@require_GET
@vary_on_headers("HX-Request")
def policy_detail(request: HttpRequest, arn: str) -> HttpResponse:
    policy = _policy_or_404(request, arn)
    tab = request.GET.get("tab", "permissions")
    tab = tab if tab in dict(POLICY_TABS) else "permissions"
    context: dict[str, Any] = {
        "policy": policy,
        "tab": tab,
        "tabs": POLICY_TABS,
        "nav": "policies",
        "url": detail_url(policy),
    }
    try:
        context.update(_TAB_CONTEXT[tab](request, policy))
    except IamError as exc:  # e.g. AccessDenied on ListEntitiesForPolicy: shown inside the tab, the AWS way
        context["tab_error"] = exc.message
    return render(request, pick_partial(request, "policies/policy_detail.html", {"policy-tab"}), context)


def _permissions_tab(request: HttpRequest, policy: ManagedPolicy) -> dict[str, Any]:
    version = services.get_policy_version(request.iam_ctx, policy_arn=policy.arn, version_id=policy.default_version_id)
    view = "json" if request.GET.get("view") == "json" else "summary"
    context: dict[str, Any] = {"view": view, "document": pretty(version.document)}
    if view == "summary":
        try:
            doc = json.loads(version.document)
        except ValueError:
            doc = None
        service = request.GET.get("service", "")[:64]
        if service and doc is not None:
            effect = "Deny" if request.GET.get("effect") == "Deny" else "Allow"
            context["service"] = service_summary(doc, service, effect)
        summary = policy_summary(doc) if doc is not None else None
        context["summary"] = summary
        if summary is not None and request.GET.get("all") != "1" and len(summary.allow) > SUMMARY_ROWS:
            # The console's "Show remaining N services": long AWS managed summaries start folded.
            context["allow_rows"] = summary.allow[:SUMMARY_ROWS]
            context["allow_hidden"] = len(summary.allow) - SUMMARY_ROWS
    return context


def _entities_tab(request: HttpRequest, policy: ManagedPolicy) -> dict[str, Any]:
    kind = request.GET.get("entity_type", "")
    entities = services.list_entities_for_policy(request.iam_ctx, policy_arn=policy.arn)
    return {
        "entities": queries.entity_rows(entities, kind),
        "entity_type": kind,
        "entity_total": len(queries.entity_rows(entities)),
    }


def _tags_tab(request: HttpRequest, policy: ManagedPolicy) -> dict[str, Any]:
    return {}


def _versions_tab(request: HttpRequest, policy: ManagedPolicy) -> dict[str, Any]:
    context: dict[str, Any] = {
        "versions": services.list_policy_versions(request.iam_ctx, policy_arn=policy.arn),
        "max_versions": services.MAX_VERSIONS,
    }
    shown = request.GET.get("version", "")
    if shown:
        try:
            version = services.get_policy_version(request.iam_ctx, policy_arn=policy.arn, version_id=shown)
        except IamError as exc:
            context["version_error"] = exc.message
        else:
            context["shown_version"] = version
            context["shown_document"] = pretty(version.document)
    return context


def _last_accessed_tab(request: HttpRequest, policy: ManagedPolicy) -> dict[str, Any]:
    return {}


_TAB_CONTEXT: dict[str, Callable[[HttpRequest, ManagedPolicy], dict[str, Any]]] = {
    "permissions": _permissions_tab,
    "entities": _entities_tab,
    "tags": _tags_tab,
    "versions": _versions_tab,
    "last_accessed": _last_accessed_tab,
}


@console_page
@require_POST
def policy_versions(request: HttpRequest, arn: str) -> HttpResponse:
    """Policy versions tab: Set as default, or Delete, one version."""
    policy = _own_policy_or_404(request, arn)
    version_id = request.POST.get("version_id", "")[:16]
    try:
        if request.POST.get("action") == "delete":
            services.delete_policy_version(request.iam_ctx, policy_arn=policy.arn, version_id=version_id)
            messages.success(request, f"Policy version {version_id} deleted.")
        else:
            services.set_default_policy_version(request.iam_ctx, policy_arn=policy.arn, version_id=version_id)
            messages.success(request, f"Policy version {version_id} is now the default version.")
    except IamError as exc:
        messages.error(request, exc.message)
    return redirect_or_hx(request, detail_url(policy) + "?tab=versions")


# ---- attach and detach ----------------------------------------------------------------------------------------

_ATTACH = {
    "user": (services.attach_user_policy, services.detach_user_policy, "user_name"),
    "group": (services.attach_group_policy, services.detach_group_policy, "group_name"),
    "role": (services.attach_role_policy, services.detach_role_policy, "role_name"),
}


def _selected_entities(data: Any) -> list[tuple[str, str]]:
    picked = []
    for value in dict.fromkeys(data.getlist("entities")):
        kind, _, name = value.partition(":")
        if kind in _ATTACH and name:
            picked.append((kind, name[:128]))
    return picked[:100]


@console_page
@require_http_methods(["GET", "POST"])
def policy_attach(request: HttpRequest, arn: str) -> HttpResponse:
    """Entities attached → Attach: pick users, groups and roles, then attach the policy to all of them at once."""
    policy = _policy_or_404(request, arn)
    data = request.POST if request.method == "POST" else request.GET
    error = ""
    picked = _selected_entities(data)
    if request.method == "POST" and data.get("action") == "attach":
        if not picked:
            error = "Select at least one user, group or role."
        else:
            try:
                with batch():
                    for kind, name in picked:
                        attach, _, param = _ATTACH[kind]
                        attach(request.iam_ctx, policy_arn=policy.arn, **{param: name})
            except IamError as exc:
                error = exc.message
            else:
                messages.success(
                    request,
                    f"Policy {policy.name} attached to {len(picked)} {'entity' if len(picked) == 1 else 'entities'}.",
                )
                return redirect_or_hx(request, detail_url(policy) + "?tab=entities")
    query = data.get("q", "").strip()[:128]
    kind = data.get("entity_type", "")
    ctx = request.iam_ctx
    candidates = queries.attach_candidates(
        policy,
        identity_services.list_users(ctx),
        identity_services.list_groups(ctx),
        role_services.list_roles(ctx),
        query,
        kind,
    )
    selected = {f"{k}:{n}" for k, n in picked}
    context = {
        "policy": policy,
        "url": detail_url(policy),
        "nav": "policies",
        "error": error,
        "query": query,
        "entity_type": kind,
        "selected": selected,
        "candidates": candidates,
        "hidden_selected": sorted(selected - {c.value for c in candidates}),
    }
    template = pick_partial(request, "policies/policy_attach.html", {"attach-candidates"})
    return render(request, template, context, status=error_status(request, 400) if error else 200)


@console_page
@require_POST
def policy_detach(request: HttpRequest, arn: str) -> HttpResponse:
    policy = _policy_or_404(request, arn)
    picked = _selected_entities(request.POST)
    if not picked:
        messages.error(request, "Select at least one user, group or role to detach.")
        return redirect_or_hx(request, detail_url(policy) + "?tab=entities")
    try:
        with batch():
            for kind, name in picked:
                _, detach, param = _ATTACH[kind]
                detach(request.iam_ctx, policy_arn=policy.arn, **{param: name})
    except IamError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request, f"Policy {policy.name} detached from {len(picked)} {'entity' if len(picked) == 1 else 'entities'}."
        )
    return redirect_or_hx(request, detail_url(policy) + "?tab=entities")


# ---- edit -----------------------------------------------------------------------------------------------------


@console_page
@require_http_methods(["GET", "POST"])
def policy_edit(request: HttpRequest, arn: str) -> HttpResponse:
    """Edit → Review and save → Save changes: a new version, made the default. With 5 versions already, the
    oldest non-default one is deleted first (the console's dialog says so), all in one batch."""
    policy = _own_policy_or_404(request, arn)
    ctx = request.iam_ctx
    versions = services.list_policy_versions(ctx, policy_arn=policy.arn)
    oldest = min((v for v in versions if not v.is_default), key=lambda v: int(v.version_id[1:]), default=None)
    full = len(versions) >= services.MAX_VERSIONS
    if request.method == "GET":
        current = next((v for v in versions if v.is_default), None)
        document = pretty(current.document) if current else STARTER_POLICY
    else:
        document = visual_document(request.POST) or _editor_text(request.POST)
    action = request.POST.get("action", "")
    step = 2 if request.POST.get("step") == "2" else 1
    errors: dict[str, str] = {}
    if action == "previous":
        step = 1
    elif action in ("next", "save"):
        if error := _document_error(document):
            errors["document"], step = error, 1
        elif action == "next":
            step = 2
        else:
            try:
                with batch():
                    if full and oldest is not None:
                        services.delete_policy_version(ctx, policy_arn=policy.arn, version_id=oldest.version_id)
                    services.create_policy_version(
                        ctx, policy_arn=policy.arn, policy_document=document, set_as_default=True
                    )
            except IamError as exc:
                errors["general"], step = exc.message, 2
            else:
                messages.success(request, f"Policy {policy.name} updated.")
                return redirect_or_hx(request, detail_url(policy) + "?tab=versions")
    context = {
        "policy": policy,
        "document": document,
        "errors": errors,
        "nav": "policies",
        "step": step,
        "url": detail_url(policy),
        "full": full,
        "oldest": oldest,
        "version_count": len(versions),
    }
    if step == 1:
        context.update(findings_context(document, request.POST.get("findings_tab", "")))
        context.update(editor_context(request.POST if request.method == "POST" else None, document))
    else:
        context["summary"] = _summary(document)
    template = pick_partial(request, "policies/policy_edit.html", {"policy-wizard"})
    return render(request, template, context, status=error_status(request, 400) if errors else 200)


# ---- delete ---------------------------------------------------------------------------------------------------


@console_page
@require_http_methods(["GET", "POST"])
def policy_delete(request: HttpRequest, arn: str) -> HttpResponse:
    """Type-the-name confirmation, then what the console does: detach from every entity, remove it as a
    permissions boundary, delete the non-default versions, and DeletePolicy, all or nothing."""
    policy = _own_policy_or_404(request, arn)
    ctx = request.iam_ctx
    error = ""
    if request.method == "POST":
        if request.POST.get("confirm", "").strip() != policy.name:
            error = f"To confirm deletion, enter {policy.name} in the text input field."
        else:
            try:
                with batch():
                    _delete_with_dependents(request, policy)
            except IamError as exc:
                error = exc.message
            else:
                messages.success(request, f"Policy {policy.name} deleted.")
                return redirect_or_hx(request, "/iam/policies")
    try:
        entities = queries.entity_rows(services.list_entities_for_policy(ctx, policy_arn=policy.arn))
    except IamError:
        entities = None
    context = {"policy": policy, "error": error, "nav": "policies", "url": detail_url(policy), "entities": entities}
    return render(request, "policies/policy_delete.html", context, status=error_status(request, 400) if error else 200)


def _delete_with_dependents(request: HttpRequest, policy: ManagedPolicy) -> None:
    ctx = request.iam_ctx
    entities = services.list_entities_for_policy(ctx, policy_arn=policy.arn)
    for user in entities.users:
        services.detach_user_policy(ctx, user_name=user.name, policy_arn=policy.arn)
    for group in entities.groups:
        services.detach_group_policy(ctx, group_name=group.name, policy_arn=policy.arn)
    for role in entities.roles:
        services.detach_role_policy(ctx, role_name=role.name, policy_arn=policy.arn)
    for user in entities.boundary_users:
        identity_services.delete_user_permissions_boundary(ctx, user_name=user.name)
    for role in entities.boundary_roles:
        role_services.delete_role_permissions_boundary(ctx, role_name=role.name)
    for version in services.list_policy_versions(ctx, policy_arn=policy.arn):
        if not version.is_default:
            services.delete_policy_version(ctx, policy_arn=policy.arn, version_id=version.version_id)
    services.delete_policy(ctx, policy_arn=policy.arn)
