"""Console pages for users and user groups. Views parse input, call one service, and pick a response."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from django.contrib import messages
from django.core.exceptions import BadRequest
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from console.decorators import console_login_required
from console.htmx import confirm_delete, flash_created, pick_partial, redirect_or_hx
from console.tables import paginate
from core.calls import batch
from core.errors import IamError, NoSuchEntity
from core.validation import check_input
from identities import queries, services, workflows
from identities.forms import UserDraft
from identities.models import Group, IamUser, LoginProfile
from identities.passwords import check_password_policy, generate_password
from identities.sections import Reads
from identities.services import Tag
from policies import services as policy_services
from policies.documents import pretty
from policies.models import ManagedPolicy

USER_SORTS = {"name": "name", "path": "path", "created": "created_at", "groups": "group_count"}


def _not_found(exc: NoSuchEntity) -> Http404:
    return Http404(exc.message)


def _clean_input(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Refuse NUL characters anywhere in the request (PostgreSQL text can't hold them): a 400, never a 500."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        values = [*kwargs.values(), *(v for _, vs in request.GET.lists() for v in vs)]
        if request.method == "POST":
            values += [v for _, vs in request.POST.lists() for v in vs]
        if any("\x00" in str(v) for v in values):
            raise BadRequest("Request parameters can't contain NUL characters.")
        return view(request, *args, **kwargs)

    return wrapper


def console_page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    return console_login_required(_clean_input(view))


def _error_status(request: HttpRequest, status: int) -> int:
    """The status of a page that shows a form error.

    Plain posts get the 4xx that describes the error. htmx requests get 200, because htmx 2 doesn't swap 4xx
    responses unless ``htmx.config.responseHandling`` says so, and the error must still reach the screen.
    """
    return 200 if getattr(request, "htmx", False) else status


# ---- users list ---------------------------------------------------------------------------------------------


@console_page
@require_GET
def user_list(request: HttpRequest) -> HttpResponse:
    users = services.list_users(request.iam_ctx)
    table = paginate(request, users, search=["name"], sorts=USER_SORTS, default_sort="name")
    template = pick_partial(request, "identities/user_list.html", {"user-table"})
    return render(request, template, {"table": table, "nav": "users"})


@console_page
@require_GET
def user_name_check(request: HttpRequest) -> HttpResponse:
    """Validates the user name as it is typed in the Create user wizard."""
    name = request.GET.get("user_name", "").strip()
    error = _user_name_error(request, name) if name else ""
    return render(request, "identities/user_create.html#user-name-error", {"errors": {"user_name": error}})


def _user_name_error(request: HttpRequest, name: str) -> str:
    try:
        check_input("iam", "CreateUser", UserName=name)
    except IamError as exc:
        return exc.message
    if IamUser.objects.in_account(request.iam_ctx.account_id).named(name).exists():
        return f"User with name {name} already exists."
    return ""


# ---- create user wizard -------------------------------------------------------------------------------------


def _validate_step(request: HttpRequest, draft: UserDraft, step: int) -> dict[str, str]:
    errors: dict[str, str] = {}
    if step >= 1:
        if not draft.user_name:
            errors["user_name"] = "User name is required."
        elif error := _user_name_error(request, draft.user_name):
            errors["user_name"] = error
        if draft.console_access and draft.password_type == "custom":
            try:
                check_password_policy(request.iam_ctx.account_id, draft.custom_password)
            except IamError as exc:
                errors["custom_password"] = exc.message
    if step >= 2:
        if draft.permissions_option == "copy" and not draft.copy_from:
            errors["copy_from"] = "Choose a user to copy permissions from."
        if draft.use_boundary and not draft.boundary:
            errors["boundary"] = "Choose a policy to use as the permissions boundary."
    if step >= 3:
        keys = [t.key.lower() for t in draft.tags]
        if any(not k for k in keys):
            errors["tags"] = "Tag keys can't be empty."
        elif len(set(keys)) != len(keys):
            errors["tags"] = "Duplicate tag keys found. Please note that Tag keys are case insensitive."
        elif len(keys) > services.TAGS_PER_RESOURCE:
            errors["tags"] = "You can add up to 50 tags."
        elif draft.tags:
            try:
                check_input("iam", "TagUser", UserName="x", Tags=[t.as_dict() for t in draft.tags])
            except IamError as exc:
                errors["tags"] = exc.message
    return errors


PERMISSION_TILES = (
    (
        "groups",
        "Add user to group",
        "Add user to an existing group, or create a new group. We recommend using groups to "
        "manage user permissions by job function.",
    ),
    (
        "copy",
        "Copy permissions",
        "Copy all group memberships, attached managed policies, and inline policies from an existing user.",
    ),
    (
        "attach",
        "Attach policies directly",
        "Attach a managed policy directly to a user. As a best practice, we recommend "
        "attaching policies to a group instead.",
    ),
)


def _policy_choices(
    request: HttpRequest, reads: Reads, section: str, query: str, policy_type: str, selected: list[str], limit: int = 25
) -> list[ManagedPolicy]:
    """A policy picker's rows, from the ListPolicies service (a notice under ``section`` when it is refused)."""
    listed = reads.attempt(section, lambda: policy_services.list_policies(request.iam_ctx))
    if listed is None:
        return []
    return queries.attachable_policies(request.iam_ctx.account_id, query, policy_type, selected, limit, base=listed)


