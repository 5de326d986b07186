"""Console pages for managed policies: list, create (JSON editor with live validation findings), detail with the
permissions summary, entities attached and versions, edit (a new default version), delete."""

from __future__ import annotations

import json
from urllib.parse import quote

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from console.decorators import console_login_required
from console.htmx import pick_partial, redirect_or_hx
from console.tables import paginate
from core.calls import batch
from core.errors import IamError, MalformedPolicyDocument, NoSuchEntity
from core.validation import check_input
from identities import services as identity_services

from identities.services import Tag
from policies import services
from policies.documents import pretty
from policies.engine import validate_policy
from policies.models import ManagedPolicy
from policies.summary import policy_summary

POLICY_SORTS = {"name": "name", "type": "account_id", "created": "created_at"}
TYPE_FILTERS = {"aws": "AWS managed", "job": "AWS managed - job function", "customer": "Customer managed"}
STARTER = """{
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "Statement1",
            "Effect": "Allow",
            "Action": [],
            "Resource": []
        }
    ]
}"""
FINDING_TABS = (("SECURITY_WARNING", "Security"), ("ERROR", "Errors"), ("WARNING", "General"),
                ("SUGGESTION", "Suggestions"))


def detail_url(policy: ManagedPolicy) -> str:
    return f"/iam/policies/{quote(policy.arn, safe='')}"


def _policy_or_404(request: HttpRequest, arn: str) -> ManagedPolicy:
    try:
        return services.get_policy(request.iam_ctx, policy_arn=arn)
    except NoSuchEntity as exc:
        raise Http404(exc.message) from None


def findings_context(text: str) -> dict:
    findings = validate_policy(text, "identity")
    tabs = [(code, label, [f for f in findings if f.finding_type == code]) for code, label in FINDING_TABS]
    return {"findings": findings, "finding_tabs": tabs, "has_errors": any(f.finding_type == "ERROR" for f in findings)}


# ---- list -------------------------------------------------------------------------------------------------------


@console_login_required
@require_GET
def policy_list(request: HttpRequest) -> HttpResponse:
    policy_type = request.GET.get("type", "")
    scope = {"aws": "AWS", "job": "AWS", "customer": "Local"}.get(policy_type, "All")
    policies = services.list_policies(request.iam_ctx, scope=scope)
    if policy_type in ("aws", "job"):
        policies = policies.filter(job_function=policy_type == "job")
    table = paginate(request, policies, search=["name"], sorts=POLICY_SORTS, default_sort="name",
                     base_params={"type": policy_type} if policy_type in TYPE_FILTERS else {})
    used_as = services.used_as(request.iam_ctx.account_id, [p.pk for p in table.rows])
    rows = [(p, used_as[p.pk]) for p in table.rows]
    context = {"table": table, "rows": rows, "nav": "policies", "policy_type": policy_type, "types": TYPE_FILTERS}
    return render(request, pick_partial(request, "policies/policy_list.html", {"policy-table"}), context)


# ---- create -------------------------------------------------------------------------------------------------------


@console_login_required
@require_POST
def policy_validate(request: HttpRequest) -> HttpResponse:
    """The findings panel, refreshed as the JSON is typed."""
    text = request.POST.get("policy_document", "")[:200_000]
    return render(request, "policies/policy_create.html#validation-findings", findings_context(text))


