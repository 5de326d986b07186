"""Console pages for IAM user groups. Views parse input, call one service, and pick a response."""

from __future__ import annotations

from urllib.parse import quote

from django.contrib import messages
from django.core.exceptions import BadRequest
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_http_methods

from audit.last_accessed import get_service_last_accessed
from console.decorators import console_page
from console.htmx import confirm_delete, error_status, flash_created, pick_partial, redirect_or_hx
from console.tables import paginate
from core.calls import batch
from core.errors import IamError
from core.validation import check_input
from identities import queries, services, workflows
from identities.models import Group, IamUser
from identities.pages import group_or_404, policy_choices
from identities.sections import Reads
from policies import services as policy_services
from policies.documents import STARTER_POLICY
from policies.simulator import effective_for

# ---- groups -------------------------------------------------------------------------------------------------

GROUP_SORTS = {"name": "name", "users": "user_count", "created": "created_at"}


@console_page
@require_GET
def group_list(request: HttpRequest) -> HttpResponse:
    groups = services.list_groups(request.iam_ctx)
    table = paginate(request, groups, search=["name"], sorts=GROUP_SORTS, default_sort="name")
    template = pick_partial(request, "identities/group_list.html", {"group-table"})
    return render(request, template, {"table": table, "nav": "groups"})


def _group_name_error(request: HttpRequest, name: str) -> str:
    if not name:
        return "User group name is required."
    try:
        check_input("iam", "CreateGroup", GroupName=name)
    except IamError as exc:
        return exc.message
    if Group.objects.in_account(request.iam_ctx.account_id).named(name).exists():
        return f"Group with name {name} already exists."
    return ""


@console_page
@require_http_methods(["GET", "POST"])
def group_create(request: HttpRequest) -> HttpResponse:
    account_id = request.iam_ctx.account_id
    name = request.POST.get("group_name", "").strip()
    selected_users = request.POST.getlist("users")
    selected = request.POST.getlist("policies")
    action = request.POST.get("action", "")
    errors: dict[str, str] = {}
    status = 400
    if request.method == "POST" and action == "check_name":
        # Validation as the name is typed: only the error line is re-rendered.
        errors["group_name"] = _group_name_error(request, name) if name else ""
        return render(request, "identities/group_create.html#group-name-error", {"errors": errors})
    if request.method == "POST" and action == "create":
        if error := _group_name_error(request, name):
            errors["group_name"] = error
        else:
            try:
                group = workflows.create_group_from_console(
                    request.iam_ctx, group_name=name, users=selected_users, policies=selected
                )
            except IamError as exc:
                about_name = exc.code == "EntityAlreadyExists" or "'groupName'" in exc.message
                errors["group_name" if about_name else "general"] = exc.message
                status = exc.status
            else:
                # AWS returns to the list, the flash offering "View group"
                flash_created(
                    request, f"{group.name} user group created.", f"/iam/groups/{quote(group.name)}", "View group"
                )
                return redirect_or_hx(request, "/iam/groups")
    query = request.POST.get("policy_query", "")
    policy_type = request.POST.get("policy_type", "all")
    context = {
        "group_name": name,
        "errors": errors,
        "nav": "groups",
        "users": IamUser.objects.in_account(account_id).order_by("name")[:200],
        "selected_users": selected_users,
        "policies": queries.attachable_policies(account_id, query, policy_type, selected),
        "selected": selected,
        "policy_query": query,
        "policy_type": policy_type,
    }
    template = pick_partial(request, "identities/group_create.html", {"policy-picker"})
    return render(request, template, context, status=error_status(request, status) if errors else 200)


GROUP_TAB_LABELS = (
    ("users", "Users"),
    ("permissions", "Permissions"),
    ("effective", "Effective permissions"),
    ("last_accessed", "Last Accessed"),
)
GROUP_TABS = tuple(key for key, _ in GROUP_TAB_LABELS)
GROUP_ACTIONS = ("remove_user", "add_users", "detach_policy", "attach_policies", "delete_inline", "put_inline")