def _wizard_context(request: HttpRequest, draft: UserDraft, step: int, errors: dict[str, str]) -> dict:
    """Step 2's lists come from ListGroups, ListPolicies and ListUsers, as AWS's wizard reads them: a list the
    principal may not read shows a permission notice."""
    ctx = request.iam_ctx
    reads = Reads()
    context = {
        "draft": draft,
        "step": step,
        "errors": errors,
        "nav": "users",
        "permission_tiles": PERMISSION_TILES,
        "denied": reads.denied,
    }
    # The policy filter outlives Next/Previous (hidden inputs carry it): back on step 2, the table is as it was left.
    context["policy_query"] = request.POST.get("policy_query", "")
    context["policy_type"] = request.POST.get("policy_type", "all")
    if step == 2:
        if draft.permissions_option == "groups":
            context["groups"] = reads.attempt("groups", lambda: list(services.list_groups(ctx))) or []
        elif draft.permissions_option == "copy":
            context["users"] = reads.attempt("users", lambda: list(services.list_users(ctx)[:100])) or []
        else:
            policies = _policy_choices(
                request, reads, "policies", context["policy_query"], context["policy_type"], draft.policies
            )
            context["policies"] = queries.with_attached_entities(ctx.account_id, policies)
            if "policies" not in reads.denied:
                # AWS's title: "Permissions policies (1,234)", every policy the filter matches
                total = queries.matching_policy_count(ctx.account_id, context["policy_query"], context["policy_type"])
                context["policy_total"] = f"{total:,}"
        if draft.permissions_option != "copy" and draft.use_boundary:
            context["boundary_query"] = request.POST.get("boundary_query", "")
            selected = [draft.boundary] if draft.boundary else []
            context["boundary_policies"] = _policy_choices(
                request, reads, "boundary", context["boundary_query"], "all", selected
            )
    if step == 3:
        context["summary"] = _permissions_summary(request, draft, reads)
        context["tags_left"] = services.TAGS_PER_RESOURCE - len(draft.tags)
    return context


