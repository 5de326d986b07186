"""The console shell: root sign-in and sign-out, and the IAM dashboard."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from classroom.services import change_root_password, root_password_change_required
from console import services, sessions
from console.decorators import console_page
from core import clock
from core.errors import IamError
from identities import credentials
from identities import services as identity_services
from identities.models import Account, IamUser

MFA_PENDING = "iam_signin_mfa"  # the principal whose password was right and whose MFA code is awaited
MFA_PENDING_SECONDS = 5 * 60


def _await_mfa(
    request: HttpRequest, account: Account, kind: str, *, user_pk: int | None = None, must_change_password: bool = False
) -> HttpResponse:
    """Password accepted, MFA code still to come: remember who (never the password) and ask for the code."""
    request.session.flush()  # nothing of an earlier sign-in survives; a new session ID
    request.session[MFA_PENDING] = {
        "account": account.id,
        "kind": kind,
        "user": user_pk,
        "must_change_password": must_change_password,
        "next": _next_url(request),
        "at": clock.now().isoformat(),
    }
    return redirect("/signin_mfa")


@require_http_methods(["GET", "POST"])
def signin_mfa(request: HttpRequest) -> HttpResponse:
    """The second sign-in page: a code from the principal's MFA device."""
    pending = request.session.get(MFA_PENDING)
    if not pending or datetime.fromisoformat(pending["at"]) + timedelta(seconds=MFA_PENDING_SECONDS) < clock.now():
        request.session.pop(MFA_PENDING, None)
        return redirect("/signin")
    error = ""
    if request.method == "POST":
        try:
            services.complete_mfa_sign_in(
                account_id=pending["account"],
                user_pk=pending["user"],
                code=request.POST.get("mfa_code", "")[:16],
                source_ip=sessions.client_ip(request),
                user_agent=request.headers.get("User-Agent", ""),
            )
        except services.SignInFailed as exc:
            error = exc.message
        else:
            request.session.pop(MFA_PENDING, None)
            account = Account.objects.get(pk=pending["account"])
            sessions.start(
                request,
                account,
                pending["kind"],
                user_pk=pending["user"],
                must_change_password=pending["must_change_password"],
                mfa_at=clock.now(),
            )
            return redirect("/change_password" if pending["must_change_password"] else pending["next"])
    who = "root user"
    if pending["kind"] == "user":
        who = IamUser.objects.filter(pk=pending["user"]).values_list("name", flat=True).first() or ""
    return render(
        request,
        "identities/credentials/signin_mfa.html",
        {"error": error, "action": "/signin_mfa", "who": who},
        status=400 if error else 200,
    )


ACCOUNT_VALUE = re.compile(r"^[A-Za-z0-9-]{1,63}$")  # a 12-digit account ID (hyphens allowed) or an alias


@require_http_methods(["GET", "POST"])
def signin(request: HttpRequest) -> HttpResponse:
    """AWS's two-step sign-in: first who (Root user with its email, or IAM user with the account ID or alias), then
    the password. An IAM user's second step is the account's sign-in URL (``/signin/<account>``), as on AWS. A POST
    that carries the password is the second step (the form, or a client posting both at once)."""
    error = ""
    email = request.POST.get("email", "")[:254].strip()
    kind = "user" if request.POST.get("signin_kind") == "user" else "root"
    account_value = request.POST.get("account", "")[:64].strip()
    step = "who"
    if request.method == "POST" and "password" not in request.POST:
        if kind == "user":
            if not ACCOUNT_VALUE.fullmatch(account_value):
                error = "Enter your account ID (12 digits) or account alias."
            else:
                target = f"/signin/{account_value}"
                if request.GET.get("next"):
                    target += "?" + urlencode({"next": _next_url(request)})
                return redirect(target)
        elif not email:
            error = "Enter your root user email address."
        else:
            step = "password"  # never says whether the address is known: the password step comes either way
    elif request.method == "POST":
        step = "password"
        password = request.POST.get("password", "")[:128]
        if not email or not password:
            error = "Enter your root user email address and password."
        else:
            try:
                account = services.sign_in_root(
                    email=email,
                    password=password,
                    source_ip=sessions.client_ip(request),
                    user_agent=request.headers.get("User-Agent", ""),
                )
            except services.SignInFailed as exc:
                error = exc.message
            else:
                # A student's root user must replace the generated initial password from the handout first.
                must_change = root_password_change_required(account.id)
                if services.mfa_required(account.id, None):
                    return _await_mfa(request, account, "root", must_change_password=must_change)
                sessions.start(request, account, "root", must_change_password=must_change)
                return redirect("/change_password" if must_change else _next_url(request))
    return render(
        request,
        "console/signin.html",
        {"error": error, "email": email, "kind": kind, "account_value": account_value, "step": step},
        status=400 if error else 200,
    )


