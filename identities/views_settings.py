"""Console pages for account settings: the password policy, the account alias and the credential report.

Views parse input, call one service (which authorizes and audits), and choose a response.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods
from django.views.decorators.vary import vary_on_headers

from console.decorators import console_page
from console.htmx import error_status, pick_partial
from core import clock
from core.errors import IamError, NoSuchEntity
from core.validation import check_input
from identities import account_settings as services
from identities.credential_report import COMPLETE, ReportExpired, ReportInProgress, ReportNotPresent
from identities.passwords import DEFAULT_MIN_LENGTH, SYMBOLS
from identities.user_credentials import global_endpoint_token_version

SLOW_BUILD_SECONDS = 30  # after this long the progress panel says the background worker may be down


# ---- account settings: the password policy ------------------------------------------------------------------


@console_page
@require_GET
def account_settings(request: HttpRequest) -> HttpResponse:
    # AccessDenied is left to the console middleware: a 403 with AWS's wording and the "Why?" panel.
    try:
        policy = services.get_account_password_policy(request.iam_ctx)
    except NoSuchEntity:
        policy = None  # the IAM default applies
    return render(
        request,
        "identities/settings/account_settings.html",
        {
            "policy": policy,
            "nav": "account_settings",
            "default_min_length": DEFAULT_MIN_LENGTH,
            "symbols": " ".join(SYMBOLS),
            "sts_token_version": global_endpoint_token_version(request.iam_ctx.account_id),
        },
    )


# Form field → (API member, service keyword) for the three numbers of the policy.
_NUMBERS = {
    "minimum_password_length": "MinimumPasswordLength",
    "max_password_age": "MaxPasswordAge",
    "password_reuse_prevention": "PasswordReusePrevention",
}
_FLAGS = (
    "require_uppercase_characters",
    "require_lowercase_characters",
    "require_numbers",
    "require_symbols",
    "allow_users_to_change_password",
    "hard_expiry",
)


@dataclass
class PolicyForm:
    """The Edit password policy form: what was typed, what it means, and what is wrong with it."""

    mode: str = "default"  # default | custom
    minimum_password_length: str = "8"
    expire: bool = False
    max_password_age: str = "90"
    prevent_reuse: bool = False
    password_reuse_prevention: str = "5"
    flags: dict[str, bool] = field(default_factory=lambda: dict.fromkeys(_FLAGS, False))
    errors: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_policy(cls, policy: Any) -> PolicyForm:
        if policy is None:
            return cls(flags={**dict.fromkeys(_FLAGS, False), "allow_users_to_change_password": True})
        return cls(
            mode="custom",
            minimum_password_length=str(policy.minimum_password_length),
            expire=bool(policy.max_password_age),
            max_password_age=str(policy.max_password_age or 90),
            prevent_reuse=bool(policy.password_reuse_prevention),
            password_reuse_prevention=str(policy.password_reuse_prevention or 5),
            flags={name: getattr(policy, name) for name in _FLAGS},
        )

    @classmethod
    def from_post(cls, data: Any) -> PolicyForm:
        return cls(
            mode="custom" if data.get("mode") == "custom" else "default",
            minimum_password_length=data.get("minimum_password_length", "").strip()[:12],
            expire=data.get("expire") == "on",
            max_password_age=data.get("max_password_age", "").strip()[:12],
            prevent_reuse=data.get("prevent_reuse") == "on",
            password_reuse_prevention=data.get("password_reuse_prevention", "").strip()[:12],
            flags={name: data.get(name) == "on" for name in _FLAGS},
        )

    def _number(self, name: str) -> int | None:
        raw = getattr(self, name)
        if not raw.lstrip("-").isdigit():
            self.errors[name] = "Enter a whole number."
            return None
        value = int(raw)
        try:  # the same AWS-model constraint message the API gives, next to the field it concerns
            check_input("iam", "UpdateAccountPasswordPolicy", **{_NUMBERS[name]: value})
        except IamError as exc:
            self.errors[name] = exc.message
        return value

    def policy_kwargs(self) -> dict[str, Any]:
        """UpdateAccountPasswordPolicy's arguments; fills ``errors`` for fields that can't be right."""
        kwargs: dict[str, Any] = {
            "minimum_password_length": self._number("minimum_password_length"),
            "max_password_age": self._number("max_password_age") if self.expire else None,
            "password_reuse_prevention": self._number("password_reuse_prevention") if self.prevent_reuse else None,
            **self.flags,
        }
        if not self.expire:
            kwargs["hard_expiry"] = False  # only meaningful with expiration turned on
        return kwargs

    def summary(self) -> list[str]:
        """The custom policy in words, for the Set custom confirmation."""
        lines = [f"Password minimum length: {self.minimum_password_length} characters"]
        names = {
            "require_uppercase_characters": "Require at least one uppercase letter from the Latin alphabet (A-Z)",
            "require_lowercase_characters": "Require at least one lowercase letter from the Latin alphabet (a-z)",
            "require_numbers": "Require at least one number",
            "require_symbols": "Require at least one non-alphanumeric character",
        }
        lines += [text for name, text in names.items() if self.flags[name]]
        if self.expire:
            lines.append(f"Password expires in {self.max_password_age} day(s)")
            if self.flags["hard_expiry"]:
                lines.append("Password expiration requires administrator reset")
        if self.flags["allow_users_to_change_password"]:
            lines.append("Allow users to change their own password")
        if self.prevent_reuse:
            lines.append(f"Remember last {self.password_reuse_prevention} password(s) and prevent reuse")
        return lines


@console_page
@require_http_methods(["GET", "POST"])
def password_policy_edit(request: HttpRequest) -> HttpResponse:
    """Edit password policy: IAM default or Custom, confirmed with "Set default" / "Set custom"."""
    ctx = request.iam_ctx
    error = ""
    confirm = False
    if request.method == "GET":
        try:
            current = services.get_account_password_policy(ctx)
        except NoSuchEntity:
            current = None
        form = PolicyForm.from_policy(current)
    else:
        form = PolicyForm.from_post(request.POST)
        kwargs = form.policy_kwargs() if form.mode == "custom" else {}
        if not form.errors:
            if request.POST.get("confirmed") != "yes":
                confirm = True  # a valid change is applied only after the confirmation dialog
            else:
                try:
                    if form.mode == "custom":
                        services.update_account_password_policy(ctx, **kwargs)
                    else:
                        with contextlib.suppress(NoSuchEntity):  # already the IAM default
                            services.delete_account_password_policy(ctx)
                except IamError as exc:
                    error = exc.message
                else:
                    messages.success(request, "Password policy updated.")
                    return redirect("/iam/account_settings")
    failed = bool(error or form.errors)
    return render(
        request,
        "identities/settings/password_policy_edit.html",
        {
            "form": form,
            "error": error,
            "confirm": confirm,
            "nav": "account_settings",
            "default_min_length": DEFAULT_MIN_LENGTH,
            "symbols": " ".join(SYMBOLS),
        },
        status=error_status(request, 400) if failed else 200,
    )


# ---- account alias (from the dashboard's AWS Account container) ---------------------------------------------


@console_page
@require_http_methods(["GET", "POST"])
def account_alias(request: HttpRequest) -> HttpResponse:
    """Create or edit the alias (``?delete`` / ``action=delete``: delete it), then back to the dashboard."""
    ctx = request.iam_ctx
    aliases = services.list_account_aliases(ctx)  # authorized (iam:ListAccountAliases), as the console reads it
    current = aliases[0] if aliases else None
    deleting = "delete" in request.GET or request.POST.get("action") == "delete"
    value = request.POST.get("account_alias", current or "").strip()[:63]
    error = ""
    if request.method == "POST":
        try:
            if deleting:
                services.delete_account_alias(ctx, account_alias=current or "")
            elif value != current:
                services.create_account_alias(ctx, account_alias=value)
        except IamError as exc:
            error = exc.message
        else:
            messages.success(request, "Account alias deleted." if deleting else "Account alias updated.")
            return redirect("/")
    return render(
        request,
        "identities/settings/account_alias.html",
        {
            "current": current,
            "value": value,
            "error": error,
            "deleting": deleting and bool(current),
            "sign_in_base": request.build_absolute_uri("/signin/"),
            "nav": "dashboard",
        },
        status=error_status(request, 400) if error else 200,
    )


# ---- credential report --------------------------------------------------------------------------------------


def _report_context(request: HttpRequest) -> dict[str, Any]:
    report = services.credential_report_status(request.iam_ctx)
    building = report is not None and report.state != COMPLETE
    waited = (clock.now() - report.requested_at).total_seconds() if building else 0
    expired = (
        report is not None
        and not building
        and report.generated_at is not None
        and (clock.now() - report.generated_at >= services.REPORT_TTL)
    )
    return {
        "report": report,
        "building": building,
        "slow": waited > SLOW_BUILD_SECONDS,
        "expired": expired,
        "nav": "credential_report",
    }


@console_page
@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def credential_report(request: HttpRequest) -> HttpResponse:
    """GET: the page (htmx polls its ``report-status`` partial every second while a report is being built).
    POST (Download credentials report): GenerateCredentialReport; a fresh report downloads at once."""
    if request.method == "POST":
        answer = services.generate_credential_report(request.iam_ctx)  # AccessDenied: the middleware's 403 page
        if answer.state == COMPLETE:
            return redirect("/iam/credential_report/download")
        return redirect("/iam/credential_report")
    template = pick_partial(request, "identities/settings/credential_report.html", {"report-status"})
    return render(request, template, _report_context(request))


@console_page
@require_GET
def credential_report_download(request: HttpRequest) -> HttpResponse:
    """GetCredentialReport, served as ``status_reports_<date>T<time>.csv``."""
    try:
        report = services.get_credential_report(request.iam_ctx)
    except (ReportNotPresent, ReportInProgress, ReportExpired) as exc:
        # No file to give: the report page, with AWS's reason (ReportNotPresent / ReportInProgress / ReportExpired).
        return render(
            request, "identities/settings/credential_report.html", {**_report_context(request), "error": exc.message}
        )
    response = HttpResponse(report.content, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{report.filename}"'
    response["Cache-Control"] = "no-store"
    return response
