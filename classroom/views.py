"""Classroom pages: instructor sign-up, classes, handout, the organization (OUs, accounts), SCPs, reset and join.

Views parse input, call one service and choose a response. Every class lookup goes through the services, scoped to
the caller's account: anyone but the class's instructor gets a 404.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from classroom import services
from classroom.models import ACCESS_ROLE_NAME
from classroom.pages import class_page, render_page
from console import sessions
from console.decorators import console_page
from console.htmx import redirect_or_hx
from core.errors import IamError
from policies.engine import validate_policy

FINDING_TABS = [
    ("SECURITY_WARNING", "Security"),
    ("ERROR", "Errors"),
    ("WARNING", "General"),
    ("SUGGESTION", "Suggestions"),
]
SCP_TEMPLATE = (
    '{\n    "Version": "2012-10-17",\n    "Statement": [\n        {\n            "Sid": "Statement1",\n'
    '            "Effect": "Deny",\n            "Action": [],\n            "Resource": []\n        }\n'
    "    ]\n}"
)


def _base_url(request: HttpRequest) -> str:
    return (settings.CONSOLE_BASE_URL or request.build_absolute_uri("/")).rstrip("/")


# ---------------------------------------------------------------------------------------------- public pages


@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    """Instructor sign-up: a new AWS account whose root user is the instructor."""
    error = ""
    # Cut only to bound the work: a value over its limit is refused by the service, never silently shortened.
    email = request.POST.get("email", "")[:1000]
    name = request.POST.get("name", "")[:1000]
    if request.method == "POST":
        password = request.POST.get("password", "")[:128]
        if password != request.POST.get("confirm_password", ""):
            error = "The passwords you entered don't match."
        else:
            try:
                account = services.sign_up_instructor(email=email, password=password, name=name)
            except IamError as exc:
                error = exc.message
            else:
                sessions.start(request, account, "root")
                messages.success(request, f"Your instructor account {account.display_id} is ready. Create a class.")
                return redirect("classroom:class-list")
    return render(
        request, "classroom/signup.html", {"error": error, "email": email, "name": name}, status=400 if error else 200
    )


@require_http_methods(["GET", "POST"])
def join(request: HttpRequest) -> HttpResponse:
    """A student joins a class with the code the instructor shared, and gets a fresh account of their own."""
    error = ""
    code = (request.POST.get("code") or request.GET.get("code", ""))[:16]
    email = request.POST.get("email", "")[:254]
    if request.method == "POST":
        password = request.POST.get("password", "")[:128]
        if password != request.POST.get("confirm_password", ""):
            error = "The passwords you entered don't match."
        else:
            try:
                account = services.join_class(
                    code=code,
                    email=email,
                    password=password,
                    source_ip=sessions.client_ip(request),
                    user_agent=request.headers.get("User-Agent", ""),
                )
            except IamError as exc:
                error = exc.message
            else:
                sessions.start(request, account, "root")
                messages.success(
                    request,
                    f"Welcome! Your account {account.display_id} is part of the class. "
                    f"Sign in later with {account.root_email} and your password.",
                )
                return redirect("/")
    return render(
        request, "classroom/join.html", {"error": error, "code": code, "email": email}, status=400 if error else 200
    )


@console_page
@require_http_methods(["GET", "POST"])
def root_password(request: HttpRequest) -> HttpResponse:
    """The root user's own password change (a student replaces the handout password here)."""
    error = ""
    forced = services.root_password_change_required(request.iam_ctx.account_id)  # type: ignore[attr-defined]
    if request.method == "POST":
        new_password = request.POST.get("new_password", "")
        if new_password != request.POST.get("confirm_password", ""):
            error = "The passwords you entered don't match."
        else:
            try:
                services.change_root_password(
                    request.iam_ctx,  # type: ignore[attr-defined]
                    old_password=request.POST.get("old_password", ""),
                    new_password=new_password,
                )
            except IamError as exc:
                error = exc.message
            else:
                request.session[sessions.MUST_CHANGE_PASSWORD] = False
                messages.success(request, "Your password has been changed.")
                return redirect("/")
    return render(
        request, "console/change_password.html", {"error": error, "forced": forced}, status=400 if error else 200
    )


