"""Console pages for issue 14's classic operations: a group's Edit page, the SSH public keys and service-specific
credentials sections of a user's Security credentials tab, and the STS token setting in Account settings.

Each page calls one service (identities.services, identities.user_credentials), which authorizes and audits.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods, require_POST

from console.decorators import console_page
from console.htmx import error_status, redirect_or_hx
from core.errors import IamError
from identities import services, user_credentials
from identities.models import IamUser
from identities.pages import group_or_404, user_or_404

# ---- Edit user group --------------------------------------------------------------------------------------------


@console_page
@require_http_methods(["GET", "POST"])
def group_edit(request: HttpRequest, group_name: str) -> HttpResponse:
    """AWS's "Edit user group name": the new name; members, policies and inline policies follow the group."""
    group = group_or_404(request, group_name)
    name, error, status = group.name, "", 400
    if request.method == "POST":
        name = request.POST.get("group_name", "").strip()
        if not name:
            error = "User group name is required."
        else:
            try:
                renamed = services.update_group(
                    request.iam_ctx, group_name=group.name, new_group_name=name if name != group.name else None
                )
            except IamError as exc:
                error, status = exc.message, exc.status
            else:
                messages.success(request, f"User group {renamed.name} updated.")
                return redirect_or_hx(request, f"/iam/groups/{quote(renamed.name)}")
    return render(
        request,
        "identities/group_edit.html",
        {"group": group, "group_name": name, "error": error, "nav": "groups"},
        status=error_status(request, status) if error else 200,
    )


# ---- SSH public keys and service-specific credentials (a user's Security credentials tab) ------------------------

SERVICE_SECTIONS = (
    ("codecommit.amazonaws.com", "HTTPS Git credentials for AWS CodeCommit", "git"),
    ("cassandra.amazonaws.com", "Credentials for Amazon Keyspaces (for Apache Cassandra)", "keyspaces"),
)


def classic_credentials_context(request: HttpRequest, user: IamUser) -> dict[str, Any]:
    """What ``identities/credentials/classic_sections.html`` needs; a denied list shows its message instead."""
    ctx, data = request.iam_ctx, {"ssh_limit": user_credentials.SSH_KEYS_PER_USER}
    try:
        data["ssh_keys"] = user_credentials.list_ssh_public_keys(ctx, user_name=user.name)
    except IamError as exc:
        data["ssh_keys"], data["ssh_error"] = None, exc.message
    try:
        found = user_credentials.list_service_specific_credentials(ctx, user_name=user.name)
    except IamError as exc:
        data["service_error"] = exc.message
        data["service_sections"] = []
    else:
        data["service_sections"] = [
            {
                "service": service,
                "title": title,
                "slug": slug,
                "rows": [c for c in found if c.service_name == service],
                "limit": user_credentials.SERVICE_CREDENTIALS_PER_SERVICE,
            }
            for service, title, slug in SERVICE_SECTIONS
        ]
    try:
        data["certificates"] = user_credentials.list_signing_certificates(ctx, user_name=user.name)
    except IamError as exc:
        data["certificates"], data["certificates_error"] = None, exc.message
    return {"classic": data}


def _back(user: IamUser) -> str:
    return f"/iam/users/{quote(user.name)}?tab=security_credentials"


@console_page
@require_http_methods(["GET", "POST"])
def ssh_key_upload(request: HttpRequest, user_name: str) -> HttpResponse:
    user = user_or_404(request, user_name)
    body, error = request.POST.get("ssh_public_key_body", ""), ""
    if request.method == "POST":
        if not body.strip():
            error = "Enter the SSH public key."
        else:
            try:
                key = user_credentials.upload_ssh_public_key(
                    request.iam_ctx, user_name=user.name, ssh_public_key_body=body
                )
            except IamError as exc:
                error = exc.message
            else:
                messages.success(request, f"SSH public key {key.key_id} uploaded.")
                return redirect_or_hx(request, _back(user))
    return render(
        request,
        "identities/credentials/ssh_key_upload.html",
        {"user": user, "body": body, "error": error, "nav": "users", "back": _back(user)},
        status=error_status(request, 400) if error else 200,
    )