def _group_action(request: HttpRequest, group: Group, action: str) -> str:
    """Run one of the group page's actions; returns the success message."""
    ctx, post = request.iam_ctx, request.POST
    if action == "remove_user":
        services.remove_user_from_group(ctx, group_name=group.name, user_name=post.get("user_name", ""))
        return f"User {post.get('user_name')} removed from {group.name}."
    if action == "add_users":
        users = post.getlist("users")
        if not users:
            raise services.InvalidInput("Select at least one user.")
        with batch():
            for user_name in users:
                services.add_user_to_group(ctx, group_name=group.name, user_name=user_name)
        return f"{len(users)} user{'s' if len(users) != 1 else ''} added to {group.name}."
    if action == "detach_policy":
        policy_services.detach_group_policy(ctx, group_name=group.name, policy_arn=post.get("policy_arn", ""))
        return "Policy removed."
    if action == "attach_policies":
        arns = post.getlist("policies")
        if not arns:
            raise services.InvalidInput("Select at least one policy.")
        with batch():
            for arn in arns:
                policy_services.attach_group_policy(ctx, group_name=group.name, policy_arn=arn)
        return f"{len(arns)} polic{'ies' if len(arns) != 1 else 'y'} attached to {group.name}."
    if action == "delete_inline":
        policy_services.delete_group_policy(ctx, group_name=group.name, policy_name=post.get("policy_name", ""))
        return "Policy removed."
    name = post.get("policy_name", "").strip()
    if not name:
        raise services.InvalidInput("Enter a policy name.")
    policy_services.put_group_policy(
        ctx, group_name=group.name, policy_name=name, policy_document=post.get("policy_document", "")
    )
    return f"Policy {name} saved."


@console_page
@require_http_methods(["GET", "POST"])
def group_detail(request: HttpRequest, group_name: str) -> HttpResponse:
    group = group_or_404(request, group_name)
    tab = request.GET.get("tab", "users")
    if request.method == "POST":
        action = request.POST.get("action", "")
        if action == "filter":  # the policy picker's search and type filter
            return _render_group_detail(request, group, "permissions")
        if action not in GROUP_ACTIONS:
            raise BadRequest("Unknown action.")
        tab = "users" if action in ("remove_user", "add_users") else "permissions"
        try:
            message = _group_action(request, group, action)
        except IamError as exc:
            messages.error(request, exc.message)
            return _render_group_detail(request, group, tab, status=error_status(request, exc.status))
        messages.success(request, message)
        return redirect_or_hx(request, f"/iam/groups/{quote(group.name)}?tab={tab}")
    return _render_group_detail(request, group, tab)


def _render_group_detail(request: HttpRequest, group: Group, tab: str, status: int = 200) -> HttpResponse:
    """Members come with GetGroup; the Permissions tab reads ListAttachedGroupPolicies and ListGroupPolicies, and
    the pickers ListUsers and ListPolicies, each a notice when the principal may not read it."""
    tab = tab if tab in GROUP_TABS else "users"
    ctx = request.iam_ctx
    reads = Reads()
    data = request.POST if request.method == "POST" else request.GET
    query, policy_type = data.get("policy_query", ""), data.get("policy_type", "all")
    selected = data.getlist("policies")
    context = {
        "group": group,
        "tab": tab,
        "nav": "groups",
        "tab_labels": GROUP_TAB_LABELS,
        "group_url": quote(group.name),
        "members": queries.members_of(group),
        "policy_count": None,
        "starter_policy": STARTER_POLICY,
        "picker_open": bool(query or selected),
        "policy_query": query,
        "policy_type": policy_type,
        "selected": selected,
        "denied": reads.denied,
    }
    if tab == "users":
        listed = reads.attempt("users", lambda: services.list_users(ctx))
        context["non_members"] = (
            listed.exclude(memberships__group=group).order_by("name")[:200] if listed is not None else []
        )
    elif tab == "permissions":
        attached = reads.attempt(
            "permissions", lambda: policy_services.list_attached_group_policies(ctx, group_name=group.name)
        )
        inline = reads.attempt("permissions", lambda: policy_services.list_group_policies(ctx, group_name=group.name))
        context["attached"], context["inline"] = attached or [], inline or []
        context["policies_listed"] = attached is not None or inline is not None
        context["policy_count"] = len(context["attached"]) + len(context["inline"])
        attached_arns = {p.arn for p in context["attached"]}
        context["policies"] = [
            p
            for p in policy_choices(request, reads, "policies", query, policy_type, selected)
            if p.arn not in attached_arns
        ]
    elif tab == "effective":
        context["effective"] = effective_for(request.iam_ctx, "group", group.name)
    elif tab == "last_accessed":
        context["last_accessed"], context["all_services"] = get_service_last_accessed(
            request.iam_ctx,
            arn=group.arn,
            member_arns=[u.arn for u in context["members"]],
            documents=queries.group_policy_documents(group),
        )
    template = pick_partial(request, "identities/group_detail.html", {"group-tab", "policy-picker"})
    return render(request, template, context, status=status)


@console_page
@require_http_methods(["GET", "POST"])
def group_delete(request: HttpRequest, group_name: str) -> HttpResponse:
    group = group_or_404(request, group_name)
    done, error = confirm_delete(
        request,
        group.name,
        lambda: workflows.delete_group_with_dependents(request.iam_ctx, group_name=group.name),
        f"User group {group.name} deleted.",
        "/iam/groups",
    )
    if done:
        return done
    return render(
        request,
        "identities/group_delete.html",
        {"group": group, "error": error, "nav": "groups"},
        status=error_status(request, 400) if error else 200,
    )