@console_login_required
@require_http_methods(["GET", "POST"])
def policy_create(request: HttpRequest) -> HttpResponse:
    data = request.POST
    document = data.get("policy_document", STARTER) if request.method == "POST" else STARTER
    step = 1
    errors: dict[str, str] = {}
    name = data.get("policy_name", "").strip()
    description = data.get("description", "")
    keys, values = data.getlist("tag_key"), data.getlist("tag_value")
    tags = [Tag(k.strip(), v) for k, v in zip(keys, values, strict=False) if k.strip() or v]
    action = data.get("action", "")
    if request.method == "POST":
        findings = findings_context(document)
        if action in ("next", "create", "add_tag", "check_name") or action.startswith("remove_tag:"):
            if findings["has_errors"]:
                errors["document"] = _malformed_message(document)
            else:
                step = 2
        if action == "add_tag":
            tags.append(Tag("", ""))
        elif action.startswith("remove_tag:") and action.partition(":")[2].isdigit():
            tags = [t for i, t in enumerate(tags) if i != int(action.partition(":")[2])]
        elif action == "create" and step == 2:
            try:
                policy = services.create_policy(request.iam_ctx, policy_name=name, policy_document=document,
                                                description=description, tags=tags)
            except IamError as exc:
                errors["policy_name" if exc.code in ("ValidationError", "EntityAlreadyExists") else "general"] = exc.message
            else:
                messages.success(request, f"Policy {policy.name} created.")
                return redirect_or_hx(request, detail_url(policy))
        elif action == "previous":
            step = 1
    context = {"document": document, "step": step, "errors": errors, "policy_name": name, "description": description,
               "tags": tags, "nav": "policies", "tags_left": 50 - len(tags), **findings_context(document)}
    if step == 2:
        context["summary"] = _summary(document)
    status = 400 if errors and not getattr(request, "htmx", False) else 200
    return render(request, pick_partial(request, "policies/policy_create.html", {"policy-wizard"}), context,
                  status=status)


def _malformed_message(text: str) -> str:
    from policies.documents import check_document

    try:
        check_document(text)
    except MalformedPolicyDocument as exc:
        return exc.message
    return "Fix the errors in the policy before you continue."


def _summary(text: str):
    try:
        return policy_summary(json.loads(text))
    except (ValueError, TypeError):
        return None


@console_login_required
@require_GET
def policy_name_check(request: HttpRequest) -> HttpResponse:
    name = request.GET.get("policy_name", "").strip()
    error = ""
    try:
        check_input("iam", "CreatePolicy", PolicyName=name, PolicyDocument="{}")
    except IamError as exc:
        error = exc.message
    return HttpResponse(error)


# ---- detail -----------------------------------------------------------------------------------------------------

POLICY_TABS = (("permissions", "Permissions"), ("entities", "Entities attached"), ("tags", "Tags"),
               ("versions", "Policy versions"), ("last_accessed", "Last Accessed"))


@console_login_required
@require_GET
def policy_detail(request: HttpRequest, arn: str) -> HttpResponse:
    policy = _policy_or_404(request, arn)
    tab = request.GET.get("tab", "permissions")
    tab = tab if tab in dict(POLICY_TABS) else "permissions"
    ctx = request.iam_ctx
    version = services.get_policy_version(ctx, policy_arn=policy.arn, version_id=policy.default_version_id)
    context = {"policy": policy, "tab": tab, "tabs": POLICY_TABS, "nav": "policies", "url": detail_url(policy),
               "view": request.GET.get("view", "summary")}
    if tab == "permissions":
        context["document"] = pretty(version.document)
        context["summary"] = _summary(version.document)
    elif tab == "entities":
        context["entities"] = services.list_entities_for_policy(ctx, policy_arn=policy.arn)
    elif tab == "versions":
        context["versions"] = services.list_policy_versions(ctx, policy_arn=policy.arn)
        shown = request.GET.get("version", "")
        if shown:
            try:
                context["shown_version"] = services.get_policy_version(ctx, policy_arn=policy.arn, version_id=shown)
            except IamError as exc:
                context["version_error"] = exc.message
    return render(request, pick_partial(request, "policies/policy_detail.html", {"policy-tab"}), context)


@console_login_required
@require_POST
def policy_versions(request: HttpRequest, arn: str) -> HttpResponse:
    policy = _policy_or_404(request, arn)
    version_id = request.POST.get("version_id", "")
    try:
        if request.POST.get("action") == "delete":
            services.delete_policy_version(request.iam_ctx, policy_arn=policy.arn, version_id=version_id)
            messages.success(request, f"Version {version_id} deleted.")
        else:
            services.set_default_policy_version(request.iam_ctx, policy_arn=policy.arn, version_id=version_id)
            messages.success(request, f"Version {version_id} is now the default version.")
    except IamError as exc:
        messages.error(request, exc.message)
    return redirect_or_hx(request, detail_url(policy) + "?tab=versions")