# ---------------------------------------------------------------------------------------------- classes


@console_page
@require_GET
def class_list(request: HttpRequest) -> HttpResponse:
    ctx = request.iam_ctx  # type: ignore[attr-defined]
    return render_page(
        request,
        "classroom/class_list.html",
        {
            "classes": [(c, c.seats.count()) for c in services.list_classes(ctx)],
            "is_instructor": services.is_instructor(ctx.account_id),
        },
    )


@console_page
@require_http_methods(["GET", "POST"])
def class_create(request: HttpRequest) -> HttpResponse:
    ctx = request.iam_ctx  # type: ignore[attr-defined]
    error = ""
    title = request.POST.get("title", "")[:128]
    prefix = request.POST.get("alias_prefix", "")[:40]
    raw_count = request.POST.get("students", "20")
    if request.method == "POST":
        try:
            count = int(raw_count)
        except ValueError:
            error = "Enter the number of students (1 to 100)."
        else:
            try:
                classroom, issued = services.create_class(ctx, title=title, students=count, alias_prefix=prefix)
            except IamError as exc:
                error = exc.message
            else:
                messages.success(
                    request,
                    f"Class {classroom.title} created with {len(issued)} student accounts. "
                    "Print the handout now: it shows each initial password.",
                )
                if request.POST.get("create_admin") and _admin_offer(request):
                    return redirect_or_hx(request, f"/classroom/admin-user?class={classroom.pk}")
                return redirect_or_hx(request, f"/classroom/{classroom.pk}")
    return render_page(
        request,
        "classroom/class_create.html",
        {
            "error": error,
            "title": title,
            "alias_prefix": prefix,
            "students": raw_count,
            "is_instructor": services.is_instructor(ctx.account_id),
            "max_students": services.MAX_STUDENTS,
            "admin_offer": _admin_offer(request),
            "create_admin": bool(request.POST.get("create_admin")),  # opt-in: the class page offers it too
        },
        status=400 if error else 200,
    )


# ---------------------------------------------------------------------------------------------- instructor's admin
# AWS does not let the root user switch roles: to open a student's account the instructor signs in as an IAM user of
# the management account. These pages make that a one-minute step: create the user, then sign in as it.


def _admin_offer(request: HttpRequest) -> bool:
    """Offer the administrator IAM user to a root user whose account has none yet."""
    ctx = request.iam_ctx  # type: ignore[attr-defined]
    return ctx.principal.is_root and not services.administrator_user_names(ctx.account_id)


def _safe_class_id(request: HttpRequest) -> str:
    value = (request.POST.get("class") or request.GET.get("class") or "")[:64]
    return value if value.replace("-", "").isalnum() else ""