@console_page
@require_POST
def ssh_key_action(request: HttpRequest, user_name: str) -> HttpResponse:
    """Make active / Make inactive / Delete a key, from its row's buttons."""
    user = user_or_404(request, user_name)
    key_id, action = request.POST.get("ssh_public_key_id", "")[:128], request.POST.get("action", "")
    ctx = request.iam_ctx
    try:
        if action == "delete":
            user_credentials.delete_ssh_public_key(ctx, user_name=user.name, ssh_public_key_id=key_id)
            messages.success(request, f"SSH public key {key_id} deleted.")
        elif action in ("Active", "Inactive"):
            user_credentials.update_ssh_public_key(ctx, user_name=user.name, ssh_public_key_id=key_id, status=action)
            messages.success(request, f"SSH public key {key_id} is now {action.lower()}.")
        else:
            raise Http404("Unknown action.")
    except IamError as exc:
        messages.error(request, exc.message)
    return redirect_or_hx(request, _back(user))


@console_page
@require_http_methods(["GET"])
def ssh_key_show(request: HttpRequest, user_name: str) -> HttpResponse:
    """One key's body and fingerprint; without a key ID, a choice of the user's keys."""
    user = user_or_404(request, user_name)
    key_id, key, keys = request.GET.get("ssh_public_key_id", "")[:128], None, []
    if key_id:
        try:
            key = user_credentials.get_ssh_public_key(
                request.iam_ctx, user_name=user.name, ssh_public_key_id=key_id, encoding="SSH"
            )
        except IamError as exc:
            raise Http404(exc.message) from None
    else:
        keys = user_credentials.list_ssh_public_keys(request.iam_ctx, user_name=user.name)
    return render(
        request,
        "identities/credentials/ssh_key_show.html",
        {"user": user, "key": key, "keys": keys, "nav": "users", "back": _back(user)},
    )


@console_page
@require_POST
def service_credential_action(request: HttpRequest, user_name: str) -> HttpResponse:
    """Generate / Reset (the password is shown once, on the page this answers) / activate / deactivate / delete."""
    user = user_or_404(request, user_name)
    post, ctx = request.POST, request.iam_ctx
    action, credential_id = post.get("action", ""), post.get("credential_id", "")[:128]
    try:
        if action in ("generate", "reset"):
            if action == "generate":
                new = user_credentials.create_service_specific_credential(
                    ctx, user_name=user.name, service_name=post.get("service_name", "")[:64]
                )
            else:
                new = user_credentials.reset_service_specific_credential(
                    ctx, service_specific_credential_id=credential_id, user_name=user.name
                )
            response = render(
                request,
                "identities/credentials/service_credential_created.html",
                {"user": user, "new": new, "nav": "users", "back": _back(user)},
            )
            response["Cache-Control"] = "no-store"  # the one response that holds the password
            return response
        if action == "delete":
            user_credentials.delete_service_specific_credential(
                ctx, service_specific_credential_id=credential_id, user_name=user.name
            )
            messages.success(request, "Credential deleted.")
        elif action in ("Active", "Inactive"):
            user_credentials.update_service_specific_credential(
                ctx, service_specific_credential_id=credential_id, status=action, user_name=user.name
            )
            messages.success(request, f"Credential is now {action.lower()}.")
        else:
            raise Http404("Unknown action.")
    except IamError as exc:
        messages.error(request, exc.message)
    return redirect_or_hx(request, _back(user))


# ---- Account settings: Security Token Service (STS) -------------------------------------------------------------


@console_page
@require_POST
def sts_preferences(request: HttpRequest) -> HttpResponse:
    version = request.POST.get("global_endpoint_token_version", "")[:16]
    try:
        user_credentials.set_security_token_service_preferences(request.iam_ctx, global_endpoint_token_version=version)
    except IamError as exc:
        messages.error(request, exc.message)
    else:
        label = "valid in all AWS Regions" if version == "v2Token" else "valid only in AWS Regions enabled by default"
        messages.success(request, f"Global endpoint session tokens are now {label}.")
    return redirect_or_hx(request, "/iam/account_settings")