@console_login_required
@require_POST
def policy_attach(request: HttpRequest, arn: str) -> HttpResponse:
    """Attach to or detach from users, groups and roles (Entities attached tab)."""
    policy = _policy_or_404(request, arn)
    ctx = request.iam_ctx
    from policies import services as ps

    detach = request.POST.get("action") == "detach"
    try:
        with batch():
            for entity in request.POST.getlist("entities"):
                kind, _, name = entity.partition(":")
                if kind == "user":
                    (ps.detach_user_policy if detach else ps.attach_user_policy)(ctx, user_name=name, policy_arn=policy.arn)
                elif kind == "group":
                    (ps.detach_group_policy if detach else ps.attach_group_policy)(ctx, group_name=name, policy_arn=policy.arn)
                elif kind == "role":
                    (ps.detach_role_policy if detach else ps.attach_role_policy)(ctx, role_name=name, policy_arn=policy.arn)
    except IamError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "Policy detached." if detach else "Policy attached.")
    return redirect_or_hx(request, detail_url(policy) + "?tab=entities")


# ---- edit and delete ----------------------------------------------------------------------------------------------


@console_login_required
@require_http_methods(["GET", "POST"])
def policy_edit(request: HttpRequest, arn: str) -> HttpResponse:
    policy = _policy_or_404(request, arn)
    if policy.is_aws_managed:
        raise Http404("AWS managed policies can't be edited.")
    ctx = request.iam_ctx
    current = services.get_policy_version(ctx, policy_arn=policy.arn, version_id=policy.default_version_id)
    document = request.POST.get("policy_document", pretty(current.document))
    error = ""
    versions = services.list_policy_versions(ctx, policy_arn=policy.arn)
    oldest = min((v for v in versions if not v.is_default), key=lambda v: v.created_at, default=None)
    full = len(versions) >= services.MAX_VERSIONS
    if request.method == "POST" and request.POST.get("action") == "save":
        try:
            with batch():
                if full and oldest is not None:
                    # The console's dialog: the oldest non-default version makes room for the new one.
                    services.delete_policy_version(ctx, policy_arn=policy.arn, version_id=oldest.version_id)
                services.create_policy_version(ctx, policy_arn=policy.arn, policy_document=document,
                                               set_as_default=True)
        except IamError as exc:
            error = exc.message
        else:
            messages.success(request, f"Policy {policy.name} updated.")
            return redirect_or_hx(request, detail_url(policy) + "?tab=versions")
    context = {"policy": policy, "document": document, "error": error, "nav": "policies", "url": detail_url(policy),
               "full": full, "oldest": oldest, **findings_context(document)}
    return render(request, "policies/policy_edit.html", context, status=400 if error else 200)


@console_login_required
@require_http_methods(["GET", "POST"])
def policy_delete(request: HttpRequest, arn: str) -> HttpResponse:
    policy = _policy_or_404(request, arn)
    if policy.is_aws_managed:
        raise Http404("AWS managed policies can't be deleted.")
    ctx = request.iam_ctx
    error = ""
    if request.method == "POST":
        if request.POST.get("confirm", "").strip() != policy.name:
            error = f"To confirm deletion, enter {policy.name} in the text input field."
        else:
            try:
                with batch():
                    entities = services.list_entities_for_policy(ctx, policy_arn=policy.arn)
                    for u in entities.users:
                        services.detach_user_policy(ctx, user_name=u.name, policy_arn=policy.arn)
                    for g in entities.groups:
                        services.detach_group_policy(ctx, group_name=g.name, policy_arn=policy.arn)
                    for r in entities.roles:
                        services.detach_role_policy(ctx, role_name=r.name, policy_arn=policy.arn)
                    for u in entities.boundary_users:
                        identity_services.delete_user_permissions_boundary(ctx, user_name=u.name)
                    for r in entities.boundary_roles:
                        from identities.roles import delete_role_permissions_boundary

                        delete_role_permissions_boundary(ctx, role_name=r.name)
                    for v in services.list_policy_versions(ctx, policy_arn=policy.arn):
                        if not v.is_default:
                            services.delete_policy_version(ctx, policy_arn=policy.arn, version_id=v.version_id)
                    services.delete_policy(ctx, policy_arn=policy.arn)
            except IamError as exc:
                error = exc.message
            else:
                messages.success(request, f"Policy {policy.name} deleted.")
                return redirect_or_hx(request, "/iam/policies")
    return render(request, "policies/policy_delete.html", {"policy": policy, "error": error, "nav": "policies",
                                                           "url": detail_url(policy)}, status=400 if error else 200)