@console_page
@require_http_methods(["GET", "POST"])
def admin_user(request: HttpRequest) -> HttpResponse:
    """Create the instructor's own administrator IAM user (AdministratorAccess, a console password they choose)."""
    ctx = request.iam_ctx  # type: ignore[attr-defined]
    if not ctx.principal.is_root:
        messages.info(request, "You are already signed in as an IAM user: switch roles from the class page.")
        return redirect("classroom:class-list")
    class_id = _safe_class_id(request)
    user_name = request.POST.get("user_name", services.DEFAULT_ADMIN_USER_NAME).strip()[:64]
    errors: dict[str, str] = {}
    if request.method == "POST":
        password = request.POST.get("password", "")[:128]
        if not user_name:
            errors["user_name"] = "Enter a user name."
        if not password:
            errors["password"] = "Enter a console password."
        elif password != request.POST.get("confirm_password", ""):
            errors["confirm_password"] = "The passwords you entered don't match."
        if not errors:
            try:
                user = services.create_instructor_admin(ctx, user_name=user_name, password=password)
            except IamError as exc:
                about_name = exc.code == "EntityAlreadyExists" or "'userName'" in exc.message
                field = (
                    "user_name" if about_name else "password" if exc.code == "PasswordPolicyViolation" else "general"
                )
                errors[field] = exc.message
            else:
                account = request.account  # type: ignore[attr-defined]
                response = render_page(
                    request,
                    "classroom/admin_user_created.html",
                    {
                        "user": user,
                        "class_id": class_id,
                        "account_value": account.alias or account.id,
                        "sign_in_url": f"{_base_url(request)}/signin/{account.alias or account.id}",
                    },
                )
                response["Cache-Control"] = "no-store"
                return response
    return render_page(
        request,
        "classroom/admin_user.html",
        {
            "user_name": user_name,
            "errors": errors,
            "class_id": class_id,
            "existing": services.administrator_user_names(ctx.account_id),
        },
        status=400 if errors else 200,
    )


@console_page
@require_POST
def admin_user_signin(request: HttpRequest) -> HttpResponse:
    """Sign the root user out and open the IAM user sign-in page, the account and user name filled in."""

    account = request.account  # type: ignore[attr-defined]
    user_name = request.POST.get("user_name", "")[:64]
    class_id = _safe_class_id(request)
    query = {"username": user_name, **({"next": f"/classroom/{class_id}"} if class_id else {})}
    sessions.end(request)
    return redirect(f"/signin/{account.alias or account.id}?{urlencode(query)}")


@class_page
@require_GET
def class_detail(request: HttpRequest, class_id: str) -> HttpResponse:
    ctx = request.iam_ctx  # type: ignore[attr-defined]
    classroom = services.get_class(ctx, class_id)
    seats = services.list_accounts(ctx, class_id)
    admin_users = services.administrator_user_names(ctx.account_id) if ctx.principal.is_root else []
    return render_page(
        request,
        "classroom/class_detail.html",
        {
            "classroom": classroom,
            "seats": seats,
            "join_code": services.format_join_code(classroom.join_code),
            "join_url": f"{_base_url(request)}/classroom/join?code={classroom.join_code}",
            "access_role": ACCESS_ROLE_NAME,
            "can_switch": not request.console_user_ctx.principal.is_root,  # type: ignore[attr-defined]
            "admin_offer": ctx.principal.is_root and not admin_users,
            "admin_users": admin_users,
            "tab": "accounts",
        },
    )


@class_page
@require_POST
def add_students(request: HttpRequest, class_id: str) -> HttpResponse:
    try:
        count = int(request.POST.get("count", "0"))
        issued = services.add_students(request.iam_ctx, class_id, count=count)  # type: ignore[attr-defined]
    except ValueError:
        messages.error(request, "Enter how many student accounts to add.")
    except services.ClassNotFound:
        raise
    except IamError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"{len(issued)} student accounts added. Their cards are on the handout.")
    return redirect_or_hx(request, f"/classroom/{class_id}")


@class_page
@require_POST
def class_settings(request: HttpRequest, class_id: str) -> HttpResponse:
    action = request.POST.get("action", "")
    try:
        services.update_class(
            request.iam_ctx,
            class_id,  # type: ignore[attr-defined]
            join_enabled={"enable_join": True, "disable_join": False}.get(action),
            new_join_code=action == "new_code",
        )
    except services.ClassNotFound:
        raise
    except IamError as exc:
        messages.error(request, exc.message)
    return redirect_or_hx(request, f"/classroom/{class_id}")


# ---------------------------------------------------------------------------------------------- handout


