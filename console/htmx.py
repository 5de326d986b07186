"""Small helpers shared by console views: partial choice, redirects that work for htmx, error display."""

from __future__ import annotations

from collections.abc import Iterable

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django_htmx.http import HttpResponseClientRedirect


def pick_partial(request: HttpRequest, template: str, allowed: Iterable[str]) -> str:
    """Render only the partial the htmx request targets, when it is one of ``allowed``.

    The allow-list keeps the client from choosing arbitrary blocks.
    """
    htmx = getattr(request, "htmx", None)
    target = htmx.target if htmx else None
    return f"{template}#{target}" if target in set(allowed) else template


def redirect_or_hx(request: HttpRequest, url: str) -> HttpResponse:
    if getattr(request, "htmx", False):
        return HttpResponseClientRedirect(url)
    return redirect(url)
