"""Identity providers pages: the list, Add provider (SAML / OpenID Connect tiles), a provider's detail page with
its audiences, thumbprints and tags, the metadata download and the type-the-name delete."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_http_methods

from console.decorators import console_page
from console.htmx import confirm_delete, error_status, pick_partial, redirect_or_hx
from core.errors import IamError, InvalidInput, NoSuchEntity
from identities import providers
from identities.models import OpenIdConnectProvider, SamlProvider
from identities.services import Tag

METADATA_MAX = 10_000_000
TYPE_LABELS = {"saml": "SAML", "oidc": "OpenID Connect"}


@dataclass(frozen=True)
class ProviderRow:
    name: str
    type: str  # "saml" | "oidc"
    created_at: datetime
    url: str  # the detail page

    @property
    def type_label(self) -> str:
        return TYPE_LABELS[self.type]


def _saml_url(name: str, suffix: str = "") -> str:
    return f"/iam/identity_providers/saml/{quote(name, safe='')}{suffix}"


def _oidc_url(url: str) -> str:
    return f"/iam/identity_providers/oidc/{quote(url, safe='/')}"


@console_page
@require_GET
def provider_list(request: HttpRequest) -> HttpResponse:
    ctx = request.iam_ctx
    rows = [ProviderRow(p.name, "saml", p.created_at, _saml_url(p.name)) for p in providers.list_saml_providers(ctx)]
    rows += [
        ProviderRow(p.url, "oidc", p.created_at, _oidc_url(p.url))
        for p in providers.list_open_id_connect_providers(ctx)
    ]
    rows.sort(key=lambda r: r.name.lower())
    return render(request, "identities/providers/provider_list.html", {"rows": rows, "nav": "identity_providers"})


# ---- Add provider -------------------------------------------------------------------------------------------


def _read_metadata(request: HttpRequest) -> str:
    upload = request.FILES.get("metadata_document")
    if upload is None:
        raise InvalidInput("Choose a metadata document file.")
    if upload.size and upload.size > METADATA_MAX * 4:
        raise InvalidInput("Could not parse metadata")
    try:
        return upload.read().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput("Could not parse metadata") from None


def _form_tags(request: HttpRequest) -> list[Tag]:
    keys, values = request.POST.getlist("tag_key"), request.POST.getlist("tag_value")
    tags = [Tag(k.strip(), v) for k, v in zip(keys, values, strict=False) if k.strip() or v]
    if any(not t.key for t in tags):
        raise InvalidInput("Tag keys can't be empty.")
    return tags


@console_page
@require_http_methods(["GET", "POST"])
def provider_create(request: HttpRequest) -> HttpResponse:
    data = request.POST if request.method == "POST" else request.GET
    kind = data.get("provider_type", "saml")
    kind = kind if kind in TYPE_LABELS else "saml"
    form = {
        "name": data.get("name", "").strip(),
        "url": data.get("url", "").strip(),
        "audience": data.get("audience", "").strip(),
    }
    error, status = "", 200
    if request.method == "POST" and request.POST.get("action") == "create":
        try:
            tags = _form_tags(request)
            if kind == "saml":
                provider = providers.create_saml_provider(
                    request.iam_ctx, name=form["name"], tags=tags, saml_metadata_document=_read_metadata(request)
                )
                label, done = provider.name, _saml_url(provider.name)
            else:
                oidc = providers.create_open_id_connect_provider(
                    request.iam_ctx,
                    url=form["url"],
                    tags=tags,
                    client_id_list=[form["audience"]] if form["audience"] else [],
                )
                label, done = oidc.url, _oidc_url(oidc.url)
        except IamError as exc:
            error, status = exc.message, error_status(request, exc.status)
        else:
            messages.success(request, f"Provider {label} added.")
            return redirect_or_hx(request, done)
    template = pick_partial(request, "identities/providers/provider_create.html", {"provider-form"})
    return render(
        request,
        template,
        {"kind": kind, "form": form, "error": error, "nav": "identity_providers", "type_labels": TYPE_LABELS},
        status=status,
    )


# ---- detail pages -------------------------------------------------------------------------------------------


def _saml_or_404(request: HttpRequest, name: str) -> SamlProvider:
    arn = providers.saml_provider_arn(request.iam_ctx.account_id, name)
    try:
        return providers.get_saml_provider(request.iam_ctx, saml_provider_arn=arn)
    except NoSuchEntity as exc:
        raise Http404(exc.message) from None


def _oidc_or_404(request: HttpRequest, url: str) -> OpenIdConnectProvider:
    arn = providers.oidc_provider_arn(request.iam_ctx.account_id, url)
    try:
        return providers.get_open_id_connect_provider(request.iam_ctx, open_id_connect_provider_arn=arn)
    except NoSuchEntity as exc:
        raise Http404(exc.message) from None


def _tag_change(
    request: HttpRequest, action: str, tag: Callable[[list[Tag]], None], untag: Callable[[list[str]], None]
) -> str:
    """The Tags section: add one tag (key, value) or remove one by key."""
    if action == "add_tag":
        key = request.POST.get("tag_key", "").strip()
        if not key:
            raise InvalidInput("Tag keys can't be empty.")
        tag([Tag(key, request.POST.get("tag_value", ""))])
        return f"Tag {key} added."
    key = request.POST.get("tag_key", "")
    untag([key])
    return f"Tag {key} removed."


@console_page
@require_http_methods(["GET", "POST"])
def saml_detail(request: HttpRequest, name: str) -> HttpResponse:
    provider = _saml_or_404(request, name)
    ctx, arn = request.iam_ctx, provider.arn
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action == "replace_metadata":
                providers.update_saml_provider(
                    ctx, saml_provider_arn=arn, saml_metadata_document=_read_metadata(request)
                )
                message = "Metadata replaced."
            elif action in ("add_tag", "remove_tag"):
                message = _tag_change(
                    request,
                    action,
                    lambda tags: providers.tag_saml_provider(ctx, saml_provider_arn=arn, tags=tags),
                    lambda keys: providers.untag_saml_provider(ctx, saml_provider_arn=arn, tag_keys=keys),
                )
            else:
                raise InvalidInput("Unknown action.")
        except IamError as exc:
            messages.error(request, exc.message)
            return _render_detail(request, "saml", provider, status=error_status(request, exc.status))
        messages.success(request, message)
        return redirect_or_hx(request, _saml_url(provider.name))
    return _render_detail(request, "saml", provider)


@console_page
@require_http_methods(["GET", "POST"])
def oidc_detail(request: HttpRequest, url: str) -> HttpResponse:
    provider = _oidc_or_404(request, url)
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            message = _oidc_action(request, provider, action)
        except IamError as exc:
            messages.error(request, exc.message)
            return _render_detail(request, "oidc", provider, status=error_status(request, exc.status))
        messages.success(request, message)
        return redirect_or_hx(request, _oidc_url(provider.url))
    return _render_detail(request, "oidc", provider)


def _oidc_action(request: HttpRequest, provider: OpenIdConnectProvider, action: str) -> str:
    ctx, arn = request.iam_ctx, provider.arn
    if action == "add_audience":
        audience = request.POST.get("audience", "").strip()
        providers.add_client_id_to_open_id_connect_provider(ctx, open_id_connect_provider_arn=arn, client_id=audience)
        return f"Audience {audience} added."
    if action == "remove_audience":
        audience = request.POST.get("audience", "")
        providers.remove_client_id_from_open_id_connect_provider(
            ctx, open_id_connect_provider_arn=arn, client_id=audience
        )
        return f"Audience {audience} removed."
    if action == "thumbprints":
        lines = [line.strip() for line in request.POST.get("thumbprints", "").splitlines()]
        providers.update_open_id_connect_provider_thumbprint(
            ctx, open_id_connect_provider_arn=arn, thumbprint_list=[t for t in lines if t]
        )
        return "Thumbprints updated."
    if action in ("add_tag", "remove_tag"):
        return _tag_change(
            request,
            action,
            lambda tags: providers.tag_open_id_connect_provider(ctx, open_id_connect_provider_arn=arn, tags=tags),
            lambda keys: providers.untag_open_id_connect_provider(ctx, open_id_connect_provider_arn=arn, tag_keys=keys),
        )
    raise InvalidInput("Unknown action.")


def _render_detail(
    request: HttpRequest, kind: str, provider: SamlProvider | OpenIdConnectProvider, status: int = 200
) -> HttpResponse:
    if isinstance(provider, SamlProvider):
        name, url = provider.name, _saml_url(provider.name)
    else:
        name, url = provider.url, _oidc_url(provider.url)
    context = {
        "provider": provider,
        "kind": kind,
        "type_label": TYPE_LABELS[kind],
        "name": name,
        "url": url,
        "delete_url": f"/iam/identity_providers/delete/{kind}/{quote(name, safe='/' if kind == 'oidc' else '')}",
        "nav": "identity_providers",
    }
    return render(request, "identities/providers/provider_detail.html", context, status=status)


@console_page
@require_GET
def saml_metadata(request: HttpRequest, name: str) -> HttpResponse:
    """Download metadata: the document as it was uploaded."""
    provider = _saml_or_404(request, name)
    response = HttpResponse(provider.metadata_document, content_type="application/xml; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{provider.name}-metadata.xml"'
    return response


# ---- delete -------------------------------------------------------------------------------------------------


@console_page
@require_http_methods(["GET", "POST"])
def saml_delete(request: HttpRequest, name: str) -> HttpResponse:
    provider = _saml_or_404(request, name)
    return _delete(
        request,
        provider.name,
        _saml_url(provider.name),
        lambda: providers.delete_saml_provider(request.iam_ctx, saml_provider_arn=provider.arn),
    )


@console_page
@require_http_methods(["GET", "POST"])
def oidc_delete(request: HttpRequest, url: str) -> HttpResponse:
    provider = _oidc_or_404(request, url)
    return _delete(
        request,
        provider.url,
        _oidc_url(provider.url),
        lambda: providers.delete_open_id_connect_provider(request.iam_ctx, open_id_connect_provider_arn=provider.arn),
    )


def _delete(request: HttpRequest, name: str, detail_url: str, delete: Callable[[], None]) -> HttpResponse:
    done, error = confirm_delete(request, name, delete, f"Provider {name} deleted.", "/iam/identity_providers")
    if done:
        return done
    return render(
        request,
        "identities/providers/provider_delete.html",
        {"name": name, "cancel": detail_url, "action": request.path, "error": error, "nav": "identity_providers"},
        status=error_status(request, 400) if error else 200,
    )