@class_page
@require_GET
def handout(request: HttpRequest, class_id: str) -> HttpResponse:
    ctx = request.iam_ctx  # type: ignore[attr-defined]
    classroom = services.get_class(ctx, class_id)
    cards = services.handout(ctx, class_id)
    only = request.GET.get("account", "")
    if only:
        cards = [c for c in cards if c.account_id == only]
    base = _base_url(request)
    return render_page(
        request,
        "classroom/handout.html",
        {
            "classroom": classroom,
            "cards": cards,
            "sign_in_url": f"{base}/signin",
            "base_url": base,
            "tab": "handout",
            "missing": sum(1 for c in cards if not c.password),
        },
    )


@class_page
@require_GET
def handout_csv(request: HttpRequest, class_id: str) -> HttpResponse:
    ctx = request.iam_ctx  # type: ignore[attr-defined]
    classroom = services.get_class(ctx, class_id)
    cards = services.handout(ctx, class_id)
    response = HttpResponse(
        services.handout_csv(cards, f"{_base_url(request)}/signin"), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{classroom.pk}-handout.csv"'
    response["Cache-Control"] = "no-store"
    return response


@class_page
@require_POST
def handout_clear(request: HttpRequest, class_id: str) -> HttpResponse:
    cleared = services.clear_handout(request.iam_ctx, class_id)  # type: ignore[attr-defined]
    messages.success(request, f"Forgot {cleared} initial passwords. Use Reset password to print a new card.")
    return redirect_or_hx(request, f"/classroom/{class_id}")


@class_page
@require_POST
def student_password(request: HttpRequest, class_id: str, account_id: str) -> HttpResponse:
    try:
        services.reset_student_password(request.iam_ctx, class_id, account_id=account_id)  # type: ignore[attr-defined]
    except services.ClassNotFound:
        raise
    except IamError as exc:
        messages.error(request, exc.message)
        return redirect_or_hx(request, f"/classroom/{class_id}")
    return redirect_or_hx(request, f"/classroom/{class_id}/handout?account={account_id}")


# ---------------------------------------------------------------------------------------------- reset


@class_page
@require_http_methods(["GET", "POST"])
def reset(request: HttpRequest, class_id: str) -> HttpResponse:
    """Confirm, then reset one student account (``account``) or all of them."""
    ctx = request.iam_ctx  # type: ignore[attr-defined]
    classroom = services.get_class(ctx, class_id)
    data = request.POST if request.method == "POST" else request.GET
    account_id = data.get("account", "")[:12]
    seats = list(classroom.seats.select_related("account").order_by("number"))
    chosen = [s for s in seats if s.account_id == account_id] if account_id else seats
    if account_id and not chosen:
        raise Http404("No such student account in this class.")
    error = ""
    if request.method == "POST":
        if data.get("confirm", "").strip().lower() != "reset":
            error = "To confirm, type reset in the field."
        else:
            try:
                done = services.reset_student_accounts(ctx, class_id, account_ids=[account_id] if account_id else None)
            except IamError as exc:
                error = exc.message
            else:
                messages.success(
                    request,
                    f"Reset {len(done)} student account{'s' if len(done) != 1 else ''} "
                    "to empty. Root sign-in is unchanged.",
                )
                return redirect_or_hx(request, f"/classroom/{class_id}")
    return render_page(
        request,
        "classroom/reset.html",
        {"classroom": classroom, "chosen": chosen, "account_id": account_id, "error": error},
        status=400 if error else 200,
    )


# ---------------------------------------------------------------------------------------------- organization


@class_page
@require_GET
def organization(request: HttpRequest, class_id: str) -> HttpResponse:
    ctx = request.iam_ctx  # type: ignore[attr-defined]
    classroom = services.get_class(ctx, class_id)
    services.list_accounts(ctx, class_id)  # authorizes organizations:ListAccounts
    tree = services.organization_tree(classroom)
    return render_page(
        request,
        "classroom/organization.html",
        {
            "classroom": classroom,
            "tree": tree,
            "attached": services.attachments_by_target(classroom),
            "parents": _parents(tree),
            "tab": "organization",
        },
    )


def _parents(tree: services.TreeNode) -> list[tuple[str, str]]:
    """(id, label) of the root and every OU, indented by depth, for the parent pickers."""
    found: list[tuple[str, str]] = []

    def walk(node: services.TreeNode, depth: int) -> None:
        found.append((node.id, f"{'— ' * depth}{node.name} ({node.id})"))
        for unit in node.units:
            walk(unit, depth + 1)

    walk(tree, 0)
    return found


def _org_action(request: HttpRequest, class_id: str, call: Callable[[], object], success: str) -> HttpResponse:
    return _run_and_return(request, call, success, f"/classroom/{class_id}/organization")


def _run_and_return(request: HttpRequest, call: Callable[[], object], success: str, url: str) -> HttpResponse:
    """Run one service call from a form, flash its outcome, and go back to ``url`` (unknown classes stay 404)."""
    try:
        call()
    except services.ClassNotFound:
        raise
    except IamError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, success)
    return redirect_or_hx(request, url)


