"""Switch role, Switch back, and the countdown poll of the switched-role badge."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from classroom.services import administrator_user_names
from console import sessions
from console.decorators import console_page
from console.services import resolve_account
from core import clock
from core.context import CallContext
from core.errors import IamError
from sts import services as sts

ROLE_HISTORY_SIZE = 5


@console_page
@require_http_methods(["GET", "POST"])
def switch_role(request: HttpRequest) -> HttpResponse:
    user_ctx = request.console_user_ctx  # type: ignore[attr-defined]
    data = request.POST if request.method == "POST" else request.GET
    account_id = data.get("account", "").replace("-", "").strip()[:63]
    role_name = data.get("roleName", "").strip()[:128]
    display = data.get("displayName", "").strip()[:64] or (f"{role_name} @ {account_id}" if role_name else "")
    color = data.get("color", "blue")
    color = color if color in sts.SWITCH_COLORS else "blue"
    error = ""
    if request.method == "POST":
        target = resolve_account(account_id) if account_id else None
        if not account_id or not role_name:
            error = "Enter the account ID or alias and the role name."
        else:
            expires = sessions.session_expires_at(request)
            left = int((expires - clock.now()).total_seconds()) if expires else 0
            try:
                credential = sts.switch_role(
                    user_ctx,
                    account_id=target.id if target else account_id,
                    role_name=role_name,
                    session_seconds_left=left,
                )
            except IamError as exc:
                error = exc.message
            else:
                entry = {
                    "credential": credential.pk,
                    "display": display,
                    "color": sts.SWITCH_COLORS[color],
                    "account": credential.account_id,
                    "role": role_name,
                }
                request.session[sessions.SWITCHED] = entry
                history = [
                    h
                    for h in request.session.get(sessions.ROLE_HISTORY, [])
                    if (h["account"], h["role"]) != (entry["account"], role_name)
                ]
                request.session[sessions.ROLE_HISTORY] = [
                    {"account": entry["account"], "role": role_name, "display": display, "color": color},
                    *history,
                ][:ROLE_HISTORY_SIZE]
                return redirect("/")
    return render(
        request,
        "console/switch_role.html",
        {
            "account_value": account_id,
            "role_name": role_name,
            "display": display,
            "color": color,
            "error": error,
            "colors": sts.SWITCH_COLORS,
            "history": request.session.get(sessions.ROLE_HISTORY, []),
            "root_user": user_ctx.principal.is_root,  # AWS: root users can't switch roles; the page says what to do
            "admin_users": _admin_users(user_ctx),
        },
        status=400 if error else 200,
    )


def _admin_users(user_ctx: CallContext) -> list[str]:
    """For a root user: the account's administrator IAM users, to sign in as one (or the page offers to create it)."""
    if not user_ctx.principal.is_root:
        return []

    return administrator_user_names(user_ctx.account_id)


@console_page
@require_POST
def switch_back(request: HttpRequest) -> HttpResponse:
    request.session.pop(sessions.SWITCHED, None)
    messages.info(request, f"You are back to {request.console_user_ctx.principal.name}.")  # type: ignore[attr-defined]
    return redirect("/")


@console_page
@require_GET
def switch_status(request: HttpRequest) -> HttpResponse:
    """Polled by the badge: once the role session has ended, the page goes back to the user's own console."""
    if request.switched_role is None:  # type: ignore[attr-defined]
        if request.session.get(sessions.NOTICE):
            return HttpResponseClientRedirect("/")
        return HttpResponse("")
    return render(request, "components/switched_badge.html")
