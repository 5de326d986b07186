"""Small helpers shared by console views: partial choice, redirects that work for htmx, error display."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.html import format_html
from django_htmx.http import HttpResponseClientRedirect

from core.errors import IamError
from policies.authz import explain


def pick_partial(request: HttpRequest, template: str, allowed: Iterable[str]) -> str:
    """Render only the partial the htmx request targets, when it is one of ``allowed``.

    The allow-list keeps the client from choosing arbitrary blocks. A target named ``<partial>-results`` (the
    results part of a filterable table or picker) gets its partial: the filter box sits outside the results and
    picks them out with ``hx-select``, so a swap never replaces the box a person is typing in.
    """
    htmx = getattr(request, "htmx", None)
    target = htmx.target if htmx else None
    if target and target.endswith("-results"):
        target = target.removesuffix("-results")
    return f"{template}#{target}" if target in set(allowed) else template


def error_status(request: HttpRequest, status: int) -> int:
    """The status of a page that shows a form error.

    Plain posts get the 4xx that describes the error. htmx requests get 200, because htmx 2 doesn't swap 4xx
    responses unless ``htmx.config.responseHandling`` says so, and the error must still reach the screen.
    """
    return 200 if getattr(request, "htmx", False) else status


# S3 and EC2 append the engine's decision to AccessDenied, as AWS's encoded message; the console shows it in the
# "Why?" panel instead of after the sentence.
_DECODED = " Decoded authorization failure message: "


def refusal_message(exc: IamError) -> str:
    """AWS's sentence for a refused call, as the console shows it (without the decoded part)."""
    return exc.message.split(_DECODED, 1)[0]


def refusal_explanation(exc: IamError) -> dict[str, Any] | None:
    """The engine's explanation of a refusal for the "Why?" panel (None when no policy decision is behind it)."""
    return explain(exc.explanation) if exc.explanation is not None else None


def redirect_or_hx(request: HttpRequest, url: str) -> HttpResponse:
    if getattr(request, "htmx", False):
        return HttpResponseClientRedirect(url)
    return redirect(url)


def flash_created(request: HttpRequest, text: str, view_url: str, view_label: str) -> None:
    """AWS's flash after a create that returns to the list: the green message with a "View ..." button that opens
    the new resource (Create user, Create user group, Create role)."""

    messages.success(
        request,
        format_html('{} <a class="btn btn-inverse flash-action" href="{}">{}</a>', text, view_url, view_label),
    )


def confirm_delete(
    request: HttpRequest, name: str, delete: Callable[[], object], success: str, done_url: str
) -> tuple[HttpResponse | None, str]:
    """The console's type-the-name delete: on a POST whose confirmation matches ``name``, run ``delete`` and
    redirect with ``success``; otherwise return the error to show (empty on a GET)."""

    if request.method != "POST":
        return None, ""
    if request.POST.get("confirm", "").strip() != name:
        return None, f"To confirm deletion, enter {name} in the text input field."
    try:
        delete()
    except IamError as exc:
        return None, exc.message
    messages.success(request, success)
    return redirect_or_hx(request, done_url), ""