@class_page
@require_POST
def unit_create(request: HttpRequest, class_id: str) -> HttpResponse:
    name = request.POST.get("name", "")[:200]
    return _org_action(
        request,
        class_id,
        lambda: services.create_organizational_unit(
            request.iam_ctx, class_id, parent_id=request.POST.get("parent_id", ""), name=name
        ),  # type: ignore[attr-defined]
        f"Organizational unit {name.strip()} created.",
    )


@class_page
@require_POST
def unit_delete(request: HttpRequest, class_id: str, unit_id: str) -> HttpResponse:
    return _org_action(
        request,
        class_id,
        lambda: services.delete_organizational_unit(request.iam_ctx, class_id, unit_id=unit_id),
        "Organizational unit deleted.",
    )  # type: ignore[attr-defined]


@class_page
@require_POST
def account_move(request: HttpRequest, class_id: str) -> HttpResponse:
    return _org_action(
        request,
        class_id,
        lambda: services.move_account(
            request.iam_ctx,
            class_id,
            account_id=request.POST.get("account_id", "")[:12],  # type: ignore[attr-defined]
            destination_parent_id=request.POST.get("parent_id", "")[:68],
        ),
        "Account moved.",
    )


# ---------------------------------------------------------------------------------------------- SCPs


def findings_context(text: str) -> dict[str, Any]:
    findings = validate_policy(text, "scp")
    tabs = [(code, label, [f for f in findings if f.finding_type == code]) for code, label in FINDING_TABS]
    return {"findings": findings, "finding_tabs": tabs, "has_errors": any(f.finding_type == "ERROR" for f in findings)}


@class_page
@require_GET
def policy_list(request: HttpRequest, class_id: str) -> HttpResponse:
    ctx = request.iam_ctx  # type: ignore[attr-defined]
    classroom = services.get_class(ctx, class_id)
    policies = services.list_policies(ctx, class_id)
    counts = {p.pk: p.attachments.count() for p in policies}
    return render_page(
        request,
        "classroom/policy_list.html",
        {"classroom": classroom, "policies": [(p, counts[p.pk]) for p in policies], "tab": "policies"},
    )


@class_page
@require_http_methods(["GET", "POST"])
def policy_create(request: HttpRequest, class_id: str) -> HttpResponse:
    ctx = request.iam_ctx  # type: ignore[attr-defined]
    classroom = services.get_class(ctx, class_id)
    name = request.POST.get("name", "")[:200]
    description = request.POST.get("description", "")[:600]
    content = request.POST.get("content", SCP_TEMPLATE)
    error = ""
    if request.method == "POST":
        try:
            policy = services.create_policy(ctx, class_id, name=name, content=content, description=description)
        except services.ClassNotFound:
            raise
        except IamError as exc:
            error = exc.message
        else:
            messages.success(request, f"Policy {policy.name} created. Attach it to the root, an OU or an account.")
            return redirect_or_hx(request, f"/classroom/{class_id}/policies/{policy.policy_id}")
    return render_page(
        request,
        "classroom/policy_create.html",
        {
            "classroom": classroom,
            "name": name,
            "description": description,
            "content": content,
            "error": error,
            "tab": "policies",
            **findings_context(content),
        },
        status=400 if error else 200,
    )


