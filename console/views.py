"""The console shell: root sign-in and sign-out, and the IAM dashboard."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from console import services, sessions
from console.decorators import console_login_required
from identities.models import Group, IamUser, Role
from policies.models import ManagedPolicy


@require_http_methods(["GET", "POST"])
def signin(request: HttpRequest) -> HttpResponse:
    error = ""
    email = ""
    if request.method == "POST":
        email = request.POST.get("email", "")[:254]
        password = request.POST.get("password", "")[:128]
        if not email or not password:
            error = "Enter your root user email address and password."
        else:
            try:
                account = services.sign_in_root(email=email, password=password, source_ip=sessions.client_ip(request),
                                                user_agent=request.headers.get("User-Agent", ""))
            except services.SignInFailed as exc:
                error = exc.message
            else:
                sessions.start(request, account, "root")
                target = request.GET.get("next", "/")
                if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
                    target = "/"
                return redirect(target)
    return render(request, "console/signin.html", {"error": error, "email": email}, status=400 if error else 200)


@require_POST
def signout(request: HttpRequest) -> HttpResponse:
    sessions.end(request)
    return redirect("/signin")


def sign_in_url(request: HttpRequest, account_id_or_alias: str) -> str:
    return request.build_absolute_uri(f"/signin/{account_id_or_alias}")


@console_login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    account = request.account  # type: ignore[attr-defined]
    counts = {
        "groups": Group.objects.in_account(account.id).count(),
        "users": IamUser.objects.in_account(account.id).count(),
        "roles": Role.objects.in_account(account.id).count(),
        "policies": ManagedPolicy.objects.customer_managed(account.id).count(),
        "identity_providers": 0,
    }
    return render(request, "console/dashboard.html", {
        "counts": counts,
        "sign_in_url": sign_in_url(request, account.alias or account.id),
        "root_has_mfa": False,
        "root_has_access_keys": False,
        "nav": "dashboard",
    })
