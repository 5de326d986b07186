"""The classroom identity providers: their public endpoints (``/idp/<account-id>/…``: OIDC discovery, JWKS, SAML
metadata) and the console pages where a signed-in principal issues an ID token or a SAML response from its own
account's IdP, to use with AssumeRoleWith*."""

from __future__ import annotations

import json
import re
import shlex

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_http_methods

from console.decorators import console_page
from core.errors import AccessDenied, IamError, ValidationError
from identities import providers as providers_service
from identities import roles as roles_service
from identities.models import Account
from sts import idp


def _base_url(request: HttpRequest) -> str:
    return f"{request.scheme}://{request.get_host()}"


def _idp_account(account_id: str) -> str:
    """The account whose public IdP endpoints are asked for: one that exists (a key is created on first use)."""
    if not (account_id.isdigit() and len(account_id) == 12 and Account.objects.filter(pk=account_id).exists()):
        raise Http404("No such identity provider")
    return account_id


@require_GET
def openid_configuration(request: HttpRequest, account_id: str) -> JsonResponse:
    account_id = _idp_account(account_id)
    return JsonResponse(idp.openid_configuration(request.get_host(), _base_url(request), account_id))


@require_GET
def jwks(request: HttpRequest, account_id: str) -> JsonResponse:
    return JsonResponse(idp.jwks(_idp_account(account_id)))


@require_GET
def saml_metadata(request: HttpRequest, account_id: str) -> HttpResponse:
    account_id = _idp_account(account_id)
    response = HttpResponse(
        idp.saml_metadata(request.get_host(), _base_url(request), account_id),
        content_type="application/samlmetadata+xml",
    )
    response["Content-Disposition"] = f'attachment; filename="classroom-idp-{account_id}-metadata.xml"'
    return response


def _listed(read):  # noqa: ANN001, ANN202 - a service call returning rows
    """Rows for a dropdown, read through the service so the caller's permissions apply; a caller not allowed to
    list them types the ARN instead."""
    try:
        return list(read())
    except AccessDenied:
        return []


def _session_name(subject: str) -> str:
    """A RoleSessionName ([\\w+=,.@-]{2,64}) for the example command, made from the token's subject."""
    name = re.sub(r"[^\w+=,.@-]", "-", subject)[:64]
    return name if len(name) >= 2 else "session"


def _trust_example(provider_arn: str, url: str, audience: str, subject: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Federated": provider_arn},
                    "Action": "sts:AssumeRoleWithWebIdentity",
                    "Condition": {"StringEquals": {f"{url}:aud": audience, f"{url}:sub": subject}},
                }
            ],
        },
        indent=2,
    )


@console_page
@require_http_methods(["GET", "POST"])
def classroom_oidc(request: HttpRequest) -> HttpResponse:
    """Issue an OpenID Connect ID token from the caller's own account's classroom issuer."""
    ctx = request.iam_ctx  # type: ignore[attr-defined]
    host = request.get_host()
    issuer = idp.issuer_url(host, ctx.account_id)
    provider_url = issuer.removeprefix("https://")
    provider = next(
        (p for p in _listed(lambda: providers_service.list_open_id_connect_providers(ctx)) if p.url == provider_url),
        None,
    )
    roles = [(r.name, r.arn) for r in _listed(lambda: roles_service.list_roles(ctx))]
    form = {
        "subject": request.POST.get("subject", ctx.principal.name if ctx.principal.type == "IAMUser" else "student"),
        "audience": request.POST.get(
            "audience", (provider.client_ids[0] if provider and provider.client_ids else "sts.amazonaws.com")
        ),
        "minutes": request.POST.get("minutes", "60"),
        "role_arn": request.POST.get("role_arn", ""),
    }
    token, error, command = "", "", ""
    if request.method == "POST":
        try:
            minutes = int(form["minutes"])
        except ValueError:
            minutes = 0
        try:
            token = idp.issue_id_token(
                account_id=ctx.account_id,
                host=host,
                subject=form["subject"].strip(),
                audience=form["audience"].strip(),
                lifetime_seconds=minutes * 60,
            )
        except IamError as exc:
            error = exc.message
        else:
            role_arn = form["role_arn"] or (roles[0][1] if roles else f"arn:aws:iam::{ctx.account_id}:role/ROLE")
            command = (
                f"aws sts assume-role-with-web-identity --endpoint-url {shlex.quote(_base_url(request) + '/aws')} "
                f"--role-arn {shlex.quote(role_arn)} --role-session-name {_session_name(form['subject'])} "
                f"--web-identity-token {token}"
            )
    provider_arn = provider.arn if provider else f"arn:aws:iam::{ctx.account_id}:oidc-provider/{provider_url}"
    context = {
        "nav": "identity_providers",
        "issuer": issuer,
        "provider_url": provider_url,
        "provider": provider,
        "form": form,
        "token": token,
        "error": error,
        "command": command,
        "roles": roles,
        "base_url": _base_url(request),
        "idp_path": idp.idp_path(ctx.account_id),
        "trust_example": _trust_example(provider_arn, provider_url, form["audience"], form["subject"]),
    }
    return render(request, "sts/classroom_oidc.html", context, status=400 if error else 200)


@console_page
@require_http_methods(["GET", "POST"])
def classroom_saml(request: HttpRequest) -> HttpResponse:
    """Issue a signed SAML 2.0 response from the caller's own account's classroom SAML IdP."""
    ctx = request.iam_ctx  # type: ignore[attr-defined]
    host = request.get_host()
    providers = [(p.name, p.arn) for p in _listed(lambda: providers_service.list_saml_providers(ctx).order_by("name"))]
    roles = [(r.name, r.arn) for r in _listed(lambda: roles_service.list_roles(ctx))]
    default_name = ctx.principal.name if ctx.principal.type == "IAMUser" else "student"
    form = {
        "subject": request.POST.get("subject", default_name),
        "session_name": request.POST.get("session_name", default_name),
        "role_arn": request.POST.get("role_arn", roles[0][1] if roles else ""),
        "provider_arn": request.POST.get("provider_arn", providers[0][1] if providers else ""),
    }
    assertion, error, command = "", "", ""
    if request.method == "POST":
        try:
            if not form["role_arn"].strip() or not form["provider_arn"].strip():
                raise ValidationError("Choose a role and a SAML provider.")
            assertion = idp.issue_saml_response(
                account_id=ctx.account_id,
                host=host,
                subject=form["subject"].strip(),
                roles=[(form["role_arn"].strip(), form["provider_arn"].strip())],
                session_name=form["session_name"].strip(),
            )
        except IamError as exc:
            error = exc.message
        else:
            command = (
                f"aws sts assume-role-with-saml --endpoint-url {shlex.quote(_base_url(request) + '/aws')} "
                f"--role-arn {shlex.quote(form['role_arn'])} --principal-arn {shlex.quote(form['provider_arn'])} "
                f"--saml-assertion {assertion}"
            )
    context = {
        "nav": "identity_providers",
        "entity_id": idp.saml_entity_id(host, ctx.account_id),
        "idp_path": idp.idp_path(ctx.account_id),
        "form": form,
        "roles": roles,
        "providers": providers,
        "assertion": assertion,
        "error": error,
        "command": command,
        "valid_minutes": idp.SAML_VALID_SECONDS // 60,
        "audience": idp.SAML_AUDIENCE,
    }
    return render(request, "sts/classroom_saml.html", context, status=400 if error else 200)