@class_page
@require_POST
def policy_validate(request: HttpRequest, class_id: str) -> HttpResponse:
    services.get_class(request.iam_ctx, class_id)  # type: ignore[attr-defined]
    return render(
        request, "classroom/policy_create.html#validation-findings", findings_context(request.POST.get("content", ""))
    )


@class_page
@require_http_methods(["GET", "POST"])
def policy_detail(request: HttpRequest, class_id: str, policy_id: str) -> HttpResponse:
    """The policy, its targets, and (customer managed) its editor."""
    ctx = request.iam_ctx  # type: ignore[attr-defined]
    classroom = services.get_class(ctx, class_id)
    error = ""
    try:
        policy = services.describe_policy(ctx, class_id, policy_id=policy_id)
    except services.ClassNotFound:
        raise
    except IamError as exc:
        if exc.code == "PolicyNotFoundException":
            raise Http404(exc.message) from None
        raise
    content = policy.document
    if request.method == "POST":
        content = request.POST.get("content", "")
        try:
            policy = services.update_policy(
                ctx,
                class_id,
                policy_id=policy_id,
                content=content,
                description=request.POST.get("description", policy.description),
            )
        except IamError as exc:
            error = exc.message
        else:
            messages.success(request, "Policy saved. It applies from the next call.")
            return redirect_or_hx(request, f"/classroom/{class_id}/policies/{policy_id}")
    tree = services.organization_tree(classroom)
    targets = services.targets_of(policy)
    attached_ids = {t.target_id for t in targets}
    seats = {s.account_id: s for s in classroom.seats.select_related("account")}
    choices = [*_parents(tree), *((a, f"student{s.number:02d} ({a})") for a, s in seats.items())]
    return render_page(
        request,
        "classroom/policy_detail.html",
        {
            "classroom": classroom,
            "policy": policy,
            "targets": targets,
            "content": content,
            "error": error,
            "choices": [(i, label) for i, label in choices if i not in attached_ids],
            "tab": "policies",
            "seats": seats,
            **findings_context(content),
        },
        status=400 if error else 200,
    )


def _policy_action(
    request: HttpRequest, class_id: str, policy_id: str, call: Callable[[], object], success: str
) -> HttpResponse:
    return _run_and_return(request, call, success, f"/classroom/{class_id}/policies/{policy_id}")


@class_page
@require_POST
def policy_attach(request: HttpRequest, class_id: str, policy_id: str) -> HttpResponse:
    target = request.POST.get("target_id", "")[:68]
    return _policy_action(
        request,
        class_id,
        policy_id,
        lambda: services.attach_policy(request.iam_ctx, class_id, policy_id=policy_id, target_id=target),  # type: ignore[attr-defined]
        f"Policy attached to {target}.",
    )


@class_page
@require_POST
def policy_detach(request: HttpRequest, class_id: str, policy_id: str) -> HttpResponse:
    target = request.POST.get("target_id", "")[:68]
    return _policy_action(
        request,
        class_id,
        policy_id,
        lambda: services.detach_policy(request.iam_ctx, class_id, policy_id=policy_id, target_id=target),  # type: ignore[attr-defined]
        f"Policy detached from {target}.",
    )


@class_page
@require_POST
def policy_delete(request: HttpRequest, class_id: str, policy_id: str) -> HttpResponse:
    try:
        services.delete_policy(request.iam_ctx, class_id, policy_id=policy_id)  # type: ignore[attr-defined]
    except services.ClassNotFound:
        raise
    except IamError as exc:
        messages.error(request, exc.message)
        return redirect_or_hx(request, f"/classroom/{class_id}/policies/{policy_id}")
    messages.success(request, "Policy deleted.")
    return redirect_or_hx(request, f"/classroom/{class_id}/policies")