def _permissions_summary(request: HttpRequest, draft: UserDraft, reads: Reads) -> list[tuple[str, str, str]]:
    """Review step rows: (name, type, used as). Policy names and types come from ListPolicies; when that is
    refused, a policy is shown by the name in its ARN."""
    chosen = [*draft.policies, draft.boundary] if draft.permissions_option == "attach" else [draft.boundary]
    listed = reads.attempt("summary", lambda: policy_services.list_policies(request.iam_ctx)) if any(chosen) else None
    known = {p.arn: p for p in listed.filter(arn__in=[a for a in chosen if a])} if listed is not None else {}

    def described(arn: str) -> tuple[str, str]:
        policy = known.get(arn)
        return (policy.name, policy.policy_type) if policy else (arn.rsplit("/", 1)[-1], "-")

    rows = []
    if draft.permissions_option == "attach":
        for name, kind in sorted(described(arn) for arn in draft.policies):
            rows.append((name, kind, "Permissions policy"))
    elif draft.permissions_option == "groups":
        for name in draft.groups:
            rows.append((name, "Group", "Permissions group"))
    elif draft.copy_from:
        rows.append((draft.copy_from, "User", "Copied permissions"))
    if draft.console_access and draft.require_reset:
        rows.append(("IAMUserChangePassword", "AWS managed", "Permissions policy"))
    if draft.use_boundary and draft.boundary:
        name, kind = described(draft.boundary)
        rows.append((name, kind, "Permissions boundary"))
    return rows