def _next_url(request: HttpRequest) -> str:
    target = request.GET.get("next", "/")
    return target if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}) else "/"


@require_http_methods(["GET", "POST"])
def signin_user(request: HttpRequest, account: str = "") -> HttpResponse:
    """IAM-user sign-in at the account's sign-in URL: account ID or alias, user name, password."""
    error = ""
    account_value = request.POST.get("account", account)[:63]
    # ?username= prefills the name (the instructor's "sign in as your administrator user" link)
    user_name = request.POST.get("username", request.GET.get("username", ""))[:64]
    if request.method == "POST":
        password = request.POST.get("password", "")[:128]
        if not account_value or not user_name or not password:
            error = "Enter the account ID or alias, your IAM user name and your password."
        else:
            try:
                result = services.sign_in_user(
                    account=account_value,
                    user_name=user_name,
                    password=password,
                    source_ip=sessions.client_ip(request),
                    user_agent=request.headers.get("User-Agent", ""),
                )
            except services.SignInFailed as exc:
                error = exc.message
            else:
                if services.mfa_required(result.account.id, result.user):
                    return _await_mfa(
                        request,
                        result.account,
                        "user",
                        user_pk=result.user.pk,
                        must_change_password=result.password_reset_required,
                    )
                sessions.start(
                    request,
                    result.account,
                    "user",
                    user_pk=result.user.pk,
                    must_change_password=result.password_reset_required,
                )
                if result.password_reset_required:
                    return redirect("/change_password")
                return redirect(_next_url(request))
    return render(
        request,
        "console/signin_user.html",
        {"error": error, "account_value": account_value, "user_name": user_name},
        status=400 if error else 200,
    )


@console_page
@require_http_methods(["GET", "POST"])
def change_password(request: HttpRequest) -> HttpResponse:
    """The IAM user's own password change; forced after sign-in when a reset is required."""
    error = ""
    forced = bool(request.session.get(sessions.MUST_CHANGE_PASSWORD))
    if request.method == "POST":
        new_password = request.POST.get("new_password", "")
        if new_password != request.POST.get("confirm_password", ""):
            error = "The passwords you entered don't match."
        else:
            try:
                if request.iam_ctx.principal.is_root:
                    change_root_password(
                        request.iam_ctx, old_password=request.POST.get("old_password", ""), new_password=new_password
                    )
                else:
                    identity_services.change_password(
                        request.iam_ctx, old_password=request.POST.get("old_password", ""), new_password=new_password
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


@require_POST
def signout(request: HttpRequest) -> HttpResponse:
    sessions.end(request)
    return redirect("/signin")


def sign_in_url(request: HttpRequest, account_id_or_alias: str) -> str:
    return request.build_absolute_uri(f"/signin/{account_id_or_alias}")


@console_page
def dashboard(request: HttpRequest) -> HttpResponse:
    account = request.account  # type: ignore[attr-defined]
    summary_denied = ""
    try:
        summary = identity_services.get_account_summary(request.iam_ctx)
    except IamError as exc:
        summary = None  # the dashboard still shows the account; the counts need iam:GetAccountSummary
        summary_denied = exc.message  # shown in place of the counts, as AWS does, not blank numbers
    counts = (
        None
        if summary is None
        else {
            "groups": summary["Groups"],
            "users": summary["Users"],
            "roles": summary["Roles"],
            "policies": summary["Policies"],
            "identity_providers": summary["Providers"],
        }
    )
    return render(
        request,
        "console/dashboard.html",
        {
            "counts": counts,
            "summary_denied": summary_denied,
            "sign_in_url": sign_in_url(request, account.alias or account.id),
            "root_has_mfa": credentials.root_has_mfa(account.id),
            "root_has_access_keys": credentials.root_has_active_access_keys(account.id),
            "nav": "dashboard",
        },
    )