@console_page
@require_http_methods(["GET", "POST"])
def user_create(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        draft = UserDraft()
        return render(request, "identities/user_create.html", _wizard_context(request, draft, 1, {}))
    draft = UserDraft.from_post(request.POST)
    try:
        step = min(max(int(request.POST.get("step", 1)), 1), 3)
    except ValueError:
        step = 1
    action = request.POST.get("action", "next")
    errors: dict[str, str] = {}
    if action == "previous":
        step = max(1, step - 1)
    elif action == "add_tag":
        draft.tags.append(Tag("", ""))
    elif action.startswith("remove_tag:"):
        index = action.partition(":")[2]
        if index.isdigit() and int(index) < len(draft.tags):
            del draft.tags[int(index)]
    elif action == "next":
        errors = _validate_step(request, draft, step)
        if not errors:
            step += 1
    elif action == "create":
        errors = _validate_step(request, draft, 3)
        if not errors:
            return _create_user(request, draft)
    template = pick_partial(request, "identities/user_create.html", {"wizard", "policy-picker"})
    return render(
        request,
        template,
        _wizard_context(request, draft, step, errors),
        status=_error_status(request, 400) if errors else 200,
    )


def _create_user(request: HttpRequest, draft: UserDraft) -> HttpResponse:
    password = None
    if draft.console_access:
        password = draft.custom_password if draft.password_type == "custom" else generate_password()
    try:
        user = workflows.create_user_from_wizard(
            request.iam_ctx,
            user_name=draft.user_name,
            password=password,
            require_reset=draft.console_access and draft.require_reset,
            groups=draft.groups if draft.permissions_option == "groups" else (),
            policies=draft.policies if draft.permissions_option == "attach" else (),
            copy_from=draft.copy_from if draft.permissions_option == "copy" else None,
            boundary=draft.boundary if draft.use_boundary and draft.permissions_option != "copy" else None,
            tags=draft.tags,
        )
    except IamError as exc:
        context = _wizard_context(request, draft, 3, {"general": exc.message})
        if exc.explanation is not None:  # a denial: show the engine's reason, as every AccessDenied page does
            from policies.authz import explain

            context["explanation"] = explain(exc.explanation)
        template = pick_partial(request, "identities/user_create.html", {"wizard"})
        return render(request, template, context, status=_error_status(request, exc.status))
    if password is None:  # AWS: back to the Users list, the flash offering "View user"
        flash_created(request, "User created successfully.", f"/iam/users/{quote(user.name)}", "View user")
        return redirect_or_hx(request, "/iam/users")
    account = request.account
    sign_in_url = request.build_absolute_uri(f"/signin/{account.alias or account.id}")
    # Step 4 is rendered once, in this response: the password is never stored in clear or shown again.
    csv = f"User name,Password,Console sign-in URL\r\n{user.name},{password},{sign_in_url}\r\n"
    email_href = sign_in_email(account.id, user.name, sign_in_url)
    response = render(
        request,
        pick_partial(request, "identities/user_created.html", {"wizard"}),
        {
            "user": user,
            "password": password,
            "sign_in_url": sign_in_url,
            "csv": csv,
            "email_href": email_href,
            "nav": "users",
            "draft": draft,
            "step": 4,
        },
    )
    response["Cache-Control"] = "no-store"
    return response


def sign_in_email(account_id: str, user_name: str, sign_in_url: str) -> str:
    """The Retrieve password step's "Email sign-in instructions": a mailto: link with AWS's text. Like AWS, the
    email does not carry the password (it is "provided to you separately")."""
    subject = "Welcome to Amazon Web Services"
    body = (
        "Hello,\n\n"
        f"You now have access to the AWS Management Console for the account with account ID {account_id}. "
        "Below are your login instructions.\n\n"
        f"User name: {user_name}\n"
        f"Console sign-in link: {sign_in_url}\n\n"
        "Your password will be provided to you separately, either from the person who sent you this email or your "
        "administrator.\n\n"
        "Sincerely,\nYour AWS Account Administrator"
    )
    return f"mailto:?subject={quote(subject)}&body={quote(body)}"


# ---- user detail ------------------------------------------------------------------------------------------

USER_TAB_LABELS = (
    ("permissions", "Permissions"),
    ("groups", "Groups"),
    ("tags", "Tags"),
    ("security_credentials", "Security credentials"),
    ("effective", "Effective permissions"),
    ("last_accessed", "Last Accessed"),
)
USER_TABS = tuple(key for key, _ in USER_TAB_LABELS)


def _user_or_404(request: HttpRequest, user_name: str) -> IamUser:
    try:
        return services.get_user(request.iam_ctx, user_name=user_name)
    except NoSuchEntity as exc:
        raise _not_found(exc) from None


@console_page
@require_GET
def user_detail(request: HttpRequest, user_name: str) -> HttpResponse:
    user = _user_or_404(request, user_name)
    return _render_user_detail(request, user, request.GET.get("tab", "permissions"))


def _render_user_detail(request: HttpRequest, user: IamUser, tab: str, status: int = 200) -> HttpResponse:
    """The summary comes from GetUser; each tab reads through its own List*/Get* services (authorized and recorded
    under their own actions, as AWS's console calls them), and a section the principal may not read shows a notice."""
    tab = tab if tab in USER_TABS else "permissions"
    ctx = request.iam_ctx
    reads = Reads()
    context: dict[str, Any] = {
        "user": user,
        "tab": tab,
        "nav": "users",
        "tab_labels": USER_TAB_LABELS,
        "login_profile": reads.attempt("login_profile", lambda: _login_profile(request, user)),
        "denied": reads.denied,
    }
    if tab == "permissions":
        context["permissions"] = _user_permissions(request, user, reads)
    elif tab == "groups":
        groups = reads.attempt("groups", lambda: services.list_groups_for_user(ctx, user_name=user.name))
        context["groups"] = [
            (
                group,
                reads.attempt(
                    "groups", lambda g=group: policy_services.list_attached_group_policies(ctx, group_name=g.name)
                ),
            )
            for group in groups or ()
        ]
        context["groups_listed"] = groups is not None
    elif tab == "tags":
        context["tags"] = reads.attempt("tags", lambda: services.list_user_tags(ctx, user_name=user.name))
    elif tab == "last_accessed":
        from audit.last_accessed import get_service_last_accessed

        context["last_accessed"], context["all_services"] = get_service_last_accessed(
            request.iam_ctx, arn=user.arn, documents=queries.user_policy_documents(user)
        )
    elif tab == "effective":
        from policies.simulator import effective_for

        context["effective"] = effective_for(request.iam_ctx, "user", user.name)
    elif tab == "security_credentials":
        from identities.views_credentials import credentials_context

        context.update(credentials_context(request, user))
        from identities.views_classic import classic_credentials_context

        context.update(classic_credentials_context(request, user))
    template = pick_partial(request, "identities/user_detail.html", {"user-tab"})
    return render(request, template, context, status=status)


def _login_profile(request: HttpRequest, user: IamUser) -> LoginProfile | None:
    """GetLoginProfile: the user's console password, or None when there is none."""
    try:
        return services.get_login_profile(request.iam_ctx, user_name=user.name)
    except NoSuchEntity:
        return None


def _user_permissions(request: HttpRequest, user: IamUser, reads: Reads) -> list[queries.PermissionRow] | None:
    """The Permissions tab's rows, read as AWS's console reads them: ListAttachedUserPolicies, ListUserPolicies,
    ListGroupsForUser, then each group's ListAttachedGroupPolicies and ListGroupPolicies. None when nothing could
    be read; otherwise what could be, with a notice for each refused read."""
    ctx = request.iam_ctx
    attached = reads.attempt(
        "permissions", lambda: policy_services.list_attached_user_policies(ctx, user_name=user.name)
    )
    inline = reads.attempt("permissions", lambda: policy_services.list_user_policies(ctx, user_name=user.name))
    groups = reads.attempt("permissions", lambda: services.list_groups_for_user(ctx, user_name=user.name))
    rows = [queries.PermissionRow(p.name, p.policy_type, "Directly", p.arn, True) for p in attached or ()]
    rows += [queries.PermissionRow(p.name, "Customer inline", "Directly", None, True) for p in inline or ()]
    for group in groups or ():
        via = f"Group {group.name}"
        for policy in (
            reads.attempt(
                "permissions", lambda g=group: policy_services.list_attached_group_policies(ctx, group_name=g.name)
            )
            or ()
        ):
            rows.append(queries.PermissionRow(policy.name, policy.policy_type, via, policy.arn, False))
        for policy in (
            reads.attempt("permissions", lambda g=group: policy_services.list_group_policies(ctx, group_name=g.name))
            or ()
        ):
            rows.append(queries.PermissionRow(policy.name, "Customer inline", via, None, False))
    if attached is None and inline is None and groups is None:
        return None
    return sorted(rows, key=lambda r: (r.name.lower(), r.attached_via))


@console_page
@require_http_methods(["GET", "POST"])
def user_delete(request: HttpRequest, user_name: str) -> HttpResponse:
    user = _user_or_404(request, user_name)
    done, error = confirm_delete(
        request,
        user.name,
        lambda: workflows.delete_user_with_dependents(request.iam_ctx, user_name=user.name),
        f"User {user.name} deleted.",
        "/iam/users",
    )
    if done:
        return done
    return render(
        request,
        "identities/user_delete.html",
        {"user": user, "error": error, "nav": "users"},
        status=_error_status(request, 400) if error else 200,
    )


def _back_to_user(request: HttpRequest, user: IamUser, tab: str) -> HttpResponse:
    return redirect_or_hx(request, f"/iam/users/{quote(user.name)}?tab={tab}")


def _confirm_removal(
    request: HttpRequest, user: IamUser, field: str, policy_name: str, operation: str, **params: str
) -> HttpResponse | None:
    """AWS asks before removing a policy from a user: a Remove button's first POST shows the question, the
    dialog's Remove (``confirm=remove``) does it. None when confirmed; bad input is refused before any question."""
    if request.POST.get("confirm") == "remove":
        return None
    try:
        check_input("iam", operation, UserName=user.name, **params)
    except IamError as exc:
        messages.error(request, exc.message)
        return _render_user_detail(request, user, "permissions", status=_error_status(request, exc.status))
    context = {"user": user, "field": field, "value": request.POST.get(field, ""), "policy_name": policy_name}
    context["action"] = request.path
    context["nav"] = "users"
    return render(request, "identities/user_remove_policy.html", context)


@console_page
@require_POST
def user_detach_policy(request: HttpRequest, user_name: str) -> HttpResponse:
    user = _user_or_404(request, user_name)
    arn = request.POST.get("policy_arn", "")
    question = _confirm_removal(request, user, "policy_arn", arn.rpartition("/")[2], "DetachUserPolicy", PolicyArn=arn)
    if question is not None:
        return question
    try:
        policy_services.detach_user_policy(
            request.iam_ctx, user_name=user.name, policy_arn=request.POST.get("policy_arn", "")
        )
    except IamError as exc:
        messages.error(request, exc.message)
        return _render_user_detail(request, user, "permissions", status=_error_status(request, exc.status))
    messages.success(request, "Policy removed.")
    return _back_to_user(request, user, "permissions")


@console_page
@require_POST
def user_delete_inline_policy(request: HttpRequest, user_name: str) -> HttpResponse:
    user = _user_or_404(request, user_name)
    name = request.POST.get("policy_name", "")
    question = _confirm_removal(request, user, "policy_name", name, "DeleteUserPolicy", PolicyName=name)
    if question is not None:
        return question
    try:
        policy_services.delete_user_policy(
            request.iam_ctx, user_name=user.name, policy_name=request.POST.get("policy_name", "")
        )
    except IamError as exc:
        messages.error(request, exc.message)
        return _render_user_detail(request, user, "permissions", status=_error_status(request, exc.status))
    messages.success(request, "Policy removed.")
    return _back_to_user(request, user, "permissions")


@console_page
@require_POST
def user_remove_from_group(request: HttpRequest, user_name: str) -> HttpResponse:
    user = _user_or_404(request, user_name)
    try:
        services.remove_user_from_group(
            request.iam_ctx, group_name=request.POST.get("group_name", ""), user_name=user.name
        )
    except IamError as exc:
        messages.error(request, exc.message)
        return _render_user_detail(request, user, "groups", status=_error_status(request, exc.status))
    messages.success(request, f"User {user.name} removed from group.")
    return _back_to_user(request, user, "groups")


@console_page
@require_http_methods(["GET", "POST"])
def user_add_permissions(request: HttpRequest, user_name: str) -> HttpResponse:
    """Add permissions: add to groups, or attach policies directly."""
    user = _user_or_404(request, user_name)
    option = request.POST.get("permissions_option", request.GET.get("option", "groups"))
    option = option if option in ("groups", "attach") else "groups"
    selected_groups = request.POST.getlist("groups")
    selected = request.POST.getlist("policies")
    error = ""
    if request.method == "POST" and request.POST.get("action") == "add":
        try:
            if option == "groups" and not selected_groups:
                raise services.InvalidInput("Select at least one user group.")
            if option == "attach" and not selected:
                raise services.InvalidInput("Select at least one policy.")
            with batch():
                if option == "groups":
                    for group_name in selected_groups:
                        services.add_user_to_group(request.iam_ctx, group_name=group_name, user_name=user.name)
                else:
                    for arn in selected:
                        policy_services.attach_user_policy(request.iam_ctx, user_name=user.name, policy_arn=arn)
        except IamError as exc:
            error = exc.message
        else:
            messages.success(request, f"Permissions added to {user.name}.")
            return _back_to_user(request, user, "groups" if option == "groups" else "permissions")
    query = request.POST.get("policy_query", "")
    policy_type = request.POST.get("policy_type", "all")
    reads = Reads()
    context = {
        "user": user,
        "option": option,
        "error": error,
        "nav": "users",
        "groups": reads.attempt("groups", lambda: list(services.list_groups(request.iam_ctx))) or []
        if option == "groups"
        else [],
        "selected_groups": selected_groups,
        "policies": _policy_choices(request, reads, "policies", query, policy_type, selected)
        if option != "groups"
        else [],
        "denied": reads.denied,
        "selected": selected,
        "policy_query": query,
        "policy_type": policy_type,
    }
    template = pick_partial(request, "identities/user_add_permissions.html", {"add-permissions", "policy-picker"})
    return render(request, template, context, status=_error_status(request, 400) if error else 200)


@console_page
@require_http_methods(["GET", "POST"])
def user_inline_policy(request: HttpRequest, user_name: str) -> HttpResponse:
    """Create or edit an inline policy with the JSON editor."""
    user = _user_or_404(request, user_name)
    editing = bool(request.GET.get("name"))
    name = request.POST.get("policy_name", request.GET.get("name", "")).strip()
    document = request.POST.get("policy_document", "")
    error, error_code, error_status = "", "", 400
    if request.method == "GET" and name:
        try:
            document = pretty(
                policy_services.get_user_policy(request.iam_ctx, user_name=user.name, policy_name=name).document
            )
        except NoSuchEntity as exc:
            raise _not_found(exc) from None
    if request.method == "GET" and not document:
        document = STARTER_POLICY
    if request.method == "POST":
        try:
            if not name:
                raise services.InvalidInput("Enter a policy name.")
            if not document.strip():
                raise services.InvalidInput("Enter a policy document.")
            policy_services.put_user_policy(
                request.iam_ctx, user_name=user.name, policy_name=name, policy_document=document
            )
        except IamError as exc:
            error, error_code, error_status = exc.message, exc.code, exc.status
        else:
            messages.success(request, f"Policy {name} saved.")
            return _back_to_user(request, user, "permissions")
    return render(
        request,
        "identities/user_inline_policy.html",
        {
            "user": user,
            "policy_name": name,
            "document": document,
            "error": error,
            "error_code": error_code,
            "editing": editing,
            "nav": "users",
        },
        status=error_status if error else 200,
    )


STARTER_POLICY = """{
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


@console_page
@require_http_methods(["GET", "POST"])
def user_boundary(request: HttpRequest, user_name: str) -> HttpResponse:
    user = _user_or_404(request, user_name)
    error = ""
    action = request.POST.get("action", "set")
    if request.method == "POST" and action in ("set", "remove"):
        try:
            if action == "remove":
                services.delete_user_permissions_boundary(request.iam_ctx, user_name=user.name)
            elif not request.POST.get("boundary"):
                raise services.InvalidInput("Choose a policy to use as the permissions boundary.")
            else:
                services.put_user_permissions_boundary(
                    request.iam_ctx, user_name=user.name, permissions_boundary=request.POST["boundary"]
                )
        except IamError as exc:
            error = exc.message
        else:
            messages.success(request, "Permissions boundary updated.")
            return _back_to_user(request, user, "permissions")
    query = request.POST.get("policy_query", "")
    reads = Reads()
    context = {
        "user": user,
        "error": error,
        "nav": "users",
        "policy_query": query,
        "policies": _policy_choices(request, reads, "policies", query, "all", [], 50),
        "denied": reads.denied,
    }
    template = pick_partial(request, "identities/user_boundary.html", {"policy-picker"})
    return render(request, template, context, status=_error_status(request, 400) if error else 200)


@console_page
@require_http_methods(["GET", "POST"])
def user_tags(request: HttpRequest, user_name: str) -> HttpResponse:
    """Manage tags: the whole set is edited at once, as in the console."""
    user = _user_or_404(request, user_name)
    error = ""
    tags = [Tag(t["Key"], t["Value"]) for t in user.tags]
    if request.method == "POST":
        keys, values = request.POST.getlist("tag_key"), request.POST.getlist("tag_value")
        tags = [Tag(k.strip(), v) for k, v in zip(keys, values, strict=False) if k.strip() or v]
        action = request.POST.get("action", "save")
        if action == "add_tag":
            tags.append(Tag("", ""))
        elif action.startswith("remove_tag:") and action.partition(":")[2].isdigit():
            index = int(action.partition(":")[2])
            tags = [t for i, t in enumerate(tags) if i != index]
        else:
            try:
                if any(not t.key for t in tags):
                    raise services.InvalidInput("Tag keys can't be empty.")
                new_keys = {t.key.lower() for t in tags}
                removed = [t["Key"] for t in user.tags if t["Key"].lower() not in new_keys]
                with batch():
                    if removed:
                        services.untag_user(request.iam_ctx, user_name=user.name, tag_keys=removed)
                    if tags:
                        services.tag_user(request.iam_ctx, user_name=user.name, tags=tags)
            except IamError as exc:
                error = exc.message
            else:
                messages.success(request, "Tags saved.")
                return _back_to_user(request, user, "tags")
    template = pick_partial(request, "identities/user_tags.html", {"tags-form"})
    return render(
        request,
        template,
        {
            "user": user,
            "tags": tags,
            "error": error,
            "nav": "users",
            "tags_left": max(0, services.TAGS_PER_RESOURCE - len(tags)),
        },
        status=_error_status(request, 400) if error else 200,
    )


@console_page
@require_http_methods(["GET", "POST"])
def user_console_access(request: HttpRequest, user_name: str) -> HttpResponse:
    """Enable, disable or reset the user's console password (Security credentials tab)."""
    user = _user_or_404(request, user_name)
    profile = LoginProfile.objects.filter(user=user).first()
    error = ""
    form = {"console_access": "enable", "password_type": "autogenerated", "require_reset": True}
    if request.method == "POST":
        enable = request.POST.get("console_access", "enable") != "disable"
        custom = request.POST.get("password_type") == "custom"
        password = request.POST.get("custom_password", "") if custom else generate_password()
        require_reset = request.POST.get("require_reset") == "on"
        form = {
            "console_access": "enable" if enable else "disable",
            "password_type": "custom" if custom else "autogenerated",
            "require_reset": require_reset,
        }
        try:
            with batch():
                if not enable:
                    if profile is not None:
                        services.delete_login_profile(request.iam_ctx, user_name=user.name)
                elif profile is None:
                    services.create_login_profile(
                        request.iam_ctx, user_name=user.name, password=password, password_reset_required=require_reset
                    )
                else:
                    services.update_login_profile(
                        request.iam_ctx, user_name=user.name, password=password, password_reset_required=require_reset
                    )
                if enable and require_reset:
                    # As in the Create user wizard: the user needs IAMUserChangePassword to set the new password.
                    policy_services.attach_user_policy(
                        request.iam_ctx, user_name=user.name, policy_arn=services.CHANGE_PASSWORD_POLICY_ARN
                    )
        except IamError as exc:
            error = exc.message
        else:
            if not enable:
                messages.success(request, f"Console access disabled for {user.name}.")
                return _back_to_user(request, user, "security_credentials")
            account = request.account
            sign_in_url = request.build_absolute_uri(f"/signin/{account.alias or account.id}")
            # Shown once, in this response only: the password is stored hashed and never displayed again.
            response = render(
                request,
                "identities/user_console_password.html",
                {
                    "user": user,
                    "password": password,
                    "nav": "users",
                    "sign_in_url": sign_in_url,
                    "csv": f"User name,Password,Console sign-in URL\r\n{user.name},{password},{sign_in_url}\r\n",
                },
            )
            response["Cache-Control"] = "no-store"
            return response
    return render(
        request,
        "identities/user_console_access.html",
        {
            "user": user,
            "profile": profile,
            "error": error,
            "nav": "users",
            "form": form,
        },
        status=_error_status(request, 400) if error else 200,
    )


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
    return render(request, template, context, status=_error_status(request, status) if errors else 200)


GROUP_TAB_LABELS = (
    ("users", "Users"),
    ("permissions", "Permissions"),
    ("effective", "Effective permissions"),
    ("last_accessed", "Last Accessed"),
)
GROUP_TABS = tuple(key for key, _ in GROUP_TAB_LABELS)
GROUP_ACTIONS = ("remove_user", "add_users", "detach_policy", "attach_policies", "delete_inline", "put_inline")


def _group_or_404(request: HttpRequest, group_name: str) -> Group:
    try:
        return services.get_group(request.iam_ctx, group_name=group_name)
    except NoSuchEntity as exc:
        raise _not_found(exc) from None


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
    group = _group_or_404(request, group_name)
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
            return _render_group_detail(request, group, tab, status=_error_status(request, exc.status))
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
            for p in _policy_choices(request, reads, "policies", query, policy_type, selected)
            if p.arn not in attached_arns
        ]
    elif tab == "effective":
        from policies.simulator import effective_for

        context["effective"] = effective_for(request.iam_ctx, "group", group.name)
    elif tab == "last_accessed":
        from audit.last_accessed import get_service_last_accessed

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
    group = _group_or_404(request, group_name)
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
        status=_error_status(request, 400) if error else 200,
    )
